"""vmap's machinery: batched tensors and one batching rule per primitive.

Inside a vmapped function each batched input is a ``BatchedTensor``: a Tensor that stands for
*one example*.  Its ``_data`` has the example's (logical) shape and dtype but no values (a
``_StandIn``), so every argument check in ``functional/`` runs unchanged; the whole batch
lives in ``_phys``, an ordinary tensor with the batch dimension in front.

While vmap runs, ``tensor.apply`` hands every op to ``_Batching`` (the hook in
``grad_mode.state.apply_hook``).  An op with a batched input is rewritten by its batching rule
(its own, from ``RULES``, or its kind's, from ``KIND_RULES``) into the same primitive applied
once to the physical tensors: elementwise ops pad ranks so the batch dimension lines up,
reductions and shape ops shift their dims by one, matmul turns vectors into matrices,
indexing prepends a slice.  The physical ops are recorded as usual, so gradients flow through a
vmapped computation with the ordinary reverse pass.  An op without a rule runs once per example in a Python loop, after
a one-time warning; code that needs one example's values (``if x > 0:``, ``x.item()``, a
check on values) makes that vmap run the whole function once per example, also after a warning.
Functions without a gradient (comparisons, casts, isnan, argmax, any)
reach the hook through ``functional._args.nondiff`` and are batched the same way.

Nested vmaps are levels 1, 2, ...: a level-2 BatchedTensor's ``_phys`` may itself be a level-1
BatchedTensor (levels decrease inwards), and a rule's own ``apply`` calls go through the hook
again, so each rule handles one batch dimension only.
"""
import warnings
import weakref

from .. import ops
from .._backend import xp
from ..grad_mode import state as _grad_state
from ..functional._args import astype, nondiff
from ..tensor import Tensor, apply, init_slots

RULES = {}           # primitive name -> rule(op, xs, bd, params, name, size, level)
KIND_RULES = {}      # ops.KINDS kind -> rule, for every op of that kind without its own (below)
_WARNED = set()


# =========================================================================================
# The batched tensor
# =========================================================================================

class _StandIn(xp.ndarray):
    """A batched tensor's ``_data``: the logical shape and dtype, no values.

    Reading values outside a batching rule would silently compute with nothing: NumPy's
    dispatch protocols (``__array_ufunc__``, ``__array_function__``) turn any such read into an
    error that says what vmap can batch.  Shape-only functions (``zeros_like``, ...) still work.
    """

    _level = None       # the vmap level of the batched tensor it stands in for

    def __array_finalize__(self, obj):
        self._level = getattr(obj, "_level", None)      # a copy or a cast still stands in

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise NeedsValues(ufunc.__name__, self._level)

    def __array_function__(self, func, types, args, kwargs):
        if func in _SHAPE_ONLY:
            return func(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})
        raise NeedsValues(func.__name__, self._level)

    def __repr__(self):
        return f"<the values of a batched tensor of shape {tuple(self.shape)}>"

    __str__ = __repr__


_SHAPE_ONLY = {xp.zeros_like, xp.ones_like, xp.empty_like, xp.full_like, xp.shares_memory,
               xp.may_share_memory, xp.result_type, xp.can_cast, xp.shape, xp.ndim, xp.size,
               xp.reshape}


def _plain(a):
    return a.view(xp.ndarray) if isinstance(a, _StandIn) else a


class NeedsValues(RuntimeError):
    """Raised when code reads the values of one example (``x.item()``, ``if x > 0:``, a check
    on values): the vmap of that level catches it and runs the function once per example."""

    def __init__(self, what, level):
        super().__init__(
            f"vmap: {what} needs the values of a batched tensor one example at a time, outside "
            "any batching rule (data-dependent Python such as `if x > 0:`, x.item(), a check on "
            "values, or an in-place write into a batched tensor)")
        self.level = level


