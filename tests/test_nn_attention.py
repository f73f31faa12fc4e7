"""scaled_dot_product_attention, multi_head_attention_forward, nn.attention, MultiheadAttention
and the Transformer modules (issue #13), against torch and against central differences."""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch")
rng = np.random.default_rng(13)


def _r(*shape):
    return rng.standard_normal(shape)


def sdpa(m):
    return m.nn.functional.scaled_dot_product_attention


# =========================================================================================
# scaled_dot_product_attention: values, first and second derivatives (torch and finite
# differences in float64)
# =========================================================================================

Q, K, V = _r(2, 2, 3, 4), _r(2, 2, 5, 4), _r(2, 2, 5, 3)


def test_sdpa_plain_second_order():
    check(lambda m, q, k, v: sdpa(m)(q, k, v), Q, K, V, second=True)


def test_sdpa_causal_and_scale():
    check(lambda m, q, k, v: sdpa(m)(q, k, v, is_causal=True, scale=0.4), Q, K, V, second=True)


def test_sdpa_causal_more_keys_than_queries():
    # torch's upper-left causal rule: query i sees keys j ≤ i, whatever S is
    check(lambda m, q, k, v: sdpa(m)(q, k, v, None, 0.0, True), Q, K, V)


def test_sdpa_float_mask_broadcast_and_its_gradient():
    check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, _r(3, 5), second=True)
    check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, _r(2, 1, 1, 5))


def test_sdpa_bool_mask_broadcast():
    keep = rng.random((2, 1, 3, 5)) > 0.4
    keep[:, :, :, 0] = True
    check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, keep, second=True)
    check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, keep[0, 0])


def test_sdpa_fully_masked_rows_are_zero_with_zero_gradient():
    keep = np.ones((3, 5), bool)
    keep[1] = False
    outs = check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, keep,
                 second=True)
    assert not np.isnan(outs[0].numpy()).any()
    assert (outs[0].numpy()[:, :, 1] == 0).all()
    minus = np.zeros((3, 5))
    minus[2] = -np.inf
    outs = check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V, minus)
    assert (outs[0].numpy()[:, :, 2] == 0).all()


def test_sdpa_gqa_and_batch_broadcast():
    q = _r(1, 4, 3, 2)
    check(lambda m, q, k, v: sdpa(m)(q, k, v, enable_gqa=True), q, _r(1, 2, 5, 2), _r(1, 2, 5, 3),
          second=True)
    # key and value with different head counts, each dividing query's
    check(lambda m, q, k, v: sdpa(m)(q, k, v, enable_gqa=True), q, _r(1, 2, 5, 2), _r(1, 1, 5, 3))
    # without GQA, batch dims broadcast as in a matmul
    check(lambda m, q, k, v: sdpa(m)(q, k, v), q, _r(1, 1, 5, 2), _r(1, 4, 5, 3))


def test_sdpa_shapes_2d_3d_and_empty():
    check(lambda m, q, k, v: sdpa(m)(q, k, v), _r(3, 2), _r(4, 2), _r(4, 5), second=True)
    check(lambda m, q, k, v: sdpa(m)(q, k, v), _r(2, 3, 2), _r(2, 4, 2), _r(2, 4, 1))
    check(lambda m, q, k, v: sdpa(m)(q, k, v), _r(1, 2, 3, 2), _r(1, 2, 0, 2), _r(1, 2, 0, 3))
    check(lambda m, q, k, v: sdpa(m)(q, k, v), _r(1, 2, 0, 2), _r(1, 2, 4, 2), _r(1, 2, 4, 3))
    check(lambda m, q, k, v: sdpa(m)(q, k, v), _r(1, 2, 3, 0), _r(1, 2, 4, 0), _r(1, 2, 4, 3))


def test_sdpa_large_scores_are_stable():
    outs = check(lambda m, q, k, v: sdpa(m)(q, k, v, scale=50.0), Q * 10, K * 10, V, grad=False)
    assert np.isfinite(outs[0].numpy()).all()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sdpa_low_precision_dtypes(dtype):
    q, k, v = (cr.tensor(a.astype(dtype), requires_grad=True) for a in (Q, K, V))
    out = sdpa(cr)(q, k, v, is_causal=True)
    assert out.dtype == getattr(cr, dtype)
    out.sum().backward()
    assert q.grad.dtype == getattr(cr, dtype) and k.grad.dtype == getattr(cr, dtype)
    want = sdpa(cr)(*(cr.tensor(a) for a in (Q, K, V)), is_causal=True).numpy()
    tol = 1e-2 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(out.detach().numpy().astype(np.float64), want, atol=tol)
    if torch is not None:
        tq, tk, tv = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (Q, K, V))
        t = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
        t.sum().backward()
        assert str(t.dtype) == "torch." + dtype
        np.testing.assert_allclose(q.grad.numpy().astype(np.float64),
                                   tq.grad.numpy().astype(np.float64), atol=tol * 3)


