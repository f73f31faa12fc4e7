"""Loss functions with PyTorch's names, signatures, reductions and edge cases: mse_loss,
l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
binary_cross_entropy_with_logits, kl_div.

All are composites (log_softmax, logsigmoid, indexing, where, sum) except
``binary_cross_entropy``, a primitive because torch's gradient is not the derivative of its
forward at probabilities 0 and 1 (see its entry).
"""
import math
import warnings

from ... import dtypes as D
from ... import functional as _F
from ... import ops
from ..._backend import xp
from ...functional._args import tensor_arg
from ...grad_mode import is_grad_enabled, no_grad, read_by_reference
from ...tensor import apply, wrap
from .activation import log_softmax, logsigmoid, softplus

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_similarity", "pairwise_distance",
           "pdist", "normalize"]


# =========================================================================================
# Shared argument handling
# =========================================================================================

def _name(t):
    """torch's scalar-type name of a tensor's dtype (Float, Double, Long, ...)."""
    return D.SCALAR_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _shape(t):
    return tuple(t._data.shape)


def reduction_arg(reduction, size_average=None, reduce=None, allowed=("none", "mean", "sum")):
    """torch's reduction string, from ``reduction`` or the legacy size_average/reduce flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        ret = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
        return ret
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction (use one of "
                         f"{', '.join(repr(a) for a in allowed)})")
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _floating(x, op):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'{_name(x)}\' ({op}() needs '
                                  "floating point tensors: convert them first, e.g. x.float())")


def _warn_broadcast(x, t):
    if _shape(t) != _shape(x):
        warnings.warn(f"Using a target size ({t.size()}) that is different to the input size "
                      f"({x.size()}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _no_grad_weight(weight, fn, argument="weight"):
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{argument}'. This input cannot have requires_grad True. (Pass "
                           f"{argument}.detach() to use it as a constant.)")


def _weighted(loss, weight, x, reduction, mean_by_weight):
    """Multiply by an elementwise ``weight`` of input's shape (mse, l1, huber), then reduce."""
    weight = tensor_arg(weight)
    if _shape(weight) != _shape(x):
        raise ValueError(f"Weights and input must have the same size. (weight has shape "
                         f"{_shape(weight)}, input {_shape(x)})")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# =========================================================================================
