"""Tests of ``chainrule.optim``: optimizers and learning-rate schedulers.

Without torch: torch's recorded values (``shared/reference`` cases 103-106, copied as literals),
torch's error messages and repr text, state_dict layout and round trips, schedulers against
their closed forms.  With torch: every optimizer x option combination run side by side with
torch on the same float64 problem (parameters of several shapes, one whose grad stays None),
state dicts moved between the two libraries, and lr sequences of every scheduler.
"""
import copy
import itertools
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

try:
    import torch
except ImportError:                  # the torch comparisons are skipped; the rest still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

# --- a small problem, written once for both libraries ---------------------------------------

_rng = np.random.default_rng(0)
W0 = _rng.standard_normal((3, 4))
B0 = _rng.standard_normal(4)
S0 = np.array(0.7)
U0 = _rng.standard_normal(2)         # a parameter no loss uses: its grad stays None
X = _rng.standard_normal((5, 3))
Y = _rng.standard_normal((5, 4))


def make_params(lib, dtype="float64", values=None):
    values = values or (W0, B0, S0, U0)
    return [lib.tensor(np.array(a, dtype=dtype), requires_grad=True) for a in values]


def backward(lib, params, dtype="float64"):
    W, b, s, _ = params
    x = lib.tensor(X.astype(dtype))
    y = lib.tensor(Y.astype(dtype))
    loss = (((x @ W + b).tanh() * s - y) ** 2).mean() + (s - 2.0) ** 2
    loss.backward()
    return loss


def train(lib, opt, params, steps, dtype="float64"):
    for _ in range(steps):
        opt.zero_grad()
        backward(lib, params, dtype)
        opt.step()


def values(params):
    return [np.array(p.detach().numpy()) for p in params]


def assert_params_close(a, b, rtol=1e-12):
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol)


# --- every optimizer x option combination ---------------------------------------------------

def _configs():
    out = []
    for m, d, wd, nest, mx in itertools.product([0, 0.9], [0, 0.3], [0, 0.05], [False, True],
                                                [False, True]):
        if not nest or (m > 0 and d == 0):
            out.append(("SGD", dict(lr=0.1, momentum=m, dampening=d, weight_decay=wd,
                                    nesterov=nest, maximize=mx)))
    for cls in ("Adam", "AdamW"):
        for wd, ams, mx, betas in itertools.product([0, 0.1], [False, True], [False, True],
                                                    [(0.9, 0.999), (0.5, 0.9)]):
            out.append((cls, dict(lr=0.05, weight_decay=wd, amsgrad=ams, maximize=mx,
                                  betas=betas)))
    for al, wd, m, c, mx in itertools.product([0.99, 0.9], [0, 0.1], [0, 0.5], [False, True],
                                              [False, True]):
        out.append(("RMSprop", dict(lr=0.01, alpha=al, weight_decay=wd, momentum=m,
                                    centered=c, maximize=mx)))
    for ld, wd, ia, mx in itertools.product([0, 0.1], [0, 0.1], [0, 0.5], [False, True]):
        out.append(("Adagrad", dict(lr=0.1, lr_decay=ld, weight_decay=wd,
                                    initial_accumulator_value=ia, maximize=mx)))
    return out


CONFIGS = _configs()
CONFIG_IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]

# one configuration per optimizer that fills every state buffer it has
RICH = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2)),
        ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
        ("AdamW", dict(lr=0.05, amsgrad=True)),
        ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
        ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5))]
RICH_IDS = [name + str(i) for i, (name, _) in enumerate(RICH)]


# =========================================================================================
# torch's recorded values (shared/reference/catalogue_table.md), no torch needed
# =========================================================================================

def _run_reference(make_opt, steps=3):
    # case 106's program
    w = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    opt = make_opt([w])
    for _ in range(steps):
        opt.zero_grad()
        ((w - cr.tensor([3.0, 1.0], dtype=cr.float64)) ** 2).sum().backward()
        opt.step()
    return w.detach().tolist()


