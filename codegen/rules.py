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

Decorator options (literals only):
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
                     ("np.sum(x, axis=1)", [{"x": (2, 3)}, {"x": (2, 3, 4)}]);
                     by default the forward line on scalar, vector, matrix and, for
                     binary elementwise rules, broadcast shapes.
    policy="..."     the subgradient chosen at a kink, printed beside its use.

Functions in `runtime.py` of a rule directory are helpers that rules may call;
generated modules get a copy of those they use.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .errors import CodegenError, Located
from .expressions import canonical, code, imports, qualified

RUNTIME_FILE = "runtime.py"

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
    params: tuple[Param, ...]
    forward: cst.BaseExpression  # right-hand side of `ans = ...`
    body: tuple[cst.Assign, ...]  # the adjoint lines, in order
    grads: tuple[str, ...]  # parameters that receive a gradient
    elementwise: bool = False
    reduction: bool = False
    domain: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[tuple[str, tuple[Mapping[str, tuple[int, ...]], ...]], ...] = ()
    policy: str | None = None
    doc: str = ""
    path: str = ""
    line: int = 0

    @property
    def arrays(self) -> tuple[str, ...]:
        """The parameters without a default: the values the primitive computes on."""
        return tuple(p.name for p in self.params if p.default is None)

    @property
    def display(self) -> str:
        """How the primitive is written: `x / y`, `-x`, `np.exp(x)`."""
        return code(self.forward)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class Registry:
    rules: Mapping[tuple[str, str], Rule]
    helpers: Mapping[str, cst.FunctionDef]  # runtime helpers by name

    def lookup(self, kind: str, name: str) -> Rule | None:
        return self.rules.get((kind, name))

    def __iter__(self):
        return iter(sorted(self.rules.values(), key=lambda r: (r.key[0], r.key[1])))

    def __len__(self):
        return len(self.rules)


_OPERATORS = {
    cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/",
    cst.Power: "**", cst.MatrixMultiply: "@", cst.FloorDivide: "//", cst.Modulo: "%",
}
_UNARY_OPERATORS = {cst.Minus: "-", cst.Plus: "+"}


def operator_key(node: cst.BaseExpression) -> tuple[str, str] | None:
    """The registry key of an operator expression, or None if it is not one."""
    if isinstance(node, cst.BinaryOperation):
        symbol = _OPERATORS.get(type(node.operator))
        return None if symbol is None else ("binary", symbol)
    if isinstance(node, cst.UnaryOperation):
        symbol = _UNARY_OPERATORS.get(type(node.operator))
        return None if symbol is None else ("unary", symbol)
    return None


