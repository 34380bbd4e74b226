"""Benchmark: the value and gradient of five losses, by codegen and by the tools
people use instead, timed side by side in one process.

    python bench/run.py [--size full|small] [--rounds 15] [--json bench/results.json]

For each loss it times, interleaved round by round (so that a noisy machine slows
every column alike; each timed call follows an untimed one of the same method): the loss alone, a hand-written NumPy value+gradient, codegen's
`value_and_grad_loss` and `grad_loss`, its forward mode's `jvp_loss` (checked against
grad . t), and, when installed, autograd, JAX (with and
without jit; jit compile time is reported apart) and PyTorch (CPU, float64). Every
method's gradient is first compared with the hand-written one, so nothing wrong is
timed. It prints medians as ratios to the hand-written code, the peak memory of the
loss and of codegen's value_and_grad (tracemalloc), the time codegen takes to
generate each example and a synthetic long function, the versions and thread
settings; then (bench/second.py) each loss's Hessian-vector product by codegen,
autograd and JAX, and the Jacobians of an ODE trajectory and of a residual (unless
--no-second-order), and the build workflow's commands (bench/workflow.py: --version, a
cold generate, build and check of ten targets); and writes all of it as JSON. `python bench/plot.py` draws the JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
import tracemalloc
import types
from pathlib import Path

if "--threads" in sys.argv[:-1]:  # BLAS reads these when NumPy loads, so before that
    _count = sys.argv[sys.argv.index("--threads") + 1]
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = _count

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if not (ROOT / "codegen").is_dir():  # run from an install, not a checkout
    ROOT = None

import hand  # noqa: E402
import peers  # noqa: E402
import second  # noqa: E402
import workflow  # noqa: E402

import codegen  # noqa: E402

SIZES = {
    "full": {"logistic": 1_000_000, "logreg": (200_000, 50), "mlp": 20_000, "rosenbrock": 1_000_000, "recurrence": 1000},
    "small": {"logistic": 2_000, "logreg": (400, 8), "mlp": 64, "rosenbrock": 2_000, "recurrence": 30},
}
DESCRIPTIONS = {
    "logistic": "logistic, N scalars (the seed's loss)",
    "logreg": "logistic regression, N x D",
    "mlp": "MLP 64-128-10, tanh, softmax CE",
    "rosenbrock": "Rosenbrock sum over N (slices)",
    "recurrence": "scalar recurrence, N steps",
}
WRT = {"logistic": "beta0,beta1", "logreg": "w,b", "mlp": "W1,b1,W2,b2", "rosenbrock": "x", "recurrence": "x,a"}
METHODS = ["loss", "hand", "codegen value_and_grad", "codegen unannotated", "codegen grad", "codegen jvp", "autograd", "jax", "jax.jit", "torch",
           "codegen on torch"]


def inputs(name: str, size, rng: np.random.Generator) -> tuple:
    if name == "logistic":
        X = rng.normal(size=size)
        y = (rng.random(size) < 1 / (1 + np.exp(-(0.5 + 2.0 * X)))).astype(float)
        return (0.1, -0.4, X, y)
    if name == "logreg":
        n, d = size
        X = rng.normal(size=(n, d))
        y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(size=d)))).astype(float)
        return (0.1 * rng.normal(size=d), 0.2, X, y)
    if name == "mlp":
        X = rng.normal(size=(size, 64))
        Y = np.eye(10)[rng.integers(0, 10, size=size)]
        return (0.1 * rng.normal(size=(64, 128)), 0.1 * rng.normal(size=128),
                0.1 * rng.normal(size=(128, 10)), 0.1 * rng.normal(size=10), X, Y)
    if name == "rosenbrock":
        return (rng.uniform(-1.5, 1.5, size=size),)
    return (0.3, 0.9, size)


def _load(text: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def methods_for(name: str, source: str) -> dict:
    """Every available way to compute this loss's value and gradient."""
    argnums = tuple(range(len(WRT[name].split(","))))
    generated = _load(codegen.generate(source, "loss", WRT[name], path=f"bench/losses/{name}.py"), "generated")
    forward = _load(codegen.generate(source, "loss", WRT[name], path=f"bench/losses/{name}.py", mode="forward"), "forward")
    original = _load(source, "original")
    jax_plain, jax_jit = peers.jax_versions(source, argnums, static=(2,) if name == "recurrence" else ())
    found = {
        "loss": lambda *a: (original.loss(*a), None),
        "hand": getattr(hand, name),
        "codegen value_and_grad": generated.value_and_grad_loss,
        "codegen grad": lambda *a: (None, generated.grad_loss(*a)),
        "codegen jvp": _jvp_method(forward.jvp_loss, WRT[name].split(",")),
        "autograd": peers.autograd_version(source, argnums),
        "jax": jax_plain,
        "jax.jit": jax_jit,
        "torch": peers.torch_version(name, argnums),
        "codegen on torch": _on_tensors(generated.value_and_grad_loss),
    }
    plain = re.sub(r"(\w+): (float|int)", r"\1", source)  # the loss as most people write it
    if plain != source:  # (issue 18: unannotated numbers take a body generated for numbers)
        found["codegen unannotated"] = _load(codegen.generate(plain, "loss", WRT[name]), "plain").value_and_grad_loss
    return {k: v for k, v in found.items() if v is not None}


