"""Tests of the optimizers issue #13 adds: Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop.

Without torch: first steps against their closed forms, torch's error messages (copied from
torch/optim/*.py), state layout, state_dict round trips, docstring examples.  With torch:
20-step float64 trajectories on a small tanh-Linear problem and a quadratic, for several
hyperparameter settings each, agree with torch's to 1e-10; errors, reprs and defaults are
torch's; state dicts move between the two libraries and training continues alike.
"""
import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

try:
    import torch
except ImportError:                  # the torch comparisons are skipped; the rest still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]

_rng = np.random.default_rng(13)
W0 = _rng.standard_normal((3, 4))
B0 = _rng.standard_normal(4)
Q0 = _rng.standard_normal(3)         # a parameter of the quadratic term
U0 = _rng.standard_normal(2)         # a parameter no loss uses: its grad stays None
X = _rng.standard_normal((6, 3))
Y = _rng.standard_normal((6, 4))
A = np.diag([1.0, 4.0, 0.25])
C = np.array([1.0, -2.0, 0.5])


def make_params(lib, dtype="float64", values=None):
    values = values or (W0, B0, Q0, U0)
    return [lib.tensor(np.array(a, dtype=dtype), requires_grad=True) for a in values]


def backward(lib, params, dtype="float64"):
    W, b, q, _ = params
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    a, c = lib.tensor(A.astype(dtype)), lib.tensor(C.astype(dtype))
    loss = (((x @ W + b).tanh() - y) ** 2).mean() + ((q - c) @ a @ (q - c)) / 2
    loss.backward()
    return loss


def train(lib, opt, params, steps, dtype="float64"):
    for _ in range(steps):
        opt.zero_grad()
        backward(lib, params, dtype)
        opt.step()


def values(params):
    return [np.array(p.detach().numpy()) for p in params]


CONFIGS = [
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=2.0, rho=0.95, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, eps=1e-3, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1,
                   decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.02, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)),   # rectified from step 5
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.8), maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.05, t0=5)),                                   # averaging from step 6
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.01, maximize=True)),
    ("Rprop", {}),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.05, maximize=True)),
]
CONFIG_IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]

# one configuration per optimizer that fills every state buffer it has
RICH = [("Adadelta", dict(lr=0.5, weight_decay=0.1)),
        ("Adamax", dict(lr=0.05, weight_decay=0.1)),
        ("NAdam", dict(lr=0.05, weight_decay=0.1)),
        ("RAdam", dict(lr=0.05, betas=(0.5, 0.9))),
        ("ASGD", dict(lr=0.05, t0=2)),
        ("Rprop", dict(lr=0.1))]

STATE_KEYS = {"Adadelta": ["step", "square_avg", "acc_delta"],
              "Adamax": ["step", "exp_avg", "exp_inf"],
              "NAdam": ["step", "mu_product", "exp_avg", "exp_avg_sq"],
              "RAdam": ["step", "exp_avg", "exp_avg_sq"],
              "ASGD": ["step", "eta", "mu", "ax"],
              "Rprop": ["step", "prev", "step_size"]}


# =========================================================================================
# no torch needed
# =========================================================================================

def _first_step(name, **kw):
    w = cr.tensor([1.0, -2.0, 0.5], dtype=cr.float64, requires_grad=True)
    opt = getattr(optim, name)([w], **kw)
    (w ** 2).sum().backward()                 # g = 2w
    opt.step()
    return w.detach().numpy(), opt


