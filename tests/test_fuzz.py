"""Differential fuzzing: random straight-line NumPy losses, written from fixed seeds.

For each seed, `program(seed)` writes the source of a loss `f` of two or three float
parameters (a vector `x` of shape (5,), a scalar or vector `w`, maybe a (3, 5)
matrix `M`) and picks its inputs. The module codegen generates from it is checked
against the source itself:

1. its value equals the function's (rtol 1e-12);
2. each gradient has its argument's shape and kind, and agrees with central
   differences in float64 (see STEPS, FD_RTOL and FD_ATOL);
3. `grad_f` returns exactly what `value_and_grad_f` returns;
4. where autograd is installed, the gradient equals autograd's on the same source
   (a separate test, skipped without autograd);
5. generating again, in another process with another hash seed, gives the same
   text.

A failure names its seed, and its message shows the program, wrt and the inputs.

The programs stay inside the documented subset (README, "What is supported"), and
are smooth and finite where they are evaluated:
- `np.exp` only of an argument within [-EXP_ARG, EXP_ARG] (tanh, sin, cos,
  -v**2 of a small v, small values);
- `np.log` and `np.sqrt` only of positive expressions (1 + v*v, exp, 2 + sin,
  1 + exp of a small value, a sigmoid p or 1 - p with p = 1 / (1 + exp(-h)));
- division only by a nonzero constant or by one of those positive expressions;
- no kinks (abs, maximum, ...), so finite differences see a smooth function; the
  one exception, np.max in a log-sum-exp or log-softmax shifted by its maximum,
  is only taken where the largest element leads the next by MAX_GAP;
- every intermediate value is computed as the program is written (with the same
  operations in the same order), and a candidate that overflows, underflows or
  passes LIMIT is thrown away; sin, cos and tanh see arguments below BOUNDED_ARG.
No statement's right-hand side is a bare name, a slice or a `.T` (a view), so no
two names ever share an array, and `+=` / `*=` (in place in NumPy) only ever change
an array that a single name holds, never the caller's. (codegen refuses `a += ...`
where another name holds the same array or may hold a view of it, such as
`b = a[1:]`; tests/test_errors.py keeps those cases.)
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from codegen import generate
from conftest import assert_matches_autograd, load_generated, random_input

# Seeds that find a codegen bug are left out of SEEDS until it is fixed (listed
# here with what went wrong), rather than marked xfail.
BUGS: dict[int, str] = {}
SEEDS = [seed for seed in range(160) if seed not in BUGS]

# Conditioning. Central differences resolve a derivative only where the function's
# higher derivatives are moderate: magnitudes stay below LIMIT, sin, cos and tanh
# see less than BOUNDED_ARG (a couple of periods, or tanh' > 1e-8), exp sees at
# most EXP_ARG unless wrapped, and a sigmoid's argument keeps p in [0.018, 0.982].
LIMIT = 1e3
STATEMENTS = (2, 10)  # 2 to 9 statements (a log-sum-exp writes two lines), and a return
BOUNDED_ARG = 10.0
EXP_ARG = 3.0
SIGMOID_ARG = 4.0
MAX_GAP = 1e-2  # the largest and second largest element differ by at least this

# Central differences, one coordinate at a time, with h = step * max(1, |x_i|).
# Their error is truncation, h^2 |f'''| / 6 (below 1e-12 |f'''| at the first step,
# nothing at these magnitudes), plus rounding, about eps * F / h ~ 1e-10 F, with F
# the size of the values f adds up (below LIMIT, usually near |f|). An entry passes
# within FD_RTOL of itself or FD_ATOL * max(1, |f|): a thousand times the rounding
# error where F is near |f|. Where f adds up values much larger than itself, which
# cancel (F ~ 1e3 |f|, say), rounding can pass that at the first step; so an entry
# that disagrees is tried again at 10x and 100x the step, where rounding error is
# 10x and 100x smaller, and passes if it agrees at any step. A wrong rule, a
# missing broadcast sum or a lost contribution is wrong at every step, by O(1);
# smaller errors are for the autograd comparison (1e-10) to find.
# (Not codegen.verify.check_gradient: it measures each random direction relative to
# that direction's derivative, which fails on a direction nearly orthogonal to the
# gradient, as one exploratory program did: 1.5e-5 "relative", from an error of
# 5e-9 in a gradient of norm 150.)
STEPS = (1e-6, 1e-5, 1e-4)
FD_RTOL = 1e-5
FD_ATOL = 1e-7

# Python's operator precedence, as far as the programs use it.
ATOM, POWER, UNARY, MUL, ADD = 100, 90, 80, 70, 60

# fmt: off
SLICES = {
    "[1:]": np.s_[1:], "[:-1]": np.s_[:-1], "[2:]": np.s_[2:], "[:-2]": np.s_[:-2], "[::2]": np.s_[::2],
    "[0]": np.s_[0], "[-1]": np.s_[-1], "[2]": np.s_[2], "[:, None]": np.s_[:, None], "[None, :]": np.s_[None, :],
    "[:, 1]": np.s_[:, 1], "[:, 1:]": np.s_[:, 1:], "[:, :-1]": np.s_[:, :-1],
}
# fmt: on
NAMES = ["a", "b", "c", "u", "v", "z", "h", "p", "q", "s", "r", "g", "k", "m", "e", "y"]
# Names that generated code makes too (temporaries, versions, adjoints, results):
# codegen must keep the user's apart from its own.
TRICKY = ["t1", "t2", "t3", "a_2", "x_2", "w_2", "d_x", "d_a", "value", "d_value", "grads", "t"]


class Reject(Exception):
    """This candidate expression is not wanted (shapes, size, not finite)."""


@dataclass(frozen=True)
class Node:
    """An expression: its text, its precedence, its value at the chosen inputs, and
    the constructs it is made of."""

    text: str
    prec: int
    value: object
    tags: frozenset = frozenset()
    deps: frozenset = frozenset()  # the parameters it is computed from

    @property
    def shape(self):
        return np.shape(self.value)

    @property
    def magnitude(self) -> float:
        return float(np.max(np.abs(self.value)))

    def at(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


def checked(text: str, prec: int, compute, parts=()) -> Node:
    if any(np.size(p.value) == 0 for p in parts):
        raise Reject("empty")
    with np.errstate(all="raise"):
        try:
            value = compute()
        except (ArithmeticError, ValueError, IndexError) as error:
            raise Reject(str(error)) from error
    if np.size(value) == 0 or not np.all(np.isfinite(value)) or np.max(np.abs(value)) > LIMIT:
        raise Reject("too large")
    return Node(
        text, prec, value, frozenset().union(*(p.tags for p in parts)), frozenset().union(*(p.deps for p in parts))
    )


def number(text: str) -> Node:
    return Node(text, UNARY if text.startswith("-") else ATOM, float(text))


def call(function: str, *args: Node, extra: str = "", compute=None) -> Node:
    if function in ("np.sin", "np.cos", "np.tanh") and args[0].magnitude > BOUNDED_ARG:
        raise Reject("argument too large")
    inside = ", ".join([a.text for a in args] + ([extra] if extra else []))
    return checked(f"{function}({inside})", ATOM, compute, args)


def binary(a: Node, op: str, b: Node) -> Node:
    prec = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL, "**": POWER}[op]
    if op == "**":  # the left operand binds tighter than unary minus, the right does not
        left, right = a.at(ATOM), b.at(UNARY)
    else:
        left, right = a.at(prec), b.at(prec + 1)
    if op != "@" and not _broadcasts(a.shape, b.shape):
        raise Reject("shapes")
    compute = {
        "+": lambda: a.value + b.value,
        "-": lambda: a.value - b.value,
        "*": lambda: a.value * b.value,
        "/": lambda: a.value / b.value,
        "@": lambda: a.value @ b.value,
        "**": lambda: a.value**b.value,
    }[op]
    return checked(f"{left} {op} {right}", prec, compute, (a, b))


def negative(a: Node) -> Node:
    return checked(f"-{a.at(UNARY)}", UNARY, lambda: -a.value, (a,))


def _max_gap(value: np.ndarray, axis) -> float:
    """How far the largest element is above the second largest, along `axis` (or of
    all elements), at the least."""
    ordered = np.sort(value, axis=None if axis is None else axis)
    along = -1 if axis is None else axis
    if ordered.shape[along] < 2:
        return np.inf
    return float(np.min(np.take(ordered, -1, axis=along) - np.take(ordered, -2, axis=along)))


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@dataclass
class Writer:
    """Writes one program's body: the names in scope with their values, and lines."""

    rng: np.random.Generator
    params: dict[str, object]
    env: dict[str, Node] = field(default_factory=dict)  # name -> Node(name, ATOM, value)
    locals_: list[str] = field(default_factory=list)  # names the body assigned, oldest first
    lines: list[str] = field(default_factory=list)
    # The same lines with `a += e` spelled `a = a + (e)`, for autograd, which cannot
    # add its boxes into a NumPy array in place. The two mean the same here, as no
    # other name holds that array.
    plain: list[str] = field(default_factory=list)
    sigmoids: dict[str, object] = field(default_factory=dict)  # name -> the sigmoid value it got
    # Constructs noted by the production being written; `expr` moves them onto the
    # node it returns, and `emit` into `constructs`, so a candidate that is thrown
    # away leaves none behind.
    pending: list[str] = field(default_factory=list)
    constructs: set[str] = field(default_factory=set)

    def __post_init__(self):
        for name, value in self.params.items():
            self.env[name] = Node(name, ATOM, value, deps=frozenset([name]))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def note(self, construct: str) -> None:
        self.pending.append(construct)

    # -- operands --------------------------------------------------------------------

    def leaf(self) -> Node:
        """A name, newer ones more often (fan-out), or now and then a constant."""
        if self.rng.random() < 0.12:
            return self.constant()
        names = list(self.env)
        weights = np.array([2.0 + self.locals_.index(n) if n in self.locals_ else 1.0 for n in names])
        return self.env[names[self.rng.choice(len(names), p=weights / weights.sum())]]

    def constant(self) -> Node:
        c = self.choice(["0.5", "1.5", "2.0", "3.0", "0.25", "0.1", "1.0", "0.7", "2.5"])
        return number("-" + c if self.rng.random() < 0.3 else c)

    def expr(self, depth: int) -> Node:
        start = len(self.pending)
        for _ in range(30):
            try:
                node = self._expr(depth)
            except Reject:
                del self.pending[start:]
                continue
            node = replace(node, tags=node.tags | frozenset(self.pending[start:]))
            del self.pending[start:]
            return node
        return self.leaf()

    def _expr(self, depth: int) -> Node:
        if depth <= 0:
            return self.leaf()
        kinds = ["unary", "binary", "const", "reduce", "slice", "matmul", "sigmoid", "power", "prob", "method"]
        kind = kinds[self.rng.choice(len(kinds), p=[0.2, 0.31, 0.1, 0.09, 0.07, 0.06, 0.04, 0.05, 0.05, 0.03])]
        return getattr(self, f"_{kind}")(self.expr(depth - 1), depth)

    def positive(self, a: Node) -> Node:
        """An expression of `a` that is positive (>= 1, or exp of a bounded value)."""
        form = int(self.rng.integers(6))
        one = number(self.choice(["1.0", "1", "2.0"]))
        if form == 0:
            self.note("1 + v*v")
            return binary(one, "+", binary(a, "*", a))
        if form == 1:
            self.note("1 + v**2")
            return binary(one, "+", binary(a, "**", number("2")))
        if form == 2:
            return self.exp(a)
        if form == 3:
            self.note("2 + sin")
            return binary(number("2.0"), "+", call("np.sin", a, compute=lambda: np.sin(a.value)))
        if form == 4 and a.magnitude <= EXP_ARG:
            self.note("1 + exp (softplus)")
            return binary(one, "+", call("np.exp", a, compute=lambda: np.exp(a.value)))
        self.note("2 + cos")
        return binary(number("2.0"), "+", call("np.cos", a, compute=lambda: np.cos(a.value)))

    def exp(self, a: Node) -> Node:
        """np.exp of an argument made from `a`, within [-EXP_ARG, EXP_ARG]: so that
        exp(...) is at least exp(-EXP_ARG) where it divides, and no adjoint grows
        so large that a small contribution added to it is lost."""
        self.note("exp")
        if a.magnitude <= EXP_ARG and self.rng.random() < 0.5:
            inner = a
        else:
            form = int(self.rng.integers(4))
            if form == 3 and a.magnitude <= EXP_ARG**0.5:  # a Gaussian bump: -a ** 2, which Python reads as -(a ** 2)
                self.note("-a ** 2 precedence")
                inner = negative(binary(a, "**", number("2")))
            else:
                f = ["tanh", "sin", "cos"][form % 3]
                inner = call(f"np.{f}", a, compute=lambda: getattr(np, f)(a.value))
        return call("np.exp", inner, compute=lambda: np.exp(inner.value))

    # -- productions -----------------------------------------------------------------

    def _unary(self, a: Node, depth: int) -> Node:
        f = self.choice(["tanh", "sin", "cos", "exp", "log", "sqrt", "neg", "square", "log1p"])
        self.note(f)
        if f in ("tanh", "sin", "cos"):
            return call(f"np.{f}", a, compute=lambda: getattr(np, f)(a.value))
        if f == "exp":
            return self.exp(a)
        if f == "neg":
            return negative(a)
        if f == "square":
            return call("np.square", a, compute=lambda: np.square(a.value))
        if f == "log1p":
            inner = binary(a, "*", a)
            return call("np.log1p", inner, compute=lambda: np.log1p(inner.value))
        inner = self.positive(a)
        return call(f"np.{f}", inner, compute=lambda: getattr(np, f)(inner.value))

    def _power(self, a: Node, depth: int) -> Node:
        k = self.choice(["2", "3", "2", "3", "2.0"])
        self.note(f"**{k}")
        return binary(a, "**", Node(k, ATOM, float(k) if "." in k else int(k)))

    def _binary(self, a: Node, depth: int) -> Node:
        op = self.choice(["+", "-", "*", "/"])
        b = self.expr(depth - 1)
        if not _broadcasts(a.shape, b.shape):
            b = self.to_scalar(b)
        if np.shape(a.value) != np.shape(b.value):
            self.note("broadcasting")
        if op == "/":
            form = int(self.rng.integers(4))
            if form == 0:
                self.note("/ constant")
                return binary(a, "/", self.constant())
            self.note("/ positive")
            if form == 1:
                return binary(a, "/", self.positive(b))
            if form == 2:
                return binary(self.constant(), "/", self.positive(b))
            return binary(b, "/", self.positive(a))
        self.note(op)
        return binary(a, op, b) if self.rng.random() < 0.5 else binary(b, op, a)

    def _const(self, a: Node, depth: int) -> Node:
        op = self.choice(["+", "-", "*"])
        self.note(f"constant {op}")
        c = self.constant()
        return binary(a, op, c) if self.rng.random() < 0.5 else binary(c, op, a)

    def to_scalar(self, a: Node) -> Node:
        if not isinstance(a.value, np.ndarray):
            return a
        f = self.choice(["sum", "mean"])
        self.note(f"np.{f}")
        return call(f"np.{f}", a, compute=lambda: getattr(np, f)(a.value))

    def _reduce(self, a: Node, depth: int) -> Node:
        if np.ndim(a.value) == 2 and self.rng.random() < 0.7:
            f = self.choice(["sum", "mean"])
            axis = self.choice([0, 1, -1])
            keep = self.rng.random() < 0.25
            self.note(f"np.{f}(matrix, axis)" + (" keepdims" if keep else ""))
            extra = f"axis={axis}" + (", keepdims=True" if keep else "")
            return call(f"np.{f}", a, extra=extra, compute=lambda: getattr(np, f)(a.value, axis=axis, keepdims=keep))
        if np.ndim(a.value) == 1 and self.rng.random() < 0.3:  # a scalar, or shape (1,) with keepdims
            f = self.choice(["sum", "mean"])
            keep = self.rng.random() < 0.5
            self.note(f"np.{f}(vector, axis=0" + (", keepdims)" if keep else ")"))
            extra = "axis=0" + (", keepdims=True" if keep else "")
            return call(f"np.{f}", a, extra=extra, compute=lambda: getattr(np, f)(a.value, axis=0, keepdims=keep))
        return self.to_scalar(a)

    def _method(self, a: Node, depth: int) -> Node:
        """a.sum(), a.mean(axis=...), a.T, on arrays."""
        if not isinstance(a.value, np.ndarray):
            raise Reject("not an array")
        if np.ndim(a.value) == 2 and self.rng.random() < 0.4:
            self.note(".T")
            return checked(f"{a.at(ATOM)}.T", ATOM, lambda: a.value.T, (a,))
        f = self.choice(["sum", "mean"])
        if np.ndim(a.value) == 2 and self.rng.random() < 0.5:
            axis = self.choice([0, 1])
            self.note(f".{f}(axis=...) method")
            return checked(f"{a.at(ATOM)}.{f}(axis={axis})", ATOM, lambda: getattr(a.value, f)(axis=axis), (a,))
        self.note(f".{f}() method")
        return checked(f"{a.at(ATOM)}.{f}()", ATOM, lambda: getattr(a.value, f)(), (a,))

    def _slice(self, a: Node, depth: int) -> Node:
        if np.ndim(a.value) == 1 and a.shape[0] >= 3:
            left, right = self.choice(
                [
                    ("[1:]", "[:-1]"),
                    ("[2:]", "[:-2]"),
                    ("[:-1]", "[1:]"),
                    ("[::2]", ""),
                    ("[0]", ""),
                    ("[-1]", ""),
                    ("[2]", ""),
                    ("[:, None]", "[None, :]"),
                ]
            )
            first = checked(a.at(ATOM) + left, ATOM, lambda: a.value[SLICES[left]], (a,))
            if not right:  # one slice or element, with another value
                self.note("slice v[::2]" if left == "[::2]" else "element v[i]")
                other = self.leaf()
                return binary(
                    first,
                    self.choice(["*", "+", "-"]),
                    other if _broadcasts(first.shape, other.shape) else self.to_scalar(other),
                )
            if right == "[None, :]":  # an outer product by broadcasting
                self.note("newaxis outer product")
                other = self.leaf()
                if np.ndim(other.value) != 1:
                    raise Reject("not a vector")
                return binary(
                    first,
                    self.choice(["*", "-"]),
                    checked(other.at(ATOM) + right, ATOM, lambda: other.value[SLICES[right]], (other,)),
                )
            second = checked(a.at(ATOM) + right, ATOM, lambda: a.value[SLICES[right]], (a,))
            if self.rng.random() < 0.3:  # Rosenbrock's shape
                self.note("slices, Rosenbrock")
                second = binary(second, "**", number("2"))
            self.note("slices v[1:] v[:-1]")
            return binary(first, self.choice(["-", "*", "+"]), second)
        if np.ndim(a.value) == 2:
            index = self.choice(["[0]", "[:, 1]", "[1:]", "[:, 1:]", "[:, :-1]"])
            self.note("matrix slice")
            return checked(a.at(ATOM) + index, ATOM, lambda: a.value[SLICES[index]], (a,))
        raise Reject("nothing to slice")

    def _matmul(self, a: Node, depth: int) -> Node:
        b = self.expr(depth - 1)
        for left, right in ((a, b), (b, a)):
            if np.ndim(left.value) == 2 and np.ndim(right.value) == 1 and left.shape[1] == right.shape[0]:
                self.note("matrix @ vector")
                return self.product(left, right)
            if np.ndim(left.value) == 1 and np.ndim(right.value) == 2 and left.shape[0] == right.shape[0]:
                self.note("vector @ matrix")
                return self.product(left, right)
        if np.ndim(a.value) == 1 and np.ndim(b.value) == 1:
            if a.shape == b.shape and self.rng.random() < 0.6:
                self.note("vector @ vector")
                return self.product(a, b)
            self.note("np.outer")
            return call("np.outer", a, b, compute=lambda: np.outer(a.value, b.value))
        raise Reject("no product")

    def product(self, a: Node, b: Node) -> Node:
        if self.rng.random() < 0.25:  # (not a.dot(b): autograd's arrays have no .dot)
            self.note("np.dot")
            return call("np.dot", a, b, compute=lambda: np.dot(a.value, b.value))
        return binary(a, "@", b)

    def sigmoid(self, a: Node) -> Node:
        """1 / (1 + np.exp(-h)): the chain codegen fuses."""
        if a.magnitude > SIGMOID_ARG:
            a = call("np.tanh", a, compute=lambda: np.tanh(a.value))
        one = self.choice(["1", "1.0"])
        minus = negative(a)
        e = call("np.exp", minus, compute=lambda: np.exp(minus.value))
        denominator = checked(f"({one} + {e.text})", ATOM, lambda: float(one) + e.value, (e,))
        self.note("sigmoid")
        return binary(number(one), "/", denominator)

    def _sigmoid(self, a: Node, depth: int) -> Node:
        p = self.sigmoid(a)
        if self.rng.random() < 0.4:
            self.note("log sigmoid")
            return call("np.log", p, compute=lambda: np.log(p.value))
        return p

    def _prob(self, a: Node, depth: int) -> Node:
        """log p, log(1 - p), or the cross-entropy of a name that holds a sigmoid p."""
        names = [n for n, value in self.sigmoids.items() if self.env[n].value is value]  # not rebound since
        if not names:
            raise Reject("no sigmoid in scope")
        p = self.env[self.choice(names)]
        one = number(self.choice(["1", "1.0"]))
        log_p = call("np.log", p, compute=lambda: np.log(p.value))
        q = binary(one, "-", p)
        log_q = call("np.log", q, compute=lambda: np.log(q.value))
        form = int(self.rng.integers(4))
        if form == 0:
            self.note("log p of a sigmoid name")
            return log_p
        if form == 1:
            self.note("log(1 - p) of a sigmoid name")
            return log_q
        # the cross-entropy with label y (any value: d/dy is -h for every y); a
        # name, mostly, as codegen fuses the chain where y is one value
        self.note("cross-entropy of a sigmoid name")
        if self.rng.random() < 0.7:
            a = self.leaf()
        if not _broadcasts(a.shape, p.shape):
            a = self.to_scalar(a)
        if form == 2:  # -y * log(p) - (1 - y) * log(1 - p)
            return binary(binary(negative(a), "*", log_p), "-", binary(binary(one, "-", a), "*", log_q))
        inside = binary(binary(a, "*", log_p), "+", binary(binary(one, "-", a), "*", log_q))
        return checked(f"-({inside.text})", UNARY, lambda: -inside.value, (inside,))

    # -- statements ------------------------------------------------------------------

    def fresh_name(self) -> str:
        if self.rng.random() < 0.1:
            tricky = [n for n in TRICKY if n not in self.env]
            if tricky:
                self.note("names codegen also uses")
                return self.choice(tricky)
        unused = [n for n in NAMES if n not in self.env]
        return self.choice(unused) if unused else f"v{len(self.env)}"

    def statement(self) -> None:
        roll = self.rng.random()
        # in place only on what the body made (a parameter's array is the caller's)
        mutable = [n for n in self.env if n in self.locals_ or not isinstance(self.env[n].value, np.ndarray)]
        if roll < 0.2 and mutable:
            self.augmented(self.choice(mutable))
        elif roll < 0.32:
            self.assign(self.choice(list(self.env)), reassign=True)
        elif roll < 0.38 and self.locals_:
            self.pair()
        elif roll < 0.44:
            self.sigmoid_statement()
        elif roll < 0.49:
            self.softmax_statements()
        else:
            self.assign(self.fresh_name())

    def rhs(self) -> Node:
        """A right-hand side that makes a new value (never a bare name, slice or constant)."""
        for _ in range(30):
            node = self.expr(int(self.rng.integers(1, 4)))
            # not a name or a view (slice, element, .T), and not a constant
            if node.text not in self.env and not node.text.endswith(("]", ".T")) and node.deps:
                return node
        return binary(self.env[self.locals_[-1] if self.locals_ else "x"], "*", number("1.5"))

    def emit(self, line: str, plain: str | None = None, nodes=()) -> None:
        self.lines.append(line)
        self.plain.append(plain or line)
        self.constructs.update(self.pending, *(n.tags for n in nodes))
        self.pending.clear()

    def bind(self, name: str, node: Node) -> None:
        self.env[name] = Node(name, ATOM, node.value, deps=node.deps)
        if name in self.locals_:
            self.locals_.remove(name)
        self.locals_.append(name)

    def assign(self, name: str, reassign: bool = False) -> None:
        node = self.rhs()
        if reassign:
            self.note(
                "reassignment of a parameter" if name in self.params and name not in self.locals_ else "reassignment"
            )
        self.bind(name, node)
        self.emit(f"{name} = {node.text}", nodes=[node])

    def softmax_statements(self) -> None:
        """Log-sum-exp or log-softmax shifted by the maximum, over one axis (with
        keepdims) or all of an array a name holds: two statements, the shift (or
        the shifted array) named, so later lines may use it too. Its maxima must be
        apart by MAX_GAP, so that the max has a derivative where it is evaluated."""
        arrays = [n for n in self.env if isinstance(self.env[n].value, np.ndarray) and self.env[n].deps]
        if not arrays:
            return self.assign(self.fresh_name())
        a = self.env[self.choice(arrays)]
        axis = self.choice([None] + list(range(-1, np.ndim(a.value))))
        options = "" if axis is None else f", axis={axis}, keepdims=True"
        kw = {} if axis is None else {"axis": axis, "keepdims": True}
        if _max_gap(a.value, axis) < MAX_GAP:
            return self.assign(self.fresh_name())
        try:
            shift = call("np.max", a, extra=options[2:], compute=lambda: np.max(a.value, **kw))
            if self.rng.random() < 0.5:  # log-sum-exp: m = max; log(sum(exp(a - m))) + m
                m_name = self.fresh_name()
                m = Node(m_name, ATOM, shift.value, deps=shift.deps)
                self.env[m_name] = m  # taken
                e = call("np.exp", binary(a, "-", m), compute=lambda: np.exp(a.value - m.value))
                s = call("np.sum", e, extra=options[2:], compute=lambda: np.sum(e.value, **kw))
                lse = binary(call("np.log", s, compute=lambda: np.log(s.value)), "+", m)
                first, second = (m_name, shift), (self.fresh_name(), lse)
                self.note("log-sum-exp shifted by max" + (" (all)" if axis is None else ""))
            else:  # log-softmax: s = a - max; s - log(sum(exp(s)))
                shifted = binary(a, "-", shift)
                s_name = self.fresh_name()
                s = Node(s_name, ATOM, shifted.value, deps=shifted.deps)
                self.env[s_name] = s  # taken
                total = call(
                    "np.sum",
                    call("np.exp", s, compute=lambda: np.exp(s.value)),
                    extra=options[2:],
                    compute=lambda: np.sum(np.exp(s.value), **kw),
                )
                ls = binary(s, "-", call("np.log", total, compute=lambda: np.log(total.value)))
                first, second = (s_name, shifted), (self.fresh_name(), ls)
                self.note("log-softmax shifted by max" + (" (all)" if axis is None else ""))
        except Reject:
            for name in [n for n in self.env if n not in self.params and n not in self.locals_]:
                del self.env[name]
            self.pending.clear()
            return self.assign(self.fresh_name())
        for name, node in (first, second):
            self.bind(name, node)
            self.emit(f"{name} = {node.text}", nodes=[node])

    def sigmoid_statement(self) -> None:
        start = len(self.pending)
        for _ in range(30):
            del self.pending[start:]
            try:
                node = self.sigmoid(self.expr(int(self.rng.integers(0, 3))))
                break
            except Reject:
                continue
        else:
            del self.pending[start:]
            return self.assign(self.fresh_name())
        name = self.fresh_name()
        self.bind(name, node)
        self.sigmoids[name] = node.value
        self.emit(f"{name} = {node.text}", nodes=[node])

    def augmented(self, name: str) -> None:
        target = self.env[name]
        start = len(self.pending)
        for _ in range(30):
            del self.pending[start:]
            op = self.choice(["+", "-", "*", "/"])
            try:
                node = self.expr(int(self.rng.integers(1, 3)))
                if op == "/":
                    node = self.positive(node)
                if (
                    isinstance(target.value, np.ndarray)
                    and np.broadcast_shapes(target.shape, node.shape) != target.shape
                ):
                    continue  # NumPy cannot grow an array in place
                result = binary(target, op, node)
            except (Reject, ValueError):
                continue
            self.note(f"augmented {op}=" + ("" if isinstance(target.value, np.ndarray) else " on a scalar"))
            if not isinstance(target.value, np.ndarray) and isinstance(result.value, np.ndarray):
                self.note("augmented assignment makes a scalar an array")
            self.bind(name, result)
            self.emit(f"{name} {op}= {node.text}", f"{name} = {result.text}", [node])
            return
        del self.pending[start:]
        self.assign(self.fresh_name())

    def pair(self) -> None:
        """Tuple packing and unpacking: `a, b = <expr>, <expr>`, or a swap."""
        if len(self.locals_) >= 2 and self.rng.random() < 0.4:
            a, b = self.locals_[-2], self.locals_[-1]  # a swap: each name still names one array
            self.note("tuple swap")
            va, vb = self.env[a], self.env[b]
            self.bind(a, vb)
            self.bind(b, va)
            self.emit(f"{a}, {b} = {b}, {a}")
            return
        first, second = self.rhs(), self.rhs()
        one = self.fresh_name()
        self.env[one] = Node(one, ATOM, None)  # taken, so that `two` differs
        two = self.fresh_name()
        self.note("tuple assignment")
        self.bind(one, first)
        self.bind(two, second)
        self.emit(f"{one}, {two} = {first.text}, {second.text}", nodes=[first, second])

    def result(self) -> Node:
        """A scalar: the newest value, reduced, plus or minus some older ones, and
        (mostly) values that bring in the parameters the others do not use."""
        chosen = [self.locals_[-1]] + [n for n in self.locals_[:-1] if self.rng.random() < 0.3]
        for param in self.params:
            holders = [n for n in reversed(self.locals_) if param in self.env[n].deps]
            if holders and not any(param in self.env[n].deps for n in chosen) and self.rng.random() < 0.85:
                chosen.append(holders[0])
        total = None
        for name in chosen:
            term = self.to_scalar(self.env[name])
            if self.rng.random() < 0.3:
                term = binary(self.constant(), "*", term)
            total = term if total is None else binary(total, self.choice(["+", "-"]), term)
        if len(chosen) > 1:
            self.note("sum of several results")
        self.constructs.update(self.pending, total.tags)
        return total


