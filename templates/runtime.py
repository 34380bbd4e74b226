"""Helpers that rules and generated code call. A generated module gets a copy of each
helper it uses, so it imports nothing but NumPy.

An adjoint in generated code may be smaller than its value (a scalar standing for a
constant array, say) as long as it broadcasts to the value's shape; these helpers
take that into account."""

import numpy as np


def _unbroadcast(d, x, *others):
    """The adjoint of `x` from `d`, the adjoint of a result that NumPy broadcast from
    `x` and `others`: summed over the axes along which x was broadcast. `d` may be
    smaller than the result (a scalar for a constant array); it is broadcast first."""
    shape = np.shape(x)
    full = np.broadcast_shapes(shape, np.shape(d), *(np.shape(o) for o in others))
    if full == shape:
        return d
    if not shape:
        return np.sum(np.broadcast_to(d, full))
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and full[lead + i] != 1
    )
    summed = np.sum(np.broadcast_to(d, full), axis=axes, keepdims=True)
    return np.reshape(summed, shape)


def _unbroadcast_product(a, b, x, *others):
    """`_unbroadcast(a * b, x, *others)`. Where x is a number and a and b float NumPy
    arrays of one shape that nothing else broadcasts, the sum of their product in
    one pass, with no array for the product (np.vdot); the sum is the same up to
    rounding (BLAS adds in another order)."""
    if (
        np.ndim(x) == 0 and _plain(a, b) and isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        and a.shape == b.shape and a.dtype.kind == "f" and b.dtype.kind == "f"
        and np.broadcast_shapes(a.shape, *(np.shape(o) for o in others)) == a.shape
    ):
        return np.vdot(a, b)
    return _unbroadcast(a * b, x, *others)


def _expand(d, x, axis):
    """`d`, the adjoint (or value) of a reduction of `x` over `axis` that dropped the
    reduced axes, with them put back as length 1, so that it broadcasts against x.
    NumPy reduces a number (0-d x) over axis 0 or -1 to itself: nothing to put back,
    so its gradient stays a number."""
    return np.expand_dims(d, axis) if np.ndim(x) else d


def _fill(d, x):
    """The adjoint `d` (which broadcasts to x's shape) as a gradient of exactly x's
    shape: a scalar for a scalar `x`, else an array of its own. Where x is a list or
    tuple that code read as one array (`np.concatenate(x)`, `np.sum(x)`), the gradient
    is a list or tuple like it, each item of its item's shape."""
    if isinstance(x, (list, tuple)):
        if not (isinstance(d, (list, tuple)) and len(d) == len(x)):
            d = np.broadcast_to(d, np.shape(x))
        return type(x)(_fill(a, b) for a, b in zip(d, x))
    if np.ndim(x) == 0:
        return d[()] if isinstance(d, np.ndarray) else d
    if np.shape(d) == np.shape(x):
        return d
    if not _plain(x, d):  # another library's arrays (Dask's): made there, chunk by chunk, not shipped whole
        return np.zeros_like(x, dtype=np.float64) + d
    return np.full(np.shape(x), d)


def _shape_only(*values):
    """Stand-ins for values of which later code reads only the shapes: read-only,
    zero-strided arrays of those shapes (one number in memory each), so the values
    themselves can be freed (a list of arrays, such as np.split gives: a list of
    stand-ins). One stand-in for one value, else a tuple."""
    stand_ins = tuple(_stand_in(v) for v in values)
    return stand_ins[0] if len(stand_ins) == 1 else stand_ins


def _stand_in(value):
    """A read-only zero-strided array of value's shape; for a list or tuple (of
    arrays, as np.split gives), a list or tuple of such stand-ins."""
    if isinstance(value, (list, tuple)):
        return type(value)(_stand_in(v) for v in value)
    if _plain(value):
        return np.broadcast_to(0.0, np.shape(value))
    # another library's array (Dask's, CuPy's): a stand-in of that library, so that
    # what is built from it later (`_fill`) is built there too
    return np.broadcast_to(np.zeros_like(value, dtype=np.float64, shape=()), np.shape(value))