def test_first_steps_against_closed_forms():
    w0, g = np.array([1.0, -2.0, 0.5]), np.array([2.0, -4.0, 1.0])
    # Adadelta: v = (1 − ρ)g², Δ = √eps/√(v + eps)·g
    w, _ = _first_step("Adadelta", lr=0.5, rho=0.9, eps=1e-6)
    np.testing.assert_allclose(w, w0 - 0.5 * np.sqrt(1e-6) / np.sqrt(0.1 * g ** 2 + 1e-6) * g,
                               rtol=1e-14)
    # Adamax: m = (1 − β₁)g, u = |g| + eps; lr/(1 − β₁)·m/u
    w, _ = _first_step("Adamax", lr=0.1, eps=1e-8)
    np.testing.assert_allclose(w, w0 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    # RAdam: ρ₁ = 1 ≤ 5, an unrectified step of lr·m̂ = lr·g
    w, _ = _first_step("RAdam", lr=0.1)
    np.testing.assert_allclose(w, w0 - 0.1 * g, rtol=1e-14)
    # NAdam: lr(1 − μ₁)/(1 − Π₁)·g/|g| + lr·μ₂/(1 − Π₁μ₂)·(1 − β₁)g/|g|, Π₁ = μ₁ in float32
    w, opt = _first_step("NAdam", lr=0.1, eps=0.0)
    mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)) for t in (1, 2))
    mp = float(np.float32(mu1))
    np.testing.assert_allclose(
        w, w0 - 0.1 * np.sign(g) * ((1 - mu1) / (1 - mp) + 0.1 * mu2 / (1 - mp * mu2)),
        rtol=1e-14)
    assert opt.state[opt.param_groups[0]["params"][0]]["mu_product"].item() == mp
    # ASGD: θ(1 − λ·lr) − lr·g; ax = θ; η = lr/(1 + λ·lr)^α
    w, opt = _first_step("ASGD", lr=0.1, lambd=0.2)
    np.testing.assert_allclose(w, w0 * (1 - 0.2 * np.float32(0.1)) - np.float32(0.1) * g,
                               rtol=1e-7)
    s = opt.state[opt.param_groups[0]["params"][0]]
    np.testing.assert_array_equal(s["ax"].numpy(), w)
    assert s["eta"].item() == float(np.float32(0.1 / (1 + 0.2 * 0.1) ** 0.75))
    assert s["mu"].item() == 1.0
    # Rprop: the first step moves each coordinate by lr against its gradient's sign
    w, _ = _first_step("Rprop", lr=0.1)
    np.testing.assert_allclose(w, w0 - 0.1 * np.sign(g), rtol=1e-15)


