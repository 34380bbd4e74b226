"""The benchmark script runs (on tiny sizes: this is not a timed test), its
hand-written references are right, and chunked formatting equals Black's."""

import json
import sys

import black
import codegen
import numpy as np
import pytest

from codegen.emit import BLACK_MODE, format_functions
from codegen.verify import check_gradient
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import hand  # noqa: E402
import run  # noqa: E402


def test_benchmark_runs_on_tiny_sizes(tmp_path, capsys):
    out = tmp_path / "results.json"
    # two losses of the five (an array loss and the scalar loop: every column runs on
    # them), so that the default test run stays short; `python bench/run.py --size
    # small` runs all five
    assert run.main(["--size", "small", "--rounds", "2", "--no-generation", "--json", str(out),
                     "--only", "logistic", "recurrence"]) == 0
    printed = capsys.readouterr().out
    assert "| loss | hand (ms) |" in printed and "codegen value_and_grad" in printed
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"logistic", "recurrence"}
    assert "codegen unannotated" in report["results"]["recurrence"]["ratio"]
    for result in report["results"].values():
        assert result["ratio"]["hand"] == 1.0 and "codegen grad" in result["ratio"]
        assert not any(m.startswith("codegen") for m in result["problems"])
        assert result["peak_mb"]["codegen value_and_grad"] >= 0


@pytest.mark.parametrize("name", ["logistic", "logreg", "mlp", "rosenbrock", "recurrence"])
def test_hand_written_gradients_match_finite_differences(name):
    args = run.inputs(name, run.SIZES["small"][name], np.random.default_rng(1))
    source = (ROOT / "bench" / "losses" / f"{name}.py").read_text()
    namespace = {}
    exec(source, namespace)
    params = list(namespace["loss"].__code__.co_varnames[: len(args)])
    wrt = run.WRT[name].split(",")

    def value_and_grad(**kwargs):
        value, grads = getattr(hand, name)(*kwargs.values())
        return value, grads if len(wrt) > 1 else grads

    kwargs = dict(zip(params, args))
    report = check_gradient(namespace["loss"], value_and_grad, kwargs, wrt)
    assert report.ok, str(report)


def test_generation_timing_runs():
    timings = run.bench_generation(repeat=1, sizes=(20, 40, 60), long_repeat=1)
    assert timings["60 lines"] > 0 and timings["examples"]
    assert set(timings["ms per line"]) == {"20", "40", "60"} and "60 / 20" in timings


def test_chunked_formatting_is_blacks():
    # Statements go to Black once each, between marker comments, ~chunk lines at a
    # time; the result must be Black's on each whole function. The second function
    # repeats most of the first (as grad_f does value_and_grad_f), ends in comments,
    # and has no docstring.
    first = (
        ["def value_and_grad_f(x, long_parameter_name_one, long_parameter_name_two, long_parameter_three):", '    """Doc."""']
        + [f"    a{i} = x*{i}+np.sin( x )" for i in range(450)]
        + ["    # a comment", "    if x:", "        y=1", "    # between", "    else:", "        y=2"]
        + ["    d_w = d_w + _unbroadcast(d_a4390 * a4389, w, a0) + _unbroadcast(d_a4387 * a4386, w, a0)"]
        + ["    return y"]
    )
    second = ["def grad_f(x):"] + first[2:300] + ["    # only comments left", "    # for the last chunk", "    return (y)"]
    expected = [black.format_str("\n".join(lines) + "\n", mode=BLACK_MODE) for lines in (first, second)]
    assert format_functions([first, second], chunk=100) == expected


# Peak memory is counted by tracemalloc, deterministically (no timing). The sizes are
# above NumPy's 256 KiB threshold for reusing temporaries in place, as in the benchmark.
@pytest.mark.parametrize("name, size, bound", [("logreg", (100_000, 5), 2.0), ("rosenbrock", 1_000_000, 1.51), ("mlp", 20_000, 1.51)])
def test_value_and_grad_peak_memory_stays_near_the_losss(name, size, bound):
    import tracemalloc

    source = (ROOT / "bench" / "losses" / f"{name}.py").read_text()
    args = run.inputs(name, size, np.random.default_rng(2))
    generated = run._load(codegen.generate(source, "loss", run.WRT[name], path=f"{name}.py"), "generated")
    original = run._load(source, "original")
    peaks = []
    for f in (original.loss, generated.value_and_grad_loss):
        f(*args)
        tracemalloc.start()
        f(*args)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Forward arrays that the reverse sweep needs only the shapes of are let go
    # (`_shape_only`); without that, logreg's ratio was 2.3 and the MLP's 2.5. The tanh
    # adjoint is written so NumPy reuses its temporaries (MLP: 3 N x 128 arrays at the
    # peak, 1.50x; it was 4, 2.00x). Rosenbrock's `1.0 - x[:-1]` is computed again in the
    # reverse sweep rather than kept (three N-sized arrays at the peak, 1.50x; it was
    # four, 2.00x). The bounds leave a few hundred bytes of margin and no more.
    assert peaks[1] <= bound * peaks[0], f"{peaks[1] / peaks[0]:.2f}x the loss's peak"


def test_chunked_formatting_leaves_no_black_trees_behind():
    # Black's trees are cycles; generation pauses the cyclic collector, so format_functions
    # collects each chunk's tree itself (without that, 450 lines left ~10^5 objects).
    import gc

    lines = ["def f(x):"] + [f"    a{i} = x*{i}+np.sin( x )" for i in range(450)]
    gc.collect()
    gc.disable()
    try:
        format_functions([lines], chunk=100)
        left = gc.collect()
    finally:
        gc.enable()
    assert left < 1000, f"{left} objects in cycles left behind"


def test_generation_leaves_little_for_the_cyclic_collector():
    # Generation pauses the collector, so objects in reference cycles pile up until it
    # returns, and a large heap slowed every stage per line. ast.literal_eval left ~70
    # such objects per source line (its closures); cached, the IR's own ~25 remain.
    import gc

    text = run.synthetic_source(300)
    codegen.generate(text, "f", "x,w")
    gc.collect()
    gc.disable()
    try:
        codegen.generate(text, "f", "x,w")
        left = gc.collect()
    finally:
        gc.enable()
    assert left < 40 * 300, f"{left} objects in cycles for 300 lines"


def test_synthetic_function_lines_do_not_lengthen_with_its_size():
    # The generation benchmark compares a 5,000-line function with a 100-line one:
    # their lines must be alike, or it measures longer names (a4390 against a43:
    # Black had 1,353 statements to split in the long one, against 25 in 1,000 lines).
    def widths(lines):
        body = run.synthetic_source(lines).splitlines()[4:-1]
        return {len(line) for line in body}

    assert widths(5000) == widths(100)