@pytest.mark.parametrize("make_opt, expected", [
    (lambda p: optim.SGD(p, lr=0.1), [1.976, -0.5359999999999999]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), [2.8760000000000003, 0.8140000000000001]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
     [3.216704, 1.3250560000000005]),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=0.01), [1.972522999, -0.5326845979999999]),
    (lambda p: optim.Adam(p, lr=0.1), [1.299376607953535, -1.7003815234507471]),
    (lambda p: optim.AdamW(p, lr=0.1), [1.2960879484874965, -1.6946961375391376]),
], ids=["sgd", "momentum", "nesterov", "weight_decay", "adam", "adamw"])
def test_optimizer_reference_values(make_opt, expected):  # case 106
    np.testing.assert_allclose(_run_reference(make_opt), expected, rtol=1e-14, atol=0)


def test_zero_grad_sets_none():  # case 103
    lin = cr.nn.Linear(2, 1)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin(cr.ones(1, 2)).sum().backward()
    opt.zero_grad()
    assert lin.weight.grad is None
    lin(cr.ones(1, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert lin.weight.grad.tolist() == [[0.0, 0.0]]
    assert lin.weight.grad.dtype == cr.float32


def test_optimizer_step_with_none_grads():  # case 104
    w = cr.tensor([1., 2.], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    opt.step()
    assert w.tolist() == [1.0, 2.0] and w.dtype == cr.float32 and w.requires_grad
    assert len(opt.state) == 0


def test_optimizer_non_leaf_param():  # case 105
    w = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w], lr=0.1)


# =========================================================================================
# construction, errors, repr
# =========================================================================================

W = cr.zeros(2, requires_grad=True)


@pytest.mark.parametrize("make, exc, message", [
    (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda: optim.SGD(W, lr=0.1), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts"),
    (lambda: optim.SGD([W, 3]), TypeError,
     "optimizer can only optimize Tensors, but one of the params is int"),
    (lambda: optim.SGD([W], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda: optim.SGD([W], momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda: optim.SGD([W], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: optim.SGD([W], nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.SGD([W], momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.Adam([W], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda: optim.Adam([W], eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda: optim.Adam([W], betas=(1.0, 0.999)), ValueError,
     "Invalid beta parameter at index 0: 1.0"),
    (lambda: optim.AdamW([W], betas=(0.9, -0.1)), ValueError,
     "Invalid beta parameter at index 1: -0.1"),
    (lambda: optim.Adam([W], betas=(0, 0.9)), ValueError,
     "betas must be either both floats or both Tensors"),
    (lambda: optim.Adam([W], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: optim.RMSprop([W], alpha=-1), ValueError, "Invalid alpha value: -1"),
    (lambda: optim.RMSprop([W], momentum=-1), ValueError, "Invalid momentum value: -1"),
    (lambda: optim.Adagrad([W], lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    (lambda: optim.Adagrad([W], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    (lambda: optim.SGD([{"params": [W]}, {"params": [W]}]), ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda: optim.SGD([{"params": {W}}]), TypeError,
     "optimizer parameters need to be organized in ordered collections"),
    (lambda: optim.SGD([W], differentiable=True), NotImplementedError, "differentiable=True"),
], ids=lambda x: None)
def test_errors(make, exc, message):
    with pytest.raises(exc) as info:
        make()
    assert str(info.value).startswith(message)


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(nesterov=True)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("AdamW", dict(betas=(0.9, -0.1))), ("RMSprop", dict(alpha=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1.0)),
])
def test_errors_match_torch(name, kwargs):
    with pytest.raises(Exception) as t_info:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(Exception) as c_info:
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], **kwargs)
    assert type(c_info.value) is type(t_info.value)
    assert str(c_info.value) == str(t_info.value)


def test_add_param_group():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    g = opt.param_groups[1]
    assert g["params"] == [b] and g["lr"] == 0.5 and g["momentum"] == 0.9
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([b])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_named_parameters_are_accepted():
    lin = cr.nn.Linear(2, 1)
    opt = optim.SGD(lin.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_repr_is_torchs():
    opt = optim.SGD([W], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False"
                         "\n    foreach: None\n    fused: None\n    lr: 0.1\n    maximize: False"
                         "\n    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_repr_and_defaults_match_torch(name):
    def build(lib):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}])
        return opt

    c, t = build(cr), build(torch)
    assert repr(c) == repr(t)
    assert c.defaults == t.defaults


# =========================================================================================
# stepping
# =========================================================================================

def test_closure_is_called_with_grad_enabled():
    params = make_params(cr)
    opt = optim.SGD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        assert cr.is_grad_enabled()
        return backward(cr, params)

    with cr.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, cr.Tensor) and loss.shape == ()
    assert not np.array_equal(values(params)[0], W0)


def test_step_changes_params_in_place_and_bumps_version():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    data, version = w._data, w._version
    y = (w * w).sum()                      # saves w
    y.backward(retain_graph=True)
    optim.SGD([w], lr=0.1).step()
    assert w._data is data and w._version > version and w.grad_fn is None
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_param_without_grad_is_skipped_and_gets_no_state():
    for name, kw in RICH:
        params = make_params(cr)
        opt = getattr(optim, name)(params, **kw)
        train(cr, opt, params, 2)
        np.testing.assert_array_equal(params[3].detach().numpy(), U0)
        if name != "Adagrad":              # Adagrad makes its state at construction, as torch
            assert params[3] not in opt.state
            assert sorted(opt.state_dict()["state"]) == [0, 1, 2]


def test_zero_grad_without_reset_still_steps():
    # a zero gradient is not a missing gradient: momentum keeps moving the parameter
    w = cr.tensor([1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    (w * 1.0).sum().backward()
    opt.step()
    opt.zero_grad(set_to_none=False)
    opt.step()
    assert w.item() == pytest.approx(1.0 - 0.1 - 0.09)


def test_float32_params_keep_their_dtype():
    for name, kw in RICH:
        params = make_params(cr, "float32")
        opt = getattr(optim, name)(params, **kw)
        train(cr, opt, params, 2, "float32")
        assert all(p.dtype == cr.float32 for p in params)
        for s in opt.state.values():
            for k, v in s.items():
                assert v.dtype == cr.float32, (name, k)


def test_zero_dim_params_keep_their_shape():
    for name, kw in RICH:
        s = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
        opt = getattr(optim, name)([s], **kw)
        for _ in range(2):
            opt.zero_grad()
            ((s - 2.0) ** 2).backward()
            opt.step()
        assert s.shape == () and all(v.shape == () for v in opt.state[s].values())


def test_adagrad_has_state_from_construction():
    w = cr.zeros(3, dtype=cr.float64, requires_grad=True)
    opt = optim.Adagrad([w], initial_accumulator_value=0.25)
    assert opt.state[w]["step"].item() == 0.0
    assert opt.state[w]["sum"].tolist() == [0.25] * 3


# =========================================================================================
# state_dict
# =========================================================================================

def test_state_dict_layout():
    a, b, c = (cr.zeros(n, dtype=cr.float64, requires_grad=True) for n in (2, 3, 4))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}])
    for p in (a, c):
        p.grad = cr.ones(p.shape[0], dtype=cr.float64)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sorted(sd["state"]) == [0, 2]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][2]["step"].dtype == cr.float32 and sd["state"][2]["step"].item() == 1


@pytest.mark.parametrize("name, kw", RICH, ids=RICH_IDS)
def test_state_dict_round_trip(name, kw):
    # uninterrupted training ...
    params = make_params(cr)
    opt = getattr(optim, name)(params, **kw)
    train(cr, opt, params, 3)
    saved_values = values(params)
    saved = copy.deepcopy(opt.state_dict())
    train(cr, opt, params, 3)
    # ... equals training resumed from a checkpoint in a fresh optimizer, bit for bit
    resumed = make_params(cr, values=saved_values)
    opt2 = getattr(optim, name)(resumed, lr=123.0)          # lr comes back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    train(cr, opt2, resumed, 3)
    for x, y in zip(values(params), values(resumed)):
        np.testing.assert_array_equal(x, y)


def test_load_state_dict_copies_and_casts():
    w = cr.zeros(2, dtype=cr.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = cr.ones(2, dtype=cr.float64)
    opt.step()
    sd = opt.state_dict()
    v = cr.zeros(2, dtype=cr.float32, requires_grad=True)
    opt2 = optim.SGD([v], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    buf = opt2.state[v]["momentum_buffer"]
    assert buf.dtype == cr.float32 and buf.tolist() == [1.0, 1.0]
    assert buf._data is not sd["state"][0]["momentum_buffer"]._data


def test_load_state_dict_mismatch_errors():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_state_dict_with_a_number_step_loads():
    # state dicts from before torch 1.12 hold "step" as a Python number
    params = make_params(cr)
    opt = optim.Adam(params, lr=0.05)
    train(cr, opt, params, 2)
    sd = copy.deepcopy(opt.state_dict())
    as_number = copy.deepcopy(sd)
    for s in as_number["state"].values():
        s["step"] = int(s["step"].item())
    runs = []
    for saved in (sd, as_number):
        resumed = make_params(cr, values=values(params))
        opt2 = optim.Adam(resumed)
        opt2.load_state_dict(saved)
        assert all(isinstance(s["step"], cr.Tensor) for s in opt2.state.values())
        train(cr, opt2, resumed, 2)
        runs.append(values(resumed))
    for x, y in zip(*runs):
        np.testing.assert_array_equal(x, y)


def test_adamw_keeps_decoupled_weight_decay_when_loading_adams_state():
    a = cr.zeros(2, requires_grad=True)
    sd = optim.Adam([a], weight_decay=0.1).state_dict()
    opt = optim.AdamW([cr.zeros(2, requires_grad=True)])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# =========================================================================================
# against torch: trajectories and state dicts
# =========================================================================================

@needs_torch
@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        params = make_params(lib)
        opt = getattr(lib.optim, name)(params, **kw)
        train(lib, opt, params, 6)
        runs.append(values(params))
    assert_params_close(*runs)
    np.testing.assert_array_equal(runs[0][3], U0)


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=RICH_IDS)
def test_float32_trajectory_matches_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        params = make_params(lib, "float32")
        opt = getattr(lib.optim, name)(params, **kw)
        train(lib, opt, params, 4, "float32")
        runs.append(values(params))
    for x, y in zip(*runs):
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=RICH_IDS)
def test_groups_and_add_param_group_match_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        W, b, s, u = make_params(lib)
        opt = getattr(lib.optim, name)([{"params": [W, u]},
                                        {"params": [b], "lr": kw["lr"] / 2,
                                         "weight_decay": 0.2}], **kw)
        train(lib, opt, [W, b, s, u], 2)
        opt.add_param_group({"params": [s], "lr": kw["lr"] * 2})
        train(lib, opt, [W, b, s, u], 3)
        runs.append(values([W, b, s, u]))
    assert_params_close(*runs)


@needs_torch
def test_tensor_lr_matches_torch():
    runs = []
    for lib in (cr, torch):
        params = make_params(lib)
        opt = lib.optim.SGD(params, lr=lib.tensor(0.1, dtype=lib.float64), momentum=0.9)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        for _ in range(3):
            train(lib, opt, params, 1)
            sched.step()
        assert float(opt.param_groups[0]["lr"]) == 0.1 * 0.5 ** 3
        runs.append(values(params))
    assert_params_close(*runs)


def _to_torch(value):
    if isinstance(value, cr.Tensor):
        return torch.from_numpy(np.array(value.numpy()))
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    return value


def _to_chainrule(value):
    if isinstance(value, torch.Tensor):
        return cr.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return {k: _to_chainrule(v) for k, v in value.items()}
    return value


def _convert_state_dict(sd, fn):
    return {"state": {k: fn(v) for k, v in sd["state"].items()},
            "param_groups": copy.deepcopy(sd["param_groups"])}


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=RICH_IDS)
def test_state_dict_moves_between_chainrule_and_torch(name, kw):
    libs = {"cr": cr, "torch": torch}
    convert = {"cr": _to_torch, "torch": _to_chainrule}
    for src, dst in (("cr", "torch"), ("torch", "cr")):
        params = make_params(libs[src])
        opt = getattr(libs[src].optim, name)(params, **kw)
        train(libs[src], opt, params, 3)
        sd = opt.state_dict()
        moved = make_params(libs[dst], values=values(params))
        opt2 = getattr(libs[dst].optim, name)(moved, **kw)
        opt2.load_state_dict(_convert_state_dict(sd, convert[src]))
        # the same layout on both sides
        sd2 = opt2.state_dict()
        assert sd2["param_groups"] == sd["param_groups"]
        assert {k: sorted(v) for k, v in sd2["state"].items()} == \
            {k: sorted(v) for k, v in sd["state"].items()}
        train(libs[src], opt, params, 3)
        train(libs[dst], opt2, moved, 3)
        assert_params_close(values(params), values(moved))


# =========================================================================================
# learning-rate schedulers
# =========================================================================================

def _sched_opt(lib, name="SGD", **kw):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1,
                                    **kw)


def _lr_sequence(sched, opt, steps, extra=None):
    seq = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
        if extra:
            seq.append([extra(g) for g in opt.param_groups])
    return seq


def test_step_lr_against_its_closed_form():
    opt = _sched_opt(cr)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for epoch, lrs in enumerate(_lr_sequence(sched, opt, 12)):
        for base, lr in zip((0.1, 0.3), lrs):
            assert lr == pytest.approx(base * 0.5 ** (epoch // 3), rel=1e-14)


def test_cosine_against_its_closed_form():
    opt = _sched_opt(cr)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for epoch, lrs in enumerate(_lr_sequence(sched, opt, 25)):
        for base, lr in zip((0.1, 0.3), lrs):
            expected = 0.01 + (base - 0.01) * (1 + math.cos(math.pi * epoch / 10)) / 2
            assert lr == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_one_cycle_against_its_definition():
    opt = _sched_opt(cr, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear",
                                    pct_start=0.5)
    seq = [lrs[0] for lrs in _lr_sequence(sched, opt, 9)]
    # linear from 1/25 up to 1 over steps 0..4, then down to 1/25/1e4 over steps 4..9
    up = [0.04 + (1 - 0.04) * i / 4 for i in range(5)]
    down = [1 + (4e-6 - 1) * i / 5 for i in range(1, 6)]
    np.testing.assert_allclose(seq, up + down, rtol=1e-12)


def test_reduce_lr_on_plateau_by_hand():
    opt = _sched_opt(cr)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1,
                                           min_lr=[0.03, 0.0])
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    # bad epochs: 2nd (1 bad), 3rd (2 bad > patience: halve, cooldown 1), 4th (cooldown),
    # 5th (1 bad), 6th (2 bad: halve, but not below min_lr 0.03), 7th improves (cooldown
    # ends), 8th (1 bad), 9th (2 bad: group 0 is at its min_lr, group 1 halves a third time)
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03]
    assert opt.param_groups[1]["lr"] == 0.3 * 0.125


def test_scheduler_warnings():
    opt = _sched_opt(cr)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


def test_scheduler_errors():
    opt = _sched_opt(cr)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="You must define either total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([cr.zeros(1, requires_grad=True)]), max_lr=1.0,
                                total_steps=5)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2, cycle_momentum=False)
    opt.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()


def test_scheduler_state_dict_round_trip():
    opt = _sched_opt(cr, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 1.0], total_steps=30)
    _lr_sequence(sched, opt, 10)
    saved_opt, saved_sched = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    rest = _lr_sequence(sched, opt, 15)
    opt2 = _sched_opt(cr, momentum=0.9)
    sched2 = lr_scheduler.OneCycleLR(opt2, max_lr=[0.5, 1.0], total_steps=30)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert _lr_sequence(sched2, opt2, 15) == rest


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5), 30),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), 15),
    ("ExponentialLR", dict(gamma=0.93), 40),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001), 45),
    ("CosineAnnealingLR", dict(T_max=7), 30),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e)), 20),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.9 ** e, lambda e: 1 + e]), 20),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95), 20),
    ("ConstantLR", dict(factor=0.5, total_iters=4), 10),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=6), 12),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], total_steps=40), 39),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=40, anneal_strategy="linear"), 40),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=37, three_phase=True, pct_start=0.25,
                        div_factor=10.0, final_div_factor=100.0), 37),
    ("OneCycleLR", dict(max_lr=1.0, epochs=4, steps_per_epoch=7, cycle_momentum=False,
                        base_momentum=0.8, max_momentum=0.9), 28),
]


