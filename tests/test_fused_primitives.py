"""Issue 13's primitives for speed (ops/nn.py, "fused primitives for speed"): gelu, ...

Each replaces a composite that gave the same values; these tests check them against torch
(values, dtypes, first and second derivatives through tests/oracle.py, with central differences
in float64 when torch is absent), in float32 and float16 where the fast path differs from the
float64 one, and at 0-d, empty and extreme inputs.
"""
import math

import numpy as np
import pytest

import chainrule as cr
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def _gelu_ref(x, approximate="none"):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)), otypes=[float])(x)


WIDE = np.concatenate([np.linspace(-9, 9, 721), [0.0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3]])


# ---------------------------------------------------------------------------------- gelu

@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float64_values_and_two_derivatives(approximate):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5))
    check(lambda m, x: m.nn.functional.gelu(x, approximate=approximate), x,
          ref=lambda x: _gelu_ref(x, approximate), second=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_derivative_and_the_upstream_gradients_derivative(approximate):
    """gelu's VJP is gelu_backward(g, x), itself a primitive: its rules for g and for x, and the
    rule for x again (third order), against central differences of the recorded gradient."""
    x0 = np.random.default_rng(1).uniform(-3, 3, 6)
    g0 = np.random.default_rng(2).uniform(0.5, 1.5, 6)

    def first(x, g):
        xt = cr.tensor(x, requires_grad=True)
        gt = cr.tensor(g, requires_grad=True)
        out = cr.nn.functional.gelu(xt, approximate=approximate)
        (dx,) = cr.autograd.grad(out, xt, gt, create_graph=True)
        return xt, gt, dx

    def second_x(x, g):
        xt, gt, dx = first(x, g)
        (ddx,) = cr.autograd.grad(dx.sum(), xt, create_graph=True)
        return xt, gt, ddx

    xt, gt, dx = first(x0, g0)
    d_dx_dg, d_dx_dx = cr.autograd.grad(dx.sum(), (gt, xt))
    eps = 1e-6
    np.testing.assert_allclose(d_dx_dg.numpy(), (first(x0, g0 + eps)[2].detach().numpy()
                                                 - first(x0, g0 - eps)[2].detach().numpy())
                               / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d_dx_dx.numpy(), (first(x0 + eps, g0)[2].detach().numpy()
                                                 - first(x0 - eps, g0)[2].detach().numpy())
                               / (2 * eps), rtol=1e-6, atol=1e-8)
    xt, gt, ddx = second_x(x0, g0)
    (third,) = cr.autograd.grad(ddx.sum(), xt)
    np.testing.assert_allclose(third.numpy(), (second_x(x0 + eps, g0)[2].detach().numpy()
                                               - second_x(x0 - eps, g0)[2].detach().numpy())
                               / (2 * eps), rtol=1e-5, atol=1e-7)


def test_gelu_records_one_node_named_as_torchs():
    x = cr.tensor([-1.0, 0.5], requires_grad=True)
    y = cr.nn.functional.gelu(x)
    assert y.grad_fn.name() == "GeluBackward0"
    assert cr.nn.functional.gelu(x, approximate="tanh").grad_fn.name() == "GeluBackward0"


@needs_torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_gelu_fast_path_matches_torch(approximate, dtype):
    """float32 and float16 take Numerical Recipes' erfc in float32: within a few float32 ulps
    of the exact value, and about as close to it as torch's own kernels (the tanh form
    cancels in 1 + tanh for x < -3 in both)."""
    x = WIDE.astype(dtype)
    exact = _gelu_ref(x.astype(np.float64), approximate)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc = cr.nn.functional.gelu(xc, approximate=approximate)
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    assert str(yc.dtype) == str(yt.dtype).replace("torch", "chainrule")
    w = np.random.default_rng(3).uniform(0.5, 1.5, x.shape).astype(dtype)
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(w))
    tol = {"float32": 2e-6, "float16": 2e-3}[dtype]
    scale = np.maximum(np.abs(exact), 1e-3)
    err_c = np.abs(yc.detach().numpy().astype(np.float64) - exact) / scale
    err_t = np.abs(yt.detach().numpy().astype(np.float64) - exact) / scale
    assert err_c.max() <= max(tol, 1.5 * err_t.max()), (err_c.max(), err_t.max())
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=tol * 4, atol=tol)
    assert gc.dtype == xc.dtype