# Regression losses
# =========================================================================================

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)², reduced by mean (default), sum, or not ('none').

    With ``weight`` (input's shape), 'mean' is Σ w·(x - y)² / Σ w, as torch.

    >>> chainrule.nn.functional.mse_loss(chainrule.tensor([1.0, 2.0]), chainrule.zeros(2))
    tensor(2.5000)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    _warn_broadcast(x, t)
    reduction = reduction_arg(reduction, size_average, reduce)
    d = x - t
    _floating(d, "mse")
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, x, reduction, True)
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced; the gradient at input == target is 0.

    >>> chainrule.nn.functional.l1_loss(chainrule.tensor([1.0, -3.0]), chainrule.zeros(2))
    tensor(2.)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    _warn_broadcast(x, t)
    reduction = reduction_arg(reduction, size_average, reduce)
    loss = _F.abs(x - t)
    if weight is not None:
        return _weighted(loss, weight, x, reduction, True)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d²/beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta=0 is L1.

    >>> chainrule.nn.functional.smooth_l1_loss(chainrule.tensor([0.5, 3.0]), chainrule.zeros(2))
    tensor(1.3125)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    _warn_broadcast(x, t)
    reduction = reduction_arg(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta. (got "
                           f"beta={beta})")
    if beta == 0:
        return l1_loss(x, t, reduction=reduction)
    d = x - t
    _floating(d, "smooth_l1")
    z = _F.abs(d)
    return _reduce(_F.where(z < beta, z * z * (0.5 / beta), z - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d² where |d| < delta, else delta·(|d| - 0.5 delta) (d = input - target).

    The result has input's dtype (torch's rule for this loss).

    >>> chainrule.nn.functional.huber_loss(chainrule.tensor([0.5, 3.0]), chainrule.zeros(2))
    tensor(1.3125)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    _warn_broadcast(x, t)
    reduction = reduction_arg(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. (got "
                           f"delta={delta})")
    if t._data.dtype.kind == "f" and x._data.dtype.kind == "f" and t.dtype != x.dtype:
        t = t.to(x.dtype)
    d = x - t
    _floating(d, "huber")
    z = _F.abs(d)
    loss = _F.where(z < delta, z * z * 0.5, (z - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, x, reduction, False)
    return _reduce(loss, reduction)


# =========================================================================================
# Classification losses
# =========================================================================================

def _check_weight(weight, n_classes, x, prefix=""):
    if weight.dim() != 1 or weight.numel() != n_classes:
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {n_classes} "
                           "classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)} (input has shape {_shape(x)}: {n_classes} "
                           "classes)")


def _class_index(x, class_dim, target):
    """Index that picks x[n, target[n, d...], d...] for every position: a gather on class_dim."""
    if x.dim() == 1:
        return (target,)
    n, spatial = x.shape[0], x.shape[2:]
    k = len(spatial)
    index = [xp.arange(n).reshape((n,) + (1,) * k), target]
    for j, s in enumerate(spatial):
        index.append(xp.arange(s).reshape((1,) * (j + 1) + (s,) + (1,) * (k - j - 1)))
    return tuple(index)


def _check_nll(x, t, weight, ignore_index):
    """torch's checks of nll_loss's arguments, in torch's order; returns the class count."""
    if x.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.dim()}) (nll_loss needs input "
                         "of shape (C,), (N, C) or (N, C, d1, ...))")
    if x.dim() != 1:
        tn = t.shape[0] if t.dim() else None
        if tn != x.shape[0]:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                             f"batch_size ({tn if tn is not None else 'none: a 0-d target'}). "
                             f"(input has shape {_shape(x)}, target {_shape(t)}; class indices "
                             "need one target per sample)")
    if x.dim() <= 2:
        if t.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported "
                               f"(input has shape {_shape(x)}, target {_shape(t)}; for class "
                               "probabilities use cross_entropy with a target of input's shape)")
        if x.dim() == 1 and t.dim() != 0:
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)}, target: "
                               f"{list(t.shape)}): an unbatched input of shape (C,) takes a 0-d "
                               "target")
    elif x.dim() == 4:
        if t.dim() != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {t.dim()} (input has shape {_shape(x)}, "
                               f"target {_shape(t)}; expected {(x.shape[0],) + _shape(x)[2:]})")
        if _shape(t)[1:] != _shape(x)[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                               f"{list(t.shape)}): expected a target of shape "
                               f"{(x.shape[0],) + _shape(x)[2:]}")
    elif _shape(t)[1:] != _shape(x)[2:]:
        raise RuntimeError(f"Expected target size {[x.shape[0]] + list(x.shape[2:])}, got "
                           f"{list(t.shape)} (input has shape {_shape(x)}: the target drops the "
                           "class dim 1)")
    n_classes = x.shape[1] if x.dim() >= 2 else x.shape[0]
    if weight is not None:
        _check_weight(weight, n_classes, x)
        if weight.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {_name(x)} but found {_name(weight)} "
                               f"(weight is {weight.dtype}, input {x.dtype}: convert with "
                               "weight.to(input.dtype))")
    if t._data.dtype not in (xp.int64, xp.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_name(t)} "
                           "(class indices are int64: convert with target.long(); for class "
                           "probabilities the target must have input's shape)")
    td = t._data
    bad = (td != ignore_index) & ((td < 0) | (td >= n_classes))
    if bad.any():
        raise IndexError(f"Target {td[bad].flat[0]} is out of bounds. (class indices must be in "
                         f"[0, {n_classes}) for input of shape {_shape(x)}, or equal "
                         f"ignore_index={ignore_index})")
    return n_classes


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[n, target[n]] (input holds log-probabilities, classes in dim 1), reduced.

    Targets equal to ignore_index contribute 0 and are not counted.  With ``weight`` (one per
    class) 'mean' is Σ w[t]·(-x[t]) / Σ w[t] over the non-ignored targets, as torch.

    >>> logp = chainrule.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> chainrule.nn.functional.nll_loss(logp, chainrule.tensor([0, 1]))
    tensor(0.3000)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    weight = None if weight is None else tensor_arg(weight)
    _check_nll(x, t, weight, ignore_index)
    _no_grad_weight(weight, "nll_loss_forward")
    return _nll(x, t, weight, ignore_index, reduction)[0]


