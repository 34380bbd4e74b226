"""The bad-input corpus: files and command lines a user (or an attacker) gives the
CLI, each with the exit status it must end in and where its error must point.

`CASES` is a list of `Case`s. `where` is the start of the error line:
- "loss.py:5:12" or "loss.py" (an error with no place in a file);
- `CPYTHON`: the place Python's own compiler gives (`SyntaxError.lineno/offset`),
  worked out by the test from the file named first in `argv`'s target;
- `USAGE`: an argparse usage error (usage line, then one `codegen ...: error:` line);
- None: no error line expected (exit 0 or 1).
Positions of refusals are computed from the text (`at(...)`: the first place a
piece of text occurs), never copied from codegen's output.

`test_bad_inputs.py` runs every case in a child process and checks: no traceback,
no crash, the exit status, the position, and that no file changed on an error.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

CPYTHON = "cpython"
USAGE = "usage"

HEAD = "import numpy as np\n\n\ndef loss(x, y):\n"  # the body starts on line 5
GOOD = HEAD + "    return np.sum(x * y)\n"


@dataclass
class Case:
    name: str
    kind: str
    files: dict  # name -> str (UTF-8) or bytes
    argv: list
    exit: int
    where: str | None
    words: str = ""  # a piece of the message, where it matters
    setup: Callable[[Path], None] | None = None  # links, folders, permissions
    real: bool = False  # also run through a real `python -m codegen`


def at(text: str, piece: str, path: str = "loss.py", nth: int = 0) -> str:
    """`path:line:col` of the nth occurrence of `piece` in `text` (1-based, in characters)."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(piece, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{path}:{line}:{col}"


CASES: list[Case] = []


def add(*args, **kwargs) -> None:
    CASES.append(Case(*args, **kwargs))


def gen(text, name=None, **kwargs):
    """`codegen generate loss.py::loss -o out.py` on `text`."""
    return ["generate", "loss.py::loss", "-o", "out.py"]


# -- 1. syntax errors: CPython's message and place ------------------------------------------
SYNTAX = {
    "missing-colon-def": "def loss(x)\n    return x\n",
    "missing-colon-if": HEAD + "    if x > 0\n        x = x * 2.0\n    return np.sum(x)\n",
    "missing-colon-for": HEAD + "    for i in range(3)\n        x = x * 2.0\n    return np.sum(x)\n",
    "missing-colon-while": HEAD + "    while x > 0\n        x = x - 1\n    return x\n",
    "unclosed-paren": HEAD + "    z = (x +\n    return z\n",
    "unclosed-bracket": HEAD + "    z = x[0\n    return z\n",
    "unclosed-brace": HEAD + "    z = {1: x\n    return z\n",
    "unmatched-close-paren": HEAD + "    z = x + 1)\n    return z\n",
    "mismatched-brackets": HEAD + "    z = (x + 1]\n    return z\n",
    "unterminated-string": HEAD + "    z = 'abc\n    return z\n",
    "unterminated-triple-string": HEAD + '    """doc\n    return x\n',
    "unexpected-indent": HEAD + "    z = x\n        w = z\n    return w\n",
    "unindent-mismatch": HEAD + "    z = x\n  w = z\n    return w\n",
    "expected-indented-block": "def loss(x):\nreturn x\n",
    "tab-space-mix": "def loss(x):\n    if x:\n\ty = 1\n        return y\n    return x\n",
    "euro-sign": HEAD + "    return x \u20ac y\n",
    "curly-quotes": HEAD + "    return \u201cx\u201d\n",
    "assignment-in-if": HEAD + "    if x = 1:\n        pass\n    return x\n",
    "missing-comma": HEAD + "    z = [x y]\n    return z\n",
    "print-statement": HEAD + "    print 'x'\n    return x\n",
    "dangling-operator": HEAD + "    z = x +\n    return z\n",
    "double-operator": HEAD + "    z = x + * y\n    return z\n",
    "walrus-statement": HEAD + "    z := x\n    return z\n",
    "keyword-repeated": HEAD + "    return np.sum(x, axis=0, axis=1)\n",
    "positional-after-keyword": HEAD + "    return np.sum(axis=0, x)\n",
    "delete-literal": HEAD + "    del 1\n    return x\n",
    "assign-to-literal": HEAD + "    1 = x\n    return x\n",
    "assign-to-call": HEAD + "    np.exp(x) = 1\n    return x\n",
    "augmented-tuple": HEAD + "    x, y += 1\n    return x\n",
    "assign-to-true": HEAD + "    True = x\n    return x\n",
    "assign-to-none": HEAD + "    None = x\n    return x\n",
    "assign-to-debug": HEAD + "    __debug__ = x\n    return x\n",
    "else-without-if": HEAD + "    else:\n        pass\n    return x\n",
    "elif-without-if": HEAD + "    elif x:\n        pass\n    return x\n",
    "try-without-except": HEAD + "    try:\n        z = x\n    return z\n",
    "lone-except": HEAD + "    except ValueError:\n        pass\n    return x\n",
    "decorator-without-def": "import numpy as np\n\n@np.vectorize\n\nx = 1\n",
    "bare-import": "import\n\ndef loss(x):\n    return x\n",
    "from-import-nothing": "from numpy import\n\ndef loss(x):\n    return x\n",
    "from-import-unclosed": "from numpy import (exp, log\n\ndef loss(x):\n    return x\n",
    "fstring-empty": HEAD + "    z = f'{}'\n    return x\n",
    "fstring-bad-conversion": HEAD + "    z = f'{x!z}'\n    return x\n",
    "fstring-unclosed": HEAD + "    z = f'{x'\n    return x\n",
    "bytes-non-ascii": HEAD + "    z = b'\u00e9'\n    return x\n",
    "invalid-decimal": HEAD + "    return 1abc * x\n",
    "leading-zeros": HEAD + "    return 0777 * x\n",
    "double-underscore-number": HEAD + "    return 1__0 * x\n",
    "empty-hex": HEAD + "    return 0x * x\n",
    "empty-exponent": HEAD + "    return 1e * x\n",
    "bare-star-parameter": "def loss(*):\n    return 1\n",
    "default-before-plain": "def loss(x=1.0, y):\n    return x\n",
    "unparenthesized-generator": HEAD + "    return np.sum(v for v in x, 1)\n",
    "starred-alone": HEAD + "    *z = x\n    return z\n",
    "two-starred": HEAD + "    a, *b, *c = x\n    return a\n",
    "starred-value": HEAD + "    z = *x\n    return z\n",
    "attribute-number": HEAD + "    return x.1\n",
    "double-dot": HEAD + "    return x..T\n",
    "two-names": HEAD + "    z = x y\n    return z\n",
    "pass-pass": HEAD + "    pass pass\n    return x\n",
    "with-no-colon": HEAD + "    with open('f') as h\n        pass\n    return x\n",
    "continuation-at-eof": HEAD + "    return x + \\",
    "class-no-colon": "class C\n    pass\n\ndef loss(x):\n    return x\n",
    "lambda-default-order": HEAD + "    g = lambda a=1, b: a\n    return x\n",
    "call-with-keyword-expression": HEAD + "    return np.sum(x, axis + 1=0)\n",
    "stray-backtick": HEAD + "    return `x`\n",
    "stray-dollar": HEAD + "    return $x\n",
    "stray-question": HEAD + "    return x?\n",
    "return-type-arrow-missing": "def loss(x) -> :\n    return x\n",
    "parameter-literal": "def loss(1):\n    return 1\n",
    "parameter-repeated-star": "def loss(*a, *b):\n    return 1\n",
    "kwargs-then-param": "def loss(**k, x):\n    return x\n",
    "missing-paren-def": "def loss x:\n    return x\n",
    "nested-parens-201": HEAD + "    return " + "(" * 201 + "x" + ")" * 201 + "\n",
    "nested-calls-201": HEAD + "    return " + "np.exp(" * 201 + "x" + ")" * 201 + "\n",
    "indentation-101": "def loss(x):\n" + "".join("    " * (i + 1) + "if x:\n" for i in range(101)) + "    " * 102 + "x = 1\n    return x\n",
    "comparison-assign": HEAD + "    x < y = 1\n    return x\n",
    "in-keyword-target": HEAD + "    for x in in y:\n        pass\n    return x\n",
    "match-broken": HEAD + "    match x:\n        case:\n            pass\n    return x\n",
    "unicode-identifier-start": HEAD + "    \u00b2z = x\n    return x\n",
    "only-operator": HEAD + "    **\n    return x\n",
    "at-alone": HEAD + "    z = @\n    return x\n",
    "async-comprehension-outside": HEAD + "    z = [v async for v in x]\n    return x\n",
    "backslash-in-middle": HEAD + "    z = x \\ y\n    return z\n",
    "return-in-class-body": "class C:\n    return 1\n\ndef loss(x):\n    return x\n",
    "semicolon-start": HEAD + "    ; z = x\n    return x\n",
}
for name, text in SYNTAX.items():
    add(f"syntax-{name}", "syntax error", {"loss.py": text}, gen(text), 2, CPYTHON)

