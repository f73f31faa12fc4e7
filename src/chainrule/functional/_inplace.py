"""In-place operations and the version counters that guard them.

``x += y``, ``x.mul_(y)``, ``x[i] = v``, ``fill_``, ``copy_``: each writes into x's storage and,
when gradients flow, records the op out of place and makes x *be* its result in the graph
(``_took_history``).  Every tensor sharing storage shares one version counter ``_vc``; an op
whose rule reads an input records that input's version, and the engine refuses to run the rule
if the version moved (PyTorch's "modified by an inplace operation").
"""
import builtins

from .. import _backend as B
from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..creation import check_normal, check_uniform, checked_fill, numpy_rng
from ..grad_mode import no_grad, state as _grad_state
from ..tensor import Tensor, apply, wrap
from ._args import index_arg, index_error, number, torch_order
from .elementwise import add, div, mul, sub
from . import elementwise as E
from ..tensor import LEGACY_NAMES

_ndarray = B.ndarray


def setitem(x, index, value):
    """x[index] = value, in place, recorded when gradients flow (torch's CopySlices)"""
    idx, advanced = index_arg(index, x)
    _in_place("index assignment")
    _check_inplace(x, "index assignment")
    if not isinstance(value, Tensor):
        value = number(value, "setitem") if not isinstance(value, (_ndarray, list)) else \
            wrap(xp.asarray(value, x._data.dtype))
    order = torch_order(idx, x._data.ndim) if advanced else None
    if order is not None:       # value is in torch's order of dims, x._data[idx] NumPy's
        try:
            shape = x._data[idx].shape
        except IndexError as e:
            raise index_error(e, x) from None
        back = tuple(int(k) for k in xp.argsort(order))
        value = (value if isinstance(value, Tensor) else wrap(xp.asarray(value))).expand(
            tuple(shape[k] for k in order)).permute(back)
    vdata = value._data if isinstance(value, Tensor) else value
    try:
        if _grad_state.enabled and (x._requires_grad or
                                    (isinstance(value, Tensor) and value._requires_grad)):
            if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
                value = value.to(D.of(x._data))
            old = _alias(x)
            r = apply(ops.index_put, (old, value), {"index": idx},
                      arrays=[x._data, value._data if isinstance(value, Tensor) else value])
            x._data[idx] = value._data if isinstance(value, Tensor) else value
            _took_history(x, r)
        else:
            x._data[idx] = vdata
    except IndexError as e:
        raise index_error(e, x) from None
    x._vc[0] += 1



# --- in place -------------------------------------------------------------------------------

def _in_place(what):
    """chainrule.compile's recorder, when one records, cannot replay an in-place change."""
    if _grad_state.recorder is not None:
        _grad_state.recorder.graph_break(f"{what} (an in-place change)")


def _check_inplace(x, what):
    if not _grad_state.enabled:
        return
    if x._requires_grad and x._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           f"operation. Do the {what} inside `with chainrule.no_grad():`, or "
                           "on a .clone().")
    base = x._base
    if base is not None and base._requires_grad:
        if base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               f"in-place operation. Do the {what} inside `with "
                               "chainrule.no_grad():`, or on a .clone().")
        raise RuntimeError(
            f"chainrule does not record in-place operations ({what}) on a view of a tensor that "
            "requires grad: the base tensor's history would not know. Use an out-of-place op, "
            "or assign through the base tensor (base[index] = value).")


def _alias(x):
    """A new tensor object standing for x's current value and history (before an in-place op)."""
    a = wrap(x._data)
    a._vc = x._vc
    a._requires_grad = x._requires_grad
    a._grad_fn = x._grad_fn
    return a


def _took_history(x, r):
    """After an in-place op on x computed as r out of place: x now *is* r in the graph."""
    node = r._grad_fn
    if node is not None:
        x._grad_fn = node
        x._requires_grad = True
        if node.out_version is not None:
            node.out_data = x._data
            node.out_version = (x._vc, x._vc[0] + 1)
        if x._retains_grad:         # retain_grad() follows x to its new version, as torch
            x._retains_grad = False
            x.retain_grad()


