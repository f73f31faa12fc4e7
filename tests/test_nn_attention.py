"""scaled_dot_product_attention, multi_head_attention_forward, nn.attention, MultiheadAttention
and the Transformer modules (issue #13), against torch and against central differences."""
import importlib
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


# =========================================================================================
# multi_head_attention_forward (functional: also checked by finite differences without torch)
# =========================================================================================

E, H = 6, 2


def _mha(m, q, k, v, w_in, b_in, w_out, b_out, **kw):
    return m.nn.functional.multi_head_attention_forward(
        q, k, v, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out, **kw)


def test_mha_forward_self_attention_with_weights():
    x = _r(4, 2, E)
    check(lambda m, x, wi, bi, wo, bo: _mha(m, x, x, x, wi, bi, wo, bo), x, _r(3 * E, E),
          _r(3 * E), _r(E, E), _r(E))


def test_mha_forward_cross_attention_without_weights_second_order():
    def program(m, q, kv, wi, bi, wo, bo):
        # torch's CPU flash kernel has no double backward: its math backend has
        with m.nn.attention.sdpa_kernel(m.nn.attention.SDPBackend.MATH):
            return _mha(m, q, kv, kv, wi, bi, wo, bo, need_weights=False)[0]
    check(program, _r(3, 2, E), _r(5, 2, E), _r(3 * E, E), _r(3 * E), _r(E, E), _r(E),
          second=True)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_mha_forward_masks_merged():
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True
    am = _r(3, 5)

    def program(m, q, k, v, wi, bi, wo, bo, am, kpm, need):
        out = _mha(m, q, k, v, wi, bi, wo, bo, attn_mask=am, key_padding_mask=kpm,
                   need_weights=need, average_attn_weights=False)
        return out if need else out[0]
    for need in (True, False):
        check(lambda m, *a: program(m, *a, need), _r(3, 2, E), _r(5, 2, E), _r(5, 2, E),
              _r(3 * E, E), _r(3 * E), _r(E, E), _r(E), am, kpm)


def test_mha_forward_separate_weights_bias_kv_zero_attn_unbatched():
    def program(m, q, k, v, wq, wk, wv, bi, bk, bv, wo):
        return m.nn.functional.multi_head_attention_forward(
            q, k, v, E, H, None, bi, bk, bv, True, 0.0, wo, None,
            use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
            v_proj_weight=wv, key_padding_mask=m.tensor([False, False, True, False]))
    check(program, _r(3, E), _r(4, 5), _r(4, 7), _r(E, E), _r(E, 5), _r(E, 7), _r(3 * E),
          _r(1, 1, E), _r(1, 1, E), _r(E, E))


