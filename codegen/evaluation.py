"""`codegen explain` (`codegen.explain`): the lecture's evaluation table for any
loss, at given inputs.

One row per simpleton step ξi of the loss (as normalize writes it: `xi2 =
np.exp(xi1)`), with the source line it comes from, its definition, its local
partial derivatives written from the rule (`∂xi2/∂xi1 = xi2`), in the arguments that
carry a derivative, the value of
the step, the value of each local partial, and the derivative the chosen mode
carries: in forward mode the tangent dξi/dW (the lecture's last column), in
reverse mode the adjoint ∂L/∂ξi. The parameters come first, as rows of their own.

The values are read off the code codegen generates, run once at the inputs with
every assignment recorded: the table shows what generated code computes, step by
step (reverse mode is generated without fusions here, so every step keeps its
adjoint). This runs code built from the user's function, and explain runs the
function itself too (to compare its value); generation never does.

A local partial is written as a factor where the rule is elementwise (`∂xi4/∂xi3 =
-(xi4 / xi3)`); for any other rule it is the linear map itself, as the rule's
adjoint (reverse) or tangent (forward) line applied to the step (`d_x = d_y @ W.T`),
and its value is not shown. Arrays show their shape and a summary (the first
values, min, max). A step inside a loop shows how many times it ran and the
values of its last run.
"""

from __future__ import annotations

import ast
import copy
import html as html_module
from dataclasses import dataclass, field
from typing import Mapping

import libcst as cst
import numpy as np

from . import ir
from .errors import CodegenError
from .expressions import code, fold_static, substitute
from .lowering import render
from .optimize import simplify
from .pipeline import explained
from .rules import Rule, _inlined

TRACE = "__codegen_explain_trace__"


@dataclass
class Row:
    """One row of the table: a parameter (kind "input") or a step."""

    name: str
    kind: str  # "input", "step", "result" (forward mode's last row: what the function returns)
    line: int
    source: str
    definition: str
    partials: tuple[tuple[str, str], ...] = ()  # (with respect to, expression)
    value: object = None
    partial_values: tuple = ()  # one per partial, or None where not shown
    derivative: object = None  # None: none carried (data, or folded away)
    count: int = 1
    active: bool = False
    runs: tuple = ()  # a step that ran more than once: (value, derivative or None) per run


