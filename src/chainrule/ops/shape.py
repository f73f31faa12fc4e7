"""Shape and indexing primitives: the elements moved, repeated, picked or joined, never changed."""
from .._backend import xp
from . import defprim


def _reshape_back(F, g, out, x, shape=None, dim=None):
    return F.reshape(g, x.shape)


def _reshape(x, shape):
    """out = x with a new shape (same elements, row-major order)"""
    return xp.reshape(x, shape)


reshape = defprim("reshape", _reshape, _reshape_back,
                  kind="reshape", linear="linear", backward_name="ViewBackward0",
                  formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                  examples=[("x.reshape(4, 3)", (3, 4)), ("x.view(-1)", (2, 3)),
                            ("x.flatten()", (2, 3, 2)), ("x.reshape(())", (1,))])
squeeze = defprim("squeeze", _reshape, _reshape_back,
                  kind="reshape", linear="linear", backward_name="SqueezeBackward0",
                  formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                  examples=[("x.squeeze()", (3, 1, 4)), ("x.squeeze(0)", (1, 4))])
unsqueeze = defprim("unsqueeze", _reshape, _reshape_back,
                    kind="reshape", linear="linear", backward_name="UnsqueezeBackward0",
                    formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                    examples=[("x.unsqueeze(1)", (3, 4)), ("x.unsqueeze(-1)", (3,))])


def _expand(x, shape):
    """out = x broadcast to shape (a read-only view)"""
    return xp.broadcast_to(x, shape)


expand = defprim("expand", _expand, lambda F, g, out, x, shape: F.sum_to(g, x.shape),
                 kind="shape", linear="linear",
                 formulas=("1",), vjp_texts=("g ↦ g summed over the broadcast axes",),
                 examples=[("x.expand(3, 4)", (4,)), ("x.expand(2, -1, 3)", (4, 1)),
                           ("x.expand_as(y)", (3, 1), (3, 4))])


def _transpose(x, dim0, dim1):
    """out = x with axes dim0 and dim1 swapped"""
    return xp.swapaxes(x, dim0, dim1)


transpose = defprim("transpose", _transpose,
                    lambda F, g, out, x, dim0, dim1: F.swapaxes(g, dim0, dim1),
                    kind="shape", linear="linear",
                    formulas=("1",), vjp_texts=("g ↦ gᵀ",),
                    examples=[("x.transpose(0, 1)", (3, 4)), ("x.mT", (2, 3, 4)), ("x.t()", (3, 2))])


def _permute(x, dims):
    """out = x with its axes reordered"""
    return xp.transpose(x, dims)


permute = defprim("permute", _permute,
                  lambda F, g, out, x, dims: F.permute(g, tuple(xp.argsort(dims))),
                  kind="shape", linear="linear",
                  formulas=("1",), vjp_texts=("g ↦ g with the axes put back",),
                  examples=[("x.permute(2, 0, 1)", (2, 3, 4)), ("x.T", (3, 4))])


def _flip(x, dims):
    """out = x reversed along dims"""
    return xp.flip(x, dims)


flip = defprim("flip", _flip, lambda F, g, out, x, dims: F.flip(g, dims),
               kind="shape", linear="linear",
               formulas=("1",), vjp_texts=("g ↦ g flipped back",),
               examples=[("x.flip(0)", (3, 4)), ("x.flip(0, 1)", (3, 4))])


def _repeat(x, sizes):
    """out = x tiled sizes times along each axis"""
    return xp.tile(x, sizes)


def _repeat_vjp(F, g, out, x, sizes):
    shape = (1,) * (len(sizes) - len(x.shape)) + tuple(x.shape)
    split = []
    for r, n in zip(sizes, shape):
        split += [r, n]
    g = F.sum(F.reshape(g, tuple(split)), tuple(range(0, 2 * len(sizes), 2)), False)
    return F.reshape(g, x.shape)


