"""Stage 5: make the sweeps as short as a careful person would write them.

- `simplify`: exact algebra on each expression (`a * 1`, `x ** 1`, `2 - 1`, `--a`,
  `a + -b`), so rules can be written generally and still read well when specialised;
- copies `d_a = d_b` are propagated within straight runs of lines (rebinding never
  mutates, so this is safe) unless `d_a` is a returned gradient;
- tapes: each pop restores only the values the reverse sweep reads after it, and
  the matching pushes save only those;
- dead lines are dropped, separately for `value_and_grad_<f>` (which needs the value)
  and `grad_<f>` (which does not: the logistic loss needs no `log` for its gradient);
- temporaries read once are folded into their reader, and an adjoint's contributions
  summed in one line (same operations, same order: same bits);
- memory: arrays are deleted after their last use, and forward arrays the reverse
  sweep reads only the shapes of are swapped for stand-ins before it starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import libcst as cst

from .differentiate import Gradient
from .expressions import code, literal_value, parenthesize, reads, substitute, transform
from .program import Block, Jump, Line, Node, Pop, Push, Release, line, map_lines, node_reads, node_writes, walk


@dataclass(frozen=True)
class Body:
    """One generated function: forward nodes, reverse nodes, what it returns."""

    forward: tuple[Node, ...]
    reverse: tuple[Node, ...]
    returns: cst.BaseExpression


def optimize(gradient: Gradient) -> tuple[Body, Body]:
    """(value_and_grad body, grad body)."""
    forward = map_lines(gradient.forward, lambda n: replace(n, value=simplify(n.value)))
    reverse = map_lines(gradient.reverse, lambda n: replace(n, value=simplify(n.value)))
    arrays = frozenset(p.name for p in gradient.function.params if not p.scalar)
    forward, reverse = _scalar_math(forward, reverse, gradient.scalars, arrays)
    grads = gradient.grads[0] if len(gradient.grads) == 1 else _tuple(gradient.grads, parens=False)
    nodes, aliases = _propagate_copies(forward + (_SWEEP,) + reverse, gradient.keep)
    grads = substitute(grads, aliases)
    value = substitute(returned_value(gradient), aliases)
    forward, reverse = _split(nodes)
    reverse, seeds = _unit_seeds(forward, reverse)
    reverse = _sums_of_products(reverse, seeds)

    reverse = _index_adds_in_place(forward + reverse, reverse, reads(grads) | reads(value))
    reverse = _tree_adds_in_place(forward + reverse, reverse)

    # Which values ride on each tape: what the reverse sweep reads after the pop.
    reverse, _ = _live(reverse, reads(grads) | reads(value), {})
    saved, shapes = _tape_contents(_without_pop_only(reverse), _written_into(forward))
    reverse = _fill_tapes(reverse, saved, shapes)
    forward = _fill_tapes(forward, saved, shapes)

    if isinstance(grads, cst.Tuple):
        both = _tuple([value, grads.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])], parens=False)
    else:
        both = _tuple([value, grads], parens=False)
    bodies = []
    params = {p.name for p in gradient.function.params}
    writes: dict[str, int] = {}
    for node in walk(forward + reverse):
        for name in node_writes(node):
            writes[name] = writes.get(name, 0) + 1
    # Slices of parameters never rebound are views: they cost no memory to keep, and
    # a stand-in for one would free nothing.
    constant = {p for p in params if p not in writes}
    # So are the items of a parameter tree (`params["W1"]`), and their items in turn.
    views: set[str] = set()
    while True:
        found = {
            n.target
            for n in forward
            if isinstance(n, Line) and n.target and writes.get(n.target) == 1 and _is_slice_of(n.value, constant | views)
        }
        if found <= views:
            break
        views |= found
    forward, reverse = _recompute_cheap(forward, reverse, frozenset(constant | views), writes, gradient.invented & gradient.arrays)
    for returns in (both, grads):
        kept, _ = _live(forward + (_SWEEP,) + reverse, reads(returns), {})
        kept = _fold(kept, gradient.invented - reads(returns))
        joined = _short_circuits(kept)
        if joined != kept:  # the test of an `and` may fold into it now
            kept = _fold(joined, gradient.invented - reads(returns))
        kept = _runs(kept, _merge_sums)
        counts = _read_counts(kept)
        kept = _runs(kept, lambda run: _inline_copies(run, gradient.keep | reads(returns), counts))
        kept_forward, kept_reverse = _split(kept)
        kept = kept_forward + (_SWEEP,) + map_lines(kept_reverse, lambda n: replace(n, value=factor(n.value)))
        kept = _shape_stand_ins(kept, reads(returns), gradient.arrays - params - views)
        kept = _release(kept, reads(returns), gradient.arrays - params)
        kept_forward, kept_reverse = _split(kept)
        bodies.append(Body(forward=kept_forward, reverse=kept_reverse, returns=returns))
    return bodies[0], bodies[1]


def optimize_forward(tangent, tangent_only: bool = False) -> Body:
    """The body of `jvp_<f>` (forward.py's sweep), simplified as the reverse mode's
    forward sweep is: trivial products, math for Python numbers, copies read
    through, nothing computed that the value and its tangent do not need.

    `tangent_only`: the body of a function that returns the tangent alone, to be
    read back by codegen (--mode hvp): NumPy calls stay NumPy's, and no `del`."""
    nodes = map_lines(tangent.body, lambda n: replace(n, value=simplify(n.value)))
    arrays = frozenset(p.name for p in tangent.function.params if not p.scalar)
    scalars = tangent.scalars
    if not tangent_only:
        nodes, _ = _scalar_math(nodes, (), scalars, arrays | frozenset(tangent.tangents))
    returns = tangent.tangent if tangent_only else jvp_returned(tangent)
    # The tangent of a value the user named stays a line of its own, even where it
    # is a copy (`t_xi3 = t_xi2` for `xi3 = 1 + xi2`): a row of the lecture's table.
    named = frozenset(n.target for n in walk(nodes) if isinstance(n, Line) and n.target
                      and n.target.startswith("t_") and n.target not in tangent.invented)
    nodes, aliases = _propagate_copies(nodes, tangent.keep | named)
    returns = substitute(returns, aliases)
    kept, _ = _live(nodes, reads(returns), {})
    kept = _fold(kept, tangent.invented - reads(returns))
    kept = _runs(kept, _merge_sums)
    kept = _runs(kept, _common_subexpressions)
    kept = map_lines(kept, lambda n: replace(n, value=simplify(fold_numbers(n.value))) if n.target in tangent.lines else n)
    counts = _read_counts(kept)
    kept = _runs(kept, lambda run: _inline_copies(run, tangent.keep | named | reads(returns), counts))
    if not tangent_only:
        kept = _release(kept, reads(returns), tangent.arrays - arrays)
    return Body(forward=kept, reverse=(), returns=returns)


def jvp_returned(tangent) -> cst.BaseExpression:
    """What `jvp_<f>` returns: `(value, tangent)`, or with auxiliary values, as
    `jax.jvp(..., has_aux=True)` does, `(value, tangent, aux)`."""
    items = [tangent.value, tangent.tangent]
    if tangent.aux is not None:
        items.append(tangent.aux[0] if len(tangent.aux) == 1 else _tuple(tangent.aux, parens=True))
    return _tuple(items, parens=False)


def returned_value(gradient: Gradient) -> cst.BaseExpression:
    """What `value_and_grad_<f>` returns beside the gradients: the value, or, for
    `return loss, aux...`, `(value, aux)` with the one auxiliary value as it is, or
    several as a tuple (JAX's `has_aux` convention)."""
    if gradient.aux is None:
        return gradient.value
    aux = gradient.aux[0] if len(gradient.aux) == 1 else _tuple(gradient.aux, parens=True)
    return _tuple([gradient.value, aux], parens=True)


_SWEEP = Jump("reverse sweep")  # marks where the reverse sweep starts; never emitted


def _split(nodes) -> tuple[tuple, tuple]:
    index = next(i for i, n in enumerate(nodes) if n is _SWEEP)
    return tuple(nodes[:index]), tuple(nodes[index + 1 :])


def _tuple(items, parens: bool) -> cst.Tuple:
    brackets = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]} if parens else {"lpar": [], "rpar": []}
    return cst.Tuple([cst.Element(i) for i in items], **brackets)