def _on_tensors(value_and_grad):
    """The generated value_and_grad called with float64 CPU tensors (made once from
    the arrays, sharing their memory; torch's own column wraps them each call with
    torch.as_tensor, which copies nothing either), or None without torch (issue 17)."""
    try:
        import torch
    except ImportError:
        return None
    made = {}

    def method(*args):
        if made.get("args") is None or made["of"] is not args:
            made["of"] = args
            made["args"] = tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args)
        return value_and_grad(*made["args"])

    return method


def _jvp_method(jvp, wrt):
    """`jvp_loss` along fixed random tangents, as a method: (value, None), and the
    tangent it gave kept on the function (checked against grad · t before timing)."""
    import inspect

    names = list(inspect.signature(jvp).parameters)[-len(wrt):]
    made = {}

    def method(*args):
        if not made:
            params = list(inspect.signature(jvp).parameters)
            rng = np.random.default_rng(1)
            for w, t in zip(wrt, names):
                arg = args[params.index(w)]
                made[t] = float(rng.standard_normal()) if np.ndim(arg) == 0 else rng.standard_normal(np.shape(arg))
        value, tangent = jvp(*args, **made)
        method.tangent = tangent
        return value, None

    method.tangents = made
    method.order = names
    return method


def _agrees(grads, reference) -> bool:
    grads = grads if isinstance(grads, tuple) else (grads,)
    return len(grads) == len(reference) and all(
        np.allclose(np.asarray(g, dtype=float), r, rtol=1e-6, atol=1e-9) for g, r in zip(grads, reference)
    )