@dataclass(frozen=True)
class Program:
    seed: int
    source: str
    plain: str  # the same function without augmented assignments (for autograd)
    wrt: tuple[str, ...]
    kwargs: dict
    constructs: frozenset


@lru_cache(maxsize=None)
def program(seed: int) -> Program:
    """The program and inputs of `seed`: the same on every run and machine."""
    for attempt in range(20):
        rng = np.random.default_rng([seed, attempt])
        shapes = {"x": (5,), "w": () if rng.random() < 0.5 else (5,)}
        if rng.random() < 0.5:
            shapes["M"] = (3, 5)
        order = list(shapes)
        rng.shuffle(order)
        kwargs = {name: random_input(rng, shapes[name], "real") for name in order}
        annotated = shapes["w"] == () and rng.random() < 0.5  # `w: float`
        writer = Writer(rng, dict(kwargs))
        for _ in range(int(rng.integers(*STATEMENTS))):  # and a return
            writer.statement()
        try:
            result = writer.result()
        except Reject:
            continue
        if annotated:
            writer.constructs.add("w: float")
        params = ", ".join(f"{n}: float" if n == "w" and annotated else n for n in order)
        source, plain = (
            f"import numpy as np\n\n\ndef f({params}):\n"
            + "".join(f"    {line}\n" for line in lines)
            + f"    return {result.text}\n"
            for lines in (writer.lines, writer.plain)
        )
        with np.errstate(all="raise"):  # what the writer computed, the source computes
            value = load_generated(source, "original").f(**copy.deepcopy(kwargs))
            assert value == result.value == load_generated(plain, "plain").f(**kwargs), source
        wrt = list(order)
        rng.shuffle(wrt)  # gradients come in wrt's order, not the parameters'
        return Program(seed, source, plain, tuple(wrt), kwargs, frozenset(writer.constructs))
    raise AssertionError(f"seed {seed}: no program in 20 attempts")