# -- algebra ------------------------------------------------------------------------------


def _number(node: cst.BaseExpression):
    """The value of a numeric literal (possibly negated), else None."""
    sign = 1
    while isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        if isinstance(node.operator, cst.Minus):
            sign = -sign
        node = node.expression
    if isinstance(node, (cst.Integer, cst.Float)):
        return sign * literal_value(node.value)
    return None


def _literal(value) -> cst.BaseExpression:
    text = repr(abs(value))
    node = cst.Integer(text) if isinstance(value, int) else cst.Float(text)
    return cst.UnaryOperation(cst.Minus(), node) if value < 0 else node


_FOLD = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.Power: lambda a, b: a**b,
}


def _negated_product(node) -> bool:
    """`(-b) * c` or `(-b) / c`."""
    return (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, (cst.Multiply, cst.Divide))
        and isinstance(node.left, cst.UnaryOperation)
        and isinstance(node.left.operator, cst.Minus)
    )


def _negate(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return node.expression
    return cst.UnaryOperation(cst.Minus(), node)


def _simplified(node):
    """One node, its children already simplified, rewritten by exact identities.
    Every parenthesis is dropped on the way (`parenthesize` then puts back exactly the
    ones printing needs). Exact means the same bits, but for one thing: `a + 0 -> a`
    keeps a -0.0 that the sum would make +0.0 (tests/test_optimize.py checks each
    rewrite on random and special values)."""
    if getattr(node, "lpar", None) and not isinstance(node, (cst.Tuple, cst.GeneratorExp)):
        node = node.with_changes(lpar=[], rpar=[])
    kind = type(node)
    if kind is cst.UnaryOperation:
        return _simplified_unary(node)
    if kind is cst.BinaryOperation:
        return _simplified_binary(node)
    return node


def _simplified_unary(node):
    if isinstance(node.operator, cst.Plus):
        return node.expression
    if isinstance(node.operator, cst.Minus):
        inner = node.expression
        if isinstance(inner, cst.UnaryOperation) and isinstance(inner.operator, cst.Minus):
            return inner.expression.with_changes(lpar=[], rpar=[])
        if _negated_product(inner):  # -((-b) * c) == b * c exactly
            return inner.with_changes(left=inner.left.expression, lpar=[], rpar=[])
    return node


def _huge_power(op, a, b) -> bool:
    """`10 ** 10 ** 10`: an integer power whose value has more than 64 bits is left
    as written (computing it would take minutes and gigabytes, and it is not folded
    anyway: only values below 2**53 are)."""
    if op is not cst.Power or not isinstance(a, int) or not isinstance(b, int) or abs(a) < 2:
        return False
    return b * math.log2(abs(a)) > 64


def _simplified_binary(node):
    op = type(node.operator)
    left, right = node.left, node.right
    a, b = _number(left), _number(right)
    if a is not None and b is not None and op in _FOLD and not _huge_power(op, a, b):
        try:
            value = _FOLD[op](a, b)
        except (ZeroDivisionError, OverflowError, ValueError):
            value = None
        if isinstance(value, (int, float)) and abs(value) < 2**53 and math.isfinite(value):
            return _literal(value)
    if op is cst.Multiply:
        if b == 1:
            return left
        if a == 1:
            return right
        if b == -1:
            return _negate(left)
        if a == -1:
            return _negate(right)
    if op in (cst.Divide, cst.Power) and b == 1:
        return left
    if op in (cst.Add, cst.Subtract) and _negated_product(right):
        # a + (-b) * c == a - b * c exactly (negation is exact).
        flipped = cst.Subtract() if op is cst.Add else cst.Add()
        return node.with_changes(operator=flipped, right=right.with_changes(left=right.left.expression))
    if op in (cst.Add, cst.Subtract) and b == 0:
        return left
    if op is cst.Add and a == 0:
        return right
    if op in (cst.Add, cst.Subtract) and isinstance(right, cst.UnaryOperation) and isinstance(
        right.operator, cst.Minus
    ):
        flipped = cst.Subtract() if op is cst.Add else cst.Add()
        return node.with_changes(operator=flipped, right=right.expression)
    return node


def simplify(node: cst.BaseExpression) -> cst.BaseExpression:
    """`node` rewritten by exact algebraic identities, parenthesised for printing."""
    return parenthesize(transform(node, _simplified))


# -- scalars ------------------------------------------------------------------------------

# NumPy functions with a `math` twin that returns the same value (within 1 ulp) and,
# like NumPy, never raises on a finite float. (math.exp, log and sqrt raise where
# NumPy returns inf or nan, so they stay NumPy.)
MATH = {
    "np.sin": "math.sin", "np.cos": "math.cos", "np.tan": "math.tan", "np.tanh": "math.tanh",
    "np.arctan": "math.atan", "np.arctan2": "math.atan2", "np.hypot": "math.hypot",
    "np.arcsinh": "math.asinh",
}
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Power)


