"""`codegen graph` (`codegen.graph`): the computational graph of the simpleton form.

Nodes are the function's parameters (those differentiated with respect to, `wrt`,
filled blue; data grey), its steps (the operation, the step's name and source line;
steps that depend on a wrt parameter are "active", drawn solid; steps on data only
dashed and grey) and what it returns. Edges are data dependencies: an edge from
each variable a step reads to the step. The steps of a loop's body, and of each
branch of an `if`, are drawn in a box of their own (a cluster) labelled with the
loop's header or the branch's test. With values (`at=`: an Explanation of the same
function), each node shows its value and the derivative the mode carries.

Two outputs: DOT (Graphviz's language, always available, deterministic text) and
SVG. SVG comes from Graphviz's `dot` where it is installed (`layout="graphviz"`,
or "auto" finds it), and otherwise from the layered layout here (`layout="builtin"`:
pure Python, no dependency, so `codegen graph -o graph.svg` works on a machine with
nothing else installed): each node on the row after the rows of what it reads
(longest-path layering), rows ordered to keep edges short (barycentre sweeps), edges
drawn as curves from row to row, clusters as boxes around their nodes.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field

from . import ir
from .errors import CodegenError
from .evaluation import summary
from .expressions import code
from .lowering import render
from .rules import Rule


@dataclass
class Node:
    id: str
    label: str  # first line: what it is; then the source line; then values
    kind: str  # "wrt", "data", "active", "inactive", "result"
    cluster: int | None = None
    extra: list[str] = field(default_factory=list)


@dataclass
class Cluster:
    id: int
    label: str
    parent: int | None


@dataclass
class Graph:
    """Nodes, edges (from id, to id) and clusters of one function; `dot()` and `svg()`
    give it as text, and in Jupyter it shows as SVG."""

    name: str
    nodes: list[Node]
    edges: list[tuple[str, str]]
    clusters: list[Cluster]
    layout: str = "auto"
    back_edges: list[tuple[str, str]] = field(default_factory=list)  # a loop's carried values

    def dot(self) -> str:
        lines = [f'digraph "{_escape(self.name)}" {{', "  rankdir=TB;",
                 '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded"];',
                 '  edge [color="#555555", arrowsize=0.7];']

        def emit(cluster_id, indent):
            for node in self.nodes:
                if node.cluster == cluster_id:
                    lines.append(f"{indent}{_dot_node(node)}")
            for cluster in self.clusters:
                if cluster.parent == cluster_id:
                    lines.append(f"{indent}subgraph cluster_{cluster.id} {{")
                    lines.append(f'{indent}  label="{_escape(cluster.label)}"; style="rounded,dashed"; color="#888888";'
                                 ' fontname="Helvetica"; fontsize=10;')
                    emit(cluster.id, indent + "  ")
                    lines.append(f"{indent}}}")

        emit(None, "  ")
        lines += [f'  "{a}" -> "{b}";' for a, b in self.edges]
        lines += [f'  "{a}" -> "{b}" [style=dashed, color="#aa5500", constraint=false, label="next"];'
                  for a, b in self.back_edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def svg(self) -> str:
        dot = shutil.which("dot") if self.layout in ("auto", "graphviz") else None
        if self.layout == "graphviz" and dot is None:
            raise CodegenError("layout graphviz: Graphviz's `dot` is not installed; install Graphviz, or use "
                               "--layout builtin", "dot")
        if dot is not None:
            run = subprocess.run([dot, "-Tsvg"], input=self.dot(), capture_output=True, text=True, timeout=60)
            if run.returncode == 0:
                return run.stdout
            if self.layout == "graphviz":
                raise CodegenError(f"Graphviz's dot failed: {' '.join(run.stderr.split())}", "dot")
        return _builtin_svg(self)

    def _repr_svg_(self) -> str:
        return self.svg()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_STYLE = {
    "wrt": 'style="rounded,filled", fillcolor="#cfe0ff", color="#2255aa", penwidth=1.6',
    "data": 'style="rounded,filled", fillcolor="#eeeeee", color="#999999", fontcolor="#666666"',
    "active": 'style="rounded,filled", fillcolor="#fff6d5", color="#333333"',
    "inactive": 'style="rounded,dashed", color="#999999", fontcolor="#777777"',
    "result": 'style="rounded,filled,bold", fillcolor="#d9f2d9", color="#226622"',
}


def _dot_node(node: Node) -> str:
    label = "\\n".join(_escape(line) for line in [node.label, *node.extra])
    return f'"{node.id}" [label="{label}", {_STYLE[node.kind]}];'


# -- building the graph from the simpleton form -----------------------------------------


def build(function: ir.Function, wrt, explanation=None, layout: str = "auto") -> Graph:
    """The graph of `function` (normalize's output), `wrt` its differentiated
    parameters; with an Explanation of it, values and derivatives on the nodes."""
    rows = {r.name: r for r in explanation.rows} if explanation is not None else {}
    nodes: list[Node] = []
    edges: list[tuple[str, str]] = []
    clusters: list[Cluster] = []
    producer: dict[str, str] = {}
    active: set[str] = set(wrt)
    counter = [0]

    def values(name):
        row = rows.get(name)
        if row is None:
            return []
        out = [f"= {summary(row.value)}"]
        if row.derivative is not None:
            out.append(("d/d· " if explanation.mode == "forward" else "adjoint ") + summary(row.derivative))
        return out

    for p in function.params:
        kind = "wrt" if p.name in wrt else "data"
        node = Node(f"in:{p.name}", p.name + (" (wrt)" if p.name in wrt else ""), kind, extra=values(p.name))
        nodes.append(node)
        producer[p.name] = node.id

    def reads_of(statement):
        if isinstance(statement, ir.Step):
            return list(statement.vars())
        return list(ir.vars_of(statement.value))

    # which steps depend on a wrt parameter: to a fixed point, for values loops carry
    while True:
        before = len(active)
        for statement in ir.walk(function.body):
            if isinstance(statement, (ir.Step, ir.Assign)) and any(r in active for r in reads_of(statement)):
                active.add(statement.target)
        if len(active) == before:
            break

    def add_step(statement, cluster, carried_from):
        counter[0] += 1
        reads = reads_of(statement)
        if isinstance(statement, ir.Step):
            definition = code(render(statement.rule, statement.args, statement.given)) if isinstance(statement.rule, Rule) else statement.rule.name
            label = f"{statement.target} = {definition}"
        else:  # a copy: a merge after a branch, a loop's carried value
            label = f"{statement.target} = {code(ir.node_of(statement.value))}"
        node_id = f"s{counter[0]}:{statement.target}"
        if len(label) > 48:
            label = label[:47] + "…"
        kind = "active" if statement.target in active else "inactive"
        nodes.append(Node(node_id, label, kind, cluster, extra=[f"line {statement.origin.line}", *values(statement.target)]))
        for r in dict.fromkeys(reads):
            if r in producer:
                edges.append((producer[r], node_id))
            if r in carried_from and producer.get(r) == carried_from[r]:
                pending.append((r, node_id))  # reads the value the previous iteration left
        producer[statement.target] = node_id

    pending: list[tuple[str, str]] = []

    def walk(block, cluster, carried_from):
        for statement in block:
            if isinstance(statement, (ir.Step, ir.Assign)):
                add_step(statement, cluster, carried_from)
            elif isinstance(statement, ir.If):
                test = code(ir.node_of(statement.test))
                for label, body in ((f"if {test} (line {statement.origin.line})", statement.body),
                                    (f"else: not {test}", statement.orelse)):
                    if body:
                        clusters.append(Cluster(len(clusters), label, cluster))
                        walk(body, clusters[-1].id, carried_from)
            elif isinstance(statement, ir.Loop):
                clusters.append(Cluster(len(clusters), f"loop, line {statement.origin.line}: {statement.origin.text.strip()}", cluster))
                inner = clusters[-1].id
                entering = {name: producer.get(name) for name in statement.carried}
                outer_pending = list(pending)
                pending.clear()
                walk(statement.header, inner, dict(carried_from, **entering))
                walk(statement.body, inner, dict(carried_from, **entering))
                for name, reader in pending:  # the next iteration reads what this one left: a back edge
                    if producer.get(name) not in (None, entering.get(name)):
                        back_edges.append((producer[name], reader))
                pending[:] = outer_pending

    back_edges: list[tuple[str, str]] = []
    walk(function.body, None, {})
    if function.result is not None:
        result_reads = list(ir.vars_of(function.result))
        extra = []
        if explanation is not None:
            extra = [f"= {summary(explanation.value)}"]
            if explanation.mode == "forward":
                extra.append(f"d/d{explanation.seed} {summary(explanation.derivative)}")
        line = function.result_origin.line if function.result_origin else 0
        nodes.append(Node("result", f"return {code(ir.node_of(function.result))}", "result", None,
                          extra=[f"line {line}", *extra]))
        for r in dict.fromkeys(result_reads):
            if r in producer:
                edges.append((producer[r], "result"))
    return Graph(function.name, nodes, edges, clusters, layout, back_edges)


# -- the built-in layered layout ---------------------------------------------------------

_CHAR = 6.6  # px per character at 11px Helvetica, roughly
_LINE = 14
_GAP_X, _GAP_Y, _PAD = 24, 46, 8


def _builtin_svg(graph: Graph) -> str:
    ids = [n.id for n in graph.nodes]
    index = {n: i for i, n in enumerate(ids)}
    preds: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in graph.edges:
        preds[b].append(a)
    # longest-path layers (the nodes come in program order: every edge goes forward)
    # Layers: each node below what it reads; and a loop's or a branch's nodes in rows
    # of their own (entering or leaving a cluster starts a new row), so that its box
    # holds its nodes alone. The nodes come in program order, parameters first.
    layer: dict[str, int] = {}
    cluster_of = {n.id: n.cluster for n in graph.nodes}
    floor, deepest, previous = 0, -1, None
    for n in ids:
        if n.startswith("in:"):
            layer[n] = 1 + max((layer[p] for p in preds[n]), default=-1)
            continue
        if cluster_of[n] != previous:
            floor, previous = deepest + 1, cluster_of[n]
        layer[n] = max(floor, 1 + max((layer[p] for p in preds[n]), default=-1))
        deepest = max(deepest, layer[n])
    succs: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in graph.edges:
        succs[a].append(b)
    for n in ids:  # a parameter sits just above the first step that reads it
        if not preds[n] and succs[n]:
            layer[n] = max(0, min(layer[b] for b in succs[n]) - 1)
    rows: dict[int, list[str]] = {}
    for n in ids:
        rows.setdefault(layer[n], []).append(n)
    # barycentre ordering, two sweeps down
    position = {n: i for row in rows.values() for i, n in enumerate(row)}
    for _ in range(2):
        for depth in sorted(rows)[1:]:
            rows[depth].sort(key=lambda n: (sum(position[p] for p in preds[n]) / len(preds[n]) if preds[n] else position[n], index[n]))
            for i, n in enumerate(rows[depth]):
                position[n] = i
    size = {}
    for node in graph.nodes:
        lines = [node.label, *node.extra]
        size[node.id] = (max(len(t) for t in lines) * _CHAR + 2 * _PAD, len(lines) * _LINE + 2 * _PAD - 4)
    widths = {d: sum(size[n][0] for n in row) + _GAP_X * (len(row) - 1) for d, row in rows.items()}
    width = max(widths.values(), default=100) + 2 * 20 + (60 if graph.back_edges else 0)
    heights = {d: max(size[n][1] for n in row) for d, row in rows.items()}
    place = {}
    y = 20
    for depth in sorted(rows):
        x = (width - widths[depth]) / 2
        for n in rows[depth]:
            w, h = size[n]
            place[n] = (x, y + (heights[depth] - h) / 2, w, h)
            x += w + _GAP_X
        y += heights[depth] + _GAP_Y
    height = y
    fill = {"wrt": "#cfe0ff", "data": "#eeeeee", "active": "#fff6d5", "inactive": "#ffffff", "result": "#d9f2d9"}
    stroke = {"wrt": "#2255aa", "data": "#999999", "active": "#333333", "inactive": "#999999", "result": "#226622"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
           f"<title>{html.escape(graph.name)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    # clusters: boxes around their nodes (and their inner clusters' nodes)
    members: dict[int, list[str]] = {c.id: [] for c in graph.clusters}
    parents = {c.id: c.parent for c in graph.clusters}
    for node in graph.nodes:
        c = node.cluster
        while c is not None:
            members[c].append(node.id)
            c = parents[c]
    for cluster in graph.clusters:
        inside = [place[n] for n in members[cluster.id]]
        if not inside:
            continue
        depth = 0
        c = cluster.parent
        while c is not None:
            depth, c = depth + 1, parents[c]
        margin = 14 - 4 * min(depth, 2)
        x0 = min(p[0] for p in inside) - margin
        y0 = min(p[1] for p in inside) - margin - 12
        x1 = max(p[0] + p[2] for p in inside) + margin
        y1 = max(p[1] + p[3] for p in inside) + margin
        out.append(f'<g class="cluster"><rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                   f'rx="8" fill="none" stroke="#888" stroke-dasharray="5,3"/>'
                   f'<text x="{x0 + 6:.1f}" y="{y0 + 12:.1f}" fill="#666" font-size="10">{html.escape(cluster.label)}</text></g>')
    lanes = 0
    for a, b in graph.edges:
        ax, ay, aw, ah = place[a]
        bx, by, bw, bh = place[b]
        x0, y0, x1, y1 = ax + aw / 2, ay + ah, bx + bw / 2, by
        between = [place[n] for d in range(layer[a] + 1, layer[b]) for n in rows[d]]
        if not between:
            middle = (y0 + y1) / 2
            d = f"M {x0:.1f} {y0:.1f} C {x0:.1f} {middle:.1f}, {x1:.1f} {middle:.1f}, {x1:.1f} {y1:.1f}"
        else:  # past the rows between: down a lane of its own, right of them
            lanes += 1
            lane = max(p[0] + p[2] for p in between) + 10 + 9 * lanes
            top, bottom = y0 + _GAP_Y / 2, y1 - _GAP_Y / 2
            d = (f"M {x0:.1f} {y0:.1f} C {x0:.1f} {top:.1f}, {lane:.1f} {y0:.1f}, {lane:.1f} {top:.1f} "
                 f"L {lane:.1f} {bottom:.1f} C {lane:.1f} {y1:.1f}, {x1:.1f} {bottom:.1f}, {x1:.1f} {y1:.1f}")
            width = max(width, lane + 20)
        out.append(f'<path class="edge" d="{d}" fill="none" stroke="#555" stroke-width="1" marker-end="url(#arrow)"/>')
    for a, b in graph.back_edges:  # a loop's carried value: from the end of the body back to its reader
        ax, ay, aw, ah = place[a]
        bx, by, bw, bh = place[b]
        x0, y0, x1, y1 = ax + aw, ay + ah / 2, bx + bw, by + bh / 2
        bulge = max(x0, x1) + 40
        out.append(f'<path class="back-edge" d="M {x0:.1f} {y0:.1f} C {bulge:.1f} {y0:.1f}, {bulge:.1f} {y1:.1f}, {x1:.1f} {y1:.1f}" '
                   'fill="none" stroke="#aa5500" stroke-dasharray="5,3" marker-end="url(#arrow)"/>')
    for node in graph.nodes:
        x, y, w, h = place[node.id]
        dash = ' stroke-dasharray="4,3"' if node.kind == "inactive" else ""
        bold = "1.6" if node.kind in ("wrt", "result") else "1"
        out.append(f'<g class="node {node.kind}" id="{html.escape(node.id)}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" rx="6" fill="{fill[node.kind]}" stroke="{stroke[node.kind]}" stroke-width="{bold}"{dash}/>')
        color = "#777" if node.kind in ("data", "inactive") else "#111"
        for i, text in enumerate([node.label, *node.extra]):
            weight = ' font-weight="bold"' if i == 0 else ""
            size_attr = "" if i == 0 else ' font-size="10"'
            out.append(f'<text x="{x + _PAD:.1f}" y="{y + _PAD + 10 + i * _LINE:.1f}" fill="{color}"{weight}{size_attr}>'
                       f"{html.escape(text)}</text>")
        out.append("</g>")
    out.append("</svg>")
    out[0] = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
              f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">')
    return "\n".join(out) + "\n"


def graph_function(f, at=None, wrt=None, *, mode: str = "reverse", layout: str = "auto", rules=(), include=()) -> Graph:
    """The graph of a Python function `f` (or "PATH::FUNC"), its source read as
    `explain` reads it; with `at` (keyword arguments), the values and derivatives
    on the nodes (which runs f's generated code, as `explain` does)."""
    from .evaluation import _source_of, explain
    from .files import read_source

    source, name, path, user = _source_of(f)
    includes = {str(p): read_source(p) for p in include}
    explanation = None
    if at is not None:
        explanation = explain(source, name, at, wrt, mode=mode, path=path, rules_dirs=rules, include=includes,
                              user_function=user)
    function, names = simpleton(source, name, wrt, path=path, rules_dirs=rules, include=includes)
    return build(function, names, explanation, layout)


def simpleton(source, function, wrt, *, path="<string>", rules_dirs=(), include=None):
    """(normalize's form of `function`, its wrt names): what the graph draws."""
    from .pipeline import explained

    simple, names, _registry, _text = explained(source, function, wrt, mode="forward", path=path,
                                                rules_dirs=rules_dirs, include=include)
    return simple, names
