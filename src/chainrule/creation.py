"""Making tensors: ``tensor``, ``zeros``, ``arange``, ``randn``, ... with PyTorch's dtype rules."""
import builtins
import warnings

from . import _backend as B
from . import dtypes as D
from ._backend import xp
from .tensor import Tensor, _new


class Generator:
    """A random number generator (NumPy's PCG64 underneath; its streams differ from torch's)."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._gen = xp.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._gen = xp.random.default_rng(self._seed)
        return self

    def seed(self):
        return self.manual_seed(int.from_bytes(xp.random.bytes(8), "little") >> 1)._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return _new(xp.frombuffer(repr(self._gen.bit_generator.state).encode(), xp.uint8).copy())

    def set_state(self, state):
        import ast
        self._gen.bit_generator.state = ast.literal_eval(bytes(state._data).decode())
        return self


default_generator = Generator()


def _rng(generator=None):
    return (generator or default_generator)._gen


def manual_seed(seed):
    """Seed chainrule's global random number generator; returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(s.__index__() for s in size)
    except AttributeError:
        raise TypeError(f"{op}(): size must be a tuple of ints, got {size!r}") from None
    for s in size:
        if s < 0:
            raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
    return size


def _finish(data, requires_grad):
    t = _new(data)
    if requires_grad:
        if data.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               f"gradients (got {D.of(data)}); pass a floating dtype or floats")
        t._requires_grad = True
    return t


def _ragged_error(data):
    """Torch's message for a ragged nested list: the first dim whose lengths disagree."""
    level = [data]
    dim = 0
    while level:
        seqs = [s for s in level if isinstance(s, (list, tuple))]
        if not seqs:
            break
        n = len(seqs[0])
        for s in level:
            if not isinstance(s, (list, tuple)):
                return ValueError(f"expected sequence of length {n} at dim {dim} (got a scalar)")
            if len(s) != n:
                return ValueError(f"expected sequence of length {n} at dim {dim} (got {len(s)})")
        level = [x for s in seqs for x in s]
        dim += 1
    return ValueError("could not build a tensor from ragged nested sequences")


def _array_from(data, dtype=None):
    """A new ndarray from ``data`` with torch's dtype inference (floats → default dtype)."""
    dt = D.to_dtype(dtype)
    if isinstance(data, Tensor):
        a = data._data
    elif isinstance(data, B.ndarray):
        a = data
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v.tolist() if isinstance(v, Tensor) else v for v in data]
        try:
            a = xp.array(data)
        except ValueError:
            raise _ragged_error(data) from None
        if a.dtype.kind == "f" and a.dtype != xp.float16:
            a = _cast(a, D.default_float_np()) if dt is None else a
        elif a.dtype.kind in "iu" and a.dtype != xp.int64 and dt is None:
            a = a.astype(xp.int64)
        elif a.dtype.kind not in "biuf":
            raise TypeError(f"Could not infer dtype of {type(data).__name__}: chainrule tensors "
                            "hold bools, ints or floats")
        if a.size == 0 and dt is None:
            a = a.astype(D.default_float_np())
    if dt is not None and a.dtype != dt.np:
        return _cast(a, dt.np)
    return a.copy() if a is data or (isinstance(data, Tensor) and a is data._data) else a


def _cast(a, np_dtype):
    """``a.astype`` without NumPy's overflow warning: 1e300 in float32 is inf, as in torch."""
    token = B.quiet_fp()
    try:
        return a.astype(np_dtype)
    finally:
        B.restore_fp(token)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data`` (a number, nested list or NumPy array).

    >>> chainrule.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "chainrule.tensor(sourceTensor).", UserWarning, stacklevel=2)
    a = _array_from(data, dtype)
    if isinstance(data, B.ndarray) and a is data:
        a = a.copy()
    return _finish(a, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when the dtype allows."""
    if isinstance(data, Tensor) and (dtype is None or D.to_dtype(dtype) == data.dtype):
        return data
    if isinstance(data, B.ndarray) and (dtype is None or D.to_dtype(dtype).np == data.dtype):
        return _new(data)
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (dtype kept)."""
    if not isinstance(ndarray, B.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.of(ndarray)
    return _new(ndarray)


def _dtype_or_default(dtype):
    return (D.to_dtype(dtype) or D.get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of zeros of the given size (default float dtype)."""
    return _finish(xp.zeros(_size(size, "zeros"), _dtype_or_default(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of ones of the given size (default float dtype)."""
    return _finish(xp.ones(_size(size, "ones"), _dtype_or_default(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    """An uninitialised tensor of the given size."""
    return _finish(xp.empty(_size(size, "empty"), _dtype_or_default(dtype)), requires_grad)


def _scalar_dtype(value):
    if isinstance(value, (bool, xp.bool_)):
        return xp.dtype(bool)
    if isinstance(value, (int, xp.integer)):
        return xp.dtype(xp.int64)
    return D.default_float_np()


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``fill_value`` (its dtype inferred from the value, as torch)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = D.to_dtype(dtype).np if dtype is not None else _scalar_dtype(fill_value)
    return _finish(xp.full(_size((size,) if isinstance(size, int) else (size,), "full"),
                           fill_value, dt), requires_grad)


def _like(input, dtype):
    return D.to_dtype(dtype).np if dtype is not None else input._data.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(xp.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(xp.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(xp.empty(input._data.shape, _like(input, dtype)), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    return _finish(xp.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples from [0, 1)."""
    dt = _dtype_or_default(dtype)
    return _finish(_rng(generator).random(_size(size, "rand"), dtype=dt), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dt = _dtype_or_default(dtype)
    return _finish(_rng(generator).standard_normal(_size(size, "randn"), dtype=dt), requires_grad)


def rand_like(input, *, dtype=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = D.to_dtype(dtype).np if dtype is not None else xp.dtype(xp.int64)
    data = _rng(generator).integers(low, high, _size((size,), "randint")).astype(dt)
    return _finish(data, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    dt = D.to_dtype(dtype).np if dtype is not None else xp.dtype(xp.int64)
    return _finish(_rng(generator).permutation(n).astype(dt), requires_grad)


def normal(mean, std, size=None, *, generator=None):
    return _finish(_rng(generator).normal(mean, std, _size((size,), "normal")).astype(
        D.default_float_np()), False)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from start up to (not including) end, ``step`` apart (ints stay int64)."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dt = D.default_float_np() if any(isinstance(v, float) for v in vals) else xp.dtype(xp.int64)
    else:
        dt = D.to_dtype(dtype).np
    import math
    n = builtins.max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    data = (vals[0] + vals[2] * xp.arange(n, dtype=xp.float64)) if dt.kind == "f" else \
        xp.arange(vals[0], vals[1], vals[2])
    return _finish(data.astype(dt), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included."""
    return _finish(xp.linspace(start, end, steps).astype(_dtype_or_default(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False):
    return _finish(xp.logspace(start, end, steps, base=base).astype(_dtype_or_default(dtype)),
                   requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n×m identity matrix."""
    return _finish(xp.eye(n, m, dtype=_dtype_or_default(dtype)), requires_grad)