def bench_loss(name: str, size, rounds: int, budget: float, only=None) -> dict:
    source = (HERE / "losses" / f"{name}.py").read_text()
    args = inputs(name, size, np.random.default_rng(0))
    methods = methods_for(name, source)
    if only:
        methods = {m: f for m, f in methods.items() if m in only or m in ("hand", "loss", "codegen value_and_grad")}
    _, reference = hand.__dict__[name](*args)
    reference = reference if isinstance(reference, tuple) else (reference,)
    result = {"description": DESCRIPTIONS[name], "size": size, "median_ms": {}, "ratio": {}, "rounds": {},
              "problems": {}, "peak_mb": {}}
    first = {}
    for method, f in list(methods.items()):
        start = time.perf_counter()
        try:
            value, grads = f(*args)  # warm-up (and, for jax.jit, compilation)
        except Exception as error:  # a peer that cannot run this loss is reported, not timed
            result["problems"][method] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
            del methods[method]
            continue
        first[method] = time.perf_counter() - start
        if method == "jax.jit":
            result["jit_compile_s"] = round(first[method], 3)
        if grads is not None and method != "hand" and not _agrees(grads, reference):
            result["problems"][method] = "gradient differs from the hand-written one"
            del methods[method]
        if method == "codegen jvp":  # the tangent against grad · t from the hand-written gradient
            dot = sum(float(np.sum(np.asarray(g) * f.tangents[t])) for g, t in zip(reference, f.order))
            if not np.isclose(float(np.sum(f.tangent)), dot, rtol=1e-6, atol=1e-9):
                result["problems"][method] = f"tangent {float(np.sum(f.tangent))!r} differs from grad . t {dot!r}"
                del methods[method]
    times = {m: [] for m in methods}
    limit = {m: max(3, min(rounds, int(budget / max(first[m], 1e-9)))) for m in methods}
    # A sample of a short call is several calls in a row (at least ~20 ms): a single
    # 0.3 ms call swings by 10-20% on this kind of machine from one call to the next.
    calls = {}
    for method, f in methods.items():
        start = time.perf_counter()
        f(*args)
        calls[method] = max(1, min(200, round(0.02 / max(time.perf_counter() - start, 1e-9))))
    for round_ in range(rounds):
        for method, f in methods.items():
            if round_ < limit[method]:
                if first[method] < 0.2:
                    # An untimed call first: what the previous method left behind (a
                    # peer's threads or caches slowed short calls after it 10-fold)
                    # falls on it, not on the timed call.
                    f(*args)
                gc.collect()
                gc.disable()  # as timeit does: a collection would land on whoever runs next
                start = time.perf_counter()
                for _ in range(calls[method]):
                    f(*args)
                times[method].append((time.perf_counter() - start) / calls[method])
                gc.enable()
    base = statistics.median(times["hand"])
    if "codegen jvp" in times:  # the bar: a JVP within 2x the function alone
        result["jvp_over_loss"] = round(statistics.median(times["codegen jvp"]) / statistics.median(times["loss"]), 3)
    for method, samples in times.items():
        median = statistics.median(samples)
        result["median_ms"][method] = round(median * 1e3, 4)
        result["ratio"][method] = round(median / base, 3)
        result["rounds"][method] = len(samples)
        result.setdefault("calls_per_sample", {})[method] = calls[method]
    for method in ("loss", "hand", "codegen value_and_grad"):
        tracemalloc.start()
        methods[method](*args)
        result["peak_mb"][method] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
        tracemalloc.stop()
    return result


def synthetic_source(lines: int) -> str:
    """A straight-line function of about `lines` lines, one or two primitives each.

    Its names have one width at every size (`a0001`, up to 10,000 lines), so a long
    function differs from a short one only in how many lines it has. With `a1`,
    `a4390`, ... the longer names made more generated lines cross Black's 88
    columns: the 5,000-line function's output had 1,353 statements Black had to
    split, the 1,000-line one's 25, and its Black time per line was 1.7x as much."""
    name = "a{:04d}".format
    body = [f"    {name(0)} = x * w"]
    for i in range(1, lines - 1):
        previous = name(i - 1)
        body.append(
            [
                f"    {name(i)} = np.sin({previous}) + 0.5 * {previous}",
                f"    {name(i)} = {previous} * w - np.tanh({previous})",
                f"    {name(i)} = np.exp(-{previous} * {previous}) + {previous}",
            ][i % 3]
        )
    body.append(f"    return np.sum({name(lines - 2)})")
    return "import numpy as np\n\n\ndef f(x, w):\n" + "\n".join(body) + "\n"


