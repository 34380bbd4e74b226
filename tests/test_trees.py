"""Parameter trees: dicts, lists and tuples of arrays as parameters (`params["W1"]`,
`W, b = layer`, `for W, b in layers`), with the gradient in the same structure.
Each pattern is checked against central differences and against autograd, which
takes such trees as arguments and returns gradients of the same structure."""

import collections
import textwrap

import numpy as np
import pytest

import codegen
from codegen.verify import check_gradient
from conftest import autograd_version, load_generated

autograd = pytest.importorskip("autograd")

RNG = np.random.default_rng(12)


def a(*shape):
    return RNG.standard_normal(shape)


def _same(ours, theirs, path="d"):
    """Equal structure (type, keys, length) and values to 1e-10."""
    assert type(ours) is type(theirs) or (np.ndim(ours) == 0 and np.ndim(theirs) == 0), (path, type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for k in theirs:
            _same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _same(o, t, f"{path}[{i}]")
    else:
        assert np.shape(ours) == np.shape(theirs), path
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=path)


def check(source, kwargs, wrt=None, autograd_check=True):
    """Generate, then compare with finite differences and autograd; the module text."""
    source = "import numpy as np\n\n" + textwrap.dedent(source)
    names = list(kwargs)
    wrt = wrt or names[:1]
    text = codegen.generate(source, "f", wrt)
    module = load_generated(text)
    user = load_generated(source, "user")
    report = check_gradient(user.f, module.value_and_grad_f, kwargs, wrt)
    assert report.ok, f"{report}\n{text}"
    grads = module.grad_f(**kwargs)
    grads = (grads,) if len(wrt) == 1 else grads
    if autograd_check:
        f = autograd_version(source).f
        for name, ours in zip(wrt, grads):
            theirs = autograd.grad(f, names.index(name))(*kwargs.values())
            _same(ours, theirs)
    return text


MLP = """
def f(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)
"""


def mlp_params():
    return {"W1": a(3, 4), "b1": a(4), "W2": a(4, 2), "b2": a(2)}


def test_dict_with_constant_keys():
    text = check(MLP, dict(params=mlp_params(), x=a(5, 3), y=a(5, 2)))
    assert 'params["W1"]' in text and "_tree_fill(d_params, params)" in text


def test_unused_leaves_get_zeros_of_their_shape():
    params = dict(mlp_params(), unused=a(2, 2), rate=0.5)
    module = load_generated(codegen.generate("import numpy as np\n" + MLP, "f"))
    grad = module.grad_f(params, a(5, 3), a(5, 2))
    assert list(grad) == list(params)
    assert np.array_equal(grad["unused"], np.zeros((2, 2))) and grad["rate"] == 0.0
    assert isinstance(grad["rate"], float)


def test_tuple_unpacking_of_a_list():
    source = """
    def f(params, x):
        W1, b1, W2, b2 = params
        h = np.tanh(x @ W1 + b1)
        return np.sum(h @ W2 + b2)
    """
    check(source, dict(params=[a(3, 4), a(4), a(4, 2), a(2)], x=a(5, 3)))
    check(source, dict(params=(a(3, 4), a(4), a(4, 2), a(2)), x=a(5, 3)))


def test_loop_over_a_list_of_tuples():
    source = """
    def f(layers, x):
        h = x
        for W, b in layers:
            h = np.tanh(h @ W + b)
        return np.sum(h ** 2)
    """
    layers = [(a(3, 4), a(4)), (a(4, 4), a(4)), (a(4, 2), a(2))]
    text = check(source, dict(layers=layers, x=a(5, 3)))
    # the number of layers is a run-time length: the same module takes two layers
    module = load_generated(text)
    grad = module.grad_f(layers[:2], a(5, 3))
    assert len(grad) == 2 and grad[1][0].shape == (4, 4)