_INPLACE_UFUNCS = {add: xp.add, sub: xp.subtract, mul: xp.multiply, div: xp.true_divide}


def inplace(x, fn, *args):
    """Apply ``fn(x, *args)`` and write the result into x's storage (``x += y``, ``x.mul_(y)``)."""
    rec = _grad_state.recorder
    slot = rec.in_place(x, fn.__name__ + "_") if rec is not None else None
    recording = False
    if _grad_state.enabled:     # (without grad mode the checks below have nothing to say)
        _check_inplace(x, fn.__name__ + "_")
        recording = x._requires_grad or builtins.any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
    if slot is not None and not recording:      # chainrule.compile records it (a training
        r = fn(wrap(x._data), *args)            # step's update): the value, then the copy
        _write(x, r, fn.__name__)
        x._vc[0] += 1
        rec.in_place_done(slot, x, r)
        return x
    if rec is not None and slot is not None:
        rec.graph_break(f"{fn.__name__}_ (an in-place change recorded in the graph)")
    if not recording:
        ufunc = _INPLACE_UFUNCS.get(fn)
        if ufunc is not None and _grad_state.apply_hook is None and _fits_in_place(x, args):
            # x -= lr * g in an optimizer or a no_grad() block: one NumPy call writing into x
            # (the general path computes a new array and copies it back)
            a = args[0]
            token = B.quiet_fp()
            try:
                ufunc(x._data, a._data if isinstance(a, Tensor) else a, out=x._data)
            finally:
                B.restore_fp(token)
        else:
            _write(x, fn(wrap(x._data), *args), fn.__name__)
        x._vc[0] += 1
        return x
    old = _alias(x)
    r = fn(old, *args)
    node = r._grad_fn
    if node is not None and builtins.any(v is old for v in node.inputs) and \
            _saves_input(node, old):
        # the rule needs x's old values, which the write below destroys: keep a copy
        old._data = x._data.copy()
        old._vc = [x._vc[0]]      # its own counter, at the version the node recorded
    _write(x, r, fn.__name__)
    _took_history(x, r)
    x._vc[0] += 1
    return x


def _fits_in_place(x, args):
    """One operand that leaves x's dtype and shape as they are: a float or a same-dtype tensor
    of x's shape (or 0-d), with x floating."""
    if len(args) != 1 or x._data.dtype.kind != "f":
        return False
    a = args[0]
    if type(a) is float or type(a) is int:
        return True
    return isinstance(a, Tensor) and a._data.dtype == x._data.dtype and \
        (a._data.shape == x._data.shape or a._data.ndim == 0)


def _saves_input(node, t):
    return builtins.any(node.inputs[i] is t for i in node.op.saves)


def _write(x, r, op):
    rd = r._data
    if rd.dtype != x._data.dtype and not xp.can_cast(rd.dtype, x._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {D.SCALAR_NAMES.get(rd.dtype.name, rd.dtype.name)} can't "
                           "be cast to the desired output type "
                           f"{D.SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)} "
                           f"(in-place {op}_ on a {D.of(x._data)} tensor)")
    if rd.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the broadcast "
                           f"shape {list(rd.shape)} (in-place {op}_)")
    xp.copyto(x._data, rd, casting="unsafe")