# a syntax error in an --include file: its own path and place
for name in ("missing-colon-def", "unclosed-paren", "euro-sign", "leading-zeros"):
    helper = SYNTAX[name]
    add(f"syntax-in-include-{name}", "syntax error", {
        "loss.py": "import numpy as np\nfrom helpers import g\n\n\ndef loss(x):\n    return np.sum(g(x))\n",
        "helpers.py": helper,
    }, ["generate", "loss.py::loss", "--include", "helpers.py", "-o", "out.py"], 2, CPYTHON + ":helpers.py")


# -- 2. files CPython rejects though it parses them --------------------------------------------
REJECTED = {
    "duplicate-parameter": "def loss(x, x):\n    return x\n",
    "duplicate-keyword-only": "def loss(x, *, y, y):\n    return x\n",
    "return-outside-function": "import numpy as np\nreturn 1\n\n\ndef loss(x):\n    return x\n",
    "yield-outside-function": "yield 1\n\n\ndef loss(x):\n    return x\n",
    "await-outside-async": HEAD + "    z = await x\n    return z\n",
    "nonlocal-at-module-level": "nonlocal y\n\n\ndef loss(x):\n    return x\n",
    "nonlocal-without-binding": HEAD + "    nonlocal z\n    return x\n",
    "nonlocal-of-a-parameter": HEAD + "    nonlocal y\n    return x\n",
    "global-after-use": HEAD + "    z = G\n    global G\n    return x\n",
    "global-of-a-parameter": HEAD + "    global x\n    return x\n",
    "bogus-future": "from __future__ import braces_please\n\n\ndef loss(x):\n    return x\n",
    "future-braces": "from __future__ import braces\n\n\ndef loss(x):\n    return x\n",
    "future-not-first": "import numpy as np\nfrom __future__ import annotations\n\n\ndef loss(x):\n    return x\n",
    "break-outside-loop": HEAD + "    break\n    return x\n",
    "continue-outside-loop": HEAD + "    continue\n    return x\n",
    "break-in-if": HEAD + "    if x:\n        break\n    return x\n",
    "continue-in-function-after-loop": HEAD + "    for i in range(2):\n        pass\n    continue\n    return x\n",
    "yield-in-class": "class C:\n    yield 1\n\n\ndef loss(x):\n    return x\n",
    "return-at-module-end": "def loss(x):\n    return x\n\n\nreturn 2\n",
    "starred-return-tuple-outside": "return *x\n\n\ndef loss(x):\n    return x\n",
    "annotated-global": HEAD + "    global z\n    z: int = 1\n    return x\n",
    "duplicate-parameter-lambda-default": "def loss(x, y, x=1):\n    return x\n",
    "nonlocal-and-global": "def outer():\n    z = 1\n\n    def loss(x):\n        global z\n        nonlocal z\n        return x\n    return loss\n",
    "await-in-lambda": HEAD + "    g = lambda: await x\n    return x\n",
    "yield-from-at-module": "yield from range(3)\n\n\ndef loss(x):\n    return x\n",
    "async-for-outside-async": HEAD + "    async for v in x:\n        pass\n    return x\n",
    "async-with-outside-async": HEAD + "    async with x:\n        pass\n    return x\n",
    "return-in-async-generator": "async def loss(x):\n    yield x\n    return x\n",
    "default-except-not-last": HEAD + "    try:\n        pass\n    except:\n        pass\n    except ValueError:\n        pass\n    return x\n",
}
for name, text in REJECTED.items():
    add(f"rejected-{name}", "rejected by CPython", {"loss.py": text}, gen(text), 2, CPYTHON)


# -- 3. unsupported constructs: a positioned refusal --------------------------------------------
def body(name, text, piece, words="", nth=0, kind="unsupported construct", function="loss"):
    source = HEAD + text
    argv = ["generate", f"loss.py::{function}", "-o", "out.py"]
    add(name, kind, {"loss.py": source}, argv, 2, at(source, piece, nth=nth), words)