def _scalar_math(forward, reverse, scalars: frozenset[str], params: frozenset[str] = frozenset()):
    """Where every argument is a Python number, call `math` instead of NumPy: on a
    float, `math.cos` is several times faster than `np.cos`, and it returns a float,
    so the arithmetic around it stays in Python floats too.

    A name is a Python number if every value it can hold is computed from Python
    numbers (parameters annotated `float`/`int`, literals, arithmetic, `math`).
    `params` are the other parameters: a name that starts as one of them may hold
    an array, however it is reassigned (a loop's `w = 0.2 * w + np.sin(w)` must
    stay NumPy)."""
    nodes = forward + reverse
    unknown = cst.Ellipsis()  # a value that is not a number
    definitions: dict[str, list] = {name: [unknown] for name in params - scalars}
    for node in walk(nodes):
        if isinstance(node, Line) and node.target:
            definitions.setdefault(node.target, []).append(node.value)
        elif isinstance(node, Line):  # `a, b = ...`: not followed into
            for name in node.targets:
                definitions.setdefault(name, []).append(unknown)
        elif isinstance(node, Block) and node.target:
            definitions.setdefault(node.target, []).append(cst.Integer("0"))  # range indices
    numbers = set(scalars) | set(definitions)
    while True:  # drop names with a definition that is not a number, until none is left
        dropped = {n for n, values in definitions.items() if n in numbers and not all(_is_number(v, numbers) for v in values)}
        if not dropped:
            break
        numbers -= dropped
    # A copy: a set keeps its table when emptied, and iterating over what is left
    # (as `&` may) walked every slot of it, for every line.
    numbers = frozenset(numbers)

    def swap(node: Line):
        if not (node.reads & numbers):
            return node
        return replace(node, value=transform(node.value, lambda n: _math_call(n, numbers)))

    return map_lines(forward, swap), map_lines(reverse, swap)


def _is_number(node, numbers) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Name):
        return node.value in numbers
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        return _is_number(node.expression, numbers)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, _ARITHMETIC):
        return _is_number(node.left, numbers) and _is_number(node.right, numbers)
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        return (name in MATH or (name or "").startswith("math.")) and all(
            a.keyword is None and _is_number(a.value, numbers) for a in node.args
        )
    return False


def dotted_name(node):
    from .expressions import dotted

    return dotted(node)


def _math_call(node, numbers):
    """`np.cos(a)` -> `math.cos(a)` when every argument is a Python number."""
    if type(node) is cst.Call:
        name = dotted_name(node.func)
        if name in MATH and _is_number(node, numbers):
            return node.with_changes(func=cst.parse_expression(MATH[name]))
    return node


# -- copies ------------------------------------------------------------------------------


# -- the unit seed and sums of products ----------------------------------------------------

# Calls whose result is a float for any real argument, and calls whose result has the
# kind of their first argument (an int array summed is an int; a float one, a float).
_FLOAT_CALLS = frozenset(
    "np." + n for n in (
        "exp expm1 exp2 log log1p log2 log10 logaddexp sqrt cbrt sin cos tan arcsin arccos arctan arctan2 "
        "sinh cosh tanh arcsinh arccosh arctanh hypot mean average std var zeros ones true_divide"
    ).split()
) | frozenset({"_index_adjoint", "_index_add", "_zero_gradient"})
_FIRST_ARGUMENT_KIND = frozenset(
    "np." + n for n in (
        "sum max min amax amin negative positive abs absolute reshape swapaxes transpose moveaxis "
        "broadcast_to expand_dims squeeze ravel cumsum"
    ).split()
) | frozenset({"_unbroadcast", "_fill", "_expand", "_matmul_dx", "_matmul_dy", "_tanh_slope"})


def _floats(nodes) -> frozenset[str]:
    """The names that hold floats (Python floats, or arrays of a float dtype)
    wherever they are read: every value assigned to them is one (`_is_float`).
    Parameters are not known to be floats; a name assigned from one may not be."""
    unknown = cst.Ellipsis()
    definitions: dict[str, list] = {}
    for node in walk(nodes):
        if isinstance(node, Line) and node.target:
            definitions.setdefault(node.target, []).append(node.value)
        else:
            for name in node_writes(node):
                definitions.setdefault(name, []).append(unknown)
    floats = set(definitions)
    while True:  # drop names with a value that is not known to be a float, until none is left
        dropped = {n for n in floats if not all(_is_float(v, floats) for v in definitions[n])}
        if not dropped:
            return frozenset(floats)
        floats -= dropped


def _is_float(node, floats) -> bool:
    """Whether the expression's value is a float by NumPy's (and Python's) promotion:
    a float literal; a name in `floats`; a true division; `+ - * ** // % @` with a
    float operand; a call of a float-valued function, or of one that keeps its first
    argument's kind on a float; a subscript of a float array."""
    if isinstance(node, cst.Float):
        return True
    if isinstance(node, cst.Name):
        return node.value in floats
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        return _is_float(node.expression, floats)
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Divide):
            return True
        if isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Power, cst.FloorDivide, cst.Modulo,
                                      cst.MatrixMultiply)):
            return _is_float(node.left, floats) or _is_float(node.right, floats)
        return False
    if isinstance(node, cst.Subscript):
        return _is_float(node.value, floats)
    if isinstance(node, cst.IfExp):
        return _is_float(node.body, floats) and _is_float(node.orelse, floats)
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        if name in _FLOAT_CALLS or (name or "").startswith("math."):
            return True
        if name in _FIRST_ARGUMENT_KIND and node.args and node.args[0].keyword is None and not node.args[0].star:
            return _is_float(node.args[0].value, floats)
    return False


