"""Making tensors: ``tensor``, ``zeros``, ``arange``, ``randn``, ... with PyTorch's dtype rules."""
import builtins
import functools
import math
import warnings

from . import _backend as B
from . import dtypes as D
from ._backend import xp
from .grad_mode import graph_break, state as _grad_state
from .tensor import Tensor, check_device, wrap


class Generator:
    """A random number generator (NumPy's PCG64 underneath; its streams differ from torch's)."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._seed = 67280421310721
        self._gen = xp.random.default_rng(self._seed)

    @property
    def device(self):
        from .tensor import device
        return device("cpu")

    def manual_seed(self, seed):
        """Seed with any int in [-2**63, 2**64), as torch: a negative seed is its value modulo
        2**64 (``manual_seed(-1).initial_seed()`` is 2**64 - 1)."""
        # the draws after it depend on it: a replay that skipped it would go on from the state
        # the last draw left (chainrule.manual_seed and seed() come here too)
        graph_break("seeding a random number generator (it changes what later draws return)")
        seed = int(seed)
        if not _INT64_MIN <= seed < _UINT64_END:
            raise ValueError(f"Overflow when unpacking long long: manual_seed({seed}) takes an "
                             "int in [-2**63, 2**64); reduce it, e.g. seed % 2**64")
        self._seed = seed % _UINT64_END
        self._gen = xp.random.default_rng(self._seed)
        return self

    def seed(self):
        return self.manual_seed(int.from_bytes(xp.random.bytes(8), "little") >> 1)._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return wrap(xp.frombuffer(repr(self._gen.bit_generator.state).encode(), xp.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state()`` (a uint8 tensor)."""
        import ast
        graph_break("setting a random number generator's state (it changes what later draws "
                    "return)")
        state = new_state
        if not isinstance(state, Tensor) or state.dtype != D.uint8:
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(state).__name__ if not isinstance(state, Tensor) else state.dtype}"
                            ": pass the uint8 tensor that get_state() returned")
        self._gen.bit_generator.state = ast.literal_eval(bytes(state._data).decode())
        return self


    def clone_state(self):
        """A new generator in this one's state (its future draws repeat this one's)."""
        new = Generator()
        new._seed = self._seed
        new.set_state(self.get_state())
        return new

    graphsafe_get_state = clone_state

    def graphsafe_set_state(self, state):
        """Take the state of ``state`` (a generator from ``graphsafe_get_state``)."""
        self._seed = state._seed
        return self.set_state(state.get_state())


_INT64_MIN, _UINT64_END = -2 ** 63, 2 ** 64

default_generator = Generator()


def numpy_rng(generator=None):
    if _grad_state.recorder is not None:    # chainrule.compile cannot replay a random draw
        _grad_state.recorder.graph_break("a random number draw")
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
    t = wrap(data)
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


def _complex_error(op, value):
    return TypeError(f"{op}(): chainrule has no complex dtype (got {value!r}): keep the real and "
                     "imaginary parts as two real tensors")


def _leaf_dtype(kind, op):
    """The dtype torch gives one element of nested data (``kind``: its type, or an array's dtype):
    bool, int64 for ints, the default float dtype for floats, a NumPy scalar's own dtype."""
    if isinstance(kind, xp.dtype):
        d = kind
    elif issubclass(kind, (bool, xp.bool_)):
        return xp.dtype(bool)
    elif issubclass(kind, xp.generic):
        d = xp.dtype(kind)
    elif issubclass(kind, int):
        return xp.dtype(xp.int64)
    elif issubclass(kind, float):
        return D.default_float_np()
    elif issubclass(kind, complex):
        raise _complex_error(op, kind())
    elif issubclass(kind, str):
        raise TypeError(f"{op}(): invalid data type 'str': chainrule tensors hold bools, ints or "
                        "floats; convert strings first, e.g. float(s)")
    else:
        raise TypeError(f"Could not infer dtype of {kind.__name__}: chainrule tensors hold bools, "
                        "ints or floats")
    if d.kind == "c":
        raise _complex_error(op, d)
    if d not in D.BY_NP:
        raise TypeError(D.unsupported_message(d))
    return d


