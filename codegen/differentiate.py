"""Stage 4: simpleton form -> a forward sweep and a reverse sweep (program.py trees).

The forward sweep is the primal statements. The reverse sweep walks them backwards
(the chain rule read right to left, as in the lecture's reverse-mode table): the
adjoint `d_t` of each active step's target is complete once every later statement
has contributed to it, and the step's rule turns it into contributions to its
active arguments. The first contribution to an adjoint assigns it, later ones add
to it (a new binding, never an in-place update, so adjoints may share arrays).

Control flow is replayed backwards, as Tapenade and Tangent do:
- an `if` replays the branch the forward sweep took (its test is a value, kept);
- a loop runs its body's reverse once per forward iteration, last first: a range
  loop without `break` runs `reversed(range(...))`, any other loop counts its
  iterations;
- a block that runs more than once (a loop body, a branch inside one) pushes, on
  leaving, the values its reverse reads onto a list (a tape), and its reverse pops
  them; optimize decides which values those are, so nothing unread is kept;
- assigning a name again (a loop's carried value) ends the life of its adjoint
  (`d_x` then belongs to the earlier value).

No adjoint is not a zero adjoint. Where a path leaves an adjoint without any
contribution (a branch that overwrote the value, a loop that ran no iteration, a
`break`), pushing a 0.0 through the rule that made the value could give
`0 * inf = nan` (`np.sqrt` at 0), where the function's value does not depend on it
at all. Such an adjoint holds `None` on that path ("no adjoint"), and what reads
it checks first: a rule runs under `if d_v is not None:`, a contribution to it is
`c if d_v is None else d_v + c`, and a gradient that may have none is zeros. The
adjoint of a parameter that is never reassigned is only ever added to, so it
starts at 0.0 before the branch or loop that adds to it, as a zero is harmless
there. Which adjoints may hold None is known here, path by path; all others are
plain values, and their code is as before.

Adjoint shapes. An adjoint variable `d_v` may be smaller than `v` and stands for
itself broadcast to v's shape: the seed is the scalar 1.0, and `np.sum(x)` passes its
scalar adjoint on unchanged, with no array of ones. Elementwise rules commute with
broadcasting, so they take such adjoints as they are; when an operand was broadcast
in the forward step (its shape set differs from the result's), `_unbroadcast` sums
the contribution back to its shape. Any other rule first gets a full-shape adjoint
(`_fill`). Each adjoint carries a claim: a shape set from `analyze` it broadcasts
to, and whether that is exactly its shape. Where only a shape is needed, the first
value of that shape (a *witness*: often a parameter) is read instead of the value
itself, so `grad_<f>` need not compute it. A returned gradient not known to be exact
goes through `_fill`, which gives it exactly its argument's shape (a float for a
float). Nothing here simplifies; `optimize` does that.
"""

from __future__ import annotations

import copy
from collections import ChainMap, Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst

from . import ir
from .analyze import Analysis, Shape
from .expressions import code, fold_static, reads, substitute, transform
from .lowering import render
from .names import Namer
from dataclasses import replace

from .program import Block, Jump, Line, Node, Pop, Push, line
from .program import walk as walk_nodes

FUNCTION = ("function",)
ITEM = ("statement", "_item")  # `tree[key]` (templates/trees.py)
ITEMS = (ITEM, ("statement", "_item_or_index"))  # their adjoints need no _fill


def tree_variables(function: ir.Function) -> frozenset[str]:
    """Variables that are (or may be) parameter trees: those read with `tree[key]`,
    parameters annotated as containers, and what is copied into or out of them.
    Their adjoints are added with `_tree_add` (a read's contribution is sparse:
    `{key: d_item}`), and a gradient with respect to one is `_tree_fill`ed."""
    trees = {p.name for p in function.params if p.tree}
    for s in ir.walk(function.body):
        if isinstance(s, ir.Step) and s.rule.key in ITEMS and isinstance(s.arg("tree"), ir.Var):
            trees.add(s.arg("tree").name)
    copies = [s for s in ir.walk(function.body) if isinstance(s, ir.Assign) and isinstance(s.value, ir.Var)]
    while True:
        size = len(trees)
        for s in copies:
            if s.target in trees or s.value.name in trees:
                trees.update((s.target, s.value.name))
        if len(trees) == size:
            return frozenset(trees)


@dataclass(frozen=True)
class Gradient:
    function: ir.Function
    wrt: tuple[str, ...]
    forward: tuple[Node, ...]
    reverse: tuple[Node, ...]
    value: cst.BaseExpression  # the function's result
    aux: tuple[cst.BaseExpression, ...] | None  # the values returned beside it (`return loss, aux`)
    grads: tuple[cst.BaseExpression, ...]  # one per wrt name
    keep: frozenset[str]  # names optimize must not propagate away (returned ones)
    scalars: frozenset[str] = frozenset()  # parameters that are Python numbers
    arrays: frozenset[str] = frozenset()  # names whose values may be arrays (worth freeing)
    invented: frozenset[str] = frozenset()  # temporaries: optimize may fold them into their use


