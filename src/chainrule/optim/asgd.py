"""ASGD: averaged stochastic gradient descent (Polyak-Ruppert averaging in state "ax")."""
from .._backend import xp
from ..tensor import Tensor, wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, nd,
                        scalar, set_defaults, step_groups, step_tensor)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD, torch's update (t counts this parameter's steps; η starts at lr, μ at 1)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        θ ← θ(1 − λη) − ηg;   ax ← ax + μ(θ − ax)   (ax ← θ while μ = 1)
        η ← lr/(1 + λ·lr·t)^α;   μ ← 1/max(1, t − t0)

    ``eta`` and ``mu`` are 0-d tensors of the default dtype (float32), as torch's.  The
    average lives in ``state[p]["ax"]``; the parameters themselves follow plain decayed SGD.

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.ASGD([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    _capturable_error = ("If capturable=True, params, mus, etas, and state_steps must "
                         "be on supported devices: ['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonneg(weight_decay, "weight_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      capturable=False)
        for s in self.state.values():
            if isinstance(s, dict):
                for key in ("eta", "mu"):
                    if key in s and not isinstance(s[key], Tensor):
                        s[key] = _scalar_state(s[key])

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _asgd_group)


def _scalar_state(value):
    """A 0-d state tensor of the default scalar dtype (float32, as torch's) holding value."""
    t = step_tensor()
    t._data[...] = float(value)
    return t


def _asgd_group(state, group):
    # torch's _single_tensor_asgd (capturable=False), operation for operation, on the arrays
    lr = scalar(group["lr"])
    lambd = scalar(group["lambd"])
    alpha = scalar(group["alpha"])
    t0 = scalar(group["t0"])
    weight_decay = scalar(group["weight_decay"])
    maximize = group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["eta"] = _scalar_state(lr)
            s["mu"] = _scalar_state(1.0)
            s["ax"] = wrap(xp.zeros_like(p._data))
        if maximize:
            g = xp.negative(g)
        advance(s["step"])
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
        eta = float(s["eta"]._data)
        mu = float(s["mu"]._data)
        theta *= 1 - lambd * eta               # decay
        t = xp.multiply(g, -eta)               # add(alpha=−η)
        theta += t
        ax = nd(s["ax"]._data)
        if mu != 1:
            t = xp.subtract(theta, ax, out=t)
            t *= mu
            ax += t
        else:
            ax[...] = theta
        step = float(s["step"]._data)
        # torch.as_tensor(number) makes a default-dtype tensor: the new values are rounded to
        # it even when eta and mu are float64 (after load_state_dict into float64 params)
        s["eta"]._data[...] = _scalar_state(lr / ((1 + lambd * lr * step) ** alpha))._data
        s["mu"]._data[...] = _scalar_state(1 / max(1, step - t0))._data
        p._vc[0] += 1
