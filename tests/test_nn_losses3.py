"""Issue #13: the losses chainrule lacked — ctc_loss / CTCLoss / torch.ctc_loss,
AdaptiveLogSoftmaxWithLoss, NLLLoss2d, linear_cross_entropy / LinearCrossEntropyLoss /
LinearCrossEntropyOptions — against torch (values, dtypes, gradients, errors, warnings), against
brute-force references and against central differences in float64 (these run without torch)."""
import itertools
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
rng = np.random.default_rng(0)
R = ("none", "mean", "sum")


def F(m):
    return m.nn.functional


# =========================================================================================
# CTC
# =========================================================================================

T, B, C = 6, 3, 4
X = rng.standard_normal((T, B, C))
PADDED = np.array([[1, 1, 2], [3, 2, 0], [2, 0, 0]])      # a repeated label needs a blank
IL, TL = [6, 5, 4], [3, 2, 1]
CONCAT = np.concatenate([PADDED[b, :TL[b]] for b in range(B)])


def _ctc_brute(lp, target, il, blank=0):
    """-ln Σ over every path of length il whose collapse is ``target``, by enumeration."""
    total = 0.0
    for path in itertools.product(range(lp.shape[1]), repeat=il):
        collapsed = [k for k, _ in itertools.groupby(path) if k != blank]
        if collapsed == list(target):
            total += math.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


def _log_softmax(a, axis=-1):
    a = a - a.max(axis, keepdims=True)
    return a - np.log(np.exp(a).sum(axis, keepdims=True))


def test_ctc_values_match_brute_force_enumeration():
    lp = _log_softmax(X, 2)
    for blank in (0, 3):
        tg = np.where(PADDED == blank, (blank + 1) % C, PADDED)
        out = F(cr).ctc_loss(cr.tensor(lp), cr.tensor(tg), IL, TL, blank=blank,
                             reduction="none")
        want = [_ctc_brute(lp[:, b], tg[b, :TL[b]], IL[b], blank) for b in range(B)]
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("reduction", R)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_ctc_through_log_softmax(reduction, layout):
    # through log_softmax torch's gradient is the derivative: central differences agree
    tg = PADDED if layout == "padded" else CONCAT
    check(lambda m, a: F(m).ctc_loss(a.log_softmax(2), m.tensor(tg), IL, TL,
                                     reduction=reduction), X)


@pytest.mark.parametrize("reduction", R)
def test_ctc_zero_infinity_and_impossible_alignments(reduction):
    # sample 1 cannot fit 3 labels (two repeated) in 2 steps: infinite loss
    tg = np.array([[1, 2, 0], [1, 1, 2], [2, 0, 0]])
    il, tl = [6, 2, 4], [2, 3, 1]
    check(lambda m, a: F(m).ctc_loss(a.log_softmax(2), m.tensor(tg), il, tl,
                                     reduction=reduction, zero_infinity=True), X)
    out = F(cr).ctc_loss(cr.tensor(X).log_softmax(2), cr.tensor(tg), il, tl, reduction="none")
    assert math.isinf(out[1].item()) and math.isfinite(out[0].item())


def test_ctc_empty_input_and_empty_target():
    lp = _log_softmax(X, 2)
    out = F(cr).ctc_loss(cr.tensor(lp), cr.tensor(PADDED), [0, 0, 5], [0, 1, 0],
                         reduction="none").numpy()
    assert out[0] == 0 and out[1] == math.inf
    np.testing.assert_allclose(out[2], -lp[:5, 2, 0].sum())     # blanks only


def test_ctc_nan_propagates():
    x = X.copy()
    x[2, 1, 3] = np.nan
    out = check(lambda m, a: F(m).ctc_loss(a.log_softmax(2), m.tensor(PADDED), IL, TL,
                                           reduction="none"), x, grad=False)
    assert np.isnan(out[0].numpy()[1]) and np.isfinite(out[0].numpy()[[0, 2]]).all()