@dataclass(frozen=True)
class _Claim:
    """What is known of an adjoint's shape: it broadcasts to the broadcast of `shape`,
    and if `exact`, that is its shape."""

    shape: Shape
    exact: bool

    def __post_init__(self):
        if not self.shape:  # what broadcasts to a scalar is a scalar
            object.__setattr__(self, "exact", True)

    def plus(self, other: "_Claim") -> "_Claim":
        """The claim for the sum of two adjoints."""
        return _Claim(self.shape | other.shape, self.exact and other.exact)

    def either(self, other: "_Claim") -> "_Claim":
        """The claim for one of two adjoints (after an `if`)."""
        return _Claim(self.shape | other.shape, self.exact and other.exact and self.shape == other.shape)


ZERO = cst.Float("0.0")
NONE = cst.Name("None")  # no adjoint: no path taken so far contributed to it


# The adjoints that hold a value on the path being generated are a set of names;
# one that may hold None (see above) has its name with this mark in the set too.
MAYBE = "?"


def _maybe(assigned: set, adjoint: str) -> bool:
    return MAYBE + adjoint in assigned


def _held(assigned: set) -> set:
    return {a for a in assigned if not a.startswith(MAYBE)}


def _drop(assigned: set, adjoint: str) -> None:
    assigned.discard(adjoint)
    assigned.discard(MAYBE + adjoint)


def _is_none(adjoint: str) -> cst.BaseExpression:
    return cst.Comparison(cst.Name(adjoint), [cst.ComparisonTarget(cst.Is(), NONE)])


def _is_not_none(adjoint: str) -> cst.BaseExpression:
    return cst.Comparison(cst.Name(adjoint), [cst.ComparisonTarget(cst.IsNot(), NONE)])


@dataclass
class _BlockInfo:
    parent: tuple | None
    repeats: bool  # runs more than once per call (inside a loop)
    loop: ir.Loop | None  # the loop this block is the body of
    tape: str | None = None


class _Blocks:
    """Where each block sits, and which block owns each name: the innermost block
    whose every pass assigns it (a carried name, read inside its loop, belongs to
    the loop body). A repeating block's tape saves the values it owns."""

    def __init__(self, function: ir.Function, namer: Namer):
        self.info: dict[tuple, _BlockInfo] = {}
        self.sites: dict[str, list[tuple]] = defaultdict(list)
        self.namer = namer
        self._visit(function.body, FUNCTION, None, False, None)

    def _visit(self, block, key, parent, repeats, loop, tapeless=False) -> None:
        info = _BlockInfo(parent, repeats, loop)
        if repeats and block and not tapeless:
            info.tape = self.namer.fresh("tape")
        self.info[key] = info
        if loop is not None and loop.index:
            self.sites[loop.index].append(key)
        for statement in block:
            if isinstance(statement, (ir.Step, ir.Assign)):
                self.sites[statement.target].append(key)
            elif isinstance(statement, ir.If):
                self._visit(statement.body, (id(statement), "body"), key, repeats, None)
                self._visit(statement.orelse, (id(statement), "orelse"), key, repeats, None)
            elif isinstance(statement, ir.Loop):
                # A while loop's test gets no gradient: its values are never read backwards.
                self._visit(statement.header, (id(statement), "header"), key, True, None, tapeless=True)
                self._visit(statement.body, (id(statement), "body"), key, True, statement)

    def ancestors(self, key):
        while key is not None:
            yield key
            key = self.info[key].parent

    def owner(self, name: str, reading: tuple) -> tuple:
        for key in self.ancestors(reading):
            loop = self.info[key].loop
            if loop is not None and (name in loop.carried or name == loop.index):
                return key
        sites = self.sites.get(name)
        if not sites:
            return FUNCTION  # a parameter
        common = list(self.ancestors(sites[0]))
        for site in sites[1:]:
            mine = set(self.ancestors(site))
            common = [k for k in common if k in mine]
        return common[0]

    def candidates(self, key) -> frozenset[str]:
        """Names whose values the tape of block `key` may need to save."""
        names = set()
        for name, sites in self.sites.items():
            if any(key in self.ancestors(site) for site in sites) and self.owner(name, key) == key:
                names.add(name)
        loop = self.info[key].loop
        if loop is not None:
            names |= set(loop.carried)
            if loop.index and not (loop.is_while or loop.breaks):
                names.discard(loop.index)  # the reverse loop runs over the same indices
        return frozenset(names)