class BatchedTensor(Tensor):
    """One example of a batch, inside ``vmap``: the batch is ``_phys`` (batch dimension first).

    Users never build one; printing one shows the level and the physical tensor, as torch.
    """

    __slots__ = ("_phys", "_level")

    def __repr__(self):
        inner = repr(self._phys).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n    {inner}\n)"

    __str__ = __repr__

    def item(self):
        raise NeedsValues(".item()", self._level)

    def tolist(self):
        raise NeedsValues(".tolist()", self._level)

    def numpy(self, force=False):
        raise NeedsValues(".numpy()", self._level)

    def __array__(self, dtype=None, copy=None):
        raise NeedsValues("converting to a NumPy array", self._level)

    def __bool__(self):
        raise NeedsValues("bool() (an `if` or `while` on a tensor)", self._level)

    def __float__(self):
        raise NeedsValues("float()", self._level)

    def __int__(self):
        raise NeedsValues("int()", self._level)

    def __index__(self):
        raise NeedsValues("using it as a Python index", self._level)

    def detach(self):
        return batched(self._phys.detach(), self._level)

    @property
    def data(self):
        return batched(self._phys.data, self._level)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        raise RuntimeError("vmap: backward() inside a vmapped function is not supported; "
                           "differentiate with chainrule.func.grad / vjp inside the function "
                           "(vmap(grad(f))) instead.")

    def register_hook(self, hook):
        raise RuntimeError("vmap: register_hook on a batched tensor is not supported")

    def __reduce_ex__(self, protocol):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or copied")

    def __deepcopy__(self, memo):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or copied")


def batched(phys, level):
    """The BatchedTensor at ``level`` whose batch is ``phys`` (batch dimension first)."""
    t = object.__new__(BatchedTensor)
    d = phys._data
    s = xp.broadcast_to(xp.zeros((), d.dtype), d.shape[1:]).view(_StandIn)
    s._level = level
    s._bt = weakref.ref(t)          # lets an index array that came from `t` be recognised
    init_slots(t, s, phys._requires_grad)
    t._phys = phys
    t._level = level
    return t


def at_level(v, level):
    return type(v) is BatchedTensor and v._level == level


# =========================================================================================
# The hook
# =========================================================================================

class _Batching:
    """``grad_mode.state.apply_hook`` while any vmap runs in this thread (one per thread).

    ``sizes[l - 1]`` is the batch size of level ``l``; ``prev`` is the hook it sits on.
    """

    def __init__(self, prev):
        self.prev = prev
        self.sizes = []

    def __call__(self, op, inputs, params, arrays, name):
        level = 0
        for v in inputs:
            if type(v) is BatchedTensor and v._level > level:
                level = v._level
        if params:
            level = max(level, _params_level(params))
        if not level:
            return delegate(self.prev, op, inputs, params, arrays, name)
        return _batch_op(op, inputs, params, arrays, name, level)

    def nondiff(self, fn, args, kwargs):
        level = 0
        for v in args:
            if type(v) is BatchedTensor and v._level > level:
                level = v._level
        if not level:
            return None if self.prev is None else self.prev.nondiff(fn, args, kwargs)
        return batched(_batch_nondiff(fn, args, kwargs, level), level)


def delegate(prev, op, inputs, params, arrays, name):
    """Run the op through the hook below, or plainly (the hook switched off for the call)."""
    if prev is not None:
        return prev(op, inputs, params, arrays, name)
    hook = _grad_state.apply_hook
    _grad_state.apply_hook = None
    try:
        return apply(op, inputs, params, arrays, name)
    finally:
        _grad_state.apply_hook = hook


def current():
    """This thread's batching hook, or None outside vmap."""
    h = _grad_state.apply_hook
    while h is not None and type(h) is not _Batching:
        h = h.prev
    return h


