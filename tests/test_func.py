"""chainrule.func: every transform against central differences in float64 and, where torch is
installed, against torch.func (values, shapes, argnums, has_aux).

The registry drives two families: for every primitive's every example, ``vmap(f)(xs)`` equals
``f`` stacked over the examples, and ``jacrev``/``jacfwd``/``jvp``/``vjp`` agree with central
differences.  A primitive added later (by any module) is covered automatically.
"""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.func import (functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp,
                            linearize, vjp, vmap)
from chainrule.func import _batching
from sampling import domains, sample

# an example whose output shape depends on its values: no batch can hold it (torch's vmap
# refuses it too), checked separately below
DATA_DEPENDENT_SHAPE = {"x[x > 0]"}

CASES = [(name, k, ex) for name, op in sorted(ops.REGISTRY.items())
         for k, ex in enumerate(op.examples)]
IDS = [f"{n}-{k}:{e[0]}" for n, k, e in CASES]


def _t(a):
    return cr.tensor(a, dtype=cr.float64)


def _arrays(op, ex, batch=(), seed=0):
    rng = np.random.default_rng(seed)
    shapes = ex[1:]
    return [sample(batch + tuple(s), d, rng) for s, d in zip(shapes, domains(op, len(shapes)))]


def _fn(expr):
    def f(*xs):
        return eval(expr, {"float": float}, dict(zip("xyz", xs), m=cr))
    return f


def _np(t):
    return t.detach().numpy()


def _numeric_jacobians(f, arrays, eps=1e-6):
    """Central differences: one (out.shape + x.shape) array per input."""
    out = _np(f(*[_t(a) for a in arrays]))
    jacs = []
    for i, a in enumerate(arrays):
        jac = np.zeros(out.shape + a.shape)
        for j in range(a.size):
            vals = []
            for d in (eps, -eps):
                b = [c.copy() for c in arrays]
                b[i].reshape(-1)[j] += d
                vals.append(_np(f(*[_t(c) for c in b])))
            jac.reshape(out.shape + (-1,))[..., j] = (vals[0] - vals[1]) / (2 * eps)
        jacs.append(jac)
    return jacs


# =========================================================================================
# vmap over every registry example
# =========================================================================================

@pytest.mark.parametrize("name,k,ex", CASES, ids=IDS)
def test_vmap_equals_stacking_over_examples(name, k, ex):
    if ex[0] in DATA_DEPENDENT_SHAPE:
        pytest.skip("the output shape depends on the values (see the test below)")
    op = ops.REGISTRY[name]
    f = _fn(ex[0])
    xs = [_t(a) for a in _arrays(op, ex, batch=(3,))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = vmap(f)(*xs)
    expected = cr.stack([f(*[x[b] for x in xs]) for b in range(3)])
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-12, atol=1e-12)
    if _batching.rule_for(op) is not None:
        # a primitive with a rule is batched, not looped over
        assert not [w for w in caught if f"{name} has no batching rule" in str(w.message)]
    if len(xs) > 1:         # the other inputs shared by the whole batch
        shared = [xs[0]] + [x[0] for x in xs[1:]]
        got = vmap(f, in_dims=(0,) + (None,) * (len(xs) - 1))(*shared)
        expected = cr.stack([f(shared[0][b], *shared[1:]) for b in range(3)])
        np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-12, atol=1e-12)


INDEXINGS = [lambda x, i, j: x[[0, 2], :, [1, 3]], lambda x, i, j: x[1, :, [0, 2]],
             lambda x, i, j: x[..., [0, 2]], lambda x, i, j: x[None, :, 1],
             lambda x, i, j: x[:, 1:3, None, [0, 1, 1]], lambda x, i, j: x[:, [[0], [1]], [0, 2]],
             lambda x, i, j: x[cr.tensor([True, False, True, True])],
             lambda x, i, j: x[i], lambda x, i, j: x[i, j], lambda x, i, j: x[i, :, j],
             lambda x, i, j: x[..., j], lambda x, i, j: x[1, j], lambda x, i, j: x[:, j, 2],
             lambda x, i, j: x[:, None, j]]


