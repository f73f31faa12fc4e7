"""0-d tensors, the lecture's tensors: gradients that meet must add, and a 0-d ``.grad`` is
storage that in-place ops and ``zero_grad`` change (NumPy returns scalars, not arrays, for
ufuncs and reductions on 0-d arrays; none may reach a Tensor or a gradient buffer)."""
import numpy as np
import pytest

import chainrule as cr


def test_a_value_used_three_times_gets_three_gradients():
    a = cr.tensor(2.0, requires_grad=True)
    b = a * 1.5
    (b + b + b).backward()
    assert a.grad.item() == 4.5                     # torch: 4.5 (was 3.0)


def test_two_scalar_paths_into_one_sum_add_up():
    w = cr.tensor([1., 2.], requires_grad=True)
    s = (w * w).sum()
    (s + 0.5 * s + s.sqrt()).backward()
    # d/dw [1.5 s + sqrt(s)] = (1.5 + 1/(2 sqrt(s))) * 2w, s = 5
    expected = (1.5 + 0.5 / np.sqrt(5.0)) * 2 * np.array([1., 2.])
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)


def test_zero_grad_without_none_resets_a_0d_grad_every_step():
    p = cr.nn.Parameter(cr.tensor(1.0))
    opt = cr.optim.SGD([p], lr=0.1)
    seen = []
    for _ in range(4):
        opt.zero_grad(set_to_none=False)
        (p * 2).backward()
        seen.append(p.grad.item())
    assert seen == [2.0, 2.0, 2.0, 2.0]             # was 2, 2, 4, 6


def test_in_place_ops_on_an_accumulated_0d_grad():
    x = cr.tensor(3.0, requires_grad=True)
    for _ in range(3):
        (x * x).backward()                          # accumulates: 6, 12, 18
    g = x.grad
    assert type(g._data) is np.ndarray
    g.mul_(2)
    assert g.item() == 36.0
    g.add_(1)
    assert x.grad.item() == 37.0
    g.zero_()
    assert x.grad.item() == 0.0


@pytest.mark.parametrize("dtype", [cr.float16, cr.float32, cr.float64])
def test_0d_gradients_in_every_float_dtype(dtype):
    a = cr.tensor(0.5, dtype=dtype, requires_grad=True)
    y = a.exp() * a + a.sin() + a * a
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * (np.exp(0.5) * 1.5 + np.cos(0.5) + 1.0)
    assert a.grad.dtype == dtype and type(a.grad._data) is np.ndarray
    np.testing.assert_allclose(a.grad.item(), expected, rtol=2e-3 if dtype == cr.float16
                               else 1e-6)


def test_create_graph_on_0d_keeps_tensors():
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    y = x * x * x + x * x
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (h,) = cr.autograd.grad(g, x)
    assert type(g._data) is np.ndarray and type(h._data) is np.ndarray
    assert g.item() == pytest.approx(3 * 1.5 ** 2 + 2 * 1.5)
    assert h.item() == pytest.approx(6 * 1.5 + 2)


def test_every_tensor_constructor_path_wraps_numpy_scalars():
    from chainrule.tensor import wrap
    t = wrap(np.float32(2.0))
    assert type(t._data) is np.ndarray and t.shape == ()
    t.add_(1.0)
    assert t.item() == 3.0


@pytest.mark.parametrize("name, kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {}),
                                          ("AdamW", {"weight_decay": 0.1}), ("Adagrad", {}),
                                          ("RMSprop", {"momentum": 0.5})])
def test_optimizers_on_0d_parameters_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    p = cr.nn.Parameter(cr.tensor(1.0, dtype=cr.float64))
    tp = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    opt = getattr(cr.optim, name)([p], lr=0.1, **kwargs)
    topt = getattr(torch.optim, name)([tp], lr=0.1, **kwargs)
    for _ in range(4):
        for o, q in ((opt, p), (topt, tp)):
            o.zero_grad(set_to_none=False)
            (q * q + q.sin() * 3).backward()
            o.step()
        assert p.item() == pytest.approx(tp.item(), rel=1e-12, abs=1e-12)
    assert type(p._data) is np.ndarray and type(p.grad._data) is np.ndarray