class level_of_size:
    """``with level_of_size(B) as level:``: a new vmap level (the hook installed if needed)."""

    def __init__(self, size):
        self.size = size
        self.installed = False

    def __enter__(self):
        h = current()
        if h is None:
            h = _Batching(_grad_state.apply_hook)
            _grad_state.apply_hook = h
            self.installed = True
        h.sizes.append(self.size)
        self.hook = h
        return len(h.sizes)

    def __exit__(self, *exc):
        self.hook.sizes.pop()
        if self.installed:
            _grad_state.apply_hook = self.hook.prev
        return False


def _index_level(e):
    if isinstance(e, _StandIn) and getattr(e, "_bt", None) is not None and e._bt() is not None:
        return e._level
    return 0


def _params_level(params):
    level = 0
    for v in params.values():
        if isinstance(v, _StandIn):
            level = max(level, _index_level(v))
        elif type(v) is tuple or type(v) is list:
            for e in v:
                if isinstance(e, _StandIn):
                    level = max(level, _index_level(e))
    return level


def _batch_op(op, inputs, params, arrays, name, level):
    xs, bd, size = [], [], None
    for i, v in enumerate(inputs):
        b = at_level(v, level)
        p = v._phys if b else v
        if b:
            size = p._data.shape[0]
        if arrays is not None and isinstance(p, Tensor) and isinstance(arrays[i], xp.ndarray) \
                and p._data.dtype != arrays[i].dtype:
            # the promotion the public function chose, as a recorded cast
            p = apply(ops.to_copy, (p,), {"dtype": arrays[i].dtype})
        xs.append(p)
        bd.append(b)
    if size is None:                # batched only through an index array
        size = _index_size(params, level)
    rule = rule_for(op)
    if rule is None:
        out = _loop(op, xs, bd, params, name, size, level)
    else:
        out = rule(op, xs, bd, params or {}, name, size, level)
    return batched(out, level)


def _index_size(params, level):
    for e in params["index"]:
        if _index_level(e) == level:
            return e._bt()._phys._data.shape[0]
    raise AssertionError("no batched operand")


def _warn_once(name):
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"vmap: {name} has no batching rule (for these arguments), so it runs "
                      "once per example in a Python loop (correct, but slower). A kind with a "
                      "rule (ops.KINDS), or a rule in chainrule.func._batching.RULES, would batch "
                      "it.", UserWarning, stacklevel=4)


def _select(x, b):
    return apply(ops.index, (x,), {"index": (b, Ellipsis), "accumulate": False})


def _loop(op, xs, bd, params, name, size, level):
    """The fallback: the op once per example, the results stacked."""
    _warn_once(op.name)
    if params and _params_level(params) == level:
        raise NotImplementedError(f"vmap: {op.name} with a batched index has no batching rule")
    outs = [apply(op, tuple(_select(x, b) if isb else x for x, isb in zip(xs, bd)), params,
                  name=name) for b in range(size)]
    return apply(ops.stack, tuple(outs), {"dim": 0})


# =========================================================================================
# Helpers for rules: physical ops, the batch dimension always first
# =========================================================================================

def _reshape(t, shape):
    return apply(ops.reshape, (t,), {"shape": tuple(shape)})


def _rank(x, batched):
    """The logical rank of an operand (numbers are rank 0)."""
    if not isinstance(x, Tensor):
        return getattr(x, "ndim", 0)
    return x._data.ndim - 1 if batched else x._data.ndim


def _pad(x, k):
    """Insert ``k`` size-1 dims after the batch dim, so broadcasting can't claim the batch."""
    if k <= 0:
        return x
    s = x._data.shape
    return _reshape(x, s[:1] + (1,) * k + s[1:])


def materialize(x, size):
    """An unbatched tensor repeated along a new batch dim (a view; gradients sum back)."""
    s = x._data.shape
    return apply(ops.expand, (_reshape(x, (1,) + s),), {"shape": (size,) + s})


def _shift(d, n):
    """A logical dim (possibly negative) as the physical one."""
    return (d % n if n else 0) + 1


