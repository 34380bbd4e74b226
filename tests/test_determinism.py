"""Same input, same bytes: run after run, and under any PYTHONHASHSEED."""

import os
import subprocess
import sys

from codegen import generate
from conftest import EXAMPLES, ROOT

SOURCE = "generated_examples/gaussian_nll.py"


def test_generating_twice_gives_identical_bytes():
    text = (ROOT / SOURCE).read_text()
    first = generate(text, "nll", "mu,log_sigma", path=SOURCE)
    second = generate(text, "nll", "mu,log_sigma", path=SOURCE)
    assert first == second
    assert first == (EXAMPLES / "gaussian_nll_grad.py").read_text()


def test_hash_seed_does_not_change_the_output():
    outputs = set()
    for seed in ("0", "1", "4242"):
        run = subprocess.run(
            [sys.executable, "-m", "codegen", "generate", f"{SOURCE}::nll", "--wrt", "mu,log_sigma"],
            cwd=ROOT, capture_output=True, env=dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT)),
        )
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert outputs.pop().decode() == (EXAMPLES / "gaussian_nll_grad.py").read_text()
