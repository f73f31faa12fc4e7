"""Issue #12's shape and selection ops: tril, triu, masked_fill, topk, indexing with range.

Values and gradients against NumPy references and float64 central differences always, and
against torch where it is installed."""
import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def central_grad(f, x, eps=1e-6):
    """d(sum(f(x) * w))/dx by central differences, w fixed random weights."""
    w = np.random.default_rng(1).standard_normal(np.shape(f(x)))
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp_, xm = x.copy(), x.copy()
        xp_[i] += eps
        xm[i] -= eps
        g[i] = (np.sum(f(xp_) * w) - np.sum(f(xm) * w)) / (2 * eps)
    return w, g


def cr_grad(fn, x, w):
    t = cr.tensor(x, requires_grad=True)
    (fn(t) * cr.tensor(w)).sum().backward()
    return t.grad.numpy()


# --- tril / triu ----------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (0, 3), (2, 0, 0)])
@pytest.mark.parametrize("diagonal", [0, 1, -1, -5, 7])
def test_triangles_match_numpy_and_central_differences(op, shape, diagonal):
    x = np.random.default_rng(0).standard_normal(shape)
    ref = getattr(np, op)
    fn = getattr(cr, op)
    np.testing.assert_array_equal(fn(cr.tensor(x), diagonal).numpy(), ref(x, diagonal))
    np.testing.assert_array_equal(getattr(cr.tensor(x), op)(diagonal=diagonal).numpy(),
                                  ref(x, diagonal))
    w, g = central_grad(lambda a: ref(a, diagonal), x)
    np.testing.assert_allclose(cr_grad(lambda t: fn(t, diagonal), x, w), g, atol=1e-6)


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_triangles_in_place_and_dtypes(op):
    x = np.arange(12.).reshape(3, 4)
    t = cr.tensor(x)
    assert getattr(t, op + "_")(1) is t
    np.testing.assert_array_equal(t.numpy(), getattr(np, op)(x, 1))
    for dt in (cr.float16, cr.int64, cr.bool):
        out = getattr(cr, op)(cr.ones(2, 3, dtype=dt), -1)
        assert out.dtype == dt
        np.testing.assert_array_equal(out.numpy(), getattr(np, op)(np.ones((2, 3)), -1))
    # in place on a non-leaf records the op: the gradient reaches only the kept triangle
    a = cr.tensor(x, requires_grad=True)
    b = a * 1.0
    getattr(b, op + "_")()
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), getattr(np, op)(np.ones((3, 4))))


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_triangles_refuse_fewer_than_two_dims(op):
    for x in (cr.tensor(1.), cr.ones(3)):
        with pytest.raises(RuntimeError, match=f"{op}: input tensor must have at least 2"):
            getattr(cr, op)(x)


@needs_torch
@pytest.mark.parametrize("op", ["tril", "triu"])
def test_triangles_against_torch(op):
    x = np.random.default_rng(2).standard_normal((2, 3, 5))
    for d in (-2, 0, 3):
        ct = cr.tensor(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        co, to = getattr(cr, op)(ct, d), getattr(torch, op)(tt, d)
        np.testing.assert_array_equal(co.detach().numpy(), to.detach().numpy())
        assert co.grad_fn.name() == to.grad_fn.name()
        (co ** 2).sum().backward()
        (to ** 2).sum().backward()
        np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy())
    h = getattr(cr, op)(cr.tensor(x).half(), 1)
    assert h.dtype == cr.float16
    np.testing.assert_array_equal(h.numpy(), getattr(torch, op)(torch.tensor(x).half(), 1).numpy())


# --- masked_fill ----------------------------------------------------------------------------

@pytest.mark.parametrize("xshape,mshape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (2, 4)),
                                           ((), ()), ((0, 3), (3,)), ((2, 3), ())])
def test_masked_fill_matches_numpy_and_central_differences(xshape, mshape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(xshape)
    m = rng.random(mshape) < 0.5
    ref = lambda a: np.where(m, -7.5, a)  # noqa: E731
    out = cr.masked_fill(cr.tensor(x), cr.tensor(m), -7.5)
    assert out.shape == np.broadcast_shapes(xshape, mshape)
    np.testing.assert_array_equal(out.numpy(), ref(x))
    np.testing.assert_array_equal(cr.tensor(x).masked_fill(cr.tensor(m), -7.5).numpy(), ref(x))
    w, g = central_grad(ref, x)
    np.testing.assert_allclose(cr_grad(lambda t: t.masked_fill(cr.tensor(m), -7.5), x, w), g,
                               atol=1e-6)


def test_masked_fill_value_tensor_gets_the_masked_gradient():
    m = np.array([[True, False, True], [False, False, True]])
    v = cr.tensor(2.0, requires_grad=True)
    x = cr.zeros(2, 3, requires_grad=True)
    out = x.masked_fill(cr.tensor(m), v)
    (out * cr.arange(6.).reshape(2, 3)).sum().backward()
    assert v.grad.item() == 0 + 2 + 5
    np.testing.assert_array_equal(x.grad.numpy(), np.where(m, 0., np.arange(6.).reshape(2, 3)))


def test_masked_fill_dtypes_in_place_and_errors():
    mask = cr.tensor([True, False, True])
    out = cr.zeros(3, dtype=cr.int64).masked_fill(mask, 1.5)
    assert out.dtype == cr.int64 and out.tolist() == [1, 0, 1]
    assert cr.zeros(3).masked_fill(mask, cr.tensor(2)).dtype == cr.float32
    h = cr.zeros(3, dtype=cr.float16).masked_fill(mask, 3.0)
    assert h.dtype == cr.float16 and h.tolist() == [3., 0., 3.]
    t = cr.zeros(3)
    assert t.masked_fill_(mask, 4.0) is t and t.tolist() == [4., 0., 4.]
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        cr.zeros(3).masked_fill(cr.tensor([1, 0, 1]), 1.)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        cr.zeros(3).masked_fill(mask, cr.tensor([1., 2., 3.]))
    with pytest.raises(TypeError):
        cr.zeros(3).masked_fill(mask, "a")
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        cr.zeros(3).masked_fill_(cr.tensor([[True, False, True]] * 2), 1.)


@needs_torch
def test_masked_fill_against_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    m = rng.random((3, 1)) < 0.5
    ct, tt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cv, tv = cr.tensor(0.5, requires_grad=True), torch.tensor(0.5, requires_grad=True)
    co = ct.masked_fill(cr.tensor(m), cv)
    to = tt.masked_fill(torch.tensor(m), tv)
    np.testing.assert_array_equal(co.detach().numpy(), to.detach().numpy())
    assert co.grad_fn.name() == to.grad_fn.name()
    (co ** 3).sum().backward()
    (to ** 3).sum().backward()
    np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy())
    np.testing.assert_allclose(cv.grad.numpy(), tv.grad.numpy())
    for dt, tdt in ((cr.int32, torch.int32), (cr.float16, torch.float16), (cr.bool, torch.bool)):
        c = cr.ones(3, dtype=dt).masked_fill(cr.tensor([True, False, False]), 0)
        t = torch.ones(3, dtype=tdt).masked_fill(torch.tensor([True, False, False]), 0)
        assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(c.numpy(), t.numpy())


