"""Checking generated gradients against central finite differences (float64).

This is the one place codegen executes code: the user's function and the generated
module, and only when asked (`codegen verify`, or a call to `check_gradient`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

# Step sizes tried for each direction (relative to the argument's scale); the best
# agreement is the one reported, as truncation error falls and rounding error grows
# with a shrinking step.
STEPS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


@dataclass
class Report:
    """The outcome of a finite-difference check."""

    errors: dict[str, float] = field(default_factory=dict)  # worst relative error per wrt
    problems: list[str] = field(default_factory=list)  # shape, kind or value mismatches
    tolerance: float = 1e-6
    directions: int = 0

    @property
    def worst(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def ok(self) -> bool:
        return not self.problems and self.worst <= self.tolerance

    def __str__(self) -> str:
        lines = [f"{'wrt':<16} worst relative error over {self.directions} random directions"]
        for name, error in self.errors.items():
            lines.append(f"{name:<16} {error:.3e}")
        lines += [f"problem: {p}" for p in self.problems]
        verdict = "ok" if self.ok else "FAILED"
        lines.append(f"{verdict}: worst {self.worst:.3e} (tolerance {self.tolerance:.0e})")
        return "\n".join(lines)


def directional_error(f: Callable[..., float], kwargs: Mapping, name: str, grad, direction) -> float:
    """Relative disagreement between <grad, direction> and the central difference of
    f along `direction` in argument `name`, at the best of several step sizes.
    Relative to the larger of the two, or to 1e-6 * max(1, |f|) if both are smaller
    (finite differences cannot resolve such a derivative). A parameter tree (a dict,
    list or tuple of arrays) and its gradient are read as their leaves, flattened in
    order, and `direction` as a vector of that length."""
    x, rebuild = flatten(kwargs[name])
    analytic = float(np.sum(flatten(grad)[0] * np.reshape(direction, np.shape(x))))
    direction = np.reshape(direction, np.shape(x))
    scale = max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
    # Central differences cannot resolve a derivative much smaller than the function
    # itself (rounding in f); below this floor the error is measured absolutely.
    floor = 1e-6 * max(1.0, abs(float(f(**kwargs))))
    best = math.inf
    for step in STEPS:
        h = step * scale
        plus = dict(kwargs, **{name: rebuild(x + h * direction)})
        minus = dict(kwargs, **{name: rebuild(x - h * direction)})
        numeric = (float(f(**plus)) - float(f(**minus))) / (2 * h)
        denominator = max(abs(analytic), abs(numeric), floor)
        best = min(best, abs(numeric - analytic) / denominator)
    return best


def is_tree(value) -> bool:
    return isinstance(value, (dict, list, tuple))


def flatten(value):
    """(the leaves of `value` as one float64 array, a function that builds a value of
    the same structure and kinds from such an array). An array is its own leaf;
    Python floats stay floats."""
    if not is_tree(value):
        x = np.asarray(value, dtype=np.float64)
        return x, lambda v: _like(value, np.reshape(v, np.shape(x)))
    items = list(value.values()) if isinstance(value, dict) else list(value)
    parts = [flatten(item) for item in items]
    sizes = [p[0].size for p in parts]
    flat = np.concatenate([np.ravel(p[0]) for p in parts]) if parts else np.zeros(0)

    def rebuild(v):
        out, start = [], 0
        for (leaf, build), size in zip(parts, sizes):
            out.append(build(np.reshape(v[start:start + size], np.shape(leaf))))
            start += size
        if isinstance(value, dict):
            return dict(zip(value.keys(), out))
        if isinstance(value, list):
            return out
        return type(value)(*out) if hasattr(value, "_fields") else type(value)(out)

    return flat, rebuild


def structure_problems(name: str, grad, arg) -> list[str]:
    """How a gradient differs from its argument in structure, shape or kind."""
    if is_tree(arg):
        if type(grad) is not type(arg):
            return [f"{name} is a {type(grad).__name__}, the argument a {type(arg).__name__}"]
        if isinstance(arg, dict):
            if list(grad) != list(arg):
                return [f"{name} has keys {list(grad)}, the argument {list(arg)}"]
            return [p for k in arg for p in structure_problems(f"{name}[{k!r}]", grad[k], arg[k])]
        if len(grad) != len(arg):
            return [f"{name} has {len(grad)} items, the argument {len(arg)}"]
        return [p for i, (g, a) in enumerate(zip(grad, arg)) for p in structure_problems(f"{name}[{i}]", g, a)]
    if np.shape(grad) != np.shape(arg):
        return [f"{name} has shape {np.shape(grad)}, the argument has {np.shape(arg)}"]
    if isinstance(arg, float) and not isinstance(grad, float):
        return [f"{name} is a {type(grad).__name__}, the argument is a float"]
    return []


def _like(original, value: np.ndarray):
    """`value` as the same kind as `original` (a Python float stays a float, and a
    NumPy float64 a float64: they differ, `~(x > 0)` for one)."""
    if isinstance(original, np.generic):
        return type(original)(value)
    return float(value) if np.ndim(original) == 0 and not isinstance(original, np.ndarray) else value


def check_gradient(
    f: Callable[..., float],
    value_and_grad: Callable,
    kwargs: Mapping,
    wrt: Sequence[str],
    *,
    directions: int = 4,
    tolerance: float = 1e-6,
    seed: int = 0,
) -> Report:
    """Compare a generated `value_and_grad_<f>` with central finite differences of `f`
    at `kwargs`, along `directions` random directions per wrt argument.

    Also checks that the value equals `f(**kwargs)` and that each gradient has its
    argument's shape (and is a float for a Python float argument). `f` gets copies
    of the arrays on every call, as a function that writes into its parameters
    (`x[0] = ...`) would change them for the next."""
    f = _on_copies(f)
    rng = np.random.default_rng(seed)
    report = Report(tolerance=tolerance, directions=directions)
    value, grads = value_and_grad(**kwargs)
    if len(wrt) == 1:
        grads = (grads,)
    expected = f(**kwargs)
    if isinstance(expected, tuple):  # `return loss, aux...`: the loss is differentiated
        aux = expected[1] if len(expected) == 2 else expected[1:]
        expected = (expected[0], aux)
        if not (isinstance(value, tuple) and len(value) == 2 and _same(value[1], aux)):
            report.problems.append(f"value and aux {value!r} differ from the function's {expected!r}")
        value, expected = (value[0] if isinstance(value, tuple) else value), expected[0]
        f = _first(f)
    if not np.allclose(value, expected, rtol=1e-12, atol=0.0, equal_nan=True):
        report.problems.append(f"value {value!r} differs from the function's {expected!r}")
    for name, grad in zip(wrt, grads):
        arg = kwargs[name]
        problems = structure_problems(f"d_{name}", grad, arg)
        report.problems += problems
        if [p for p in problems if "the argument is a float" not in p]:
            continue
        worst = 0.0
        for _ in range(directions):
            direction = rng.standard_normal(np.shape(flatten(arg)[0]))
            worst = max(worst, directional_error(f, kwargs, name, grad, direction))
        report.errors[name] = worst
    return report


def _first(f: Callable) -> Callable[..., float]:
    def called(**kwargs):
        return f(**kwargs)[0]

    return called


def _same(a, b) -> bool:
    """Auxiliary values agree: numbers and arrays to 1e-12, anything else equal
    (tuples, lists and dicts item by item)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True)) and np.shape(a) == np.shape(b)
    except TypeError:
        return a == b


