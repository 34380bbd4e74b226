"""Derivative rules, loaded by parsing the Python files in templates/.

A rule is a function decorated with `@rule` whose parameters are the primitive's
parameters (with their defaults; keyword-only where NumPy's are). Its body reads:

    @rule(elementwise=True)
    def true_divide(x, y):
        ans = x / y             # the primitive, in terms of the parameters
        d_x = d_ans / y         # adjoint contribution to x, given d_ans, ans, params
        d_y = -d_ans * ans / y

The first line says which primitive the rule is for (an operator, or a call such as
`np.exp(x)`, resolved through the file's imports). Every later line is an assignment:
`d_<param> = ...` is the contribution to that parameter's adjoint, any other name is
a local value the `d_` lines may use; each name is assigned once. A conditional
expression on arguments the user gives as constants (`... if axis is None else ...`)
is decided when the rule is applied, so the generated line is the specialised one. A parameter without a `d_` line receives no
gradient (it is data, an axis, a flag). The rule file is never imported: the loader
reads its text, so user rules are as safe to load as templates/.

Decorator options (literals, or names of module-level literal constants):
    elementwise=True the result has the broadcast shape of the parameters without a
                     default, and the `d_` lines are elementwise expressions of
                     d_ans, ans and the parameters (so a scalar d_ans may stand
                     for a constant array); a contribution to a parameter that was
                     broadcast is summed back to its shape (`_unbroadcast`).
    reduction=True   the primitive reduces `x` over `axis` (None: all), keeping the
                     reduced axes if `keepdims`: its result is a scalar when both
                     are left at their defaults.
    domain={...}     where the rule is defined, per parameter, for the checks:
                     "real" (default), "positive", "unit" (-1, 1), "nonzero".
    checks=[...]     (call, shapes) pairs the registry-driven test evaluates, e.g.
                     ("np.sum(x, axis=1)", [{"x": (2, 3)}, {"x": (2, 3, 4)}]), or
                     (call, shapes, wrt) to differentiate with respect to those only;
                     by default the forward line on scalar, vector, matrix and, for
                     binary elementwise rules, broadcast shapes.
    policy="..."     the subgradient chosen at a kink, printed beside its use
                     (not where a `d_` line `plain if test else general`, its test
                     decided when the rule is applied, takes the plain branch:
                     `x ** 2` says nothing about x ** 0.5 at 0).
    aliases=[...]    other qualified names for the same primitive ("numpy.add" for
                     `+`, "builtins.abs" for np.abs).
    method="sum"     `x.sum(...)` means this primitive with x first (a list for
                     several names); extra positional arguments are packed into
                     the last positional parameter (`x.reshape(2, 3)`).
    attribute="T"    `x.T` means this primitive applied to x.
    lazy_adjoint=True the `d_` lines are right for any d_ans that merely broadcasts
                     to ans's shape (elementwise rules always are), so codegen
                     need not make d_ans full-size first.
    requires="..."   a condition on arguments that must hold when the rule is used
                     (`ord is None`); codegen refuses calls where it does not.
    zero_gradient=[...] parameters the result is locally constant in (a where
                     condition, a comparison's operands); True for all of them.
                     A value that depends on `wrt` may flow into a parameter
                     without a `d_` line only if it is listed here; anywhere else
                     codegen refuses, rather than drop that gradient silently.
    sequences=[...]  parameters that take a list or tuple of arrays as such
                     (np.concatenate's `arrays`), their adjoint a list with one
                     part per item. A list or tuple literal given to any other
                     parameter (`np.sum([1.0, a])`) is made one array first, with
                     np.array, as NumPy does.
    parts=True       the result is a list of arrays (np.split): code reads it as a
                     parameter tree (`parts[0]`, `a, b = ...`, passed whole to a
                     function that takes a sequence), its adjoint sparse as a
                     tree's is (`_tree_fill(d_ans, ans)` makes it whole).
    compute="..."    how generated code computes the primitive, when that differs
                     from the first line (`_expit(x)` for scipy.special.expit, so
                     generated code needs no SciPy).

A function decorated with `@fusion` (templates/fusions.py) names a chain of
primitives whose derivative has a simpler exact form; codegen.fuse applies it
(options: elementwise, domain, checks). In the chain, arrays are given by position
and options by keyword: `np.max(x, axis=axis, keepdims=True)` matches a step that
gives exactly those options, a literal as written, and a fusion parameter (`axis`)
the same value wherever the chain uses it.

Undecorated functions whose names start with `_` are helpers that rules may call
(keep one beside the rule that needs it; shared ones are in runtime.py); generated
modules get a copy of those they use. A parameter `*xs` takes the remaining
positional arguments as a sequence (`np.einsum(subscripts, *operands)`).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .errors import CodegenError, Located
from .expressions import attribute, canonical, code, imports, qualified, reads, substitute, total
from .signatures import signature_problem

_BUILTINS = {"abs", "len", "max", "min", "sum", "float", "int", "round", "pow"}

# Shapes the checks use when a rule names none: a Python float, a vector, a matrix,
# and for broadcasting primitives the pairs where earlier tools went wrong
# (a scalar with an array, a row with a matrix, a column with a row).
SHAPES = [(), (3,), (2, 3)]
BROADCAST_SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
]


@dataclass(frozen=True)
class Param:
    name: str
    default: cst.BaseExpression | None
    keyword_only: bool


@dataclass(frozen=True, eq=False)
class Rule:
    name: str  # the template function's name, e.g. "truediv"
    key: tuple[str, str]  # ("binary", "/"), ("unary", "-"), ("call", "numpy.exp")
    keys: tuple[tuple[str, str], ...]  # every spelling: key, aliases, methods, attribute
    params: tuple[Param, ...]
    forward: cst.BaseExpression  # right-hand side of `ans = ...`
    compute: cst.BaseExpression | None  # what generated code evaluates, if not `forward`
    requires: cst.BaseExpression | None  # a condition on the arguments, checked statically
    zero_gradient: frozenset[str]  # parameters the result is locally constant in
    variadic: str | None  # the `*xs` parameter, if any
    body: tuple[cst.Assign, ...]  # the adjoint lines, in order
    grads: tuple[str, ...]  # parameters that receive a gradient
    # Forward mode (forward.py): `t_ans` as one expression of the parameters, `ans`
    # and the tangents `t_<param>` (written in the rule, or derived for an
    # elementwise rule from its adjoint lines); None where `linear` says how instead,
    # or where the rule gives no tangent (forward mode then refuses it).
    tangent: cst.BaseExpression | None = None
    linear: str | None = None  # "joint" (linear=True) or "each" (multilinear=True)
    elementwise: bool = False
    reduction: bool = False
    lazy_adjoint: bool = False
    sequences: frozenset[str] = frozenset()  # parameters that take a list of arrays as such
    parts: bool = False  # the result is a list of arrays, read as a tree
    # For a call without a rule, made where the loss calls it (lowering): each
    # parameter's argument as written. It has no derivative, so only data may flow in.
    opaque: Mapping[str, str] | None = None
    domain: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[tuple[str, tuple[Mapping[str, tuple[int, ...]], ...]], ...] = ()
    policy: str | None = None
    imports: tuple[str, ...] = ()  # the rule file's import lines (for its checks)
    doc: str = ""
    path: str = ""
    line: int = 0

    @property
    def arrays(self) -> tuple[str, ...]:
        """The parameters without a default: the values the primitive computes on."""
        return tuple(p.name for p in self.params if p.default is None)

    @property
    def operands(self) -> tuple[str, ...]:
        """The parameters an elementwise result broadcasts over: the arrays, and the
        defaulted parameters that carry a gradient (`loc` and `scale` in
        stats.norm.logpdf(x, loc=0.0, scale=1.0) may be arrays larger than x)."""
        return tuple(p.name for p in self.params if p.default is None or p.name in self.grads)

    @property
    def internal(self) -> bool:
        """A rule for one of codegen's own helpers (`_fill`), which no loss calls:
        code codegen wrote calls it, read back for --mode hvp."""
        return self.key[0] == "statement" and self.compute is None and self.key[1] not in _STATEMENT_SPELLINGS

    @property
    def display(self) -> str:
        """How the primitive is written: `x / y`, `-x`, `np.exp(x)`."""
        return code(self.forward)

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way to write the primitive in a loss: `x + y`, `np.add`, `x.sum()`."""
        out = []
        for kind, name in self.keys:
            if kind == "call":
                out.append(name.replace("numpy.", "np.", 1).replace("builtins.", "", 1))
            elif kind == "method":
                out.append(f"x.{name}()")
            elif kind == "attribute":
                out.append(f"x.{name}")
            elif kind == "subscript":
                out.append("x[index]")
            elif kind == "statement":  # `x[index] = v`, `xs.append(v)`, or `tree[key]` (computed as written)
                out.append(code(self.compute) if self.compute is not None else _STATEMENT_SPELLINGS.get(name, name))
            elif kind == "projection":
                out.append(name.replace("numpy.", "np.", 1).replace("(", "").replace("[", "(x)["))
                if "[" not in name:
                    head, _, attr = out[-1].rpartition(".")
                    out[-1] = f"{head}(x).{attr}"
            elif kind == "unary":
                out.append(f"{name} x" if name.isalpha() else f"{name}x")
            else:
                out.append(f"x {name} y")
        return tuple(out)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True, eq=False)
