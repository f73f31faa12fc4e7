"""Loss functions with PyTorch's names, signatures, reductions and edge cases: mse_loss,
l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
binary_cross_entropy_with_logits, kl_div.

All are composites (log_softmax, logsigmoid, indexing, where, sum) except
``binary_cross_entropy``, a primitive because torch's gradient is not the derivative of its
forward at probabilities 0 and 1 (see its entry).
"""
import warnings

from ... import dtypes as D
from ... import functional as _F
from ... import ops
from ..._backend import xp
from ...functional._args import tensor_arg
from ...grad_mode import is_grad_enabled
from ...tensor import apply, wrap
from .activation import log_softmax, logsigmoid

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]


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