body("with-block", "    with open(y) as h:\n        pass\n    return x\n", "with", "`with`")
body("try-block", "    try:\n        z = x\n    except Exception:\n        z = y\n    return z\n", "try", "`try`")
body("try-finally", "    try:\n        z = x\n    finally:\n        z = y\n    return z\n", "try", "`try`")
body("class-inside", "    class C:\n        pass\n    return x\n", "class", "classes")
body("global", "    global G\n    return x\n", "global", "`global`")
body("del", "    z = x\n    del z\n    return x\n", "del", "`del`")
body("import-inside", "    import math\n    return x\n", "import math", "imports inside")
body("from-import-inside", "    from math import exp\n    return x\n", "from math", "imports inside")
body("match", "    match x:\n        case 1:\n            z = x\n        case _:\n            z = y\n    return z\n", "match", "`match`")
body("yield", "    yield x\n    return x\n", "yield", "generators")
body("starred-target", "    a, *b = x\n    return a\n", "*b", "starred")
body("attribute-target", "    x.T = 1\n    return x\n", "x.T", "attribute")
body("for-else", "    for i in range(3):\n        x = x + 1\n    else:\n        x = 0\n    return x\n", "else", "`else` on a loop")
body("while-else", "    while x > 0:\n        x = x - 1\n    else:\n        x = 0\n    return x\n", "else", "`else` on a loop")
body("chained-assignment", "    a = b = x\n    return a\n", "a = b", "chained")
body("bare-annotation", "    z: float\n    return x\n", "z: float", "bare annotation")
body("expression-statement", "    np.exp(x)\n    return x\n", "np.exp", "no effect")
body("expression-statement-name", "    x\n    return x\n", "x\n", "no effect")
body("assign-into-expression", "    x.T[0] = 1.0\n    return np.sum(x)\n", "x.T[0]", "assignment into")
body("assign-into-nested", "    x[0][1] = 1.0\n    return np.sum(x)\n", "x[0][1]", "assignment into")
body("shared-write", "    z = x\n    z[0] = 1.0\n    return np.sum(x * z)\n", "z[0]", "would change")
body("aliased-augmented", "    z = x\n    z += y\n    return np.sum(x)\n", "z +=", "would change")
body("view-write", "    a = x * 2.0\n    b = a[1:]\n    a[0] = 1.0\n    return np.sum(b * a)\n", "a[0] =", "would change")
body("unreachable", "    return x\n    z = y\n    return z\n", "z = y", "unreachable")
body("no-return", "    z = x * y\n", "def loss", "return", kind="unsupported construct")
body("return-nothing", "    return\n", "return", "`return` without a value")
body("some-paths-return", "    if x > 0:\n        return x\n    z = y\n", "if x", "some paths")
body("recursion", "    return helper(x, 3)\n\n\ndef helper(v, n):\n    return helper(v * 2.0, n)\n", "helper(v * 2.0", "recursion")
body("star-call-argument", "    return np.sum(*x)\n", "*x", "`*` arguments")
body("double-star-call-argument", "    return np.sum(**x)\n", "**x", "`**` arguments")
body("string-operand", "    return x * 'a'\n", "'a'", "strings are not numbers")
body("unsupported-keyword", "    return np.sum(x, dtype=float)\n", "dtype", "argument `dtype`")
body("shift-operator", "    return np.sum(x) << 1\n", "np.sum(x) << 1", "operator `<<`")
body("matrix-power-operator-in", "    if 0.0 < x in y:\n        return x\n    return y\n", "x in y", "operator `x in y`")
body("is-operator", "    if x is y:\n        return x\n    return y\n", "x is y", "operator")
body("not-in-operator", "    if x not in y:\n        return x\n    return y\n", "x not in y", "operator")
body("svd-full-matrices", "    return np.linalg.svd(x)[0]\n", "np.linalg.svd", "only supported when")
body("gradient-into-axis", "    return np.sum(y, axis=x)\n", "np.sum", "axis")
body("tuple-result", "    return np.linalg.slogdet(x)\n", "np.linalg.slogdet", "returns a tuple")
body("unknown-attribute", "    return np.sum(x.flat)\n", "x.flat", "attribute `.flat`")
body("unknown-method", "    return x.frobnicate()\n", "x.frobnicate", "`.frobnicate()`")
body("unknown-numpy-function", "    return np.frobnicate(x)\n", "np.frobnicate", "np.frobnicate")
body("unknown-numpy-submodule", "    return np.fft.fft(x)\n", "np.fft.fft", "np.fft.fft")
body("async-for", "    return x\n\n\nasync def other(v):\n    async for a in v:\n        pass\n", "async def", "", function="other")
add("async-def", "unsupported construct", {"loss.py": "async def loss(x):\n    return x\n"}, gen(""), 2, "loss.py:1:1", "async")
add("decorated", "unsupported construct", {"loss.py": "import functools\n\n\n@functools.cache\ndef loss(x):\n    return x\n"},
    gen(""), 2, "loss.py:4:1", "decorated")
add("star-args", "unsupported construct", {"loss.py": "def loss(x, *rest):\n    return x\n"}, gen(""), 2, "loss.py:1:13", "`*args`")
add("star-kwargs", "unsupported construct", {"loss.py": "def loss(x, **options):\n    return x\n"}, gen(""), 2, "loss.py:1:13", "`**kwargs`")
add("no-parameters", "unsupported construct", {"loss.py": "def loss():\n    return 1.0\n"}, gen(""), 2, "loss.py:1:5", "no parameters")
add("only-docstring", "unsupported construct", {"loss.py": 'def loss(x):\n    """Nothing."""\n'}, gen(""), 2, "loss.py:1:1", "no body")
add("body-only-pass", "unsupported construct", {"loss.py": "def loss(x):\n    pass\n"}, gen(""), 2, "loss.py:1:1", "return")
for index, stmt in enumerate(["with x:\n        pass", "try:\n        pass\n    except Exception:\n        pass",
                              "del x", "global G", "import os"]):
    text = HEAD + "    if x > 0:\n        z = x\n    else:\n        z = y\n    for i in range(2):\n        " + stmt.replace("\n    ", "\n        ") + "\n    return z\n"
    add(f"nested-unsupported-{index}", "unsupported construct", {"loss.py": text}, gen(text), 2,
        at(text, "import os" if stmt == "import os" else stmt.split()[0].rstrip(":")))


