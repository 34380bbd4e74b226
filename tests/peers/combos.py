"""Cases built as combinations, the way autograd's test_systematic.py and test_scipy.py
test a function: every combination of a list of values for each positional argument
and each keyword (issue 15's adaptation of those suites; the values and combinations
are written in each suite's file from the facts of autograd's tests).

`combo(name, call, argnums, *positional, **keywords)` gives one case per combination.
`call` is the function's spelling in the source (`np.max`) or a template with `{}`
where the arguments go (`np.degrees({}) / 50.0`). Each positional argument is a list
of candidate values:
- at a position in `argnums`, a value is an input codegen differentiates (an array, a
  float, or a list or tuple of arrays: a parameter tree);
- elsewhere, an array (or list of arrays) is data passed as a parameter, and anything
  else (an int, a string, a tuple of ints, None) is written into the source.
Keyword values follow the same rule as positions not in `argnums`. A complex value
marks the case "complex": the harness skips it with that reason.
"""

from __future__ import annotations

import itertools

import numpy as np

NAMES = "xyzuvw"


class Lit:
    """A value written into the source as given (for an expression such as `R > 0`)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _is_array_like(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, np.ndarray) for v in value)


def _is_complex(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_is_complex(v) for v in value)
    return np.iscomplexobj(value)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return "x".join(map(str, value.shape)) or "0-d"
    if isinstance(value, (list, tuple)) and _is_array_like(value):
        return "(" + ",".join(_describe(v) for v in value) + ")"
    if isinstance(value, float):
        return "float"
    return repr(value)


def combo(name, call, argnums, *positional, **keywords):
    cases = []
    keys = list(keywords)
    for values in itertools.product(*positional):
        for chosen in itertools.product(*(keywords[k] for k in keys)):
            specs, args, flags = {}, [], []
            for i, value in enumerate(values):
                if i in argnums:
                    param = NAMES[len(specs)]
                    if isinstance(value, np.ndarray):
                        specs[param] = ("value", value)
                    elif isinstance(value, (list, tuple)):
                        specs[param] = ("tree", value)
                    else:
                        specs[param] = float(value)
                    args.append(param)
                elif _is_array_like(value):
                    param = NAMES[len(specs)]
                    specs[param] = ("data", value)
                    args.append(param)
                else:
                    args.append(repr(value))
                if _is_complex(value):
                    flags.append("complex")
            for key, value in zip(keys, chosen):
                if _is_array_like(value):
                    param = NAMES[len(specs)]
                    specs[param] = ("data", value)
                    args.append(f"{key}={param}")
                else:
                    args.append(f"{key}={value!r}")
            text = ", ".join(args)
            expression = call.format(text) if "{}" in call else f"{call}({text})"
            body = f"def f({', '.join(specs)}):\n    return {expression}"
            label = " ".join(_describe(v) for v in values)
            label += "".join(f" {k}={_describe(v)}" for k, v in zip(keys, chosen))
            cases.append((f"{name} {label}", body, specs, *flags))
    return cases


def transform(lims, x):
    """x in [0, 1) moved to [lims[0], lims[1])."""
    return x * (lims[1] - lims[0]) + lims[0]
