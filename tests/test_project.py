"""A project's [tool.codegen] targets: `codegen build`, `codegen check` with no
modules, `codegen.check()`/`codegen.build()`, the emitted test, the headers' fast
path, the rules cache, and the whole workflow a user's project goes through
(pre-commit's hooks and a wheel built by hatchling with codegen's build hook)."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import codegen
from codegen import CodegenError, headers
from codegen.cli import main
from conftest import EXAMPLES, ROOT

LOSS = textwrap.dedent("""\
    import numpy as np


    def loss(w, b, X, y):
        z = X @ w + b
        return np.mean(np.logaddexp(0.0, z) - y * z)


    def example_inputs():
        rng = np.random.default_rng(0)
        return {"w": rng.normal(size=3), "b": 0.1, "X": rng.normal(size=(20, 3)), "y": (rng.random(20) < 0.5) * 1.0}
""")
CONFIG = textwrap.dedent("""\
    [project]
    name = "pkg"
    version = "0.1"

    [tool.codegen]

    [[tool.codegen.targets]]
    source = "src/pkg/losses.py::loss"
    wrt = "w,b"
    mode = ["reverse", "forward"]
    test = "tests/test_losses_grad.py"

    [[tool.codegen.targets]]
    source = "src/pkg/other.py::loss"
    output = "src/pkg/generated/other_grad.py"