@pytest.mark.parametrize("k", range(len(INDEXINGS)))
def test_vmap_of_indexing_with_shared_and_batched_indices(k):
    # NumPy moves advanced-index dims to the front when a slice separates them: the rules must
    # keep the batch dim first either way
    f = INDEXINGS[k]
    rng = np.random.default_rng(k)
    x = _t(rng.normal(size=(3, 4, 5, 6)))
    i, j = cr.tensor(rng.integers(0, 4, size=(3, 2))), cr.tensor(rng.integers(0, 5, size=(3, 2)))
    got = vmap(f)(x, i, j)
    np.testing.assert_array_equal(_np(got), _np(cr.stack([f(x[b], i[b], j[b]) for b in range(3)])))
    got = vmap(f, in_dims=(None, 0, 0))(x[0], i, j)
    np.testing.assert_array_equal(_np(got), _np(cr.stack([f(x[0], i[b], j[b]) for b in range(3)])))
    # the reverse pass of indexing (index_scatter) with a batch of cotangents
    x0 = x[0]
    jac = jacrev(lambda v: f(v, i[0], j[0]))(x0)
    np.testing.assert_array_equal(_np(jac), _numeric_jacobians(
        lambda v: f(v, i[0], j[0]), [_np(x0)])[0].round())


def test_vmap_refuses_a_batched_boolean_mask():
    x = _t(np.arange(6.0).reshape(2, 3) - 2)
    with pytest.raises(RuntimeError, match="boolean mask"):
        vmap(lambda v: v[v > 0])(x)


def test_an_op_without_a_rule_runs_per_example_and_warns_once(monkeypatch):
    monkeypatch.setattr(ops.exp, "kind", "other")         # a kind without a batching rule
    monkeypatch.setattr(_batching, "_WARNED", set())
    x = _t(np.linspace(-1, 1, 6).reshape(3, 2))
    with pytest.warns(UserWarning, match="exp has no batching rule") as caught:
        out = vmap(cr.exp)(x)
        vmap(cr.exp)(x)
    assert sum("exp has no batching rule" in str(w.message) for w in caught) == 1
    np.testing.assert_allclose(_np(out), np.exp(_np(x)))


def test_data_dependent_python_makes_vmap_loop():
    def f(v):
        return v * 2 if v.sum() > 0 else -v        # an `if` on the values of one example
    x = _t([[1.0, 2.0], [-3.0, 1.0]])
    with pytest.warns(UserWarning, match="once per example"):
        out = vmap(f)(x)
    np.testing.assert_allclose(_np(out), [[2.0, 4.0], [3.0, -1.0]])


def test_vmap_in_dims_out_dims_chunks_and_pytrees():
    rng = np.random.default_rng(0)
    a, b = _t(rng.normal(size=(4, 3))), _t(rng.normal(size=(3, 5)))
    out = vmap(cr.matmul, in_dims=(None, 1), out_dims=1)(a, b)        # columns of b
    np.testing.assert_allclose(_np(out), _np(a @ b))
    y = _t(rng.normal(size=3))
    out = vmap(lambda d: d["x"] * d["y"], in_dims=({"x": 0, "y": None},))({"x": a, "y": y})
    np.testing.assert_allclose(_np(out), _np(a) * _np(y))
    x = _t(rng.normal(size=(10, 3)))
    whole = vmap(lambda v: (v.sin(), v.sum()))(x)
    chunked = vmap(lambda v: (v.sin(), v.sum()), chunk_size=3)(x)
    for u, w in zip(whole, chunked):
        np.testing.assert_allclose(_np(u), _np(w))
    np.testing.assert_allclose(_np(vmap(lambda v: cr.ones(2))(x)), np.ones((10, 2)))


def test_nested_vmap_is_an_outer_product_of_batches():
    rng = np.random.default_rng(1)
    a, b = _t(rng.normal(size=(2, 3, 4))), _t(rng.normal(size=(5, 4, 2)))
    out = vmap(vmap(cr.matmul, in_dims=(0, None)), in_dims=(None, 0))(a, b)
    expected = np.einsum("inm,jmk->jink", _np(a), _np(b))
    np.testing.assert_allclose(_np(out), expected)


def test_vmap_errors_teach():
    x = cr.ones(3, 2)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(cr.add)(x, cr.ones(4, 2))
    with pytest.raises(ValueError, match="at least one input"):
        vmap(cr.sin, in_dims=None)(x)
    with pytest.raises(ValueError, match="not compatible with the structure"):
        vmap(cr.add, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="out of range"):
        vmap(cr.sin, in_dims=2)(x)


# =========================================================================================
# Jacobians, jvp and vjp of every registry example against central differences
# =========================================================================================

