"""Parameter trees: dicts, lists and tuples of arrays (`params["W1"]`, `W, b =
layer`, `for W, b in layers`), as JAX and PyTorch users hold their parameters.

`tree[key]` on a parameter tree is the primitive `item`. The adjoint of a tree is
*sparse*: a dict from the keys read to their adjoints (`{"W1": d_W1}`), merged by
`_tree_add` as reads accumulate, whatever the tree's length at run time (a loop over
a list of layers adds `{k: d_layer}` per layer). `_tree_fill` turns it into the
gradient at the end: the argument's own structure (a dict with the same keys, a
list or tuple of the same length), with a zero of the leaf's shape for each leaf
never read. An array read row by row is a tree too, filled back into an array.
"""

import numpy as np


@rule(
    linear=True,
    zero_gradient=["key"],
    lazy_adjoint=True,
    compute="tree[key]",
    checks=[
        ("tree[0]", [{"tree": (3,)}, {"tree": (2, 3)}]),
        ("tree[-1] * tree[1]", [{"tree": (3, 2)}]),
    ],
)
def item(tree, key):
    """One branch or leaf of a parameter tree (a dict, list or tuple), by a key that
    is a constant or a loop's counter."""
    ans = _item(tree, key)
    d_tree = {key: d_ans}


def _item(tree, key):
    return tree[key]


@rule(
    linear=True,
    zero_gradient=["key"],
    lazy_adjoint=True,
    compute="tree[key]",
    checks=[
        ("tree[i % 3]", [{"tree": (3,), "i": 2}, {"tree": (2, 3), "i": 1}]),
        ("tree[i % 4]", [{"tree": (4, 2), "i": [0, 3, 0]}]),
    ],
)
def item_or_index(tree, key):
    """`x[key]` where x may be a tree or an array, and key an integer or an index
    array: what it is is known at run time only (`layers[i % 2]`)."""
    ans = _item_or_index(tree, key)
    d_tree = _item_adjoint(d_ans, tree, key)


def _item_or_index(tree, key):
    return tree[key]


def _item_adjoint(d, tree, key):
    """The adjoint of `tree[key]`: sparse (`{key: d}`) for a tree or an integer key,
    else (an array indexed by an array) zeros of the array's shape with d added in."""
    if isinstance(tree, (dict, list, tuple)) or isinstance(key, (int, np.integer, str)):
        return {key: d}
    return _index_adjoint(d, tree, key)


def _tree_add(a, b):
    """The sum of two adjoints of one tree: sparse ones (dicts of the keys read)
    merge, key by key; a dense one (an array) takes the sparse one's entries added
    in; a zero (where the adjoint started) adds nothing. A number that is not zero
    (the adjoint of a whole read, `np.sum(layer)`, that broadcasts over it) meets a
    sparse one at the key `...`, which stands for every element (`_tree_fill` spreads it)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _tree_add(out[key], value) if key in out else value
        return out
    if isinstance(b, dict):
        a, b = b, a
    if isinstance(a, dict) and isinstance(b, (list, tuple)):  # a dense list of parts (np.split's)
        out = list(b)
        for key, value in a.items():
            for i in range(len(out)) if key is ... else (key,):
                out[i] = _tree_add(out[i], value)
        return type(b)(out)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a)(_tree_add(u, v) for u, v in zip(a, b))
    if isinstance(a, dict):
        if np.ndim(b) == 0 and not isinstance(b, np.ndarray) and b == 0:
            return a
        if np.ndim(b) == 0:  # a whole read's adjoint that broadcasts: kept at `...`
            return {**a, ...: _tree_add(a[...], b) if ... in a else b}
        out = np.array(b, dtype=np.float64)
        for key, value in a.items():
            out[key] = _tree_add(out[key], value)
        return out
    return a + b


def _tree_add_into(d, c):
    """`_tree_add(d, c)`, adding c's keys into the dict d itself: codegen passes only
    a d that no other name holds (its entries are merged as `_tree_add` does)."""
    if isinstance(d, dict) and isinstance(c, dict):
        for key, value in c.items():
            d[key] = _tree_add(d[key], value) if key in d else value
        return d
    return _tree_add(d, c)


def _tree_fill(d, x):
    """The gradient with respect to a tree `x`, in x's structure, from its adjoint
    `d`: sparse (a dict of the keys read), dense, or 0.0. Leaves never read get zeros
    of their shape (0.0 for a Python number)."""
    entries = d if isinstance(d, dict) else None
    if isinstance(x, dict):
        entries = entries or {}
        return {key: _tree_fill(entries.get(key, 0.0), value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        slots = [0.0] * len(x)
        if entries is not None:
            for key, value in entries.items():
                for i in range(len(x)) if key is ... else (key,):
                    slots[i] = _tree_add(slots[i], value)
        elif isinstance(d, (list, tuple)) or np.ndim(d) != 0 or isinstance(d, np.ndarray):
            slots = [d[i] for i in range(len(x))]
        items = [_tree_fill(s, v) for s, v in zip(slots, x)]
        if isinstance(x, list):
            return items
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if entries is not None:  # an array read by rows
        out = np.zeros(np.shape(x))
        for key, value in entries.items():
            out[key] = _tree_add(out[key], _tree_fill(value, x[key]))
        return out if np.ndim(x) else out[()]
    if np.ndim(x) == 0:
        return d[()] if isinstance(d, np.ndarray) else d
    if np.shape(d) == np.shape(x):
        return d
    return np.full(np.shape(x), d)
