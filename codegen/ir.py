"""The simpleton form that normalize produces and the later stages read.

A function becomes a block of statements: `Step`s, each one primitive applied to
atoms like the lecture's table xi1..xin, copies (`Assign`), and structured control
flow (`If`, `Loop`, `Break`) whose jumps are all at the ends of blocks. Names
are assigned once, except names merged after an `if` (assigned once per branch) and
names carried around a loop (rebound each iteration). An atom is
- a `Var`: a name assigned exactly once, which may carry a derivative;
- a `Const`: an expression that never carries one: a literal, a module constant,
  `np.pi`, a tuple of those, or an index such as `1:, idx` (which may read
  variables, as data);
- a `Seq`: a list or tuple of atoms passed as one argument (`np.stack([a, b])`).
Plain frozen dataclasses; no stage annotates another's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Union

import libcst as cst

from .rules import Rule


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Const:
    node: cst.BaseExpression

    @property
    def code(self) -> str:
        return cst.Module([]).code_for_node(self.node)


@dataclass(frozen=True)
class Seq:
    items: tuple["Atom", ...]
    brackets: str  # "list" or "tuple"

    def vars(self) -> tuple[str, ...]:
        """The variables among the items, nested lists' included."""
        return tuple(v for a in self.items for v in vars_of(a))


Atom = Union[Var, Const, Seq]


def node_of(atom: Atom) -> cst.BaseExpression:
    """The expression for an atom in generated code."""
    if isinstance(atom, Var):
        return cst.Name(atom.name)
    if isinstance(atom, Const):
        return atom.node
    elements = [cst.Element(node_of(a)) for a in atom.items]
    if atom.brackets == "list":
        return cst.List(elements)
    if len(elements) == 1:
        elements[0] = elements[0].with_changes(comma=cst.Comma())
    return cst.Tuple(elements)


def vars_of(atom: Atom) -> tuple[str, ...]:
    """The variables an atom passes as values (not those an index merely reads)."""
    if isinstance(atom, Var):
        return (atom.name,)
    if isinstance(atom, Seq):
        return atom.vars()
    return ()


@dataclass(frozen=True)
class Origin:
    """The source statement a step comes from (for comments in generated code)."""

    line: int
    text: str


@dataclass(frozen=True)
class Step:
    """`target = rule(args)`: one primitive, every argument an atom.

    `args` binds every parameter of the rule (defaults filled in), in the rule's order;
    `given` names the parameters the user wrote, so the forward line can be printed
    the way the user would write it.
    """

    target: str
    rule: Rule
    args: tuple[tuple[str, Atom], ...]
    given: frozenset[str]
    origin: Origin
    place: tuple = ()  # Located.place of the expression, looked up only for an error

    @property
    def position(self) -> tuple[int, int]:
        """Line and column of the expression (for errors)."""
        return self.place[0].position_of(self.place[1]) if self.place else (0, 0)

    def arg(self, param: str) -> Atom:
        return dict(self.args)[param]

    def vars(self, param: str | None = None) -> tuple[str, ...]:
        """Variables passed as values, to `param` or to any parameter (with repeats)."""
        return tuple(v for name, a in self.args if param in (None, name) for v in vars_of(a))


@dataclass(frozen=True)
class Assign:
    """`target = value`: a copy (a merge after a branch, a loop's carried value)."""

    target: str
    value: Atom
    origin: Origin


@dataclass(frozen=True)
class If:
    """Run `body` or `orelse` by `test` (no gradient flows through the test)."""

    test: Atom
    body: tuple["Statement", ...]
    orelse: tuple["Statement", ...]
    origin: Origin


@dataclass(frozen=True)
class Loop:
    """`for index in range(*bounds)` or, with `test`, a `while` loop whose `header`
    steps compute the test before each iteration. `carried` are the names the body
    rebinds (their values flow from one iteration to the next)."""

    body: tuple["Statement", ...]
    carried: tuple[str, ...]
    origin: Origin
    index: str | None = None
    bounds: tuple[Atom, ...] = ()
    header: tuple["Statement", ...] = ()
    test: Atom | None = None
    breaks: bool = False  # the body may leave the loop early

    @property
    def is_while(self) -> bool:
        return self.test is not None


