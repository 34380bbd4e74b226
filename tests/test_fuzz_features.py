"""A seeded fuzzer for the constructs of issue 12 inside control flow.

The programs are test_fuzz_control's (`_Program`: loops, branches, jumps, returns,
recurrences, writes into arrays, helpers), and `_FeatureProgram` adds to them:

- **zero-trip loops**: `for` over `range(0)`, `range(k, k)`, `range(k, 0)`,
  `range(len(v) - n)`, `reversed(range(0))`, over `v[:0]`, `enumerate(v[n:])`,
  `zip(v[:0], w[:0])`, over `range(m)` with an int argument `m` = 0; `while` whose
  condition is false at once (on a counter or on a value), with loops nested inside;
  and loops that `break` at the end of their first pass;
- **0-d values under axis reductions**: a Python float or NumPy scalar given to
  `np.sum`/`max`/`min`/`prod`/`amax` with `axis=0`, `axis=-1` or
  `keepdims=True`, `np.cumsum`/`cumprod` (shape (1,), then indexed), `logsumexp`
  with and without an axis, `np.array(s)` and methods (`np.sin(s).sum(axis=-1)`);
- **parameter trees** (the first parameter, in half the programs): a dict, a
  nested dict of a list of dicts, a tuple or a list, annotated or not, read by
  constant keys (`params["W"]`, `theta["layers"][1]["b"]`, `layers[0][1]`, as
  names of their own), unpacked first (`p1, p2 = pair`), or iterated
  (`for W, b in layers:`, `enumerate(layers)`, `range(len(layers))`,
  `for layer in theta["layers"]:`); its gradient is compared leaf by leaf, and
  its structure with the argument's;
- **`(loss, aux)` results**, as JAX's has_aux (half the programs): every `return`
  gives the loss and an aux value (a number, a name, an array, a tuple) or two
  (`return loss, a, b`: the aux is `(a, b)`); `value_and_grad_f` must give
  `((value, aux), grads)` with the original's aux, `grad_f` the gradients;
- **calls on data** (with `--features data` in tests/fuzz_round.py, not yet in
  the default run): `gammaln(y * y + 1.0)`, `ndtr(y)`, `rng.random(n)` (a
  parameter `rng`), and `lfact(y)` from tests/fuzz_helpers.py, an --include file
  whose helper calls gammaln;
- **overwritten values**: a value computed where its rule's partial is infinite or
  undefined (`np.sqrt` and `** 0.5` at 0, `np.log` at 0, `1 / x` at 0, `np.abs` at
  0, `np.arcsin` at 1; the argument is zero by construction: `z - z`, `z * 0.0`,
  `np.maximum(z, 0.0)` of negative entries), then overwritten on the branch taken
  (or in the `else` of a branch not taken, whose other side reads it), in a `for` or
  `while` loop, on the next line, or never used. Its old value reaches nothing, so
  the gradient is finite: `0 * inf` must not come back.

What the drawn inputs guarantee is test_fuzz_control's: no comparison on values
within MARGIN of a tie, every loop bounded, values finite and moderate (a program
whose run overflows is drawn again; only the poles above may give inf or nan, in
values that are then overwritten).

Checks, per program: test_fuzz_control's `check_program` (the value against the
original function's, each gradient's shape and kind, central differences along
random directions, `grad_f` against `value_and_grad_f`, inputs unchanged, the same
text twice), autograd's gradient where autograd runs the program, and the same bytes
from another process under another PYTHONHASHSEED.

The default run draws SEEDS; `python tests/fuzz_round.py N` runs an exploratory
round of N programs and prints what it found (see its docstring).
"""

import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen import generate
from conftest import ROOT, load_generated, random_input
from codegen.verify import flatten
from test_fuzz_control import (
    HASH_SEED,
    MARGIN,
    _OTHER_PROCESS,
    _as_tuple,
    _closest_tie,
    _context,
    _copy,
    _OtherProcess,
    _aliases,
    _p,
    _Program,
    _same,
    _structure,
    autograd_gradients,
    check_program,
)