def test_loop_over_a_list_of_arrays_with_zip_enumerate_and_len():
    source = """
    def f(ws, xs):
        total = 0.0
        for i, (w, x) in enumerate(zip(ws, xs)):
            total = total + (i + 1) * np.sum(np.sin(w * x)) / len(ws)
        return total
    """
    check(source, dict(ws=[a(3), a(2, 2), a(4)], xs=[a(3), a(2, 2), a(4)]))


def test_range_over_len_and_indexing_by_the_counter():
    source = """
    def f(layers, x):
        for i in range(len(layers)):
            x = np.tanh(layers[i]["W"] @ x) * layers[i]["scale"]
        return np.sum(x)
    """
    layers = [{"W": a(3, 3), "scale": 0.7}, {"W": a(2, 3), "scale": 1.3}]
    check(source, dict(layers=layers, x=a(3)))


def test_nested_trees_and_negative_indices():
    source = """
    def f(params, x):
        first = params["layers"][0]["W"]
        last = params["layers"][-1]["W"]
        return np.sum(np.tanh(x @ first) @ last) + params["layers"][1]["W"].sum() * params["c"]
    """
    params = {"layers": [{"W": a(3, 3)}, {"W": a(3, 3)}], "c": 1.5, "other": (a(2), a(1))}
    check(source, dict(params=params, x=a(4, 3)))


def test_annotated_trees_and_several_wrt():
    source = """
    def f(params: dict, layers: list, x):
        s = 0.0
        for W in layers:
            s = s + np.sum(W * params["a"])
        return s * np.sum(x)
    """
    check(source, dict(params={"a": a(2), "b": a(3)}, layers=[a(2), a(2)], x=a(2)), wrt=["params", "layers", "x"])


def test_data_trees_need_no_gradient():
    source = """
    def f(w, batch):
        pred = batch["x"] @ w
        return np.mean((pred - batch["y"]) ** 2)
    """
    check(source, dict(w=a(3), batch={"x": a(5, 3), "y": a(5)}))


def test_helper_taking_a_tree():
    source = """
    def layer(p, x):
        return np.tanh(x @ p["W"] + p["b"])

    def f(params, x):
        h = layer(params["l1"], x)
        return np.sum(layer(params["l2"], h))
    """
    params = {"l1": {"W": a(3, 4), "b": a(4)}, "l2": {"W": a(4, 2), "b": a(2)}}
    check(source, dict(params=params, x=a(5, 3)))


def test_a_leaf_read_twice_and_in_a_branch():
    source = """
    def f(params, x):
        s = np.sum(params["w"] * x)
        if s > 0:
            s = s + np.sum(params["w"] ** 2)
        else:
            s = s - params["c"]
        return s * params["c"]
    """
    check(source, dict(params={"w": a(3), "c": 2.0}, x=np.abs(a(3))))
    check(source, dict(params={"w": a(3), "c": 2.0}, x=-np.abs(a(3))))


def test_named_tuple():
    Params = collections.namedtuple("Params", "W b")
    source = """
    def f(p, x):
        W, b = p
        return np.sum(np.tanh(x @ W + b))
    """
    text = check(source, dict(p=Params(a(3, 2), a(2)), x=a(4, 3)), autograd_check=False)
    grad = load_generated(text).grad_f(Params(a(3, 2), a(2)), a(4, 3))
    assert type(grad) is Params


def test_a_tree_that_is_an_array_at_run_time():
    """Taken apart only, an unannotated parameter may be a list or an array: the
    same module serves both."""
    source = """
    def f(p, x):
        a, b = p
        return np.sum(a * x) + np.sum(b ** 2)
    """
    check(source, dict(p=a(2, 3), x=a(3)))
    check(source, dict(p=[a(3), a(3)], x=a(3)))


@pytest.mark.parametrize(
    "body, message",
    [
        ('params["W"] = x\n    return np.sum(params["W"])', "in place"),
        ('s = 0.0\n    for k, v in params.items():\n        s = s + np.sum(v)\n    return s', "params.items()"),
        ('return np.sum(params["W"][1:]) + params[1:]["W"]', "one key at a time"),
    ],
)
def test_refusals_say_what_to_write(body, message):
    source = f"import numpy as np\n\ndef f(params: dict, x):\n    {body}\n"
    with pytest.raises(codegen.CodegenError) as error:
        codegen.generate(source, "f")
    assert message in str(error.value)


