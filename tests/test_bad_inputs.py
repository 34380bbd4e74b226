"""The bad-input corpus (tests/bad_inputs.py) through the CLI, each case in its own
process: no traceback, no crash, the documented exit status, the expected position
(Python's own for syntax errors), and no file changed on an error.

A cold `python -m codegen` takes about a second, so each case runs in a child
forked from this process, which has imported codegen once: still a separate
process (a segmentation fault or an `os._exit` shows as it would), for a few
milliseconds of start-up. A handful of cases (`real=True`) also go through a real
`python -m codegen`, and must print the same and exit the same.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from bad_inputs import CASES, CPYTHON, USAGE, Case
from codegen import rules
from codegen.cli import main
from conftest import ROOT

TIMEOUT = 60  # seconds a case may take


def _write(root: Path, case: Case) -> None:
    for name, text in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    if case.setup is not None:
        case.setup(root)
    argv = _argv(case, root)
    if "-o" in argv[:-1]:  # an OUT that exists before: it must be byte-identical after an error
        out = argv[argv.index("-o") + 1]
        target = root / out
        if out and not os.path.isabs(out) and not os.path.lexists(target):
            try:
                target.write_text("previous contents\n")
            except OSError:
                pass  # a name too long, a folder that is not there: nothing to keep


def _argv(case: Case, root: Path) -> list[str]:
    return [a.replace("{root}", str(root)) for a in case.argv]


def _snapshot(root: Path) -> dict:
    """Every entry under root: a file's sha256, a link's target, a folder."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                found[relative] = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                found[relative] = "folder"
            elif not os.path.isfile(path):  # a pipe: opening it would wait for a writer
                found[relative] = f"special:{os.stat(path).st_mode:o}"
            else:
                with open(path, "rb") as handle:
                    found[relative] = hashlib.sha256(handle.read()).hexdigest()
    return found


def _fork(argv: list[str], root: Path) -> tuple[int, str, str]:
    """Run `main(argv)` in a forked child in `root`: (status, stdout, stderr); a
    negative status is the signal that ended it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            status = 99
            try:
                os.chdir(root)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                # pytest's capturing objects stand in for sys.stdout/err: write to the fds
                sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
                sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
                try:
                    status = main(argv)
                except SystemExit as exit:
                    status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 2)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        deadline = time.monotonic() + TIMEOUT
        while True:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"{argv} ran for more than {TIMEOUT} s")
            time.sleep(0.005)
        status = -os.WTERMSIG(code) if os.WIFSIGNALED(code) else os.WEXITSTATUS(code)
        out.seek(0)
        err.seek(0)
        return status, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")


def _expected_where(case: Case, root: Path) -> str | None:
    if case.where is None or not case.where.startswith(CPYTHON):
        return case.where.replace("{root}", str(root)) if case.where else case.where
    path = case.where[len(CPYTHON) + 1 :] or _argv(case, root)[1].rpartition("::")[0]
    data = (root / path).read_bytes()
    try:
        compile(data, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"{path}:{error.lineno}:{error.offset}"
    raise AssertionError(f"{case.name}: CPython compiles {path}")


def _check(case: Case, root: Path, status: int, out: str, err: str) -> list[str]:
    problems = []
    if "Traceback" in err:
        problems.append("traceback")
    if status < 0:
        problems.append(f"crashed (signal {-status})")
    if status == 123:
        problems.append("internal error (123)")
    if status != case.exit:
        problems.append(f"exit {status}, expected {case.exit}")
    where = _expected_where(case, root)
    lines = err.splitlines()
    if case.exit != 0 and where == USAGE:
        if not (lines and lines[-1].startswith("codegen") and ": error: " in lines[-1] and lines[0].startswith("usage:")):
            problems.append("not a usage error")
    elif case.exit != 0 and where is not None:
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        line = lines[-1] if lines else ""
        if not line.startswith(where + ": error: "):
            problems.append(f"position: expected {where}")
        if case.words and case.words not in line:
            problems.append(f"message lacks {case.words!r}")
    return problems


@pytest.fixture(scope="module")
def warm():
    rules.load(())  # what every child would load: once, here


def _run_case(case: Case, base: Path):
    root = base / case.name
    root.mkdir()
    _write(root, case)
    before = _snapshot(root)
    status, out, err = _fork(_argv(case, root), root)
    problems = _check(case, root, status, out, err)
    if case.exit != 0 and _snapshot(root) != before:
        problems.append("files changed on an error")
    return status, out, err, problems


def test_the_corpus(warm, tmp_path):
    """Every case, with a summary of what failed (one test: the children share the warm parent)."""
    assert len(CASES) >= 300 and len({c.name for c in CASES}) == len(CASES)
    failures, statuses = [], Counter()
    for case in CASES:
        status, out, err, problems = _run_case(case, tmp_path)
        statuses[status] += 1
        if problems:
            failures.append(f"{case.name} [{case.kind}]: {'; '.join(problems)}\n    stderr: {err.strip()[:300]!r}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases failed:\n" + "\n".join(failures)
    assert statuses[0] + statuses[2] == len(CASES)


def test_real_processes_agree_with_the_forked_ones(warm, tmp_path):
    """The cases marked `real` through `python -m codegen`: the same status and output."""
    chosen = [c for c in CASES if c.real]
    assert len(chosen) >= 5
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for case in chosen:
        forked = tmp_path / "forked"
        real = tmp_path / "real"
        for root in (forked, real):
            root.mkdir()
            _write(root, case)
        status, out, err = _fork(_argv(case, forked), forked)
        run = subprocess.run([sys.executable, "-m", "codegen", *_argv(case, real)], cwd=real, env=env,
                             capture_output=True, text=True, timeout=TIMEOUT)
        assert (run.returncode, run.stdout, run.stderr) == (status, out, err), case.name
        assert not _check(case, real, run.returncode, run.stdout, run.stderr), case.name
        for root in (forked, real):
            subprocess.run(["rm", "-rf", str(root)], check=True)


def corpus_figures() -> str:
    """Cases per class and per expected exit status (for the README and reports)."""
    kinds = Counter(c.kind for c in CASES)
    exits = Counter(c.exit for c in CASES)
    return f"{len(CASES)} cases; " + ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) + "; exit " + ", ".join(
        f"{k}: {n}" for k, n in sorted(exits.items())
    )
