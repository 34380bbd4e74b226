"""Stage 2: the parsed function -> simpleton form (`ir.Function`).

After normalisation a function body is a block of exactly these statements:

- `Step(target, rule, args)`: `target = <one primitive>(<atoms>)`, in evaluation
  order (Python's: left operand before right, arguments left to right); compound
  expressions get temporaries `t1`, `t2`, ... (names.py);
- `Assign(target, atom)`: a copy, only where control flow merges values: at the
  end of each branch of an `if` (the merged name), before a loop (a carried name
  that needs a variable of its own) and at the end of a loop body (the carried
  name's next value);
- `If(test, body, orelse)`: both branches end by falling through, or with a
  `Break` (in a loop) or by setting the result (`return`); nothing follows an `if`
  whose branches jump (structure.py moves it into the branches);
- `Loop`: `for i in range(...)` (loops over arrays, `zip` and `enumerate` become
  range loops with indexing) or `while`, with the names it carries;
- `Break`, as the last statement of a block inside a loop.

Names: every name is assigned once, except merged names (once per branch) and
carried names (once before the loop and once per iteration). A reassigned user
name gets a fresh version (`x`, `x_2`, ...). `a = b` and `a = 2.0` make no
statement: `a` names the same atom. Calls to functions defined in the same file
are inlined (recursion is refused). Augmented assignment `x += v` is `x = x + v`
unless another name refers to the same array (then it would change that one too,
and codegen refuses). The function's result is one atom.

Expressions (lowering.py) and statements outside the subset are rejected with a
positioned error that says what to write instead.
"""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass

import libcst as cst

from . import ir
from .errors import Located
from .expressions import attribute, code, qualified, reads
from .lowering import ExpressionLowering
from .names import Namer
from .parse import Parsed
from .rules import Registry, projection_key
from .structure import Structurer
from .trees import TreeLowering, is_container, taken_apart

_SCALAR_ANNOTATIONS = {"float", "int"}
RETURN = "<return>"  # the environment's name for the function's result


def aux_slot(index: int) -> str:
    """The environment's name for auxiliary value `index` (1, 2, ...) of `return loss, aux`."""
    return f"<aux {index}>"

_AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.PowerAssign: cst.Power, cst.MatrixMultiplyAssign: cst.MatrixMultiply,
    cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
}


def normalize(parsed: Parsed, registry: Registry, namer: Namer, included=(), internal: bool = False) -> ir.Function:
    """`included`: parsed files (`--include`) whose functions the loss may call,
    through an import (`from mylosses import softplus`). `internal`: the source is
    code codegen wrote (a JVP, read back for --mode hvp), whose calls to codegen's
    own helpers (`_fill`, `_append`, `_expit`) are the primitives with those rules."""
    return _Normalizer(parsed, registry, namer, included, internal).run()