# --- topk -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 6), -1), ((4, 3, 2), 1), ((2, 0), 0)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_numpy_and_central_differences(shape, dim, largest):
    x = np.random.default_rng(5).permutation(int(np.prod(shape))).reshape(shape) * 0.5 + 0.25
    k = min(2, shape[dim])
    order = np.argsort(-x if largest else x, axis=dim)
    idx = np.take(order, np.arange(k), axis=dim)
    ref = lambda a: np.take_along_axis(a, idx, axis=dim)  # noqa: E731
    r = cr.topk(cr.tensor(x), k, dim=dim, largest=largest)
    assert type(r).__name__ == "topk" and r.indices.dtype == cr.int64
    np.testing.assert_array_equal(r.values.numpy(), ref(x))
    np.testing.assert_array_equal(r.indices.numpy(), idx)
    values, indices = cr.tensor(x).topk(k, dim, largest, True)
    np.testing.assert_array_equal(values.numpy(), ref(x))
    w, g = central_grad(ref, x)
    np.testing.assert_allclose(cr_grad(lambda t: t.topk(k, dim=dim, largest=largest).values,
                                       x, w), g, atol=1e-6)


def test_topk_edge_cases_and_errors():
    r = cr.topk(cr.tensor(3.), 1)
    assert r.values.item() == 3. and r.indices.item() == 0 and r.values.shape == ()
    nan = float("nan")
    assert cr.topk(cr.tensor([1., nan, 2.]), 2).indices.tolist() == [1, 2]
    assert cr.topk(cr.tensor([1., nan, 2.]), 2, largest=False).indices.tolist() == [0, 2]
    h = cr.topk(cr.tensor([1., 4., 2.], dtype=cr.float16), 2)
    assert h.values.dtype == cr.float16 and h.values.tolist() == [4., 2.]
    assert cr.topk(cr.tensor([1, 3, 2]), 2).values.tolist() == [3, 2]
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        cr.topk(cr.arange(5.), 6)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        cr.topk(cr.arange(5.), -1)
    with pytest.raises(IndexError):
        cr.topk(cr.ones(2, 3), 2, dim=2)
    with pytest.raises(RuntimeError, match="bool"):
        cr.topk(cr.tensor([True, False]), 1)


@needs_torch
def test_topk_against_torch():
    x = np.random.default_rng(6).standard_normal((3, 5, 4))
    for dim, largest in ((1, True), (-1, False), (0, True)):
        ct, tt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        c, t = ct.topk(2, dim=dim, largest=largest), tt.topk(2, dim=dim, largest=largest)
        np.testing.assert_array_equal(c.values.detach().numpy(), t.values.detach().numpy())
        np.testing.assert_array_equal(c.indices.numpy(), t.indices.numpy())
        assert c.values.grad_fn.name() == t.values.grad_fn.name()
        (c.values ** 2).sum().backward()
        (t.values ** 2).sum().backward()
        np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy())


@pytest.mark.parametrize("index", [range(3), range(0), range(4, 0, -2), (range(2), 1)],
                         ids=["range", "empty", "backwards", "with-int"])
def test_indexing_with_a_range_is_indexing_with_its_list(index):
    x = cr.arange(12.0, dtype=cr.float64).reshape(3, 4).requires_grad_()
    as_list = tuple(list(i) if isinstance(i, range) else i for i in index) \
        if isinstance(index, tuple) else list(index)
    if isinstance(index, range) and index.start == 4:
        x = cr.arange(6.0, dtype=cr.float64).requires_grad_()
    out = x[index]
    np.testing.assert_array_equal(out.detach().numpy(), x.detach().numpy()[as_list])
    out.sum().backward()
    expected = np.zeros(x.shape)
    np.add.at(expected, as_list, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    torch = pytest.importorskip("torch")
    t = torch.tensor(x.detach().numpy())
    np.testing.assert_array_equal(out.detach().numpy(), t[index].numpy())
