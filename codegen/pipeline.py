"""The pipeline, stage by stage: parse -> normalize -> analyze -> differentiate ->
optimize -> emit. Each stage is a module with one job; this one only connects them."""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from . import __version__, rules
from .analyze import analyze
from .differentiate import differentiate
from .emit import emit
from .fuse import fuse
from .errors import CodegenError
from .names import Namer
from .normalize import normalize
from .optimize import optimize
from .parse import parse


def generate(
    source: str,
    function: str,
    wrt: str | Sequence[str] | None = None,
    *,
    path: str = "<string>",
    rules_dirs: Iterable[str] = (),
    include: Mapping[str, str] | None = None,
) -> str:
    """The text of a module with `grad_<function>` and `value_and_grad_<function>`.

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
        return _generate(source, function, wrt, path, tuple(str(d) for d in rules_dirs), include)
    finally:
        if paused:
            gc.enable()


def _generate(source, function, wrt, path, rules_dirs, include) -> str:
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

    reserved = {"np", "math", f"grad_{function}", f"value_and_grad_{function}", *registry.helpers}
    taken = set(parsed.names).union(*(p.names for p in included))
    namer = Namer(taken=taken, reserved=reserved)
    simple = fuse(normalize(parsed, registry, namer, included), registry)
    sources = [p.where for p in (parsed, *included)]
    del parsed, included  # each stage's input is let go once the next has what it needs
    analysis = analyze(simple, names, registry)
    for where in sources:  # the last stage to report a position
        where.forget()
    del sources
    gradient = differentiate(simple, analysis, namer)
    del analysis
    value_and_grad, grad = optimize(gradient)
    gradient = replace(gradient, forward=(), reverse=())  # emit reads only its header data
    return emit(gradient, value_and_grad, grad, registry.helpers, __version__, rules_dirs, sorted(include or {}))


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
