"""linear, bilinear, embedding, one_hot and the dropouts (plain, feature, alpha), as
``torch.nn.functional``'s."""
import math
import warnings

from ... import dtypes as D
from ... import functional as _f
from ... import ops
from ..._backend import xp
from ...creation import numpy_rng
from ...functional._args import tensor_arg
from ...grad_mode import graph_break
from ...tensor import Tensor, apply, wrap

__all__ = ["linear", "bilinear", "embedding", "one_hot", "dropout", "dropout1d", "dropout2d",
           "dropout3d"]

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _linear_name(ndim, has_bias):
    # the node torch's linear leaves (it flattens to one addmm/mm and views the result back)
    if ndim == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if has_bias:
        return "ViewBackward0"
    return "SqueezeBackward4" if ndim == 1 else "UnsafeViewBackward0"


def _type_name(t):
    return _TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def linear(input, weight, bias=None):
    """out = input·weightᵀ + bias, over input's last dim (input (*, in), weight (out, in))

    >>> x, w = chainrule.ones(2, 4), chainrule.ones(3, 4)
    >>> chainrule.nn.functional.linear(x, w, chainrule.zeros(3))
    tensor([[4., 4., 4.],
            [4., 4., 4.]])
    """
    x, w = tensor_arg(input), tensor_arg(weight)
    if w._data.ndim != 2 or x._data.ndim == 0:
        out = _f.matmul(x, _f.t(w))         # torch's odd shapes (a 1-d weight): plain matmul
        return out if bias is None else _f.add(out, bias)
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_type_name(x)} and "
                           f"{_type_name(w)} (linear: input is {D.of(x._data)}, weight is "
                           f"{D.of(w._data)}; convert one, e.g. input.to(weight.dtype))")
    out_f, in_f = w._data.shape
    if x._data.shape[-1] != in_f:
        rows = x._data.size // x._data.shape[-1] if x._data.shape[-1] else 0
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{x._data.shape[-1]} and {in_f}x{out_f}) (linear: input of shape "
                           f"{list(x._data.shape)} needs its last dim to be the weight's "
                           f"in_features = {in_f}; the weight has shape [out, in] = "
                           f"{[out_f, in_f]})")
    name = _linear_name(x._data.ndim, bias is not None)
    if bias is None:
        return apply(ops.linear, (x, w), name=name)
    b = tensor_arg(bias)
    if b._data.dtype != x._data.dtype:
        raise RuntimeError(f"linear: bias is {D.of(b._data)} but input and weight are "
                           f"{D.of(x._data)}; convert it with bias.to({D.of(x._data)})")
    if b._data.ndim > 1 or (b._data.ndim == 1 and b._data.shape[0] not in (1, out_f)):
        raise RuntimeError(f"linear: bias of shape {list(b._data.shape)} does not match "
                           f"out_features = {out_f} (expected shape [{out_f}])")
    return apply(ops.linear, (x, w, b), name=name)


