"""Whether a rule fits the function it claims: its parameters against the function's.

A rule is written for one function (np.sum, mylib.softplus); a rule whose parameters
do not fit is refused rather than silently applied to calls it does not describe.
NumPy's functions are introspected whenever a user rule loads; a user's own module
only when asked (importing it runs it), as `codegen rules --check` does.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rules import Rule


def signature_problem(rule: Rule, import_user_modules: bool = False) -> str | None:
    """Why the rule's parameters do not fit the function it claims, or None.

    A required parameter matches by position (the rule may name it `x` where NumPy
    says `a`); a parameter with a default must exist under its name, as the user
    passes it by keyword. NumPy is introspected always; other modules only when
    `import_user_modules` (that executes them)."""
    kind, qual = rule.key
    if kind != "call" or qual.startswith("builtins."):
        return None
    module_name, _, attr = qual.rpartition(".")
    if not module_name.startswith("numpy") and not import_user_modules:
        return None
    target = _resolve(qual)
    if target is None:
        return f"{qual} does not exist"
    import numpy as np  # (here: generation itself does not load NumPy)

    required = [p for p in rule.params if p.default is None]
    optional = [p for p in rule.params if p.default is not None]
    if isinstance(target, np.ufunc):
        if len(required) != target.nin:
            return f"{qual} takes {target.nin} array argument(s), the rule {len(required)}"
        allowed = {"out", "where", "casting", "order", "dtype", "subok"}
        bad = [p.name for p in optional if p.name not in allowed]
        return f"{qual} has no parameter {bad[0]}" if bad else None
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None  # a builtin without introspectable parameters: nothing to compare
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind == p.VAR_POSITIONAL for p in params)
    if len(required) > len(positional) and not variadic:
        return f"{qual} takes {len(positional)} positional argument(s), the rule requires {len(required)}"
    names = {p.name for p in params}
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params)
    for p in optional:
        if p.name not in names and not takes_kwargs:
            return f"{qual} has no parameter `{p.name}` (it has: {', '.join(names)})"
    return None


def _resolve(qual: str):
    """The object a qualified name names: its longest importable module, then
    attributes (`scipy.stats.norm.logpdf`: the module scipy.stats, then .norm.logpdf)."""
    parts = qual.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for name in parts[split:]:
                target = getattr(target, name)
        except AttributeError:
            return None
        return target
    return None