def test_loop_over_a_tuple_of_keys():
    source = """
    def f(params, x):
        s = 0.0
        for key in ("a", "b"):
            s = s + np.sum(params[key] * x)
        return s
    """
    check(source, dict(params={"a": a(3), "b": a(3), "c": a(1)}, x=a(3)))


def test_verify_command_takes_trees(tmp_path, monkeypatch, capsys):
    """`codegen verify` flattens a tree's leaves for its finite differences."""
    from codegen.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tree_loss.py").write_text(
        "import numpy as np\n" + textwrap.dedent(MLP)
        + "\n\ndef inputs():\n    rng = np.random.default_rng(1)\n"
        "    p = {'W1': rng.normal(size=(3, 4)), 'b1': rng.normal(size=4), 'W2': rng.normal(size=(4, 2)),"
        " 'b2': rng.normal(size=2)}\n"
        "    return {'params': p, 'x': rng.normal(size=(5, 3)), 'y': rng.normal(size=(5, 2))}\n"
    )
    assert main(["verify", "tree_loss.py::f", "--inputs", "tree_loss.py::inputs"]) == 0
    assert "ok: worst" in capsys.readouterr().out
    main(["generate", "tree_loss.py::f", "-o", "wrong.py"])
    wrong = (tmp_path / "wrong.py").read_text().replace('{"b1": ', '{"b1": 1.01 * ')
    assert wrong != (tmp_path / "wrong.py").read_text()
    (tmp_path / "wrong.py").write_text(wrong)
    assert main(["verify", "tree_loss.py::f", "--inputs", "tree_loss.py::inputs", "--module", "wrong.py"]) == 1


def test_check_gradient_reports_a_wrong_structure():
    from codegen.verify import structure_problems

    assert structure_problems("d", {"a": 1.0}, {"a": 1.0, "b": 2.0})
    assert structure_problems("d", [np.zeros(2)], (np.zeros(2),))
    assert structure_problems("d", [np.zeros(2)], [np.zeros(3)])
    assert structure_problems("d", {"a": [np.zeros(2)]}, {"a": [np.zeros(2)]}) == []


def test_computed_keys_and_while_loops():
    """A key computed at run time (`i % 2`, a counter a while loop carries) into
    what may be a list or an array: `_item_adjoint` decides when it runs."""
    source = """
    def f(layers, x):
        h = x
        for i in range(3):
            W, b = layers[i % 2]
            h = np.tanh(h @ W + b)
        return np.sum(h)
    """
    check(source, dict(layers=[(a(3, 3), a(3)), (a(3, 3), a(3))], x=a(3)))
    source = """
    def f(params, x):
        i = 0
        while i < len(params):
            x = np.sin(params[i] * x)
            i = i + 1
        return np.sum(x)
    """
    check(source, dict(params=[a(3), a(3), a(3)], x=a(3)))
    check(source, dict(params=a(2, 3), x=a(3)))


def test_a_tree_the_loss_does_not_read_gets_zeros_in_its_structure():
    source = """
    def f(params, x):
        return np.sum(x ** 2)
    """
    module = load_generated(codegen.generate("import numpy as np\n" + textwrap.dedent(source), "f"))
    grad = module.grad_f({"a": a(2), "b": (a(1), 2.0)}, a(3))
    assert list(grad) == ["a", "b"] and isinstance(grad["b"], tuple) and grad["b"][1] == 0.0
    assert np.array_equal(grad["a"], np.zeros(2))


def test_a_tree_passed_to_a_helper_that_unpacks_it():
    source = """
    def g(p, x):
        a, b = p
        return a * x + b

    def f(params, x):
        return np.sum(g(params, x) ** 2)
    """
    check(source, dict(params=[a(3), a(3)], x=a(3)))


