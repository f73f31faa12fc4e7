"""RMSprop, optionally centered and with momentum."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, lerp_,
                        nd, scalar, set_defaults, step_groups, step_tensor)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, torch's update::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        v ← αv + (1 − α)g²;   centered: ḡ ← lerp(ḡ, g, 1 − α), v' = v − ḡ²  (else v' = v)
        b ← momentum·b + g/(√v' + eps);  θ ← θ − lr·b     (momentum > 0)
        θ ← θ − lr·g/(√v' + eps)                           (momentum = 0)

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.RMSprop([w], lr=0.01, momentum=0.9)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step moves each coordinate by lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon value")
        check_nonneg(momentum, "momentum value")
        check_nonneg(weight_decay, "weight_decay value")
        check_nonneg(alpha, "alpha value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, momentum=0, centered=False, foreach=None,
                      maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _rmsprop_group)


def _rmsprop_group(state, group):
    # torch's _single_tensor_rmsprop, operation for operation, on the arrays
    lr = scalar(group["lr"])
    alpha = scalar(group["alpha"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    momentum = scalar(group["momentum"])
    centered, maximize = group["centered"], group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["square_avg"] = wrap(xp.zeros_like(p._data))
            if momentum > 0:
                s["momentum_buffer"] = wrap(xp.zeros_like(p._data))
            if centered:
                s["grad_avg"] = wrap(xp.zeros_like(p._data))
        advance(s["step"])
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
        v = nd(s["square_avg"]._data)
        v *= alpha
        t = xp.multiply(g, 1 - alpha)          # addcmul: v + ((1 − α)·g)·g
        t *= g
        v += t
        if centered:
            ga = nd(s["grad_avg"]._data)
            lerp_(ga, g, 1 - alpha)
            avg = xp.multiply(ga, -1, out=t)   # addcmul(ḡ, ḡ, value=−1): v + (−ḡ)·ḡ
            avg *= ga
            avg += v
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(v, out=t)
        avg += eps
        if momentum > 0:
            b = nd(s["momentum_buffer"]._data)
            b *= momentum
            b += xp.divide(g, avg, out=avg)    # addcdiv(g, avg, value=1)
            theta += xp.multiply(b, -lr, out=avg)
        else:
            u = xp.multiply(g, -lr)            # addcdiv: θ + (−lr·g)/avg
            u /= avg
            theta += u
        p._vc[0] += 1
