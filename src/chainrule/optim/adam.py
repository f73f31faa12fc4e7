"""Adam (and, with ``decoupled_weight_decay=True``, AdamW), with the AMSGrad variant."""
from .._backend import xp
from ..tensor import Tensor, wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, lerp_,
                        nd, scalar, set_defaults, step_groups, step_tensor)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, torch's update (t counts this parameter's steps)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ    (AdamW: θ ← θ(1 − lr·weight_decay))
        m ← lerp(m, g, 1 − β₁);  v ← β₂v + (1 − β₂)g²;  v̂ ← max(v̂, v) if amsgrad
        θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step moves each coordinate by lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_nonneg(weight_decay, "weight_decay value")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors (write "
                             f"betas=({float(betas[0])}, {float(betas[1])}))")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, amsgrad=False, maximize=False, foreach=None,
                      capturable=False, differentiable=False, decoupled_weight_decay=False,
                      fused=None)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _adam_group)


def _adam_group(state, group):
    # torch's _single_tensor_adam (capturable=False), operation for operation, on the arrays
    lr = scalar(group["lr"])
    beta1, beta2 = (scalar(b) for b in group["betas"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    amsgrad, maximize = group["amsgrad"], group["maximize"]
    decoupled = group["decoupled_weight_decay"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["exp_avg"] = wrap(xp.zeros_like(p._data))
            s["exp_avg_sq"] = wrap(xp.zeros_like(p._data))
            if amsgrad:
                s["max_exp_avg_sq"] = wrap(xp.zeros_like(p._data))
        step = advance(s["step"])
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            if decoupled:
                theta *= 1 - lr * weight_decay
            else:
                t = xp.multiply(theta, weight_decay)
                g = xp.add(g, t, out=t)
        m, v = nd(s["exp_avg"]._data), nd(s["exp_avg_sq"]._data)
        lerp_(m, g, 1 - beta1)
        v *= beta2
        t = xp.multiply(g, 1 - beta2)          # addcmul: v + ((1 − β₂)·g)·g
        t *= g
        v += t

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if amsgrad:
            vmax = nd(s["max_exp_avg_sq"]._data)
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v, out=t)              # t is free again: reuse it
        denom /= bias_correction2_sqrt
        denom += eps
        u = xp.multiply(m, -step_size)         # addcdiv: θ + (−step_size·m)/denom
        u /= denom
        theta += u
        p._vc[0] += 1