def _permute(t, dims):
    dims = tuple(dims)
    if dims == tuple(range(len(dims))):
        return t
    return apply(ops.permute, (t,), {"dims": dims})


# =========================================================================================
# Rules
# =========================================================================================

def _elementwise(op, xs, bd, params, name, size, level):
    r = max(_rank(x, b) for x, b in zip(xs, bd))
    xs = [_pad(x, r - _rank(x, True)) if b else x for x, b in zip(xs, bd)]
    return apply(op, tuple(xs), params or None, name=name)


def _reduction(op, xs, bd, params, name, size, level):
    (x,) = xs
    n = x._data.ndim - 1
    dims = params["dims"]
    p = dict(params)
    p["dims"] = tuple(range(1, n + 1)) if dims is None else tuple(_shift(d, n) for d in dims)
    return apply(op, (x,), p, name=name)


def _along_dim(op, xs, bd, params, name, size, level):
    (x,) = xs
    p = dict(params)
    p["dim"] = _shift(params["dim"], x._data.ndim - 1)
    return apply(op, (x,), p, name=name)


def _new_shape(op, xs, bd, params, name, size, level):
    (x,) = xs
    return apply(op, (x,), {"shape": (size,) + tuple(params["shape"])}, name=name)


def _expand(op, xs, bd, params, name, size, level):
    (x,) = xs
    shape = tuple(params["shape"])
    x = _pad(x, len(shape) - (x._data.ndim - 1))
    return apply(op, (x,), {"shape": (size,) + shape}, name=name)


def _transpose(op, xs, bd, params, name, size, level):
    (x,) = xs
    n = x._data.ndim - 1
    return apply(op, (x,), {"dim0": _shift(params["dim0"], n), "dim1": _shift(params["dim1"], n)},
                 name=name)


def _permute_rule(op, xs, bd, params, name, size, level):
    (x,) = xs
    n = x._data.ndim - 1
    return apply(op, (x,), {"dims": (0,) + tuple(_shift(d, n) for d in params["dims"])},
                 name=name)


def _flip(op, xs, bd, params, name, size, level):
    (x,) = xs
    n = x._data.ndim - 1
    return apply(op, (x,), {"dims": tuple(_shift(d, n) for d in params["dims"])}, name=name)


def _repeat(op, xs, bd, params, name, size, level):
    (x,) = xs
    sizes = tuple(params["sizes"])
    x = _pad(x, len(sizes) - (x._data.ndim - 1))
    return apply(op, (x,), {"sizes": (1,) + sizes}, name=name)


def _join(op, xs, bd, params, name, size, level):
    """cat and stack: every input batched (unbatched ones repeated), the dim shifted."""
    if op.name == "cat" and any(_rank(x, b) == 1 and x._data.shape[-1] == 0
                                for x, b in zip(xs, bd)):
        # cat's legacy rule skips 1-d empty inputs; per example is simplest
        return _loop(op, xs, bd, params, name, size, level)
    xs = [x if b else materialize(x, size) for x, b in zip(xs, bd)]
    n = xs[0]._data.ndim - 1 + (1 if op.name == "stack" else 0)
    return apply(op, tuple(xs), {"dim": _shift(params["dim"], n)}, name=name)


def _matmul_shape(sx, sy):
    if len(sx) == 1 and len(sy) == 1:
        return ()
    if len(sx) == 1:
        return tuple(sy[:-2]) + tuple(sy[-1:])
    if len(sy) == 1:
        return tuple(sx[:-1])
    return tuple(xp.broadcast_shapes(sx[:-2], sy[:-2])) + (sx[-2], sy[-1])


