"""A project's generated modules: the targets its pyproject.toml lists under
[tool.codegen], kept up to date by `codegen build` and gated by `codegen check`.

    [tool.codegen]
    rules = ["rules"]                       # for every target (optional)
    include = []                            # for every target (optional)

    [[tool.codegen.targets]]
    source = "src/pkg/losses.py::loss"
    wrt = ["w", "b"]                        # or "w,b"; default: the first parameter
    mode = ["reverse", "forward"]           # or "reverse,forward"; default: reverse
    output = "src/pkg/losses_grad.py"       # default: losses_grad.py beside the source
    rules = ["rules"]                       # replaces the table's default
    include = ["src/pkg/kernels.py"]
    test = "tests/test_losses_grad.py"      # a pytest file checking the module (optional)
    inputs = "src/pkg/losses.py::example_inputs"   # where the test gets its inputs

Paths are relative to the pyproject.toml's folder, and the generated headers record
them so (generation runs from that folder), so a checkout anywhere gives the same
bytes. A table codegen cannot use is a CodegenError naming the pyproject.toml, the
line where it can be found, and the key.

A target is up to date when its module's header shows that this version of codegen
wrote it, with the target's options, from the input files as they are now, and its
text is the one codegen wrote (codegen/headers.py): that is read from the headers
and the files' hashes, without generating anything. Otherwise the module is
generated and compared. `regenerate=True` (`--regenerate`) always generates and
compares: within one version string (a development checkout of codegen) the version
does not tell one codegen from another.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import __version__
from . import headers
from .errors import CodegenError
from .files import read_source, read_text, same_file, write_atomically

_TABLE_KEYS = {"rules", "include", "targets"}
_TARGET_KEYS = {"source", "wrt", "mode", "output", "rules", "include", "test", "inputs"}


@dataclass(frozen=True)
class Target:
    """One module to generate. Paths are POSIX and relative to `root`."""

    source: str
    function: str
    output: str
    wrt: tuple[str, ...] | None = None
    modes: tuple[str, ...] = ("reverse",)
    rules: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    test: str | None = None
    inputs: str | None = None  # PATH::MAKER
    root: Path = field(default=Path("."), compare=False)

    @property
    def command(self) -> str:
        """The `codegen generate` command that writes the module (from `root`)."""
        words = ["codegen", "generate", f"{self.source}::{self.function}"]
        if self.wrt:
            words += ["--wrt", ",".join(self.wrt)]
        if self.modes != ("reverse",):
            words += ["--mode", ",".join(self.modes)]
        for folder in self.rules:
            words += ["--rules", folder]
        for other in self.include:
            words += ["--include", other]
        words += ["-o", self.output]
        return " ".join(shlex.quote(word) for word in words)


@dataclass
class Status:
    """Where a target stands: `stale` with the reason, and when it was generated,
    the text codegen writes now and the unified diff from what is on disk."""

    target: Target
    stale: bool
    reason: str
    path: str  # the file this is about (the module, or the emitted test)
    fresh: str | None = None
    diff: str = ""


# -- finding and reading the configuration ------------------------------------------------


def find_pyproject(start: str | Path = ".") -> Path:
    """The nearest pyproject.toml at or above `start` that has a [tool.codegen] table
    (relative to the current folder)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and re.search(r"^\s*\[+\s*tool\.codegen\b", read_text(candidate), re.M):
            return Path(os.path.relpath(candidate))  # as errors show it
    raise CodegenError(
        "no pyproject.toml with a [tool.codegen] table here or above; add one listing the targets "
        "(see the README, \"Use it in your project\"), or give modules: codegen check GENERATED.py",
        str(Path(start)),
    )


