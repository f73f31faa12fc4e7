"""The functions that VJP rules may call, over plain arrays.

A rule in ``ops.py`` is written once, against a namespace ``F``.  During an ordinary backward pass
``F`` is ``ArrayF`` below and the rule works on NumPy arrays: no graph, no Tensor objects, NumPy's
own speed.  With ``create_graph=True`` ``F`` is ``functional.TensorF``, which has the same
functions over tensors, so the backward pass is itself recorded and can be differentiated again.
Python's operators (``+ - * / **`` and comparisons) work on both and need no entry here.
"""
from . import _backend as B
from ._backend import xp


class Scattered:
    """A sparse gradient: ``g`` at ``index`` of an array of ``shape``, zero elsewhere.

    What ``index``'s (and ``embedding``'s) VJP returns on arrays.  The engine's one delivery
    function adds it into the input's gradient buffer in place (``add_into``), so L slices of
    one tensor cost L slices, not L dense arrays; ``dense()`` is the array itself, for whoever
    needs to see it (the explainer, the culprit search)."""

    __slots__ = ("g", "shape", "index", "accumulate")

    def __init__(self, g, shape, index, accumulate):
        self.g = g
        self.shape = tuple(shape)
        self.index = index
        self.accumulate = accumulate

    @property
    def dtype(self):
        return self.g.dtype

    def add_into(self, buf):
        """``buf[index] += g``, repeated indices adding up when ``accumulate``."""
        if self.accumulate:
            B.add_at(buf, self.index, self.g)
        else:
            buf[self.index] += self.g

    def dense(self, dtype=None):
        out = xp.zeros(self.shape, dtype=dtype or self.g.dtype)
        if self.accumulate:
            B.add_at(out, self.index, self.g)
        else:
            out[self.index] = self.g
        return out


def dense(g):
    """A gradient as an array: ``Scattered`` values made dense, anything else as it is."""
    return g.dense() if type(g) is Scattered else g


class ArrayF:
    """``F`` for the fast path: every function takes and returns NumPy arrays."""

    exp = staticmethod(xp.exp)
    log = staticmethod(xp.log)
    sin = staticmethod(xp.sin)
    cos = staticmethod(xp.cos)
    sinh = staticmethod(xp.sinh)
    cosh = staticmethod(xp.cosh)
    tanh = staticmethod(xp.tanh)
    sqrt = staticmethod(xp.sqrt)
    abs = staticmethod(xp.abs)
    isnan = staticmethod(xp.isnan)
    @staticmethod
    def where(cond, a, b):
        """xp.where; where(cond, 0.0, g), the rules' usual mask (relu, clamp, max), is done as
        g·(not cond): NumPy's where branches per element and mispredicts on a random mask,
        about ten times slower than the multiply on a ReLU layer's gradient"""
        if type(a) is float and a == 0.0 and type(b) is xp.ndarray and \
                type(cond) is xp.ndarray and b.dtype.kind == "f" and \
                (cond.shape == b.shape or xp.broadcast_shapes(cond.shape, b.shape) == b.shape):
            # (a mask that broadcasts, as masked_fill's causal mask over the batch: the same)
            r = xp.multiply(b, xp.logical_not(cond), dtype=b.dtype)
            if xp.isfinite(r).all():        # else 0·inf made a NaN where where() gives 0
                return r
        return xp.where(cond, a, b)
    matmul = staticmethod(xp.matmul)

    @staticmethod
    def raw(a):
        """The plain array behind a value (for masks and shapes, which carry no gradient)."""
        return a

    @staticmethod
    def sign(a):
        """sign a, 0 at NaN: torch's sgn, so |x|' and the norms' rules give 0 there, not NaN"""
        return xp.where(a != a, 0, xp.sign(a)).astype(a.dtype, copy=False)

    @staticmethod
    def zeros_like(a):
        return xp.zeros_like(a)

    @staticmethod
    def reshape(a, shape):
        return xp.reshape(a, shape)

    @staticmethod
    def expand(a, shape):
        return xp.broadcast_to(a, shape)

    @staticmethod
    def sum(a, dims, keepdim):
        if a.dtype == xp.float16:       # accumulated in float32, as the forward reductions
            return xp.asarray(xp.sum(a, axis=dims, keepdims=keepdim, dtype=xp.float32),
                              dtype=xp.float16)
        if type(a) is xp.ndarray:       # (np.sum's own reduction, without its Python wrapper)
            return a.sum(axis=dims, keepdims=keepdim)
        return xp.sum(a, axis=dims, keepdims=keepdim)

    sum_to = staticmethod(B.sum_to)

    @staticmethod
    def swapaxes(a, d0, d1):
        return xp.swapaxes(a, d0, d1)

    @staticmethod
    def permute(a, axes):
        return xp.transpose(a, axes)

    @staticmethod
    def flip(a, dims):
        return xp.flip(a, dims)

    @staticmethod
    def unsqueeze(a, d):
        return xp.expand_dims(a, d)

    @staticmethod
    def squeeze(a, d):
        return xp.squeeze(a, d)

    @staticmethod
    def getitem(a, index):
        return a[index]

    @staticmethod
    def index_scatter(g, shape, index, accumulate):
        """Adjoint of ``a[index]``: zeros of ``shape`` with ``g`` added at ``index``, kept as
        a ``Scattered`` value that the engine adds into a gradient buffer in place."""
        return Scattered(g, shape, index, accumulate)

    @staticmethod
    def cast(a, like):
        return a.astype(like.dtype, copy=False)

    @staticmethod
    def apply(op, inputs, params):
        """Primitive ``op`` on ``inputs`` (a rule whose gradient is another primitive, as a
        convolution's is a convolution, calls it this way so that it records under TensorF)"""
        return op.forward(*inputs, **params)
