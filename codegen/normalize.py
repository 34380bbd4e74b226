"""Stage 2: the parsed function -> simpleton form (`ir.Function`).

After normalisation the function is exactly:

- `Step(target, rule, args)`: `target = <one primitive>(<atoms>)`, one per line, in
  evaluation order (Python's: left operand before right, arguments left to right);
- every target is assigned once: a reassigned user name gets a fresh version
  (`x`, `x_2`, ...), compound expressions get temporaries `t1`, `t2`, ... (names.py);
- an atom is a `Var` or a `Const`; constant subexpressions (`2 * np.pi`,
  `np.log(2.0)`, a module constant) stay whole as one `Const`;
- `a = b` and `a = 2.0` create no step: `a` simply names the same atom;
- one result atom, from the final `return`.

Expressions outside the supported subset are rejected with a positioned error.
"""

from __future__ import annotations

import libcst as cst

from . import ir
from .errors import Located
from .expressions import attribute, canonical, code, qualified, substitute
from .names import Namer
from .parse import Parsed
from .rules import Registry, Rule, operator_key

# NumPy names that are constants rather than functions.
NUMPY_CONSTANTS = {"pi", "e", "inf", "nan", "euler_gamma", "newaxis"}

_SCALAR_ANNOTATIONS = {"float", "int"}

_UNSUPPORTED_EXPRESSIONS = {
    cst.Subscript: "indexing is not supported yet; use whole-array operations",
    cst.Comparison: "comparisons are not supported yet",
    cst.BooleanOperation: "`and`/`or` are not supported yet",
    cst.IfExp: "conditional expressions are not supported yet; use np.where(cond, a, b)",
    cst.Lambda: "`lambda` is not supported; define a function at module level",
    cst.ListComp: "comprehensions are not supported; use array operations",
    cst.SetComp: "comprehensions are not supported; use array operations",
    cst.DictComp: "comprehensions are not supported; use array operations",
    cst.GeneratorExp: "generator expressions are not supported; use array operations",
    cst.SimpleString: "strings are not numbers",
    cst.FormattedString: "strings are not numbers",
    cst.ConcatenatedString: "strings are not numbers",
    cst.Imaginary: "complex numbers are not supported",
    cst.List: "lists are not supported; use np.array outside the loss and pass it in",
    cst.Dict: "dicts are not supported inside a loss",
    cst.Set: "sets are not supported inside a loss",
    cst.Await: "`await` is not supported",
    cst.Yield: "generators are not supported",
    cst.NamedExpr: "`:=` is not supported; assign on its own line",
}


def normalize(parsed: Parsed, registry: Registry, namer: Namer) -> ir.Function:
    return _Normalizer(parsed, registry, namer).run()


