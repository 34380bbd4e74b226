"""Every rule in the registry, on every case its checks list, against central finite
differences and (independently) against autograd. Adding a rule to templates/ adds
its cases here; no test needs writing. The checking itself is codegen.rulecheck,
the same code `codegen rules --check DIR` runs on user rules."""

import pytest

from codegen import rulecheck, rules
from codegen.signatures import signature_problem

REGISTRY = rules.load()
CASES = [
    pytest.param(case, id=case.label)
    for rule in [*REGISTRY, *REGISTRY.fusions]
    for case in rulecheck.cases(rule)
]


def test_every_rule_has_cases():
    without = [r.name for r in REGISTRY if not rulecheck.cases(r)]
    assert not without
    assert len(CASES) >= 3 * len(REGISTRY) // 2


@pytest.mark.parametrize("rule", list(REGISTRY), ids=lambda r: r.name)
def test_signature_fits_the_numpy_function(rule):
    assert signature_problem(rule, import_user_modules=True) is None


@pytest.mark.parametrize("case", CASES)
def test_rule_matches_finite_differences(case):
    result = rulecheck.check_case(case)
    assert result.error is None, result.error
    assert result.report.ok, f"{case.call}:\n{result.report}"


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("case", CASES)
def test_rule_matches_autograd(case):
    pytest.importorskip("autograd")
    result = rulecheck.check_case(case, autograd=True)
    assert result.error is None, result.error
    if result.autograd.startswith("skipped"):
        pytest.skip(result.autograd)
    assert result.autograd == "", result.autograd
