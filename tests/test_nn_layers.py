"""nn's basic layers, init and utils, and Module's behaviour with them.

- every differentiable layer against central differences in float64 (gradcheck, gradients for
  the input and for every parameter);
- against PyTorch with the same weights (state_dict copied chainrule → torch, and torch →
  chainrule): forward values, input gradients and parameter gradients; BatchNorm's running
  statistics over several training steps and its eval mode;
- initialisation: the bounds of uniform inits, mean and std of normal ones, gains and fans as
  torch's; clip_grad_norm_ and friends against torch; reprs character for character;
- Module's generic behaviour with these layers against torch (names, state_dict keys,
  load_state_dict's errors, train/eval, zero_grad, apply, hooks, containers).

The torch comparisons are skipped when torch is absent; the rest still runs.
"""
import math
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:                     # the rest of the file still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# =========================================================================================
# Helpers
# =========================================================================================

def _np(t):
    return t.detach().numpy()


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _t64(*shape, seed=0, requires_grad=True):
    return cr.tensor(_rand(*shape, seed=seed), dtype=cr.float64, requires_grad=requires_grad)


def _to_torch_state(cm):
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in cm.state_dict().items()}


def _from_torch_state(tm):
    return {k: cr.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}


def _pair(kind, *args, dtype="float64", from_torch=False, **kwargs):
    """The same layer in both libraries, holding the same weights."""
    cm = getattr(nn, kind)(*args, **kwargs).to(getattr(cr, dtype))
    tm = getattr(torch.nn, kind)(*args, **kwargs).to(getattr(torch, dtype))
    # random affine parameters, so that ones/zeros initialisations hide nothing
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.from_numpy(_rand(*p.shape, seed=p.numel())))
    cm.load_state_dict(_from_torch_state(tm))
    if not from_torch:
        tm.load_state_dict(_to_torch_state(cm))   # and back: both directions round-trip
    return cm, tm


def _tol(dtype):
    return dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)


def _run_both(cm, tm, arrays, dtype="float64", int_inputs=()):
    """Forward on both, then backward of (out·w).sum(): outputs, input grads, param grads."""
    cx, tx = [], []
    for i, a in enumerate(arrays):
        if i in int_inputs:
            cx.append(cr.tensor(a))
            tx.append(torch.tensor(a))
        else:
            a = a.astype(dtype)
            cx.append(cr.tensor(a, requires_grad=True))
            tx.append(torch.tensor(a, requires_grad=True))
    co, to = cm(*cx), tm(*tx)
    w = _rand(*to.shape, seed=7).astype(dtype)
    (co * cr.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    tol = _tol(dtype)
    assert str(co.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(co), to.detach().numpy(), **tol, err_msg="forward")
    for i, (c, t) in enumerate(zip(cx, tx)):
        if i not in int_inputs:
            np.testing.assert_allclose(_np(c.grad), t.grad.numpy(), **tol,
                                       err_msg=f"grad of input {i}")
    cn = [n for n, _ in cm.named_parameters()]
    tn = [n for n, _ in tm.named_parameters()]
    assert cn == tn
    for (n, cp), (_, tp) in zip(cm.named_parameters(), tm.named_parameters()):
        if tp.grad is None:
            assert cp.grad is None, n
            continue
        np.testing.assert_allclose(_np(cp.grad), tp.grad.numpy(), **tol, err_msg=f"grad {n}")
    return co, to


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


# =========================================================================================
# Central differences, float64
# =========================================================================================

def test_linear_gradcheck():
    w, b = _t64(3, 4, seed=1), _t64(3, seed=2)
    for shape in [(2, 4), (2, 3, 4), (4,)]:
        x = _t64(*shape)
        assert gradcheck(F.linear, (x, w, b))
        assert gradcheck(F.linear, (x, w))
    assert gradgradcheck(F.linear, (_t64(2, 4), w, b))


def test_linear_grad_layout_is_the_weights():
    # the weight's gradient comes back in the weight's own row-major layout (no transposed array)
    fc = nn.Linear(5, 3)
    fc(cr.randn(7, 5)).sum().backward()
    assert fc.weight.grad.shape == (3, 5)
    assert fc.weight.grad.numpy().flags["C_CONTIGUOUS"]


def test_bilinear_gradcheck():
    x1, x2 = _t64(3, 2), _t64(3, 4, seed=1)
    w, b = _t64(5, 2, 4, seed=2), _t64(5, seed=3)
    assert gradcheck(F.bilinear, (x1, x2, w, b))
    assert gradcheck(F.bilinear, (_t64(2, 2, 2), _t64(2, 2, 4, seed=1), w))


def test_layer_norm_gradcheck():
    x = _t64(3, 2, 4)
    w, b = _t64(2, 4, seed=1), _t64(2, 4, seed=2)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, 4, eps=1e-3), (x,))
    assert gradgradcheck(lambda x, w: F.layer_norm(x, (4,), w), (_t64(2, 4), _t64(4, seed=3)))