""")


def _project(root: Path, config: str = CONFIG) -> Path:
    (root / "src/pkg/generated").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src/pkg/__init__.py").write_text("")
    (root / "src/pkg/losses.py").write_text(LOSS)
    (root / "src/pkg/other.py").write_text("import numpy as np\n\n\ndef loss(x):\n    return np.sum(np.sin(x) ** 2)\n")
    (root / "pyproject.toml").write_text(config)
    return root / "pyproject.toml"


def test_build_writes_the_stale_targets_and_only_those(tmp_path, monkeypatch, capsys):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path / "src")  # the nearest pyproject.toml above is found
    assert main(["check"]) == 1
    assert main(["build"]) == 0
    err = capsys.readouterr().err
    for name in ("src/pkg/losses_grad.py", "tests/test_losses_grad.py", "src/pkg/generated/other_grad.py"):
        assert f"wrote {name} (missing)" in err
    assert err.strip().endswith("3 written, 0 up to date")
    module = tmp_path / "src/pkg/losses_grad.py"
    assert "# source: src/pkg/losses.py::loss\n" in module.read_text()  # relative to the project
    assert main(["check"]) == 0
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*_grad.py")}

    source = tmp_path / "src/pkg/other.py"
    source.write_text(source.read_text().replace("** 2", "** 3"))
    assert main(["check"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("--- src/pkg/generated/other_grad.py (on disk)\n+++ src/pkg/generated/other_grad.py (generated now)")
    assert "src/pkg/generated/other_grad.py: stale; regenerate it with: codegen build" in err
    assert main(["build"]) == 0
    assert "1 written, 2 up to date" in capsys.readouterr().err
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*_grad.py")}
    assert after[module] == before[module]  # not rewritten
    assert main(["build", "--check"]) == 0


def test_an_up_to_date_check_generates_nothing(tmp_path, monkeypatch):
    pyproject = _project(tmp_path)
    codegen.build(pyproject)
    import codegen.pipeline as pipeline

    def refuse(*args, **kwargs):
        raise AssertionError("generated")

    monkeypatch.setattr(pipeline, "generate", refuse)
    assert codegen.check(pyproject) == []
    with pytest.raises(AssertionError, match="generated"):
        codegen.check(pyproject, regenerate=True)


@pytest.mark.parametrize("change", ["edit the module", "edit a rules file", "edit an include", "another version", "delete the test"])
def test_what_makes_a_target_stale(tmp_path, change):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/mine.py").write_text("import numpy as np\n")
    (tmp_path / "kernels.py").write_text("import numpy as np\n\n\ndef square(x):\n    return x * x\n")
    config = CONFIG.replace('test = "tests/test_losses_grad.py"', 'test = "tests/test_losses_grad.py"\nrules = ["rules"]\ninclude = ["kernels.py"]')
    pyproject = _project(tmp_path, config)
    codegen.build(pyproject)
    assert codegen.check(pyproject) == []
    module = tmp_path / "src/pkg/losses_grad.py"
    if change == "edit the module":
        edited = module.read_text().replace("del d_z", "del d_z  # edited")
        assert edited != module.read_text()
        module.write_text(edited)
    elif change == "edit a rules file":
        (tmp_path / "rules/mine.py").write_text("import numpy as np  # edited\n")
    elif change == "edit an include":
        (tmp_path / "kernels.py").write_text("import numpy as np\n\n\ndef square(x):\n    return x ** 2\n")
    elif change == "another version":
        module.write_text(module.read_text().replace(f"codegen {codegen.__version__}.", "codegen 0.0.1."))
    else:
        (tmp_path / "tests/test_losses_grad.py").unlink()
    stale = codegen.check(pyproject)
    if change in ("edit a rules file", "edit an include"):
        # the inputs' digest differs: generated again, the module is the same text
        # but for that digest
        assert [s.path for s in stale] == ["src/pkg/losses_grad.py"]
        assert "-# inputs sha256:" in stale[0].diff
    elif change == "delete the test":
        assert [(s.path, s.reason) for s in stale] == [("tests/test_losses_grad.py", "missing")]
    else:
        assert [s.path for s in stale] == ["src/pkg/losses_grad.py"]
        assert stale[0].diff.startswith("--- src/pkg/losses_grad.py (on disk)")
    written = codegen.build(pyproject)
    assert [w.path for w in written] == [s.path for s in stale]
    assert codegen.check(pyproject) == []


BAD_TABLES = [
    ("[tool.codegen]\nrulez = []\n", 2, "unknown key `rulez` in [tool.codegen]"),
    ("[tool.codegen]\n", 1, "[tool.codegen] needs targets"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py\"\n", 4, "target 1: `source` must be \"PATH::FUNCTION\""),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\nwrtt = \"x\"\n", 5, "target 1: unknown key `wrtt`"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\nwrt = \"x y\"\n", 5, "target 1: `wrt` must name parameters"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\nmode = \"sideways\"\n", 5, "target 1: `mode` must be one or more of"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\noutput = \"a.py\"\n", 5, "target 1: `output` is the source file a.py"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\noutput = \"a.txt\"\n", 5, "target 1: `output` must be the path of a .py file"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\n\n[[tool.codegen.targets]]\nsource = \"b.py::f\"\noutput = \"a_grad.py\"\n", 0, "two targets write a_grad.py"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"../a.py::f\"\n", 4, "is outside the project"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\ntest = \"check.py\"\n", 5, "`test` must be the path of a pytest file"),
    ("[tool.codegen]\n\n[[tool.codegen.targets]]\nsource = \"a.py::f\"\nmode = \"hvp\"\ntest = \"test_a.py\"\n", 6, "`test` checks the gradient or the JVP"),
    ("[tool.codegen\n", 1, "not valid TOML"),
]


@pytest.mark.parametrize("table, line, message", BAD_TABLES, ids=[b[2] for b in BAD_TABLES])
def test_a_bad_table_is_exit_2_with_the_file_line_and_key(tmp_path, monkeypatch, capsys, table, line, message):
    (tmp_path / "pyproject.toml").write_text(table)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--project", "pyproject.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pyproject.toml:" + (f"{line}:" if line else "")), err
    assert message in err and len(err.splitlines()) == 1, err
    with pytest.raises(CodegenError):
        codegen.check(tmp_path / "pyproject.toml")


def test_no_table_says_what_to_do(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = \"x\"\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert "no pyproject.toml with a [tool.codegen] table here or above" in capsys.readouterr().err


def test_an_error_in_one_loss_writes_nothing(tmp_path, capsys, monkeypatch):
    pyproject = _project(tmp_path)
    (tmp_path / "src/pkg/other.py").write_text("import numpy as np\n\n\ndef loss(x):\n    return np.sum(mystery(x))\n")
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 2
    assert "src/pkg/other.py:5:" in capsys.readouterr().err
    assert not (tmp_path / "src/pkg/losses_grad.py").exists()  # the good target was not written either
    with pytest.raises(CodegenError):
        codegen.build(pyproject)


def test_emitted_test_passes_then_catches_a_wrong_module(tmp_path):
    pyproject = _project(tmp_path)
    codegen.build(pyproject)
    test = tmp_path / "tests/test_losses_grad.py"
    assert "def test_losses_grad_gradient():" in test.read_text() and "def test_losses_grad_jvp():" in test.read_text()
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)]
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    module = tmp_path / "src/pkg/losses_grad.py"
    wrong = module.read_text().replace("d_b = _unbroadcast(d_z, b, t1)", "d_b = 1.01 * _unbroadcast(d_z, b, t1)")
    assert wrong != module.read_text()
    module.write_text(wrong)
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout  # (the JVP is compared with grad . t)


def test_generate_emit_test(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "losses.py").write_text(LOSS)
    assert main(["generate", "losses.py::loss", "--wrt", "w,b", "-o", "losses_grad.py", "--emit-test", "test_losses_grad.py"]) == 0
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_losses_grad.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for args, words in [
        (["--emit-test", "test_x.py"], "give -o OUT too"),
        (["-o", "g.py", "--emit-test", "check.py"], "test_*.py"),
        (["-o", "g.py", "--emit-test", "test_x.py", "--mode", "hvp"], "add --mode reverse"),
        (["-o", "g.py", "--inputs", "losses.py::example_inputs"], "give --emit-test too"),
    ]:
        assert main(["generate", "losses.py::loss", *args]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "g.py").exists()


def test_headers_seal_the_text():
    text = (EXAMPLES / "mlp_grad.py").read_text()
    header = headers.read(text)
    assert header.sealed and header.version == codegen.__version__ and header.wrt == ("W1", "b1", "W2", "b2")
    assert "d_W1 = _matmul_dy" in text and not headers.read(text.replace("d_W1 = _matmul_dy", "d_W1 = 1.5 * _matmul_dy")).sealed
    assert headers.read(headers.seal(text.replace("# module sha256:", "# was:"))).source == header.source


def test_the_rules_cache_changes_nothing_but_the_time(tmp_path):
    # Generate every example with no cache, with a cache being written, with it read,
    # and with a corrupt cache file: the same bytes each time.
    script = textwrap.dedent("""\
        import sys
        from pathlib import Path
        import codegen
        out = []
        for path in sorted(Path(sys.argv[1]).glob("*.py")):
            if path.stem.endswith(("_grad", "_jvp")) or path.stem == "helpers":
                continue
            text = path.read_text()
            name = "rosenbrock" if path.stem == "rosenbrock" else "nll" if path.stem == "gaussian_nll" else "loss"
            out.append(codegen.generate(text, name, None, path=path.name))
        sys.stdout.write("".join(out))
    """)
    runs = []
    for setting in ["off", "cache", "cache", "corrupt"]:
        env = dict(os.environ, CODEGEN_CACHE_DIR="off" if setting == "off" else str(tmp_path / "cache"))
        if setting == "corrupt":
            for path in (tmp_path / "cache").glob("rules-*.pickle"):
                path.write_bytes(b"not a pickle")
        done = subprocess.run([sys.executable, "-c", script, str(EXAMPLES)], env=env, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout)
    assert len(list((tmp_path / "cache").glob("rules-*.pickle"))) == 1
    assert runs[0] and runs.count(runs[0]) == 4


@pytest.mark.skipif(shutil.which("git") is None, reason="the workflow test needs git (pre-commit runs in a git repository)")
def test_the_whole_workflow_of_a_user_project(tmp_path):
    """A project with codegen's hatchling hook and pre-commit hooks: edit the loss ->
    `codegen check` fails with a diff -> pre-commit's fix hook regenerates -> `python
    -m build` makes a wheel holding the fresh module -> the emitted test passes."""
    pytest.importorskip("build")
    pre_commit = shutil.which("pre-commit") or pytest.skip("pre-commit is not installed (pip install '.[test]')")
    project = tmp_path / "project"
    project.mkdir()
    _project(project, _readme_block("project-pyproject"))  # the README's table
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")

    def run(*command, ok=True):
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert (done.returncode == 0) == ok, " ".join(command) + "\n" + done.stdout + done.stderr
        return done

    run(sys.executable, "-m", "codegen", "build")
    run("git", "init", "-q", ".")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "a project")

    loss = project / "src/pkg/losses.py"
    loss.write_text(loss.read_text().replace("np.mean(np.logaddexp(0.0, z) - y * z)", "np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(w ** 2)"))
    checked = run(sys.executable, "-m", "codegen", "check", ok=False)
    assert "+++ src/pkg/losses_grad.py (generated now)" in checked.stdout and "codegen build" in checked.stderr

    # pre-commit's hooks, from this repository's .pre-commit-hooks.yaml
    hooked = run(pre_commit, "try-repo", str(ROOT), "codegen-check", "--all-files", ok=False)
    assert "codegen check" in hooked.stdout and "Failed" in hooked.stdout
    fixed = run(pre_commit, "try-repo", str(ROOT), "codegen-build", "--all-files", ok=False)
    assert "files were modified by this hook" in fixed.stdout, fixed.stdout
    assert "0.01 * np.sum(w**2)" in (project / "src/pkg/losses_grad.py").read_text()
    run(sys.executable, "-m", "codegen", "check")

    # A wheel, with codegen's hook regenerating in an isolated build environment
    # (codegen from a wheel of this checkout). The module is deleted first: the
    # hook must write it.
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(wheels))
    (project / "src/pkg/losses_grad.py").unlink()
    links = " ".join([str(wheels), os.environ.get("PIP_FIND_LINKS", "")]).strip()
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "-o", str(tmp_path / "dist"), "."], cwd=project,
                           env=dict(env, PIP_FIND_LINKS=links), capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "codegen: wrote src/pkg/losses_grad.py (missing)" in built.stdout + built.stderr
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("pkg-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("pkg/losses_grad.py").decode()
    assert packaged == (project / "src/pkg/losses_grad.py").read_text()
    assert "0.01 * np.sum(w**2)" in packaged

    tested = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    assert "2 passed" in tested.stdout


def _readme_block(marker: str) -> str:
    """The fenced block after `<!-- marker -->` in the README (its indentation off)."""
    text = (ROOT / "README.md").read_text()
    after = text.split(f"<!-- {marker} -->\n", 1)[1]
    block = after.split("```", 2)[1]
    return textwrap.dedent(block.split("\n", 1)[1])


