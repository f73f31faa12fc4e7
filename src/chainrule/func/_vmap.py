"""``vmap``: a function of one example, run once for a whole batch (see ``_batching``)."""
import functools
import warnings

from ..tensor import Tensor
from . import _batching as Bt
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

_RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs, without a Python loop per example.

    in_dims: for each positional argument (a pytree prefix of them, or one int for all) the
    dimension to map over, or None for an argument shared by every example.  out_dims: where
    the mapped dimension goes in each output.  chunk_size: map this many examples at a time.

    >>> import chainrule as torch
    >>> from chainrule.func import vmap
    >>> vmap(torch.dot)(torch.ones(2, 3), torch.ones(2, 3))
    tensor([3., 3.])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"vmap: randomness must be one of {_RANDOMNESS}, got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or a positive int, got {chunk_size}")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        leaves, spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims, args, f"vmap(in_dims={in_dims!r})")
        size = None
        for i, (x, d) in enumerate(zip(leaves, dims)):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"vmap: in_dims must be ints or None, got {d!r}")
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap: input {i} is a {type(x).__name__}; only tensors can be "
                                 "mapped over (give it in_dims None)")
            n = x.dim()
            if not -n <= d < n:
                raise ValueError(f"vmap: in_dim {d} is out of range for input {i} of shape "
                                 f"{tuple(x.shape)} (it has {n} dims)")
            dims[i] = d % n
            s = x.shape[d % n]
            if size is not None and s != size:
                sizes = [tuple(v.shape)[e] for v, e in zip(leaves, dims) if e is not None]
                raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                                 f"dimension, got sizes {sizes} for the mapped dimension")
            size = s
        if size is None:
            raise ValueError("vmap: at least one input must be mapped over (in_dims not None "
                             "for a tensor input); every in_dim is None here")
        if chunk_size is None or chunk_size >= size:
            return _call(func, leaves, spec, dims, size, kwargs, out_dims)
        parts = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [x if d is None else x.narrow(d, start, n) for x, d in zip(leaves, dims)]
            parts.append(_call(func, part, spec, dims, n, kwargs, out_dims))
        flat = [tree_flatten(p)[0] for p in parts]
        out_spec = tree_flatten(parts[0])[1]
        odims = broadcast_prefix(out_dims, parts[0], f"vmap(out_dims={out_dims!r})")
        from ..functional import cat
        return tree_unflatten([cat([f[i] for f in flat], d) for i, d in enumerate(odims)],
                              out_spec)
    return wrapped


def _movedim(x, src, dst):
    n = x.dim()
    if src == dst:
        return x
    order = [d for d in range(n) if d != src]
    order.insert(dst, src)
    return x.permute(*order)


def _call(func, leaves, spec, dims, size, kwargs, out_dims):
    try:
        with Bt.level_of_size(size) as level:
            inputs = [x if d is None else Bt.batched(_movedim(x, d, 0), level)
                      for x, d in zip(leaves, dims)]
            out = func(*tree_unflatten(inputs, spec), **kwargs)
            outs, out_spec = tree_flatten(out)
            odims = broadcast_prefix(out_dims, out, f"vmap(out_dims={out_dims!r})")
            results = [_unbatch(o, d, level, size) for o, d in zip(outs, odims)]
    except Bt.NeedsValues as e:
        if e.level not in (None, level):
            raise               # an outer vmap's example: that vmap loops
        _warn_loop(func, e)
        return _loop(func, leaves, spec, dims, size, kwargs, out_dims)
    return tree_unflatten(results, out_spec)


_LOOPED = set()


def _warn_loop(func, e):
    name = getattr(func, "__qualname__", repr(func))
    if name not in _LOOPED:
        _LOOPED.add(name)
        warnings.warn(f"{e} in {name}: vmap runs {name} once per example in a Python loop "
                      "instead (correct, but slower). Keep such code in tensors, e.g. "
                      "chainrule.where(cond, a, b) instead of an `if`, to batch it.",
                      UserWarning, stacklevel=4)


def _loop(func, leaves, spec, dims, size, kwargs, out_dims):
    """vmap's meaning spelled out: func on each example, the outputs stacked."""
    from ..functional import stack
    per = []
    for b in range(size):
        args = [x if d is None else x[(slice(None),) * d + (b,)] for x, d in zip(leaves, dims)]
        per.append(func(*tree_unflatten(args, spec), **kwargs))
    outs, out_spec = tree_flatten(per[0])
    odims = broadcast_prefix(out_dims, per[0], f"vmap(out_dims={out_dims!r})")
    flat = [tree_flatten(p)[0] for p in per]
    results = []
    for i, d in enumerate(odims):
        if d is None:
            results.append(outs[i])
            continue
        if not isinstance(outs[i], Tensor):
            raise ValueError(f"vmap: the function must return tensors (or pytrees of them), "
                             f"got a {type(outs[i]).__name__}")
        results.append(stack([f[i] for f in flat], d % (outs[i].dim() + 1)))
    return tree_unflatten(results, out_spec)


def _unbatch(o, d, level, size):
    batched = Bt.at_level(o, level)
    if d is None:
        if batched:
            raise ValueError("vmap: an output with out_dims None must not depend on the mapped "
                             "inputs (it is returned once, not per example)")
        return o
    if not isinstance(o, Tensor):
        raise ValueError(f"vmap: the function must return tensors (or pytrees of them), got "
                         f"a {type(o).__name__}; give it out_dims None to return it as is")
    p = o._phys if batched else Bt.materialize(o, size)
    n = p.dim()
    if not -n <= d < n:
        raise ValueError(f"vmap: out_dim {d} is out of range for an output with {n - 1} dims")
    return _movedim(p, 0, d % n)
