"""The peer suites' cases on PyTorch tensors (issue 17): every case codegen generates
runs again with its arrays as float64 CPU tensors, and its value and gradient must
equal the NumPy run's to 1e-10. Each case ends as one of:

- torch: it ran on torch's own functions (runtime.py's `_torch_numpy`);
- torch._numpy: torch and NumPy part ways in it (a negative step, a call the
  namespace does not name), and it ran on torch._numpy, which follows NumPy;
- refused: a TypeError saying that neither can run a NumPy call the module makes;
- WRONG: a result that differs from NumPy's;
- CRASH: any other exception.

Run it: `python tests/peers/on_torch.py [-v]`; tests/test_peers.py runs every tenth
case of each suite.
"""

from __future__ import annotations

import sys
import textwrap
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

import codegen  # noqa: E402
from codegen import CodegenError  # noqa: E402
from codegen.verify import flatten  # noqa: E402

SUITES = ["autograd_numpy", "autograd_systematic", "autograd_scipy", "tangent_functions"]
OUTCOMES = ("torch", "torch._numpy", "refused", "WRONG", "CRASH")


def _tensors(value, torch):
    if isinstance(value, dict):
        return {k: _tensors(v, torch) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(v, torch) for v in value)
    return torch.from_numpy(value.copy()) if isinstance(value, np.ndarray) else value


def _arrays(value, torch):
    if isinstance(value, dict):
        return {k: _arrays(v, torch) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v, torch) for v in value)
    return value.cpu().numpy() if isinstance(value, torch.Tensor) else value


def run_case(name, body, specs, flags, rng, header, torch):
    """(outcome, message) of one case on tensors, or None where codegen generates
    nothing for it or NumPy cannot run it (the NumPy suites report those)."""
    if "complex" in flags:
        return None
    body = textwrap.dedent(body).strip("\n")
    try:
        kwargs, wrt, _, out = harness.first_run(body, specs, rng, header)
        parts = len(out) if "parts" in flags else None
        source = harness.wrapper(body, list(specs), parts, header) + "\n"
        kwargs["weights"] = rng.standard_normal(np.shape(out)) if parts is None else tuple(
            rng.standard_normal(np.shape(p)) for p in out)
        text = codegen.generate(source, "g", ",".join(wrt), path=f"{name}.py")
        module = {}
        exec(compile(text, f"<{name}>", "exec"), module)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            expected = module["value_and_grad_g"](**kwargs)
    except (CodegenError, Exception):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = _arrays(module["value_and_grad_g"](**_tensors(kwargs, torch)), torch)
    except TypeError as error:
        if "can run a NumPy call it makes" in str(error):  # the refusal, and what the NumPy call raised
            return "refused", str(error).split("a NumPy call it makes (", 1)[1].rsplit("); it runs on", 1)[0][:160]
        return "CRASH", f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - reported
        return "CRASH", f"{type(error).__name__}: {error}"
    want, have = flatten(expected)[0], flatten(got)[0]
    finite = np.isfinite(want)
    scale = 1.0 + np.max(np.abs(want[finite]), initial=0.0) if np.shape(want) == np.shape(have) else 1.0
    if np.shape(want) != np.shape(have) or not np.allclose(have, want, rtol=1e-10, atol=1e-12 * scale, equal_nan=True):
        return "WRONG", f"NumPy {expected!r}\ntorch {got!r}"
    parted = module.get("_torch_namespaces", {}).get("parted")
    if parted is not None:
        return "torch._numpy", f"{type(parted).__name__}: {str(parted).splitlines()[0][:160]}"
    return "torch", ""


def run(verbose: bool = False, stride: int = 1) -> Counter:
    """Every case (every `stride`-th of each suite), its outcome counted."""
    import torch

    counts, reasons = Counter(), Counter()
    for suite in SUITES:
        module = __import__(suite)
        header = getattr(module, "HEADER", "import numpy as np")
        rng = np.random.default_rng(1)
        for name, body, specs, *flags in module.CASES[::stride]:
            ended = run_case(name, body, specs, flags, rng, header, torch)
            if ended is None:
                continue
            outcome, message = ended
            counts[outcome] += 1
            if outcome in ("torch._numpy", "refused"):
                reasons[f"{outcome}: {message[:100]}"] += 1
            if outcome in ("WRONG", "CRASH") or (verbose and outcome != "torch"):
                print(f"{outcome:<13} {suite} {name}: {message}")
    for reason, n in reasons.most_common():
        print(f"{n:5d}  {reason}")
    print(", ".join(f"{k} {counts[k]}" for k in OUTCOMES) + f" ({sum(counts.values())} cases)")
    return counts


if __name__ == "__main__":
    run(verbose="-v" in sys.argv)
