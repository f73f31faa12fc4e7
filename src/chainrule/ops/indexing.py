"""Scatter primitives: values of ``src`` combined into a copy of ``x`` at an index.

``x[index]`` (``gather``, ``index_select``, ``take``: ``index``'s entry in ``shape.py``) and
``x[index] = v`` (``scatter``, ``index_copy``: ``index_put``) already have entries; what they
cannot express is several values reduced into one place (sum, product, mean, max, min), which
``scatter_reduce`` below does.  ``index`` is a NumPy index (a tuple of integer arrays and
slices), built by the public functions from torch's ``dim``/``index`` arguments.
"""
from .._backend import xp
from . import defprim

_UFUNCS = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum,
           "amin": xp.minimum}


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -xp.inf if reduce == "amax" else xp.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _counts(shape, index, include_self):
    """How many values each position of the result reduces (``x``'s own when include_self)."""
    n = xp.full(shape, 1 if include_self else 0, dtype=xp.int64)
    xp.add.at(n, index, 1)
    return n


def _scatter_reduce(x, src, index, reduce, include_self=True):
    """out = x with src's values reduced (sum, prod, mean, amax, amin) into out[index]"""
    out = x.copy()
    if not include_self:
        out[index] = _identity(reduce, x.dtype)
    _UFUNCS[reduce].at(out, index, src)
    if reduce == "mean":
        n = xp.maximum(_counts(x.shape, index, include_self), 1)
        if x.dtype.kind == "f":
            out = (out / n).astype(x.dtype, copy=False)
        else:
            out = xp.floor_divide(out, n).astype(x.dtype, copy=False)
    return out


def _scattered(shape, index):
    m = xp.zeros(shape, dtype=bool)
    m[index] = True
    return m


def _unless_scattered(F, gx, x, index, include_self):
    """torch: without include_self, x's values at the scattered positions did not count."""
    return gx if include_self else F.where(_scattered(x.shape, index), 0.0, gx)


def _like(a, g):
    """A count array in the dtype of the gradient g (an array, or a tensor under TensorF)."""
    return a.astype(getattr(g, "_data", g).dtype, copy=False)


def _ties(F, out, x, src, index):
    """amax/amin: the masks of x's and src's values equal to the result, and how many tie at
    each position (torch splits the gradient evenly among ties; x counts even without
    include_self, as in torch)."""
    o, xv, sv = F.raw(out), F.raw(x), F.raw(src)
    self_is = xv == o
    src_is = sv == o[index]
    n = self_is.astype(xp.int64)
    xp.add.at(n, index, src_is)
    return self_is, src_is, xp.maximum(n, 1)


def _prod_self_src(F, g, out, x, src, index, include_self):
    """prod, as torch's scatter_reduce_backward: the product of the others, computed with the
    zeros masked out so that a single zero gets the product of the rest (not 0/0)."""
    xv, sv = F.raw(x), F.raw(src)
    params = {"index": index, "reduce": "prod", "include_self": include_self}
    masked_self = F.where(xv == 0, 1.0, x)
    gx = g * F.apply(scatter_reduce, (masked_self, src), params) / masked_self
    src_zero = sv == 0
    nzero = xp.zeros(xv.shape, dtype=xp.int64)
    xp.add.at(nzero, index, src_zero)
    single = src_zero & (nzero[index] == 1)
    masked_src = F.where(single, 1.0, src)
    first = F.getitem(g * F.apply(scatter_reduce, (x, masked_src), params), index)
    second = F.getitem(g * out, index) / F.where(src_zero, 1.0, src)
    return gx, F.where(single, first, second)


def _vjp_x(F, g, out, x, src, index, reduce, include_self=True):
    if reduce == "sum":
        gx = g
    elif reduce == "mean":
        gx = g / _like(xp.maximum(_counts(x.shape, index, include_self), 1), g)
    elif reduce == "prod":
        gx = _prod_self_src(F, g, out, x, src, index, include_self)[0]
    else:
        self_is, _, n = _ties(F, out, x, src, index)
        gx = F.where(self_is, g / _like(n, g), 0.0)
    return _unless_scattered(F, gx, x, index, include_self)