@needs_torch
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kw, steps", SCHEDULERS,
                         ids=[f"{n}{i}" for i, (n, _, _) in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(optimizer, name, kw, steps):
    def momentum(group):
        return group["betas"][0] if "betas" in group else group["momentum"]

    okw = dict(momentum=0.9) if optimizer == "SGD" else {}
    seqs = []
    for lib in (cr, torch):
        opt = _sched_opt(lib, optimizer, **okw)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        seqs.append(_lr_sequence(sched, opt, steps, momentum))
    assert seqs[0] == seqs[1]              # the same float operations: the same bits


@needs_torch
def test_chained_schedulers_match_torch():
    seqs = []
    for lib in (cr, torch):
        opt = _sched_opt(lib)
        s1 = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        s2 = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
        seq = []
        for _ in range(10):
            opt.step()
            s1.step()
            s2.step()
            seq.append(s2.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


@needs_torch
@pytest.mark.parametrize("name, kw", [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5])),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=10)),
    ("LinearLR", dict(total_iters=4)), ("ConstantLR", dict(total_iters=3)),
])
def test_closed_form_step_epoch_matches_torch(name, kw):
    seqs = []
    for lib in (cr, torch):
        opt = _sched_opt(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [1, 2, 5, 3, 9, 12]:
                opt.step()
                sched.step(epoch)
                seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


@needs_torch
@pytest.mark.parametrize("kw", [
    dict(), dict(mode="max", factor=0.5, patience=2), dict(threshold_mode="abs", threshold=0.1,
                                                           cooldown=2, patience=0),
    dict(mode="max", threshold_mode="abs", min_lr=[0.01, 0.05], patience=1),
    dict(eps=0.05, factor=0.2, patience=0),
])
def test_reduce_lr_on_plateau_matches_torch(kw):
    metrics = np.random.default_rng(1).standard_normal(60).cumsum() * 0.1
    seqs = []
    for lib in (cr, torch):
        opt = _sched_opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        seq = []
        for m in metrics:
            sched.step(float(m))
            seq.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter))
        seqs.append(seq)
    assert seqs[0] == seqs[1]


