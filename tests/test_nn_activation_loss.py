"""nn.functional's activations and losses, and their modules.

- every function and every reduction against central differences (gradcheck, float64);
- against PyTorch, forward values and the gradients of every floating input, in float32 and
  float64, on ordinary values and on the extremes: logits ±1000, probabilities 0 and 1, ties,
  ignore_index, label smoothing with class weights, class-probability targets (skipped without
  torch);
- PyTorch's recorded behaviour (shared/reference/torch_behaviour.json, cases 76 and 78-81) as
  literals, the error texts, warnings and module reprs.
"""
import math
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck

try:
    import torch
    import torch.nn.functional as TF
except ImportError:                     # the rest of the file still runs
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

REDUCTIONS = ["mean", "sum", "none"]


def _f64(values, requires_grad=True):
    return cr.tensor(np.asarray(values, dtype=np.float64), dtype=cr.float64,
                     requires_grad=requires_grad)


def _rng(seed=0):
    return np.random.default_rng(seed)


# =========================================================================================
# Central differences (float64)
# =========================================================================================

X_SMOOTH = [-2.3, -0.7, -0.15, 0.2, 0.9, 1.7]       # away from every kink


@pytest.mark.parametrize("fn", [
    lambda x: F.relu(x), lambda x: F.leaky_relu(x), lambda x: F.leaky_relu(x, 0.2),
    lambda x: F.elu(x), lambda x: F.elu(x, 0.5), lambda x: F.gelu(x),
    lambda x: F.gelu(x, approximate="tanh"), lambda x: F.silu(x), lambda x: F.sigmoid(x),
    lambda x: F.tanh(x), lambda x: F.softplus(x), lambda x: F.softplus(x, 2.0, 1.0),
    lambda x: F.logsigmoid(x), lambda x: F.hardtanh(x), lambda x: F.hardtanh(x, -0.5, 2.0),
    lambda x: F.relu6(x * 4), lambda x: F.softmax(x.reshape(2, 3), 1),
    lambda x: F.log_softmax(x.reshape(2, 3), dim=0)],
    ids=["relu", "leaky_relu", "leaky_relu_0.2", "elu", "elu_0.5", "gelu", "gelu_tanh", "silu",
         "sigmoid", "tanh", "softplus", "softplus_beta_threshold", "logsigmoid", "hardtanh",
         "hardtanh_bounds", "relu6", "softmax", "log_softmax"])
def test_activations_pass_gradcheck(fn):
    x = _f64(X_SMOOTH)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [F.gelu, F.softplus, F.logsigmoid, F.elu, F.silu,
                                lambda x: F.gelu(x, approximate="tanh")])
def test_activations_second_derivatives(fn):
    assert gradgradcheck(fn, (_f64(X_SMOOTH),))


def _regression_inputs():
    rng = _rng(1)
    x = rng.uniform(-2, 2, (3, 4))
    t = x + rng.choice([-1.7, -0.6, -0.2, 0.3, 0.8, 2.4], (3, 4))   # |d| away from beta, delta
    return _f64(x), _f64(t), _f64(rng.uniform(0.5, 1.5, (3, 4)), requires_grad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", [
    lambda x, t, r, w: F.mse_loss(x, t, reduction=r),
    lambda x, t, r, w: F.mse_loss(x, t, reduction=r, weight=w),
    lambda x, t, r, w: F.l1_loss(x, t, reduction=r),
    lambda x, t, r, w: F.l1_loss(x, t, reduction=r, weight=w),
    lambda x, t, r, w: F.smooth_l1_loss(x, t, reduction=r),
    lambda x, t, r, w: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
    lambda x, t, r, w: F.smooth_l1_loss(x, t, reduction=r, beta=0.0),
    lambda x, t, r, w: F.huber_loss(x, t, reduction=r),
    lambda x, t, r, w: F.huber_loss(x, t, reduction=r, delta=2.0, weight=w)],
    ids=["mse", "mse_weight", "l1", "l1_weight", "smooth_l1", "smooth_l1_beta", "smooth_l1_0",
         "huber", "huber_delta_weight"])
def test_regression_losses_pass_gradcheck(loss, reduction):
    x, t, w = _regression_inputs()
    assert gradcheck(lambda a, b: loss(a, b, reduction, w), (x, t))


def _class_inputs(shape=(4, 3), seed=2):
    rng = _rng(seed)
    x = _f64(rng.normal(size=shape))
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = cr.tensor(rng.integers(0, n_classes, tshape))
    return x, t, rng


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"weight": [0.2, 1.0, 3.0]}, {"label_smoothing": 0.2},
                                    {"weight": [0.2, 1.0, 3.0], "label_smoothing": 0.3}],
                         ids=["plain", "weight", "smoothing", "weight_smoothing"])
def test_cross_entropy_and_nll_pass_gradcheck(kwargs, reduction):
    x, t, _ = _class_inputs()
    t = cr.tensor([0, -100, 2, 1])                   # one ignored target
    kw = dict(kwargs)
    if "weight" in kw:
        kw["weight"] = _f64(kw["weight"], requires_grad=False)
    assert gradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction, **kw), (x,))
    kw.pop("label_smoothing", None)
    assert gradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), t, reduction=reduction, **kw),
                     (x,))


