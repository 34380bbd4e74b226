"""Benchmark (issue 17): codegen's generated gradients on Dask, over data no single
process holds, computed by a dask.distributed LocalCluster of worker processes.

    python bench/dask_large.py [--rows 100_000_000] [--workers 2] [--chunk 5_000_000]

Two losses, their modules generated from generated_examples/ in memory and run
unchanged on Dask arrays: the logistic loss (`rows` examples, X and y: 1.6 GB at
1e8 rows) and the MLP loss (`rows // 10` examples of 5 features, one-hot labels of
3). The data is drawn chunk by chunk on the workers (dask.array.random), never
whole in one place; each worker's memory is capped (--memory-limit, default
1.5 GiB), and its peak resident memory is read back from the worker itself.
First a small case (the same loss on 10,000 rows) is compared with NumPy to 1e-10.

To run it on a real cluster, start a scheduler and workers there (`dask scheduler`,
`dask worker tcp://HOST:8786`) and pass `--scheduler tcp://HOST:8786`: the same
generated module runs; the data is drawn where the workers are.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import codegen  # noqa: E402


def _module(example: str, function: str, wrt: str) -> dict:
    path = f"generated_examples/{example}.py"
    namespace: dict = {}
    exec(codegen.generate((ROOT / path).read_text(), function, wrt, path=path), namespace)
    return namespace


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _logistic_data(da, rows, chunk, seed):
    state = da.random.RandomState(seed)
    X = state.standard_normal(rows, chunks=chunk)
    y = (state.random_sample(rows, chunks=chunk) < 1.0 / (1.0 + da.exp(-(0.3 + 1.2 * X)))).astype(float)
    return X, y


def _mlp_data(da, rows, chunk, seed):
    state = da.random.RandomState(seed)
    X = state.standard_normal((rows, 5), chunks=(chunk, 5))
    labels = state.randint(0, 3, size=rows, chunks=chunk)
    Y = (labels[:, None] == da.arange(3)[None, :]).astype(float)
    return X, Y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--chunk", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.5GiB")
    parser.add_argument("--scheduler", help="a running cluster's scheduler address (default: a LocalCluster)")
    args = parser.parse_args()

    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    logistic = _module("logistic", "loss", "beta0,beta1")
    mlp = _module("mlp", "loss", "W1,b1,W2,b2")
    mlp_inputs = {k: v for k, v in __import__("runpy").run_path(str(ROOT / "generated_examples/mlp.py"))["example_inputs"]().items()
                  if k not in ("X", "Y")}

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=args.memory_limit, dashboard_address=None)
        client = Client(cluster)
    try:
        # the small case, against NumPy
        X, y = _logistic_data(da, 10_000, 2_500, 1)
        Xn, yn = dask.compute(X, y)
        expected = logistic["value_and_grad_loss"](0.2, -0.4, Xn, yn)
        (got,) = dask.compute(logistic["value_and_grad_loss"](0.2, -0.4, X, y))
        worst = max(abs(float(a) - float(b)) / max(1.0, abs(float(b)))
                    for a, b in zip([got[0], *got[1]], [expected[0], *expected[1]]))
        print(f"small case (10,000 rows): Dask against NumPy, worst relative difference {worst:.1e}")
        assert worst < 1e-10

        rows = []
        for name, make, call in (
            ("logistic", lambda: _logistic_data(da, args.rows, args.chunk, 2),
             lambda data: logistic["value_and_grad_loss"](0.2, -0.4, *data)),
            ("MLP", lambda: _mlp_data(da, args.rows // 10, args.chunk // 10, 3),
             lambda data: mlp["value_and_grad_loss"](**mlp_inputs, X=data[0], Y=data[1])),
        ):
            client.run(lambda: __import__("gc").collect())
            data = make()
            start = time.perf_counter()
            (result,) = dask.compute(call(data))
            seconds = time.perf_counter() - start
            peaks = client.run(_peak_rss_mib)
            n = args.rows if name == "logistic" else args.rows // 10
            nbytes = sum(int(np.prod(d.shape)) * 8 for d in data)
            rows.append((name, n, nbytes / 2**30, seconds, max(peaks.values()), float(result[0])))
        print(f"\n{'loss':<10} {'rows':>12} {'data GiB':>9} {'seconds':>8} {'peak MiB/worker':>16} {'value':>14}")
        for name, n, gib, seconds, peak, value in rows:
            print(f"{name:<10} {n:>12,} {gib:>9.2f} {seconds:>8.1f} {peak:>16.0f} {value:>14.6g}")
        print(f"\n{args.workers} worker processes, 1 thread each, memory limit {args.memory_limit} each"
              if not args.scheduler else f"\nscheduler {args.scheduler}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
