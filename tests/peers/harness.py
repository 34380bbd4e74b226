"""The runner the peer-suite adaptations in tests/peers/ share (issue 15).

A case is `(name, body, specs, *flags)`:
- `body` is the source of a function `f`, the peer's test function's body kept;
- `specs` maps each of f's parameters to its input:
  - a shape (a tuple): random normal values, differentiated;
  - a float: that number, differentiated;
  - `("positive", shape)`: random values above 0.1, differentiated;
  - `("value", array)`: that array, differentiated;
  - `("tree", value)`: that dict, list or tuple of arrays or numbers, differentiated;
  - `("data", value)`: that value (or random normal of that shape), not differentiated;
- flags: `"symmetric"` (compare with autograd on symmetric directions, as for
  cholesky, which reads one triangle), `"parts"` (f returns a tuple or list of
  arrays: each part gets its own weights), `"complex"` (an input is complex: skipped,
  as codegen differentiates real float64 code).

f is wrapped to a scalar: `g` returns the sum of f's output times fixed random weights.
codegen generates g's gradient with respect to the differentiated parameters, through
the same `codegen.generate` the CLI calls; it is checked against central finite
differences (codegen.verify.check_gradient) and, where a case passes, compared with
autograd's gradient of the same source.

Each case ends as one of:
- pass;
- refused, with codegen's positioned message;
- skipped, with the reason, where the case is not a derivative question: NumPy itself
  raises on those inputs, f's value is not finite there or a step away (the end of
  its domain), or f jumps there;
- WRONG: the gradient disagrees with finite differences;
- CRASH: the generated module raised, or codegen raised something other than a
  CodegenError.
"""

from __future__ import annotations

import copy
import re
import sys
import textwrap
import traceback
import warnings
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import codegen  # noqa: E402
from codegen import CodegenError  # noqa: E402
from codegen.verify import check_gradient, flatten  # noqa: E402

OUTCOMES = ("pass", "refused", "skipped", "WRONG", "CRASH")


def make_input(spec, rng):
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
        kind, value = spec
        if kind == "positive":
            return rng.standard_normal(value) ** 2 + 0.1
        if kind in ("array", "value"):
            return np.array(value)
        if kind == "tree":
            return copy.deepcopy(value)
        return rng.standard_normal(value) if isinstance(value, tuple) else value  # data
    if isinstance(spec, tuple):
        return rng.standard_normal(spec) if spec else float(rng.standard_normal())
    return spec


def is_data(spec) -> bool:
    return isinstance(spec, tuple) and bool(spec) and spec[0] == "data"


