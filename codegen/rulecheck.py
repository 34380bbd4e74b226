"""Checking rules: each rule's cases against central finite differences (and against
autograd when asked), and each rule's signature against the function it claims.

Used by the registry-driven test for templates/ and by `codegen rules --check DIR`
for user rules. Checking executes code (the rule's checks and the generated
modules), so it runs only when asked, never while generating.
"""

from __future__ import annotations

import functools
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from . import rules as rules_module
from .errors import CodegenError
from .pipeline import generate
from .rules import Rule
from .signatures import signature_problem
from .verify import Report, check_gradient

AUTOGRAD_RTOL = 1e-10


@dataclass
class Case:
    rule: Rule
    call: str  # an expression using the primitive
    inputs: dict  # name -> shape tuple (a float64 input) or a literal (data)
    wrt: tuple[str, ...]
    variant: str = ""  # how it was derived from a listed case (see VARIANTS), or ""

    @property
    def label(self) -> str:
        shapes = ",".join(f"{k}{list(v) if isinstance(v, tuple) else '=' + repr(v)}" for k, v in self.inputs.items())
        return f"{self.rule.name}:{self.call}:{shapes}" + (f":{self.variant}" if self.variant else "")


@dataclass
class Result:
    case: Case
    report: Report | None = None
    error: str | None = None  # generation or execution failed
    autograd: str | None = None  # "" agrees; else why it does not (or was not run)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok and not self.autograd


# Cases derived from each listed one, so that every rule meets the inputs that
# users pass and rules got wrong: a number (a Python float, and NumPy's float64)
# where the case has arrays, under whatever axis the case reduces over; vectors
# (np.triu of a vector is a matrix); and list literals in place of the arrays
# (`np.sum([1.0, a])`). A derived case is kept where NumPy itself computes it.
VARIANTS = ("number", "float64", "vector", "list")


def cases(rule: Rule, variants: bool = True) -> list[Case]:
    out = []
    for entry in rule.checks:
        call, shape_list = entry[0], entry[1]
        for inputs in shape_list:
            floats = [k for k, v in inputs.items() if isinstance(v, tuple)]
            if len(entry) > 2:
                wrt = tuple(entry[2])
            else:  # the rule's own parameters, or else every float input of the check
                wrt = tuple(k for k in floats if k in rule.grads) or tuple(floats)
            out.append(Case(rule, call, dict(inputs), wrt))
    return out + _variants(out) if variants else out


def _variants(listed: list[Case]) -> list[Case]:
    seen = {(c.call, repr(sorted(c.inputs.items()))) for c in listed}
    derived = []
    for variant in VARIANTS:
        done_calls: set[str] = set()
        for case in listed:
            if case.call in done_calls or not case.wrt:
                continue
            new = _derive(case, variant)
            if new is None:
                continue
            key = (new.call, repr(sorted(new.inputs.items())))
            if (key in seen and variant != "float64") or not _numpy_computes(new):
                continue
            seen.add(key)
            done_calls.add(case.call)
            derived.append(new)
    return derived


def _derive(case: Case, variant: str) -> Case | None:
    floats = [k for k, v in case.inputs.items() if isinstance(v, tuple)]
    if variant in ("number", "float64", "vector"):
        shape = (3,) if variant == "vector" else ()
        inputs = {k: (shape if k in floats else v) for k, v in case.inputs.items()}
        return Case(case.rule, case.call, inputs, case.wrt, variant)
    if "\n" in case.call:
        return None
    import libcst as cst

    try:
        expression = cst.parse_expression(case.call)
    except cst.ParserSyntaxError:
        return None
    if not isinstance(expression, cst.Call):
        return None

    def listed(name: str) -> cst.List:
        shape = case.inputs[name]
        items = (
            [f"{name}[{i}]" for i in range(shape[0])] if shape else [name, "0.5"]
        )
        return cst.parse_expression("[" + ", ".join(items) + "]")

    args = [
        a.with_changes(value=listed(a.value.value))
        if isinstance(a.value, cst.Name) and a.value.value in floats and a.star == ""
        else a
        for a in expression.args
    ]
    if args == list(expression.args):
        return None
    call = cst.Module([]).code_for_node(expression.with_changes(args=args))
    return Case(case.rule, call, dict(case.inputs), case.wrt, variant)