def fill_(x, value, name="FillBackward2"):
    """Fill x with ``value`` (a number or a 0-d tensor) in place; a tensor value gets gradients"""
    rec = _grad_state.recorder
    if rec is not None:         # chainrule.compile: a number into a tensor read from outside
        slot = None if isinstance(value, Tensor) or (_grad_state.enabled and x._requires_grad) \
            else rec.in_place(x, "fill_")
        if slot is None:
            rec.graph_break("fill_ (an in-place change)")
        else:
            v = checked_fill(value, x._data.dtype, "fill_")
            x._data[...] = v
            x._vc[0] += 1
            rec.in_place_done(slot, x, v)
            return x
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions (use copy_ to copy a tensor)")
        name = "FillBackward3"
        v = value.item()
    else:
        v = checked_fill(value, x._data.dtype, "fill_")   # a number that fits x's dtype, as torch
    grad_value = isinstance(value, Tensor) and value._requires_grad
    if _grad_state.enabled and (x._requires_grad or grad_value):
        _check_inplace(x, "fill_")
        old = _alias(x)
        if grad_value:
            v = value._data.astype(x._data.dtype)
        else:
            value = v
        r = apply(ops.index_put, (old, value), {"index": (Ellipsis,)}, arrays=[x._data, v],
                  name=name)
        x._data[...] = v
        _took_history(x, r)
    else:
        x._data[...] = v
    x._vc[0] += 1
    return x


def copy_(x, src):
    """Copy ``src`` (broadcast, cast) into x in place; gradients flow to src."""
    _in_place("copy_")
    if not isinstance(src, Tensor):
        src = wrap(src) if isinstance(src, _ndarray) else \
            wrap(xp.asarray(number(src, "copy_")))
    if src._data.shape != x._data.shape:
        _check_copy_shape(x._data.shape, src._data.shape)
    if _grad_state.enabled and (x._requires_grad or src._requires_grad):
        _check_inplace(x, "copy_")
        old = _alias(x)
        s = src if src._data.dtype == x._data.dtype else src.to(D.of(x._data))
        r = apply(ops.index_put, (old, s), {"index": (Ellipsis,)}, arrays=[x._data, s._data],
                  name="CopyBackwards")
        x._data[...] = s._data
        _took_history(x, r)
    else:
        xp.copyto(x._data, xp.broadcast_to(src._data, x._data.shape), casting="unsafe")
    x._vc[0] += 1
    return x


def _check_copy_shape(xs, ss):
    """torch's errors for a copy_ source that does not broadcast to the destination's shape."""
    n = builtins.max(len(xs), len(ss))
    px, ps = (1,) * (n - len(xs)) + xs, (1,) * (n - len(ss)) + ss
    for d in range(n - 1, -1, -1):
        if px[d] != ps[d] and px[d] != 1 and ps[d] != 1:
            raise RuntimeError(f"The size of tensor a ({px[d]}) must match the size of tensor b "
                               f"({ps[d]}) at non-singleton dimension {d} (copy_ of a source of "
                               f"shape {list(ss)} into a tensor of shape {list(xs)})")
    out = [p if q == 1 else q for p, q in zip(px, ps)]
    if tuple(out) != tuple(xs):
        raise RuntimeError(f"output with shape {list(xs)} doesn't match the broadcast shape "
                           f"{out} (copy_ writes into the tensor in place: the source must "
                           "broadcast to its shape; reshape or index it first)")


def random_fill_(x, kind, a, b, generator=None):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kind}_" not implemented for {D.of(x._data)} tensors: random '
                                  "values fill floating tensors; make it with "
                                  "dtype=chainrule.float32")
    if kind == "uniform":
        check_uniform(a, b, "uniform_")
    else:
        check_normal(b, "normal_")
    with no_grad():
        if kind == "uniform":
            x._data[...] = numpy_rng(generator).uniform(a, b, x._data.shape)
        else:
            x._data[...] = numpy_rng(generator).normal(a, b, x._data.shape)
    x._vc[0] += 1
    return x




# --- issue #12's catalogue: the in-place forms of the elementwise functions ------------------