def _on_copies(f: Callable[..., float]) -> Callable[..., float]:
    def called(**kwargs):
        return f(**{k: _copied(v) for k, v in kwargs.items()})

    return called


def _copied(value):
    """A copy of an argument's arrays (a tree's leaves too), in its structure."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        items = [_copied(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return value


def check_jvp(
    f: Callable,
    jvp: Callable,
    kwargs: Mapping,
    wrt: Sequence[str],
    *,
    value_and_grad: Callable | None = None,
    directions: int = 3,
    tolerance: float = 1e-6,
    seed: int = 0,
) -> Report:
    """Compare a generated `jvp_<f>` with central finite differences of `f` along
    random tangents (every wrt argument moved at once), and, given the reverse
    module's `value_and_grad_<f>`, with `grad · t` (for an array result, the
    gradient of its sum against the sum of the tangent). The tangent parameters are
    jvp's last len(wrt) parameters. Errors are reported under "jvp" and "grad·t"."""
    import inspect

    f = _on_copies(f)
    rng = np.random.default_rng(seed)
    report = Report(tolerance=tolerance, directions=directions)
    names = list(inspect.signature(jvp).parameters)[-len(wrt):]
    expected = f(**kwargs)
    has_aux = isinstance(expected, tuple)
    if has_aux:
        f = _first(f)
        expected = expected[0]
    flats = {name: flatten(kwargs[name]) for name in wrt}
    worst = worst_dot = 0.0
    for _ in range(directions):
        steps = {name: rng.standard_normal(np.shape(flats[name][0])) for name in wrt}
        tangents = {t: flats[name][1](steps[name]) for name, t in zip(wrt, names)}
        out = jvp(**kwargs, **tangents)
        value, tangent = out[0], out[1]
        if not np.allclose(value, expected, rtol=1e-12, atol=0.0, equal_nan=True):
            report.problems.append(f"value {value!r} differs from the function's {expected!r}")
        if np.shape(tangent) != np.shape(expected):
            report.problems.append(f"the tangent has shape {np.shape(tangent)}, the value {np.shape(expected)}")
            break
        tangent = np.asarray(tangent, dtype=np.float64)
        floor = 1e-6 * max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
        scale = max([1.0] + [float(np.max(np.abs(flats[n][0]))) for n in wrt if flats[n][0].size])
        best = math.inf
        for step in STEPS:
            h = step * scale
            plus = dict(kwargs, **{n: flats[n][1](flats[n][0] + h * steps[n]) for n in wrt})
            minus = dict(kwargs, **{n: flats[n][1](flats[n][0] - h * steps[n]) for n in wrt})
            numeric = (np.asarray(f(**plus), dtype=np.float64) - np.asarray(f(**minus), dtype=np.float64)) / (2 * h)
            size = max(float(np.max(np.abs(tangent))) if tangent.size else 0.0, float(np.max(np.abs(numeric))) if numeric.size else 0.0, floor)
            best = min(best, float(np.max(np.abs(numeric - tangent))) / size if tangent.size else 0.0)
        worst = max(worst, best)
        if value_and_grad is not None:
            grads = value_and_grad(**kwargs)[1]
            grads = (grads,) if len(wrt) == 1 else grads
            dot = sum(float(np.sum(flatten(g)[0] * steps[n])) for g, n in zip(grads, wrt))
            total = float(np.sum(tangent))
            size = max(abs(dot), abs(total), 1e-12 * max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0))
            worst_dot = max(worst_dot, abs(dot - total) / size)
    report.errors["jvp"] = worst
    if value_and_grad is not None:
        report.errors["grad·t"] = worst_dot
    return report