def _matmul(op, xs, bd, params, name, size, level):
    (x, y), (bx, by) = xs, bd
    sx = x._data.shape[1:] if bx else x._data.shape
    sy = y._data.shape[1:] if by else y._data.shape
    out_shape = _matmul_shape(sx, sy)
    # vectors become matrices, so no batch dim can be read as a vector's dim
    if len(sx) == 1:
        x = _reshape(x, x._data.shape[:-1] + (1,) + x._data.shape[-1:])
    if len(sy) == 1:
        y = _reshape(y, y._data.shape + (1,))
    rx, ry = _rank(x, bx), _rank(y, by)
    r = max(rx, ry)
    if bx:
        x = _pad(x, r - rx)
    if by:
        y = _pad(y, r - ry)
    out = apply(op, (x, y), None, name=name)
    if out._data.shape != (size,) + out_shape:
        out = _reshape(out, (size,) + out_shape)
    return out


# --- indexing -------------------------------------------------------------------------------

def _is_array(e):
    return isinstance(e, (xp.ndarray, list)) or type(e) is bool


def _adv_layout(index, ndim):
    """For a NumPy index on an array of rank ``ndim``: (positions of the advanced entries,
    whether they are adjacent, their broadcast rank, result dims made before the first one)."""
    has_array = any(_is_array(e) for e in index)
    if not has_array:
        return [], True, 0, 0
    adv = [i for i, e in enumerate(index) if _is_array(e) or isinstance(e, (int, xp.integer))]
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    ranks = []
    for i in adv:
        e = index[i]
        if isinstance(e, list):
            e = xp.asarray(e)
        if isinstance(e, xp.ndarray):
            ranks.append(1 if e.dtype == bool else e.ndim)
        else:
            ranks.append(1 if type(e) is bool else 0)
    consumed = 0
    for e in index:
        if e is None or e is Ellipsis:
            continue
        if isinstance(e, xp.ndarray) and e.dtype == bool:
            consumed += e.ndim
        else:
            consumed += 1
    before = 0
    for e in index[:adv[0]]:
        before += (ndim - consumed) if e is Ellipsis else 1       # a slice or a None
    return adv, adjacent, max(ranks), before


def _index(op, xs, bd, params, name, size, level):
    (x,) = xs
    index = params["index"]
    index = index if type(index) is tuple else (index,)
    level_entries = [_index_level(e) == level for e in index]
    n = x._data.ndim - (1 if bd[0] else 0)
    if not any(level_entries):
        # an unbatched index: a slice for the batch dim in front
        out = apply(op, (x,), {"index": (slice(None),) + index,
                               "accumulate": params["accumulate"]}, name=name)
        adv, adjacent, k, _ = _adv_layout(index, n)
        if adv and not adjacent:        # NumPy put the advanced dims before the batch dim
            nd = out._data.ndim
            out = _permute(out, (k,) + tuple(range(k)) + tuple(range(k + 1, nd)))
        return out
    # batched index arrays: an arange over the batch joins them as one more advanced index
    plain = list(index)
    for i, e in enumerate(index):
        if level_entries[i]:
            bt = e._bt()
            if bt._data.dtype == bool:
                raise RuntimeError(
                    "vmap: indexing with a batched boolean mask gives every example a different "
                    "shape, which a batch cannot hold; use chainrule.where(mask, x, 0) instead")
            plain[i] = xp.zeros(bt._data.shape, bt._data.dtype)     # for the layout only
    adv, adjacent, r, before = _adv_layout(tuple(plain), n)
    if not bd[0]:
        x = materialize(x, size)
    phys = list(index)
    for i, e in enumerate(index):
        if level_entries[i]:
            p = e._bt()._phys
            phys[i] = _pad(p, r - (p._data.ndim - 1))._data
    ar = xp.arange(size).reshape((size,) + (1,) * r)
    out = apply(op, (x,), {"index": (ar,) + tuple(phys), "accumulate": True}, name=name)
    if adjacent and adv[0] > 0:
        # NumPy put (batch, advanced) first; the example's layout has `before` dims ahead of them
        nd = out._data.ndim
        perm = (0,) + tuple(range(r + 1, r + 1 + before)) + tuple(range(1, r + 1)) + \
            tuple(range(r + 1 + before, nd))
        out = _permute(out, perm)
    return out