def differentiate(function: ir.Function, analysis: Analysis, namer: Namer, seed: str | None = None) -> Gradient:
    """The reverse sweep of `function`, seeded with 1.0 (the gradient of the result,
    or of the sum of an array result), or, given `seed`, with the cotangent in the
    variable of that name, of the result's shape (a vector-Jacobian product)."""
    sweep = _Sweep(function, analysis, namer, seed)
    forward = sweep.forward(function.body, FUNCTION)
    value = ir.node_of(function.result)
    keep = set()
    in_loops = {name for s in ir.walk(function.body) if isinstance(s, ir.Loop) for b in s.body for name in ir.assigned(b)}
    if isinstance(function.result, ir.Var) and function.result.name in in_loops:
        # The reverse sweep restores earlier values into loop variables: keep the result.
        captured = namer.fresh("value")
        forward.append(line(captured, value, function.result_origin))
        value = cst.Name(captured)
        keep.add(captured)
    aux = None
    if function.aux is not None:
        aux = []
        for atom in function.aux:
            node = ir.node_of(atom)
            if set(reads(node)) & in_loops:  # (the same as for the result)
                captured = namer.fresh("aux")
                forward.append(line(captured, node, function.result_origin))
                node = cst.Name(captured)
            keep.update(reads(node))
            aux.append(node)
        aux = tuple(aux)
    reverse = sweep.reverse_function()

    grads = []
    for name in analysis.wrt:
        if name not in analysis.active:  # the result does not depend on it
            grads.append(_call("_zero_gradient", cst.Name(name)))
            continue
        adjoint = namer.adjoint(name)
        claim = sweep.claims.get(adjoint)
        if name in sweep.trees:
            grad = _call("_tree_fill", cst.Name(adjoint), cst.Name(name))
        elif claim is not None and claim.exact and claim.shape == analysis.shapes[name]:
            grad = cst.Name(adjoint)
        else:
            grad = _call("_fill", cst.Name(adjoint), cst.Name(name))
        if adjoint in sweep.maybe_at_end:  # no path that contributed was taken: zeros
            zero = _call("_tree_fill", ZERO, cst.Name(name)) if name in sweep.trees else _call("_zero_gradient", cst.Name(name))
            grad = cst.IfExp(test=_is_none(adjoint), body=zero, orelse=grad)
        grads.append(grad)
        keep.add(adjoint)
    return Gradient(
        function=function,
        wrt=analysis.wrt,
        forward=tuple(sweep.tape_lines + forward),
        reverse=tuple(reverse),
        value=value,
        aux=aux,
        grads=tuple(grads),
        keep=frozenset(keep),
        scalars=frozenset(p.name for p in function.params if p.scalar),
        arrays=(frozenset(n for n, s in analysis.shapes.items() if s and not n.startswith("const:"))
                | frozenset(a for a, c in sweep.claims.items() if c.shape))
        - sweep.trees - frozenset(namer.adjoint(t) for t in sweep.trees),
        # (A call without a rule stays on its own line, in its place: it may change
        # state, as rng.normal() does.)
        invented=frozenset(namer.invented) - frozenset(
            s.target for s in ir.walk(function.body) if isinstance(s, ir.Step) and s.rule.opaque is not None
        ),
    )