_PY_NUMBERS = {bool, int, float}


def _infer(data, op):
    """torch's dtype for nested Python data: every element's dtype (``_leaf_dtype``) promoted as
    torch promotes; None when there is no element (``tensor([])``)."""
    kinds = set()
    stack = [data]
    while stack:
        seq = stack.pop()
        types = set(map(type, seq))          # at C speed: most rows hold only Python numbers
        if types <= _PY_NUMBERS:
            kinds |= types
            continue
        for v in seq:
            t = type(v)
            if t is list or t is tuple:
                stack.append(v)
            elif t is B.ndarray:
                kinds.add(v.dtype)
            elif hasattr(v, "__array__") and not isinstance(v, xp.generic):
                kinds.add(xp.asarray(v).dtype)       # a torch tensor in the list, say
            else:
                kinds.add(t)
    result = None
    for kind in kinds:
        d = _leaf_dtype(kind, op)
        result = d if result is None else D.promote_types(result, d)
    return result


def _overflow(op, value, name):
    return RuntimeError(f"{op}(): value cannot be converted to type {name} without overflow "
                        f"({value!r} is outside its range): pass a dtype that holds it, e.g. "
                        "dtype=chainrule.int64 or chainrule.float64")


def _from_python(data, dt, op):
    """A new ndarray from Python numbers or nested sequences, with torch's dtype inference and
    torch's checks: ints must fit in 64 bits, values must fit an explicit integer dtype."""
    inferred = _infer([data], op) or D.default_float_np()
    if dt is not None and dt.np.kind == "f":
        build = dt.np                    # straight to the target: 2**70 as float64 is fine
    elif dt is not None and inferred.kind == "f":
        build = xp.dtype(xp.float64)     # checked against the target before the cast
    else:
        build = inferred
    token = B.quiet_fp()
    try:
        a = xp.array(data, dtype=build)
    except OverflowError as e:
        if build.kind == "f":
            raise
        raise ValueError(f"Overflow when unpacking long long: {op}() infers int64 from Python "
                         "ints, and one lies outside [-2**63, 2**63); pass dtype=chainrule.float64 "
                         "to keep it approximately") from e
    except ValueError:
        raise _ragged_error(data) from None
    finally:
        B.restore_fp(token)
    if dt is not None and dt.np != a.dtype:
        if dt.np.kind in "iu":
            ok = _fits(a, dt.np)
            if not ok.all():
                raise _overflow(op, a.reshape(-1)[~ok][0].item(), dt.name)
        a = _cast(a, dt.np)
    return a


def _fits(a, np_dtype):
    """Which values of ``a`` (flattened) convert to the integer dtype ``np_dtype`` as torch allows:
    those within its range (an unsigned dtype takes negatives modulo 2**bits, as torch does)."""
    info = xp.iinfo(np_dtype)
    flat = a.reshape(-1)
    with xp.errstate(invalid="ignore"):
        if a.dtype.kind == "f":
            ok = flat < float(info.max) + 1
            return ok & (flat >= float(info.min)) if np_dtype.kind == "i" else ok
        ok = flat <= info.max
        return ok & (flat >= info.min) if np_dtype.kind == "i" else ok


