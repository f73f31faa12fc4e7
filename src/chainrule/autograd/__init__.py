"""``chainrule.autograd``: the reverse pass as functions, ``Variable``, and ``Function``."""
from ..engine import backward, grad
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from ..tensor import Tensor
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import functional  # noqa: E402  (jacobian, hessian, vjp, jvp, hvp, vhp)


def Variable(data, requires_grad=False, volatile=False):
    """The legacy wrapper: ``Variable(t, requires_grad=True)`` is ``t`` requiring grad.

    As in PyTorch since 0.4, a Variable *is* a Tensor; the result shares ``data``'s storage.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    t = data.detach()
    if requires_grad:
        t.requires_grad_(True)
    return t


__all__ = ["Variable", "Function", "FunctionCtx", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "once_differentiable",
           "gradcheck", "gradgradcheck", "GradcheckError"]
