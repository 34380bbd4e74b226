"""Stage 3: what needs derivative code, and where shapes can differ.

Activity (as in Tapenade and the AD literature): a value is *varied* if it depends
on a `wrt` argument through differentiable arguments of the rules, *useful* if the
result depends on it that way; only values both varied and useful (*active*) get an
adjoint. Data arguments such as X and y are never varied, so they get no adjoint
code; a value computed but not returned is never useful.

Shapes: each value gets the set of parameters (and opaque values) whose shapes it is
the broadcast of; a Python scalar is the empty set. Two values with equal sets have
equal shapes, so the adjoint needs no broadcasting reduction between them. Without
annotations a parameter's shape is unknown (its own name); `x: float` makes it a
scalar.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping

import libcst as cst

from . import ir
from .expressions import code, dotted
from .errors import CodegenError
from .rules import Registry

Shape = frozenset  # of parameter names / opaque tokens; empty: a scalar


@dataclass(frozen=True)
class Analysis:
    wrt: tuple[str, ...]  # the wrt parameters' variable names, in the user's order
    active: frozenset[str]
    shapes: Mapping[str, Shape]

    def shape(self, atom: ir.Atom) -> Shape:
        if isinstance(atom, ir.Var):
            return self.shapes[atom.name]
        key = _key(atom)
        return self.shapes.get(key, frozenset({key}))


def _key(atom: ir.Atom) -> str:
    """The shape-table key of a constant or sequence atom."""
    return "const:" + code(ir.node_of(atom))


def analyze(function: ir.Function, wrt: tuple[str, ...], registry: Registry) -> Analysis:
    statements = [s for s in ir.walk(function.body) if isinstance(s, (ir.Step, ir.Assign))]
    # Loops feed values back, so both passes repeat until nothing changes.
    varied = set(wrt)
    while True:
        size = len(varied)
        for s in statements:
            sources = _sources(s)
            if any(v in varied for v in sources):
                varied.add(s.target)
        if len(varied) == size:
            break
    useful = {function.result.name} if isinstance(function.result, ir.Var) else set()
    while True:
        size = len(useful)
        for s in reversed(statements):
            if s.target in useful:
                useful.update(_sources(s))
        if len(useful) == size:
            break
    for s in statements:
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Seq) and s.target in varied and s.target in useful:
            # A tuple or list copied whole into a loop's carried name: the reverse sweep
            # has no adjoint for it (its contribution was lost: a wrong gradient).
            raise CodegenError(
                f"a tuple or list that depends on {', '.join(wrt)} is carried from one pass of this loop to "
                "the next; carry its items as separate names instead (`a0, a1 = a1, a0 * 1.5`)",
                function.path, s.origin.line, 1,
            )
        # (A call without a rule may take `wrt` where its result does not reach the
        # output differentiably: `if np.isclose(w, 0).any():`.)
        if isinstance(s, ir.Step) and (s.rule.opaque is None or s.target in useful):
            _check_gradient_flows(s, varied, wrt, function.path)
    return Analysis(wrt=wrt, active=frozenset(varied & useful), shapes=_shapes(function, registry))


def _sources(statement) -> tuple[str, ...]:
    """The variables a statement's value depends on differentiably."""
    if isinstance(statement, ir.Assign):
        return ir.vars_of(statement.value)
    return tuple(v for p in statement.rule.grads for v in statement.vars(p))


def _check_gradient_flows(step: ir.Step, varied, wrt, path) -> None:
    """Refuse a value that depends on wrt in an argument the rule cannot differentiate."""
    rule = step.rule
    for param, _ in step.args:
        if param in rule.grads or param in rule.zero_gradient:
            continue
        if any(v in varied for v in step.vars(param)):
            line, col = step.position
            if rule.opaque is not None:  # a call without a rule (lowering._opaque)
                what = "the value it is called on" if param == "receiver" else "its argument"
                names = ", ".join(wrt)
                kind, callee = rule.key
                own = "" if kind != "call" or callee.startswith(("builtins.", "numpy.", "scipy.")) else (
                    "if it is your own function, pass its file with --include FILE (it is then inlined); "
                )
                raise CodegenError(
                    f"no derivative rule for `{rule.name}`, and {what} `{rule.opaque[param]}` depends on "
                    f"{names}; {own}write a rule for it in a directory you pass with --rules DIR (README: "
                    f"\"Your own rules\"), or pass it only values that do not depend on {names}",
                    path, line, col,
                )
            raise CodegenError(
                f"{rule.display}: no derivative with respect to argument `{param}`, which "
                f"depends on {', '.join(wrt)}; codegen cannot differentiate through it",
                path, line, col,
            )


