"""Issue #12's shape family, second part: diagonals, roll/rot90/flips, repeat_interleave/tile,
unfold, movedim, the stacks, block_diag, grids and combinations, the splits, broadcasting, pixel
and channel shuffles, the ``*_copy`` functions and the in-place changes of shape.

Values, first and second derivatives go through ``tests/oracle.py`` (torch when installed, and
float64 central differences always; NumPy references where torch cannot check).  Errors are
checked by type and by torch's message text, written out here (measured on torch 2.13)."""
import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))
Y = rng.standard_normal((2, 3, 4))
V = rng.standard_normal(3)
W = rng.standard_normal(2)


def _diag_embed_ref(a, offset=0, dim1=-2, dim2=-1):
    m = a.shape[-1] + abs(offset)
    z = np.zeros(a.shape[:-1] + (m, m))
    for i in range(a.shape[-1]):
        z[..., i + max(-offset, 0), i + max(offset, 0)] = a[..., i]
    return np.moveaxis(z, (-2, -1), (dim1, dim2))


def _block_diag_ref(*blocks):
    blocks = [np.atleast_2d(b) for b in blocks]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def _pixel_shuffle_ref(a, r):
    n, c, h, w = a.shape
    out = np.zeros((n, c // (r * r), h * r, w * r))
    for k, y, x in np.ndindex(c, h, w):
        out[:, k // (r * r), y * r + (k % (r * r)) // r, x * r + k % r] = a[:, k, y, x]
    return out


def _pixel_unshuffle_ref(a, r):
    n, c, h, w = a.shape
    out = np.zeros((n, c * r * r, h // r, w // r))
    for k, y, x in np.ndindex(c, h, w):
        out[:, k * r * r + (y % r) * r + x % r, y // r, x // r] = a[:, k, y, x]
    return out


def _channel_shuffle_ref(a, g):
    out = np.empty_like(a)
    k = a.shape[1] // g
    for i, j in np.ndindex(g, k):
        out[:, j * g + i] = a[:, i * k + j]
    return out


# (id, program, inputs, NumPy reference or None): every program also runs on torch when present
CASES = [
    ("diag 1d", lambda m, x: m.diag(x), [V], np.diag),
    ("diag 1d below", lambda m, x: m.diag(x, -1), [V], lambda a: np.diag(a, -1)),
    ("diag 2d above", lambda m, x: m.diag(x, 1), [X], lambda a: np.diag(a, 1)),
    ("diag 2d below", lambda m, x: x.diag(-2), [X], lambda a: np.diag(a, -2)),
    ("diagonal dims", lambda m, x: m.diagonal(x, 1, 2, 0), [Y],
     lambda a: np.diagonal(a, 1, 2, 0)),
    ("diagonal method", lambda m, x: x.diagonal(-1, -1, 0), [Y],
     lambda a: np.diagonal(a, -1, -1, 0)),
    ("diagonal far", lambda m, x: m.diagonal(x, 9), [X], lambda a: np.diagonal(a, 9)),
    ("diag_embed", lambda m, x: m.diag_embed(x), [X], _diag_embed_ref),
    ("diag_embed dims", lambda m, x: m.diag_embed(x, 1, 0, 2), [Y],
     lambda a: _diag_embed_ref(a, 1, 0, 2)),
    ("diag_embed swapped", lambda m, x: x.diag_embed(-1, 2, 0), [X],
     lambda a: _diag_embed_ref(a, -1, 2, 0)),
    ("diagflat", lambda m, x: m.diagflat(x, 1), [X], lambda a: np.diagflat(a, 1)),
    ("trace", lambda m, x: m.trace(x), [X], np.trace),
    ("trace method", lambda m, x: x.t().trace(), [X], np.trace),
    ("roll flat", lambda m, x: m.roll(x, 1), [X], lambda a: np.roll(a, 1)),
    ("roll dims", lambda m, x: m.roll(x, (1, -5), (0, 1)), [X],
     lambda a: np.roll(a, (1, -5), (0, 1))),
    ("roll method", lambda m, x: x.roll(7, -1), [Y], lambda a: np.roll(a, 7, -1)),
    ("roll same dim twice", lambda m, x: m.roll(x, [1, 1], [1, 1]), [X],
     lambda a: np.roll(a, 2, 1)),
    ("rot90", lambda m, x: m.rot90(x), [X], np.rot90),
    ("rot90 2", lambda m, x: m.rot90(x, 2, (1, 2)), [Y], lambda a: np.rot90(a, 2, (1, 2))),
    ("rot90 -1", lambda m, x: x.rot90(-1, (2, 0)), [Y], lambda a: np.rot90(a, -1, (2, 0))),
    ("rot90 4", lambda m, x: m.rot90(x, 4), [X], lambda a: a),
    ("fliplr", lambda m, x: m.fliplr(x), [X], np.fliplr),
    ("flipud", lambda m, x: x.flipud(), [V], np.flipud),
    ("repeat_interleave flat", lambda m, x: m.repeat_interleave(x, 2), [X],
     lambda a: np.repeat(a, 2)),
    ("repeat_interleave tensor", lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 2]), dim=0),
     [X], lambda a: np.repeat(a, [1, 0, 2], 0)),
    ("repeat_interleave one", lambda m, x: x.repeat_interleave(m.tensor([2]), dim=1,
                                                               output_size=8), [X],
     lambda a: np.repeat(a, 2, 1)),
    ("repeat_interleave 0-d repeats", lambda m, x: x.repeat_interleave(m.tensor(3), dim=-1), [Y],
     lambda a: np.repeat(a, 3, -1)),
    ("tile short", lambda m, x: m.tile(x, (2,)), [X], lambda a: np.tile(a, 2)),
    ("tile method", lambda m, x: x.tile(2, 1, 2), [X], lambda a: np.tile(a, (2, 1, 2))),
    ("unfold", lambda m, x: x.unfold(1, 2, 1), [X],
     lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, 1)),
    ("unfold step", lambda m, x: x.unfold(0, 2, 2), [Y],
     lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, 0)[::2]),
    ("unfold last", lambda m, x: x.unfold(-1, 2, 3), [Y],
     lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, -1)[..., ::3, :]),
    ("movedim", lambda m, x: m.movedim(x, (0, 1), (2, 0)), [Y],
     lambda a: np.moveaxis(a, (0, 1), (2, 0))),
    ("moveaxis", lambda m, x: x.moveaxis(-1, 0), [Y], lambda a: np.moveaxis(a, -1, 0)),
    ("swapdims", lambda m, x: x.swapdims(0, 2), [Y], lambda a: np.swapaxes(a, 0, 2)),
    ("hstack", lambda m, x: m.hstack([x, x]), [X], lambda a: np.hstack([a, a])),
    ("hstack 1d", lambda m, x: m.hstack((x, x[0])), [V], lambda a: np.hstack([a, a[0]])),
    ("vstack", lambda m, x: m.vstack([x, x[0]]), [X], lambda a: np.vstack([a, a[0]])),
    ("row_stack", lambda m, x: m.row_stack([x[0], x]), [X], lambda a: np.vstack([a[0], a])),
    ("dstack", lambda m, x: m.dstack([x, x]), [X], lambda a: np.dstack([a, a])),
    ("column_stack", lambda m, x: m.column_stack([x[:, 0], x]), [X],
     lambda a: np.column_stack([a[:, 0], a])),
    ("block_diag", lambda m, x, v: m.block_diag(x, v, v[0]), [X, V],
     lambda a, b: _block_diag_ref(a, b, b[0])),
    ("cartesian_prod", lambda m, x, w: m.cartesian_prod(x, w), [V, W],
     lambda a, b: np.array(list(itertools.product(a, b)))),
    ("cartesian_prod one", lambda m, x: m.cartesian_prod(x), [V], lambda a: a),
    ("combinations", lambda m, x: m.combinations(x), [V],
     lambda a: np.array(list(itertools.combinations(a, 2)))),
    ("combinations replacement", lambda m, x: m.combinations(x, 3, with_replacement=True), [V],
     lambda a: np.array(list(itertools.combinations_with_replacement(a, 3)))),
    ("combinations too many", lambda m, x: m.combinations(x, 4), [V], lambda a: np.zeros((0, 4))),
    ("meshgrid xy", lambda m, x, w: m.meshgrid(x, w, indexing="xy"), [V, W],
     lambda a, b: np.meshgrid(a, b, indexing="xy")),
    ("meshgrid ij list", lambda m, x, w: m.meshgrid([x, w, x], indexing="ij"), [V, W],
     lambda a, b: np.meshgrid(a, b, a, indexing="ij")),
    ("atleast_3d", lambda m, x: m.atleast_3d(x), [V], np.atleast_3d),
    ("atleast_2d many", lambda m, x: m.atleast_2d(x, x[0]), [V],
     lambda a: np.atleast_2d(a, a[0])),
    ("atleast_1d list", lambda m, x: m.atleast_1d([x[0], x]), [V],
     lambda a: np.atleast_1d(a[0], a)),
    ("tensor_split sections", lambda m, x: m.tensor_split(x, 3, 1), [X],
     lambda a: np.array_split(a, 3, 1)),
    ("tensor_split indices", lambda m, x: m.tensor_split(x, [1, 5, 2], dim=1), [X],
     lambda a: np.split(a, [1, 5, 2], 1)),
    ("tensor_split tensor", lambda m, x: x.tensor_split(m.tensor([1, 3]), 1), [X],
     lambda a: np.split(a, [1, 3], 1)),
    ("tensor_split 0-d tensor", lambda m, x: x.tensor_split(m.tensor(3)), [X],
     lambda a: np.array_split(a, 3)),
    ("hsplit", lambda m, x: m.hsplit(x, 2), [X], lambda a: np.hsplit(a, 2)),
    ("vsplit", lambda m, x: x.vsplit([1]), [X], lambda a: np.vsplit(a, [1])),
    ("dsplit", lambda m, x: m.dsplit(x, 2), [Y], lambda a: np.dsplit(a, 2)),
    ("broadcast_tensors", lambda m, x, v: m.broadcast_tensors(x[:, None], v), [V, V],
     lambda a, b: np.broadcast_arrays(a[:, None], b)),
    ("sum_to_size", lambda m, x: x.sum_to_size(1, 4), [X], lambda a: a.sum(0, keepdims=True)),
    ("sum_to_size lead", lambda m, x: x.sum_to_size(3, 4), [Y], lambda a: a.sum(0)),
    ("sum_to_size both", lambda m, x: x.sum_to_size((4,)), [Y], lambda a: a.sum((0, 1))),
    ("ravel", lambda m, x: m.ravel(x.t()), [X], lambda a: a.T.ravel()),
    ("pixel_shuffle", lambda m, x: m.pixel_shuffle(x.reshape(1, 4, 2, 3), 2), [Y],
     lambda a: _pixel_shuffle_ref(a.reshape(1, 4, 2, 3), 2)),
    ("pixel_unshuffle", lambda m, x: m.pixel_unshuffle(x.reshape(1, 2, 2, 6), 2), [Y],
     lambda a: _pixel_unshuffle_ref(a.reshape(1, 2, 2, 6), 2)),
    ("channel_shuffle", lambda m, x: m.channel_shuffle(x.reshape(1, 6, 4), 2), [Y],
     lambda a: _channel_shuffle_ref(a.reshape(1, 6, 4), 2)),
    ("unflatten", lambda m, x: x.unflatten(1, (2, -1)), [X], lambda a: a.reshape(3, 2, 2)),
    ("split_with_sizes", lambda m, x: x.split_with_sizes([1, 3], 1), [X],
     lambda a: np.split(a, [1], 1)),
    ("unsafe_chunk", lambda m, x: m.unsafe_chunk(x, 2, 1), [X], lambda a: np.split(a, 2, 1)),
    ("unsafe_split", lambda m, x: x.unsafe_split(2), [X], lambda a: np.split(a, [2])),
    ("unsafe_split_with_sizes", lambda m, x: m.unsafe_split_with_sizes(x, [2, 1]), [X],
     lambda a: np.split(a, [2])),
    ("alias_copy", lambda m, x: m.alias_copy(x), [X], lambda a: a),
    ("diagonal_copy", lambda m, x: m.diagonal_copy(x, 1), [X], lambda a: np.diagonal(a, 1)),
    ("expand_copy", lambda m, x: m.expand_copy(x, (2, 3, 4)), [X],
     lambda a: np.broadcast_to(a, (2, 3, 4))),
    ("permute_copy", lambda m, x: m.permute_copy(x, (2, 0, 1)), [Y],
     lambda a: a.transpose(2, 0, 1)),
    ("slice_copy", lambda m, x: m.slice_copy(x, 1, 1, None, 2), [X], lambda a: a[:, 1::2]),
    ("split_copy", lambda m, x: m.split_copy(x, 3, 1), [X], lambda a: np.split(a, [3], 1)),
    ("split_with_sizes_copy", lambda m, x: m.split_with_sizes_copy(x, [1, 3], 1), [X],
     lambda a: np.split(a, [1], 1)),
    ("squeeze_copy", lambda m, x: m.squeeze_copy(x[None], 0), [X], lambda a: a),
    ("t_copy", lambda m, x: m.t_copy(x), [X], lambda a: a.T),
    ("transpose_copy", lambda m, x: m.transpose_copy(x, 0, 2), [Y],
     lambda a: a.transpose(2, 1, 0)),
    ("unbind_copy", lambda m, x: m.unbind_copy(x, 1), [X], lambda a: list(a.T)),
    ("unfold_copy", lambda m, x: m.unfold_copy(x, 1, 3, 1), [X],
     lambda a: np.lib.stride_tricks.sliding_window_view(a, 3, 1)),
    ("unsqueeze_copy", lambda m, x: m.unsqueeze_copy(x, 1), [X], lambda a: a[:, None]),
    ("view_copy", lambda m, x: m.view_copy(x, (4, 3)), [X], lambda a: a.reshape(4, 3)),
]


