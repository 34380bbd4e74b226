"""Parameter trees in normalisation: which values are dicts, lists or tuples of
arrays, and `tree[key]` as the primitive `item` (templates/trees.py).

A value is a *tree* for sure when it is a parameter annotated as a container
(`dict`, `list`, `tuple`, `Mapping`, `Sequence`, and their subscripted forms), or is
indexed somewhere by a string (`params["W1"]`). It *may be* one when it is an
unannotated parameter that the function only takes apart (`x[0]`, `x[k]` with a loop
counter `k`, `a, b = x`, `for row in x`, `zip(x, ...)`, `enumerate(x)`, `len(x)`,
or passes to a function of the same file), or a value read out of a tree. Such
values are taken apart with `item`, whose generated code (`x[key]`) and adjoint
(`_tree_add`, `_tree_fill`) are right whether the value is a tree or an array at run
time; any other use of a parameter (arithmetic, a NumPy call, a slice) makes it an
array, differentiated as before.

A key must be a constant (a literal, a module constant) or a loop's counter, except
into a value that is surely a tree, which takes any key that is not a slice. A tree
cannot be changed in place (`params["W"] = ...`).
"""

from __future__ import annotations

import libcst as cst

from . import ir
from .expressions import code

CONTAINERS = frozenset({
    "dict", "list", "tuple", "Dict", "List", "Tuple", "Mapping", "MutableMapping", "Sequence",
    "MutableSequence", "OrderedDict", "NamedTuple",
})
# What a tree's adjoint cannot be read through (a dict's own methods).
_METHODS = frozenset({"items", "keys", "values", "get", "pop", "update", "setdefault", "copy", "append", "extend"})


MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict"})


def is_container(annotation: cst.BaseExpression | None, mappings: bool = False) -> bool:
    """Whether a parameter's annotation names a dict, list or tuple type (with
    `mappings`, a dict type)."""
    if annotation is None:
        return False
    if isinstance(annotation, cst.Subscript):
        annotation = annotation.value
    text = code(annotation)
    return text.rsplit(".", 1)[-1] in (MAPPINGS if mappings else CONTAINERS)


def taken_apart(fn: cst.FunctionDef, names: set[str]) -> tuple[set[str], set[str]]:
    """Of `names` (parameters): those the body uses only by taking them apart (see
    the module's docstring), at least once; and those it indexes by a string, or
    iterates to read by the keys it gets (`for k in p: p[k]`): dicts."""
    uses = _Uses(names)
    fn.body.visit(uses)
    return uses.items - uses.whole, uses.keyed