def test_mha_forward_static_kv_and_causal_hint():
    causal = np.triu(np.full((4, 4), -np.inf), 1)

    def program(m, x, wi, wo, sk, sv):
        a = _mha(m, x, x, x, wi, None, wo, None, attn_mask=m.tensor(causal), is_causal=True,
                 need_weights=False)[0]
        b = _mha(m, x, x, x, wi, None, wo, None, static_k=sk, static_v=sv)[0]
        return a, b
    check(program, _r(4, 2, E), _r(3 * E, E), _r(E, E), _r(2 * H, 4, E // H),
          _r(2 * H, 4, E // H))


MHA_ERRORS = [
    ("_mha(m, x[0, 0], x, x, wi, None, wo, None)", AssertionError, "query should be unbatched 2D"),
    ("_mha(m, x, x[0], x, wi, None, wo, None)", AssertionError,
     "expected `key` and `value` to be 3-D"),
    ("_mha(m, x, x, x, wi, None, wo, None, is_causal=True)", RuntimeError,
     "Need attn_mask if specifying the is_causal hint"),
    ("_mha(m, x, x, x, wi, None, wo, None, attn_mask=m.zeros(3, 3))", RuntimeError,
     "The shape of the 2D attn_mask is"),
    ("_mha(m, x, x, x, wi, None, wo, None, attn_mask=m.zeros(3, 4, 4))", RuntimeError,
     "The shape of the 3D attn_mask is"),
    ("_mha(m, x, x, x, wi, None, wo, None, key_padding_mask=m.zeros(2, 4, dtype=m.int64))",
     AssertionError, "only bool and floating types of key_padding_mask are supported"),
    ("_mha(m, x, x, x, wi, None, wo, None, key_padding_mask=m.zeros(3, 4, dtype=m.bool))",
     AssertionError, "Expected key_padded_mask.shape[0] to be 2, but got 3"),
    ("m.nn.functional.multi_head_attention_forward(x, x, x, 5, H, wi, None, None, None, False, "
     "0.0, wo, None)", AssertionError, "was expecting embedding dimension of 5, but got 6"),
]


@pytest.mark.parametrize("expr,kind,message", MHA_ERRORS)
def test_mha_forward_errors(expr, kind, message):
    def run(m):
        env = {"m": m, "_mha": _mha, "H": H, "x": m.tensor(_r(4, 2, E)),
               "wi": m.tensor(_r(3 * E, E)), "wo": m.tensor(_r(E, E))}
        return _error(lambda: eval(expr, env))
    got = run(cr)
    assert got[0] is kind and message in got[1], got
    if torch is not None:
        want = run(torch)
        assert want[0] is kind and message in want[1], want


def test_mha_forward_mismatched_mask_types_warn():
    def run(m):
        x = m.tensor(_r(4, 2, E))
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            _mha(m, x, x, x, m.tensor(_r(3 * E, E)), None, m.tensor(_r(E, E)), None,
                 attn_mask=m.zeros(4, 4), key_padding_mask=m.zeros(2, 4, dtype=m.bool))
        return [str(w.message) for w in rec]
    assert run(cr) == ["Support for mismatched key_padding_mask and attn_mask is deprecated. Use "
                       "same type for both instead."]
    if torch is not None:
        assert run(torch) == run(cr)


# =========================================================================================
# MultiheadAttention and the Transformer modules: torch's weights loaded, outputs and every
# parameter's and input's gradient compared (float64), in train mode with dropout 0 and in eval
# =========================================================================================

def _twins(make):
    torch.manual_seed(0)
    tmod = make(torch)
    cmod = make(cr)
    assert list(cmod.state_dict()) == list(tmod.state_dict())
    cmod.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in
                          tmod.state_dict().items()})
    return cmod, tmod


def _run_module(m, mod, arrays, call):
    xs = [m.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
          for a in arrays]
    out = call(mod, *xs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    loss = sum((o * m.tensor(np.random.default_rng(5).standard_normal(tuple(o.shape)))).sum()
               for o in outs)
    loss.backward()
    grads = {n: p.grad for n, p in mod.named_parameters()}
    return outs, [x.grad for x in xs if isinstance(x, (cr.Tensor, getattr(torch, "Tensor", ())))
                  and x.requires_grad], grads


def compare_modules(make, arrays, call=lambda mod, *xs: mod(*xs), train=True, atol=1e-9):
    cmod, tmod = _twins(make)
    cmod.train(train)
    tmod.train(train)
    couts, cin, cgrads = _run_module(cr, cmod, arrays, call)
    touts, tin, tgrads = _run_module(torch, tmod, arrays, call)
    assert len(couts) == len(touts)
    for c, t in zip(couts, touts):
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-7)
    for c, t in zip(cin, tin):
        np.testing.assert_allclose(c.numpy(), t.numpy(), atol=atol, rtol=1e-7)
    assert set(cgrads) == set(tgrads)
    for name, t in tgrads.items():
        c = cgrads[name]
        if t is None or c is None:
            assert (t is None or not t.any()) and (c is None or not c.numpy().any()), name
            continue
        np.testing.assert_allclose(c.numpy(), t.numpy(), atol=atol, rtol=1e-7, err_msg=name)
    return cmod, tmod


def _dt(m):
    return {"dtype": m.float64}


MHA_CASES = {
    "plain": (dict(), dict()),
    "batch_first": (dict(batch_first=True), dict()),
    "no_bias": (dict(bias=False), dict()),
    "bias_kv_zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), dict()),
    "per_head_weights": (dict(), dict(average_attn_weights=False)),
    "no_weights": (dict(), dict(need_weights=False)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(MHA_CASES))
@pytest.mark.parametrize("train", [True, False])
def test_multihead_attention_self(case, train):
    ctor, kw = MHA_CASES[case]
    x = _r(3, 4, 8) if not ctor.get("batch_first") else _r(4, 3, 8)
    compare_modules(lambda m: m.nn.MultiheadAttention(8, 2, **ctor, **_dt(m)), [x],
                    lambda mod, x: mod(x, x, x, **kw), train=train)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_kdim_vdim_and_masks(batch_first):
    kpm = np.zeros((2, 5), bool)
    kpm[1, 2:] = True
    causal = np.triu(np.ones((3, 5), bool), 1)
    q, k, v = (_r(2, n, d) if batch_first else _r(n, 2, d) for n, d in ((3, 8), (5, 4), (5, 6)))

    def call(mod, q, k, v):
        m = cr if isinstance(q, cr.Tensor) else torch
        return mod(q, k, v, key_padding_mask=m.tensor(kpm), attn_mask=m.tensor(causal))
    compare_modules(lambda m: m.nn.MultiheadAttention(8, 4, kdim=4, vdim=6,
                                                      batch_first=batch_first, **_dt(m)),
                    [q, k, v], call)


@needs_torch
def test_multihead_attention_float_masks_3d_and_unbatched():
    am = _r(2 * 2, 3, 3)
    kpm = np.where(rng.random((2, 3)) > 0.7, -np.inf, 0.0)
    kpm[:, 0] = 0.0

    def call(mod, x, am, kpm):
        return mod(x, x, x, attn_mask=am, key_padding_mask=kpm, need_weights=False)
    compare_modules(lambda m: m.nn.MultiheadAttention(6, 2, **_dt(m)),
                    [_r(3, 2, 6), am, kpm], call)

    def unbatched(mod, x):
        return mod(x, x, x)
    compare_modules(lambda m: m.nn.MultiheadAttention(6, 3, **_dt(m)), [_r(4, 6)], unbatched)


def test_multihead_attention_constructor_errors_and_parameters():
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        cr.nn.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        cr.nn.MultiheadAttention(6, 4)
    mha = cr.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert mha.in_proj_weight is None and tuple(mha.k_proj_weight.shape) == (8, 3)
    assert tuple(mha.bias_k.shape) == (1, 1, 8) and not mha._qkv_same_embed_dim
    assert repr(cr.nn.MultiheadAttention(4, 2)) == (
        "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=4, "
        "out_features=4, bias=True)\n)")
    assert not cr.nn.MultiheadAttention(4, 2).in_proj_bias.detach().numpy().any()


LAYER_CASES = {
    "post_norm": dict(),
    "norm_first": dict(norm_first=True),
    "gelu_batch_first": dict(activation="gelu", batch_first=True),
    "callable": "callable",
    "no_bias": dict(bias=False),
}


def _layer_kw(m, case):
    kw = LAYER_CASES[case]
    if kw == "callable":
        kw = dict(activation=m.nn.functional.silu, layer_norm_eps=1e-3)
    return dict(kw, dropout=0.0, dim_feedforward=12, **_dt(m))


@needs_torch
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
@pytest.mark.parametrize("train", [True, False])
def test_transformer_encoder_layer(case, train):
    batch_first = LAYER_CASES[case] != "callable" and LAYER_CASES[case].get("batch_first")
    x = _r(2, 5, 8) if batch_first else _r(5, 2, 8)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True

    def call(mod, x):
        m = cr if isinstance(x, cr.Tensor) else torch
        return mod(x, src_mask=m.nn.Transformer.generate_square_subsequent_mask(5, dtype=m.float64),
                   src_key_padding_mask=m.tensor(kpm).to(m.float64).masked_fill(m.tensor(kpm),
                                                                                 -math.inf))
    compare_modules(lambda m: m.nn.TransformerEncoderLayer(8, 2, **_layer_kw(m, case)), [x],
                    call, train=train)


@needs_torch
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_transformer_decoder_layer(case):
    batch_first = LAYER_CASES[case] != "callable" and LAYER_CASES[case].get("batch_first")
    tgt, mem = (_r(2, n, 8) if batch_first else _r(n, 2, 8) for n in (4, 6))
    mpm = np.zeros((2, 6), bool)
    mpm[1, 4:] = True

    def call(mod, tgt, mem):
        m = cr if isinstance(tgt, cr.Tensor) else torch
        return mod(tgt, mem, tgt_mask=m.nn.Transformer.generate_square_subsequent_mask(
            4, dtype=m.float64), memory_key_padding_mask=m.tensor(mpm), tgt_is_causal=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the mismatched-mask-types deprecation, in both
        compare_modules(lambda m: m.nn.TransformerDecoderLayer(8, 2, **_layer_kw(m, case)),
                        [tgt, mem], call)


@needs_torch
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_whole(norm_first):
    src, tgt = _r(2, 6, 8), _r(2, 4, 8)

    def make(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.nn.Transformer(8, 2, 2, 2, 12, dropout=0.0, batch_first=True,
                                    norm_first=norm_first, **_dt(m))

    def call(mod, src, tgt):
        m = cr if isinstance(src, cr.Tensor) else torch
        mask = m.nn.Transformer.generate_square_subsequent_mask(4, dtype=m.float64)
        pad = m.tensor([[False] * 5 + [True], [False] * 6])
        return mod(src, tgt, tgt_mask=mask, src_key_padding_mask=pad,
                   memory_key_padding_mask=pad)
    compare_modules(make, [src, tgt], call)


@needs_torch
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_transformer_encoder_stack_eval_matches_torchs_fast_path():
    # eval, no grad, batch_first, even heads: torch takes its fused inference kernel (and
    # nested tensors for the padding), chainrule its plain path: the same function
    def make(m):
        layer = m.nn.TransformerEncoderLayer(8, 2, 12, batch_first=True, **_dt(m))
        return m.nn.TransformerEncoder(layer, 2, norm=m.nn.LayerNorm(8, **_dt(m)))
    cmod, tmod = _twins(make)
    cmod.eval()
    tmod.eval()
    x = _r(2, 5, 8)
    pad = np.array([[False] * 3 + [True] * 2, [False] * 5])
    with torch.no_grad():
        want = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
    with cr.no_grad():
        got = cmod(cr.tensor(x), src_key_padding_mask=cr.tensor(pad)).numpy()
    # torch's nested path leaves padded positions 0 (then norm(0) = its bias), as chainrule
    np.testing.assert_allclose(got, want, atol=1e-9)
    np.testing.assert_allclose(got[0, 3:], np.broadcast_to(cmod.norm.bias.detach().numpy(),
                                                           (2, 8)), atol=1e-12)
    # with a gradient wanted (or in training) torch takes its plain path: values there too
    got = cmod(cr.tensor(x), src_key_padding_mask=cr.tensor(pad)).detach().numpy()
    want = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert np.abs(got[0, 3:] - cmod.norm.bias.detach().numpy()).max() > 1e-3
    # right-aligned padding: no nested path in torch either
    pad = pad[:, ::-1].copy()
    with torch.no_grad():
        want = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
    with cr.no_grad():
        got = cmod(cr.tensor(x), src_key_padding_mask=cr.tensor(pad)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_transformer_warnings_and_errors():
    def warned(m, make):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            make(m)
        return [str(w.message) for w in rec]
    makers = [
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 12), 2),
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(
            8, 2, 12, batch_first=True, norm_first=True), 1),
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(
            8, 1, 12, batch_first=True), 1),
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(
            8, 2, 12, batch_first=True, activation=m.nn.functional.silu), 1),
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(
            8, 2, 12, batch_first=True, activation="gelu"), 1),
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(
            8, 2, 12, batch_first=True), 1, enable_nested_tensor=False),
    ]
    expected = [
        "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference "
        "performance)", "encoder_layer.norm_first was True",
        "encoder_layer.self_attn.num_heads is odd",
        "encoder_layer.activation_relu_or_gelu was not True", None, None]
    for make, why in zip(makers, expected):
        got = warned(cr, make)
        assert got == ([] if why is None else [
            f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why}"])
        if torch is not None:
            assert warned(torch, make) == got
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        cr.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # enable_nested_tensor's, tested above
        model = cr.nn.Transformer(8, 2, 1, 1, 12)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(cr.randn(5, 2, 8), cr.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(cr.randn(5, 2, 8), cr.randn(3, 2, 6))


def test_generate_square_subsequent_mask():
    mask = cr.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == cr.float32
    want = np.triu(np.full((4, 4), -np.inf), 1)
    np.testing.assert_array_equal(mask.numpy(), want)
    assert cr.nn.Transformer.generate_square_subsequent_mask(2, dtype=cr.float64).dtype == \
        cr.float64


def test_transformer_state_dict_keys_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cr.nn.Transformer(8, 2, 2, 1, 12)
        keys = list(model.state_dict())
        assert "encoder.layers.1.self_attn.in_proj_weight" in keys
        assert "decoder.layers.0.multihead_attn.out_proj.bias" in keys
        if torch is not None:
            assert keys == list(torch.nn.Transformer(8, 2, 2, 1, 12).state_dict())


def test_sdpa_node_keeps_the_weights_only_when_recording():
    # the output shares its allocation with P when a backward will read it (ops/nn.py)
    q, k, v = (cr.tensor(a, requires_grad=True) for a in (Q, K, V))
    out = sdpa(cr)(q, k, v, is_causal=True)
    assert out._data.base is not None and out._data.base.size == out.numel() + 2 * 2 * 3 * 5
    assert out.is_contiguous()
    with cr.no_grad():
        assert sdpa(cr)(q, k, v)._data.base is None
    assert sdpa(cr)(*(cr.tensor(a) for a in (Q, K, V)))._data.base is None
    # retain_graph: a second backward reads the same P
    g1 = cr.autograd.grad(out.sum(), [q, k, v], retain_graph=True)
    g2 = cr.autograd.grad(out.sum(), [q, k, v])
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


# =========================================================================================
# nn.attention
# =========================================================================================

def test_sdp_backend_enum_as_torch():
    from chainrule.nn.attention import SDPBackend
    names = {b.name: int(b) for b in SDPBackend}
    assert names == {"ERROR": -1, "MATH": 0, "FLASH_ATTENTION": 1, "EFFICIENT_ATTENTION": 2,
                     "CUDNN_ATTENTION": 3, "OVERRIDEABLE": 4}
    assert repr(SDPBackend.MATH) == "<SDPBackend.MATH: 0>" and str(SDPBackend.MATH) == \
        "SDPBackend.MATH"
    if torch is not None:
        from torch.nn.attention import SDPBackend as T
        assert {b: int(getattr(T, b)) for b in names} == names
        assert repr(T.MATH) == repr(SDPBackend.MATH) and str(T.MATH) == str(SDPBackend.MATH)


def test_sdpa_kernel_sets_and_restores_the_flags():
    from chainrule.nn.attention import SDPBackend, sdpa_kernel
    flags = cr.backends.cuda
    q = cr.tensor(Q)
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.MATH]) as ctx:
        assert ctx == {}
        assert flags.math_sdp_enabled() and not flags.flash_sdp_enabled()
        assert not flags.mem_efficient_sdp_enabled() and not flags.cudnn_sdp_enabled()
        sdpa(cr)(q, q, q)
    assert flags.flash_sdp_enabled() and flags.mem_efficient_sdp_enabled()
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION, set_priority=True):
        sdpa(cr)(q, q, q)
    for backends in (SDPBackend.EFFICIENT_ATTENTION, [SDPBackend.CUDNN_ATTENTION],
                     SDPBackend.ERROR):
        for m in (cr, torch) if torch is not None else (cr,):
            with m.nn.attention.sdpa_kernel(backends if m is cr else _torch_backend(backends)):
                with pytest.raises(RuntimeError, match="No viable backend for "
                                                       "scaled_dot_product_attention was found"):
                    m.nn.functional.scaled_dot_product_attention(m.tensor(Q), m.tensor(K),
                                                                 m.tensor(V))
    assert flags.math_sdp_enabled()
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend or a "
                                             "list of SDPBackend instances, got str"):
        with sdpa_kernel("math"):
            pass