# Seeds whose programs codegen gets wrong today, with the reason (a seed -> why); put
# them back into SEEDS once they pass. None now: every seed of issue 12's items passes.
KNOWN_FAILING: dict[int, str] = {}
DRAWN = range(60)
SEEDS = [seed for seed in DRAWN if seed not in KNOWN_FAILING]

# The features a program may draw (a round can ask for fewer).
FEATURES = ("zero-trip", "reduce-0d", "overwrite", "trees", "aux")
# Drawn when asked for (`--features`), until codegen supports them.
LATER = ("data",)

# Parameter trees: (parameter name, annotation, structure with "v" for a vector leaf
# and "s" for a Python float, how the body reads it).
TREES = (
    ("params", ": dict", {"W": "v", "c": "s"}, "keys"),
    ("params", "", {"W": "v", "U": "v", "c": "s"}, "unpack"),
    ("theta", "", {"layers": [{"W": "v", "b": "s"}, {"W": "v", "b": "s"}], "scale": "s"}, "keys"),
    ("theta", ": dict", {"layers": [{"W": "v", "b": "s"}, {"W": "v", "b": "s"}], "scale": "s"}, "loop"),
    ("pair", ": tuple", ("v", "s"), "unpack"),
    ("pair", "", ["v", "v"], "keys"),
    ("layers", ": list", [("v", "s"), ("v", "s"), ("v", "s")], "loop"),
    ("layers", "", [("v", "s"), ("v", "s")], "keys"),
)


# Calls on data (`y`, and `rng`, which are not in wrt), which need no derivative rule.
DATA_CALLS = (
    "gammaln({y} * {y} + 1.0)",
    "gammaln(np.abs({y}) + 1.0) * 0.1",
    "ndtr({y})",
    "ndtr({y} * 0.5) - 0.5",
    "lfact({y} * {y}) * 0.1",  # a helper in an --include file, which calls gammaln
    "rng.random({n})",
    "rng.standard_normal({n}) * 0.1 + {y}",
)
HELPERS = "fuzz_helpers.py"  # tests/fuzz_helpers.py, given as an --include file


class FixedRng:
    """A random generator that gives the same numbers on every call, so that the
    function is a function (finite differences call it many times)."""

    def random(self, size):
        return np.random.default_rng(7).random(size)

    def standard_normal(self, size):
        return np.random.default_rng(8).standard_normal(size)


def includes(source: str) -> dict[str, str]:
    """The --include files a program imports from (as `generate` takes them)."""
    if "from fuzz_helpers import" not in source:
        return {}
    return {HELPERS: (Path(__file__).parent / HELPERS).read_text()}


def _leaves(spec, text):
    """(access text, kind) of every leaf of a tree structure, read by constant keys."""
    if isinstance(spec, str):
        return [(text, spec)]
    items = spec.items() if isinstance(spec, dict) else enumerate(spec)
    return [leaf for key, sub in items for leaf in _leaves(sub, f"{text}[{key!r}]".replace("'", '"'))]


def _tree_value(spec, data, n):
    if isinstance(spec, str):
        return random_input(data, () if spec == "s" else (n,), "real")
    if isinstance(spec, dict):
        return {k: _tree_value(v, data, n) for k, v in spec.items()}
    return type(spec)(_tree_value(v, data, n) for v in spec)

# Values at a pole: the argument is exactly where the rule's partial is infinite
# or undefined. {z} is a scalar or vector name; forms in VECTOR_POLES divide a
# Python float by zero, so only arrays get them.
POLES = (
    "np.sqrt({z} - {z})",
    "np.sqrt({z} * 0.0)",
    "np.sqrt(np.maximum({z}, 0.0))",
    "np.log({z} - {z})",
    "np.log(np.abs({z}) * 0.0)",
    "np.abs({z} - {z})",
    "np.arcsin({z} * 0.0 + 1.0)",
    "np.power({z} * 0.0, 0.5)",
    "1.0 / np.sqrt({z} * 0.0)",
)
VECTOR_POLES = ("1.0 / ({z} - {z})", "({z} - {z}) ** 0.5", "np.sqrt({z} - {z}) * {z}")