def load(pyproject: str | Path) -> list[Target]:
    """The targets of a pyproject.toml's [tool.codegen] table."""
    path = Path(pyproject)
    text = read_text(path)
    shown = path.as_posix()
    data = _toml(text, shown)
    table = data.get("tool", {}).get("codegen") if isinstance(data.get("tool"), dict) else None
    where = _Where(shown, text)
    if not isinstance(table, dict):
        raise where.error("[tool.codegen] is missing or not a table; list the targets as [[tool.codegen.targets]]", "tool.codegen")
    for key in table:
        if key not in _TABLE_KEYS:
            raise where.error(f"unknown key `{key}` in [tool.codegen]; the keys are {', '.join(sorted(_TABLE_KEYS))}", key)
    root = path.resolve().parent
    default_rules = _paths(table, "rules", where, "[tool.codegen]", root)
    default_include = _paths(table, "include", where, "[tool.codegen]", root)
    entries = table.get("targets")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise where.error("[tool.codegen] needs targets: one [[tool.codegen.targets]] table per module", "targets")
    targets: list[Target] = []
    for number, entry in enumerate(entries, 1):
        at = f"target {number}"
        where.target = number
        for key in entry:
            if key not in _TARGET_KEYS:
                raise where.error(f"{at}: unknown key `{key}`; the keys are {', '.join(sorted(_TARGET_KEYS))}", key)
        spec = entry.get("source")
        if not isinstance(spec, str) or "::" not in spec:
            raise where.error(f"{at}: `source` must be \"PATH::FUNCTION\", such as \"losses.py::loss\"", "source")
        source, _, function = spec.rpartition("::")
        if not source or not function.isidentifier():
            raise where.error(f"{at}: `source` must be \"PATH::FUNCTION\", such as \"losses.py::loss\"; got {spec!r}", "source")
        source = _relative(source, root, where, at, "source")
        wrt = _names(entry, "wrt", where, at)
        modes = _modes(entry, where, at)
        rules = _paths(entry, "rules", where, at, root) if "rules" in entry else default_rules
        include = _paths(entry, "include", where, at, root) if "include" in entry else default_include
        output = entry.get("output", Path(source).with_name(Path(source).stem + "_grad.py").as_posix())
        if not isinstance(output, str) or not output.endswith(".py"):
            raise where.error(f"{at}: `output` must be the path of a .py file", "output")
        output = _relative(output, root, where, at, "output")
        test = entry.get("test")
        if test is not None:
            if not isinstance(test, str) or not Path(test).name.startswith("test_") or not test.endswith(".py"):
                raise where.error(f"{at}: `test` must be the path of a pytest file, test_*.py", "test")
            test = _relative(test, root, where, at, "test")
        inputs = entry.get("inputs")
        if inputs is not None:
            if not isinstance(inputs, str) or "::" not in inputs or not inputs.rpartition("::")[2].isidentifier():
                raise where.error(f"{at}: `inputs` must be \"PATH::FUNCTION\" returning the keyword arguments", "inputs")
            path_part, _, maker = inputs.rpartition("::")
            inputs = _relative(path_part, root, where, at, "inputs") + "::" + maker
        if test is not None and inputs is None:
            inputs = f"{source}::example_inputs"
        if test is not None and not set(modes) & {"reverse", "forward", "jacobian"}:
            raise where.error(f"{at}: `test` checks the gradient or the JVP: add mode reverse (or forward)", "test")
        for name, value in (("source", source), *(("include", p) for p in include)):
            if same_file(root / output, root / value) or output == value:
                raise where.error(f"{at}: `output` is the {name} file {value}; writing there would replace it", "output")
        for folder in rules:
            if Path(output).is_relative_to(Path(folder)):
                raise where.error(f"{at}: `output` is inside the rules folder {folder}; write the module outside it", "output")
        if test is not None and test in (source, output, *include):
            raise where.error(f"{at}: `test` names an input or the output; give a file of its own", "test")
        targets.append(Target(source, function, output, wrt, modes, rules, include, test, inputs, root))
    outputs = [t.output for t in targets] + [t.test for t in targets if t.test]
    for name in outputs:
        if outputs.count(name) > 1:
            raise where.error(f"two targets write {name}; give each its own output", "output")
    return targets


def _toml(text: str, shown: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        line, col = (int(found[1]), int(found[2])) if found else (0, 0)
        raise CodegenError(f"not valid TOML: {message}; fix the file", shown, line, col) from None


class _Where:
    """Errors about the table, placed at the line of the key where it can be found."""

    def __init__(self, path: str, text: str):
        self.path, self.lines, self.target = path, text.splitlines(), 0

    def error(self, message: str, key: str) -> CodegenError:
        table = next((i for i, line in enumerate(self.lines) if re.match(r"\s*\[\s*tool\.codegen\s*\]", line)), 0)
        start = table
        if self.target:
            starts = [i for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*tool\.codegen\.targets\s*\]\]", line)]
            if not starts:  # targets = [{ source = "...", ... }, ...]: each begins with its source
                starts = [i for i, line in enumerate(self.lines) if i > table and re.search(r"\bsource\s*=", line)]
            start = starts[self.target - 1] if len(starts) >= self.target else table
        for number in range(start, len(self.lines)):
            if re.search(rf"(^|[\s{{,]){re.escape(key)}\s*=", self.lines[number]):
                return CodegenError(message, self.path, number + 1, 1)
        return CodegenError(message, self.path, start + 1 if self.lines else 0, 1 if self.lines else 0)


def _relative(value: str, root: Path, where: _Where, at: str, key: str) -> str:
    """A path from the table, relative to the pyproject's folder, as POSIX."""
    if not value or "\0" in value or not value.isprintable():
        raise where.error(f"{at}: `{key}` holds an empty path or a control character", key)
    path = Path(value)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root)
        except ValueError:
            raise where.error(f"{at}: `{key}` = {value!r} is outside the project; give a path inside it", key) from None
    parts = Path(os.path.normpath(path)).as_posix()
    if parts.startswith("../") or parts == "..":
        raise where.error(f"{at}: `{key}` = {value!r} is outside the project; give a path inside it", key)
    return parts


