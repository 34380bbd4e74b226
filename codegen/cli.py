"""The `codegen` command line (also `python -m codegen`).

    codegen generate PATH::FUNC [--wrt a,b] [--mode reverse,forward] [-o OUT] [--rules DIR]
    codegen check GENERATED.py ...            (reads what to regenerate from the header)
    codegen check PATH::FUNC [--wrt a,b] -o OUT
    codegen verify PATH::FUNC --wrt a,b --inputs PATH::MAKER [--module GENERATED.py]
    codegen explain PATH::FUNC --at PATH::MAKER|W=3,X=3,y=1 [--wrt W] [--mode reverse|forward]
                    [--format text|markdown|html] [--iterations] [-o OUT]
    codegen graph PATH::FUNC [--at ...] [--wrt W] [--mode reverse|forward] [-o graph.dot|.svg|.png]
    codegen rules

Exit status: 0 ok; 1 a check failed (stale module, gradient disagrees with finite
differences); 2 bad input (unsupported construct, unknown name, syntax error, bad
arguments); 123 internal error. Errors print `path:line:col: error: message` on
stderr, and nothing is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import shlex
import shutil
import subprocess
import sys
import traceback
import types
from pathlib import Path

from . import __version__
from .errors import CodegenError, escape
from .files import describe, inside, read_source, read_text, same_file, write_atomically

# The pipeline (LibCST, Black, NumPy, the rules) loads where a command needs it, so
# that `--version` and an up-to-date `check` start quickly.


def generate(*args, **kwargs):
    from .pipeline import generate

    return generate(*args, **kwargs)


from .modes import modes_of  # noqa: E402 (light: no pipeline)

OK, CHECK_FAILED, BAD_INPUT, INTERNAL_ERROR = 0, 1, 2, 123


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CodegenError as error:
        print(error, file=sys.stderr)
        return BAD_INPUT
    except OSError as error:  # a file that changed under us: still the user's side, and one line
        path = error.filename if error.filename is not None else "codegen"
        print(CodegenError(f"{describe(error)}", str(path)), file=sys.stderr)
        return BAD_INPUT
    except UnicodeError as error:
        print(CodegenError(f"cannot decode or encode text: {error}; save files as UTF-8", "codegen"), file=sys.stderr)
        return BAD_INPUT
    except RecursionError:
        print(CodegenError(
            "the input nests too deeply for codegen; split long expressions into several assignments",
            args.target if hasattr(args, "target") else "codegen",
        ), file=sys.stderr)
        return BAD_INPUT
    except Exception:  # anything else is codegen's fault, not the user's
        traceback.print_exc()
        print(f"codegen {__version__}: internal error (please report it)", file=sys.stderr)
        return INTERNAL_ERROR


class _Parser(argparse.ArgumentParser):
    """argparse, with its error on one line (a value may hold a newline)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(BAD_INPUT, f"{self.prog}: error: {escape(message)}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codegen", description="Generate reverse-mode gradient modules from NumPy source."
    )
    parser.add_argument("--version", action="version", version=f"codegen {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser("generate", help="write the gradient module of PATH::FUNC")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--wrt", help="parameters to differentiate, comma-separated (default: the first)")
    p.add_argument("--mode", default="reverse", help="reverse (grad_, value_and_grad_), forward (jvp_), jacobian (jacobian_, with jvp_ and vjp_), or several: reverse,forward")
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR", help="extra rule directory")
    p.add_argument("--include", action="append", default=[], metavar="FILE",
                   help="a file whose functions the loss imports (they are inlined)")
    p.add_argument("--emit-test", metavar="TEST.py",
                   help="also write a pytest file checking the module against central differences (needs -o)")
    p.add_argument("--inputs", metavar="PATH::MAKER",
                   help="with --emit-test: the function giving the test's keyword arguments (default: PATH::example_inputs)")
    p.set_defaults(run=_generate)

    p = commands.add_parser("build", help="regenerate the stale targets of pyproject.toml's [tool.codegen]")
    p.add_argument("--check", action="store_true", help="write nothing: exit 1 with a diff if any target is stale")
    p.add_argument("--regenerate", action="store_true",
                   help="decide by generating every target and comparing (not by headers and hashes)")
    p.add_argument("--project", metavar="PYPROJECT", help="the pyproject.toml (default: the nearest with [tool.codegen])")
    p.set_defaults(run=_build)

    p = commands.add_parser("check", help="exit 1 with a diff if a generated module is stale")
    p.add_argument("targets", nargs="*", metavar="GENERATED.py | PATH::FUNC",
                   help="modules to check (default: the targets of pyproject.toml's [tool.codegen])")
    p.add_argument("--regenerate", action="store_true",
                   help="decide by generating and comparing (not by headers and hashes)")
    p.add_argument("--project", metavar="PYPROJECT", help="the pyproject.toml (default: the nearest with [tool.codegen])")
    p.add_argument("--wrt")
    p.add_argument("--mode", default="reverse")
    p.add_argument("-o", "--output", metavar="OUT", help="the module to compare (with PATH::FUNC)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.set_defaults(run=_check)

    p = commands.add_parser("verify", help="compare the gradient with finite differences")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--wrt")
    p.add_argument("--mode", default="reverse", help="the modes to generate and check (without --module)")
    p.add_argument("--inputs", required=True, metavar="PATH::MAKER",
                   help="a function returning the keyword arguments to check at")
    p.add_argument("--module", metavar="GENERATED.py", help="check this generated module "
                   "(default: generate one in memory)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.add_argument("--tolerance", type=_positive_float, default=1e-6)
    p.add_argument("--directions", type=_positive_int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_verify)

    p = commands.add_parser("explain", help="the table of simpleton steps, their values and derivatives, at given inputs")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--at", required=True, metavar="PATH::MAKER|NAME=VALUE,...",
                   help="the inputs: a function returning keyword arguments, or values such as W=3,X=3,y=1")
    p.add_argument("--wrt")
    p.add_argument("--mode", default="reverse", choices=["reverse", "forward"],
                   help="reverse: each step's adjoint; forward: each step's tangent (default: reverse)")
    p.add_argument("--format", default="text", choices=["text", "markdown", "html"])
    p.add_argument("--iterations", action="store_true", help="a row for each run of a step in a loop")
    p.add_argument("-o", "--output", metavar="OUT", help="write the table here (default: standard output)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.set_defaults(run=_explain)

    p = commands.add_parser("graph", help="the computational graph of the simpleton steps (DOT, SVG or PNG)")
    p.add_argument("target", metavar="PATH::FUNC")
    p.add_argument("--at", metavar="PATH::MAKER|NAME=VALUE,...", help="show values and derivatives at these inputs")
    p.add_argument("--wrt")
    p.add_argument("--mode", default="reverse", choices=["reverse", "forward"])
    p.add_argument("-o", "--output", metavar="OUT", help="graph.dot, graph.svg or graph.png (default: DOT on standard output)")
    p.add_argument("--layout", default="auto", choices=["auto", "graphviz", "builtin"],
                   help="SVG layout: Graphviz's dot where installed (auto), or the built-in one")
    p.add_argument("--rules", action="append", default=[], metavar="DIR")
    p.add_argument("--include", action="append", default=[], metavar="FILE")
    p.set_defaults(run=_graph)

    p = commands.add_parser("rules", help="list the supported primitives, or check user rules")
    p.add_argument("--rules", action="append", default=[], metavar="DIR", help="include these user rules")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    p.add_argument("--check", metavar="DIR", help="check the rules in DIR against finite differences")
    p.add_argument("--autograd", action="store_true", help="with --check: compare with autograd too")
    p.set_defaults(run=_rules)
    return parser


def _positive_int(text: str) -> int:
    """--directions: a check of no direction would pass without checking anything."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, such as 4; got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, such as 1e-6; got {text!r}")
    return value


def _split(target: str) -> tuple[str, str]:
    path, sep, function = target.rpartition("::")
    if not sep or not path or not function.isidentifier():
        raise CodegenError(
            f"expected PATH::FUNCTION, such as losses.py::loss; got `{target}`", target or "''"
        )
    return Path(path).as_posix(), function


def _includes(paths) -> dict[str, str]:
    return {Path(p).as_posix(): read_source(p) for p in paths}


def _wrt(wrt: str | None, path: str) -> str | None:
    """--wrt as given, checked: names separated by commas."""
    if wrt is None:
        return None
    names = [name.strip() for name in wrt.split(",")]
    if not any(names):
        raise CodegenError(
            "--wrt is empty; name the parameters to differentiate (--wrt x,y), or leave --wrt out "
            "for the first parameter", path,
        )
    for name in names:
        if not name.isidentifier():
            raise CodegenError(
                f"--wrt `{wrt}` holds `{name}`, which is not a parameter name; give names separated by "
                "commas, such as --wrt x,y", path,
            )
    return wrt


def _output(output: str, path: str, include, rules_dirs) -> str:
    """OUT, refused where writing it would destroy an input."""
    if output == "":
        raise CodegenError("-o needs a file name; leave -o out to print the module on standard output", "''")
    if "\0" in output:
        raise CodegenError("-o holds a null character; give a file name without one", output)
    for source in (path, *include):
        if same_file(output, source):
            raise CodegenError(
                f"-o names the input file {Path(source).as_posix()}; writing there would replace your "
                "source: give another file, such as " + _suggest(source), output,
            )
    for folder in rules_dirs:
        if inside(output, folder):
            raise CodegenError(
                f"-o names a file in the --rules directory {Path(folder).as_posix()}; write the module "
                "outside it", output,
            )
    return output


def _suggest(source: str) -> str:
    return Path(source).with_name(Path(source).stem + "_grad.py").as_posix()


def _generate(args) -> int:
    path, function = _split(args.target)
    wrt = _wrt(args.wrt, path)
    if args.output is not None:
        _output(args.output, path, args.include, args.rules)
    modes = modes_of(args.mode, path)
    test = _emitted_test(args, path, function, modes)
    text = generate(read_source(path), function, wrt, path=path, rules_dirs=args.rules, include=_includes(args.include), mode=modes)
    if test is not None:
        from .emitted_test import test_text
        from .headers import read as read_header

        test_file = test_text(test, read_header(text).wrt)
    if args.output is not None:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    if test is not None:
        write_atomically(test.test, test_file)
    return OK


def _emitted_test(args, path: str, function: str, modes):
    """The target --emit-test describes (paths as given, from here), or None."""
    if args.emit_test is None:
        if args.inputs is not None:
            raise CodegenError("--inputs names the inputs of the test --emit-test writes; give --emit-test too", args.inputs)
        return None
    from .project import Target

    test = args.emit_test
    if args.output is None:
        raise CodegenError("--emit-test writes a test of the module -o writes; give -o OUT too", test)
    if not Path(test).name.startswith("test_") or not test.endswith(".py"):
        raise CodegenError("--emit-test needs a pytest file name, test_*.py", test)
    _output(test, path, args.include, args.rules)
    if same_file(test, args.output) or Path(test).as_posix() == Path(args.output).as_posix():
        raise CodegenError("--emit-test names the module -o writes; give the test a file of its own", test)
    if not set(modes) & {"reverse", "forward", "jacobian"}:
        raise CodegenError("--emit-test checks the gradient or the JVP: add --mode reverse (or forward)", test)
    inputs = args.inputs or f"{path}::example_inputs"
    _split(inputs)
    rel = lambda p: Path(os.path.relpath(Path(p).resolve(), Path.cwd())).as_posix()  # noqa: E731
    for name in (path, args.output, test, inputs.rpartition("::")[0]):
        if rel(name).startswith("../"):
            raise CodegenError("--emit-test finds files from the current folder: run codegen from a folder that holds them all", name)
    source_path, _, maker = inputs.rpartition("::")
    return Target(rel(path), function, rel(args.output), modes=tuple(modes), test=rel(test), inputs=f"{rel(source_path)}::{maker}", root=Path.cwd())


def _check(args) -> int:
    from .headers import read as read_header
    from .project import Target

    if not args.targets:
        return _project(args.project, check=True, regenerate=args.regenerate)
    if args.project:
        raise CodegenError("--project checks the targets of a pyproject.toml; give it without modules", args.project)
    jobs = []
    if any("::" in t for t in args.targets):
        if len(args.targets) != 1 or not args.output:
            raise CodegenError(
                "check PATH::FUNC takes one target and -o OUT (the module to compare); or give "
                "generated modules alone: codegen check GENERATED.py ...", args.targets[0],
            )
        path, function = _split(args.targets[0])
        _output(args.output, path, args.include, args.rules)
        wrt = _wrt(args.wrt, path)
        names = tuple(n.strip() for n in wrt.split(",")) if wrt else None
        jobs.append(Target(path, function, args.output, names, modes_of(args.mode, path), tuple(args.rules), tuple(args.include), root=Path.cwd()))
    else:
        for module in args.targets:
            header = read_header(read_text(module))
            if not header.source or not header.wrt:
                raise CodegenError(
                    "no codegen header (# source: ..., # wrt: ...) found; give a module codegen "
                    "generated, or PATH::FUNC -o OUT", module,
                )
            path, function = _split(header.source)
            modes = modes_of(",".join(header.modes), module)
            jobs.append(Target(path, function, module, header.wrt, modes, header.rules, header.include, root=Path.cwd()))
    return _report(jobs, args.regenerate, fix=None)


def _report(targets, regenerate: bool, fix: str | None) -> int:
    """Check the targets; print each stale file's diff (stdout) and how to fix it
    (stderr); exit 1 if any is stale."""
    from .headers import read as read_header
    from .project import status

    stale = total = 0
    for target in targets:
        for found in status(target, regenerate):
            total += 1
            if not found.stale:
                continue
            stale += 1
            sys.stdout.write(found.diff)
            if fix is not None:
                how = fix
            else:
                wrt = ",".join(read_header(found.fresh).wrt)
                how = regenerate_command(target.source, target.function, wrt, target.rules, target.include, target.output, target.modes)
            print(f"{escape(found.path)}: {found.reason}; regenerate it with: {how}", file=sys.stderr)
    print(f"{total - stale} up to date, {stale} stale", file=sys.stderr)
    return CHECK_FAILED if stale else OK


def _build(args) -> int:
    return _project(args.project, check=args.check, regenerate=args.regenerate)


def _project(pyproject, check: bool, regenerate: bool) -> int:
    """`codegen build [--check]` and `codegen check` with no modules: the targets of
    the pyproject.toml's [tool.codegen] table."""
    from .project import build, find_pyproject, load

    path = Path(pyproject) if pyproject else find_pyproject()
    targets = load(path)
    fix = "codegen build" + (f" --project {shlex.quote(path.as_posix())}" if pyproject else "")
    if check:
        return _report(targets, regenerate, fix)
    written = build(path, regenerate)  # every target generated before anything is written
    for item in written:
        print(f"wrote {escape(item.path)} ({item.reason})", file=sys.stderr)
    files = sum(1 + (target.test is not None) for target in targets)
    print(f"{path.parent.as_posix()}: {len(written)} written, {files - len(written)} up to date", file=sys.stderr)
    return OK


def regenerate_command(path, function, wrt, rules_dirs, include, module, modes=("reverse",)) -> str:
    """The shell command that writes `module` again: every option generation used."""
    words = ["codegen", "generate", f"{path}::{function}", "--wrt", wrt]
    if tuple(modes) != ("reverse",):
        words += ["--mode", ",".join(modes)]
    for folder in rules_dirs:
        words += ["--rules", folder]
    for other in include:
        words += ["--include", other]
    words += ["-o", module]
    return " ".join(shlex.quote(str(word)) for word in words)


def _load_module(path: str, name: str) -> types.ModuleType:
    """Import a Python file by path (only `verify` executes code, and only when asked)."""
    read_source(path)  # there, readable, and Python source: a CodegenError before anything runs
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CodegenError("cannot import this file; give a Python file ending in .py", path)
    module = importlib.util.module_from_spec(spec)
    folder = str(Path(path).resolve().parent)
    sys.path.insert(0, folder)
    try:
        _run_user(path, "importing it", spec.loader.exec_module, module)
    finally:
        sys.path.remove(folder)
    return module


def _run_user(path: str, what: str, function, *args):
    """Call the user's code (verify only); an exception in it is the user's to fix:
    one line, placed at the deepest line of `path` the traceback passes through."""
    try:
        return function(*args)
    except Exception as error:
        line, col = 0, 0
        resolved = str(Path(path).resolve())
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename in (path, resolved):
                line, col = frame.lineno or 0, 1
        if isinstance(error, SyntaxError) and error.filename in (path, resolved) and error.lineno:
            line, col = error.lineno, error.offset or 1
        message = " ".join(str(error).split())
        raise CodegenError(
            f"{what} raised {type(error).__name__}: {message}; fix it and run the command again (verify "
            "and explain run your code)", path, line, col,
        ) from None


def _function(module: types.ModuleType, name: str, path: str):
    found = getattr(module, name, None)
    if not callable(found):
        defined = sorted(k for k, v in vars(module).items() if isinstance(v, types.FunctionType) and not k.startswith("_"))
        hint = f" (it defines: {', '.join(defined)})" if defined else ""
        raise CodegenError(f"no function `{name}` in {path}{hint}; give one of its functions", path)
    return found


def _inputs_at(at: str, path: str) -> dict:
    """--at: PATH::MAKER (a function returning keyword arguments, run), or
    NAME=VALUE pairs separated by commas, each value a Python literal (a number, a
    list of numbers: an array)."""
    import ast as python_ast

    import numpy as np

    if "::" in at:
        inputs_path, maker = _split(at)
        made = _function(_load_module(inputs_path, f"codegen_inputs_{maker}"), maker, inputs_path)
        kwargs = _run_user(inputs_path, f"calling {maker}()", made)
        if not isinstance(kwargs, dict):
            raise CodegenError(
                f"{maker}() returned a {type(kwargs).__name__}; return a dict of keyword arguments, such as "
                "{'x': np.ones(3)}", inputs_path,
            )
        return kwargs
    kwargs = {}
    for part in _top_level_split(at):
        name, sep, text = part.partition("=")
        name = name.strip()
        try:
            value = python_ast.literal_eval(text.strip()) if sep else None
        except (ValueError, SyntaxError):
            value = None
        if not sep or not name.isidentifier() or not isinstance(value, (int, float, list, tuple)) or isinstance(value, bool):
            raise CodegenError(
                f"--at: `{part.strip()}` is not NAME=NUMBER or NAME=[NUMBERS]; give values such as W=3,X=3,y=1 "
                "or a function: --at inputs.py::example_inputs", path,
            )
        kwargs[name] = float(value) if isinstance(value, (int, float)) else np.array(value, dtype=float)
    return kwargs


def _top_level_split(text: str) -> list[str]:
    """`text` split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "[(" 
        depth -= char in "])"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _explained(args, path: str, function: str, source: str, includes: dict, wrt, iterations: bool = False):
    """The Explanation `explain` and `graph --at` show: runs the user's code."""
    from .evaluation import explain

    kwargs = _inputs_at(args.at, path)
    user = _function(_load_module(path, f"codegen_user_{function}"), function, path)
    return _run_user(path, "explaining it", lambda: explain(
        source, function, kwargs, wrt, mode=args.mode, path=path, rules_dirs=args.rules, include=includes,
        user_function=user, iterations=iterations,
    ))


def _write_output(output: str | None, data: str | bytes, inputs) -> None:
    """`data` to -o OUT (atomically, never over an input) or to standard output."""
    if not output:
        sys.stdout.write(data)
        return
    for name in inputs:
        if same_file(output, name):
            raise CodegenError(f"-o names an input ({name}); give another path", output)
    write_atomically(output, data)
    print(f"wrote {output}")


def _explain(args) -> int:
    path, function = _split(args.target)
    source = read_source(path)
    includes = _includes(args.include)
    table = _explained(args, path, function, source, includes, _wrt(args.wrt, path), args.iterations)
    text = table.markdown() if args.format == "markdown" else table.html() if args.format == "html" else table.text()
    _write_output(args.output, text, [path, *includes])
    return OK


def _graph(args) -> int:
    from .drawing import build, simpleton

    path, function = _split(args.target)
    source = read_source(path)
    includes = _includes(args.include)
    wrt = _wrt(args.wrt, path)
    suffix = Path(args.output).suffix.lower() if args.output else ".dot"
    if suffix not in (".dot", ".gv", ".svg", ".png"):
        raise CodegenError(f"-o {args.output}: give a file ending in .dot, .svg or .png", args.output)
    explanation = _explained(args, path, function, source, includes, wrt) if args.at is not None else None
    simple, names = simpleton(source, function, wrt, path=path, rules_dirs=args.rules, include=includes)
    graph = build(simple, names, explanation, args.layout)
    if suffix != ".png":
        _write_output(args.output, graph.svg() if suffix == ".svg" else graph.dot(), [path, *includes])
        return OK
    dot = shutil.which("dot")
    if dot is None:
        raise CodegenError("a PNG needs Graphviz's `dot`, which is not installed; write .svg (built-in layout) "
                           "or .dot instead", args.output)
    run = subprocess.run([dot, "-Tpng"], input=graph.dot().encode(), capture_output=True, timeout=60)
    if run.returncode != 0:
        raise CodegenError(f"Graphviz's dot failed: {' '.join(run.stderr.decode(errors='replace').split())}", args.output)
    _write_output(args.output, run.stdout, [path, *includes])
    return OK


def _verify(args) -> int:
    from .verify import check_gradient, check_hvp, check_jvp, foreign, on_library_of, to_numpy

    path, function = _split(args.target)
    wrt = _wrt(args.wrt, path)
    inputs_path, maker = _split(args.inputs)
    source = read_source(path)
    read_source(inputs_path)
    text = read_text(args.module) if args.module else generate(
        source, function, wrt, path=path, rules_dirs=args.rules, include=_includes(args.include),
        mode=modes_of(args.mode, path),
    )
    shown = args.module or f"<generated from {path}>"
    generated = types.ModuleType(f"codegen_generated_{function}")
    try:
        compiled = compile(text, shown, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        raise CodegenError(f"the module is not valid Python ({error}); give a module codegen generated", shown) from None
    _run_user(shown, "importing it", exec, compiled, generated.__dict__)
    wrt_names = _header_wrt(text, shown)
    user = _load_module(path, f"codegen_user_{function}")
    made = _function(_load_module(inputs_path, f"codegen_inputs_{maker}"), maker, inputs_path)
    kwargs = _run_user(inputs_path, f"calling {maker}()", made)
    if not isinstance(kwargs, dict):
        raise CodegenError(
            f"{maker}() returned a {type(kwargs).__name__}; return a dict of keyword arguments, such as "
            "{'x': np.ones(3)}", inputs_path,
        )
    # Every function the module holds is checked: the gradient and the JVP against
    # central differences of the function (the JVP against grad . t too), the HVP
    # against central differences of the module's gradient.
    options = dict(directions=args.directions, tolerance=args.tolerance, seed=args.seed)
    f = _function(user, function, path)
    library = foreign(kwargs)
    if library is not None:
        # The generated module runs on the user's arrays; the function itself (NumPy
        # code) and the finite differences on NumPy copies of them.
        originals, kwargs = kwargs, to_numpy(kwargs)
        generated = types.SimpleNamespace(**{
            name: on_library_of(value, originals)
            for name, value in vars(generated).items() if callable(value) and not name.startswith("_")
        })
        print(f"inputs: {library} arrays (the generated module ran on them; {function} and the finite "
              "differences on NumPy copies)")
    value_and_grad = getattr(generated, f"value_and_grad_{function}", None)
    grad = getattr(generated, f"grad_{function}", None)
    jvp = getattr(generated, f"jvp_{function}", None)
    hvp = getattr(generated, f"hvp_{function}", None)
    checks = []
    if value_and_grad is not None:
        checks.append(("gradient", lambda: check_gradient(f, value_and_grad, kwargs, wrt_names, **options)))
    if jvp is not None:
        checks.append(("JVP", lambda: check_jvp(f, jvp, kwargs, wrt_names, value_and_grad=value_and_grad, **options)))
    if hvp is not None and grad is not None:
        checks.append(("HVP", lambda: check_hvp(grad, hvp, kwargs, wrt_names, **options)))
    if not checks:
        _function(generated, f"value_and_grad_{function}", shown)  # says what the module defines
    print(f"{path}::{function}")
    ok = True
    for what, check in checks:
        report = _run_user(path, f"checking the {what}", check)
        if len(checks) > 1:
            print(f"{what}:")
        print(report)
        ok = ok and report.ok
    if hvp is not None and grad is None:
        print("HVP: not checked (it is compared with the gradient: generate with --mode reverse,hvp)")
    return OK if ok else CHECK_FAILED


def _header_wrt(text: str, path: str = "<generated>") -> tuple[str, ...]:
    from .headers import read as read_header

    wrt = read_header(text).wrt
    if not wrt:
        raise CodegenError("the generated module has no `# wrt:` header line; give a module codegen generated", path)
    return wrt


def _rules(args) -> int:
    if args.check:
        return _check_rules(args.check, args.autograd)
    from . import rules

    registry = rules.load(args.rules)
    print(rules_table(registry, markdown=args.markdown), end="")
    return OK


def rules_table(registry, markdown: bool = False) -> str:
    """The supported primitives, grouped by family (the templates/ file that holds
    their rules): how each is written, which arguments get gradients, and the
    subgradient chosen at a kink."""
    families: dict[str, list] = {}
    for rule in registry:
        if rule.internal:
            continue
        spellings = ", ".join(f"`{s}`" if markdown else s for s in rule.spellings)
        grads = ", ".join(rule.grads) or "none"
        families.setdefault(Path(rule.path).stem, []).append((rule.name, spellings, grads, rule.policy or ""))
    rows = [row for family in families.values() for row in family]
    entries = sum(len(rule.keys) for rule in registry if not rule.internal)
    summary = f"{len(rows)} primitives, {entries} ways to write them"
    header = ("primitive", "written as", "gradient to", "at a kink")
    if markdown:
        lines = []
        for family, members in families.items():
            lines += [f"**{family.replace('_', ' ')}** ({len(members)}, [templates/{family}.py](templates/{family}.py))", ""]
            lines += ["| primitive | written as | gradient to | at a kink |", "|---|---|---|---|"]
            lines += [f"| {name} | {spell} | {grads} | {policy} |" for name, spell, grads, policy in members] + [""]
        return "\n".join(lines) + f"\n{summary}.\n"
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)) + "  " + header[3]]
    for family, members in families.items():
        lines.append(f"-- {family.replace('_', ' ')} ({len(members)})")
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3] for row in members]
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
              f"{ {k: v for k, v in result.case.inputs.items()} }"
              f"{' ' + result.case.variant if result.case.variant else ''}: {status}")
    print(f"{len(mine)} rule(s), {len(results)} case(s), {failed} failed", file=sys.stderr)
    return CHECK_FAILED if failed or not results else OK