class _Sweep:
    def __init__(self, function: ir.Function, analysis: Analysis, namer: Namer, seed: str | None = None):
        self.function = function
        self.analysis = analysis
        self.namer = namer
        self.blocks = _Blocks(function, namer)
        self.seed = seed  # the cotangent's variable (a VJP), or None: 1.0
        self.trees = tree_variables(function)
        # Parameters never assigned again: their adjoints are only added to, never
        # pushed through a rule, so a 0.0 for "nothing added" is harmless.
        counts = ir.assignment_counts(function.body)
        self.sinks = frozenset(
            namer.adjoint(p.name) for p in function.params if p.name in analysis.active and p.name not in counts
        )
        self.maybe_at_end: frozenset[str] = frozenset()  # adjoints that may be None when the sweep ends
        # `if d is not None:` blocks (by id, with the block, whose id alone may be
        # reused): the adjoints their body assigns and their else path sets to None.
        self.guards: dict[int, tuple[Block, set[str]]] = {}
        # Trees with a subtree read: a leaf's `{key: d}` may meet that subtree's
        # sparse adjoint at one key, and be added into (so it must be full-size).
        self.nested = {
            _var(s.arg("tree")) for s in ir.walk(function.body)
            if isinstance(s, ir.Step) and s.rule.key in ITEMS and s.target in self.trees
        }
        self.claims: dict[str, _Claim] = {}
        self.conditional = {
            a for s in ir.walk(function.body) if isinstance(s, ir.Step) for a in s.rule.body
            if "IfExp" in {type(n).__name__ for n in _nodes(a.value)}
        }
        # Every tape starts empty at the top; nested blocks share theirs across
        # passes of the enclosing loop (pushes and pops pair up last-in first-out).
        self.tape_lines = [line(info.tape, cst.List([])) for info in self.blocks.info.values() if info.tape]
        self.counters: dict[int, str] = {}  # loops that count their iterations
        # Witnesses: parameters and values assigned once at the top level.
        counts = Counter(ir.assignment_counts(function.body))
        counts.update(p.name for p in function.params)  # a parameter's first value counts too
        safe = [p.name for p in function.params] + [
            s.target for s in function.body if isinstance(s, ir.Step) and counts[s.target] == 1
        ]
        self.witness: dict[Shape, str] = {}
        for name in safe:
            self.witness.setdefault(analysis.shapes[name], name)
        # Forward values the reverse sweep may read instead of recomputing them:
        # per block, its own steps, and (from enclosing blocks) those that read only
        # values assigned once (a loop's carried value differs from pass to pass).
        self.computed: dict[tuple, dict[str, str]] = {}
        self._index_computed(function.body, FUNCTION, counts)

    def _index_computed(self, block, key, counts) -> None:
        own, shared = {}, {}
        for statement in block:
            if isinstance(statement, ir.Step) and counts[statement.target] == 1:
                expression = _canonical(render(statement.rule, statement.args, statement.given))
                own.setdefault(expression, statement.target)
                if all(counts[v] <= 1 for v in statement.vars()):
                    shared.setdefault(expression, statement.target)
            elif isinstance(statement, ir.If):
                self._index_computed(statement.body, (id(statement), "body"), counts)
                self._index_computed(statement.orelse, (id(statement), "orelse"), counts)
            elif isinstance(statement, ir.Loop):
                self._index_computed(statement.body, (id(statement), "body"), counts)
        self.computed[key] = own
        self.computed[(key, "shared")] = shared

    def _reuse(self, value: cst.BaseExpression, key) -> cst.BaseExpression:
        """`value` reading forward results where it would recompute them."""
        # A view, not a copy: copying the function's index per line made this quadratic.
        ancestors = list(self.blocks.ancestors(key))[1:]
        available = ChainMap(self.computed.get(key, {}), *(self.computed.get((a, "shared"), {}) for a in ancestors))
        return transform(value, lambda node: _reused(node, available)) if any(available.maps) else value

    # -- forward -----------------------------------------------------------------------

    def forward(self, block, key) -> list:
        out = []
        for statement in block:
            if isinstance(statement, ir.Step):
                out.append(primal_line(statement))
            elif isinstance(statement, ir.Assign):
                out.append(line(statement.target, ir.node_of(statement.value), statement.origin))
            elif isinstance(statement, ir.If):
                body = self.forward(statement.body, (id(statement), "body"))
                orelse = self.forward(statement.orelse, (id(statement), "orelse"))
                out.append(Block("if", ir.node_of(statement.test), tuple(body), tuple(orelse), origin=statement.origin))
            elif isinstance(statement, ir.Loop):
                out.extend(self._forward_loop(statement))
            elif isinstance(statement, ir.Break):
                _before_carried_copies(out, self._leaving(key, to_loop=True), self._carried(key))
                out.append(Jump("break"))
            elif isinstance(statement, ir.Effect):  # assert, raise, print: as the user wrote them
                out.append(Line((), statement.node, statement.origin))
        if ir.falls_through(block):
            out = _on_fallthrough(out, self._leaving(key, to_loop=False), self._carried(key))
        return out

    def _carried(self, key) -> set[str]:
        """The names the innermost loop around block `key` carries."""
        for k in self.blocks.ancestors(key):
            loop = self.blocks.info[k].loop
            if loop is not None:
                return set(loop.carried)
        return set()

    def _leaving(self, key, to_loop: bool) -> list:
        """What a pass through a block does as it ends: push its tape (and, at the
        end of a loop body or at a break, count the iteration)."""
        out = []
        for k in self.blocks.ancestors(key):
            info = self.blocks.info[k]
            if info.tape:
                out.append(Push(info.tape))
            if info.loop is not None:
                counter = self.counters.get(id(info.loop))
                if counter:
                    out.append(line(counter, cst.parse_expression(f"{counter} + 1")))
                break
            if not to_loop:
                break
        return out

    def _forward_loop(self, loop: ir.Loop) -> list:
        key = (id(loop), "body")
        out = []
        if loop.is_while or loop.breaks:
            counter = self.namer.fresh("passes")
            self.counters[id(loop)] = counter
            out.append(line(counter, cst.Integer("0"), loop.origin))
        body = self.forward(loop.body, key)
        header = self.forward(loop.header, (id(loop), "header")) if loop.is_while else []
        out.append(loop_block(loop, header, body))
        return out

    # -- reverse -----------------------------------------------------------------------

    def reverse_function(self) -> list:
        out = []
        result = self.function.result
        assigned: set[str] = set()
        if isinstance(result, ir.Var) and result.name in self.analysis.active:
            # A scalar seed: for an array result this is the gradient of its sum.
            if self.seed is None:
                seed, claim = cst.Float("1.0"), _Claim(frozenset(), True)
            else:
                seed, claim = cst.Name(self.seed), _Claim(self.analysis.shapes[result.name], True)
            self._contribute(result.name, seed, claim, self.function.result_origin, out, assigned)
        self._reverse(self.function.body, FUNCTION, out, assigned)
        self.maybe_at_end = frozenset(a for a in _held(assigned) if _maybe(assigned, a))
        return out

    def _reverse(self, block, key, out: list, assigned: set[str]) -> None:
        info = self.blocks.info[key]
        if info.tape:
            # The pass counts of the loops in this block differ from pass to pass too.
            counters = {self.counters[id(s)] for s in block if isinstance(s, ir.Loop) and id(s) in self.counters}
            out.append(Pop(info.tape, self.blocks.candidates(key) | counters))
        for statement in reversed(block):
            if isinstance(statement, ir.Step):
                if statement.target in self.analysis.active:
                    self._step(statement, out, assigned, key)
                _drop(assigned, self.namer.adjoint(statement.target))
            elif isinstance(statement, ir.Assign):
                self._copy(statement, out, assigned)
            elif isinstance(statement, ir.If):
                self._reverse_if(statement, out, assigned)
            elif isinstance(statement, ir.Loop):
                self._reverse_loop(statement, out, assigned)

    def _copy(self, statement: ir.Assign, out, assigned) -> None:
        adjoint = self.namer.adjoint(statement.target)
        value = statement.value
        if adjoint in assigned and isinstance(value, ir.Var) and value.name in self.analysis.active:
            source = self.namer.adjoint(value.name)
            claim = self.claims[adjoint]
            fill = "_tree_fill" if statement.target in self.trees else "_fill"
            if not _maybe(assigned, adjoint):
                self._contribute(value.name, cst.Name(adjoint), claim, statement.origin, out, assigned, fill=fill)
            elif source not in assigned:  # the copy's adjoint, None or not, is the value's
                out.append(line(source, cst.Name(adjoint), statement.origin))
                assigned.update((source, MAYBE + source))
                self.claims[source] = claim
            else:
                def contribute(nodes, state):
                    self._contribute(value.name, cst.Name(adjoint), claim, statement.origin, nodes, state, fill=fill)

                self._guarded(adjoint, statement.origin, out, assigned, contribute)
        _drop(assigned, adjoint)

    def _guarded(self, adjoint: str, origin, out, assigned, emit) -> None:
        """`emit(nodes, state)`'s code, run only where `adjoint` holds a value:
        `if d_v is not None:`. An adjoint it assigns first holds None on the other
        path (0.0 for a parameter's)."""
        state = set(assigned)
        state.discard(MAYBE + adjoint)
        before = dict(self.claims)
        nodes: list = []
        emit(nodes, state)
        orelse = []
        for name in sorted(_held(state) - _held(assigned)):
            if name in self.sinks:
                orelse.append(line(name, ZERO, origin))
                self.claims[name] = self.claims[name].either(_Claim(frozenset(), True))
                assigned.add(name)
            else:
                orelse.append(line(name, NONE, origin))
                assigned.update((name, MAYBE + name))
        for name, claim in before.items():
            if name in self.claims and self.claims[name] is not claim and name in assigned:
                self.claims[name] = claim.either(self.claims[name])
        last = out[-1] if out else None
        guard, nones = self.guards.get(id(last), (None, ()))
        if guard is last and adjoint in nones:
            # The adjoint is None exactly where the previous guard's was: one guard
            # for the chain (`d_t = f(d_v)` and then what reads d_t).
            merged = replace(last, body=last.body + tuple(nodes), orelse=last.orelse + tuple(orelse))
            del self.guards[id(last)]
            self.guards[id(merged)] = (merged, nones | {n.target for n in orelse if n.value is NONE})
            out[-1] = merged
            return
        block = Block("if", _is_not_none(adjoint), tuple(nodes), tuple(orelse))
        self.guards[id(block)] = (block, {n.target for n in orelse if n.value is NONE})
        out.append(block)

    def _start_at_zero(self, statement, out, assigned) -> None:
        """Adjoints that `statement`'s nested blocks add to but whose values are
        defined outside them, and that nothing has assigned yet: a parameter's
        starts at 0.0 here. Any other starts as None before a loop (it may run no
        iteration), and gets None from the paths of an `if` that do not add to it."""
        inner = list(ir.walk(statement.body)) + (list(ir.walk(statement.orelse)) if isinstance(statement, ir.If) else [])
        defined = {name for s in inner for name in ir.assigned(s)}
        names = set()
        for s in inner:
            if isinstance(s, ir.Step) and s.target in self.analysis.active:
                names.update(v for p in s.rule.grads for v in s.vars(p))
            elif isinstance(s, ir.Assign):
                names.update(ir.vars_of(s.value))
        if isinstance(statement, ir.Loop):
            names |= set(statement.carried)
            defined -= set(statement.carried)
        for name in sorted((names - defined) & self.analysis.active):
            adjoint = self.namer.adjoint(name)
            if adjoint in assigned:
                continue
            if adjoint in self.sinks:
                out.append(line(adjoint, ZERO, statement.origin))
                assigned.add(adjoint)
                self.claims[adjoint] = _Claim(frozenset(), True)
            elif isinstance(statement, ir.Loop):
                out.append(line(adjoint, NONE, statement.origin))
                assigned.update((adjoint, MAYBE + adjoint))
                self.claims[adjoint] = _Claim(frozenset(), True)  # (None adds nothing to a sum's shape)

    def _reverse_if(self, statement: ir.If, out, assigned) -> None:
        self._start_at_zero(statement, out, assigned)
        before = dict(self.claims)
        branches, states, claims = [], [], []
        for name in ("body", "orelse"):
            self.claims = dict(before)
            nodes, state = [], set(assigned)
            self._reverse(getattr(statement, name), (id(statement), name), nodes, state)
            branches.append(nodes)
            states.append(state)
            claims.append(self.claims)
        # An adjoint one path leaves holding a value and the other does not (that
        # path assigned the name again, as a loop's carried copy does, or never
        # reached it): on the other path it has none, said explicitly (None; 0.0
        # for a parameter's), or code after the `if` would take it as not started.
        for adjoint in sorted(_held(states[0]) ^ _held(states[1])):
            lacking = 1 if adjoint in states[0] else 0
            if adjoint in self.sinks:
                branches[lacking].append(line(adjoint, ZERO, statement.origin))
                claims[lacking][adjoint] = _Claim(frozenset(), True)
                states[lacking].add(adjoint)
            else:
                branches[lacking].append(line(adjoint, NONE, statement.origin))
                claims[lacking][adjoint] = claims[1 - lacking][adjoint]
                states[lacking].update((adjoint, MAYBE + adjoint))
        branches = [tuple(b) for b in branches]
        self.claims = {
            a: claims[0][a].either(claims[1][a]) for a in claims[0] if a in claims[1]
        }
        held = _held(states[0])
        assigned.clear()
        assigned.update(held, (MAYBE + a for a in held if _maybe(states[0], a) or _maybe(states[1], a)))
        out.append(Block("if", ir.node_of(statement.test), branches[0], branches[1], origin=statement.origin))

    def _reverse_loop(self, loop: ir.Loop, out, assigned) -> None:
        self._start_at_zero(loop, out, assigned)
        # Across iterations an adjoint's shape is only known to broadcast to its value's.
        carried = [c for c in loop.carried if c in self.analysis.active]
        # A carried adjoint that a pass may leave None may be None as the next pass
        # starts: the body is written again with that known, until nothing changes
        # (names are handed out again from where they were, so none is wasted).
        entry = set(assigned)
        start = copy.deepcopy(self.namer.__dict__)
        while True:
            for name in carried:
                self.claims[self.namer.adjoint(name)] = _Claim(self.analysis.shapes[name], False)
            body = []
            state = set(entry)
            self._reverse(loop.body, (id(loop), "body"), body, state)
            for name in carried:
                adjoint = self.namer.adjoint(name)
                if adjoint not in state:  # nothing in the body read the value it started with
                    body.append(line(adjoint, NONE, loop.origin))
                    state.update((adjoint, MAYBE + adjoint))
                self.claims[adjoint] = _Claim(self.analysis.shapes[name], False)
            later = {MAYBE + a for a in _held(entry) if _maybe(state, a)} - entry
            if not later:
                break
            entry |= later
            self.namer.__dict__.update(copy.deepcopy(start))
        assigned |= entry  # (zero passes, or the last pass's end)
        counter = self.counters.get(id(loop))
        if counter:
            head = cst.parse_expression(f"range({counter})")
            out.append(Block("for", head, tuple(body), target="_", origin=loop.origin))
        else:
            head = cst.Call(cst.Name("reversed"), [cst.Arg(_range(loop.bounds))])
            out.append(Block("for", head, tuple(body), target=loop.index, origin=loop.origin))

    def _contribute(self, var: str, value, claim: _Claim, origin, out, assigned, comment=None, sparse=False, fill="_fill") -> None:
        adjoint = self.namer.adjoint(var)
        maybe = _maybe(assigned, adjoint)
        if var in self.trees:
            # A tree's adjoint: a read's sparse `{key: d}`, or an array (the value is
            # one at run time) made exactly its shape, so that sparse ones add into it.
            # (From another tree's adjoint, which may be sparse, `_tree_fill` does that.)
            exact = _Claim(self.analysis.shapes[var], True)
            if not sparse and claim != exact:
                value = _call(fill, value, cst.Name(var))
            if adjoint in assigned:
                total = _call("_tree_add", cst.Name(adjoint), value)
                value = cst.IfExp(test=_is_none(adjoint), body=value, orelse=total) if maybe else total
            _drop(assigned, adjoint)
            assigned.add(adjoint)
            self.claims[adjoint] = exact
            out.append(line(adjoint, value, origin, comment))
            return
        if adjoint in assigned:
            total = cst.BinaryOperation(cst.Name(adjoint), cst.Add(), value)
            value = cst.IfExp(test=_is_none(adjoint), body=value, orelse=total) if maybe else total
            claim = claim.plus(self.claims[adjoint])
        _drop(assigned, adjoint)
        assigned.add(adjoint)
        self.claims[adjoint] = claim
        out.append(line(adjoint, value, origin, comment))

    def _witness(self, shape: Shape, fallback: ir.Atom | None = None) -> cst.BaseExpression:
        """A value of the given shape that the forward sweep computes anyway (the
        first one, so reading it keeps nothing expensive alive)."""
        if shape in self.witness:
            return cst.Name(self.witness[shape])
        if not shape:
            return cst.Float("0.0")  # a scalar shape with no scalar variable
        return ir.node_of(fallback)

    def _step(self, step: ir.Step, out, assigned, key=FUNCTION) -> None:
        d_ans = self.namer.adjoint(step.target)
        if d_ans not in assigned:
            return  # nothing after it used its value (on this path)
        if _maybe(assigned, d_ans):  # no adjoint on some path: the rule runs only if there is one
            self._guarded(d_ans, step.origin, out, assigned, lambda nodes, state: self._rule(step, nodes, state, key))
        else:
            self._rule(step, out, assigned, key)

    def _rule(self, step: ir.Step, out, assigned, key) -> None:
        """The step's rule: its adjoint's contributions to its arguments' adjoints."""
        rule, analysis = step.rule, self.analysis
        d_ans = self.namer.adjoint(step.target)
        mapping = {name: ir.node_of(atom) for name, atom in step.args}
        mapping["ans"] = cst.Name(step.target)
        mapping["d_ans"] = cst.Name(d_ans)
        known = {name: _Claim(analysis.shape(atom), True) for name, atom in step.args}
        known["ans"] = _Claim(analysis.shapes[step.target], True)
        full = _Claim(analysis.shapes[step.target], True)
        # A leaf read from a tree gets a full-size adjoint too: `{key: d}` entries are
        # added into arrays (`pair[0]` read whole and `pair[0][1]`), which need shapes.
        leaf = rule.key in ITEMS and step.target not in self.trees and _var(step.arg("tree")) in self.nested
        if not (rule.elementwise or rule.lazy_adjoint) or leaf:
            needs_fill = self.claims[d_ans] != full
        else:
            needs_fill = False
        if step.target in self.trees and rule.key not in ITEMS:
            # An array that a loop or branch copies into a variable that may be a tree
            # (`p1, p2 = pair`, then `p1 = 0.5 * p1` in a loop and `p1[k]` read): its
            # adjoint may hold sparse `{key: d}` entries, which no other rule takes.
            fill = _call("_tree_fill", cst.Name(d_ans), cst.Name(step.target))
            out.append(line(d_ans, fill, step.origin))
            self.claims[d_ans] = full
        elif needs_fill:
            # Only elementwise rules take an adjoint that merely broadcasts.
            fill = _call("_fill", cst.Name(d_ans), self._witness(full.shape, ir.Var(step.target)))
            out.append(line(d_ans, fill, step.origin))
            self.claims[d_ans] = full
        known["d_ans"] = self.claims[d_ans]

        for assign in rule.body:
            target = assign.targets[0].target.value
            value = substitute(assign.value, mapping, parens=False)
            policy = rule.policy
            if assign in self.conditional:  # `... if axis is None else ...`
                folded = fold_static(value, parens=False)
                if isinstance(value, cst.IfExp) and folded is not value and folded.deep_equals(
                    value.body.with_changes(lpar=[], rpar=[])
                ):
                    policy = None  # the plain case (`x ** 2`): the policy is about the other
                value = folded
            value = self._reuse(value, key)
            claim = _claim_of(assign.value, known)
            param = target[2:] if target.startswith("d_") else None
            if param is None:  # a value local to the rule
                local = self.namer.fresh(target)
                mapping[target] = cst.Name(local)
                known[target] = claim
                out.append(line(local, value, step.origin))
                continue
            atom = step.arg(param)
            if isinstance(atom, ir.Seq):
                self._sequence(atom, param, value, step, rule, out, assigned)
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
                    given = dict(step.args)
                    for other in (o for o in rule.operands if o in given):
                        other_atom = given[other]
                        other_shape = analysis.shape(other_atom)
                        if other != param and not other_shape <= shape:
                            witness = self._witness(other_shape, other_atom)
                            others.setdefault(code(witness), witness)
                if not shape and not others:
                    value = _call("np.sum", value)
                else:
                    value = _call("_unbroadcast", value, self._witness(shape, atom), *others.values())
                # A contribution smaller than the result may come back still smaller.
                claim = _Claim(shape, claim == full)
            self._contribute(atom.name, value, claim, step.origin, out, assigned, policy, sparse=rule.key in ITEMS)

    def _sequence(self, seq: ir.Seq, param: str, value, step: ir.Step, rule, out, assigned) -> None:
        """A contribution to a list or tuple parameter is a sequence: one part per item
        (`d_x[1][0]` for an item of a nested list: `np.array([[a, b], [c, d]])`)."""
        if not set(seq.vars()) & self.analysis.active:
            return
        parts = self.namer.fresh(f"d_{param}")
        out.append(line(parts, value, step.origin))

        def contribute(items, base):
            for index, atom in enumerate(items):
                part = cst.Subscript(base, [cst.SubscriptElement(cst.Index(cst.Integer(str(index))))])
                if isinstance(atom, ir.Seq):
                    contribute(atom.items, part)
                elif isinstance(atom, ir.Var) and atom.name in self.analysis.active:
                    claim = _Claim(self.analysis.shapes[atom.name], False)
                    self._contribute(atom.name, part, claim, step.origin, out, assigned, rule.policy)

        contribute(seq.items, cst.Name(parts))