class Fusion:
    """A chain with a simpler exact derivative (templates/fusions.py, fuse.py)."""

    name: str
    doc: str
    params: tuple[str, ...]
    pattern: object  # fuse.Pattern: the chain, as a tree of rules
    body: tuple[cst.Assign, ...]  # the derivative lines
    grads: tuple[str, ...]
    elementwise: bool
    domain: Mapping[str, str]
    checks: tuple
    imports: tuple[str, ...]
    path: str
    line: int
    keys: tuple = ()
    setup: tuple[str, ...] = ()  # the lines naming values, for the checks
    options: tuple[str, ...] = ()  # parameters that stand for options (an axis), not arrays
    tangent: cst.BaseExpression | None = None  # `t_ans` (as a rule's), for forward mode

    def size(self) -> int:
        def count(p):
            return 1 + sum(count(c) for c in p.children)

        return count(self.pattern)


@dataclass(frozen=True)
class Registry:
    rules: Mapping[tuple[str, str], Rule]
    helpers: Mapping[str, cst.FunctionDef]  # runtime helpers by name
    fusions: tuple[Fusion, ...] = ()  # largest first
    # modules besides NumPy that rule files import (`scipy.special`, `mylib`): their
    # functions appear in generated lines by full name, and the module imports them
    modules: frozenset[str] = frozenset()

    def lookup(self, kind: str, name: str) -> Rule | None:
        return self.rules.get((kind, name))

    def __iter__(self):
        """Each rule once, grouped by file, in the order the files define them."""
        unique = {id(r): r for r in self.rules.values()}.values()
        return iter(sorted(unique, key=lambda r: (Path(r.path).name, r.line)))

    def __len__(self):
        return len({id(r) for r in self.rules.values()})


