"""Small operations on LibCST expressions shared by the stages: dotted names,
substitution of names, and parentheses where operator precedence needs them."""

from __future__ import annotations

import ast
import functools
import math
from typing import Mapping

import libcst as cst

_EMPTY = cst.Module([])


def code(node: cst.CSTNode) -> str:
    """The source text of `node`, as LibCST prints it. The common expression nodes
    are printed here directly: LibCST's printer enters a context manager per node,
    and printing was a fifth of generation's time. Anything else, or any whitespace
    other than plain spaces, is LibCST's to print (tests/test_expressions.py checks
    the two agree)."""
    try:
        return _text(node)
    except _Unprintable:
        return _EMPTY.code_for_node(node)


class _Unprintable(Exception):
    pass


def _text(node) -> str:
    printer = _PRINTERS.get(type(node))
    if printer is None:
        return _EMPTY.code_for_node(node)
    text = printer(node)
    if node.lpar:
        text = "".join("(" + _space(p.whitespace_after) for p in node.lpar) + text
        text += "".join(_space(p.whitespace_before) + ")" for p in node.rpar)
    return text


def _space(whitespace) -> str:
    if type(whitespace) is not cst.SimpleWhitespace:
        raise _Unprintable
    return whitespace.value


def _token(operator) -> str:
    """A one-token operator, comma or dot with the spaces around it."""
    return _space(operator.whitespace_before) + operator._get_token() + _space(operator.whitespace_after)


def _text_arg(arg, last: bool) -> str:
    text = arg.star + _space(arg.whitespace_after_star)
    if arg.keyword is not None:
        text += arg.keyword.value
        text += " = " if arg.equal is cst.MaybeSentinel.DEFAULT else _token(arg.equal)
    elif arg.equal is not cst.MaybeSentinel.DEFAULT:
        raise _Unprintable
    text += _text(arg.value)
    if arg.comma is cst.MaybeSentinel.DEFAULT:
        text += "" if last else ", "
    else:
        text += _token(arg.comma)
    return text + _space(arg.whitespace_after_arg)


def _text_call(node) -> str:
    last = len(node.args) - 1
    args = "".join(_text_arg(a, i == last) for i, a in enumerate(node.args))
    return f"{_text(node.func)}{_space(node.whitespace_after_func)}({_space(node.whitespace_before_args)}{args})"


_PRINTERS = {
    cst.Name: lambda n: n.value,
    cst.Integer: lambda n: n.value,
    cst.Float: lambda n: n.value,
    cst.SimpleString: lambda n: n.value,
    cst.BinaryOperation: lambda n: _text(n.left) + _token(n.operator) + _text(n.right),
    cst.BooleanOperation: lambda n: _text(n.left) + _token(n.operator) + _text(n.right),
    cst.UnaryOperation: lambda n: n.operator._get_token() + _space(n.operator.whitespace_after) + _text(n.expression),
    cst.Attribute: lambda n: _text(n.value) + _token(n.dot) + n.attr.value,
    cst.Call: _text_call,
}


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
                # a relative import keeps its dots: `from .kernels import rbf` -> .kernels.rbf,
                # `from . import kernels` -> .kernels
                base = "." * len(small.relative) + (code(small.module) if small.module is not None else "")
                for alias in small.names:
                    local = alias.asname.name.value if alias.asname else alias.name.value
                    aliases[local] = f"{base}.{code(alias.name)}" if not base.endswith(".") else base + code(alias.name)
    return aliases


def reads(node: cst.CSTNode) -> set[str]:
    """The variable names an expression or statement reads (not attribute or keyword names)."""
    names: set[str] = set()

    def collect(expression):
        if type(expression) is cst.Name:
            names.add(expression.value)
        return expression

    transform(node, collect)  # keeps every node as it is: nothing is rebuilt
    return names


_LEAVES = (cst.Integer, cst.Float, cst.SimpleString, cst.Ellipsis)


