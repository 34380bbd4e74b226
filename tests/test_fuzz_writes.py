"""A seeded fuzzer for writes into arrays (`u[i] = ...`) inside loops and branches.

The control-flow fuzzer (test_fuzz_control.py) draws writes only now and then; this
one draws little else. Each program keeps a vector `u` (sometimes a matrix `m`
too) and changes it through `u[i] = e`, `u[i] += e`, `u[i] *= e`, `u[1:] = ...`,
`u[u > c] = e`, `u[idx] = ...` with a permutation `idx`, and whole rebindings,
in `for` loops (forward, `reversed`, from 1), `if`/`else` on values, and
`break`/`continue`. Inputs are drawn so that no comparison is within 1e-3 of a
tie. The checks are test_fuzz_control's `check_program`: the value, central
differences, `grad_f` against `value_and_grad_f`, inputs not mutated, and the same
text twice. (autograd cannot assign into its arrays, so it is not compared.)

It found a loop in one branch of an `if` reusing a variable the other branch
reads (test_control_flow.py: "array-written-in-a-loop-in-one-branch")."""

import random

import numpy as np
import pytest

from conftest import random_input
from test_fuzz_control import MARGIN, _closest_tie, check_program

# 355: the one seed of 0..399 whose program the bug above made fail
SEEDS = [*range(40), 355]


def _program(r: random.Random, n: int) -> str:
    matrix = r.random() < 0.5
    lines = ["import numpy as np", "", "", "def f(x, w: float):"]
    lines.append("    u = " + r.choice([f"np.zeros({n})", "x * 1.0", f"np.ones({n}) * w", "np.sin(x)"]))
    if matrix:
        lines.append(f"    m = np.zeros(({n}, 2))")

    def write(loops):
        i = r.choice(loops) if loops else str(r.randint(0, n - 1))
        e = r.choice([f"np.sin(x[{i}] * w)", f"u[{i}] * 0.5 + w", f"np.tanh(u[({i} + 1) % {n}]) * x[{i}]", "w * w", "np.sum(u) * 0.1"])
        kinds = [
            "u[{i}] = {e}", "u[{i}] += {e}", "u[{i}] *= 0.9 + 0.1 * np.cos({e})", "u[1:] = u[:-1] * 0.5 + {e}",
            "u[u > 0.3] = {e}", "u = u * 0.9 + np.cos(u) * 0.1", "u[np.array([0, {last}])] = u[np.array([{last}, 0])] * w",
        ]
        if matrix:
            kinds += ["m[{i} % {n}, 0] = {e}", "m[:, 1] = np.tanh(m[:, 0] + w)", "m[{i} % {n}] += u[:2] * {e}"]
        return r.choice(kinds).format(i=i, e=e, n=n, last=n - 1)

    def block(depth, loops, size):
        out, pad = [], "    " * (depth + 1)
        for _ in range(size):
            c = r.random()
            if depth < 2 and c < 0.35:
                v = f"i{depth}"
                out.append(pad + r.choice([f"for {v} in range({n}):", f"for {v} in reversed(range({n})):", f"for {v} in range(1, {n}):"]))
                out += block(depth + 1, loops + [v], r.randint(1, 3))
                if r.random() < 0.3:
                    out.append(pad + f"    if np.sum(u) > {r.choice([1.5, 3.0, -2.0])}:")
                    out.append(pad + "        " + r.choice(["break", "continue"]))
            elif depth < 3 and c < 0.5:
                out.append(pad + f"if u[0] > {r.choice([0.0, 0.5, -0.5])}:")
                out += block(depth + 1, loops, r.randint(1, 2))
                if r.random() < 0.5:
                    out.append(pad + "else:")
                    out += block(depth + 1, loops, r.randint(1, 2))
            else:
                out.append(pad + write(loops))
        return out

    lines += block(0, [], r.randint(2, 5))
    lines.append("    return np.sum(u * u) + np.sum(np.sin(u)) * w" + (" + np.sum(m ** 2)" if matrix else ""))
    return "\n".join(lines) + "\n"


def make_case(seed: int):
    """(source, inputs): a program, and inputs at which it runs, stays finite, and
    has no comparison within MARGIN of a tie."""
    r, data = random.Random(seed), np.random.default_rng(seed)
    for _ in range(50):
        n = r.randint(3, 5)
        source = _program(r, n)
        for _ in range(10):
            kwargs = {"x": random_input(data, (n,), "real"), "w": float(data.uniform(0.3, 1.2))}
            try:
                if _closest_tie(source, kwargs) >= MARGIN:
                    return source, kwargs
            except (IndexError, ValueError):
                break  # an index past the end for this n: draw another program
    raise AssertionError(f"seed {seed}: no program with inputs away from ties")


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_writes(seed):
    source, kwargs = make_case(seed)
    check_program(seed, source, ("x", "w"), kwargs)