def array_from(data, dtype=None, op="tensor"):
    """A new ndarray from ``data`` with torch's dtype inference (Python floats → the default
    dtype, Python ints → int64; NumPy scalars and arrays keep their dtype)."""
    dt = D.to_dtype(dtype, op)
    if isinstance(data, Tensor):
        a = data._data
    elif isinstance(data, (list, tuple, bool, int, float, complex)):
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v._data if isinstance(v, Tensor) else v for v in data]
        return _from_python(data, dt, op)
    else:
        # an ndarray, a NumPy scalar, or anything NumPy reads (a torch tensor's __array__)
        a = data if isinstance(data, B.ndarray) else xp.asarray(data)
        if a.dtype == object:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}: chainrule tensors "
                            "hold bools, ints or floats")
        D.of(a)                          # refuses complex and other dtypes chainrule lacks
    if dt is not None and a.dtype != dt.np:
        return _cast(a, dt.np)
    # a copy, never a view of the caller's array or of another library's memory
    return a.copy() if a is data or isinstance(data, Tensor) or not a.flags.owndata else a


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
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "chainrule.tensor(sourceTensor).", UserWarning, stacklevel=2)
    return _finish(array_from(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when the dtype allows."""
    check_device(device)
    dt = D.to_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor) and (dt is None or dt == data.dtype):
        return data
    if isinstance(data, B.ndarray) and (dt is None or dt.np == data.dtype):
        D.of(data)
        return wrap(data)
    return tensor(data, dtype=dt)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (dtype kept).

    >>> chainrule.from_numpy(np.zeros(2, np.float64))
    tensor([0., 0.], dtype=chainrule.float64)
    """
    if not isinstance(ndarray, B.ndarray):
        kind = type(ndarray)
        name = f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
        raise TypeError(f"expected np.ndarray (got {name}): from_numpy() shares a NumPy array's "
                        "memory; for another library's tensor use chainrule.from_dlpack(t) (shares "
                        "memory) or chainrule.tensor(t) (copies)")
    D.of(ndarray)
    return wrap(ndarray)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any object that speaks DLPack (a torch tensor, a NumPy array,
    a JAX array on the CPU), as ``torch.from_dlpack``.

    >>> chainrule.from_dlpack(np.arange(3))
    tensor([0, 1, 2])
    """
    try:
        a = xp.from_dlpack(ext_tensor)
    except BufferError as e:
        raise RuntimeError(f"from_dlpack(): the {type(ext_tensor).__name__} cannot be shared "
                           f"({e}); chainrule cannot record through another library's graph, so "
                           "pass t.detach()") from e
    D.of(a)
    return wrap(a)


def _dtype_or_default(dtype, op):
    return (D.to_dtype(dtype, op) or D.get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of zeros of the given size (default float dtype)."""
    check_device(device)
    return _finish(xp.zeros(_size(size, "zeros"), _dtype_or_default(dtype, "zeros")),
                   requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of ones of the given size (default float dtype)."""
    check_device(device)
    return _finish(xp.ones(_size(size, "ones"), _dtype_or_default(dtype, "ones")), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    """An uninitialised tensor of the given size."""
    check_device(device)
    return _finish(xp.empty(_size(size, "empty"), _dtype_or_default(dtype, "empty")),
                   requires_grad)


def _scalar_dtype(value):
    if isinstance(value, (bool, xp.bool_)):
        return xp.dtype(bool)
    if isinstance(value, (int, xp.integer)):
        return xp.dtype(xp.int64)
    return D.default_float_np()


@functools.lru_cache(maxsize=None)
def _float_max(np_dtype):
    return float(xp.finfo(np_dtype).max)


def checked_fill(value, np_dtype, op):
    """``value`` ready to fill an array of ``np_dtype``, checked as torch checks a Scalar: a real
    number that fits the dtype (ints wrap into unsigned dtypes, as in torch)."""
    if (type(value) is float or type(value) is int) and value == 0:
        return value                    # zero_() on every gradient, every step: fits any dtype
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (complex, xp.complexfloating)):
        raise _complex_error(op, value)
    if not isinstance(value, (bool, int, float, xp.number, xp.bool_)):
        raise TypeError(f"{op}(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(value).__name__}")
    if isinstance(value, (xp.number, xp.bool_)):
        value = value.item()
    if type(value) is int and not _INT64_MIN <= value < _UINT64_END:
        raise OverflowError(f"{op}(): int too big to convert: {value} does not fit in 64 bits")
    kind = np_dtype.kind
    if kind in "iu" and not isinstance(value, bool):
        info = xp.iinfo(np_dtype)
        if not (info.min if kind == "i" else _INT64_MIN) <= value < info.max + 1:   # NaN too
            raise _overflow(op, value, D.of(xp.empty(0, np_dtype)).name)
        if kind == "u" and type(value) is int:
            value %= 2 ** (8 * np_dtype.itemsize)
    elif kind == "f" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and abs(value) > _float_max(np_dtype):
            raise _overflow(op, value, D.of(xp.empty(0, np_dtype)).name)
    return value


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``fill_value`` (its dtype inferred from the value, as torch)."""
    check_device(device)
    dt = D.to_dtype(dtype, "full").np if dtype is not None else _scalar_dtype(fill_value)
    v = checked_fill(fill_value, dt, "full")
    shape = _size((size,) if isinstance(size, int) else (size,), "full")
    return _finish(xp.full(shape, v, dt), requires_grad)


def _like(input, dtype, op):
    return D.to_dtype(dtype, op).np if dtype is not None else input._data.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    check_device(device)
    return _finish(xp.zeros(input._data.shape, _like(input, dtype, "zeros_like")), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    check_device(device)
    return _finish(xp.ones(input._data.shape, _like(input, dtype, "ones_like")), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    check_device(device)
    return _finish(xp.empty(input._data.shape, _like(input, dtype, "empty_like")), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    check_device(device)
    dt = _like(input, dtype, "full_like")
    return _finish(xp.full(input._data.shape, checked_fill(fill_value, dt, "full_like"), dt),
                   requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples from [0, 1)."""
    check_device(device)
    dt = _dtype_or_default(dtype, "rand")
    return _finish(numpy_rng(generator).random(_size(size, "rand"), dtype=dt), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    check_device(device)
    dt = _dtype_or_default(dtype, "randn")
    return _finish(numpy_rng(generator).standard_normal(_size(size, "randn"), dtype=dt), requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    """Uniform samples from [0, 1) with ``input``'s shape (and dtype)."""
    _floating_like(input, dtype, "check_uniform_bounds")
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
               memory_format=None):
    """Standard normal samples with ``input``'s shape (and dtype)."""
    _floating_like(input, dtype, "normal_kernel_cpu")
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input, *args, generator=None, dtype=None, device=None, requires_grad=False,
                 memory_format=None):
    """Integers uniform in [low, high) with ``input``'s shape and dtype:
    ``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    return randint(*args, size=tuple(input.shape), generator=generator,
                   dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    check_device(device)
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = D.to_dtype(dtype, "randint").np if dtype is not None else xp.dtype(xp.int64)
    data = numpy_rng(generator).integers(low, high, _size((size,), "randint")).astype(dt)
    return _finish(data, requires_grad)


def _int_arg(value, name, op):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return value.__index__()


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0, ..., n - 1."""
    check_device(device)
    (n,) = _size((_int_arg(n, "n", "randperm"),), "randperm")
    dt = D.to_dtype(dtype, "randperm").np if dtype is not None else xp.dtype(xp.int64)
    return _finish(numpy_rng(generator).permutation(n).astype(dt), requires_grad)


def _scalar_name(dt):
    """torch's name for a dtype in its kernel errors ('Long', 'Half')."""
    return {"float16": "Half"}.get(dt.name) or D.SCALAR_NAMES.get(dt.name, dt.name)


def _floating_like(input, dtype, kernel):
    dt = D.to_dtype(dtype, kernel) if dtype is not None else input.dtype
    if dt.np.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_scalar_name(dt)}\''
                                  ": random floats need a floating dtype, e.g. "
                                  "dtype=chainrule.float32")


def _values(x):
    return x._data if isinstance(x, Tensor) else x


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples N(mean, std²), elementwise: ``mean`` and ``std`` are tensors or numbers
    (tensors broadcast; numbers need ``size``). No gradient flows to mean or std.

    >>> chainrule.normal(chainrule.zeros(2), 1.0).shape
    chainrule.Size([2])
    """
    check_device(device)
    rng = numpy_rng(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with a "
                            "number mean and std, pass size=, e.g. normal(0.0, 1.0, size=(3,))")
        check_normal(std, "normal")
        dt = _dtype_or_default(dtype, "normal")
        return _finish(rng.normal(mean, std, _size((size,), "normal")).astype(dt), requires_grad)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    for t in tensors:
        if t._data.dtype.kind != "f":
            raise NotImplementedError(f'"normal_kernel_cpu" not implemented for '
                                      f"'{_scalar_name(t.dtype)}': normal() needs "
                                      "floating mean and std; convert with .float()")
    if not isinstance(std, Tensor):
        check_normal(std, "normal")
    elif (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0 (a standard deviation "
                           "cannot be negative)")
    m, s = _values(mean), _values(std)
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        if mean.numel() != std.numel() or mean.shape == std.shape:
            shape = _broadcast_or_raise(m.shape, s.shape)
        else:                               # torch: equal numel, mean's shape wins
            shape = m.shape
            s = s.reshape(shape)
    else:
        shape = xp.shape(m) if isinstance(mean, Tensor) else xp.shape(s)
    dt = D.result_type(*(t._data for t in tensors))
    data = rng.standard_normal(shape) * s + m
    return _finish(xp.asarray(data, dtype=dt), False)


def _broadcast_or_raise(a, b):
    try:
        return xp.broadcast_shapes(a, b)
    except ValueError:
        n = builtins.max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        d = next(i for i in range(n - 1, -1, -1) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                           f"({pb[d]}) at non-singleton dimension {d}") from None


def _probabilities(p, op, kernel):
    if p._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_scalar_name(p.dtype)}': {op} needs floating "
                                  "probabilities; convert with .float()")
    if not ((p._data >= 0) & (p._data <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                           f"({op}: every probability must lie in [0, 1])")
    return p._data


def _check_p(p, op):
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p}")


def bernoulli(input, p=None, *, generator=None, out=None):
    """out[i] = 1 with probability ``input[i]`` (or ``p``), else 0; ``input``'s dtype, no
    gradient.

    >>> chainrule.bernoulli(chainrule.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    rng = numpy_rng(generator)
    if p is None:
        probs = _probabilities(input, "bernoulli", "bernoulli_tensor_cpu_p_")
        data = rng.random(probs.shape) < probs
    else:
        _check_p(p, "bernoulli_")
        if input._data.dtype.kind != "f":
            raise NotImplementedError(f'"bernoulli_scalar_cpu_" not implemented for '
                                      f"'{_scalar_name(input.dtype)}'")
        data = rng.random(input._data.shape) < p
    return _finish(data.astype(input._data.dtype), False)


def poisson(input, generator=None):
    """out[i] ~ Poisson(rate = input[i]), in ``input``'s float dtype; no gradient."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"poisson_cpu" not implemented for '
                                  f"'{_scalar_name(input.dtype)}': pass floating rates")
    if (input._data < 0).any() or xp.isnan(input._data).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _finish(numpy_rng(generator).poisson(input._data).astype(input._data.dtype), False)


def binomial(count, prob, generator=None):
    """out[i] ~ Binomial(count[i], prob[i]), in the inputs' float dtype; no gradient."""
    for name, t in (("count", count), ("prob", prob)):
        if t._data.dtype.kind != "f":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_scalar_name(t.dtype)}")
    shape = _broadcast_or_raise(count._data.shape, prob._data.shape)
    n = xp.broadcast_to(count._data, shape)
    q = xp.broadcast_to(prob._data, shape)
    if (q < 0).any() or (q > 1).any() or (n < 0).any():
        raise RuntimeError("binomial expects count >= 0 and 0 <= prob <= 1 (got a value outside)")
    data = numpy_rng(generator).binomial(n.astype(xp.int64), q.astype(xp.float64))
    return _finish(data.astype(count._data.dtype), False)


def get_rng_state():
    """The global generator's state, a uint8 tensor (``set_rng_state`` restores it)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global generator's state from ``get_rng_state()``."""
    if not isinstance(new_state, Tensor) or new_state.dtype != D.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor: pass the tensor that "
                        "get_rng_state() returned")
    default_generator.set_state(new_state)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw ``num_samples`` category indices per row of non-negative weights (int64, no gradient).

    >>> chainrule.multinomial(chainrule.tensor([0.0, 3.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]

    Without replacement a row may yield more samples than it has non-zero weights, as in torch's
    CPU kernel: the zero-weight categories come last, in random order.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}; wrap the weights: chainrule.tensor(weights)")
    p = input._data
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim: multinomial got a {p.ndim}-d input of "
                           f"shape {tuple(p.shape)}; pass one row of weights or a batch of rows")
    if p.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{D.of(p)}; convert the weights with .float()")
    n = _int_arg(num_samples, "num_samples", "multinomial")
    if n <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples: multinomial got num_samples={n}")
    if not replacement and n > p.shape[-1]:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement: {n} > {p.shape[-1]}; pass replacement=True or fewer "
                           "samples")
    rows = p.reshape(-1, p.shape[-1]).astype(xp.float64)
    if not xp.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0: "
                           "multinomial needs finite, non-negative weights")
    if rows.shape[0] and (rows.sum(axis=-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0): a row "
                           "of multinomial's weights is all zero")
    rng = numpy_rng(generator)
    out = xp.empty((rows.shape[0], n), xp.int64)
    for i, row in enumerate(rows):
        if replacement:
            cdf = xp.cumsum(row)
            u = rng.random(n) * cdf[-1]
            out[i] = xp.minimum(xp.searchsorted(cdf, u, side="right"), row.size - 1)
        else:
            # weight / Exp(1) ranks the categories as successive draws without replacement would
            # (the exponential-race trick torch's kernel uses); zero weights rank last.
            keys = row / rng.standard_exponential(row.size)
            keys[row == 0] = -rng.random(int((row == 0).sum()))
            out[i] = xp.argsort(-keys, kind="stable")[:n]
    return _finish(out.reshape(p.shape[:-1] + (n,)), False)