class _Normalizer(ExpressionLowering, TreeLowering):
    def __init__(self, parsed: Parsed, registry: Registry, namer: Namer, included=(), internal: bool = False):
        self.parsed = parsed
        self.internal = internal  # code codegen wrote, read back (see normalize)
        self.included = tuple(included)
        self.registry = registry
        self.namer = namer
        self.where: Located = parsed.where
        self.env: dict[str, ir.Atom] = {}
        self.block: list[ir.Statement] = []
        self.constants: dict[str, cst.BaseExpression] = {}
        self.origin: ir.Origin | None = None
        self.vars: set[str] = set()  # every variable name assigned so far
        # A variable that may hold the same array as others, or a view of one: a view
        # (`a[1:]`, `np.asarray(a)`), a merge after a branch (`x if c else y`), a
        # loop's carried variable. Names are refused `+=` and `[i] =` through it.
        self.shares: dict[str, set[str]] = {}
        self.numbers: set[str] = set()  # parameters annotated `float` or `int`: never arrays
        self.callers: list[tuple[str, dict]] = []  # (function, its names) of the calls being inlined
        self.guarded: frozenset[str] = frozenset()  # variables from before the `if`s being lowered
        self.read: set[str] = set()  # variables read by some statement so far
        self.imports: set[str] = set()  # modules (besides NumPy) the forward calls into
        self.loops: list[dict[str, str]] = []  # carried name -> its variable, innermost last
        self.calls: list[str] = []  # functions being inlined, outermost first
        # Functions the function being lowered defines (`def`, a lambda assigned to a
        # name, functools.partial), by name: its own and those of the functions its
        # body sits in (a local function sees its enclosing function's).
        self.functions: dict[str, _Local] = {}
        self.bodies: list = []  # the definitions of the functions being inlined
        self.enclosing: list[dict] = []  # the callers' `functions`, beside `callers`
        self.lists: set[str] = set()  # variables that hold lists built with append (templates/lists.py)
        self.synthetic: dict = {}  # statements codegen wrote (a comprehension's loop) -> the user's origin
        self.structurer = Structurer(self.where, parsed.names)
        self.trees: set[str] = set()  # variables that surely hold parameter trees (trees.py)
        self.maybe_trees: set[str] = set()  # variables that may (taken apart as trees)
        self.counters: set[str] = set()  # loop counters: integers, keys into a tree
        self.params: set[str] = set()  # the parameters' variables
        self.dicts: set[str] = set()  # trees that are surely dicts (indexed by a string, annotated `dict`)

        self.tuples: set[str] = set()  # variables a tuple or list is copied into (a loop carries it)

    def run(self) -> ir.Function:
        fn = self.parsed.function
        params = []
        for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
            name = p.name.value
            if self.namer.is_reserved(name):
                raise self.where.error(
                    p, f"parameter `{name}` would hide a name the generated module needs; rename it"
                )
            self.env[name] = ir.Var(self.namer.version(name))
            self.vars.add(self.env[name].name)
            self.params.add(self.env[name].name)
            default = None if p.default is None else self._constant(p.default)
            scalar = p.annotation is not None and code(p.annotation.annotation) in _SCALAR_ANNOTATIONS
            params.append(ir.Param(name, default, scalar))
            if scalar:
                self.numbers.add(self.env[name].name)
                if code(p.annotation.annotation) == "int":  # an integer: a key into a tree
                    self.counters.add(self.env[name].name)
            if p.annotation is not None and is_container(p.annotation.annotation):
                self.trees.add(self.env[name].name)
                if is_container(p.annotation.annotation, mappings=True):
                    self.dicts.add(self.env[name].name)
                params[-1] = ir.Param(name, default, scalar, tree=True)
        unannotated = {p.name for p in params if p.name not in self.trees and not p.scalar}
        annotated = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)
                     if p.annotation is not None}
        apart, keyed = taken_apart(fn, unannotated - annotated)
        self.maybe_trees.update(self.env[n].name for n in apart)
        self.dicts.update(self.env[n].name for n in keyed)
        self.trees.update(self.env[n].name for n in keyed)

        self.calls.append(fn.name.value)
        ending = self._body(self.structurer.block(_without_docstring(fn), in_loop=False))
        if ending != "return" or RETURN not in self.env:
            raise self.where.error(
                fn, f"`{fn.name.value}` must end with `return <loss>` on every path; add a `return` at the end"
            )
        last = [s for s in ir.walk(self.block) if isinstance(s, (ir.Step, ir.Assign))]
        size = self.returned[0] if self.returned else 1
        return ir.Function(
            name=fn.name.value,
            path=self.parsed.path,
            source_sha256=self.parsed.source_sha256,
            params=tuple(params),
            signature=_plain_signature(fn.params, self),
            body=tuple(self.block),
            result=self.env[RETURN],
            aux=tuple(self.env[aux_slot(i)] for i in range(1, size)) if size > 1 else None,
            result_origin=self.result_origin or (last[-1].origin if last else ir.Origin(0, "")),
            imports=tuple(sorted(self.imports)),
            constants=tuple(self.constants.items()),
        )

    result_origin: ir.Origin | None = None
    returned: tuple[int, int] | None = None  # (values, line) of the first `return` lowered

    def _origin(self, statement: cst.CSTNode) -> ir.Origin:
        if statement in self.synthetic:  # a statement codegen wrote: its user's statement
            return self.synthetic[statement]
        node = self.structurer.origins.get(statement, statement)
        line = self.where.line(node)
        if isinstance(node, cst.SimpleStatementLine):
            text = code(node.with_changes(leading_lines=()))
        else:  # a compound statement: its first line
            text = code(node.with_changes(leading_lines=())).split("\n", 1)[0].rstrip(":") + ":"
        return ir.Origin(line, " ".join(text.split()))

    # -- statements --------------------------------------------------------------------

    def _body(self, statements) -> str | None:
        """Lower a block's statements; how it ends: None (falls through), "return",
        "break"."""
        ending = None
        for statement in statements:
            ending = self._statement(statement)
            if ending == "raise":  # what follows never runs
                break
        return ending

    def _statement(self, statement) -> str | None:
        self.origin = self._origin(statement)
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                ending = self._small(small)
                if ending:
                    return ending
            return None
        if isinstance(statement, cst.If):
            return self._if(statement)
        if isinstance(statement, cst.For):
            self._for(statement)
            return None
        if isinstance(statement, cst.While):
            self._while(statement)
            return None
        if isinstance(statement, cst.FunctionDef):
            self._define(statement.name.value, statement, statement)
            return None
        raise self.where.error(statement, f"`{code(statement).split()[0]}` statements are not supported; write the loss with assignments, "
                "`if`, `for`, `while` and `return`")

    def _small(self, small) -> str | None:
        if isinstance(small, cst.Assign):
            self._assign_target(small.targets[0].target, small.value)
        elif isinstance(small, cst.AnnAssign):
            self._assign_target(small.target, small.value)
        elif isinstance(small, cst.AugAssign):
            self._augmented(small)
        elif isinstance(small, cst.Return):
            if len(self.calls) == 1:
                self._return(small)
            else:  # an inlined function's result: any value, a tuple included
                if small.value is None or _is_none(small.value):
                    raise self.where.error(small, f"`{self.calls[-1]}` returns no value here; return the value its caller uses")
                self.env[RETURN] = self._lower(small.value, target=lambda: self.namer.fresh(self._result_name()))
            self.result_origin = self.origin
            return "return"
        elif isinstance(small, cst.Break):
            self._break()
            return "break"
        elif isinstance(small, cst.Assert):
            test = ir.node_of(self._lower(small.test))
            message = None if small.msg is None else ir.node_of(self._data(small.msg))
            self.block.append(ir.Effect(cst.Assert(test, message), self.origin))
        elif isinstance(small, cst.Raise):
            self.block.append(ir.Effect(cst.Raise(self._exception(small.exc)), self.origin))
            return "raise"
        elif isinstance(small, cst.Expr) and isinstance(small.value.func, cst.Attribute):  # ys.append(v)
            self._append(small.value)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):  # print(...)
            args = [arg.with_changes(value=ir.node_of(self._data(arg.value))) for arg in small.value.args]
            self.block.append(ir.Effect(cst.Expr(cst.Call(cst.Name("print"), _commas(args))), self.origin))
        return None  # pass, docstrings

    def _append(self, call: cst.Call) -> None:
        """`ys.append(v)` on a list the loss builds: ys's next version is the list with
        v added (generated code holds it as an array of rows: templates/lists.py)."""
        name = call.func.value.value
        current = self.env.get(name)
        if current is None:
            raise self.where.error(call.func.value, f"unknown name `{name}`")
        if not self.is_list(current):
            raise self.where.error(
                call, f"`{name}.append(...)`: `{name}` is not a list this function builds; start it here "
                f"as `{name} = []`",
            )
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            raise self.where.error(call, "append() takes one argument")
        others = [n for n, a in self.env.items() if a == current and n not in (name, RETURN)]
        others += [f"{n}` in `{caller}" for caller, env in self.callers for n, a in env.items() if a == current and n != RETURN]
        if others:
            raise self.where.error(
                call, f"`{name}.append(...)` would change the list that `{others[0]}` also names; build a "
                f"list of its own (`{name} = list_copy` is the same list in Python: start a new one with `[]`)",
            )
        self.env[name] = self._appended(name, self._appended(name, current, call), call, self._lower(call.args[0].value))

    def _appended(self, name: str, xs: ir.Atom, node, item: ir.Atom | None = None) -> ir.Atom:
        """The list `xs` with `item` appended, as a step. Without an item: a list
        written out (`ys = [a, b]`) as one grown by append (its items appended one by
        one to `[]`), which is what a loop carries or a branch merges; any other
        list as it is."""
        rule = self.registry.lookup("statement", "_append")
        xs_param, v = (p.name for p in rule.params)
        if item is not None:
            atom = self._step(rule, {xs_param: xs, v: item}, lambda: self.namer.version(name), node)
            self.lists.add(atom.name)
            return atom
        if isinstance(xs, ir.Seq) and xs.brackets == "list":
            items = xs.items
        elif isinstance(xs, ir.Const) and isinstance(xs.node, cst.List) and xs.node.elements:
            items = tuple(ir.Const(e.value) for e in xs.node.elements)
        else:
            return xs
        xs = ir.Const(cst.List([]))
        for each in items:
            xs = self._appended(name, xs, node, each)
        return xs

    def is_list(self, atom: ir.Atom) -> bool:
        """Whether an atom is a list this function builds (`[]`, `[a, b]`, or one
        grown by append, merged or carried through a loop)."""
        if isinstance(atom, ir.Var):
            return atom.name in self.lists
        if isinstance(atom, ir.Seq):
            return atom.brackets == "list"
        return isinstance(atom, ir.Const) and isinstance(atom.node, cst.List)

    def refuse_list(self, atom: ir.Atom, node, what: str, instead: str) -> None:
        if isinstance(atom, ir.Var) and atom.name in self.lists:
            raise self.where.error(
                node, f"{what} on a list built with `append` is not supported: generated code holds the list as "
                f"an array, where it would mean something else; {instead}",
            )

    def comprehension(self, node: cst.ListComp) -> ir.Atom:
        """`[expr for x in xs if cond]`: a loop that appends to a new list, whose names
        (x) are its own, as in Python."""
        items = self.namer.fresh("items")
        body: list = [cst.SimpleStatementLine([cst.Expr(cst.Call(
            cst.Attribute(cst.Name(items), cst.Name("append")), [cst.Arg(node.elt)]))])]
        self.where.stands_for(body[0], node.elt)
        comps, comp = [], node.for_in
        while comp is not None:
            comps.append(comp)
            comp = comp.inner_for_in
        bound = set()
        for comp in reversed(comps):
            if comp.asynchronous is not None:
                raise self.where.error(comp, "`async for` is not supported")
            for test in reversed(comp.ifs):
                body = [self.where.stands_for(cst.If(test.test, cst.IndentedBlock(body)), test)]
            body = [self.where.stands_for(cst.For(comp.target, comp.iter, cst.IndentedBlock(body)), comp)]
            bound.update(_assigned_names(cst.IndentedBlock([cst.SimpleStatementLine([cst.Assign(
                [cst.AssignTarget(comp.target)], cst.Name("None"))])])))
        outer = {name: self.env.get(name) for name in bound}
        origin, self.origin = self.origin, self.origin
        self.synthetic.update({statement: origin for statement in _statements(body[0])})
        self.env[items] = ir.Const(cst.List([]))
        self._statement(body[0])
        self.origin = origin
        result = self.env.pop(items)
        for name, atom in outer.items():  # the comprehension's own names end with it
            if atom is None:
                self.env.pop(name, None)
            else:
                self.env[name] = atom
        return result

    def _data(self, node: cst.BaseExpression) -> ir.Atom:
        """A value an `assert`, `raise` or `print` reads: no gradient flows from it.
        A name from an imported module (`sys.stderr`) is imported by the generated one."""
        if isinstance(node, (cst.Name, cst.Attribute)) and not self._is_value(node):
            qual = qualified(node, self.parsed.aliases)
            if qual is not None and "." in qual and not qual.startswith("numpy."):
                self.imports.add(qual.rsplit(".", 1)[0])
                return ir.Const(attribute(qual))
        if isinstance(node, cst.Call) and any(arg.star for arg in node.args):
            raise self.where.error(node, "`*` arguments are not supported; pass each one")
        return self._lower(node)

    def _exception(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """What `raise` raises: an exception class (Python's own, or one the file imports),
        called with data or not."""
        call = node if isinstance(node, cst.Call) else None
        kind = call.func if call is not None else node
        spelled = None
        if isinstance(kind, cst.Name) and kind.value not in self.env and kind.value not in self.parsed.aliases:
            if isinstance(getattr(builtins, kind.value, None), type) and issubclass(getattr(builtins, kind.value), BaseException):
                spelled = cst.Name(kind.value)
        elif isinstance(kind, (cst.Name, cst.Attribute)):
            qual = qualified(kind, self.parsed.aliases)
            if qual is not None and "." in qual:
                self.imports.add(qual.rsplit(".", 1)[0])
                spelled = attribute(qual)
        if spelled is None:
            raise self.where.error(
                kind, f"`raise {code(kind)}`: raise one of Python's exceptions (`ValueError(...)`) or one "
                "imported at module level (`from mypkg import MyError`)",
            )
        if call is None:
            return spelled
        if any(arg.star for arg in call.args):
            raise self.where.error(call, "`*` arguments are not supported; pass each one")
        args = [arg.with_changes(value=ir.node_of(self._data(arg.value))) for arg in call.args]
        return cst.Call(spelled, _commas(args))

    def _return(self, node: cst.Return) -> None:
        """The function's own `return`: the loss, or `loss, aux...` (a tuple whose first
        value is differentiated and whose others are returned beside it, as JAX's
        `has_aux`). Every `return` gives the same number of values."""
        value = node.value
        if value is None or _is_none(value):
            what = "`return`" if value is None else "`return None`"
            raise self.where.error(node, f"{what} gives no loss; return the value to differentiate: `return loss` "
                                   "(or `return loss, aux` for data returned beside it)")
        if isinstance(value, cst.List):
            raise self.where.error(value, "a list cannot be differentiated; return a tuple: `return loss, aux` "
                                   "(the first value is differentiated, the others are returned beside it)")
        if isinstance(value, cst.Dict):
            raise self.where.error(value, "a dict cannot be differentiated; return the loss first and the dict "
                                   "beside it: `return loss, {...}`")
        if isinstance(value, cst.Tuple) and len(value.elements) == 1:
            raise self.where.error(value, "a 1-tuple is returned; return the loss alone: `return loss`")
        if isinstance(value, cst.Tuple):
            if any(isinstance(e, cst.StarredElement) for e in value.elements):
                raise self.where.error(value, "starred elements are not supported; write each returned value out")
            _refuse_non_number(self.where, value.elements[0].value, "the first returned value")
            parts = [self._lower(value.elements[0].value, target=lambda: self.namer.fresh(self._result_name()))]
            for element in value.elements[1:]:
                parts.append(self._aux(element.value))
        else:
            _refuse_non_number(self.where, value, "the returned value")
            atom = self._lower(value, target=lambda: self.namer.fresh(self._result_name()))
            parts = list(_items(atom)) if _items(atom) is not None else [atom]
            if isinstance(atom, ir.Seq) and atom.brackets == "list" or _is_list_constant(atom) or self.is_list(atom):
                raise self.where.error(value, "this value is a list, which cannot be differentiated; return a "
                                       "tuple: `return loss, aux`")
            if len(parts) == 1 and _items(atom) is not None:
                raise self.where.error(value, "this value is a 1-tuple; return the loss alone: `return loss`")
            if isinstance(atom, ir.Var) and atom.name in self.tuples:
                raise self.where.error(value, "this value is a tuple made in a loop or a branch; return its "
                                       "values written out: `return loss, aux`")
        if _items(parts[0]) is not None:
            raise self.where.error(value, "the first returned value is a tuple or a list; it must be the loss "
                                   "(a number or an array): `return loss, aux`")
        node = self.structurer.origins.get(node, node)  # a `return` in a loop: the user's
        line = self.where.line(node)
        if self.returned is None:
            self.returned = (len(parts), line)
        elif self.returned[0] != len(parts):
            count, first = self.returned
            raise self.where.error(node, f"this `return` gives {_values(len(parts))} and the one at line {first} "
                                   f"gives {_values(count)}; return the same number of values on every path")
        self.env[RETURN] = parts[0]
        for index, atom in enumerate(parts[1:], start=1):
            self.env[aux_slot(index)] = atom

    def _aux(self, node: cst.BaseExpression) -> ir.Atom:
        """A value returned beside the loss: anything NumPy computes (no derivative is
        taken of it), a number, a string, a tuple or list of those."""
        if isinstance(node, cst.Dict):  # `return loss, {"acc": acc}`: literal keys, any values
            elements = []
            for element in node.elements:
                if not isinstance(element, cst.DictElement) or not isinstance(element.key, (cst.SimpleString, cst.Integer)):
                    raise self.where.error(element, "a dict returned beside the loss takes literal keys; write them "
                                           "out: `{\"acc\": acc}`")
                elements.append(cst.DictElement(element.key, ir.node_of(self._aux(element.value))))
            return ir.Const(cst.Dict(elements))
        if _is_none(node):
            return ir.Const(cst.Name("None"))
        return self._lower(node, target=lambda: self.namer.fresh("aux"))

    def _assign_target(self, target, value) -> None:
        if isinstance(target, cst.Name):
            made = self.callable_of(value)
            if made is not None:  # `g = lambda v: ...`, `g = functools.partial(h, a=1.0)`
                self._bind_function(target.value, made)
                return
            self.functions.pop(target.value, None)
            self.env[target.value] = self._lower(value, target=lambda: self.namer.version(target.value))
        elif isinstance(target, cst.Subscript):
            self._store(target, self._lower(value), target)
        else:
            self._unpack(target, value)

    def _store(self, target: cst.Subscript, value: ir.Atom, statement) -> None:
        """`x[index] = value`: x's next version is a copy of it with value written
        at index. NumPy writes into x itself, so every name that shares x's memory
        would see it; where one may, the statement is refused."""
        name = target.value.value
        current = self.env.get(name)
        if current is None:
            raise self.where.error(target.value, f"unknown name `{name}`: it is not defined; assign it first")
        if isinstance(current, ir.Var) and current.name in self.trees:
            raise self.where.error(
                statement, f"`{code(target)} = ...` would change a parameter tree in place; give the new "
                f"value a name of its own (`W = ...`) and use that",
            )
        self._refuse_shared(name, current, statement, f"`{code(target)} = ...`", "build the new array with "
                            f"np.where or np.concatenate, or copy it first: `{name} = {name}.copy()`")
        self.refuse_list(current, statement, f"`{code(target)} = ...`", f"append the items in order instead")
        index = self._index_key(target)
        rule = self.registry.lookup("statement", "_setitem")
        if rule is None:
            raise self.where.error(target, "assignment into an array has no rule; add one to templates/")
        x, key, v = (p.name for p in rule.params)
        self.env[name] = self._step(
            rule, {x: current, key: ir.Const(index), v: value}, lambda: self.namer.version(name), statement
        )

    def _unpack(self, target, value) -> None:
        """`a, b = <value>`: every value is computed before any name is bound."""
        names = [e.value for e in target.elements]
        if any(isinstance(e, cst.StarredElement) for e in target.elements):
            raise self.where.error(target, "starred assignment targets are not supported; unpack by index, as in `a, b = x[0], x[1:]`")
        if isinstance(value, (cst.Tuple, cst.List)):
            if len(value.elements) != len(names):
                raise self.where.error(value, f"{len(value.elements)} values for {len(names)} names; give one value per name")
            atoms = [self._lower(e.value) for e in value.elements]
        elif isinstance(value, cst.Call) and self._projected(value):
            # `sign, logdet = np.linalg.slogdet(a)`: each part is its own primitive.
            atoms = [
                self._lower(cst.Subscript(value, [cst.SubscriptElement(cst.Index(cst.Integer(str(i))))]))
                for i in range(len(names))
            ]
        else:
            whole = self._lower(value)
            if isinstance(whole, ir.Seq):
                if len(whole.items) != len(names):
                    raise self.where.error(value, f"{len(whole.items)} values for {len(names)} names; give one value per name")
                atoms = list(whole.items)
            else:  # an array: its first-axis elements
                self.refuse_dict_iteration(whole, value, unpacking=True)
                atoms = [self._item(whole, i, value) for i in range(len(names))]
        for element, atom in zip(names, atoms):
            if isinstance(element, cst.Name):
                self.env[element.value] = atom
            elif isinstance(element, (cst.Tuple, cst.List)):
                self._bind_nested(element, atom, value)
            else:
                raise self.where.error(element, "only names can be assigned here; assign to a name, then use it")

    def _projected(self, call: cst.Call) -> bool:
        """Whether the parts of call's result are primitives of their own
        (`np.linalg.slogdet(a)[0]`), so that `a, b = call` reads each part."""
        key = projection_key(cst.Subscript(call, [cst.SubscriptElement(cst.Index(cst.Integer("0")))]), self.parsed.aliases)
        return key is not None and self.registry.lookup(*key) is not None

    def _bind_nested(self, target, atom, node) -> None:
        items = atom.items if isinstance(atom, ir.Seq) else [self._item(atom, i, node) for i in range(len(target.elements))]
        for element, item in zip(target.elements, items):
            if not isinstance(element.value, cst.Name):
                raise self.where.error(element, "only names can be assigned here; assign to a name, then use it")
            self.env[element.value.value] = item

    def _item(self, atom: ir.Atom, index, node) -> ir.Atom:
        """`atom[index]` as a step (element `index` along the first axis)."""
        rule = self.registry.lookup("subscript", "[]")
        position = ir.Const(cst.Integer(str(index))) if isinstance(index, int) else index
        element = self.tree_element(atom, position, node)
        if element is not None:
            return element
        key = cst.Subscript(attribute("numpy.s_"), [cst.SubscriptElement(cst.Index(ir.node_of(position)))])
        result = self._step(rule, {rule.params[0].name: atom, rule.params[1].name: ir.Const(key)}, None, node)
        if isinstance(result, ir.Var) and _literal_keys(atom):  # `for key in ("W1", "W2")`: a key into a tree
            self.counters.add(result.name)
        return result

    def _augmented(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Subscript):  # `x[i] += v` is `x[i] = x[i] + v`
            value = cst.BinaryOperation(target, _AUGMENTED[type(node.operator)](), node.value)
            self._store(target, self._lower(value), node)
            return
        current = self.env.get(target.value)
        self._refuse_shared(target.value, current, node, f"`{target.value} {code(node.operator).strip()} ...`",
                            f"write `{target.value} = {target.value} {_symbol(node)} ...` to make a new one")
        value = cst.BinaryOperation(cst.Name(target.value), _AUGMENTED[type(node.operator)](), node.value)
        self.env[target.value] = self._lower(value, target=lambda: self.namer.version(target.value))

    def _refuse_shared(self, name: str, current, node, what: str, instead: str) -> None:
        """Refuse a statement that changes the array `name` holds in place, if another
        name may share its memory: another name for it, a view of it (`a[1:]`, `a.T`,
        `a.reshape(...)`), or the array it is a view of. NumPy would change what
        that name sees too; the generated code makes a new array."""
        base = self._roots(current)

        def sharing(env, skip):
            return [
                (n, a) for n, a in env.items()
                if n not in skip and (a == current or (isinstance(a, ir.Var) and self._roots(a) & base))
            ]

        # A name of this function, or of a function whose call is being inlined (an
        # argument is the caller's array: `g(y)` with `z += 1` in g changes y).
        others = [(n, a, "") for n, a in sharing(self.env, (name, RETURN))]
        for caller, env in reversed(self.callers):
            others += [(n, a, f" in `{caller}`") for n, a in sharing(env, (RETURN,))]
        # A Python number is immutable: `+=` on it only rebinds the name.
        if isinstance(current, ir.Var) and current.name not in self.numbers and others:
            other, atom, where = others[0]
            shared = (
                f"the array that `{other}`{where} also names" if atom == current
                else f"`{other}`{where} too (one may be the other's array, or a view of it)"
            )
            raise self.where.error(node, f"{what} would change {shared}; {instead}")

    def may_share(self, variable: str, atom: ir.Atom) -> None:
        """Note that `variable` may hold `atom`'s array, or a view of it."""
        for name in ir.vars_of(atom):
            if name != variable:
                self.shares.setdefault(variable, set()).add(name)

    def _copy(self, variable: str, atom: ir.Atom) -> ir.Assign:
        """`variable = atom` (a merge, a carried value): it reads atom and may hold
        its array."""
        if _items(atom) is not None:  # no gradient passes through a tuple in a variable
            self.tuples.add(variable)
        if (isinstance(atom, ir.Var) and atom.name in self.lists) or _is_empty_list(atom):
            self.lists.add(variable)  # a list grown by append (or about to be)
        self.read.update(ir.vars_of(atom))
        self.may_share(variable, atom)
        return ir.Assign(variable, atom, self.origin)

    def _into(self, variable: str, expression: cst.BaseExpression) -> tuple:
        """The statements computing `expression` into `variable`, as a block of their own."""
        outer, self.block = self.block, []
        self.block.append(self._copy(variable, self._lower(expression)))
        block, self.block = tuple(self.block), outer
        return block

    def _roots(self, atom) -> set:
        """The variables whose arrays `atom` may be, or be a view of, itself
        included: two atoms may share memory if these sets meet."""
        if not isinstance(atom, ir.Var):
            return set()
        seen, pending = set(), [atom.name]
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(self.shares.get(name, ()))
        return seen

    def _result_name(self) -> str:
        """What a return value is called: `value`, or `huber_value` in an inlined `huber`."""
        return "value" if len(self.calls) == 1 else f"{self.calls[-1]}_value"

    # -- branches ----------------------------------------------------------------------

    def _if(self, node: cst.If) -> str | None:
        test = self._lower(node.test)
        origin = self.origin
        before = dict(self.env)
        functions = self.functions
        then = self._branch(node.body.body, before)
        self._same_functions(functions, node)
        if node.orelse is None:
            statements = []
        elif isinstance(node.orelse, cst.If):
            statements = [node.orelse]
        else:
            statements = node.orelse.body.body
        orelse = self._branch(statements, before)
        self._same_functions(functions, node)
        self.origin = origin
        ending = self._merge([then, orelse], before, node)
        self.block.append(ir.If(test, tuple(then[0]), tuple(orelse[0]), origin))
        return ending

    def _same_functions(self, functions: dict, node) -> None:
        """A function defined (or a name of one rebound) in a branch would depend on
        the branch taken: refused."""
        if self.functions is not functions:
            changed = sorted(set(self.functions) ^ set(functions) | {
                n for n in functions if self.functions.get(n) is not functions[n]})
            raise self.where.error(
                self.structurer.origins.get(node, node),
                f"`{changed[0]}` is defined (or rebound) inside a branch of this `if`; define the "
                "function once, before the `if`, and branch inside it",
            )

    def _branch(self, statements, env):
        outer, guarded = self.block, self.guarded
        # A variable from before the `if` may be read by the other branch: a loop
        # in this one must not make it its carried variable.
        self.guarded = guarded | {a.name for a in env.values() if isinstance(a, ir.Var)}
        self.block, self.env = [], dict(env)
        ending = self._body(statements)
        branch = (self.block, self.env, ending)
        self.block, self.guarded = outer, guarded
        return branch

    def _merge(self, branches, before, node) -> str | None:
        """The environment after an `if`: a name whose value depends on the branch
        gets a merged variable, assigned at the end of each branch."""
        endings = {ending for _, _, ending in branches}
        if endings <= {"break", "raise"}:
            self.env = before
            return "break" if "break" in endings else "raise"
        going_on = [b for b in branches if b[2] not in ("break", "raise")]
        if len({ending for _, _, ending in going_on}) > 1:
            raise self.where.error(
                self.structurer.origins.get(node, node),
                "some paths through this `if` return and some do not; return on every path",
            )
        names = sorted({n for _, env, _ in going_on for n in env})
        self.env = {}
        for name in names:
            atoms = [env.get(name) for _, env, _ in going_on]
            if any(a is None for a in atoms):
                continue  # not defined on every path: unknown after the `if`
            self.env[name] = self._merged(name, atoms, [block for block, _, _ in going_on], node)
        return going_on[0][2]

    def _merged(self, name: str, atoms: list, blocks: list, node=None) -> ir.Atom:
        """The atom for `name` after the branches whose blocks end with it as `atoms`.
        Tuples of the same length merge item by item (`m, v = stats(x)` with a
        `return` in each branch of `stats`), so that each item keeps its gradient.
        Lists that cannot (a list grown by append, lists of different lengths) merge
        as lists grown by append; other mixes of tuples and values are refused."""
        if all(a == atoms[0] for a in atoms):
            return atoms[0]
        items = [_items(a) for a in atoms]
        itemwise = (
            any(isinstance(a, ir.Seq) for a in atoms)
            and all(i is not None for i in items)
            and len({len(i) for i in items}) == 1
        )
        if any(isinstance(a, ir.Var) and a.name in self.lists for a in atoms) or (
            not itemwise and any(isinstance(a, ir.Seq) for a in atoms) and all(self.is_list(a) for a in atoms)
        ):
            # a list grown by append on one path, written out on another: both as grown
            outer, atoms = self.block, list(atoms)
            for k, (block, atom) in enumerate(zip(blocks, atoms)):
                self.block = []
                atoms[k] = self._appended(name, atom, None)
                block[:] = ir.on_fallthrough(block, self.block)
            self.block = outer
            items = [_items(a) for a in atoms]
        if not itemwise and name != RETURN and not name.startswith("<aux") and any(
            isinstance(a, ir.Seq) and a.vars() for a in atoms
        ):
            shown = "this value" if name.startswith(("<", "items")) else f"`{name}`"
            raise self.where.error(
                self.structurer.origins.get(node, node),
                f"{shown} is a tuple or list of values on one path and something else (another length, an "
                "array) on another, which codegen cannot differentiate through; make it the same on every "
                "path, or one array (`np.array([...])`)",
            )
        if (
            any(isinstance(a, ir.Seq) for a in atoms)
            and all(i is not None for i in items)
            and len({len(i) for i in items}) == 1
        ):
            brackets = atoms[0].brackets if isinstance(atoms[0], ir.Seq) else "tuple"
            parts = [self._merged(name, [i[k] for i in items], blocks, node) for k in range(len(items[0]))]
            return ir.Seq(tuple(parts), brackets)
        if name == RETURN:
            merged = self.namer.fresh(self._result_name())
        elif name.startswith("<aux"):
            merged = self.namer.fresh("aux")
        else:
            merged = self.namer.version(name)
        for block, atom in zip(blocks, atoms):
            block[:] = ir.on_fallthrough(block, [self._copy(merged, atom)])
        self.vars.add(merged)
        return ir.Var(merged)

    def conditional(self, node: cst.IfExp, target) -> ir.Atom:
        """`a if c else b`: only the branch taken is evaluated, as in Python."""
        self.refuse_walrus(node.body, "in a branch of `a if c else b`")
        self.refuse_walrus(node.orelse, "in a branch of `a if c else b`")
        test = self._lower(node.test)
        atoms, blocks = [], []
        for expression in (node.body, node.orelse):
            outer, self.block = self.block, []
            atoms.append(self._lower(expression))
            blocks.append(self.block)
            self.block = outer
        if any(isinstance(a, ir.Seq) or self.is_list(a) for a in atoms):  # tuples and lists: item by item
            result = self._merged("items", atoms, blocks, node)
        else:
            merged = target() if target is not None else self.namer.temp()
            for block, atom in zip(blocks, atoms):
                block.append(self._copy(merged, atom))
            self.vars.add(merged)
            result = ir.Var(merged)
        self.block.append(ir.If(test, tuple(blocks[0]), tuple(blocks[1]), self.origin))
        return result

    def boolean(self, node: cst.BooleanOperation, target) -> ir.Atom:
        """`a and b`, `a or b`, as Python evaluates them: `b` only when `a` does not
        decide, and the result is the value that decided (`a and b` is `b if a else
        a`). On an array of more than one value, `if a` raises, as it does in the
        user's own function: elementwise, that is `&` or `np.logical_and`."""
        self.refuse_walrus(node.right, f"on the right of `{code(node.operator).strip()}`")
        first = self._lower(node.left)
        merged = target() if target is not None else self.namer.temp()
        evaluated, decided = self._into(merged, node.right), (self._copy(merged, first),)
        self.vars.add(merged)
        body, orelse = (evaluated, decided) if isinstance(node.operator, cst.And) else (decided, evaluated)
        self.block.append(ir.If(first, body, orelse, self.origin))
        return ir.Var(merged)

    # -- loops -------------------------------------------------------------------------

    def _for(self, node: cst.For) -> None:
        origin = self.origin
        start, stop, step, index_name, bind = self._iteration(node)
        self._iterated(start, stop, step)
        carried = self._carry(node.body)
        index = self.namer.version(index_name)
        self.vars.add(index)
        self.counters.add(index)
        outer_env = dict(self.env)
        self.env[index_name] = ir.Var(index)
        body, breaks = self._loop_body(node.body.body, carried, before=lambda: bind(ir.Var(index)))
        self.block.append(
            ir.Loop(body, tuple(carried.values()), origin, index=index, bounds=(start, stop, step), breaks=breaks)
        )
        self._after_loop(outer_env, carried)
        self.env[index_name] = ir.Var(index)

    def _while(self, node: cst.While) -> None:
        origin = self.origin
        self.refuse_walrus(node.test, "in a `while` test (it runs before every pass)")
        carried = self._carry(node.body)
        outer_env = dict(self.env)
        outer_block = self.block
        self.block = []
        test = self._lower(node.test)
        header = tuple(self.block)
        self.block = outer_block
        body, breaks = self._loop_body(node.body.body, carried)
        self.block.append(ir.Loop(body, tuple(carried.values()), origin, header=header, test=test, breaks=breaks))
        self._after_loop(outer_env, carried)

    def _iteration(self, node: cst.For):
        """How a `for` loop iterates: range bounds, the index's user name, and a
        function that binds the loop target(s) at the start of each iteration."""
        target, iterable = node.target, node.iter
        func = iterable.func if isinstance(iterable, cst.Call) else None
        builtin = isinstance(func, cst.Name) and func.value not in self.env and func.value in ("range", "enumerate", "zip", "reversed")
        zero, one = ir.Const(cst.Integer("0")), ir.Const(cst.Integer("1"))
        backwards = False
        if builtin and func.value == "reversed":
            if len(iterable.args) != 1 or iterable.args[0].keyword or iterable.args[0].star:
                raise self.where.error(iterable, "reversed() takes one argument; write reversed(range(...)) or reversed(x)")
            inner = iterable.args[0].value
            tree = self.env.get(inner.value) if isinstance(inner, cst.Name) else None
            if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "range":
                iterable, func, backwards = inner, inner.func, True
            elif isinstance(tree, ir.Var) and tree.name in self.trees | self.maybe_trees:
                # a list of layers, last first: its items by a counter running backwards
                self.refuse_dict_iteration(tree, iterable)
                start, stop, step = _reversed_range(zero, self._length([tree], node), one)

                def bind(index):
                    self._bind_element(target, self._item(tree, index, node))

                self._iterated(tree)
                return start, stop, step, self.namer.fresh("k"), bind
            else:  # an array: its first axis, last element first
                reversed_array = cst.Subscript(inner, [cst.SubscriptElement(cst.Slice(None, None, step=cst.UnaryOperation(cst.Minus(), cst.Integer("1"))))])
                iterable, builtin = self.where.stands_for(reversed_array, inner), False
        if builtin and func.value == "range":
            if not isinstance(target, cst.Name):
                raise self.where.error(target, "a range loop binds one name; write `for i in range(...)`")
            if not 1 <= len(iterable.args) <= 3 or any(a.keyword or a.star for a in iterable.args):
                raise self.where.error(iterable, "range() takes 1 to 3 positional arguments; write range(stop), range(start, stop) or range(start, stop, step)")
            bounds = [self._lower(a.value) for a in iterable.args]
            start, stop, step = (zero, bounds[0], one) if len(bounds) == 1 else (bounds + [one])[:3]
            if backwards:
                start, stop, step = _reversed_range(start, stop, step)
            return start, stop, step, target.value, lambda index: None
        if builtin and func.value == "enumerate":
            if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                raise self.where.error(target, "`for i, x in enumerate(xs)` binds two names; write `for i, x in enumerate(xs)`")
            inner = iterable.args[0].value
            zipped = isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "zip" and "zip" not in self.env
            # `enumerate(zip(a, b))`: the counter and one element of each sequence
            sequences = [self._lower(a.value) for a in inner.args] if zipped else [self._lower(inner)]
            for sequence in sequences:
                self.refuse_dict_iteration(sequence, inner)
            offset = self._lower(iterable.args[1].value) if len(iterable.args) > 1 else None
            counter, element = (e.value for e in target.elements)
            if zipped and not (isinstance(element, cst.Tuple) and len(element.elements) == len(sequences)):
                raise self.where.error(element, f"`for i, (...) in enumerate(zip(...))` binds {len(sequences)} names here; give one name per sequence")
            index_name = self.namer.fresh("k")

            def bind(index):
                if offset is None:
                    self.env[counter.value] = index
                else:
                    self.env[counter.value] = self._lower_binary(index, cst.Add(), offset)
                if zipped:
                    for part, sequence in zip(element.elements, sequences):
                        self._bind_element(part.value, self._item(sequence, index, node))
                else:
                    self._bind_element(element, self._item(sequences[0], index, node))

            self._iterated(*sequences, *([offset] if offset is not None else []))
            return zero, self._length(sequences, node), one, index_name, bind
        if builtin and func.value == "zip":
            sequences = [self._lower(a.value) for a in iterable.args]
            for sequence, arg in zip(sequences, iterable.args):
                self.refuse_dict_iteration(sequence, arg.value)
            if not (isinstance(target, cst.Tuple) and len(target.elements) == len(sequences)):
                raise self.where.error(target, f"`for ... in zip(...)` binds {len(sequences)} names here; give one name per sequence")

            def bind(index):
                for element, sequence in zip(target.elements, sequences):
                    self._bind_element(element.value, self._item(sequence, index, node))

            self._iterated(*sequences)
            return zero, self._length(sequences, node), one, self.namer.fresh("k"), bind
        sequence = self._lower(iterable)  # an array: its first axis
        self.refuse_dict_iteration(sequence, iterable)

        def bind(index):
            self._bind_element(target, self._item(sequence, index, node))

        self._iterated(sequence)
        return zero, self._length([sequence], node), one, self.namer.fresh("k"), bind

    def _iterated(self, *atoms: ir.Atom) -> None:
        """Python evaluates what a loop iterates over once, before it: the body may
        rebind the name (`for e in v: ... v = ...`) but not change the iteration, so
        the variables it reads count as read, and no carried name reuses them."""
        self.read.update(v for atom in atoms for v in reads(ir.node_of(atom)) if v in self.vars)

    def _length(self, sequences, node) -> ir.Atom:
        """The number of iterations over these sequences (the shortest one)."""
        lengths = [f"len({code(ir.node_of(s))})" for s in sequences]
        text = lengths[0] if len(lengths) == 1 else f"min({', '.join(lengths)})"
        return ir.Const(cst.parse_expression(text))

    def _bind_element(self, target, atom) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = atom
        elif isinstance(target, (cst.Tuple, cst.List)):
            self._bind_nested(target, atom, target)
        else:
            raise self.where.error(target, "a loop target must be a name or a tuple of names; write `for v in ...`")

    def _lower_binary(self, left: ir.Atom, operator, right: ir.Atom) -> ir.Atom:
        rule = self.registry.lookup("binary", "+")
        return self._step(rule, dict(zip(rule.arrays, [left, right])), None, None)

    def _carry(self, body) -> dict[str, str]:
        """The names a loop carries from one iteration to the next, each with the
        variable that holds it. A name's current variable is reused when nothing
        has read its value before the loop (else the loop would change what that
        reader sees in the reverse sweep); otherwise it gets a copy."""
        carried = {}
        for name in _assigned_names(body):
            if name not in self.env or name == RETURN:
                continue
            atom = self.env[name]
            if name in _appended_names(body) or (isinstance(atom, ir.Seq) and atom.brackets == "list" and atom.vars()):
                # `ys = [a, b]`, then `ys.append(v)` or `ys = [...]` in the loop: a list grown by append
                atom = self.env[name] = self._appended(name, atom, body)
            shared = [n for n, a in self.env.items() if a == atom and n != name]
            if (
                isinstance(atom, ir.Var) and atom.name not in self.read and atom.name not in self.guarded
                and not shared and not self._in_loop(atom.name)
            ):
                carried[name] = atom.name
            else:
                variable = self.namer.version(name)
                self.block.append(self._copy(variable, atom))
                self.vars.add(variable)
                carried[name] = variable
            self.env[name] = ir.Var(carried[name])
        return carried

    def _in_loop(self, name: str) -> bool:
        return any(name in loop.values() for loop in self.loops)

    def _loop_body(self, statements, carried: dict[str, str], before=None) -> tuple[tuple, bool]:
        """The lowered body of a loop, and whether it can break."""
        outer = self.block
        self.block = []
        self.loops.append(carried)
        if before is not None:
            before()
        if self._body(statements) != "break":
            self.block = ir.on_fallthrough(self.block, self._carry_copies(carried))
        self.loops.pop()
        body = tuple(self.block)
        self.block = outer
        return body, _breaks(body)

    def _carry_copies(self, carried: dict[str, str]) -> list:
        """At the end of an iteration: each carried name's variable takes its new value.

        The copies happen all at once: after `a, b = b, a`, `a`'s variable takes the
        value in `b`'s and `b`'s the value in `a`'s. In sequence, a copy goes before
        any that overwrites a variable it reads; where the copies read each other's
        variables in a cycle, one variable's value is saved first."""
        pending = []  # (user name, variable, new value)
        outer, self.block = self.block, []  # steps that make a list written out one grown by append
        for name, variable in carried.items():
            atom = self.env.get(name)
            if variable in self.lists and self.is_list(atom):
                atom = self.env[name] = self._appended(name, atom, None)
            if atom is not None and atom != ir.Var(variable):
                pending.append((name, variable, atom))
                self.env[name] = ir.Var(variable)
        saves, copies = [], []
        while pending:
            for k, (name, variable, atom) in enumerate(pending):
                if not any(variable in ir.vars_of(other) for j, (_, _, other) in enumerate(pending) if j != k):
                    break
            else:  # a cycle: save the first variable's value, then read the copy
                name, variable, _ = pending[0]
                saved = self.namer.version(name)
                self.vars.add(saved)
                saves.append(self._copy(saved, ir.Var(variable)))
                pending = [(n, v, _renamed(a, variable, saved)) for n, v, a in pending]
                continue
            copies.append(self._copy(variable, atom))
            del pending[k]
        # A saved variable has not been overwritten yet where it is saved, so the
        # saves can go first, and the carried copies stay together at the end of
        # the pass (the reverse sweep's tape is filled just before them).
        made, self.block = self.block, outer
        return made + saves + copies

    def _break(self) -> None:
        if not self.loops:
            raise self.where.error(None, "`break` outside a loop; use it inside `for` or `while`")
        self.block.extend(self._carry_copies(self.loops[-1]))
        self.block.append(ir.Break(self.origin))

    def _after_loop(self, outer_env, carried) -> None:
        """After a loop, names keep the values the loop carried out; names first
        assigned inside the loop are not defined (a loop may run no iteration)."""
        self.env = dict(outer_env)
        for name, variable in carried.items():
            self.env[name] = ir.Var(variable)

    # -- calls to functions of the same file ------------------------------------------

    def helper(self, func: cst.BaseExpression):
        """What a call inlines: a function the loss defines (`def`, a lambda,
        functools.partial), a function of this file, or of an included file that
        this one imports it from. None if it is none of these."""
        if isinstance(func, cst.Name) and func.value not in self.env:
            if func.value in self.functions:
                return self.functions[func.value]
            for statement in self.parsed.module_functions:
                if statement.name.value == func.value:
                    return _Local(self.parsed, statement)
        if isinstance(func, (cst.Lambda, cst.Call)):  # `(lambda v: v * v)(x)`, `partial(h, 2.0)(x)`
            return self.callable_of(func)
        qual = qualified(func, self.parsed.aliases)
        return None if qual is None else self._imported(qual, self.parsed, func, ())

    def _imported(self, qual: str, importer: Parsed, node, seen: tuple):
        """The function `qual` names as `importer` imports it, in an --include file
        (following a file that imports it in turn: `from .kernels import rbf` in a
        package's __init__.py). None where no --include file is that module."""
        dots = len(qual) - len(qual.lstrip("."))
        module, _, name = qual[dots:].rpartition(".")
        module = "." * dots + module
        if not module:
            return None
        parsed = self._included(module, node, importer.path)
        if parsed is None:
            return None
        for statement in parsed.module_functions:
            if statement.name.value == name:
                return _Local(parsed, statement)
        if name in parsed.aliases and (parsed.path, name) not in seen:
            found = self._imported(parsed.aliases[name], parsed, node, seen + ((parsed.path, name),))
            if found is not None:
                return found
        raise self.where.error(node, f"{parsed.path} (--include) defines no function `{name}` at its top level")

    def _included(self, module: str, node, path: str) -> Parsed | None:
        """The --include file that `module` names, as the file being read imports it:
        `mypkg.kernels` is a file whose path ends with mypkg/kernels.py (or
        mypkg/kernels/__init__.py); `.kernels` is kernels.py beside that file,
        `..kernels` one folder up. A relative import no --include resolves is refused."""
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            folder = os.path.dirname(path)
            for _ in range(dots - 1):
                folder = os.path.dirname(folder)
            parts = [p for p in module[dots:].split(".") if p]
            wanted = {os.path.normpath(os.path.join(folder, *parts) + ".py"),
                      os.path.normpath(os.path.join(folder, *parts, "__init__.py"))}
            for parsed in self.included:
                if os.path.normpath(parsed.path) in wanted:
                    return parsed
            shown = code(node)
            raise self.where.error(
                node,
                f"`{shown}` comes from a relative import (`{module}`), which codegen resolves only through "
                f"--include: pass the file, as in `--include {sorted(wanted)[0]}`",
            )
        found = [p for p in self.included if _module_parts(p.path)[-len(module.split(".")):] == module.split(".")]
        if len(found) > 1:
            raise self.where.error(
                node, f"`{module}` matches more than one --include file ({', '.join(p.path for p in found)}); "
                "import it by a longer module path (`from mypkg.kernels import ...`)",
            )
        return found[0] if found else None

    def callable_of(self, node: cst.BaseExpression):
        """The function an expression makes, if it makes one: a lambda, or
        functools.partial of a function that calls inline (its arguments are
        evaluated now, as partial does)."""
        if isinstance(node, cst.Lambda):
            fn = cst.FunctionDef(
                name=cst.Name("lambda"),
                params=node.params,
                body=cst.IndentedBlock([self.where.stands_for(cst.SimpleStatementLine([
                    self.where.stands_for(cst.Return(node.body), node.body)]), node)]),
            )
            return self._local(self.where.stands_for(fn, node), node)
        if not (isinstance(node, cst.Call) and qualified(node.func, self.parsed.aliases) == "functools.partial"):
            return None
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            raise self.where.error(node, "functools.partial takes the function first; write partial(f, arg, ...)")
        inner = self.helper(node.args[0].value)
        if inner is None:
            raise self.where.error(
                node.args[0].value,
                f"functools.partial of `{code(node.args[0].value)}`: only functions defined in your code "
                "(or imported through --include) can be partially applied; call the function directly",
            )
        positional, keywords = list(inner.positional), dict(inner.keywords)
        for arg in node.args[1:]:
            if arg.star:
                raise self.where.error(arg, "`*` arguments are not supported; pass each one")
            if arg.keyword is None:
                if keywords:
                    raise self.where.error(arg, "positional argument after a keyword argument; put positional arguments first")
                positional.append(self._lower(arg.value))
            else:
                keywords[arg.keyword.value] = self._lower(arg.value)
        return _Local(inner.parsed, inner.fn, inner.depth, inner.defaults, tuple(positional), tuple(keywords.items()))

    def _local(self, fn: cst.FunctionDef, node) -> "_Local":
        """A function defined here: it sees this function's names when it is called
        (as Python's closures do); its defaults are evaluated now."""
        if isinstance(fn.params.star_arg, cst.Param) or fn.params.star_kwarg is not None:
            raise self.where.error(fn.params, "`*args` and `**kwargs` are not supported; name each parameter")
        defaults = tuple(
            (p.name.value, self._lower(p.default))
            for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)
            if p.default is not None
        )
        return _Local(self.parsed, fn, len(self.calls), defaults)

    def _define(self, name: str, fn: cst.FunctionDef, node) -> None:
        from .parse import check_function

        check_function(fn, self.where)
        self._bind_function(name, self._local(fn, node))

    def _bind_function(self, name: str, made: "_Local") -> None:
        self.env.pop(name, None)
        self.functions = {**self.functions, name: made}

    def inline(self, callee: "_Local", call: cst.Call, target) -> ir.Atom:
        """The callee's body, lowered in place with its parameters bound to the
        arguments' values; its result is the call's value. A callee from another
        file is read in that file's context (its imports, constants, positions); a
        function the loss defines reads the names of the function it is defined in."""
        parsed, fn = callee.parsed, callee.fn
        name = fn.name.value if fn.name.value != "lambda" else (code(call.func) if isinstance(call.func, cst.Name) else "lambda")
        if (name in self.calls and callee.depth == 0) or any(fn is active for active in self.bodies):
            chain = " -> ".join(self.calls[self.calls.index(name) if name in self.calls else 1:] + [name])
            raise self.where.error(call, f"recursion ({chain}) cannot be differentiated; write it as a loop")
        from .parse import check_function

        arguments = self._arguments(fn, call, callee)
        visible = {}
        if callee.depth:  # a local function: the names of the function it is defined in, as they are now
            if callee.depth == len(self.calls):
                scope, visible = self.env, self.functions
            else:
                scope, visible = self.callers[callee.depth - 1][1], self.enclosing[callee.depth - 1]
            arguments = {**{n: a for n, a in scope.items() if n != RETURN}, **arguments}
        saved = (self.env, self.origin, self.result_origin, self.loops, self.parsed, self.where, self.structurer,
                 self.functions)
        if parsed is not self.parsed:
            self.parsed, self.where, self.structurer = parsed, parsed.where, Structurer(parsed.where, parsed.names)
        if not callee.depth:
            check_function(fn, self.where)
        self.callers.append((self.calls[-1], self.env))
        self.enclosing.append(self.functions)
        # The caller's variables (an argument among them) are not the callee's to
        # reuse: a loop in it that carries a parameter gets a variable of its own.
        guarded = self.guarded
        self.guarded = guarded | {a.name for a in self.env.values() if isinstance(a, ir.Var)}
        self.env, self.loops = arguments, []
        self.functions = visible
        self.calls.append(name)
        self.bodies.append(fn)
        ending = self._body(self.structurer.block(_without_docstring(fn), in_loop=False))
        self.bodies.pop()
        self.calls.pop()
        self.callers.pop()
        self.enclosing.pop()
        self.guarded = guarded
        if ending != "return" or RETURN not in self.env:
            raise self.where.error(fn, f"`{name}` must return a value on every path; add a `return` at its end")
        result = self.env[RETURN]
        (self.env, self.origin, self.result_origin, self.loops, self.parsed, self.where, self.structurer,
         self.functions) = saved
        return result

    def _arguments(self, fn: cst.FunctionDef, call: cst.Call, callee: "_Local") -> dict[str, ir.Atom]:
        """The callee's parameters bound to the call's arguments (after those a
        functools.partial gave), as Python binds them."""
        params = [*fn.params.posonly_params, *fn.params.params]
        shown = code(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else fn.name.value
        bound: dict[str, ir.Atom] = {}
        if any(a.star for a in call.args):
            raise self.where.error(call, "`*` arguments are not supported; pass each one")
        positional = list(callee.positional)
        keywords = dict(callee.keywords)
        for arg in call.args:
            if arg.keyword is None:
                positional.append(self._lower(arg.value))
            else:
                keywords[arg.keyword.value] = self._lower(arg.value)
        if len(positional) > len(params):
            raise self.where.error(call, f"{shown}() takes {len(params)} positional argument(s); pass that many")
        for param, atom in zip(params, positional):
            bound[param.name.value] = atom
        names = {p.name.value for p in (*params, *fn.params.kwonly_params)}
        for key, atom in keywords.items():
            if key not in names or key in bound:
                raise self.where.error(call, f"{shown}(): unexpected argument `{key}`; pass only its parameters")
            bound[key] = atom
        defaults = dict(callee.defaults)
        for param in (*params, *fn.params.kwonly_params):
            if param.name.value not in bound:
                if param.default is None:
                    raise self.where.error(call, f"{shown}(): missing argument `{param.name.value}`; pass it")
                given = defaults.get(param.name.value)
                bound[param.name.value] = given if given is not None else self._lower(param.default)
        return bound


@dataclass(frozen=True)
class _Local:
    """A function a call inlines: where it is defined, and what is bound already.
    `depth` is the nesting of the function that defines it (0: a module-level
    function, which sees no caller's names); `defaults` its default values,
    evaluated where it is defined; `positional` and `keywords` the arguments
    functools.partial gave."""

    parsed: Parsed
    fn: cst.FunctionDef
    depth: int = 0
    defaults: tuple = ()
    positional: tuple = ()
    keywords: tuple = ()


def _is_empty_list(atom) -> bool:
    return isinstance(atom, ir.Const) and isinstance(atom.node, cst.List) and not atom.node.elements


def _appended_names(block) -> set[str]:
    """Names a block calls `.append(...)` on (comprehensions aside)."""
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node):
            if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and node.func.attr.value == "append":
                names.add(node.func.value.value)

        def visit_ListComp(self, node):
            return False

        def visit_FunctionDef(self, node):
            return False

    block.visit(Visitor())
    return names


