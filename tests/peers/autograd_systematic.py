"""codegen on the combinations of autograd's tests/test_systematic.py (issue 15: "your
own adaptation of autograd's test suite").

    python tests/peers/autograd_systematic.py [-v]

autograd's file tests each NumPy function on every combination of a few inputs and
keywords (its `stat_check`, `unary_ufunc_check`, `binary_ufunc_check` and
`combo_check`). The functions, input shapes, value ranges and keywords below are those
facts, written here as combinations (tests/peers/combos.py); the values are this
file's own random draws. Complex variants are listed where autograd's test mixes them
into one list (they are skipped, with the reason); the separate complex halves of the
ufunc checks are left out. How a case runs: tests/peers/harness.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from combos import Lit, combo, transform  # noqa: E402

_rng = np.random.default_rng(0)


def R(*shape):
    return _rng.standard_normal(shape) if shape else float(_rng.standard_normal())


def U(*shape):
    return _rng.random(shape)


def C(*shape):
    return R(*shape) + 1j * R(*shape)


def stat(name):
    x, a, b, c, d = 3.5, R(), R(3), R(2, 3), R(1, 3)
    call = f"np.{name}"
    return (
        combo(name, call, [0], [x, a])
        + combo(name, call, [0], [b, c, d], axis=[None, 0], keepdims=[True, False])
        + combo(name, call, [0], [c, d], axis=[None, 0, 1], keepdims=[True, False])
    )


def unary(name, call, lims=(-2.0, 2.0)):
    values = [transform(lims, 0.4), transform(lims, U(2)), transform(lims, U(3, 2)), transform(lims, U(1, 2))]
    return combo(name, call, [0], values)


def binary(name, call, lims_a=(-2.0, 2.0), lims_b=(-2.0, 2.0), same=True):
    if same:
        a = [0.6, U(2), U(3, 2), U(1, 2)]
        b = a
    else:
        a = [0.6, U(2), U(3, 2), U(1, 2)]
        b = [0.7, U(2), U(3, 2), U(1, 2)]
    return combo(name, call, [0, 1], [transform(lims_a, v) for v in a], [transform(lims_b, v) for v in b])


CASES = []
for _name in ("max", "mean", "min", "sum", "prod", "var", "std"):
    CASES += stat(_name)

for _name, _call, _lims in [
    ("sin", "np.sin", None), ("abs", "np.abs", (0.1, 4.0)), ("absolute", "np.absolute", (0.1, 4.0)),
    ("arccosh", "np.arccosh", (1.1, 4.0)), ("arcsinh", "np.arcsinh", (-0.9, 0.9)),
    ("arctanh", "np.arctanh", (-0.9, 0.9)), ("ceil", "np.ceil", (-1.5, 1.5)), ("cos", "np.cos", None),
    ("cosh", "np.cosh", None), ("deg2rad", "np.deg2rad", None), ("degrees", "np.degrees({}) / 50.0", None),
    ("exp", "np.exp", None), ("exp2", "np.exp2", None), ("expm1", "np.expm1", None), ("fabs", "np.fabs", None),
    ("floor", "np.floor", (-1.5, 1.5)), ("log", "np.log", (0.2, 2.0)), ("log10", "np.log10", (0.2, 2.0)),
    ("log1p", "np.log1p", (0.2, 2.0)), ("log2", "np.log2", (0.2, 2.0)),
    ("rad2deg", "np.rad2deg({}) / 50.0", None), ("radians", "np.radians", None), ("sign", "np.sign", None),
    ("sinh", "np.sinh", None), ("sqrt", "np.sqrt", (1.0, 3.0)), ("square", "np.square", None),
    ("tan", "np.tan", (-1.1, 1.1)), ("tanh", "np.tanh", None), ("real", "np.real", None),
    ("real_if_close", "np.real_if_close", None), ("imag", "np.imag", None), ("conj", "np.conj", None),
    ("conjugate", "np.conjugate", None), ("angle", "np.angle", None),
]:
    CASES += unary(_name, _call, _lims or (-2.0, 2.0))

CASES += binary("add", "np.add")
CASES += binary("logaddexp", "np.logaddexp")
CASES += binary("logaddexp2", "np.logaddexp2")
CASES += binary("remainder", "np.remainder", (-0.9, 0.9), (0.7, 1.9), same=False)
CASES += binary("true_divide", "np.true_divide", lims_b=(0.8, 1.2))
CASES += binary("mod", "np.mod", lims_b=(0.8, 2.1), same=False)
CASES += binary("true_divide negative", "np.true_divide", lims_b=(-0.3, -2.0))
CASES += binary("mod negative", "np.mod", lims_b=(-0.3, -2.0), same=False)
# The operators, written as operators (autograd passes operator.mul and friends).
for _name, _op, _lims_b, _same in [("*", "*", None, True), ("+", "+", None, True), ("-", "-", None, True),
                                   ("%", "%", (0.3, 2.0), False), ("% negative", "%", (-0.3, -2.0), False)]:
    for _case in binary("operator " + _name, "np.add", lims_b=_lims_b or (-2.0, 2.0), same=_same):
        _label, _body, _specs, *_flags = _case
        CASES.append((_label, _body.replace("np.add(x, y)", f"x {_op} y"), _specs, *_flags))

CASES += combo("transpose", "np.transpose", [0], [R(2, 3, 4)],
               axes=[None, (0, 1, 2), (0, 2, 1), (2, 0, 1), (2, 1, 0), (1, 0, 2), (1, 2, 0)])
CASES += combo("moveaxis", "np.moveaxis", [0], [R(2, 3, 4)], source=[0, 1, 2], destination=[0, 1, 2])
CASES += combo("repeat", "np.repeat", [0], [R(2, 3, 4), R(3, 1)], repeats=[0, 1, 2], axis=[None, 0, 1])
CASES += combo("diff", "np.diff", [0], [R(5, 5), R(5, 5, 5)], n=[1, 2], axis=[0, 1])
CASES += combo("diff", "np.diff", [0], [R(1), R(1, 1)], axis=[0])
CASES += combo("diff", "np.diff", [0], [R(1, 1), R(3, 1)], axis=[1])
CASES += combo("gradient", "np.gradient", [0], [R(5, 5), R(5, 5, 5)], axis=[None, 0, 1, -1])
CASES += combo("gradient", "np.gradient", [0], [R(5, 5, 5)], axis=[(0, 1), (0, -1)])
CASES += combo("tile", "np.tile", [0], [R(2, 1, 3, 1)], reps=[(1, 4, 1, 2)])
CASES += combo("tile", "np.tile", [0], [R(1, 2)], reps=[(1, 2), (2, 3), (3, 2, 1)])
CASES += combo("tile", "np.tile", [0], [R(1)], reps=[(2,), 2])
CASES += combo("kron", "np.kron", [0, 1], [R(5, 5), R(4, 4), R(5), R(5, 1), R(1, 5), R(), C(5, 5)],
               [R(3, 3), R(2, 2), R(3), R(1, 3), R(3, 1), R(), C(3, 3)])
CASES += combo("inner", "np.inner", [0, 1], [1.5, R(3), R(2, 3)], [0.3, R(3), R(4, 3)])
CASES += combo("dot", "np.dot", [0, 1], [1.5, R(3), R(2, 3), R(2, 2, 3), C(3), C(2, 3)],
               [0.3, R(3), R(3, 4), R(2, 3, 4), C(3)])
CASES += combo("outer", "np.outer", [0, 1], [R(3), C(3)], [R(3), C(3)])
CASES += combo("matmul", "np.matmul", [0, 1], [R(3), R(2, 3), R(2, 2, 3), C(3), C(2, 3)],
               [R(3), R(3, 4), R(2, 3, 4), C(3), C(3, 4)])
CASES += combo("matmul broadcast", "np.matmul", [0, 1], [R(1, 2, 2)], [R(3, 2, 1)])
CASES += combo("tensordot 1", "np.tensordot", [0, 1], [R(1, 3), R(2, 3, 2), C(1, 3)],
               [R(3), R(3, 1), R(3, 4, 2), C(3)], axes=[((1,), (0,))])
CASES += combo("tensordot 2", "np.tensordot", [0, 1], [R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)],
               axes=[((0,), (1,))])
CASES += combo("tensordot 3", "np.tensordot", [0, 1], [R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)],
               axes=[((0, 1), (1, 2)), ((1, 0), (2, 1))])
CASES += combo("tensordot 4", "np.tensordot", [0, 1], [R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)], axes=[1, 2])
CASES += combo("tensordot 5", "np.tensordot", [0, 1], [R(4)], [R()], axes=[0])
CASES += combo("tensordot 6", "np.tensordot", [0, 1], [R(2, 6)], [R(6, 3)], axes=[((-1,), (0,))])
CASES += combo("tensordot 7", "np.tensordot", [0, 1], [R(2, 6)], [R(6, 3)], axes=[(-1, 0)])
CASES += combo("tensordot 8", "np.tensordot", [0, 1], [R(2)], [R(2, 2)], axes=[(0, 1)])
for _name in ("maximum", "fmax", "minimum", "fmin"):
    CASES += combo(_name, f"np.{_name}", [0, 1], [R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])
CASES += combo("sort", "np.sort", [0], [R(1), R(7)])
CASES += combo("partition", "np.partition", [0], [R(7), R(14)], kth=[0, 3, 6])
for _name in ("atleast_1d", "atleast_2d"):
    CASES += combo(_name, f"np.{_name}", [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])
CASES += combo("atleast_3d", "np.atleast_3d", [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5), R(2, 4, 3, 5)])
CASES += combo("einsum transpose", "np.einsum", [1], ["ij->ji"], [R(1, 1), R(4, 4), R(3, 4)])
CASES += combo("einsum matmul", "np.einsum", [1, 2], ["ij,jk->ik"], [R(2, 3), C(2, 3)], [R(3, 4), C(3, 4)])
CASES += combo("einsum matmul broadcast", "np.einsum", [1, 2], ["...ij,...jk->...ik"], [R(2, 3), R(2, 2, 3)],
               [R(3, 4), R(2, 3, 4)])
CASES += combo("einsum matmul empty batch", "np.einsum", [1, 2], ["...ij,...jk->...ik"], [R(0, 2, 3)], [R(0, 3, 4)])
CASES += combo("einsum covsum", "np.einsum", [1, 2], ["ijk,lji->lki"], [R(3, 4, 4)], [R(4, 4, 3)])
CASES += combo("einsum ellipses", "np.einsum", [1, 2], ["...jk,...lj->...lk", "...,...->..."], [R(4, 4), R(3, 4, 4)],
               [R(4, 4), R(3, 4, 4)])
CASES += combo("einsum ellipses tail", "np.einsum", [1, 2], ["jk...,lj...->lk..."], [R(3, 2), R(3, 2, 4)],
               [R(2, 3), R(2, 3, 4)])
CASES += combo("einsum ellipses center", "np.einsum", [1, 2], ["j...k,lj...->lk..."], [R(2, 2), R(2, 2, 2)],
               [R(2, 2), R(2, 2, 2)])
CASES += combo("einsum three operands", "np.einsum", [1, 2], ["ijk,lji,lli->lki"], [R(3, 4, 4)], [R(4, 4, 3)],
               [R(4, 4, 3)])
CASES += combo("einsum sublists transpose", "np.einsum", [0], [R(1, 1), R(4, 4), R(3, 4)], [[0, 1]], [[1, 0]])
CASES += combo("einsum sublists matmul", "np.einsum", [0, 2], [R(2, 3)], [[0, 1]], [R(3, 4)], [[1, 2]], [[0, 2]])
CASES += combo("einsum naked sum", "np.einsum", [1, 2], ["k,nk->"], [R(5)], [R(10, 5)])
CASES += combo("einsum naked sum 2", "np.einsum", [1], ["abcd->bd"], [R(3, 2, 3, 2)])
CASES += combo("einsum naked sum ellipsis", "np.einsum", [1, 2], ["...k,...nk->..."], [R(3, 5)], [R(3, 10, 5)])
CASES += combo("einsum no output indices", "np.einsum", [1, 2], ["ij,k"], [R(3, 4)], [R(3)])
CASES += combo("trace", "np.trace", [0], [R(5, 5), R(4, 5), R(5, 4), R(3, 4, 5)], offset=[-1, 0, 1])
CASES += combo("diag", "np.diag", [0], [R(5, 5)], k=[-1, 0, 1])
CASES += combo("diag of a vector", "np.diag", [0], [R(5)], k=[-1, 0, 1])
for _name in ("tril", "triu"):
    CASES += combo(_name, f"np.{_name}", [0], [R(5, 5)], k=[-1, 0, 1])
    CASES += combo(_name + " 3-D", f"np.{_name}", [0], [R(5, 5, 4)], k=[-1, 0, 1])
CASES += combo("swapaxes", "np.swapaxes", [0], [R(3, 4, 5)], axis1=[0, 1, 2], axis2=[0, 1, 2])
CASES += combo("rollaxis", "np.rollaxis", [0], [R(2, 3, 4)], axis=[0, 1, 2], start=[0, 1, 2])
CASES += combo("cross", "np.cross", [0, 1], [R(3, 3)], [R(3, 3)], axisa=[-1, 0, 1], axisb=[-1, 0, 1],
               axisc=[-1, 0, 1], axis=[None, -1, 0, 1])
for _name, _call, _values, _sections in [
    ("vsplit 2-D", "np.vsplit", [R(4, 8)], [4, [1, 2]]),
    ("vsplit 3-D", "np.vsplit", [R(4, 4, 4)], [2, [1, 2]]),
    ("hsplit 2-D", "np.hsplit", [R(4, 8)], [4, [1, 2]]),
    ("hsplit 3-D", "np.hsplit", [R(4, 4, 4)], [2, [1, 2]]),
    ("dsplit 3-D", "np.dsplit", [R(4, 4, 4)], [2, [1, 2]]),
]:
    CASES += [(*c, "parts") for c in combo(_name, _call, [0], _values, _sections)]
for _name, _call, _values, _sections, _axes in [
    ("split 1-D", "np.split", [R(1), R(7)], [1], [0]),
    ("split 2-D", "np.split", [R(4, 8)], [4, [1, 2]], [0, 1]),
    ("split 3-D", "np.split", [R(4, 4, 4)], [2, [1, 2]], [0, 1, 2]),
    ("array_split 1-D", "np.array_split", [R(1), R(7)], [1, 3], [0]),
    ("array_split 2-D", "np.array_split", [R(7, 7)], [4, [3, 5]], [0, 1]),
    ("array_split 3-D", "np.array_split", [R(7, 7, 7)], [4, [3, 5]], [0, 1, 2]),
]:
    CASES += [(*c, "parts") for c in combo(_name, _call, [0], _values, _sections, axis=_axes)]
CASES += combo("concatenate list", "np.concatenate", [0], [[R(1), R(3)]], axis=[0])
CASES += combo("concatenate tuple", "np.concatenate", [0], [(R(1), R(3))], axis=[0])
CASES += combo("concatenate 2-D", "np.concatenate", [0], [(R(2, 2), R(2, 2))], axis=[0, 1])
CASES += combo("concatenate 3-D", "np.concatenate", [0], [(R(2, 2, 2), R(2, 2, 2))], axis=[0, 1, 2])
for _name, _values in [
    ("vstack 1-D", [R(2), (R(2), R(2))]), ("vstack 2-D", [R(2, 3), (R(2, 4), R(1, 4))]),
    ("vstack 3-D", [R(2, 3, 4), (R(2, 3, 4), R(5, 3, 4))]),
    ("hstack 1-D", [R(2), (R(2), R(2))]), ("hstack 2-D", [R(3, 2), (R(3, 4), R(3, 5))]),
    ("hstack 3-D", [R(2, 3, 4), (R(2, 1, 4), R(2, 5, 4))]),
    ("row_stack 1-D", [R(2), (R(2), R(2))]), ("row_stack 2-D", [R(2, 3), (R(2, 4), R(1, 4))]),
    ("column_stack 1-D", [R(2), (R(2), R(2))]), ("column_stack 2-D", [R(2, 2), (R(2, 2), R(2, 2))]),
]:
    # np.row_stack was removed in NumPy 2.4 (an alias of vstack): written as vstack there.
    _call = "np." + _name.split()[0]
    if _call == "np.row_stack" and not hasattr(np, "row_stack"):
        _call = "np.vstack"
    CASES += combo(_name, _call, [0], _values)
CASES += combo("stack 1-D", "np.stack", [0], [(R(2),), (R(2), R(2))], axis=[0, 1])
CASES += combo("select", "np.select", [1], [[Lit("z > 0"), Lit("u > 0"), Lit("v > 0")]],
               [[R(3, 4, 5), R(3, 4, 5), R(3, 4, 5)]], default=[0.0, 1.1])
# select's conditions: data arrays the body compares, as autograd's test builds them.
_select = []
for _label, _body, _specs, *_flags in [c for c in CASES if c[0].startswith("select")]:
    _specs = dict(_specs, z=("data", R(3, 4, 5)), u=("data", R(3, 4, 5)), v=("data", R(3, 4, 5)))
    _body = _body.replace("def f(x):", "def f(x, z, u, v):")
    _select.append((_label, _body, _specs, *_flags))
CASES = [c for c in CASES if not c[0].startswith("select")] + _select
CASES += combo("pad", "np.pad", [0], [R(2, 2)], [0, 3, (3,), (3, 2), ((3, 2),), ((1, 2), (3, 4)), ((0, 0), (0, 0))],
               ["constant"])


def run(verbose: bool = False) -> dict:
    return harness.run(CASES, verbose=verbose)


if __name__ == "__main__":
    harness.main(CASES)
