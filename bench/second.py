"""Benchmark rows for forward mode's other uses: Hessian-vector products on the five
losses and Jacobians of an ODE trajectory and a least-squares residual, by codegen
and by autograd and JAX (without jit), timed side by side in one process (bench/run.py
calls these; medians of interleaved rounds, every result first compared with
codegen's, so nothing wrong is timed)."""

from __future__ import annotations

import gc
import statistics
import time
import types

import numpy as np

import codegen
import peers

ODE = """\
import numpy as np


def loss(p, y0, dt=0.01, steps=500):
    ys = []
    y = y0
    for i in range(steps):
        v = np.array([y[1], -p[0] * y[0] - p[1] * y[1] + p[2] * np.sin(y[0])])
        y = y + dt * v
        ys.append(y)
    return np.stack(ys)
"""
RESIDUAL = """\
import numpy as np


def loss(w, A, b):
    return np.tanh(A @ w) - b
"""


def _load(text: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def _median_times(methods: dict, rounds: int, budget: float) -> dict:
    """Median seconds per call of each method (interleaved, each after an untimed call)."""
    first = {}
    for name, f in methods.items():
        start = time.perf_counter()
        f()
        first[name] = time.perf_counter() - start
    # A method slower than half the budget is timed once (its first call): autograd's
    # Jacobian of the ODE makes 1,000 VJPs through 500 steps, about 90 s.
    times = {name: ([first[name]] if first[name] > budget / 2 else []) for name in methods}
    for round_ in range(rounds):
        for name, f in methods.items():
            if first[name] > budget / 2 or round_ >= max(2, min(rounds, int(budget / max(first[name], 1e-9)))):
                continue
            f()
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
            gc.enable()
    return {name: statistics.median(samples) for name, samples in times.items()}


def bench_hvp(name: str, source: str, args: tuple, wrt: str, rounds: int, budget: float) -> dict:
    """HVP of one loss: codegen, autograd and JAX (no jit), as ratios to the loss alone."""
    names = wrt.split(",")
    module = _load(codegen.generate(source, "loss", names, path=f"bench/losses/{name}.py", mode="hvp"), "hvp")
    original = _load(source, "original")
    params = list(original.loss.__code__.co_varnames[: original.loss.__code__.co_argcount])
    argnums = [params.index(w) for w in names]
    rng = np.random.default_rng(2)
    vs = [float(rng.standard_normal()) if np.ndim(args[i]) == 0 else rng.standard_normal(np.shape(args[i])) for i in argnums]
    ours = module.hvp_loss(*args, **{f"v_{w}": v for w, v in zip(names, vs)})
    ours = ours if len(names) > 1 else (ours,)
    methods = {
        "loss": lambda: original.loss(*args),
        "codegen hvp": lambda: module.hvp_loss(*args, **{f"v_{w}": v for w, v in zip(names, vs)}),
    }
    problems = {}
    for label, make in (("autograd", _autograd_hvp), ("jax", _jax_hvp)):
        f = make(source, argnums)
        if f is None:
            continue
        try:
            theirs = f(args, vs)
        except Exception as error:  # a peer that cannot run this loss is reported, not timed
            problems[label] = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
            continue
        if not all(np.allclose(a, b, rtol=1e-6, atol=1e-9) for a, b in zip(ours, theirs)):
            problems[label] = "differs from codegen's"
            continue
        methods[f"{label} hvp"] = (lambda f=f: f(args, vs))
    median = _median_times(methods, rounds, budget)
    return {
        "loss_ms": round(median["loss"] * 1e3, 4),
        "over_loss": {k: round(v / median["loss"], 2) for k, v in median.items() if k != "loss"},
        "problems": problems,
    }


def _autograd_hvp(source, argnums):
    if not peers._available("autograd"):
        return None
    import autograd

    loss = peers._module(source, "import autograd.numpy as np", "autograd_hvp").loss

    def hvp(args, vs):  # reverse over reverse, as autograd's hessian_vector_product
        def along_v(*w):
            grads = autograd.grad(lambda *u: loss(*_placed(args, argnums, u)), list(range(len(argnums))))(*w)
            return sum(autograd.numpy.sum(g * v) for g, v in zip(grads, vs))

        return autograd.grad(along_v, list(range(len(argnums))))(*[args[i] for i in argnums])

    return hvp


def _jax_hvp(source, argnums):
    if not peers._available("jax"):
        return None
    import jax

    jax.config.update("jax_enable_x64", True)
    loss = peers._module(source, "import jax.numpy as np", "jax_hvp").loss

    def hvp(args, vs):
        def grad_of(*w):
            return jax.grad(lambda *u: loss(*_placed(args, argnums, u)), tuple(range(len(argnums))))(*w)

        primals = tuple(args[i] for i in argnums)
        _, tangent = jax.jvp(grad_of, primals, tuple(vs))  # forward over reverse, as JAX's docs do
        return tuple(np.asarray(t) for t in tangent)

    return hvp


def _placed(args, argnums, values):
    full = list(args)
    for i, v in zip(argnums, values):
        full[i] = v
    return full


def bench_jacobians(rounds: int, budget: float, small: bool = False) -> dict:
    """The two Jacobians of issue 13: an ODE trajectory (m = 1,000, n = 3, forward
    mode) and a residual (m = 50, n = 500, reverse mode), in milliseconds (`small`:
    20 steps and 10 x 40, for the tests)."""
    rng = np.random.default_rng(3)
    steps, (m, n) = (20, (10, 40)) if small else (500, (50, 500))
    cases = {
        f"ODE trajectory, {2 * steps:,} values of 3 parameters": (
            ODE, "p", (np.array([2.0, 0.3, 0.5]), np.array([1.0, 0.0]), 0.01, steps)),
        f"residual, {m} values of {n} parameters": (
            RESIDUAL, "w", (0.05 * rng.normal(size=n), rng.normal(size=(m, n)), rng.normal(size=m))),
    }
    out = {}
    for label, (source, wrt, args) in cases.items():
        module = _load(codegen.generate(source, "loss", [wrt], mode="jacobian"), "jacobian")
        calls = {"jvp": 0, "vjp": 0}
        jvp, vjp = module.jvp_loss, module.vjp_loss

        def counted_jvp(*a, **k):
            calls["jvp"] += 1
            return jvp(*a, **k)

        def counted_vjp(*a, **k):
            calls["vjp"] += 1
            return vjp(*a, **k)

        module.jvp_loss, module.vjp_loss = counted_jvp, counted_vjp
        ours = module.jacobian_loss(*args)
        chosen = "forward" if calls["vjp"] == 0 else "reverse"
        module.jvp_loss, module.vjp_loss = jvp, vjp
        methods = {"codegen": lambda m=module, a=args: m.jacobian_loss(*a)}
        problems = {}
        for name, f in _peer_jacobians(source).items():
            try:
                theirs = f(*args)
            except Exception as error:
                problems[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
                continue
            if not np.allclose(ours, theirs, rtol=1e-8, atol=1e-10):
                problems[name] = "differs from codegen's"
                continue
            methods[name] = (lambda f=f, a=args: f(*a))
        median = _median_times(methods, rounds, budget)
        out[label] = {"ms": {k: round(v * 1e3, 3) for k, v in median.items()}, "mode": chosen, "problems": problems}
    return out


def _peer_jacobians(source: str) -> dict:
    found = {}
    if peers._available("autograd"):
        import autograd

        loss = peers._module(source, "import autograd.numpy as np", "autograd_jacobian").loss
        found["autograd jacobian"] = autograd.jacobian(loss, 0)
    if peers._available("jax"):
        import jax

        jax.config.update("jax_enable_x64", True)
        loss = peers._module(source, "import jax.numpy as np", "jax_jacobian").loss
        found["jax jacfwd"] = lambda *a: np.asarray(jax.jacfwd(loss, 0)(*a))
        found["jax jacrev"] = lambda *a: np.asarray(jax.jacrev(loss, 0)(*a))
    return found