def _numpy_computes(case: Case) -> bool:
    """Whether NumPy computes the case's function to a finite value (a derived case
    NumPy rejects, `np.linalg.inv` of a number, is no case)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            source, kwargs = setup(case)
            value = _load(source, "original").f(**kwargs)
    except Exception:
        return False
    return bool(np.all(np.isfinite(value)))


def _header(rule: Rule) -> str:
    lines = ["import numpy as np"] + [line for line in rule.imports if line != "import numpy as np"]
    return "\n".join(lines) + "\n\n\n"


def setup(case: Case, seed_text: str = "") -> tuple[str, dict]:
    """Source of `f(<inputs>, cotangent) = sum((<call>) * cotangent)` and its inputs.
    The random cotangent makes every element of the result matter."""
    rule = case.rule
    rng = np.random.default_rng(zlib.crc32(f"{case.label}{seed_text}".encode()))
    kwargs = {}
    for name, spec in case.inputs.items():
        if isinstance(spec, tuple):
            kwargs[name] = random_input(rng, spec, rule.domain.get(name, "real"))
            if case.variant == "float64" and spec == ():
                kwargs[name] = np.float64(kwargs[name])
        else:
            kwargs[name] = np.array(spec) if isinstance(spec, list) else spec
    header = _header(rule)
    namespace: dict = dict(_helper_namespace())
    exec(compile(header, "<rule header>", "exec"), namespace)
    local = dict(kwargs)
    # A fusion's named values, or a statement's check (`y = x * 1.0`, `y[1:] = v`,
    # then the expression whose value is checked: the lines of the call).
    *statements, call = case.call.split("\n")
    lines = [*getattr(rule, "setup", ()), *statements]
    for line in lines:
        exec(line, namespace, local)
    result = eval(call, namespace, local)
    kwargs["cotangent"] = random_input(rng, np.shape(result), "real")
    params = ", ".join(kwargs)
    setup = "".join(f"    {line}\n" for line in lines)
    source = f"{header}def f({params}):\n{setup}    return np.sum(({call}) * cotangent)\n"
    return source, kwargs


def random_input(rng: np.random.Generator, shape, domain: str = "real"):
    """A float64 input of `shape` in `domain`; a Python float for shape ()."""
    if domain == "positive":
        value = rng.uniform(0.5, 2.0, size=shape)
    elif domain == "unit":
        value = rng.uniform(-0.9, 0.9, size=shape)
    elif domain == "nonzero":
        value = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    elif domain == "negative":
        value = -rng.uniform(0.2, 1.0, size=shape)
    elif domain == "probability":  # inside (0, 1), away from its ends
        value = rng.uniform(0.1, 0.9, size=shape)
    elif domain == "above1":
        value = rng.uniform(1.2, 3.0, size=shape)
    elif domain == "real":
        value = rng.standard_normal(size=shape)
    elif domain == "invertible":  # well conditioned square matrices (last two axes)
        value = rng.standard_normal(size=shape) + 2.0 * shape[-1] ** 0.5 * np.eye(shape[-1])
    elif domain == "spd":  # symmetric positive definite matrices (last two axes)
        a = rng.standard_normal(size=shape)
        value = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    elif domain == "distinct":  # no ties (for max, min, sort-like kinks)
        value = rng.permutation(np.prod(shape, dtype=int)).reshape(shape) * 0.37 + rng.uniform(0, 0.1, size=shape)
    else:
        raise ValueError(f"unknown domain {domain!r}")
    return float(value) if shape == () else value


def _generated(source: str, wrt: tuple[str, ...], rules_dirs: tuple[str, ...]) -> str:
    if rules_dirs:  # user rules may change between calls: never cached
        return generate(source, "f", list(wrt), rules_dirs=rules_dirs, _internal=True)
    return _generated_with_builtin_rules(source, wrt)


@functools.lru_cache(maxsize=256)
def _generated_with_builtin_rules(source: str, wrt: tuple[str, ...]) -> str:
    return generate(source, "f", list(wrt), _internal=True)


@functools.lru_cache(maxsize=1)
def _helper_namespace() -> dict:
    """codegen's runtime helpers, defined: the checks of the rules for helpers
    (`_fill(d, x)`, read back in code codegen wrote) call them by name."""
    from .expressions import code

    namespace = {"np": np}
    for helper in rules_module.load().helpers.values():
        exec(compile(code(helper), "<codegen helper>", "exec"), namespace)
    return {k: v for k, v in namespace.items() if k.startswith("_") and not k.startswith("__")}


def _load(text: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(_helper_namespace())
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def check_case(case: Case, rules_dirs: Sequence[str] = (), autograd: bool = False) -> Result:
    result = Result(case)
    if not case.wrt:
        result.error = "nothing to differentiate in this case"
        return result
    try:
        source, kwargs = setup(case)
        original = _load(source, "original").f
        subsets = [list(case.wrt)] + ([[w] for w in case.wrt] if len(case.wrt) > 1 else [])
        for names in subsets:
            module = _load(_generated(source, tuple(names), tuple(rules_dirs)), "generated")
            report = check_gradient(original, module.value_and_grad_f, kwargs, names, directions=3)
            if result.report is None or not report.ok:
                result.report = report
            if hasattr(case.rule, "pattern") and "# fused: " not in _generated(source, tuple(names), tuple(rules_dirs)):
                result.error = "the fusion did not apply to its own chain"
            grads, only = module.value_and_grad_f(**kwargs)[1], module.grad_f(**kwargs)
            if len(names) == 1:
                grads, only = (grads,), (only,)
            if not all(np.array_equal(a, b) for a, b in zip(grads, only)):
                result.error = "grad_f and value_and_grad_f disagree"
        if autograd:
            result.autograd = _against_autograd(source, kwargs, case.wrt, rules_dirs)
    except CodegenError as error:
        result.error = str(error)
    except Exception as error:  # the check reports; it does not crash on one rule
        result.error = f"{type(error).__name__}: {error}"
    return result


def _against_autograd(source, kwargs, wrt, rules_dirs) -> str:
    """"" if autograd's gradient agrees to AUTOGRAD_RTOL, else what happened."""
    try:
        import autograd
    except ImportError:
        return "skipped: autograd is not installed"
    module = _load(_generated(source, tuple(wrt), tuple(rules_dirs)), "generated")
    ours = module.grad_f(**kwargs)
    ours = (ours,) if len(wrt) == 1 else ours
    try:
        swapped = source.replace("import numpy as np", "import autograd.numpy as np")
        swapped = swapped.replace("from scipy import special", "from autograd.scipy import special")
        f = _load(swapped, "ag").f
        names = list(kwargs)
        for name, mine in zip(wrt, ours):
            theirs = autograd.grad(f, names.index(name))(*kwargs.values())
            if np.shape(theirs) == np.shape(mine) and np.allclose(mine, theirs, rtol=AUTOGRAD_RTOL, atol=1e-13):
                continue
            wrong = _autograd_is_wrong(source, kwargs, name, theirs)
            if wrong:
                return f"skipped: autograd's own d_{name} fails finite differences here ({wrong})"
            worst = np.max(np.abs(np.asarray(mine) - theirs))
            return f"differs from autograd in d_{name} by {worst:.3e}"
    except Exception as error:  # autograd's own limits
        return f"skipped: autograd cannot run it ({type(error).__name__}: {error})"
    return ""