def test_cross_entropy_second_derivatives():
    x, t, _ = _class_inputs()
    w = _f64([0.2, 1.0, 3.0], requires_grad=False)
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.2), (x,))
    p = _f64(_rng(5).uniform(0.05, 0.95, (2, 3)))
    assert gradgradcheck(lambda a: F.binary_cross_entropy(a, p.detach() * 0 + 0.3), (p,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_probabilities_pass_gradcheck(reduction):
    x, t, rng = _class_inputs((2, 3, 2, 2))
    assert gradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction), (x,))
    p = _f64(rng.dirichlet(np.ones(3), (2, 2, 2)).transpose(0, 3, 1, 2))
    w = _f64([0.5, 1.0, 2.0], requires_grad=False)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, reduction=reduction,
                                                  label_smoothing=0.1), (x, p))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_pass_gradcheck(reduction):
    rng = _rng(3)
    p = _f64(rng.uniform(0.05, 0.95, (2, 3)))
    y = _f64(rng.uniform(0, 1, (2, 3)))
    w = _f64(rng.uniform(0.5, 1.5, (3,)), requires_grad=False)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
                     (p, y))
    z = _f64(rng.normal(size=(2, 3)) * 3)
    pw = _f64(rng.uniform(0.5, 2.0, (3,)), requires_grad=False)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=w, pos_weight=pw, reduction=reduction), (z, y))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_passes_gradcheck(reduction, log_target):
    rng = _rng(4)
    logq = _f64(np.log(rng.dirichlet(np.ones(4), 3)))
    p = rng.dirichlet(np.ones(4), 3)
    target = _f64(np.log(p) if log_target else p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # 'mean' warns, as torch
        assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                         (logq, target))


def test_erf_matches_math_erf():
    from chainrule import ops
    _erf = ops.erf.forward           # the primitive lives in ops/nn.py
    x = np.concatenate([np.linspace(-9, 9, 20001), [0.0, -0.0, 1.0, -1.0, 8.0, 40.0, 1e-300]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(_erf(x), expected, rtol=1e-15, atol=3e-16)
    with np.errstate(all="ignore"):
        edge = _erf(np.array([np.inf, -np.inf, np.nan]))
    np.testing.assert_array_equal(edge, [1.0, -1.0, np.nan])
    assert _erf(np.float32([0.5])).dtype == np.float32


# =========================================================================================
# Against PyTorch
# =========================================================================================

def _np(t):
    return t.detach().numpy()


def _both(values, dtype, requires_grad=True):
    a = np.asarray(values)
    if a.dtype.kind in "iub":
        return cr.tensor(a), torch.tensor(a)
    return (cr.tensor(a, dtype=getattr(cr, dtype), requires_grad=requires_grad),
            torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=requires_grad))


def _close(got, want, what, dtype):
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, torch {want.dtype}"
    if dtype == "float64":
        tol = dict(rtol=1e-10, atol=1e-12)
    else:
        scale = float(np.max(np.abs(want[np.isfinite(want)]), initial=1.0))
        tol = dict(rtol=2e-5, atol=2e-6 * scale)
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=what, **tol)


