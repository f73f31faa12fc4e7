"""Utilities for training, as ``torch.nn.utils``: gradient clipping and flattening parameters.

>>> fc = chainrule.nn.Linear(3, 1)
>>> fc(chainrule.ones(4, 3)).sum().backward()
>>> norm = chainrule.nn.utils.clip_grad_norm_(fc.parameters(), max_norm=1.0)
>>> float(chainrule.cat([p.grad.flatten() for p in fc.parameters()]).norm()) <= 1.0 + 1e-5
True
"""
import types
import warnings

from ... import dtypes as D
from ... import functional as _f
from ..._backend import xp
from ...grad_mode import graph_break
from ...tensor import Tensor, wrap

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(a, p):
    a = xp.abs(a)
    if p == float("inf"):
        return a.max(initial=0).astype(a.dtype)
    if p == float("-inf"):
        return a.min() if a.size else xp.asarray(xp.inf, a.dtype)
    if p == 0:
        return xp.asarray((a != 0).sum(), a.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return xp.sqrt((a * a).sum())
    return ((a ** p).sum() ** (1.0 / p)).astype(a.dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector.

    >>> chainrule.nn.utils.get_total_norm([chainrule.tensor([3.0]), chainrule.tensor([4.0])])
    tensor(5.)
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return wrap(xp.asarray(0.0, D.default_float_np()))
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    dt = xp.result_type(*norms)
    total = _vector_norm(xp.stack([xp.asarray(n, dt) for n in norms]), norm_type)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return wrap(xp.asarray(total, dt))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every ``.grad`` by min(max_norm / (total_norm + 1e-6), 1), in place."""
    graph_break("clipping gradients (it changes .grad outside the recorded operations)")
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else xp.asarray(total_norm)
    coef = xp.minimum(xp.asarray(float(max_norm), total.dtype) / (total + 1e-6), 1.0)
    for g in grads:
        g._data *= coef.astype(g._data.dtype)
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients so their total norm (all together) is at most ``max_norm``.

    Returns the total norm before clipping, as a tensor.

    >>> p = chainrule.nn.Parameter(chainrule.zeros(2)); p.grad = chainrule.tensor([3.0, 4.0])
    >>> chainrule.nn.utils.clip_grad_norm_([p], 1.0), p.grad
    (tensor(5.), tensor([0.6000, 0.8000]))
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every ``.grad`` to [-clip_value, clip_value], in place.

    >>> p = chainrule.nn.Parameter(chainrule.zeros(2)); p.grad = chainrule.tensor([3.0, -0.5])
    >>> chainrule.nn.utils.clip_grad_value_([p], 1.0); p.grad
    tensor([ 1.0000, -0.5000])
    """
    graph_break("clipping gradients (it changes .grad outside the recorded operations)")
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._vc[0] += 1


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-d tensor (recorded: gradients flow).

    >>> chainrule.nn.utils.parameters_to_vector(chainrule.nn.Linear(3, 2).parameters()).shape
    chainrule.Size([8])
    """
    return _f.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy slices of the 1-d ``vec`` into the parameters (each takes a view of ``vec``'s data).

    >>> fc = chainrule.nn.Linear(2, 1)
    >>> chainrule.nn.utils.vector_to_parameters(chainrule.zeros(3), fc.parameters())
    >>> fc.bias
    Parameter containing:
    tensor([0.], requires_grad=True)
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        if pointer + n > vec.numel():
            raise RuntimeError(f"vector_to_parameters: vec has {vec.numel()} elements, fewer "
                               "than the parameters hold")
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
