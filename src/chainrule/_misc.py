"""Attributes, predicates, settings and the rest of torch's top level (issue #12).

Three groups, each short:

- tensor attributes and predicates (``is_nonzero``, ``stride``, ``conj``, ``real``, ...): chainrule
  has real, strided, CPU tensors only, so most are constants or views of NumPy's own attributes;
- process-wide settings (deterministic algorithms, threads, matmul precision, anomaly mode, default
  device): recorded and reported back, as torch does on a CPU build;
- functions torch exposes at its top level with its own (ATen) signatures: window functions,
  ``range``, ``scalar_tensor``, ``cond``/``while_loop``, and the ``nn.functional`` ops under their
  top-level names (``torch.dropout(input, p, train)``, ``torch.embedding(weight, indices)``...).
"""
import builtins
import math
import warnings

from . import _backend as B
from . import dtypes as D
from ._backend import xp
from .grad_mode import state as _grad_state
from .tensor import Tensor, check_device, device, wrap

_ndarray = B.ndarray


# =========================================================================================
# Layouts
# =========================================================================================

class layout:
    """How a tensor's elements are laid out in memory; chainrule has ``chainrule.strided`` only."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return (_layout_by_name, (self.name,))


def _layout_by_name(name):
    return strided


strided = layout("strided")


# =========================================================================================
# Tensor attributes and predicates
# =========================================================================================

def _tensor(v, op, arg="input"):
    if not isinstance(v, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position 1) must be Tensor, not "
                        f"{type(v).__name__}")
    return v


def H(self):
    """The conjugate transpose of a matrix: ``x.H = x.T`` for real x."""
    nd = self._data.ndim
    if nd == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=3)
        return self
    if nd != 2:
        more = ". For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D "
                           f"tensor{more}")
    return self.transpose(0, 1)


def is_nonzero(input):
    """True when the one-element tensor ``input`` is not zero (``bool(input)`` without casts)."""
    n = _tensor(input, "is_nonzero")._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input._data.reshape(()).item())


def is_same_size(input, other):
    """True when the two tensors have the same shape."""
    return _tensor(input, "is_same_size")._data.shape == \
        _tensor(other, "is_same_size", "other")._data.shape


def is_signed(input):
    """True for signed dtypes (floats and int8..int64; not uint8 or bool)."""
    return _tensor(input, "is_signed")._data.dtype.kind in "if"


def is_complex(input):
    """False: chainrule has no complex dtype."""
    _tensor(input, "is_complex")
    return False


def is_conj(input):
    """False: a real tensor never carries a lazy conjugation."""
    _tensor(input, "is_conj")
    return False


def is_neg(input):
    """False: chainrule never carries a lazy negation."""
    _tensor(input, "is_neg")
    return False


def is_inference(input):
    """False: chainrule's inference_mode makes ordinary tensors (no inference tensors)."""
    _tensor(input, "is_inference")
    return False


def is_distributed(input):
    _tensor(input, "is_distributed")
    return False


def get_device(input):
    """-1, the index torch gives a CPU tensor."""
    _tensor(input, "get_device")
    return -1


def conj(input):
    """conj(x) = x for real x (the same tensor, as torch)."""
    return _tensor(input, "conj")


def conj_physical(input):
    """conj(x) = x for real x (the same tensor, as torch)."""
    return _tensor(input, "conj_physical")


def conj_physical_(input):
    """conj(x) = x for real x, in place: x unchanged (refused on a leaf that requires grad)."""
    x = _tensor(input, "conj_physical_")
    if x._requires_grad and x._grad_fn is None and _grad_state.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    return x


def resolve_conj(input):
    """x itself: a real tensor has no lazy conjugation to materialise."""
    return _tensor(input, "resolve_conj")


def resolve_neg(input):
    """x itself: chainrule has no lazy negation to materialise."""
    return _tensor(input, "resolve_neg")


def real(input):
    """The real part: x itself for real x."""
    return _tensor(input, "real")