@lru_cache(maxsize=None)
def generated(seed: int) -> tuple[Program, str]:
    prog = program(seed)
    return prog, generate(prog.source, "f", list(prog.wrt), path=f"fuzz_{seed}.py")


# (5) Determinism. Each seed's module is generated again in a second process, with
# another PYTHONHASHSEED, while this one runs the other tests (on a second core):
# two calls, which must give the same text even where set or dict order, or object
# ids, could differ between them.
OTHER_PROCESS = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import test_fuzz
json.dump({seed: test_fuzz.generated(seed)[1] for seed in json.loads(sys.argv[2])}, sys.stdout)
"""


@pytest.fixture(scope="module")
def other_process():
    env = dict(os.environ, PYTHONHASHSEED="4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "7")
    paths = [str(Path(__file__).parent)] + [p for p in sys.path if p]
    child = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, json.dumps(paths), json.dumps(SEEDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).parent,
    )
    yield child
    if child.poll() is None:  # only part of the module ran
        child.kill()
        child.communicate()


def show(prog: Program, text: str | None = None) -> str:
    inputs = "".join(f"  {k} = {v!r}\n" for k, v in prog.kwargs.items())
    shown = f"\nseed {prog.seed}, wrt = {','.join(prog.wrt)}\nsource:\n{prog.source}inputs:\n{inputs}"
    return shown + (f"generated module:\n{text}" if text is not None else "")


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz(seed, other_process):  # (other_process: to start it as early as this)
    prog, text = generated(seed)
    module = load_generated(text)
    original = load_generated(prog.source, "original").f
    kwargs = copy.deepcopy(prog.kwargs)
    value, grads = module.value_and_grad_f(**kwargs)
    only = module.grad_f(**kwargs)
    for name in prog.kwargs:
        assert np.array_equal(kwargs[name], prog.kwargs[name]), f"the generated code changed {name}" + show(prog, text)
    grads, only = ((grads,), (only,)) if len(prog.wrt) == 1 else (grads, only)
    assert len(grads) == len(only) == len(prog.wrt), f"{len(grads)} gradients for wrt {prog.wrt}" + show(prog, text)

    # (1) the value
    expected = original(**kwargs)
    for name in prog.kwargs:  # (by construction: else the differences below mean nothing)
        assert np.array_equal(kwargs[name], prog.kwargs[name]), f"the program changed its argument {name}" + show(prog)
    assert np.allclose(
        value, expected, rtol=1e-12, atol=0.0
    ), f"value {value!r}, the function gives {expected!r}" + show(prog, text)

    for name, grad, again in zip(prog.wrt, grads, only):
        # (2) a float for a float, a writable array of its shape for an array, and
        # central differences
        arg = prog.kwargs[name]
        if isinstance(arg, float):
            assert isinstance(grad, float), f"d_{name} is {grad!r}, {name} is a float" + show(prog, text)
        else:
            assert (
                isinstance(grad, np.ndarray) and grad.shape == arg.shape and grad.flags.writeable
            ), f"d_{name} is {grad!r}, {name} has shape {arg.shape}" + show(prog, text)
        atol = FD_ATOL * max(1.0, abs(expected))
        numeric = central_differences(original, kwargs, name, STEPS[0])
        agree = np.isclose(grad, numeric, rtol=FD_RTOL, atol=atol)
        for step in STEPS[1:]:
            if not np.all(agree):
                agree |= np.isclose(grad, central_differences(original, kwargs, name, step), rtol=FD_RTOL, atol=atol)
        assert np.all(agree), f"d_{name} = {grad!r}\ncentral differences (step {STEPS[0]}) give {numeric!r}" + show(
            prog, text
        )
        # (3) grad_f returns exactly what value_and_grad_f returns
        assert (
            type(again) is type(grad) and np.shape(again) == np.shape(grad) and np.array_equal(again, grad)
        ), f"grad_f's d_{name} {again!r} differs from value_and_grad_f's {grad!r}" + show(prog, text)

    # (4) forward mode and --mode hvp on the same program (test_fuzz_control's checks)
    from test_fuzz_control import check_forward, check_second_order

    def f(**kw):
        return original(**copy.deepcopy(kw))

    check_forward(prog.source, prog.wrt, prog.kwargs, module, f, show(prog, text))
    check_second_order(prog.source, prog.wrt, prog.kwargs, module, show(prog, text))


def central_differences(f, kwargs: dict, name: str, step: float):
    """df/d(kwargs[name]) by central differences, one coordinate at a time."""
    x = np.array(kwargs[name], dtype=np.float64)
    out = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        h = step * max(1.0, abs(x[i]))
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        at = [dict(kwargs, **{name: float(v) if isinstance(kwargs[name], float) else v}) for v in (plus, minus)]
        out[i] = (f(**at[0]) - f(**at[1])) / (plus[i] - minus[i])  # the step as represented
    return out


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_matches_autograd(seed):
    """(4) autograd's gradient of the same source, to 1e-10 relative; absolutely, to
    1e-10 of the largest gradient entry (sums that cancel lose that much)."""
    pytest.importorskip("autograd")
    prog, text = generated(seed)
    grad_f = load_generated(text).grad_f
    grads = grad_f(**prog.kwargs)
    scale = max(float(np.max(np.abs(g))) for g in ((grads,) if len(prog.wrt) == 1 else grads))
    try:
        assert_matches_autograd(prog.plain, grad_f, list(prog.wrt), dict(prog.kwargs), atol=1e-10 * max(1.0, scale))
    except AssertionError as error:
        raise AssertionError(str(error) + show(prog, text)) from None


def test_seeds_cover_the_constructs():
    """The seeds, together, write every construct the fuzzer knows."""
    seen = set().union(*(program(seed).constructs for seed in SEEDS))
    # fmt: off
    wanted = {
        "+", "-", "*", "/ constant", "/ positive", "**2", "**3", "exp", "log", "sqrt", "tanh", "sin", "cos",
        "neg", "square", "log1p", "np.sum", "np.mean", "slices v[1:] v[:-1]", "slices, Rosenbrock", "slice v[::2]",
        "matrix @ vector", "vector @ matrix", "vector @ vector", "broadcasting", "reassignment",
        "reassignment of a parameter", "augmented +=", "augmented -=", "augmented *=", "augmented /=",
        "augmented += on a scalar", "sigmoid", "log sigmoid", "cross-entropy of a sigmoid name",
        "log(1 - p) of a sigmoid name", "sum of several results", "tuple assignment", "tuple swap",
        "names codegen also uses", "-a ** 2 precedence", "matrix slice", "np.sum(matrix, axis)",
        "np.mean(matrix, axis)", "np.sum(matrix, axis) keepdims", ".T", ".sum() method", "w: float",
        "1 + v*v", "2 + sin", "1 + exp (softplus)", "element v[i]", "newaxis outer product", "np.outer", "np.dot",
        "np.sum(vector, axis=0, keepdims)", "log-sum-exp shifted by max", "log-softmax shifted by max",
        "log-sum-exp shifted by max (all)", "log-softmax shifted by max (all)", "augmented assignment makes a scalar an array",
    }
    # fmt: on
    assert wanted <= seen, sorted(wanted - seen)


def test_generation_is_deterministic(other_process):
    """(5) The text generated in the other process, under another hash seed, is this one's."""
    out, err = other_process.communicate(timeout=600)
    assert other_process.returncode == 0, err
    texts = {int(seed): text for seed, text in json.loads(out).items()}
    differ = [seed for seed in SEEDS if texts[seed] != generated(seed)[1]]
    if differ:
        seed = differ[0]
        diff = "".join(
            difflib.unified_diff(
                generated(seed)[1].splitlines(True), texts[seed].splitlines(True), "here", "other process"
            )
        )
        pytest.fail(f"seeds {differ} generate different text in two calls; seed {seed}:" + show(program(seed)) + diff)
