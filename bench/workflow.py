"""Benchmark: the build workflow's timings, each in fresh processes (what a user
waits for at a prompt, in a pre-commit hook or in CI).

    python bench/workflow.py [--repeat 5]

It makes a project of ten targets (the generated_examples/ losses, copied into a
temporary folder with a [tool.codegen] table) and times, as the median of
`--repeat` runs of the command line: `codegen --version`; a cold `codegen generate`
of one example, with the rules cache warm (every later call) and with it off
(CODEGEN_CACHE_DIR=off, the first call on a machine); `codegen build` of the ten
targets in one process against ten separate `codegen generate` calls; and an
up-to-date `codegen check` of the ten (headers and hashes, nothing generated) and
`codegen check --regenerate` (generated and compared). Python writes its bytecode
caches as it does where codegen is installed (PYTHONDONTWRITEBYTECODE is unset for
these processes). bench/run.py prints the same table after its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "generated_examples"
TARGETS = [  # (file, function, wrt)
    ("logistic.py", "loss", "beta0,beta1"), ("mlp.py", "loss", "W1,b1,W2,b2"), ("ridge.py", "loss", "w"),
    ("huber.py", "loss", "w"), ("rosenbrock.py", "rosenbrock", "x"), ("recurrence.py", "loss", "x,a"),
    ("seed_chain.py", "loss", "W"), ("gaussian_nll.py", "nll", "mu,log_sigma"), ("shrink.py", "loss", "x,r"),
    ("fixed_point.py", "loss", "theta,b"),
]


def _project(root: Path) -> None:
    lines = ["[tool.codegen]", ""]
    for name, function, wrt in TARGETS:
        shutil.copy(EXAMPLES / name, root / name)
        lines += ["[[tool.codegen.targets]]", f'source = "{name}::{function}"', f'wrt = "{wrt}"', ""]
    (root / "pyproject.toml").write_text("\n".join(lines))


def _timed(command: list[str], cwd: Path, env: dict, repeat: int, before=None) -> float:
    """The median wall time of `command` over `repeat` fresh processes, in seconds."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr}")
    return round(statistics.median(times), 3)


def workflow_timings(repeat: int = 5) -> dict:
    codegen = [sys.executable, "-m", "codegen"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _project(root)
        env = dict(os.environ, CODEGEN_CACHE_DIR=str(root / ".cache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, not at every start
        off = dict(env, CODEGEN_CACHE_DIR="off")
        outputs = [root / (Path(name).stem + "_grad.py") for name, _, _ in TARGETS]

        def clean():
            for path in outputs:
                path.unlink(missing_ok=True)

        one = [*codegen, "generate", "logistic.py::loss", "--wrt", "beta0,beta1", "-o", "logistic_grad.py"]
        subprocess.run(one, cwd=root, env=env, check=True, capture_output=True)  # the cache, written once
        result = {
            "codegen --version": _timed([*codegen, "--version"], root, env, repeat),
            "generate one example (rules cache warm)": _timed(one, root, env, repeat),
            "generate one example (rules cache off)": _timed(one, root, off, max(1, repeat // 2)),
            "build of 10 targets, one process": _timed([*codegen, "build"], root, env, repeat, before=clean),
        }

        def ten_calls():
            for name, function, wrt in TARGETS:
                output = Path(name).stem + "_grad.py"
                command = [*codegen, "generate", f"{name}::{function}", "--wrt", wrt, "-o", output]
                subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)

        times = []
        for _ in range(repeat):
            clean()
            start = time.perf_counter()
            ten_calls()
            times.append(time.perf_counter() - start)
        result["10 separate generate calls"] = round(statistics.median(times), 3)
        subprocess.run([*codegen, "build"], cwd=root, env=env, check=True, capture_output=True)
        result["up-to-date check of 10 targets"] = _timed([*codegen, "check"], root, env, repeat)
        result["check --regenerate of 10 targets"] = _timed([*codegen, "check", "--regenerate"], root, env, repeat)
    return result


def table(result: dict) -> str:
    lines = ["| command (fresh process) | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {seconds} |" for name, seconds in result.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the timings here")
    args = parser.parse_args(argv)
    result = workflow_timings(args.repeat)
    print("Build workflow: median wall time of fresh processes.\n")
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
