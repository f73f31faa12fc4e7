"""Rprop: resilient backpropagation, per-coordinate step sizes driven by gradient signs."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_unsupported, nd, scalar,
                        set_defaults, step_groups, step_tensor)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, torch's update (the step sizes s start at lr)::

        g ← ∇θ (−∇θ if maximize);   r = sign(g·g_prev)
        s ← clamp(s·(η₊ if r > 0, η₋ if r < 0, 1 if r = 0), step_sizes)
        g ← 0 where r < 0;   θ ← θ − sign(g)·s;   g_prev ← g

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Rprop([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step moves each coordinate by lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      capturable=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _rprop_group)


def _rprop_group(state, group):
    # torch's _single_tensor_rprop (capturable=False), operation for operation, on the arrays
    etaminus, etaplus = (scalar(e) for e in group["etas"])
    step_size_min, step_size_max = (scalar(s) for s in group["step_sizes"])
    maximize = group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["prev"] = wrap(xp.zeros_like(p._data))
            s["step_size"] = wrap(xp.full_like(p._grad._data, scalar(group["lr"])))
        if maximize:
            g = xp.negative(g)
        advance(s["step"])
        prev, step_size = nd(s["prev"]._data), nd(s["step_size"]._data)
        sign = xp.multiply(g, prev)
        xp.sign(sign, out=sign)
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = xp.array(g, copy=True)
        g[sign == etaminus] = 0
        prev[...] = g
        xp.sign(g, out=g)                      # addcmul(sign(g), s, value=−1)
        g *= step_size
        theta -= g
        p._vc[0] += 1