@dataclass
class Explanation:
    """The table, and what it was computed for. `str()` is the text table;
    `markdown()`, `html()` the other formats; in Jupyter it shows as HTML."""

    function: str
    path: str
    mode: str
    wrt: tuple[str, ...]
    inputs: dict
    rows: list[Row]
    value: object
    derivative: object  # reverse: the gradient (a tuple for several wrt); forward: the tangent
    seed: str  # forward mode: the direction, in words
    user_value: object = None
    notes: list[str] = field(default_factory=list)
    simpleton: object = None  # normalize's form of the function (what `html()` draws)
    iterations: bool = False  # a row per run of a step in a loop, below its own

    # -- formats -------------------------------------------------------------------

    def _columns(self) -> list[str]:
        carried = f"d·/d{self.seed}" if self.mode == "forward" else f"∂{self._result_name()}/∂·"
        return ["step", "line", "definition", "local partial", "value", "partial value", carried]

    def _result_name(self) -> str:
        """What the function returns (the loss, not an aux value after it), as written."""
        if self.simpleton is not None and self.simpleton.result is not None:
            return code(ir.node_of(self.simpleton.result))
        return self.function

    def _cells(self) -> list[list[str]]:
        out = []
        for row in self.rows:
            name = row.name + (f" (×{row.count})" if row.count > 1 else "")
            if row.kind == "input":
                name += " (wrt)" if row.active else " (data)"
            partials = "; ".join(f"∂{row.name}/∂{w} = {e}" if not e.startswith(("d_", "t_")) else e for w, e in row.partials)
            values = "; ".join(summary(v) for v in row.partial_values if v is not None)
            derivative = "—" if row.derivative is None else summary(row.derivative)
            out.append([name, str(row.line or ""), row.definition, partials, summary(row.value), values, derivative])
            if self.iterations:
                for k, (value, carried) in enumerate(row.runs):
                    out.append([f"  {row.name} run {k + 1}", "", "", "", summary(value), "",
                                "—" if carried is None else summary(carried)])
        return out

    def _heading(self) -> list[str]:
        at = ", ".join(f"{k}={summary(v)}" for k, v in self.inputs.items())
        lines = [f"{self.path}::{self.function} at {at}"]
        if self.mode == "forward":
            lines.append(f"forward mode: each step's derivative along {self.seed} (its tangent)")
        else:
            lines.append(f"reverse mode: each step's adjoint, the derivative of the result {self._result_name()} in it")
        lines.append(f"value {summary(self.value)}" + (
            f" (the function itself, run: {summary(self.user_value)})" if self.user_value is not None else ""))
        if self.mode == "reverse":
            grads = self.derivative if len(self.wrt) > 1 else (self.derivative,)
            lines += [f"gradient in {w}: {summary(g)}" for w, g in zip(self.wrt, grads)]
        else:
            lines.append(f"derivative along {self.seed}: {summary(self.derivative)}")
        return lines + self.notes

    def text(self) -> str:
        cells = [self._columns()] + self._cells()
        widths = [min(max(len(r[i]) for r in cells), 60) for i in range(len(cells[0]))]

        def fit(text, width):
            return text if len(text) <= width else text[: width - 1] + "…"

        table = ["  ".join(fit(c, w).ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        table.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(self._heading() + [""] + table) + "\n"

    def markdown(self) -> str:
        def cell(text):
            return text.replace("|", "\\|")

        lines = [f"**{line}**" if i == 0 else line for i, line in enumerate(self._heading())]
        lines = ["  \n".join(lines), ""]
        lines.append("| " + " | ".join(self._columns()) + " |")
        lines.append("|" + "---|" * len(self._columns()))
        lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in self._cells()]
        return "\n".join(lines) + "\n"

    def html_table(self) -> str:
        esc = html_module.escape
        head = "".join(f"<th>{esc(c)}</th>" for c in self._columns())
        body = []
        for row, cells in zip(self.rows, self._cells()):
            kind = "wrt" if row.kind == "input" and row.active else "data" if row.kind == "input" or not row.active else "active"
            body.append(f'<tr class="{kind}">' + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        heading = "<br>".join(esc(line) for line in self._heading())
        return (f'<div class="codegen-explain"><p>{heading}</p><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.html_table()

    def html(self, layout: str = "auto") -> str:
        """One self-contained page: the table, and the computational graph (SVG) with
        these values on its nodes."""
        parts = [self.html_table()]
        if self.simpleton is not None:
            from .drawing import build

            parts.append('<h2>Computational graph</h2><div class="codegen-graph">' + build(
                self.simpleton, self.wrt, self, layout).svg() + "</div>")
        return page(f"{self.path}::{self.function}", *parts)

    def __str__(self) -> str:
        return self.text()


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td { font-family: ui-monospace, monospace; }
tr.wrt td { background: #e8f0ff; }
tr.data td { color: #888; }
"""


def page(title: str, *parts: str) -> str:
    """A self-contained HTML page (no scripts, no external files) holding `parts`."""
    esc = html_module.escape
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n")


def summary(value) -> str:
    """A number to 11 significant digits; an array as its shape, first values, min
    and max; a tree as its structure."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {summary(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and not _numeric_list(value):
        return ("[" if isinstance(value, list) else "(") + ", ".join(summary(v) for v in value) + ("]" if isinstance(value, list) else ")")
    try:
        array = np.asarray(value)
    except Exception:
        return repr(value)
    if array.dtype == bool:
        return str(value) if array.ndim == 0 else f"bool {array.shape}: {int(array.sum())} true"
    if not np.issubdtype(array.dtype, np.number):
        return repr(value)
    if array.ndim == 0:
        return f"{float(array):.11g}" if np.issubdtype(array.dtype, np.floating) else str(array.item())
    flat = array.ravel()
    first = ", ".join(f"{float(v):.4g}" for v in flat[:3]) + (", …" if flat.size > 3 else "")
    if flat.size == 0:
        return f"shape {array.shape}: empty"
    return f"shape {array.shape}: [{first}] min {float(flat.min()):.4g} max {float(flat.max()):.4g}"


def _numeric_list(value) -> bool:
    return all(isinstance(v, (int, float, np.number)) for v in value)


# -- the steps, from the simpleton form --------------------------------------------------


def _steps(block) -> list[ir.Step]:
    return [s for s in ir.walk(block) if isinstance(s, ir.Step)]


def _partials(step: ir.Step, mode: str) -> tuple[tuple[str, str], ...]:
    """(argument, partial) for each argument that is a variable: a factor for an
    elementwise rule, else the rule's adjoint (reverse) or tangent (forward) line."""
    rule: Rule = step.rule if isinstance(step.rule, Rule) else None
    if rule is None:
        return ()
    args = dict(step.args)
    mapping = {name: ir.node_of(atom) for name, atom in step.args}
    mapping["ans"] = cst.Name(step.target)
    out = []
    lines = {a.targets[0].target.value: a.value for a in rule.body}
    for param in rule.grads:
        atom = args.get(param)
        if not isinstance(atom, ir.Var):
            continue
        expression = lines.get(f"d_{param}")
        if expression is None:
            continue
        expression = _inlined(expression, rule.body)
        if rule.elementwise:
            factor = _strip_unbroadcast(substitute(expression, {"d_ans": cst.Float("1.0")}))
            factor = simplify(substitute(factor, mapping))
            out.append((atom.name, code(factor)))
        elif mode == "reverse":
            line = substitute(expression, dict(mapping, d_ans=cst.Name(f"d_{step.target}")))
            out.append((atom.name, f"d_{atom.name} += {code(simplify(fold_static(line, parens=False)))}"))
        elif rule.tangent is not None:
            tangent = substitute(rule.tangent, dict(mapping, **{f"t_{p}": cst.Name(f"t_{a.name}") for p, a in args.items() if isinstance(a, ir.Var)}))
            out.append((atom.name, f"t_{step.target} = {code(simplify(fold_static(tangent, parens=False)))}"))
            break  # one line gives the tangent from every argument
    return tuple(out)


def _strip_unbroadcast(node: cst.BaseExpression) -> cst.BaseExpression:
    """`_unbroadcast(e, x, ...)` is e (the factor, before the sum over broadcast axes)."""

    class Strip(cst.CSTTransformer):
        def leave_Call(self, original, updated):
            if isinstance(updated.func, cst.Name) and updated.func.value == "_unbroadcast" and updated.args:
                return updated.args[0].value
            return updated

    return node.visit(Strip())


# -- running the generated code with every assignment recorded ---------------------------


class _Recorder(ast.NodeTransformer):
    """After every assignment to names in the function, a call that records them."""

    def _record(self, targets) -> list[ast.stmt]:
        names = []
        for target in targets:
            if isinstance(target, ast.Name):
                names.append(target.id)
            elif isinstance(target, (ast.Tuple, ast.List)):
                names += [e.id for e in target.elts if isinstance(e, ast.Name)]
        return [
            ast.Expr(ast.Call(ast.Name(TRACE, ast.Load()), [ast.Constant(n), ast.Name(n, ast.Load())], []))
            for n in names
        ]

    def visit_Assign(self, node):
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "_shape_only":
            return node  # the values swapped for stand-ins of their shapes: not new values
        return [node, *self._record(node.targets)]

    def visit_AugAssign(self, node):
        return [node, *self._record([node.target])]

    def visit_For(self, node):
        self.generic_visit(node)
        node.body = self._record([node.target]) + node.body
        return node


def _run_traced(text: str, entry: str, arguments: dict, shown: str) -> tuple[object, dict]:
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            _Recorder().visit(node)
    ast.fix_missing_locations(tree)
    trace: dict[str, list] = {}
    sweeping = []  # set once the reverse sweep starts: values it restores or swaps are not new

    def record(name, value):
        if name.startswith("d_"):
            sweeping.append(True)
        elif sweeping:
            return
        trace.setdefault(name, []).append(_copied(value))

    namespace = {TRACE: record, "__name__": "codegen_explained"}
    exec(compile(tree, shown, "exec"), namespace)
    result = namespace[entry](**arguments)
    return result, trace


def _copied(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (dict, list, tuple)):
        return copy.deepcopy(value)
    return value


def _seeded(value):
    """The forward seed for one argument: 1 for a number, the first basis element for
    an array (its derivative in the first element), in the argument's structure."""
    if isinstance(value, dict):
        seeded, first = {}, True
        for key, item in value.items():
            seeded[key] = _seeded(item) if first else _zeros(item)
            first = False
        return seeded
    if isinstance(value, (list, tuple)):
        items = [_seeded(v) if i == 0 else _zeros(v) for i, v in enumerate(value)]
        return type(value)(items)
    if np.ndim(value) == 0:
        return 1.0
    seed = np.zeros(np.shape(value))
    seed.flat[0] = 1.0
    return seed


def _zeros(value):
    if isinstance(value, dict):
        return {k: _zeros(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_zeros(v) for v in value)
    return 0.0 if np.ndim(value) == 0 else np.zeros(np.shape(value))


def _first_element(name: str, value) -> str:
    if isinstance(value, dict) and value:
        return _first_element(f"{name}[{next(iter(value))!r}]", next(iter(value.values())))
    if isinstance(value, (list, tuple)) and value:
        return _first_element(f"{name}[0]", value[0])
    return name if np.ndim(value) == 0 else f"{name}[{', '.join('0' * np.ndim(value))}]"


def explain(
    source: str,
    function: str,
    at: Mapping[str, object],
    wrt=None,
    *,
    mode: str = "reverse",
    path: str = "<string>",
    rules_dirs=(),
    include: Mapping[str, str] | None = None,
    user_function=None,
    iterations: bool = False,
) -> Explanation:
    """The evaluation table of `function` (in `source`) at the keyword arguments
    `at`. `mode` is "reverse" (each step's adjoint) or "forward" (each step's
    tangent along the first element of the first wrt argument). With
    `user_function`, the function itself is run too and its value shown. With
    `iterations`, a step in a loop gets a row per run below its own (in forward
    mode with the tangent of each run)."""
    if mode not in ("reverse", "forward"):
        raise CodegenError(f"explain: mode {mode!r} is not one of reverse, forward; give one of them", path)
    simple, names, _registry, text = explained(source, function, wrt, mode=mode, path=path, rules_dirs=rules_dirs,
                                               include=include)
    arguments = dict(at)
    missing = [p.name for p in simple.params if p.name not in arguments and p.default is None]
    if missing:
        raise CodegenError(f"explain: no value for {', '.join(missing)}; give every parameter a value in --at", path)
    seed = ""
    if mode == "forward":
        first = names[0]
        seed = _first_element(first, arguments[first])
        call = dict(arguments, **{f"t_{n}": (_seeded(arguments[n]) if n == first else _zeros(arguments[n])) for n in names})
        entry = f"jvp_{function}"
    else:
        call = arguments
        entry = f"value_and_grad_{function}"
    result, trace = _run_traced(text, entry, call, f"<codegen explain {path}::{function}>")
    if mode == "forward":
        value, derivative = result[0], result[1]
    else:
        value, derivative = result
        if simple.aux is not None:
            value = value[0]
    rows = []
    for p in simple.params:
        if p.name not in arguments:
            continue
        if mode == "reverse":
            grads = derivative if len(names) > 1 else (derivative,)
            carried = dict(zip(names, grads)).get(p.name)
        else:
            carried = call.get(f"t_{p.name}")
        rows.append(Row(p.name, "input", 0, "", "", value=arguments[p.name], derivative=carried, active=p.name in names))
    namespace = dict(np=np, **arguments)
    for name, values in trace.items():
        namespace[name] = values[-1]
    prefix = "t_" if mode == "forward" else "d_"
    carrying = set(names) | {n[2:] for n in trace if n.startswith(prefix)}
    for step in _steps(simple.body):
        definition = code(render(step.rule, step.args, step.given)) if isinstance(step.rule, Rule) else step.rule.name
        values = trace.get(step.target)
        if values:
            step_value = values[-1]
        else:  # folded into its reader in generated code: computed here from its definition
            try:
                step_value = eval(definition, dict(namespace))  # noqa: S307 (code codegen wrote)
            except Exception:
                step_value = None
            namespace[step.target] = step_value
        carried = trace.get(prefix + step.target)
        # partials in the arguments that carry a derivative (all of them for a step on data)
        partials = _partials(step, mode)
        if any(w in carrying for w, _ in partials):
            partials = tuple((w, e) for w, e in partials if w in carrying)
        partial_values = []
        for _, expression in partials:
            if expression.startswith(("d_", "t_")):
                partial_values.append(None)
                continue
            try:
                partial_values.append(eval(expression, dict(namespace)))  # noqa: S307
            except Exception:
                partial_values.append(None)
        runs = ()
        if values and len(values) > 1:
            # forward mode: a tangent per run; reverse mode: the adjoint lines of a run
            # are several, so runs show their values alone
            per_run = carried if (mode == "forward" and carried and len(carried) == len(values)) else [None] * len(values)
            runs = tuple(zip(values, per_run))
        rows.append(Row(
            step.target, "step", step.origin.line, step.origin.text, definition, partials,
            value=step_value, partial_values=tuple(partial_values),
            derivative=carried[-1] if carried else None, count=len(values) if values else 1,
            active=carried is not None, runs=runs,
        ))
    if mode == "forward":  # the lecture's last line: the derivative of what the function returns
        rows.append(Row("return", "result", simple.result_origin.line if simple.result_origin else 0, "",
                        code(ir.node_of(simple.result)) if simple.result is not None else "", value=value,
                        derivative=derivative, active=True))
    user_value = None
    if user_function is not None:
        user_value = user_function(**copy.deepcopy(arguments))
        if simple.aux is not None and isinstance(user_value, tuple):
            user_value = user_value[0]
    return Explanation(function, path, mode, tuple(names), arguments, rows, value, derivative, seed, user_value,
                       simpleton=simple, iterations=iterations)


def _source_of(f):
    """(source, function name, path, the function to run or None) for a Python
    function or "PATH::FUNC": the whole file where the function has one, else its own
    source after `import numpy as np` and `import math` (a notebook cell's)."""
    import inspect
    import textwrap
    from pathlib import Path

    from .files import read_source

    if isinstance(f, str):
        path, sep, name = f.rpartition("::")
        if not sep or not name.isidentifier():
            raise CodegenError(f"expected PATH::FUNCTION or a function; got `{f}`", f or "''")
        return read_source(path), name, path, None
    name = f.__name__
    path = inspect.getsourcefile(f) or "<function>"
    try:
        source = read_source(path) if Path(path).is_file() else None
    except CodegenError:
        source = None
    if source is None or f"def {name}(" not in source:
        source = "import math\n\nimport numpy as np\n\n\n" + textwrap.dedent(inspect.getsource(f))
    return source, name, str(path), f


def explain_function(f, at: Mapping[str, object], wrt=None, *, mode: str = "reverse", rules=(), include=(),
                     iterations: bool = False) -> Explanation:
    """The table for a Python function `f` (or "PATH::FUNC") at the keyword arguments
    `at`: its source is read (the whole file where it has one, else the function's
    own source, after `import numpy as np` and `import math`), differentiated, and
    the generated code run at `at`; `f` is run too, to show its value. In Jupyter the
    result shows as an HTML table."""
    from .files import read_source

    source, name, path, user = _source_of(f)
    return explain(source, name, at, wrt, mode=mode, path=path, rules_dirs=rules,
                   include={str(p): read_source(p) for p in include}, user_function=user, iterations=iterations)