# -- 4. unknown names ---------------------------------------------------------------------------
body("unknown-name", "    return x * scale\n", "scale", "unknown name `scale`", kind="unknown name")
body("unknown-name-in-if", "    if k > 0:\n        return x\n    return y\n", "k > 0", "unknown name `k`", kind="unknown name")
body("unknown-name-in-loop", "    for i in range(n):\n        x = x * 2.0\n    return x\n", "n)", "unknown name `n`", kind="unknown name")
body("unknown-function", "    return np.sum(softplus(x))\n", "softplus", "not defined or imported", kind="unknown name")
body("unknown-function-nested", "    return np.sum(np.exp(relu(x) * 2.0))\n", "relu", "not defined or imported", kind="unknown name")
body("misspelled-numpy", "    return np.summ(x)\n", "np.summ", "np.summ", kind="unknown name")
body("unimported-module", "    return scipy.special.expit(x)\n", "scipy", "unknown name", kind="unknown name")
body("unimported-math", "    return math.exp(x)\n", "math", "unknown name", kind="unknown name")
body("unknown-name-after-use", "    z = w\n    w = x\n    return z\n", "w\n", "unknown name `w`", kind="unknown name")
body("name-from-a-branch-only", "    return x * undefined_thing\n", "undefined_thing", "unknown name", kind="unknown name")
body("unknown-name-subscript", "    return x[idx]\n", "idx", "unknown name", kind="unknown name")
body("unknown-name-keyword", "    return np.sum(x, axis=ax)\n", "ax)", "unknown name", kind="unknown name")
body("unknown-in-helper", "    return helper(x)\n\n\ndef helper(v):\n    return v * missing\n", "missing", "unknown name", kind="unknown name")
body("np-not-a-number", "    return x * np.exp\n", "np.exp", "", kind="unknown name")
body("unknown-numpy-constant", "    return x * np.golden\n", "np.golden", "", kind="unknown name")
body("relative-import", "    return np.sum(rbf(x))\n\n\nfrom .kernels import rbf\n", "rbf(x)", "relative import", kind="unknown name")
body("relative-import-module", "    return np.sum(kernels.rbf(x))\n\n\nfrom . import kernels\n", "kernels.rbf", "--include", kind="unknown name")
body("relative-import-parent", "    return np.sum(rbf(x))\n\n\nfrom ..kernels import rbf\n", "rbf(x)", "--include", kind="unknown name")
body("imported-not-included", "    return np.sum(rbf(x))\n\n\nfrom kernels import rbf\n", "rbf(x)", "--include", kind="unknown name")
for builtin in ("open", "eval", "exec", "input", "compile", "__import__", "globals", "vars"):
    body(f"builtin-{builtin}", f"    return np.sum(x * {builtin}(y))\n", f"{builtin}(", "", kind="unknown name")


# -- 5. module constants with side effects ----------------------------------------------------------
for label, value in [
    ("np-save", "np.save('k.npy', np.ones(3))"), ("np-load", "np.load('k.npy')"), ("np-loadtxt", "np.loadtxt('k.txt')"),
    ("np-genfromtxt", "np.genfromtxt('k.txt')"), ("np-fromfile", "np.fromfile('k.bin')"),
    ("np-memmap", "np.memmap('k.bin')"), ("np-random-rand", "np.random.rand(3)"),
    ("np-random-normal", "np.random.normal(size=3)"), ("np-random-seed", "np.random.seed(0)"),
    ("rng-method", "np.random.default_rng(0).normal(size=3)"), ("open-read", "open('k.txt').read()"),
    ("nested-load", "np.sum(np.load('k.npy'))"), ("savetxt", "np.savetxt('k.txt', np.ones(3))"),
    ("user-function", "make()"), ("os-call", "os.getcwd()"),
]:
    text = f"import os\n\nimport numpy as np\n\nK = {value}\n\n\ndef loss(x):\n    return np.sum(x * K)\n"
    add(f"constant-{label}", "side-effect constant", {"loss.py": text}, gen(text), 2,
        at(text, "np.load" if label == "nested-load" else value), "parameter")
    default = f"import numpy as np\n\n\ndef loss(x, K={value}):\n    return np.sum(x * K)\n"
    if label in ("np-load", "np-random-rand", "open-read"):
        add(f"default-{label}", "side-effect constant", {"loss.py": default}, gen(default), 2, at(default, value), "parameter")


# -- 6. the function is not there -----------------------------------------------------------------
for label, target, source in [
    ("misspelled", "loss.py::los", GOOD),
    ("other-name", "loss.py::gradient", GOOD),
    ("nested-function", "loss.py::inner", "def outer(x):\n    def inner(v):\n        return v\n    return inner(x)\n"),
    ("method", "loss.py::f", "class C:\n    def f(self, x):\n        return x\n"),
    ("variable", "loss.py::K", "K = 1.0\n\n\ndef loss(x):\n    return x * K\n"),
    ("keyword-name", "loss.py::def", GOOD),
    ("class-name", "loss.py::C", "class C:\n    pass\n"),
    ("imported-function", "loss.py::exp", "from numpy import exp\n"),
    ("dunder", "loss.py::__init__", GOOD),
    ("unicode-name", "loss.py::l\u00f6ss", GOOD),
]:
    add(f"missing-function-{label}", "function not there", {"loss.py": source}, ["generate", target, "-o", "out.py"], 2,
        "loss.py:1:1", "no function")


# -- 7. empty and near-empty files --------------------------------------------------------------------
for label, text in [("empty", ""), ("whitespace", "   \n\n\t\n"), ("comment", "# nothing here\n"),
                    ("docstring", '"""A module."""\n'), ("imports-only", "import numpy as np\n"),
                    ("newline", "\n"), ("crlf-only", "\r\n\r\n"), ("form-feed", "\x0c\n")]:
    add(f"empty-{label}", "empty file", {"loss.py": text}, gen(text), 2, "loss.py:1:1", "no function")


# -- 8. wrt names that are not parameters ---------------------------------------------------------------
for label, wrt in [("unknown", "z"), ("one-unknown", "x,z"), ("duplicate", "x,x"), ("keyword", "def"),
                   ("case", "X"), ("builtin", "len"), ("spaced", " z "), ("unicode", "\u00fc")]:
    add(f"wrt-{label}", "wrt not a parameter", {"loss.py": GOOD}, ["generate", "loss.py::loss", "--wrt", wrt, "-o", "out.py"],
        2, at(GOOD, "loss"), "--wrt")
for label, wrt in [("empty", ""), ("comma", ","), ("commas", ",,"), ("space", " "), ("newline", "x\ny"),
                   ("two-words", "x y"), ("star", "*"), ("number", "1x"), ("dot", "x.y"), ("bracket", "x[0]"),
                   ("trailing-comma", "x,"), ("tab", "x\ty"), ("escape", "\x1b[31mx")]:
    add(f"wrt-bad-{label}", "bad CLI argument", {"loss.py": GOOD}, ["generate", "loss.py::loss", "--wrt", wrt, "-o", "out.py"],
        2, "loss.py", "--wrt")


# -- 9. bad command lines -------------------------------------------------------------------------------
for label, argv in [
    ("no-command", []), ("unknown-command", ["frobnicate"]), ("generate-no-target", ["generate"]),
    ("unknown-option", ["generate", "loss.py::loss", "--frobnicate"]), ("wrt-no-value", ["generate", "loss.py::loss", "--wrt"]),
    ("o-no-value", ["generate", "loss.py::loss", "-o"]), ("two-targets", ["generate", "loss.py::loss", "loss.py::loss"]),
    ("verify-no-inputs", ["verify", "loss.py::loss"]), ("tolerance-not-number", ["verify", "loss.py::loss", "--inputs", "i.py::m", "--tolerance", "abc"]),
    ("directions-not-int", ["verify", "loss.py::loss", "--inputs", "i.py::m", "--directions", "1.5"]),
    ("seed-not-int", ["verify", "loss.py::loss", "--inputs", "i.py::m", "--seed", "x"]),
    ("unknown-option-newline", ["generate", "loss.py::loss", "--bad\nflag"]), ("build-with-module", ["build", "mod.py"]),
    ("rules-unknown-option", ["rules", "--frobnicate"]),
]:
    add(f"cli-{label}", "bad CLI argument", {"loss.py": GOOD}, argv, 2, USAGE)