def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = Σᵢⱼ input1[..., i]·weight[o, i, j]·input2[..., j] + bias[o]

    >>> w = chainrule.ones(5, 3, 4)
    >>> chainrule.nn.functional.bilinear(chainrule.ones(2, 3), chainrule.ones(2, 4), w).shape
    chainrule.Size([2, 5])
    """
    x1, x2, w = tensor_arg(input1), tensor_arg(input2), tensor_arg(weight)
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional (out, in1, in2), got "
                           f"shape {list(w.shape)}")
    out_f, in1, in2 = w.shape
    if x1.ndim == 0 or x1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{x1.shape[-1] if x1.ndim else 0} but expected {in1}")
    if x2.ndim == 0 or x2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{x2.shape[-1] if x2.ndim else 0} but expected {in2}")
    if x1.shape[:-1] != x2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(x1.shape[:-1])} and {list(x2.shape[:-1])}")
    lead = tuple(x1.shape[:-1])
    a = x1.reshape(-1, in1)
    c = x2.reshape(-1, in2)
    # one GEMM: (N, in1) @ (in1, out·in2), then a contraction with input2 over in2
    u = a @ w.permute(1, 0, 2).reshape(in1, out_f * in2)
    out = (u.reshape(-1, out_f, in2) * c.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_f,))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``input``: out = weight[input].

    ``padding_idx``'s row gets no gradient; ``max_norm`` renormalises the looked-up rows of
    ``weight`` in place (as torch); ``scale_grad_by_freq`` divides each row's gradient by how
    often it occurs in ``input``.

    >>> w = chainrule.arange(6.0).reshape(3, 2)
    >>> chainrule.nn.functional.embedding(chainrule.tensor([2, 0]), w)
    tensor([[4., 5.],
            [0., 1.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'input' must be a Tensor of indices, not "
                        f"{type(input).__name__}; wrap it: chainrule.tensor(...)")
    w = tensor_arg(weight)
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {D.of(idx)} instead "
                           "(while checking arguments for embedding); convert with .long()")
    if w._data.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{list(w._data.shape)}")
    n = w._data.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index out of range in self (embedding: index {bad} is outside "
                         f"[0, {n - 1}] for a weight with num_embeddings = {n})")
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += n
    if sparse:
        raise NotImplementedError("embedding(sparse=True): chainrule has no sparse tensors; "
                                  "leave sparse=False (gradients are dense)")
    if max_norm is not None:
        _renorm_rows(w, idx, max_norm, norm_type)
    scale = None
    if scale_grad_by_freq or padding_idx is not None:
        scale = xp.ones(idx.shape, w._data.dtype)
        if scale_grad_by_freq:
            counts = xp.bincount(idx.reshape(-1), minlength=n)
            scale = (1.0 / counts[idx]).astype(w._data.dtype)
        if padding_idx is not None:
            scale[idx == padding_idx] = 0
        scale = scale[..., None]
    return apply(ops.embedding, (w,), {"indices": idx, "scale": scale},
                 name="EmbeddingBackward0")


def _renorm_rows(w, idx, max_norm, norm_type):
    """torch's embedding_renorm_: rows looked up whose norm exceeds max_norm are scaled down."""
    graph_break("embedding's max_norm (it rescales the weight's rows in place)")
    rows = xp.unique(idx)
    data = w._data
    sel = data[rows]
    norms = xp.linalg.norm(sel, ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(data.dtype)
        data[rows[big]] = sel[big] * scale[:, None]
        w._vc[0] += 1


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: out[..., k] = 1 where tensor == k (no gradient).

    >>> chainrule.nn.functional.one_hot(chainrule.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    idx = tensor_arg(tensor)._data
    if idx.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor "
                           f"(got {D.of(idx)}; convert with .long())")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return wrap((idx[..., None] == xp.arange(num_classes)).astype(xp.int64))


# =========================================================================================
# dropout: a composite (input times a constant scaled mask)
# =========================================================================================

def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(x, p, shape):
    """The mask 1{keep}/(1 - p) in x's dtype; all zeros when p = 1 (torch: no NaN from 0/0)."""
    dt = x._data.dtype if x._data.dtype.kind == "f" else D.default_float_np()
    if p == 1.0:
        return xp.zeros(shape, dt)
    keep = numpy_rng().random(shape, dtype=xp.float32 if dt == xp.float32 else xp.float64) >= p
    return keep.astype(dt) * dt.type(1.0 / (1.0 - p))


def _apply_mask(x, mask, inplace):
    m = wrap(mask)
    if inplace:
        return x.mul_(m)
    return _f.mul(x, m)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1 - p) (when training).

    >>> x = chainrule.ones(4)
    >>> chainrule.nn.functional.dropout(x, 0.5, training=False) is x
    True
    """
    _check_p(p)
    x = tensor_arg(input)
    if not training or p == 0.0:
        return x
    return _apply_mask(x, _dropout_mask(x, p, x._data.shape), inplace)


def _feature_shape(shape):
    """The mask shape of torch's feature dropout: one draw per (sample, channel)."""
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _feature_dropout(x, p, training, inplace, batched=True):
    """torch's feature_dropout on x, or on x.unsqueeze(0) when not ``batched``."""
    if not training or p == 0.0 or x.numel() == 0:
        return x
    shape = tuple(x._data.shape)
    mask_shape = _feature_shape(shape) if batched else _feature_shape((1,) + shape)[1:]
    return _apply_mask(x, _dropout_mask(x, p, mask_shape), inplace)


