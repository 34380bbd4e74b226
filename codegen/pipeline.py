"""The pipeline, stage by stage: parse -> normalize -> analyze -> differentiate ->
optimize -> emit. Each stage is a module with one job; this one only connects them."""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Iterable, Mapping, Sequence

import libcst as cst

from . import __version__, rules
from .analyze import analyze
from .differentiate import differentiate
from .emit import _function as rendered, emit, forward_functions, jacobian_functions, kept_per_iteration, reverse_functions, vjp_functions
from .forward import linearize
from .hvp import hvp_functions
from .fuse import fuse
from .headers import inputs_digest
from .errors import CodegenError
from .modes import modes_of  # noqa: F401 (part of this module's interface)
from .names import Namer
from .normalize import normalize
from .optimize import optimize, optimize_forward
from .parse import parse
from .program import walk as walk_nodes
from .specialize import NUMBERS_SUFFIX, dispatch, doc as numbers_doc, numbers as numbers_variant


def generate(
    source: str,
    function: str,
    wrt: str | Sequence[str] | None = None,
    *,
    path: str = "<string>",
    rules_dirs: Iterable[str] = (),
    include: Mapping[str, str] | None = None,
    mode: str | Sequence[str] = "reverse",
    _internal: bool = False,
) -> str:
    """The text of a module with `grad_<function>` and `value_and_grad_<function>`
    (mode "reverse", the default), `jvp_<function>` (mode "forward"), or both
    (`mode="reverse,forward"`, or a sequence of modes).

    `wrt` names the parameters to differentiate with respect to (a sequence, or a
    comma-separated string); by default the first parameter, like `jax.grad`.
    `path` is recorded in the header and used in error positions. `include` maps
    the paths of other files to their sources: functions the loss imports from
    them (`from mylosses import softplus`) are inlined too. The sources are parsed,
    never executed. Raises `CodegenError` for input outside the subset.
    """
    # Generation makes many small objects and keeps no cycles: the cyclic collector,
    # rescanning an ever larger heap, made long functions super-linear (a 1,600-line
    # function took 29 s with it, 19.5 s without). It is paused for the call.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _generate(source, function, wrt, path, tuple(str(d) for d in rules_dirs), include, modes_of(mode, path), _internal)
    finally:
        if paused:
            gc.enable()


def _generate(source, function, wrt, path, rules_dirs, include, modes=("reverse",), internal=False) -> str:
    for name in (path, *rules_dirs, *(include or {})):
        if not str(name).isprintable():  # the header records it on a comment line
            raise CodegenError(
                "the path holds a control character (a newline, a tab, ...), which the generated module's "
                "header cannot record; rename the file", str(name),
            )
    registry = rules.load(rules_dirs)
    parsed = parse(source, function, path)
    included = [parse(text, None, other) for other, text in sorted((include or {}).items())]
    names = _wrt_names(parsed, wrt)

    reserved = {
        "np", "math", *(f"{kind}_{function}" for kind in ("grad", "value_and_grad", "jvp", "vjp", "jacobian")),
        *(f"_{kind}_{function}{NUMBERS_SUFFIX}" for kind in ("grad", "value_and_grad", "jvp")),
        *registry.helpers,
    }
    taken = set(parsed.names).union(*(p.names for p in included))
    namer = Namer(taken=taken, reserved=reserved)
    simple = normalize(parsed, registry, namer, included, internal=internal)
    sources = [p.where for p in (parsed, *included)]
    numbers = numbers_variant(parsed, names) if {"reverse", "forward"} & set(modes) and not internal else None
    if numbers is not None:
        numbers = (numbers, included, lambda: Namer(taken=taken, reserved=reserved))
    del parsed, included  # each stage's input is let go once the next has what it needs
    functions, kept, header = [], (), None
    wanted = set(modes)
    if wanted & {"reverse", "jacobian"}:  # the reverse sweep's input (jacobian's VJP too)
        fused = fuse(simple, registry)
        analysis = analyze(fused, names, registry)
    if "reverse" in modes:
        gradient = differentiate(fused, analysis, namer)
        value_and_grad, grad = optimize(gradient)
        general = reverse_functions(gradient, value_and_grad, grad)
        functions += _with_numbers_bodies(general, numbers, names, registry, "reverse")
        kept = kept_per_iteration(value_and_grad.forward)
        header = gradient.function
        del gradient
    if wanted & {"forward", "jacobian", "hvp"}:
        # A fusion's tangent, like its adjoint, skips the chain: where it runs through
        # temporaries or the values the fusion names (the steps the user named keep
        # their tangents, as in the lecture's forward table).
        forward_fused = fuse(simple, registry, within=frozenset(namer.invented))
    if wanted & {"forward", "jacobian"}:
        tangent = linearize(forward_fused, analyze(forward_fused, names, registry), namer)
        general = forward_functions(tangent, optimize_forward(tangent))
        functions += _with_numbers_bodies(general, numbers, names, registry, "forward") if "forward" in modes else general
        header = header or tangent.function
    if "jacobian" in modes:
        cotangent = namer.fresh("cotangent")
        gradient = differentiate(fused, analysis, namer, seed=cotangent)
        _, grad = optimize(gradient)
        functions += vjp_functions(gradient, grad, cotangent)
        functions += jacobian_functions(simple, names, tangent.tangents, cotangent, simple.aux is not None)
        del gradient
    if "hvp" in modes:
        functions += hvp_functions(source, forward_fused, names, registry, namer, path)
        header = header or simple
    for where in sources:  # the last stage to report a position
        where.forget()
    del sources, simple
    inputs = inputs_digest(source, include or {}, rules_dirs)
    return emit(header, names, functions, registry.helpers, __version__, rules_dirs, sorted(include or {}), modes, kept, inputs, registry.modules)