def _autograd_agrees(source, module, kwargs, wrt, symmetric=False) -> str:
    """"agrees" (to 1e-8), "disagrees", or "cannot run it". With `symmetric` (cholesky,
    which reads the lower triangle only), the two gradients are compared on symmetric
    matrices: autograd gives the symmetric gradient, codegen the lower triangle's, and
    they agree on every symmetric direction."""
    try:
        import autograd
    except ImportError:
        return "cannot run it"

    namespace = {}
    try:
        # The same source on autograd's wrappers: `scipy.special.gammaln` reads
        # autograd.scipy's module of that name.
        adapted = source.replace("import numpy as np", "import autograd.numpy as np")
        adapted = re.sub(r"^import scipy\.(\w+)$", r"import autograd.scipy.\1", adapted, flags=re.M)
        if "scipy." in source:
            adapted = "import autograd.scipy as scipy\n" + adapted
        exec(adapted, namespace)
        names = list(kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Output seems independent of input" (np.sign)
            theirs = [autograd.grad(namespace["g"], names.index(w))(*kwargs.values()) for w in wrt]
    except Exception:
        return "cannot run it"
    ours = module["grad_g"](**kwargs)
    ours = ours if len(wrt) > 1 else (ours,)
    for a, b in zip(ours, theirs):
        if isinstance(a, (dict, list, tuple)):
            a, b = flatten(a)[0], flatten(b)[0]
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if symmetric:
            a, b = (a + np.swapaxes(a, -1, -2)) / 2.0, (b + np.swapaxes(b, -1, -2)) / 2.0
        if not np.allclose(a, b, rtol=1e-8, atol=1e-10):
            return "disagrees"
    return "agrees"


def _finite(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return bool(np.all(np.isfinite(np.asarray(value, dtype=float))))


def _total(f, kwargs) -> float:
    out = f(**{k: copy.deepcopy(v) for k, v in kwargs.items()})
    return float(sum(np.sum(np.asarray(p, dtype=float)) for p in (out if isinstance(out, (list, tuple)) else [out])))


def _not_differentiable_here(f, kwargs, wrt, rng) -> str:
    """Why f has no derivative to check at kwargs, or "": f is not finite a step away
    (the end of its domain: arccos at 1), or it jumps there (a `while` loop whose
    count changes at that point), which central differences on each wrt argument,
    at two step sizes along one random direction, show."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            for name in wrt:
                x, rebuild = flatten(kwargs[name])
                direction = rng.standard_normal(x.shape)
                scale = max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
                steps = []
                for h in (1e-5 * scale, 1e-6 * scale):
                    plus = _total(f, dict(kwargs, **{name: rebuild(x + h * direction)}))
                    minus = _total(f, dict(kwargs, **{name: rebuild(x - h * direction)}))
                    if not (np.isfinite(plus) and np.isfinite(minus)):
                        return f"f is not finite a step away from these inputs in {name} (the end of its domain)"
                    steps.append(abs(plus - minus))
                floor = 1e-6 * max(1.0, abs(_total(f, kwargs)))
                if steps[0] > floor and steps[1] > 0.5 * steps[0]:
                    return f"f jumps at these inputs in {name} (no derivative there)"
        except Exception as error:
            return f"NumPy raises a step away from these inputs: {type(error).__name__}: {error}"
    return ""


def wrapper(body: str, params: list[str], parts: int | None, header: str) -> str:
    """The scalar function g around f."""
    call = f"f({', '.join(params)})"
    if parts is None:
        total = f"np.sum({call} * weights)"
        lines = f"    return {total}\n"
    else:
        terms = " + ".join(f"np.sum(out[{i}] * weights[{i}])" for i in range(parts)) or "0.0"
        lines = f"    out = {call}\n    return {terms}\n"
    return f"{header}\n\n\n{body}\n\n\ndef g({', '.join(params)}, weights):\n{lines}"


def first_run(body: str, specs, rng, header: str):
    """(inputs, the differentiated parameters, f, f's output): the case's inputs drawn
    and its function run once on them with NumPy (raising what f raises)."""
    kwargs = {k: make_input(v, rng) for k, v in specs.items()}
    wrt = [k for k, v in specs.items() if not is_data(v)]
    namespace = {}
    exec(header, namespace)
    exec(body, namespace)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return kwargs, wrt, namespace["f"], namespace["f"](**kwargs)


def run_case(name, body, specs, flags, rng, header="import numpy as np") -> tuple[str, str]:
    """(outcome, message) of one case."""
    body = textwrap.dedent(body).strip("\n")
    if "complex" in flags:
        return "skipped", "a complex input (codegen differentiates real code)"
    params = list(specs)
    try:
        kwargs, wrt, f, out = first_run(body, specs, rng, header)
    except Exception as error:
        return "skipped", f"NumPy raises on these inputs: {type(error).__name__}: {error}"
    if not _finite(out):
        return "skipped", "f is not finite at these inputs"
    parts = len(out) if "parts" in flags else None
    bad = _not_differentiable_here(f, kwargs, wrt, np.random.default_rng(zlib.crc32(name.encode())))
    if bad:
        return "skipped", bad
    if parts is None:
        weights = rng.standard_normal(np.shape(out))
    else:
        weights = tuple(rng.standard_normal(np.shape(p)) for p in out)
    source = wrapper(body, params, parts, header) + "\n"
    kwargs["weights"] = weights
    try:
        text = codegen.generate(source, "g", ",".join(wrt), path=f"{name}.py")
    except CodegenError as error:
        return "refused", str(error)
    except Exception:
        return "CRASH", f"codegen raised\n{traceback.format_exc()}"
    module = {}
    try:
        exec(compile(text, f"<{name}>", "exec"), module)
        user = {}
        exec(source, user)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            report = check_gradient(user["g"], module["value_and_grad_g"], kwargs, wrt)
    except Exception:
        return "CRASH", f"the generated module raised\n{traceback.format_exc()}\n{text}"
    if not report.ok:
        return "WRONG", f"\n{report}\n{source}"
    agreed = _autograd_agrees(source, module, kwargs, wrt, symmetric="symmetric" in flags)
    return "pass", f"worst {report.worst:.1e}; autograd {agreed}"


def run(cases, verbose: bool = False, seed: int = 1, header: str = "import numpy as np") -> dict:
    """Run `cases`; print each refusal, skip, WRONG and CRASH (every case with
    `verbose`) and the counts; return the counts, with "autograd agrees",
    "autograd disagrees" and "autograd cannot run it" among the passes."""
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(OUTCOMES, 0)
    for name, body, specs, *flags in cases:
        outcome, message = run_case(name, body, specs, flags, rng, header)
        counts[outcome] += 1
        if outcome == "pass":
            agreed = message.rsplit("autograd ", 1)[1]
            counts["autograd " + agreed] = counts.get("autograd " + agreed, 0) + 1
            if not verbose and agreed != "disagrees":
                continue
        elif outcome == "skipped" and not verbose:
            continue
        print(f"{outcome:<8} {name}: {message}")
    total = sum(counts[k] for k in OUTCOMES)
    in_scope = total - counts["skipped"]
    share = 100.0 * counts["pass"] / in_scope if in_scope else 0.0
    print(f"{total} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" ({share:.1f}% of the {in_scope} cases not skipped pass)")
    return counts


def main(cases, **kwargs) -> None:
    result = run(cases, verbose="-v" in sys.argv, **kwargs)
    sys.exit(1 if result["WRONG"] or result["CRASH"] else 0)
