"""The `codegen` command line (also `python -m codegen`).

    codegen generate PATH::FUNC [--wrt a,b] [-o OUT] [--rules DIR]
    codegen check GENERATED.py ...            (reads what to regenerate from the header)
    codegen check PATH::FUNC [--wrt a,b] -o OUT
    codegen verify PATH::FUNC --wrt a,b --inputs PATH::MAKER [--module GENERATED.py]
    codegen rules

Exit status: 0 ok; 1 a check failed (stale module, gradient disagrees with finite
differences); 2 bad input (unsupported construct, unknown name, syntax error, bad
arguments); 123 internal error. Errors print `path:line:col: error: message` on
stderr, and nothing is written.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
import traceback
import types
from pathlib import Path

from . import __version__, rules
from .errors import CodegenError
from .files import write_atomically
from .pipeline import generate

OK, CHECK_FAILED, BAD_INPUT, INTERNAL_ERROR = 0, 1, 2, 123


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CodegenError as error:
        print(_format(error), file=sys.stderr)
        return BAD_INPUT
    except Exception:  # anything else is codegen's fault, not the user's
        traceback.print_exc()
        print(f"codegen {__version__}: internal error (please report it)", file=sys.stderr)
        return INTERNAL_ERROR


def _format(error: CodegenError) -> str:
    if error.line:
        return str(error)
    return f"{error.path}: error: {error.message}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen", description="Generate reverse-mode gradient modules from NumPy source."
    )
    parser.add_argument("--version", action="version", version=f"codegen {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser("generate", help="write the gradient module of PATH::FUNC")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--wrt", help="parameters to differentiate, comma-separated (default: the first)")
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR", help="extra rule directory")
    p.add_argument("--include", action="append", default=[], metavar="FILE",
                   help="a file whose functions the loss imports (they are inlined)")
    p.set_defaults(run=_generate)

    p = commands.add_parser("check", help="exit 1 with a diff if a generated module is stale")
    p.add_argument("targets", nargs="+", metavar="GENERATED.py | PATH::FUNC")
    p.add_argument("--wrt")
    p.add_argument("-o", "--output", metavar="OUT", help="the module to compare (with PATH::FUNC)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.set_defaults(run=_check)

    p = commands.add_parser("verify", help="compare the gradient with finite differences")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--wrt")
    p.add_argument("--inputs", required=True, metavar="PATH::MAKER",
                   help="a function returning the keyword arguments to check at")
    p.add_argument("--module", metavar="GENERATED.py", help="check this generated module "
                   "(default: generate one in memory)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.add_argument("--tolerance", type=float, default=1e-6)
    p.add_argument("--directions", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_verify)

    p = commands.add_parser("rules", help="list the supported primitives, or check user rules")
    p.add_argument("--rules", action="append", default=[], metavar="DIR", help="include these user rules")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    p.add_argument("--check", metavar="DIR", help="check the rules in DIR against finite differences")
    p.add_argument("--autograd", action="store_true", help="with --check: compare with autograd too")
    p.set_defaults(run=_rules)
    return parser


def _split(target: str) -> tuple[str, str]:
    path, sep, function = target.rpartition("::")
    if not sep or not path or not function.isidentifier():
        raise CodegenError(f"expected PATH::FUNCTION, got `{target}`", target)
    return Path(path).as_posix(), function


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CodegenError(f"cannot read: {error.strerror}", path) from None


def _includes(paths) -> dict[str, str]:
    return {Path(p).as_posix(): _read(p) for p in paths}


def _generate(args) -> int:
    path, function = _split(args.target)
    text = generate(_read(path), function, args.wrt, path=path, rules_dirs=args.rules, include=_includes(args.include))
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return OK


_HEADER = {
    "source": re.compile(r"^# source: (?P<value>.+)$", re.M),
    "wrt": re.compile(r"^# wrt: (?P<value>.+)$", re.M),
    "rules": re.compile(r"^# rules: (?P<value>.+)$", re.M),
    "include": re.compile(r"^# include: (?P<value>.+)$", re.M),
}


def _check(args) -> int:
    jobs = []  # (module path, source path, function, wrt, rules, include)
    if any("::" in t for t in args.targets):
        if len(args.targets) != 1 or not args.output:
            raise CodegenError("check PATH::FUNC takes one target and -o OUT", args.targets[0])
        path, function = _split(args.targets[0])
        jobs.append((args.output, path, function, args.wrt, args.rules, args.include))
    else:
        for module in args.targets:
            header = _read(module)
            found = {k: p.search(header) for k, p in _HEADER.items()}
            if not found["source"] or not found["wrt"]:
                raise CodegenError("no codegen header (# source: ..., # wrt: ...) found", module)
            path, function = _split(found["source"]["value"])
            rules_dirs = found["rules"]["value"].split(",") if found["rules"] else []
            include = found["include"]["value"].split(",") if found["include"] else []
            jobs.append((module, path, function, found["wrt"]["value"], rules_dirs, include))

    stale = 0
    for module, path, function, wrt, rules_dirs, include in jobs:
        fresh = generate(_read(path), function, wrt, path=path, rules_dirs=rules_dirs, include=_includes(include))
        try:
            committed = Path(module).read_text(encoding="utf-8")
        except FileNotFoundError:
            committed = ""
        if committed != fresh:
            stale += 1
            diff = difflib.unified_diff(
                committed.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                fromfile=f"{module} (committed)",
                tofile=f"{module} (generated now)",
            )
            sys.stdout.writelines(diff)
            print(f"{module}: stale; regenerate it with: codegen generate {path}::{function} "
                  f"--wrt {wrt} -o {module}", file=sys.stderr)
    print(f"{len(jobs) - stale} up to date, {stale} stale", file=sys.stderr)
    return CHECK_FAILED if stale else OK


def _load_module(path: str, name: str) -> types.ModuleType:
    """Import a Python file by path (only `verify` executes code, and only when asked)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CodegenError("cannot import this file", path)
    module = importlib.util.module_from_spec(spec)
    folder = str(Path(path).resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module


def _verify(args) -> int:
    from .verify import check_gradient

    path, function = _split(args.target)
    inputs_path, maker = _split(args.inputs)
    source = _read(path)
    text = _read(args.module) if args.module else generate(
        source, function, args.wrt, path=path, rules_dirs=args.rules, include=_includes(args.include)
    )
    generated = types.ModuleType(f"codegen_generated_{function}")
    exec(compile(text, args.module or f"<generated from {path}>", "exec"), generated.__dict__)
    wrt = _header_wrt(text)
    user = _load_module(path, f"codegen_user_{function}")
    kwargs = getattr(_load_module(inputs_path, f"codegen_inputs_{maker}"), maker)()
    report = check_gradient(
        getattr(user, function),
        getattr(generated, f"value_and_grad_{function}"),
        kwargs,
        wrt,
        directions=args.directions,
        tolerance=args.tolerance,
        seed=args.seed,
    )
    print(f"{path}::{function}")
    print(report)
    return OK if report.ok else CHECK_FAILED


def _header_wrt(text: str) -> tuple[str, ...]:
    found = _HEADER["wrt"].search(text)
    if not found:
        raise CodegenError("the generated module has no `# wrt:` header line")
    return tuple(found["value"].split(","))


def _rules(args) -> int:
    if args.check:
        return _check_rules(args.check, args.autograd)
    registry = rules.load(args.rules)
    print(rules_table(registry, markdown=args.markdown), end="")
    return OK


def rules_table(registry, markdown: bool = False) -> str:
    """The supported primitives: how each is written, which arguments get gradients,
    and the subgradient chosen at a kink."""
    rows = []
    for rule in registry:
        spellings = ", ".join(f"`{s}`" if markdown else s for s in rule.spellings)
        grads = ", ".join(rule.grads) or "none"
        rows.append((rule.name, spellings, grads, rule.policy or ""))
    entries = sum(len(rule.keys) for rule in registry)
    summary = f"{len(rows)} primitives, {entries} ways to write them"
    if markdown:
        lines = ["| primitive | written as | gradient to | at a kink |", "|---|---|---|---|"]
        lines += [f"| {name} | {spell} | {grads} | {policy} |" for name, spell, grads, policy in rows]
        return "\n".join(lines) + f"\n\n{summary}.\n"
    header = ("primitive", "written as", "gradient to", "at a kink")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3] for row in [header] + rows]
    return "\n".join(line.rstrip() for line in lines) + f"\n{summary}\n"


def _check_rules(directory: str, autograd: bool) -> int:
    from .rulecheck import check_directory

    added = [str(Path(directory).resolve()), str(Path.cwd())]  # so the rules' imports resolve
    sys.path[:0] = added
    try:
        mine, results = check_directory(directory, autograd=autograd)
    finally:
        del sys.path[: len(added)]
    failed = 0
    for result in results:
        if result.ok or (result.autograd or "").startswith("skipped") and result.error is None and result.report.ok:
            status = f"ok      worst {result.report.worst:.1e}"
        else:
            failed += 1
            status = "FAILED  " + (result.error or (str(result.report) if not result.report.ok else result.autograd))
        print(f"{result.case.rule.path}:{result.case.rule.line}: {result.case.call} "
              f"{ {k: v for k, v in result.case.inputs.items()} }: {status}")
    print(f"{len(mine)} rule(s), {len(results)} case(s), {failed} failed", file=sys.stderr)
    return CHECK_FAILED if failed or not results else OK