def _unit_seeds(forward, reverse):
    """The reverse sweep without its products with the unit seed (`d_L = 1.0`, the
    adjoint of the loss itself, assigned once): `d_L * (p - y)` is `p - y`, one pass
    over the arrays fewer. A product is dropped only where its other factor is known
    to be a float (`_floats`): `1.0 * y` with integer labels y is a float array, and
    `-y` of unsigned ones would wrap around."""
    writes: dict[str, int] = {}
    for node in walk(forward + reverse):
        for name in node_writes(node):
            writes[name] = writes.get(name, 0) + 1
    seeds: dict[str, int] = {}  # the unit seed, and its copies and negations (`d_t = -d_L`), with their signs
    for n in reverse:
        if not (isinstance(n, Line) and n.target and writes.get(n.target) == 1):
            continue
        if isinstance(n.value, cst.Float) and _number(n.value) == 1.0:
            seeds[n.target] = 1
        elif isinstance(n.value, cst.Name) and n.value.value in seeds:
            seeds[n.target] = seeds[n.value.value]
        elif (
            isinstance(n.value, cst.UnaryOperation) and isinstance(n.value.operator, cst.Minus)
            and isinstance(n.value.expression, cst.Name) and n.value.expression.value in seeds
        ):
            seeds[n.target] = -seeds[n.value.expression.value]
    if not seeds:
        return reverse, frozenset()
    floats = _floats(forward + reverse)

    def sign(node):
        if isinstance(node, cst.Name):
            return seeds.get(node.value, 0)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            return -sign(node.expression)
        return 0

    def rewrite(node):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            for seed, other in ((node.left, node.right), (node.right, node.left)):
                s = sign(seed)
                number = _number(other)
                if s and number is not None and not isinstance(number, bool):
                    return _literal(float(s * number))
                if s and _is_float(other, floats):
                    return other if s > 0 else _negate(other)
        return node

    def drop(node: Line):
        if not (node.reads & seeds.keys()):
            return node
        return replace(node, value=simplify(transform(node.value, rewrite)))

    return map_lines(reverse, drop), frozenset(seeds)


def _sums_of_products(reverse, numbers: frozenset[str]):
    """`_unbroadcast(a * b, x, ...)` as `_unbroadcast_product(a, b, x, ...)`, which sums
    the product of two float arrays in one pass (np.vdot: no array for the product)
    where x is a number, the adjoint of a scalar parameter such as a slope. Not where
    a factor is a literal or one of `numbers` (the unit seed, a number)."""

    def number(node):
        while isinstance(node, cst.UnaryOperation):
            node = node.expression
        return _number(node) is not None or (isinstance(node, cst.Name) and node.value in numbers)

    def rewrite(node):
        if (
            isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "_unbroadcast"
            and len(node.args) >= 2 and all(a.keyword is None and not a.star for a in node.args)
        ):
            first = node.args[0].value
            if (
                isinstance(first, cst.BinaryOperation) and isinstance(first.operator, cst.Multiply)
                and not number(first.left) and not number(first.right)
            ):
                args = [cst.Arg(first.left.with_changes(lpar=[], rpar=[])),
                        cst.Arg(first.right.with_changes(lpar=[], rpar=[])), *node.args[1:]]
                return node.with_changes(func=cst.Name("_unbroadcast_product"), args=args)
        return node

    def swap(node: Line):
        if "_unbroadcast" not in node.reads:
            return node
        return replace(node, value=parenthesize(transform(node.value, rewrite)))

    return map_lines(reverse, swap)


def _propagate_copies(nodes, keep: frozenset[str]):
    """Drop `a = b` lines, reading `b` wherever `a` was read, within runs of lines.
    Before a block (or a tape operation) the copies still pending are written out,
    so nothing crosses control flow. Returns the nodes and the aliases still open at
    the end (to apply to the return expression)."""
    out: list = []
    aliases: dict[str, cst.Name] = {}
    by_target: dict[str, set[str]] = {}  # b -> the names aliased to it

    def flush():
        for a, b in aliases.items():
            out.append(Line((a,), b))
        aliases.clear()
        by_target.clear()

    for node in nodes:
        if node is _SWEEP:
            out.append(node)
            continue
        if not isinstance(node, Line):
            flush()
            if isinstance(node, Block):
                body, open_body = _propagate_copies(node.body, keep)
                orelse, open_orelse = _propagate_copies(node.orelse, keep)
                node = replace(node, body=body + _written(open_body), orelse=orelse + _written(open_orelse))
            out.append(node)
            continue
        value = substitute(node.value, aliases, parens=False) if aliases and (node.reads & aliases.keys()) else node.value
        for target in node.targets:
            for a in sorted(by_target.pop(target, ())):  # b is about to be rebound: keep a's value
                out.append(Line((a,), aliases.pop(a), node.origin))
            if target in aliases:
                by_target[aliases.pop(target).value].discard(target)
        if isinstance(value, cst.Name) and value.value == node.target:
            continue  # `a = a`
        if isinstance(value, cst.Name) and node.target is not None and node.target not in keep and value.value != "None":
            aliases[node.target] = value
            by_target.setdefault(value.value, set()).add(node.target)
            continue
        out.append(replace(node, value=value))
    return tuple(out), aliases


def _written(aliases) -> tuple:
    return tuple(Line((a,), b) for a, b in aliases.items())


# -- slice adjoints in one buffer --------------------------------------------------------


def _index_adds_in_place(everything, reverse, returned: set[str]):
    """`d = d + _index_adjoint(c, x, i)` -> `d = _index_add(d, c, x, i)`, which adds in
    place, for every adjoint `d` that nothing else can hold: all its assignments are
    numbers, `_index_adjoint(...)` or such sums, and only those lines (and the
    return) read it."""
    definitions: dict[str, list[Line]] = {}
    for node in walk(everything):
        if isinstance(node, Line):
            for target in node.targets:
                definitions.setdefault(target, []).append(node)
    owned = {
        name
        for name, lines in definitions.items()
        if all(_index_definition(line.value, name) for line in lines)
        and any(_accumulation(line.value, name) for line in lines)
    }
    for node in walk(everything):
        for name in [n for n in node_reads(node) if n in owned]:  # not `&`: see _scalar_math
            if not (isinstance(node, Line) and node.targets == (name,) and _accumulation(node.value, name)):
                owned.discard(name)

    def rewrite(node: Line):
        if node.target in owned and _accumulation(node.value, node.target):
            return _in_place(node)
        return node

    return _runs(map_lines(reverse, rewrite) if owned else reverse, _after_fresh)


def _in_place(node: Line) -> Line:
    call = node.value.right
    return replace(node, value=call.with_changes(func=cst.Name("_index_add"), args=[cst.Arg(cst.Name(node.target)), *call.args]))


def _after_fresh(run: list) -> list:
    """`d = _setitem(...)` then `d = d + _index_adjoint(c, x, i)`: the array d holds
    is new and only d holds it, so the second line can add into it in place."""
    out = list(run)
    fresh: set[str] = set()  # names holding a new array no other name holds
    for index, node in enumerate(out):
        if node.target in fresh and _accumulation(node.value, node.target):
            out[index] = _in_place(node)
            continue
        fresh -= node.reads | set(node.targets)  # read: another name may now hold it
        if node.target is not None and _is_call(node.value, "_setitem"):
            fresh.add(node.target)
    return out


