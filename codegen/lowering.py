"""Expressions -> steps: the half of normalisation that turns one expression into
simpleton steps over atoms (see normalize.py for the statement forms).

`ExpressionLowering` is mixed into the normaliser: it owns nothing but the methods;
the state (environment, current block, namer) is the normaliser's.
"""

from __future__ import annotations

import builtins

import functools

import libcst as cst

from . import ir
from .expressions import attribute, canonical, code, dotted, fold_static, qualified, reads, substitute, transform
from .rules import Param, Rule, operator_key, projection_key

# NumPy names that are constants rather than functions.
NUMPY_CONSTANTS = {"pi", "e", "inf", "nan", "euler_gamma", "newaxis"}
# Types, which a loss passes as data (`X.astype(np.float32)`, `dtype=float`).
NUMPY_TYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool_", "intp"}
_TYPES = {"float", "int", "bool", "complex", "str"}
# Calls that change an array (or list) in place: refused, not generated as written.
_IN_PLACE_METHODS = {
    "sort", "partition", "fill", "put", "itemset", "resize", "setfield", "setflags", "byteswap", "shuffle",
    "append", "extend", "insert", "remove", "pop", "clear", "reverse", "update", "setdefault", "popitem",
    "add", "discard",
}
_IN_PLACE_FUNCTIONS = {
    "numpy.random.shuffle", "numpy.copyto", "numpy.put", "numpy.place", "numpy.putmask",
    "numpy.fill_diagonal", "numpy.put_along_axis", "random.shuffle",
}

_UNSUPPORTED_EXPRESSIONS = {
    cst.Lambda: "a `lambda` can be assigned to a name, passed to functools.partial or called; as another "
    "function's argument it is not supported: call it yourself (write a loop over the values)",
    cst.SetComp: "set comprehensions are not supported; use a list comprehension `[...]`",
    cst.DictComp: "dict comprehensions are not supported; use a list comprehension `[...]`",
    cst.GeneratorExp: "a generator expression is supported only as the argument of `sum(...)`; "
    "write a list comprehension `[...]` here",
    cst.Imaginary: "complex numbers are not supported",
    cst.Dict: "dicts are not supported inside a loss",
    cst.Set: "sets are not supported inside a loss",
    cst.Await: "`await` is not supported",
    cst.Yield: "generators are not supported",
}


# Primitives whose result NumPy may return as a view of their first argument's memory
# (basic indexing, transposes, reshapes): an in-place update of one changes the other.
_VIEWS = frozenset({"getitem", "item", "item_or_index", "transpose", "reshape", "ravel", "squeeze", "expand_dims", "broadcast_to",
                    "swapaxes", "moveaxis", "flip"})


# Calls without a rule whose result is always a new array (SciPy's special functions
# are ufuncs, its distributions' methods compute new arrays): writing into it later
# (`d = ndtr(y); d *= w`) cannot change the argument. Any other such call might
# return its argument or a view of it (np.asarray, np.diagonal), so writing into its
# result is refused where that argument has another name.
_FRESH = ("scipy.special.", "scipy.stats.")