def test_gelu_float32_derivative_against_float64():
    x = WIDE.astype(np.float32)
    x32 = cr.tensor(x, requires_grad=True)
    x64 = cr.tensor(x.astype(np.float64), requires_grad=True)
    cr.nn.functional.gelu(x32).sum().backward()
    cr.nn.functional.gelu(x64).sum().backward()
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_gelu_edges(dtype):
    x = cr.tensor([float("inf"), float("-inf"), float("nan"), 0.0, -0.0], dtype=dtype)
    y = cr.nn.functional.gelu(x).numpy()
    assert y[0] == np.inf and np.isnan(y[2]) and y[3] == 0 and y[4] == 0
    e = cr.zeros(0, 3, dtype=dtype, requires_grad=True)
    out = cr.nn.functional.gelu(e)
    out.sum().backward()
    assert out.shape == (0, 3) and e.grad.shape == (0, 3)
    s = cr.tensor(1.5, dtype=dtype, requires_grad=True)
    cr.nn.functional.gelu(s).backward()
    assert s.grad.shape == () and isinstance(s.grad.numpy(), np.ndarray)
    np.testing.assert_allclose(float(s.grad), 0.5 * math.erfc(-1.5 / math.sqrt(2))
                               + 1.5 * math.exp(-1.125) / math.sqrt(2 * math.pi), rtol=1e-6)


def test_gelu_used_twice_sums_both_paths():
    x = cr.tensor([0.3, -1.2], dtype=cr.float64, requires_grad=True)
    y = cr.nn.functional.gelu(x)
    (y * y + y).sum().backward()
    x2 = cr.tensor([0.3, -1.2], dtype=cr.float64, requires_grad=True)
    y2 = cr.nn.functional.gelu(x2)
    (y2 * y2.detach() * 2 + y2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------- layer_norm

def _layer_norm_ref(x, w=None, b=None, ndim=1, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    return out * (1 if w is None else w) + (0 if b is None else b)


@pytest.mark.parametrize("shape,norm", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((6,), (6,))])
def test_layer_norm_values_and_two_derivatives(shape, norm):
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, shape) + 3.0            # a mean away from 0
    w, b = rng.uniform(0.5, 1.5, norm), rng.uniform(-1, 1, norm)
    check(lambda m, x, w, b: m.nn.functional.layer_norm(x, norm, w, b), x, w, b,
          ref=lambda x, w, b: _layer_norm_ref(x, w, b, len(norm)), second=True)
    check(lambda m, x, w: m.nn.functional.layer_norm(x, norm, w, eps=0.1), x, w,
          ref=lambda x, w: _layer_norm_ref(x, w, None, len(norm), 0.1), second=True)


def test_layer_norm_records_one_node():
    x = cr.randn(3, 4, requires_grad=True)
    ln = cr.nn.LayerNorm(4)
    assert ln(x).grad_fn.name() == "NativeLayerNormBackward0"
    assert cr.nn.LayerNorm(4, elementwise_affine=False)(x).grad_fn.name() != \
        "NativeLayerNormBackward0"                 # no weight: the composite


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
def test_layer_norm_module_float32_matches_torch(bias):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 7, 16)) * 3 + 1).astype(np.float32)
    g = rng.standard_normal((4, 7, 16)).astype(np.float32)
    lt = torch.nn.LayerNorm(16, bias=bias)
    with torch.no_grad():
        lt.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, 16).astype(np.float32)))
        if bias:
            lt.bias.copy_(torch.tensor(rng.uniform(-1, 1, 16).astype(np.float32)))
    lc = cr.nn.LayerNorm(16, bias=bias)
    lc.load_state_dict({k: cr.tensor(v.numpy()) for k, v in lt.state_dict().items()})
    xt, xc = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    yt, yc = lt(xt), lc(xc)
    yt.backward(torch.tensor(g))
    yc.backward(cr.tensor(g))
    assert yc.dtype == cr.float32 and xc.grad.dtype == cr.float32
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, pt), pc in zip(lt.named_parameters(), lc.parameters()):
        np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


def test_layer_norm_other_dtypes_keep_the_composite():
    x16 = cr.randn(2, 4).half()
    w = cr.ones(4)
    assert cr.nn.functional.layer_norm(x16, (4,), w.half()).dtype == cr.float16
    x = cr.randn(2, 4, requires_grad=True)
    mixed = cr.nn.functional.layer_norm(x, (4,), w.double())
    assert mixed.dtype == cr.float64 and mixed.grad_fn.name() != "NativeLayerNormBackward0"


def test_layer_norm_input_used_twice_and_0d_free_edges():
    x = cr.tensor([[1.0, 2.0, 4.0], [0.5, 0.5, 3.0]], dtype=cr.float64, requires_grad=True)
    w = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    y = cr.nn.functional.layer_norm(x, (3,), w, w)      # w as weight and as bias
    (y * y).sum().backward()
    x2 = cr.tensor(x.detach().numpy(), requires_grad=True)
    w2 = cr.tensor(w.detach().numpy(), requires_grad=True)
    mu = x2.mean(-1, keepdim=True)
    xhat = (x2 - mu) / ((x2 - mu).pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
    ((xhat * w2 + w2) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-10, atol=1e-12)
    e = cr.zeros(0, 3, requires_grad=True)
    out = cr.nn.functional.layer_norm(e, (3,), cr.ones(3))
    out.sum().backward()
    assert out.shape == (0, 3) and e.grad.shape == (0, 3)


# ---------------------------------------------------------------------------------- cross_entropy

def _ce_ref(x, t, ignore_index=-100, mean=True):
    logp = x - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - x.max(1, keepdims=True)
    kept = t != ignore_index
    total = -sum(logp[i, c] for i, c in enumerate(t) if c != ignore_index)
    return np.asarray(total / kept.sum() if mean else total)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_values_and_two_derivatives(reduction):
    rng = np.random.default_rng(6)
    x = rng.uniform(-3, 3, (5, 4))
    t = np.array([0, 3, -100, 1, 3])
    check(lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(t), reduction=reduction), x,
          ref=lambda x: _ce_ref(x, t, mean=reduction == "mean"), second=True)
    t3 = np.array([0, 3, 2, 1, 3])
    check(lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(t3), ignore_index=3,
                                                     reduction=reduction), x,
          ref=lambda x: _ce_ref(x, t3, 3, reduction == "mean"), second=True)