def _is_call(node, name: str) -> bool:
    """Whether `node` calls the function called `name` (`_index_adjoint`, `np.sum`)."""
    return isinstance(node, cst.Call) and dotted_name(node.func) == name


def _is_index_adjoint(node) -> bool:
    return _is_call(node, "_index_adjoint")


def _accumulation(value, name: str) -> bool:
    return (
        isinstance(value, cst.BinaryOperation)
        and isinstance(value.operator, cst.Add)
        and isinstance(value.left, cst.Name)
        and value.left.value == name
        and _is_index_adjoint(value.right)
    )


def _index_definition(value, name: str) -> bool:
    return isinstance(value, (cst.Float, cst.Integer)) or _is_index_adjoint(value) or _accumulation(value, name)


def _tree_adds_in_place(everything, reverse):
    """`d = _tree_add(d, c)` -> `d = _tree_add_into(d, c)`, which adds c's keys into
    the dict d itself instead of a copy (a loop over n layers or rows would copy
    d n times), for every tree adjoint `d` that nothing else can hold: each of its
    assignments makes a new dict (`{key: d_w}`, `_item_adjoint(...)`, a number
    where it starts) or is such an addition, and no other line reads it (the
    returned `_tree_fill(d, x)` copies)."""
    definitions: dict[str, list[Line]] = {}
    for node in walk(everything):
        if isinstance(node, Line):
            for target in node.targets:
                definitions.setdefault(target, []).append(node)

    def accumulation(value, name):
        return _is_call(value, "_tree_add") and isinstance(value.args[0].value, cst.Name) and value.args[0].value.value == name

    def fresh(value, name):
        return isinstance(value, (cst.Float, cst.Integer, cst.Dict)) or _is_call(value, "_item_adjoint") or accumulation(value, name)

    owned = {
        name for name, lines in definitions.items()
        if all(len(line.targets) == 1 and fresh(line.value, name) for line in lines)
        and any(accumulation(line.value, name) for line in lines)
    }
    for node in walk(everything):
        for name in [n for n in node_reads(node) if n in owned]:
            if not (isinstance(node, Line) and node.targets == (name,) and accumulation(node.value, name)
                    and name not in reads(node.value.args[1].value)):
                owned.discard(name)
    if not owned:
        return reverse

    def rewrite(node: Line):
        if node.target in owned and accumulation(node.value, node.target):
            return replace(node, value=node.value.with_changes(func=cst.Name("_tree_add_into")))
        return node

    return map_lines(reverse, rewrite)


# -- tapes ---------------------------------------------------------------------------------


def _tape_contents(reverse, arrays: frozenset[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]]]:
    """For each tape, the names its pops must restore: those of the pop's candidates
    that the reverse code after it (in the same block) reads; and of those `arrays`,
    the ones it reads only the shapes of (`_fill(d, t)`, `_unbroadcast(d, t, s)`),
    which the forward sweep pushes as zero-strided stand-ins: an array written into
    in a loop (`out[i] = ...`) is not kept whole for every pass."""
    saved: dict[str, set[str]] = {}
    fully: dict[str, set[str]] = {}  # read whole somewhere after a pop

    def visit(nodes):
        for index, node in enumerate(nodes):
            if isinstance(node, Pop):
                later, whole = set(), set()
                for after in walk(nodes[index + 1 :]):
                    read = node_reads(after)
                    later |= read
                    whole |= read - _shape_only_reads(after.value) if isinstance(after, Line) else read
                saved.setdefault(node.tape, set()).update(node.candidates & later)
                fully.setdefault(node.tape, set()).update(node.candidates & whole)
            elif isinstance(node, Block):
                visit(node.body)
                visit(node.orelse)

    visit(reverse)
    names = {tape: tuple(sorted(found)) for tape, found in saved.items()}
    shapes = {tape: frozenset((found - fully[tape]) & arrays) for tape, found in saved.items()}
    return names, shapes


def _without_pop_only(nodes) -> tuple:
    """The nodes without the `if` blocks that hold nothing but pops of their own
    tapes: those tapes save nothing (nothing after the pop reads a value), so the
    blocks go, and their tests need not be saved either."""
    out = []
    for node in nodes:
        if isinstance(node, Block):
            node = replace(node, body=_without_pop_only(node.body), orelse=_without_pop_only(node.orelse))
            if node.kind == "if" and all(isinstance(n, Pop) for n in node.body + node.orelse):
                continue
        out.append(node)
    return tuple(out)


def _written_into(forward) -> frozenset[str]:
    """The versions of arrays that `x[i] = v` writes into, and the ones it makes
    (`x_2 = _setitem(x, np.s_[i], v)`): arrays for certain, and in a loop often
    read back only for their shapes. (Other values may be floats, for which a
    stand-in costs more than the value.)"""
    found = set()
    for node in walk(forward):
        value = node.value if isinstance(node, Line) else None
        if _is_call(value, "_setitem"):
            found |= set(node.targets)
            if value.args and isinstance(value.args[0].value, cst.Name):
                found.add(value.args[0].value.value)
    return frozenset(found)


def _fill_tapes(nodes, saved, shapes) -> tuple:
    out = []
    for node in nodes:
        if isinstance(node, (Push, Pop)):
            names = saved.get(node.tape, ())
            if names and isinstance(node, Push):
                out.append(replace(node, names=names, shapes=shapes.get(node.tape, frozenset())))
            elif names:
                out.append(replace(node, names=names))
        elif isinstance(node, Block):
            out.append(replace(node, body=_fill_tapes(node.body, saved, shapes), orelse=_fill_tapes(node.orelse, saved, shapes)))
        else:
            out.append(node)
    return tuple(out)


# -- folding ------------------------------------------------------------------------------

_FOLDED_WIDTH = 64  # longest expression a temporary is folded into (characters)


def _fold(nodes, foldable: frozenset[str]) -> tuple:
    """Put each temporary read exactly once back into the line that reads it, if
    that is the next line of the same straight run to read it and nothing it reads
    is assigned in between: `t2 = x * t1; x_2 = t2 + t4` -> `x_2 = x * t1 + t4`.
    The same operations in the same order, so the same bits; fewer names, lines and
    stores, and NumPy frees (or reuses) the temporary array at once."""
    uses: dict[str, int] = {}
    for node in walk(nodes):
        for name in node_reads(node):
            uses[name] = uses.get(name, 0) + 1
    return _fold_block(nodes, {n for n in foldable if uses.get(n) == 1})