# A scalar {s} (a Python float or a NumPy scalar) reduced along an axis it does not
# have, as NumPy allows for axis 0 and -1 (np.mean, var, std and norm raise there,
# so they are drawn without an axis).
REDUCE_0D = (
    "np.sum({s}, axis=0)",
    "np.sum({s}, axis=-1)",
    "np.sum({s}, axis=0, keepdims=True)",
    "np.sum({s}, keepdims=True)",
    "np.max({s}, axis=0)",
    "np.amax({s}, axis=-1)",
    "np.min({s}, axis=0)",
    "np.prod({s}, axis=0)",
    "np.prod({s}, axis=-1, keepdims=True)",
    "np.cumsum({s})[0]",
    "np.cumsum({s}, axis=0)[-1]",
    "np.cumprod({s}, axis=0)[0]",
    "np.sum(np.cumsum({s}))",
    "logsumexp({s})",
    "logsumexp({s}, axis=0)",
    "logsumexp({s}, axis=-1)",
    "np.sum(np.array({s}), axis=0)",
    "np.sin({s}).sum(axis=-1)",
    "np.cos({s}).max(axis=0)",
    "np.exp(-{s} * {s}).prod(axis=0)",
    "np.sum({v}).sum(axis=0)",
    "np.max(np.sum({v}), axis=-1)",
    "np.mean({s})",
    "np.std({s})",  # (0: no spread; not of an array, whose spread may be 0 up to rounding: a kink)
    "np.linalg.norm(1.0 + {s} * {s})",
)


