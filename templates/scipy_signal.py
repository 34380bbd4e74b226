"""scipy.signal's functions that losses use. Generated code calls SciPy for them (the
loss did)."""

import numpy as np
from scipy import signal


@rule(
    multilinear=True,
    zero_gradient=["mode", "method"],
    checks=[
        ("signal.convolve(x, y)", [{"x": (4,), "y": (2,)}, {"x": (3, 2), "y": (2, 3)}]),
        ("signal.convolve(x, y, mode='valid')", [{"x": (5,), "y": (2,)}, {"x": (2,), "y": (4,)}, {"x": (4, 3), "y": (2, 2)}]),
        ("signal.convolve(x, y, mode='same')", [{"x": (5,), "y": (2,)}, {"x": (2,), "y": (5,)}, {"x": (4, 3), "y": (3, 2)}]),
    ],
)
def convolve(in1, in2, mode="full", method="auto"):
    """The N-dimensional convolution, in each mode (full, valid, same: the middle of
    the full result the size of in1), by any method (direct or FFT)."""
    ans = signal.convolve(in1, in2, mode=mode, method=method)
    d_in1 = signal.correlate(_into_full(d_ans, in1, in2, ans), in2, mode="valid")
    d_in2 = signal.correlate(_into_full(d_ans, in1, in2, ans), in1, mode="valid")