def in_place(fn, doc=None):
    """The in-place form ``fn_(input, *args, **kwargs)`` of an elementwise function ``fn``:
    ``fn``'s result written into input (recorded when gradients flow, see ``inplace``)."""
    def fn_(input, *args, **kwargs):
        if not kwargs:
            return inplace(input, fn, *args)

        def bound(x, *a):
            return fn(x, *a, **kwargs)
        bound.__name__ = fn.__name__
        return inplace(input, bound, *args)
    fn_.__name__ = fn.__name__ + "_"
    fn_.__doc__ = doc or f"{fn.__name__}, in place: input = {fn.__name__}(input, ...)"
    return fn_


def kept_in_graph(fn):
    """``fn``, a function without a gradient (eq, logical_and, ...), made fit for ``inplace``:
    on a tensor that records gradients the result stays in the graph with gradient 0, as torch's
    EqBackward0, so the history the tensor had before the write gets nothing from it."""
    def f(x, *args):
        out = fn(x, *args)
        if _grad_state.enabled and x._requires_grad:
            out = E.where(wrap(xp.ones(out._data.shape, bool)), out.to(D.of(x._data)), x)
        return out
    f.__name__ = fn.__name__
    return f


def fill(input, value):
    """out = a tensor of input's shape and dtype filled with ``value`` (a number or a 0-d
    tensor, which gets the gradient)"""
    x = input.clone() if isinstance(input, Tensor) and input._requires_grad else \
        wrap(E.tensor_arg(input, "fill")._data.copy())
    return fill_(x, value, name="FillBackward0")


def zero_(input):
    """Fill ``input`` with zeros, in place."""
    return fill_(input, 0, name="ZeroBackward0")


def float_power_(input, exponent):
    """input = input ** exponent, computed in float64: input must be float64"""
    if input._data.dtype != xp.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{E.torch_name(input._data.dtype)} but the operation's result requires "
                           "dtype Double (convert it first: x = x.double())")
    return inplace(input, E.float_power, exponent)


def divide_(input, other, *, rounding_mode=None):
    """input = input / other (rounding_mode None, 'trunc' or 'floor'), in place"""
    def div(x, o):
        return E.div(x, o, rounding_mode=rounding_mode)
    return inplace(input, div, other)


def _no_grad_loop(x, op):
    if x._requires_grad:
        raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use "
                           f"var.detach().{op}() instead.")


def apply_(input, callable):
    """input[i] = callable(input[i]) for every element, in place (slow: a Python call each)"""
    _no_grad_loop(input, "apply_")
    a = input._data
    for i in xp.ndindex(a.shape):
        a[i] = number(callable(a[i].item()), "apply_")
    input._vc[0] += 1
    return input


def map_(input, tensor, callable):
    """input[i] = callable(input[i], tensor[i]) for every element (tensor broadcast), in place"""
    _no_grad_loop(input, "map_")
    other = E.tensor_arg(tensor, "map_")
    _no_grad_loop(other, "map_")
    if other._data.dtype != input._data.dtype:
        raise TypeError(f"map_: expected chainrule.{LEGACY_NAMES[D.of(input._data).name]} for "
                        f"'other' (got chainrule.{LEGACY_NAMES[D.of(other._data).name]}): "
                        "convert it first, e.g. other.to(self.dtype)")
    a = input._data
    try:
        b = xp.broadcast_to(other._data, a.shape)
    except ValueError:
        raise RuntimeError(f"map_: the other tensor's shape {list(other._data.shape)} does not "
                           f"broadcast to this tensor's shape {list(a.shape)}") from None
    for i in xp.ndindex(a.shape):
        a[i] = number(callable(a[i].item(), b[i].item()), "map_")
    input._vc[0] += 1
    return input