_OPERATORS = {
    cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/",
    cst.Power: "**", cst.MatrixMultiply: "@", cst.FloorDivide: "//", cst.Modulo: "%",
    cst.BitAnd: "&", cst.BitOr: "|", cst.BitXor: "^",
    cst.LessThan: "<", cst.LessThanEqual: "<=", cst.GreaterThan: ">",
    cst.GreaterThanEqual: ">=", cst.Equal: "==", cst.NotEqual: "!=",
}
_UNARY_OPERATORS = {cst.Minus: "-", cst.Plus: "+", cst.BitInvert: "~", cst.Not: "not"}


def operator_key(node: cst.BaseExpression) -> tuple[str, str] | None:
    """The registry key of an operator, comparison or subscript, or None."""
    if isinstance(node, cst.BinaryOperation):
        symbol = _OPERATORS.get(type(node.operator))
        return None if symbol is None else ("binary", symbol)
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        symbol = _OPERATORS.get(type(node.comparisons[0].operator))
        return None if symbol is None else ("binary", symbol)
    if isinstance(node, cst.UnaryOperation):
        symbol = _UNARY_OPERATORS.get(type(node.operator))
        return None if symbol is None else ("unary", symbol)
    if isinstance(node, cst.Subscript):
        return ("subscript", "[]")
    return None


def projection_key(node: cst.BaseExpression, aliases: Mapping[str, str]) -> tuple[str, str] | None:
    """The key of one part of a function's tuple result: `np.linalg.slogdet(x)[1]` ->
    ("projection", "numpy.linalg.slogdet[1]"), `.logabsdet` -> "...slogdet.logabsdet"."""
    if not isinstance(node, (cst.Subscript, cst.Attribute)) or not isinstance(node.value, cst.Call):
        return None
    function = qualified(node.value.func, aliases)
    if function is None:
        return None
    if isinstance(node, cst.Attribute):
        return ("projection", f"{function}.{node.attr.value}")
    index = node.slice[0].slice if len(node.slice) == 1 else None
    if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
        return ("projection", f"{function}[{index.value.value}]")
    return None