def _against_torch(call, args, dtype="float64", what="", seed=0):
    """call(F_module, *args) on chainrule and on torch with the same values: the outputs, then
    the gradient of sum(w * out) w.r.t. every floating input that torch can differentiate."""
    pairs = [_both(a, dtype) if a is not None else (None, None) for a in args]
    c_args = [p[0] for p in pairs]
    t_args = [p[1] for p in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = call(TF, *t_args)
        c_out = call(F, *c_args)
    assert isinstance(c_out, cr.Tensor)
    _close(_np(c_out), _np(t_out), f"{what}: forward", dtype)
    if not t_out.requires_grad:
        return
    w = _rng(seed).uniform(0.5, 1.5, tuple(t_out.shape))
    t_in = [(i, a) for i, a in enumerate(t_args) if a is not None and a.requires_grad]
    t_grads = torch.autograd.grad((t_out * torch.tensor(w, dtype=t_out.dtype)).sum(),
                                  [a for _, a in t_in], allow_unused=True)
    c_grads = cr.autograd.grad((c_out * cr.tensor(w, dtype=c_out.dtype)).sum(),
                               [c_args[i] for i, _ in t_in], allow_unused=True)
    for (i, _), gc, gt in zip(t_in, c_grads, t_grads):
        if gt is None:
            assert gc is None or not np.any(_np(gc)), f"{what}: input {i} gets a gradient"
            continue
        _close(_np(gc), _np(gt), f"{what}: gradient of input {i}", dtype)


EXTREMES = [-1000.0, -104.0, -30.0, -20.5, -19.5, -1.0, -1e-3, 0.0, 1e-3, 1.0, 6.0, 19.5, 20.5,
            30.0, 88.0, 1000.0]

ACTIVATIONS = [
    ("relu", lambda m, x: m.relu(x)), ("leaky_relu", lambda m, x: m.leaky_relu(x)),
    ("leaky_relu(0.2)", lambda m, x: m.leaky_relu(x, 0.2)), ("elu", lambda m, x: m.elu(x)),
    ("elu(alpha=0.5)", lambda m, x: m.elu(x, alpha=0.5)), ("gelu", lambda m, x: m.gelu(x)),
    ("gelu(tanh)", lambda m, x: m.gelu(x, approximate="tanh")), ("silu", lambda m, x: m.silu(x)),
    ("sigmoid", lambda m, x: m.sigmoid(x)), ("tanh", lambda m, x: m.tanh(x)),
    ("softplus", lambda m, x: m.softplus(x)),
    ("softplus(2, 10)", lambda m, x: m.softplus(x, beta=2.0, threshold=10.0)),
    ("softplus(0.5, 5)", lambda m, x: m.softplus(x, 0.5, 5.0)),
    ("logsigmoid", lambda m, x: m.logsigmoid(x)), ("hardtanh", lambda m, x: m.hardtanh(x)),
    ("hardtanh(-2, 6)", lambda m, x: m.hardtanh(x, -2.0, 6.0)), ("relu6", lambda m, x: m.relu6(x)),
    ("softmax", lambda m, x: m.softmax(x.reshape(4, -1), dim=1)),
    ("log_softmax", lambda m, x: m.log_softmax(x.reshape(4, -1), dim=0)),
    ("softmax(dtype)", lambda m, x: m.softmax(x, 0, dtype=getattr(
        cr if m is F else torch, "float64"))),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,call", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_torch(name, call, dtype):
    x = np.array(EXTREMES + list(_rng(5).normal(size=16) * 3))
    _against_torch(call, [x], dtype, name)


@needs_torch
@pytest.mark.parametrize("name,call", ACTIVATIONS[:-3], ids=[a[0] for a in ACTIVATIONS[:-3]])
def test_activations_match_torch_at_inf_and_nan(name, call):
    _against_torch(call, [np.array([-np.inf, np.inf, np.nan, 0.0])], "float64", name)


def _regression_values(seed=6):
    rng = _rng(seed)
    x = rng.normal(size=(4, 5)) * 2
    t = x + rng.choice([-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.0], (4, 5))   # ties and kinks
    return x, t, rng.uniform(0.5, 1.5, (4, 5))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,call", [
    ("mse", lambda m, x, t, w, r: m.mse_loss(x, t, reduction=r)),
    ("mse_weight", lambda m, x, t, w, r: m.mse_loss(x, t, reduction=r, weight=w)),
    ("l1", lambda m, x, t, w, r: m.l1_loss(x, t, reduction=r)),
    ("l1_weight", lambda m, x, t, w, r: m.l1_loss(x, t, reduction=r, weight=w)),
    ("smooth_l1", lambda m, x, t, w, r: m.smooth_l1_loss(x, t, reduction=r)),
    ("smooth_l1_beta", lambda m, x, t, w, r: m.smooth_l1_loss(x, t, reduction=r, beta=0.5)),
    ("smooth_l1_0", lambda m, x, t, w, r: m.smooth_l1_loss(x, t, reduction=r, beta=0.0)),
    ("huber", lambda m, x, t, w, r: m.huber_loss(x, t, reduction=r)),
    ("huber_delta", lambda m, x, t, w, r: m.huber_loss(x, t, reduction=r, delta=0.5)),
    ("huber_weight", lambda m, x, t, w, r: m.huber_loss(x, t, reduction=r, delta=2.0, weight=w)),
    ("mse_broadcast", lambda m, x, t, w, r: m.mse_loss(x, t[0], reduction=r)),
])
def test_regression_losses_match_torch(name, call, reduction, dtype):
    x, t, w = _regression_values()
    _against_torch(lambda m, a, b, c: call(m, a, b, c, reduction), [x, t, w], dtype, name)


CE_CASES = [
    # (name, input shape, target, kwargs)
    ("plain", (5, 4), [0, 3, 1, 1, 2], {}),
    ("ignore_index", (5, 4), [0, -100, 1, -100, 2], {}),
    ("custom_ignore_index", (5, 4), [0, 1, 1, 3, 2], {"ignore_index": 1}),
    ("weight", (5, 4), [0, 3, 1, 1, 2], {"weight": [0.3, 1.0, 2.0, 0.7]}),
    ("weight_ignore", (5, 4), [0, -100, 3, 3, 2], {"weight": [0.3, 1.0, 2.0, 0.7]}),
    ("smoothing", (5, 4), [0, -100, 1, 1, 2], {"label_smoothing": 0.15}),
    ("smoothing_weight", (5, 4), [0, -100, 3, 1, 2],
     {"label_smoothing": 0.25, "weight": [0.3, 1.0, 2.0, 0.7]}),
    ("all_ignored", (2, 4), [-100, -100], {}),
    ("spatial_2d", (2, 3, 4, 2), "random", {"weight": [0.5, 1.0, 2.0]}),
    ("spatial_1d", (2, 3, 5), "random", {"label_smoothing": 0.1}),
    ("spatial_3d", (2, 3, 2, 2, 2), "random", {"ignore_index": 0}),
    ("unbatched", (4,), 2, {"label_smoothing": 0.2, "weight": [0.3, 1.0, 2.0, 0.7]}),
    ("probabilities", (5, 4), "probs", {}),
    ("probabilities_weight_smoothing", (5, 4), "probs",
     {"weight": [0.3, 1.0, 2.0, 0.7], "label_smoothing": 0.3}),
    ("probabilities_spatial", (2, 3, 4), "probs", {"weight": [0.3, 1.0, 2.0]}),
    ("probabilities_unbatched", (4,), "probs", {}),
]