def builtin_dir() -> Path:
    """templates/: inside the installed package (wheel), else at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("codegen is installed without its templates/ directory")


def load(extra_dirs: Iterable[str | Path] = ()) -> Registry:
    """The built-in rules plus those in `extra_dirs` (user rules, same format)."""
    return _load(tuple(str(d) for d in extra_dirs))


@functools.lru_cache(maxsize=8)
def _load(extra_dirs: tuple[str, ...]) -> Registry:
    rules: dict[tuple[str, str], Rule] = {}
    helpers: dict[str, cst.FunctionDef] = {}
    for directory in (builtin_dir(), *map(Path, extra_dirs)):
        if not directory.is_dir():
            raise CodegenError(f"rules directory {directory} does not exist", str(directory))
        for path in sorted(directory.glob("*.py")):
            _load_file(path, rules, helpers)
    return Registry(rules=rules, helpers=helpers)


def _load_file(path: Path, rules: dict, helpers: dict) -> None:
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError as exc:
        raise CodegenError(f"syntax error: {exc.message}", str(path), exc.raw_line, exc.raw_column + 1)
    wrapper = MetadataWrapper(module)
    where = Located(str(path), wrapper.resolve(PositionProvider))
    aliases = imports(wrapper.module)
    for statement in wrapper.module.body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        if path.name == RUNTIME_FILE:
            helpers[statement.name.value] = statement
            continue
        if not any(_decorator_name(d) == "rule" for d in statement.decorators):
            continue
        rule = _read_rule(statement, aliases, where)
        if rule.key in rules:
            other = rules[rule.key]
            raise where.error(
                statement,
                f"a second rule for {rule.display} (the first is {other.path}:{other.line})",
            )
        rules[rule.key] = rule


def _decorator_name(decorator: cst.Decorator) -> str | None:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return node.value if isinstance(node, cst.Name) else None


def _options(decorator: cst.Decorator, where: Located) -> dict:
    node = decorator.decorator
    if not isinstance(node, cst.Call):
        return {}
    options = {}
    for arg in node.args:
        if arg.keyword is None:
            raise where.error(arg, "@rule takes keyword options only")
        try:
            options[arg.keyword.value] = ast.literal_eval(code(arg.value))
        except (ValueError, SyntaxError):
            raise where.error(arg.value, "@rule options must be literals")
    unknown = set(options) - {"elementwise", "reduction", "domain", "checks", "policy"}
    if unknown:
        raise where.error(node, f"unknown @rule option(s): {', '.join(sorted(unknown))}")
    return options


def _read_rule(fn: cst.FunctionDef, aliases: Mapping[str, str], where: Located) -> Rule:
    decorator = next(d for d in fn.decorators if _decorator_name(d) == "rule")
    options = _options(decorator, where)
    ps = fn.params
    if isinstance(ps.star_arg, cst.Param) or ps.star_kwarg is not None or ps.posonly_params:
        raise where.error(fn, "a rule takes plain and keyword-only parameters only")
    params = tuple(
        Param(p.name.value, p.default, keyword_only=kw)
        for kw, group in ((False, ps.params), (True, ps.kwonly_params))
        for p in group
    )
    names = {p.name for p in params}

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
            raise where.error(statement, "a rule's body is one `name = expression` per line")
        assigns.append(small)
    if not assigns or assigns[0].targets[0].target.value != "ans":
        raise where.error(fn, "a rule starts with `ans = <the primitive>`")

    forward = assigns[0].value
    key = operator_key(forward)
    if key is None and isinstance(forward, cst.Call):
        name = qualified(forward.func, aliases)
        key = None if name is None else ("call", name)
    if key is None:
        raise where.error(forward, "`ans = ...` must apply an operator or an imported function")

    grads = []
    assigned = set()
    for assign in assigns[1:]:
        target = assign.targets[0].target.value
        if target in assigned or target in names or target in ("ans", "d_ans"):
            raise where.error(assign, f"`{target}` is assigned twice; give the new value its own name")
        assigned.add(target)
        if target.startswith("d_") and target[2:] in names:
            grads.append(target[2:])
        elif target.startswith("d_"):
            raise where.error(assign, f"`{target}`: {fn.name.value}() has no parameter `{target[2:]}`")
    domain = options.get("domain", {})
    for param in domain:
        if param not in names:
            raise where.error(decorator, f"domain names `{param}`, which is not a parameter")
    return Rule(
        name=fn.name.value,
        key=key,
        params=params,
        forward=canonical(forward, aliases),
        body=tuple(canonical(a, aliases) for a in assigns[1:]),
        grads=tuple(g for g in (p.name for p in params) if g in grads),
        elementwise=bool(options.get("elementwise", False)),
        reduction=bool(options.get("reduction", False)),
        domain=domain,
        checks=_checks(options.get("checks"), forward, params, options, where, decorator),
        policy=options.get("policy"),
        doc=doc,
        path=where.path,
        line=where.position(fn)[0],
    )


def _checks(given, forward, params, options, where, decorator):
    """The rule's check cases as (call source, ({param: shape}, ...)) pairs."""
    if given is not None:
        try:
            return tuple((str(call), tuple(dict(s) for s in shapes)) for call, shapes in given)
        except (TypeError, ValueError):
            raise where.error(decorator, 'checks are [("call", [{"param": shape}, ...]), ...]')
    arrays = [p.name for p in params if p.default is None]
    call = code(forward)
    if len(arrays) == 1:
        return ((call, tuple({arrays[0]: s} for s in SHAPES)),)
    if len(arrays) == 2 and options.get("elementwise"):
        return ((call, tuple(dict(zip(arrays, pair)) for pair in BROADCAST_SHAPES)),)
    return ((call, tuple({a: s for a in arrays} for s in SHAPES)),)
