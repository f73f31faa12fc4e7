"""AdamW: Adam with decoupled weight decay (the decay shrinks θ, it is not added to g)."""
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay: each step first shrinks θ ← θ(1 − lr·weight_decay),
    then takes Adam's step on the plain gradient.  ``weight_decay`` defaults to 1e-2.

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.AdamW([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # shrunk by 1 − lr·weight_decay, then moved by lr
    tensor([ 0.8990, -1.8980], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        # a state dict saved by Adam still gives AdamW's update when loaded here (as torch)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
