"""The simpleton form that normalize produces and the later stages read.

A function becomes a straight list of `Step`s, each one primitive applied to atoms,
like the lecture's table xi1..xin. An atom is a `Var` (a name assigned exactly once)
or a `Const` (a literal, a module constant, `np.pi`, a tuple of those): constants
never carry a derivative. Plain frozen dataclasses; no stage annotates another's nodes.
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


Atom = Union[Var, Const]


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

    def arg(self, param: str) -> Atom:
        return dict(self.args)[param]

    def vars(self) -> tuple[str, ...]:
        """Names this step reads, in argument order (with repeats)."""
        return tuple(a.name for _, a in self.args if isinstance(a, Var))


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
    constants: tuple[tuple[str, cst.BaseExpression], ...]  # module constants used