def test_rprop_step_sizes_grow_shrink_and_clamp():
    w = cr.tensor([1.0, 1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.Rprop([w], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.03, 0.3))
    sizes = []
    for grad in ([1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, 0.5], [1.0, 1.0]):
        w.grad = cr.tensor(grad, dtype=cr.float64)
        opt.step()
        sizes.append(opt.state[w]["step_size"].tolist())
    # coordinate 0: 0.1 → ×2 (same sign) each step, clamped at 0.3; coordinate 1: a sign
    # change halves and zeroes the stored gradient, so the next step neither grows nor shrinks
    assert sizes == [[0.1, 0.1], [0.2, 0.05], [0.3, 0.05], [0.3, 0.1], [0.3, 0.2]]
    assert w.tolist() == pytest.approx([1 - 0.1 - 0.2 - 0.3 - 0.3 - 0.3,
                                        1 - 0.1 - 0 - 0.05 - 0.1 - 0.2])


ERRORS = [
    ("Adadelta", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(rho=-0.1), "Invalid rho value: -0.1"),
    ("Adadelta", dict(eps=-1e-6), "Invalid epsilon value: -1e-06"),
    ("Adadelta", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adamax", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", dict(betas=(0.9, -0.5)), "Invalid beta parameter at index 1: -0.5"),
    ("Adamax", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("NAdam", dict(lr=-2), "Invalid learning rate: -2"),
    ("NAdam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("NAdam", dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
    ("NAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(weight_decay=-1e-2), "Invalid weight_decay value: -0.01"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("RAdam", dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    ("RAdam", dict(eps=-1), "Invalid epsilon value: -1"),
    ("RAdam", dict(betas=(1.5, 0.9)), "Invalid beta parameter at index 0: 1.5"),
    ("RAdam", dict(betas=(0.9, 2)), "Invalid beta parameter at index 1: 2"),
    ("RAdam", dict(weight_decay=-3), "Invalid weight_decay value: -3"),
    ("ASGD", dict(lr=-0.01), "Invalid learning rate: -0.01"),
    ("ASGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("Rprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("Rprop", dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ("Rprop", dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
]


@pytest.mark.parametrize("name, kwargs, message", ERRORS,
                         ids=[f"{n}-{k}" for n, k, _ in ERRORS])
def test_errors(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("name", NAMES)
def test_common_errors(name):
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        getattr(optim, name)([])
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], lr=cr.zeros(2))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_state_layout_and_skipped_params(name, kw):
    params = make_params(cr)
    opt = getattr(optim, name)(params, **kw)
    train(cr, opt, params, 3)
    np.testing.assert_array_equal(params[3].detach().numpy(), U0)    # grad None: untouched
    assert params[3] not in opt.state
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    for i, p in enumerate(params[:3]):
        assert list(sd["state"][i]) == STATE_KEYS[name]
        for k, v in sd["state"][i].items():
            if k in ("step", "mu_product", "eta", "mu"):
                assert v.shape == () and v.dtype == cr.float32, k
            else:
                assert v.shape == p.shape and v.dtype == cr.float64, k
        assert sd["state"][i]["step"].item() == 3.0


@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_float32_and_zero_dim_params(name, kw):
    params = make_params(cr, "float32")
    opt = getattr(optim, name)(params, **kw)
    train(cr, opt, params, 2, "float32")
    assert all(p.dtype == cr.float32 for p in params)
    assert all(v.dtype == cr.float32 for s in opt.state.values() for v in s.values())
    s = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    opt = getattr(optim, name)([s], **kw)
    for _ in range(3):
        opt.zero_grad()
        ((s - 2.0) ** 2).backward()
        opt.step()
    assert s.shape == () and all(v.shape == () for v in opt.state[s].values())
    assert s.item() != 0.5


# NAdam's mu_product and ASGD's eta and mu are float32 while training and float64 after
# loading into float64 parameters (torch casts every non-step state tensor to the parameter's
# dtype): resumed training then differs from uninterrupted training by that rounding, in torch
# as here.
EXACT_RESUME = {"Adadelta", "Adamax", "RAdam", "Rprop"}


@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_state_dict_round_trip(name, kw):
    params = make_params(cr)
    opt = getattr(optim, name)(params, **kw)
    train(cr, opt, params, 5)
    saved_values = values(params)
    saved = copy.deepcopy(opt.state_dict())
    train(cr, opt, params, 5)
    resumed = make_params(cr, values=saved_values)
    opt2 = getattr(optim, name)(resumed, lr=123.0)          # lr comes back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    assert opt2.param_groups[0].keys() == opt.param_groups[0].keys()
    train(cr, opt2, resumed, 5)
    for x, y in zip(values(params), values(resumed)):
        if name in EXACT_RESUME:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name, keys", [("NAdam", ["mu_product"]), ("ASGD", ["eta", "mu"])])
def test_scalar_state_as_numbers_loads(name, keys):
    # old state dicts hold step (and these) as Python numbers: they become 0-d tensors
    params = make_params(cr)
    opt = getattr(optim, name)(params, lr=0.05)
    train(cr, opt, params, 2)
    sd = copy.deepcopy(opt.state_dict())
    for s in sd["state"].values():
        for k in ["step"] + keys:
            s[k] = s[k].item()
    opt2 = getattr(optim, name)(make_params(cr, values=values(params)))
    opt2.load_state_dict(sd)
    for s in opt2.state.values():
        assert all(isinstance(s[k], cr.Tensor) and s[k].dtype == cr.float32
                   for k in ["step"] + keys)
    train(cr, opt2, opt2.param_groups[0]["params"], 1)


@pytest.mark.parametrize("module", ["adadelta", "adamax", "nadam", "radam", "asgd", "rprop"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    mod = importlib.import_module("chainrule.optim." + module)
    result = doctest.testmod(mod, extraglobs={"chainrule": cr},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# =========================================================================================
# against torch
# =========================================================================================

@needs_torch
@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        params = make_params(lib)
        opt = getattr(lib.optim, name)(params, **kw)
        train(lib, opt, params, 20)
        runs.append(values(params))
    for x, y in zip(*runs):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
    assert not np.allclose(runs[0][0], W0)                          # it did move
    np.testing.assert_array_equal(runs[0][3], U0)


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_float32_trajectory_matches_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        params = make_params(lib, "float32")
        opt = getattr(lib.optim, name)(params, **kw)
        train(lib, opt, params, 6, "float32")
        runs.append(values(params))
    for x, y in zip(*runs):
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_groups_and_add_param_group_match_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        W, b, q, u = make_params(lib)
        opt = getattr(lib.optim, name)([{"params": [W, u]},
                                        {"params": [b], "lr": kw["lr"] / 2}], **kw)
        train(lib, opt, [W, b, q, u], 3)
        opt.add_param_group({"params": [q], "lr": kw["lr"] * 2})
        train(lib, opt, [W, b, q, u], 5)
        runs.append(values([W, b, q, u]))
    for x, y in zip(*runs):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)


@needs_torch
@pytest.mark.parametrize("name, kwargs, message", ERRORS,
                         ids=[f"{n}-{k}" for n, k, _ in ERRORS])
def test_errors_match_torch(name, kwargs, message):
    with pytest.raises(Exception) as t_info:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    assert type(t_info.value) is ValueError and str(t_info.value) == message


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_repr_and_defaults_match_torch(name):
    def build(lib):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}])

    c, t = build(cr), build(torch)
    assert repr(c) == repr(t)
    assert c.defaults == t.defaults
    assert list(c.defaults) == list(t.defaults)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(name):
    import inspect

    def params(cls):
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(cls).parameters.values()]

    assert params(getattr(optim, name)) == params(getattr(torch.optim, name))


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


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_state_dict_moves_between_chainrule_and_torch(name, kw):
    libs = {"cr": cr, "torch": torch}
    convert = {"cr": _to_torch, "torch": _to_chainrule}
    for src, dst in (("cr", "torch"), ("torch", "cr")):
        params = make_params(libs[src])
        opt = getattr(libs[src].optim, name)(params, **kw)
        train(libs[src], opt, params, 5)
        sd = opt.state_dict()
        moved = make_params(libs[dst], values=values(params))
        opt2 = getattr(libs[dst].optim, name)(moved, **kw)
        opt2.load_state_dict({"state": {k: convert[src](v) for k, v in sd["state"].items()},
                              "param_groups": copy.deepcopy(sd["param_groups"])})
        sd2 = opt2.state_dict()
        assert sd2["param_groups"] == sd["param_groups"]
        assert {k: list(v) for k, v in sd2["state"].items()} == \
            {k: list(v) for k, v in sd["state"].items()}
        # both sides resumed from the same state dict continue alike
        again = make_params(libs[src], values=values(params))
        opt3 = getattr(libs[src].optim, name)(again, **kw)
        opt3.load_state_dict(copy.deepcopy(sd))
        train(libs[src], opt3, again, 10)
        train(libs[dst], opt2, moved, 10)
        for x, y in zip(values(again), values(moved)):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)


@needs_torch
@pytest.mark.parametrize("name, kw", RICH, ids=NAMES)
def test_tensor_lr_matches_torch(name, kw):
    runs = []
    for lib in (cr, torch):
        params = make_params(lib)
        opt = getattr(lib.optim, name)(params, **dict(kw, lr=lib.tensor(kw["lr"],
                                                                          dtype=lib.float64)))
        train(lib, opt, params, 8)
        runs.append(values(params))
    for x, y in zip(*runs):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