def _ce_args(shape, target, kwargs, seed=7):
    rng = _rng(seed)
    x = rng.normal(size=shape) * 2
    class_dim = 1 if len(shape) > 1 else 0
    if target == "random":
        t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    elif target == "probs":
        t = np.moveaxis(rng.dirichlet(np.ones(shape[class_dim]), shape[:class_dim] +
                                      shape[class_dim + 1:]), -1, class_dim)
    else:
        t = np.array(target)
    w = kwargs.get("weight")
    rest = {k: v for k, v in kwargs.items() if k != "weight"}
    return x, t, (None if w is None else np.array(w)), rest


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,shape,target,kwargs", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_matches_torch(name, shape, target, kwargs, reduction, dtype):
    x, t, w, rest = _ce_args(shape, target, kwargs)

    def call(m, a, b, c):
        if c is not None:
            c = c.detach()                      # class weights are constants in torch
        return m.cross_entropy(a, b, weight=c, reduction=reduction, **rest)
    _against_torch(call, [x, t, w], dtype, name)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,shape,target,kwargs",
                         [c for c in CE_CASES if c[2] != "probs" and "label_smoothing" not in
                          c[3]], ids=lambda v: v if isinstance(v, str) else None)
def test_nll_loss_matches_torch(name, shape, target, kwargs, reduction):
    x, t, w, rest = _ce_args(shape, target, kwargs)
    x = x - np.log(np.exp(x).sum(axis=1 if len(shape) > 1 else 0, keepdims=True))

    def call(m, a, b, c):
        return m.nll_loss(a, b, weight=None if c is None else c.detach(), reduction=reduction,
                          **rest)
    _against_torch(call, [x, t, w], "float64", name)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_and_ties_match_torch(reduction, dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1e4, 1e4, -1e4],
                  [0.0, 0.0, 0.0], [-500.0, 500.0, 500.0]])
    t = np.array([1, 0, 2, 1, 0])
    _against_torch(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction), [x, t], dtype)
    _against_torch(lambda m, a, b, c: m.cross_entropy(a, b, c.detach(), reduction=reduction,
                                                      label_smoothing=0.1),
                   [x, t, np.array([1.0, 2.0, 0.5])], dtype)
    p = np.array([[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0],
                  [0.2, 0.3, 0.5]])
    _against_torch(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction), [x, p], dtype)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch_at_0_and_1(reduction, dtype):
    p = np.array([[0.0, 1.0, 0.0, 1.0, 0.3, 1e-9], [0.5, 0.999, 1e-30, 0.7, 0.2, 1 - 1e-7]])
    y = np.array([[1.0, 0.0, 0.0, 1.0, 0.3, 0.5], [0.5, 1.0, 1.0, 0.0, 0.9, 0.25]])
    # the target's gradient is -logit(p): ±inf at p = 0, 1 (torch), checked away from them
    inner = (slice(None), slice(4, None))
    _against_torch(lambda m, a, b: m.binary_cross_entropy(a, b.detach(), reduction=reduction),
                   [p, y], dtype)
    _against_torch(lambda m, a, b: m.binary_cross_entropy(a, b, reduction=reduction),
                   [p[inner], y[inner]], dtype)
    w = np.array([0.5, 2.0, 1.0, 1.5, 0.1, 3.0])
    _against_torch(lambda m, a, b, c: m.binary_cross_entropy(a, b.detach(), c.detach(),
                                                             reduction=reduction),
                   [p, y, w], dtype)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(reduction, dtype):
    z = np.array([[1000.0, -1000.0, 0.0, 30.0, -30.0, 2.5], [-2.0, 1e4, -1e4, 0.5, 88.0, -104.0]])
    y = np.array([[0.0, 1.0, 0.5, 1.0, 0.0, 0.3], [1.0, 0.0, 1.0, 0.25, 1.0, 0.0]])
    pw = np.array([0.5, 1.0, 2.0, 3.0, 0.1, 1.5])
    w = np.array([[1.0], [0.5]])
    for call in [
        lambda m, a, b, c, d: m.binary_cross_entropy_with_logits(a, b, reduction=reduction),
        lambda m, a, b, c, d: m.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                                 pos_weight=c.detach()),
        lambda m, a, b, c, d: m.binary_cross_entropy_with_logits(
            a, b, d.detach(), reduction=reduction, pos_weight=c.detach())]:
        _against_torch(call, [z, y, pw, w], dtype)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target, dtype):
    rng = _rng(8)
    logq = np.log(rng.dirichlet(np.ones(4), 3))
    p = rng.dirichlet(np.ones(4), 3)
    p[0, 1] = 0.0                           # xlogy(0, 0) = 0; the target's gradient is NaN there
    target = np.log(p + 1e-3) if log_target else p
    _against_torch(lambda m, a, b: m.kl_div(a, b, reduction=reduction, log_target=log_target),
                   [logq, target], dtype)
    _against_torch(lambda m, a, b: m.kl_div(a, b, reduction=reduction, log_target=log_target),
                   [np.float64(-0.3), np.float64(0.4)], dtype)     # 0-d: batchmean is sum