def _nll(x, t, weight, ignore_index, reduction):
    """nll_loss after the checks; also returns (kept, the mean's denominator) for smoothing."""
    class_dim = 0 if x.dim() == 1 else 1
    read_by_reference(t)
    td = t._data.astype(xp.int64)
    kept = td != ignore_index
    safe = xp.where(kept, td, 0)           # ignored targets may be out of range: pick class 0
    kept_t = wrap(xp.asarray(kept))
    loss = -x[_class_index(x, class_dim, safe)]
    if weight is not None:
        w_t = _F.where(kept_t, weight[safe], 0.0)
        loss = loss * w_t
    # where, not a product: an ignored position whose picked value is ±inf gives 0, not NaN
    loss = _F.where(kept_t, loss, 0.0)
    if reduction == "none":
        return loss, None
    if reduction == "sum":
        return loss.sum(), None
    denominator = w_t.sum() if weight is not None else wrap(xp.asarray(kept.sum(), x._data.dtype))
    return loss.sum() / denominator, (kept_t, denominator)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """The cross entropy of logits (classes in dim 1, or dim 0 unbatched) against a target.

    The target holds class indices, of shape (N,) or (N, d1, ...), or class probabilities, of
    input's shape.  log_softmax keeps it exact for logits of any size (±1000 included).
    label_smoothing mixes the target with the uniform distribution; weight weighs the
    classes, and for class indices 'mean' divides by the sum of the weights of the non-ignored
    targets, as torch.

    >>> logits = chainrule.tensor([[1000.0, -1000.0], [0.0, 0.0]])
    >>> chainrule.nn.functional.cross_entropy(logits, chainrule.tensor([1, 0]))
    tensor(1000.3466)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    weight = None if weight is None else tensor_arg(weight)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"log_softmax_lastdim_kernel_impl" not implemented for '
                                  f"'{_name(x)}' (cross_entropy needs floating point logits: "
                                  "convert them first, e.g. input.float())")
    if _shape(x) == _shape(t) and x.dim() > 0:
        return _cross_entropy_probs(x, t, weight, ignore_index, reduction, label_smoothing)
    if x.dim() == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1) "
                         "(cross_entropy needs logits of shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor)")
    class_dim = 0 if x.dim() == 1 else 1
    n_classes = _check_nll(x, t, weight, ignore_index)
    _no_grad_weight(weight, "nll_loss_forward")
    if weight is None and label_smoothing <= 0 and x.dim() == 2 and reduction != "none" and \
            x._data.dtype in (xp.float32, xp.float64):
        # the common case as one primitive, for speed (ops/nn.py)
        read_by_reference(t)
        return apply(ops.cross_entropy, (x,), {"target": t._data.astype(xp.int64),
                                               "ignore_index": ignore_index,
                                               "mean": reduction == "mean"})
    logp = log_softmax(x, class_dim)
    loss, mean_parts = _nll(logp, t, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return loss
    # torch's label smoothing: the uniform part is -Σ_c w_c·logp_c at each non-ignored position,
    # reduced like the nll part (its 'mean' divides by the same sum of target weights)
    if weight is not None:
        shape = [1] * x.dim()
        shape[class_dim] = n_classes
        smooth = -(logp * weight.reshape(shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    kept = wrap(xp.asarray(t._data != ignore_index))
    smooth = _F.where(kept, smooth, 0.0)
    if reduction == "mean":
        smooth = smooth.sum() / mean_parts[1]
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _cross_entropy_probs(x, t, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy against class probabilities (target of input's shape)."""
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_name(t)} (a target of input's shape {_shape(x)} holds "
                           "probabilities; class indices have shape (N,) or (N, d1, ...))")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target (got "
                           f"ignore_index={ignore_index}; leave it at -100)")
    class_dim = 0 if x.dim() == 1 else 1
    n_classes = x.shape[class_dim]
    logp = log_softmax(x, class_dim)
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * t
    if weight is not None:
        _check_weight(weight, n_classes, x, prefix="cross_entropy: ")
        shape = [1] * x.dim()
        shape[class_dim] = n_classes
        prod = prod * weight.reshape(shape)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    positions = x.numel() // n_classes if n_classes else 0
    if positions == 0:
        return -prod.sum() * float("nan")        # torch: the mean of no positions is NaN
    return -prod.sum() / positions


