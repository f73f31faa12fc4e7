"""More losses and distances with PyTorch's names, signatures and reductions (issue #13):
margin, embedding, triplet, soft-margin, multi-margin, Poisson and Gaussian NLL losses, and
cosine_similarity, pairwise_distance, pdist, normalize.

All are composites of differentiable functions (clamp_min, where, logsigmoid, softplus, norms),
so first and second derivatives come from the graph.
"""
import math

from ... import functional as _F
from ..._backend import xp
from ...functional._args import tensor_arg
from ...grad_mode import is_grad_enabled, no_grad
from ...tensor import wrap
from .activation import logsigmoid, softplus
from .loss import reduction_arg

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_similarity", "pairwise_distance",
           "pdist", "normalize"]


def _shape(t):
    return tuple(t._data.shape)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _dtype_name(a, b):
    from ... import dtypes as D
    kind = xp.result_type(a._data, b._data)
    return D.SCALAR_NAMES.get(kind.name, kind.name)


def _clamped(value, low):
    """``value`` clamped below at ``low`` in value only: the gradient is value's own (torch
    clamps these norms in place under no_grad)."""
    with no_grad():
        shift = _F.clamp_min(value, low) - value
    return value + shift.detach()


# =========================================================================================
# Distances
# =========================================================================================

