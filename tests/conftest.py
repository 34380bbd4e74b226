import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "generated_examples"


def load_generated(text: str, name: str = "generated") -> types.ModuleType:
    """Execute generated module text (tests may execute; generation never does)."""
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def load_file(path: Path, name: str | None = None) -> types.ModuleType:
    name = name or f"example_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def autograd_version(source: str) -> types.ModuleType:
    """The same source run on autograd's NumPy wrapper (for an independent gradient)."""
    assert "import numpy as np" in source
    return load_generated(source.replace("import numpy as np", "import autograd.numpy as np"), "ag")


def assert_matches_autograd(source: str, grad_f, wrt, kwargs, atol: float):
    """grad_f(**kwargs) (one gradient, or a tuple for several wrt) against autograd's
    on the same source, to 1e-10 relative; skipped, saying why, where autograd cannot
    run the function (its own limits, such as in-place `+=` on its arrays)."""
    import pytest

    autograd = pytest.importorskip("autograd")
    ours = grad_f(**kwargs)
    ours = (ours,) if len(wrt) == 1 else ours
    f = autograd_version(source).f
    names = list(kwargs)
    for name, mine in zip(wrt, ours):
        try:
            theirs = autograd.grad(f, names.index(name))(*kwargs.values())
        except (TypeError, AttributeError, NotImplementedError) as error:
            pytest.skip(f"autograd cannot run this: {error}")
        except ValueError as error:  # its boxes written into a NumPy array (`x[i] = v`)
            if "setting an array element with a sequence" not in str(error):
                raise
            pytest.skip(f"autograd cannot run this: {error}")
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=atol)


from codegen.rulecheck import random_input  # noqa: E402,F401  (tests share it)


sys.path.insert(0, str(ROOT / "tests"))