@pytest.mark.parametrize("name,k,ex", CASES, ids=IDS)
def test_jacobians_match_central_differences(name, k, ex):
    op = ops.REGISTRY[name]
    f = _fn(ex[0])
    arrays = _arrays(op, ex)
    xs = [_t(a) for a in arrays]
    argnums = tuple(range(len(xs)))
    numeric = _numeric_jacobians(f, arrays)
    rev = jacrev(f, argnums=argnums)(*xs)
    fwd = jacfwd(f, argnums=argnums)(*xs)
    for i, n in enumerate(numeric):
        np.testing.assert_allclose(_np(rev[i]), n, rtol=1e-5, atol=1e-6,
                                   err_msg=f"jacrev, input {i}")
        np.testing.assert_allclose(_np(fwd[i]), n, rtol=1e-5, atol=1e-6,
                                   err_msg=f"jacfwd, input {i}")
    # jvp is J·v and vjp is uᵀ·J, with the Jacobian from jacrev
    rng = np.random.default_rng(3)
    vs = [_t(rng.normal(size=a.shape)) for a in arrays]
    out, jv = jvp(f, tuple(xs), tuple(vs))
    expected = sum(np.tensordot(_np(j), _np(v), axes=v.dim()) for j, v in zip(rev, vs))
    np.testing.assert_allclose(_np(jv), expected, rtol=1e-9, atol=1e-9)
    u = _t(rng.normal(size=tuple(out.shape)))
    out, vjp_fn = vjp(f, *xs)
    for g, j in zip(vjp_fn(u), rev):
        np.testing.assert_allclose(_np(g), np.tensordot(_np(u), _np(j), axes=u.dim()),
                                   rtol=1e-9, atol=1e-9)


# =========================================================================================
# Hessians and higher derivatives
# =========================================================================================

def test_hessian_of_a_quadratic_is_a_plus_a_transposed():
    rng = np.random.default_rng(4)
    A, b = _t(rng.normal(size=(4, 4))), _t(rng.normal(size=4))
    x = _t(rng.normal(size=4))

    def f(x):
        return x @ A @ x + b @ x
    expected = _np(A) + _np(A).T
    for h in (hessian(f), jacfwd(jacrev(f)), jacrev(jacrev(f)), jacfwd(jacfwd(f)),
              jacrev(jacfwd(f))):
        np.testing.assert_allclose(_np(h(x)), expected, rtol=1e-12, atol=1e-12)


def test_hessian_of_log_softmax_matches_differences_of_the_gradient():
    rng = np.random.default_rng(5)
    w = _t(rng.uniform(0.5, 1.5, size=5))
    x = rng.normal(size=5)

    def f(x):
        return (w * x.log_softmax(0)).sum()
    h = _np(hessian(f)(_t(x)))
    numeric = _numeric_jacobians(lambda x: grad(f)(x), [x])[0]
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-7)
    s = np.exp(x) / np.exp(x).sum()        # and the closed form: -Σw·(diag(s) - s sᵀ)
    np.testing.assert_allclose(h, -_np(w).sum() * (np.diag(s) - np.outer(s, s)), atol=1e-12)


def test_third_and_fourth_derivatives_of_x_to_the_fourth():
    x = _t([0.5, -1.5, 2.0])

    def f(x):
        return x ** 4
    d = grad(lambda v: f(v).sum())
    np.testing.assert_allclose(_np(vmap(grad(grad(grad(lambda v: v ** 4))))(x)), 24 * _np(x))
    np.testing.assert_allclose(_np(grad(grad(grad(grad(lambda v: v ** 4))))(_t(0.7))), 24.0)
    third = jacfwd(jacrev(jacrev(lambda v: f(v).sum())))(x)           # (3, 3, 3)
    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] = 24 * _np(x)[i]
    np.testing.assert_allclose(_np(third), expected, atol=1e-12)
    np.testing.assert_allclose(_np(d(x)), 4 * _np(x) ** 3)


# =========================================================================================
# argnums, has_aux, pytrees, linearize, composition
# =========================================================================================

def test_grad_argnums_has_aux_and_pytrees():
    x, y = _t([1.0, 2.0]), _t([3.0, -1.0])

    def f(x, y):
        return (x * y).sum() + (x ** 2).sum(), {"x": x}
    gx, aux = grad(f, has_aux=True)(x, y)
    np.testing.assert_allclose(_np(gx), _np(y) + 2 * _np(x))
    assert set(aux) == {"x"} and not aux["x"].requires_grad
    gx, gy = grad(lambda x, y: f(x, y)[0], argnums=(0, 1))(x, y)
    np.testing.assert_allclose(_np(gy), _np(x))
    g = grad(lambda p: (p["w"] * p["b"][0]).sum())({"w": x, "b": [y]})
    np.testing.assert_allclose(_np(g["w"]), _np(y))
    np.testing.assert_allclose(_np(g["b"][0]), _np(x))
    g, value = grad_and_value(lambda x: (x ** 2).sum())(x)
    assert value.item() == 5.0 and not g.requires_grad
    assert _np(grad(lambda x, y: x.sum(), argnums=1)(x, y)).tolist() == [0.0, 0.0]


