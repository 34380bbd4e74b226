"""`codegen explain` (issue 16): the lecture's table for any loss.

The seed's tables (both modes, text and Markdown) are golden files; every
generated_examples/ loss is explained and its derivative column checked against the
generated module's gradient; the CLI's inputs and errors."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import codegen
from codegen import CodegenError, generate
from codegen.evaluation import explain
from conftest import EXAMPLES, ROOT, load_file

SEED = "generated_examples/seed_chain.py"
AT = {"W": 3.0, "X": 3.0, "y": 1.0}


def _seed(mode):
    return explain((ROOT / SEED).read_text(), "loss", AT, "W", mode=mode, path=SEED,
                   user_function=load_file(ROOT / SEED).loss)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("form", ["txt", "md"])
def test_the_seed_table_is_the_golden_one(mode, form):
    table = _seed(mode)
    text = table.text() if form == "txt" else table.markdown()
    golden = ROOT / "tests" / "golden" / f"explain_seed_{mode}.{form}"
    assert text == golden.read_text(), (
        f"{golden.relative_to(ROOT)} differs; if the change is meant, write it again with "
        f"codegen explain {SEED}::loss --at W=3,X=3,y=1 --mode {mode}" + (" --format markdown" if form == "md" else "")
        + f" > {golden.relative_to(ROOT)}"
    )


def test_the_seed_table_has_the_lectures_columns():
    """The lecture's values: xi1..xi5 = -9, e^-9, 1 + e^-9, 1 / (1 + e^-9),
    log(1 / (1 + e^-9)); dxi/dW = -3, -3e^-9, -3e^-9, 3e^-9 / (1 + e^-9)^2, ...; and
    dL/dW = -0.00037018372 in both modes."""
    e = math.exp(-9.0)
    values = {"xi1": -9.0, "xi2": e, "xi3": 1 + e, "xi4": 1 / (1 + e), "xi5": math.log(1 / (1 + e))}
    tangents = {"xi1": -3.0, "xi2": -3 * e, "xi3": -3 * e, "xi4": 3 * e / (1 + e) ** 2, "xi5": 3 * e / (1 + e)}
    partials = {"xi2": e, "xi3": 1.0, "xi4": -1 / (1 + e) ** 2, "xi5": 1 + e}
    forward, reverse = _seed("forward"), _seed("reverse")
    rows = {r.name: r for r in forward.rows}
    for name, value in values.items():
        assert rows[name].value == pytest.approx(value, rel=1e-12)
        assert rows[name].derivative == pytest.approx(tangents[name], rel=1e-10)
    for name, value in partials.items():
        assert rows[name].partial_values[0] == pytest.approx(value, rel=1e-12)
    assert rows["L"].derivative == pytest.approx(-0.00037018372, abs=1e-11)
    assert reverse.rows[0].name == "W" and reverse.rows[0].derivative == pytest.approx(-0.00037018372, abs=1e-11)
    # reverse mode's adjoints: dL/dxi5 = -y, dL/dxi4 = -y / xi4, ...
    adjoints = {r.name: r.derivative for r in reverse.rows}
    assert adjoints["L"] == 1.0 and adjoints["xi5"] == -1.0
    assert adjoints["xi4"] == pytest.approx(-(1 + e), rel=1e-12)
    assert [w for w, _ in rows["xi1"].partials] == ["t1"]  # only the argument that carries a derivative


def _examples():
    out = []
    for module in sorted(EXAMPLES.glob("*_grad.py")):
        text = module.read_text()
        source = next(line for line in text.splitlines() if line.startswith("# source: "))[len("# source: "):]
        wrt = next(line for line in text.splitlines() if line.startswith("# wrt: "))[len("# wrt: "):]
        path, function = source.split("::")
        out.append((path, function, wrt.split(",")))
    return out


@pytest.mark.parametrize("path, function, wrt", _examples(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_example_explains_to_the_generated_gradient(path, function, wrt):
    """Reverse mode: the wrt rows' adjoints are the generated gradient; forward mode:
    the result's tangent is the gradient along the seed (the first element of the
    first wrt argument)."""
    source = (ROOT / path).read_text()
    user = load_file(ROOT / path)
    inputs = user.example_inputs()
    module = {}
    exec(generate(source, function, wrt, path=path), module)
    grads = module[f"grad_{function}"](**inputs)
    grads = grads if len(wrt) > 1 else (grads,)
    reverse = explain(source, function, inputs, wrt, mode="reverse", path=path, user_function=getattr(user, function))
    assert reverse.value == pytest.approx(reverse.user_value, rel=1e-12)
    carried = {r.name: r.derivative for r in reverse.rows if r.kind == "input"}
    for name, grad in zip(wrt, grads):
        np.testing.assert_allclose(_leaves(carried[name]), _leaves(grad), rtol=1e-12, atol=1e-14)
    forward = explain(source, function, inputs, wrt, mode="forward", path=path)
    first = np.ravel(_leaves(grads[0]))
    last = forward.rows[-1]
    assert last.kind == "result" and last.derivative is forward.derivative
    assert float(forward.derivative) == pytest.approx(first[0], rel=1e-10, abs=1e-13)
    assert reverse.text() and forward.markdown() and "<table>" in forward.html()


def _leaves(value):
    from codegen.verify import flatten

    return flatten(value)[0]


def test_a_loop_shows_its_count_and_last_run():
    source = "import numpy as np\n\n\ndef f(x, n: int):\n    for i in range(n):\n        x = np.sin(x) * 1.5\n    return x\n"
    table = explain(source, "f", {"x": 0.3, "n": 4}, "x", mode="forward")
    loop = [r for r in table.rows if r.definition.startswith("np.sin")]
    assert loop and loop[0].count == 4
    assert "(×4)" in table.text()
    runs = explain(source, "f", {"x": 0.3, "n": 4}, "x", mode="forward", iterations=True)
    text = runs.text()
    x, t = 0.3, 1.0
    for k in range(4):  # each run's value and tangent, as the loop computes them
        t, x = t * np.cos(x), np.sin(x)
        assert f"run {k + 1}" in text
        row = [r for r in runs.rows if r.definition.startswith("np.sin")][0]
        assert row.runs[k][0] == pytest.approx(x) and row.runs[k][1] == pytest.approx(t)
        x, t = 1.5 * x, 1.5 * t


def test_the_api_takes_a_function():
    user = load_file(ROOT / SEED)
    table = codegen.explain(user.loss, AT, "W")
    assert table.rows[0].derivative == pytest.approx(-0.00037018372, abs=1e-11)
    assert "<table>" in table._repr_html_()


def _cli(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "codegen", "explain", *args], cwd=cwd, capture_output=True,
                          text=True, env=env)


def test_cli_at_values_and_at_a_maker(tmp_path):
    run = _cli(f"{SEED}::loss", "--at", "W=3,X=3,y=1", "--mode", "forward")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (ROOT / "tests" / "golden" / "explain_seed_forward.txt").read_text()
    out = tmp_path / "table.html"
    run = _cli(f"{SEED}::loss", "--at", f"{SEED}::example_inputs", "--format", "html", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_text().startswith("<!DOCTYPE html>") and "xi5" in out.read_text()


@pytest.mark.parametrize("at, words", [
    ("W=3,X", "is not NAME=NUMBER"),
    ("W=3,X=3", "no value for y"),
    ("W='a',X=3,y=1", "is not NAME=NUMBER"),
])
def test_cli_bad_inputs_exit_2(at, words):
    run = _cli(f"{SEED}::loss", "--at", at)
    assert run.returncode == 2 and words in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_explain_refuses_an_unknown_mode():
    with pytest.raises(CodegenError, match="not one of reverse, forward"):
        explain((ROOT / SEED).read_text(), "loss", AT, "W", mode="sideways")


def test_the_readme_shows_the_golden_seed_table():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("<!-- explain-seed -->"):]
    block = block[block.index("```\n") + 4:]
    block = block[: block.index("```")]
    command, _, table = block.partition("\n")
    assert command.startswith("$ codegen explain")
    assert table == (ROOT / "tests" / "golden" / "explain_seed_forward.txt").read_text()


def test_cli_never_writes_over_the_loss():
    before = (ROOT / SEED).read_bytes()
    run = _cli(f"{SEED}::loss", "--at", "W=3,X=3,y=1", "-o", SEED)
    assert run.returncode == 2 and "names an input" in run.stderr
    assert (ROOT / SEED).read_bytes() == before