# one line a name (torch's aliases share a function); the comparisons and logical ops keep
# the written tensor in the graph with gradient 0 (kept_in_graph)
abs_ = in_place(E.abs)
absolute_ = in_place(E.abs)
acos_ = in_place(E.acos)
acosh_ = in_place(E.acosh)
addcdiv_ = in_place(E.addcdiv)
addcmul_ = in_place(E.addcmul)
arccos_ = in_place(E.acos)
arccosh_ = in_place(E.acosh)
arcsin_ = in_place(E.asin)
arcsinh_ = in_place(E.asinh)
arctan2_ = in_place(E.atan2)
arctan_ = in_place(E.atan)
arctanh_ = in_place(E.atanh)
asin_ = in_place(E.asin)
asinh_ = in_place(E.asinh)
atan2_ = in_place(E.atan2)
atan_ = in_place(E.atan)
atanh_ = in_place(E.atanh)
bitwise_and_ = in_place(E.bitwise_and)
bitwise_left_shift_ = in_place(E.bitwise_left_shift)
bitwise_not_ = in_place(E.bitwise_not)
bitwise_or_ = in_place(E.bitwise_or)
bitwise_right_shift_ = in_place(E.bitwise_right_shift)
bitwise_xor_ = in_place(E.bitwise_xor)
ceil_ = in_place(E.ceil)
clamp_ = in_place(E.clamp)
clamp_max_ = in_place(E.clamp_max)
clamp_min_ = in_place(E.clamp_min)
clip_ = in_place(E.clamp)
copysign_ = in_place(E.copysign)
cos_ = in_place(E.cos)
cosh_ = in_place(E.cosh)
deg2rad_ = in_place(E.deg2rad)
exp2_ = in_place(E.exp2)
exp_ = in_place(E.exp)
expm1_ = in_place(E.expm1)
fix_ = in_place(E.trunc)
floor_ = in_place(E.floor)
floor_divide_ = in_place(E.floor_divide)
fmod_ = in_place(E.fmod)
frac_ = in_place(E.frac)
gcd_ = in_place(E.gcd)
hypot_ = in_place(E.hypot)
lcm_ = in_place(E.lcm)
ldexp_ = in_place(E.ldexp)
lerp_ = in_place(E.lerp)
log10_ = in_place(E.log10)
log1p_ = in_place(E.log1p)
log2_ = in_place(E.log2)
log_ = in_place(E.log)
multiply_ = in_place(E.mul)
nan_to_num_ = in_place(E.nan_to_num)
neg_ = in_place(E.neg)
negative_ = in_place(E.neg)
nextafter_ = in_place(E.nextafter)
rad2deg_ = in_place(E.rad2deg)
reciprocal_ = in_place(E.reciprocal)
relu_ = in_place(E.relu)
remainder_ = in_place(E.remainder)
round_ = in_place(E.round)
rsqrt_ = in_place(E.rsqrt)
sgn_ = in_place(E.sign)
sigmoid_ = in_place(E.sigmoid)
sign_ = in_place(E.sign)
sin_ = in_place(E.sin)
sinh_ = in_place(E.sinh)
sqrt_ = in_place(E.sqrt)
square_ = in_place(E.square)
subtract_ = in_place(E.sub)
tan_ = in_place(E.tan)
tanh_ = in_place(E.tanh)
true_divide_ = in_place(E.div)
trunc_ = in_place(E.trunc)
eq_ = in_place(kept_in_graph(E.eq))
ge_ = in_place(kept_in_graph(E.ge))
greater_ = in_place(kept_in_graph(E.gt))
greater_equal_ = in_place(kept_in_graph(E.ge))
gt_ = in_place(kept_in_graph(E.gt))
heaviside_ = in_place(kept_in_graph(E.heaviside))
le_ = in_place(kept_in_graph(E.le))
less_ = in_place(kept_in_graph(E.lt))
less_equal_ = in_place(kept_in_graph(E.le))
logical_and_ = in_place(kept_in_graph(E.logical_and))
logical_not_ = in_place(kept_in_graph(E.logical_not))
logical_or_ = in_place(kept_in_graph(E.logical_or))
logical_xor_ = in_place(kept_in_graph(E.logical_xor))
lt_ = in_place(kept_in_graph(E.lt))
ne_ = in_place(kept_in_graph(E.ne))
not_equal_ = in_place(kept_in_graph(E.ne))