def builtin_dir() -> Path:
    """templates/: inside the installed package (wheel), else at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("codegen is installed without its templates/ directory")


def load(extra_dirs: Iterable[str | Path] = ()) -> Registry:
    """The built-in rules plus those in `extra_dirs` (user rules, same format).

    The built-in rules are parsed once per process; user rules are read afresh on
    every call (they are few, and may have changed), and their signatures are checked
    against NumPy's functions as they load."""
    builtin = _load_builtin()
    extra_dirs = [Path(d) for d in extra_dirs]
    if not extra_dirs:
        return builtin
    rules, helpers, fusions, modules = dict(builtin.rules), dict(builtin.helpers), [], set(builtin.modules)
    for directory in extra_dirs:
        if not directory.is_dir():
            raise CodegenError(f"rules directory {directory} does not exist; give the folder that holds your rule files", str(directory))
        for path in sorted(directory.glob("*.py")):
            _load_file(path, rules, helpers, fusions, check_signatures=True, modules=modules)
    return Registry(rules, helpers, _fusions(list(builtin.fusions) + fusions, rules), frozenset(modules))


@functools.lru_cache(maxsize=1)
def _load_builtin() -> Registry:
    """The built-in rules: parsed once per process, and kept on disk between
    processes (codegen.cache) under the hash of templates/ and codegen/."""
    from .cache import cached

    files = [*builtin_dir().glob("*.py"), *Path(__file__).resolve().parent.glob("*.py")]
    return cached("rules", files, _parse_builtin)


def _parse_builtin() -> Registry:
    rules: dict[tuple[str, str], Rule] = {}
    helpers: dict[str, cst.FunctionDef] = {}
    fusions: list = []
    modules: set[str] = set()
    for path in sorted(builtin_dir().glob("*.py")):
        _load_file(path, rules, helpers, fusions, check_signatures=False, modules=modules)
    _add_math_twins(rules)
    return Registry(rules, helpers, _fusions(fusions, rules), frozenset(modules))


# Python's math functions on a number, and the NumPy function whose rule is theirs.
# A loss may write `math.sin(x)` where x is a number: it is differentiated as np.sin,
# and generated code computes it with math again where every argument is a Python
# number (optimize.MATH), else with NumPy. Where math raises (math.log(0.0),
# math.exp(1000.0)), NumPy gives -inf or inf: the function itself has no value there.
MATH_TWINS = {
    "math.sin": "numpy.sin", "math.cos": "numpy.cos", "math.tan": "numpy.tan", "math.asin": "numpy.arcsin",
    "math.acos": "numpy.arccos", "math.atan": "numpy.arctan", "math.atan2": "numpy.arctan2",
    "math.sinh": "numpy.sinh", "math.cosh": "numpy.cosh", "math.tanh": "numpy.tanh", "math.asinh": "numpy.arcsinh",
    "math.acosh": "numpy.arccosh", "math.atanh": "numpy.arctanh", "math.hypot": "numpy.hypot",
    "math.radians": "numpy.deg2rad", "math.degrees": "numpy.rad2deg", "math.exp": "numpy.exp",
    "math.exp2": "numpy.exp2", "math.expm1": "numpy.expm1", "math.log": "numpy.log", "math.log2": "numpy.log2",
    "math.log10": "numpy.log10", "math.log1p": "numpy.log1p", "math.sqrt": "numpy.sqrt", "math.cbrt": "numpy.cbrt",
    "math.fabs": "numpy.absolute", "math.pow": "numpy.power", "math.copysign": "numpy.copysign",
    "math.fmod": "numpy.fmod", "math.floor": "numpy.floor", "math.ceil": "numpy.ceil", "math.trunc": "numpy.trunc",
}


def _add_math_twins(rules: dict) -> None:
    """Each math function's spelling added to its NumPy twin's rule (MATH_TWINS)."""
    for spelled, twin in MATH_TWINS.items():
        rule = rules.get(("call", twin))
        if rule is None or ("call", spelled) in rules:
            continue
        widened = replace(rule, keys=rule.keys + (("call", spelled),))
        for key in widened.keys:
            rules[key] = widened


def _fusions(pending, rules) -> tuple[Fusion, ...]:
    """Fusions read once every rule is known (their chains are made of rules)."""
    built = [p if isinstance(p, Fusion) else _read_fusion(*p, rules) for p in pending]
    return tuple(sorted(built, key=lambda f: (-f.size(), f.name)))