def _paths(table: dict, key: str, where: _Where, at: str, root: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(f"{at}: `{key}` must be a path or a list of paths", key)
    return tuple(_relative(v, root, where, at, key) for v in value)


def _names(entry: dict, key: str, where: _Where, at: str) -> tuple[str, ...] | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.isidentifier() for v in value):
        raise where.error(f"{at}: `{key}` must name parameters: \"w,b\" or [\"w\", \"b\"]", key)
    return tuple(value)


def _modes(entry: dict, where: _Where, at: str) -> tuple[str, ...]:
    from .modes import MODES

    value = entry.get("mode", "reverse")
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in MODES for v in value):
        raise where.error(f"{at}: `mode` must be one or more of {', '.join(MODES)}", "mode")
    return tuple(m for m in MODES if m in value)


# -- checking and building --------------------------------------------------------------


@contextlib.contextmanager
def _at(root: Path) -> Iterator[None]:
    """Run from the project's folder: the headers record paths relative to it."""
    before = os.getcwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def _includes(target: Target) -> dict[str, str]:
    return {path: read_source(path) for path in target.include}


def _up_to_date_by_header(target: Target, text: str) -> bool:
    """Whether the header shows that this codegen wrote `text` for this target from
    the inputs as they are now (no generation)."""
    header = headers.read(text)
    return (
        header.version == __version__
        and header.source == f"{target.source}::{target.function}"
        and (target.wrt is None or header.wrt == target.wrt)
        and header.modes == target.modes
        and header.rules == target.rules
        and header.include == target.include
        and header.sealed
        and header.inputs_sha256 == headers.inputs_digest(read_source(target.source), _includes(target), target.rules)
    )


def status(target: Target, regenerate: bool = False) -> list[Status]:
    """The module's status, and the emitted test's if the target has one."""
    with _at(target.root):
        out = []
        exists = Path(target.output).is_file()
        current = read_text(target.output) if exists else ""
        if exists and not regenerate and _up_to_date_by_header(target, current):
            out.append(Status(target, False, "up to date", target.output))
        else:
            from .pipeline import generate  # (here: an up-to-date check does not load it)

            fresh = generate(
                read_source(target.source), target.function, ",".join(target.wrt) if target.wrt else None,
                path=target.source, rules_dirs=list(target.rules), include=_includes(target), mode=target.modes,
            )
            out.append(_compared(target, target.output, current if exists else None, fresh))
        if target.test is not None:
            from .emitted_test import test_text

            wrt = headers.read(out[0].fresh or current).wrt
            exists = Path(target.test).is_file()
            current_test = read_text(target.test) if exists else None
            out.append(_compared(target, target.test, current_test, test_text(target, wrt)))
    return out


def _compared(target: Target, path: str, current: str | None, fresh: str) -> Status:
    if current == fresh:
        return Status(target, False, "up to date", path, fresh)
    reason = "missing" if current is None else "stale"
    diff = "".join(difflib.unified_diff(
        (current or "").splitlines(keepends=True), fresh.splitlines(keepends=True),
        fromfile=f"{path} (on disk)", tofile=f"{path} (generated now)",
    ))
    return Status(target, True, reason, path, fresh, diff)


def check(pyproject: str | Path | None = None, regenerate: bool = False) -> list[Status]:
    """The stale or missing files of a project's targets (its modules and emitted
    tests), with their diffs; [] when everything is up to date. `pyproject` defaults
    to the nearest pyproject.toml with a [tool.codegen] table."""
    path = Path(pyproject) if pyproject is not None else find_pyproject()
    return [s for target in load(path) for s in status(target, regenerate) if s.stale]


def build(pyproject: str | Path | None = None, regenerate: bool = False) -> list[Status]:
    """Write every stale or missing file of a project's targets (atomically; nothing
    else is touched) and return what was written."""
    written = []
    for stale in check(pyproject, regenerate):
        with _at(stale.target.root):
            write_atomically(stale.path, stale.fresh)
        written.append(stale)
    return written


def assert_up_to_date(pyproject: str | Path | None = None, regenerate: bool = False) -> None:
    """For a golden test: raise AssertionError, with each stale file's diff and the
    command that fixes it, where any target of the project is stale."""
    stale = check(pyproject, regenerate)
    if stale:
        names = ", ".join(f"{s.path} ({s.reason})" for s in stale)
        raise AssertionError(f"stale generated files: {names}; regenerate them with: codegen build\n" + "".join(s.diff for s in stale))
