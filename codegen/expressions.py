"""Small operations on LibCST expressions shared by the stages: dotted names,
substitution of names, and parentheses where operator precedence needs them."""

from __future__ import annotations

import ast
import functools
from typing import Mapping

import libcst as cst

_EMPTY = cst.Module([])


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def dotted(node: cst.BaseExpression) -> str | None:
    """`np.linalg.norm` -> "np.linalg.norm"; None if `node` is not a dotted name."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def qualified(node: cst.BaseExpression, aliases: Mapping[str, str]) -> str | None:
    """The fully qualified name a dotted expression refers to, through the file's
    imports: with `import numpy as np`, `np.exp` -> "numpy.exp"; with
    `from numpy import exp`, `exp` -> "numpy.exp". None when the head is not imported."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head not in aliases:
        return None
    return aliases[head] + ("." + rest if rest else "")


def attribute(qualname: str, numpy_alias: str = "np") -> cst.BaseExpression:
    """The expression for a qualified numpy name in generated code: numpy.exp -> np.exp."""
    parts = qualname.split(".")
    if parts[0] == "numpy":
        parts[0] = numpy_alias
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def imports(module: cst.Module) -> dict[str, str]:
    """Local name -> qualified name for a module's top-level imports."""
    aliases: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = code(alias.name)
                    local = alias.asname.name.value if alias.asname else name.split(".")[0]
                    aliases[local] = name if alias.asname else local
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                base = code(small.module)
                for alias in small.names:
                    local = alias.asname.name.value if alias.asname else alias.name.value
                    aliases[local] = f"{base}.{code(alias.name)}"
    return aliases


class _Reads(cst.CSTVisitor):
    def __init__(self):
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def reads(node: cst.CSTNode) -> set[str]:
    """The variable names an expression or statement reads (not attribute or keyword names)."""
    names: set[str] = set()
    _collect_reads(node, names)
    return names


def _collect_reads(node: cst.CSTNode, names: set[str]) -> None:
    """The common expression nodes walked directly (a libcst visitor dispatches on
    every node, and this runs for every line many times); anything else, such as a
    statement, goes through the visitor."""
    kind = type(node)
    if kind is cst.Name:
        names.add(node.value)
    elif kind in _LEAVES:
        pass
    elif kind is cst.BinaryOperation:
        _collect_reads(node.left, names)
        _collect_reads(node.right, names)
    elif kind is cst.UnaryOperation:
        _collect_reads(node.expression, names)
    elif kind is cst.Attribute:
        _collect_reads(node.value, names)
    elif kind is cst.Call:
        _collect_reads(node.func, names)
        for arg in node.args:
            _collect_reads(arg.value, names)
    elif kind in (cst.Tuple, cst.List):
        for element in node.elements:
            _collect_reads(element.value, names)
    else:
        visitor = _Reads()
        node.visit(visitor)
        names |= visitor.names


_LEAVES = (cst.Integer, cst.Float, cst.SimpleString, cst.Ellipsis)


class _Canonical(cst.CSTTransformer):
    def __init__(self, aliases: Mapping[str, str]):
        self.aliases = aliases

    def leave_Attribute(self, original_node, updated_node):
        updated_node = updated_node.with_changes(attr=original_node.attr)
        return self._numpy(original_node, updated_node)

    def leave_Name(self, original_node, updated_node):
        return self._numpy(original_node, updated_node)

    def _numpy(self, original_node, updated_node):
        name = qualified(original_node, self.aliases)
        if name is not None and (name == "numpy" or name.startswith("numpy.")):
            return attribute(name).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)


def canonical(node: cst.CSTNode, aliases: Mapping[str, str]):
    """`node` with every reference to NumPy spelled `np.<name>`, as generated code
    imports it (`numpy.exp`, `from numpy import exp` -> `np.exp`)."""
    return node.visit(_Canonical(aliases))


class _Substitute(cst.CSTTransformer):
    def __init__(self, mapping: Mapping[str, cst.BaseExpression]):
        self.mapping = mapping

    def leave_Name(self, original_node, updated_node):
        return self.mapping.get(original_node.value, updated_node)

    # Keyword names and attribute names are Name nodes too, but not variables.
    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_Attribute(self, original_node, updated_node):
        return updated_node.with_changes(attr=original_node.attr)

    def leave_AssignTarget(self, original_node, updated_node):
        return updated_node


def substitute(node: cst.CSTNode, mapping: Mapping[str, cst.BaseExpression], parens: bool = True):
    """`node` with every variable Name in `mapping` replaced, parenthesised as needed
    (`parens=False` when the caller simplifies, which parenthesises, afterwards)."""
    replaced = node.visit(_Substitute(mapping)) if mapping else node
    return parenthesize(replaced) if parens else replaced


