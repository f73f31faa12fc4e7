"""PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, SequentialLR and ChainedScheduler
(issue #13): 30+ step lr sequences against torch 2.13 (when installed) and against the closed
forms of torch's documentation (always), state_dict round trips, and argument errors."""
import math
import warnings

import pytest

import chainrule
from chainrule.optim import lr_scheduler as cls

N = 40


def _groups(lib, opt_name="SGD", **kw):
    w1 = lib.zeros(2, requires_grad=True)
    w2 = lib.zeros(3, requires_grad=True)
    opt_cls = getattr(lib.optim, opt_name)
    return opt_cls([{"params": [w1]}, {"params": [w2], "lr": 0.5}], lr=0.1, **kw)


# (name, scheduler factory taking (lr_scheduler module, optimizer), optimizer kwargs)
CASES = {
    "poly": (lambda m, o: m.PolynomialLR(o, total_iters=25, power=0.9), "SGD", {}),
    "poly1": (lambda m, o: m.PolynomialLR(o, total_iters=7), "SGD", {}),
    "warm": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01), "SGD", {}),
    "warm2": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), "SGD", {}),
    "tri": (lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.3], step_size_up=4, step_size_down=6),
            "SGD", {"momentum": 0.9}),
    "tri2": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"),
             "SGD", {"momentum": 0.9}),
    "exp": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range",
                                    gamma=0.97), "Adam", {}),
    "custom": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                       scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                                       cycle_momentum=False), "SGD", {}),
    "seq": (lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                             m.CosineAnnealingLR(o, T_max=10),
                                             m.ExponentialLR(o, gamma=0.9)],
                                        milestones=[5, 15]), "SGD", {}),
    "chain": (lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.3, total_iters=4),
                                               m.ExponentialLR(o, gamma=0.95),
                                               m.PolynomialLR(o, total_iters=30)]), "SGD", {}),
}


def _run(lib, m, case, steps=N):
    make, opt_name, kw = CASES[case]
    opt = _groups(lib, opt_name, **kw)
    sched = make(m, opt)
    out = [(sched.get_last_lr(), _mom(opt))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            sched.step()
            out.append((list(sched.get_last_lr()), _mom(opt)))
    return out


def _mom(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


@pytest.mark.parametrize("case", sorted(CASES))
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    ours = _run(chainrule, cls, case)
    theirs = _run(torch, torch.optim.lr_scheduler, case)
    for (lr_a, m_a), (lr_b, m_b) in zip(ours, theirs):
        assert lr_a == pytest.approx(lr_b, rel=1e-12, abs=1e-15)
        assert m_a == pytest.approx(m_b, rel=1e-12, abs=1e-15)


# --- closed forms (no torch needed)

def test_polynomial_closed_form():
    seq = _run(chainrule, cls, "poly")
    for e, (lrs, _) in enumerate(seq):
        for base, lr in zip([0.1, 0.5], lrs):
            assert lr == pytest.approx(base * (1 - min(e, 25) / 25) ** 0.9, abs=1e-12)
    assert seq[-1][0] == [0.0, 0.0]


def test_warm_restarts_closed_form():
    seq = _run(chainrule, cls, "warm2")           # T_0=3, T_mult=2: periods 3, 6, 12, 24
    starts = [0, 3, 9, 21]
    for e, (lrs, _) in enumerate(seq):
        k = max(i for i, s in enumerate(starts) if s <= e)
        t_cur, t_i = e - starts[k], 3 * 2 ** k
        for base, lr in zip([0.1, 0.5], lrs):
            assert lr == pytest.approx(base * (1 + math.cos(math.pi * t_cur / t_i)) / 2,
                                       abs=1e-12)


def test_warm_restarts_float_epoch():
    opt = _groups(chainrule)
    sched = cls.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.01)
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(32):
            epoch = i * 0.75
            opt.step()
            sched.step(epoch)
            got.append((epoch, sched.last_epoch, sched.get_last_lr()))
    for epoch, last, lrs in got:
        assert last == math.floor(epoch)
        start, t_i = (0, 4) if epoch < 4 else (4, 8) if epoch < 12 else (12, 16)
        want = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * (epoch - start) / t_i)) / 2
        assert lrs[0] == pytest.approx(want, abs=1e-12)
    torch = pytest.importorskip("torch")
    topt = _groups(torch)
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=4, T_mult=2,
                                                               eta_min=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch, last, lrs in got:
            topt.step()
            ts.step(epoch)
            assert ts.last_epoch == last
            assert lrs == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)