def _plain(*values):
    """Whether every value is a NumPy array or a Python number (not another array
    library's array, such as a Dask array, which NumPy's functions dispatch to but
    which cannot be written into in place)."""
    return all(isinstance(v, np.ndarray) or not hasattr(v, "__array_function__") for v in values)


def _zero_gradient(x):
    """Zeros in x's structure: the gradient with respect to `x` of a value that does
    not depend on it, or (forward mode) the tangent of an `x` that depends on no wrt
    argument, where it meets one that does in a linear primitive. 0.0 for a number,
    float zeros of x's shape for an array, zeros in its structure for a tree."""
    if isinstance(x, (dict, list, tuple)):
        return _tree_fill(0.0, x)
    return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))


def _numpy_scalars(t):
    """A tangent given to `jvp_<f>` with its Python floats (a tree's leaves too) as
    NumPy float64s, whose arithmetic gives inf or nan with a warning where Python's
    raises: the tangent of a value at a pole (log(0), 1/0) that the path taken then
    overwrites must not stop the call, as the value itself did not."""
    if isinstance(t, float) and not isinstance(t, np.float64):
        return np.float64(t)
    if isinstance(t, dict):
        return {key: _numpy_scalars(value) for key, value in t.items()}
    if isinstance(t, (list, tuple)):
        items = [_numpy_scalars(value) for value in t]
        return items if isinstance(t, list) else type(t)(*items) if hasattr(t, "_fields") else type(t)(items)
    return t


def _jacobian(jvp, vjp, args, has_aux=False):
    """The Jacobian of a function at `args` (its wrt arguments), for each argument
    an array of shape result.shape + arg.shape (for a parameter tree, the tree of
    such arrays, one per leaf), from its JVP (`jvp(*tangents)` gives `(value,
    tangent[, aux])`) or its VJP (`vjp(cotangent)` gives the gradients). The
    lecture's rule, on the actual shapes: forward mode, one JVP per input element,
    when the inputs have fewer elements in all (n) than the result (m); reverse mode,
    one VJP per result element, otherwise."""
    zeros = [[np.zeros(np.shape(leaf)) for leaf in _leaves(a)] for a in args]

    def trees(flat):
        return [_with_leaves(a, iter(leaves)) for a, leaves in zip(args, flat)]

    first = jvp(*trees(zeros))
    value = first[0]
    m, n = np.size(value), sum(z.size for leaves in zeros for z in leaves)
    jac = [[np.zeros(np.shape(value) + z.shape) for z in leaves] for leaves in zeros]
    rows = [[j.reshape(m, z.size) for j, z in zip(js, zs)] for js, zs in zip(jac, zeros)]
    if n < m:  # forward mode: a column per input element
        for k, leaves in enumerate(zeros):
            for q, z in enumerate(leaves):
                for i in range(z.size):
                    tangents = [[np.zeros(t.shape) for t in ts] for ts in zeros]
                    tangents[k][q].flat[i] = 1.0
                    rows[k][q][:, i] = np.ravel(jvp(*trees(tangents))[1])
    else:  # reverse mode: a row per result element
        for r in range(m):
            cotangent = np.zeros(np.shape(value))
            cotangent.flat[r] = 1.0
            grads = vjp(cotangent)
            grads = grads if len(args) > 1 else (grads,)
            for k, g in enumerate(grads):
                for q, leaf in enumerate(_leaves(g, like=args[k])):
                    rows[k][q][r] = np.ravel(leaf)
    out = tuple(_with_leaves(a, iter([j if j.ndim else j[()] for j in js])) for a, js in zip(args, jac))
    out = out if len(args) > 1 else out[0]
    return (out, first[2]) if has_aux else out