def _statements(node) -> list:
    """Every statement in a tree of CST statements, itself included."""
    found = []

    class Visitor(cst.CSTVisitor):
        def on_visit(self, n):
            if isinstance(n, (cst.BaseStatement, cst.BaseSmallStatement)):
                found.append(n)
            return True

    node.visit(Visitor())
    return found


def _commas(args: list) -> list:
    """Call arguments with a comma after each but the last."""
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]


def _literal_keys(atom: ir.Atom) -> bool:
    """A constant tuple or list of string or integer literals (keys to loop over)."""
    if not (isinstance(atom, ir.Const) and isinstance(atom.node, (cst.Tuple, cst.List))):
        return False
    return all(isinstance(e.value, (cst.SimpleString, cst.Integer)) for e in atom.node.elements)


def _is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _items(atom):
    """The items of a tuple or list atom (a constant one too), else None."""
    if isinstance(atom, ir.Seq):
        return atom.items
    if isinstance(atom, ir.Const) and isinstance(atom.node, (cst.Tuple, cst.List)):
        return tuple(ir.Const(e.value) for e in atom.node.elements)
    return None


def _is_list_constant(atom) -> bool:
    return isinstance(atom, ir.Const) and isinstance(atom.node, cst.List)


_NOT_NUMBERS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Ellipsis, cst.Lambda, cst.Set, cst.Dict)