repeat = defprim("repeat", _repeat, _repeat_vjp, kind="shape", linear="linear", formulas=("1",),
                 vjp_texts=("g ↦ the sum of g's tiles",),
                 examples=[("x.repeat(2, 3)", (3, 4)), ("x.repeat(2, 1, 2)", (3,))])


def _index(x, index, accumulate=False):
    """out = x[index]"""
    return x[index]


index = defprim("index", _index,
                lambda F, g, out, x, index, accumulate=False:
                    F.index_scatter(g, x.shape, index, accumulate),
                kind="shape", linear="linear",
                backward_name="IndexBackward0", formulas=("1",),
                vjp_texts=("g ↦ zeros of x's shape with g added at the index",),
                examples=[("x[1]", (3, 4)), ("x[:, 1:3]", (3, 4)), ("x[..., None, 0]", (3, 4)),
                          ("x[[0, 2, 0]]", (3, 4)), ("x[x > 0]", (3, 4)), ("x[[0, 1], [1, 2]]", (3, 4)),
                          ("x[::2, -1]", (5, 3))])


def _index_scatter(g, shape, index, accumulate):
    """out = zeros(shape) with g added at index (the adjoint of x[index])"""
    out = xp.zeros(shape, dtype=g.dtype)
    if accumulate:
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


index_scatter = defprim("index_scatter", _index_scatter,
                        lambda F, g, out, src, shape, index, accumulate: F.getitem(g, index),
                        kind="shape", linear="linear",
                        backward_name="IndexPutBackward0", formulas=("1",),
                        vjp_texts=("g ↦ g[index]",))


def _index_put(x, value, index):
    """out = x with out[index] = value"""
    out = x.copy()
    out[index] = value
    return out


def _index_put_vjp_x(F, g, out, x, value, index):
    keep = xp.ones(x.shape, dtype=bool)
    keep[index] = False
    return F.where(keep, g, 0.0)


index_put = defprim("index_put", _index_put, _index_put_vjp_x,
                    lambda F, g, out, x, value, index: F.getitem(g, index),
                    kind="shape", linear="linear",
                    backward_name="CopySlices", formulas=("[not at index]", "1"),
                    vjp_texts=("g ↦ g with zeros at the index", "g ↦ g[index]"))


def _cat(*xs, dim):
    """out = the inputs joined along dim"""
    # torch skips 1-d empty inputs (a legacy rule kept for compatibility); they still get an
    # (empty) gradient, so they stay inputs of the node
    return xp.concatenate([x for x in xs if x.shape != (0,)] or xs[:1], axis=dim)


def _cat_vjp(F, g, out, *xs, dim, i):
    start = 0
    for x in xs[:i]:
        start += x.shape[dim] if x.shape != (0,) else 0
    if xs[i].shape == (0,):                 # a skipped empty input: an empty gradient
        return F.reshape(F.getitem(g, (slice(None),) * dim + (slice(0, 0),)), (0,))
    index = (slice(None),) * dim + (slice(start, start + xs[i].shape[dim]),)
    return F.getitem(g, index)


cat = defprim("cat", _cat, _cat_vjp, kind="shape", linear="linear", nary=True, formulas=("1",),
              vjp_texts=("g ↦ the slice of g that came from this input",),
              examples=[("m.cat([x, y], 0)", (2, 3), (4, 3)), ("m.cat((x, y, x), dim=1)", (2, 3), (2, 1))])


def _stack(*xs, dim):
    """out = the inputs stacked along a new axis dim"""
    return xp.stack(xs, axis=dim)


stack = defprim("stack", _stack,
                lambda F, g, out, *xs, dim, i: F.getitem(g, (slice(None),) * dim + (i,)),
                kind="shape", linear="linear",
                nary=True, formulas=("1",), vjp_texts=("g ↦ the slice of g at this input's index",),
                examples=[("m.stack([x, y])", (2, 3), (2, 3)), ("m.stack((x, y), dim=1)", (4,), (4,))])
