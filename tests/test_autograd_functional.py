"""chainrule.autograd.functional: against central differences (float64) and, where torch is
installed, against torch.autograd.functional (values, shapes, create_graph, strict,
vectorize, strategy)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as AF


def _t(a):
    return cr.tensor(a, dtype=cr.float64)


def _np(t):
    return t.detach().numpy()


def _f(x, y):
    return (x.sin() * y.exp()), (x * y).sum().reshape(1)


def _scalar(x, y):
    return (x.sin() * y.exp()).sum() + (x * x * y).prod()


RNG = np.random.default_rng(0)
A, B = RNG.uniform(0.5, 1.5, 3), RNG.uniform(0.5, 1.5, 3)


def _central(f, arrays, eps=1e-6):
    out = _np(f(*[_t(a) for a in arrays]))
    jacs = []
    for i, a in enumerate(arrays):
        jac = np.zeros(out.shape + a.shape)
        for j in range(a.size):
            vals = []
            for d in (eps, -eps):
                b = [c.copy() for c in arrays]
                b[i][j] += d
                vals.append(_np(f(*[_t(c) for c in b])))
            jac[..., j] = (vals[0] - vals[1]) / (2 * eps)
        jacs.append(jac)
    return jacs


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_matches_central_differences(vectorize):
    jac = AF.jacobian(_f, (_t(A), _t(B)), vectorize=vectorize)
    for k in range(2):
        numeric = _central(lambda x, y: _f(x, y)[k], [A, B])
        for i in range(2):
            np.testing.assert_allclose(_np(jac[k][i]), numeric[i], rtol=1e-6, atol=1e-8)
    fwd = AF.jacobian(_f, (_t(A), _t(B)), vectorize=True, strategy="forward-mode")
    for k in range(2):
        for i in range(2):
            np.testing.assert_allclose(_np(fwd[k][i]), _np(jac[k][i]), rtol=1e-12)


@pytest.mark.parametrize("vectorize,strategy", [(False, "reverse-mode"), (True, "reverse-mode"),
                                                 (True, "forward-mode")])
def test_hessian_matches_differences_of_the_gradient(vectorize, strategy):
    h = AF.hessian(_scalar, (_t(A), _t(B)), vectorize=vectorize,
                   outer_jacobian_strategy=strategy)

    def gradient(k):
        return lambda x, y: AF.vjp(_scalar, (x, y))[1][k]
    for k in range(2):
        numeric = _central(gradient(k), [A, B])
        for i in range(2):
            np.testing.assert_allclose(_np(h[k][i]), numeric[i], rtol=1e-6, atol=1e-8)


def test_products_agree_with_the_jacobian_and_hessian():
    x, y = _t(A), _t(B)
    v = _t(RNG.normal(size=3))
    jac = AF.jacobian(lambda x: x.sin() * x.sum(), x)
    out, jv = AF.jvp(lambda x: x.sin() * x.sum(), x, v)
    np.testing.assert_allclose(_np(jv), _np(jac) @ _np(v), rtol=1e-12)
    out, vj = AF.vjp(lambda x: x.sin() * x.sum(), x, v)
    np.testing.assert_allclose(_np(vj), _np(v) @ _np(jac), rtol=1e-12)
    h = AF.hessian(lambda x: _scalar(x, y), x)
    _, hv = AF.hvp(lambda x: _scalar(x, y), x, v)
    _, vh = AF.vhp(lambda x: _scalar(x, y), x, v)
    np.testing.assert_allclose(_np(hv), _np(h) @ _np(v), rtol=1e-10)
    np.testing.assert_allclose(_np(vh), _np(v) @ _np(h), rtol=1e-10)


def test_create_graph_and_strict():
    x = _t(A).requires_grad_()
    _, vj = AF.vjp(lambda x: (x ** 3).sum(), x, create_graph=True)
    assert vj.requires_grad
    vj.sum().backward()
    np.testing.assert_allclose(_np(x.grad), 6 * A)
    _, vj = AF.vjp(lambda x: (x ** 3).sum(), x)
    assert not vj.requires_grad
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda x, y: x.sum(), (_t(A), _t(B)), strict=True)
    _, vj = AF.vjp(lambda x, y: x.sum(), (_t(A), _t(B)))
    np.testing.assert_allclose(_np(vj[1]), np.zeros(3))
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        AF.vjp(lambda x: x * 2, _t(A))
    with pytest.raises(RuntimeError, match="v has invalid size"):
        AF.jvp(lambda x: x * 2, _t(A), _t([1.0]))


def test_matches_torch_autograd_functional():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    x, y, v = _t(A), _t(B), RNG.normal(size=3)
    tx, ty = torch.tensor(A), torch.tensor(B)

    def close(u, w):
        if isinstance(u, (tuple, list)):
            assert type(w) is type(u) and len(u) == len(w)
            for p, q in zip(u, w):
                close(p, q)
            return
        assert tuple(u.shape) == tuple(w.shape)
        np.testing.assert_allclose(_np(u), w.detach().numpy(), rtol=1e-10, atol=1e-12)
    for create_graph in (False, True):
        kw = dict(create_graph=create_graph)
        close(AF.jacobian(_f, (x, y), **kw), TF.jacobian(_f, (tx, ty), **kw))
        close(AF.jacobian(_f, (x, y), vectorize=True, **kw),
              TF.jacobian(_f, (tx, ty), vectorize=True, **kw))
        close(AF.jacobian(lambda x: x.exp(), x, **kw), TF.jacobian(lambda x: x.exp(), tx, **kw))
        close(AF.hessian(_scalar, (x, y), **kw), TF.hessian(_scalar, (tx, ty), **kw))
        close(AF.hessian(lambda x: _scalar(x, y), x, **kw),
              TF.hessian(lambda x: _scalar(x, ty), tx, **kw))
        close(AF.vjp(_f, (x, y), (x, y[:1]), **kw), TF.vjp(_f, (tx, ty), (tx, ty[:1]), **kw))
        close(AF.jvp(_f, (x, y), (y, x), **kw), TF.jvp(_f, (tx, ty), (ty, tx), **kw))
        for fn in ("hvp", "vhp"):
            close(getattr(AF, fn)(_scalar, (x, y), (_t(v), x), **kw),
                  getattr(TF, fn)(_scalar, (tx, ty), (torch.tensor(v), tx), **kw))
    close(AF.jacobian(_f, (x, y), vectorize=True, strategy="forward-mode"),
          TF.jacobian(_f, (tx, ty), vectorize=True, strategy="forward-mode"))
    # create_graph keeps results differentiable, as torch's
    xg, txg = _t(A).requires_grad_(), torch.tensor(A, requires_grad=True)
    AF.hessian(lambda x: (x ** 4).sum(), xg, create_graph=True).sum().backward()
    TF.hessian(lambda x: (x ** 4).sum(), txg, create_graph=True).sum().backward()
    close(xg.grad, txg.grad)
    for fn, inputs in ((AF, (x, y)), (TF, (tx, ty))):
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                               "independent of input 1"):
            fn.jacobian(lambda x, y: x * 2, inputs, strict=True)
        with pytest.raises(RuntimeError, match="does not require gradients"):
            fn.jacobian(lambda x, y: (x * 2).detach(), inputs, strict=True)