# =========================================================================================
# Binary losses
# =========================================================================================

def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w·(y·ln x + (1 - y)·ln(1 - x)) for probabilities x in [0, 1]; logs are clamped at -100.

    >>> chainrule.nn.functional.binary_cross_entropy(chainrule.tensor([0.0, 1.0]),
    ...                                             chainrule.tensor([1.0, 0.0]))
    tensor(100.)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    if _shape(t) != _shape(x):
        raise ValueError(f"Using a target size ({t.size()}) that is different to the input size "
                         f"({x.size()}) is deprecated. Please ensure they have the same size.")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for \'{_name(x)}\' '
                                  "(the input holds probabilities: use a floating point tensor)")
    if t.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_name(t)} but expected {_name(x)} (the target must "
                           f"have input's dtype: use target.to({x.dtype}))")
    if weight is not None:
        weight = tensor_arg(weight)
        _no_grad_weight(weight, "binary_cross_entropy")
        weight = weight.expand(_shape(t))
    xd = x._data
    if not ((xd >= 0) & (xd <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1 (binary_cross_entropy "
                           "takes probabilities: apply sigmoid first, or use "
                           "binary_cross_entropy_with_logits on the logits)")
    loss = apply(ops.binary_cross_entropy, (x, t))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits:
    (1 - y)·x - (1 + (pos_weight - 1)·y)·logsigmoid(x), times weight.

    >>> chainrule.nn.functional.binary_cross_entropy_with_logits(
    ...     chainrule.tensor([1000.0, -1000.0]), chainrule.tensor([0.0, 1.0]))
    tensor(1000.)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    reduction = reduction_arg(reduction, size_average, reduce)
    if _shape(t) != _shape(x):
        raise ValueError(f"Target size ({t.size()}) must be the same as input size ({x.size()})")
    if t._data.dtype.kind != "f":
        name = _name(t)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {name} "
                           "(the target holds probabilities: convert it with target.float())")
    weight = None if weight is None else tensor_arg(weight)
    pos_weight = None if pos_weight is None else tensor_arg(pos_weight)
    _no_grad_weight(weight, "binary_cross_entropy_with_logits")
    _no_grad_weight(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    log_sig = logsigmoid(x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * t + 1)
    loss = (1 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# =========================================================================================
# Divergence
# =========================================================================================

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target·(ln target - input) pointwise, input holding log-probabilities (and target too if
    log_target).  reduction='batchmean' divides the sum by the batch size: the KL divergence.

    >>> logq = chainrule.tensor([[0.5, 0.5]]).log()
    >>> chainrule.nn.functional.kl_div(logq, chainrule.tensor([[1.0, 0.0]]), reduction="batchmean")
    tensor(0.6931)
    """
    x, t = tensor_arg(input), tensor_arg(target)
    if size_average is not None or reduce is not None:
        reduction = reduction_arg(reduction, size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        if reduction != "batchmean":
            reduction = reduction_arg(reduction, allowed=("none", "mean", "sum", "batchmean"))
    if x._data.dtype.kind != "f" or t._data.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported. (convert with .float())")
    if log_target:
        loss = _F.exp(t) * (t - x)
    else:
        # xlogy(t, t): 0 where t = 0, as torch
        loss = _F.where(t == 0, 0.0, t * _F.log(t)) - t * x
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.dim() != 0 else total
    return _reduce(loss, reduction)


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


# =========================================================================================
# -- issue 13: ctc_loss, linear_cross_entropy
# =========================================================================================

from ...tensor import Tensor  # noqa: E402

__all__ += ["ctc_loss", "linear_cross_entropy"]

_CTC_WHERE = " (while checking arguments for ctc_loss_allocate_outputs)"


def _ctc_lengths(input_lengths, target_lengths):
    """The two length arguments as int arrays: both sequences of ints or both tensors, as
    torch's two overloads of ctc_loss."""
    out = []
    tensors = [isinstance(v, (Tensor, xp.ndarray)) for v in (input_lengths, target_lengths)]
    if tensors[0] != tensors[1] or not tensors[0] and not all(
            isinstance(v, (list, tuple)) for v in (input_lengths, target_lengths)):
        raise TypeError("ctc_loss() received an invalid combination of arguments - got "
                        f"({type(input_lengths).__name__}, {type(target_lengths).__name__}) "
                        "lengths, but expected both tuples of ints or both Tensors")
    for name, v in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        a = v._data if isinstance(v, Tensor) else xp.asarray(v)
        if tensors[0] and a.dtype.kind not in "iub":
            raise RuntimeError(f"{name} must be integral")
        if not tensors[0] and a.size and a.dtype.kind not in "iu":
            raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints, but found "
                            f"element of type {type(list(v)[0]).__name__}")
        out.append(a.reshape(-1).astype(xp.int64))
    return out


def _ctc_padded_targets(targets, tl, batch):
    """Targets as a padded (B, max target length) int array, from either of torch's layouts."""
    td = targets._data
    if not 1 <= td.ndim <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {td.ndim}-dimensional tensor "
                           f"for argument #2 'targets'{_CTC_WHERE}")
    width = int(tl.max()) if tl.size else 0
    if td.ndim == 2:
        if td.shape[0] != batch:
            raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got "
                               f"size {td.shape[0]} for argument #2 'targets'{_CTC_WHERE}")
        if td.shape[1] < width:
            raise RuntimeError(f"Expected tensor to have size at least {width} at dimension 1, "
                               f"but got size {td.shape[1]} for argument #2 'targets'"
                               f"{_CTC_WHERE}")
        return td[:, :width].astype(xp.int64)
    total = int(xp.maximum(tl, 0).sum())
    if td.shape[0] != total:
        raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size "
                           f"{td.shape[0]} for argument #2 'targets'{_CTC_WHERE}")
    out = xp.zeros((batch, width), xp.int64)
    starts = xp.concatenate([[0], xp.cumsum(tl)[:-1]]).astype(xp.int64)
    for b in range(batch):
        out[b, :tl[b]] = td[starts[b]:starts[b] + tl[b]]
    return out


