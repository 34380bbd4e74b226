"""Unannotated scalar code called with Python floats runs a body generated for
numbers (codegen/specialize.py): the same values and gradients as the general body,
which every other argument still takes."""

import numpy as np
import pytest

import codegen

RECURRENCE = (
    "import numpy as np\n\n\ndef f(x, a, steps=50):\n    for i in range(steps):\n"
    "        x = x * np.cos(x) + a * np.sin(x)\n    return x\n"
)


def _module(source, wrt, mode="reverse"):
    text = codegen.generate(source, "f", wrt, mode=mode)
    namespace = {}
    exec(text, namespace)
    return text, namespace


def test_floats_take_the_numbers_body_with_the_same_results():
    text, ns = _module(RECURRENCE, "x,a")
    assert "if type(x) is float and type(a) is float and type(steps) is int:" in text
    assert "math.cos(x)" in text.split("def _value_and_grad_f_numbers")[1]
    assert "_unbroadcast" not in text.split("def _value_and_grad_f_numbers")[1].split("# Helpers")[0]
    value, grads = ns["value_and_grad_f"](0.3, 0.9)
    # np.float64 is not exactly a float: the general body, NumPy's functions
    general_value, general_grads = ns["value_and_grad_f"](np.float64(0.3), np.float64(0.9))
    assert type(value) is float and isinstance(general_value, np.floating)
    np.testing.assert_allclose(value, general_value, rtol=1e-13)
    np.testing.assert_allclose(grads, general_grads, rtol=1e-12)
    np.testing.assert_allclose(ns["grad_f"](0.3, 0.9), general_grads, rtol=1e-12)
    # and the annotated function's module agrees
    _, annotated = _module(RECURRENCE.replace("def f(x, a, steps=50)", "def f(x: float, a: float, steps: int = 50)"), "x,a")
    np.testing.assert_allclose(annotated["value_and_grad_f"](0.3, 0.9)[1], grads, rtol=1e-13)


def test_arrays_take_the_general_body():
    _, ns = _module(RECURRENCE, "x,a")
    x = np.array([0.3, -0.2, 1.1])
    value, (d_x, d_a) = ns["value_and_grad_f"](x, 0.9)
    assert value.shape == d_x.shape == (3,) and np.ndim(d_a) == 0
    ones = [ns["value_and_grad_f"](float(xi), 0.9) for xi in x]  # each element on the numbers body
    np.testing.assert_allclose(value, [v for v, _ in ones], rtol=1e-13)
    np.testing.assert_allclose(d_x, [g[0] for _, g in ones], rtol=1e-12)
    np.testing.assert_allclose(d_a, sum(g[1] for _, g in ones), rtol=1e-12)


def test_keyword_only_parameters_are_passed_on_by_keyword():
    source = "import numpy as np\n\n\ndef f(x, *, a=0.5, n=3):\n    for i in range(n):\n        x = np.sin(x) * a\n    return x\n"
    text, ns = _module(source, "x")
    assert "return _grad_f_numbers(x, a=a, n=n)" in text
    np.testing.assert_allclose(ns["grad_f"](0.7, a=1.5, n=4), ns["grad_f"](np.float64(0.7), a=1.5, n=4), rtol=1e-13)


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\n\n\ndef f(x, a):\n    return x * np.cos(x) + a\n",  # no loop
        "import numpy as np\n\n\ndef f(x, n=3):\n    for i in range(n):\n        x = np.cos(x[::-1])\n    return np.sum(x)\n",  # x indexed
        "import numpy as np\n\n\ndef f(x, X):\n    t = 0.0\n    for row in X:\n        t = t + np.sum(row @ x)\n    return t\n",
        # a parameter that hides a builtin the test at entry calls
        "import numpy as np\n\n\ndef f(x, type=2.0, n=3):\n    for i in range(n):\n        x = np.sin(x) * type\n    return x\n",
        "import numpy as np\n\n\ndef f(x, float=2.0, n=3):\n    for i in range(n):\n        x = np.sin(x) * float\n    return x\n",
    ],
)
def test_no_numbers_body_where_it_could_not_run_or_would_not_help(source):
    text, ns = _module(source, "x")
    assert "_numbers" not in text
    if "type=" in source or "float=" in source:  # and the general body runs on numbers
        assert np.isfinite(ns["grad_f"](0.5))