def test_cross_entropy_records_one_node_for_the_common_case_only():
    x = cr.randn(4, 3, requires_grad=True)
    t = cr.tensor([0, 2, 1, 1])
    F = cr.nn.functional
    assert F.cross_entropy(x, t).grad_fn.name() == "NllLossBackward0"
    assert F.cross_entropy(x, t).grad_fn.op.name == "cross_entropy"
    for other in (F.cross_entropy(x, t, weight=cr.ones(3)),
                  F.cross_entropy(x, t, label_smoothing=0.1),
                  F.cross_entropy(x, t, reduction="none"),
                  F.cross_entropy(x.reshape(2, 3, 2), t.reshape(2, 2)),
                  F.cross_entropy(x.half(), t)):
        assert other.grad_fn.op.name != "cross_entropy"


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_float32_matches_torch(reduction):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((64, 65)) * 4).astype(np.float32)
    t = rng.integers(0, 65, 64)
    t[[3, 10]] = -100
    x[5, 7] = 80.0                                   # a large logit: still exact
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lc = cr.nn.functional.cross_entropy(xc, cr.tensor(t), reduction=reduction)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction=reduction)
    assert lc.dtype == cr.float32 and lc.shape == ()
    np.testing.assert_allclose(lc.item(), lt.item(), rtol=2e-6)
    lc.backward()
    lt.backward()
    assert xc.grad.dtype == cr.float32
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert not xc.grad.numpy()[[3, 10]].any()


def test_cross_entropy_all_ignored_and_empty():
    x = cr.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    loss = cr.nn.functional.cross_entropy(x, cr.tensor([-100, -100]))
    assert math.isnan(loss.item())
    loss.backward()
    assert not x.grad.numpy().any()                  # torch: a zero gradient
    s = cr.nn.functional.cross_entropy(x, cr.tensor([-100, -100]), reduction="sum")
    assert s.item() == 0.0


def test_gelu_float32_is_elementwise_whatever_the_layout():
    """float32 takes a polynomial for |x| ≤ 1 and erfc beyond, chosen per element: a value does
    not depend on its neighbours, nor on the tensor's layout."""
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((40, 30)) * 1.5).astype(np.float32)
    x[0, :4] = [1.0, -1.0, np.nextafter(np.float32(1), np.float32(2)), -0.0]
    whole = cr.nn.functional.gelu(cr.tensor(x)).numpy()
    one_by_one = np.array([[cr.nn.functional.gelu(cr.tensor(v)).item() for v in row] for row in x],
                          dtype=np.float32)
    np.testing.assert_array_equal(whole, one_by_one)
    t = cr.tensor(x).t()                             # a transposed view
    np.testing.assert_array_equal(cr.nn.functional.gelu(t).numpy(), whole.T)
    exact = _gelu_ref(x.astype(np.float64))
    np.testing.assert_allclose(whole, exact, rtol=1e-6, atol=1e-7)


@needs_torch
def test_func_transforms_through_the_fused_primitives():
    """hessian/jacfwd run the rules under vmap, where an elementwise primitive's inputs
    broadcast (gelu_backward's gradient batched, its x not)."""
    x = np.random.default_rng(9).standard_normal((4, 5))
    F, tF = cr.nn.functional, torch.nn.functional
    w = np.random.default_rng(10).uniform(0.5, 1.5, 5)
    cases = [(lambda m, f: lambda z: f.gelu(z).sum(), x[0]),
             (lambda m, f: lambda z: f.gelu(z, approximate="tanh").pow(2).sum(), x[0]),
             (lambda m, f: lambda z: f.layer_norm(z, (5,), m.tensor(w)).pow(3).sum(), x[0]),
             (lambda m, f: lambda z: f.cross_entropy(z, m.tensor([0, 2, 1, 4])), x),
             (lambda m, f: lambda z: f.softmax(z, -1).pow(3).sum(), x)]
    for make, a in cases:
        got = cr.func.hessian(make(cr, F))(cr.tensor(a)).numpy()
        want = torch.func.hessian(make(torch, tF))(torch.tensor(a)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