class ExpressionLowering:
    # -- expressions -----------------------------------------------------------------

    def _lower(self, node: cst.BaseExpression, target=None) -> ir.Atom:
        """Emit the steps computing `node` and return the atom holding its value.
        `target()` names the outermost step (temporaries name the inner ones)."""
        if isinstance(node, cst.Name):
            return self._name(node)
        if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
            return ir.Const(node.with_changes(lpar=[], rpar=[]))
        if isinstance(node, cst.Ellipsis):
            return ir.Const(cst.Ellipsis())
        if isinstance(node, cst.Attribute):
            return self._attribute(node, target)
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison)):
            return self._operator(node, target)
        if isinstance(node, cst.Call):
            return self._call(node, target)
        if isinstance(node, (cst.Tuple, cst.List)):
            return self._sequence(node)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, target)
        if isinstance(node, cst.IfExp):
            return self.conditional(node, target)
        if isinstance(node, cst.BooleanOperation):
            return self.boolean(node, target)
        if isinstance(node, cst.NamedExpr):
            return self._walrus(node)
        if isinstance(node, cst.FormattedString):
            return ir.Const(self._formatted(node))
        if isinstance(node, cst.ListComp):
            self.refuse_walrus(node.elt, "in a comprehension")
            self.refuse_walrus(node.for_in, "in a comprehension")
            return self.comprehension(node)
        for kind, message in _UNSUPPORTED_EXPRESSIONS.items():
            if isinstance(node, kind):
                raise self.where.error(node, message)
        raise self.where.error(
            node, f"`{code(node)}` is not supported; write it with the operators and NumPy functions "
            "`codegen rules` lists",
        )

    def _walrus(self, node: cst.NamedExpr) -> ir.Atom:
        """`(n := value)`: binds n, and is the value."""
        name = node.target.value
        atom = self._lower(node.value, target=lambda: self.namer.version(name))
        self.functions = {k: v for k, v in self.functions.items() if k != name} if name in self.functions else self.functions
        self.env[name] = atom
        return atom

    def _formatted(self, node: cst.FormattedString) -> cst.FormattedString:
        """An f-string (data: no gradient flows through it) with the values it shows
        computed first. `f"{x=}"` keeps the text `x=` as the user wrote it."""
        parts = []
        for part in node.parts:
            if not isinstance(part, cst.FormattedStringExpression):
                parts.append(part)
                continue
            if part.equal is not None:  # `{x=}`: the text, then the value (repr unless formatted)
                text = code(part.expression) + "=" 
                parts.append(cst.FormattedStringText(text.replace("{", "{{").replace("}", "}}")))
                conversion = part.conversion if (part.conversion or part.format_spec) else "r"
                part = part.with_changes(equal=None, conversion=conversion)
            spec = part.format_spec
            if spec is not None:
                spec = list(self._formatted(cst.FormattedString(list(spec))).parts)
            value = ir.node_of(self._lower(part.expression))
            parts.append(part.with_changes(expression=value, format_spec=spec))
        return node.with_changes(parts=parts, lpar=[], rpar=[])

    def refuse_walrus(self, node: cst.CSTNode, where: str) -> None:
        """Refuse `:=` inside `node`, a part of an expression that runs only sometimes
        (or again and again, as a `while` test) in a way codegen does not follow."""
        found = []

        class Finder(cst.CSTVisitor):
            def visit_NamedExpr(self, n):
                found.append(n)

            def visit_Lambda(self, n):
                return False

        node.visit(Finder())
        if found:
            name = found[0].target.value
            raise self.where.error(found[0], f"`:=` {where} is not supported; assign `{name}` in a statement of its own")

    def _is_value(self, node: cst.BaseExpression) -> bool:
        """Whether a dotted expression starts at a value (`x.T`) rather than a module."""
        while isinstance(node, cst.Attribute):
            node = node.value
        return not isinstance(node, cst.Name) or node.value in self.env or node.value not in self.parsed.aliases

    def _name(self, node: cst.Name) -> ir.Atom:
        name = node.value
        if name in self.env:
            return self.env[name]
        if name in ("True", "False", "None"):
            return ir.Const(cst.Name(name))
        if name in self.functions or self.helper(node) is not None:
            raise self.where.error(
                node, f"`{name}` is a function: call it here; functions passed as values are not supported"
            )
        if name in self.parsed.aliases:
            qual = self.parsed.aliases[name]
            const = self._numpy_constant(qual)
            if const is not None:
                return const
            raise self.where.error(node, f"`{name}` ({qual}) is not a number; call it or use a value")
        if name in self.parsed.constants:
            self._use_constant(name, node)
            return ir.Const(cst.Name(name))
        if name in _TYPES:  # data: `y.astype(float)`
            return ir.Const(cst.Name(name))
        raise self.where.error(node, unknown_name(name))

    def _projection(self, node, target) -> ir.Atom | None:
        """`np.linalg.slogdet(x)[1]`: one part of a tuple result, as a primitive."""
        key = projection_key(node, self.parsed.aliases)
        rule = None if key is None else self.registry.lookup(*key)
        if rule is None:
            return None
        call = node.value
        return self._call(self.where.stands_for(call.with_changes(func=call.func), node), target, rule=rule, spelled=code(node))

    def _attribute(self, node: cst.Attribute, target) -> ir.Atom:
        projected = self._projection(node, target)
        if projected is not None:
            return projected
        if self._is_value(node.value):
            rule = self.registry.lookup("attribute", node.attr.value)
            if rule is None:
                raise self.where.error(node, f"attribute `.{node.attr.value}` is not supported; `codegen rules` lists the supported ones")
            return self._step(rule, {rule.params[0].name: self._lower(node.value)}, target, node)
        qual = qualified(node, self.parsed.aliases)
        const = None if qual is None else self._numpy_constant(qual)
        if const is not None:
            return const
        raise self.where.error(node, f"`{code(node)}` is not a supported constant; use a number, np.pi, np.e, np.inf or np.nan")

    def _undefined(self, name: str) -> bool:
        """Whether a name is bound nowhere: not a variable, import, constant,
        function or builtin."""
        return not (
            name in self.env or name in self.parsed.aliases or name in self.parsed.constants
            or name in self.parsed.functions or hasattr(builtins, name)
        )

    def _no_rule(self, func, name: str, qual: str | None, method: bool):
        """Why a call cannot be differentiated, and what to write instead."""
        head = func
        while isinstance(head, cst.Attribute):
            head = head.value
        if method and isinstance(head, cst.Name) and self._undefined(head.value):
            return self.where.error(
                head, unknown_name(head.value),
            )
        if qual is not None and qual.startswith("builtins.") and not hasattr(builtins, qual[len("builtins."):]):
            return self.where.error(
                func,
                f"`{name}` is not defined or imported in {self.where.path}; define it, or import it and "
                "pass its file with --include FILE",
            )
        known = "" if method or qual is None or qual.startswith("builtins.") else f" ({qual})"
        own = "" if method or qual is None or qual.startswith(("builtins.", "numpy.", "scipy.")) else (
            "if it is your own function, pass its file with --include FILE; otherwise "
        )
        return self.where.error(
            func,
            f"no derivative rule for `{name}`{known}; {own}give one in a --rules directory (see "
            "`codegen rules`), or write it with the NumPy functions `codegen rules` lists",
        )

    def _numpy_constant(self, qual: str) -> ir.Const | None:
        head, _, attr = qual.rpartition(".")
        if head == "numpy" and (attr in NUMPY_CONSTANTS or attr in NUMPY_TYPES):
            return ir.Const(attribute(qual))
        if head == "math" and attr in ("pi", "e", "inf", "nan"):  # the same floats as NumPy's
            return ir.Const(attribute("numpy." + attr))
        if head == "math" and attr == "tau":
            return ir.Const(cst.Float(repr(6.283185307179586)))
        return None

    def _operator(self, node, target) -> ir.Atom:
        if isinstance(node, cst.Comparison) and len(node.comparisons) != 1:
            # `a < b < c` is `a < b and b < c` (b is evaluated once in Python; here
            # twice, which is the same for the pure expressions a loss is made of).
            pairs, left = [], node.left
            for comparison in node.comparisons:
                pairs.append(self.where.stands_for(cst.Comparison(left, [comparison]), left))
                left = comparison.comparator
            chain = pairs[0]
            for pair in pairs[1:]:
                chain = self.where.stands_for(cst.BooleanOperation(chain, cst.And(), pair), node)
            return self._lower(chain, target)
        key = operator_key(node)
        rule = None if key is None else self.registry.lookup(*key)
        if rule is None:
            symbol = key[1] if key else code(getattr(node, "operator", node)).strip()
            raise self.where.error(
                node,
                f"no derivative rule for the operator `{symbol}`; write it with the operators and NumPy "
                "functions `codegen rules` lists (or give a rule in a --rules directory)",
            )
        if isinstance(node, cst.BinaryOperation):
            parts = [node.left, node.right]
        elif isinstance(node, cst.Comparison):
            parts = [node.left, node.comparisons[0].comparator]
        else:
            parts = [node.expression]
        operands = []
        for part in parts:
            atom = self._lower(part)
            self.refuse_list(atom, part, f"`{key[1]}`", "convert it first: `np.array(ys)`")
            if isinstance(atom, ir.Const) and isinstance(atom.node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
                raise self.where.error(part, "strings are not numbers; use a number")
            operands.append(atom)
        return self._step(rule, dict(zip(rule.arrays, operands)), target, node)

    def _call(self, node: cst.Call, target, rule: Rule | None = None, spelled: str | None = None) -> ir.Atom:
        func = node.func
        if (
            isinstance(func, cst.Name) and func.value == "sum" and func.value not in self.env
            and len(node.args) == 1 and isinstance(node.args[0].value, cst.GeneratorExp)
        ):  # `sum(f(x) for x in xs)` is the sum of the list `[f(x) for x in xs]`
            generator = node.args[0].value
            listed = self.where.stands_for(cst.ListComp(generator.elt, generator.for_in), generator)
            node = self.where.stands_for(node.with_changes(args=[node.args[0].with_changes(value=listed)]), node)
        if rule is None:
            callee = self.helper(func)
            if callee is not None:
                return self.inline(callee, node, target)
        method = rule is None and isinstance(func, cst.Attribute) and self._is_value(func.value)
        if method and isinstance(func.value, cst.Name) and func.value.value in self.env:
            self.refuse_list(self.env[func.value.value], func, f"`.{func.attr.value}()`", "convert it first: `np.array(ys)`")
        qual = None
        if rule is not None:
            name = spelled
        elif method:
            if isinstance(func.value, cst.Name) and func.value.value in self.env:
                self.refuse_tree_method(self.env[func.value.value], func)
            rule = self.registry.lookup("method", func.attr.value)
            name = f".{func.attr.value}()"
        else:
            qual = qualified(func, self.parsed.aliases)
            if qual is None and isinstance(func, cst.Name) and func.value not in self.env:
                qual = "builtins." + func.value
            rule = None if qual is None else self.registry.lookup("call", qual)
            name = code(func)
            if rule is None and self.internal and isinstance(func, cst.Name) and func.value.startswith("_"):
                rule, node = self._internal(node)
        if rule is None:
            parts = sorted(k[1] for k in self.registry.rules if k[0] == "projection" and qual and k[1].startswith(qual + "["))
            if parts:
                raise self.where.error(
                    func, f"`{name}` returns a tuple; use one part of it: "
                    + ", ".join(p.replace("numpy.", "np.").replace("[", "(...)[") for p in parts),
                )
            rule = self._opaque(node, method, qual)
        if rule is None:
            raise self._no_rule(func, name, qual, method)
        accepted = {p.name for p in rule.params}
        for arg in node.args:
            if arg.star:
                raise self.where.error(arg, f"`{arg.star}` arguments are not supported; pass each one")
            if arg.keyword is not None and arg.keyword.value not in accepted:
                raise self.where.error(
                    arg,
                    f"{name}: argument `{arg.keyword.value}` is not supported "
                    f"(supported: {', '.join(p.name for p in rule.params)}); leave it out",
                )
        positional: list[ir.Atom] = [self._lower(func.value)] if method else []
        if method:
            self.refuse_list(positional[0], func, f"`.{func.attr.value}()`", "convert it first: `np.array(ys)`")
        keywords: dict[str, ir.Atom] = {}
        for arg in node.args:
            atom = self._lower(arg.value)
            if isinstance(atom, ir.Var) and atom.name in self.lists:  # a list built with append, read whole
                whole = self.registry.lookup("statement", "_rows")
                atom = self._step(whole, {whole.params[0].name: atom}, None, arg.value)
            if arg.keyword is None:
                if keywords:
                    raise self.where.error(arg, "positional argument after a keyword argument; put positional arguments first")
                positional.append(atom)
            else:
                keywords[arg.keyword.value] = atom
        slots = [p for p in rule.params if not p.keyword_only]
        if method and not rule.variadic and len(positional) > len(slots) > 1:
            # `x.reshape(2, 3)` means `np.reshape(x, (2, 3))`.
            extra = positional[len(slots) - 1 :]
            positional = positional[: len(slots) - 1] + [self._pack(extra)]
        args = self._bind(rule, positional, keywords, node, name)
        return self._step(rule, args, target, node, name)

    def _internal(self, node: cst.Call):
        """A call to one of codegen's helpers in code codegen wrote (normalize's
        `internal`): the rule keyed by it (`_append`), or the rule that computes with
        it (`_expit(x)`, its arguments named as that rule's `compute` names them)."""
        helper = node.func.value
        rule = self.registry.lookup("statement", helper)
        if rule is not None:
            return rule, node
        rule = self.registry.lookup("internal", helper)
        if rule is None:
            if helper in self.registry.helpers:
                raise self.where.error(node, f"`{helper}` has no derivative rule: the second derivative of this line is not supported yet")
            return None, node
        names = [a.value.value for a in rule.compute.args if isinstance(a.value, cst.Name)]
        args = [
            a.with_changes(keyword=cst.Name(names[i]), equal=cst.AssignEqual()) if a.keyword is None and i < len(names) else a
            for i, a in enumerate(node.args)
        ]
        return rule, self.where.stands_for(node.with_changes(args=args), node)

    def _opaque(self, node: cst.Call, method: bool, qual: str | None) -> Rule | None:
        """A call without a rule, to an imported function, a builtin or a method of a
        value (`gammaln(y + 1.0)`, `rng.random(X.shape)`): generated as written, its
        result carrying no derivative. analyze refuses it where an argument depends
        on `wrt`. None where the callee is not known (a name never imported)."""
        changed = self._changes_in_place(node, method, qual)
        if changed is not None:
            raise self.where.error(node, changed)
        if method:
            head = node.func.value
            while isinstance(head, (cst.Attribute, cst.Subscript, cst.Call)):
                head = head.func if isinstance(head, cst.Call) else head.value
            if isinstance(head, cst.Name) and self._undefined(head.value):
                return None  # `scipy.special.expit(x)` with scipy never imported: an unknown name
            key, name = ("method", node.func.attr.value), f".{node.func.attr.value}()"
            func = cst.Attribute(cst.Name("receiver"), node.func.attr)
        elif qual is None:
            return None
        elif qual.startswith("builtins."):
            import builtins

            if not hasattr(builtins, qual[len("builtins."):]):
                return None
            if qual[len("builtins."):] in _EFFECTFUL_BUILTINS:
                raise self.where.error(
                    node, f"`{qual[len('builtins.'):]}(...)` reads files, runs code or looks at the caller's "
                    "variables, which a generated module must not do; do it before calling the loss and pass "
                    "the result as a parameter",
                )
            key, name, func = ("call", qual), qual[len("builtins."):], cst.Name(qual[len("builtins."):])
        elif qual.startswith("numpy.") and not _numpy_has(qual):
            return None  # (np.frobnicate would raise when the generated code runs)
        elif qual.startswith("numpy."):
            key, name, func = ("call", qual), code(node.func), attribute(qual)
        else:  # spelled as the source spells it, imported as the source imports it
            key, name, func = ("call", qual), code(node.func), node.func.with_changes(lpar=[], rpar=[])
            self.imports.add(self._import_of(node.func, qual))
        params, args, written = [], [], {}
        if method:
            params.append(Param("receiver", None, keyword_only=False))  # not an argument
            written["receiver"] = code(node.func.value)
        for index, arg in enumerate(node.args):
            keyword = arg.keyword.value if arg.keyword is not None else None
            param = keyword or f"arg{index}"
            params.append(Param(param, None, keyword_only=keyword is not None))
            args.append(cst.Arg(cst.Name(param), keyword=None if keyword is None else cst.Name(keyword)))
            written[param] = code(arg.value)
        names = frozenset(p.name for p in params)
        return Rule(
            name=name, key=key, keys=(key,), params=tuple(params), forward=cst.Call(func, args),
            compute=None, requires=None, zero_gradient=frozenset(), variadic=None, body=(), grads=(),
            sequences=names, opaque=written,
        )

    def _import_of(self, func: cst.BaseExpression, qual: str) -> str:
        """The import that makes `func` (a call's callee) mean in generated code what
        it means in the source: `import scipy.special` for `scipy.special.gammaln`,
        `from scipy.stats import norm` for `norm.logpdf`."""
        head = func
        while isinstance(head, cst.Attribute):
            head = head.value
        local = head.value
        value = self.parsed.aliases[local]
        if value == local:  # `import a.b`: the call names the module it is in
            return qual.rpartition(".")[0]
        module, _, name = value.rpartition(".")
        return f"from {module} import {name}" + ("" if name == local else f" as {local}")

    def _changes_in_place(self, node: cst.Call, method: bool, qual: str | None) -> str | None:
        """Why a call without a rule cannot be generated as written: it changes an
        array in place (`X.sort()`, `rng.shuffle(X)`, `out=`), which the generated
        code, computing each value once, in its own order, would not follow."""
        if any(arg.keyword is not None and arg.keyword.value == "out" for arg in node.args):
            return f"`{code(node.func)}(..., out=...)` writes into an array; assign its result instead"
        if method and node.func.attr.value in _IN_PLACE_METHODS:
            name = node.func.attr.value
            instead = {"sort": "np.sort", "partition": "np.partition", "shuffle": "rng.permutation"}.get(name)
            return (
                f"`{code(node.func)}()` changes an array or list in place, which codegen does not follow; "
                + (f"use `{instead}(...)`, which returns a new one" if instead else "build a new value instead")
            )
        if qual is not None and (qual in _IN_PLACE_FUNCTIONS or qual.endswith(".at")):
            return f"`{code(node.func)}` changes an array in place, which codegen does not follow; build a new array instead"
        return None

    def _pack(self, atoms: list[ir.Atom]) -> ir.Atom:
        if all(isinstance(a, ir.Const) for a in atoms):
            return ir.Const(cst.Tuple([cst.Element(a.node) for a in atoms]))
        return ir.Seq(tuple(atoms), "tuple")

    def _bind(self, rule: Rule, positional, keywords, node, name) -> dict[str, ir.Atom]:
        """Match a call's arguments to the rule's parameters, as Python would."""
        accepted = ", ".join(p.name for p in rule.params)
        slots = [p for p in rule.params if not p.keyword_only and p.name != rule.variadic]
        if rule.variadic:
            extra = positional[len(slots):]
            positional = positional[: len(slots)]
            keywords = {**keywords, rule.variadic: ir.Seq(tuple(extra), "tuple")}
        if len(positional) > len(slots):
            raise self.where.error(
                node,
                f"{name} takes at most {len(slots)} positional argument(s) here ({accepted}); pass the rest "
                "by keyword or leave them out",
            )
        args = {p.name: a for p, a in zip(slots, positional)}
        for key, atom in keywords.items():
            if key in args:
                raise self.where.error(node, f"{name}: argument `{key}` given twice; give it once")
            args[key] = atom
        missing = [p.name for p in rule.params if p.default is None and p.name not in args]
        if missing:
            raise self.where.error(node, f"{name}: missing argument `{missing[0]}`; pass it")
        return args

    def _sequence(self, node) -> ir.Atom:
        items = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                raise self.where.error(element, "starred elements are not supported; list each element, or use np.concatenate")
            items.append(self._lower(element.value))
        brackets = "list" if isinstance(node, cst.List) else "tuple"
        if all(isinstance(a, ir.Const) and not self._reads_vars(a) for a in items):
            return ir.Const(ir.node_of(ir.Seq(tuple(items), brackets)))
        return ir.Seq(tuple(items), brackets)

    def _subscript(self, node: cst.Subscript, target) -> ir.Atom:
        """`x[1:, idx]`: a step whose index is a constant `np.s_[1:, idx]` (the index
        may read variables; no derivative flows into it)."""
        projected = self._projection(node, target)
        if projected is not None:
            return projected
        if self.internal and qualified(node.value, self.parsed.aliases) == "numpy.s_":
            return ir.Const(self._index_key(node))  # `_setitem(x, np.s_[1:], v)` in code codegen wrote
        value = self._lower(node.value)
        item = self.tree_item(value, node, target)
        if item is not None:
            return item
        index = self._index_key(node)
        rule = self.registry.lookup("subscript", "[]")
        if rule is None:
            raise self.where.error(node, "indexing has no rule; add one to templates/")
        return self._step(rule, {rule.params[0].name: value, rule.params[1].name: ir.Const(index)}, target, node)

    def _index_key(self, node: cst.Subscript) -> cst.Subscript:
        """The index of `x[...]` as a constant `np.s_[...]` (its parts lowered)."""
        elements = []
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Index):
                inner = inner.with_changes(value=self._index_part(inner.value))
            else:
                inner = inner.with_changes(
                    lower=None if inner.lower is None else self._index_part(inner.lower),
                    upper=None if inner.upper is None else self._index_part(inner.upper),
                    step=None if inner.step is None else self._index_part(inner.step),
                )
            elements.append(element.with_changes(slice=inner))
        return cst.Subscript(attribute("numpy.s_"), elements)

    def _index_part(self, node: cst.BaseExpression) -> cst.BaseExpression:
        atom = self._lower(node)
        if isinstance(atom, ir.Seq):
            raise self.where.error(node, "an index that is a list of variables is not supported; index with an integer array, such as np.array([i, j])")
        return ir.node_of(atom)

    def _reads_vars(self, atom: ir.Atom) -> bool:
        return bool(reads(ir.node_of(atom)) & self.vars)

    def _step(self, rule: Rule, given: dict[str, ir.Atom], target, node, name=None) -> ir.Atom:
        for param, atom in list(given.items()):
            if isinstance(atom, ir.Seq) and param not in rule.sequences and param != rule.variadic:
                given[param] = self._as_array(atom, node)
        args = tuple(
            (p.name, given[p.name] if p.name in given else ir.Const(p.default)) for p in rule.params
        )
        if rule.requires is not None:
            test = fold_static(cst.IfExp(substitute(rule.requires, {n: ir.node_of(a) for n, a in args}),
                                          cst.Name("True"), cst.Name("False")))
            if not (isinstance(test, cst.Name) and test.value == "True"):
                raise self.where.error(
                    node, f"{name or rule.display}: only supported when {code(rule.requires)}; "
                    "give arguments for which that holds, or write it with other NumPy functions"
                )
        if rule.opaque is None and all(isinstance(a, ir.Const) and not self._reads_vars(a) for _, a in args):
            return ir.Const(render(rule, args, frozenset(given)))
        name = target() if target is not None else self.namer.temp()
        self.vars.add(name)
        kind, qual = rule.key
        if kind == "call" and rule.compute is None and rule.opaque is None and not qual.startswith(("numpy.", "builtins.")):
            self.imports.add(qual.rpartition(".")[0])
        self.block.append(ir.Step(name, rule, args, frozenset(given), self.origin, self.where.place(node)))
        if rule.parts and hasattr(self, "trees"):  # `np.split(x, 2)`: a list of arrays, read as a tree
            self.trees.add(name)
        fresh = rule.opaque is not None and kind == "call" and qual.startswith(_FRESH)
        viewing = rule.name in _VIEWS or (rule.opaque is not None and not fresh) or (
            rule.name == "array" and isinstance(node, cst.Call) and qualified(node.func, self.parsed.aliases) == "numpy.asarray"
        )
        if viewing and hasattr(self, "may_share"):  # NumPy may return a view of the argument
            self.may_share(name, args[0][1])
        self.read.update(v for _, a in args for v in reads(ir.node_of(a)) if v in self.vars)
        if _adjoint_reads_result(rule):  # `exp`: the reverse sweep reads the result too
            self.read.add(name)
        return ir.Var(name)

    def _as_array(self, seq: ir.Seq, node) -> ir.Atom:
        """A list or tuple of values where a rule takes one array (`np.sum([1.0, a])`):
        `np.array(...)` of it first, as NumPy does, so that the rule's adjoint gets an
        array, and np.array's gives each item its part."""
        rule = self.registry.lookup("call", "numpy.array")
        if rule is None:
            raise self.where.error(node, "a list of values needs the rule for np.array; add one to templates/")
        return self._step(rule, {rule.params[0].name: seq}, None, node)

    # -- module constants --------------------------------------------------------------

    def _use_constant(self, name: str, node: cst.CSTNode) -> None:
        resolving = self.__dict__.setdefault("_resolving", [])  # constants being read, outermost first
        if name in resolving:
            cycle = " -> ".join([*resolving[resolving.index(name):], name])
            raise self.where.error(
                node, f"the constant `{name}` is defined in terms of itself ({cycle}); give one of them a value "
                "of its own",
            )
        resolving.append(name)
        try:
            value = self._constant(self.parsed.constants[name], using=name)
        finally:
            resolving.pop()
        if name in self.constants:
            if code(self.constants[name]) != code(value):
                raise self.where.error(node, f"the constant `{name}` has different values in two files; rename one")
            return
        self.constants[name] = value  # after the constants it uses: definition order

    def _constant(self, value: cst.BaseExpression, using: str | None = None) -> cst.BaseExpression:
        """A module constant or default value, checked to be computable without the
        user's code, and spelled as the generated module will import NumPy."""
        checker = _ConstantChecker(self, using)
        value.visit(checker)
        return canonical(value, self.parsed.aliases)


