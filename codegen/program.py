"""The code of a generated function, as differentiate makes it and optimize and
emit read it: a tree of lines and blocks, with the names each node reads and writes.

- `Line`: `target = value` (or `a, b = value`, or an expression statement);
- `Block`: `if head:` / `for target in head:` / `while head:` with nested nodes;
- `Push` / `Pop`: save and restore values across loop iterations on a list (a
  tape): the forward sweep pushes at the end of each pass through a block, the
  reverse sweep pops when it replays that pass. Which names they carry is decided
  by `optimize`, from what the reverse sweep reads (only what it needs is kept);
- `Jump`: `break`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Iterator, Union

import libcst as cst

from . import ir
from .expressions import reads


@dataclass(frozen=True)
class Line:
    """`targets = value`: one name, several (`a, b = ...`), or none (a statement)."""

    targets: tuple[str, ...]
    value: cst.BaseExpression
    origin: ir.Origin | None = None
    comment: str | None = None  # said beside the line (a subgradient policy)
    # Kept where it is, even where nothing reads its target: a call without a rule
    # that may change state (`rng.normal()` advances rng: grad_<f> must draw too).
    effect: bool = False

    @property
    def target(self) -> str | None:
        return self.targets[0] if len(self.targets) == 1 else None

    @cached_property
    def reads(self) -> frozenset[str]:
        return frozenset(reads(self.value))


def line(target: str, value: cst.BaseExpression, origin=None, comment=None) -> Line:
    return Line((target,), value, origin, comment)


@dataclass(frozen=True)
class Block:
    kind: str  # "if", "for" or "while"
    head: cst.BaseExpression  # the test, or what a for loop iterates over
    body: tuple["Node", ...]
    orelse: tuple["Node", ...] = ()
    target: str | None = None  # a for loop's variable
    origin: ir.Origin | None = None

    @cached_property
    def reads(self) -> frozenset[str]:
        return frozenset(reads(self.head))


@dataclass(frozen=True)
class Push:
    """`tape.append((names...))`; `names` is filled in by optimize."""

    tape: str
    names: tuple[str, ...] = ()
    shapes: frozenset[str] = frozenset()  # names the reverse reads only the shapes of


@dataclass(frozen=True)
class Pop:
    """`names... = tape.pop()`; `candidates` are the names the matching pushes may
    save (those the block defines); optimize keeps the ones the reverse reads."""

    tape: str
    candidates: frozenset[str] = field(default_factory=frozenset)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Jump:
    word: str  # "break"


@dataclass(frozen=True)
class Release:
    """`del names`: large arrays no later line reads, let go at once."""

    names: tuple[str, ...]


Node = Union[Line, Block, Push, Pop, Jump, Release]


def node_reads(node: Node) -> set[str]:
    """Names a node reads itself (a block: its head only)."""
    if isinstance(node, (Line, Block)):
        return set(node.reads)
    if isinstance(node, Push):
        return set(node.names) | {node.tape} | ({"_shape_only"} if node.shapes else set())
    if isinstance(node, Pop):
        return {node.tape}
    return set()


def node_writes(node: Node) -> set[str]:
    if isinstance(node, Line):
        return set(node.targets)
    if isinstance(node, Block) and node.target:
        return {node.target}
    if isinstance(node, Pop):
        return set(node.names)
    return set()


def walk(nodes) -> Iterator[Node]:
    for node in nodes:
        yield node
        if isinstance(node, Block):
            yield from walk(node.body)
            yield from walk(node.orelse)


def map_lines(nodes, function) -> tuple:
    """The tree with `function` applied to every Line (returning a Line or None)."""
    out = []
    for node in nodes:
        if isinstance(node, Line):
            new = function(node)
            if new is not None:
                out.append(new)
        elif isinstance(node, Block):
            out.append(replace(node, body=map_lines(node.body, function), orelse=map_lines(node.orelse, function)))
        else:
            out.append(node)
    return tuple(out)