def _simple_key(node: cst.BaseExpression) -> bool:
    """A key that may be an integer or a string (not a slice, a float, a mask)."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, cst.BinaryOperation):
        return _simple_key(node.left) and _simple_key(node.right)
    return isinstance(node, (cst.Integer, cst.SimpleString, cst.Name)) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("len", "int")
    )


class _Uses(cst.CSTVisitor):
    def __init__(self, names: set[str]):
        self.names = names
        self.aliases: dict[str, str] = {}  # `q = p`: uses of q are uses of p
        self.items: set[str] = set()
        self.whole: set[str] = set()
        self.keyed: set[str] = set()
        self.loops: list[tuple[str, str]] = []  # (parameter, loop variable) of `for k in p`

    def _name(self, node) -> str | None:
        if isinstance(node, cst.Name):
            if node.value in self.aliases:
                return self.aliases[node.value]
            if node.value in self.names:
                return node.value
        return None

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        name = self._name(node.value)
        if name is None:
            return True
        one = len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)
        if one and _simple_key(node.slice[0].slice.value):
            self.items.add(name)
            key = node.slice[0].slice.value
            if isinstance(key, (cst.SimpleString, cst.ConcatenatedString)) or (
                isinstance(key, cst.Name) and (name, key.value) in self.loops
            ):
                self.keyed.add(name)
        else:
            self.whole.add(name)
        for element in node.slice:
            element.visit(self)
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func.value if isinstance(node.func, cst.Name) else None
        if func == "len" and len(node.args) == 1 and self._name(node.args[0].value):
            self.items.add(self._name(node.args[0].value))
            return False
        if func is not None and func not in _BUILTIN_CALLS:  # a function of the same file: passed on
            for arg in node.args:
                if not arg.star and self._name(arg.value):
                    self.items.add(self._name(arg.value))
                    continue
                arg.visit(self)
            return False
        return True

    def visit_For(self, node: cst.For) -> bool:
        looped = []
        for sequence in _sequences(node.iter):
            name = self._name(sequence)
            if name is not None:
                self.items.add(name)
                if isinstance(node.target, cst.Name):
                    looped.append((name, node.target.value))
            else:
                sequence.visit(self)
        node.target.visit(self)
        self.loops += looped
        node.body.visit(self)
        del self.loops[len(self.loops) - len(looped):]
        if node.orelse is not None:
            node.orelse.visit(self)
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        name = self._name(node.value)
        if name is not None and all(isinstance(t.target, cst.Name) for t in node.targets):
            for t in node.targets:  # `q = p`: another name for p
                self.aliases[t.target.value] = name
            return False
        unpacking = all(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets)
        if name is not None and unpacking:
            self.items.add(name)
            for t in node.targets:
                t.visit(self)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        name = self._name(node)
        if name is not None:
            self.whole.add(name)

    def visit_FunctionDef(self, node) -> bool:
        return False


def _sequences(iterable: cst.BaseExpression) -> list[cst.BaseExpression]:
    """What a `for` loop takes apart: `x` in `for e in x`, `enumerate(x)`, `zip(x, y)`,
    `enumerate(zip(x, y))` (and the other expressions those calls read)."""
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "reversed":
        args = [a.value for a in iterable.args]
        return args if len(args) == 1 and isinstance(args[0], cst.Name) else [iterable]
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value in ("zip", "enumerate"):
        args = [a.value for a in iterable.args if not a.keyword and not a.star]
        if iterable.func.value == "enumerate":
            return _sequences(args[0]) + args[1:] if args else []
        return args
    return [iterable]


_BUILTIN_CALLS = frozenset({
    "abs", "max", "min", "sum", "float", "int", "pow", "round", "range", "zip", "enumerate", "reversed",
    "print", "isinstance", "list", "tuple", "dict", "sorted", "any", "all", "map", "iter", "next",
})


class TreeLowering:
    """Mixed into the normaliser (its state: `trees`, `maybe_trees`, `counters`)."""

    def tree_item(self, value: ir.Atom, node: cst.Subscript, target) -> ir.Atom | None:
        """`value[key]` as an `item` step, if value is (or may be) a tree; None for
        an array index."""
        if not isinstance(value, ir.Var):
            return None
        sure = value.name in self.trees
        one = len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)
        key_node = node.slice[0].slice.value if one else None
        string = isinstance(key_node, (cst.SimpleString, cst.ConcatenatedString))
        if not (sure or string or value.name in self.maybe_trees):
            return None
        if not one:
            if sure:
                raise self.where.error(
                    node, f"`{code(node)}`: a parameter tree (or a list of arrays, as np.split gives) takes one key "
                    f"at a time, not a slice or a tuple of indices; read each item (`{code(node.value)}[0]`, ...) "
                    "or loop over it",
                )
            return None
        key = self._lower(key_node)
        if not (string or sure or self._constant_key(key)) and isinstance(key, ir.Var) and key.name not in self.params:
            # A computed key (`layers[i % 2]`) into what may be a list or an array.
            return self.item_step(value, key, target, node, rule=("statement", "_item_or_index"))
        if string or sure or self._constant_key(key):
            if string:
                self.trees.add(value.name)
                word = key_node.evaluated_value if isinstance(key_node, cst.SimpleString) else None
                if target is None and isinstance(word, str) and word.isidentifier() and not self.namer.is_reserved(word):
                    base = f"{value.name}_{word}"
                    target = lambda: self.namer.fresh(base)  # `params_W1 = params["W1"]`
            return self.item_step(value, key, target, node)
        return None

    def tree_element(self, atom: ir.Atom, index: ir.Atom, node) -> ir.Atom | None:
        """Element `index` (a constant, or a loop's counter) of what `a, b = x` or
        `for e in x` takes apart, if x is (or may be) a tree."""
        if isinstance(atom, ir.Var) and (atom.name in self.trees or atom.name in self.maybe_trees):
            return self.item_step(atom, index, None, node)
        return None

    def item_step(self, value: ir.Var, key: ir.Atom, target, node, rule=("statement", "_item")) -> ir.Atom:
        rule = self.registry.lookup(*rule)
        if rule is None:
            raise self.where.error(node, "reading a parameter tree has no rule; add `item` to templates/")
        result = self._step(rule, {"tree": value, "key": key}, target, node)
        if isinstance(result, ir.Var):
            self.maybe_trees.add(result.name)
        return result

    def _constant_key(self, key: ir.Atom) -> bool:
        """A key that is surely a number or a string: a literal, or a loop's counter."""
        if isinstance(key, ir.Var):
            return key.name in self.counters
        node = key.node
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            node = node.expression
        if isinstance(node, cst.Name) and node.value in self.parsed.constants:
            node = self.parsed.constants[node.value]
        return isinstance(node, (cst.Integer, cst.SimpleString, cst.ConcatenatedString))

    def refuse_tree_method(self, value: ir.Atom, func: cst.Attribute) -> None:
        """A dict's methods on a tree (`.items()`, also on a parameter not yet known to
        be a dict: arrays have none of those four), said with what to write."""
        dict_only = func.attr.value in ("items", "keys", "values", "get")
        if isinstance(value, ir.Var) and (value.name in self.trees or dict_only) and func.attr.value in _METHODS:
            name = code(func.value)
            raise self.where.error(
                func, f"`{code(func)}()` on a parameter tree is not supported; read each item by its key "
                f"(`{name}[\"W\"]`), or loop over a tuple of keys: `for key in (\"W1\", \"W2\"): {name}[key]`",
            )

    def refuse_dict_iteration(self, atom: ir.Atom, node, unpacking: bool = False) -> None:
        """Iterating a dict gives its keys, not its values: refused, saying what to write."""
        if isinstance(atom, ir.Var) and atom.name in self.dicts:
            what = "unpacking" if unpacking else "iterating over"
            raise self.where.error(
                node, f"{what} the dict `{code(node)}` is not supported (it gives its keys); read each "
                f"value by its key (`W = {code(node)}[\"W\"]`), or loop over a tuple of keys: "
                f"`for key in (\"W1\", \"W2\"): {code(node)}[key]`",
            )