# =========================================================================================
# Modules: reprs and forwards as torch's
# =========================================================================================

MODULES = [
    "ReLU()", "ReLU(inplace=True)", "LeakyReLU()", "LeakyReLU(0.2, True)", "ELU()",
    "ELU(alpha=0.5, inplace=True)", "GELU()", "GELU(approximate='tanh')", "SiLU()",
    "SiLU(inplace=True)", "Sigmoid()", "Tanh()", "Softplus()", "Softplus(beta=2, threshold=10)",
    "LogSigmoid()", "Hardtanh()", "Hardtanh(-2.0, 2.0, True)", "ReLU6()", "ReLU6(inplace=True)",
    "Softmax()", "Softmax(dim=1)", "LogSoftmax(dim=-1)",
    "MSELoss()", "L1Loss(reduction='sum')", "SmoothL1Loss(beta=0.5)", "HuberLoss(delta=2.0)",
    "NLLLoss(ignore_index=1)", "CrossEntropyLoss(label_smoothing=0.1)", "BCELoss()",
    "BCEWithLogitsLoss()", "KLDivLoss(reduction='batchmean', log_target=True)",
]


@needs_torch
@pytest.mark.parametrize("expr", MODULES)
def test_module_repr_is_torch(expr):
    assert repr(eval(expr, {}, vars(cr.nn))) == repr(eval(expr, {}, vars(torch.nn)))


@needs_torch
def test_module_attributes_and_buffers_are_torch():
    for expr in ["CrossEntropyLoss(weight=m.ones(3), label_smoothing=0.1)", "NLLLoss()",
                 "BCEWithLogitsLoss(pos_weight=m.ones(2))", "BCELoss(weight=m.ones(2))",
                 "KLDivLoss(log_target=True)", "Hardtanh(-2.0, 2.0)", "Softplus()"]:
        c = eval(expr.replace("m.", "cr."), {"cr": cr}, vars(cr.nn))
        t = eval(expr.replace("m.", "torch."), {"torch": torch}, vars(torch.nn))
        assert list(c.state_dict()) == list(t.state_dict()), expr
        for k, v in vars(t).items():
            if not k.startswith("_"):
                assert getattr(c, k) == v, (expr, k)


@needs_torch
@pytest.mark.parametrize("expr,target", [
    ("MSELoss()", "values"), ("L1Loss(reduction='none')", "values"),
    ("SmoothL1Loss(beta=0.5)", "values"), ("HuberLoss(delta=0.5)", "values"),
    ("CrossEntropyLoss(weight=m.tensor([0.2, 1.0, 3.0]), label_smoothing=0.1)", "classes"),
    ("NLLLoss(ignore_index=2, reduction='sum')", "classes"), ("BCELoss()", "probs"),
    ("BCEWithLogitsLoss(pos_weight=m.tensor([2.0, 1.0, 0.5]))", "probs"),
    ("KLDivLoss(reduction='batchmean')", "probs"),
])
def test_loss_modules_match_torch(expr, target):
    rng = _rng(9)
    x = rng.normal(size=(4, 3))
    if target == "classes":
        t = np.array([0, 2, 1, 2])
    elif target == "probs":
        t = rng.uniform(0, 1, (4, 3))
    else:
        t = rng.normal(size=(4, 3))
    if expr.startswith("BCELoss"):
        x = 1 / (1 + np.exp(-x))
    c = eval(expr.replace("m.", "cr."), {"cr": cr}, vars(cr.nn))
    tm = eval(expr.replace("m.", "torch."), {"torch": torch}, vars(torch.nn))
    _against_torch(lambda m, a, b: (c if m is F else tm)(a, b), [x, t], "float32", expr)


@needs_torch
@pytest.mark.parametrize("expr", [e for e in MODULES if "Loss" not in e])
def test_activation_modules_match_torch(expr):
    x = _rng(10).normal(size=(2, 3, 4)) * 3
    if "inplace=True" in expr or "True)" in expr:
        def call(m, a):
            return (eval(expr, {}, vars(cr.nn if m is F else torch.nn)))(a * 1.0)
    else:
        def call(m, a):
            return eval(expr, {}, vars(cr.nn if m is F else torch.nn))(a)
    _against_torch(call, [x], "float32", expr)


# =========================================================================================
# PyTorch 2.13's recorded behaviour (shared/reference/torch_behaviour.json), as literals
# =========================================================================================