def _load_file(path: Path, rules: dict, helpers: dict, fusions: list, check_signatures: bool, modules: set | None = None) -> None:
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError as exc:
        raise CodegenError(f"syntax error: {' '.join(exc.message.split())}; fix the rule file", str(path), exc.raw_line, exc.raw_column + 1)
    wrapper = MetadataWrapper(module)
    where = Located(str(path), wrapper.resolve(PositionProvider))
    aliases = imports(wrapper.module)
    if modules is not None:  # each imported name's module, and the modules above it
        for name in aliases.values():
            parts = name.split(".")
            modules.update(".".join(parts[:n]) for n in range(1, len(parts) + 1) if parts[0] not in ("numpy", "builtins"))
    for statement in wrapper.module.body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        if any(_decorator_name(d) == "fusion" for d in statement.decorators):
            fusions.append((statement, aliases, where, _import_lines(wrapper.module), _literals(wrapper.module)))
            continue
        if not any(_decorator_name(d) == "rule" for d in statement.decorators):
            if statement.name.value.startswith("_"):
                if statement.name.value in helpers:
                    raise where.error(statement, f"a second helper named {statement.name.value}; rename one of them")
                helpers[statement.name.value] = canonical(statement, aliases)  # full names, as rule lines
            continue
        rule = _read_rule(statement, aliases, where, _import_lines(wrapper.module), _literals(wrapper.module))
        problem = signature_problem(rule) if check_signatures else None
        if problem:
            raise where.error(statement, f"rule `{rule.name}` does not fit: {problem}")
        for key in rule.keys:
            if key in rules:
                other = rules[key]
                raise where.error(
                    statement,
                    f"a second rule for {key[1]} (the first is {other.path}:{other.line}); keep one of them",
                )
            rules[key] = rule
        compute = rule.compute
        if isinstance(compute, cst.Call) and isinstance(compute.func, cst.Name) and compute.func.value.startswith("_"):
            # `_expit(x)` in code codegen wrote, read back (--mode hvp): this rule.
            rules.setdefault(("internal", compute.func.value), rule)


def _expression_option(options, key, aliases, where, decorator):
    if key not in options:
        return None
    try:
        return canonical(cst.parse_expression(options[key]), aliases)
    except (cst.ParserSyntaxError, TypeError):
        raise where.error(decorator, f"{key}= must be an expression in a string; write it in quotes, as in {key}=\"axis is None\"") from None


def _import_lines(module: cst.Module) -> tuple[str, ...]:
    lines = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(
            statement.body[0], (cst.Import, cst.ImportFrom)
        ):
            lines.append(code(statement.with_changes(leading_lines=())).strip())
    return tuple(lines)


def _read_fusion(fn: cst.FunctionDef, aliases, where: Located, import_lines, literals, rules) -> Fusion:
    from .fuse import Pattern

    decorator = next(d for d in fn.decorators if _decorator_name(d) == "fusion")
    options = _options(decorator, where, literals, allowed={"elementwise", "domain", "checks"})
    params = tuple(p.name.value for p in fn.params.params)
    statements = [s.body[0] for s in fn.body.body if isinstance(s, cst.SimpleStatementLine)]
    doc = fn.get_docstring() or ""
    if doc:
        statements = statements[1:]
    named: dict[str, Pattern] = {}
    used_as_options: set[str] = set()
    at = [fn]  # the statement being read: errors point at it (its value is canonicalized)

    def pattern(expression) -> Pattern:
        if isinstance(expression, cst.Name):
            if expression.value in params:
                return Pattern("leaf", name=expression.value)
            if expression.value in named:
                return named[expression.value]
            raise where.error(at[0], f"`{expression.value}` is neither a parameter nor named above; name it in the chain first")
        if isinstance(expression, (cst.Integer, cst.Float)):
            return Pattern("number", value=float(expression.value))
        key = operator_key(expression)
        children: list = []
        if isinstance(expression, cst.BinaryOperation):
            children = [expression.left, expression.right]
        elif isinstance(expression, cst.UnaryOperation):
            children = [expression.expression]
        elif isinstance(expression, cst.Call):
            name = qualified(expression.func, aliases)
            key = None if name is None else ("call", name)
            children = [a.value for a in expression.args if a.keyword is None]
        rule = rules.get(key) if key else None
        if rule is None:
            raise where.error(at[0], f"a fusion's chain is made of rules; `{code(expression)}` has none")
        options = []
        if isinstance(expression, cst.Call):
            children, options = _pattern_arguments(rule, expression, params, where, at[0])
            used_as_options.update(value for _, kind, value in options if kind == "leaf")
        return Pattern("rule", rule=rule, children=tuple(pattern(c) for c in children), options=tuple(options))

    index = next((i for i, s in enumerate(statements) if isinstance(s, cst.Assign) and s.targets[0].target.value == "ans"), None)
    if index is None:
        raise where.error(fn, "a fusion needs `ans = <the chain>`")
    for statement in statements[:index]:
        name = statement.targets[0].target.value
        at[0] = statement
        found = pattern(canonical(statement.value, aliases))
        named[name] = replace(found, name=name) if found.kind == "rule" else found
    at[0] = statements[index]
    root = pattern(canonical(statements[index].value, aliases))
    lines = [s for s in statements[index + 1 :] if s.targets[0].target.value != "t_ans"]
    written = [s for s in statements[index + 1 :] if s.targets[0].target.value == "t_ans"]
    body = tuple(canonical(s, aliases) for s in lines)
    grads = tuple(s.targets[0].target.value[2:] for s in body if s.targets[0].target.value.startswith("d_"))
    if written:
        tangent = _tangent(canonical(written[0].value, aliases), body, set(params), grads, where, written[0])
    else:
        tangent = _derived_tangent(body, grads) if options.get("elementwise") else None
    setup = tuple(code(s).strip() for s in statements[:index])
    value = code(statements[index].value)
    checks = options.get("checks") or ((value, tuple({p: s for p in params} for s in SHAPES)),)
    return Fusion(
        name=fn.name.value, doc=doc.split("\n")[0], params=params, pattern=root, body=body, grads=grads,
        elementwise=bool(options.get("elementwise")), domain=options.get("domain", {}),
        checks=checks, imports=import_lines, path=where.path, line=where.position(fn)[0],
        keys=(("fusion", fn.name.value),), setup=setup, options=tuple(sorted(used_as_options)),
        tangent=tangent,
    )