def _is_tree(a, top=True):
    """Whether a wrt argument (`top`) or a part of one is a parameter tree: a dict,
    a list or a tuple, as the gradient's structure has it (`_tree_fill`); but a wrt
    argument that is a list of numbers is an array, as its gradient is (`_fill`)."""
    if isinstance(a, dict):
        return True
    if isinstance(a, (list, tuple)):
        if not top:
            return True
        try:
            np.asarray(a, dtype=float)
        except (ValueError, TypeError):
            return True
    return False


def _leaves(tree, like=None, top=True):
    """The leaves of a parameter tree in order (a dict's values as it holds them, a
    list's or tuple's items), walked in the structure of `like` (the tree itself by
    default); [tree] for an array or a number."""
    like = tree if like is None else like
    if not _is_tree(like, top):
        return [tree]
    keys = like.keys() if isinstance(like, dict) else range(len(like))
    return [leaf for key in keys for leaf in _leaves(tree[key], like[key], top=False)]


def _with_leaves(tree, leaves, top=True):
    """The tree's structure with its leaves taken in order from the iterator `leaves`."""
    if not _is_tree(tree, top):
        return next(leaves)
    if isinstance(tree, dict):
        return {key: _with_leaves(value, leaves, top=False) for key, value in tree.items()}
    items = [_with_leaves(value, leaves, top=False) for value in tree]
    if isinstance(tree, list):
        return items
    return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)


# Rules for the helpers above that forward mode's code calls, so that codegen can
# read a JVP it wrote back as a function and differentiate it (--mode hvp). No loss
# calls them by these names (`rulecheck` reads its checks as such code).


@rule(linear=True, zero_gradient=["x"], checks=[("_fill(d, x)", [{"d": (), "x": (3,)}, {"d": (3,), "x": (3,)}, {"d": (1, 3), "x": (2, 3)}, {"d": (), "x": ()}], ["d"])])
def fill(d, x):
    """`_fill(d, x)`: d made exactly x's shape."""
    ans = _fill(d, x)
    d_d = _unbroadcast(d_ans, d)


@rule(zero_gradient=True, checks=[("x * _zero_gradient(x)", [{"x": (3,)}, {"x": ()}])])
def zero_tangent(x):
    """`_zero_gradient(x)`: zeros of x's shape, where a tangent is zero."""
    ans = _zero_gradient(x)


@rule(elementwise=True, linear=True, checks=[("_numpy_scalars(x) * x", [{"x": ()}, {"x": (3,)}])])
def numpy_scalars(t):
    """`_numpy_scalars(t)`: t, its Python floats as NumPy float64s."""
    ans = _numpy_scalars(t)
    d_t = d_ans


@rule(linear=True, zero_gradient=["x", "axis"], checks=[("_expand(d, x, 1)", [{"d": (2,), "x": (2, 3)}], ["d"]), ("_expand(d, x, 0)", [{"d": (), "x": ()}], ["d"])])
def expand(d, x, axis):
    """`_expand(d, x, axis)`: d with x's reduced axes put back as length 1."""
    ans = _expand(d, x, axis)
    d_d = np.reshape(d_ans, np.shape(d))


def _hessian(hvp, args):
    """The Hessian at `args` (the wrt arguments) from Hessian-vector products: for
    each leaf of each argument k and each of its elements i, `hvp(*v)` along the
    unit vector e_i gives column i of every block H[j][k], of shape args[j].shape +
    args[k].shape (for parameter trees, a tree of trees of such blocks, one per pair
    of leaves, as JAX's `hessian` gives)."""
    flat = [_leaves(a) for a in args]
    blocks = [[[[np.zeros((np.size(x), np.size(y))) for y in ys] for ys in flat] for x in xs] for xs in flat]
    for k, ys in enumerate(flat):
        for q, y in enumerate(ys):
            for i in range(np.size(y)):
                v = [[0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x)) for x in xs] for xs in flat]
                if np.ndim(y) == 0:
                    v[k][q] = 1.0
                else:
                    v[k][q].flat[i] = 1.0
                out = hvp(*[_with_leaves(a, iter(vs)) for a, vs in zip(args, v)])
                out = out if len(args) > 1 else (out,)
                for j, h in enumerate(out):
                    for m, leaf in enumerate(_leaves(h, like=args[j])):
                        blocks[j][m][k][q][:, i] = np.ravel(leaf)

    def shaped(block, x, y):
        h = block.reshape(np.shape(x) + np.shape(y))
        return h if h.ndim else h[()]

    rows = [
        [
            _with_leaves(a, iter([_with_leaves(b, iter([shaped(blocks[j][m][k][q], x, y) for q, y in enumerate(flat[k])])) for m, x in enumerate(flat[j])]))
            for k, b in enumerate(args)
        ]
        for j, a in enumerate(args)
    ]
    return rows[0][0] if len(args) == 1 else tuple(tuple(row) for row in rows)