def _autograd_is_wrong(source, kwargs, name, theirs) -> str:
    """Why autograd's gradient is itself wrong (shape, or finite differences), or ""."""
    from .verify import directional_error

    if np.shape(theirs) != np.shape(kwargs[name]):
        return f"shape {np.shape(theirs)}, argument {np.shape(kwargs[name])}"
    f = _load(source, "original").f
    rng = np.random.default_rng(0)
    error = max(directional_error(f, kwargs, name, theirs, rng.standard_normal(np.shape(theirs))) for _ in range(3))
    return f"relative error {error:.2e}" if error > 1e-6 else ""


def check_directory(directory: str, autograd: bool = False) -> tuple[list[Rule], list[Result]]:
    """Load the user rules in `directory` (with the built-ins) and check each one.
    Raises CodegenError, positioned at the rule, for a signature that does not fit."""
    registry = rules_module.load([directory])
    root = Path(directory).resolve()
    mine = [r for r in registry if Path(r.path).resolve().parent == root]
    for rule in mine:
        problem = signature_problem(rule, import_user_modules=True)
        if problem:
            raise CodegenError(f"rule `{rule.name}` does not fit: {problem}", rule.path, rule.line, 1)
    results = [check_case(c, [directory], autograd) for rule in mine for c in cases(rule)]
    return mine, results
