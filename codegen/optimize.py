"""Stage 5: make the sweeps as short as a careful person would write them.

- `simplify`: exact algebra on each expression (`a * 1`, `x ** 1`, `2 - 1`, `--a`,
  `a + -b`), so rules can be written generally and still read well when specialised;
- copies `d_a = d_b` are propagated (rebinding never mutates, so this is safe) unless
  `d_a` is a returned gradient;
- dead lines are dropped, separately for `value_and_grad_<f>` (which needs the value)
  and `grad_<f>` (which does not: the logistic loss needs no `log` for its gradient).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, replace

import libcst as cst

from .differentiate import Gradient, Line
from .expressions import parenthesize, reads, substitute


@dataclass(frozen=True)
class Body:
    """One generated function: forward lines, reverse lines, what it returns."""

    forward: tuple[Line, ...]
    reverse: tuple[Line, ...]
    returns: cst.BaseExpression


def optimize(gradient: Gradient) -> tuple[Body, Body]:
    """(value_and_grad body, grad body)."""
    forward = [replace(line, value=simplify(line.value)) for line in gradient.forward]
    reverse = [replace(line, value=simplify(line.value)) for line in gradient.reverse]
    grads = gradient.grads[0] if len(gradient.grads) == 1 else _tuple(gradient.grads, parens=False)
    keep = gradient.final
    n_forward = len(forward)
    lines, aliases = _propagate_copies(forward + reverse, keep)
    grads = substitute(grads, aliases)
    value = substitute(gradient.value, aliases)

    if isinstance(grads, cst.Tuple):
        both = _tuple([value, grads.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])], parens=False)
    else:
        both = _tuple([value, grads], parens=False)
    bodies = []
    for returns in (both, grads):
        live = _eliminate_dead(lines, reads(returns))
        bodies.append(
            Body(
                forward=tuple(line for i, line in live if i < n_forward),
                reverse=tuple(line for i, line in live if i >= n_forward),
                returns=returns,
            )
        )
    return bodies[0], bodies[1]


def _tuple(items, parens: bool) -> cst.Tuple:
    brackets = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]} if parens else {"lpar": [], "rpar": []}
    return cst.Tuple([cst.Element(i) for i in items], **brackets)


# -- algebra ------------------------------------------------------------------------------


def _number(node: cst.BaseExpression):
    """The value of a numeric literal (possibly negated), else None."""
    sign = 1
    while isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        if isinstance(node.operator, cst.Minus):
            sign = -sign
        node = node.expression
    if isinstance(node, (cst.Integer, cst.Float)):
        return sign * ast.literal_eval(node.value)
    return None


def _literal(value) -> cst.BaseExpression:
    text = repr(abs(value))
    node = cst.Integer(text) if isinstance(value, int) else cst.Float(text)
    return cst.UnaryOperation(cst.Minus(), node) if value < 0 else node


_FOLD = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.Power: lambda a, b: a**b,
}


def _negate(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return node.expression
    return cst.UnaryOperation(cst.Minus(), node)


class _Simplify(cst.CSTTransformer):
    def leave_UnaryOperation(self, original_node, node):
        if isinstance(node.operator, cst.Plus):
            return node.expression
        if isinstance(node.operator, cst.Minus):
            inner = node.expression
            if isinstance(inner, cst.UnaryOperation) and isinstance(inner.operator, cst.Minus):
                return inner.expression.with_changes(lpar=[], rpar=[])
        return node

    def leave_BinaryOperation(self, original_node, node):
        op = type(node.operator)
        left, right = node.left, node.right
        a, b = _number(left), _number(right)
        if a is not None and b is not None and op in _FOLD:
            try:
                value = _FOLD[op](a, b)
            except (ZeroDivisionError, OverflowError):
                value = None
            if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 2**53:
                return _literal(value)
        if op is cst.Multiply:
            if b == 1:
                return left
            if a == 1:
                return right
            if b == -1:
                return _negate(left)
            if a == -1:
                return _negate(right)
        if op in (cst.Divide, cst.Power) and b == 1:
            return left
        if op in (cst.Add, cst.Subtract) and b == 0:
            return left
        if op is cst.Add and a == 0:
            return right
        if op in (cst.Add, cst.Subtract) and isinstance(right, cst.UnaryOperation) and isinstance(
            right.operator, cst.Minus
        ):
            flipped = cst.Subtract() if op is cst.Add else cst.Add()
            return node.with_changes(operator=flipped, right=right.expression)
        return node


def simplify(node: cst.BaseExpression) -> cst.BaseExpression:
    """`node` rewritten by exact algebraic identities, parenthesised for printing."""
    return parenthesize(_strip_parens(node).visit(_Simplify()))


class _StripParens(cst.CSTTransformer):
    def on_leave(self, original_node, updated_node):
        if isinstance(updated_node, cst.BaseExpression) and getattr(updated_node, "lpar", None):
            if not isinstance(updated_node, (cst.Tuple, cst.GeneratorExp)):
                return updated_node.with_changes(lpar=[], rpar=[])
        return updated_node


def _strip_parens(node):
    """Drop all parentheses; `parenthesize` puts back exactly those that are needed."""
    return node.visit(_StripParens())


# -- copies and dead code --------------------------------------------------------------


def _propagate_copies(lines: list[Line], keep: frozenset[str]):
    """Drop `a = b` lines, reading `b` wherever `a` was read. Returns the new lines and
    the aliases still open at the end (to apply to the return expression)."""
    out: list[Line] = []
    aliases: dict[str, cst.Name] = {}
    for line in lines:
        value = substitute(line.value, aliases) if aliases else line.value
        for a, b in list(aliases.items()):
            if b.value == line.target:  # b is about to be rebound: keep a's value
                out.append(Line(a, b, line.origin))
                del aliases[a]
            elif a == line.target:
                del aliases[a]
        if isinstance(value, cst.Name) and line.target not in keep:
            aliases[line.target] = value
            continue
        out.append(replace(line, value=value))
    return out, aliases


def _eliminate_dead(lines: list[Line], roots: set[str]) -> list[tuple[int, Line]]:
    live = set(roots)
    kept = []
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.target in live:
            live.discard(line.target)
            live |= reads(line.value)
            kept.append((index, line))
    kept.reverse()
    return kept
