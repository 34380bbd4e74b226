"""`codegen graph` (issue 16): the computational graph of the simpleton form.

Golden DOT for two examples (the lecture's chain, and a loop with branches); the
built-in SVG parsed as XML and checked to name every step; the explain page opened
in a real headless browser where one is installed."""

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

import codegen
from codegen.drawing import build, simpleton
from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
CASES = [("generated_examples/seed_chain.py", "loss", "W"), ("generated_examples/fixed_point.py", "loss", "theta")]


def _graph(path, function, wrt, **kwargs):
    simple, names = simpleton((ROOT / path).read_text(), function, wrt, path=path)
    return build(simple, names, **kwargs), simple


@pytest.mark.parametrize("path, function, wrt", CASES)
def test_the_dot_is_the_golden_one(path, function, wrt):
    graph, _ = _graph(path, function, wrt)
    golden = GOLDEN / f"graph_{os.path.basename(path)[:-3]}.dot"
    assert graph.dot() == golden.read_text(), (
        f"{golden.relative_to(ROOT)} differs; if the change is meant, write it again with "
        f"codegen graph {path}::{function} --wrt {wrt} -o {golden.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("path, function, wrt", CASES + [("generated_examples/mlp.py", "loss", "W1"),
                                                         ("generated_examples/mlp_params.py", "loss", "params")])
def test_the_builtin_svg_is_well_formed_and_names_every_step(path, function, wrt):
    graph, simple = _graph(path, function, wrt, layout="builtin")
    svg = graph.svg()
    root = ElementTree.fromstring(svg)  # raises on malformed XML
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    from codegen import ir

    steps = [s.target for s in ir.walk(simple.body) if isinstance(s, (ir.Step, ir.Assign))]
    assert steps
    for step in steps:
        assert any(t and t.startswith(f"{step} = ") for t in texts), step
    nodes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "node" in (g.get("class") or "")]
    assert len(nodes) == len(graph.nodes)
    # wrt parameters, active steps and data are drawn apart
    kinds = {g.get("class").split()[1] for g in nodes}
    assert {"wrt", "active"} <= kinds


def test_values_on_the_nodes():
    graph = codegen.graph(f"{ROOT / CASES[0][0]}::loss", at={"W": 3.0, "X": 3.0, "y": 1.0}, wrt="W", mode="forward")
    dot = graph.dot()
    assert "= -9" in dot and "d/dW -0.00037018372796" in dot


def test_the_graph_of_a_loop_has_its_cluster_and_carried_values():
    graph, _ = _graph(*CASES[1])
    dot = graph.dot()
    assert "subgraph cluster_" in dot and "loop, line 12" in dot
    assert graph.back_edges  # x and result carried from one iteration to the next


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "codegen", "graph", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env)


def test_cli_writes_dot_and_svg(tmp_path):
    run = _cli("generated_examples/seed_chain.py::loss", "--wrt", "W")
    assert run.returncode == 0 and run.stdout == (GOLDEN / "graph_seed_chain.dot").read_text()
    out = tmp_path / "g.svg"
    run = _cli("generated_examples/seed_chain.py::loss", "--at", "W=3,X=3,y=1", "--layout", "builtin", "-o", str(out))
    assert run.returncode == 0, run.stderr
    ElementTree.fromstring(out.read_text())
    run = _cli("generated_examples/seed_chain.py::loss", "-o", str(tmp_path / "g.pdf"))
    assert run.returncode == 2 and "ending in .dot, .svg or .png" in run.stderr


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium installed (apt-get install chromium)")
def test_the_explain_page_renders_in_a_headless_browser(tmp_path):
    """The page `codegen explain --format html` writes, opened in Chromium: its DOM
    holds the table's rows and the graph's nodes, and a screenshot is taken (the
    README's is docs/explain_page.png)."""
    page = tmp_path / "mlp.html"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "codegen", "explain", "generated_examples/mlp.py::loss", "--at",
                          "generated_examples/mlp.py::example_inputs", "--format", "html", "-o", str(page)],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    flags = ["--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars"]
    dom = subprocess.run([_browser(), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "log_probs" in dom.stdout and "<svg" in dom.stdout and dom.stdout.count("<tr") >= 20
    shot = tmp_path / "page.png"
    subprocess.run([_browser(), *flags, f"--screenshot={shot}", "--window-size=1400,1200", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