def test_nested_unpacking_and_zip_of_two_lists():
    source = """
    def f(params, x):
        (W1, b1), (W2, b2) = params
        return np.sum(np.tanh(x @ W1 + b1) @ W2 + b2)
    """
    check(source, dict(params=[(a(3, 4), a(4)), (a(4, 2), a(2))], x=a(5, 3)))
    source = """
    def f(Ws, bs, x):
        for W, b in zip(Ws, bs):
            x = np.tanh(W @ x + b)
        return np.sum(x)
    """
    check(source, dict(Ws=[a(3, 3), a(2, 3)], bs=[a(3), a(2)], x=a(3)), wrt=["Ws", "bs"])


def test_a_zero_trip_loop_over_a_tree():
    source = """
    def f(layers, x, n: int):
        for i in range(n):
            x = np.tanh(layers[i] @ x)
        return np.sum(x)
    """
    module = load_generated(codegen.generate("import numpy as np\n" + textwrap.dedent(source), "f"))
    grad = module.grad_f([a(3, 3), a(3, 3)], a(3), 0)
    assert len(grad) == 2 and all(np.array_equal(g, np.zeros((3, 3))) for g in grad)
    check(source, dict(layers=[a(3, 3), a(3, 3)], x=a(3), n=2))


def test_reversed_list_and_another_name_for_a_tree():
    source = """
    def f(params, x):
        for W in reversed(params):
            x = np.tanh(W @ x)
        return np.sum(x)
    """
    check(source, dict(params=[a(2, 3), a(3, 3)], x=a(3)))
    source = """
    def f(p, x):
        y = p[0] * x
        q = p
        return np.sum(y * q[1])
    """
    check(source, dict(p=[a(3), a(3)], x=a(3)))


def test_a_subtree_chosen_by_a_branch():
    source = """
    def f(params, x):
        layer = params["a"] if np.sum(x) > 0 else params["b"]
        return np.sum(layer["W"] * x) + np.sum(params["a"]["W"])
    """
    params = {"a": {"W": a(3)}, "b": {"W": a(3)}}
    check(source, dict(params=params, x=np.abs(a(3))))
    check(source, dict(params=params, x=-np.abs(a(3))))


def test_a_long_loop_adds_into_one_dict():
    """Each pass adds its row's adjoint into the same dict (`_tree_add_into`), not
    into a copy: n passes cost n additions, not n copies of a growing dict."""
    source = """
    def f(X, y):
        s = 0.0
        for row in X:
            s = s + np.sum(row ** 2) * y
        return s
    """
    text = check(source, dict(X=a(4, 3), y=1.5))
    assert "d_X = _tree_add_into(" in text
    X = a(20000, 2)
    grad = load_generated(text).grad_f(X, 1.5)
    np.testing.assert_allclose(grad, 3.0 * X, rtol=1e-12)


@pytest.mark.parametrize(
    "body, message",
    [
        ("s = 0.0\n    for name in params:\n        s = s + np.sum(params[name])\n    return s", "iterating over the dict"),
        ('a, b = params\n    return np.sum(a * params["W"])', "unpacking the dict"),
    ],
)
def test_a_dict_is_not_iterated(body, message):
    source = f"import numpy as np\n\ndef f(params, x):\n    {body}\n"
    with pytest.raises(codegen.CodegenError) as error:
        codegen.generate(source, "f")
    assert message in str(error.value) and "for key in" in str(error.value)


def test_an_alias_passed_on_or_measured():
    """`q = p` then `len(q)` or `g(q)`: uses of q are p's (this raised KeyError while
    generating, from a name that is not a parameter)."""
    source = """
    def g(t):
        return t[0] * t[1]

    def f(p, x):
        q = p
        return np.sum(g(q) * x) / len(q)
    """
    check(source, dict(p=[a(3), a(3)], x=a(3)))