class _Normalizer:
    def __init__(self, parsed: Parsed, registry: Registry, namer: Namer):
        self.parsed = parsed
        self.registry = registry
        self.namer = namer
        self.where: Located = parsed.where
        self.env: dict[str, ir.Atom] = {}
        self.steps: list[ir.Step] = []
        self.constants: dict[str, cst.BaseExpression] = {}
        self.origin: ir.Origin | None = None

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
            default = None if p.default is None else self._constant(p.default)
            scalar = p.annotation is not None and code(p.annotation.annotation) in _SCALAR_ANNOTATIONS
            params.append(ir.Param(name, default, scalar))

        result = None
        result_origin = None
        for statement in fn.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                self.origin = self._origin(statement)
                if isinstance(small, cst.Assign):
                    self._assign(small.targets[0].target.value, small.value)
                elif isinstance(small, cst.AnnAssign):
                    self._assign(small.target.value, small.value)
                elif isinstance(small, cst.Return):
                    result = self._lower(small.value, target=lambda: self.namer.fresh("value"))
                    result_origin = self.origin
        signature = _plain_signature(fn.params, self)
        return ir.Function(
            name=fn.name.value,
            path=self.parsed.path,
            source_sha256=self.parsed.source_sha256,
            params=tuple(params),
            signature=signature,
            steps=tuple(self.steps),
            result=result,
            result_origin=result_origin,
            constants=tuple(
                (name, self.constants[name]) for name in self.parsed.constants if name in self.constants
            ),
        )

    def _origin(self, statement: cst.SimpleStatementLine) -> ir.Origin:
        line, _ = self.where.position(statement)
        text = " ".join(code(statement.with_changes(leading_lines=())).split())
        return ir.Origin(line, text)

    def _assign(self, name: str, value: cst.BaseExpression) -> None:
        self.env[name] = self._lower(value, target=lambda: self.namer.version(name))

    # -- expressions -----------------------------------------------------------------

    def _lower(self, node: cst.BaseExpression, target=None) -> ir.Atom:
        """Emit the steps computing `node` and return the atom holding its value.
        `target()` names the outermost step (temporaries name the inner ones)."""
        if isinstance(node, cst.Name):
            return self._name(node)
        if isinstance(node, (cst.Integer, cst.Float)):
            return ir.Const(node.with_changes(lpar=[], rpar=[]))
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
            return self._operator(node, target)
        if isinstance(node, cst.Call):
            return self._call(node, target)
        if isinstance(node, cst.Tuple):
            return self._tuple(node)
        for kind, message in _UNSUPPORTED_EXPRESSIONS.items():
            if isinstance(node, kind):
                raise self.where.error(node, message)
        raise self.where.error(node, f"`{code(node)}` is not supported")

    def _name(self, node: cst.Name) -> ir.Atom:
        name = node.value
        if name in self.env:
            return self.env[name]
        if name in ("True", "False", "None"):
            return ir.Const(cst.Name(name))
        if name in self.parsed.aliases:
            qual = self.parsed.aliases[name]
            const = self._numpy_constant(qual)
            if const is not None:
                return const
            raise self.where.error(node, f"`{name}` ({qual}) is not a number; call it or use a value")
        if name in self.parsed.constants:
            self._use_constant(name, node)
            return ir.Const(cst.Name(name))
        raise self.where.error(node, f"unknown name `{name}`")

    def _attribute(self, node: cst.Attribute) -> ir.Atom:
        qual = qualified(node, self.parsed.aliases)
        const = None if qual is None else self._numpy_constant(qual)
        if const is not None:
            return const
        raise self.where.error(node, f"attribute `{code(node)}` is not supported yet")

    def _numpy_constant(self, qual: str) -> ir.Const | None:
        head, _, attr = qual.rpartition(".")
        if head == "numpy" and attr in NUMPY_CONSTANTS:
            return ir.Const(attribute(qual))
        return None

    def _operator(self, node, target) -> ir.Atom:
        key = operator_key(node)
        rule = None if key is None else self.registry.lookup(*key)
        if rule is None:
            symbol = code(node.operator).strip() if key is None else key[1]
            raise self.where.error(
                node,
                f"no derivative rule for the operator `{symbol}`; add one to templates/ "
                "(or a --rules directory)",
            )
        if isinstance(node, cst.BinaryOperation):
            operands = [self._lower(node.left), self._lower(node.right)]
        else:
            operands = [self._lower(node.expression)]
        args = dict(zip(rule.arrays, operands))
        return self._step(rule, args, set(args), target)

    def _call(self, node: cst.Call, target) -> ir.Atom:
        qual = qualified(node.func, self.parsed.aliases)
        rule = None if qual is None else self.registry.lookup("call", qual)
        if rule is None:
            name = code(node.func)
            known = "" if qual is None else f" ({qual})"
            raise self.where.error(
                node.func,
                f"no derivative rule for `{name}`{known}; add one to templates/ (or a "
                "--rules directory), see `codegen rules`",
            )
        accepted = {p.name for p in rule.params}
        for arg in node.args:
            if arg.star:
                raise self.where.error(arg, f"`{arg.star}` arguments are not supported; pass each one")
            if arg.keyword is not None and arg.keyword.value not in accepted:
                raise self.where.error(
                    arg,
                    f"{code(node.func)}(): argument `{arg.keyword.value}` is not supported "
                    f"(supported: {', '.join(p.name for p in rule.params)})",
                )
        positional: list[ir.Atom] = []
        keywords: dict[str, ir.Atom] = {}
        for arg in node.args:
            atom = self._lower(arg.value)
            if arg.keyword is None:
                if keywords:
                    raise self.where.error(arg, "positional argument after a keyword argument")
                positional.append(atom)
            else:
                keywords[arg.keyword.value] = atom
        args = self._bind(rule, positional, keywords, node)
        return self._step(rule, args, set(args), target)

    def _bind(self, rule: Rule, positional, keywords, node) -> dict[str, ir.Atom]:
        """Match a call's arguments to the rule's parameters, as Python would."""
        name = code(node.func)
        accepted = ", ".join(p.name for p in rule.params)
        slots = [p for p in rule.params if not p.keyword_only]
        if len(positional) > len(slots):
            raise self.where.error(
                node, f"{name}() takes at most {len(slots)} positional argument(s) here ({accepted})"
            )
        args = {p.name: a for p, a in zip(slots, positional)}
        for key, atom in keywords.items():
            if key in args:
                raise self.where.error(node, f"{name}(): argument `{key}` given twice")
            args[key] = atom
        missing = [p.name for p in rule.params if p.default is None and p.name not in args]
        if missing:
            raise self.where.error(node, f"{name}(): missing argument `{missing[0]}`")
        return args

    def _tuple(self, node: cst.Tuple) -> ir.Atom:
        items = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                raise self.where.error(element, "starred elements are not supported")
            atom = self._lower(element.value)
            if not isinstance(atom, ir.Const):
                raise self.where.error(element, "tuples of arrays are not supported yet")
            items.append(cst.Element(atom.node))
        return ir.Const(cst.Tuple(items))

    def _step(self, rule: Rule, given: dict[str, ir.Atom], given_names, target) -> ir.Atom:
        args = tuple(
            (p.name, given[p.name] if p.name in given else ir.Const(p.default)) for p in rule.params
        )
        if all(isinstance(a, ir.Const) for _, a in args):
            return ir.Const(render(rule, args, frozenset(given_names)))
        name = target() if target is not None else self.namer.temp()
        self.steps.append(ir.Step(name, rule, args, frozenset(given_names), self.origin))
        return ir.Var(name)

    # -- module constants --------------------------------------------------------------

    def _use_constant(self, name: str, node: cst.CSTNode) -> None:
        if name in self.constants:
            return
        value = self.parsed.constants[name]
        self.constants[name] = self._constant(value, using=name)

    def _constant(self, value: cst.BaseExpression, using: str | None = None) -> cst.BaseExpression:
        """A module constant or default value, checked to be computable without the
        user's code, and spelled as the generated module will import NumPy."""
        checker = _ConstantChecker(self, using)
        value.visit(checker)
        return canonical(value, self.parsed.aliases)


class _ConstantChecker(cst.CSTVisitor):
    """A constant may use literals, NumPy and other module constants, nothing else."""

    def __init__(self, normalizer: _Normalizer, using: str | None):
        self.n = normalizer
        self.using = using

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        qual = qualified(node, self.n.parsed.aliases)
        if qual is not None and qual.startswith("numpy."):
            return False
        raise self.n.where.error(node, f"`{code(node)}` in a constant: only NumPy and literals can be used")

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
            "once can be used",
        )

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Lambda(self, node) -> bool:
        raise self.n.where.error(node, "`lambda` is not supported in a constant")


def render(rule: Rule, args, given: frozenset[str]) -> cst.BaseExpression:
    """The primitive written out: the rule's forward expression with the arguments in
    place, leaving out keyword arguments the user did not give."""
    values = {name: atom.node if isinstance(atom, ir.Const) else cst.Name(atom.name) for name, atom in args}
    forward = rule.forward
    if isinstance(forward, cst.Call):
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
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        forward = forward.with_changes(args=kept)
    return substitute(forward, values)


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
