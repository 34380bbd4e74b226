"""Reductions over all elements or along axes.

The adjoint of a reduction is the result's adjoint spread back over the reduced
axes. It is left to broadcast: only the axes that `keepdims=False` dropped are put
back (as length 1), so `np.sum(x)` passes its scalar adjoint on as a scalar."""

import numpy as np


@rule(
    reduction=True,
    checks=[
        ("np.sum(x)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}]),
        ("np.sum(x, axis=0)", [{"x": (3,)}, {"x": (2, 3)}]),
        ("np.sum(x, axis=-1, keepdims=True)", [{"x": (2, 3)}]),
        ("np.sum(x, axis=(0, 2))", [{"x": (2, 3, 4)}]),
    ]
)
def sum(x, axis=None, *, keepdims=False):
    ans = np.sum(x, axis=axis, keepdims=keepdims)
    d_x = np.expand_dims(d_ans, axis) if axis is not None and not keepdims else d_ans


@rule(
    reduction=True,
    checks=[
        ("np.mean(x)", [{"x": ()}, {"x": (3,)}, {"x": (2, 3)}]),
        ("np.mean(x, axis=1)", [{"x": (2, 3)}]),
        ("np.mean(x, axis=0, keepdims=True)", [{"x": (2, 3)}]),
        ("np.mean(x, axis=(1, 2))", [{"x": (2, 3, 4)}]),
    ]
)
def mean(x, axis=None, *, keepdims=False):
    ans = np.mean(x, axis=axis, keepdims=keepdims)
    spread = np.expand_dims(d_ans, axis) if axis is not None and not keepdims else d_ans
    d_x = spread * (np.size(ans) / np.size(x))
