"""Forward mode (`--mode forward`, `jvp_<f>`): the lecture's forward table, every
rule's tangent, every example, and what forward mode refuses.

Each JVP is checked against central differences of the function (every wrt
argument moved at once along a random tangent) and against the reverse module:
⟨JVP(t), 1⟩ = ⟨t, grad⟩, the rule's own adjoint, to 1e-9 relative. The fuzzers
(test_fuzz_control's `check_program`) run the same checks on every program they
draw."""

import math
import re
import sys
import textwrap
import types

import numpy as np
import pytest

import codegen
from codegen import CodegenError, rulecheck, rules
from codegen.verify import check_jvp
from conftest import EXAMPLES, ROOT, load_file, load_generated

REGISTRY = rules.load()
RNG = np.random.default_rng(5)
RULE_CASES = [
    pytest.param(case, id=case.label)
    for rule in [*REGISTRY, *REGISTRY.fusions]
    for case in rulecheck.cases(rule)
    if case.wrt
]
SOURCES = sorted(p for p in EXAMPLES.glob("*.py") if not p.stem.endswith(("_grad", "_jvp")) and p.stem != "helpers")


def both(source, wrt, **options):
    """The reverse and the forward module of `f` in `source`."""
    text = codegen.generate(source, "f", wrt, mode="reverse,forward", _internal=True, **options)
    return load_generated(text), text


def test_every_rule_has_a_tangent():
    missing = [r.name for r in REGISTRY if r.grads and r.tangent is None and r.linear is None]
    missing += [f.name for f in REGISTRY.fusions if f.tangent is None]
    assert not missing


@pytest.mark.parametrize("case", RULE_CASES)
def test_rule_tangent_matches_finite_differences_and_its_adjoint(case):
    source, kwargs = rulecheck.setup(case)
    module, text = both(source, list(case.wrt))
    user = rulecheck._load(source, "user")  # (with codegen's helpers: rules for them call them)
    report = check_jvp(user.f, module.jvp_f, kwargs, list(case.wrt), value_and_grad=module.value_and_grad_f)
    assert report.ok, f"{report}\n{text}"
    assert report.errors["grad·t"] <= 1e-9, f"{report}\n{text}"


def test_a_wrong_tangent_is_caught():
    # The check itself can fail: a JVP off by a factor, or of the wrong shape.
    def f(x):
        return np.sin(x)

    def jvp_twice(x, t_x):
        return np.sin(x), 2.0 * np.cos(x) * t_x

    def jvp_summed(x, t_x):
        return np.sin(x), np.sum(np.cos(x) * t_x)

    x = np.array([0.3, 1.2])
    assert not check_jvp(f, jvp_twice, {"x": x}, ["x"]).ok
    assert not check_jvp(f, jvp_summed, {"x": x}, ["x"]).ok


# -- the lecture's forward table ----------------------------------------------------------