def _torch_backend(backends):
    T = torch.nn.attention.SDPBackend
    if isinstance(backends, list):
        return [getattr(T, b.name) for b in backends]
    return getattr(T, backends.name)


def test_flash_attention_impl_registry():
    A = cr.nn.attention
    assert A.list_flash_attention_impls() == [] and A.current_flash_attention_impl() is None
    assert A.WARN_FOR_UNFUSED_KERNELS is False
    with pytest.raises(ValueError, match=r"Unknown flash attention impl 'FA9'\. Available "
                                         r"implementations: \[\]"):
        A.activate_flash_attention_impl("FA9")
    removed = []

    class Handle:
        def remove(self):
            removed.append(True)
    A.register_flash_attention_impl("Mine", register_fn=Handle)
    try:
        A.activate_flash_attention_impl("Mine")
        assert A.current_flash_attention_impl() == "Mine"
        A.restore_flash_attention_impl()
        assert removed == [True] and A.current_flash_attention_impl() is None
    finally:
        A._IMPLS.clear()
    assert set(A.__all__) <= set(dir(A))
    if torch is not None:
        assert set(A.__all__) == set(torch.nn.attention.__all__)


@pytest.mark.parametrize("kind", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("sizes", [(3, 5), (4, 4)])
def test_causal_bias(kind, sizes):
    L, S = sizes
    q, k, v = _r(1, 2, L, 4), _r(1, 2, S, 4), _r(1, 2, S, 3)

    def program(m, q, k, v):
        bias = getattr(m.nn.attention.bias, kind)(L, S)
        return m.nn.functional.scaled_dot_product_attention(q, k, v, bias)
    if torch is not None:       # a submodule torch does not import by itself
        importlib.import_module("torch.nn.attention.bias")
    check(program, q, k, v)
    B = cr.nn.attention.bias
    bias = getattr(B, kind)(L, S)
    assert repr(bias) == repr(bias._materialize())
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        sdpa(cr)(cr.tensor(q), cr.tensor(k), cr.tensor(v), bias, is_causal=True)


def test_causal_bias_errors_and_warning():
    B = cr.nn.attention.bias
    with pytest.raises(AssertionError, match="causal_upper_left only supports 2D tensors"):
        B.causal_upper_left(2, 3, 4)
    with pytest.raises(AssertionError, match="variant must be a CausalVariant, got int"):
        B.CausalBias(1, 2, 3)
    with pytest.warns(UserWarning, match="Lower right causal bias will produce NaNs"):
        B.causal_lower_right(4, 3)
    assert [int(v) for v in B.CausalVariant] == [1, 2]


SIGNATURES = ["nn.functional.multi_head_attention_forward", "nn.MultiheadAttention",
              "nn.MultiheadAttention.forward", "nn.MultiheadAttention.merge_masks",
              "nn.Transformer", "nn.Transformer.forward",
              "nn.Transformer.generate_square_subsequent_mask", "nn.TransformerEncoder",
              "nn.TransformerEncoder.forward", "nn.TransformerDecoder",
              "nn.TransformerDecoder.forward", "nn.TransformerEncoderLayer",
              "nn.TransformerEncoderLayer.forward", "nn.TransformerDecoderLayer",
              "nn.TransformerDecoderLayer.forward", "nn.attention.sdpa_kernel",
              "nn.attention.bias.causal_lower_right", "nn.attention.bias.CausalBias"]


def _resolve(m, path):
    obj = m
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@needs_torch
@pytest.mark.parametrize("path", SIGNATURES)
def test_signatures_match_torch(path):
    import inspect
    importlib.import_module("torch.nn.attention.bias")

    def params(m):
        sig = inspect.signature(_resolve(m, path))
        return [(p.name, p.kind, p.default if not callable(p.default) else p.default.__name__)
                for p in sig.parameters.values()]
    assert params(cr) == params(torch)


def test_sdpa_signature():
    import inspect
    sig = inspect.signature(cr.nn.functional.scaled_dot_product_attention)
    assert str(sig) == ("(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *, "
                        "scale=None, enable_gqa=False)")


def test_sdpa_under_vmap_is_batched_in_one_call():
    q, k, v = (cr.tensor(a, requires_grad=True) for a in (Q, K, V))
    mask = cr.tensor(_r(3, 5))
    f = cr.nn.functional.scaled_dot_product_attention
    cases = [
        (lambda q, k, v: f(q, k, v, is_causal=True), (q, k, v), (0, 0, 0)),
        (lambda q, k, v: f(q, k, v, attn_mask=mask), (q, k, v), (1, None, None)),
        (lambda q, k, v: f(q, k, v, attn_mask=mask > 0), (q, k[0, 0], v[0, 0]), (0, None, None)),
        (lambda q, k, v: f(q, k, v), (q[0, 0], k, v), (None, 1, 1)),
    ]
    for fn, args, dims in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # no per-example loop
            got = cr.func.vmap(fn, in_dims=dims)(*args)
        n = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        want = cr.stack([fn(*(a if d is None else a.select(d, i) for a, d in zip(args, dims)))
                         for i in range(n)])
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
        g1 = cr.autograd.grad(got.sum(), [t for t in (q, k, v)], allow_unused=True)
        g2 = cr.autograd.grad(want.sum(), [t for t in (q, k, v)], allow_unused=True)
        for a, b in zip(g1, g2):
            if a is None or b is None:
                assert a is None and b is None
                continue
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)
