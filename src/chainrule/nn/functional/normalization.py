"""layer_norm, batch_norm, group_norm, rms_norm, instance_norm and local_response_norm, as
``torch.nn.functional``'s.

All are composites of mean, subtraction and rsqrt (local_response_norm: a matmul with a
constant channel-window matrix and a power), so they need no derivative code; variances are
taken of the centred values (two passes), which stays accurate when the mean is large.
"""
import math

from ... import functional as _f
from ... import ops
from ..._backend import xp
from ...functional._args import tensor_arg
from ...grad_mode import no_grad
from ...tensor import apply, wrap

__all__ = ["layer_norm", "batch_norm", "group_norm", "rms_norm"]


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def _check_trailing(x, shape, op):
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        want = ", ".join(map(str, shape))
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {want}], but got input of size{list(x.shape)} ({op} normalises "
                           "over the input's last dims, which must equal normalized_shape)")


def _check_param(p, shape, what, op):
    if p is not None and tuple(p.shape) != shape:
        raise RuntimeError(f"{op}: expected {what} of shape {list(shape)}, got "
                           f"{list(p.shape)}")


def _normalise(x, dims, eps):
    """(x - mean) / √(var + eps) over dims, and the mean and biased variance (keepdim)."""
    mu = _f.mean(x, dims, keepdim=True)
    xc = x - mu
    var = _f.mean(xc * xc, dims, keepdim=True)
    return xc * _f.rsqrt(var + eps), mu, var


def _affine(out, weight, bias):
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """out = (x - mean) / √(var + eps) · weight + bias, the statistics over the last dims.

    >>> x = chainrule.tensor([[1.0, 2.0, 3.0]])
    >>> chainrule.nn.functional.layer_norm(x, (3,))
    tensor([[-1.2247,  0.0000,  1.2247]])
    """
    x = tensor_arg(input)
    shape = _shape_tuple(normalized_shape)
    _check_trailing(x, shape, "layer_norm")
    _check_param(weight, shape, "weight", "layer_norm")
    _check_param(bias, shape, "bias", "layer_norm")
    if _fused_layer_norm(x, weight, bias):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        return apply(ops.layer_norm, inputs, {"ndim": len(shape), "eps": eps})
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    out, _, _ = _normalise(x, dims, eps)
    return _affine(out, weight, bias)


def _fused_layer_norm(x, weight, bias):
    """Whether ops.layer_norm (one node: a primitive for speed) computes this call: a weight,
    and every tensor float32 or float64 of one dtype; else the composite (float16 is
    accumulated there as the core's reductions do, mixed dtypes promote)."""
    dtype = x._data.dtype
    return weight is not None and dtype in (xp.float32, xp.float64) and \
        weight._data.dtype == dtype and (bias is None or bias._data.dtype == dtype)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """out = x / √(mean(x²) + eps) · weight over the last dims (eps defaults to the dtype's
    machine epsilon, as torch).

    >>> chainrule.nn.functional.rms_norm(chainrule.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    x = tensor_arg(input)
    shape = _shape_tuple(normalized_shape)
    _check_trailing(x, shape, "rms_norm")
    _check_param(weight, shape, "weight", "rms_norm")
    if eps is None:
        from ... import finfo
        eps = finfo(x.dtype).eps
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    out = x * _f.rsqrt(_f.mean(x * x, dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel (dim 1) of an (N, C, *) input.

    Training: by the batch's mean and biased variance; ``running_mean``/``running_var`` (when
    given) move towards the batch's mean and *unbiased* variance by ``momentum``, in place.
    Evaluation: by ``running_mean`` and ``running_var``.

    >>> x = chainrule.tensor([[1.0], [3.0]])
    >>> rm, rv = chainrule.zeros(1), chainrule.ones(1)
    >>> chainrule.nn.functional.batch_norm(x, rm, rv, training=True, eps=0.0)
    tensor([[-1.],
            [ 1.]])
    >>> rm, rv            # 0.9·0 + 0.1·2, 0.9·1 + 0.1·2 (the unbiased variance of 1, 3)
    (tensor([0.2000]), tensor([1.1000]))
    """
    x = tensor_arg(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *) with at least 2 "
                         f"dims, got shape {list(x.shape)}")
    c = x.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{what} should contain {c} elements not {t.numel()} "
                               f"(batch_norm: the input has C = {c} channels in dim 1)")
    dims = (0,) + tuple(range(2, x.ndim))
    cshape = _channel_shape(x)
    if training:
        n = x.numel() // c if c else 0
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {x.shape}")
        out, mu, var = _normalise(x, dims, eps)
        if running_mean is not None or running_var is not None:
            m = 0.0 if momentum is None else momentum
            with no_grad():
                if running_mean is not None:
                    _blend(running_mean, mu.detach().reshape(c), m)
                if running_var is not None:
                    unbiased = var.detach().reshape(c) * (n / max(n - 1, 1))
                    _blend(running_var, unbiased, m)
        w = None if weight is None else weight.reshape(cshape)
        b = None if bias is None else bias.reshape(cshape)
        return _affine(out, w, b)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: training=False needs running_mean and running_var (or "
                           "pass training=True to normalise by the batch's statistics)")
    # evaluation is an affine map per channel: x·scale + shift, computed on (C,) vectors
    scale = _f.rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return x * scale.reshape(cshape) + shift.reshape(cshape)