def _nd_warning(name, nd, spatial):
    return (f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in "
            "an error in a future release. To retain the behavior and silence this warning, "
            f"please use dropout instead. Note that {name} exists to provide channel-wise dropout "
            f"on inputs with {spatial} spatial dimensions, a channel dimension, and an optional "
            f"batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p, scale by 1/(1 - p)

    >>> chainrule.nn.functional.dropout1d(chainrule.ones(2, 3), training=False).shape
    chainrule.Size([2, 3])
    """
    _check_p(p)
    x = tensor_arg(input)
    nd = x.ndim
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note "
                           "that dropout1d exists to provide channel-wise dropout on inputs with "
                           "1 spatial dimension, a channel dimension, and an optional batch "
                           "dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(x, p, training, inplace, batched=nd == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs with probability p, scale by 1/(1 - p).

    As torch: a 3-d input is taken as (N, C, L) (with a warning), other ranks warn too.

    >>> chainrule.nn.functional.dropout2d(chainrule.ones(1, 2, 3, 3), training=False).shape
    chainrule.Size([1, 2, 3, 3])
    """
    _check_p(p)
    x = tensor_arg(input)
    nd = x.ndim
    if nd not in (3, 4):
        warnings.warn(_nd_warning("dropout2d", nd, 2), stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(x, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p

    >>> chainrule.nn.functional.dropout3d(chainrule.ones(2, 2, 2, 2), training=False).shape
    chainrule.Size([2, 2, 2, 2])
    """
    _check_p(p)
    x = tensor_arg(input)
    nd = x.ndim
    if nd not in (4, 5):
        warnings.warn(_nd_warning("dropout3d", nd, 3), stacklevel=2)
    return _feature_dropout(x, p, training, inplace, batched=nd == 5)


# -- issue 13: alpha dropout
__all__ += ["alpha_dropout", "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766       # -SELU's negative saturation, λ·α


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    x = tensor_arg(input)
    if p == 0.0 or not training or x.numel() == 0:
        return x
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_type_name(x)}")
    dt = x._data.dtype
    if p == 1.0:                        # torch multiplies by zero
        zero = wrap(xp.zeros((), dt))
        return x.mul_(zero) if inplace else _f.mul(x, zero)
    shape = _feature_shape(x._data.shape) if feature else x._data.shape
    keep = (numpy_rng().random(shape) >= p).astype(xp.float64)
    a = 1.0 / math.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
    scale = wrap((keep * a).astype(dt))
    shift = wrap(((keep - 1) * _SELU_ALPHA * a + _SELU_ALPHA * a * p).astype(dt))
    if inplace:
        return x.mul_(scale).add_(shift)
    return _f.add(_f.mul(x, scale), shift)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements take SELU's saturation value, and an affine
    map keeps the mean and variance (when training; note training=False by default, as torch).

    >>> x = chainrule.ones(3)
    >>> chainrule.nn.functional.alpha_dropout(x, 0.5) is x
    True
    """
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels of (N, C, *) inputs (training=False by default, as torch).

    >>> chainrule.nn.functional.feature_alpha_dropout(chainrule.ones(2, 3), 0.5).shape
    chainrule.Size([2, 3])
    """
    return _alpha_dropout(input, p, training, inplace, True)