# Binding strength, loosest first (the Python reference's precedence table).
_BINARY = {
    cst.BitOr: 6, cst.BitXor: 7, cst.BitAnd: 8, cst.LeftShift: 9, cst.RightShift: 9,
    cst.Add: 10, cst.Subtract: 10,
    cst.Multiply: 11, cst.MatrixMultiply: 11, cst.Divide: 11, cst.FloorDivide: 11,
    cst.Modulo: 11,
    cst.Power: 13,
}
_UNARY = 12
_ATOM = 20


def _strength(node: cst.BaseExpression) -> int:
    if node.lpar:
        return _ATOM
    if isinstance(node, cst.BinaryOperation):
        return _BINARY[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return 4 if isinstance(node.operator, cst.Not) else _UNARY
    if isinstance(node, cst.BooleanOperation):
        return 3 if isinstance(node.operator, cst.And) else 2
    if isinstance(node, cst.Comparison):
        return 5
    if isinstance(node, (cst.IfExp, cst.Lambda)):
        return 1
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)) and node.value.startswith("-"):
        return _UNARY
    return _ATOM


def _wrap(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _Parenthesize(cst.CSTTransformer):
    def leave_BinaryOperation(self, original_node, updated_node):
        mine = _BINARY[type(updated_node.operator)]
        left, right = updated_node.left, updated_node.right
        power = isinstance(updated_node.operator, cst.Power)
        # `**` groups to the right and binds tighter than a unary minus on its left only.
        if _strength(left) < mine or (power and _strength(left) == mine):
            left = _wrap(left)
        right_needs = _strength(right) < (_UNARY if power else mine + 1)
        if right_needs:
            right = _wrap(right)
        return updated_node.with_changes(left=left, right=right)

    def leave_UnaryOperation(self, original_node, updated_node):
        operand = updated_node.expression
        if _strength(operand) < _UNARY:
            operand = _wrap(operand)
        return updated_node.with_changes(expression=operand)

    def leave_Attribute(self, original_node, updated_node):
        if _strength(updated_node.value) < _ATOM:
            return updated_node.with_changes(value=_wrap(updated_node.value))
        return updated_node

    def leave_Subscript(self, original_node, updated_node):
        if _strength(updated_node.value) < _ATOM:
            return updated_node.with_changes(value=_wrap(updated_node.value))
        return updated_node


def parenthesize(node: cst.CSTNode):
    """Add the parentheses that printing `node` needs to keep its tree's meaning.

    LibCST prints a tree as it is; after substitution a child can bind more loosely
    than its parent (`x ** 2` with x := -1 must print `(-1) ** 2`)."""
    return node.visit(_Parenthesize())


_UNKNOWN = object()


@functools.lru_cache(maxsize=4096)
def literal_value(text: str):
    """The value of a literal's text (`"1_000"`, `"0.5"`, `"'a'"`). Cached: a function
    uses few distinct literals many times, and each `ast.literal_eval` call leaves
    closures in reference cycles, which pile up while generation pauses the collector."""
    return ast.literal_eval(text)


def _static(node: cst.BaseExpression):
    """The value of a test made of literals (`None is not None and not False`), or
    _UNKNOWN when it depends on anything computed at run time."""
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return literal_value(node.value)
    if isinstance(node, cst.Tuple):
        items = [_static(e.value) for e in node.elements]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else tuple(items)
    if isinstance(node, cst.UnaryOperation):
        inner = _static(node.expression)
        if inner is _UNKNOWN:
            return _UNKNOWN
        if isinstance(node.operator, cst.Not):
            return not inner
        if isinstance(node.operator, cst.Minus):
            return -inner
        return _UNKNOWN
    if isinstance(node, cst.BooleanOperation):
        left, right = _static(node.left), _static(node.right)
        if isinstance(node.operator, cst.And):
            if left is not _UNKNOWN and not left:
                return left
            return _UNKNOWN if left is _UNKNOWN or right is _UNKNOWN else right
        if left is not _UNKNOWN and left:
            return left
        return _UNKNOWN if left is _UNKNOWN or right is _UNKNOWN else right
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        left, right = _static(node.left), _static(node.comparisons[0].comparator)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        op = node.comparisons[0].operator
        if isinstance(op, cst.Is):
            return left is right if None in (left, right) else left == right
        if isinstance(op, cst.IsNot):
            return left is not right if None in (left, right) else left != right
        if isinstance(op, cst.Equal):
            return left == right
        if isinstance(op, cst.NotEqual):
            return left != right
    return _UNKNOWN


class _FoldStatic(cst.CSTTransformer):
    def leave_IfExp(self, original_node, updated_node):
        test = _static(updated_node.test)
        if test is _UNKNOWN:
            return updated_node
        chosen = updated_node.body if test else updated_node.orelse
        return chosen.with_changes(lpar=[], rpar=[])


def fold_static(node: cst.CSTNode, parens: bool = True):
    """Decide conditional expressions whose tests involve only literals."""
    folded = node.visit(_FoldStatic())
    return parenthesize(folded) if parens else folded
