"""Generated modules on other array libraries (issue 17): every generated_examples/
module, unchanged, on Dask arrays computed by a dask.distributed LocalCluster, and on
PyTorch tensors, equal to its NumPy result to 1e-10.

A generated module calls NumPy's functions; NumPy hands Dask arrays to Dask
(`__array_function__`, `__array_ufunc__`), so the value and gradient come back as
Dask arrays, computed on the cluster. The helpers that write into an array of zeros
in place (the adjoint of `x[1:]`) build a new Dask array instead. PyTorch tensors do
not dispatch so: each generated function, called with tensors, runs its code again
with `np` standing for torch._numpy and gives tensors back (_any_array_library)."""

import re

import numpy as np
import pytest

from codegen.verify import flatten
from conftest import EXAMPLES, ROOT, load_file

try:
    import dask
    import dask.array as da
    import dask.distributed as distributed
except ImportError:  # pip install -e '.[test]' installs them
    dask = None
try:
    import torch
except ImportError:  # pip install -e '.[test]' installs it
    torch = None

MODULES = sorted(EXAMPLES.glob("*_grad.py")) + sorted(EXAMPLES.glob("*_jvp.py"))


@pytest.fixture(scope="module")
def client():
    if dask is None:
        pytest.skip("dask[distributed] is not installed (pip install -e '.[test]' installs it)")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


def _to_dask(value):
    if isinstance(value, np.ndarray) and value.ndim:
        return da.from_array(value, chunks=(max(1, value.shape[0] // 2),) + value.shape[1:])
    if isinstance(value, dict):
        return {k: _to_dask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_dask(v) for v in value)
    return value


def _to_torch(value):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_torch(v) for v in value)
    return value


def _to_numpy(value):
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v) for v in value)
    return value.numpy() if torch is not None and isinstance(value, torch.Tensor) else value


def _tensors(value):
    """Every array leaf a tensor (numbers may stay numbers)."""
    if isinstance(value, dict):
        return all(_tensors(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_tensors(v) for v in value)
    return not isinstance(value, (np.ndarray, np.generic))


def _is_dask(value):
    if isinstance(value, dict):
        return any(_is_dask(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_is_dask(v) for v in value)
    return isinstance(value, da.Array)


def _header(module_path):
    text = module_path.read_text()
    source, function = re.search(r"^# source: (.+)::(\w+)$", text, re.M).groups()
    return source, function, text


def _call(module_path, convert):
    """(NumPy's result, the result on converted inputs) of the module's first function."""
    source, function, text = _header(module_path)
    inputs = load_file(ROOT / source).example_inputs()
    module = {}
    exec(compile(text, str(module_path), "exec"), module)
    if module_path.name.endswith("_jvp.py"):
        entry = module[f"jvp_{function}"]
        wrt = re.search(r"^# wrt: (.+)$", text, re.M)[1].split(",")
        tangents = {f"t_{w}": np.ones(np.shape(inputs[w])) if np.ndim(inputs[w]) else 1.0 for w in wrt}
        return entry(**inputs, **tangents), entry(**convert(inputs), **convert(tangents)), inputs
    entry = module[f"value_and_grad_{function}"]
    return entry(**inputs), entry(**convert(inputs)), inputs


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_generated_module_on_torch_equals_numpy(module_path):
    if torch is None:
        pytest.skip("torch is not installed (pip install -e '.[test]' installs it)")
    expected, got, inputs = _call(module_path, _to_torch)
    if not _tensors(inputs):  # (the scalar examples take no arrays: NumPy runs them)
        assert _tensors(got), got
    np.testing.assert_allclose(flatten(_to_numpy(got))[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_generated_module_on_dask_equals_numpy(module_path, client):
    expected, got, inputs = _call(module_path, _to_dask)
    if _is_dask(_to_dask(inputs)):  # (the scalar examples take no arrays)
        assert _is_dask(got), "nothing came back as a Dask array: the arrays were not Dask's"
    (computed,) = dask.compute(got)
    np.testing.assert_allclose(flatten(computed)[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)


def _cupy():
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        return cupy
    except Exception:
        return None


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_generated_module_on_cupy_equals_numpy(module_path):
    """On a GPU machine: `pytest tests/test_backends.py -k "cupy or cuda"`."""
    cupy = _cupy()
    if cupy is None:
        pytest.skip("no CuPy with a CUDA device here (pip install cupy-cuda12x on a GPU machine)")

    def convert(value):
        if isinstance(value, np.ndarray):
            return cupy.asarray(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(convert(v) for v in value)
        return value

    def back(value):
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(back(v) for v in value)
        return cupy.asnumpy(value) if isinstance(value, cupy.ndarray) else value

    expected, got, _ = _call(module_path, convert)
    np.testing.assert_allclose(flatten(back(got))[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_generated_module_on_torch_cuda_equals_numpy(module_path):
    """On a GPU machine: `pytest tests/test_backends.py -k "cupy or cuda"`."""
    if torch is None or not torch.cuda.is_available():
        pytest.skip("no torch with a CUDA device here")

    def convert(value):
        if isinstance(value, np.ndarray):
            return torch.from_numpy(value).cuda()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(convert(v) for v in value)
        return value

    def back(value):
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(back(v) for v in value)
        return value.cpu().numpy() if isinstance(value, torch.Tensor) else value

    expected, got, _ = _call(module_path, convert)
    np.testing.assert_allclose(flatten(back(got))[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)
