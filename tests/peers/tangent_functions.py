"""codegen on the functions of Tangent's tests/functions.py (issue 15: "your own
adaptation of ... Tangent's tests/functions.py").

    python tests/peers/tangent_functions.py [-v]

Tangent's file is a list of small functions its tests differentiate on every input its
conftest gives a parameter of that name: a, b, c (scalars among -2 .. 2), n (1, 2, 3),
x (vectors of 3, 5, 10 values), sqm (square matrices 1x1 and 5x5), plus a few
functions tested on inputs of their own (logistic_regression, rnn, bilinear, the
dict and tuple ones). Each function below keeps its body (renamed `f`, with the
file's helper functions it calls beside it); the inputs are those facts, with b and
c paired to a by rotation rather than every combination. Left out: the TensorFlow
functions (`tfe_*`, `_trace_mul`), and those that test Tangent's own machinery
(`tangent.Stack`, `tangent.push`/`pop`, `insert_grad_of`): stack_pushing,
useless_stack_ops, redefining_var_as_list, inlining_contextmanager. Those Tangent
itself leaves out of its runs (listcomp, cart2polar, fn_multiple_return,
iterpower_with_nested_def, active_subscript, init_array_grad_maybe_active) are in.
How a case runs: tests/peers/harness.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

SCALARS = [-2.0, -1.5, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 1.5, 2.0]
INTEGERS = [1, 2, 3]
_rng = np.random.default_rng(3)
VECTORS = [_rng.standard_normal(n) for n in (3, 5, 10)]
MATRICES = [_rng.standard_normal((1, 1)), _rng.standard_normal((5, 5))]

# name, parameters, body (f and the helpers it calls)
FUNCTIONS = [
    ("id_", "a", "def f(a):\n    return a"),
    ("unary_sub", "a", "def f(a):\n    return -a"),
    ("sum_", "x", "def f(x):\n    return np.sum(x)"),
    ("cast_sum_", "x", "def f(x):\n    return np.sum(np.array(x))"),
    ("overwrite_call", "x", "def f(x):\n    x = np.sum(x)\n    x = x * x\n    return x"),
    ("tanh", "a", "def f(a):\n    return np.tanh(a)"),
    ("identity_assign", "a", "def f(a):\n    b = a\n    return b"),
    ("increment", "a", "def f(a):\n    return a + 1"),
    ("saxpy", "abc", "def f(a, b, c):\n    return a * b + c"),
    ("mul", "ab", "def f(a, b):\n    return a * b"),
    ("add", "ab", "def f(a, b):\n    return a + b"),
    ("saxpy_call", "abc", "def mul(a, b):\n    return a * b\n\n\ndef add(a, b):\n    return a + b\n\n\n"
     "def f(a, b, c):\n    return add(mul(a, b), c)"),
    ("saxpy_anf", "abc", "def f(a, b, c):\n    t1 = a * b\n    t2 = t1 + c\n    return t2"),
    ("saxpy_overwrite", "abc", "def f(a, b, c):\n    t = a * b\n    t = t + c\n    return t"),
    ("gradname_aliasing", "a", "def f(a):\n    da = a * a\n    return da"),
    ("overwrite_if", "a", "def f(a):\n    if a > 0:\n        a = a * 3.0\n    else:\n        a = a * 2.0\n    return a"),
    ("binop_mul1", "a", "def f(a):\n    return a * 3.0"),
    ("binop_mul2", "a", "def f(a):\n    return 3.0 * a"),
    ("binop_mul3", "a", "def f(a):\n    return a * a"),
    ("binop_div1", "a", "def f(a):\n    return a / 3.0"),
    ("binop_div2", "a", "def f(a):\n    return 3.0 / a"),
    ("binop_div3", "a", "def f(a):\n    return a / a"),
    ("binop_sub1", "a", "def f(a):\n    return a - 3.0"),
    ("binop_sub2", "a", "def f(a):\n    return 3.0 - a"),
    ("binop_sub3", "a", "def f(a):\n    return a - a"),
    ("binop_add1", "a", "def f(a):\n    return a + 3.0"),
    ("binop_add2", "a", "def f(a):\n    return 3.0 + a"),
    ("binop_add3", "a", "def f(a):\n    return a + a"),
    ("nested_if", "a", "def f(a):\n    if a > 0:\n        if a < 10:\n            a = a * a\n    else:\n"
     "        a = 3.0 * a\n    return a"),
    ("multiarg_if", "a", "def f(a):\n    if a * a / 3.0 > 0:\n        b = 3.0\n    else:\n        b = 4.0\n"
     "    a = a * b\n    if a < b - a * b:\n        a = a * a\n    elif a > b + 3.0 * a:\n        if a / 2.0 < 0:\n"
     "            a = a / b\n        else:\n            a = a * b\n    else:\n        a = -a\n    return a"),
    ("fn_multiply", "a", "def f(a):\n    return np.multiply(a, 3.0)"),
    ("fn_multiple_return", "a", "def f(a):\n    return 2 * a, a", "parts"),
    ("anf_list", "a", "def f(a):\n    b = [1, a * a, 2]\n    return np.sum(b)"),
    ("deep_anf_list", "x", "def f(x):\n    b = [1, x[0] * x[1] * x[2], 3]\n    return np.sum(b)"),
    ("subscript1", "x", "def f(x):\n    a = x[0]\n    b = x[1]\n    return a * b"),
    ("subscript2", "x", "def f(x):\n    a = x[0]\n    b = x[1]\n    x[0] = a * b\n    return np.sum(x)"),
    ("subscript3", "x", "def f(x):\n    y = x ** 2.0\n    x[0] = y[1] * y[2]\n    return np.sum(x * y)"),
    ("list_and_subscript", "a", "def f(a):\n    x = [1.0, a, 3.0]\n    return x[0] * x[1]"),
    ("implicit_indexing", "x", "def f(x):\n    res = 0.0\n    for a in x:\n        res += a\n    return res"),
    ("serial_if", "a", "def f(a):\n    if a > 0:\n        a = a * a\n    a = a + a\n    if a < 0:\n        a = 3.0 * a\n"
     "    return a"),
    ("multivar_if", "ab", "def f(a, b):\n    if a > b:\n        a = a * a\n    else:\n        a = a * b\n    return a"),
    ("serial_for", "an", "def f(a, n):\n    for i in range(n):\n        a = a * a\n    a = 2.0 * a\n"
     "    for i in range(n + 1):\n        a = a * 3.0\n    return a"),
    ("serial_ifthenfor", "an", "def f(a, n):\n    if a > 0:\n        a = a * a\n    a = 2.0 * a\n    for i in range(n):\n"
     "        a = a * a\n    return a"),
    ("serial_forthenif", "an", "def f(a, n):\n    for i in range(n):\n        a = a * a\n    a = 2.0 * a\n    if a > 0:\n"
     "        a = a * a\n    return a"),
    ("devilish_nested_if", "a", "def f(a):\n    if a > 0:\n        a = a * 3.0\n        if a < 10:\n            a = a * a\n"
     "        else:\n            a = a * 2.0\n    return a"),
    ("overwrite_ifelse", "a", "def f(a):\n    if a > 0:\n        a = a * 3.0\n    elif 0 > a:\n        a = a * 2.0\n"
     "    else:\n        a = 1.0 * a\n    return a"),
    ("overwrite_arg", "a", "def f(a):\n    a = a * 3.0\n    return a"),
    ("overwrite_non_arg", "a", "def f(a):\n    b = a\n    b = b * 3.0\n    return b"),
    ("third_pow", "a", "def f(a):\n    return a * a * a"),
    ("direct_third_pow", "a", "def f(a):\n    return a ** 3"),
    ("iter_third_pow1", "a", "def f(a):\n    out = 1\n    for i in range(3):\n        out = out * a\n    return out"),
    ("iter_third_pow2", "a", "def f(a):\n    out = a\n    for i in range(3 - 1):\n        out = out * a\n    return out"),
    ("iterpower_static", "a", "def f(a):\n    for i in range(3):\n        a = a * a\n    return a"),
    ("iterpower", "an", "def f(a, n):\n    for i in range(n):\n        a = a * a\n    return a"),
    ("cond_iterpower1", "a", "def f(a):\n    for i in range(3):\n        if a < 20:\n            a = a * a\n    return a"),
    ("cond_iterpower2", "a", "def f(a):\n    if a < 20:\n        for i in range(3):\n            a = a * a\n    return a"),
    ("superfor_iterpower", "a", "def f(a):\n    for i in range(2):\n        for j in range(3):\n            a = a * a\n"
     "    return a"),
    ("super_iterpower", "a", "def f(a):\n    for i in range(3):\n        a = a * a * a\n    return a"),
    ("numpy_sum", "x", "def f(x):\n    return np.sum(x)"),
    ("numpy_mean", "x", "def f(x):\n    return np.mean(x)"),
    ("numpy_exp", "a", "def f(a):\n    return np.exp(a)"),
    ("numpy_exp2", "a", "def f(a):\n    return np.exp(np.exp(a))"),
    ("numpy_sqrt", "a", "def f(a):\n    if a >= 0:\n        r = np.sqrt(a)\n    else:\n        r = np.sqrt(-a)\n    return r"),
    ("numpy_cos", "a", "def f(a):\n    return np.cos(a)"),
    ("numpy_sin", "a", "def f(a):\n    return np.sin(a)"),
    ("numpy_tan", "a", "def f(a):\n    return np.tan(a)"),
    ("numpy_cosh", "a", "def f(a):\n    return np.cosh(a)"),
    ("numpy_sinh", "a", "def f(a):\n    return np.sinh(a)"),
    ("numpy_tanh", "a", "def f(a):\n    return np.tanh(a)"),
    ("numpy_arccos", "a", "def f(a):\n    return np.arccos(a)"),
    ("numpy_arcsin", "a", "def f(a):\n    return np.arcsin(a)"),
    ("numpy_arctan", "a", "def f(a):\n    return np.arctan(a)"),
    ("numpy_atleast_1d", "x", "def f(x):\n    return np.sum(np.atleast_1d(x))"),
    ("numpy_atleast_2d", "x", "def f(x):\n    return np.sum(np.atleast_2d(x))"),
    ("numpy_atleast_3d", "x", "def f(x):\n    return np.sum(np.atleast_3d(x))"),
    ("det", "m", "def f(sqm):\n    return np.linalg.det(sqm)"),
    ("mul_with_call", "ab", "def _inner_fn(a, b):\n    return a * b\n\n\ndef f(a, b):\n    return _inner_fn(a, b)"),
    ("if_mul_with_call", "ab", "def _inner_fn(a, b):\n    return a * b\n\n\ndef f(a, b):\n    if a > b:\n"
     "        o = _inner_fn(a, b)\n    else:\n        o = _inner_fn(b, a)\n    return o"),
    ("iterpower_with_call", "an", "def _inner_fn(a, b):\n    return a * b\n\n\ndef f(a, n):\n    for i in range(n):\n"
     "        a = _inner_fn(a, a)\n    return a"),
    ("nested_call", "ab", "def _inner_fn(a, b):\n    return a * b\n\n\ndef mul_with_call(a, b):\n"
     "    return _inner_fn(a, b)\n\n\ndef f(a, b):\n    return mul_with_call(a, b)"),
    ("iterpower_with_nested_def", "an", "def f(a, n):\n    def _fn(a, n):\n        return a * n\n\n"
     "    for i in range(n):\n        a = _fn(a, a)\n    return a"),
    ("cart2polar", "ab", "def f(a, b):\n    r = np.sqrt(a**2.0 + b**2.0)\n    theta = np.arctan(b, a)\n"
     "    return r, theta", "parts"),
    ("listcomp", "x", "def f(a):\n    return np.sum([i * 3 for i in a])"),
    ("while_big", "a", "def f(a):\n    while np.abs(a) > 0.1:\n        a = a * 0.5\n    return a"),
    ("active_subscript", "x", "def f(x):\n    y = np.zeros_like(x)\n    for i in range(len(x)):\n        y[i] = x[i]\n"
     "    return np.sum(y)"),
    ("init_array_grad_maybe_active", "x", "def f(x):\n    h = np.zeros((len(x), 3))\n    for t in range(len(h)):\n"
     "        h[t] = x[t]\n    return np.sum(h)"),
    ("slicing", "x", "def f(x):\n    return np.sum(x[1:])"),
    ("augassign", "a", "def f(a):\n    x = a * a\n    x *= x\n    return x"),
    ("gradgrad_pow", "ab", "def f(a, b):\n    if a >= 0:\n        a = a ** b\n    else:\n        a = (-a) ** b\n    return a"),
    ("gradgrad_pow_twice", "a", "def f(a):\n    a = a * a\n    y = a * a\n    return y"),
    ("gradgrad_chain_of_mults", "a", "def f(a):\n    b = a\n    b = a * a\n    c = b * b\n    d = c * c\n    return d"),
    ("gradgrad_chain_of_multcalls", "a", "def mul(a, b):\n    return a * b\n\n\ndef f(a):\n    b = mul(a, a)\n"
     "    c = mul(b, b)\n    d = mul(c, c)\n    return d"),
    ("extended_slice", "x2", "def f(x):\n    return np.sum(x[::2, np.newaxis])"),
]


def _cases():
    cases = []
    for name, kind, body, *flags in FUNCTIONS:
        if kind == "a":
            inputs = [{"a": a} for a in SCALARS]
        elif kind == "ab":
            inputs = [{"a": a, "b": SCALARS[(i + 3) % 10]} for i, a in enumerate(SCALARS)]
        elif kind == "abc":
            inputs = [{"a": a, "b": SCALARS[(i + 3) % 10], "c": SCALARS[(i + 7) % 10]} for i, a in enumerate(SCALARS)]
        elif kind == "an":
            inputs = [{"a": a, "n": ("data", n)} for a in SCALARS[::3] for n in INTEGERS]
        elif kind in ("x", "x2"):
            inputs = [{"x": ("value", v)} for v in VECTORS]
        elif kind == "m":
            inputs = [{"sqm": ("value", m)} for m in MATRICES]
        for i, specs in enumerate(inputs):
            if name == "listcomp":
                specs = {"a": specs["x"]}
            cases.append((f"{name} {i}", body, specs, *flags))
    # The functions Tangent tests on inputs of their own
    label = np.zeros(5)
    label[1] = 1.0
    cases.append((
        "logistic_regression",
        "def f(input, label, W, b):\n    h1 = np.dot(input, W) + b\n    prediction = 0.5 * (np.tanh(h1) + 1)\n"
        "    label_probabilities = prediction * label + (1 - prediction) * (1 - label)\n"
        "    loss = -np.sum(np.log(label_probabilities))\n    return loss",
        {"input": ("data", _rng.random(3)), "label": ("data", label), "W": (3, 5), "b": (5,)},
    ))
    cases.append((
        "rnn",
        "def f(inputs, W):\n    h = np.zeros((4, 3))\n    for t in range(3):\n        h[t + 1] = np.dot(inputs[t], W) + h[t]\n"
        "    return np.sum(h[1:])",
        {"inputs": (3, 2), "W": (2, 3)},
    ))
    cases.append((
        "bilinear",
        "def f(x, h, U, W, b):\n    y = np.dot(x, W)\n    y = y + np.dot(h, U)\n    y = y + b\n    y = np.tanh(y)\n"
        "    return np.sum(y)",
        {"x": (1, 3), "h": (1, 3), "U": (3, 3), "W": (3, 3), "b": (3,)},
    ))
    for i, (a, b, c) in enumerate(zip(SCALARS, SCALARS[3:] + SCALARS[:3], SCALARS[7:] + SCALARS[:7])):
        cases.append((f"dict_saxpy {i}", "def f(val):\n    return val['a'] * val['b'] + val['c']",
                      {"val": ("tree", {"a": a, "b": b, "c": c})}))
        cases.append((f"unpacking_args_saxpy {i}", "def f(abc_packed_in_tuple):\n    a, b, c = abc_packed_in_tuple\n"
                      "    return a * b + c", {"abc_packed_in_tuple": ("tree", (a, b, c))}))
        cases.append((f"dict_wrapper {i}", "def dict_saxpy(val):\n    return val['a'] * val['b'] + val['c']\n\n\n"
                      "def f(abc_packed_in_tuple):\n    a, b, c = abc_packed_in_tuple\n"
                      "    return dict_saxpy(dict(a=a, b=b, c=c))", {"abc_packed_in_tuple": ("tree", (a, b, c))}))
        cases.append((f"passthru_unpack {i}", "def f(abc_packed_in_tuple):\n    a, b, c = abc_packed_in_tuple\n    return a",
                      {"abc_packed_in_tuple": ("tree", (a, b, c))}))
        cases.append((f"passthru_pack {i}", "def f(a, b, c, i):\n    x = a, b, c\n    return x[i]",
                      {"a": a, "b": b, "c": c, "i": ("data", i % 3)}))
    cases.append(("nested_dict", "def f(p):\n    return p['i']['j'] * p['i']['k']",
                  {"p": ("tree", {"i": {"j": 1.5, "k": -0.7}})}))
    return cases


CASES = _cases()


def run(verbose: bool = False) -> dict:
    return harness.run(CASES, verbose=verbose)


if __name__ == "__main__":
    harness.main(CASES)
