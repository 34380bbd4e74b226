"""Files and processes: the CLI never writes over an input, reads what Python reads,
and turns every problem with a path into one line and exit status 2."""

import os
import subprocess
import sys

import pytest

from codegen.cli import main
from conftest import ROOT

LOSS = "import numpy as np\n\n\ndef loss(x, y):\n    return np.sum(x * y)\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loss.py").write_text(LOSS)
    return tmp_path


def _run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err


def _one_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- 9: -o never names an input ---------------------------------------------------------

@pytest.mark.parametrize("spelling", ["loss.py", "./loss.py", "sub/../loss.py", "ABS", "LINK", "HARD"])
def test_output_onto_the_source_is_refused(folder, capsys, spelling):
    (folder / "sub").mkdir()
    os.symlink(folder / "loss.py", folder / "link.py")
    os.link(folder / "loss.py", folder / "hard.py")
    out = {"ABS": str(folder / "loss.py"), "LINK": "link.py", "HARD": "hard.py"}.get(spelling, spelling)
    status, err = _run(capsys, "generate", "loss.py::loss", "-o", out)
    assert status == 2
    assert "names the input file loss.py" in _one_error(err) and "loss_grad.py" in err
    assert (folder / "loss.py").read_text() == LOSS
    assert os.path.islink(folder / "link.py")
    assert sorted(p.name for p in folder.iterdir()) == ["hard.py", "link.py", "loss.py", "sub"]


def test_output_onto_an_include_or_into_rules_is_refused(folder, capsys):
    (folder / "helpers.py").write_text("def g(v):\n    return v * 2.0\n")
    (folder / "rules").mkdir()
    status, err = _run(capsys, "generate", "loss.py::loss", "--include", "helpers.py", "-o", "./helpers.py")
    assert status == 2 and "names the input file helpers.py" in err
    assert (folder / "helpers.py").read_text() == "def g(v):\n    return v * 2.0\n"
    status, err = _run(capsys, "generate", "loss.py::loss", "--rules", "rules", "-o", "rules/new.py")
    assert status == 2 and "--rules directory" in err
    assert list((folder / "rules").iterdir()) == []


def test_check_output_onto_the_source_is_refused(folder, capsys):
    status, err = _run(capsys, "check", "loss.py::loss", "-o", "loss.py")
    assert status == 2 and "names the input file" in err


# -- 11: reading what Python reads --------------------------------------------------------

def test_latin1_file_with_a_coding_cookie_generates(folder, capsys):
    text = "# -*- coding: latin-1 -*-\n" + LOSS.replace("import numpy as np\n", "import numpy as np\n# café\n")
    (folder / "latin.py").write_bytes(text.encode("latin-1"))
    status, _ = _run(capsys, "generate", "latin.py::loss", "-o", "latin_grad.py")
    assert status == 0
    assert "def grad_loss(x, y):" in (folder / "latin_grad.py").read_text()


@pytest.mark.parametrize("name, data, words, position", [
    ("latin1-no-cookie", LOSS.replace("np\n", "np\n# caf\xe9\n", 1).encode("latin-1"), "byte 0xe9 is not UTF-8", ":2:6:"),
    ("utf16", LOSS.encode("utf-16"), "UTF-16", ":1:1:"),
    ("binary", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "null byte", ":1:8:"),
    ("nul", LOSS.encode() + b"\x00\n", "null byte", ":6:1:"),
    ("bad-cookie", b"# coding: klingon\n" + LOSS.encode(), "klingon", ":1:1:"),
])
def test_undecodable_sources_are_one_line_errors(folder, capsys, name, data, words, position):
    (folder / "bad.py").write_bytes(data)
    status, err = _run(capsys, "generate", "bad.py::loss", "-o", "out.py")
    assert status == 2
    line = _one_error(err)
    assert line.startswith("bad.py" + position) and words in line, line
    assert not (folder / "out.py").exists()