def _on_fallthrough(out: list, nodes: list, carried: set[str]) -> list:
    """`out` with `nodes` run where it ends normally: at its end, or, when it ends
    with an `if` whose other paths break, at the end of the paths that do not."""
    last = out[-1] if out else None
    if isinstance(last, Block) and last.kind == "if" and any(isinstance(n, Jump) for n in walk_nodes([last])):
        body = _on_fallthrough(list(last.body), nodes, carried) if _reaches_end(last.body) else list(last.body)
        orelse = _on_fallthrough(list(last.orelse), nodes, carried) if _reaches_end(last.orelse) else list(last.orelse)
        return out[:-1] + [replace(last, body=tuple(body), orelse=tuple(orelse))]
    out = list(out)
    _before_carried_copies(out, nodes, carried)
    return out


def _reaches_end(nodes) -> bool:
    if not nodes:
        return True
    last = nodes[-1]
    if isinstance(last, Jump):
        return False
    if isinstance(last, Block) and last.kind == "if":
        return _reaches_end(last.body) or _reaches_end(last.orelse)
    return True


def _before_carried_copies(out: list, nodes: list, carried: set[str]) -> None:
    """Insert `nodes` before the copies that end an iteration (`x = x_2`): a tape
    must save the values this iteration started with."""
    index = len(out)
    while index and getattr(out[index - 1], "targets", ()) and out[index - 1].targets[0] in carried:
        index -= 1
    out[index:index] = nodes