@dataclass(frozen=True)
class Break:
    """Leave the innermost loop (always the last statement of its block)."""

    origin: Origin


@dataclass(frozen=True)
class Effect:
    """A statement kept as the user wrote it, over atoms: `assert`, `raise`, `print(...)`.
    It guards or reports a value and carries no gradient; the forward sweep runs it
    where the user's function would (a `raise` ends its block)."""

    node: cst.BaseSmallStatement
    origin: Origin


Statement = Union[Step, Assign, If, Loop, Break, Effect]


def walk(block) -> "Iterator[Statement]":
    """Every statement of a block, nested ones included, in order."""
    for statement in block:
        yield statement
        if isinstance(statement, If):
            yield from walk(statement.body)
            yield from walk(statement.orelse)
        elif isinstance(statement, Loop):
            yield from walk(statement.header)
            yield from walk(statement.body)


def assignment_counts(block) -> dict[str, int]:
    """How many statements assign each name (a loop's index counts once)."""
    counts: dict[str, int] = {}
    for statement in walk(block):
        if isinstance(statement, (Step, Assign)):
            counts[statement.target] = counts.get(statement.target, 0) + 1
        elif isinstance(statement, Loop) and statement.index:
            counts[statement.index] = counts.get(statement.index, 0) + 1
    return counts


def assigned(statement) -> tuple[str, ...]:
    """The names a statement (with its nested blocks) assigns."""
    out = []
    for s in walk([statement]):
        if isinstance(s, (Step, Assign)):
            out.append(s.target)
        elif isinstance(s, Loop) and s.index:
            out.append(s.index)
    return tuple(out)


def falls_through(block) -> bool:
    """Whether running a block can reach its end (a break always ends a block)."""
    if not block:
        return True
    last = block[-1]
    if isinstance(last, Break):
        return False
    if isinstance(last, If):
        return falls_through(last.body) or falls_through(last.orelse)
    return True


def on_fallthrough(block, statements) -> list:
    """`block` with `statements` added at the end of every path that falls through
    (into the branches of a trailing `if` whose other paths break), so that they
    run exactly when the block ends normally."""
    block = list(block)
    if not falls_through(block):
        return block
    last = block[-1] if block else None
    if isinstance(last, If) and not (falls_through(last.body) and falls_through(last.orelse) and not _has_break(last)):
        return block[:-1] + [
            replace(
                last,
                body=tuple(on_fallthrough(last.body, statements)),
                orelse=tuple(on_fallthrough(last.orelse, statements)),
            )
        ]
    return block + list(statements)


def _has_break(statement) -> bool:
    return any(isinstance(s, Break) for s in walk([statement]) if not isinstance(s, Loop))


@dataclass(frozen=True)
class Param:
    name: str
    default: cst.BaseExpression | None
    scalar: bool  # annotated `float`/`int`: a Python number, never an array
    tree: bool = False  # annotated as a container (`dict`, `list`, ...): a parameter tree


@dataclass(frozen=True)
class Function:
    """A user function in simpleton form, with everything the emitter needs."""

    name: str
    path: str
    source_sha256: str
    params: tuple[Param, ...]
    signature: cst.Parameters  # as the user wrote it, annotations dropped
    body: tuple[Statement, ...]
    result: Atom  # the value to differentiate
    result_origin: Origin
    imports: tuple[str, ...]  # modules besides NumPy that forward lines call (user rules)
    constants: tuple[tuple[str, cst.BaseExpression], ...]  # module constants used
    # `return loss, aux...`: the values returned beside the loss (None: the function
    # returns the loss alone). They get no derivative.
    aux: tuple[Atom, ...] | None = None