def bench_generation(repeat: int = 5, sizes=(100, 1000, 5000), long_repeat: int = 3) -> dict:
    """Seconds to generate (parse to formatted module), warm, median of `repeat`.

    For the synthetic function, the smallest size is timed before and after every run
    of the larger ones, and its median over all of them is the baseline: this machine's
    speed drifts by half over minutes, and a ratio is only fair between times taken
    over the same stretch."""
    codegen.generate(synthetic_source(10), "f", "x,w")  # warm: templates parsed, Black imported
    out = {"examples": {}}
    examples = (ROOT / "generated_examples") if ROOT else None
    for path in sorted(examples.glob("*_grad.py")) if examples else []:
        header = path.read_text()
        source_path = header.split("# source: ", 1)[1].split("::")[0]
        function = header.split("# source: ", 1)[1].split("::", 1)[1].split("\n")[0]
        wrt = header.split("# wrt: ", 1)[1].split("\n")[0]
        text = (ROOT / source_path).read_text()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            codegen.generate(text, function, wrt, path=source_path)
            samples.append(time.perf_counter() - start)
        out["examples"][path.stem.removesuffix("_grad")] = round(statistics.median(samples), 4)

    def timed(lines: int) -> float:
        text = synthetic_source(lines)
        start = time.perf_counter()
        codegen.generate(text, "f", "x,w")
        return time.perf_counter() - start

    small, larger = sizes[0], sizes[1:]
    samples = {lines: [] for lines in sizes}
    samples[small] += [timed(small) for _ in range(repeat)]
    for _ in range(long_repeat):
        for lines in larger:
            samples[lines].append(timed(lines))
            samples[small] += [timed(small) for _ in range(repeat)]
    out["samples"] = {str(lines): [round(t, 3) for t in samples[lines]] for lines in sizes}  # the spread
    for lines in sizes:
        out[f"{lines} lines"] = round(statistics.median(samples[lines]), 4)
    out["ms per line"] = {str(lines): round(1000 * out[f"{lines} lines"] / lines, 2) for lines in sizes}
    out[f"{sizes[-1]} / {small}"] = round(out[f"{sizes[-1]} lines"] / out[f"{small} lines"], 1)
    return out


def generation_in_fresh_process() -> dict:
    """bench_generation, run by a new Python process: as `codegen generate` runs in a
    build, and clear of what the runtime benchmark leaves behind in this one (the
    peers' thread pools, a heap grown by their imports and arrays). In this process,
    after the runtime benchmark, the 5,000-line function took 17.8 ms a line; in a
    fresh one, 15.6 ms (one run of each)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "generation.json"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generation-only", str(target)], check=True)
        return json.loads(target.read_text())


def set_threads(count: int) -> None:
    """The same number of threads for NumPy's BLAS, JAX (XLA) and PyTorch."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(count)
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={count}"
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(count)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(count)
    except ImportError:
        pass