def primal_line(step: ir.Step) -> Line:
    """The step as generated code computes it. A call without a rule that may change
    state (a method, np.random) is marked to stay where it is."""
    value = render(step.rule, step.args, step.given)
    kind, name = step.rule.key
    effect = step.rule.opaque is not None and (kind == "method" or name.startswith("numpy.random."))
    return Line((step.target,), value, step.origin, effect=effect)


def loop_block(loop: ir.Loop, header: list, body: list) -> Block:
    """The loop as generated code runs it: `for i in range(...)`, or `while test`
    (`while True` with the header's steps and a break, where the test needs steps)."""
    if loop.is_while:
        if header:
            stop = Block("if", cst.UnaryOperation(cst.Not(), ir.node_of(loop.test)), (Jump("break"),))
            return Block("while", cst.Name("True"), tuple(header) + (stop,) + tuple(body), origin=loop.origin)
        return Block("while", ir.node_of(loop.test), tuple(body), origin=loop.origin)
    return Block("for", _range(loop.bounds), tuple(body), target=loop.index, origin=loop.origin)


def _range(bounds) -> cst.Call:
    start, stop, step = (ir.node_of(b) for b in bounds)
    args = [stop] if code(start) == "0" and code(step) == "1" else ([start, stop] if code(step) == "1" else [start, stop, step])
    return cst.Call(cst.Name("range"), [cst.Arg(a) for a in args])


def _var(atom: ir.Atom) -> str | None:
    return atom.name if isinstance(atom, ir.Var) else None


def _canonical(node: cst.BaseExpression) -> str:
    """An expression's text with only the parentheses printing needs (to compare)."""
    from .optimize import simplify

    return code(simplify(node))


_REUSABLE = (cst.Call, cst.BinaryOperation, cst.UnaryOperation)


def _reused(node, available: Mapping[str, str]):
    """`node` (its children done) as the name of a forward value that holds it, if any."""
    if type(node) in _REUSABLE:
        name = available.get(_canonical(node))
        if name:
            return cst.Name(name)
    return node


def _nodes(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _nodes(child)


def _call(function: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.parse_expression(function), [cst.Arg(a) for a in args])


def _claim_of(template: cst.BaseExpression, known: dict[str, _Claim]) -> _Claim:
    """The claim for a rule expression: the broadcast of what it reads. (Rules other
    than elementwise ones may shrink shapes; their callers treat the claim as an
    upper bound.)"""
    claim = _Claim(frozenset(), True)
    for name in sorted(reads(template)):
        if name in known:
            claim = claim.plus(known[name])
    return claim
