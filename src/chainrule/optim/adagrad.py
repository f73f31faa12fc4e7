"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, nd,
                        scalar, set_defaults, step_groups, step_tensor)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, torch's update (t counts this parameter's steps)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        s ← s + g²                      (s starts at initial_accumulator_value)
        θ ← θ − lr/(1 + (t − 1)·lr_decay) · g/(√s + eps)

    The state (``step``, ``sum``) exists from construction on, as in torch.

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adagrad([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step moves each coordinate by lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonneg(lr_decay, "lr_decay value")
        check_nonneg(weight_decay, "weight_decay value")
        check_nonneg(initial_accumulator_value, "initial_accumulator_value value")
        check_nonneg(eps, "epsilon value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                _init_state(self.state[p], p, initial_accumulator_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      fused=None)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, self._update_group)

    def _update_group(self, state, group):
        # torch initialises a new parameter's sum from the defaults, not from its group
        _adagrad_group(state, group, self.defaults["initial_accumulator_value"])


def _init_state(s, p, initial_accumulator_value):
    s["step"] = step_tensor()
    s["sum"] = wrap(xp.full_like(p._data, initial_accumulator_value))


def _adagrad_group(state, group, initial_accumulator_value):
    # torch's _single_tensor_adagrad (dense gradients), operation for operation, on the arrays
    lr = scalar(group["lr"])
    lr_decay = scalar(group["lr_decay"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    maximize = group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:                        # a parameter added by add_param_group
            _init_state(s, p, initial_accumulator_value)
        step = advance(s["step"])
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
        clr = lr / (1 + (step - 1) * lr_decay)
        acc = nd(s["sum"]._data)
        t = xp.multiply(g, g)                  # addcmul(g, g, value=1)
        acc += t
        std = xp.sqrt(acc, out=t)
        std += eps
        u = xp.multiply(g, -clr)               # addcdiv: θ + (−clr·g)/std
        u /= std
        theta += u
        p._vc[0] += 1