def _fold_block(nodes, once: set[str]) -> tuple:
    nodes = [replace(n, body=_fold_block(n.body, once), orelse=_fold_block(n.orelse, once)) if isinstance(n, Block) else n for n in nodes]
    index = 0
    while index < len(nodes):
        node = nodes[index]
        target = node.target if isinstance(node, Line) else None
        if target in once and len(code(node.value)) <= _FOLDED_WIDTH:
            inputs = node.reads
            for later in range(index + 1, len(nodes)):
                after = nodes[later]
                if target in node_reads(after) or any(target in node_reads(n) for n in walk([after])):
                    if isinstance(after, Line) and target in after.reads:
                        folded = simplify(substitute(after.value, {target: node.value}, parens=False))
                        if len(code(folded)) <= _FOLDED_WIDTH + 24 or len(code(after.value)) > _FOLDED_WIDTH:
                            nodes[later] = replace(after, value=folded, origin=after.origin or node.origin,
                                                   comment=after.comment or node.comment)
                            del nodes[index]
                            index = max(index - 1, 0)
                            break
                    break
                if node_writes(after) & (inputs | {target}) or isinstance(after, (Block, Pop, Jump)):
                    break
            else:
                index += 1
                continue
            if index < len(nodes) and nodes[index] is node:
                index += 1
            continue
        index += 1
    return tuple(nodes)


def _short_circuits(nodes) -> tuple:
    """`if a: t = e else: t = a` -> `t = a and e`, and `if a: t = a else: t = e` ->
    `t = a or e`: how normalize spells `and`/`or` (Python evaluates `e` only when
    `a` does not decide), written back as the user did where `e` is one line."""
    out = []
    for node in nodes:
        if isinstance(node, Block):
            node = replace(node, body=_short_circuits(node.body), orelse=_short_circuits(node.orelse))
            joined = _joined(node)
            if joined is not None:
                node = joined
        out.append(node)
    return tuple(out)


def _joined(block: Block) -> Line | None:
    if block.kind != "if" or not isinstance(block.head, cst.Name) or len(block.body) != 1 or len(block.orelse) != 1:
        return None
    first, second = block.body[0], block.orelse[0]
    if not (isinstance(first, Line) and isinstance(second, Line)) or first.comment or second.comment:
        return None
    if first.target is None or first.target != second.target:
        return None
    test = block.head.value
    if _is_name(second.value, test) and not _is_name(first.value, test):
        operator, other = cst.And(), first.value
    elif _is_name(first.value, test) and not _is_name(second.value, test):
        operator, other = cst.Or(), second.value
    else:
        return None
    if isinstance(other, (cst.BooleanOperation, cst.IfExp, cst.Lambda)):
        other = other.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return line(first.target, cst.BooleanOperation(cst.Name(test), operator, other), block.origin)