def test_sigmoid_logsigmoid_extremes():  # case 76
    x = cr.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    s = cr.sigmoid(x)
    s.sum().backward()
    np.testing.assert_array_equal(_np(s), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(_np(x.grad), [0.0, 0.25, 0.0])
    out = F.logsigmoid(cr.tensor([-1000.0, 1000.0]))
    assert out.dtype == cr.float32
    np.testing.assert_array_equal(_np(out), [-1000.0, 0.0])


def test_cross_entropy_huge_logits():  # case 78
    logits = cr.tensor([[1000.0, -1000.0], [0.0, 0.0]], requires_grad=True)
    target = cr.tensor([1, 0])
    loss = F.cross_entropy(logits, target)
    loss.backward()
    assert loss.dtype == cr.float32 and loss.shape == () and loss.requires_grad
    np.testing.assert_allclose(loss.item(), 1000.3465576171875, rtol=1.3e-6)
    np.testing.assert_allclose(_np(logits.grad), [[0.5, -0.5], [-0.25, 0.25]], atol=1e-7)
    np.testing.assert_allclose(_np(F.cross_entropy(logits.detach(), target, reduction="none")),
                               [2000.0, 0.6931471824645996], rtol=1.3e-6)
    np.testing.assert_allclose(F.cross_entropy(logits.detach(), target, reduction="sum").item(),
                               2000.693115234375, rtol=1.3e-6)


def test_cross_entropy_bad_target():  # case 79
    logits = cr.randn(2, 3)
    with pytest.raises(IndexError, match=re.escape("Target 5 is out of bounds.")):
        F.cross_entropy(logits, cr.tensor([0, 5]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.cross_entropy(logits, cr.tensor([0.0, 1.0]))
    out = F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, -100]))
    np.testing.assert_allclose(out.item(), 1.0986123085021973, rtol=1.3e-6)
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not "
                                           "supported"):
        F.cross_entropy(logits, cr.tensor([[0], [1]]))


def test_bce_with_probabilities_0_1():  # case 80
    p = cr.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, cr.tensor([1.0, 0.0]))
    loss.backward()
    assert loss.requires_grad and loss.dtype == cr.float32
    assert loss.item() == 100.0
    np.testing.assert_allclose(_np(p.grad), [-499999997952.0, 499999997952.0], rtol=1.3e-6)
    out = F.binary_cross_entropy_with_logits(cr.tensor([1000.0, -1000.0]),
                                             cr.tensor([0.0, 1.0]))
    assert out.item() == 1000.0


def test_mse_loss_broadcast_warning():  # case 81
    with pytest.warns(UserWarning, match=re.escape(
            "Using a target size (chainrule.Size([3])) that is different to the input size "
            "(chainrule.Size([3, 1])). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.")) as record:
        out = F.mse_loss(cr.zeros(3, 1), cr.arange(3.0))
    assert record[0].filename == __file__              # points at the caller, as torch
    np.testing.assert_allclose(out.item(), 1.6666666269302368, rtol=1.3e-6)


# =========================================================================================
# Errors, warnings, dtypes, in-place
# =========================================================================================