def environment() -> dict:
    threads = {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    threads["cpu_count"] = os.cpu_count()
    try:
        import torch

        threads["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {"codegen": codegen.__version__, **peers.versions()},
        "threads": threads,
    }


def table(results: dict) -> str:
    columns = [m for m in METHODS if any(m in r["ratio"] for r in results.values())]
    head = ["loss", "hand (ms)"] + [m for m in columns if m != "hand"] + ["peak MB loss", "peak MB v&g"]
    rows = [head, ["---"] * len(head)]
    for r in results.values():
        row = [f"{r['description']} ({r['size']})", f"{r['median_ms']['hand']:.3g}"]
        for m in columns:
            if m == "hand":
                continue
            row.append(f"{r['ratio'][m]:.2f}" if m in r["ratio"] else ("wrong" if m in r["problems"] else "-"))
        row += [f"{r['peak_mb']['loss']:.1f}", f"{r['peak_mb']['codegen value_and_grad']:.1f}"]
        rows.append(row)
    return "\n".join("| " + " | ".join(str(c) for c in row) + " |" for row in rows)


def _second_table(head: list, columns: list, rows: dict, number: str) -> str:
    """A Markdown table: per row its label, one more cell, a number per column
    ("-" where that method did not run), then each peer's problem on a line."""
    lines = ["| " + " | ".join(head + columns) + " |", "|---" * (len(head) + len(columns)) + "|"]
    notes = []
    for label, (cell, values, problems) in rows.items():
        cells = [number.format(values[c]) if c in values else "-" for c in columns]
        lines.append(f"| {label} | {cell} | " + " | ".join(cells) + " |")
        notes += [f"{label}: {peer}: {problem} (not timed)" for peer, problem in problems.items()]
    return "\n".join(lines + notes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="threads for every library (set before they load)")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per method and loss, at most")
    parser.add_argument("--json", default=str(HERE / "results.json"))
    parser.add_argument("--only", nargs="*", default=list(SIZES["full"]))
    parser.add_argument("--methods", nargs="*", help="time only these columns (and hand, loss and codegen value_and_grad, which the table reads)")
    parser.add_argument("--no-generation", action="store_true")
    parser.add_argument("--no-second-order", action="store_true", help="skip the HVP and Jacobian rows")
    parser.add_argument("--generation-only", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generation_only:
        Path(args.generation_only).write_text(json.dumps(bench_generation()))
        return 0
    if args.threads:
        set_threads(args.threads)

    report = {"size": args.size, **environment(), "results": {}}
    for name in args.only:
        report["results"][name] = bench_loss(name, SIZES[args.size][name], args.rounds, args.budget, args.methods)
        print(f"{name}: done", file=sys.stderr)
    if not args.no_second_order:
        report["hvp"] = {
            name: second.bench_hvp(name, (HERE / "losses" / f"{name}.py").read_text(),
                                   inputs(name, SIZES[args.size][name], np.random.default_rng(0)), WRT[name],
                                   args.rounds, args.budget)
            for name in args.only
        }
        print("hvp: done", file=sys.stderr)
        report["jacobians"] = second.bench_jacobians(args.rounds, args.budget, small=args.size == "small")
        print("jacobians: done", file=sys.stderr)
    if not args.no_generation:
        report["generation_s"] = generation_in_fresh_process()
        report["workflow_s"] = workflow.workflow_timings()
    print(f"codegen {report['versions']['codegen']}, Python {report['python']} ({report['machine']}); "
          + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if k != "codegen"))
    print("threads: " + ", ".join(f"{k}={v}" for k, v in report["threads"].items()))
    print("Value and gradient: median time as a ratio to the hand-written NumPy code (lower is faster).\n")
    print(table(report["results"]))
    for name, r in report["results"].items():
        for method, problem in r["problems"].items():
            print(f"{name}: {method}: {problem} (not timed)")
        if "jit_compile_s" in r:
            print(f"{name}: jax.jit compiled in {r['jit_compile_s']} s (not in its time)")
    print("\nForward mode: codegen jvp time over the loss alone: " + ", ".join(
        f"{name} {r['jvp_over_loss']:.2f}" for name, r in report["results"].items() if "jvp_over_loss" in r))
    if "hvp" in report:
        print("\nHessian-vector product: median time over the loss alone (lower is faster).\n")
        rows = {DESCRIPTIONS[n]: (f"{r['loss_ms']:.3g}", r["over_loss"], r["problems"]) for n, r in report["hvp"].items()}
        print(_second_table(["loss", "loss (ms)"], ["codegen hvp", "autograd hvp", "jax hvp"], rows, "{:.2f}"))
        print("\nJacobians: median milliseconds (lower is faster); codegen's mode is the one it chose.\n")
        rows = {label: (r["mode"], r["ms"], r["problems"]) for label, r in report["jacobians"].items()}
        print(_second_table(["function", "mode"], ["codegen", "autograd jacobian", "jax jacfwd", "jax jacrev"], rows, "{:.3g}"))
    if "generation_s" in report:
        g = report["generation_s"]
        print("\nGeneration (parse to formatted module), seconds: "
              + ", ".join(f"{k} {v}" for k, v in g["examples"].items()))
        sizes = list(g["ms per line"])
        print("synthetic straight-line function: "
              + ", ".join(f"{n} lines {g[f'{n} lines']} s ({g['ms per line'][n]} ms/line)" for n in sizes)
              + f"; {sizes[-1]} / {sizes[0]} lines: {g[f'{sizes[-1]} / {sizes[0]}']}x")
    if "workflow_s" in report:
        print("\nBuild workflow (bench/workflow.py): median wall time of fresh processes.\n")
        print(workflow.table(report["workflow_s"]))
    Path(args.json).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