def test_cyclic_closed_form():
    seq = _run(chainrule, cls, "tri2")            # up 3, down 3, amplitude halves per cycle
    for e, (lrs, moms) in enumerate(seq):
        cycle = e // 6
        pos = e % 6
        frac = pos / 3 if pos <= 3 else (6 - pos) / 3
        amp = 0.5 ** cycle
        assert lrs[0] == pytest.approx(0.01 + 0.09 * frac * amp, abs=1e-12)
        assert lrs[1] == lrs[0]                   # base_lr overrides each group's lr
        assert moms[0] == pytest.approx(0.9 - 0.1 * frac * amp, abs=1e-12)


def test_cyclic_exp_range_sets_betas():
    seq = _run(chainrule, cls, "exp")             # Adam: β₁ cycles, β₂ untouched
    for e, (lrs, moms) in enumerate(seq):
        pos = e % 10
        frac = pos / 5 if pos <= 5 else (10 - pos) / 5
        assert lrs[0] == pytest.approx(0.01 + 0.09 * frac * 0.97 ** e, abs=1e-12)
        assert moms[0] == pytest.approx(0.9 - 0.1 * frac * 0.97 ** e, abs=1e-12)


def test_sequential_closed_form():
    seq = _run(chainrule, cls, "seq")
    for e, (lrs, _) in enumerate(seq):
        if e < 5:
            want = 0.1 * (0.1 + 0.9 * e / 5)
        elif e < 15:
            want = 0.1 * (1 + math.cos(math.pi * (e - 5) / 10)) / 2
        else:
            want = 0.1 * 0.9 ** (e - 15)
        assert lrs[0] == pytest.approx(want, abs=1e-12)


def test_chained_closed_form():
    seq = _run(chainrule, cls, "chain")
    for e, (lrs, _) in enumerate(seq):
        want = 0.5 * (0.3 if e < 4 else 1) * 0.95 ** e * (1 - min(e, 30) / 30)
        assert lrs[1] == pytest.approx(want, abs=1e-12)


# --- state_dict round trips: a fresh scheduler loaded mid-run continues identically

