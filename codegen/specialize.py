"""A body for Python numbers: unannotated scalar code, called with floats, as fast as
annotated code.

A parameter annotated `float` is a Python number to codegen: its steps call `math`
instead of NumPy (`math.cos` on a float is several times faster than `np.cos`) and
its adjoints need no array helpers (`_unbroadcast`, `_fill`). Most people do not
annotate. So for a function with a loop (where that cost is paid once per step),
codegen also generates the reverse sweep as if every unannotated parameter were
annotated (`float`, or `int` where its default is an integer), and the public
function, at entry, hands its arguments to that body when they are exactly such
Python numbers:

    def value_and_grad_loss(x, a, steps=1000):
        if type(x) is float and type(a) is float and type(steps) is int:
            return _value_and_grad_loss_numbers(x, a, steps)
        ...

Any other argument (an array, a NumPy float64, a tensor) takes the general body,
unchanged. The numbers body is left out where it would be the general body again,
where generating it fails (a parameter used as a tree is not a number), where a
`wrt` parameter is plainly an array (indexed, iterated, `len`, `@`, an attribute
such as `.shape`: a number body could never run), and for functions without a
loop (one call costs microseconds either way). Other parameters used so are left
out of the test and stay as they are in the numbers body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from .parse import Parsed

NUMBERS_SUFFIX = "_numbers"


@dataclass(frozen=True)
class Numbers:
    """The parameters the numbers body takes as Python numbers, with their types, and
    the function with those annotations written in."""

    kinds: tuple[tuple[str, str], ...]  # (parameter, "float" or "int"), in signature order
    parsed: Parsed


def numbers(parsed: Parsed, wrt) -> Numbers | None:
    """The numbers variant of the parsed function, or None where there is none to
    make: no loop, a wrt parameter used as an array, or no unannotated parameter
    that may be a number."""
    fn = parsed.function
    if fn is None or not _has_loop(fn.body):
        return None
    names = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
    if names & _TEST_NAMES:  # a parameter named `type` would hide the builtin the test at entry calls
        return None
    arrays = _used_as_arrays(fn)
    if arrays & set(wrt):
        return None
    kinds = []
    params = fn.params

    def annotate(param: cst.Param) -> cst.Param:
        if param.annotation is not None or param.name.value in arrays:
            return param
        kind = _kind(param.default)
        if kind is None:
            return param
        kinds.append((param.name.value, kind))
        return param.with_changes(annotation=cst.Annotation(cst.Name(kind)))

    annotated = params.with_changes(
        posonly_params=[annotate(p) for p in params.posonly_params],
        params=[annotate(p) for p in params.params],
        kwonly_params=[annotate(p) for p in params.kwonly_params],
    )
    if not kinds:
        return None
    return Numbers(tuple(kinds), replace(parsed, function=fn.with_changes(params=annotated)))


def dispatch(numbers: Numbers, name: str, signature: cst.Parameters) -> list[str]:
    """The lines at the top of the public function that call the numbers body."""
    test = " and ".join(f"type({p}) is {kind}" for p, kind in numbers.kinds)
    positional = [p.name.value for p in (*signature.posonly_params, *signature.params)]
    keywords = [f"{p.name.value}={p.name.value}" for p in signature.kwonly_params]
    return [
        "    # Python numbers: the same steps on floats, with `math` and no array helpers",
        f"    if {test}:",
        f"        return _{name}{NUMBERS_SUFFIX}({', '.join(positional + keywords)})",
    ]


def doc(numbers: Numbers, name: str) -> str:
    """The numbers body's docstring."""
    groups: dict[str, list[str]] = {}
    for p, kind in numbers.kinds:
        groups.setdefault(kind, []).append(p)
    said = []
    for kind, names in groups.items():
        article = "an" if kind == "int" else "a"
        said.append(f"{names[0]} {article} {kind}" if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]} {kind}s")
    return f"`{name}` for Python numbers: {'; '.join(said)}."


def _kind(default) -> str | None:
    """`float` or `int` for a parameter with no default or a number for one."""
    if default is None:
        return "float"
    while isinstance(default, cst.UnaryOperation) and isinstance(default.operator, (cst.Minus, cst.Plus)):
        default = default.expression
    if isinstance(default, cst.Integer):
        return "int"
    if isinstance(default, cst.Float):
        return "float"
    return None


_TEST_NAMES = frozenset({"type", "float", "int"})  # the builtins the test at entry reads
_SEQUENCE_CALLS = frozenset({"len", "zip", "enumerate", "iter", "reversed", "sorted", "list", "tuple"})


def _used_as_arrays(fn: cst.FunctionDef) -> set[str]:
    """The parameters the function plainly uses as arrays or sequences: indexed,
    iterated over, given to len/zip/enumerate, an operand of `@`, or with an
    attribute read (`X.shape`, `X.T`, `X.sum()`)."""
    params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
    found: set[str] = set()

    def note(node):
        if isinstance(node, cst.Name) and node.value in params:
            found.add(node.value)

    class Finder(cst.CSTVisitor):
        def visit_Subscript(self, node):
            note(node.value)

        def visit_Attribute(self, node):
            note(node.value)

        def visit_For(self, node):
            note(node.iter)

        def visit_CompFor(self, node):
            note(node.iter)

        def visit_BinaryOperation(self, node):
            if isinstance(node.operator, cst.MatrixMultiply):
                note(node.left)
                note(node.right)

        def visit_Call(self, node):
            if isinstance(node.func, cst.Name) and node.func.value in _SEQUENCE_CALLS:
                for arg in node.args:
                    note(arg.value)

    fn.body.visit(Finder())
    return found


def _has_loop(node: cst.CSTNode) -> bool:
    found = []

    class Finder(cst.CSTVisitor):
        def visit_For(self, _):
            found.append(True)

        def visit_While(self, _):
            found.append(True)

        def visit_FunctionDef(self, _):
            return False

    for statement in node.body:
        statement.visit(Finder())
        if found:
            return True
    return False