class _FeatureProgram(_Program):
    """test_fuzz_control's program, drawing the features above as well."""

    def __init__(self, rng: random.Random, features=FEATURES):
        super().__init__(rng)
        self.features = tuple(features)
        self.drawn: set[str] = set()  # the constructs this program drew (for coverage)
        self.data: set[str] = set()  # the calls on data drawn
        self.aux = None  # the form of a `(loss, aux)` result, or None
        if "aux" in features and rng.random() < 0.5:
            self.aux = rng.choice(["scalar", "name", "vector", "tuple", "several"])
            self.drawn.add(f"aux {self.aux}")
        # (name, annotation, structure, how it is read), or None
        self.tree = rng.choice(TREES) if "trees" in features and rng.random() < 0.5 else None

    # -- statements ---------------------------------------------------------------------

    def block(self, indent, depth, size, loop=None):
        if indent == 1 and depth == 0 and self.tree:  # the function's top level
            self.tree_preamble()
        super().block(indent, depth, size, loop)
        if indent == 1 and depth == 0 and self.tree and self.tree[3] == "loop":
            self.LIMIT = self.statements + 4
            self.tree_loop(indent, depth)
        if indent == 1 and depth == 0 and self.features:  # the function's top level: 1-2 more
            for _ in range(self.r.randint(1, 2)):
                self.LIMIT = self.statements + 4  # (room for a loop's body)
                statements = {
                    "zero-trip": lambda: self.zero_trip_loop(indent, depth),
                    "reduce-0d": lambda: self.reduce_0d(indent),
                    "overwrite": lambda: self.overwrite(indent),
                    "data": lambda: self.data_call(indent),
                    "trees": lambda: self.tree and self.tree[3] == "loop" and self.tree_loop(indent, depth),
                }
                options = [f for f in self.features if f in statements]
                if options:
                    statements[self.r.choice(options)]()

    # -- parameter trees ------------------------------------------------------------------

    def tree_preamble(self):
        """Leaves of the tree parameter as names: read by constant keys where they are
        used (`params["W"]` as a name of its own), or unpacked first."""
        name, _, spec, how = self.tree
        leaves = _leaves(spec, name)
        self.drawn.add(f"tree {type(spec).__name__} {how}")
        if how == "unpack":
            names = [self.fresh("p") for _ in leaves]
            if isinstance(spec, dict):
                self.emit(1, f"{', '.join(names)} = {', '.join(text for text, _ in leaves)}")
            else:
                self.emit(1, f"{', '.join(names)} = {name}")
            for new, (_, kind) in zip(names, leaves):
                self.env[new] = kind
                self.shared.add(new)
        else:
            for text, kind in leaves:
                self.env[text] = kind
                self.frozen.add(text)

    def tree_loop(self, indent, depth):
        """A loop over the items of the tree: `for W, b in layers:` or
        `for layer in theta["layers"]: ... layer["W"]`."""
        r = self.r
        name, _, spec, _ = self.tree
        acc = self.fresh("acc")
        self.emit(indent, f"{acc} = {self.const()}")
        self.env[acc] = "s"
        w, b = self.fresh("W"), self.fresh("b")
        if isinstance(spec, dict):
            item = self.fresh("layer")
            form = r.choice(["each", "range"])
            if form == "each":
                self.emit(indent, f'for {item} in {name}["layers"]:')
            else:
                k = self.fresh("k")
                self.emit(indent, f'for {k} in range(len({name}["layers"])):')
                self.emit(indent + 1, f'{item} = {name}["layers"][{k}]')
            leaves = {w: f'{item}["W"]', b: f'{item}["b"]'}
        else:
            form = r.choice(["each", "enumerate", "range"])
            if form == "each":
                self.emit(indent, f"for {w}, {b} in {name}:")
            elif form == "enumerate":
                self.emit(indent, f"for {self.fresh('k')}, ({w}, {b}) in enumerate({name}):")
            else:
                k = self.fresh("k")
                self.emit(indent, f"for {k} in range(len({name})):")
                self.emit(indent + 1, f"{w}, {b} = {name}[{k}]")
            leaves = {w: w, b: b}
        self.drawn.add(f"tree loop {type(spec).__name__} {form}")
        saved = self.iterations
        self.iterations *= 3

        def body():
            self.env[leaves[w]] = "v"
            self.env[leaves[b]] = "s"
            self.frozen |= {leaves[w], leaves[b]}
            self.shared |= {leaves[w], leaves[b]}
            self.emit(indent + 1, f"{acc} = {self.factor()} * {acc} + np.sin(np.sum({leaves[w]} * {leaves[b]}))")
            self.block(indent + 1, depth + 1, r.randint(0, 2), (True, True))

        self.scoped(body)
        self.iterations = saved

    def bind(self, name, value):
        if self.tree and self.tree[0] in _aliases(value):  # a part of the tree: shared
            self.shared.add(name)
        super().bind(name, value)

    def result(self) -> str:
        text = super().result()
        if self.tree:  # one leaf read by its keys, so that every tree has a gradient to check
            leaf, kind = self.r.choice(_leaves(self.tree[2], self.tree[0]))
            text += f" + np.sum(np.sin({leaf}))" if kind == "v" else f" + {leaf} ** 2"
        if self.aux:  # `return loss, aux`, the same form at every return
            s = self.r.choice(self.scalars()) if self.scalars() else "0.5"
            v = self.r.choice(self.vectors()) if self.vectors() else f"np.zeros({self.n})"
            e = self.scalar(1)
            text += ", " + {
                "scalar": e,
                "name": self.r.choice(list(self.env)),
                "vector": f"np.sin({v})",
                "tuple": f"({s}, {v})",
                "several": f"{e}, {v} * 2.0",  # the aux is the tuple of both
            }[self.aux]
        return text

    # -- the other features ---------------------------------------------------------------

    def data_call(self, indent):
        """A value computed from data alone by a call that has no derivative rule."""
        template = self.r.choice(DATA_CALLS)
        name = self.fresh("d")
        self.emit(indent, f"{name} = {template.format(y='y', n=self.n)}")
        self.env[name] = "v"
        self.owned.add(name)
        self.data.add(template.split("(")[0])
        self.drawn.add(f"data {template.split('(')[0]}")

    def assign_new(self, indent):
        if self.tree and self.tree[3] == "loop" and self.r.random() < 0.2:
            return self.tree_loop(indent, 0)
        if "data" in self.features and self.r.random() < 0.25:
            return self.data_call(indent)
        options = [f for f in ("reduce-0d", "overwrite") if f in self.features]
        if options and self.r.random() < 0.5:
            return getattr(self, self.r.choice(options).replace("-", "_"))(indent)
        return super().assign_new(indent)

    def reduce_0d(self, indent):
        r = self.r
        template = r.choice(REDUCE_0D)
        if "{v}" in template and not self.vectors():
            template = "np.sum({s}, axis=0)"
        s = self.scalar(1)
        v = r.choice(self.vectors()) if self.vectors() else None
        name = self.fresh("t")
        self.emit(indent, f"{name} = {template.format(s=_p(s), v=v)}")
        self.env[name] = "s"
        self.drawn.add("0-d " + template.split("(")[0] + ("(axis)" if "axis" in template else ""))

    def overwrite(self, indent):
        """A value at a pole that the path taken overwrites (or never reads)."""
        r = self.r
        vector = bool(self.vectors()) and r.random() < 0.6
        z = r.choice(self.vectors() if vector else (self.scalars() or self.vectors()))
        vector = self.env[z] == "v"
        pole = r.choice(POLES + (VECTOR_POLES if vector else ())).format(z=z)
        name = self.fresh("o")
        kind = "v" if vector else "s"
        make = (lambda: self.vector(1)) if vector else (lambda: self.scalar(1))
        how = r.choice(["branch", "else", "elif", "for", "while", "next-line", "unused"])
        self.drawn.add(f"overwrite {how}")
        self.emit(indent, f"{name} = {pole}")
        if how == "unused":
            return
        probe = f"np.sum({z} * {z})" if vector else f"{z} * {z}"  # >= 0: a branch taken or not
        if how == "branch":
            self.emit(indent, f"if {probe} > -1.0:")
            self.emit(indent + 1, f"{name} = {make()}")
        elif how == "else":  # the branch not taken reads the value at the pole
            self.emit(indent, f"if {probe} < -1.0:")
            self.emit(indent + 1, f"{name} = {name} * 2.0 + {make()}")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{name} = {make()}")
        elif how == "elif":
            self.emit(indent, f"if {probe} < -2.0:")
            self.emit(indent + 1, f"{name} = {make()}")
            self.emit(indent, f"elif {probe} > -1.0:")
            self.emit(indent + 1, f"{name} = {make()}")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{name} = {name} + 1.0")
        elif how == "for":
            i, k = self.fresh("i"), r.randint(1, 3)
            self.emit(indent, f"for {i} in range({k}):")
            self.loops.append((i, 0, k))
            self.emit(indent + 1, f"{name} = {make()}")
            self.loops.pop()
        elif how == "while":
            j, k = self.fresh("j"), r.randint(1, 3)
            self.emit(indent, f"{j} = 0")
            self.emit(indent, f"while {j} < {k}:")
            self.loops.append((j, 0, k))
            self.emit(indent + 1, f"{name} = {make()}")
            self.emit(indent + 1, f"{j} += 1")
            self.loops.pop()
        else:
            self.emit(indent, f"{name} = {make()}")
        self.env[name] = kind
        self.shared.add(name)  # (its new value may be another name's)

    def range_header(self):
        if "zero-trip" not in self.features or self.r.random() < 0.5:
            return super().range_header()
        r, n = self.r, self.n
        i, k = self.fresh("i"), r.randint(1, 4)
        options = [
            "range(0)",
            f"range({k}, {k})",
            f"range({k}, 0)",
            f"range(0, -{k}, 1)",
            "reversed(range(0))",
        ]
        vecs = self.vectors()
        if vecs:
            v = r.choice(vecs)
            options += [f"range(len({v}) - {n})", f"range({v}.shape[0], {n})"]
        if self.int_param:
            options.append(f"range({self.int_param} - 4)")  # m <= 4
        header = r.choice(options)
        self.drawn.add("zero-trip for")
        return header, i, 0, n, 0

    def loop(self, indent, depth):
        if "zero-trip" not in self.features or self.r.random() < 0.5:
            return super().loop(indent, depth)
        self.zero_trip_loop(indent, depth)

    def zero_trip_loop(self, indent, depth):
        """A loop that runs zero times, or breaks at the end of its first pass."""
        r, n = self.r, self.n
        vecs = self.vectors()
        kinds = ["while-counter", "while-data", "first-pass", "while-first-pass"] + (["each"] * 2 if vecs else [])
        kind = r.choice(kinds)
        self.drawn.add(f"zero-trip {kind}")

        def body(breakable, continuable, size, nested=False):
            if nested and depth < 2:  # a loop inside (the zero-trip while of issue 12, item 6)
                self.loop(indent + 1, depth + 1)
            self.block(indent + 1, depth + 1, size, (breakable, continuable))

        if kind == "while-counter":
            j, k = self.fresh("j"), r.randint(0, 3)
            self.emit(indent, f"{j} = {k}")
            self.emit(indent, f"while {j} < {k}:")
            self.loops.append((j, k, k))
            self.scoped(lambda: body(True, False, r.randint(1, 2), nested=r.random() < 0.6))
            self.emit(indent + 1, f"{j} += 1")
            self.loops.pop()
        elif kind == "while-data":
            w = self.fresh("w")
            self.emit(indent, f"{w} = {self.bounded()}")  # in [-pi/2, pi/2]
            self.emit(indent, f"while {w} > 2.0:")
            self.emit(indent + 1, f"{w} = {w} * 0.5")
            self.env[w] = "s"
            self.frozen.add(w)
            self.scoped(lambda: body(True, False, r.randint(0, 2), nested=r.random() < 0.6))
            self.frozen.discard(w)
        elif kind == "each":
            v = r.choice(vecs)
            e = self.fresh("e")
            form = r.choice(["plain", "enumerate", "zip"] if len(vecs) >= 2 else ["plain", "enumerate"])
            if form == "plain":
                self.emit(indent, f"for {e} in {v}[:0]:")
            elif form == "enumerate":
                i = self.fresh("i")
                self.emit(indent, f"for {i}, {e} in enumerate({v}[{n}:]):")
            else:
                g, w = self.fresh("g"), r.choice([x for x in vecs if x != v])
                self.emit(indent, f"for {e}, {g} in zip({v}[:0], {w}[:0]):")
            self.shared |= {e, v}
            self.owned.discard(v)

            def each_body():
                self.env[e] = "s"
                body(True, True, r.randint(1, 2))

            self.scoped(each_body)
        elif kind == "first-pass":  # runs once: the body, then `break`
            i, k = self.fresh("i"), r.randint(1, 4)
            self.emit(indent, f"for {i} in range({k}):")
            self.loops.append((i, 0, 1))
            self.scoped(lambda: body(False, False, r.randint(1, 2), nested=r.random() < 0.3))
            self.emit(indent + 1, "break")
            self.loops.pop()
        else:  # `while True` that breaks on its first pass
            self.emit(indent, "while True:")
            self.scoped(lambda: body(False, False, r.randint(1, 2), nested=r.random() < 0.3))
            self.emit(indent + 1, "break")

    def build(self) -> str:
        source = super().build()
        if self.tree:
            source = source.replace("\ndef f(", f"\ndef f({self.tree[0]}{self.tree[1]}, ", 1)
        if "data" in self.features:  # the data parameters, last
            source = re.sub(r"(\ndef f\(.*)\):\n", r"\1, y, rng):\n", source, count=1)
            imports = [f"from scipy.special import {name}\n" for name in ("gammaln", "ndtr") if name in self.data]
            if "lfact" in self.data:
                imports.append("from fuzz_helpers import lfact\n")
            source = source.replace("import numpy as np\n", "import numpy as np\n" + "".join(imports), 1)
        if "logsumexp(" in source:
            source = source.replace("import numpy as np\n", "import numpy as np\nfrom scipy.special import logsumexp\n", 1)
        return source