def _with_numbers_bodies(general, numbers, names, registry, mode: str) -> list:
    """The reverse functions (mode "reverse") or `jvp_<f>` ("forward"), each with a
    twin for Python numbers that it calls at entry when its arguments (and, for a
    JVP, the tangents of float parameters) are such numbers (specialize.py), where
    the twin's body differs from its own. Generating the twin is an optimisation:
    where it fails (a parameter used as an array or a tree is no number), the
    general body stands alone."""
    if numbers is None:
        return general
    variant, included, new_namer = numbers
    namer = new_namer()
    try:
        simple = normalize(variant.parsed, registry, namer, included)
        if mode == "reverse":
            fused = fuse(simple, registry)
            gradient = differentiate(fused, analyze(fused, names, registry), namer)
            twins, kinds = reverse_functions(gradient, *optimize(gradient)), variant.kinds
        else:
            fused = fuse(simple, registry, within=frozenset(namer.invented))
            tangent = linearize(fused, analyze(fused, names, registry), namer)
            twins = forward_functions(tangent, optimize_forward(tangent))
            floats = {p for p, kind in variant.kinds if kind == "float"}
            kinds = variant.kinds + tuple((t, "float") for w, t in zip(tangent.wrt, tangent.tangents) if w in floats)
    except Exception:  # noqa: BLE001 - any failure only means no twin
        return general
    out, extra = [], []
    for (name, sig, doc, body), (_, _, _, twin) in zip(general, twins):
        if _same_body(body, twin):
            out.append((name, sig, doc, body))
            continue
        params = cst.parse_statement(f"def f({sig}): pass").params
        out.append((name, sig, doc, body, dispatch(replace(variant, kinds=kinds), name, params)))
        extra.append((f"_{name}{NUMBERS_SUFFIX}", sig, numbers_doc(replace(variant, kinds=kinds), name), twin))
    return out + extra


def _same_body(a, b) -> bool:
    return rendered("f", "", "", a) == rendered("f", "", "", b)


def _wrt_names(parsed, wrt) -> tuple[str, ...]:
    fn = parsed.function
    params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)]
    if wrt is None or wrt == "" or wrt == []:
        if not params:
            raise parsed.where.error(fn.name, f"`{fn.name.value}` has no parameters to differentiate; give it the parameters the loss depends on")
        return (params[0],)
    names = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else [str(w) for w in wrt]
    for name in names:
        if name not in params:
            raise parsed.where.error(
                fn.name,
                f"--wrt names `{name}`, which is not a parameter of `{fn.name.value}` "
                f"({', '.join(params)}); name one of those",
            )
    if len(set(names)) != len(names):
        raise parsed.where.error(fn.name, "--wrt names a parameter twice; name each once")
    return tuple(names)


__all__ = ["generate", "CodegenError"]


def explained(source: str, function: str, wrt, *, mode: str, path: str = "<string>", rules_dirs: Iterable[str] = (),
              include: Mapping[str, str] | None = None):
    """What `codegen explain` reads: (the simpleton form of `function`, the wrt
    names, the registry, the text of a module whose function computes every step
    under its own name). Reverse mode is not fused here, so that every step of the
    lecture's table has its adjoint (`xi4`'s too, which the log-of-sigmoid fusion
    skips in generated code); forward mode is generated as usual (its fusions run
    through temporaries only, so every named step keeps its tangent)."""
    rules_dirs = tuple(str(d) for d in rules_dirs)
    registry = rules.load(rules_dirs)
    parsed = parse(source, function, path)
    included = [parse(text, None, other) for other, text in sorted((include or {}).items())]
    names = _wrt_names(parsed, wrt)
    reserved = {"np", "math", f"value_and_grad_{function}", f"grad_{function}", f"jvp_{function}", *registry.helpers}
    namer = Namer(taken=set(parsed.names).union(*(p.names for p in included)), reserved=reserved)
    simple = normalize(parsed, registry, namer, included)
    if mode == "reverse":
        gradient = differentiate(simple, analyze(simple, names, registry), namer)
        # Every name kept: no copy propagated away, no temporary folded into its reader.
        every = frozenset(n.target for n in walk_nodes(gradient.forward + gradient.reverse) if getattr(n, "target", None))
        value_and_grad, grad = optimize(replace(gradient, keep=gradient.keep | every, invented=frozenset()))
        functions = reverse_functions(gradient, value_and_grad, grad)[:1]
        header = gradient.function
    else:
        forward_fused = fuse(simple, registry, within=frozenset(namer.invented))
        tangent = linearize(forward_fused, analyze(forward_fused, names, registry), namer)
        every = frozenset(n.target for n in walk_nodes(tangent.body) if getattr(n, "target", None))
        tangent = replace(tangent, keep=tangent.keep | every, invented=frozenset())
        functions = forward_functions(tangent, optimize_forward(tangent))
        header = tangent.function
    text = emit(header, names, functions, registry.helpers, __version__, rules_dirs, sorted(include or {}), (mode,), (),
                inputs_digest(source, include or {}, rules_dirs), registry.modules)
    return simple, names, registry, text