@pytest.mark.parametrize("case", sorted(CASES))
def test_state_dict_round_trip(case):
    make, opt_name, kw = CASES[case]
    full = _run(chainrule, cls, case, steps=30)
    opt = _groups(chainrule, opt_name, **kw)
    sched = make(cls, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(13):
            opt.step()
            sched.step()
        sd = sched.state_dict()
        keys = set(sd)
        opt2 = _groups(chainrule, opt_name, **kw)
        sched2 = make(cls, opt2)                  # the usual resume order: build, then load
        opt2.load_state_dict(opt.state_dict())
        sched2.load_state_dict(sd)
        assert set(sd) == keys                    # load_state_dict leaves its argument whole
        assert sched2.get_last_lr() == full[13][0]
        for i in range(14, 31):
            opt2.step()
            sched2.step()
            assert sched2.get_last_lr() == pytest.approx(full[i][0], rel=1e-12, abs=1e-15)


def test_cyclic_state_dict_drops_functions_keeps_callable_objects():
    class Scale:
        def __init__(self):
            self.k = 2.0

        def __call__(self, x):
            return 1 / self.k

    opt = _groups(chainrule, momentum=0.9)
    fn = Scale()
    sched = cls.CyclicLR(opt, 0.01, 0.1, scale_fn=fn)
    fn.k = 4.0
    sd = sched.state_dict()
    assert sd["_scale_fn_custom"] == {"k": 4.0} and "_scale_fn_ref" not in sd
    fn.k = 1.0
    sched.load_state_dict(sd)
    assert fn.k == 4.0
    sched2 = cls.CyclicLR(_groups(chainrule, momentum=0.9), 0.01, 0.1,
                          scale_fn=lambda x: 1.0)
    assert sched2.state_dict()["_scale_fn_custom"] is None
    sched3 = cls.CyclicLR(_groups(chainrule, momentum=0.9), 0.01, 0.1)
    sd3 = sched3.state_dict()
    assert "_scale_fn_ref" not in sd3
    sched3.load_state_dict(sd3)
    assert sched3.scale_fn(3) == 1.0


def test_composite_state_dict_nests_schedulers():
    opt = _groups(chainrule)
    a, b = cls.ConstantLR(opt), cls.ExponentialLR(opt, gamma=0.9)
    sd = cls.SequentialLR(opt, [a, b], milestones=[3]).state_dict()
    assert isinstance(sd["_schedulers"], list) and len(sd["_schedulers"]) == 2
    assert sd["_schedulers"][1]["gamma"] == 0.9 and "optimizer" not in sd["_schedulers"][0]
    sd = cls.ChainedScheduler([a, b]).state_dict()
    assert [s["last_epoch"] for s in sd["_schedulers"]] == [a.last_epoch, b.last_epoch]


# --- errors (torch's types and messages)

def test_errors():
    opt = _groups(chainrule)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        cls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 2.0"):
        cls.CosineAnnealingWarmRestarts(opt, T_0=2.0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        cls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min"):
        cls.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")
    sched = cls.CosineAnnealingWarmRestarts(opt, T_0=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
            sched.step(-1)
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        cls.CyclicLR(opt, 0.01, 0.1, mode="sine", cycle_momentum=False)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        cls.CyclicLR(_groups(chainrule, "Adagrad"), 0.01, 0.1)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        cls.CyclicLR(opt, 0.01, [0.1], cycle_momentum=False)
    with pytest.raises(TypeError, match="int is not an Optimizer"):
        cls.CyclicLR(3, 0.01, 0.1)
    with pytest.raises(ValueError, match="SequentialLR expects at least one scheduler"):
        cls.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler"):
        cls.ChainedScheduler([])
    a = cls.ExponentialLR(opt, gamma=0.9)
    with pytest.raises(ValueError, match="number of schedulers 1 and the number of milestones"
                                         " to be equal to 1"):
        cls.SequentialLR(opt, [a], milestones=[2])
    plateau = cls.ReduceLROnPlateau(opt)
    for make in (lambda s: cls.SequentialLR(opt, s, milestones=[2]),
                 lambda s: cls.ChainedScheduler(s)):
        with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau` scheduler"
                                             ".* at index 1"):
            make([a, plateau])
        with pytest.raises(TypeError, match="at index 1 should have `optimizer`"):
            make([a, object()])
        other = cls.ExponentialLR(_groups(chainrule), gamma=0.9)
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same "
                                             "optimizer, but got scheduler ExponentialLR at "
                                             "index 1"):
            make([a, other])


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_state_dict_loads(case):
    """A torch scheduler's state dict (same keys) resumes a chainrule scheduler exactly."""
    torch = pytest.importorskip("torch")
    make, opt_name, kw = CASES[case]
    full = _run(torch, torch.optim.lr_scheduler, case, steps=30)
    topt = _groups(torch, opt_name, **kw)
    tsched = make(torch.optim.lr_scheduler, topt)
    opt = _groups(chainrule, opt_name, **kw)
    sched = make(cls, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(13):
            topt.step()
            tsched.step()
        sd = tsched.state_dict()
        assert set(sd) == set(sched.state_dict())
        sched.load_state_dict(sd)
        for g, tg in zip(opt.param_groups, topt.param_groups):
            g.update({k: tg[k] for k in tg if k != "params"})
        for i in range(14, 31):
            opt.step()
            sched.step()
            assert sched.get_last_lr() == pytest.approx(full[i][0], rel=1e-12, abs=1e-15)