@pytest.mark.parametrize("case", ["directory", "missing-parent", "parent-is-a-file", "long-name"])
def test_unwritable_outputs_are_one_line_errors(folder, capsys, case):
    (folder / "adir").mkdir()
    (folder / "afile").write_text("x")
    name = "a" * (os.pathconf(str(folder), "PC_NAME_MAX") - 3) + ".py"  # legal: the temporary name must fit
    out = {"directory": "adir", "missing-parent": "nope/out.py", "parent-is-a-file": "afile/out.py",
           "long-name": name}[case]
    status, err = _run(capsys, "generate", "loss.py::loss", "-o", out)
    if case == "long-name":
        assert status == 0 and (folder / name).exists()
        return
    assert status == 2
    assert _one_error(err).startswith(out)
    assert sorted(p.name for p in folder.iterdir()) == ["adir", "afile", "loss.py"]
    assert list((folder / "adir").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder(folder, capsys):
    (folder / "ro").mkdir()
    os.chmod(folder / "ro", 0o555)
    try:
        status, err = _run(capsys, "generate", "loss.py::loss", "-o", "ro/out.py")
    finally:
        os.chmod(folder / "ro", 0o755)
    assert status == 2 and "cannot write in ro" in _one_error(err)


def test_verify_with_a_missing_inputs_file_or_maker(folder, capsys):
    status, err = _run(capsys, "verify", "loss.py::loss", "--inputs", "absent.py::make")
    assert status == 2 and _one_error(err).startswith("absent.py: error: cannot read it")
    (folder / "inputs.py").write_text("import numpy as np\n\ndef make():\n    return {'x': np.ones(2), 'y': np.ones(2)}\n")
    status, err = _run(capsys, "verify", "loss.py::loss", "--inputs", "inputs.py::other")
    assert status == 2 and "no function `other` in inputs.py (it defines: make)" in _one_error(err)
    (folder / "inputs.py").write_text("def make():\n    return 1 / 0\n")
    status, err = _run(capsys, "verify", "loss.py::loss", "--inputs", "inputs.py::make")
    assert status == 2 and _one_error(err).startswith("inputs.py:2:1: error: calling make() raised ZeroDivisionError")


# -- 14: arguments ---------------------------------------------------------------------------

def test_empty_output_is_refused(folder, capsys):
    status, err = _run(capsys, "generate", "loss.py::loss", "-o", "")
    assert status == 2 and "-o needs a file name" in _one_error(err)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("wrt, words", [("", "--wrt is empty"), (",", "--wrt is empty"), ("x\ny", "x\\ny"),
                                        ("x y", "not a parameter name")])
def test_bad_wrt_is_one_line(folder, capsys, wrt, words):
    status, err = _run(capsys, "generate", "loss.py::loss", "--wrt", wrt)
    assert status == 2 and words in _one_error(err)


def test_output_through_a_symbolic_link_keeps_the_link(folder, capsys):
    (folder / "real").mkdir()
    (folder / "real" / "grad.py").write_text("old\n")
    os.symlink("real/grad.py", folder / "grad.py")
    status, _ = _run(capsys, "generate", "loss.py::loss", "-o", "grad.py")
    assert status == 0
    assert os.path.islink(folder / "grad.py")
    assert "def grad_loss" in (folder / "real" / "grad.py").read_text()
    assert sorted(p.name for p in (folder / "real").iterdir()) == ["grad.py"]


# -- check: the printed command regenerates the module ------------------------------------------

def test_check_prints_a_command_that_works(folder, capsys):
    (folder / "my rules").mkdir()
    (folder / "my rules" / "softplus.py").write_text(
        "import numpy as np\nimport mylib\n\n\n@rule(elementwise=True)\ndef softplus(x):\n"
        "    ans = mylib.softplus(x)\n    d_x = d_ans / (1.0 + np.exp(-x))\n"
    )
    (folder / "helpers.py").write_text("import numpy as np\n\n\ndef g(v):\n    return v * 2.0\n")
    (folder / "loss.py").write_text(
        "import numpy as np\nfrom helpers import g\nfrom mylib import softplus\n\n\n"
        "def loss(x, y):\n    return np.sum(softplus(g(x)) * y)\n"
    )
    args = ["loss.py::loss", "--wrt", "x,y", "--rules", "my rules", "--include", "helpers.py"]
    assert main(["generate", *args, "-o", "out.py"]) == 0
    wanted = (folder / "out.py").read_text()
    (folder / "out.py").write_text(wanted.replace("def grad_loss", "def old_grad_loss"))
    assert main(["check", "out.py"]) == 1
    command = capsys.readouterr().err.split("regenerate it with: ", 1)[1].splitlines()[0]
    assert "--rules 'my rules'" in command and "--include helpers.py" in command
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", "import shlex, sys; from codegen.cli import main; "
         "sys.exit(main(shlex.split(sys.argv[1])[1:]))", command],
        cwd=folder, capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    assert (folder / "out.py").read_text() == wanted
    assert main(["check", "out.py"]) == 0


def test_read_only_file_system(folder, capsys, monkeypatch):
    import errno

    import codegen.files

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(codegen.files.tempfile, "mkstemp", refuse)
    status, err = _run(capsys, "generate", "loss.py::loss", "-o", "out.py")
    assert status == 2
    assert _one_error(err) == "out.py: error: cannot write in .: Read-only file system; write somewhere else"


def test_the_header_command_regenerates_the_module_and_names_cannot_inject_code(folder, capsys):
    (folder / "my loss.py").write_text(LOSS)
    assert main(["generate", "my loss.py::loss", "-o", "out.py"]) == 0
    text = (folder / "out.py").read_text()
    command = text.splitlines()[1].removeprefix("#   ").replace("<this file>", "again.py")
    assert command.startswith("codegen generate 'my loss.py::loss' --wrt x")
    import shlex

    assert main(shlex.split(command)[1:]) == 0
    assert (folder / "again.py").read_text() == text
    # a newline in a file name would have put a line of code into the generated module
    (folder / "x\nimport os#.py").write_text(LOSS)
    status, err = _run(capsys, "generate", "x\nimport os#.py::loss", "-o", "evil.py")
    assert status == 2 and "control character" in _one_error(err)
    assert not (folder / "evil.py").exists()


def test_an_output_that_is_not_a_regular_file_is_refused(folder, capsys):
    """The rename replaced a device node or a pipe with a regular file (as root,
    `-o /dev/full` replaced /dev/full)."""
    os.mkfifo(folder / "pipe")
    status, err = _run(capsys, "generate", "loss.py::loss", "-o", "pipe")
    assert status == 2 and "not a regular file" in _one_error(err)
    assert (folder / "pipe").is_fifo()


@pytest.mark.parametrize("option", [["--directions", "0"], ["--tolerance", "nan"], ["--tolerance", "-1"]])
def test_verify_refuses_a_check_that_checks_nothing(folder, capsys, option):
    (folder / "inputs.py").write_text("import numpy as np\n\ndef make():\n    return {'x': np.ones(2), 'y': np.ones(2)}\n")
    with pytest.raises(SystemExit) as info:
        main(["verify", "loss.py::loss", "--inputs", "inputs.py::make", *option])
    assert info.value.code == 2
    assert "expected a" in capsys.readouterr().err.splitlines()[-1]