def _is_name(node, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


# -- sums and copies -----------------------------------------------------------------------

_SUM_WIDTH = 110  # longest sum of contributions written as one line (characters)


def _runs(nodes, transform) -> tuple:
    """Apply `transform` to every straight run of lines (inside blocks too)."""
    out, run = [], []
    for node in nodes:
        if isinstance(node, Line):
            run.append(node)
            continue
        out += transform(run)
        run = []
        if isinstance(node, Block):
            node = replace(node, body=_runs(node.body, transform), orelse=_runs(node.orelse, transform))
        out.append(node)
    out += transform(run)
    return tuple(out)


def _common_subexpressions(run: list) -> list:
    """A straight run of lines where a later line recomputes what an earlier one
    holds (`np.sin(x)` in a tangent, after `t3 = np.sin(x)`): it reads the name. A
    line's value stops being at hand once a name it reads, or its own, is assigned."""
    from .differentiate import _canonical, _reused

    held: dict[str, tuple[str, frozenset[str]]] = {}
    out = []
    for node in run:
        if held and not node.effect:
            lookup = {key: name for key, (name, _) in held.items()}
            value = transform(node.value, lambda n: _reused(n, lookup))
            if value is not node.value:
                node = replace(node, value=value)
        for target in node.targets:
            for key, (name, read) in list(held.items()):
                if target == name or target in read:
                    del held[key]
        if node.target and not node.effect and node.target not in node.reads and isinstance(
            node.value, (cst.Call, cst.BinaryOperation, cst.UnaryOperation)
        ):
            held.setdefault(_canonical(node.value), (node.target, node.reads))
        out.append(node)
    return out


def _merge_sums(run: list) -> list:
    """`d = A` then `d = d + B` (nothing between touching d or what A reads, B not
    reading d) -> `d = A + B`: an adjoint's contributions summed in one line, in the
    same order (so the same bits)."""
    run = list(run)
    index = 0
    while index < len(run):
        first = run[index]
        name = first.target
        merged = False
        if name is not None:
            for later in range(index + 1, len(run)):
                second = run[later]
                if name in second.reads or name in second.targets:
                    value = second.value
                    if (
                        second.target == name
                        and isinstance(value, cst.BinaryOperation)
                        and isinstance(value.operator, (cst.Add, cst.Subtract))
                        and isinstance(value.left, cst.Name)
                        and value.left.value == name
                        and name not in reads(value.right)
                        and not second.comment
                    ):
                        total = simplify(value.with_changes(left=first.value))
                        if len(code(total)) <= _SUM_WIDTH:
                            run[later] = replace(second, value=total, comment=first.comment)
                            del run[index]
                            merged = True
                    break
                if set(second.targets) & first.reads:
                    break
        if not merged:
            index += 1
    return run


def factor(value: cst.BaseExpression) -> cst.BaseExpression:
    """`d * p + d * q - d * r` -> `d * (p + q - r)`: a sum whose every term is a product
    led by the same name (an adjoint's contributions, all scaled by one incoming
    adjoint) multiplies once. Not bit-exact like the other rewrites (it regroups the
    rounding), so it is applied to adjoint lines only, never to the forward values;
    fewer operations and temporaries (a 1,000-step scalar recurrence's reverse sweep
    went from 7 operations per step to 4), and no overflow to inf where `d * p` alone
    would have overflowed."""
    terms = _terms(value, 1)
    if len(terms) < 2:
        return value
    common, rests = None, []
    for sign, term in terms:
        factors = _factors(term)
        if len(factors) < 2:
            return value
        head = factors[0]
        if isinstance(head, cst.UnaryOperation) and isinstance(head.operator, cst.Minus):
            sign, head = -sign, head.expression
        if not isinstance(head, cst.Name) or head.value != (common or head.value):
            return value
        common = head.value
        rest = factors[1]
        for more in factors[2:]:
            rest = cst.BinaryOperation(rest, cst.Multiply(), more)
        rests.append((sign, rest))
    inner = rests[0][1] if rests[0][0] > 0 else cst.UnaryOperation(cst.Minus(), rests[0][1])
    for sign, rest in rests[1:]:
        inner = cst.BinaryOperation(inner, cst.Add() if sign > 0 else cst.Subtract(), rest)
    return simplify(cst.BinaryOperation(cst.Name(common), cst.Multiply(), inner))


def _terms(node, sign: int) -> list:
    """The signed terms of a chain of + and - (without looking into parentheses' meaning:
    the tree is what counts)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
        right = -sign if isinstance(node.operator, cst.Subtract) else sign
        return _terms(node.left, sign) + _terms(node.right, right)
    return [(sign, node)]


def fold_numbers(value: cst.BaseExpression) -> cst.BaseExpression:
    """Every chain of `*` in `value` with its number factors multiplied into one, last
    (`t * 2 * u * 100.0` -> `t * u * 200.0`: one pass over an array less per number).
    It regroups the rounding, so, as `factor`, it is for derivative lines only."""

    def leave(node):
        if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply)):
            return node
        factors = _factors(node)
        sign = 1.0
        head = factors[0]
        if isinstance(head, cst.UnaryOperation) and isinstance(head.operator, cst.Minus) and _number(head) is None:
            sign, factors = -1.0, [head.expression.with_changes(lpar=[], rpar=[]) if not isinstance(head.expression, cst.BinaryOperation) else head.expression, *factors[1:]]
        numbers = [f for f in factors if _number(f) is not None and not isinstance(_number(f), bool)]
        if len(numbers) + (sign < 0) < 2 or len(numbers) == len(factors):
            return node
        product = sign
        for f in numbers:
            product *= float(_number(f))
        rest = [f for f in factors if not any(f is n for n in numbers)]
        out = rest[0]
        for f in rest[1:] + [_literal(product)]:
            out = cst.BinaryOperation(out, cst.Multiply(), f)
        return out

    return parenthesize(transform(value, leave))


def _factors(node) -> list:
    """The factors of a chain of `*`, left to right."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _recompute_cheap(forward, reverse, constant: frozenset[str], writes: dict[str, int], temporaries: frozenset[str]):
    """Temporary arrays made by one elementwise operation on `constant` names
    (parameters never rebound, and views of them) and numbers, and read once by the
    reverse sweep, outside any loop: computed again there instead of kept. Rosenbrock's `t8 = 1.0 - x[:-1]` held 8 MB through
    the sweep only to be read once; recomputed, it is folded into the line that
    computes the value too, and the peak drops from four arrays to three (2.00x the
    loss's to 1.50x), for one elementwise pass."""
    readers: dict[str, list] = {}
    for node in walk(reverse):
        for name in node_reads(node):
            readers.setdefault(name, []).append(node)
    top_level = {id(node) for node in reverse}
    cheap = {}
    for node in forward:
        name = node.target if isinstance(node, Line) else None
        if (
            name in temporaries
            and writes.get(name) == 1
            and len(readers.get(name, ())) == 1
            and id(readers[name][0]) in top_level  # read at the sweep's top level
            and isinstance(readers[name][0], Line)
            and _elementwise_of(node.value, constant)
        ):
            cheap[name] = node.value
    if not cheap:
        return forward, reverse
    reverse = tuple(
        replace(n, value=simplify(substitute(n.value, {k: v for k, v in cheap.items() if k in n.reads}, parens=False)))
        if isinstance(n, Line) and n.reads & cheap.keys() else n
        for n in reverse
    )
    return forward, reverse


def _is_slice_of(value, names) -> bool:
    """`x[1:]`, `x[:-1, ::2]`: basic slicing of one of `names` (a view, not a copy)."""
    if not (isinstance(value, cst.Subscript) and isinstance(value.value, cst.Name) and value.value.value in names):
        return False
    if len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        key = value.slice[0].slice.value  # a tree's item, or a row: a reference or a view
        return isinstance(key, cst.SimpleString) or _number(key) is not None and isinstance(_number(key), int)
    for element in value.slice:
        if not isinstance(element.slice, cst.Slice):
            return False
        for bound in (element.slice.lower, element.slice.upper, element.slice.step):
            if bound is not None and _number(bound) is None:
                return False
    return True


def _elementwise_of(value, names) -> bool:
    """One `+ - * /` or unary minus over `names` and numbers (one of them a name)."""
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        operands = [value.expression]
    elif isinstance(value, cst.BinaryOperation) and isinstance(
        value.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
    ):
        operands = [value.left, value.right]
    else:
        return False
    named = [o for o in operands if isinstance(o, cst.Name)]
    return bool(named) and all(o.value in names for o in named) and all(
        isinstance(o, cst.Name) or _number(o) is not None for o in operands
    )


def _read_counts(nodes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in walk(nodes):
        for name in node_reads(node):
            counts[name] = counts.get(name, 0) + 1
    return counts


def _inline_copies(run: list, keep: frozenset[str], counts: dict[str, int]) -> list:
    """`a = b` whose every reader in this run comes no later than the line that
    rebinds b: those readers read b itself, and the copy goes. (`counts`: how many
    nodes read each name, anywhere.)"""
    run = list(run)
    index = 0
    while index < len(run):
        copy = run[index]
        a = copy.target
        if a is None or a in keep or not isinstance(copy.value, cst.Name) or copy.value.value == "None":
            index += 1
            continue
        b = copy.value.value
        readers = [i for i in range(index + 1, len(run)) if a in run[i].reads]
        ends = [i for i in range(index + 1, len(run)) if {a, b} & set(run[i].targets)]
        last = ends[0] if ends else len(run)
        if readers and len(readers) == counts.get(a, 0) and readers[-1] <= last:
            for i in readers:
                run[i] = replace(run[i], value=simplify(substitute(run[i].value, {a: cst.Name(b)}, parens=False)))
            del run[index]
            continue
        index += 1
    return run


# -- memory ------------------------------------------------------------------------------

# Where a call reads only the shape of an argument: (callee, positions, or None for
# every position from the first given on).
_SHAPE_READS = {
    "_unbroadcast": (1, None), "_unbroadcast_product": (2, None), "_fill": (1, 2), "_zero_gradient": (0, 1),
    "_index_adjoint": (1, 2), "_index_add": (2, 3), "_setitem_adjoint": (2, 3),
    "_expand": (1, 2), "np.shape": (0, 1), "np.ndim": (0, 1), "np.size": (0, 1),
}


def _shape_stand_ins(nodes, returned: set[str], arrays: frozenset[str]) -> tuple:
    """A forward array whose later readers (adjoints: `_unbroadcast(d, t1, b)`,
    `_fill(d, t1)`) want only its shape is replaced, after its last real read, by
    `t1 = _shape_only(t1)` as the forward sweep ends: a zero-strided stand-in of the
    same shape, so the array is freed instead of held through the reverse sweep. (All
    such names in one line, `t1, t3 = _shape_only(t1, t3)`, in the order the forward
    sweep last reads them; top-level lines only: a name also used inside a block is
    left alone.)"""
    nodes = list(nodes)
    sweep = nodes.index(_SWEEP)
    writes: dict[str, int] = {}
    blocked: set[str] = set(returned)
    for index, node in enumerate(nodes):
        if isinstance(node, Line):
            for name in node.targets:
                writes[name] = writes.get(name, 0) + 1
        elif node is not _SWEEP:
            for inner in walk([node]):
                blocked |= node_reads(inner) | node_writes(inner)
    candidates = {n for n in arrays if n not in blocked and writes.get(n) == 1}
    last_full: dict[str, int] = {}  # the last line that reads (or writes) all of it
    shape_after: set[str] = set()  # names read for their shapes after that line
    for index, node in enumerate(nodes):
        if not isinstance(node, Line):
            continue
        read = node.reads & candidates
        shape_only = _shape_only_reads(node.value) & read if read else set()
        for name in (read - shape_only) | (set(node.targets) & candidates):
            last_full[name] = index
            shape_after.discard(name)
        shape_after |= shape_only
    found = sorted((last_full[n], n) for n in shape_after if n in last_full and last_full[n] < sweep)
    if not found:
        return tuple(nodes)
    names = tuple(name for _, name in sorted(found))
    value = cst.Call(cst.Name("_shape_only"), [cst.Arg(cst.Name(n)) for n in names])
    stand_ins = Line(names, value, comment="the reverse sweep reads only the shapes of these: let the arrays go")
    return tuple(nodes[:sweep] + [stand_ins] + nodes[sweep:])


def _shape_only_reads(value: cst.BaseExpression) -> set[str]:
    """The names that `value` reads only as arguments that a call reads only the
    shape of (see _SHAPE_READS)."""
    total: dict[str, int] = {}
    shape: dict[str, int] = {}

    def count(node):
        if type(node) is cst.Name:
            total[node.value] = total.get(node.value, 0) + 1
        elif type(node) is cst.Call:
            positions = _SHAPE_READS.get(dotted_name(node.func) or "")
            if positions is not None:
                for arg in node.args[positions[0] : positions[1]]:
                    if arg.keyword is None and arg.star == "" and type(arg.value) is cst.Name:
                        shape[arg.value.value] = shape.get(arg.value.value, 0) + 1
        return node

    transform(value, count)  # visits every expression, not attribute or keyword names
    return {name for name, n in shape.items() if n == total[name]}


def _release(nodes, returned: set[str], arrays: frozenset[str]) -> tuple:
    """`del` each array after the last top-level statement that uses it, as NumPy
    frees an expression's temporaries: without it every forward value would live
    until the function returns. (Inside loops and branches nothing is released.)"""
    live = set(returned)
    # Only names bound on every path: assigned by top-level lines (a name assigned
    # inside one branch may be unbound after it).
    bound = {t for node in nodes if isinstance(node, (Line, Pop)) for t in node_writes(node)}
    out: list = []
    for node in reversed(nodes):
        used = set()
        for inner in walk([node]):
            used |= node_reads(inner) | node_writes(inner)
        dying = sorted((used & arrays & bound) - live)
        if dying and node is not _SWEEP:
            out.append(Release(tuple(dying)))
        out.append(node)
        if node is not _SWEEP:
            live -= node_writes(node) if not isinstance(node, Block) else set()
            for inner in walk([node]):
                live |= node_reads(inner)
    out.reverse()
    return _bound_releases(out)


def _bound_releases(nodes: list) -> tuple:
    """Each `del` only of names bound where it stands: a name released once, and then
    written again only inside a loop or branch (a reverse loop's `u = tape.pop()` that
    may run no pass), is not released a second time (that raised UnboundLocalError)."""
    bound: set[str] = set()
    out: list = []
    for node in nodes:
        if isinstance(node, Release):
            names = tuple(n for n in node.names if n in bound)
            bound -= set(names)
            if names:
                out.append(Release(names))
            continue
        if isinstance(node, (Line, Pop)):
            bound |= node_writes(node)
        out.append(node)
    return tuple(out)


# -- dead code -----------------------------------------------------------------------------


def _live(nodes, live_out: set[str], context: dict) -> tuple[tuple, set[str]]:
    """The nodes that matter for `live_out`, and the names live before them.
    `context["break"]` is what is live after the innermost loop (where a break goes)."""
    live = set(live_out)
    kept: list = []
    for node in reversed(nodes):
        if isinstance(node, Line):
            if node.targets and not node.effect and not (set(node.targets) & live):
                continue
            live -= set(node.targets)
            live |= node_reads(node)
            kept.append(node)
        elif isinstance(node, (Push, Pop)):
            live -= node_writes(node)
            live |= node_reads(node)
            kept.append(node)
        elif node is _SWEEP:
            kept.append(node)
        elif isinstance(node, Jump):
            live = set(context.get("break", set()))
            kept.append(node)
        elif node.kind == "if":
            body, body_in = _live(node.body, live, context)
            orelse, orelse_in = _live(node.orelse, live, context)
            if not body and not orelse:
                continue
            kept.append(replace(node, body=body, orelse=orelse))
            live = body_in | orelse_in | node_reads(node)
        else:  # a loop: what is live at the end of the body includes the next pass
            inner = dict(context, **{"break": live})
            at_end = set(live)
            while True:
                body, body_in = _live(node.body, at_end, inner)
                if (body_in | at_end) == at_end:
                    break
                at_end |= body_in
            if not body:
                continue
            kept.append(replace(node, body=body))
            live = (live | body_in | node_reads(node)) - ({node.target} if node.target else set())
    kept.reverse()
    return tuple(kept), live