def _index_scatter(op, xs, bd, params, name, size, level):
    (g,) = xs
    index = params["index"]
    index = index if type(index) is tuple else (index,)
    if any(_index_level(e) == level for e in index):
        raise NotImplementedError("vmap: index_scatter with a batched index")
    shape = tuple(params["shape"])
    adv, adjacent, k, _ = _adv_layout(index, len(shape))
    if adv and not adjacent:            # NumPy expects the values with the batch dim after adv
        nd = g._data.ndim
        g = _permute(g, tuple(range(1, k + 1)) + (0,) + tuple(range(k + 1, nd)))
    return apply(op, (g,), {"shape": (size,) + shape, "index": (slice(None),) + index,
                            "accumulate": params["accumulate"]}, name=name)


def _linear(op, xs, bd, params, name, size, level):
    """nn.functional.linear's primitive: x·Wᵀ + b over x's leading dims."""
    x, w, b = xs[0], xs[1], (xs[2] if len(xs) > 2 else None)
    if not bd[1] and not (b is not None and bd[2]):
        return apply(op, tuple(xs), params or None, name=name)  # the batch: one more leading dim
    # a weight per example (per-sample gradients repeat W along the batch): a batched matmul
    x = x if bd[0] else materialize(x, size)
    w = w if bd[1] else materialize(w, size)
    lead, n_in, n_out = x._data.shape[1:-1], w._data.shape[2], w._data.shape[1]
    rows = 1
    for s in lead:
        rows *= s
    out = apply(ops.matmul, (_reshape(x, (size, rows, n_in)),
                             apply(ops.transpose, (w,), {"dim0": 1, "dim1": 2})))
    if b is not None:
        b = b if bd[2] else materialize(b, size)
        out = apply(ops.add, (out, _reshape(b, (size, 1, n_out))))
    return _reshape(out, (size,) + tuple(lead) + (n_out,))


def _convolution(op, xs, bd, params, name, size, level):
    """nn.functional's convolution primitive (input (N, C, *spatial) always has its N)."""
    x, w, b = xs[0], xs[1], (xs[2] if len(xs) > 2 else None)
    n = x._data.shape[1] if bd[0] else x._data.shape[0]
    if not bd[1] and not (b is not None and bd[2]):
        # one weight for the batch: the batch joins N
        x = _reshape(x, (size * n,) + x._data.shape[2:])
        out = apply(op, (x, w) if b is None else (x, w, b), params, name=name)
        return _reshape(out, (size, n) + out._data.shape[1:])
    # a weight per example: the examples become groups of one convolution (x's channels, w's
    # rows and the output channels stacked example by example)
    x = x if bd[0] else materialize(x, size)
    w = w if bd[1] else materialize(w, size)
    x = _permute(x, (1, 0) + tuple(range(2, x._data.ndim)))          # (N, B, C, *S)
    x = _reshape(x, (n, size * x._data.shape[2]) + x._data.shape[3:])
    rows = w._data.shape[1]     # w: (B, O, C/g, *k), or (B, C, O/g, *k) when transposed
    n_out = w._data.shape[2] * params["groups"] if params["transposed"] else rows
    w = _reshape(w, (size * rows,) + w._data.shape[2:])
    ins = (x, w)
    if b is not None:
        ins += (_reshape(b if bd[2] else materialize(b, size), (size * n_out,)),)
    p = dict(params)
    p["groups"] = params["groups"] * size
    out = apply(op, ins, p, name=name)                                  # (N, B·O, *S')
    out = _reshape(out, (n, size, n_out) + out._data.shape[2:])
    return _permute(out, (1, 0) + tuple(range(2, out._data.ndim)))