def check_hvp(
    grad: Callable,
    hvp: Callable,
    kwargs: Mapping,
    wrt: Sequence[str],
    *,
    directions: int = 2,
    tolerance: float = 1e-5,
    seed: int = 0,
) -> Report:
    """Compare a generated `hvp_<f>` with central finite differences of the
    gradient `grad` (the reverse module's `grad_<f>`) along random v (every wrt
    argument moved at once). The v parameters are hvp's last len(wrt) ones."""
    import inspect

    rng = np.random.default_rng(seed)
    report = Report(tolerance=tolerance, directions=directions)
    names = list(inspect.signature(hvp).parameters)[-len(wrt):]
    flats = {name: flatten(kwargs[name]) for name in wrt}

    def grads_at(moved):
        g = grad(**moved)
        return [np.ravel(flatten(x)[0]) for x in ((g,) if len(wrt) == 1 else g)]

    worst = 0.0
    for _ in range(directions):
        steps = {name: rng.standard_normal(np.shape(flats[name][0])) for name in wrt}
        vs = {v: flats[name][1](steps[name]) for name, v in zip(wrt, names)}
        out = hvp(**kwargs, **vs)
        ours = [np.ravel(flatten(x)[0]) for x in ((out,) if len(wrt) == 1 else out)]
        for name, mine in zip(wrt, ours):
            if np.size(mine) != np.size(flats[name][0]):
                report.problems.append(f"the HVP for {name} has {np.size(mine)} values, the argument {flats[name][0].size}")
        if report.problems:
            break
        scale = max([1.0] + [float(np.max(np.abs(flats[n][0]))) for n in wrt if flats[n][0].size])
        best = math.inf
        for step in (1e-3, 1e-4, 1e-5, 1e-6):
            h = step * scale
            plus = grads_at(dict(kwargs, **{n: flats[n][1](flats[n][0] + h * steps[n]) for n in wrt}))
            minus = grads_at(dict(kwargs, **{n: flats[n][1](flats[n][0] - h * steps[n]) for n in wrt}))
            numeric = np.concatenate([(p - m) / (2 * h) for p, m in zip(plus, minus)]) if plus else np.zeros(0)
            mine = np.concatenate(ours) if ours else np.zeros(0)
            size = max(float(np.max(np.abs(mine))) if mine.size else 0.0, float(np.max(np.abs(numeric))) if numeric.size else 0.0, 1e-6)
            best = min(best, float(np.max(np.abs(mine - numeric))) / size if mine.size else 0.0)
        worst = max(worst, best)
    report.errors["hvp"] = worst
    return report