def transform(node: cst.CSTNode, leave) -> cst.CSTNode:
    """`node` rebuilt bottom-up with `leave(expression)` applied to every expression in
    it, children first, as a LibCST transformer's `on_leave` would be (attribute and
    keyword names are not expressions here). The common expression nodes are walked
    directly, and a node whose children come back unchanged is kept as it is; a
    LibCST transformer visits every operator, parenthesis and whitespace node too, and
    that made the rewriting passes most of generation's time. Any other node goes
    through such a transformer, with the same `leave`."""
    kind = type(node)
    if kind in _LEAVES or kind is cst.Name:
        return leave(node)
    rebuild = _REBUILD.get(kind)
    if rebuild is None:
        return node.visit(_Leave(leave))
    return leave(rebuild(node, leave))


def _binary(node, leave):
    left, right = transform(node.left, leave), transform(node.right, leave)
    return node if left is node.left and right is node.right else node.with_changes(left=left, right=right)


def _unary(node, leave):
    inner = transform(node.expression, leave)
    return node if inner is node.expression else node.with_changes(expression=inner)


def _attribute(node, leave):
    value = transform(node.value, leave)
    return node if value is node.value else node.with_changes(value=value)


def _call(node, leave):
    func = transform(node.func, leave)
    args = [_arg(a, leave) for a in node.args]
    if func is node.func and all(a is b for a, b in zip(args, node.args)):
        return node
    return node.with_changes(func=func, args=args)


def _arg(arg, leave):
    value = transform(arg.value, leave)
    return arg if value is arg.value else arg.with_changes(value=value)


def _sequence(node, leave):
    elements = [_arg(e, leave) if type(e) is cst.Element else transform(e, leave) for e in node.elements]
    if all(a is b for a, b in zip(elements, node.elements)):
        return node
    return node.with_changes(elements=elements)


def _subscript(node, leave):
    value = transform(node.value, leave)
    elements = []
    for element in node.slice:
        inner = element.slice
        if type(inner) is cst.Index:
            index = transform(inner.value, leave)
            changed = inner if index is inner.value else inner.with_changes(value=index)
        elif type(inner) is cst.Slice:
            bounds = {k: getattr(inner, k) for k in ("lower", "upper", "step")}
            new = {k: v if v is None else transform(v, leave) for k, v in bounds.items()}
            changed = inner if all(new[k] is bounds[k] for k in new) else inner.with_changes(**new)
        else:
            changed = inner.visit(_Leave(leave))
        elements.append(element if changed is inner else element.with_changes(slice=changed))
    if value is node.value and all(a is b for a, b in zip(elements, node.slice)):
        return node
    return node.with_changes(value=value, slice=elements)


def _if_expression(node, leave):
    test, body, orelse = (transform(n, leave) for n in (node.test, node.body, node.orelse))
    if test is node.test and body is node.body and orelse is node.orelse:
        return node
    return node.with_changes(test=test, body=body, orelse=orelse)


_REBUILD = {
    cst.BinaryOperation: _binary,
    cst.BooleanOperation: _binary,
    cst.UnaryOperation: _unary,
    cst.Attribute: _attribute,
    cst.Call: _call,
    cst.Tuple: _sequence,
    cst.List: _sequence,
    cst.Subscript: _subscript,
    cst.IfExp: _if_expression,
}