def _trailing(op, xs, bd, params, name, size, level):
    """Ops on the trailing dims of their one input (pooling): the batch is one more leading
    dim."""
    return apply(op, tuple(xs), params or None, name=name)


def _embedding(op, xs, bd, params, name, size, level):
    """nn.functional.embedding's primitive, for a weight per example (the indices are shared:
    batched indices are read by embedding's range check, which makes vmap loop)."""
    if params.get("scale") is not None or not bd[0]:    # padding_idx, scale_grad_by_freq
        return _loop(op, xs, bd, params, name, size, level)
    return apply(ops.index, (xs[0],), {"index": (slice(None), params["indices"]),
                                        "accumulate": True}, name=name)


# A kind's rule serves every op of that kind (ops.KINDS); an op of another kind, or one that is
# special within its kind, names its own rule here.
KIND_RULES.update(elementwise=_elementwise, reduction=_reduction, along_dim=_along_dim,
                  reshape=_new_shape)
RULES.update(expand=_expand, transpose=_transpose, permute=_permute_rule, flip=_flip,
             repeat=_repeat, cat=_join, stack=_join, matmul=_matmul, index=_index,
             index_scatter=_index_scatter, linear=_linear, convolution=_convolution,
             avg_pool2d=_trailing, embedding=_embedding)


def rule_for(op):
    """The batching rule of ``op``: its own in RULES, else its kind's, else None (the loop)."""
    return RULES.get(op.name) or KIND_RULES.get(op.kind)


# =========================================================================================
# Functions without a gradient (functional._args.nondiff)
# =========================================================================================

def _batch_nondiff(fn, args, kwargs, level):
    xs, bd, size = [], [], None
    for v in args:
        b = at_level(v, level)
        xs.append(v._phys if b else v)
        bd.append(b)
        if b:
            size = v._phys._data.shape[0]
    if isinstance(fn, xp.ufunc) or fn is astype or fn is xp.isclose:
        r = max(_rank(x, b) for x, b in zip(xs, bd))
        xs = [_pad(x, r - _rank(x, True)) if b else x for x, b in zip(xs, bd)]
        return nondiff(fn, *xs, **kwargs)
    if fn is xp.argmax or fn is xp.argmin:
        (x,) = xs
        n = x._data.ndim - 1
        if kwargs.get("axis") is None:           # the flat index within each example
            numel = 1
            for s in x._data.shape[1:]:
                numel *= s
            return nondiff(fn, _reshape(x, (size, numel)), axis=1)
        return nondiff(fn, x, axis=_shift(kwargs["axis"], n),
                        keepdims=kwargs.get("keepdims", False))
    if fn is xp.any or fn is xp.all:
        (x,) = xs
        n = x._data.ndim - 1
        axis = kwargs.get("axis")
        axis = tuple(range(1, n + 1)) if axis is None else tuple(_shift(a, n) for a in axis)
        return nondiff(fn, x, axis=axis, keepdims=kwargs.get("keepdims", False))
    _warn_once(getattr(fn, "__name__", repr(fn)))
    outs = [nondiff(fn, *[_select(x, b) if isb else x for x, isb in zip(xs, bd)], **kwargs)
            for b in range(size)]
    return apply(ops.stack, tuple(outs), {"dim": 0})


# -- issue 13: attention
def _attention(op, xs, bd, params, name, size, level):
    """scaled_dot_product_attention broadcasts its batch dims: pad the batched operands to one
    rank (the bool mask and the dropout multiplier, unbatched, broadcast from the right)."""
    ranks = [_rank(x, b) for x, b in zip(xs, bd)]
    extra = [params[p].ndim for p in ("masked", "drop") if params.get(p) is not None]
    r = max(ranks + extra)
    xs = [_pad(x, r - rk) if b else x for x, b, rk in zip(xs, bd, ranks)]
    return apply(op, tuple(xs), params, name=name)


RULES.update(scaled_dot_product_attention=_attention)