def test_the_readme_snippets(tmp_path):
    # "Use it in your project": the pyproject table builds, the CI line gates it, the
    # golden test passes and then fails with the diff, and the pre-commit snippet
    # names hooks this repository ships.
    project = tmp_path / "project"
    project.mkdir()
    pyproject = _project(project, _readme_block("project-pyproject"))
    assert [w.path for w in codegen.build(pyproject)] == ["src/pkg/losses_grad.py", "tests/test_losses_grad.py"]
    ci = subprocess.run(["bash", "-c", _readme_block("project-ci")], cwd=project, capture_output=True, text=True,
                        env=dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]))
    assert ci.returncode == 0, ci.stderr
    (project / "tests/test_golden.py").write_text(_readme_block("project-golden-test"))
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    done = subprocess.run(run, cwd=project, capture_output=True, text=True)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout + done.stderr
    loss = project / "src/pkg/losses.py"
    loss.write_text(loss.read_text().replace("np.mean(", "0.5 * np.mean("))
    done = subprocess.run(run + ["-k", "golden"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 1 and "regenerate them with: codegen build" in done.stdout, done.stdout
    assert "+++ src/pkg/losses_grad.py (generated now)" in done.stdout

    yaml = pytest.importorskip("yaml")
    snippet = yaml.safe_load(_readme_block("project-pre-commit"))
    shipped = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    named = {hook["id"] for repo in snippet["repos"] for hook in repo["hooks"]}
    assert named and named <= shipped == {"codegen-check", "codegen-build"}