# Builtins that a call on data must not run inside generated code: they do I/O, run
# code, or read or change the caller's frame.
_EFFECTFUL_BUILTINS = frozenset({
    "open", "eval", "exec", "compile", "input", "__import__", "globals", "locals", "vars",
    "breakpoint", "exit", "quit", "help", "setattr", "delattr", "getattr", "memoryview",
})


def unknown_name(name: str) -> str:
    return (
        f"unknown name `{name}`: it is not a parameter, a variable assigned before this line, an import, a "
        "module function or a module constant assigned once at the top level; define it as one of those, or "
        "pass it as a parameter"
    )


class _ConstantChecker(cst.CSTVisitor):
    """A constant may use literals, NumPy and other module constants, nothing else."""

    def __init__(self, normalizer: _Normalizer, using: str | None):
        self.n = normalizer
        self.using = using

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        qual = qualified(node, self.n.parsed.aliases)
        if qual is not None and qual.startswith("numpy."):
            return False
        raise self.n.where.error(
            node, f"`{code(node)}` in a constant: only NumPy and literals can be used; pass the value to the "
            "loss as a parameter",
        )

    def visit_Name(self, node: cst.Name) -> None:
        name = node.value
        if name in ("True", "False", "None"):
            return
        qual = self.n.parsed.aliases.get(name)
        if qual is not None and (qual == "numpy" or qual.startswith("numpy.")):
            return
        if name in self.n.parsed.constants and name != self.using:
            self.n._use_constant(name, node)
            return
        raise self.n.where.error(
            node,
            f"`{name}` in a constant value: only literals, NumPy and module constants assigned "
            "once can be used; pass the value to the loss as a parameter",
        )

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Call(self, node: cst.Call) -> None:
        """Only NumPy functions that compute a value from their arguments: the generated
        module runs a constant's call each time it is imported, so a call that reads
        or writes files, or draws random numbers, is refused."""
        qual = qualified(node.func, self.n.parsed.aliases)
        if qual is None or not qual.startswith("numpy.") or qual in PURE_NUMPY:
            return
        if self.n.registry.lookup("call", qual) is not None:
            return
        name = qual.replace("numpy.", "np.", 1)
        if ".random." in qual or qual.startswith("numpy.random"):
            why = "it draws random numbers, which would differ from the ones your module drew"
        elif any(word in qual for word in ("load", "save", "txt", "file", "memmap", "open")):
            why = "it reads or writes files"
        else:
            why = "codegen copies only NumPy functions that compute a value from literals"
        raise self.n.where.error(
            node,
            f"`{name}(...)` in a module constant or default would run each time the generated module "
            f"is imported ({why}); pass the value to the loss as a parameter",
        )

    def visit_Lambda(self, node) -> bool:
        raise self.n.where.error(node, "`lambda` is not supported in a constant; define a function at module level")


