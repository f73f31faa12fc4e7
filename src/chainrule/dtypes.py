"""dtypes with PyTorch's names and PyTorch's type promotion (not NumPy's)."""
import builtins

from . import _backend as B
from ._backend import xp
from .grad_mode import graph_break


class dtype:
    """A tensor element type: ``chainrule.float32``, ``chainrule.int64``, ..."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_rank")

    def __init__(self, name, np_dtype, rank):
        self.name = name
        self.np = xp.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        self._rank = rank

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return (_from_name, (self.name,))


def _from_name(name):
    return BY_NAME[name]


bool_ = dtype("bool", xp.bool_, 0)
uint8 = dtype("uint8", xp.uint8, 1)
int8 = dtype("int8", xp.int8, 2)
int16 = dtype("int16", xp.int16, 3)
int32 = dtype("int32", xp.int32, 4)
int64 = dtype("int64", xp.int64, 5)
float16 = dtype("float16", xp.float16, 6)
float32 = dtype("float32", xp.float32, 7)
float64 = dtype("float64", xp.float64, 8)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
BY_NAME = {d.name: d for d in _ALL}
BY_NP = {d.np: d for d in _ALL}

# torch's names for the scalar types, as its error messages print them ("result type Float can't
# be cast to ...", "... Got: Long"); CPP_NAMES are the C++ names its matmul errors print
SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double"}
CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
             "bool": "bool", "float16": "c10::Half"}

_default = [float32]


def get_default_dtype():
    """The dtype of floating tensors made from Python floats (``float32`` unless changed)."""
    return _default[0]


def set_default_dtype(d):
    """Set the default floating dtype; only ``float32`` and ``float64`` are allowed, as in torch."""
    d = to_dtype(d)
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    if d is not _default[0]:    # later tensors' dtype depends on it: a replay would not set it
        graph_break("set_default_dtype() (it changes the dtype of tensors made later)")
    _default[0] = d
    from . import _printing
    _printing.default_float_dtype = d.np


def default_float_np():
    return _default[0].np


def to_dtype(d, op=None):
    """A chainrule dtype from ``d``: a chainrule dtype, or Python's float (float64, as in torch),
    int (int64) or bool.  Anything else, a string or a NumPy dtype included, is refused as torch
    refuses it, with the chainrule spelling to use instead."""
    if isinstance(d, dtype) or d is None:
        return d
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    raise TypeError(f"{op or 'dtype'}(): argument 'dtype' must be chainrule.dtype, not "
                    f"{type(d).__name__} ({d!r}): pass dtype={_suggest(d)}")


def _suggest(d):
    """The chainrule dtype a user meant by a string or a NumPy dtype (float32 if unclear)."""
    try:
        name = xp.dtype(d).name
    except (TypeError, ValueError):
        name = str(d)
    name = name.rsplit(".", 1)[-1]
    return "chainrule." + (BY_NAME[name].name if name in BY_NAME else "float32")


def of(array):
    """The chainrule dtype of a NumPy array."""
    try:
        return BY_NP[array.dtype]
    except KeyError:
        raise TypeError(unsupported_message(array.dtype)) from None


def unsupported_message(np_dtype):
    if np_dtype.kind == "c":
        return (f"chainrule has no complex dtype (got NumPy {np_dtype}): keep the real and "
                "imaginary parts as two real tensors (a.real, a.imag)")
    return (f"NumPy dtype {np_dtype} has no chainrule equivalent; convert the array with "
            ".astype() to one of " + ", ".join(x.name for x in _ALL))


class finfo:
    """The limits of a floating dtype, as ``torch.finfo``: ``finfo(chainrule.float32).eps``."""

    def __init__(self, type=None):
        d = _default[0] if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"finfo(): {d!r} is not a floating point dtype; use iinfo")
        f = xp.finfo(d.np)
        self.bits, self.dtype = f.bits, d.name
        self.eps, self.max, self.min = builtins.float(f.eps), builtins.float(f.max), \
            builtins.float(f.min)
        self.tiny = self.smallest_normal = builtins.float(f.tiny)
        self.resolution = builtins.float(f.resolution)


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``iinfo(chainrule.int64).max``."""

    def __init__(self, type):
        d = to_dtype(type)
        if d.np.kind not in "iu":
            raise TypeError(f"iinfo(): {d!r} is not an integer dtype; use finfo")
        i = xp.iinfo(d.np)
        self.bits, self.dtype = i.bits, d.name
        self.max, self.min = builtins.int(i.max), builtins.int(i.min)


# --- type promotion -------------------------------------------------------------------------
# PyTorch ranks operands in three priority classes: tensors with dimensions, 0-d tensors, and
# Python numbers.  A lower class only changes the result when it is of a higher *category*
# (bool < integer < floating); a Python float then contributes the default dtype.

def _category(npd):
    k = npd.kind
    return 2 if k == "f" else (0 if k == "b" else 1)


def promote_types(a, b):
    """``torch.promote_types`` for NumPy dtypes."""
    if a == b:
        return a
    if _category(a) == 2 and _category(b) == 2:
        return a if a.itemsize >= b.itemsize else b
    if _category(a) == 2:
        return a
    if _category(b) == 2:
        return b
    return xp.promote_types(a, b)


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _category(higher), _category(lower)
    if ch == 2:
        return higher
    if ch == 0 or cl == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """The dtype PyTorch gives an op on ``operands`` (ndarrays and Python numbers)."""
    dim = zero = wrapped = None
    for v in operands:
        if isinstance(v, B.ndarray):
            d = v.dtype
            if v.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            if isinstance(v, (builtins.bool, xp.bool_)):
                d = xp.dtype(xp.bool_)
            elif isinstance(v, (builtins.int, xp.integer)):
                d = xp.dtype(xp.int64)
            elif isinstance(v, (builtins.float, xp.floating)):
                d = _default[0].np
            else:
                raise TypeError(f"unsupported operand type {type(v).__name__}")
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))
