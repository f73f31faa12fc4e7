"""Weight initialisation, as ``torch.nn.init``: the same functions, arguments and distributions.

Every function fills its tensor in place, records nothing (it runs as under ``no_grad``, so it
works on ``Parameter``s) and returns the tensor.  Samples come from chainrule's generator
(``chainrule.manual_seed``), whose stream differs from torch's: a model seeded the same way starts
from the same *distribution*, not the same numbers.

>>> w = chainrule.empty(3, 5)
>>> chainrule.nn.init.kaiming_uniform_(w, a=5 ** 0.5).shape     # what Linear(5, 3) does
chainrule.Size([3, 5])
"""
import math
import warnings

from .._backend import xp
from ..creation import check_normal, check_uniform, checked_fill, numpy_rng
from ..grad_mode import graph_break
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch's table: relu √2, tanh 5/3, selu 3/4, ...).

    >>> chainrule.nn.init.calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out): dim 1 and dim 0 times the receptive field (a conv kernel's size)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {list(tensor.shape)})")
    receptive_field = 1
    for s in tensor.shape[2:]:
        receptive_field *= s
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, random=None):
    """nn.init fills a chainrule Tensor; random values (``random``: the sampler's name) only a
    floating one, as in torch."""
    graph_break("nn.init (it fills a tensor in place outside the recorded operations)")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init expects a chainrule Tensor, got {type(tensor).__name__}")
    if random and not tensor.is_floating_point():
        raise NotImplementedError(f'"{random}" not implemented for {tensor.dtype.name} tensors: '
                                  "random initialisation fills floating tensors; make it with "
                                  "dtype=chainrule.float32")


def _write(tensor, values):
    """Write ``values`` into ``tensor``'s storage without recording (torch's no_grad fill)."""
    _check(tensor)
    tensor._data[...] = values
    tensor._vc[0] += 1
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b).

    >>> bool((chainrule.nn.init.uniform_(chainrule.empty(100), -1, 1).abs() <= 1).all())
    True
    """
    _check(tensor, "uniform_")
    check_uniform(a, b, "uniform_")
    return _write(tensor, numpy_rng(generator).uniform(a, b, tuple(tensor.shape)))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std²).

    >>> chainrule.nn.init.normal_(chainrule.empty(2, 3), std=0.02).shape
    chainrule.Size([2, 3])
    """
    _check(tensor, "normal_")
    if not isinstance(mean, (int, float, xp.number)):
        raise TypeError(f"normal_(): argument 'mean' (position 1) must be float, not "
                        f"{type(mean).__name__}")
    check_normal(std, "normal_")
    return _write(tensor, numpy_rng(generator).normal(mean, std, tuple(tensor.shape)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples of N(mean, std²) conditioned on a ≤ x ≤ b (``a``, ``b`` absolute).

    >>> bool((chainrule.nn.init.trunc_normal_(chainrule.empty(1000)).abs() <= 2).all())
    True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    _check(tensor, "trunc_normal_")
    std = abs(std)        # N(mean, std²) is the same distribution for -std; torch accepts it
    rng = numpy_rng(generator)
    n = tensor.numel()
    lo, hi = (a - mean) / std, (b - mean) / std           # bounds in standard units
    if _phi(hi) - _phi(lo) > 0.25:
        # rejection sampling: exact, and cheap when most draws land inside
        out = xp.empty(n)
        filled = 0
        while filled < n:
            draw = rng.standard_normal(int((n - filled) * 1.5) + 16)
            keep = draw[(draw >= lo) & (draw <= hi)][:n - filled]
            out[filled:filled + keep.size] = keep
            filled += keep.size
    else:
        # a narrow or far-out interval: invert the CDF (torch's method), on the side of the
        # mean where the CDF's values are small and so precise
        flip = lo > 0
        if flip:
            lo, hi = -hi, -lo
        out = _ndtri(rng.uniform(_phi(lo), _phi(hi), n))
        if flip:
            out = -out
            lo, hi = -hi, -lo
    out = xp.clip(out * std + mean, a, b)
    return _write(tensor, out.reshape(tuple(tensor.shape)))


def _phi(x):
    """The standard normal CDF, accurate in the lower tail."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


# Acklam's rational approximation of the normal quantile (relative error < 1.2e-9)
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00, 1.0)


def _ndtri(p):
    """The standard normal quantile Φ⁻¹(p), elementwise (NumPy has no erfinv)."""
    p = xp.clip(p, 1e-300, 1 - 1e-16)
    out = xp.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = xp.polyval(_A, r) * q / xp.polyval(_B, r)
    for mask, sign, tail in ((low, 1.0, p[low]), (high, -1.0, 1 - p[high])):
        q = xp.sqrt(-2 * xp.log(tail))
        out[mask] = sign * xp.polyval(_C, q) / xp.polyval(_D, q)
    return out


def constant_(tensor, val):
    """Fill with ``val``.

    >>> chainrule.nn.init.constant_(chainrule.empty(2), 0.5)
    tensor([0.5000, 0.5000])
    """
    _check(tensor)
    return _write(tensor, checked_fill(val, tensor._data.dtype, "fill_"))


def ones_(tensor):
    """Fill with ones."""
    return _write(tensor, 1)


def zeros_(tensor):
    """Fill with zeros."""
    return _write(tensor, 0)


def eye_(tensor):
    """Fill a 2-d tensor with the identity matrix (ones on the diagonal).

    >>> chainrule.nn.init.eye_(chainrule.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (eye_ got shape "
                         f"{list(tensor.shape)})")
    return _write(tensor, xp.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a {3, 4, 5}-d conv weight with the Dirac delta: the convolution is the identity on
    as many channels as possible (in each of ``groups`` groups)."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    values = xp.zeros(tuple(sizes))
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min(out_per_group, sizes[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out)).

    >>> chainrule.nn.init.xavier_uniform_(chainrule.empty(4, 6)).shape
    chainrule.Size([4, 6])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _empty_noop(tensor):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain·√(3 / fan), gain = ``calculate_gain(nonlinearity, a)``.

    >>> chainrule.nn.init.kaiming_uniform_(chainrule.empty(8, 3, 3, 3), nonlinearity="relu").shape
    chainrule.Size([8, 3, 3, 3])
    """
    if _empty_noop(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std²) with std = gain / √fan."""
    if _empty_noop(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (dims after the first are flattened), times gain.

    >>> w = chainrule.nn.init.orthogonal_(chainrule.empty(3, 3, dtype=chainrule.float64))
    >>> bool(((w @ w.T) - chainrule.eye(3, dtype=chainrule.float64)).abs().max() < 1e-12)
    True
    """
    _check(tensor)
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported (orthogonal_ got "
                         f"shape {list(tensor.shape)})")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = numpy_rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    # the sign fix makes Q uniformly distributed (Haar), as torch does
    d = xp.sign(xp.diag(r))
    q = q * xp.where(d == 0, 1.0, d)
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))
