"""SparseAdam: torch's optimizer for sparse gradients (``nn.Embedding(sparse=True)``).

chainrule has no sparse tensors: every gradient is dense (``Embedding(sparse=True)`` is
accepted and produces a dense gradient).  SparseAdam therefore validates its arguments as torch
does and, like torch given a dense gradient, refuses to step; use ``Adam`` instead.
"""
from ..tensor import Tensor
from .optimizer import Optimizer, step_groups

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients.  chainrule's gradients are always dense, so ``step`` raises
    torch's error for a dense gradient; parameters without a gradient are skipped.

    >>> w = chainrule.zeros(3, requires_grad=True)
    >>> opt = chainrule.optim.SparseAdam([w], lr=0.1)
    >>> w.sum().backward()
    >>> opt.step()
    Traceback (most recent call last):
    RuntimeError: SparseAdam does not support dense gradients, please consider Adam instead
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p._data.dtype.kind == "c"]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        """Raises for any parameter with a (necessarily dense) gradient, as torch does."""
        return step_groups(self, closure, _sparse_adam_group)


def _sparse_adam_group(state, group):
    for p in group["params"]:
        if p._grad is not None:
            raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                               "Adam instead")