def _safe_logsumexp(parts):
    """ln Σ exp(parts), -inf where every part is -inf, with finite gradients everywhere (the
    shift is a constant and a sum of zero is routed around the log), so that unreachable CTC
    states pass zero gradients instead of NaN."""
    stacked = _F.stack(parts, -1)
    with no_grad():
        m = stacked.amax(-1, keepdim=True)._data
    m = xp.where(xp.isfinite(m), m, 0.0).astype(stacked._data.dtype)
    s = _F.exp(stacked - wrap(m)).sum(-1)
    live = wrap(s._data != 0)           # NaN stays NaN, as torch
    return _F.where(live, _F.log(_F.where(live, s, 1.0)) + wrap(m[..., 0]), -math.inf)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The Connectionist Temporal Classification loss: -ln of the total probability of every
    alignment of ``targets`` to ``log_probs`` (T, N, C) (or (T, C) unbatched).

    Targets are padded (N, S) or concatenated (sum of target_lengths); 'mean' divides each
    loss by its target length, then averages.  The log-space alpha recursion runs over time
    on the whole batch at once; the gradient is torch's (see docs/nn-losses.md).

    >>> lp = chainrule.tensor([[[0.0, -50.0]], [[-50.0, 0.0]]])
    >>> chainrule.nn.functional.ctc_loss(lp, chainrule.tensor([[1]]), [2], [1])
    tensor(0.)
    """
    x, t = tensor_arg(log_probs), tensor_arg(targets)
    reduction = reduction_arg(reduction)
    il, tl = _ctc_lengths(input_lengths, target_lengths)
    batched = x.dim() == 3
    if not batched:
        x = x.unsqueeze(1)
    if x.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {x.dim()}-dimensional "
                           f"tensor for argument #1 'log_probs'{_CTC_WHERE}")
    if x._data.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if x._data.dtype.kind != "f" or x._data.dtype == xp.float16:
        name = "Half" if x._data.dtype == xp.float16 else _name(x)
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{name}'")
    T, B, C = _shape(x)
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    if il.size != B:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.size != B:
        raise RuntimeError("target_lengths must be of size batch_size")
    tgt = _ctc_padded_targets(t, tl, B)
    for name, lengths, high in (("input_lengths", il, T), ("target_lengths", tl, None)):
        for v in lengths:
            if v < 0:
                raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                                   f"{v}{_CTC_WHERE}")
            if high is not None and v > high:
                raise RuntimeError(f"Expected {name} to have value at most {high}, but got value "
                                   f"{v}{_CTC_WHERE}")
    valid = xp.arange(tgt.shape[1]) < tl[:, None]
    if ((tgt < 0) | (tgt >= C))[valid].any():
        bad = int(tgt[valid & ((tgt < 0) | (tgt >= C))][0])
        raise RuntimeError(f"ctc_loss: target label {bad} is out of range for {C} classes "
                           "(targets must lie in [0, C))")
    nll = _ctc_nll(x, tgt, il, tl, blank)
    if zero_infinity:
        nll = _F.where(wrap(xp.isinf(nll._data) & (nll._data > 0)), 0.0, nll)
    if reduction == "mean":
        lengths = wrap(xp.maximum(tl, 1).astype(x._data.dtype))
        return (nll / lengths).mean()
    if reduction == "sum":
        return nll.sum()
    return nll if batched else nll.squeeze(0)


def _ctc_nll(x, tgt, il, tl, blank):
    """-ln p(target | x) per sample, by the alpha recursion in log space over the extended
    target (blank, l1, blank, l2, ..., blank), with torch's gradient (see below)."""
    T, B, _ = _shape(x)
    S = 2 * tgt.shape[1] + 1
    ext = xp.full((B, S), blank, xp.int64)
    ext[:, 1::2] = tgt
    s = xp.arange(S)
    # torch's skip rule: an odd (label) state may come from two back if the label differs
    prev2 = xp.concatenate([xp.full((B, 2), -1, xp.int64), ext[:, :-2]], 1)
    skip = wrap((s % 2 == 1) & (s >= 2) & (ext != prev2))
    lpe = x[:, xp.arange(B)[:, None], ext]                  # (T, B, S): lp at each state
    neg = wrap(xp.full((B, 1), -math.inf, x._data.dtype))
    alpha = _F.where(wrap(s < 2), lpe[0], -math.inf)
    for step in range(1, T):
        a1 = _F.cat([neg, alpha[:, :-1]], 1)
        a2 = _F.where(skip, _F.cat([neg, neg, alpha[:, :-2]], 1), -math.inf)
        new = _safe_logsumexp([alpha, a1, a2]) + lpe[step]
        alpha = _F.where(wrap((step < il)[:, None]), new, alpha)   # frozen past its length
    rows = xp.arange(B)
    last = alpha[rows, 2 * tl]
    before = _F.where(wrap(tl > 0), alpha[rows, xp.maximum(2 * tl - 1, 0)], -math.inf)
    ll = _safe_logsumexp([last, before])
    # no input: probability 1 of the empty target, 0 of any other
    empty = xp.where(tl == 0, 0.0, -math.inf).astype(x._data.dtype)
    ll = _F.where(wrap(il == 0), wrap(empty), ll)
    # torch's gradient is not the derivative in log_probs: it adds exp(log_probs) at every
    # t < input_length (which is what makes it the logits' gradient when log_probs come from
    # log_softmax, where the two agree).  A term of value exactly 0 with that gradient:
    e = _F.exp(x)
    within = wrap((xp.arange(T)[:, None] < il[None, :])[..., None])
    shadow = _F.where(within, e - e.detach(), 0.0).sum((0, 2))
    return shadow - ll


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target): torch 2.13's fused
    head loss, computed by its reference path.  A weight of shape (C, d1, ..., dK, in) gives
    logits (N, C, d1, ..., dK) for a K-dimensional target.  ``options``
    (``nn.LinearCrossEntropyOptions``) are validated and warned about as torch does, and
    change nothing else.

    >>> x, w = chainrule.ones(2, 3), chainrule.zeros(4, 3)
    >>> chainrule.nn.functional.linear_cross_entropy(x, w, chainrule.tensor([0, 1]))
    tensor(1.3863)
    """
    x, w, t = tensor_arg(input), tensor_arg(linear_weight), tensor_arg(target)
    if x.dim() < 1 or x.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {x.dim()}")
    if w.dim() < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{w.dim()}")
    num_batches, in_features = _shape(x)[:-1], _shape(x)[-1]
    if in_features != _shape(w)[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {in_features} and {_shape(w)[-1]}, respectively")
    num_classes, out_features = _shape(w)[0], _shape(w)[1:-1]
    if linear_bias is not None:
        linear_bias = tensor_arg(linear_bias)
        if _shape(linear_bias) != (num_classes, *out_features):
            raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                               f"{_shape(linear_bias)}")
    if out_features and not num_batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {_shape(w)} "
                           f"requires batched input, (N, {in_features}), got unbatched input "
                           f"with shape {_shape(x)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    if _shape(t) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        chunkable = (not out_features and reduction in {"mean", "sum", "none"}
                     and label_smoothing == 0.0 and t._data.dtype == xp.int64)
        if not chunkable:
            warnings.warn(
                "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                f"out_features == (). Got reduction={reduction!r}, "
                f"label_smoothing={label_smoothing}, target.dtype={t.dtype}, "
                f"out_features={tuple(out_features)}, tracing=False, linear_bias.shape="
                f"{_shape(linear_bias) if linear_bias is not None else None}.", stacklevel=2)
        elif isinstance(options, _lce_options()):
            # torch resolves the options here: its ValueErrors surface at the call
            options._adjust(num_batches=num_batches[0] if num_batches else 1,
                            in_features=in_features, num_classes=num_classes, dtype=x.dtype,
                            device=x.device)
    if out_features:
        w = w.reshape((math.prod(out_features) * num_classes, in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(math.prod(out_features) * num_classes)
    from .linear import linear
    logits = linear(x, w, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, t, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


def _lce_options():
    from ..modules.linear_cross_entropy_options import LinearCrossEntropyOptions
    return LinearCrossEntropyOptions


def aten_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
                  zero_infinity=False):
    """torch.ctc_loss: nn.functional.ctc_loss with reduction an int enum (0 none, 1 mean,
    2 sum).

    >>> lp = chainrule.tensor([[[0.0, -50.0]], [[-50.0, 0.0]]])
    >>> chainrule.ctc_loss(lp, chainrule.tensor([[1]]), [2], [1], 0, 2)
    tensor(0.)
    """
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                    _enum("ctc_loss", reduction), zero_infinity)