def _pattern_arguments(rule: Rule, call: cst.Call, params, where: Located, at: cst.CSTNode):
    """A call in a fusion's chain: its arrays (positional, as the rule takes them) and
    its options, the defaulted arguments it gives by keyword, each (parameter, "leaf"
    or "literal", the fusion parameter's name or the literal's code)."""
    arrays, options = [], []
    for argument in call.args:
        if argument.keyword is None:
            arrays.append(argument.value)
            continue
        keyword = argument.keyword.value
        if keyword not in {p.name for p in rule.params if p.default is not None}:
            raise where.error(at, f"`{keyword}=` is not an option of `{rule.display}`; give arrays by position")
        value = argument.value
        if isinstance(value, cst.Name) and value.value in params:
            options.append((keyword, "leaf", value.value))
        else:
            options.append((keyword, "literal", code(value)))
    if len(arrays) != len(rule.arrays):
        raise where.error(at, f"`{code(call)}` in a fusion gives {len(arrays)} of {len(rule.arrays)} arrays; give all of them by position")
    return arrays, options


def _decorator_name(decorator: cst.Decorator) -> str | None:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return node.value if isinstance(node, cst.Name) else None


def _literals(module: cst.Module) -> dict[str, cst.BaseExpression]:
    """Module-level `NAME = <literal>` assignments, which rule options may name."""
    found = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assign):
            assign = statement.body[0]
            if len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name):
                found[assign.targets[0].target.value] = assign.value
    return found


class _InlineLiterals(cst.CSTTransformer):
    def __init__(self, literals):
        self.literals = literals

    def leave_Name(self, original_node, updated_node):
        value = self.literals.get(original_node.value)
        return updated_node if value is None else value.visit(self)

    def leave_BinaryOperation(self, original_node, updated_node):
        left, right = updated_node.left, updated_node.right
        if isinstance(updated_node.operator, cst.Add) and isinstance(left, cst.List) and isinstance(right, cst.List):
            items = [e.with_changes(comma=cst.Comma()) for e in (*left.elements, *right.elements)]
            return cst.List(items)  # list + list, so checks can extend a shared table
        return updated_node


_RULE_OPTIONS = {
    "elementwise", "reduction", "domain", "checks", "policy", "aliases", "method", "attribute",
    "compute", "requires", "zero_gradient", "lazy_adjoint", "sequences", "linear", "multilinear", "parts",
}


def _options(decorator: cst.Decorator, where: Located, literals, allowed=_RULE_OPTIONS) -> dict:
    node = decorator.decorator
    if not isinstance(node, cst.Call):
        return {}
    options = {}
    for arg in node.args:
        if arg.keyword is None:
            raise where.error(arg, "@rule takes keyword options only; write @rule(name=value, ...)")
        try:
            value = arg.value.visit(_InlineLiterals(literals))
            options[arg.keyword.value] = ast.literal_eval(code(value))
        except (ValueError, SyntaxError, RecursionError):
            raise where.error(arg.value, "@rule options must be literals (or names of module-level literals); write the value itself")
    unknown = set(options) - allowed
    if unknown:
        raise where.error(node, f"unknown option(s): {', '.join(sorted(unknown))}; see the options codegen/rules.py documents")
    return options


