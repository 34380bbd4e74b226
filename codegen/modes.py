"""The modes codegen generates (`--mode`), apart from the pipeline so that reading
a configuration or a header does not load it."""

from __future__ import annotations

from .errors import CodegenError

MODES = ("reverse", "forward", "jacobian", "hvp")
PLANNED = ()  # named in the design, not generated yet


def modes_of(mode, path: str = "<command line>") -> tuple[str, ...]:
    """The modes asked for, each once, in the order of MODES."""
    names = [m.strip() for m in (mode.split(",") if isinstance(mode, str) else mode) if str(m).strip()]
    for name in names:
        if name in PLANNED:
            raise CodegenError(f"--mode {name} is not available yet; use --mode reverse, forward, jacobian or hvp", path)
        if name not in MODES:
            raise CodegenError(f"--mode `{name}` is not a mode; use reverse, forward, jacobian or hvp, or several: --mode reverse,forward", path)
    if not names:
        raise CodegenError("--mode names no mode; use reverse, forward, or both: --mode reverse,forward", path)
    return tuple(m for m in MODES if m in names)