def test_batch_norm_training_gradcheck():
    for shape in [(5, 3), (4, 3, 2), (2, 3, 2, 2)]:
        x = _t64(*shape)
        w, b = _t64(3, seed=1), _t64(3, seed=2)
        assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         (x, w, b))


def test_batch_norm_eval_gradcheck():
    rm = cr.tensor(_rand(3, seed=4))
    rv = cr.tensor(np.abs(_rand(3, seed=5)) + 0.5)
    x, w, b = _t64(4, 3, 2), _t64(3, seed=1), _t64(3, seed=2)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


def test_group_and_rms_norm_gradcheck():
    x = _t64(2, 4, 3)
    w, b = _t64(4, seed=1), _t64(4, seed=2)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert gradcheck(lambda x, w: F.rms_norm(x, (3,), _t64(3, seed=3) if w is None else w),
                     (x, _t64(3, seed=3)))


def test_dropout_gradcheck_with_a_fixed_mask():
    def f(x):
        cr.manual_seed(3)
        return F.dropout(x, 0.4)
    assert gradcheck(f, (_t64(4, 5),))


def test_embedding_max_norm_renormalises_in_place():
    w = cr.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    out = F.embedding(cr.tensor([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(_np(w), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)
    np.testing.assert_allclose(_np(out), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)


# =========================================================================================
# Against torch: the same weights give the same values and gradients
# =========================================================================================

LAYER_CASES = [
    ("Linear", (4, 3), {}, [(5, 4)]),
    ("Linear", (4, 3), {"bias": False}, [(2, 5, 4)]),
    ("Linear", (4, 3), {}, [(4,)]),
    ("Bilinear", (2, 3, 4), {}, [(5, 2), (5, 3)]),
    ("LayerNorm", (4,), {}, [(3, 4)]),
    ("LayerNorm", ((2, 3),), {"eps": 1e-3}, [(2, 4, 2, 3)]),
    ("LayerNorm", (4,), {"elementwise_affine": False}, [(3, 4)]),
    ("LayerNorm", (4,), {"bias": False}, [(3, 4)]),
    ("BatchNorm1d", (3,), {}, [(6, 3)]),
    ("BatchNorm1d", (3,), {}, [(4, 3, 5)]),
    ("BatchNorm1d", (3,), {"affine": False}, [(4, 3)]),
    ("BatchNorm2d", (3,), {"momentum": None}, [(2, 3, 4, 4)]),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, [(2, 3, 2, 2)]),
    ("BatchNorm3d", (2,), {}, [(2, 2, 2, 2, 3)]),
    ("GroupNorm", (2, 4), {}, [(3, 4, 5)]),
    ("GroupNorm", (1, 4), {"affine": False}, [(2, 4, 2, 2)]),
    ("RMSNorm", (4,), {}, [(3, 4)]),
    ("RMSNorm", ((2, 2),), {"eps": 1e-4}, [(3, 2, 2)]),
    ("Flatten", (), {}, [(2, 3, 4)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 3)), {}, [(4, 6)]),
    ("Identity", (), {}, [(3, 2)]),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind,args,kwargs,shapes", LAYER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_layer_matches_torch(kind, args, kwargs, shapes, dtype):
    cm, tm = _pair(kind, *args, dtype=dtype, **kwargs)
    arrays = [_rand(*s, seed=i) * 2 + 0.5 for i, s in enumerate(shapes)]
    _run_both(cm, tm, arrays, dtype)
    # eval mode too (BatchNorm switches to its running statistics)
    cm.eval(), tm.eval()
    _run_both(cm, tm, arrays, dtype)


@needs_torch
def test_state_dict_from_torch_loads_and_agrees():
    cm, tm = _pair("Linear", 4, 3, from_torch=True)
    _run_both(cm, tm, [_rand(2, 4)])
    for k, v in cm.state_dict().items():
        np.testing.assert_array_equal(_np(v), tm.state_dict()[k].numpy())


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True},
                                    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}])