@pytest.mark.parametrize("program, inputs, ref", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_first_and_second_derivatives(program, inputs, ref):
    check(program, *inputs, ref=ref, second=True)


# --- empty and 0-d inputs -------------------------------------------------------------------

EDGE = [
    ("diag empty", lambda m, x: m.diag(x), [np.zeros(0)]),
    ("diag empty offset", lambda m, x: m.diag(x, 2), [np.zeros(0)]),
    ("diagonal empty", lambda m, x: m.diagonal(x), [np.zeros((0, 3))]),
    ("diagonal off the matrix", lambda m, x: m.diagonal(x, -5), [X]),
    ("trace 0x0", lambda m, x: m.trace(x), [np.zeros((0, 0))]),
    ("roll empty", lambda m, x: m.roll(x, 1, 0), [np.zeros((0, 3))]),
    ("roll 0-d", lambda m, x: m.roll(x, 1), [np.array(2.0)]),
    ("repeat_interleave 0-d", lambda m, x: m.repeat_interleave(x, 3), [np.array(2.0)]),
    ("repeat_interleave zero times", lambda m, x: m.repeat_interleave(x, 0), [np.array(2.0)]),
    ("unfold empty window", lambda m, x: x.unfold(0, 0, 1), [V]),
    ("unfold 0-d", lambda m, x: x.unfold(0, 1, 1), [np.array(2.0)]),
    ("unfold 0-d empty", lambda m, x: x.unfold(0, 0, 1), [np.array(2.0)]),
    ("movedim 0-d", lambda m, x: m.movedim(x, 0, -1), [np.array(2.0)]),
    ("meshgrid 0-d", lambda m, x, v: m.meshgrid(x, v, indexing="xy"), [np.array(2.0), V]),
    ("cartesian_prod empty", lambda m, x, v: m.cartesian_prod(x, v), [np.zeros(0), V]),
    ("combinations empty", lambda m, x: m.combinations(x), [np.zeros(0)]),
    ("combinations r=0", lambda m, x: m.combinations(x, 0), [V]),
    ("block_diag empty blocks", lambda m, x, y: m.block_diag(x, y), [np.zeros((0, 2)),
                                                                   np.zeros((2, 0))]),
    ("tensor_split empty", lambda m, x: m.tensor_split(x, 2), [np.zeros((0, 3))]),
    ("tensor_split past the end", lambda m, x: m.tensor_split(x, [-2, 9]), [V]),
    ("atleast 0-d", lambda m, x: (m.atleast_1d(x), m.atleast_2d(x), m.atleast_3d(x)),
     [np.array(2.0)]),
    ("hstack 0-d", lambda m, x: m.hstack([x, x]), [np.array(2.0)]),
    ("column_stack 0-d", lambda m, x: m.column_stack([x, x]), [np.array(2.0)]),
    ("sum_to_size same", lambda m, x: x.sum_to_size(3, 4), [X]),
]


@pytest.mark.parametrize("program, inputs", [c[1:] for c in EDGE], ids=[c[0] for c in EDGE])
def test_empty_and_zero_d(program, inputs):
    check(program, *inputs)


def test_edge_shapes_without_torch():
    assert cr.diag(cr.zeros(0), 2).shape == (2, 2)
    assert cr.diagonal(cr.zeros(2, 3), 5).shape == (0,)
    assert cr.roll(cr.tensor(2.), 1).shape == ()
    assert cr.zeros(0).unfold(0, 0, 1).shape == (1, 0)
    assert cr.zeros(3).unfold(0, 0, 1).shape == (4, 0)
    assert cr.combinations(cr.zeros(0)).shape == (0, 2)
    assert cr.combinations(cr.arange(3), 0).shape == (0,)
    assert cr.block_diag().shape == (1, 0)
    assert cr.block_diag().dtype == cr.float32
    assert [t.shape for t in cr.tensor_split(cr.arange(7), [5, 2])] == [(5,), (0,), (5,)]
    assert cr.broadcast_shapes() == cr.Size([])
    assert cr.broadcast_shapes((3, 1), (4,)) == cr.Size([3, 4])
    assert isinstance(cr.broadcast_shapes(cr.Size([2, 1]), 3), cr.Size)
    assert cr.broadcast_shapes(3, (4, 1)) == (4, 3)


# --- dtypes ---------------------------------------------------------------------------------

DTYPE_PROGRAMS = [
    ("diag", lambda m, x: m.diag(x)), ("diagonal", lambda m, x: m.diagonal(x, 1)),
    ("diag_embed", lambda m, x: m.diag_embed(x)), ("diagflat", lambda m, x: m.diagflat(x)),
    ("roll", lambda m, x: m.roll(x, 1, 1)), ("rot90", lambda m, x: m.rot90(x)),
    ("fliplr", lambda m, x: m.fliplr(x)),
    ("repeat_interleave", lambda m, x: m.repeat_interleave(x, 2)),
    ("tile", lambda m, x: m.tile(x, (2,))), ("unfold", lambda m, x: x.unfold(1, 2, 1)),
    ("movedim", lambda m, x: m.movedim(x, 0, 1)), ("hstack", lambda m, x: m.hstack([x, x])),
    ("block_diag", lambda m, x: m.block_diag(x, x)),
    ("meshgrid", lambda m, x: m.meshgrid(x[0], x[1], indexing="ij")[0]),
    ("cartesian_prod", lambda m, x: m.cartesian_prod(x[0], x[1])),
    ("combinations", lambda m, x: m.combinations(x[0])),
    ("tensor_split", lambda m, x: m.tensor_split(x, 2)[0]),
    ("pixel_shuffle", lambda m, x: m.pixel_shuffle(x.reshape(1, 4, 1, 1), 2)),
    ("permute_copy", lambda m, x: m.permute_copy(x, (1, 0))),
]


@pytest.mark.parametrize("dtype", ["float16", "float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("program", [p for _, p in DTYPE_PROGRAMS],
                         ids=[n for n, _ in DTYPE_PROGRAMS])
def test_element_moving_ops_keep_the_dtype(program, dtype):
    x = cr.tensor(np.arange(4).reshape(2, 2) % 3).to(getattr(cr, dtype))
    out = program(cr, x)
    assert out.dtype == getattr(cr, dtype)
    if torch is not None:
        t = torch.tensor(np.arange(4).reshape(2, 2) % 3).to(getattr(torch, dtype))
        want = program(torch, t)
        assert str(want.dtype) == str(out.dtype).replace("chainrule", "torch")
        np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_dtype_rules_of_sums_and_mixtures():
    assert cr.trace(cr.ones(2, 2, dtype=cr.int32)).dtype == cr.int64
    assert cr.trace(cr.ones(2, 2, dtype=cr.float16)).dtype == cr.float16
    assert cr.ones(2, 3, dtype=cr.int32).sum_to_size(3).dtype == cr.int64
    mixed = cr.block_diag(cr.zeros(2, dtype=cr.int32), cr.ones(1, dtype=cr.bool))
    assert mixed.dtype == cr.int32 and mixed.shape == (2, 3)
    assert cr.block_diag(cr.ones(1, dtype=cr.int64), cr.ones(1)).dtype == cr.float32
    assert cr.hstack([cr.tensor(1), cr.tensor(2.)]).dtype == cr.float32
    # repeat_interleave(repeats) gives indices in the repeats' dtype
    idx = cr.repeat_interleave(cr.tensor([1, 2], dtype=cr.int32))
    assert idx.dtype == cr.int32 and idx.tolist() == [0, 1, 1]
    assert idx.grad_fn is None
    assert cr.repeat_interleave(cr.tensor([2, 0, 1]), output_size=3).tolist() == [0, 0, 2]


# --- errors ---------------------------------------------------------------------------------

ERRORS = [
    ("diag 3d", lambda m: m.diag(m.zeros(2, 2, 2)),
     RuntimeError, "diag(): Supports 1D or 2D tensors. Got 3D"),
    ("diag 0d", lambda m: m.diag(m.tensor(1.)),
     RuntimeError, "diag(): Supports 1D or 2D tensors. Got 0D"),
    ("diagonal same", lambda m: m.diagonal(m.zeros(3, 4), 0, 0, 0),
     RuntimeError, "diagonal dimensions cannot be identical 0, 0"),
    ("diagonal range", lambda m: m.diagonal(m.zeros(3), 0, 0, 1),
     IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("diag_embed 0d", lambda m: m.diag_embed(m.tensor(1.)),
     IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got -2)"),
    ("diag_embed same", lambda m: m.diag_embed(m.zeros(3), 0, 0, 0),
     RuntimeError, "diagonal dimensions cannot be identical 0, 0"),
    ("trace 1d", lambda m: m.trace(m.zeros(3)),
     RuntimeError, "trace: expected a matrix, but got tensor with dim 1"),
    ("roll align", lambda m: m.roll(m.zeros(3, 4), (1, 2), (0,)),
     RuntimeError, "shifts and dimensions must align. shifts: 2, dims:1"),
    ("roll align none", lambda m: m.roll(m.zeros(3, 4), (1, 2)),
     RuntimeError, "shifts and dimensions must align. shifts: 2, dims:0"),
    ("roll empty", lambda m: m.roll(m.zeros(3, 4), []), RuntimeError, "`shifts` required"),
    ("roll 0d", lambda m: m.roll(m.tensor(1.), 1, 0),
     IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ("rot90 dims", lambda m: m.rot90(m.zeros(3, 4), 1, (0,)),
     RuntimeError, "expected total rotation dims == 2, but got dims = 1"),
    ("rot90 same", lambda m: m.rot90(m.zeros(3, 4), 1, (0, 0)),
     RuntimeError, "expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"),
    ("rot90 1d", lambda m: m.rot90(m.zeros(3)),
     RuntimeError, "expected total dims >= 2, but got total dims = 1"),
    ("rot90 range", lambda m: m.rot90(m.zeros(3, 4), 1, (0, 5)),
     IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("fliplr", lambda m: m.fliplr(m.zeros(3)), RuntimeError, "Input must be >= 2-d."),
    ("flipud", lambda m: m.flipud(m.tensor(1.)), RuntimeError, "Input must be >= 1-d."),
    ("ri size", lambda m: m.repeat_interleave(m.zeros(3, 4), m.tensor([1, 2]), dim=1),
     RuntimeError, "repeats must have the same size as input along dim, but got repeats.size(0) "
     "= 2 and input.size(1) = 4"),
    ("ri output_size",
     lambda m: m.repeat_interleave(m.zeros(3, 4), m.tensor([1, 2, 3]), dim=0, output_size=5),
     RuntimeError, "allocated size does not match required size"),
    ("ri neg int", lambda m: m.repeat_interleave(m.zeros(3), -1),
     RuntimeError, "Repeats must be non-negative"),
    ("ri neg tensor", lambda m: m.repeat_interleave(m.zeros(3), m.tensor([-1, 2, 3]), dim=0),
     RuntimeError, "repeats can not be negative"),
    ("ri 2d repeats", lambda m: m.repeat_interleave(m.tensor([[1, 2]])),
     RuntimeError, "repeat_interleave only accept 1D vector as repeat"),
    ("ri 2d repeats dim", lambda m: m.repeat_interleave(m.zeros(3), m.tensor([[1, 2, 3]]), dim=0),
     RuntimeError, "repeats must be 0-dim or 1-dim tensor"),
    ("ri float", lambda m: m.repeat_interleave(m.tensor([1., 2.])),
     NotImplementedError, "\"repeat_interleave_cpu\" not implemented for 'Float'"),
    ("unfold big", lambda m: m.zeros(3, 4).unfold(1, 5, 1),
     RuntimeError, "maximum size for tensor at dimension 1 is 4 but size is 5"),
    ("unfold step", lambda m: m.zeros(3, 4).unfold(1, 2, 0),
     RuntimeError, "step is 0 but must be > 0"),
    ("unfold size", lambda m: m.zeros(3, 4).unfold(1, -1, 1),
     RuntimeError, "size is -1 but must be >= 0"),
    ("movedim count", lambda m: m.movedim(m.zeros(3, 4), (0, 1), (1,)),
     RuntimeError, "movedim: Invalid source or destination dims: source ([0, 1] dims) should "
     "contain the same number of dims as destination ([1] dims)"),
    ("movedim src", lambda m: m.movedim(m.zeros(3, 4), (0, 0), (1, 0)),
     RuntimeError, "movedim: repeated dim in `source` ([0, 0])"),
    ("movedim dst", lambda m: m.movedim(m.zeros(3, 4), (0, 1), (1, 1)),
     RuntimeError, "movedim: repeated dim in `destination` ([1, 1])"),
    ("meshgrid indexing", lambda m: m.meshgrid(m.zeros(2), indexing="foo"),
     RuntimeError, 'torch.meshgrid: indexing must be one of "xy" or "ij", but received: foo'),
    ("meshgrid 2d", lambda m: m.meshgrid(m.zeros(2, 2), indexing="ij"),
     RuntimeError, "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got"),
    ("meshgrid none", lambda m: m.meshgrid(indexing="ij"),
     RuntimeError, "meshgrid expects a non-empty TensorList"),
    ("meshgrid dtype", lambda m: m.meshgrid(m.zeros(2), m.arange(2), indexing="ij"),
     RuntimeError, "meshgrid expects all tensors to have the same dtype"),
    ("cartesian 2d", lambda m: m.cartesian_prod(m.zeros(3, 4)),
     RuntimeError, "Expect a 1D vector, but got shape [3, 4]"),
    ("combinations 2d", lambda m: m.combinations(m.zeros(3, 4)),
     RuntimeError, "Expect a 1D vector, but got shape [3, 4]"),
    ("combinations r", lambda m: m.combinations(m.zeros(3), -1),
     RuntimeError, "Expect a non-negative number, but got -1"),
    ("block_diag 3d", lambda m: m.block_diag(m.zeros(2, 2, 2)),
     RuntimeError, "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 0 "
     "has 3 dimensions"),
    ("hstack empty", lambda m: m.hstack([]),
     RuntimeError, "hstack expects a non-empty TensorList"),
    ("hstack tensor", lambda m: m.hstack(m.zeros(2)),
     TypeError, "hstack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    ("ts sections", lambda m: m.tensor_split(m.arange(7), 0),
     RuntimeError, "number of sections must be larger than 0, got 0"),
    ("ts 2d tensor", lambda m: m.tensor_split(m.arange(7), m.tensor([[1, 6]])),
     RuntimeError, "tensor_split expected tensor_indices_or_sections to be a zero-dimensional "
     "or one-dimensional tensor, but got a tensor with 2 dims"),
    ("ts float", lambda m: m.tensor_split(m.arange(7), m.tensor([1.])),
     RuntimeError, "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
     "got Float"),
    ("ts 0d", lambda m: m.tensor_split(m.tensor(1.), 2),
     RuntimeError, "tensor_split expected at least a 1-dimensional tensor, but got a tensor "
     "with 0 dims"),
    ("hsplit div", lambda m: m.hsplit(m.arange(7), 3),
     RuntimeError, "torch.hsplit attempted to split along dimension 0, but the size of the "
     "dimension 7 is not divisible by the split_size 3!"),
    ("hsplit 0d", lambda m: m.hsplit(m.tensor(1), 3),
     RuntimeError, "torch.hsplit requires a tensor with at least 1 dimension, but got a tensor "
     "with 0 dimensions!"),
    ("vsplit 1d", lambda m: m.vsplit(m.arange(6), 3),
     RuntimeError, "torch.vsplit requires a tensor with at least 2 dimension, but got a tensor "
     "with 1 dimensions!"),
    ("vsplit div", lambda m: m.vsplit(m.ones(6, 2), 4),
     RuntimeError, "torch.vsplit attempted to split along dimension 0, but the size of the "
     "dimension 6 is not divisible by the split_size 4!"),
    ("dsplit 2d", lambda m: m.dsplit(m.ones(6, 2), 2),
     RuntimeError, "torch.dsplit requires a tensor with at least 3 dimension, but got a tensor "
     "with 2 dimensions!"),
    ("broadcast_shapes", lambda m: m.broadcast_shapes((3, 1), (4, 2)),
     RuntimeError, "Attempting to broadcast a dimension of length 4 at -2! Mismatching argument "
     "at index 1 had (4, 2); but expected shape should be broadcastable to [3, 2]"),
    ("broadcast_shapes neg", lambda m: m.broadcast_shapes((-1,), (2,)),
     ValueError, "Attempting to broadcast a dimension with negative length!"),
    ("broadcast_tensors", lambda m: m.broadcast_tensors(m.zeros(3), m.zeros(2)),
     RuntimeError, "The size of tensor a (3) must match the size of tensor b (2) at "
     "non-singleton dimension 0"),
    ("sum_to_size", lambda m: m.zeros(2, 3).sum_to_size(4, 3),
     RuntimeError, "size {[4, 3]} is not expandable to size {[2, 3]}."),
    ("sum_to_size long", lambda m: m.zeros(2, 3).sum_to_size(1, 2, 3),
     RuntimeError, "size {[1, 2, 3]} is not expandable to size {[2, 3]}."),
    ("pixel_shuffle div", lambda m: m.pixel_shuffle(m.zeros(2, 8, 3, 3), 3),
     RuntimeError, "pixel_shuffle expects its input's 'channel' dimension to be divisible by "
     "the square of upscale_factor, but input.size(-3)=8 is not divisible by 9"),
    ("pixel_shuffle 2d", lambda m: m.pixel_shuffle(m.zeros(8, 3), 2),
     RuntimeError, "pixel_shuffle expects input to have at least 3 dimensions, but got input "
     "with 2 dimension(s)"),
    ("pixel_shuffle 0", lambda m: m.pixel_shuffle(m.zeros(2, 8, 3, 3), 0),
     RuntimeError, "pixel_shuffle expects a positive upscale_factor, but got 0"),
    ("pixel_unshuffle h", lambda m: m.pixel_unshuffle(m.zeros(2, 8, 3, 4), 2),
     RuntimeError, "pixel_unshuffle expects height to be divisible by downscale_factor, but "
     "input.size(-2)=3 is not divisible by 2"),
    ("pixel_unshuffle w", lambda m: m.pixel_unshuffle(m.zeros(2, 8, 4, 3), 2),
     RuntimeError, "pixel_unshuffle expects width to be divisible by downscale_factor, but "
     "input.size(-1)=3 is not divisible by 2"),
    ("channel_shuffle div", lambda m: m.channel_shuffle(m.zeros(2, 8, 3), 3),
     RuntimeError, "Number of channels must be divisible by groups. Got 8 channels and 3 groups."),
    ("channel_shuffle 0", lambda m: m.channel_shuffle(m.zeros(2, 8, 3), 0),
     RuntimeError, "Number of groups to divide channels in must be positive. Value of groups:0"),
    ("channel_shuffle 2d", lambda m: m.channel_shuffle(m.zeros(2, 8), 2),
     RuntimeError, "channel_shuffle expects input with > 2 dims, but got input with sizes [2, 8]"),
    ("unflatten", lambda m: m.zeros(6).unflatten(0, (4, -1)),
     RuntimeError, "unflatten: Provided sizes [4, -1] don't multiply up to the size of dim 0 "
     "(6) in the input tensor"),
    ("unflatten empty", lambda m: m.zeros(6).unflatten(0, ()),
     RuntimeError, "unflatten: sizes must be non-empty"),
    ("split_with_sizes", lambda m: m.split_with_sizes(m.zeros(6), [2, 3]),
     RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 6 (input tensor's "
     "size at dimension 0), but got split_sizes=[2, 3]"),
    ("narrow start", lambda m: m.narrow(m.zeros(3, 1), 0, 4, 0),
     IndexError, "start out of range (expected to be in range of [-3, 3], but got 4)"),
    ("narrow start neg", lambda m: m.narrow(m.zeros(3, 1), 0, -4, 0),
     IndexError, "start out of range (expected to be in range of [-3, 3], but got -4)"),
    ("narrow length", lambda m: m.narrow(m.zeros(3, 1), 0, 0, -1),
     RuntimeError, "narrow(): length must be non-negative."),
    ("narrow 0d", lambda m: m.narrow(m.tensor(1.), 0, 0, 1),
     RuntimeError, "narrow() cannot be applied to a 0-dim tensor."),
    ("chunk 0d", lambda m: m.chunk(m.tensor(1.), 1),
     RuntimeError, "chunk expects at least a 1-dimensional tensor"),
    ("t_ 3d", lambda m: m.zeros(2, 3, 4).t_(),
     RuntimeError, "t_() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("t_ leaf", lambda m: m.zeros(2, 3, requires_grad=True).t_(),
     RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."),
    ("squeeze_ leaf", lambda m: m.zeros(2, 1, requires_grad=True).squeeze_(),
     RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."),
    ("resize_ grad", lambda m: m.zeros(2, 3, requires_grad=True).resize_(2),
     RuntimeError, "cannot resize variables that require grad"),
    ("empty_strided", lambda m: m.empty_strided((2, 3), (1,)),
     RuntimeError, "dimensionality of sizes (2) must match dimensionality of strides (1)"),
    ("empty_permuted", lambda m: m.empty_permuted((2, 3, 4), (2, 0)),
     RuntimeError, "Number of dimensions in size does not match the length of the "
     "physical_layout; i.e. len(size) = 3 is not equal to len(physical_layout) = 2"),
]


@pytest.mark.parametrize("program, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_match_torch(program, exc, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            program(cr)
    assert message in str(info.value)
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(exc) as tinfo:
                program(torch)
        assert message in str(tinfo.value)


# --- meshgrid's warning ---------------------------------------------------------------------

def test_meshgrid_warns_without_indexing_and_defaults_to_ij():
    a, b = cr.arange(3), cr.arange(2)
    with pytest.warns(UserWarning, match="torch.meshgrid: in an upcoming release, it will be "
                                         "required to pass the indexing argument."):
        x, y = cr.meshgrid(a, b)
    assert x.shape == (3, 2) and x.tolist() == [[0, 0], [1, 1], [2, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.meshgrid(a, b, indexing="ij")         # no warning when indexing is given
        cr.meshgrid(a, b, indexing="xy")


def test_meshgrid_outputs_are_views():
    a = cr.arange(3.)
    x, _ = cr.meshgrid(a, cr.arange(2.), indexing="ij")
    assert x._base is a


# --- views, copies and methods --------------------------------------------------------------

def test_views_share_storage_and_copies_do_not():
    x = cr.arange(12.).reshape(3, 4)
    for view in (cr.movedim(x, 0, 1), cr.tensor_split(x, 2, 1)[0], cr.hsplit(x, 2)[1],
                 cr.ravel(x), x.unflatten(1, (2, 2)),
                 cr.broadcast_tensors(x, cr.zeros(2, 1, 1))[0],
                 x.swapdims(0, 1), cr.diagonal(x, 1), x.unfold(1, 2, 1)):
        assert np.shares_memory(view.numpy(), x.numpy())
    copies = [cr.alias_copy(x), cr.permute_copy(x, (1, 0)), cr.t_copy(x), cr.view_copy(x, 12),
              cr.slice_copy(x, 0, 0, 2), cr.squeeze_copy(x), cr.unsqueeze_copy(x, 0),
              cr.expand_copy(x, (2, 3, 4)), cr.transpose_copy(x, 0, 1), cr.diagonal_copy(x),
              cr.unfold_copy(x, 1, 2, 2), *cr.split_copy(x, 2), *cr.unbind_copy(x),
              *cr.split_with_sizes_copy(x, [1, 2]), cr.diag(x)]
    for c in copies:
        assert not np.shares_memory(c.numpy(), x.numpy())
        assert c._base is None
    # the copies stay in the graph
    a = cr.arange(6., requires_grad=True)
    cr.view_copy(a, (2, 3)).sum().backward()
    assert a.grad.tolist() == [1.0] * 6
    assert cr.alias_copy(a).grad_fn is not None


METHODS = [
    ("diag", (1,)), ("diagonal", (0, 1, 0)), ("diag_embed", ()), ("diagflat", ()), ("trace", ()),
    ("roll", (1, 0)), ("rot90", (1, (1, 0))), ("fliplr", ()), ("flipud", ()),
    ("repeat_interleave", (2,)), ("tile", ((2, 1),)), ("movedim", (0, 1)), ("moveaxis", (1, 0)),
    ("tensor_split", (2,)), ("hsplit", (2,)), ("vsplit", ([1],)), ("split_with_sizes", ([1, 2],)),
    ("unsafe_split", (2,)), ("unsafe_chunk", (2,)), ("unsafe_split_with_sizes", ([2, 1],)),
    ("ravel", ()), ("broadcast_to", ((2, 3, 4),)), ("unflatten", (1, (2, 2))),
]


@pytest.mark.parametrize("name, args", METHODS, ids=[m[0] for m in METHODS])
def test_methods_match_functions(name, args):
    x = cr.tensor(X)
    method = getattr(x, name)(*args)
    function = getattr(cr, name)(x, *args)
    for a, b in zip(method if isinstance(method, tuple) else [method],
                    function if isinstance(function, tuple) else [function]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if torch is not None:
        assert hasattr(torch.Tensor, name) and hasattr(torch, name)


def test_tensor_only_methods():
    x = cr.tensor(Y)
    np.testing.assert_array_equal(x.unfold(2, 2, 2).numpy(),
                                  Y.reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(x.sum_to_size(3, 1).numpy(), Y.sum((0, 2))[:, None])
    np.testing.assert_array_equal(x.dsplit(2)[1].numpy(), Y[..., 2:])
    e = x.new_empty_strided((2, 3), (3, 1))
    assert e.shape == (2, 3) and e.dtype == x.dtype
    assert cr.empty_strided((2, 3), (1, 2), dtype=cr.int64).dtype == cr.int64
    assert cr.empty_permuted((2, 3, 4), (2, 0, 1)).shape == (2, 3, 4)


# --- in-place changes of shape --------------------------------------------------------------

INPLACE = [
    ("squeeze_", (), (3, 4), lambda a: a.reshape(3, 4)),
    ("squeeze_", (1,), (3, 4), lambda a: a.reshape(3, 4)),
    ("unsqueeze_", (0,), (1, 3, 1, 4), lambda a: a[None]),
    ("transpose_", (0, 2), (4, 1, 3), lambda a: a.transpose(2, 1, 0)),
    ("swapaxes_", (0, 2), (4, 1, 3), lambda a: a.transpose(2, 1, 0)),
    ("swapdims_", (2, 0), (4, 1, 3), lambda a: a.transpose(2, 1, 0)),
]


@pytest.mark.parametrize("name, args, shape, ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_in_place_shape_changes(name, args, shape, ref):
    a = np.arange(12.).reshape(3, 1, 4)
    x = cr.tensor(a)
    base = x._data
    v = x._version
    assert getattr(x, name)(*args) is x
    assert x.shape == shape and x._version == v + 1
    np.testing.assert_array_equal(x.numpy(), ref(a))
    assert np.shares_memory(x._data, base)
    # on a non-leaf the op is recorded: the gradient goes back through the new shape
    leaf = cr.tensor(a, requires_grad=True)
    y = leaf * 1.0
    getattr(y, name)(*args)
    w = np.random.default_rng(3).standard_normal(shape)
    (y * cr.tensor(w)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), _back(name, w))
    if torch is not None:
        tl = torch.tensor(a, requires_grad=True)
        ty = tl * 1.0
        getattr(ty, name)(*args)
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(leaf.grad.numpy(), tl.grad.numpy())


def _back(name, w):
    """The gradient of sum(y * w) w.r.t. the (3, 1, 4) input, by undoing the shape change."""
    if name in ("squeeze_", "unsqueeze_"):
        return w.reshape(3, 1, 4)
    return w.transpose(2, 1, 0)


def test_t_in_place_and_its_history():
    x = cr.arange(6.).reshape(2, 3)
    assert x.t_() is x and x.shape == (3, 2)
    assert x.tolist() == [[0., 3.], [1., 4.], [2., 5.]]
    one = cr.arange(3.)
    assert one.t_().shape == (3,)
    leaf = cr.ones(2, 3, requires_grad=True)
    y = leaf * 2.0
    y.t_()
    assert y.shape == (3, 2) and y.grad_fn is not None
    (y * cr.arange(6.).reshape(3, 2)).sum().backward()
    assert leaf.grad.tolist() == [[0., 4., 8.], [2., 6., 10.]]


def test_resize():
    x = cr.arange(6.)
    assert x.resize_(2, 2) is x and x.tolist() == [[0., 1.], [2., 3.]]
    x.resize_(3, 3)
    assert x.shape == (3, 3) and x.numpy().ravel()[:4].tolist() == [0., 1., 2., 3.]
    y = cr.arange(5.)
    assert cr.resize_as_(y, cr.zeros(2, 2)) is y and y.shape == (2, 2)
    assert y.resize_as_(cr.zeros(4)).tolist() == [0., 1., 2., 3.]
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        z = cr.arange(6.).resize(2, 3)
    assert z.shape == (2, 3)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        z = cr.arange(6.).resize_as(cr.zeros(3, 2))
    assert z.shape == (3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="autograd's resize can only change the shape"):
            cr.zeros(2).resize(2, 3)


# --- existing names that issue #12 asked to check against torch -----------------------------

def test_narrow_chunk_expand_as_view_as():
    x = cr.arange(12.).reshape(3, 4)
    assert cr.narrow(x, 0, -2, 2).tolist() == x[1:].tolist()
    assert cr.narrow(x, 1, cr.tensor(1), 2).tolist() == x[:, 1:3].tolist()
    assert cr.narrow(x, 0, 3, 0).shape == (0, 4)
    assert [c.shape for c in cr.chunk(cr.arange(6), 4)] == [(2,), (2,), (2,)]
    assert cr.zeros(3, 1).expand_as(cr.zeros(2, 3, 4)).shape == (2, 3, 4)
    assert cr.arange(6.).view_as(cr.zeros(2, 3)).shape == (2, 3)


def test_in_place_shape_change_of_a_view_of_a_tensor_that_requires_grad_is_refused():
    base = cr.ones(2, 1, 3, requires_grad=True) * 1.0
    view = base[0]
    with pytest.raises(RuntimeError, match=r"in-place operations \(squeeze_\) on a view"):
        view.squeeze_()
    with cr.no_grad():
        assert view.squeeze_().shape == (3,)


def test_grad_fn_names_of_the_ops_that_record_torchs():
    x = cr.ones(3, 4, requires_grad=True)
    names = {"DiagonalBackward0": cr.diagonal(x, 1), "RollBackward0": cr.roll(x, (1, 2), (0, 1)),
             "DiagEmbedBackward0": cr.diag(x[0])}
    for name, out in names.items():
        assert out.grad_fn.name() == name


def test_writes_into_a_diagonal_or_a_window_reach_the_input():
    a = cr.zeros(2, 3, 4)
    a.diagonal(1, 0, 2).fill_(5.)
    a.diagonal(-1, -1, -2).add_(1.)
    want = np.zeros((2, 3, 4))
    for i in range(2):
        want[i, :, i + 1] = 5.
    for i in range(3):      # offset -1 from dim1 = 2 to dim2 = 1: a[:, i, i + 1]
        want[:, i, i + 1] += 1.
    np.testing.assert_array_equal(a.numpy(), want)
    b = cr.arange(6.)
    windows = b.unfold(0, 3, 2)
    windows[1, 0] = -1.
    assert b.tolist() == [0., 1., -1., 3., 4., 5.]
    assert windows._base is b
    # the views' gradients are the gathers' (the data swap changes no rule)
    x = cr.tensor(X, requires_grad=True)
    (x.diagonal() * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.eye(3, 4))
    if torch is not None:
        t = torch.zeros(2, 3, 4)
        t.diagonal(1, 0, 2).fill_(5.)
        t.diagonal(-1, -1, -2).add_(1.)
        np.testing.assert_array_equal(a.numpy(), t.numpy())
