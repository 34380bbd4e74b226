"""Stage 4 (forward mode): simpleton form -> one sweep, each step followed by its tangent.

This is the lecture's forward table: beside every value ξi that depends on a `wrt`
argument and reaches the result (analyze's *active* values), its tangent `t_ξi`,
the directional derivative along the tangents given for the `wrt` arguments,
computed right after ξi from the tangents of ξi's arguments. There is no tape and
no second sweep: loops, branches, `break` and `return` run once, as in the
function, and carry the tangents with the values.

A step's tangent comes from its rule (rules.py): the rule's `t_ans` expression
(written in templates/, or derived from an elementwise rule's adjoint lines), or,
for a rule marked linear, the primitive itself applied to the tangents
(`np.sum(t_x, axis=0)`), or, marked multilinear, the sum of the primitive with one
argument at a time replaced by its tangent (`t_x @ y + x @ t_y`). A term whose
tangents are all of inactive arguments is left out; inside a term that also reads
an active one, an inactive argument's tangent is `_zero_gradient(arg)`.

Tangent shapes. As adjoints in the reverse sweep do, a tangent may be smaller than
its value and stand for itself broadcast (`0.0` for a value that does not depend
on wrt on this path, `t_x` of a scalar added to an array): elementwise rules take
it as it is, and any other rule first gets a full-shape tangent (`_fill`). A
returned tangent not known to have the value's shape goes through `_fill`.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import ir
from .analyze import Analysis
from .differentiate import ZERO, _call, _canonical, _Claim, _claim_of, _reused, loop_block, primal_line, tree_variables
from .errors import CodegenError
from .expressions import code, fold_static, parenthesize, reads, substitute, total, transform
from .lowering import render
from .names import Namer
from .program import Block, Jump, Line, Node, line


@dataclass(frozen=True)
class Tangent:
    function: ir.Function
    wrt: tuple[str, ...]
    tangents: tuple[str, ...]  # the tangent parameters, one per wrt name
    body: tuple[Node, ...]
    value: cst.BaseExpression
    aux: tuple[cst.BaseExpression, ...] | None
    tangent: cst.BaseExpression  # the result's tangent
    keep: frozenset[str]
    lines: frozenset[str] = frozenset()  # the tangents' variables (not the values')
    scalars: frozenset[str] = frozenset()
    arrays: frozenset[str] = frozenset()
    invented: frozenset[str] = frozenset()


def linearize(function: ir.Function, analysis: Analysis, namer: Namer, given=None) -> Tangent:
    """The forward-mode sweep of `function` with respect to `analysis.wrt`. The
    tangents are parameters `t_<name>`, or, where `given` maps wrt names to other
    parameter names (`v_<name>` for --mode hvp), those."""
    sweep = _Forward(function, analysis, namer)
    inner = tuple(namer.tangent(name) for name in analysis.wrt)
    tangents = tuple(given[name] for name in analysis.wrt) if given else inner
    body = []
    for name, tangent, param in zip(analysis.wrt, inner, tangents):
        sweep.claims[tangent] = _Claim(analysis.shapes[name], True)
        if name in analysis.active:  # (see _numpy_scalars in templates/runtime.py)
            body.append(line(tangent, _call("_numpy_scalars", cst.Name(param))))
    body += sweep.block(function.body)
    result = function.result
    value = ir.node_of(result)
    if isinstance(result, ir.Var) and result.name in analysis.active:
        name = namer.tangent(result.name)
        claim = sweep.claims.get(name)
        full = _Claim(analysis.shapes[result.name], True)
        tangent = cst.Name(name) if claim == full else _call("_fill", cst.Name(name), value)
    else:  # the result does not depend on wrt
        tangent = _call("_zero_gradient", value)
    aux = None if function.aux is None else tuple(ir.node_of(a) for a in function.aux)
    keep = set(reads(value)) | set(reads(tangent)) | {r for a in aux or () for r in reads(a)}
    return Tangent(
        function=function,
        wrt=analysis.wrt,
        tangents=tangents,
        body=tuple(body),
        value=value,
        aux=aux,
        tangent=tangent,
        keep=frozenset(keep),
        lines=frozenset(sweep.lines),
        scalars=frozenset(p.name for p in function.params if p.scalar),
        arrays=frozenset(n for n, s in analysis.shapes.items() if s and not n.startswith("const:")) - sweep.trees,
        invented=frozenset(namer.invented) - frozenset(
            s.target for s in ir.walk(function.body) if isinstance(s, ir.Step) and s.rule.opaque is not None
        ),
    )


class _Forward:
    def __init__(self, function: ir.Function, analysis: Analysis, namer: Namer):
        self.function = function
        self.analysis = analysis
        self.namer = namer
        self.trees = tree_variables(function)
        self.claims: dict[str, _Claim] = {}
        counts = ir.assignment_counts(function.body)
        # Values assigned more than once (merged after a branch, carried by a loop):
        # their tangents are made full-size where they are assigned, so that every
        # pass of a loop sees the same shape.
        self.rebound = frozenset(name for name, n in counts.items() if n > 1)
        # Tangents made full-size (`t_y_full = _fill(t_y, y)`) and not assigned since,
        # in the straight-line run being generated: read again rather than remade.
        self.filled: dict[str, str] = {}
        # Values the sweep has computed, by their expression (`np.sin(x)` -> `t3`),
        # which a tangent reads instead of computing them again; an entry goes when
        # a name it reads is assigned.
        self.computed: dict[str, tuple[str, frozenset[str]]] = {}
        self.counts = counts
        self.lines: set[str] = set()  # every tangent variable assigned

    def active(self, atom) -> bool:
        """Whether the atom (a variable, or a list literal holding one) depends on wrt."""
        return any(name in self.analysis.active for name in ir.vars_of(atom))

    def block(self, statements) -> list:
        out: list = []
        for statement in statements:
            if isinstance(statement, ir.Step):
                primal = primal_line(statement)
                out.append(primal)
                self._forget(statement.target)
                if not primal.effect and self.counts.get(statement.target) == 1:
                    self.computed.setdefault(_canonical(primal.value), (statement.target, primal.reads))
                if statement.target in self.analysis.active:
                    self._step(statement, out)
            elif isinstance(statement, ir.Assign):
                out.append(line(statement.target, ir.node_of(statement.value), statement.origin))
                self._forget(statement.target)
                if statement.target in self.analysis.active:
                    self._copy(statement, out)
            elif isinstance(statement, ir.If):
                before, filled, computed = dict(self.claims), dict(self.filled), dict(self.computed)
                body = self.block(statement.body)
                after_body, self.claims, self.filled, self.computed = self.claims, dict(before), dict(filled), dict(computed)
                orelse = self.block(statement.orelse)
                self.filled, self.computed = filled, computed
                for name in set(after_body) | set(self.claims):
                    a, b = after_body.get(name), self.claims.get(name)
                    self.claims[name] = a if b is None else b if a is None else a.either(b)
                out.append(Block("if", ir.node_of(statement.test), tuple(body), tuple(orelse), origin=statement.origin))
            elif isinstance(statement, ir.Loop):
                out.extend(self._loop(statement))
            elif isinstance(statement, ir.Break):
                out.append(Jump("break"))
            elif isinstance(statement, ir.Effect):  # assert, raise, print: as the user wrote them
                out.append(Line((), statement.node, statement.origin))
        return out

    def _forget(self, name: str) -> None:
        """`name` is assigned: what was computed from it is no longer at hand."""
        for key, (target, read) in list(self.computed.items()):
            if name in read or name == target:
                del self.computed[key]

    def _loop(self, loop: ir.Loop) -> list:
        """The loop, after its carried tangents are made full-size (each pass then
        starts from tangents of their values' shapes, as the copies at the end of a
        pass keep them)."""
        before = []
        for name in loop.carried:
            if name in self.analysis.active:
                tangent = self.namer.tangent(name)
                whole = _Claim(self.analysis.shapes[name], True)
                if tangent not in self.claims:
                    # A parameter not in wrt that the loop makes depend on wrt (it
                    # carries it in its own variable): no tangent yet, so zeros.
                    start = _call("_zero_gradient", cst.Name(name)) if name in self.trees else _call("_fill", ZERO, cst.Name(name))
                    before.append(line(tangent, start, loop.origin))
                elif self.claims.get(tangent) != whole and name not in self.trees:
                    before.append(line(tangent, _call("_fill", cst.Name(tangent), cst.Name(name)), loop.origin))
                self.claims[tangent] = whole
        self.filled = {}
        computed = self.computed
        for name in (*loop.carried, *([loop.index] if loop.index else [])):
            self._forget(name)
        self.computed = dict(self.computed)
        header = self.block(loop.header) if loop.is_while else []
        block = loop_block(loop, header, self.block(loop.body))
        self.filled = {}
        self.computed = computed
        for name in loop.carried:
            self._forget(name)
        return before + [block]

    def _assigned(self, target: str, tangent: str, value, claim: _Claim, origin, out, comment=None) -> None:
        """`tangent = value`, made full-size first where `target` is assigned more than
        once (a merge, a carried value) and the value may be smaller."""
        whole = _Claim(self.analysis.shapes[target], True)
        if self.computed:
            lookup = {key: name for key, (name, _) in self.computed.items()}
            value = transform(value, lambda node: _reused(node, lookup))
        if target in self.rebound and claim != whole and target not in self.trees:
            value, claim = _call("_fill", value, cst.Name(target)), whole
        out.append(line(tangent, value, origin, comment))
        self.lines.add(tangent)
        self.claims[tangent] = claim
        for name, filled in list(self.filled.items()):
            if tangent in (name, filled):
                del self.filled[name]

    def _copy(self, statement: ir.Assign, out) -> None:
        tangent = self.namer.tangent(statement.target)
        if self.active(statement.value):
            source = self.namer.tangent(statement.value.name)
            claim = self.claims.get(source, _Claim(self.analysis.shapes[statement.value.name], False))
            self._assigned(statement.target, tangent, cst.Name(source), claim, statement.origin, out)
        else:
            self._assigned(statement.target, tangent, ZERO, _Claim(frozenset(), True), statement.origin, out)

    # -- a step's tangent ----------------------------------------------------------------

    def _step(self, step: ir.Step, out) -> None:
        rule = step.rule
        tangent = self.namer.tangent(step.target)
        full = _Claim(self.analysis.shapes[step.target], True)
        if rule.linear is not None:
            value = self._linear(step, out)
            claim = full
        elif rule.tangent is not None:
            value, claim = self._expression(step, out)
            if not rule.elementwise:
                claim = full
        elif any(self.active(a) for p in rule.grads for a in _atoms(step.arg(p))):
            raise self._refusal(step)
        else:
            value = None
        if value is None:  # nothing active flows in along a differentiable argument
            value, claim = ZERO, _Claim(frozenset(), True)
        fused = rule.policy if rule.policy and rule.policy.startswith("fused: ") else None
        self._assigned(step.target, tangent, value, claim, step.origin, out, fused)

    def _refusal(self, step: ir.Step) -> CodegenError:
        rule = step.rule
        where = f"{rule.path}:{rule.line}" if rule.path else "its rule"
        message = (
            f"forward mode: the rule for `{rule.display}` ({where}) gives no tangent; add a line "
            f"`t_ans = ...` to it (the tangent of ans from the tangents `t_<param>`), or use --mode reverse"
        )
        line, column = step.position
        path = step.place[0].path if step.place else self.function.path
        return CodegenError(message, path, line, column)

    def _tangent_atom(self, atom: ir.Atom, out, origin, full: bool) -> ir.Atom:
        """The tangent of an argument, as an atom: its tangent variable (made full-size
        first where `full`), or zeros of its shape where it depends on no wrt."""
        if isinstance(atom, ir.Seq):
            return ir.Seq(tuple(self._tangent_atom(a, out, origin, full) for a in atom.items), atom.brackets)
        if not self.active(atom):
            return ir.Const(_call("_zero_gradient", ir.node_of(atom)))
        if not isinstance(atom, ir.Var):
            raise CodegenError(f"forward mode: `{code(ir.node_of(atom))}` as an argument has no tangent", self.function.path)
        name = self.namer.tangent(atom.name)
        if full and atom.name not in self.trees:
            whole = _Claim(self.analysis.shapes[atom.name], True)
            if self.claims.get(name) != whole:
                if name in self.filled:
                    return ir.Var(self.filled[name])
                filled = self.namer.fresh(f"{name}_full")
                out.append(line(filled, _call("_fill", cst.Name(name), cst.Name(atom.name)), origin))
                self.claims[filled] = whole
                self.filled[name] = filled
                return ir.Var(filled)
        return ir.Var(name)

    def _linear(self, step: ir.Step, out) -> cst.BaseExpression | None:
        """A linear rule: the primitive on the tangents (all at once, or, multilinear,
        one argument at a time, the terms added)."""
        rule = step.rule
        args = dict(step.args)
        if rule.linear == "joint":
            if not any(self.active(a) for p in rule.grads for a in _atoms(args[p])):
                return None
            replaced = dict(args)
            for p in rule.grads:
                replaced[p] = self._tangent_atom(args[p], out, step.origin, full=True)
            return render(rule, tuple(replaced.items()), step.given)
        terms = []
        for p in rule.grads:
            atom = args[p]
            items = atom.items if isinstance(atom, ir.Seq) else (atom,)
            for k, item in enumerate(items):
                if not self.active(item):
                    continue
                t = self._tangent_atom(item, out, step.origin, full=True)
                replaced = dict(args)
                if isinstance(atom, ir.Seq):
                    replaced[p] = ir.Seq(items[:k] + (t,) + items[k + 1:], atom.brackets)
                else:
                    replaced[p] = t
                terms.append(render(rule, tuple(replaced.items()), step.given))
        return total(terms)

    def _expression(self, step: ir.Step, out) -> tuple[cst.BaseExpression | None, _Claim]:
        """The rule's `t_ans` expression, its terms in inactive tangents left out."""
        rule = step.rule
        args = dict(step.args)
        mapping = {name: ir.node_of(atom) for name, atom in step.args}
        mapping["ans"] = cst.Name(step.target)
        known = {name: _Claim(self.analysis.shape(atom), True) for name, atom in step.args}
        known["ans"] = _Claim(self.analysis.shapes[step.target], True)
        terms, claim = [], _Claim(frozenset(), True)
        for term in _terms(rule.tangent):
            needed = sorted(n for n in reads(term) if n.startswith("t_") and n[2:] in args)
            if not any(self.active(a) for n in needed for a in _atoms(args[n[2:]])):
                continue
            local = dict(mapping)
            for n in needed:
                atom = args[n[2:]]
                if isinstance(atom, ir.Seq):
                    raise self._refusal(step)
                t = self._tangent_atom(atom, out, step.origin, full=not rule.elementwise)
                local[n] = ir.node_of(t)
                if isinstance(t, ir.Var):
                    known[n] = self.claims.get(t.name, _Claim(self.analysis.shape(atom), False))
                else:
                    known[n] = _Claim(self.analysis.shape(atom), True)
            claim = claim.plus(_claim_of(term, known))
            terms.append(fold_static(substitute(term, local, parens=True), parens=False))
        return total(terms), claim


def _atoms(atom: ir.Atom) -> tuple:
    return atom.items if isinstance(atom, ir.Seq) else (atom,)


def _terms(expression: cst.BaseExpression) -> list:
    """The top-level terms of a sum (`a + b - c`: a, b and -c)."""
    if isinstance(expression, cst.BinaryOperation) and not expression.lpar:
        if isinstance(expression.operator, cst.Add):
            return _terms(expression.left) + _terms(expression.right)
        if isinstance(expression.operator, cst.Subtract):
            negated = [cst.UnaryOperation(cst.Minus(), parenthesize(t).with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
                       for t in _terms(expression.right)]
            return _terms(expression.left) + negated
    return [expression]


