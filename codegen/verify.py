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
    (finite differences cannot resolve such a derivative)."""
    x = np.asarray(kwargs[name], dtype=np.float64)
    analytic = float(np.sum(np.asarray(grad, dtype=np.float64) * direction))
    scale = max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
    # Central differences cannot resolve a derivative much smaller than the function
    # itself (rounding in f); below this floor the error is measured absolutely.
    floor = 1e-6 * max(1.0, abs(float(f(**kwargs))))
    best = math.inf
    for step in STEPS:
        h = step * scale
        plus = dict(kwargs, **{name: _like(kwargs[name], x + h * direction)})
        minus = dict(kwargs, **{name: _like(kwargs[name], x - h * direction)})
        numeric = (float(f(**plus)) - float(f(**minus))) / (2 * h)
        denominator = max(abs(analytic), abs(numeric), floor)
        best = min(best, abs(numeric - analytic) / denominator)
    return best


def _like(original, value: np.ndarray):
    """`value` as the same kind as `original` (a Python float stays a float)."""
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
    if not np.allclose(value, expected, rtol=1e-12, atol=0.0, equal_nan=True):
        report.problems.append(f"value {value!r} differs from the function's {expected!r}")
    for name, grad in zip(wrt, grads):
        arg = kwargs[name]
        if np.shape(grad) != np.shape(arg):
            report.problems.append(f"d_{name} has shape {np.shape(grad)}, {name} has {np.shape(arg)}")
            continue
        if isinstance(arg, float) and not isinstance(grad, float):
            report.problems.append(f"d_{name} is a {type(grad).__name__}, {name} is a float")
        worst = 0.0
        for _ in range(directions):
            direction = rng.standard_normal(np.shape(arg))
            worst = max(worst, directional_error(f, kwargs, name, grad, direction))
        report.errors[name] = worst
    return report


def _on_copies(f: Callable[..., float]) -> Callable[..., float]:
    def called(**kwargs):
        return f(**{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})

    return called