def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ (x1/max(‖x1‖, eps))·(x2/max(‖x2‖, eps)) over dim (each norm clamped separately, as
    torch 2.x).

    >>> chainrule.nn.functional.cosine_similarity(chainrule.tensor([[1.0, 0.0]]),
    ...                                          chainrule.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    a, b = tensor_arg(x1), tensor_arg(x2)
    if a._data.dtype.kind != "f" and b._data.dtype.kind != "f":
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_dtype_name(a, b)} (cosine_similarity needs a floating point "
                           "input: convert with .float())")
    if a._data.dtype.kind != "f":
        a = a.to(b.dtype)
    if b._data.dtype.kind != "f":
        b = b.to(a.dtype)
    a, b = _F.broadcast_tensors(a, b)
    na = _clamped(_F.linalg.vector_norm(a, 2, dim=dim, keepdim=True), eps)
    nb = _clamped(_F.linalg.vector_norm(b, 2, dim=dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + eps‖_p over the last dim.

    >>> chainrule.nn.functional.pairwise_distance(chainrule.tensor([[3.0, 4.0]]),
    ...                                          chainrule.zeros(1, 2), eps=0.0)
    tensor([5.])
    """
    a, b = tensor_arg(x1), tensor_arg(x2)
    dim = max(a.dim(), b.dim()) - 1
    d = a - b + eps
    if dim < 0:
        return _F.abs(d)
    return _F.linalg.vector_norm(d, p, dim=dim, keepdim=keepdim)


def pdist(input, p=2):
    """‖x_i - x_j‖_p for the rows i < j of a 2-D input (torch.pdist).

    >>> chainrule.nn.functional.pdist(chainrule.tensor([[0.0, 0.0], [3.0, 4.0]]))
    tensor([5.])
    """
    return _F.pdist(input, p)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(‖input‖_p over dim, eps).

    >>> chainrule.nn.functional.normalize(chainrule.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    x = tensor_arg(input)
    denom = _F.clamp_min(x.norm(p, dim, keepdim=True), eps).expand_as(x)
    result = x / denom
    if out is not None:
        out.copy_(result)
        return out
    return result


# =========================================================================================
# Margin and embedding losses
# =========================================================================================

def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y·(x1 - x2) + margin), reduced.

    >>> chainrule.nn.functional.margin_ranking_loss(chainrule.tensor([1.0]),
    ...     chainrule.tensor([2.0]), chainrule.tensor([1.0]))
    tensor(1.)
    """
    x1, x2, t = tensor_arg(input1), tensor_arg(input2), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    if x1.dim() != x2.dim() or x1.dim() != t.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {x1.size()}, input2: {x2.size()}, target: "
                           f"{t.size()} ")
    return _reduce(_F.clamp_min(-t * (x1 - x2) + margin, 0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (both terms for other y, as torch).

    >>> chainrule.nn.functional.hinge_embedding_loss(chainrule.tensor([0.3, 2.0]),
    ...     chainrule.tensor([-1.0, 1.0]))
    tensor(1.3500)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    margin_clamp = _F.clamp_min(margin - x, 0)
    out_margin = _F.where(t != 1, margin_clamp, 0.0)
    out_self = _F.where(t != -1, x, 0.0)
    return _reduce(out_margin + out_self, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y·x)), reduced.

    >>> chainrule.nn.functional.soft_margin_loss(chainrule.tensor([0.0]), chainrule.tensor([1.0]))
    tensor(0.6931)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    if t.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True. "
                           "(Pass target.detach() to use it as a constant.)")
    return _reduce(softplus(-t * x), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (cosine over the
    last dim, squared norms offset by 1e-12 as torch).

    >>> chainrule.nn.functional.cosine_embedding_loss(chainrule.tensor([[1.0, 0.0]]),
    ...     chainrule.tensor([[0.0, 1.0]]), chainrule.tensor([1.0]))
    tensor(1.)
    """
    x1, x2, t = tensor_arg(input1), tensor_arg(input2), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    if t.dim() not in (0, 1):
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported (got "
                           f"target of shape {_shape(t)})")
    if t.dim() == 1 and (x1.dim() != 2 or x2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(x1.shape)} and {list(x2.shape)}.")
    if t.dim() == 0 and (x1.dim() != 1 or x2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(x1.shape)} and {list(x2.shape)}.")
    dim = t.dim()
    prod = (x1 * x2).sum(dim)
    mag1 = (x1 * x1).sum(dim) + 1e-12
    mag2 = (x2 * x2).sum(dim) + 1e-12
    cos = prod / _F.sqrt(mag1 * mag2)
    pos = _F.where(t == 1, 1 - cos, 0.0)
    neg = _F.where(t == -1, _F.clamp_min(cos - margin, 0), 0.0)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d = pairwise_distance(·, ·, p, eps); with swap, d(a, n)
    is min(d(a, n), d(p, n)).

    >>> a = chainrule.tensor([[0.0, 0.0]])
    >>> chainrule.nn.functional.triplet_margin_loss(a, a, a, eps=0.0)
    tensor(1.)
    """
    a, po, ne = tensor_arg(anchor), tensor_arg(positive), tensor_arg(negative)
    reduction = reduction_arg(reduction, size_average, reduce)
    if not (a.dim() == po.dim() == ne.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a.dim()}D, positive "
                           f"{po.dim()}D, and negative {ne.dim()}D inputs")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(a, po, p, eps)
    d_neg = pairwise_distance(a, ne, p, eps)
    if swap:
        d_neg = _F.minimum(d_neg, pairwise_distance(po, ne, p, eps))
    return _reduce(_F.clamp_min(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance_function (default pairwise_distance).

    >>> a = chainrule.tensor([[0.0, 0.0]])
    >>> chainrule.nn.functional.triplet_margin_with_distance_loss(a, a, a)
    tensor(1.)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, po, ne = tensor_arg(anchor), tensor_arg(positive), tensor_arg(negative)
    if not (a.dim() == po.dim() == ne.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a.dim()}D, positive "
                           f"{po.dim()}D, and negative {ne.dim()}D inputs")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(a, po)
    d_neg = dist(a, ne)
    if swap:
        d_neg = _F.minimum(d_neg, dist(po, ne))
    return _reduce(_F.clamp_min(margin + d_pos - d_neg, 0), reduction)


# =========================================================================================
# Multi-class and multi-label margin losses
# =========================================================================================

def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-mean over classes of w·(y·logsigmoid(x) + (1 - y)·logsigmoid(-x)), then reduced.

    >>> chainrule.nn.functional.multilabel_soft_margin_loss(chainrule.zeros(1, 2),
    ...     chainrule.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    if size_average is not None or reduce is not None:
        reduction = reduction_arg(reduction, size_average, reduce)
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * tensor_arg(weight)
    class_dim = x.dim() - 1
    loss = loss.sum(class_dim) / x.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def _legacy_or(reduction, size_average, reduce):
    if size_average is not None or reduce is not None:
        return reduction_arg(reduction, size_average, reduce)
    return reduction_arg(reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C per sample (p 1 or 2), reduced.

    >>> chainrule.nn.functional.multi_margin_loss(chainrule.tensor([[0.1, 0.2, 0.4]]),
    ...     chainrule.tensor([2]))
    tensor(0.5000)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = _legacy_or(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None:
        weight = tensor_arg(weight)
        if weight.dim() != 1:
            raise ValueError("weight must be one-dimensional")
    if x.dim() > 2 or (x.dim() == 2 and x.shape[1] == 0) or (x.dim() < 2 and x.numel() == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    unbatched = x.dim() < 2
    x2 = x.reshape(1, -1) if unbatched else x
    n, c = x2.shape
    td = t._data.reshape(-1).astype(xp.int64)
    if td.shape[0] != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(t.shape)}")
    if ((td < 0) | (td >= c)).any():
        raise RuntimeError(f"target out of range (class indices must be in [0, {c}))")
    rows = xp.arange(n)
    xy = x2[rows, td].reshape(n, 1)
    z = _F.clamp_min(margin - xy + x2, 0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[td].reshape(n, 1)
    other = wrap(xp.asarray(xp.arange(c)[None, :] != td[:, None]))
    loss = _F.where(other, z, 0.0).sum(1) / c
    if unbatched:
        loss = loss.reshape(t.shape)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Σ_j Σ_{i ∉ targets} max(0, 1 - (x[y_j] - x[i])) / C per sample; target rows hold class
    indices, ended by the first -1.

    >>> chainrule.nn.functional.multilabel_margin_loss(chainrule.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...     chainrule.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = _legacy_or(reduction, size_average, reduce)
    if x.dim() > 2 or (x.dim() == 2 and x.shape[1] == 0) or (x.dim() < 2 and x.numel() == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    if _shape(t) != _shape(x):
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    unbatched = x.dim() < 2
    x2 = x.reshape(1, -1) if unbatched else x
    n, c = x2.shape
    td = t._data.reshape(n, c).astype(xp.int64)
    if ((td < -1) | (td >= c)).any():
        raise RuntimeError(f"argument #2 'target' is out of range (class indices must be in "
                           f"[0, {c}), a -1 ending each row's list)")
    # entries before the first -1 of each row are the targets
    valid = xp.cumprod(td != -1, axis=1).astype(bool)
    safe = xp.where(valid, td, 0)
    is_target = xp.zeros((n, c), bool)
    rows = xp.repeat(xp.arange(n), c).reshape(n, c)
    is_target[rows[valid], safe[valid]] = True
    xt = x2[rows, safe]                                     # x[n, y_j]
    z = _F.clamp_min(1 - xt.reshape(n, c, 1) + x2.reshape(n, 1, c), 0)
    mask = wrap(xp.asarray(valid[:, :, None] & ~is_target[:, None, :]))
    loss = _F.where(mask, z, 0.0).sum((1, 2)) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# =========================================================================================
# Likelihood losses
# =========================================================================================

def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(x) - y·x (log_input) or x - y·log(x + eps); full adds Stirling's y·log y - y +
    0.5·log(2πy) where y > 1.

    >>> chainrule.nn.functional.poisson_nll_loss(chainrule.tensor([0.0]), chainrule.tensor([1.0]))
    tensor(1.)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    if size_average is not None or reduce is not None:
        reduction = reduction_arg(reduction, size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = _F.exp(x) - t * x
    else:
        loss = x - t * _F.log(x + eps)
    if full:
        # Stirling's term of t itself, masked: as torch, the target's gradient is NaN at t = 0
        stirling = t * _F.log(t) - t + 0.5 * _F.log(2 * math.pi * t)
        loss = loss + _F.where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5·(log(max(var, eps)) + (input - target)² / max(var, eps)) (+ 0.5·log 2π if full).

    var has input's shape, or one dim fewer (the last), or one mismatched dim of size 1.

    >>> chainrule.nn.functional.gaussian_nll_loss(chainrule.tensor([1.0]), chainrule.zeros(1),
    ...     chainrule.ones(1))
    tensor(0.5000)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = wrap(xp.full(_shape(x), var, dtype=x._data.dtype))
    else:
        var = tensor_arg(var)
        if bool((var._data < 0).any()):
            raise ValueError("var has negative entry/entries")
    if _shape(var) != _shape(x):
        if _shape(x)[:-1] == _shape(var):
            var = var.unsqueeze(-1)
        elif x.dim() == var.dim() and sum(v for s, v in zip(_shape(x), _shape(var))
                                          if s != v) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = _clamped(var, eps)
    loss = 0.5 * (_F.log(var) + (x - t) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# =========================================================================================
# Top-level forms (torch.margin_ranking_loss, ...): reduction is torch's integer enum
# =========================================================================================

_ENUM = {0: "none", 1: "mean", 2: "sum"}


def _enum(fn, reduction):
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{fn}(): argument 'reduction' must be int, not "
                        f"{type(reduction).__name__} (the top-level form takes 0 = 'none', "
                        "1 = 'mean', 2 = 'sum'; nn.functional takes the string)")
    if reduction not in _ENUM:
        raise ValueError(f"{fn}(): {reduction} is not a valid value for reduction (0, 1 or 2)")
    return _ENUM[reduction]


def aten_margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """torch.margin_ranking_loss: max(0, -y·(x1 - x2) + margin), reduction an int enum.

    >>> chainrule.margin_ranking_loss(chainrule.tensor([1.0]), chainrule.tensor([2.0]),
    ...                               chainrule.tensor([1.0]), 0.0, 2)
    tensor(1.)
    """
    return margin_ranking_loss(input1, input2, target, margin,
                               reduction=_enum("margin_ranking_loss", reduction))


def aten_hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """torch.hinge_embedding_loss: x where y = 1, max(0, margin - x) where y = -1.

    >>> chainrule.hinge_embedding_loss(chainrule.tensor([0.5]), chainrule.tensor([-1.0]))
    tensor(0.5000)
    """
    return hinge_embedding_loss(input, target, margin,
                                reduction=_enum("hinge_embedding_loss", reduction))


def aten_cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """torch.cosine_embedding_loss: 1 - cos where y = 1, max(0, cos - margin) where y = -1.

    >>> chainrule.cosine_embedding_loss(chainrule.tensor([[1.0, 0.0]]),
    ...     chainrule.tensor([[0.0, 1.0]]), chainrule.tensor([1.0]))
    tensor(1.)
    """
    return cosine_embedding_loss(input1, input2, target, margin,
                                 reduction=_enum("cosine_embedding_loss", reduction))


def aten_triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                             reduction=1):
    """torch.triplet_margin_loss: max(0, margin + d(a, p) - d(a, n)).

    >>> a = chainrule.zeros(1, 2)
    >>> chainrule.triplet_margin_loss(a, a, a, 1.0, 2, 0.0)
    tensor(1.)
    """
    return triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                               reduction=_enum("triplet_margin_loss", reduction))


def aten_poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """torch.poisson_nll_loss (every argument required, reduction an int enum).

    >>> chainrule.poisson_nll_loss(chainrule.tensor([0.0]), chainrule.tensor([1.0]), True,
    ...                            False, 1e-8, 1)
    tensor(1.)
    """
    return poisson_nll_loss(input, target, log_input, full, eps=eps,
                            reduction=_enum("poisson_nll_loss", reduction))
