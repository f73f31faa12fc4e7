"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, check_lr, check_nonneg, check_unsupported, nd, scalar,
                        set_defaults, step_groups)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), torch's update::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        b ← g at the first step, then momentum·b + (1 − dampening)·g
        g ← g + momentum·b if nesterov, else b
        θ ← θ − lr·g

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()
    ...     opt.step()
    >>> w
    tensor([ 0.0620, -0.1240], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_lr(lr)
        check_nonneg(momentum, "momentum value")
        check_nonneg(weight_decay, "weight_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, nesterov=False, maximize=False, foreach=None,
                      differentiable=False, fused=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _sgd_group)


def _sgd_group(state, group):
    # torch's _single_tensor_sgd, operation for operation, on the arrays
    lr = scalar(group["lr"])
    weight_decay = scalar(group["weight_decay"])
    momentum = scalar(group["momentum"])
    dampening = scalar(group["dampening"])
    nesterov, maximize = group["nesterov"], group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        fresh = False                          # is g an array of our own (free to overwrite)?
        if maximize:
            g = xp.negative(g)
            fresh = True
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
            fresh = True
        if momentum != 0:
            s = state[p]
            buf = s.get("momentum_buffer")
            if buf is None:
                b = g if fresh else g.copy()
                s["momentum_buffer"] = wrap(b.reshape(p._data.shape))
            else:
                b = nd(buf._data)
                b *= momentum
                if dampening == 0:
                    b += g                     # torch's add_(g, alpha=1): b + 1·g is b + g
                else:
                    b += xp.multiply(g, 1 - dampening)
            if nesterov:
                t = xp.multiply(b, momentum)
                g = xp.add(g, t, out=t)
                fresh = True
            else:
                g = b
                fresh = False
        theta += xp.multiply(g, -lr, out=g if fresh else None)
        p._vc[0] += 1