for label, target, shown in [
    ("no-separator", "loss.py", "loss.py"), ("no-function", "loss.py::", "loss.py::"), ("no-path", "::loss", "::loss"),
    ("function-not-identifier", "loss.py::1loss", "loss.py::1loss"), ("function-dotted", "loss.py::a.b", "loss.py::a.b"),
    ("function-with-space", "loss.py::lo ss", "loss.py::lo ss"), ("empty-target", "", "''"), ("only-separator", "::", "::"),
    ("single-colon", "loss.py:loss", "loss.py:loss"), ("function-with-newline", "loss.py::lo\nss", "loss.py::lo\\nss"),
]:
    add(f"cli-target-{label}", "bad CLI argument", {"loss.py": GOOD}, ["generate", target, "-o", "out.py"], 2, shown, "PATH::FUNCTION")
add("cli-output-empty", "bad CLI argument", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", ""], 2, "''", "-o needs a file name")
add("cli-check-target-without-o", "bad CLI argument", {"loss.py": GOOD}, ["check", "loss.py::loss"], 2, "loss.py::loss", "-o OUT")
add("cli-check-two-targets", "bad CLI argument", {"loss.py": GOOD}, ["check", "loss.py::loss", "loss.py::loss", "-o", "out.py"], 2, "loss.py::loss", "-o OUT")
add("cli-check-no-header", "bad CLI argument", {"loss.py": GOOD, "mod.py": "x = 1\n"}, ["check", "mod.py"], 2, "mod.py", "no codegen header")
add("cli-check-header-bad-source", "bad CLI argument", {"mod.py": "# source: nothing\n# wrt: x\n"}, ["check", "mod.py"], 2, "nothing", "PATH::FUNCTION")
# `codegen check` with no modules and `codegen build`: a project's [tool.codegen] table
for label, argv in [("check", ["check"]), ("build", ["build"]), ("build-check", ["build", "--check"])]:
    add(f"project-none-{label}", "bad CLI argument", {"loss.py": GOOD}, argv, 2, ".", "no pyproject.toml with a [tool.codegen] table")
TARGET = '[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = "loss.py::loss"\n'
for label, table, line, words in [
    ("bad-toml", "[tool.codegen\n", "1:14", "not valid TOML"), ("not-a-table", "[tool]\ncodegen = 3\n", "1:1", "is missing or not a table"),
    ("no-targets", "[tool.codegen]\n", "1:1", "needs targets"), ("targets-not-tables", "[tool.codegen]\ntargets = [1, 2]\n", "2:1", "needs targets"),
    ("unknown-key", TARGET + "wrtt = 'x'\n", "5:1", "unknown key `wrtt`"), ("source-no-function", TARGET.replace("::loss", ""), "4:1", "PATH::FUNCTION"),
    ("wrt-not-names", TARGET + "wrt = 3\n", "5:1", "must name parameters"), ("mode-unknown", TARGET + "mode = ['sideways']\n", "5:1", "`mode` must be"),
    ("output-is-source", TARGET + "output = 'loss.py'\n", "5:1", "writing there would replace it"),
    ("output-not-py", TARGET + "output = 'out.txt'\n", "5:1", "must be the path of a .py file"),
    ("output-outside", TARGET + "output = '../out.py'\n", "5:1", "outside the project"),
    ("rules-not-paths", TARGET + "rules = 3\n", "5:1", "must be a path or a list of paths"),
    ("test-name", TARGET + "test = 'check.py'\n", "5:1", "test_*.py"),
    ("inputs-bad", TARGET + "test = 'test_l.py'\ninputs = 'x'\n", "6:1", "`inputs` must be"),
    ("duplicate-output", TARGET + "\n[[tool.codegen.targets]]\nsource = 'loss.py::loss'\n", "6:1", "two targets write loss_grad.py"),
    ("null-in-path", TARGET + 'output = "a\\u0000.py"\n', "5:1", "control character"),
]:
    argv = ["build", "--project", "pyproject.toml"] if label == "not-a-table" else ["build"]  # (else: not found)
    add(f"project-{label}", "bad CLI argument", {"loss.py": GOOD, "pyproject.toml": table}, argv, 2, f"pyproject.toml:{line}", words)
add("project-source-missing", "bad path", {"pyproject.toml": TARGET}, ["build"], 2, "loss.py", "cannot read")
add("project-source-bad", "bad CLI argument", {"loss.py": HEAD + "    return np.sum(mystery(x))\n", "pyproject.toml": TARGET}, ["check"], 2, "loss.py:5:19", "mystery")
add("cli-check-header-missing-source", "bad path", {"mod.py": "# source: gone.py::loss\n# wrt: x\n"}, ["check", "mod.py"], 2, "gone.py", "cannot read")


# -- 10. bad paths ----------------------------------------------------------------------------------------
def _link(name, target):
    return lambda root: os.symlink(target, root / name)


def _hard(name, target):
    return lambda root: os.link(root / target, root / name)


def _folder(name):
    return lambda root: (root / name).mkdir()


def _both(*steps):
    def run(root):
        for step in steps:
            step(root)
    return run


add("path-missing-source", "bad path", {}, ["generate", "absent.py::loss", "-o", "out.py"], 2, "absent.py", "No such file")
add("path-source-is-folder", "bad path", {}, ["generate", "pkg::loss", "-o", "out.py"], 2, "pkg", "folder", setup=_folder("pkg"))
add("path-source-missing-folder", "bad path", {}, ["generate", "nope/loss.py::loss", "-o", "out.py"], 2, "nope/loss.py", "cannot read")
add("path-source-parent-is-file", "bad path", {"loss.py": GOOD}, ["generate", "loss.py/x.py::loss", "-o", "out.py"], 2, "loss.py/x.py", "cannot read")
add("path-source-dangling-link", "bad path", {}, ["generate", "link.py::loss", "-o", "out.py"], 2, "link.py", "cannot read",
    setup=_link("link.py", "gone.py"))
add("path-source-link-loop", "bad path", {}, ["generate", "a.py::loss", "-o", "out.py"], 2, "a.py", "cannot read",
    setup=_both(_link("a.py", "b.py"), _link("b.py", "a.py")))
add("path-include-missing", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "--include", "gone.py", "-o", "out.py"], 2, "gone.py", "cannot read")
add("path-include-folder", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "--include", "pkg", "-o", "out.py"], 2, "pkg",
    "cannot read", setup=_folder("pkg"))