@functools.lru_cache(maxsize=None)
def make_case(seed: int, features=FEATURES):
    """(source, wrt, inputs, constructs drawn) for one seed: a program, and inputs at
    which every comparison on values is at least MARGIN from a tie."""
    rng = random.Random(seed)
    data = np.random.default_rng(seed)
    for _ in range(50):
        program = _FeatureProgram(rng, features)
        source = program.build()
        wrt = [name for name, kind in program.params if kind != "int"]
        if program.tree:
            wrt.insert(0, program.tree[0])
        for _ in range(20):
            kwargs = {}
            if program.tree:
                kwargs[program.tree[0]] = _tree_value(program.tree[2], data, program.n)
            for name, kind in program.params:
                if kind == "int":  # 0 runs `range(m)` zero times
                    kwargs[name] = int(data.integers(0 if "zero-trip" in features else 1, 5))
                else:
                    kwargs[name] = random_input(data, () if kind == "s" else (program.n,), "real")
            if "data" in features:  # (in the signature's order: autograd passes them by position)
                kwargs["y"], kwargs["rng"] = random_input(data, (program.n,), "real"), FixedRng()
            try:
                gap = _closest_tie(source, kwargs, ignore=("divide", "invalid"))
            except ZeroDivisionError:
                break  # a Python float divided by zero: draw another program
            if gap >= MARGIN:
                return source, tuple(wrt), kwargs, frozenset(program.drawn)
    raise AssertionError(f"seed {seed}: no program with inputs away from ties")