def _read_rule(fn: cst.FunctionDef, aliases: Mapping[str, str], where: Located, import_lines, literals) -> Rule:
    decorator = next(d for d in fn.decorators if _decorator_name(d) == "rule")
    options = _options(decorator, where, literals)
    ps = fn.params
    if ps.star_kwarg is not None or ps.posonly_params:
        raise where.error(fn, "a rule takes plain, `*xs` and keyword-only parameters only; remove `/` and `**kwargs`")
    variadic = ps.star_arg.name.value if isinstance(ps.star_arg, cst.Param) else None
    params = tuple(Param(p.name.value, p.default, keyword_only=False) for p in ps.params)
    if variadic:
        params += (Param(variadic, None, keyword_only=False),)
    params += tuple(Param(p.name.value, p.default, keyword_only=True) for p in ps.kwonly_params)
    names = {p.name for p in params}
    for p in params:
        if p.name == "ans" or p.name.startswith(("d_", "t_")):
            raise where.error(
                fn, f"a rule's parameter cannot be named `{p.name}`: `ans`, `d_...` and `t_...` are the names of "
                "its result, adjoints and tangents; rename the parameter",
            )

    statements = list(fn.body.body)
    doc = fn.get_docstring() or ""
    if doc:
        statements = statements[1:]
    assigns: list[cst.Assign] = []
    for statement in statements:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        if (
            not isinstance(small, cst.Assign)
            or len(statement.body) != 1
            or len(small.targets) != 1
            or not isinstance(small.targets[0].target, cst.Name)
        ):
            raise where.error(statement, "a rule's body is one `name = expression` per line; split other statements into such lines")
        assigns.append(small)
    if not assigns or assigns[0].targets[0].target.value != "ans":
        raise where.error(fn, "a rule starts with `ans = <the primitive>`")

    forward = written = assigns[0].value
    key = projection_key(forward, aliases) or operator_key(forward)
    if key is None and isinstance(forward, cst.Call) and isinstance(forward.func, cst.Name) and forward.func.value.startswith("_"):
        # A statement, not an expression (`x[i] = v` is `ans = _setitem(x, i, v)`): the
        # key is the helper's name, which no call in a loss can reach.
        key = ("statement", forward.func.value)
    if key is None and isinstance(forward, cst.Call):
        name = qualified(forward.func, aliases)
        if name is None and isinstance(forward.func, cst.Name) and forward.func.value in _BUILTINS:
            name = "builtins." + forward.func.value
        key = None if name is None else ("call", name)
        if name is not None and not name.startswith("builtins."):
            # Generated code calls it by its full name (np.exp, mylib.softplus).
            forward = forward.with_changes(func=attribute(name))
    if key is None:
        raise where.error(forward, "`ans = ...` must apply an operator or an imported function; write ans = np.f(x) or ans = x + y")

    grads = []
    assigned = set()
    tangent_line = next((a for a in assigns[1:] if a.targets[0].target.value == "t_ans"), None)
    assigns = [a for a in assigns if a is not tangent_line]
    for assign in assigns[1:]:
        target = assign.targets[0].target.value
        if target in assigned or target in names or target in ("ans", "d_ans"):
            raise where.error(assign, f"`{target}` is assigned twice; give the new value its own name")
        assigned.add(target)
        if target.startswith("d_") and target[2:] in names:
            grads.append(target[2:])
        elif target.startswith("d_"):
            raise where.error(assign, f"`{target}`: {fn.name.value}() has no parameter `{target[2:]}`; write d_<parameter> for one of its parameters")
    domain = options.get("domain", {})
    for param in domain:
        if param not in names:
            raise where.error(decorator, f"domain names `{param}`, which is not a parameter; name one of the rule's parameters")
    alias_kind = "projection" if key[0] == "projection" else "call"
    keys = [key] + [(alias_kind, a) for a in options.get("aliases", [])]
    methods = options.get("method", [])
    keys += [("method", m) for m in ([methods] if isinstance(methods, str) else methods)]
    if "attribute" in options:
        keys.append(("attribute", options["attribute"]))
    compute, requires = (_expression_option(options, k, aliases, where, decorator) for k in ("compute", "requires"))
    zero = options.get("zero_gradient", [])
    zero = frozenset(p.name for p in params) if zero is True else frozenset(zero)
    if zero - names:
        raise where.error(decorator, f"zero_gradient names `{sorted(zero - names)[0]}`, not a parameter; name one of the rule's parameters")
    sequences = options.get("sequences", [])
    sequences = frozenset([sequences] if isinstance(sequences, str) else sequences)
    if sequences - names:
        raise where.error(decorator, f"sequences names `{sorted(sequences - names)[0]}`, not a parameter; name one of the rule's parameters")
    body = tuple(canonical(a, aliases) for a in assigns[1:])
    linear = "joint" if options.get("linear") else "each" if options.get("multilinear") else None
    tangent = None
    if tangent_line is not None:
        if linear:
            raise where.error(tangent_line, "a rule marked linear or multilinear derives its tangent; remove `t_ans = ...` or the option")
        tangent = _tangent(canonical(tangent_line.value, aliases), body, names, grads, where, tangent_line)
    elif options.get("elementwise") and not linear:
        tangent = _derived_tangent(body, grads)
    return Rule(
        name=fn.name.value,
        key=key,
        keys=tuple(keys),
        params=params,
        forward=canonical(forward, aliases),
        compute=compute,
        requires=requires,
        zero_gradient=zero,
        variadic=variadic,
        body=body,
        grads=tuple(g for g in (p.name for p in params) if g in grads),
        tangent=tangent,
        linear=linear,
        elementwise=bool(options.get("elementwise", False)),
        reduction=bool(options.get("reduction", False)),
        lazy_adjoint=bool(options.get("lazy_adjoint", False)),
        sequences=sequences,
        parts=bool(options.get("parts", False)),
        domain=domain,
        checks=_checks(options.get("checks"), written, params, options, where, decorator),
        policy=options.get("policy"),
        imports=import_lines,
        doc=doc,
        path=where.path,
        line=where.position(fn)[0],
    )


