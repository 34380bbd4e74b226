"""Input outside the supported subset: a positioned error that says what to do, exit
status 2 from the CLI, and no output file (an existing one is left untouched)."""

import pytest

from codegen import CodegenError, generate
from codegen.cli import main

HEAD = "import numpy as np\n\n\ndef loss(x, y):\n"  # the body starts on line 5

# (id, body, line, column, words the message must contain)
ERRORS = [
    ("assignment-into-an-expression", "    x.T[0] = 1.0\n    return np.sum(x)\n", 5, 5, "assignment into `x.T` is not supported"),
    ("assignment-into-a-tuple-target", "    a, x[0] = 1.0, 2.0\n    return np.sum(x)\n", 5, 8, "assign to `x[0]` in a statement of its own"),
    ("assignment-into-a-shared-array", "    z = x\n    z[0] = 1.0\n    return np.sum(x * z)\n", 6, 5,
     "`z[0] = ...` would change the array that `x` also names; build the new array with np.where or np.concatenate, or copy it first: `z = z.copy()`"),
    # a helper's parameter is the caller's array: NumPy's `+=` in it changes `y`
    ("augmented-on-a-callers-array",
     "    y = x * 2.0\n    return g(y) + np.sum(y)\n\n\ndef g(z):\n    z += 1.0\n    return np.sum(z * z)\n", 10, 5,
     "`z += ...` would change the array that `y` in `loss` also names; write `z = z + ...`"),
    # ways two names come to share one array: np.asarray, a merge after a branch
    # (`a if c else b`, if/else, `and`/`or`), a loop's carried copy
    ("write-through-asarray", "    u = np.asarray(x)\n    u[0] = 5.0\n    return np.sum(x * x)\n", 6, 5,
     "`u[0] = ...` would change `x` too"),
    ("write-through-a-conditional", "    u = x if x[0] > 0 else y\n    u[1] = 5.0\n    return np.sum(x * y)\n", 6, 5,
     "`u[1] = ...` would change `x` too"),
    ("augmented-through-or", "    u = x * 1.0\n    v = u or x\n    u += 1.0\n    return np.sum(v * x)\n", 7, 5,
     "`u += ...` would change `v` too"),
    ("write-through-a-carried-name", "    u = x\n    for i in range(2):\n        u[i] = 5.0 * u[i]\n    return np.sum(x * x)\n", 7, 9,
     "`u[i] = ...` would change `x` too"),
    ("assignment-into-a-view", "    a = x * 2.0\n    b = a[1:]\n    a[0] = 1.0\n    return np.sum(b * a)\n", 7, 5,
     "`a[0] = ...` would change `b` too"),
    ("unknown-function", "    z = np.exp(x)\n    return softplus(z)\n", 6, 12, "`softplus` is not defined or imported in losses.py; define it"),
    ("relative-import", "    return kernels.rbf(x)\n\n\nfrom . import kernels\n", 5, 12, "`kernels.rbf` comes from a relative import"),
    ("unknown-numpy-function", "    return np.frobnicate(x)\n", 5, 12, "no derivative rule for `np.frobnicate` (numpy.frobnicate)"),
    ("unknown-name", "    return x * scale\n", 5, 16, "unknown name `scale`"),
    ("lambda-as-a-value", "    g = lambda v: v\n    return g\n", 6, 12, "`g` is a function: call it here"),
    ("dict-comprehension", "    return np.sum({v: v for v in x})\n", 5, 19, "dict comprehensions are not supported"),
    ("unknown-attribute", "    return np.sum(x.flat)\n", 5, 19, "attribute `.flat` is not supported"),
    ("unknown-method", "    return x.frobnicate()\n", 5, 12, "no derivative rule for `.frobnicate()`"),
    # a stand-in node (one comparison out of a chain) is placed at its left operand
    ("operator-in-a-chained-comparison", "    if 0.0 < x in y:\n        return x\n    return y\n", 5, 14,
     "no derivative rule for the operator `x in y`"),
    ("string", "    return x * 'a'\n", 5, 16, "strings are not numbers"),
    ("unsupported-argument", "    return np.sum(x, dtype=float)\n", 5, 22, "argument `dtype` is not supported"),
    ("floor-division-operator", "    return np.sum(x @ y) // 2 ** 3 << 1\n", 5, 12, "no derivative rule for the operator `<<`"),
    ("unsupported-svd-vectors", "    return np.linalg.svd(x)[0]\n", 5, 12, "only supported when not full_matrices"),
    ("gradient-into-axis", "    return np.sum(y, axis=x)\n", 5, 12, "no derivative with respect to argument `axis`, which depends on x"),
    ("tuple-result", "    return np.linalg.slogdet(x)\n", 5, 12, "returns a tuple; use one part of it: np.linalg.slogdet(...)[0]"),
    ("with", "    with open(y) as h:\n        pass\n    return x\n", 5, 5, "`with` blocks"),
    ("try", "    try:\n        z = x\n    except Exception:\n        z = y\n    return z\n", 5, 5, "`try` is not supported"),
    ("global", "    global G\n    return x\n", 5, 5, "`global` is not supported"),
    ("expression-statement", "    np.exp(x)\n    return x\n", 5, 5, "has no effect"),
    ("star-args", "    return np.sum(*x)\n", 5, 19, "`*` arguments are not supported"),
    ("no-return", "    z = x * y\n", 4, 1, "`loss` must end with `return <loss>` on every path"),
    ("return-on-some-paths", "    if x > 0:\n        return x\n    z = y\n", 5, 5, "some paths through this `if` return and some do not"),
    ("unreachable", "    return x\n    z = y\n    return z\n", 6, 5, "unreachable code after `return`"),
    # a loop left only by a return: what follows it can never run
    ("code-after-an-endless-loop", "    while True:\n        if x > 1:\n            return x\n        x = x * 2.0\n    z = y\n    return z\n",
     9, 5, "unreachable code after `return`"),
    ("loop-else", "    for i in range(3):\n        x = x + 1\n    else:\n        x = 0\n    return x\n", 7, 5, "`else` on a loop is not supported"),
    ("augmented-into-a-shared-array", "    z = x\n    z[0] += 1.0\n    return np.sum(x * z)\n", 6, 5,
     "`z[0] = ...` would change the array that `x` also names"),
    ("aliased-augmented", "    z = x\n    z += y\n    return np.sum(x)\n", 6, 5, "`z += ...` would change the array that `x` also names; write `z = z + ...`"),
    # NumPy's `+=` writes through a view: b sees it, and the generated code (which
    # computes a new array) would not.
    ("augmented-base-of-a-view", "    a = x * 2.0\n    b = a[1:]\n    a += 1.0\n    return np.sum(b * b)\n", 7, 5,
     "`a += ...` would change `b` too (one may be the other's array, or a view of it); write `a = a + ...`"),
    ("augmented-view-of-a-parameter", "    a = x[1:]\n    a += 1.0\n    return np.sum(x * x)\n", 6, 5,
     "`a += ...` would change `x` too"),
    ("augmented-transpose", "    a = x * 2.0\n    b = a.T\n    b *= 3.0\n    return np.sum(a * a)\n", 7, 5,
     "`b *= ...` would change `a` too"),
    ("starred-target", "    a, *b = x\n    return a\n", 5, 8, "starred assignment targets are not supported"),
    (
        "recursion",
        "    return helper(x, 3)\n\n\ndef helper(v, n):\n    return helper(v * 2.0, n)\n",
        9, 12, "recursion (helper -> helper) cannot be differentiated; write it as a loop",
    ),
    ("generator", "    yield x\n    return x\n", 5, 5, "generators are not supported"),
    # CPython rejects it (a top-level function has no enclosing one): its words and place
    ("nonlocal", "    nonlocal y\n    return x\n", 5, 5, "name 'y' is parameter and nonlocal"),
    ("class", "    class C:\n        pass\n    return x\n", 5, 5, "classes are not supported inside a loss"),
    ("set-comprehension-in-loop", "    for i in range(2):\n        x = np.sum({x * j for j in range(3)})\n    return x\n", 6, 20, "set comprehensions are not supported"),
    ("while-else", "    while x > 0:\n        x = x - 1\n    else:\n        x = 0\n    return x\n", 7, 5, "`else` on a loop is not supported"),
]