def test_a_leaf_read_whole_and_by_its_elements():
    """`pair[0]` read whole (its adjoint a scalar that stands for an array) and
    `pair[0][1]`: the two meet at key 0, so the whole read's adjoint is made full-size
    first (this raised IndexError: too many indices for a 0-d array)."""
    source = """
    def f(pair, b: float):
        s = np.sum(pair[0] * b)
        return s + pair[0][1] ** 2 + pair[1][0]
    """
    check(source, dict(pair=[a(4), a(4)], b=0.5))
    source = """
    def f(p, b: float):
        s = 0.0
        for i in range(3):
            s = s + p[0][i] * b + np.sum(p[0]) * p[1]
        return s
    """
    check(source, dict(p=[a(4), 2.0], b=0.5))


def test_a_leaf_two_levels_down_read_whole_and_by_its_elements():
    """`layers[0][0]` read whole under a sum (its adjoint a number that broadcasts) and
    `layers[0][0][0]`: the number meets the sparse adjoint at the key `...` (this
    raised IndexError in _tree_add; found by the features fuzzer's second round)."""
    source = """
    def f(layers, x: float):
        return layers[0][0][0] * x + np.sum(layers[0][0]) * 2.0 + np.sum(layers[1] * x)
    """
    check(source, dict(layers=[[a(3), a(2)], a(3)], x=0.5))
    check(source, dict(layers=[(a(3), 2.0), a(2)], x=0.5))


def test_dict_methods_are_refused_on_any_parameter():
    """`params.items()` without an annotation: the refusal says what to write (it said
    "no derivative rule for `.items()`")."""
    source = "import numpy as np\n\ndef f(params, x):\n    s = 0.0\n    for k, v in params.items():\n        s = s + np.sum(v * x)\n    return s\n"
    with pytest.raises(codegen.CodegenError) as error:
        codegen.generate(source, "f")
    assert "params.items()" in str(error.value) and "for key in" in str(error.value)
    assert str(error.value).startswith("<string>:5:17:")


@pytest.mark.parametrize("trips", [0, 2])
def test_leaf_made_an_array_by_a_loop_then_read_by_a_computed_key(trips):
    # `p1` is a tuple's item (maybe a tree); the loop makes it an array by arithmetic,
    # and `p1[-1 - j]` then reads it by a computed key: its adjoint comes back sparse
    # ({key: d}) through the loop's carry, and the arithmetic's rule needs it dense
    # (it raised TypeError: dict * float; features fuzzer seed 403372).
    text = check(
        f"""
        def f(pair: tuple, v):
            p1, p2 = pair
            k = 0
            while k < {trips}:
                p1 = 0.5 * p1 + np.sin(p1)
                k += 1
            o = 0.0
            j = 0
            while j < 3:
                o = o + v[-1 - j] / (1.0 + p1[-1 - j] ** 2)
                j += 1
            return o + p2
        """,
        {"pair": (a(3), 0.4), "v": a(3)},
    )
    assert "_tree_fill(d_p1, p1)" in text


def test_leaf_made_an_array_by_a_loop_then_read_by_a_constant_key():
    # As above, with `p1[0]` after the loop: the sparse {0: d} reached the loop's
    # carried copy, whose `_fill` made an object array of dicts (TypeError: dict *
    # float; exploratory round seed 601896, and seed 601719 with a dict parameter).
    check(
        """
        def f(pair: tuple, b):
            p1, p2 = pair
            j = 0
            while j < 5:
                p1 = 0.5 * p1 + np.sin(np.roll(p1, 1))
                j += 1
            o = b * 0.5 + p1[0]
            return np.sum(o) + np.sum(np.sin(pair[0]))
        """,
        {"pair": (a(3), 0.4), "b": a(3)},
    )
    check(
        """
        def f(params, x):
            p1, p3 = params["W"], params["c"]
            for i in range(3):
                for k in reversed(range(0)):
                    p1 = np.tanh(p1 * 0.5 + x)
                break
            return p3 + np.sum(np.square(p1[1])) + np.sum(np.sin(params["W"]))
        """,
        {"params": {"W": a(3, 2), "c": 0.3}, "x": a(2)},
    )
