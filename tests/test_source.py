"""What Python's own compiler says about a file is what codegen says: CPython's
message, line and column; and no input, however deep, crashes or hangs codegen."""

import subprocess
import sys
import time

import numpy as np
import pytest

from codegen import CodegenError, generate
from codegen.parse import MAX_DEPTH
from conftest import ROOT, load_generated


def _cpython(source):
    try:
        compile(source, "f.py", "exec", dont_inherit=True)
    except SyntaxError as error:
        return error.lineno, error.offset, error.msg
    raise AssertionError("CPython compiles it")


REJECTED = [
    ("duplicate-parameter", "def loss(x, x):\n    return x\n"),
    ("return-outside-a-function", "import numpy as np\nreturn 1\n\ndef loss(x):\n    return x\n"),
    ("nonlocal-at-module-level", "nonlocal y\n\ndef loss(x):\n    return x\n"),
    ("bogus-future", "from __future__ import braces_please\n\ndef loss(x):\n    return x\n"),
    ("future-not-first", "import numpy as np\nfrom __future__ import annotations\n\ndef loss(x):\n    return x\n"),
    ("break-outside-a-loop", "def loss(x):\n    break\n    return x\n"),
    ("missing-colon", "def loss(x)\n    return x\n"),
    ("unclosed-bracket", "def loss(x):\n    y = (x +\n    return y\n"),
    ("bad-indentation", "def loss(x):\n    y = x\n      return y\n"),
    ("assign-to-a-call", "def loss(x):\n    f(x) = 1\n    return x\n"),
    ("keyword-argument-repeated", "def loss(x):\n    return f(a=1, a=2)\n"),
    ("yield-outside", "yield 1\ndef loss(x):\n    return x\n"),
    ("invalid-character", "def loss(x):\n    return x \u20ac 2\n"),
    ("nonlocal-of-a-parameter", "def loss(x):\n    def g(x):\n        nonlocal x\n    return x\n"),
]


@pytest.mark.parametrize("name, source", REJECTED, ids=[r[0] for r in REJECTED])
def test_files_python_rejects_are_refused_where_python_says(name, source):
    line, col, message = _cpython(source)
    with pytest.raises(CodegenError) as info:
        generate(source, "loss", path="f.py")
    assert (info.value.line, info.value.col) == (line, col), str(info.value)
    assert message in info.value.message


def _deep(kind, n):
    term = {
        "sum": "np.sum(" + " + ".join(["x"] * n) + ")",
        "minus": "np.sum(" + "-" * n + "x)",
        "subscript": "np.sum(x" + "[0]" * n + ")",
    }[kind]
    return f"import numpy as np\n\n\ndef loss(x):\n    y = x * 2.0\n    return {term}\n"


@pytest.mark.parametrize("kind", ["sum", "minus", "subscript"])
@pytest.mark.parametrize("n", [1000, 10000, 20000])
def test_deep_expressions_are_refused_quickly(kind, n):
    start = time.perf_counter()
    with pytest.raises(CodegenError) as info:
        generate(_deep(kind, n), "loss", path="deep.py")
    assert time.perf_counter() - start < 10
    assert (info.value.line, info.value.col) == (6, 5), str(info.value)
    assert "split it into several assignments" in info.value.message


def test_a_sum_within_the_limit_generates_and_is_right():
    n = MAX_DEPTH - 5
    module = load_generated(generate(_deep("sum", n), "loss"))
    x = np.array([0.5, -1.0, 2.0])
    assert np.allclose(module.grad_loss(x), np.full(3, float(n)))


def test_deep_input_in_a_process_is_exit_2_not_a_crash(tmp_path):
    (tmp_path / "deep.py").write_text(_deep("minus", 100000))
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "deep.py::loss"], cwd=tmp_path,
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("deep.py:6:5: error:") and run.stderr.count("\n") == 1


def test_integer_powers_too_large_to_fold_are_left_as_written():
    """Folding `10 ** 10 ** 10` took minutes (and `2 ** 2 ** 2 ** 2 ** 2 ** 2` raised an
    internal error turning it into a float)."""
    source = "import numpy as np\n\n\ndef loss(x):\n    return np.sum(x) * 10 ** 10 ** 10 + 2 ** 2 ** 2 ** 2 ** 2 ** 2\n"
    start = time.perf_counter()
    text = generate(source, "loss")
    assert time.perf_counter() - start < 10
    assert "10**10**10" in text.replace(" ", "")


def test_constants_defined_in_terms_of_each_other_are_refused():
    source = "import numpy as np\n\nA = B + 1.0\nB = 2.0 * A\n\n\ndef loss(x):\n    return np.sum(x * A)\n"
    with pytest.raises(CodegenError, match=r"the constant `A` is defined in terms of itself \(A -> B -> A\)") as info:
        generate(source, "loss", path="k.py")
    assert (info.value.line, info.value.col) == (4, 11)