def test_embedding_matches_torch(kwargs):
    cm, tm = _pair("Embedding", 5, 3, **kwargs)
    idx = np.array([[0, 1, 4], [1, 1, 2], [4, 0, 1]])
    _run_both(cm, tm, [idx], int_inputs=(0,))
    # max_norm renormalised the looked-up rows in place: the tables still agree
    np.testing.assert_allclose(_np(cm.weight), tm.weight.detach().numpy(), rtol=1e-12)


def test_embedding_init_and_from_pretrained():
    e = nn.Embedding(10, 3, padding_idx=2)
    assert (e.weight[2] == 0).all() and e.weight.requires_grad
    w = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    fro = nn.Embedding.from_pretrained(w)
    assert not fro.weight.requires_grad and fro.num_embeddings == 2
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with raises(AssertionError, "Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with raises(IndexError, "index out of range in self"):
        F.embedding(cr.tensor([3]), w)
    with raises(RuntimeError, "Expected tensor for argument #1 'indices' to have one of"):
        F.embedding(cr.tensor([0.0]), w)


@needs_torch
def test_batch_norm_running_stats_match_torch():
    for kwargs in [{}, {"momentum": None}, {"momentum": 0.3}, {"affine": False}]:
        cm, tm = _pair("BatchNorm1d", 3, **kwargs)
        for step in range(4):
            x = _rand(6, 3, 2, seed=step) * (step + 1) + step
            co = cm(cr.tensor(x))
            to = tm(torch.tensor(x))
            np.testing.assert_allclose(_np(co), to.detach().numpy(), rtol=1e-9, atol=1e-10)
        for k in ("running_mean", "running_var"):
            np.testing.assert_allclose(_np(getattr(cm, k)), getattr(tm, k).numpy(),
                                       rtol=1e-12, err_msg=f"{kwargs}: {k}")
        assert cm.num_batches_tracked.dtype == cr.int64
        assert int(cm.num_batches_tracked) == int(tm.num_batches_tracked) == 4
        cm.eval(), tm.eval()
        x = _rand(2, 3, 2, seed=9)
        np.testing.assert_allclose(_np(cm(cr.tensor(x))), tm(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-9, atol=1e-10)
        # eval leaves the statistics alone
        before = _np(cm.running_mean).copy()
        cm(cr.tensor(x))
        np.testing.assert_array_equal(_np(cm.running_mean), before)


@needs_torch
def test_batch_norm_without_running_stats_uses_the_batch_in_eval():
    cm, tm = _pair("BatchNorm1d", 3, track_running_stats=False)
    assert cm.running_mean is None and "running_mean" not in cm.state_dict()
    cm.eval(), tm.eval()
    _run_both(cm, tm, [_rand(4, 3)])


@needs_torch
def test_functional_batch_norm_matches_torch_float32():
    x = _rand(8, 4, 3).astype(np.float32)
    crm, crv = cr.zeros(4), cr.ones(4)
    trm, trv = torch.zeros(4), torch.ones(4)
    co = F.batch_norm(cr.tensor(x), crm, crv, training=True, momentum=0.2)
    to = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(_np(co), to.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(crv), trv.numpy(), rtol=1e-5)
    assert crv.dtype == cr.float32


def test_batch_norm_errors():
    with raises(ValueError, "expected 2D or 3D input (got 4D input)"):
        nn.BatchNorm1d(3)(cr.ones(2, 3, 2, 2))
    with raises(ValueError, "expected 4D input (got 3D input)"):
        nn.BatchNorm2d(3)(cr.ones(2, 3, 2))
    with raises(ValueError, "Expected more than 1 value per channel when training, got input "
                            "size chainrule.Size([1, 3])"):
        nn.BatchNorm1d(3)(cr.ones(1, 3))
    nn.BatchNorm1d(3).eval()(cr.ones(1, 3))          # fine in eval mode
    with raises(RuntimeError, "running_mean should contain 4 elements not 3"):
        F.batch_norm(cr.ones(2, 4), cr.zeros(3), cr.ones(3))


def test_layer_norm_errors():
    with raises(RuntimeError, "Given normalized_shape=[4], expected input with shape [*, 4], "
                              "but got input of size[2, 3]"):
        nn.LayerNorm(4)(cr.ones(2, 3))


def test_linear_errors():
    fc = nn.Linear(4, 3)
    with raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x5 and 4x3)"):
        fc(cr.ones(2, 5))
    with raises(RuntimeError, "mat1 and mat2 must have the same dtype, but got Double and Float"):
        fc(cr.ones(2, 4, dtype=cr.float64))


@needs_torch
def test_linear_grad_fn_names_match_torch():
    w, b = cr.ones(3, 4, requires_grad=True), cr.ones(3, requires_grad=True)
    tw, tb = torch.ones(3, 4, requires_grad=True), torch.ones(3, requires_grad=True)
    for shape in [(4,), (2, 4), (2, 2, 4)]:
        for bias in (True, False):
            c = F.linear(cr.ones(*shape), w, b if bias else None)
            t = torch.nn.functional.linear(torch.ones(*shape), tw, tb if bias else None)
            assert c.grad_fn.name() == t.grad_fn.name()


# =========================================================================================
# Dropout
# =========================================================================================

def test_dropout_statistics_and_scaling():
    cr.manual_seed(0)
    x = cr.ones(200, 500)
    out = F.dropout(x, 0.3)
    v = _np(out)
    kept = v != 0
    assert abs(kept.mean() - 0.7) < 0.01             # 100,000 draws: 4.5 standard deviations
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    assert out.dtype == cr.float32


def test_dropout_edges_and_modes():
    x = _t64(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert (_np(F.dropout(x, 1.0)) == 0).all()
    np.testing.assert_array_equal(_np(F.dropout(x, 0.0)), _np(x))
    for p in (-0.1, 1.1):
        with raises(ValueError, f"dropout probability has to be between 0 and 1, but got {p}"):
            F.dropout(x, p)
        with raises(ValueError, "dropout probability has to be between 0 and 1"):
            nn.Dropout(p)
    drop = nn.Dropout(0.5)
    assert _np(drop.eval()(x)) is not None and drop.eval()(x) is x
    # the gradient is the mask, scaled
    y = nn.Dropout(0.25).train()(x)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), (_np(y) != 0) / 0.75)
    # in place on a non-leaf
    h = x * 1.0
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h
    # whole channels with dropout2d
    z = _np(F.dropout2d(cr.ones(4, 6, 3, 3), 0.5))
    per_channel = z.reshape(4, 6, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()


# =========================================================================================
# init
# =========================================================================================

def _big(*shape):
    return cr.empty(*shape, dtype=cr.float64)


@needs_torch
def test_calculate_gain_matches_torch():
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]:
        assert nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name), name
    for slope in (0.2, 0, 1, 3):
        assert nn.init.calculate_gain("leaky_relu", slope) == \
            torch.nn.init.calculate_gain("leaky_relu", slope)
    with raises(ValueError, "Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
    with raises(ValueError, "negative_slope True not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)


@needs_torch
def test_fans_match_torch():
    from chainrule.nn.init import _calculate_fan_in_and_fan_out as cfan
    from torch.nn.init import _calculate_fan_in_and_fan_out as tfan
    for shape in [(3, 5), (8, 3, 3, 3), (4, 2, 5), (6, 1, 2, 2, 2), (0, 4)]:
        assert cfan(cr.empty(*shape)) == tfan(torch.empty(*shape)), shape
    with raises(ValueError, "Fan in and fan out can not be computed for tensor with fewer than 2 "
                            "dimensions"):
        cfan(cr.empty(3))


def _uniform_ok(t, bound):
    v = _np(t)
    assert np.abs(v).max() <= bound
    assert np.abs(v).max() > 0.99 * bound                  # the whole range is used
    assert abs(v.mean()) < 0.02 * bound
    assert abs(v.std() - bound / math.sqrt(3)) < 0.02 * bound


def _normal_ok(t, mean, std):
    v = _np(t)
    assert abs(v.mean() - mean) < 0.02 * std
    assert abs(v.std() - std) < 0.02 * std


def test_uniform_inits_bounds():
    cr.manual_seed(0)
    _uniform_ok(nn.init.uniform_(_big(100, 100), -2, 2), 2)
    w = _big(200, 50)
    _uniform_ok(nn.init.xavier_uniform_(w, gain=2.0), 2.0 * math.sqrt(6 / 250))
    # a=0 is passed to calculate_gain as the slope: gain √2 (not leaky_relu's default 0.01)
    _uniform_ok(nn.init.kaiming_uniform_(_big(200, 50)), math.sqrt(2) * math.sqrt(3 / 50))
    _uniform_ok(nn.init.kaiming_uniform_(_big(64, 8, 3, 3), mode="fan_out", nonlinearity="relu"),
                math.sqrt(2) * math.sqrt(3 / (64 * 9)))
    fc = nn.Linear(100, 200)                               # torch: U(±1/√in) for both
    _uniform_ok(fc.weight, 1 / 10)
    assert np.abs(_np(fc.bias)).max() <= 1 / 10
    bl = nn.Bilinear(25, 4, 300)
    _uniform_ok(bl.weight, 1 / 5)


def test_normal_inits_moments():
    cr.manual_seed(1)
    _normal_ok(nn.init.normal_(_big(100, 100), 1.5, 0.5), 1.5, 0.5)
    _normal_ok(nn.init.xavier_normal_(_big(200, 50)), 0, math.sqrt(2 / 250))
    _normal_ok(nn.init.kaiming_normal_(_big(100, 100), nonlinearity="relu"), 0, math.sqrt(2 / 100))
    _normal_ok(nn.init.kaiming_normal_(_big(32, 8, 3, 3), a=0.1, mode="fan_out"), 0,
               math.sqrt(2 / 1.01) / math.sqrt(32 * 9))
    _normal_ok(nn.Embedding(200, 50).weight, 0, 1)


@needs_torch
def test_trunc_normal_matches_torch_moments():
    cr.manual_seed(2)
    torch.manual_seed(2)
    c = _np(nn.init.trunc_normal_(_big(200, 200), mean=0.5, std=1.0, a=0.0, b=2.0))
    t = torch.nn.init.trunc_normal_(torch.empty(200, 200, dtype=torch.float64), mean=0.5,
                                    std=1.0, a=0.0, b=2.0).numpy()
    assert c.min() >= 0 and c.max() <= 2
    assert abs(c.mean() - t.mean()) < 0.02 and abs(c.std() - t.std()) < 0.02
    # a far tail (sampled through the inverse CDF): the mean is φ(α)/(1 - Φ(α)) standard units
    for lo, hi, sign in ((3.5, 50.0, 1), (-50.0, -3.5, -1)):
        c = _np(nn.init.trunc_normal_(_big(100, 100), mean=1.0, std=2.0, a=1.0 + 2 * lo,
                                      b=1.0 + 2 * hi))
        pdf = math.exp(-3.5 ** 2 / 2) / math.sqrt(2 * math.pi)
        expect = pdf / (0.5 * math.erfc(3.5 / math.sqrt(2)))
        assert c.min() >= 1.0 + 2 * lo and c.max() <= 1.0 + 2 * hi
        assert abs((c.mean() - 1.0) / 2.0 - sign * expect) < 0.01


@needs_torch
def test_deterministic_inits_match_torch():
    for fn, shape in [("eye_", (3, 5)), ("dirac_", (4, 2, 3)), ("dirac_", (2, 2, 3, 3)),
                      ("ones_", (2, 3)), ("zeros_", (2, 3))]:
        c = getattr(nn.init, fn)(cr.empty(*shape))
        t = getattr(torch.nn.init, fn)(torch.empty(*shape))
        np.testing.assert_array_equal(_np(c), t.numpy(), err_msg=fn)
    c = nn.init.dirac_(cr.empty(4, 2, 3), groups=2)
    np.testing.assert_array_equal(_np(c), torch.nn.init.dirac_(torch.empty(4, 2, 3), 2).numpy())
    np.testing.assert_array_equal(_np(nn.init.constant_(cr.empty(2), 0.25)), [0.25, 0.25])


def test_orthogonal_init():
    cr.manual_seed(3)
    for shape in [(4, 4), (3, 6), (6, 3), (4, 2, 3)]:
        w = _np(nn.init.orthogonal_(_big(*shape), gain=2.0)).reshape(shape[0], -1)
        small = min(w.shape)
        gram = w @ w.T if w.shape[0] == small else w.T @ w
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_init_runs_on_parameters_without_recording():
    fc = nn.Linear(3, 2)
    out = nn.init.zeros_(fc.weight)
    assert out is fc.weight and out.grad_fn is None and out.requires_grad
    assert (_np(fc.weight) == 0).all()
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(cr.empty(0, 3))
    with raises(ValueError, "Mode fan_avg not supported, please use one of"):
        nn.init.kaiming_uniform_(cr.empty(2, 3), mode="fan_avg")


def test_same_seed_same_model():
    cr.manual_seed(5)
    a = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    cr.manual_seed(5)
    b = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    for (_, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(_np(p), _np(q))


# =========================================================================================
# utils
# =========================================================================================

def _grads_pair(seed=0, scale=1.0):
    shapes = [(3, 4), (4,), (2, 2, 2)]
    cps, tps = [], []
    for i, s in enumerate(shapes):
        g = _rand(*s, seed=seed + i) * scale
        cp, tp = nn.Parameter(cr.zeros(*s, dtype=cr.float64)), \
            torch.nn.Parameter(torch.zeros(*s, dtype=torch.float64))
        cp.grad, tp.grad = cr.tensor(g), torch.tensor(g)
        cps.append(cp)
        tps.append(tp)
    cps.append(nn.Parameter(cr.zeros(2, dtype=cr.float64)))     # no grad: skipped
    tps.append(torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)))
    return cps, tps


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    cps, tps = _grads_pair()
    cn = nn.utils.clip_grad_norm_(iter(cps), max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(iter(tps), max_norm, norm_type=norm_type)
    assert isinstance(cn, cr.Tensor) and cn.dtype == cr.float64 and cn.shape == ()
    np.testing.assert_allclose(_np(cn), tn.numpy(), rtol=1e-12)
    for c, t in zip(cps, tps):
        if t.grad is None:
            assert c.grad is None
        else:
            np.testing.assert_allclose(_np(c.grad), t.grad.numpy(), rtol=1e-12)


@needs_torch
def test_clip_grad_norm_edges_match_torch():
    assert float(nn.utils.clip_grad_norm_([], 1.0)) == float(
        torch.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    p = nn.Parameter(cr.zeros(2))
    p.grad = cr.tensor([3.0, 4.0])
    n = nn.utils.clip_grad_norm_(p, 1.0)                    # a single tensor
    assert n.dtype == cr.float32
    np.testing.assert_allclose(_np(p.grad), [0.6, 0.8], rtol=1e-5)
    p.grad = cr.tensor([float("nan"), 1.0])
    with raises(RuntimeError, "The total norm of order 2.0 for gradients from `parameters` is "
                              "non-finite, so it cannot be clipped."):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((q for q in []), 1.0)


@needs_torch
def test_clip_grad_value_and_vectors_match_torch():
    cps, tps = _grads_pair(scale=3.0)
    nn.utils.clip_grad_value_(cps, 1.5)
    torch.nn.utils.clip_grad_value_(tps, 1.5)
    for c, t in zip(cps[:-1], tps[:-1]):
        np.testing.assert_array_equal(_np(c.grad), t.grad.numpy())
    cm, tm = _pair("Linear", 3, 2)
    cv = nn.utils.parameters_to_vector(cm.parameters())
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    np.testing.assert_array_equal(_np(cv), tv.detach().numpy())
    (cv * cr.arange(8.0, dtype=cr.float64)).sum().backward()
    np.testing.assert_array_equal(_np(cm.weight.grad), np.arange(6.0).reshape(2, 3))
    new = np.arange(8.0)
    nn.utils.vector_to_parameters(cr.tensor(new), cm.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    for (_, c), (_, t) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(_np(c), t.detach().numpy())
        assert c.requires_grad
    with raises(TypeError, "expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], cm.parameters())


# =========================================================================================
# Printing
# =========================================================================================

REPRS = [("Linear", (4, 3), {}), ("Linear", (4, 3), {"bias": False}),
         ("Bilinear", (2, 3, 4), {}), ("Identity", (5,), {"x": 1}),
         ("BatchNorm1d", (4,), {}), ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
         ("BatchNorm3d", (3,), {"eps": 1e-3, "track_running_stats": False}),
         ("LayerNorm", (4,), {}), ("LayerNorm", ((2, 3),), {"bias": False}),
         ("LayerNorm", (4,), {"elementwise_affine": False}),
         ("GroupNorm", (2, 4), {}), ("RMSNorm", (4,), {}), ("RMSNorm", (4,), {"eps": 1e-6}),
         ("Dropout", (), {}), ("Dropout", (0.1, True), {}), ("Dropout2d", (0.2,), {}),
         ("Embedding", (10, 3), {"padding_idx": 0}), ("Embedding", (10, 3), {}),
         ("Embedding", (10, 3), {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True}),
         ("Flatten", (), {}), ("Flatten", (0, 2), {}), ("Unflatten", (1, (2, 3)), {})]


@needs_torch
@pytest.mark.parametrize("kind,args,kwargs", REPRS)
def test_repr_matches_torch(kind, args, kwargs):
    assert repr(getattr(nn, kind)(*args, **kwargs)) == \
        repr(getattr(torch.nn, kind)(*args, **kwargs)).replace("torch.", "chainrule.")


def _model(lib):
    return lib.nn.Sequential(
        lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.Dropout(0.1),
        lib.nn.Sequential(lib.nn.Linear(8, 8), lib.nn.LayerNorm(8)),
        lib.nn.ModuleList([lib.nn.Linear(8, 8) for _ in range(3)] + [lib.nn.Flatten()]),
        lib.nn.Linear(8, 2))


@needs_torch
def test_nested_model_names_keys_and_repr_match_torch():
    cm, tm = _model(cr), _model(torch)
    assert [(n, tuple(p.shape)) for n, p in cm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert [n for n, _ in cm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in cm.named_modules()] == [n for n, _ in tm.named_modules()]
    assert repr(cm) == repr(tm)                          # ModuleList prints "(0-2): 3 x Linear"
    assert "(0-2): 3 x Linear(in_features=8, out_features=8, bias=True)" in repr(cm)
    cm.load_state_dict(_from_torch_state(tm))
    tm.load_state_dict(_to_torch_state(cm))


def _load_error(model, state):
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        return str(e)
    raise AssertionError("load_state_dict did not raise")


@needs_torch
def test_load_state_dict_strict_errors_match_torch():
    cm, tm = _model(cr), _model(torch)
    cs, ts = cm.state_dict(), tm.state_dict()
    for edit in ("missing", "unexpected", "both", "size"):
        c, t = dict(cs), dict(ts)
        if edit in ("missing", "both"):
            del c["0.bias"], t["0.bias"]
            del c["1.running_var"], t["1.running_var"]
        if edit in ("unexpected", "both"):
            c["extra.weight"], t["extra.weight"] = cr.zeros(1), torch.zeros(1)
        if edit == "size":
            c["0.weight"], t["0.weight"] = cr.zeros(8, 5), torch.zeros(8, 5)
            c["5.bias"], t["5.bias"] = cr.zeros(3), torch.zeros(3)
        assert _load_error(cm, c) == _load_error(tm, t).replace("torch.", "chainrule."), edit
    # strict=False reports them instead
    c, t = dict(cs), dict(ts)
    del c["0.bias"], t["0.bias"]
    c["x"], t["x"] = cr.zeros(1), torch.zeros(1)
    cr_keys = cm.load_state_dict(c, strict=False)
    t_keys = tm.load_state_dict(t, strict=False)
    assert (cr_keys.missing_keys, cr_keys.unexpected_keys) == \
        (t_keys.missing_keys, t_keys.unexpected_keys)
    assert repr(cm.load_state_dict(cs)) == repr(tm.load_state_dict(ts))


@needs_torch
def test_train_eval_zero_grad_apply_and_hooks_match_torch():
    for lib in (cr, torch):
        m = _model(lib)
        assert all(x.training for x in m.modules())
        assert m.eval() is m and not any(x.training for x in m.modules())
        m.train()
        m[4][1].eval()
        assert [x.training for x in m.modules()].count(False) == 1
        m.train()
        # zero_grad: None by default, zeros with set_to_none=False
        x = lib.ones(3, 4)
        m.zero_grad()
        out = m[5](m[3](m[2](m[1](m[0](x)))))
        out.sum().backward()
        assert all(p.grad is not None for p in m[0].parameters())
        m.zero_grad(set_to_none=False)
        assert all(float(p.grad.abs().sum()) == 0 for p in m[0].parameters())
        m.zero_grad()
        assert all(p.grad is None for p in m.parameters())
        # apply visits children first, then the module itself
        seen = []
        m.apply(lambda mod: seen.append(type(mod).__name__))
        assert seen[-1] == "Sequential" and seen[0] == "Linear" and len(seen) == 13
        # forward hooks see (module, args, output) and may replace the output
        calls = []
        h = m[0].register_forward_hook(lambda mod, args, out: calls.append(tuple(out.shape)))
        h2 = m[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h3 = m[5].register_forward_hook(lambda mod, args, out: out * 0)
        y = m[5](m[3](m[2](m[1](m[0](x)))))
        assert calls == [(3, 8)] and float(y.detach().abs().sum()) == 0
        h.remove(), h2.remove(), h3.remove()
        m[0](x)
        assert calls == [(3, 8)]


@needs_torch
def test_sequential_indexing_and_slicing_match_torch():
    cm, tm = _model(cr), _model(torch)
    assert type(cm[1:3]).__name__ == type(tm[1:3]).__name__ == "Sequential"
    assert repr(cm[1:3]) == repr(tm[1:3])
    assert repr(cm[-1]) == repr(tm[-1])
    assert list(cm[::2].state_dict()) == list(tm[::2].state_dict())
    assert repr(cm[4][1:]) == repr(tm[4][1:])
    assert len(cm) == len(tm) == 6
    with raises(IndexError, "index 6 is out of range"):
        cm[6]
    for m in (cm, tm):
        del m[2]
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert repr(cm) == repr(tm)


@needs_torch
def test_module_to_double_keeps_the_int_buffer():
    for lib in (cr, torch):
        bn = lib.nn.BatchNorm1d(3).double()
        assert bn.weight.dtype == lib.float64 and bn.running_var.dtype == lib.float64
        assert bn.num_batches_tracked.dtype == lib.int64


@needs_torch
def test_tied_weights_and_deepcopy_match_torch():
    import copy
    for lib in (cr, torch):
        emb, dec = lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False)
        dec.weight = emb.weight
        m = lib.nn.Sequential(emb, dec)
        assert [n for n, _ in m.named_parameters()] == ["0.weight"]
        assert list(m.state_dict()) == ["0.weight", "1.weight"]
        m2 = copy.deepcopy(m)
        assert m2[1].weight is m2[0].weight and m2[0].weight is not emb.weight


# =========================================================================================
# The examples in the docstrings and in docs/nn-layers.md run
# =========================================================================================

@pytest.mark.parametrize("name", ["chainrule.nn.init", "chainrule.nn.functional.linear",
                                  "chainrule.nn.functional.normalization",
                                  "chainrule.nn.modules.linear",
                                  "chainrule.nn.modules.normalization",
                                  "chainrule.nn.modules.dropout", "chainrule.nn.modules.sparse",
                                  "chainrule.nn.modules.flatten", "chainrule.nn.utils"])
def test_docstring_examples(name):
    import doctest
    import importlib
    cr.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), extraglobs={"chainrule": cr},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_docs_examples_run():
    import pathlib
    text = (pathlib.Path(__file__).parent.parent / "docs" / "nn-layers.md").read_text()
    env = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if "import torch" in block and torch is None:
            continue
        exec(compile(block, "docs/nn-layers.md", "exec"), env)
