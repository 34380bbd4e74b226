"""Every rule in the registry, on every shape its checks list, against central finite
differences and (independently) against autograd. Adding a rule to templates/ adds
its cases here; no test needs writing."""

import zlib

import numpy as np
import pytest

from codegen import generate, rules
from codegen.verify import check_gradient
from conftest import autograd_version, load_generated, random_input

REGISTRY = rules.load()


def _cases():
    for rule in REGISTRY:
        for call, shape_list in rule.checks:
            for shapes in shape_list:
                label = ",".join(f"{k}{list(v)}" for k, v in shapes.items())
                yield pytest.param(rule, call, shapes, id=f"{rule.name}:{call}:{label}")


CASES = list(_cases())


def _setup(rule, call, shapes):
    """Source of `f(<params>, cotangent) = sum(<call> * cotangent)` and its inputs.
    The random cotangent makes every element of the result matter."""
    rng = np.random.default_rng(zlib.crc32(f"{rule.name}{call}{shapes}".encode()))
    kwargs = {name: random_input(rng, shape, rule.domain.get(name, "real")) for name, shape in shapes.items()}
    result = eval(call, {"np": np}, dict(kwargs))
    kwargs["cotangent"] = random_input(rng, np.shape(result))
    params = ", ".join(kwargs)
    source = f"import numpy as np\n\n\ndef f({params}):\n    return np.sum(({call}) * cotangent)\n"
    wrt = [name for name in shapes if name in rule.grads]
    return source, kwargs, wrt


def test_registry_has_rules():
    assert len(REGISTRY) >= 15
    assert len(CASES) >= 3 * len(REGISTRY)


@pytest.mark.parametrize("rule, call, shapes", CASES)
def test_rule_matches_finite_differences(rule, call, shapes):
    source, kwargs, wrt = _setup(rule, call, shapes)
    assert wrt, f"{rule.name} has no differentiable parameter in {call}"
    subsets = [wrt] + ([[w] for w in wrt] if len(wrt) > 1 else [])
    for names in subsets:
        module = load_generated(generate(source, "f", names))
        report = check_gradient(namespace_f(source), module.value_and_grad_f, kwargs, names, directions=3)
        assert report.ok, f"{call} wrt {names}:\n{report}"
        # grad_f drops work the gradient does not need; it must give the same numbers.
        _, grads = module.value_and_grad_f(**kwargs)
        only = module.grad_f(**kwargs)
        if len(names) == 1:
            grads, only = (grads,), (only,)
        for a, b in zip(grads, only):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("rule, call, shapes", CASES)
def test_rule_matches_autograd(rule, call, shapes):
    autograd = pytest.importorskip("autograd")
    source, kwargs, wrt = _setup(rule, call, shapes)
    module = load_generated(generate(source, "f", wrt))
    ours = module.grad_f(**kwargs)
    ours = (ours,) if len(wrt) == 1 else ours
    f = autograd_version(source).f
    names = list(kwargs)
    for name, mine in zip(wrt, ours):
        try:
            theirs = autograd.grad(f, names.index(name))(*kwargs.values())
        except (TypeError, NotImplementedError) as error:  # autograd's own limits
            pytest.skip(f"autograd cannot differentiate {call}: {error}")
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-13, err_msg=f"{call} d/d{name}")


def namespace_f(source):
    return load_generated(source, "original").f