def test_the_numbers_body_is_deterministic():
    assert codegen.generate(RECURRENCE, "f", "x,a") == codegen.generate(RECURRENCE, "f", "x,a")


def test_forward_mode_has_a_numbers_body_too():
    """`jvp_f` with float arguments and float tangents takes its numbers body; its
    tangent equals grad . t from the reverse mode's and the general body's."""
    text, ns = _module(RECURRENCE, "x,a", mode="reverse,forward")
    assert "return _jvp_f_numbers(x, a, steps, t_x=t_x, t_a=t_a)" in text
    assert "type(t_x) is float" in text and "math.sin(x)" in text.split("def _jvp_f_numbers")[1]
    value, tangent = ns["jvp_f"](0.3, 0.9, t_x=0.5, t_a=-1.5)
    general_value, general_tangent = ns["jvp_f"](np.float64(0.3), 0.9, t_x=0.5, t_a=-1.5)
    d_x, d_a = ns["grad_f"](0.3, 0.9)
    np.testing.assert_allclose(value, general_value, rtol=1e-13)
    np.testing.assert_allclose(tangent, general_tangent, rtol=1e-12)
    np.testing.assert_allclose(tangent, 0.5 * d_x - 1.5 * d_a, rtol=1e-10)
    # an array tangent for a float parameter: the general body
    batch = ns["jvp_f"](0.3, 0.9, t_x=np.array([0.5, 1.0]), t_a=0.0)[1]
    np.testing.assert_allclose(batch, [0.5 * d_x, d_x], rtol=1e-10)


def test_numbers_bodies_of_fuzzed_programs_agree_with_the_general_ones():
    """The control-flow fuzzer's programs whose inputs are all numbers, their `float`
    annotations taken away: where codegen writes a numbers body, called with the
    floats it equals the general body called with NumPy float64s, and finite
    differences; its JVP's numbers body equals the general JVP."""
    import re
    import sys

    from codegen.verify import check_gradient
    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "tests"))
    import test_fuzz_control as fuzz

    checked = forward = 0
    for seed in range(5000, 7000):
        source, wrt, kwargs = fuzz.make_case(seed)
        if not all(type(v) in (float, int) for v in kwargs.values()):
            continue
        plain = re.sub(r"(\w+): (float|int)", r"\1", source)
        text = codegen.generate(plain, "f", list(wrt), mode="reverse,forward")
        if "_numbers(" not in text:
            continue
        ns, user = {}, {}
        exec(text, ns)
        exec(plain, user)
        numbers = ns["value_and_grad_f"](**kwargs)
        general = ns["value_and_grad_f"](**{k: np.float64(v) if type(v) is float else v for k, v in kwargs.items()})
        np.testing.assert_allclose(numbers[0], general[0], rtol=1e-9, atol=1e-12, err_msg=plain)
        np.testing.assert_allclose(np.ravel(numbers[1]), np.ravel(general[1]), rtol=1e-8, atol=1e-10, err_msg=plain)
        report = check_gradient(user["f"], ns["value_and_grad_f"], kwargs, list(wrt))
        assert report.ok, f"{report}\n{plain}"
        if "_jvp_f_numbers(" in text:  # forward mode: its numbers body against the general one
            tangents = {f"t_{w}": 0.5 + i for i, w in enumerate(wrt)}
            floats = {k: np.float64(v) if type(v) is float else v for k, v in kwargs.items()}
            got, want = ns["jvp_f"](**kwargs, **tangents), ns["jvp_f"](**floats, **tangents)
            np.testing.assert_allclose(float(got[1]), float(want[1]), rtol=1e-8, atol=1e-10, err_msg=plain)
            forward += 1
        checked += 1
    assert checked >= 20 and forward >= 10, (checked, forward)