# -- other array libraries (issue 17) -----------------------------------------------------
# Every function of a generated module is decorated with `_any_array_library`. NumPy
# arrays and numbers go straight through (one check of the arguments' types). Dask
# and CuPy arrays need nothing: NumPy's functions hand them to their library
# (__array_function__, __array_ufunc__). PyTorch tensors do not dispatch so; called
# with one, the function runs its own code again over tensors, with `np` standing
# for `_torch_numpy()`: NumPy's names for torch's functions, so the arithmetic is
# torch's own kernels. A NumPy function it does not name is torch._numpy's (NumPy's
# functions computed by torch); where the tensors meet something torch does not do as
# NumPy does (a slice with a negative step), the whole call runs on torch._numpy's
# arrays instead. Torch's default dtype is float64 during the call, so integers meet
# Python floats in float64, as in NumPy.


def _any_array_library(function):
    """`function` for NumPy, and for PyTorch tensors (`_on_torch`)."""

    plain = frozenset({float, int, bool, np.ndarray, np.float64})  # the common case, checked first

    def call(*args, **kwargs):
        for value in args:
            if type(value) not in plain:
                if _holds_torch(args) or _holds_torch(kwargs.values()):
                    return _on_torch(function, args, kwargs)
                break
        else:
            if kwargs and _holds_torch(kwargs.values()):
                return _on_torch(function, args, kwargs)
        return function(*args, **kwargs)

    call.__name__, call.__qualname__, call.__doc__ = function.__name__, function.__qualname__, function.__doc__
    call.__wrapped__ = function
    return call


def _holds_torch(values):
    """Whether any value (in lists, tuples and dicts too) is a torch.Tensor."""
    for v in values:
        kind = type(v)
        if kind.__module__.startswith("torch") and kind.__name__ == "Tensor":
            return True
        if kind in (list, tuple, dict) or isinstance(v, (list, tuple, dict)):
            if _holds_torch(v.values() if isinstance(v, dict) else v):
                return True
    return False


