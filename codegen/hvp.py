"""Second order (--mode hvp): Hessian-vector products, as reverse mode over forward mode.

For a scalar loss f, H v = ∇_w ⟨∇f(w), v⟩, and ⟨∇f(w), v⟩ is exactly the tangent
that forward mode computes along v. So `hvp_<f>(params..., v_a, v_b)` is the
reverse-mode gradient of the JVP:

1. forward.py writes f's JVP along tangents named `v_<name>`, returning the tangent
   alone (optimize keeps NumPy's calls and writes no `del`);
2. that code is written out as source text (the loss's imports and constants
   first), and codegen reads it back as it reads a user's function: parse,
   normalize (with `internal`: its calls to codegen's helpers, `_fill(t, x)`,
   `_append(...)`, `_expit(x)`, are the primitives of the rules for them), fuse,
   analyze;
3. reverse mode differentiates it with respect to the same wrt arguments (the v's
   are data), and optimize and emit make `hvp_<f>` of it.

It is exact (no finite differences), costs about as much as a gradient of the
JVP (a few times the loss), and needs nothing but the rules: every rule's tangent
is made of primitives that have rules themselves (codegen's own helpers too:
np.prod's `_prod_of_others`, the determinant's `_cofactors`, ...); where a user
rule's tangent calls a helper without one, --mode hvp is refused at the loss's line. The generated code's comments name
the loss's lines. `hessian_<f>` makes the whole Hessian from one HVP per element
of the wrt arguments (`_hessian`). For an array result, as for the gradient, it is
the Hessian of the sum of its elements.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

import libcst as cst

from . import ir
from .analyze import analyze
from .differentiate import differentiate
from .emit import _function, jvp_signature, modules_called, passed_along, signature_of
from .errors import CodegenError
from .expressions import code
from .forward import linearize
from .fuse import fuse
from .names import Namer
from .normalize import normalize
from .optimize import Body, optimize, optimize_forward
from .parse import parse
from .program import Block, Line, walk


def hvp_functions(source: str, simple: ir.Function, names, registry, namer: Namer, path: str) -> list:
    """`hvp_<f>` and `hessian_<f>`, as emit's (name, signature, docstring, body)."""
    fn = simple
    given = {name: namer.fresh(f"v_{name}") for name in names}
    analysis = analyze(simple, names, registry)
    tangent = linearize(simple, analysis, namer, given=given)
    body = optimize_forward(tangent, tangent_only=True)
    function = f"hvp_{fn.name}"
    text, lines = _jvp_source(source, fn, function, names, tangent.tangents, body, registry.modules)
    origins = {}
    for node in walk(body.forward):
        origin = getattr(node, "origin", None)
        if origin is not None:
            origins.setdefault(origin.line, origin)
    try:
        parsed = parse(text, function, path)
        inner = Namer(taken=parsed.names, reserved={"np", "math", function, *registry.helpers})
        read_back = normalize(parsed, registry, inner, internal=True)
        fused = fuse(read_back, registry)
        second = analyze(fused, names, registry)
        parsed.where.forget()
        gradient = differentiate(fused, second, inner)
        _, grad = optimize(gradient)
    except CodegenError as error:
        line = lines.get(error.line, 0)
        raise CodegenError(f"--mode hvp: {error.message}", path, line, 1 if line else 0) from None
    grad = Body(
        forward=_remapped(grad.forward, lines, origins),
        reverse=_remapped(grad.reverse, lines, origins),
        returns=grad.returns,
    )
    wrt = ", ".join(names)
    vs = ", ".join(tangent.tangents)
    hvp_doc = (
        f"The Hessian of `{fn.name}` with respect to {wrt} times "
        + (f"{vs}: the derivative of its gradient along it" if len(names) == 1 else f"({vs}): the derivative of its gradient along them")
        + " (exact: reverse mode over forward mode)."
    )
    passed = passed_along(fn)
    call = (
        f"_hessian(lambda {vs}: {function}({passed}, {', '.join(f'{v}={v}' for v in tangent.tangents)}), "
        f"({', '.join(names)}{',' if len(names) == 1 else ''}))"
    )
    shape = "of shape arg.shape + arg.shape" if len(names) == 1 else "H[i][j] of shape args[i].shape + args[j].shape"
    hessian_doc = f"The Hessian of `{fn.name}` with respect to {wrt}, {shape}: one HVP per element."
    return [
        (function, jvp_signature(fn, tangent.tangents), hvp_doc, grad),
        (f"hessian_{fn.name}", signature_of(fn), hessian_doc, Body(forward=(), reverse=(), returns=cst.parse_expression(call))),
    ]


def _jvp_source(source: str, fn: ir.Function, name: str, names, tangents, body: Body, modules=()) -> tuple[str, dict[int, int]]:
    """The JVP as a module's text, and for each of its lines the loss's line it
    comes from."""
    imports = []
    try:
        tree = ast.parse(source)
    except SyntaxError:  # (parse has read it: not reached)
        tree = ast.Module(body=[], type_ignores=[])
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)) and getattr(statement, "module", None) != "__future__":
            imports.append(ast.get_source_segment(source, statement))
    # Parameters annotated `float` stay Python numbers (so do their v's): reverse mode
    # then needs no broadcasting bookkeeping for them, as for the loss itself.
    scalars = {p.name for p in fn.params if p.scalar}
    annotated = {n: "float" for n in scalars}
    annotated.update({v: "float" for w, v in zip(names, tangents) if w in scalars})
    function = _function(name, jvp_signature(fn, tangents, annotated), "", body)
    # and what the generated module imports besides (a name an --include file imports,
    # a module whose function a rule's tangent calls: scipy.special.polygamma)
    called = [m for m in modules_called(["\n".join(function)], modules) if m not in fn.imports]
    imports += [m if m.startswith("from ") else f"import {m}" for m in (*fn.imports, *called)]
    out = ["import numpy as np", *dict.fromkeys(imports), ""]
    out += [f"{constant} = {code(value)}" for constant, value in fn.constants]
    out += ["", *function]
    text = "\n".join(out) + "\n"
    lines, current = {}, 0
    for number, written in enumerate(text.splitlines(), 1):
        found = re.match(r"\s*# line (\d+): ", written)
        if found:
            current = int(found[1])
        lines[number] = current
    return text, lines


def _remapped(nodes, lines: dict[int, int], origins: dict[int, ir.Origin]) -> tuple:
    """The nodes with their origins (lines of the JVP's text) made the loss's lines."""

    def origin_of(origin):
        if origin is None:
            return None
        line = lines.get(origin.line, 0)
        return origins.get(line, ir.Origin(line, origin.text)) if line else None

    out = []
    for node in nodes:
        if isinstance(node, (Line, Block)):
            node = replace(node, origin=origin_of(node.origin))
            if isinstance(node, Block):
                node = replace(node, body=_remapped(node.body, lines, origins), orelse=_remapped(node.orelse, lines, origins))
        out.append(node)
    return tuple(out)