def test_grad_errors_teach():
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        grad(lambda x: x * 2)(cr.ones(2))
    with pytest.raises(RuntimeError, match="argnums=2, but only 2 positional"):
        grad(lambda x, y: x.sum(), argnums=2)(cr.ones(2), cr.ones(2))
    with pytest.raises(RuntimeError, match="output of function f should be a tuple"):
        grad(lambda x: x.sum(), has_aux=True)(cr.ones(2))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(cr.sin, (cr.ones(2),), (cr.ones(2), cr.ones(2)))


def test_jacobians_of_pytree_outputs_and_inputs():
    x, y = _t([1.0, 2.0]), _t([0.5])

    def f(x, y):
        return {"a": x * y, "b": (x ** 2).sum()}
    for jac in (jacrev(f, argnums=(0, 1)), jacfwd(f, argnums=(0, 1))):
        j = jac(x, y)
        np.testing.assert_allclose(_np(j["a"][0]), np.diag([0.5, 0.5]))
        np.testing.assert_allclose(_np(j["a"][1]), [[1.0], [2.0]])
        np.testing.assert_allclose(_np(j["b"][0]), [2.0, 4.0])
        assert tuple(j["b"][1].shape) == (1,)


def test_linearize_reuses_one_pass_and_equals_jvp():
    x = _t([0.3, -0.7, 1.1])
    f = lambda v: (v.sin() * v.sum()).tanh()   # noqa: E731
    out, jvp_fn = linearize(f, x)
    for v in (_t([1.0, 0.0, 0.0]), _t([0.2, 0.5, -1.0])):
        np.testing.assert_allclose(_np(jvp_fn(v)), _np(jvp(f, (x,), (v,))[1]), rtol=1e-12)
    np.testing.assert_allclose(_np(out), _np(f(x)))


def test_results_keep_the_outer_graph_when_inputs_require_grad():
    x = _t([1.0, 2.0]).requires_grad_()
    g = grad(lambda v: (v ** 3).sum())(x)          # 3x², differentiable again by autograd
    g.sum().backward()
    np.testing.assert_allclose(_np(x.grad), 6 * _np(x))
    y = _t([1.0, 2.0])
    assert not grad(lambda v: (v ** 3).sum())(y).requires_grad


def test_no_perturbation_confusion():
    # d/dx [x · (d/dy x·y)] = d/dx x² = 2x: the inner derivative must not see the outer x
    x = _t(3.0)
    out = grad(lambda x: x * grad(lambda y: x * y)(x))(x)
    assert out.item() == 6.0