add("path-rules-missing", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "--rules", "gone", "-o", "out.py"], 2, "gone", "does not exist")
add("path-output-folder", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "adir"], 2, "adir", "folder", setup=_folder("adir"))
add("path-output-dot", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "."], 2, ".", "folder")
add("path-output-missing-parent", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "nope/out.py"], 2, "nope/out.py", "does not exist")
add("path-output-parent-is-file", "bad path", {"loss.py": GOOD, "afile": "x"}, ["generate", "loss.py::loss", "-o", "afile/out.py"], 2, "afile/out.py", "not a folder")
add("path-output-name-too-long", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "a" * 300 + ".py"], 2, "a" * 300 + ".py", "")
add("path-output-link-to-missing-folder", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "link.py"], 2, "link.py", "does not exist",
    setup=_link("link.py", "nope/out.py"))
for label, out, setup in [
    ("same", "loss.py", None), ("dot-slash", "./loss.py", None), ("dot-dot", "sub/../loss.py", _folder("sub")),
    ("double-slash", ".//loss.py", None), ("symlink", "link.py", _link("link.py", "loss.py")),
    ("hard-link", "hard.py", _hard("hard.py", "loss.py")), ("symlinked-folder", "d/loss.py", _link("d", ".")),
]:
    add(f"output-onto-source-{label}", "output onto an input", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", out], 2, out,
        "names the input file", setup=setup)
add("output-onto-source-absolute", "output onto an input", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "{root}/loss.py"], 2,
    "{root}/loss.py", "names the input file")
HELPERS = "import numpy as np\n\n\ndef g(v):\n    return v * 2.0\n"
USES_G = "import numpy as np\nfrom helpers import g\n\n\ndef loss(x):\n    return np.sum(g(x))\n"
add("output-onto-include", "output onto an input", {"loss.py": USES_G, "helpers.py": HELPERS},
    ["generate", "loss.py::loss", "--include", "helpers.py", "-o", "./helpers.py"], 2, "./helpers.py", "names the input file")
add("output-onto-include-link", "output onto an input", {"loss.py": USES_G, "helpers.py": HELPERS},
    ["generate", "loss.py::loss", "--include", "helpers.py", "-o", "h.py"], 2, "h.py", "names the input file", setup=_link("h.py", "helpers.py"))
add("output-into-rules", "output onto an input", {"loss.py": GOOD, "rules/keep.txt": "rules\n"},
    ["generate", "loss.py::loss", "--rules", "rules", "-o", "rules/new.py"], 2, "rules/new.py", "--rules directory")
add("check-output-onto-source", "output onto an input", {"loss.py": GOOD}, ["check", "loss.py::loss", "-o", "./loss.py"], 2, "./loss.py", "names the input file")
add("check-output-onto-include", "output onto an input", {"loss.py": USES_G, "helpers.py": HELPERS},
    ["check", "loss.py::loss", "--include", "helpers.py", "-o", "helpers.py"], 2, "helpers.py", "names the input file")

# verify: missing inputs and makers
MAKER = "import numpy as np\n\n\ndef make():\n    return {'x': np.ones(3), 'y': np.ones(3)}\n"
add("verify-inputs-missing", "bad path", {"loss.py": GOOD}, ["verify", "loss.py::loss", "--inputs", "gone.py::make"], 2, "gone.py", "cannot read")
add("verify-maker-missing", "bad path", {"loss.py": GOOD, "inputs.py": MAKER}, ["verify", "loss.py::loss", "--inputs", "inputs.py::other"], 2,
    "inputs.py", "no function `other`")
