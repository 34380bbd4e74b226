"""The simpleton form that normalize produces and the later stages read.

A function becomes a straight list of `Step`s, each one primitive applied to atoms,
like the lecture's table xi1..xin. An atom is
- a `Var`: a name assigned exactly once, which may carry a derivative;
- a `Const`: an expression that never carries one: a literal, a module constant,
  `np.pi`, a tuple of those, or an index such as `1:, idx` (which may read
  variables, as data);
- a `Seq`: a list or tuple of atoms passed as one argument (`np.stack([a, b])`).
Plain frozen dataclasses; no stage annotates another's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

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
        return tuple(a.name for a in self.items if isinstance(a, Var))


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
    position: tuple[int, int] = (0, 0)  # line, column of the expression (for errors)

    def arg(self, param: str) -> Atom:
        return dict(self.args)[param]

    def vars(self, param: str | None = None) -> tuple[str, ...]:
        """Variables passed as values, to `param` or to any parameter (with repeats)."""
        return tuple(v for name, a in self.args if param in (None, name) for v in vars_of(a))


@dataclass(frozen=True)
class Param:
    name: str
    default: cst.BaseExpression | None
    scalar: bool  # annotated `float`/`int`: a Python number, never an array


@dataclass(frozen=True)
class Function:
    """A user function in simpleton form, with everything the emitter needs."""

    name: str
    path: str
    source_sha256: str
    params: tuple[Param, ...]
    signature: cst.Parameters  # as the user wrote it, annotations dropped
    steps: tuple[Step, ...]
    result: Atom
    result_origin: Origin
    imports: tuple[str, ...]  # modules besides NumPy that forward lines call (user rules)
    constants: tuple[tuple[str, cst.BaseExpression], ...]  # module constants used