def _on_torch(function, args, kwargs):
    """Run `function`'s code on the tensors with np = `_torch_numpy()`, else (where
    torch and NumPy part ways) with np = torch._numpy; give back tensors. The
    module's functions are made again once for each, over a copy of its namespace."""
    import torch
    import torch._numpy as tnp

    module = function.__globals__
    found = module.get("_torch_namespaces")
    if found is None:
        torch_numpy = _torch_numpy()
        found = module["_torch_namespaces"] = {}
        for key, space in (("torch", torch_numpy), ("torch._numpy", tnp)):
            rebound = found[key] = dict(module, np=space)
            for name, value in module.items():
                if type(value) is type(_on_torch) and value.__globals__ is module:
                    rebound[name] = type(value)(value.__code__, rebound, name, value.__defaults__, value.__closure__)
                elif isinstance(value, (np.generic, np.ndarray)):  # the module's constants, NumPy's values
                    rebound[name] = _torch_values(value, space)
        found["torch"]["_plain"] = found["torch._numpy"]["_plain"] = lambda *values: False  # no NumPy writes in place
        found["torch._numpy"]["_index_adjoint"] = _torch_index_adjoint  # torch._numpy writes no x[::-1] = d
        found["torch._numpy"]["_stand_in"] = _torch_stand_in
        found["torch"]["_index_add"] = torch_numpy.index_add
        if "_tanh_slope" in module:  # torch's fused kernel: one pass over the arrays, not three
            found["torch"]["_tanh_slope"] = torch_numpy.tanh_slope
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        try:
            space = found["torch"]
            space["np"].device = next(_leaves_of_kind(args, torch.Tensor), torch.zeros(())).device
            again = type(function)(function.__code__, space, function.__name__, function.__defaults__, function.__closure__)
            return _torch_values(again(*_torch_values(args, space["np"]), **_torch_values(kwargs, space["np"])), None)
        except (TypeError, ValueError, AttributeError, IndexError, KeyError, RuntimeError, NotImplementedError) as error:
            found["parted"] = error  # torch and NumPy part ways here: NumPy's rules, through torch._numpy
        space = found["torch._numpy"]
        again = type(function)(function.__code__, space, function.__name__, function.__defaults__, function.__closure__)
        try:
            result = again(*_torch_values(args, tnp), **_torch_values(kwargs, tnp))
        except Exception as error:  # a NumPy call torch's NumPy lacks, or does not do as NumPy does
            raise TypeError(
                f"{function.__name__} called with PyTorch tensors: neither torch's functions nor torch._numpy can run "
                f"a NumPy call it makes ({type(error).__name__}: {str(error)[:200]}); it runs on NumPy arrays: call it "
                "with tensor.numpy() instead"
            ) from error
        return _torch_values(result, None)
    finally:
        torch.set_default_dtype(default)


def _leaves_of_kind(value, kind):
    """The values of type `kind` in value's structure (lists, tuples, dicts), in order."""
    if isinstance(value, kind):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves_of_kind(v, kind)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves_of_kind(v, kind)


def _torch_values(value, space):
    """value (a tree) with its arrays made `space`'s: tensors and NumPy arrays as
    torch._numpy arrays (space is torch._numpy) or as tensors (space is
    `_torch_numpy()`), sharing memory; NumPy numbers as Python numbers. With space
    None, torch._numpy arrays back to the tensors they wrap."""
    if isinstance(value, dict):
        return {k: _torch_values(v, space) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_torch_values(v, space) for v in value]
        return items if isinstance(value, list) else type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if space is None:
        return value.tensor if type(value).__name__ == "ndarray" and type(value).__module__.startswith("torch") else value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) or (type(value).__name__ == "Tensor" and type(value).__module__.startswith("torch")):
        return space.asarray(value)
    return value


def _torch_stand_in(value):
    """`_stand_in` on torch._numpy's arrays."""
    import torch._numpy as tnp

    if isinstance(value, (list, tuple)):
        return type(value)(_torch_stand_in(v) for v in value)
    return tnp.broadcast_to(0.0, tnp.shape(value))


def _torch_index_adjoint(d, x, index):
    """`_index_adjoint` on torch._numpy's arrays, for any index (a negative step
    too): zeros like x with d added at the places x[index] took (an element taken
    twice gets both)."""
    import torch
    import torch._numpy as tnp

    places = tnp.arange(tnp.size(x)).reshape(tnp.shape(x))[index].tensor
    out = torch.zeros(tnp.size(x), dtype=torch.float64)
    values = tnp.broadcast_to(d, tuple(places.shape)).tensor.to(torch.float64)
    out.index_add_(0, places.reshape(-1), values.reshape(-1))
    return tnp.asarray(out.reshape(tnp.shape(x)))