# -- inputs of other array libraries (issue 17) -------------------------------------------


def foreign(value) -> str | None:
    """The library of the first array in `value` (a tree) that is not NumPy's:
    "torch", "dask", "cupy", ..., or None."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((kind for kind in map(foreign, value) if kind), None)
    if isinstance(value, (np.ndarray, np.generic, float, int, bool)) or value is None:
        return None
    module = type(value).__module__.split(".")[0]
    return module if hasattr(value, "__array__") or hasattr(value, "__array_function__") else None


def to_numpy(value):
    """`value` (a tree) with every array of another library as a NumPy array:
    tensors through .detach().cpu().numpy(), Dask arrays computed, CuPy's copied."""
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_numpy(v) for v in value)
    if foreign(value) is None:
        return value
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu()
    if hasattr(value, "compute"):  # dask
        value = value.compute()
    if hasattr(value, "get") and type(value).__module__.startswith("cupy"):
        value = value.get()
    array = np.asarray(value)
    return float(array) if array.ndim == 0 and array.dtype.kind == "f" else array  # a 0-d tensor: a number


def like(value, original):
    """NumPy's `value` (a tree) as arrays of `original`'s library, where original's
    leaves are not NumPy's: a tensor of its dtype and device, a Dask array of its
    chunks."""
    if isinstance(original, dict):
        return {k: like(value[k], original[k]) for k in original}
    if isinstance(original, (list, tuple)) and not hasattr(original, "_fields"):
        return type(original)(like(v, o) for v, o in zip(value, original))
    kind = foreign(original)
    if kind == "torch":
        import torch

        return torch.as_tensor(np.asarray(value), dtype=original.dtype, device=original.device)
    if kind == "dask":
        import dask.array as da

        return da.from_array(np.asarray(value), chunks=original.chunks)
    if kind == "cupy":
        import cupy

        return cupy.asarray(value)
    return value


def on_library_of(function: Callable, originals: Mapping) -> Callable:
    """`function` (a generated one) called on arrays of the libraries `originals`
    holds, whatever arrays it is given, its results made NumPy's: so that the checks
    above, which perturb NumPy copies, run the generated code on the user's arrays."""

    import functools
    import inspect

    signature = inspect.signature(function)

    @functools.wraps(function)  # the checks read its signature (a JVP's tangent names)
    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        moved = {k: like(v, originals[k]) if k in originals else v for k, v in bound.arguments.items()}
        return to_numpy(function(**moved))

    return call
