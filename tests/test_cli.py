"""The command line: generate, check (stale -> 1 with a diff), verify (wrong -> 1)."""

import os
import re
import shutil
import subprocess
import sys

from codegen.cli import main
from conftest import EXAMPLES, ROOT


def _copy_example(tmp_path, name="logistic"):
    shutil.copy(EXAMPLES / f"{name}.py", tmp_path / f"{name}.py")
    return tmp_path / f"{name}.py"


def test_generate_to_stdout_and_to_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy_example(tmp_path)
    assert main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1"]) == 0
    printed = capsys.readouterr().out
    assert "def grad_loss(beta0, beta1, X, y):" in printed
    assert main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1", "-o", "out.py"]) == 0
    assert (tmp_path / "out.py").read_text() == printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logistic.py", "out.py"]


def test_wrt_defaults_to_the_first_parameter(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy_example(tmp_path)
    assert main(["generate", "logistic.py::loss"]) == 0
    out = capsys.readouterr().out
    assert "# wrt: beta0\n" in out and "return L, d_beta0" in out.replace("_fill(d_beta0, beta0)", "d_beta0")


def test_check_up_to_date_then_stale(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = _copy_example(tmp_path)
    assert main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1", "-o", "logistic_grad.py"]) == 0
    assert main(["check", "logistic_grad.py"]) == 0
    assert main(["check", "logistic.py::loss", "--wrt", "beta0,beta1", "-o", "logistic_grad.py"]) == 0
    capsys.readouterr()

    source.write_text(source.read_text().replace("1 - p", "1.0 - p"))
    assert main(["check", "logistic_grad.py"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("--- logistic_grad.py (on disk)\n+++ logistic_grad.py (generated now)")
    assert "-# source sha256:" in captured.out and "1.0 - p" in captured.out.split("+++", 1)[1]
    assert "regenerate it with: codegen generate logistic.py::loss --wrt beta0,beta1 -o logistic_grad.py" in captured.err


def test_check_the_committed_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    modules = sorted(str(p.relative_to(ROOT)) for p in [*EXAMPLES.glob("*_grad.py"), *EXAMPLES.glob("*_jvp.py")])
    # Generated again and compared (--regenerate): codegen's version string does not
    # change from one commit of it to the next, so the headers alone cannot tell.
    assert main(["check", "--regenerate", *modules]) == 0
    # The same files as the targets of this repository's own [tool.codegen] table.
    assert main(["check", "--regenerate"]) == 0
    assert main(["check"]) == 0


def test_modes_are_generated_recorded_and_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = _copy_example(tmp_path)
    modes = "hvp,forward,reverse,jacobian"  # written in MODES order, each once
    assert main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1", "--mode", modes, "-o", "all.py"]) == 0
    text = (tmp_path / "all.py").read_text()
    assert "# mode: reverse,forward,jacobian,hvp\n" in text
    for name in ("value_and_grad_loss", "grad_loss", "jvp_loss", "vjp_loss", "jacobian_loss", "hvp_loss", "hessian_loss"):
        assert f"def {name}(" in text
    assert main(["check", "all.py"]) == 0
    capsys.readouterr()
    source.write_text(source.read_text().replace("1 - p", "1.0 - p"))
    assert main(["check", "all.py"]) == 1
    assert ("regenerate it with: codegen generate logistic.py::loss --wrt beta0,beta1 --mode "
            "reverse,forward,jacobian,hvp -o all.py") in capsys.readouterr().err
    assert main(["generate", "logistic.py::loss", "--mode", "sideways"]) == 2
    assert "logistic.py: error: --mode `sideways` is not a mode" in capsys.readouterr().err


def test_verify_passes_and_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy_example(tmp_path)
    args = ["verify", "logistic.py::loss", "--wrt", "beta0,beta1", "--inputs", "logistic.py::example_inputs"]
    assert main(args) == 0
    assert "ok: worst" in capsys.readouterr().out

    main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1", "-o", "wrong.py"])
    right = (tmp_path / "wrong.py").read_text()
    wrong = right.replace("_unbroadcast(p - y,", "_unbroadcast(p - 1.01 * y,")
    assert wrong != right
    (tmp_path / "wrong.py").write_text(wrong)
    assert main(args + ["--module", "wrong.py"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: worst" in out and "beta1" in out


def test_verify_checks_every_mode_the_module_holds(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy_example(tmp_path)
    args = ["verify", "logistic.py::loss", "--wrt", "beta0,beta1", "--inputs", "logistic.py::example_inputs"]
    assert main(args + ["--mode", "reverse,forward,hvp"]) == 0
    out = capsys.readouterr().out
    assert "gradient:" in out and "JVP:" in out and "HVP:" in out and out.count("ok: worst") == 3

    # A wrong tangent, in a module with forward mode alone, fails.
    main(["generate", "logistic.py::loss", "--wrt", "beta0,beta1", "--mode", "forward", "-o", "fwd.py"])
    text = (tmp_path / "fwd.py").read_text()
    assert "t_beta1 * X" in text
    (tmp_path / "fwd.py").write_text(text.replace("t_beta1 * X", "t_beta1 * X * 1.01"))
    capsys.readouterr()
    assert main(args + ["--module", "fwd.py"]) == 1
    assert "FAILED: worst" in capsys.readouterr().out


def test_rules_lists_the_registry(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "np.exp" in out and "x / y" in out and "ties split evenly" in out
    primitives, ways = re.search(r"^(\d+) primitives, (\d+) ways to write them$", out, re.M).groups()
    assert int(primitives) >= 120 and int(ways) >= int(primitives)
    lines = out.strip().splitlines()
    families = [line for line in lines if line.startswith("-- ")]
    assert len(lines) == int(primitives) + len(families) + 2  # header, families and their rows, summary
    assert sum(int(re.search(r"\((\d+)\)$", f)[1]) for f in families) == int(primitives)
    assert "-- special (" in out and "-- linalg (" in out


def test_readme_table_is_the_registry(capsys):
    """The README's table of supported NumPy is `codegen rules --markdown`."""
    assert main(["rules", "--markdown"]) == 0
    table = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- rules-table -->\n") + len("<!-- rules-table -->\n")
    end = readme.index("<!-- /rules-table -->")
    assert readme[start:end].strip() == table.strip(), (
        "README.md's rules table is stale; replace it with the output of `codegen rules --markdown`"
    )


def test_bad_arguments_exit_2(capsys):
    assert main(["generate", "no-function-given.py"]) == 2
    assert "expected PATH::FUNCTION" in capsys.readouterr().err


def test_python_dash_m_and_console_script(tmp_path):
    _copy_example(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "logistic.py::loss"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "def value_and_grad_loss(beta0, beta1, X, y):" in run.stdout