@pytest.mark.parametrize("name, body, line, col, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_position_and_message(name, body, line, col, words):
    with pytest.raises(CodegenError) as info:
        generate(HEAD + body, "loss", path="losses.py")
    error = info.value
    assert (error.line, error.col) == (line, col), str(error)
    assert words in error.message
    assert str(error).startswith(f"losses.py:{line}:{col}: error: ")


def test_syntax_error_is_positioned():
    with pytest.raises(CodegenError) as info:
        generate("def loss(x):\n    return (x +\n", "loss", path="broken.py")
    assert str(info.value).startswith("broken.py:") and "syntax error" in str(info.value)


def test_missing_function_lists_the_ones_there():
    with pytest.raises(CodegenError, match=r"no function `nope`.*\(it defines: loss\)"):
        generate(HEAD + "    return x\n", "nope")


def test_unknown_wrt_name():
    with pytest.raises(CodegenError, match=r"--wrt names `z`, which is not a parameter of `loss` \(x, y\)"):
        generate(HEAD + "    return x\n", "loss", wrt="x,z")


def test_unsupported_parameters():
    with pytest.raises(CodegenError, match=r"`\*args` is not supported"):
        generate("def loss(x, *rest):\n    return x\n", "loss")
    with pytest.raises(CodegenError, match=r"`\*\*kwargs` is not supported"):
        generate("def loss(x, **options):\n    return x\n", "loss")


def test_constant_that_needs_user_code():
    source = "import numpy as np\nfrom mylib import make\n\nK = make()\n\n\ndef loss(x):\n    return x * K\n"
    with pytest.raises(CodegenError, match=r"`make` in a constant value") as info:
        generate(source, "loss")
    assert (info.value.line, info.value.col) == (4, 5)


def test_cli_error_exit_status_and_no_output(tmp_path, capsys):
    source = tmp_path / "loss.py"
    source.write_text(HEAD + "    x.T[0] = 1\n    return x\n")
    out = tmp_path / "loss_grad.py"
    status = main(["generate", f"{source}::loss", "-o", str(out)])
    assert status == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind either
    assert capsys.readouterr().err.strip() == (
        f"{source.as_posix()}:5:5: error: assignment into `x.T` is not supported; assign into an array "
        "by its own name, as in `x[i] = v`"
    )


def test_cli_error_leaves_existing_output_untouched(tmp_path):
    source = tmp_path / "loss.py"
    source.write_text(HEAD + "    with x:\n        pass\n    return x\n")
    out = tmp_path / "loss_grad.py"
    out.write_text("previous contents\n")
    assert main(["generate", f"{source}::loss", "-o", str(out)]) == 2
    assert out.read_text() == "previous contents\n"


def test_cli_missing_file(tmp_path, capsys):
    assert main(["generate", f"{tmp_path}/absent.py::loss"]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("value, words", [
    ("np.save('k.npy', np.ones(3))", "`np.save(...)` in a module constant or default would run each time"),
    ("np.load('k.npy')", "(it reads or writes files); pass the value to the loss as a parameter"),
    ("np.loadtxt('k.txt')", "`np.loadtxt(...)`"),
    ("np.random.rand(3)", "it draws random numbers"),
    ("np.random.default_rng(0).normal(size=3)", "in a constant"),
    ("open('k.txt').read()", "in a constant"),
    ("np.sum(np.load('k.npy'))", "`np.load(...)`"),
])
def test_constants_with_side_effects_are_refused(value, words):
    """The generated module runs a copied constant each time it is imported: I/O and
    random draws are refused, pure NumPy of literals is copied."""
    source = f"import numpy as np\n\nK = {value}\n\n\ndef loss(x):\n    return np.sum(x * K)\n"
    with pytest.raises(CodegenError) as info:
        generate(source, "loss")
    assert words in info.value.message and "parameter" in info.value.message
    assert info.value.line == 3
    default = f"import numpy as np\n\n\ndef loss(x, K={value}):\n    return np.sum(x * K)\n"
    with pytest.raises(CodegenError):
        generate(default, "loss")


def test_pure_numpy_constants_are_copied():
    source = "import numpy as np\n\nK = np.log(np.arange(3.0) + 1.0) * np.pi\n\n\ndef loss(x):\n    return np.sum(x * K)\n"
    assert "K = np.log(np.arange(3.0) + 1.0) * np.pi\n" in generate(source, "loss")