def _locals_at_return(function, *args, **kwargs):
    """The function's local variables as it returns (what the forward table lists)."""
    seen = {}

    def profile(frame, event, arg):
        if event == "return" and frame.f_code is function.__code__:
            seen.update(frame.f_locals)

    sys.setprofile(profile)
    try:
        result = function(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return result, seen


def test_seed_forward_table():
    module = load_file(EXAMPLES / "seed_chain_jvp.py")
    # (the function itself, inside the wrapper that lets it take PyTorch tensors too)
    (value, tangent), steps = _locals_at_return(module.jvp_loss.__wrapped__, W=3.0, X=3.0, y=1.0, t_W=1.0)
    assert abs(tangent - (-0.00037018372)) < 1e-11
    e = math.exp(-9.0)
    p = 1.0 / (1.0 + e)
    # dξi/dW, the last column of the lecture's forward table
    table = {
        "t_xi1": -3.0,
        "t_xi2": -3.0 * e,
        "t_xi3": -3.0 * e,
        "t_xi4": 3.0 * e * p**2,
        "t_xi5": 3.0 * e * p,
        "t_L": -3.0 * e * p,
    }
    for name, expected in table.items():
        assert steps[name] == pytest.approx(expected, rel=1e-12), name
    assert value == pytest.approx(-math.log(p), rel=1e-15)


def test_seed_forward_reads_like_the_table():
    text = (EXAMPLES / "seed_chain_jvp.py").read_text()
    body = text.split("def jvp_loss", 1)[1].split("\n# Helpers", 1)[0]  # the function, not the helpers
    steps = re.findall(r"^    (t_)?(xi\d|L) = ", body, re.M)
    # each step, then its tangent: xi1, t_xi1, xi2, t_xi2, ...
    assert [("t_" if t else "") + n for t, n in steps] == [
        "xi1", "t_xi1", "xi2", "t_xi2", "xi3", "t_xi3", "xi4", "t_xi4", "xi5", "t_xi5", "L", "t_L",
    ]
    assert "tape" not in body and "d_" not in body


# -- every example, forward ------------------------------------------------------------------


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_example_in_forward_mode(path):
    grad_module = EXAMPLES / f"{path.stem}_grad.py"
    header = grad_module.read_text()
    function = re.search(r"^# source: .+::(\w+)$", header, re.M)[1]
    wrt = re.search(r"^# wrt: (.+)$", header, re.M)[1].split(",")
    relative = path.relative_to(ROOT).as_posix()
    include = {"generated_examples/helpers.py": (EXAMPLES / "helpers.py").read_text()} if "helpers" in header else None
    text = codegen.generate(path.read_text(), function, wrt, path=relative, mode="forward", include=include)
    forward = load_generated(text, "forward")
    source = load_file(path)
    reverse = load_file(grad_module)
    kwargs = source.example_inputs()
    report = check_jvp(
        getattr(source, function), getattr(forward, f"jvp_{function}"), kwargs, wrt,
        value_and_grad=getattr(reverse, f"value_and_grad_{function}"), directions=4,
    )
    assert report.ok, f"{report}\n{text}"
    assert report.errors["grad·t"] <= 1e-9, f"{report}\n{text}"


# -- signatures, results, refusals -----------------------------------------------------------


def test_array_result_gives_its_tangent_not_a_sum():
    source = "import numpy as np\n\ndef f(x, a):\n    return np.sin(x) * a + x[::-1]\n"
    module, _ = both(source, ["x"])
    x, a = np.array([0.1, 0.7, -1.3]), np.array([2.0, 3.0, 5.0])
    t = np.array([1.0, -2.0, 0.5])
    value, tangent = module.jvp_f(x, a, t)
    np.testing.assert_allclose(tangent, np.cos(x) * a * t + t[::-1], rtol=1e-14)
    assert tangent.shape == (3,)


def test_tangents_follow_defaults_as_keywords():
    # `def f(x, n=3)`: a required tangent cannot follow a default positionally.
    source = "import numpy as np\n\ndef f(x, w, n=3, *, scale=1.0):\n    return scale * np.sum(w * x**n)\n"
    text = codegen.generate(source, "f", ["x", "w"], mode="forward")
    assert "def jvp_f(x, w, n=3, *, scale=1.0, t_x, t_w):" in text
    module = load_generated(text)
    x, w = np.array([0.5, 2.0]), np.array([1.0, -1.0])
    value, tangent = module.jvp_f(x, w, t_x=np.array([1.0, 0.0]), t_w=np.array([0.0, 1.0]))
    assert tangent == pytest.approx(3 * 0.5**2 * 1.0 + 2.0**3, rel=1e-14)


def test_loss_with_aux_returns_it_third():
    source = "import numpy as np\n\ndef f(w, x):\n    loss = np.sum((w * x) ** 2)\n    return loss, {'acc': np.mean(w)}\n"
    text = codegen.generate(source, "f", ["w"], mode="forward")
    module = load_generated(text)
    w, x = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    value, tangent, aux = module.jvp_f(w, x, np.array([1.0, 1.0]))
    assert aux == {"acc": 1.5}
    assert tangent == pytest.approx(2 * 3.0 * 3.0 * 1.0 + 2 * (-2.0) * (-1.0), rel=1e-14)


def test_result_independent_of_wrt_gives_zeros_of_its_shape():
    source = "import numpy as np\n\ndef f(w, x):\n    return x * 2.0\n"
    module = load_generated(codegen.generate(source, "f", ["w"], mode="forward"))
    value, tangent = module.jvp_f(1.0, np.ones(3), 1.0)
    assert np.array_equal(tangent, np.zeros(3))


def _smooth_rule(tmp_path, tangent: str = "") -> str:
    """A folder with a user rule for `mylib.smooth` (a cumulative sum), with the
    tangent line given, or none."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "mine.py").write_text(textwrap.dedent('''\
        import numpy as np
        import mylib


        @rule(checks=[("mylib.smooth(x)", [{"x": (3,)}])])
        def smooth(x):
            ans = mylib.smooth(x)
            d_x = np.cumsum(d_ans[::-1])[::-1]
    ''') + (f"    {tangent}\n" if tangent else ""))
    return str(rules_dir)


def test_user_rule_without_tangent_is_refused_with_its_position(tmp_path):
    rules_dir = _smooth_rule(tmp_path)
    source = "import numpy as np\nimport mylib\n\ndef f(x):\n    y = x * 2.0\n    return np.sum(mylib.smooth(y))\n"
    codegen.generate(source, "f", ["x"], rules_dirs=[rules_dir])  # reverse mode takes it
    with pytest.raises(CodegenError) as error:
        codegen.generate(source, "f", ["x"], path="loss.py", rules_dirs=[rules_dir], mode="forward")
    message = str(error.value)
    assert message.startswith("loss.py:6:"), message
    assert "t_ans = ..." in message and "mine.py" in message


def test_user_rule_with_a_tangent_is_used(tmp_path):
    rules_dir = _smooth_rule(tmp_path, "t_ans = np.cumsum(t_x)")
    source = "import numpy as np\nimport mylib\n\ndef f(x):\n    return np.sum(mylib.smooth(x * 2.0) ** 2)\n"
    text = codegen.generate(source, "f", ["x"], rules_dirs=[rules_dir], mode="forward")
    assert "np.cumsum(t_" in text


def test_rule_lines_broken_over_several_lines_stay_whole(tmp_path):
    # A rule's line broken inside brackets lost its brackets on the way to the
    # generated code and ended at the first line break: `t_ans = (a\n + b)` gave
    # `t_ans = a` and a statement `+b`, a wrong tangent without a word.
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "mine.py").write_text(textwrap.dedent('''\
        import numpy as np
        import mylib


        @rule(checks=[("mylib.twist(x, y)", [{"x": (3,), "y": (3,)}])])
        def twist(x, y):
            ans = mylib.twist(x, y)
            d_x = (
                d_ans * np.cos(x)
                * y
            )
            d_y = (d_ans
                   * np.sin(x))
            t_ans = (
                t_x * np.cos(x) * y
                + t_y * np.sin(x)
            )
    '''))
    source = "import numpy as np\nimport mylib\n\ndef f(x, y):\n    return np.sum(mylib.twist(x, y) ** 2)\n"
    text = codegen.generate(source, "f", ["x", "y"], rules_dirs=[str(rules_dir)], mode="reverse,forward")
    namespace = {"np": np, "mylib": types.SimpleNamespace(twist=lambda x, y: np.sin(x) * y)}
    exec(compile(text.replace("import mylib\n", ""), "<generated>", "exec"), namespace)
    x, y, t_x, t_y = (np.array([0.3, -1.2, 2.0]) * k for k in (1.0, 0.7, -0.4, 1.3))
    twist = np.sin(x) * y
    value, tangent = namespace["jvp_f"](x, y, t_x, t_y)
    assert tangent == pytest.approx(np.sum(2 * twist * (t_x * np.cos(x) * y + t_y * np.sin(x))), rel=1e-14)
    _, (d_x, d_y) = namespace["value_and_grad_f"](x, y)
    np.testing.assert_allclose(d_x, 2 * twist * np.cos(x) * y, rtol=1e-14)
    np.testing.assert_allclose(d_y, 2 * twist * np.sin(x), rtol=1e-14)


def test_unknown_modes_are_refused():
    source = "import numpy as np\n\ndef f(x):\n    return np.sum(x)\n"
    for mode, words in [("sideways", "is not a mode"), ("", "names no mode"), (",", "names no mode")]:
        with pytest.raises(CodegenError, match=words):
            codegen.generate(source, "f", ["x"], mode=mode)


def test_both_modes_in_one_module():
    source = "import numpy as np\n\ndef f(x):\n    return np.sum(np.exp(x))\n"
    text = codegen.generate(source, "f", ["x"], mode="forward,reverse")
    assert "# mode: reverse,forward" in text and "--mode reverse,forward" in text
    module = load_generated(text)
    x = np.array([0.5, -0.25])
    assert module.jvp_f(x, np.ones(2))[1] == pytest.approx(np.sum(module.grad_f(x)), rel=1e-14)


def test_a_tangent_at_a_pole_on_a_path_not_taken_does_not_raise():
    # `o = np.log(a - a)` is -inf, then overwritten on the path taken: its tangent
    # (t_a - t_a) / 0.0 raised ZeroDivisionError on Python floats (exploratory
    # round seeds 620043, 620072, 620340, 620353); the value itself did not raise.
    source = textwrap.dedent("""\
        import numpy as np

        def f(w, a):
            o = np.log(a - a)
            if a * a < -1.0:
                o = o * 2.0 + w
            else:
                o = -0.1 + w
            return o + w * a
    """)
    module, text = both(source, ["w", "a"])
    with np.errstate(all="ignore"):
        value, tangent = module.jvp_f(0.5, 2.0, 1.0, 1.0)
    assert tangent == pytest.approx(1.0 + 2.0 + 0.5, rel=1e-15)
    assert type(tangent) is np.float64  # a float, as NumPy's


def test_a_parameter_outside_wrt_that_a_loop_makes_depend_on_it():
    # `v` is not in wrt, but the loop carries it in its own variable and makes it
    # depend on w: its tangent must start at zeros before the loop (jvp_f raised
    # NameError: found by tests/forward_everywhere.py through --mode hvp).
    source = textwrap.dedent("""\
        import numpy as np

        def f(w, v):
            for i in range(3):
                w = 0.25 * np.roll(w, 1) + 0.3 * np.cos(v)
                for j in range(i):
                    v = 0.5 * np.roll(v, 1) + 0.7 * np.cos(w)
            return np.sum(np.sin(v))
    """)
    module, text = both(source, ["w"])
    user = load_generated(source, "user")
    kwargs = {"w": np.array([0.1, 0.5, -0.3]), "v": np.array([0.2, 0.4, 0.9])}
    report = check_jvp(user.f, module.jvp_f, kwargs, ["w"], value_and_grad=module.value_and_grad_f)
    assert report.ok and report.errors["grad·t"] <= 1e-9, f"{report}\n{text}"


def test_long_docstrings_survive_chunked_formatting():
    # Black gets the functions one statement per line, in chunks; the new modes' long
    # docstrings, once wrapped over lines, were cut at a chunk's end (InvalidInput:
    # exploratory round seed 700403). Docstrings stay one line.
    import black
    import libcst as cst

    from codegen.emit import BLACK_MODE, _function, format_functions
    from codegen.optimize import Body
    from codegen.program import Line

    doc = "A docstring longer than a line, " * 6
    body = Body(forward=(Line(("y",), cst.parse_expression("x + 1")),), reverse=(), returns=cst.parse_expression("y"))
    lines = _function("g", "x", doc, body)
    assert format_functions([lines], chunk=1) == [black.format_str("\n".join(lines) + "\n", mode=BLACK_MODE)]
    source = "import numpy as np\n\n\ndef f(x, c):\n    return np.sum(np.sin(x)), (c, np.mean(x))\n"
    text = codegen.generate(source, "f", ["x"], mode="reverse,forward,jacobian,hvp")
    lines = text.splitlines()
    docs = [lines[i + 1] for i, line in enumerate(lines) if re.match(r"def \w+_f\(", line)]
    assert len(docs) == 7 and all(d.startswith('    """') and d.endswith('"""') for d in docs), docs


@pytest.mark.parametrize("expression, variables", [
    ("np.sum(1 / (1 + np.exp(-h)))", {"h": (4,)}),
    ("np.sum(-y * np.log(1 / (1 + np.exp(-h))) - (1 - y) * np.log(1 - 1 / (1 + np.exp(-h))))", {"h": (4,)}),
    ("shift = np.max(h, axis=1, keepdims=True)\n    "
     "return np.sum(np.log(np.sum(np.exp(h - shift), axis=1, keepdims=True)) + shift)", {"h": (2, 3)}),
    ("shifted = h - np.max(h)\n    return np.sum(y[:3] * (shifted - np.log(np.sum(np.exp(shifted)))))", {"h": (3,)}),
])
def test_fusions_in_one_expression_use_their_tangent(expression, variables):
    # A chain written in one expression (or through the values the fusion itself
    # names: `shift`) takes its fusion's tangent: `# fused:` where the tangent is
    # computed, and right values.
    body = expression if "return" in expression else f"return {expression}"
    source = f"import numpy as np\n\n\ndef f(h, y):\n    {body}\n"
    module, text = both(source, ["h"])
    assert "# fused: " in text.split("def jvp_f", 1)[1], text
    kwargs = {"h": RNG.standard_normal(variables["h"]), "y": np.array([0.2, 0.9, 0.4, 0.6])}
    report = check_jvp(load_generated(source, "user").f, module.jvp_f, kwargs, ["h"], value_and_grad=module.value_and_grad_f)
    assert report.ok and report.errors["grad·t"] <= 1e-9, f"{report}\n{text}"