def _is_number(node: cst.BaseExpression, scalars: set[str], registry: Registry) -> bool:
    """A constant expression that is surely a number: literals, NumPy's scalar
    constants, module constants that are numbers, and arithmetic and elementwise
    NumPy functions (`np.log(2 * np.pi)`) on those."""
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _is_number(node.expression, scalars, registry)
    if isinstance(node, cst.BinaryOperation):
        return _is_number(node.left, scalars, registry) and _is_number(node.right, scalars, registry)
    if isinstance(node, cst.Call):
        name = dotted(node.func)
        rule = None if name is None else registry.lookup("call", name.replace("np.", "numpy.", 1))
        return (
            rule is not None
            and rule.elementwise
            and all(a.keyword is None and _is_number(a.value, scalars, registry) for a in node.args)
        )
    if isinstance(node, cst.Attribute):
        return code(node) in ("np.pi", "np.e", "np.inf", "np.nan", "np.euler_gamma")
    return isinstance(node, cst.Name) and node.value in scalars


def _shapes(function: ir.Function, registry: Registry) -> dict[str, Shape]:
    """Every variable's shape set; constants are keyed "const:<code>".

    A name assigned in several places (merged after an `if`, carried by a loop)
    keeps one shape set if every assignment gives the same one; otherwise it is
    opaque. That needs a few passes: a loop's body is first read with the carried
    names' shapes from before the loop."""
    scalars: set[str] = set()
    for name, value in function.constants:
        if _is_number(value, scalars, registry):
            scalars.add(name)
    counts = Counter(ir.assignment_counts(function.body))
    # A parameter's own value is its first: one assigned again in a loop (`x = W @ x`
    # in `for W in layers`) has one shape set only if every value has the same.
    counts.update(p.name for p in function.params if counts[p.name])
    settled: dict[str, Shape] = {}
    for _ in range(8):
        shapes = _one_pass(function, registry, scalars, counts, settled)
        if all(shapes[n] == settled.get(n) for n, c in counts.items() if c > 1):
            return shapes
        settled = {n: shapes[n] for n, c in counts.items() if c > 1}
    return _one_pass(function, registry, scalars, counts, settled, give_up=True)


def _one_pass(function, registry, scalars, counts, settled, give_up=False) -> dict[str, Shape]:
    shapes: dict[str, Shape] = {}
    seen: dict[str, list[Shape]] = {}
    for p in function.params:
        shapes[p.name] = frozenset() if p.scalar else frozenset({p.name})
        seen[p.name] = [shapes[p.name]]

    def of(atom: ir.Atom) -> Shape:
        if isinstance(atom, ir.Var):
            if atom.name in settled:
                return settled[atom.name]
            return shapes.get(atom.name, frozenset({atom.name}))
        key = _key(atom)
        number = isinstance(atom, ir.Const) and _is_number(atom.node, scalars, registry)
        shapes[key] = frozenset() if number else frozenset({key})
        return shapes[key]

    def define(name: str, shape: Shape) -> None:
        seen.setdefault(name, []).append(shape)
        if counts[name] > 1 or name in settled:
            multiple = seen[name]
            agreed = all(s == multiple[0] for s in multiple)
            shape = multiple[0] if agreed and not give_up else frozenset({name})
        shapes[name] = shape

    for statement in ir.walk(function.body):
        if isinstance(statement, ir.Assign):
            define(statement.target, of(statement.value))
        elif isinstance(statement, ir.Loop) and statement.index:
            define(statement.index, frozenset())
        elif isinstance(statement, ir.Step):
            rule = statement.rule
            if rule.elementwise:
                given = dict(statement.args)
                shape = frozenset().union(*(of(given[p]) for p in rule.operands if p in given))
            elif rule.reduction and _is_default(statement, "axis") and _is_default(statement, "keepdims"):
                shape = frozenset()
            else:
                shape = frozenset({statement.target})
            define(statement.target, shape)
    return shapes


def _is_default(step: ir.Step, param: str) -> bool:
    atom = step.arg(param)
    return isinstance(atom, ir.Const) and atom.code in ("None", "False")
