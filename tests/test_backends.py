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


def _mapped(value, leaf):
    """value (a tree) with `leaf` applied to each leaf."""
    if isinstance(value, dict):
        return {k: _mapped(v, leaf) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mapped(v, leaf) for v in value)
    return leaf(value)


def _to_dask(value):
    if isinstance(value, np.ndarray) and value.ndim:
        return da.from_array(value, chunks=(max(1, value.shape[0] // 2),) + value.shape[1:])
    if isinstance(value, dict):
        return {k: _to_dask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_dask(v) for v in value)
    return value


def _to_torch(value):
    return _mapped(value, lambda v: torch.from_numpy(v) if isinstance(v, np.ndarray) else v)


def _to_numpy(value):
    return _mapped(value, lambda v: v.cpu().numpy() if torch is not None and isinstance(v, torch.Tensor) else v)


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


def _call(module_path, convert, module=None):
    """(NumPy's result, the result on converted inputs) of the module's first function
    (run in the dict `module`, which it fills)."""
    source, function, text = _header(module_path)
    inputs = load_file(ROOT / source).example_inputs()
    module = {} if module is None else module
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
    module = {}
    expected, got, inputs = _call(module_path, _to_torch, module)
    if not _tensors(inputs):  # (the scalar examples take no arrays: NumPy runs them)
        assert _tensors(got), got
        # torch's own functions ran it: it did not fall back to torch._numpy
        assert "parted" not in module["_torch_namespaces"], module["_torch_namespaces"]["parted"]
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
        return _mapped(value, lambda v: cupy.asarray(v) if isinstance(v, np.ndarray) else v)

    def back(value):
        return _mapped(value, lambda v: cupy.asnumpy(v) if isinstance(v, cupy.ndarray) else v)

    expected, got, _ = _call(module_path, convert)
    np.testing.assert_allclose(flatten(back(got))[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("module_path", MODULES, ids=lambda p: p.name)
def test_generated_module_on_torch_cuda_equals_numpy(module_path):
    """On a GPU machine: `pytest tests/test_backends.py -k "cupy or cuda"`."""
    if torch is None or not torch.cuda.is_available():
        pytest.skip("no torch with a CUDA device here")

    def convert(value):
        return _mapped(value, lambda v: torch.from_numpy(v).cuda() if isinstance(v, np.ndarray) else v)

    expected, got, _ = _call(module_path, convert)
    np.testing.assert_allclose(flatten(_to_numpy(got))[0], flatten(expected)[0], rtol=1e-10, atol=1e-12)


def _torch_module(source, wrt):
    import codegen

    namespace = {}
    exec(codegen.generate(source, "f", wrt), namespace)
    return namespace


def test_repeated_integer_indices_accumulate_on_torch():
    """The adjoint of x[idx] with an index taken twice (np.add.at on NumPy) adds both
    on tensors too (index_put_ with accumulate), on torch's own functions."""
    if torch is None:
        pytest.skip("torch is not installed (pip install -e '.[test]' installs it)")
    namespace = _torch_module("import numpy as np\n\n\ndef f(x, idx):\n    return np.sum(x[idx] ** 2)\n", "x")
    x, idx = np.array([1.0, 2.0, 3.0]), np.array([0, 0, 2])
    assert list(namespace["grad_f"](x, idx)) == [4.0, 0.0, 6.0]
    got = namespace["grad_f"](torch.from_numpy(x), torch.from_numpy(idx))
    assert isinstance(got, torch.Tensor) and got.tolist() == [4.0, 0.0, 6.0]
    assert "parted" not in namespace["_torch_namespaces"]


@pytest.mark.parametrize(
    "body, why",
    [
        ("return np.sum(x[::-1] * np.arange(3.0))", "step"),  # torch slices only forwards
        ("return np.sum(np.cumsum(x[::-1]) ** 2)", "step"),
        ("return np.sum(np.sort(x) * np.arange(3.0))", None),  # torch._numpy's sort, unwrapped
        ("return np.sum(x * (idx - 0.5))", None),  # integers meet a float in float64
        ("return np.sum(x, axis=()).sum() + np.max(x, axis=())[1]", None),  # dim=() is every axis to torch
    ],
)
def test_where_torch_and_numpy_part_ways_numpy_rules(body, why):
    """Where torch's tensors do not do what NumPy does, the call runs on torch._numpy
    (NumPy's rules): the result equals NumPy's."""
    if torch is None:
        pytest.skip("torch is not installed (pip install -e '.[test]' installs it)")
    namespace = _torch_module(f"import numpy as np\n\n\ndef f(x, idx):\n    {body}\n", "x")
    x, idx = np.array([0.5, -2.0, 3.0]), np.array([1, 0, 2])
    expected = namespace["value_and_grad_f"](x, idx)
    got = namespace["value_and_grad_f"](torch.from_numpy(x), torch.from_numpy(idx))
    assert isinstance(got[1], torch.Tensor) and got[1].dtype == torch.float64
    np.testing.assert_allclose(float(got[0]), expected[0], rtol=1e-14)
    np.testing.assert_allclose(got[1].numpy(), expected[1], rtol=1e-14)
    parted = namespace["_torch_namespaces"].get("parted")
    assert (why is None) == (parted is None) and (why is None or why in str(parted)), parted


def test_a_numpy_call_neither_torch_nor_its_numpy_has_is_a_clear_error():
    """A NumPy function torch._numpy lacks: a TypeError that says so and what to do,
    not an AttributeError from inside."""
    if torch is None:
        pytest.skip("torch is not installed (pip install -e '.[test]' installs it)")
    namespace = _torch_module("import numpy as np\n\n\ndef f(x):\n    return np.nansum(x ** 2)\n", "x")
    x = np.array([1.0, 2.0, 3.0])
    namespace["value_and_grad_f"](x)
    with pytest.raises(TypeError, match="neither torch.s functions nor torch._numpy can run a NumPy call it makes.*tensor.numpy"):
        namespace["value_and_grad_f"](torch.from_numpy(x))


@pytest.mark.parametrize("library", ["torch", "dask"])
def test_verify_takes_inputs_of_another_library(library, tmp_path):
    """`codegen verify --inputs` with a maker returning tensors or Dask arrays: the
    generated module runs on them, the function and the finite differences on NumPy
    copies; every mode checks out."""
    if (library == "torch" and torch is None) or (library == "dask" and dask is None):
        pytest.skip(f"{library} is not installed (pip install -e '.[test]' installs it)")
    import os
    import subprocess
    import sys

    wrap = "torch.from_numpy(a)" if library == "torch" else "dask.array.from_array(a, chunks=25)"
    (tmp_path / "inputs.py").write_text(
        f"import numpy as np\nimport {'torch' if library == 'torch' else 'dask.array'}\n\n\ndef make():\n"
        "    rng = np.random.default_rng(0)\n    X, y = rng.normal(size=50), (rng.random(50) < 0.5).astype(float)\n"
        f"    return {{'beta0': 0.1, 'beta1': -0.3, 'X': (lambda a: {wrap})(X), 'y': (lambda a: {wrap})(y)}}\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "verify", f"{ROOT / 'generated_examples/logistic.py'}::loss", "--wrt",
         "beta0,beta1", "--inputs", f"{tmp_path / 'inputs.py'}::make", "--mode", "reverse,forward,hvp"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"inputs: {library} arrays" in run.stdout and run.stdout.count("ok: worst") == 3