def _refuse_non_number(where, node, what: str) -> None:
    """A returned value that can never be a number: a string, `None`, `...`."""
    if isinstance(node, _NOT_NUMBERS) or _is_none(node):
        raise where.error(node, f"{what} is `{code(node)}`, not a number; return the loss (a number or an array)")


def _values(count: int) -> str:
    return "1 value" if count == 1 else f"{count} values"


def _module_parts(path: str) -> list[str]:
    """The folders and name of an included file, as parts of a module path:
    `src/mypkg/kernels.py` -> [src, mypkg, kernels] (`mypkg/__init__.py` -> [mypkg]).
    An import names it by any tail of these (`kernels`, `mypkg.kernels`)."""
    parts = [p for p in os.path.normpath(path).replace("\\", "/").split("/") if p not in ("", ".")]
    if parts and parts[-1] == "__init__.py":
        parts.pop()
    elif parts:
        parts[-1] = parts[-1].removesuffix(".py")
    return parts


def _breaks(block) -> bool:
    """Whether a loop body breaks (nested loops' breaks are their own)."""
    for statement in block:
        if isinstance(statement, ir.Break):
            return True
        if isinstance(statement, ir.If) and (_breaks(statement.body) or _breaks(statement.orelse)):
            return True
    return False


def _without_docstring(fn: cst.FunctionDef) -> list:
    body = list(fn.body.body)
    first = body[0] if body else None
    if (
        isinstance(first, cst.SimpleStatementLine)
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        return body[1:]
    return body


def _reversed_range(start: ir.Atom, stop: ir.Atom, step: ir.Atom) -> tuple[ir.Atom, ir.Atom, ir.Atom]:
    """The bounds of `reversed(range(start, stop, step))` as a range: the same
    numbers, last first (`range(n - 1, -1, -1)` for `reversed(range(n))`)."""
    a, b, c = (code(ir.node_of(x)) for x in (start, stop, step))
    numbers = [_integer(x) for x in (a, b, c)]
    p = [x if x.isidentifier() or x.isdigit() else f"({x})" for x in (a, b, c)]
    if None not in numbers and numbers[2] != 0:  # known now: write the numbers
        r = range(*numbers)
        bounds = (str(r[-1]), str(r[0] - r.step), str(-r.step)) if r else ("0", "0", "1")
    elif c == "1":  # (when b <= a, both ranges are empty)
        bounds = (f"{p[1]} - 1", str(numbers[0] - 1) if numbers[0] is not None else f"{p[0]} - 1", "-1")
    else:  # the last number the range gives, then back by step
        bounds = (f"{p[0]} + (len(range({a}, {b}, {c})) - 1) * {p[2]}", f"{p[0]} - {p[2]}", f"-{p[2]}")
    return tuple(ir.Const(cst.parse_expression(text)) for text in bounds)


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _renamed(atom: ir.Atom, old: str, new: str) -> ir.Atom:
    """`atom` reading variable `new` where it read `old`."""
    if atom == ir.Var(old):
        return ir.Var(new)
    if isinstance(atom, ir.Seq):
        return ir.Seq(tuple(_renamed(a, old, new) for a in atom.items), atom.brackets)
    return atom


def _assigned_names(block) -> list[str]:
    """User names a block assigns (loop targets included), in order of appearance."""
    names: list[str] = []

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node):
            _targets(node.target, names)

        def visit_AnnAssign(self, node):
            _targets(node.target, names)

        def visit_AugAssign(self, node):
            _targets(node.target, names)

        def visit_For(self, node):
            _targets(node.target, names)

        def visit_NamedExpr(self, node):
            _targets(node.target, names)

        def visit_Expr(self, node):  # `ys.append(v)` makes a new ys
            if (isinstance(node.value, cst.Call) and isinstance(node.value.func, cst.Attribute)
                    and isinstance(node.value.func.value, cst.Name) and node.value.func.attr.value == "append"):
                names.append(node.value.func.value.value)

        def visit_ListComp(self, node):  # its own names are not the function's
            return False

        def visit_FunctionDef(self, node):
            return False

    block.visit(Visitor())
    return list(dict.fromkeys(names))


def _targets(node, names: list[str]) -> None:
    if isinstance(node, cst.Name):
        names.append(node.value)
    elif isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name):  # `x[i] = v` makes a new x
        names.append(node.value.value)
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            _targets(element.value, names)


def _symbol(node: cst.AugAssign) -> str:
    return code(node.operator).strip()[:-1]


def _plain_signature(params: cst.Parameters, normalizer: _Normalizer) -> cst.Parameters:
    """The user's parameters without annotations, defaults spelled for generated code."""

    def plain(p: cst.Param) -> cst.Param:
        default = None if p.default is None else normalizer._constant(p.default)
        return p.with_changes(annotation=None, default=default)

    return params.with_changes(
        params=[plain(p) for p in params.params],
        kwonly_params=[plain(p) for p in params.kwonly_params],
        posonly_params=[plain(p) for p in params.posonly_params],
    )
