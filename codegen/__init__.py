"""codegen: derivative code generation for NumPy losses.

`generate(source, function, wrt)` returns the text of a module with explicit
derivative code; `check()` and `build()` keep a project's generated modules up to
date (its pyproject.toml's [tool.codegen] targets); `codegen.verify` checks
gradients against central finite differences; `explain(f, at)` gives the table of
its simpleton steps, their values and derivatives (it runs f).

The heavy modules (LibCST, Black, NumPy) load on first use, so that `codegen
--version` and an up-to-date `codegen check` start quickly.
"""

__version__ = "0.1.0"

__all__ = ["CodegenError", "generate", "check", "build", "assert_up_to_date", "explain", "graph", "__version__"]

_LAZY = {
    "CodegenError": ("errors", "CodegenError"),
    "generate": ("pipeline", "generate"),
    "check": ("project", "check"),
    "build": ("project", "build"),
    "assert_up_to_date": ("project", "assert_up_to_date"),
    "explain": ("evaluation", "explain_function"),
    "graph": ("drawing", "graph_function"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
