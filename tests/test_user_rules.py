"""User rules: a directory in the templates/ format, loaded with --rules, checked
with `codegen rules --check`, and refused when wrong."""

import sys
import textwrap

import numpy as np
import pytest

from codegen import CodegenError, generate
from codegen.cli import main
from codegen.verify import check_gradient
from conftest import load_generated

MYLIB = """
import numpy as np


def softplus(x):
    return np.logaddexp(0.0, x)
"""

RULE = """
import numpy as np
import mylib


@rule(elementwise=True)
def softplus(x):
    ans = mylib.softplus(x)
    d_x = d_ans * {derivative}
"""

LOSS = """
import numpy as np
from mylib import softplus


def loss(w, X):
    return np.sum(softplus(X @ w))
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "mylib.py").write_text(MYLIB)
    (tmp_path / "rules").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mylib", None)
    return tmp_path


def _write_rule(project, derivative):
    (project / "rules" / "softplus.py").write_text(RULE.format(derivative=derivative))


def test_user_rule_is_loaded_checked_and_used(project, capsys):
    _write_rule(project, "(1.0 - np.exp(-ans))")  # sigmoid(x) = 1 - exp(-softplus(x))
    assert main(["rules", "--check", "rules"]) == 0
    out = capsys.readouterr().out
    assert "mylib.softplus(x)" in out and out.count(": ok ") == 5  # scalar, vector, matrix
    assert "{'x': ()} float64: ok" in out and "mylib.softplus([x, 0.5]) {'x': ()} list: ok" in out

    text = generate(LOSS, "loss", "w", path="loss.py", rules_dirs=["rules"])
    assert "import mylib\n" in text and "mylib.softplus(" in text
    assert "# rules: rules\n" in text and "--rules rules -o" in text
    module = load_generated(text)
    rng = np.random.default_rng(0)
    kwargs = {"w": rng.standard_normal(3), "X": rng.standard_normal((5, 3))}
    original = load_generated(LOSS, "loss").loss
    report = check_gradient(original, module.value_and_grad_loss, kwargs, ["w"])
    assert report.ok, str(report)

    assert main(["rules", "--rules", "rules"]) == 0
    assert "softplus" in capsys.readouterr().out


def test_a_module_a_rule_line_calls_is_imported(project):
    # The derivative calls a function of another module the rule file imports
    # (`from scipy import special`): the generated line spells it in full and the
    # module imports it, though the loss itself never did.
    (project / "rules" / "softplus.py").write_text(textwrap.dedent("""\
        import numpy as np
        import mylib
        from scipy import special


        @rule(elementwise=True)
        def softplus(x):
            ans = mylib.softplus(x)
            d_x = d_ans * special.expit(x)
    """))
    text = generate(LOSS, "loss", "w", path="loss.py", rules_dirs=["rules"])
    assert "import scipy.special\n" in text and "scipy.special.expit(" in text and " special.expit(" not in text
    module = load_generated(text)
    rng = np.random.default_rng(0)
    kwargs = {"w": rng.standard_normal(3), "X": rng.standard_normal((5, 3))}
    report = check_gradient(load_generated(LOSS, "loss").loss, module.value_and_grad_loss, kwargs, ["w"])
    assert report.ok, str(report)


def test_wrong_user_rule_is_rejected_by_check(project, capsys):
    _write_rule(project, "np.exp(-ans)")  # not the derivative
    assert main(["rules", "--check", "rules"]) == 1
    out = capsys.readouterr().out
    assert out.count(": FAILED") == 5 and "worst relative error" in out


def test_rule_whose_signature_does_not_fit_is_refused(project, capsys):
    (project / "rules" / "softplus.py").write_text(RULE.format(derivative="1.0").replace("def softplus(x)", "def softplus(x, beta=1.0)"))
    assert main(["rules", "--check", "rules"]) == 2
    err = capsys.readouterr().err
    assert "rules/softplus.py:7:1: error: rule `softplus` does not fit: mylib.softplus has no parameter `beta`" in err


def test_rule_for_numpy_with_wrong_arity_is_refused_at_load(project):
    (project / "rules" / "sinc2.py").write_text(textwrap.dedent("""
        import numpy as np


        @rule(elementwise=True)
        def heaviside(x):
            ans = np.heaviside(x)
            d_x = 0.0 * d_ans
    """))
    with pytest.raises(CodegenError, match=r"sinc2.py:6:1: error: rule `heaviside` does not fit: numpy.heaviside takes 2 array argument\(s\), the rule 1"):
        generate(LOSS, "loss", rules_dirs=["rules"])


def test_second_rule_for_a_builtin_primitive_is_refused(project):
    (project / "rules" / "exp.py").write_text("import numpy as np\n\n\n@rule()\ndef exp(x):\n    ans = np.exp(x)\n    d_x = d_ans\n")
    with pytest.raises(CodegenError, match=r"a second rule for numpy.exp \(the first is .*exp_log.py"):
        generate(LOSS, "loss", rules_dirs=["rules"])


def test_missing_rules_directory(project):
    with pytest.raises(CodegenError, match="rules directory nowhere does not exist"):
        generate(LOSS, "loss", rules_dirs=["nowhere"])


def test_fusion_giving_a_call_an_option_it_lacks_is_refused(project):
    (project / "rules" / "fused.py").write_text(textwrap.dedent("""
        import numpy as np


        @fusion()
        def shifted(x):
            shift = np.max(x, axes=1)
            ans = x - shift
            d_x = d_ans
    """))
    with pytest.raises(CodegenError, match=r"fused.py:7:5: error: `axes=` is not an option of `np.max\(x, axis=axis, keepdims=keepdims\)`"):
        generate(LOSS, "loss", rules_dirs=["rules"])


def test_user_fusion_with_an_axis_is_used(project):
    (project / "rules" / "fused.py").write_text(textwrap.dedent('''
        import numpy as np


        @fusion(checks=[("x - np.mean(x, axis=axis, keepdims=True)", [{"x": (2, 3), "axis": 1}])])
        def centred(x, axis):
            """d/dx = d_ans - mean(d_ans)"""
            ans = x - np.mean(x, axis=axis, keepdims=True)
            d_x = d_ans - np.mean(d_ans, axis=axis, keepdims=True)
    '''))
    source = "import numpy as np\n\n\ndef f(x):\n    return np.sum(np.sin(x - np.mean(x, axis=1, keepdims=True)))\n"
    text = generate(source, "f", rules_dirs=["rules"])
    assert "# fused: d/dx = d_ans - mean(d_ans)" in text
    x = np.random.default_rng(0).standard_normal((3, 4))
    report = check_gradient(load_generated(source, "original").f, load_generated(text).value_and_grad_f, {"x": x}, ["x"])
    assert report.ok, str(report)