def test_per_sample_gradients_with_functional_call():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 6), cr.nn.Tanh(), cr.nn.Linear(6, 3)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = cr.randn(5, 4, dtype=cr.float64)
    target = cr.tensor([0, 2, 1, 1, 0])

    def loss(p, xb, tb):
        return -functional_call(model, p, (xb,)).log_softmax(-1)[tb]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # batched: no per-example loop
        per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, target)
    for b in range(5):
        model.zero_grad()
        loss({k: v for k, v in model.named_parameters()}, x[b], target[b]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(_np(per_sample[name][b]), _np(p.grad), atol=1e-12)
    assert all(v.requires_grad for v in model.parameters())     # the module is restored


def test_grad_of_a_vmapped_function_and_vmap_of_jacobians():
    rng = np.random.default_rng(6)
    X, w = _t(rng.normal(size=(4, 3))), _t(rng.normal(size=3))
    g = grad(lambda w: vmap(lambda x: (x * w).sin().sum())(X).sum())(w)
    expected = sum(_np(grad(lambda w: (X[i] * w).sin().sum())(w)) for i in range(4))
    np.testing.assert_allclose(_np(g), expected)

    def f(x):
        return (x.sin() * x.sum()).log_softmax(0)
    for jac in (jacrev, jacfwd):
        np.testing.assert_allclose(_np(vmap(jac(f))(X)),
                                   np.stack([_np(jac(f)(X[i])) for i in range(4)]))


# =========================================================================================
# Against torch.func
# =========================================================================================

def test_transforms_match_torch_func():
    torch = pytest.importorskip("torch")
    tf = torch.func
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(3,)), rng.normal(size=(3,))
    x, y = _t(a), _t(b)
    tx, ty = torch.tensor(a), torch.tensor(b)

    def f(x, y):
        return (x.sin() * y.exp()).sum() + (x * y).logsumexp(0), x.cos()

    def close(u, v):
        if isinstance(u, (tuple, list)):
            assert len(u) == len(v)
            for p, q in zip(u, v):
                close(p, q)
            return
        assert tuple(u.shape) == tuple(v.shape)
        np.testing.assert_allclose(_np(u), v.detach().numpy(), rtol=1e-10, atol=1e-12)
    for argnums in (0, 1, (0, 1), (1, 0)):
        close(grad(f, argnums, has_aux=True)(x, y), tf.grad(f, argnums, has_aux=True)(tx, ty))
        close(jacrev(f, argnums, has_aux=True)(x, y),
              tf.jacrev(f, argnums, has_aux=True)(tx, ty))
        close(jacfwd(f, argnums, has_aux=True)(x, y),
              tf.jacfwd(f, argnums, has_aux=True)(tx, ty))
        close(hessian(lambda x, y: f(x, y)[0], argnums)(x, y),
              tf.hessian(lambda x, y: f(x, y)[0], argnums)(tx, ty))
    close(grad_and_value(f, has_aux=True)(x, y), tf.grad_and_value(f, has_aux=True)(tx, ty))
    out, fn, aux = vjp(f, x, y, has_aux=True)
    tout, tfn, taux = tf.vjp(f, tx, ty, has_aux=True)
    close((out, aux), (tout, taux))
    close(fn(_t(1.5)), tfn(torch.tensor(1.5, dtype=torch.float64)))
    close(jvp(f, (x, y), (y, x), has_aux=True), tf.jvp(f, (tx, ty), (ty, tx), has_aux=True))
    out, fn = linearize(lambda x: x.sin() * x.sum(), x)
    tout, tfn = tf.linearize(lambda x: x.sin() * x.sum(), tx)
    close((out, fn(y)), (tout, tfn(ty)))
    m = rng.normal(size=(2, 3, 4))
    M, tM = _t(m), torch.tensor(m)
    close(vmap(lambda m, v: m @ v, in_dims=(2, None), out_dims=1)(M, x),
          tf.vmap(lambda m, v: m @ v, in_dims=(2, None), out_dims=1)(tM, tx))
    close(vmap(vmap(lambda m: m.softmax(0)), in_dims=1)(M),
          tf.vmap(tf.vmap(lambda m: m.softmax(0)), in_dims=1)(tM))


def test_per_sample_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    w1, b1, w2 = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(2, 5))
    xs, ts = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])

    def loss(m, p, x, t):
        h = (x @ p["w1"].T + p["b1"]).relu()
        return -((h @ p["w2"].T).log_softmax(-1) * (m.arange(2) == t)).sum()
    p = {"w1": _t(w1), "b1": _t(b1), "w2": _t(w2)}
    tp = {k: torch.tensor(v.numpy()) for k, v in p.items()}
    ours = vmap(grad(lambda p, x, t: loss(cr, p, x, t)), in_dims=(None, 0, 0))(
        p, _t(xs), cr.tensor(ts))
    theirs = torch.func.vmap(torch.func.grad(lambda p, x, t: loss(torch, p, x, t)),
                             in_dims=(None, 0, 0))(tp, torch.tensor(xs), torch.tensor(ts))
    for k in p:
        np.testing.assert_allclose(_np(ours[k]), theirs[k].numpy(), rtol=1e-10, atol=1e-12)


def test_functional_call_matches_torch():
    torch = pytest.importorskip("torch")
    ours = cr.nn.Linear(3, 2).double()
    theirs = torch.nn.Linear(3, 2).double()
    rng = np.random.default_rng(9)
    params = {"weight": rng.normal(size=(2, 3)), "bias": rng.normal(size=2)}
    x = rng.normal(size=(4, 3))
    out = functional_call(ours, {k: _t(v) for k, v in params.items()}, (_t(x),))
    expected = torch.func.functional_call(
        theirs, {k: torch.tensor(v) for k, v in params.items()}, (torch.tensor(x),))
    np.testing.assert_allclose(_np(out), expected.detach().numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        functional_call(ours, {"weight": _t(params["weight"])}, (_t(x),), strict=True)


# =========================================================================================
# docs/func.md's examples run as written
# =========================================================================================

def test_docs_examples_run_and_print_what_they_say():
    import contextlib
    import io
    import pathlib
    import re
    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "func.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for k, block in enumerate(blocks):
        out = io.StringIO()
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # batched as the page says: no fallback loop
            with contextlib.redirect_stdout(out):
                exec(compile(block, f"docs/func.md python block {k}", "exec"), {})
        for expected in re.findall(r"print\(.*\)[ \t]+# (.+)", block):
            assert expected.strip() in out.getvalue(), (k, expected, out.getvalue())