add("verify-maker-raises", "bad path", {"loss.py": GOOD, "inputs.py": "def make():\n    return 1 / 0\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make"], 2, "inputs.py:2:1", "ZeroDivisionError")
add("verify-maker-not-dict", "bad path", {"loss.py": GOOD, "inputs.py": "def make():\n    return [1.0]\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make"], 2, "inputs.py", "return a dict")
add("verify-inputs-syntax-error", "bad path", {"loss.py": GOOD, "inputs.py": "def make(:\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make"], 2, CPYTHON + ":inputs.py", "raised SyntaxError")
add("verify-inputs-bad-target", "bad CLI argument", {"loss.py": GOOD}, ["verify", "loss.py::loss", "--inputs", "inputs.py"], 2, "inputs.py", "PATH::FUNCTION")
add("verify-module-missing", "bad path", {"loss.py": GOOD, "inputs.py": MAKER},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make", "--module", "gone.py"], 2, "gone.py", "cannot read")
add("verify-module-no-header", "bad path", {"loss.py": GOOD, "inputs.py": MAKER, "mod.py": "x = 1\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make", "--module", "mod.py"], 2, "mod.py", "header")
add("verify-module-not-python", "bad path", {"loss.py": GOOD, "inputs.py": MAKER, "mod.py": "def (\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make", "--module", "mod.py"], 2, "mod.py", "not valid Python")
add("verify-wrong-maker-keywords", "bad path", {"loss.py": GOOD, "inputs.py": "def make():\n    return {'q': 1.0}\n"},
    ["verify", "loss.py::loss", "--inputs", "inputs.py::make"], 2, "loss.py", "raised")


# -- 11. encodings --------------------------------------------------------------------------------------------
LATIN = "# -*- coding: latin-1 -*-\nimport numpy as np\n\n\ndef loss(x):\n    # caf\u00e9\n    return np.sum(x * 2.0)\n"
add("encoding-latin1-with-cookie", "encoding", {"loss.py": LATIN.encode("latin-1")}, gen(""), 0, None, real=True)
add("encoding-cp1252-with-cookie", "encoding", {"loss.py": LATIN.replace("latin-1", "cp1252").replace("\u00e9", "\u20ac").encode("cp1252")}, gen(""), 0, None)
add("encoding-utf8-bom", "encoding", {"loss.py": codecs.BOM_UTF8 + GOOD.encode()}, gen(""), 0, None)
add("encoding-utf8-cookie", "encoding", {"loss.py": "# coding: utf-8\n" + GOOD}, gen(""), 0, None)
add("encoding-crlf", "encoding", {"loss.py": GOOD.replace("\n", "\r\n").encode()}, gen(""), 0, None)
add("encoding-latin1-no-cookie", "encoding", {"loss.py": LATIN.split("\n", 1)[1].encode("latin-1")}, gen(""), 2, "loss.py:5:10", "0xe9", real=True)
add("encoding-latin1-in-string", "encoding", {"loss.py": (HEAD + "    s = 'd\u00e9j\u00e0'\n    return x\n").encode("latin-1")}, gen(""), 2, "loss.py:5:11", "0xe9")
add("encoding-latin1-line1", "encoding", {"loss.py": "# \u00e9\n".encode("latin-1") + GOOD.encode()}, gen(""), 2, "loss.py:1:3", "0xe9")
add("encoding-latin1-in-identifier", "encoding", {"loss.py": (HEAD + "    caf\u00e9 = x\n    return x\n").encode("latin-1")}, gen(""), 2, "loss.py:5:8", "0xe9")
add("encoding-utf16-le", "encoding", {"loss.py": codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")}, gen(""), 2, "loss.py:1:1", "UTF-16", real=True)
add("encoding-utf16-be", "encoding", {"loss.py": codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be")}, gen(""), 2, "loss.py:1:1", "UTF-16")
add("encoding-utf32", "encoding", {"loss.py": GOOD.encode("utf-32")}, gen(""), 2, "loss.py:1:1", "UTF-16")
add("encoding-utf16-no-bom", "encoding", {"loss.py": GOOD.encode("utf-16-le")}, gen(""), 2, "loss.py:1:2", "null byte")
add("encoding-binary-elf", "encoding", {"loss.py": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))}, gen(""), 2, "loss.py:1:8", "null byte", real=True)
add("encoding-png", "encoding", {"loss.py": b"\x89PNG\r\n\x1a\n" + b"\x00" * 8}, gen(""), 2, "loss.py:3:1", "null byte")
add("encoding-gzip", "encoding", {"loss.py": b"\x1f\x8b\x08\x00" + b"\xff" * 8}, gen(""), 2, "loss.py:1:4", "null byte")
add("encoding-high-bytes", "encoding", {"loss.py": b"\xff\xfe\xfd not python\n"}, gen(""), 2, "loss.py:1:1", "UTF-16")
add("encoding-random-high", "encoding", {"loss.py": b"\xc3\x28 = 1\n"}, gen(""), 2, "loss.py:1:1", "0xc3")
add("encoding-null-in-code", "encoding", {"loss.py": (HEAD + "    return x\x00\n").encode()}, gen(""), 2, "loss.py:5:13", "null byte")
add("encoding-unknown-cookie", "encoding", {"loss.py": b"# coding: klingon\n" + GOOD.encode()}, gen(""), 2, "loss.py:1:1", "klingon")
add("encoding-cookie-line-2-unknown", "encoding", {"loss.py": b"#!/usr/bin/env python\n# coding: nope-42\n" + GOOD.encode()}, gen(""), 2, "loss.py:2:1", "nope-42")
add("encoding-ascii-cookie-with-utf8", "encoding", {"loss.py": ("# coding: ascii\n" + HEAD + "    # \u00e9\n    return x\n").encode()}, gen(""), 2, "loss.py:6:7", "ascii")
add("encoding-bom-and-latin-cookie", "encoding", {"loss.py": codecs.BOM_UTF8 + b"# coding: latin-1\n" + GOOD.encode()}, gen(""), 2, "loss.py:1:1", "")
add("encoding-overlong-utf8", "encoding", {"loss.py": HEAD.encode() + b"    # \xc0\xaf\n    return x\n"}, gen(""), 2, "loss.py:5:7", "0xc0")
add("encoding-surrogate-utf8", "encoding", {"loss.py": HEAD.encode() + b"    # \xed\xa0\x80\n    return x\n"}, gen(""), 2, "loss.py:5:7", "0xed")
add("encoding-truncated-utf8", "encoding", {"loss.py": HEAD.encode() + b"    return x  # \xe2\x82"}, gen(""), 2, "loss.py:5:17", "0xe2")
add("encoding-include-latin1", "encoding", {"loss.py": USES_G, "helpers.py": ("# \u00e9\n" + HELPERS).encode("latin-1")},
    ["generate", "loss.py::loss", "--include", "helpers.py", "-o", "out.py"], 2, "helpers.py:1:3", "0xe9")
add("encoding-check-module-latin1", "encoding", {"loss.py": GOOD, "mod.py": b"# \xe9\n"}, ["check", "mod.py"], 2, "mod.py:1:1", "not UTF-8")


# -- 12. deep expressions and huge statements -----------------------------------------------------------------------
def deep(label, expression, piece="return", expect=2, where=None):
    text = HEAD + "    z = x * 2.0\n    return " + expression + "\n"
    add(f"deep-{label}", "deep nesting", {"loss.py": text}, gen(""), expect,
        where if where is not None else at(text, piece), "split it")


for n in (101, 1000, 10000, 20000):
    deep(f"sum-{n}", "np.sum(" + " + ".join(["x"] * n) + ")")
    deep(f"minus-{n}", "np.sum(" + "-" * n + "x)")
    deep(f"subscript-{n}", "np.sum(x" + "[0]" * n + ")")
for n in (1000, 30000):
    deep(f"product-{n}", "np.sum(" + " * ".join(["x"] * n) + ")")
    deep(f"power-{n}", "np.sum(" + " ** ".join(["x"] * n) + ")")
    deep(f"not-{n}", "np.sum(x) * (" + "not " * n + "x)")
    deep(f"attribute-{n}", "np.sum(x" + ".T" * n + ")")
    deep(f"conditional-{n}", "np.sum(" + "x if y else " * n + "x)")
    deep(f"call-chain-{n}", "np.sum(x" + ".copy()" * n + ")")
    deep(f"invert-{n}", "np.sum(" + "~" * n + "x)")
deep("list-1000", "np.sum(np.array([" + ", ".join(["x[0]"] * 1000) + "]))")
deep("call-args-2000", "np.sum(np.array([" + ", ".join(["1.0"] * 2000) + "]))")
deep("string-concat-5000", "np.sum(x) * len(" + " ".join(["'a'"] * 5000) + ")")
deep("mixed-1000", "np.sum(" + " + ".join(["-x[0]"] * 1000) + ")")
add("deep-sum-100000-real", "deep nesting", {"loss.py": HEAD + "    return " + " + ".join(["x"] * 100000) + "\n"}, gen(""), 2,
    "loss.py:5:5", "split it", real=True)
add("deep-minus-50000-real", "deep nesting", {"loss.py": HEAD + "    return " + "-" * 50000 + "x\n"}, gen(""), 2,
    "loss.py:5:5", "split it", real=True)
deep_helper = HEAD + "    return helper(x)\n\n\ndef helper(v):\n    return " + " + ".join(["v"] * 500) + "\n"
add("deep-in-helper", "deep nesting", {"loss.py": deep_helper}, gen(""), 2, at(deep_helper, "return", nth=1), "split it")
deep_constant = "import numpy as np\n\nK = " + " + ".join(["1.0"] * 3000) + "\n\n\ndef loss(x):\n    return np.sum(x * K)\n"
add("deep-constant", "deep nesting", {"loss.py": deep_constant}, gen(""), 2, "loss.py:3:1", "split it")
deep_include = "import numpy as np\n\n\ndef g(v):\n    return " + "-" * 5000 + "v\n"
add("deep-in-include", "deep nesting", {"loss.py": USES_G, "helpers.py": deep_include},
    ["generate", "loss.py::loss", "--include", "helpers.py", "-o", "out.py"], 2, "helpers.py:5:5", "split it")


# -- 13. hostile names and odd but valid input (exit 0 where it is valid) -------------------------------------------
add("ok-plain", "valid input", {"loss.py": GOOD}, gen(""), 0, None, real=True)
add("ok-stdout", "valid input", {"loss.py": GOOD}, ["generate", "loss.py::loss"], 0, None)
add("ok-path-with-space", "hostile name", {"my loss.py": GOOD}, ["generate", "my loss.py::loss", "-o", "out.py"], 0, None)
add("ok-path-with-colons", "hostile name", {"a::b.py": GOOD}, ["generate", "a::b.py::loss", "-o", "out.py"], 0, None)
add("ok-unicode-path", "hostile name", {"verlust\u00e9.py": GOOD}, ["generate", "verlust\u00e9.py::loss", "-o", "out.py"], 0, None)
add("ok-unicode-function", "hostile name", {"loss.py": GOOD.replace("def loss", "def verlust\u00e9")},
    ["generate", "loss.py::verlust\u00e9", "-o", "out.py"], 0, None)
add("ok-output-via-symlink", "hostile name", {"loss.py": GOOD, "real/grad.py": "old\n"}, ["generate", "loss.py::loss", "-o", "grad.py"], 0,
    None, setup=_link("grad.py", "real/grad.py"))
add("ok-long-output-name", "hostile name", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "a" * 250 + ".py"], 0, None)
NP_PARAMETER = "import numpy\n\n\ndef loss(np, y):\n    return numpy.sum(np * y)\n"
add("hostile-parameter-named-np", "hostile name", {"loss.py": NP_PARAMETER}, gen(""), 2, at(NP_PARAMETER, "np, y"), "rename it")
add("ok-dash-path", "hostile name", {"-loss.py": GOOD}, ["generate", "./-loss.py::loss", "-o", "out.py"], 0, None)
add("hostile-newline-in-path", "hostile name", {}, ["generate", "a\nb.py::loss", "-o", "out.py"], 2, "a\\nb.py", "cannot read")
add("hostile-escape-in-path", "hostile name", {}, ["generate", "\x1b[2Jx.py::loss", "-o", "out.py"], 2, "\\x1b[2Jx.py", "cannot read")
add("hostile-newline-in-output", "hostile name", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "nope\n/out.py"], 2, "nope\\n/out.py", "does not exist")
add("hostile-long-path", "hostile name", {}, ["generate", "a" * 5000 + ".py::loss", "-o", "out.py"], 2, "a" * 5000 + ".py", "cannot read")
add("hostile-long-function", "hostile name", {"loss.py": GOOD}, ["generate", "loss.py::" + "f" * 5000, "-o", "out.py"], 2, "loss.py:1:1", "no function")
add("hostile-dev-null", "hostile name", {}, ["generate", "/dev/null::loss", "-o", "out.py"], 2, "/dev/null:1:1", "no function")
add("hostile-dev-zero-out", "hostile name", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "/dev/null/x.py"], 2, "/dev/null/x.py", "not a folder")
add("hostile-bidi-in-source", "hostile name", {"loss.py": HEAD + "    return x * y  # \u202e evil\n"}, gen(""), 0, None)
SHADOW = GOOD.replace("x * y", "x * grad_loss").replace("(x, y)", "(x, grad_loss)")
add("hostile-name-shadows-generated", "hostile name", {"loss.py": SHADOW}, gen(""), 2, at(SHADOW, "grad_loss"), "rename it")
add("hostile-newline-in-source-name", "hostile name", {"x\nimport os#.py": GOOD}, ["generate", "x\nimport os#.py::loss", "-o", "out.py"], 2,
    "x\\nimport os#.py", "control character")