def check_normal(std, op):
    """torch's checks on a normal distribution's std (a number, not negative, not NaN)."""
    if not isinstance(std, (int, float, xp.number)):
        raise TypeError(f"{op}(): argument 'std' (position 2) must be float, not "
                        f"{type(std).__name__}")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std} ({op}: a standard "
                           "deviation cannot be negative)")


def check_uniform(a, b, op):
    """torch's checks on uniform bounds: finite numbers, from <= to."""
    for name, v in (("from", a), ("to", b)):
        if not isinstance(v, (int, float, xp.number)):
            raise TypeError(f"{op}(): argument '{name}' must be float, not {type(v).__name__}")
        if not math.isfinite(v):
            raise RuntimeError(f"{name} is out of bounds for float ({op} got {v}): pass finite "
                               "bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}; swap them")


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from start up to (not including) end, ``step`` apart (ints stay int64)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if not vals[2] or math.isnan(vals[2]):
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(vals[0]) and math.isfinite(vals[1])):
        raise RuntimeError(f"unsupported range: {vals[0]} -> {vals[1]} (arange needs finite "
                           "bounds)")
    if (vals[1] - vals[0]) * vals[2] < 0:
        sign = "negative" if vals[1] < vals[0] else "positive"
        raise RuntimeError(f"upper bound and lower bound inconsistent with step sign: arange("
                           f"{vals[0]}, {vals[1]}, {vals[2]}) never reaches its end; use a "
                           f"{sign} step or swap start and end")
    if dtype is None:
        dt = D.default_float_np() if any(isinstance(v, float) for v in vals) else xp.dtype(xp.int64)
    else:
        dt = D.to_dtype(dtype, "arange").np
    n = builtins.max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    data = (vals[0] + vals[2] * xp.arange(n, dtype=xp.float64)) if dt.kind == "f" else \
        xp.arange(vals[0], vals[1], vals[2])
    return _finish(data.astype(dt), requires_grad)


