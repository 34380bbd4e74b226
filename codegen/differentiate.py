"""Stage 4: simpleton form -> a forward sweep and a reverse sweep.

The forward sweep is the primal steps. The reverse sweep walks the steps backwards
(the chain rule read right to left, as in the lecture's reverse-mode table): the
adjoint `d_t` of each active step's target is complete once every later step has
contributed to it, and the step's rule turns it into contributions to its active
arguments. The first contribution to an adjoint assigns it, later ones add to it
(a new binding, never an in-place update, so adjoints may share arrays).

Adjoint shapes. An adjoint variable `d_v` may be smaller than `v` and stands for
itself broadcast to v's shape: the seed is the scalar 1.0, and `np.sum(x)` passes its
scalar adjoint on unchanged, with no array of ones. Elementwise rules commute with
broadcasting, so they take such adjoints as they are; when an operand was broadcast
in the forward step (its shape set differs from the result's), `_unbroadcast` sums
the contribution back to its shape. Any other rule first gets a full-shape adjoint (`_fill`).
Each adjoint carries a claim: a shape set from `analyze` it broadcasts to, and
whether that is exactly its shape. Where only a shape is needed, the first value of
that shape (a *witness*: often a parameter) is read instead of the value itself, so
`grad_<f>` need not compute it. A returned gradient not known to be exact goes
through `_fill`, which gives it exactly its argument's shape (a float for a float).
Nothing here simplifies; `optimize` does that.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import ir
from .analyze import Analysis, Shape
from .expressions import code, fold_static, parenthesize, reads, substitute
from .names import Namer
from .normalize import render


@dataclass(frozen=True)
class Line:
    """`target = value` in generated code, tied to the source line it comes from."""

    target: str
    value: cst.BaseExpression
    origin: ir.Origin | None = None
    comment: str | None = None  # said beside the line (a subgradient policy)


@dataclass(frozen=True)
class Gradient:
    function: ir.Function
    wrt: tuple[str, ...]
    forward: tuple[Line, ...]
    reverse: tuple[Line, ...]
    value: cst.BaseExpression  # the function's result
    grads: tuple[cst.BaseExpression, ...]  # one per wrt name
    final: frozenset[str]  # names returned as gradients (optimize keeps them)


@dataclass(frozen=True)
class _Claim:
    """What is known of an adjoint's shape: it broadcasts to the broadcast of `shape`,
    and if `exact`, that is its shape."""

    shape: Shape
    exact: bool

    def __post_init__(self):
        if not self.shape:  # what broadcasts to a scalar is a scalar
            object.__setattr__(self, "exact", True)

    def join(self, other: "_Claim") -> "_Claim":
        return _Claim(self.shape | other.shape, self.exact and other.exact)


def differentiate(function: ir.Function, analysis: Analysis, namer: Namer) -> Gradient:
    forward = tuple(
        Line(step.target, render(step.rule, step.args, step.given), step.origin)
        for step in function.steps
    )
    sweep = _ReverseSweep(function, analysis, namer)
    result = function.result
    if isinstance(result, ir.Var) and result.name in analysis.active:
        # A scalar seed: for an array result this is the gradient of its sum.
        sweep.contribute(result.name, cst.Float("1.0"), _Claim(frozenset(), True), function.result_origin)
    for step in reversed(function.steps):
        if step.target in analysis.active:
            sweep.step(step)

    grads, final = [], set()
    for name in analysis.wrt:
        if name not in analysis.active:  # the result does not depend on it
            grads.append(_call("_zero_gradient", cst.Name(name)))
            continue
        adjoint = namer.adjoint(name)
        claim = sweep.claims[adjoint]
        if claim.exact and claim.shape == analysis.shapes[name]:
            grads.append(cst.Name(adjoint))
        else:
            grads.append(_call("_fill", cst.Name(adjoint), cst.Name(name)))
        final.add(adjoint)
    return Gradient(
        function=function,
        wrt=analysis.wrt,
        forward=forward,
        reverse=tuple(sweep.lines),
        value=ir.node_of(result),
        grads=tuple(grads),
        final=frozenset(final),
    )


class _ReverseSweep:
    def __init__(self, function: ir.Function, analysis: Analysis, namer: Namer):
        self.analysis = analysis
        self.namer = namer
        self.lines: list[Line] = []
        self.claims: dict[str, _Claim] = {}
        # The first value of each shape set: a cheap stand-in when only a shape is read.
        self.witness: dict[Shape, str] = {}
        for name in [p.name for p in function.params] + [s.target for s in function.steps]:
            self.witness.setdefault(analysis.shapes[name], name)

    def _witness(self, shape: Shape) -> cst.BaseExpression:
        """A value of the given shape that the forward sweep computes anyway (the
        first one, so reading it keeps nothing expensive alive)."""
        if shape in self.witness:
            return cst.Name(self.witness[shape])
        return cst.Float("0.0")  # a scalar shape with no scalar variable

    def contribute(self, var: str, value, claim: _Claim, origin, comment=None) -> None:
        adjoint = self.namer.adjoint(var)
        if adjoint in self.claims:
            value = cst.BinaryOperation(cst.Name(adjoint), cst.Add(), value)
            claim = claim.join(self.claims[adjoint])
        self.claims[adjoint] = claim
        self.lines.append(Line(adjoint, parenthesize(value), origin, comment))

    def step(self, step: ir.Step) -> None:
        rule, analysis = step.rule, self.analysis
        d_ans = self.namer.adjoint(step.target)
        mapping = {name: ir.node_of(atom) for name, atom in step.args}
        mapping["ans"] = cst.Name(step.target)
        mapping["d_ans"] = cst.Name(d_ans)
        known = {name: _Claim(analysis.shape(atom), True) for name, atom in step.args}
        known["ans"] = _Claim(analysis.shapes[step.target], True)
        full = _Claim(analysis.shapes[step.target], True)
        if not (rule.elementwise or rule.lazy_adjoint) and self.claims[d_ans] != full:
            # Only elementwise rules take an adjoint that merely broadcasts.
            fill = _call("_fill", cst.Name(d_ans), self._witness(full.shape))
            self.lines.append(Line(d_ans, fill, step.origin))
            self.claims[d_ans] = full
        known["d_ans"] = self.claims[d_ans]

        for assign in rule.body:
            target = assign.targets[0].target.value
            value = fold_static(substitute(assign.value, mapping))
            claim = _claim_of(assign.value, known)
            param = target[2:] if target.startswith("d_") else None
            if param is None:  # a value local to the rule
                local = self.namer.fresh(target)
                mapping[target] = cst.Name(local)
                known[target] = claim
                self.lines.append(Line(local, value, step.origin))
                continue
            atom = step.arg(param)
            if isinstance(atom, ir.Seq):
                self._sequence(atom, param, value, step, rule)
                continue
            if not isinstance(atom, ir.Var) or atom.name not in analysis.active:
                continue
            shape = analysis.shapes[atom.name]
            if not rule.elementwise:
                # Rules may reshape; trust only that the result broadcasts to x.
                claim = _Claim(shape, False)
            elif shape != full.shape:
                # The operand was (maybe) broadcast: sum the contribution back to its
                # shape, telling `_unbroadcast` the other operands' shapes if the
                # contribution may be smaller than the result.
                others: dict[str, cst.BaseExpression] = {}
                if claim != full:
                    for other in rule.arrays:
                        other_shape = analysis.shape(step.arg(other))
                        if other != param and not other_shape <= shape:
                            witness = self._witness(other_shape)
                            others.setdefault(code(witness), witness)
                if not shape and not others:
                    value = _call("np.sum", value)
                else:
                    value = _call("_unbroadcast", value, self._witness(shape), *others.values())
                # A contribution smaller than the result may come back still smaller.
                claim = _Claim(shape, claim == full)
            self.contribute(atom.name, value, claim, step.origin, rule.policy)


    def _sequence(self, seq: ir.Seq, param: str, value, step: ir.Step, rule) -> None:
        """A contribution to a list or tuple parameter is a sequence: one part per item."""
        active = [(i, a.name) for i, a in enumerate(seq.items) if isinstance(a, ir.Var) and a.name in self.analysis.active]
        if not active:
            return
        parts = self.namer.fresh(f"d_{param}")
        self.lines.append(Line(parts, value, step.origin))
        for index, name in active:
            part = cst.Subscript(cst.Name(parts), [cst.SubscriptElement(cst.Index(cst.Integer(str(index))))])
            self.contribute(name, part, _Claim(self.analysis.shapes[name], False), step.origin, rule.policy)


def _call(function: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.parse_expression(function), [cst.Arg(a) for a in args])


def _claim_of(template: cst.BaseExpression, known: dict[str, _Claim]) -> _Claim:
    """The claim for a rule expression: the broadcast of what it reads. (Rules other
    than elementwise ones may shrink shapes; their callers treat the claim as an
    upper bound.)"""
    claim = _Claim(frozenset(), True)
    for name in sorted(reads(template)):
        if name in known:
            claim = claim.join(known[name])
    return claim