def imag(input):
    """The imaginary part: refused for real tensors, as torch refuses it."""
    _tensor(input, "imag")
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def stride(self, dim=None):
    """Elements (not bytes) to step in each dim to reach the next element along it."""
    a = self._data
    if a.size == 0 and not any(a.strides):  # a new empty array: NumPy gives 0s, torch row-major
        st, n = [], 1
        for size in reversed(a.shape):
            st.append(n)
            n *= builtins.max(size, 1)
        st = tuple(reversed(st))
    else:
        st = tuple(s // a.itemsize for s in a.strides)
    if dim is None:
        return st
    from .tensor import dim_index
    return st[dim_index(dim, a.ndim, "stride")]


def _root(a):
    while isinstance(a.base, _ndarray):
        a = a.base
    return a


def storage_offset(self):
    """Elements from the start of the storage (the array this one is a view of) to x[0, ...]."""
    a = self._data
    return (a.__array_interface__["data"][0] - _root(a).__array_interface__["data"][0]) \
        // a.itemsize


def _contiguous(shape, st, order):
    """torch's contiguity test for one dim order: strides ignore size-1 dims."""
    expected = 1
    for d in order:
        if shape[d] == 1:
            continue
        if st[d] != expected:
            return False
        expected *= shape[d]
    return True


def _should_swap(shape, st, a, b):
    if st[a] == 0 or st[b] == 0:
        return 0
    if st[a] == st[b]:
        return 0 if shape[b] >= shape[a] else 1
    return -1 if st[b] > st[a] else 1


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by decreasing stride), with torch's rules
    for ties, size-1 and stride-0 dims (``_prims_common``'s logical-to-physical permutation)."""
    shape, st = self._data.shape, stride(self)
    nd = len(shape)
    if ambiguity_check and (any(a == b for a, b in zip(st, st[1:])) or 1 in shape):
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact "
                           "one of the given memory formats.")
    if nd < 2:
        return tuple(builtins.range(nd))
    contiguous = self._data.size < 2 or _contiguous(shape, st, builtins.range(nd - 1, -1, -1))
    channels_last = nd == 4 and _contiguous(shape, st, (1, 3, 2, 0))
    if contiguous and not channels_last:
        return tuple(builtins.range(nd))
    if channels_last and not contiguous:
        return (0, *builtins.range(2, nd), 1)
    perm = list(builtins.range(nd - 1, -1, -1))
    for i in builtins.range(1, nd):            # insertion sort allowing ambiguous comparisons
        d1 = i
        for d0 in builtins.range(i - 1, -1, -1):
            c = _should_swap(shape, st, perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return tuple(reversed(perm))


def is_set_to(self, tensor):
    """True when both tensors view the same storage with the same offset, shape and strides."""
    a, b = self._data, _tensor(tensor, "is_set_to", "tensor")._data
    return (_root(a) is _root(b) and a.shape == b.shape and a.strides == b.strides and
            a.dtype == b.dtype and
            a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def as_subclass(self, cls):
    """x viewed as an instance of ``cls`` (a Tensor subclass), sharing storage and the graph."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): cls must be a subclass of chainrule.Tensor, got {cls!r}")
    if not self._requires_grad:
        return wrap(self._data, cls=cls)
    t = self.view(self._data.shape)     # recorded, as torch's AliasBackward0
    t.__class__ = cls
    return t


def type_as(self, other):
    """x converted to other's dtype."""
    return self.to(_tensor(other, "type_as", "other").dtype)


def new(self, *args, **kwargs):
    """The legacy constructor with x's dtype: ``x.new(2, 3)`` (uninitialised), ``x.new([1, 2])``."""
    dtype = kwargs.pop("dtype", None) or self.dtype
    check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError(f"new() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not args:
        return wrap(xp.empty((0,), dtype.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0]._data.dtype != dtype.np:
            raise TypeError(f"expected {dtype} (got {args[0].dtype})")
        return args[0].detach()
    return Tensor(*args, dtype=dtype)


def volatile(self):
    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                  stacklevel=3)
    return False


def bfloat16(self, memory_format=None):
    raise TypeError("chainrule has no bfloat16 dtype (NumPy has none): use .half() (float16) or "
                    ".float() (float32) instead")


def pin_memory(self, device=None):
    raise RuntimeError("Cannot access accelerator device when none is available. (chainrule "
                       "computes with NumPy on the CPU only: pinned memory needs an accelerator)")


def to_dense(self, dtype=None, *, masked_grad=None):
    """x itself: a strided tensor is already dense (converted when dtype is given)."""
    return self if dtype is None else self.to(dtype)


def _no_storage(op):
    raise RuntimeError(f"{op}(): chainrule tensors have no separate storage objects; the values "
                       "live in a NumPy array: use x.numpy() (or x.detach().numpy()) to reach it")


def storage(self):
    _no_storage("storage")


def untyped_storage(self):
    _no_storage("untyped_storage")


def storage_type(self):
    _no_storage("storage_type")


# =========================================================================================
# Settings: recorded, reported back
# =========================================================================================

class _Settings:
    deterministic = False
    warn_only = False
    debug_mode = 0
    num_threads = None
    num_interop_threads = None
    matmul_precision = "highest"
    anomaly = False
    anomaly_check_nan = True
    warn_always = False


_settings = _Settings()


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the request: NumPy's CPU kernels are deterministic already."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not "
                        f"{type(mode).__name__}")
    _settings.deterministic = mode
    _settings.warn_only = builtins.bool(warn_only) and mode
    _settings.debug_mode = (1 if warn_only else 2) if mode else 0


def are_deterministic_algorithms_enabled():
    return _settings.deterministic


def is_deterministic_algorithms_warn_only_enabled():
    return _settings.warn_only


def set_deterministic_debug_mode(debug_mode):
    """0/"default", 1/"warn", 2/"error": the same switch as ``use_deterministic_algorithms``."""
    if isinstance(debug_mode, str):
        names = ("default", "warn", "error")
        if debug_mode not in names:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = names.index(debug_mode)
    elif not isinstance(debug_mode, builtins.int) or isinstance(debug_mode, builtins.bool):
        raise TypeError("debug_mode must be str or int, but got "
                        f"{type(debug_mode).__name__}")
    elif debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    return _settings.debug_mode


def _threads_arg(n, op):
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
        raise RuntimeError(f"{op} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{op} expects a positive integer")
    return n


def _cpu_count():
    import os
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):       # pragma: no cover  (macOS, Windows)
        return os.cpu_count() or 1


def set_num_threads(int):
    """Record the thread count, and limit NumPy's BLAS to it when threadpoolctl is installed."""
    _settings.num_threads = _threads_arg(int, "set_num_threads")
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(int, user_api="blas")


def get_num_threads():
    """The thread count set by ``set_num_threads`` (the CPUs available unless set)."""
    return _settings.num_threads or _cpu_count()


def set_num_interop_threads(int):
    """Record the inter-op thread count (chainrule runs ops one at a time: nothing else changes)."""
    _settings.num_interop_threads = _threads_arg(int, "set_num_interop_threads")


def get_num_interop_threads():
    return _settings.num_interop_threads or _cpu_count()


def init_num_threads():
    """Nothing to initialise: NumPy's thread pools start themselves."""


def set_float32_matmul_precision(precision):
    """Record "highest", "high" or "medium" (NumPy's float32 matmul is always "highest")."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings.matmul_precision = precision


def get_float32_matmul_precision():
    return _settings.matmul_precision


def set_flush_denormal(mode):
    """False: NumPy cannot flush denormal floats to zero, so the request is not honoured."""
    return False


def get_default_device():
    """``device(type='cpu')``: chainrule has no other."""
    return device("cpu")


def set_default_device(device):
    """Only the CPU (or None) is accepted: chainrule computes with NumPy on the CPU."""
    check_device(None if device is None else str(device))


def set_default_tensor_type(t):
    """Deprecated: sets the default dtype from a legacy type (``chainrule.DoubleTensor`` name)."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    from .tensor import LEGACY_NAMES
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.rsplit(".", 1)[-1]
    by_legacy = {v: k for k, v in LEGACY_NAMES.items()}
    if name not in by_legacy:
        raise TypeError(f"invalid type: '{t}' (set_default_tensor_type takes "
                        "'torch.FloatTensor' or 'torch.DoubleTensor'; prefer "
                        "chainrule.set_default_dtype(chainrule.float64))")
    D.set_default_dtype(D.BY_NAME[by_legacy[name]])


def set_anomaly_enabled(enabled, check_nan=True):
    """Record anomaly mode (chainrule's engine does not yet check for NaN when it is on)."""
    _settings.anomaly = builtins.bool(enabled)
    _settings.anomaly_check_nan = builtins.bool(check_nan)


def is_anomaly_enabled():
    return _settings.anomaly


def is_anomaly_check_nan_enabled():
    return _settings.anomaly_check_nan


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` (which works as ``no_grad`` in chainrule)."""
    return builtins.bool(getattr(_grad_state, "inference", False))


def set_warn_always(b):
    """Record whether warnings meant to show once should show every time."""
    _settings.warn_always = builtins.bool(b)


def is_warn_always_enabled():
    return _settings.warn_always


def _cpu_module():
    import types
    m = types.ModuleType("chainrule.cpu", "The CPU as a device module (``get_device_module()``).")
    m.is_available = lambda: True
    m.device_count = lambda: 1
    m.current_device = lambda: "cpu"
    m.synchronize = lambda device=None: None
    return m


cpu = _cpu_module()


def get_device_module(device=None):
    """The module of a device type: ``chainrule.cpu`` for "cpu" (and None), ``chainrule.cuda``."""
    from . import cuda
    name = "cpu" if device is None else str(device).partition(":")[0]
    if name == "cuda":
        return cuda
    if name == "cpu":
        return cpu
    raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as "
                       f"'chainrule.{name}' (chainrule has cpu and cuda only).")


# =========================================================================================
# Types and casts
# =========================================================================================

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def can_cast(from_, to):
    """True when torch's casting rules allow ``from_`` to ``to`` (no lower category: float ->
    int and anything -> bool are refused)."""
    a, b = D.to_dtype(from_, "can_cast"), D.to_dtype(to, "can_cast")
    return _CATEGORY[a.np.kind] <= _CATEGORY[b.np.kind]


def typename(obj):
    """The type's name as torch prints it: 'chainrule.FloatTensor' for a float32 tensor."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", "__builtin__", None) else f"{module}.{name}"


def is_storage(obj):
    """False: chainrule has no storage objects."""
    return False


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding s, in the default float dtype unless dtype is given."""
    from .creation import tensor
    check_device(device)
    if isinstance(s, Tensor):
        s = s.item()
    if isinstance(s, complex):
        raise TypeError("scalar_tensor(): chainrule has no complex dtype")
    return tensor(s, dtype=dtype or D.get_default_dtype(), requires_grad=requires_grad)


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """Deprecated: values from start to end *inclusive*, step apart (default float dtype)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    check_device(device)
    if end is None:
        raise TypeError("range() missing required argument 'end' (pos 2)")
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = D.to_dtype(dtype, "range") or D.get_default_dtype()
    n = builtins.int(math.floor((vals[1] - vals[0]) / vals[2])) + 1
    data = vals[0] + vals[2] * xp.arange(n, dtype=xp.float64)
    return wrap(data.astype(dt.np), requires_grad=requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor sharing the memory of an object with the buffer protocol (not copied)."""
    d = D.to_dtype(dtype, "frombuffer")
    n = memoryview(buffer).nbytes
    if n <= 0 or count == 0:
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({n} bytes) minus 1")
    if count < 0 and (n - offset) % d.itemsize:
        raise ValueError(f"buffer length ({n - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({d.itemsize})")
    if count > 0 and count * d.itemsize > n - offset:
        raise ValueError(f"requested buffer length ({count} * {d.itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length ({n} "
                         "bytes)")
    a = xp.frombuffer(buffer, dtype=d.np, count=count, offset=offset)
    return wrap(a, requires_grad=requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False):
    """The first ``size`` elements of a raw binary file; with shared=True a memory map, so that
    writes to the tensor reach the file."""
    check_device(device)
    d = D.to_dtype(dtype, "from_file") or D.get_default_dtype()
    import os
    mode = "read/write" if shared else "read-only"
    try:
        n = os.path.getsize(filename)
    except OSError as e:
        raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: {e.strerror} "
                           f"({e.errno})") from None
    need = size * d.itemsize
    if n < need:
        raise RuntimeError(f"file <{filename}> size <{n}> is smaller than the required mapping "
                           f"size <{need}>")
    if size == 0:
        return wrap(xp.empty((0,), d.np))
    if shared:
        return wrap(xp.memmap(filename, dtype=d.np, mode="r+", shape=(size,)).view(_ndarray))
    return wrap(xp.fromfile(filename, dtype=d.np, count=size))


def to_dlpack(tensor):
    """A DLPack capsule sharing the tensor's memory (``tensor.__dlpack__()``)."""
    return _tensor(tensor, "to_dlpack", "tensor").__dlpack__()


# =========================================================================================
# Window functions (values only: torch gives them no gradient either)
# =========================================================================================

def _window(name, window_length, periodic, dtype, device, requires_grad, fn):
    check_device(device)
    if not isinstance(window_length, builtins.int) or isinstance(window_length, builtins.bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if not isinstance(periodic, builtins.bool):
        raise TypeError(f"{name}(): argument 'periodic' (position 2) must be bool, not "
                        f"{type(periodic).__name__}")
    d = D.to_dtype(dtype, name) or D.get_default_dtype()
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d} (pass "
                           "dtype=chainrule.float32 or chainrule.float64)")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length <= 1:
        data = xp.ones((window_length,), xp.float64)
    else:
        n = window_length + 1 if periodic else window_length
        k = xp.arange(n, dtype=xp.float64)
        data = fn(k, n)[:window_length]
    return wrap(data.astype(d.np), requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """w[k] = 0.5 - 0.5 cos(2πk / (N - 1)) (N = window_length + 1 when periodic)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.5 - 0.5 * xp.cos(2 * math.pi * k / (n - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """w[k] = alpha - beta cos(2πk / (N - 1)) (N = window_length + 1 when periodic)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: alpha - beta * xp.cos(2 * math.pi * k / (n - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """w[k] = 0.42 - 0.5 cos(2πk / (N - 1)) + 0.08 cos(4πk / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.42 - 0.5 * xp.cos(2 * math.pi * k / (n - 1)) +
                   0.08 * xp.cos(4 * math.pi * k / (n - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """w[k] = 1 - |2k / (N - 1) - 1| (a triangle)."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 1 - xp.abs(2 * k / (n - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    """w[k] = I0(beta sqrt(1 - (2k / (N - 1) - 1)²)) / I0(beta)."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: xp.i0(beta * xp.sqrt(xp.maximum(
                       0.0, 1 - (2 * k / (n - 1) - 1) ** 2))) / xp.i0(beta))


# =========================================================================================
# Control flow (eager: the branches simply run, and record as any other code)
# =========================================================================================

def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands); pred a bool or one-element tensor."""
    if isinstance(pred, Tensor):
        if pred._data.size != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got a "
                               f"tensor of shape {list(pred._data.shape)} (cond() needs one "
                               "truth value: reduce it with .any() or .all())")
        pred = builtins.bool(pred._data.reshape(()).item())
    elif not isinstance(pred, (builtins.bool, builtins.int, builtins.float)):
        raise RuntimeError(f"cond(): pred must be a bool, int, float or a one-element tensor, "
                           f"got {type(pred).__name__}")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("cond(): true_fn and false_fn must be callables")
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"cond(): operands must be a tuple or list, got "
                           f"{type(operands).__name__}")
    return (true_fn if pred else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)``; return the last carried."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list, got "
                           f"{type(carried_inputs).__name__}")
    carried = tuple(carried_inputs)
    while True:
        c = cond_fn(*carried)
        if isinstance(c, Tensor):
            if c._data.size != 1:
                raise RuntimeError("while_loop(): cond_fn must return a boolean scalar tensor or "
                                   f"a bool, got a tensor of shape {list(c._data.shape)}")
            c = c._data.reshape(()).item()
        if not c:
            return carried
        out = body_fn(*carried)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(out) != len(carried):
            raise RuntimeError(f"while_loop(): body_fn must return as many values as "
                               f"carried_inputs ({len(carried)}), got {len(out)}")
        carried = out


# =========================================================================================
# nn.functional ops under torch's top-level (ATen) names and signatures
# =========================================================================================
# torch.dropout(input, p, train) has no defaults; torch.embedding takes (weight, indices);
# torch.batch_norm puts weight and bias before the running statistics; losses take reduction as
# an int (0 none, 1 mean, 2 sum) and, measured on torch 2.13, default to 0 ("none": the binding
# drops ATen's Mean default), unlike F.*'s "mean".  Each wrapper only reorders arguments: the computation (and
# its gradient) is nn.functional's.

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(r, op):
    if isinstance(r, str):
        return r
    if isinstance(r, builtins.int) and 0 <= r < 3:
        return _REDUCTIONS[r]
    raise RuntimeError(f"{op}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {r!r}")


def _nf():
    from .nn import functional
    return functional


def adaptive_avg_pool1d(input, output_size):
    """out[n, c, i] = mean of input[n, c] over the i-th of output_size near-equal windows."""
    return _nf().adaptive_avg_pool1d(input, output_size)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """out[n, c, l] = mean of input[n, c] over window l."""
    return _nf().avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """out[n, c, l] = max of input[n, c] over window l."""
    return _nf().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """(max_pool1d(input), the flat index in each row of where each max was)."""
    return _nf().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                            return_indices=True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """out[n, c, i, j] = max of input[n, c] over window (i, j)."""
    return _nf().max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, l] = bias[o] + sum over c, k of weight[o, c, k] · input[n, c, l·stride + k·dil]"""
    return _nf().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o] = bias[o] + sum over c of the 2-d cross-correlation of input[n, c] and
    weight[o, c]"""
    return _nf().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The gradient of conv1d with respect to its input, as an op."""
    return _nf().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The gradient of conv2d with respect to its input, as an op."""
    return _nf().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation)


def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = input1 · weight[o] · input2 + bias[o]."""
    return _nf().bilinear(input1, input2, weight, bias)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by indices (note torch's top-level order: weight first)."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding(): scale_grad_by_freq and sparse are not supported "
                                  "by chainrule; leave them False")
    # ATen's padding_idx=-1 means "none" (it only changes the gradient, which it zeroes)
    return _nf().embedding(indices, weight, None if padding_idx == -1 else padding_idx)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """(x - mean) / sqrt(var + eps) · weight + bias per channel (note the argument order)."""
    return _nf().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                            eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """(x - mean) / sqrt(var + eps) · weight + bias over the last len(normalized_shape) dims."""
    return _nf().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """layer_norm over each group of C/num_groups channels, then a per-channel affine map."""
    return _nf().group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x²) + eps) · weight over the last len(normalized_shape) dims."""
    return _nf().rms_norm(input, normalized_shape, weight, eps)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """-(pos_weight·y·log σ(x) + (1 - y)·log(1 - σ(x))), times weight, reduced."""
    return _nf().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def kl_div(input, target, reduction=0, *, log_target=False):
    """target·(log target - input) pointwise, reduced (0 none, 1 mean, 2 sum)."""
    return _nf().kl_div(input, target, reduction=_reduction(reduction, "kl_div"),
                        log_target=log_target)


def dropout(input, p, train):
    """Zero each element with probability p, scale the rest by 1/(1 - p) (when train)."""
    return _nf().dropout(input, p, train)


def dropout_(input, p, train):
    """dropout, in place."""
    return _nf().dropout(input, p, train, inplace=True)


def _feature_dropout(input, p, train, inplace):
    from .creation import numpy_rng
    from .functional._args import tensor_arg
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = tensor_arg(input, "feature_dropout")
    if not train or p == 0.0:
        return x
    nd = x._data.ndim
    if nd < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input "
                           f"(got a {nd}-D input): use dropout for 1-d inputs")
    # one draw per (sample, channel), as nn.functional's dropout2d draws its mask
    shape = x._data.shape[:2] + (1,) * (nd - 2)
    dt = x._data.dtype if x._data.dtype.kind == "f" else D.default_float_np()
    if p == 1.0:
        mask = xp.zeros(shape, dt)
    else:
        keep = numpy_rng().random(shape, dtype=xp.float32 if dt == xp.float32 else xp.float64)
        mask = (keep >= p).astype(dt) * dt.type(1.0 / (1.0 - p))
    return x.mul_(wrap(mask)) if inplace else x * wrap(mask)


def feature_dropout(input, p, train):
    """Zero whole channels (dim 1) with probability p, scale the rest by 1/(1 - p)."""
    return _feature_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    """feature_dropout, in place."""
    return _feature_dropout(input, p, train, True)


# -- issue 13: vision, norms, embedding_bag
_GRID_MODES = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_GRID_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled):
    """torch.instance_norm: nn.functional.instance_norm with torch's top-level argument order."""
    return _nf().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                               momentum, eps)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """torch.embedding_bag: (output, offset2bag, bag_size, max_indices); mode 0 sum, 1 mean,
    2 max."""
    from .nn.functional.sparse import embedding_bag_parts
    names = {0: "sum", 1: "mean", 2: "max"}
    return embedding_bag_parts(indices, weight, offsets, None, 2, scale_grad_by_freq,
                               names.get(mode, mode), sparse, per_sample_weights,
                               include_last_offset, padding_idx)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Scale down, in place, the rows of ``input`` named in ``indices`` whose norm exceeds
    max_norm."""
    from .nn.functional.sparse import embedding_renorm_ as renorm
    return renorm(input, indices, max_norm, norm_type)


def alpha_dropout(input, p, train):
    """nn.functional.alpha_dropout(input, p, train)."""
    return _nf().alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """alpha_dropout, in place."""
    return _nf().alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    """nn.functional.feature_alpha_dropout(input, p, train)."""
    return _nf().feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """feature_alpha_dropout, in place."""
    return _nf().feature_alpha_dropout(input, p, train, inplace=True)


def _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners, nd):
    from .nn.functional.vision import grid_sample
    if nd is not None and input.dim() != nd + 2:
        raise RuntimeError(f"grid_sampler_{nd}d(): expected {nd + 2}D input, but got input with "
                           f"sizes {list(input.shape)}")
    if interpolation_mode not in _GRID_MODES or padding_mode not in _GRID_PADDING:
        raise RuntimeError(f"grid_sampler(): interpolation_mode must be 0, 1 or 2 and "
                           f"padding_mode 0, 1 or 2, got {interpolation_mode} and {padding_mode}")
    return grid_sample(input, grid, _GRID_MODES[interpolation_mode],
                       _GRID_PADDING[padding_mode], bool(align_corners))


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """nn.functional.grid_sample with integer modes (0 bilinear, 1 nearest, 2 bicubic; padding
    0 zeros, 1 border, 2 reflection)."""
    return _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners, None)


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sampler of a 4-d input."""
    return _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners, 2)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sampler of a 5-d input."""
    return _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners, 3)


def affine_grid_generator(theta, size, align_corners):
    """nn.functional.affine_grid without its argument checks and warnings."""
    from .nn.functional.vision import affine_grid
    return affine_grid(theta, size, bool(align_corners))


# -- issue 13: conv and pooling

def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o] = bias[o] + sum over c of the 3-d cross-correlation of input[n, c] and
    weight[o, c]"""
    return _nf().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The gradient of conv3d with respect to its input, as an op."""
    return _nf().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation)


def conv_tbc(input, weight, bias, pad=0):
    """conv1d on (time, batch, channels) input with a (kernel_width, in, out) weight."""
    return _nf().conv_tbc(input, weight, bias, pad)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """ATen's generic convolution: conv1d/2d/3d (or their transposes) by the weight's rank."""
    nd = weight.dim() - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a weight of 3 to 5 dims ((out, in / groups, "
                           f"*kernel) for 1 to 3 spatial dims), but got weight of size "
                           f"{list(weight.shape)}")
    nf = _nf()
    if transposed:
        fn = (nf.conv_transpose1d, nf.conv_transpose2d, nf.conv_transpose3d)[nd - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    fn = (nf.conv1d, nf.conv2d, nf.conv3d)[nd - 1]
    return fn(input, weight, bias, stride, padding, dilation, groups)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """out[n, c, d, i, j] = max of input[n, c] over window (d, i, j)."""
    return _nf().max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def adaptive_max_pool1d(input, output_size):
    """(values, indices) of the max over torch's adaptive windows along the last dim (ATen's
    form: always both)."""
    return _nf().adaptive_max_pool1d(input, output_size, return_indices=True)


def native_channel_shuffle(input, groups):
    """channel_shuffle (ATen's kernel-level name)."""
    return _nf().channel_shuffle(input, groups)
