"""Draw bench/results.json (from run.py) as bench/results.png: for each loss, the
time of each method as a ratio to the hand-written NumPy value+gradient (log scale).

    python bench/plot.py [results.json] [results.png]
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
ORDER = ["loss", "codegen value_and_grad", "codegen grad", "autograd", "jax", "jax.jit", "torch"]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    source = Path(argv[0]) if argv else HERE / "results.json"
    target = Path(argv[1]) if len(argv) > 1 else HERE / "results.png"
    report = json.loads(source.read_text())
    results = report["results"]
    methods = [m for m in ORDER if any(m in r["ratio"] for r in results.values())]
    figure, axes = plt.subplots(figsize=(11, 4.8), dpi=110)
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        xs = [j + (i - (len(methods) - 1) / 2) * width for j in range(len(results))]
        ys = [r["ratio"].get(method, float("nan")) for r in results.values()]
        axes.bar(xs, ys, width, label=method)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(results)))
    axes.set_xticklabels([r["description"] for r in results.values()], fontsize=8)
    axes.set_ylabel("time / hand-written NumPy (log scale)")
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    axes.set_title(f"Value and gradient, median of one run ({report['size']} sizes)\n{versions}", fontsize=9)
    axes.legend(fontsize=8, ncol=4)
    figure.tight_layout()
    figure.savefig(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