add("hostile-newline-in-include-name", "hostile name", {"loss.py": USES_G, "help\ners.py": HELPERS},
    ["generate", "loss.py::loss", "--include", "help\ners.py", "-o", "out.py"], 2, "help\\ners.py", "control character")
add("hostile-tab-in-source-name", "hostile name", {"a\tb.py": GOOD}, ["generate", "a\tb.py::loss"], 2, "a\\tb.py", "control character")
HUGE_POWER = HEAD + "    return np.sum(x * y) * 10 ** 10 ** 10 + 2 ** 2 ** 2 ** 2 ** 2 ** 2\n"
add("ok-huge-integer-power", "valid input", {"loss.py": HUGE_POWER}, gen(""), 0, None)
CYCLE = "import numpy as np\n\nA = B + 1.0\nB = 2.0 * A\n\n\ndef loss(x):\n    return np.sum(x * A)\n"
add("constant-cycle", "unknown name", {"loss.py": CYCLE}, gen(""), 2, at(CYCLE, "A\n"), "defined in terms of itself")
CLASS_CALL = "import numpy as np\n\n\nclass C:\n    pass\n\n\ndef loss(x):\n    return np.sum(C.f(x))\n"
add("class-attribute-call", "unknown name", {"loss.py": CLASS_CALL}, gen(""), 2, at(CLASS_CALL, "C.f"), "unknown name `C`")
for label, option in [("directions-zero", ["--directions", "0"]), ("directions-negative", ["--directions", "-3"]),
                      ("tolerance-nan", ["--tolerance", "nan"]), ("tolerance-negative", ["--tolerance", "-1"]),
                      ("tolerance-inf", ["--tolerance", "inf"]), ("tolerance-zero", ["--tolerance", "0"])]:
    add(f"cli-verify-{label}", "bad CLI argument", {"loss.py": GOOD, "inputs.py": MAKER},
        ["verify", "loss.py::loss", "--inputs", "inputs.py::make", *option], 2, USAGE)
add("path-output-fifo", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "pipe"], 2, "pipe", "not a regular file",
    setup=lambda root: os.mkfifo(root / "pipe"))
add("path-output-link-to-fifo", "bad path", {"loss.py": GOOD}, ["generate", "loss.py::loss", "-o", "link.py"], 2, "link.py",
    "not a regular file", setup=_both(lambda root: os.mkfifo(root / "pipe"), _link("link.py", "pipe")))
add("path-output-fifo-with-include", "bad path", {"loss.py": GOOD, "h.py": HELPERS}, ["generate", "loss.py::loss", "--include", "h.py", "-o", "pipe"], 2,
    "pipe", "not a regular file", setup=lambda root: os.mkfifo(root / "pipe"))
