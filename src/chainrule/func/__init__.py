"""``chainrule.func``: torch.func's composable transforms.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev`` (reverse mode), ``jvp``, ``linearize``,
``jacfwd`` (forward mode, derived from two reverse passes), ``hessian``, ``vmap`` (batching
rules per primitive) and ``functional_call``.  Functions take and return tensors, or tuples,
lists and dicts of them; transforms compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``,
``vmap(grad(f))``).  See docs/func.md.

>>> import chainrule as torch
>>> from chainrule.func import grad, vmap
>>> vmap(grad(lambda x: (x ** 2).sum()))(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
tensor([[2., 4.],
        [6., 8.]])
"""
from ._autodiff import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._functional_call import functional_call
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "vjp", "vmap"]