def test_sdpa_float32_mask_with_float64_query():
    check(lambda m, q, k, v, b: sdpa(m)(q, k, v, attn_mask=b), Q, K, V,
          _r(3, 5).astype(np.float32), grad=False)


def test_sdpa_dropout_statistics_and_gradient():
    # the mask is random (no stream shared with torch), so: p = 1 drops everything, and with a
    # fixed seed the gradient still matches central differences of the same program
    q, k, v = (cr.tensor(a) for a in (Q, K, V))
    assert (sdpa(cr)(q, k, v, dropout_p=1.0).numpy() == 0).all()

    def program(m, q, k, v):
        if m is cr:
            cr.manual_seed(3)
        return sdpa(m)(q, k, v, dropout_p=0.5)
    cr.manual_seed(3)
    first = sdpa(cr)(q, k, v, dropout_p=0.5).numpy()
    plain = sdpa(cr)(q, k, v).numpy()
    assert not np.allclose(first, plain)
    qs, ks, vs = (cr.tensor(a, requires_grad=True) for a in (Q, K, V))
    cr.manual_seed(3)
    out = sdpa(cr)(qs, ks, vs, dropout_p=0.5)
    w = _r(*out.shape)
    (out * cr.tensor(w)).sum().backward()

    def value(qa):
        cr.manual_seed(3)
        return float((sdpa(cr)(cr.tensor(qa), ks.detach(), vs.detach(),
                               dropout_p=0.5).numpy() * w).sum())
    eps = 1e-6
    i = (1, 0, 2, 3)
    plus, minus = Q.copy(), Q.copy()
    plus[i] += eps
    minus[i] -= eps
    assert abs(qs.grad.numpy()[i] - (value(plus) - value(minus)) / (2 * eps)) < 1e-6
    # the mean of many dropped outputs is the undropped output (1/(1 - p) scaling)
    cr.manual_seed(0)
    q1, k1, v1 = (cr.tensor(a[:1, :1]) for a in (Q, K, V))
    mean = np.mean([sdpa(cr)(q1, k1, v1, dropout_p=0.3).numpy() for _ in range(3000)], axis=0)
    np.testing.assert_allclose(mean, sdpa(cr)(q1, k1, v1).numpy(), atol=0.08)


def test_sdpa_graph_node_and_a_value_used_twice():
    x = cr.tensor(Q, requires_grad=True)
    out = sdpa(cr)(x, x, x)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    out.sum().backward()
    if torch is not None:
        t = torch.tensor(Q, requires_grad=True)
        tout = torch.nn.functional.scaled_dot_product_attention(t, t, t)
        assert tout.grad_fn.name() == out.grad_fn.name()
        tout.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)
    assert sdpa(cr)(cr.tensor(Q[0], requires_grad=True), cr.tensor(K[0]),
                    cr.tensor(V[0])).grad_fn.name() == "UnsafeViewBackward0"


def _error(fn):
    try:
        fn()
    except Exception as e:          # noqa: BLE001
        return type(e), str(e)
    return None, None


SDPA_ERRORS = [
    ("q, k[0, 0, 0], v", "at least 2 dimensional"),
    ("q.double(), k, v", "to have the same dtype"),
    ("q, k, v, attn_mask=m.zeros(3, 5, dtype=m.float64)", "Expected attn_mask dtype"),
    ("q, k, v, attn_mask=m.zeros(3, 5, dtype=m.int64)", "Expected attn_mask dtype"),
    # (torch's 4-d CPU flash kernel accepts both and combines them; its documented rule and its
    # math path, taken by 3-d inputs, raise)
    ("q[0], k[0], v[0], attn_mask=m.zeros(3, 5, dtype=m.bool), is_causal=True",
     "Explicit attn_mask should not be set when is_causal=True"),
    ("q, k, v, dropout_p=1.5", "dropout probability has to be between 0 and 1"),
    ("q, k[:, :3], v[:, :3], enable_gqa=True", "Number of heads in key and value must divide"),
    ("q, k[:, :3], v[:, :3]", "must match the size of tensor b"),
    ("q, k, v, attn_mask=m.zeros(7, 5)", "must match the size of tensor b"),
]


@pytest.mark.parametrize("args,message", SDPA_ERRORS)
def test_sdpa_errors(args, message):
    def run(m):
        q, k, v = (m.tensor(a.astype(np.float32)) for a in (_r(2, 4, 3, 2), _r(2, 4, 5, 2),
                                                           _r(2, 4, 5, 2)))
        return _error(lambda: eval(f"m.nn.functional.scaled_dot_product_attention({args})",
                                   {"m": m, "q": q, "k": k, "v": v}))
    kind, text = run(cr)
    assert kind is RuntimeError and message in text, (kind, text)
    if torch is not None:
        tkind, ttext = run(torch)
        assert tkind is RuntimeError and message in ttext, (tkind, ttext)


def test_sdpa_scale_and_gqa_are_keyword_only():
    q = cr.tensor(Q)
    with pytest.raises(TypeError):
        sdpa(cr)(q, q, q, None, 0.0, False, 0.5)