@needs_torch
@pytest.mark.parametrize("name, kw", [("StepLR", dict(step_size=2)),
                                      ("OneCycleLR", dict(max_lr=1.0, total_steps=10)),
                                      ("ReduceLROnPlateau", {}),
                                      ("LambdaLR", dict(lr_lambda=lambda e: 1.0))])
def test_scheduler_state_dict_keys_match_torch(name, kw):
    keys = []
    for lib in (cr, torch):
        opt = _sched_opt(lib, momentum=0.9)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        opt.step()
        sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
        keys.append(sorted(sched.state_dict()))
    assert keys[0] == keys[1]


@pytest.mark.parametrize("module", ["optimizer", "sgd", "adam", "adamw", "rmsprop", "adagrad",
                                    "lr_scheduler", "__init__"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    mod = importlib.import_module("chainrule.optim" + ("" if module == "__init__" else
                                                       "." + module))
    result = doctest.testmod(mod, extraglobs={"chainrule": cr},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_docs_example_runs():
    import pathlib
    import re
    doc = pathlib.Path(__file__).resolve().parents[1] / "docs" / "optim.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        env = {"__name__": "docs_optim"}
        exec(compile(block, "docs/optim.md", "exec"), env)
    assert env["sched"].get_last_lr()[0] < 0.05 / 25       # annealed below its start
