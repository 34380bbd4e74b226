"""generated_examples/: golden files, gradients and the lecture's number.

Each `<name>_grad.py` is regenerated from the source its header names and compared
byte for byte; its gradient is checked at the source's `example_inputs()` against
finite differences (1e-6) and autograd (1e-10)."""

import difflib
import re

import numpy as np
import pytest

from codegen import generate
from codegen.verify import check_gradient, flatten, structure_problems
from conftest import EXAMPLES, ROOT, autograd_version, load_file

MODULES = sorted(EXAMPLES.glob("*_grad.py"))
JVP_MODULES = sorted(EXAMPLES.glob("*_jvp.py"))  # forward mode (tests/test_forward.py checks them)


def _header(module_path):
    text = module_path.read_text()
    source = re.search(r"^# source: (.+)::(\w+)$", text, re.M)
    wrt = re.search(r"^# wrt: (.+)$", text, re.M)
    return source[1], source[2], wrt[1].split(",")


def _mode(module_path) -> str:
    found = re.search(r"^# mode: (.+)$", module_path.read_text(), re.M)
    return found[1] if found else "reverse"


def test_every_example_has_its_module():
    sources = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.endswith(("_grad", "_jvp"))}
    generated = {p.stem[: -len("_grad")] for p in MODULES}
    assert sources == generated
    assert len(MODULES) >= 3


@pytest.mark.parametrize("module_path", MODULES + JVP_MODULES, ids=lambda p: p.name)
def test_golden_file_is_up_to_date(module_path):
    path, function, wrt = _header(module_path)
    committed = module_path.read_text()
    mode = _mode(module_path)
    fresh = generate((ROOT / path).read_text(), function, wrt, path=path, mode=mode)
    if fresh != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(True), fresh.splitlines(True), "committed", "generated now"
            )
        )
        relative = module_path.relative_to(ROOT).as_posix()
        pytest.fail(
            f"{relative} is stale:\n{diff}\nRegenerate it (from the repository root) with:\n"
            f"  codegen generate {path}::{function} --wrt {','.join(wrt)}"
            + ("" if mode == "reverse" else f" --mode {mode}") + f" -o {relative}"
        )


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_example_matches_finite_differences(module_path):
    path, function, wrt = _header(module_path)
    source = load_file(ROOT / path)
    generated = load_file(module_path)
    kwargs = source.example_inputs()
    report = check_gradient(
        getattr(source, function), getattr(generated, f"value_and_grad_{function}"), kwargs, wrt,
        directions=8,
    )
    assert report.ok, str(report)
    value, _ = getattr(generated, f"value_and_grad_{function}")(**kwargs)
    assert value == getattr(source, function)(**kwargs)


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_example_matches_autograd(module_path):
    autograd = pytest.importorskip("autograd")
    path, function, wrt = _header(module_path)
    source_text = (ROOT / path).read_text()
    inputs = load_file(ROOT / path).example_inputs()
    generated = load_file(module_path)
    ours = getattr(generated, f"grad_{function}")(**inputs)
    ours = (ours,) if len(wrt) == 1 else ours
    f = getattr(autograd_version(source_text), function)
    names = list(inputs)
    for name, mine in zip(wrt, ours):
        theirs = autograd.grad(f, names.index(name))(*inputs.values())
        # a parameter tree (mlp_params.py): the same structure, then leaf by leaf
        assert structure_problems(f"d_{name}", mine, theirs) == []
        np.testing.assert_allclose(flatten(mine)[0], flatten(theirs)[0], rtol=1e-10, atol=0, err_msg=f"d/d{name}")


def test_seed_number_from_the_lecture():
    """X=3, y=1, W=3: dL/dW = -0.00037018372 (the lecture's table, to 1e-11)."""
    generated = load_file(EXAMPLES / "seed_chain_grad.py")
    assert abs(generated.grad_loss(W=3.0, X=3.0, y=1.0) - (-0.00037018372)) < 1e-11
    one_line = "import numpy as np\ndef loss(W, X, y):\n    return -y * np.log(1 / (1 + np.exp(-W * X)))\n"
    namespace = {}
    exec(generate(one_line, "loss", "W"), namespace)
    assert abs(namespace["grad_loss"](3.0, 3.0, 1.0) - (-0.00037018372)) < 1e-11


def test_logistic_value_and_gradient():
    """The seed's full loss with --wrt beta0,beta1: the value is the loss, the gradient
    is the lecture's closed form sum((p - y) * [1, X])."""
    source = load_file(EXAMPLES / "logistic.py")
    generated = load_file(EXAMPLES / "logistic_grad.py")
    inputs = source.example_inputs()
    value, (d_beta0, d_beta1) = generated.value_and_grad_loss(**inputs)
    assert value == source.loss(**inputs)
    p = 1 / (1 + np.exp(-(inputs["beta0"] + inputs["beta1"] * inputs["X"])))
    np.testing.assert_allclose(d_beta0, np.sum(p - inputs["y"]), rtol=1e-12)
    np.testing.assert_allclose(d_beta1, np.sum((p - inputs["y"]) * inputs["X"]), rtol=1e-12)
    assert isinstance(d_beta0, float) and isinstance(d_beta1, float)


def test_data_arguments_get_no_adjoint_code():
    text = (EXAMPLES / "logistic_grad.py").read_text()
    assert "d_X" not in text and "d_y" not in text


def test_grad_only_skips_the_logs():
    """The logistic loss's gradient never reads log(p) or log(1 - p)."""
    text = (EXAMPLES / "logistic_grad.py").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    value_and_grad, grad_only = code.split("def grad_loss", 1)
    assert value_and_grad.count("np.log(") == 2
    assert "np.log(" not in grad_only.split("\ndef ", 1)[0]


def test_readme_example_is_the_generated_code():
    """The README shows grad_loss of seed_chain_grad.py; it must be what is generated."""
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("```python\ndef grad_loss(W, X, y):", 1)[1].split("```", 1)[0]
    generated = (EXAMPLES / "seed_chain_grad.py").read_text()
    function = generated.split("def grad_loss(W, X, y):", 1)[1].split("\n\n\n", 1)[0]
    assert shown.strip() == function.strip()