@functools.lru_cache(maxsize=None)
def generated(seed: int) -> str:
    source, wrt, _, _ = make_case(seed)
    return generate(source, "f", list(wrt), include=includes(source))


def for_autograd(source: str) -> str:
    return source.replace("from scipy.special import", "from autograd.scipy.special import")


def has_aux(drawn) -> bool:
    return any(d.startswith("aux ") for d in drawn)


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_features(seed):
    source, wrt, kwargs, drawn = make_case(seed)
    check_program(seed, source, wrt, kwargs, generated(seed), aux=has_aux(drawn), include=includes(source))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_features_match_autograd(seed):
    pytest.importorskip("autograd")
    source, wrt, kwargs, drawn = make_case(seed)
    module = load_generated(generated(seed))
    ours = _as_tuple(module.grad_f(**_copy(kwargs)), wrt)
    try:
        theirs = autograd_gradients(for_autograd(source), wrt, kwargs, aux=has_aux(drawn))
    except (TypeError, AttributeError, NotImplementedError, ValueError, ImportError) as error:
        pytest.skip(f"autograd cannot run this program: {type(error).__name__}: {error}")
    context = _context(seed, source, wrt, kwargs, generated(seed))
    for name, mine, other in zip(wrt, ours, theirs):
        assert _structure(mine) == _structure(other), f"d_{name}: {mine!r}, autograd gives {other!r}" + context
        np.testing.assert_allclose(
            flatten(mine)[0], flatten(other)[0], rtol=1e-9, atol=1e-12, err_msg=f"d_{name}" + context
        )