def _blend(running, batch, momentum):
    """running ← (1 - momentum)·running + momentum·batch, in place."""
    running.mul_(1 - momentum).add_(batch.to(running.dtype), alpha=momentum)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of C/num_groups channels of an (N, C, *) input, per sample; then
    a per-channel affine map.

    >>> chainrule.nn.functional.group_norm(chainrule.ones(2, 4, 3), 2).shape
    chainrule.Size([2, 4, 3])
    """
    x = tensor_arg(input)
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *), got shape "
                           f"{list(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {x.shape} and num_groups="
                           f"{num_groups}")
    _check_param(weight, (c,), "weight", "group_norm")
    _check_param(bias, (c,), "bias", "group_norm")
    rest = math.prod(x.shape[2:])
    g = x.reshape(n, num_groups, (c // num_groups) * rest)
    out, _, _ = _normalise(g, (2,), eps)
    out = out.reshape(tuple(x.shape))
    cshape = _channel_shape(x)
    return _affine(out, None if weight is None else weight.reshape(cshape),
                   None if bias is None else bias.reshape(cshape))


# -- issue 13: instance_norm, local_response_norm
__all__ += ["instance_norm", "local_response_norm"]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each channel of each sample of an (N, C, *) input over its spatial dims; then
    a per-channel affine map.

    With ``use_input_stats`` (the default) the sample's own statistics are used and
    ``running_mean``/``running_var`` (when given) move towards their mean over the batch (the
    variance unbiased), in place; otherwise the running statistics normalise.

    >>> x = chainrule.tensor([[[1.0, 3.0], [0.0, 4.0]]])
    >>> chainrule.nn.functional.instance_norm(x, eps=0.0)
    tensor([[[-1.,  1.],
             [-1.,  1.]]])
    """
    x = tensor_arg(input)
    if x.ndim < 2:
        raise RuntimeError(f"instance_norm: expected an input of shape (N, C, *), got shape "
                           f"{list(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if use_input_stats and math.prod(x.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{x.shape}")
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{what} should contain {c} elements not {t.numel()} "
                               f"(instance_norm: the input has C = {c} channels in dim 1)")
    cshape = _channel_shape(x)
    w = None if weight is None else weight.reshape(cshape)
    b = None if bias is None else bias.reshape(cshape)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        out = (x - running_mean.reshape(cshape)) * _f.rsqrt(running_var.reshape(cshape) + eps)
        return _affine(out, w, b)
    dims = tuple(range(2, x.ndim))
    out, mu, var = _normalise(x, dims, eps)
    if running_mean is not None or running_var is not None:
        m = 0.0 if momentum is None else momentum
        k = math.prod(x.shape[2:])
        with no_grad():
            if running_mean is not None:
                _blend(running_mean, mu.detach().reshape(n, c).mean(0), m)
            if running_var is not None:
                unbiased = var.detach().reshape(n, c) * (k / max(k - 1, 1))
                _blend(running_var, unbiased.mean(0), m)
    return _affine(out, w, b)


def channel_window(c, lo, hi, dtype):
    """(c, c) matrix: row i sums channels i - lo … i + hi (clipped to [0, c)), as a channel
    window for local response normalisation."""
    i = xp.arange(c)
    d = i[None, :] - i[:, None]
    return ((d >= -lo) & (d <= hi)).astype(dtype)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """out = x / (k + alpha/size · Σ x² over ``size`` neighbouring channels)^beta, on
    (N, C, *) inputs (the window is zero-padded: size//2 before, (size-1)//2 after).

    >>> x = chainrule.ones(1, 2, 1)
    >>> chainrule.nn.functional.local_response_norm(x, 2, alpha=1.0, beta=1.0, k=0.0)
    tensor([[[2.],
             [1.]]])
    """
    x = tensor_arg(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    c = x.shape[1]
    win = channel_window(c, size // 2, (size - 1) // 2, x._data.dtype) / size
    sq = _f.transpose(x * x, 1, -1)
    div = _f.transpose(_f.matmul(sq, wrap(xp.ascontiguousarray(win.T))), 1, -1)
    div = (div * alpha + k) ** beta
    return x / div
