"""The same losses in the tools people would use instead: autograd and JAX run the
loss's own source on their NumPy (only the import changes); PyTorch needs each loss
written out in its API. Each returns value_and_grad functions with NumPy in and out,
or None when the tool is not installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import types


def _available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _module(source: str, numpy_import: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source.replace("import numpy as np", numpy_import), f"<{name}>", "exec"), module.__dict__)
    return module


def autograd_version(source: str, argnums):
    if not _available("autograd"):
        return None
    import autograd

    loss = _module(source, "import autograd.numpy as np", "autograd_loss").loss
    return autograd.value_and_grad(loss, argnums)


def jax_versions(source: str, argnums, static=()):
    """(no jit, jit); float64 throughout. `static`: arguments jit treats as
    constants (a loop's length)."""
    if not _available("jax"):
        return None, None
    import jax

    jax.config.update("jax_enable_x64", True)
    loss = _module(source, "import jax.numpy as np", "jax_loss").loss
    plain = jax.value_and_grad(loss, argnums)
    return _numpy_out(plain), _numpy_out(jax.jit(plain, static_argnums=static))


def _numpy_out(f):
    import numpy as np

    def call(*args):
        value, grads = f(*args)
        return float(value), tuple(np.asarray(g) for g in grads)

    return call


def torch_version(name: str, argnums):
    if not _available("torch"):
        return None
    import torch

    torch.set_default_dtype(torch.float64)
    loss = _TORCH[name]

    def value_and_grad(*args):
        tensors = [torch.as_tensor(a) for a in args]
        for i in argnums:
            tensors[i] = tensors[i].detach().clone().requires_grad_(True)
        value = loss(*tensors)
        grads = torch.autograd.grad(value, [tensors[i] for i in argnums])
        return float(value.detach()), tuple(g.numpy() for g in grads)

    return value_and_grad


def _torch_logistic(beta0, beta1, X, y):
    import torch

    h = beta0 + beta1 * X
    p = 1 / (1 + torch.exp(-h))
    return torch.sum(-y * torch.log(p) - (1 - y) * torch.log(1 - p))


def _torch_logreg(w, b, X, y):
    import torch

    z = X @ w + b
    return torch.sum(torch.logaddexp(torch.zeros((), dtype=z.dtype), z) - y * z)


def _torch_mlp(W1, b1, W2, b2, X, Y):
    import torch

    hidden = torch.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    shift = torch.max(logits, dim=1, keepdim=True).values
    log_norm = torch.log(torch.sum(torch.exp(logits - shift), dim=1, keepdim=True)) + shift
    return -torch.mean(torch.sum(Y * (logits - log_norm), dim=1))


def _torch_rosenbrock(x):
    import torch

    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _torch_recurrence(x, a, steps=1000):
    import torch

    for _ in range(int(steps)):
        x = x * torch.cos(x) + a * torch.sin(x)
    return x


_TORCH = {
    "logistic": _torch_logistic,
    "logreg": _torch_logreg,
    "mlp": _torch_mlp,
    "rosenbrock": _torch_rosenbrock,
    "recurrence": _torch_recurrence,
}


def versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "autograd", "jax", "torch", "libcst", "black"):
        if _available(name):
            try:  # the installed distribution's version: autograd and libcst have no __version__
                out[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                out[name] = getattr(importlib.import_module(name), "__version__", "?")
    return out
