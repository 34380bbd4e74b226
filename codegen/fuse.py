"""Between normalize and analyze: find the chains that templates/fusions.py knows a
simpler exact derivative for, and give their results that derivative.

The matched chain's last step (its root) gets a rule of its own, made from the
fusion: it computes the same value as before (its own forward line), but its
gradient goes straight to the chain's inputs with the fusion's formula; its
original arguments get none through it. The steps in between stay as they were:
they still compute the value, and any other use of them is still differentiated
step by step. Only values assigned once are matched, so a match means the same
values. Larger fusions are tried first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from . import ir
from .expressions import code, substitute
from .rules import Param, Registry, Rule

_COMMUTATIVE = {("binary", "+"), ("binary", "*")}


@dataclass(frozen=True)
class Pattern:
    """A node of a fusion's chain: a parameter, a number, or a rule applied to nodes.

    A rule's `options` are the defaulted arguments the chain gives it (`axis=axis,
    keepdims=True`), each (parameter, "leaf" or "literal", the fusion's parameter or
    the literal's code). A step matches only if it gives exactly those: a literal
    as written, a leaf the same value wherever the chain names it."""

    kind: str  # "leaf", "number", "rule"
    name: str | None = None  # leaf: the parameter; rule: the named value, if any
    value: float | None = None
    rule: Rule | None = None
    children: tuple["Pattern", ...] = ()
    options: tuple[tuple[str, str, str], ...] = ()


def fuse(function: ir.Function, registry: Registry, within: frozenset[str] | None = None) -> ir.Function:
    """`function` with each chain a fusion matches given its derivative. `within`:
    the values a chain may pass through (forward mode gives the temporaries only, so
    that values the user named, such as the lecture's ξ2..ξ4, keep their tangents)."""
    if not registry.fusions:
        return function
    definitions = _definitions(function)
    if within is not None:
        # A value the user named is passed through only where the fusion names it too
        # (`shift = np.max(x, ...)`), not inside an expression the fusion spells out.
        definitions = _Within(definitions, within)

    def rewrite(block):
        out = []
        for statement in block:
            if isinstance(statement, ir.Step):
                statement = _fused(statement, registry, definitions) or statement
            elif isinstance(statement, ir.If):
                statement = replace(statement, body=rewrite(statement.body), orelse=rewrite(statement.orelse))
            elif isinstance(statement, ir.Loop):
                statement = replace(statement, body=rewrite(statement.body))
            out.append(statement)
        return tuple(out)

    return replace(function, body=rewrite(function.body))


class _Within(dict):
    """Definitions, with the names a chain may pass through unnamed (`allows`)."""

    def __init__(self, definitions, within):
        super().__init__(definitions)
        self.within = within


def _definitions(function: ir.Function) -> dict[str, ir.Step]:
    """Steps by target, for targets assigned exactly once."""
    counts: dict[str, int] = {}
    steps: dict[str, ir.Step] = {}
    for statement in ir.walk(function.body):
        for name in ir.assigned(statement):
            counts[name] = counts.get(name, 0) + 1
        if isinstance(statement, ir.Step):
            steps[statement.target] = statement
    return {name: step for name, step in steps.items() if counts[name] == 1}


def _fused(step: ir.Step, registry: Registry, definitions) -> ir.Step | None:
    for fusion in registry.fusions:
        bindings: dict[str, ir.Atom] = {}
        if fusion.pattern.rule is step.rule and _match_step(fusion.pattern, step, bindings, definitions):
            return _apply(fusion, step, bindings)
    return None


def _match(pattern: Pattern, atom: ir.Atom, bindings, definitions) -> bool:
    if pattern.kind == "leaf":
        return _bind(bindings, pattern.name, atom)
    if pattern.kind == "number":
        return isinstance(atom, ir.Const) and _number(atom.node) == pattern.value
    if not isinstance(atom, ir.Var) or atom.name not in definitions:
        return False
    if isinstance(definitions, _Within) and pattern.name is None and atom.name not in definitions.within:
        return False
    step = definitions[atom.name]
    if step.rule is not pattern.rule:
        return False
    if pattern.name is not None:
        if pattern.name in bindings:
            return bindings[pattern.name] == atom
        bindings[pattern.name] = atom
    return _match_step(pattern, step, bindings, definitions)


def _bind(bindings, name: str, atom: ir.Atom) -> bool:
    """Bind a leaf to an atom, or check it is bound to the same one (constants by code)."""
    if name not in bindings:
        bindings[name] = atom
        return True
    bound = bindings[name]
    if isinstance(bound, ir.Const) and isinstance(atom, ir.Const):
        return bound.code == atom.code
    return bound == atom


def _match_step(pattern: Pattern, step: ir.Step, bindings, definitions) -> bool:
    given = {p.name for p in step.rule.params if p.default is not None and p.name in step.given}
    if given != {name for name, _, _ in pattern.options}:
        return False  # an axis or a flag the pattern does not say, or one it says and the step not
    options = dict(bindings)
    for name, kind, value in pattern.options:
        atom = step.arg(name)
        if kind == "literal":
            if not (isinstance(atom, ir.Const) and atom.code == value):
                return False
        elif not _bind(options, value, atom):
            return False
    args = [step.arg(name) for name in step.rule.arrays]
    orders = [args, args[::-1]] if step.rule.key in _COMMUTATIVE and len(args) == 2 else [args]
    for order in orders:
        trial = dict(options)
        if len(order) == len(pattern.children) and all(
            _match(child, atom, trial, definitions) for child, atom in zip(pattern.children, order)
        ):
            bindings.clear()
            bindings.update(trial)
            return True
    return False


def _number(node: cst.BaseExpression):
    sign = 1.0
    while isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        sign, node = -sign, node.expression
    if isinstance(node, (cst.Integer, cst.Float)):
        return sign * float(node.value)
    return None


def _apply(fusion, step: ir.Step, bindings) -> ir.Step:
    """The root step with the fusion's derivative: its arguments, then the fusion's
    values (as `fused_<name>`), which alone receive gradients."""
    renamed = {name: cst.Name(f"fused_{name}") for name in bindings}
    renamed["ans"] = cst.Name("ans")
    body = []
    for assign in fusion.body:
        target = assign.targets[0].target.value
        new_target = f"d_fused_{target[2:]}" if target.startswith("d_") else target
        body.append(
            assign.with_changes(
                targets=[cst.AssignTarget(cst.Name(new_target))],
                value=substitute(assign.value, renamed, parens=False),
            )
        )
    # An option (an axis) keeps its value as a default, so it is not taken for an array.
    extra = tuple(
        Param(f"fused_{name}", ir.node_of(bindings[name]) if name in fusion.options else None, False)
        for name in sorted(bindings)
    )
    # The root's own arguments only print its forward line: given a default, they do
    # not count among the arrays (shapes, broadcasting); the chain's inputs do.
    own = tuple(replace(p, default=p.default or cst.Name("None")) for p in step.rule.params)
    tangent = None
    if fusion.tangent is not None:  # forward mode: the tangents of the chain's inputs
        tangents = {f"t_{name}": cst.Name(f"t_fused_{name}") for name in bindings}
        tangent = substitute(fusion.tangent, {**renamed, **tangents}, parens=True)
    rule = replace(
        step.rule,
        name=f"{step.rule.name}+{fusion.name}",
        tangent=tangent,
        linear=None,
        params=own + extra,
        body=tuple(body),
        grads=tuple(f"fused_{g}" for g in fusion.grads),
        elementwise=fusion.elementwise,
        lazy_adjoint=False,
        zero_gradient=frozenset(p.name for p in step.rule.params + extra) - {f"fused_{g}" for g in fusion.grads},
        policy=f"fused: {fusion.doc}",
    )
    args = step.args + tuple((f"fused_{name}", bindings[name]) for name in sorted(bindings))
    return replace(step, rule=rule, args=args)