@pytest.mark.parametrize("call,exc,text", [
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1, 2])), ValueError,
     "Expected input batch_size (2) to match target batch_size (3)."),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.zeros(2, 3, dtype=cr.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.rand(2, 3), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]), label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, -1])), IndexError,
     "Target -1 is out of bounds."),
    (lambda: F.cross_entropy(cr.randn(2, 3, 4, 5), cr.full((2, 4, 5), 7)), IndexError,
     "Target 7 is out of bounds."),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]), weight=cr.ones(2)),
     RuntimeError, "weight tensor should be defined either for all 3 classes or no classes but "
                   "got weight tensor of shape: [2]"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.rand(2, 3), weight=cr.ones(2)), RuntimeError,
     "cross_entropy: weight tensor should be defined either for all 3 classes or no classes but "
     "got weight tensor of shape: [2]"),
    (lambda: F.cross_entropy(cr.randn(2, 3, 4, 5), cr.zeros(2, 4, 4, dtype=cr.int64)),
     RuntimeError, "size mismatch (got input: [2, 3, 4, 5] , target: [2, 4, 4]"),
    (lambda: F.nll_loss(cr.randn(2, 3, 4, 5), cr.zeros(2, 4, dtype=cr.int64)), RuntimeError,
     "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2"),
    (lambda: F.cross_entropy(cr.randn(2, 3, 4), cr.zeros(2, 5, dtype=cr.int64)), RuntimeError,
     "Expected target size [2, 4], got [2, 5]"),
    (lambda: F.cross_entropy(cr.randn(2, 3, 4, 5, 6), cr.zeros(2, 4, 5, 7, dtype=cr.int64)),
     RuntimeError, "Expected target size [2, 4, 5, 6], got [2, 4, 5, 7]"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1], dtype=cr.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    (lambda: F.cross_entropy(cr.ones(2, 3, dtype=cr.int64), cr.tensor([0, 1])),
     NotImplementedError, '"log_softmax_lastdim_kernel_impl" not implemented for \'Long\''),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]), reduction="foo"), ValueError,
     "foo is not a valid value for reduction"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]),
                             weight=cr.ones(3, dtype=cr.float64)), RuntimeError,
     "expected scalar type Float but found Double"),
    (lambda: F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]),
                             weight=cr.ones(3, requires_grad=True)), RuntimeError,
     "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. "
     "This input cannot have requires_grad True."),
    (lambda: F.nll_loss(cr.tensor(1.0), cr.tensor(0)), ValueError,
     "Expected 1 or more dimensions (got 0)"),
    (lambda: F.nll_loss(cr.randn(2, 3), cr.rand(2, 3)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.binary_cross_entropy(cr.rand(3), cr.rand(3, 1)), ValueError,
     "Using a target size (chainrule.Size([3, 1])) that is different to the input size "
     "(chainrule.Size([3])) is deprecated. Please ensure they have the same size."),
    (lambda: F.binary_cross_entropy(cr.tensor([1.5]), cr.rand(1)), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(cr.tensor([float("nan")]), cr.rand(1)), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(cr.rand(2), cr.tensor([0, 1])), RuntimeError,
     "Found dtype Long but expected Float"),
    (lambda: F.binary_cross_entropy(cr.rand(3), cr.rand(3), weight=cr.ones(3,
                                                                          requires_grad=True)),
     RuntimeError, "The function 'binary_cross_entropy' is not differentiable with respect to "
                   "argument 'weight'."),
    (lambda: F.binary_cross_entropy_with_logits(cr.rand(3), cr.rand(3, 1)), ValueError,
     "Target size (chainrule.Size([3, 1])) must be the same as input size "
     "(chainrule.Size([3]))"),
    (lambda: F.binary_cross_entropy_with_logits(cr.rand(2), cr.tensor([0, 1])), RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    (lambda: F.binary_cross_entropy_with_logits(cr.rand(2, 3), cr.rand(2, 3),
                                                pos_weight=cr.rand(2)), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension "
     "1"),
    (lambda: F.binary_cross_entropy_with_logits(cr.rand(2, 3), cr.rand(2, 3),
                                                pos_weight=cr.rand(3, requires_grad=True)),
     RuntimeError, "The function 'binary_cross_entropy_with_logits' is not differentiable with "
                   "respect to argument 'pos_weight'."),
    (lambda: F.mse_loss(cr.rand(3), cr.rand(3), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: F.mse_loss(cr.rand(3), cr.rand(4)), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"),
    (lambda: F.mse_loss(cr.ones(3, dtype=cr.int64), cr.ones(3, dtype=cr.int64)),
     NotImplementedError, '"mse_cpu" not implemented for \'Long\''),
    (lambda: F.l1_loss(cr.ones(3, dtype=cr.int64), cr.ones(3, dtype=cr.int64)), RuntimeError,
     "mean(): could not infer output dtype."),
    (lambda: F.mse_loss(cr.ones(3), cr.zeros(3), weight=cr.ones(2)), ValueError,
     "Weights and input must have the same size."),
    (lambda: F.smooth_l1_loss(cr.ones(3), cr.zeros(3), beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    (lambda: F.huber_loss(cr.ones(3), cr.zeros(3), delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    (lambda: F.kl_div(cr.randn(2), cr.rand(2), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: F.gelu(cr.ones(2), approximate="foo"), RuntimeError,
     "approximate argument must be either none or tanh."),
    (lambda: F.softplus(cr.tensor([1, 2])), NotImplementedError,
     '"softplus_cpu" not implemented for \'Long\''),
    (lambda: F.leaky_relu(cr.tensor([1, 2])), NotImplementedError,
     '"leaky_relu_cpu" not implemented for \'Long\''),
    (lambda: F.logsigmoid(cr.tensor([1, 2])), NotImplementedError,
     '"log_sigmoid_cpu" not implemented for \'Long\''),
    (lambda: F.hardtanh(cr.ones(2), 2.0, 1.0), ValueError,
     "min_val cannot be greater than max_val"),
    (lambda: cr.nn.Hardtanh(1.0, 1.0), AssertionError,
     "max_val (1.0) must be greater than min_val (1.0)"),
    (lambda: cr.nn.HuberLoss(delta="1"), TypeError, "delta must be a float or int, got: "),
    (lambda: F.relu(cr.ones(2, requires_grad=True), inplace=True), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation."),
])
def test_errors_are_torchs(call, exc, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # mse_loss warns about the shapes first, as torch
        with pytest.raises(exc, match=re.escape(text)):
            call()


def test_error_messages_name_the_shapes():
    with pytest.raises(ValueError, match=re.escape("target (3,)")):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match=re.escape("[0, 3) for input of shape (2, 3)")):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 5]))


def test_warnings_are_torchs():
    with pytest.warns(UserWarning, match=re.escape(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size")) as record:
        F.kl_div(cr.randn(2, 3), cr.rand(2, 3))
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match=re.escape(
            "size_average and reduce args will be deprecated, please use reduction='sum' "
            "instead.")):
        out = F.mse_loss(cr.ones(3), cr.zeros(3), size_average=False)
    assert out.item() == 3.0
    with pytest.warns(UserWarning, match=re.escape("reduction='elementwise_mean' is deprecated")):
        assert F.l1_loss(cr.ones(3), cr.zeros(3), reduction="elementwise_mean").item() == 1.0
    with pytest.warns(UserWarning, match="size_average and reduce args"):
        assert cr.nn.CrossEntropyLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match=re.escape(
            "Implicit dimension choice for softmax has been deprecated. Change the call to "
            "include dim=X as an argument.")) as record:
        F.softmax(cr.randn(2, 3))
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax") as record:
        out = cr.nn.LogSoftmax()(cr.zeros(2, 4))
    assert record[0].filename == __file__
    np.testing.assert_allclose(_np(out), np.log(0.25), rtol=1e-6)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        assert cr.nn.Hardtanh(min_value=-2.0).min_val == -2.0


def test_no_warning_where_torch_gives_none():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(cr.randn(2, 3), cr.rand(2, 3), reduction="batchmean")
        F.cross_entropy(cr.tensor([[1000.0, -1000.0]]), cr.tensor([1]))
        F.binary_cross_entropy(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 0.0]))
        F.logsigmoid(cr.tensor([-1e30, 1e30]))
        F.softplus(cr.tensor([-1e30, 1e30])).sum()
        F.elu(cr.tensor([1e30], requires_grad=True)).sum().backward()


def test_float32_stays_float32_and_gradients_keep_their_dtype():
    x = cr.tensor([[1000.0, -1000.0, 0.5]], requires_grad=True)
    for out in [F.cross_entropy(x, cr.tensor([1])), F.gelu(x), F.softplus(x), F.logsigmoid(x),
                F.binary_cross_entropy_with_logits(x, cr.ones(1, 3)), F.mse_loss(x, x * 0),
                F.huber_loss(x, cr.zeros(1, 3, dtype=cr.float64))]:
        assert out.dtype == cr.float32
        (g,) = cr.autograd.grad(out.sum(), x)
        assert g.dtype == cr.float32 and np.isfinite(_np(g)).all()
    assert F.mse_loss(x, cr.zeros(1, 3, dtype=cr.float64)).dtype == cr.float64
    assert F.hardtanh(cr.tensor([1, -2, 8])).tolist() == [1, -1, 1]
    assert F.relu6(cr.tensor([1, -2, 8])).tolist() == [1, 0, 6]


def test_nn_functional_exports_the_improved_versions():
    assert cr.nn.functional.relu is F.relu
    from chainrule.nn.functional import activation
    for name in activation.__all__:
        assert getattr(cr.nn.functional, name) is getattr(activation, name)
    assert "inplace" in F.relu.__code__.co_varnames
    assert F.softmax.__code__.co_varnames[:4] == ("input", "dim", "_stacklevel", "dtype")


def test_inplace_activations_write_into_their_input():
    for fn, args, expected in [(F.relu, (), [0.0, 2.0]), (F.leaky_relu, (0.5,), [-0.5, 2.0]),
                               (F.elu, (1.0,), [math.expm1(-1.0), 2.0]),
                               (F.hardtanh, (-0.5, 1.0), [-0.5, 1.0]), (F.silu, (), None),
                               (F.relu6, (), [0.0, 2.0])]:
        x = cr.tensor([-1.0, 2.0])
        out = fn(x, *args, inplace=True)
        assert out is x
        if expected is not None:
            np.testing.assert_allclose(_np(x), expected, rtol=1e-6)
    for fn in [F.relu_, F.leaky_relu_, F.elu_, F.hardtanh_]:
        x = cr.tensor([-3.0, 0.5])
        assert fn(x) is x and x[0].item() <= 0
    a = cr.tensor([-1.0, 2.0], requires_grad=True)
    h = a * 2
    F.leaky_relu(h, 0.1, inplace=True)
    h.sum().backward()
    np.testing.assert_allclose(_np(a.grad), [0.2, 2.0])


def test_module_state_dict_holds_weight_buffers():
    loss = cr.nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(cr.nn.CrossEntropyLoss().state_dict()) == []
    assert list(cr.nn.BCEWithLogitsLoss(pos_weight=cr.ones(2)).state_dict()) == ["pos_weight"]
    assert loss.double().weight.dtype == cr.float64


def test_empty_batches_give_torchs_nan():
    assert math.isnan(F.cross_entropy(cr.randn(0, 3), cr.zeros(0, dtype=cr.int64)).item())
    assert math.isnan(F.cross_entropy(cr.randn(0, 3), cr.zeros(0, 3)).item())
    assert math.isnan(F.mse_loss(cr.ones(0), cr.zeros(0)).item())
    assert F.cross_entropy(cr.randn(2, 3), cr.tensor([-100, -100]), reduction="sum").item() == 0
    assert math.isnan(F.cross_entropy(cr.randn(2, 3), cr.tensor([-100, -100])).item())


def test_docstring_examples():
    import doctest

    from chainrule.nn.functional import activation, loss
    from chainrule.nn.modules import activation as mactivation, loss as mloss
    for module in (activation, loss, mactivation, mloss):
        result = doctest.testmod(module, extraglobs={"chainrule": cr})
        assert result.attempted > 0 and result.failed == 0, module.__name__