def _torch_numpy():
    """NumPy's names for torch's functions on tensors, as generated code calls them
    (np.sum(x, axis=1, keepdims=True) is torch.sum(x, dim=1, keepdim=True)); a name
    not here is torch._numpy's, its arrays unwrapped to tensors. Arguments that are
    not tensors become tensors on `device` (the first argument tensor's)."""
    import types

    import torch
    import torch._numpy as tnp

    space = types.ModuleType("torch_numpy")  # a module: its __getattr__ answers the names not set on it
    space.device = None
    Tensor = torch.Tensor
    # np.float64(x): a float64 tensor of x (and a type no value is an instance of)
    float64 = type("float64", (), {"__new__": lambda cls, x: torch.as_tensor(x, dtype=torch.float64, device=space.device)})

    def tensor(x):
        if isinstance(x, Tensor):
            return x
        if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
            return torch.stack([tensor(v) for v in x])
        return torch.as_tensor(x, device=space.device)

    def asarray(x, dtype=None):
        if dtype is None:
            return tensor(x)
        kinds = {float: torch.float64, float64: torch.float64, np.float64: torch.float64, int: torch.int64, bool: torch.bool}
        return tensor(x).to(kinds[dtype])  # another dtype: a KeyError, and NumPy's rules through torch._numpy

    def unwrap(value):
        if isinstance(value, tnp.ndarray):
            return value.tensor
        if isinstance(value, (list, tuple)):
            return type(value)(unwrap(v) for v in value)
        return value

    def fallback(found):
        """torch._numpy's function or submodule `found`, giving tensors."""
        if isinstance(found, type) and not issubclass(found, tnp.ndarray):
            return found  # a dtype or a scalar type
        if isinstance(found, types.ModuleType):  # np.linalg, np.fft: their functions, the same way
            submodule = types.ModuleType(found.__name__)
            submodule.__getattr__ = lambda name: fallback(getattr(found, name))
            return submodule
        if callable(found):
            return lambda *args, **kwargs: unwrap(found(*args, **kwargs))
        return found

    space.__getattr__ = lambda name: fallback(getattr(tnp, name))

    def elementwise(torch_function):
        return lambda *xs: torch_function(*(tensor(x) for x in xs))

    def reduction(torch_function, cast=False):
        def reduce(x, axis=None, keepdims=False):
            x = tensor(x)
            if cast and not x.is_floating_point():
                x = x.to(torch.get_default_dtype())
            if axis is None:
                out = torch_function(x)
                return out.reshape((1,) * x.ndim) if keepdims else out
            if axis == ():  # torch reads dim=() as every axis; NumPy as none
                return torch_function(x.unsqueeze(0), dim=0)
            return torch_function(x, dim=axis, keepdim=keepdims)

        return reduce

    def index_add(d, c, x, index):  # `_index_add`, on tensors
        if not (isinstance(d, Tensor) and d.dtype == torch.float64 and d.is_contiguous() and d._base is None
                and tuple(d.shape) == shape(x)):
            d = tensor(d).to(torch.float64).expand(shape(x)).clone()
        parts = index if isinstance(index, tuple) else (index,)
        if all(p is None or p is Ellipsis or isinstance(p, (slice, int)) for p in parts):
            d[index] += c
        else:
            add_at(d, index, c)
        return d

    def tanh_slope(d, ans):  # `_tanh_slope`, in torch's one-pass kernel
        d, ans = tensor(d), tensor(ans)
        both = torch.broadcast_shapes(d.shape, ans.shape)
        return torch.ops.aten.tanh_backward(d.expand(both), ans.expand(both))

    def dot(a, b):  # NumPy's dot: over a's last axis and b's second to last
        a, b = tensor(a), tensor(b)
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        return torch.tensordot(a, b, dims=([-1], [-2 if b.ndim > 1 else -1]))

    def split(x, indices_or_sections, axis=0, strict=True):
        x = tensor(x)
        if isinstance(indices_or_sections, int) or np.ndim(indices_or_sections) == 0:
            sections = int(indices_or_sections)
            if strict and x.shape[axis] % sections:
                raise ValueError("array split does not result in an equal division")
            return list(torch.tensor_split(x, sections, dim=axis))
        return list(torch.tensor_split(x, [int(i) for i in indices_or_sections], dim=axis))

    def concatenate(arrays, axis=0):
        if axis is None:
            return torch.cat([tensor(a).reshape(-1) for a in arrays])
        return torch.cat([tensor(a) for a in arrays], dim=axis)

    def shape(x):
        return tuple(x.shape) if isinstance(x, Tensor) else np.shape(x)

    def expand_dims(x, axis):
        x = tensor(x)
        return x.reshape(np.expand_dims(np.broadcast_to(0.0, x.shape), axis).shape)

    def transpose(x, axes=None):
        x = tensor(x)
        return x.permute(tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) for a in axes))

    def full(shape, value):
        return tensor(value).expand(shape).clone()

    def zeros_like(x, dtype=None, shape=None):
        kind = torch.float64 if dtype is not None else tensor(x).dtype
        return torch.zeros(np.shape(x) if shape is None else shape, dtype=kind, device=space.device)

    def add_at(x, index, values):  # x: a contiguous tensor of zeros that generated code made
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(p if p is None or isinstance(p, (slice, int, type(Ellipsis))) else tensor(p) for p in parts)
        places = torch.arange(x.numel(), device=x.device).reshape(x.shape)[parts]
        x.view(-1).index_add_(0, places.reshape(-1), tensor(values).to(x.dtype).expand(places.shape).reshape(-1))

    names = {
        "shape": shape, "asarray": asarray, "expand_dims": expand_dims, "transpose": transpose,
        "zeros_like": zeros_like, "full": full, "dot": dot, "split": split, "concatenate": concatenate,
        "ndim": lambda x: x.ndim if isinstance(x, Tensor) else np.ndim(x),
        "size": lambda x: x.numel() if isinstance(x, Tensor) else np.size(x),
        "sum": reduction(torch.sum), "mean": reduction(torch.mean, cast=True),
        "max": reduction(torch.amax), "min": reduction(torch.amin),
        "amax": reduction(torch.amax), "amin": reduction(torch.amin),
        "reshape": lambda x, shape: tensor(x).reshape(shape),
        "broadcast_to": lambda x, shape: tensor(x).expand(shape),
        "broadcast_shapes": lambda *shapes: tuple(torch.broadcast_shapes(*shapes)),
        "swapaxes": lambda x, a, b: torch.swapaxes(tensor(x), a, b),
        "moveaxis": lambda x, a, b: torch.movedim(tensor(x), a, b),
        "ravel": lambda x: tensor(x).reshape(-1),
        "zeros": lambda shape: torch.zeros(shape, device=space.device),
        "ones": lambda shape: torch.ones(shape, device=space.device),
        "where": lambda c, x, y: torch.where(tensor(c), tensor(x), tensor(y)),
        "matmul": elementwise(torch.matmul),
        "array_split": lambda x, sections, axis=0: split(x, sections, axis, strict=False),
        "stack": lambda arrays, axis=0: torch.stack([tensor(a) for a in arrays], dim=axis),
        "outer": lambda a, b: torch.outer(tensor(a).reshape(-1), tensor(b).reshape(-1)),
        "newaxis": None, "ndarray": Tensor, "float64": float64, "add": types.SimpleNamespace(at=add_at),
        "index_add": index_add, "tanh_slope": tanh_slope,
    }
    for name in ("s_", "inf", "nan", "pi", "e"):
        names[name] = getattr(np, name)
    # NumPy's elementwise functions that torch has, by torch's name where it differs
    for name in (
        "exp log log1p expm1 tanh sqrt abs sin cos tan sign negative square sinh cosh isnan isfinite isinf "
        "maximum minimum logaddexp hypot floor ceil logical_not arctan:atan arcsin:asin arccos:acos "
        "arctanh:atanh arcsinh:asinh arccosh:acosh arctan2:atan2 absolute:abs"
    ).split():
        numpy_name, _, torch_name = name.partition(":")
        names[numpy_name] = elementwise(getattr(torch, torch_name or numpy_name))
    for name, value in names.items():
        setattr(space, name, value)
    return space