def _inlined(expression: cst.BaseExpression, body, keep=()) -> cst.BaseExpression:
    """`expression` with the rule's local values (its lines that are not `d_` lines)
    written in, latest first, so it reads only parameters, `ans` and `d_ans`/`t_`s."""
    for assign in reversed(body):
        name = assign.targets[0].target.value
        if not name.startswith("d_") and name not in keep and name in reads(expression):
            expression = substitute(expression, {name: assign.value}, parens=True)
    return expression


def _tangent(expression, body, names, grads, where, at) -> cst.BaseExpression:
    """A written `t_ans = ...`: locals inlined; it may read the tangents of the
    parameters that have `d_` lines only."""
    expression = _inlined(expression, body)
    if "d_ans" in reads(expression):
        raise where.error(at, "`t_ans` reads `d_ans` (through a local value); forward mode has no adjoint: write the tangent from `t_<param>`s")
    for name in sorted(reads(expression)):
        if name.startswith("t_") and name[2:] not in grads:
            raise where.error(at, f"`t_ans` reads `{name}`, but `{name[2:]}` has no `d_` line; a tangent is read only for a parameter with a gradient")
    return expression


def _derived_tangent(body, grads) -> cst.BaseExpression | None:
    """An elementwise rule's tangent from its adjoint lines: each `d_x` is `d_ans`
    times the local partial, elementwise, so the tangent is the sum over x of that
    line with `d_ans` read as `t_x`."""
    lines = {a.targets[0].target.value: a.value for a in body}
    terms = []
    for param in grads:
        term = substitute(_inlined(lines[f"d_{param}"], body), {"d_ans": cst.Name(f"t_{param}")}, parens=True)
        terms.append(term)
    return total(terms)


def _checks(given, forward, params, options, where, decorator):
    """The rule's check cases as (call source, ({param: shape}, ...)) pairs."""
    if given is not None:
        try:
            return tuple(
                (str(call), tuple(dict(s) for s in shapes), *(tuple(str(w) for w in wrt) for wrt in rest[:1]))
                for call, shapes, *rest in given
            )
        except (TypeError, ValueError):
            raise where.error(decorator, 'checks are [("call", [{"param": shape}, ...]) or ("call", [...], ["wrt", ...]), ...]; write them in that form')
    arrays = [p.name for p in params if p.default is None]
    call = code(forward)
    if len(arrays) == 1:
        return ((call, tuple({arrays[0]: s} for s in SHAPES)),)
    if len(arrays) == 2 and options.get("elementwise"):
        return ((call, tuple(dict(zip(arrays, pair)) for pair in BROADCAST_SHAPES)),)
    return ((call, tuple({a: s for a in arrays} for s in SHAPES)),)


# How the statement-kind primitives are written in a loss.
_STATEMENT_SPELLINGS = {"_setitem": "x[index] = v", "_append": "xs.append(v)", "_rows": "f(xs), xs built with append"}