def test_ctc_gradient_in_log_probs_is_torchs():
    """torch's gradient in log_probs is d/dlog_probs + exp(log_probs) for t < input_length
    (zero past it): check that against central differences of the forward, then torch."""
    lp = _log_softmax(X, 2)
    w = np.array([0.5, -1.0, 2.0])

    def loss(a):
        return (F(cr).ctc_loss(a, cr.tensor(PADDED), IL, TL, reduction="none")
                * cr.tensor(w)).sum()
    t = cr.tensor(lp, requires_grad=True)
    loss(t).backward()
    numeric = np.zeros_like(lp)
    for i in np.ndindex(lp.shape):
        d = np.zeros_like(lp)
        d[i] = 1e-6
        numeric[i] = (loss(cr.tensor(lp + d)).item() - loss(cr.tensor(lp - d)).item()) / 2e-6
    within = (np.arange(T)[:, None] < np.array(IL)[None, :])[..., None]
    np.testing.assert_allclose(t.grad.numpy(), numeric + within * np.exp(lp) * w[:, None],
                               atol=1e-6)
    if torch is not None:
        tt = torch.tensor(lp, requires_grad=True)
        (torch.nn.functional.ctc_loss(tt, torch.tensor(PADDED), IL, TL, reduction="none")
         * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_unnormalised_log_probs_match_torch(zero_infinity):
    # raw scores, not log-probabilities: values and gradients are still torch's
    check(lambda m, a: F(m).ctc_loss(a, m.tensor(PADDED), IL, TL, reduction="sum",
                                     zero_infinity=zero_infinity), X, grad=False)
    if torch is None:
        return
    for m in (cr, torch):
        a = m.tensor(X, requires_grad=True)
        F(m).ctc_loss(a, m.tensor(PADDED), IL, TL).backward()
        if m is cr:
            got = a.grad.numpy()
    np.testing.assert_allclose(got, a.grad.numpy(), atol=1e-12)


def test_ctc_second_derivative_by_central_differences():
    # torch has none (its double backward raises); chainrule's composite has one
    lp_in = cr.tensor(X[:4, :2], requires_grad=True)
    assert cr.autograd.gradgradcheck(
        lambda a: F(cr).ctc_loss(a.log_softmax(2), cr.tensor(PADDED[:2]), [4, 3], [3, 2]),
        (lp_in,))


def test_ctc_unbatched_lengths_as_tensors_and_float32():
    check(lambda m, a: F(m).ctc_loss(a.log_softmax(1), m.tensor(PADDED[0]), m.tensor(6),
                                     m.tensor(3), reduction="none"), X[:, 0])
    check(lambda m, a: F(m).ctc_loss(a.log_softmax(1), m.tensor(PADDED[:1]), [5], [3]),
          X[:, 0])
    check(lambda m, a: F(m).ctc_loss(a.log_softmax(2), m.tensor(PADDED.astype(np.int32)),
                                     m.tensor(IL), m.tensor(TL, dtype=m.int32)), X)
    out = check(lambda m, a: F(m).ctc_loss(a.float().log_softmax(2), m.tensor(PADDED), IL, TL),
                X, atol=1e-5, rtol=1e-5, grad=False)
    assert out[0].dtype == cr.float32


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_torch_ctc_loss_and_module(reduction):
    check(lambda m, a: m.ctc_loss(a.log_softmax(2), m.tensor(PADDED), IL, TL, 0, reduction,
                                  False), X)
    name = ("none", "mean", "sum")[reduction]
    check(lambda m, a: m.nn.CTCLoss(blank=0, reduction=name, zero_infinity=True)(
        a.log_softmax(2), m.tensor(CONCAT), IL, TL), X)
    assert repr(cr.nn.CTCLoss()) == "CTCLoss()"
    with pytest.raises(TypeError):
        cr.ctc_loss(cr.tensor(X), cr.tensor(PADDED), IL, TL, 0, "mean", False)


CTC_ERRORS = [
    (dict(blank=4), RuntimeError, "blank must be in label range"),
    (dict(blank=-1), RuntimeError, "blank must be in label range"),
    (dict(il=[6, 5]), RuntimeError, "input_lengths must be of size batch_size"),
    (dict(tl=[3, 2]), RuntimeError, "target_lengths must be of size batch_size"),
    (dict(il=[7, 5, 4]), RuntimeError, "Expected input_lengths to have value at most 6, but "
                                       "got value 7"),
    (dict(il=[-1, 5, 4]), RuntimeError, "Expected input_lengths to have value at least 0"),
    (dict(tl=[4, 2, 1]), RuntimeError, "Expected tensor to have size at least 4 at dimension 1"),
    (dict(tl=[-1, 2, 1]), RuntimeError, "Expected target_lengths to have value at least 0"),
    (dict(tg=CONCAT[:4]), RuntimeError, "Expected tensor to have size 6 at dimension 0, but got "
                                        "size 4 for argument #2 'targets'"),
    (dict(tg=PADDED[None]), RuntimeError, "Expected 1 to 2 dimensions, but got 3-dimensional"),
    (dict(tg=PADDED[:2]), RuntimeError, "Expected tensor to have size 3 at dimension 0"),
    (dict(x=X[None]), RuntimeError, "Expected 3-dimensional tensor, but got 5-dimensional"),
    (dict(x=X[:, :0], tg=PADDED[:0], il=[], tl=[]), RuntimeError,
     "log_probs tensor must not be empty"),
    (dict(x=X.astype(np.float16)), NotImplementedError, "\"ctc_loss_cpu\" not implemented for "
                                                        "'Half'"),
    (dict(il=np.array([6.0, 5, 4]), tl=np.array(TL)), RuntimeError,
     "input_lengths must be integral"),
    (dict(il=np.array(IL), tl=np.array([3.0, 2, 1])), RuntimeError,
     "target_lengths must be integral"),
    (dict(il=np.array(IL)), TypeError, None),
    (dict(il=6, tl=3), TypeError, None),
    (dict(reduction="batchmean"), ValueError, "batchmean is not a valid value for reduction"),
]


@pytest.mark.parametrize("kw,exc,msg", CTC_ERRORS)
def test_ctc_errors_as_torch(kw, exc, msg):
    kw = dict(kw)
    libs = [cr] + ([torch] if torch is not None else [])
    for m in libs:
        def arg(v):
            return m.tensor(v) if isinstance(v, np.ndarray) else v
        a = m.tensor(kw.get("x", X))
        tg = m.tensor(kw.get("tg", PADDED))
        extra = {k: v for k, v in kw.items() if k in ("blank", "reduction")}
        with pytest.raises(exc, match=None if msg is None else msg.replace("(", r"\(")
                           .replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
            F(m).ctc_loss(a, tg, arg(kw.get("il", IL)), arg(kw.get("tl", TL)), **extra)


def test_ctc_label_out_of_range_is_a_clear_error():
    # torch reads out of bounds here (garbage values); chainrule refuses
    with pytest.raises(RuntimeError, match="target label 9 is out of range for 4 classes"):
        F(cr).ctc_loss(cr.tensor(X), cr.tensor(PADDED + np.array([[8, 0, 0]] * 3)), IL, TL)


# =========================================================================================
# linear_cross_entropy
# =========================================================================================

XI, W = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
TGT = np.array([0, 3, 1, 1, 2])


@pytest.mark.parametrize("reduction", R)
def test_linear_cross_entropy_class_indices(reduction):
    check(lambda m, a, w: F(m).linear_cross_entropy(a, w, m.tensor(TGT), reduction=reduction),
          XI, W, second=True)
    cw = rng.uniform(0.5, 2, 4)
    check(lambda m, a, w, b: F(m).linear_cross_entropy(
        a, w, m.tensor([0, -100, 1, 3, 1]), linear_bias=b, weight=m.tensor(cw),
        reduction=reduction, label_smoothing=0.2), XI, W, rng.standard_normal(4))
    check(lambda m, a, w: F(m).linear_cross_entropy(a, w, m.tensor(3), ignore_index=1,
                                                    reduction=reduction), XI[0], W)


@pytest.mark.parametrize("reduction", R)
def test_linear_cross_entropy_probabilities_and_k_dims(reduction):
    probs = _log_softmax(rng.standard_normal((5, 4)))
    check(lambda m, a, w, p: F(m).linear_cross_entropy(a, w, p.exp(), reduction=reduction),
          XI, W, probs)
    wk = rng.standard_normal((4, 2, 3, 3))
    tk = rng.integers(0, 4, (5, 2, 3))
    check(lambda m, a, w, b: F(m).linear_cross_entropy(a, w, m.tensor(tk), linear_bias=b,
                                                       reduction=reduction),
          XI, wk, rng.standard_normal((4, 2, 3)))


def test_linear_cross_entropy_errors_and_options_warning():
    libs = [cr] + ([torch] if torch is not None else [])
    cases = [
        ((rng.standard_normal((2, 2, 3)), W, TGT[:2]), {}, "expected input with dimensionality "
                                                           "1 or 2, got 3"),
        ((XI, W[0], TGT), {}, "expected linear_weight with dimensionality at least 2, got 1"),
        ((XI, W[:, :2], TGT), {}, "expected equal input and linear_weight last dimensions"),
        ((XI, W, TGT), dict(linear_bias=np.zeros(3)), r"expected linear_bias shape \(4,\), got "
                                                       r"\(3,\)"),
        ((XI[0], np.zeros((4, 2, 3)), TGT[0]), {}, "K-dimensional loss defined by linear_weight"),
        ((XI, W, np.full((5, 4), 0.25)), dict(ignore_index=0), "ignore_index cannot be specified"),
    ]
    for m in libs:
        for args, kw, msg in cases:
            kw = {k: m.tensor(v) for k, v in kw.items() if isinstance(v, np.ndarray)} | \
                {k: v for k, v in kw.items() if not isinstance(v, np.ndarray)}
            with pytest.raises(RuntimeError, match=msg):
                F(m).linear_cross_entropy(*(m.tensor(a) for a in args), **kw)
        opts = m.nn.LinearCrossEntropyOptions()
        with pytest.warns(UserWarning, match="linear_cross_entropy: ``options`` ignored"):
            F(m).linear_cross_entropy(m.tensor(XI), m.tensor(W), m.tensor(TGT),
                                      label_smoothing=0.1, options=opts)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = F(m).linear_cross_entropy(m.tensor(XI), m.tensor(W), m.tensor(TGT),
                                          options=opts)
        np.testing.assert_allclose(a.item(), F(m).cross_entropy(
            m.tensor(XI) @ m.tensor(W).T, m.tensor(TGT)).item(), rtol=1e-12)
        with pytest.raises(ValueError, match="give different chunk sizes"):
            F(m).linear_cross_entropy(m.tensor(XI), m.tensor(W), m.tensor(TGT), options=m.nn.
                                      LinearCrossEntropyOptions(batch_chunk_size=3,
                                                                chunking_method="aspect_ratio"))


def test_linear_cross_entropy_options_validation():
    O = cr.nn.LinearCrossEntropyOptions
    for kw, msg in [(dict(acc_policy="fast"), "invalid acc_policy: 'fast'"),
                    (dict(chunking_method="aspect_ratio:0"), "invalid chunking_method"),
                    (dict(chunking_method="rows"), "invalid chunking_method: 'rows'"),
                    (dict(batch_chunk_size=0), "batch_chunk_size must be positive int or None"),
                    (dict(acc_dtype=cr.int64), "acc_dtype must be one of")]:
        with pytest.raises(ValueError, match=msg):
            O(**kw)
    o = O(chunking_method="aspect_ratio:4", acc_policy="balanced")
    adj = o._adjust(1000, 64, 50000, cr.float32)
    # next_pow2(ceil(1000 / ceil(50000 / 64))) // 4, capped by the batch
    assert adj.batch_chunk_size == max(1, (1 << (math.ceil(1000 / math.ceil(50000 / 64)) - 1)
                                           .bit_length()) // 4)
    assert adj.acc_dtype == cr.float32 and adj.acc_policy == "balanced"
    with pytest.raises(Exception):
        o.acc_policy = "compact"                              # frozen, as torch's dataclass
    if torch is not None:
        t = torch.nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:4",
                                               acc_policy="balanced")
        assert t._adjust(1000, 64, 50000, torch.float32).batch_chunk_size == adj.batch_chunk_size
        assert repr(O()) == repr(torch.nn.LinearCrossEntropyOptions())


@needs_torch
@pytest.mark.parametrize("kw", [{}, dict(bias=True, out_features=(2,), reduction="sum"),
                                dict(weight="w", label_smoothing=0.1, ignore_index=2)])
def test_linear_cross_entropy_module_matches_torch(kw):
    kw = dict(kw)
    cw = rng.uniform(0.5, 2, 4)
    mods = {}
    for m in (cr, torch):
        k = {**kw, **({"weight": m.tensor(cw)} if kw.get("weight") else {})}
        m.manual_seed(0)
        mods[m] = m.nn.LinearCrossEntropyLoss(3, 4, dtype=m.float64, **k)
    mods[cr].load_state_dict({k: cr.tensor(v.numpy()) for k, v in
                              mods[torch].state_dict().items()})
    assert list(mods[cr].state_dict()) == list(mods[torch].state_dict())
    assert repr(mods[cr]) == repr(mods[torch])
    tgt = rng.integers(0, 4, (5, 2)) if kw.get("out_features") else TGT
    res = {}
    for m, mod in mods.items():
        a = m.tensor(XI, requires_grad=True)
        loss = mod(a, m.tensor(tgt))
        loss.sum().backward()
        res[m] = [loss.detach().numpy(), a.grad.numpy(), mod.linear.weight.grad.numpy()]
    for got, want in zip(res[cr], res[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for m in (cr, torch):
        with pytest.raises(RuntimeError, match=r"expected weight shape to be \(4,\), got \(3,\)"):
            m.nn.LinearCrossEntropyLoss(3, 4, weight=m.ones(3))
        with pytest.raises(RuntimeError, match="expected label_smoothing to be in range"):
            m.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5)


# =========================================================================================
# NLLLoss2d, AdaptiveLogSoftmaxWithLoss
# =========================================================================================

def test_nll_loss_2d_is_deprecated_nll_loss():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        loss = cr.nn.NLLLoss2d(ignore_index=1)
    assert isinstance(loss, cr.nn.NLLLoss)
    lp = _log_softmax(rng.standard_normal((2, 3, 4, 4)), 1)
    tg = rng.integers(0, 3, (2, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda m, a: m.nn.NLLLoss2d(ignore_index=1)(a, m.tensor(tg)), lp)


def _asm_pair(**kw):
    mods = {}
    for m in (cr, torch):
        mods[m] = m.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], dtype=m.float64, **kw)
    mods[cr].load_state_dict({k: cr.tensor(v.numpy()) for k, v in
                              mods[torch].state_dict().items()})
    return mods


@needs_torch
@pytest.mark.parametrize("kw", [{}, dict(div_value=2.0, head_bias=True)])
def test_adaptive_log_softmax_matches_torch(kw):
    mods = _asm_pair(**kw)
    assert list(mods[cr].state_dict()) == list(mods[torch].state_dict())
    assert repr(mods[cr]) == repr(mods[torch])
    xa = rng.standard_normal((6, 8)) * 3
    tg = np.array([0, 11, 4, 2, 7, 5])
    res = {}
    for m, mod in mods.items():
        a = m.tensor(xa, requires_grad=True)
        out = mod(a, m.tensor(tg))
        assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
        (out.output * m.arange(6.0, dtype=m.float64)).sum().add(out.loss).backward()
        res[m] = [out.output.detach().numpy(), out.loss.detach().numpy(), a.grad.numpy()] + \
            [p.grad.numpy() for p in mod.parameters()] + \
            [mod.log_prob(m.tensor(xa)).detach().numpy(), mod.predict(m.tensor(xa)).numpy()]
        one = mod(m.tensor(xa[0]), m.tensor(tg[0]))
        res[m] += [one.output.detach().numpy(), one.loss.detach().numpy()]
    for got, want in zip(res[cr], res[torch]):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert np.allclose(np.exp(res[cr][-4]).sum(1), 1)


@needs_torch
def test_adaptive_log_softmax_predict_every_branch():
    mods = _asm_pair(head_bias=True)
    for bias in ([0.0] * 5, [9.0] * 3 + [0.0] * 2, [0.0] * 3 + [9.0] * 2,
                 [9.0, 0, 0, 9.0, 0.0]):
        xs = rng.standard_normal((7, 8))
        for m, mod in mods.items():
            with m.no_grad():
                mod.head.bias.copy_(m.tensor(bias, dtype=m.float64))
        got = mods[cr].predict(cr.tensor(xs)).numpy()
        assert (got == mods[torch].predict(torch.tensor(xs)).numpy()).all()
        assert (got == mods[cr].log_prob(cr.tensor(xs)).argmax(1).numpy()).all()


def test_adaptive_log_softmax_errors():
    libs = [cr] + ([torch] if torch is not None else [])
    for m in libs:
        A = m.nn.AdaptiveLogSoftmaxWithLoss
        with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger"):
            A(4, 10, [])
        for bad in ([5, 3], [0, 3], [3, 10], [3, 3], [2.5]):
            with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
                A(4, 10, bad)
        mod = A(4, 10, [3])
        for args, msg in [((m.zeros(3, 4), m.tensor([1, 2])), "same size in the batch"),
                          ((m.zeros(2, 2, 4), m.tensor([1, 2])), "1D target tensor expects 2D"),
                          ((m.zeros(2, 4), m.tensor(1)), "0D target tensor expects 1D"),
                          ((m.zeros(2, 4), m.zeros(2, 2, dtype=m.long)), "multi-target not"),
                          ((m.zeros(2, 4), m.tensor([1, 10])),
                           r"Target values should be in \[0, 9\], but values in range \[1, 10\]")]:
            with pytest.raises(RuntimeError, match=msg):
                mod(*args)


# =========================================================================================
# Every loss torch has
# =========================================================================================

@needs_torch
def test_every_torch_loss_exists():
    missing = [n for n in dir(torch.nn) if n.endswith("Loss") and not hasattr(cr.nn, n)]
    missing += [n for n in dir(torch.nn.functional) if n.endswith("loss") and not n.startswith("_")
                and not hasattr(cr.nn.functional, n)]
    missing += [n for n in dir(torch) if n.endswith("_loss") and not n.startswith("_")
                and "cudnn" not in n and "miopen" not in n and not hasattr(cr, n)]
    missing += [n for n in ("LinearCrossEntropyOptions", "LinearCrossEntropyLoss",
                            "NLLLoss2d", "AdaptiveLogSoftmaxWithLoss") if not hasattr(cr.nn, n)]
    assert not missing, missing
    assert hasattr(cr.nn.functional, "linear_cross_entropy")
