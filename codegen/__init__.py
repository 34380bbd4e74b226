"""codegen: reverse-mode derivative code generation for NumPy losses.

`generate(source, function, wrt)` returns the text of a module with an explicit
adjoint; `verify(...)` checks gradients against central finite differences.
"""

__version__ = "0.1.0"

from .errors import CodegenError  # noqa: E402
from .pipeline import generate  # noqa: E402

__all__ = ["CodegenError", "generate", "__version__"]