class _Leave(cst.CSTTransformer):
    """`transform` for the nodes it does not walk itself."""

    def __init__(self, leave):
        self.leave = leave
        self.not_variables: set[int] = set()  # attribute and keyword names

    def on_visit(self, node) -> bool:
        if type(node) is cst.Attribute:
            self.not_variables.add(id(node.attr))
        elif type(node) is cst.Arg and node.keyword is not None:
            self.not_variables.add(id(node.keyword))
        return True

    def on_leave(self, original_node, updated_node):
        if isinstance(updated_node, cst.BaseExpression) and id(original_node) not in self.not_variables:
            return self.leave(updated_node)
        return updated_node


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
        if name is not None and "." in name and not name.startswith("builtins."):
            # np.exp for NumPy, the full name for another module's function
            # (`special.digamma` -> scipy.special.digamma), as generated code imports it
            return attribute(name).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if name == "numpy":
            return attribute(name).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_ParenthesizedWhitespace(self, original_node, updated_node):
        # A line break inside brackets: one space. Rule lines are taken apart and
        # their brackets dropped where printing does not need them; a line break
        # left behind would end the statement there (`t_ans = (a\n + b)` would
        # become `t_ans = a` and an expression statement `+b`).
        return cst.SimpleWhitespace(" ")


def canonical(node: cst.CSTNode, aliases: Mapping[str, str]):
    """`node` with every reference to NumPy spelled `np.<name>`, as generated code
    imports it (`numpy.exp`, `from numpy import exp` -> `np.exp`), and every other
    imported function by its full name (`special.digamma` -> `scipy.special.digamma`),
    on one line."""
    return node.visit(_Canonical(aliases))


def substitute(node: cst.CSTNode, mapping: Mapping[str, cst.BaseExpression], parens: bool = True):
    """`node` with every variable Name in `mapping` replaced, parenthesised as needed
    (`parens=False` when the caller simplifies, which parenthesises, afterwards)."""
    if not mapping:
        replaced = node
    else:
        replaced = transform(node, lambda n: mapping.get(n.value, n) if type(n) is cst.Name else n)
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


def _parenthesized(node):
    """`node` with parentheses around the children that bind more loosely than it."""
    kind = type(node)
    if kind is cst.BinaryOperation:
        mine = _BINARY[type(node.operator)]
        left, right = node.left, node.right
        power = isinstance(node.operator, cst.Power)
        # `**` groups to the right and binds tighter than a unary minus on its left only.
        if _strength(left) < mine or (power and _strength(left) == mine):
            left = _wrap(left)
        if _strength(right) < (_UNARY if power else mine + 1):
            right = _wrap(right)
        return node if left is node.left and right is node.right else node.with_changes(left=left, right=right)
    if kind is cst.UnaryOperation:
        if _strength(node.expression) < _UNARY:
            return node.with_changes(expression=_wrap(node.expression))
    elif kind is cst.Attribute or kind is cst.Subscript:
        if _strength(node.value) < _ATOM:
            return node.with_changes(value=_wrap(node.value))
    return node


def parenthesize(node: cst.CSTNode):
    """Add the parentheses that printing `node` needs to keep its tree's meaning.

    LibCST prints a tree as it is; after substitution a child can bind more loosely
    than its parent (`x ** 2` with x := -1 must print `(-1) ** 2`)."""
    return transform(node, _parenthesized)


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
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("np", "numpy") \
            and node.attr.value == "inf":
        return math.inf
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
        if isinstance(op, (cst.In, cst.NotIn)) and isinstance(right, tuple):
            return (left in right) == isinstance(op, cst.In)
        order = {cst.LessThan: "__lt__", cst.LessThanEqual: "__le__", cst.GreaterThan: "__gt__",
                 cst.GreaterThanEqual: "__ge__"}.get(type(op))
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        if order is not None and numbers:
            return getattr(left, order)(right)
    if isinstance(node, cst.Call) and dotted(node.func) == "np.all" and len(node.args) == 1:
        # `np.all(y >= 1)`: a test that also holds at run time for an array `y`
        inner = _static(node.args[0].value)
        return _UNKNOWN if inner is _UNKNOWN else bool(inner)
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


def total(terms: list) -> cst.BaseExpression | None:
    """`a + b + ...` of the terms (None for none), parenthesised as needed."""
    if not terms:
        return None
    out = terms[0]
    for term in terms[1:]:
        out = cst.BinaryOperation(out, cst.Add(), term)
    return parenthesize(out)