# NumPy functions a module constant may call besides those with a derivative rule:
# constructors and dtypes, which compute their value from their arguments alone.
PURE_NUMPY = frozenset(
    "numpy." + name
    for name in (
        "array asarray asanyarray ascontiguousarray zeros ones full empty eye identity arange linspace logspace "
        "geomspace diag diagflat tri zeros_like ones_like full_like meshgrid stack concatenate hstack vstack "
        "float64 float32 float16 int64 int32 int16 int8 uint8 bool_ complex128 dtype finfo iinfo"
    ).split()
)


def render(rule: Rule, args, given: frozenset[str]) -> cst.BaseExpression:
    """The primitive written out: the rule's forward expression with the arguments in
    place, leaving out keyword and trailing arguments the user did not give."""
    values = {name: ir.node_of(atom) for name, atom in args}
    forward = rule.compute or rule.forward
    if isinstance(forward, cst.Call) and rule.compute is None:
        kept = []
        for arg in forward.args:
            if (
                arg.keyword is not None
                and isinstance(arg.value, cst.Name)
                and arg.value.value in values
                and arg.value.value not in given
            ):
                continue
            kept.append(arg)
        def ungiven(arg) -> bool:
            return isinstance(arg.value, cst.Name) and arg.value.value in values and arg.value.value not in given

        while kept and kept[-1].keyword is None and not kept[-1].star and ungiven(kept[-1]):
            kept.pop()  # trailing positional arguments left at their defaults
        spliced = []
        for arg in kept:
            variadic = arg.star == "*" and isinstance(arg.value, cst.Name) and arg.value.value == rule.variadic
            if variadic and isinstance(dict(args)[rule.variadic], ir.Seq):
                spliced += [cst.Arg(ir.node_of(item)) for item in dict(args)[rule.variadic].items]
            else:
                spliced.append(arg)
        if spliced:
            spliced[-1] = spliced[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        forward = forward.with_changes(args=spliced)
    return _splice_index(substitute(forward, values, parens=True))


def _spliced(node):
    """`x[np.s_[1:, i]]` -> `x[1:, i]`: an index constant printed as written."""
    if type(node) is cst.Subscript and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        inner = node.slice[0].slice.value
        if isinstance(inner, cst.Subscript) and dotted(inner.value) == "np.s_":
            return node.with_changes(slice=inner.slice)
    return node


def _splice_index(node):
    return transform(node, _spliced)




@functools.cache
def _numpy_has(qual: str) -> bool:
    """Whether NumPy defines `numpy.a.b` (NumPy's own names only: nothing of the
    user's is imported)."""
    import importlib

    import numpy

    value = numpy
    for part in qual.split(".")[1:]:
        try:
            value = getattr(value, part)
        except AttributeError:
            try:
                value = importlib.import_module(f"{value.__name__}.{part}")
            except (ImportError, AttributeError):
                return False
    return callable(value)


@functools.cache
def _adjoint_reads_result(rule: Rule) -> bool:
    """Whether the rule's adjoint lines read `ans`, the step's own result."""
    return any("ans" in reads(assign.value) for assign in rule.body)