def test_seeds_draw_every_feature():
    """The default seeds (failing ones too), together, draw each construct (so
    none silently stops being drawn)."""
    drawn = set().union(*(make_case(seed)[3] for seed in DRAWN))
    wanted = {f"overwrite {how}" for how in ("branch", "else", "elif", "for", "while", "next-line", "unused")}
    wanted |= {"zero-trip for"} | {f"zero-trip {k}" for k in ("while-counter", "while-data", "first-pass", "each")}
    wanted |= {"0-d np.sum(axis)", "0-d logsumexp(axis)", "0-d np.cumsum(axis)", "0-d np.max(axis)"}
    wanted |= {"tree dict keys", "tree dict unpack", "tree list keys", "tree tuple unpack"}
    wanted |= {"tree loop list each", "tree loop list enumerate", "tree loop dict range", "tree loop dict each"}
    wanted |= {f"aux {form}" for form in ("scalar", "name", "vector", "tuple", "several")}
    assert wanted <= drawn, sorted(wanted - drawn)


@pytest.fixture(scope="module")
def other_process(tmp_path_factory):
    """The programs generated again in another process, under another PYTHONHASHSEED."""
    path = tmp_path_factory.mktemp("fuzz_features") / "cases.json"
    path.write_text(json.dumps([[seed, *make_case(seed)[:2]] for seed in SEEDS]))
    process = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONHASHSEED=HASH_SEED, PYTHONPATH=str(ROOT)),
    )
    yield _OtherProcess(process)
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_fuzz_features_same_modules_in_another_process(other_process):
    theirs = other_process.hashes()
    differ = [s for s in SEEDS if theirs[s] != hashlib.sha256(generated(s).encode()).hexdigest()]
    assert not differ, f"seeds {differ} generate other bytes under PYTHONHASHSEED={HASH_SEED}" + _context(
        differ[0], *make_case(differ[0])[:3]
    )