def _steps(steps, op):
    steps = _int_arg(steps, "steps", op)
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative ({op} got steps={steps})")
    return steps


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included."""
    check_device(device)
    steps = _steps(steps, "linspace")
    return _finish(xp.linspace(start, end, steps).astype(_dtype_or_default(dtype, "linspace")),
                   requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    check_device(device)
    steps = _steps(steps, "logspace")
    return _finish(xp.logspace(start, end, steps, base=base).astype(
        _dtype_or_default(dtype, "logspace")), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n×m identity matrix."""
    check_device(device)
    n = _int_arg(n, "n", "eye")
    m = n if m is None else _int_arg(m, "m", "eye")
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v} (eye)")
    return _finish(xp.eye(n, m, dtype=_dtype_or_default(dtype, "eye")), requires_grad)


# --- in-place samplers (Tensor.bernoulli_, random_, exponential_, ...) -----------------------

def _fill(x, data):
    """Write samples into x's storage, as torch's in-place samplers: no history recorded."""
    from .grad_mode import state
    if state.enabled and x._requires_grad and x._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation. Do the in-place sampling inside `with chainrule.no_grad():`"
                           ", or sample into a tensor that does not require grad")
    token = B.quiet_fp()
    try:
        x._data[...] = data
    finally:
        B.restore_fp(token)
    x._vc[0] += 1
    return x


