"""The last of issue #12's top-level names: selu, celu, threshold, hardshrink (and their nn.functional
and in-place forms), adjoint, addmv_, detach_, detach_copy, and the functions torch removed in 1.9
(solve, symeig, eig, Tensor.reinforce), which raise torch's RuntimeError."""
import numpy as np
import pytest

import chainrule as cr
from oracle import check

X = np.array([[-2.0, -0.3, 0.2, 0.45], [1.5, -1.1, 0.7, 3.0]])
ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@pytest.mark.parametrize("prog, ref", [
    (lambda m, x: m.selu(x), lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(x))),
    (lambda m, x: m.nn.functional.selu(x), lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(x))),
    (lambda m, x: m.celu(x, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2))),
    (lambda m, x: m.nn.functional.celu(x), lambda x: np.where(x > 0, x, np.expm1(x))),
    (lambda m, x: m.threshold(x, 0.3, -4.0), lambda x: np.where(x > 0.3, x, -4.0)),
    (lambda m, x: m.nn.functional.threshold(x, 0.3, 2.0), lambda x: np.where(x > 0.3, x, 2.0)),
    (lambda m, x: m.hardshrink(x, 0.5), lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    (lambda m, x: x.hardshrink(), lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    (lambda m, x: m.nn.functional.hardshrink(x, 1.2), lambda x: np.where(np.abs(x) > 1.2, x, 0.0)),
])
def test_activations_values_and_derivatives(prog, ref):
    check(prog, X, ref=ref, second=True)
    check(prog, np.array(-0.7), ref=ref)          # 0-d
    check(prog, np.zeros((0, 3)), ref=ref)        # empty


@pytest.mark.parametrize("name, args", [("selu_", ()), ("celu_", (1.5,)),
                                        ("threshold_", (0.1, 7.0))])
def test_in_place_forms_write_into_their_input(name, args):
    x = cr.tensor(X)
    out = getattr(cr, name)(x, *args)
    assert out is x
    np.testing.assert_allclose(x.numpy(), getattr(cr, name[:-1])(cr.tensor(X), *args).numpy())
    # on a non-leaf the write is recorded: the gradient flows through it
    a = cr.tensor(X, requires_grad=True)
    b = a * 1.0
    getattr(cr.nn.functional, name)(b, *args)
    b.sum().backward()
    want = cr.tensor(X, requires_grad=True)
    getattr(cr, name[:-1])(want, *args).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), want.grad.numpy())


def test_integer_inputs_are_refused_as_torch_refuses_them():
    with pytest.raises(NotImplementedError, match="selu"):
        cr.selu(cr.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="hardshrink"):
        cr.hardshrink(cr.tensor([1, 2]))
    # threshold keeps integer tensors, as torch
    out = cr.threshold(cr.tensor([1, 5]), 2, 0)
    assert out.dtype == cr.int64 and out.tolist() == [0, 5]


def test_adjoint_addmv_detach():
    check(lambda m, a: m.adjoint(a), np.arange(6.0).reshape(2, 3), ref=lambda a: a.T)
    y, A, v = cr.ones(2), cr.tensor([[1.0, 2.0], [3.0, 4.0]]), cr.tensor([1.0, -1.0])
    assert cr.addmv_(y, A, v, beta=2, alpha=3) is y
    assert y.tolist() == [2 + 3 * -1.0, 2 + 3 * -1.0]
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    assert cr.detach_(b) is b and b.grad_fn is None and not b.requires_grad
    c = cr.detach_copy(a)
    assert not c.requires_grad and c.tolist() == [1.0, 2.0]
    c[0] = 5.0
    assert a.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call, start", [
    (lambda m, x: m.solve(x, x), "This function was deprecated since version 1.9 and is now "
                                 "removed. `torch.solve` is deprecated"),
    (lambda m, x: x.solve(x), "This function was deprecated since version 1.9 and is now "
                              "removed. `torch.solve` is deprecated"),
    (lambda m, x: m.symeig(x), "This function was deprecated since version 1.9 and is now "
                               "removed. The default behavior"),
    (lambda m, x: x.symeig(), "This function was deprecated since version 1.9 and is now "
                              "removed. The default behavior"),
    (lambda m, x: m.eig(x), "This function was deprecated since version 1.9 and is now removed. "
                            "`torch.linalg.eig` returns complex"),
    (lambda m, x: x.eig(), "This function was deprecated since version 1.9 and is now removed. "
                           "`torch.linalg.eig` returns complex"),
    (lambda m, x: x.reinforce(1.0), "reinforce() was removed.\nUse torch.distributions instead."),
])
def test_removed_functions_raise_torchs_error(call, start):
    with pytest.raises(RuntimeError) as info:
        call(cr, cr.eye(2))
    assert str(info.value).startswith(start)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as info:
        call(torch, torch.eye(2))
    assert str(info.value).startswith(start)


def test_top_level_prelu_and_rrelu():
    w = np.array([0.25, -0.5])
    check(lambda m, x, a: m.prelu(x, a), X.reshape(2, 2, 2), w,
          ref=lambda x, a: np.where(x > 0, x, a[None, :, None] * x))
    check(lambda m, x, a: x.prelu(a), X.reshape(2, 2, 2), w,
          ref=lambda x, a: np.where(x > 0, x, a[None, :, None] * x))
    mean = (1 / 8 + 1 / 3) / 2          # not training: the slope is the mean of the range
    check(lambda m, x: m.rrelu(x), X, ref=lambda x: np.where(x >= 0, x, mean * x))
    x = cr.tensor(X)
    assert cr.rrelu_(x) is x
    np.testing.assert_allclose(x.numpy(), np.where(X >= 0, X, mean * X))


@pytest.mark.parametrize("name, args", [("selu", ()), ("celu", (1.5,)), ("threshold", (0.1, 7.0)),
                                        ("hardshrink", (0.5,))])
def test_float16_keeps_its_dtype_and_a_reused_input_sums_its_gradients(name, args):
    fn = getattr(cr, name)
    out = fn(cr.tensor(X, dtype=cr.float16), *args)
    assert out.dtype == cr.float16
    np.testing.assert_allclose(out.numpy().astype(float), fn(cr.tensor(X), *args).numpy(),
                               rtol=2e-3, atol=2e-3)
    # x used twice in one graph: the two paths' gradients add
    x = cr.tensor(X, requires_grad=True)
    (fn(x, *args) * x).sum().backward()
    once = cr.tensor(X, requires_grad=True)
    fn(once, *args).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(),
                               once.grad.numpy() * X + fn(cr.tensor(X), *args).numpy())