def _vjp_src(F, g, out, x, src, index, reduce, include_self=True):
    if reduce == "sum":
        return F.getitem(g, index)
    if reduce == "mean":
        return F.getitem(g / _like(xp.maximum(_counts(x.shape, index, include_self), 1), g),
                         index)
    if reduce == "prod":
        return _prod_self_src(F, g, out, x, src, index, include_self)[1]
    _, src_is, n = _ties(F, out, x, src, index)
    return F.where(src_is, F.getitem(g / _like(n, g), index), 0.0)


# A primitive because no composition of index/index_put reduces several values into one place;
# sum alone could be x + index_scatter(src), but one entry for the five reductions keeps their
# gradients (torch's scatter_reduce_backward) side by side.
scatter_reduce = defprim(
    "scatter_reduce", _scatter_reduce, _vjp_x, _vjp_src,
    kind="other", backward_name="ScatterReduceBackward0", saves=(0, 1), saves_out=True,
    # at one element (x and y meeting once at index): what the rules give there
    formulas=("[not at index] + [at index]·include_self·([reduce = 'sum'] + "
              "[reduce = 'mean']/2 + [reduce = 'prod']·y + "
              "[reduce = 'amax' or reduce = 'amin']·[x = out]/#ties)",
              "[reduce = 'sum'] + [reduce = 'mean']/(1 + include_self) + "
              "[reduce = 'prod']·(include_self·x + 1 - include_self) + "
              "[reduce = 'amax' or reduce = 'amin']·[y = out]/#ties"),
    vjp_texts=("g ↦ g where x's value reached out (÷ ties, ÷ count for mean; · the others' "
               "product for prod)",
               "g ↦ g[index] where src's value reached out (÷ ties, ÷ count for mean; · the "
               "others' product for prod)"),
    examples=[("m.scatter_reduce(x, 1, m.tensor([[0, 1, 0], [2, 2, 1]]), y, 'sum')",
               (3, 4), (2, 3)),
              ("m.scatter_reduce(x, 0, m.tensor([[0, 1, 0], [2, 2, 1]]), y, 'mean', "
               "include_self=False)", (3, 4), (2, 3)),
              ("m.scatter_reduce(x, 1, m.tensor([[0, 1, 0], [2, 2, 1]]), y, 'amax')",
               (3, 4), (2, 3)),
              ("m.scatter_reduce(x, 1, m.tensor([[0, 1, 0], [2, 2, 1]]), y, 'amin', "
               "include_self=False)", (3, 4), (2, 3)),
              ("m.scatter_reduce(x, 1, m.tensor([[0, 1, 0], [2, 2, 1]]), y, 'prod')",
               (3, 4), (2, 3)),
              ("x.index_add(0, m.tensor([2, 0, 2]), y)", (3, 4), (3, 4)),
              ("m.scatter_reduce(x, 0, m.tensor([0]), y, 'sum', include_self=False)", (3,), (1,)),
              ("m.scatter_reduce(x, 0, m.tensor([0]), y, 'mean')", (3,), (1,)),
              ("m.scatter_reduce(x, 0, m.tensor([0]), y, 'mean', include_self=False)", (3,), (1,)),
              ("x.scatter_reduce(0, m.tensor([0]), y, 'prod')", (2,), (1,)),
              ("x.scatter_reduce(0, m.tensor([0]), y, 'prod', include_self=False)", (2,), (1,)),
              ("x.scatter_reduce(0, m.tensor([0]), y, 'amax')", (2,), (1,)),
              ("x.scatter_reduce(0, m.tensor([0]), y, 'amin', include_self=False)", (2,), (1,)),
              ("x.scatter_add(1, m.tensor([[0, 0], [3, 1]]), y)", (2, 4), (2, 2))])
