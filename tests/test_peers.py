"""The peer-suite adaptations in tests/peers/ (issue 15): codegen on the functions of
autograd's test_numpy.py and test_scalar_ops.py, wrapped to a scalar, against central
finite differences and autograd.
The script prints each case; here the counts must hold: no wrong gradient, no
crash, at least 90% generated and right."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "peers"))

import autograd_numpy  # noqa: E402


def test_autograd_numpy_functions(capsys):
    counts = autograd_numpy.run()
    printed = capsys.readouterr().out
    assert counts["WRONG"] == 0 and counts["CRASH"] == 0, printed
    cases = sum(v for k, v in counts.items() if not k.startswith("autograd"))
    assert counts["pass"] >= 0.9 * cases, printed
    assert counts.get("autograd disagrees", 0) == 0 and counts.get("autograd agrees", 0) >= 0.8 * counts["pass"], printed