def _continuous(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op} distribution is a continuous probability distribution. dtype "
                           f"must be a floating point but you specified {_scalar_name(x.dtype)}")


def bernoulli_(x, p=0.5, *, generator=None):
    """x[i] = 1 with probability ``p`` (a number or a tensor of probabilities), else 0."""
    rng = numpy_rng(generator)
    if isinstance(p, Tensor):
        probs = _probabilities(p, "bernoulli_", "bernoulli_tensor_cpu_p_")
        data = rng.random(x._data.shape) < xp.broadcast_to(probs, x._data.shape)
    else:
        _check_p(p, "bernoulli_")
        data = rng.random(x._data.shape) < p
    return _fill(x, data)


def exponential_(x, lambd=1.0, *, generator=None):
    """x[i] ~ Exponential(rate ``lambd``): density lambd·exp(-lambd·x)."""
    _continuous(x, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(x, numpy_rng(generator).standard_exponential(x._data.shape) / lambd)


def geometric_(x, p, *, generator=None):
    """x[i] ~ Geometric(p): the number of Bernoulli(p) trials up to the first success (≥ 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(x, numpy_rng(generator).geometric(p, x._data.shape))


def cauchy_(x, median=0.0, sigma=1.0, *, generator=None):
    """x[i] ~ Cauchy(median, sigma): median + sigma·tan(π(u - 1/2))."""
    _continuous(x, "Cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(x, median + sigma * numpy_rng(generator).standard_cauchy(x._data.shape))


def log_normal_(x, mean=1.0, std=2.0, *, generator=None):
    """x[i] = exp(N(mean, std²))."""
    _continuous(x, "LogNormal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(x, numpy_rng(generator).lognormal(mean, std, x._data.shape))


def _random_bounds(x):
    """[low, high] (both included) that random_() draws from: the dtype's integers, or the
    integers a float dtype holds exactly (2**mantissa bits + 1)."""
    d = x._data.dtype
    if d == bool:
        return 0, 1
    if d.kind == "f":
        return 0, 2 ** (xp.finfo(d).nmant + 1)
    return 0, int(xp.iinfo(d).max)


_C_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int",
            "int32": "int", "int64": "long int"}


def random_(x, *args, generator=None, **kwargs):
    """x[i] uniform over the integers in [from, to): ``random_()`` the dtype's non-negative
    range (floats: the integers they hold exactly), ``random_(to)``, ``random_(from, to)``."""
    bound = dict(zip(("from", "to"), args)) if len(args) != 1 else {"to": args[0]}
    bound.update(kwargs)
    unknown = set(bound) - {"from", "to"}
    if unknown or len(args) > 2:
        raise TypeError(f"random_() takes from and to, got {sorted(unknown) or args}")
    low, top = _random_bounds(x)
    lo = bound.get("from", 0)
    hi = bound.get("to")
    hi = top + 1 if hi is None else hi
    if hi <= lo:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    d = x._data.dtype
    if d.kind in "iu":
        info = xp.iinfo(d)
        if not info.min <= lo <= info.max:
            raise RuntimeError(f"from is out of bounds for {_C_NAMES[x.dtype.name]}")
        if not info.min <= hi - 1 <= info.max:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[x.dtype.name]}")
    return _fill(x, numpy_rng(generator).integers(lo, hi, x._data.shape))
