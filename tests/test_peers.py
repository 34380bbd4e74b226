"""The peer-suite adaptations in tests/peers/ (issue 15): codegen on autograd's
test_numpy.py, test_scalar_ops.py, test_linalg.py, test_systematic.py and
test_scipy.py, and on Tangent's tests/functions.py, each case wrapped to a scalar and
checked against central finite differences and autograd (tests/peers/harness.py).
Each script prints its cases; here the counts must hold: no wrong gradient, no
crash, no disagreement with autograd, and at least 90% of the cases that are not
skipped (complex inputs, points with no derivative) generated and right."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "peers"))

SUITES = ["autograd_numpy", "autograd_systematic", "autograd_scipy", "tangent_functions"]


@pytest.mark.parametrize("suite", SUITES)
def test_peer_suite(suite, capsys):
    module = __import__(suite)
    counts = module.run()
    printed = capsys.readouterr().out
    assert counts["WRONG"] == 0 and counts["CRASH"] == 0, printed
    in_scope = counts["pass"] + counts["refused"]
    assert in_scope > 0 and counts["pass"] >= 0.9 * in_scope, printed
    assert counts.get("autograd disagrees", 0) == 0, printed
    assert counts.get("autograd agrees", 0) >= 0.8 * counts["pass"], printed


def test_peer_suites_on_torch_tensors(capsys):
    """Every tenth case of the suites, run again on PyTorch tensors (issue 17;
    tests/peers/on_torch.py runs them all): equal to NumPy's run or refused with a
    TypeError that says why, never a wrong number or another exception; most run on
    torch's own functions."""
    pytest.importorskip("torch", reason="pip install -e '.[test]' installs it")
    import on_torch

    counts = on_torch.run(stride=10)
    printed = capsys.readouterr().out
    assert counts["WRONG"] == 0 and counts["CRASH"] == 0, printed
    assert counts["torch"] >= 0.9 * sum(counts.values()), printed
