"""Linear algebra with PyTorch's names: ``matmul`` (``@``), ``mm``, ``bmm``, ``dot``, ``outer``,
``einsum``, ``addmm`` and its kin, ``kron``, ``tensordot``, distances, and torch.linalg's functions
(``chainrule.linalg`` gives them torch.linalg's names; docs/ops-linalg.md lists them)."""
import builtins
import collections

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..ops.linalg import LinAlgError, lu_pivots, permutation_from_pivots  # noqa: F401
from ..tensor import Tensor, apply, wrap
from ._args import reduce_dims, tensor_arg
from .elementwise import abs, add, div, mul, sub, where
from .reductions import amax, amin, sum
from .shape import expand, getitem, permute, reshape, stack, transpose, unsqueeze


# =========================================================================================
# Linear algebra
# =========================================================================================

def matmul(input, other):
    """input @ other: dot, matrix-vector, matrix-matrix or batched (batch dims broadcast)"""
    x, y = tensor_arg(input), tensor_arg(other)
    xs, ys = x._data.shape, y._data.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ys)}D")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{D.CPP_NAMES.get(x._data.dtype.name, x._data.dtype.name)} != "
            f"{D.CPP_NAMES.get(y._data.dtype.name, y._data.dtype.name)} "
            f"(matmul of {D.of(x._data)} and {D.of(y._data)}: convert one with .to(dtype))")
    k1 = xs[-1]
    k2 = ys[0] if len(ys) == 1 else ys[-2]
    if k1 != k2:
        if len(xs) == 1 and len(ys) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src "
                               f"[{ys[0]}] to have the same number of elements, but got {xs[0]} "
                               f"and {ys[0]} elements respectively")
        a = "x".join(map(str, (xs[-2] if len(xs) > 1 else 1, k1)))
        b = "x".join(map(str, (k2, ys[-1] if len(ys) > 1 else 1)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and {b}) in matmul "
                           f"of shapes {list(xs)} and {list(ys)}: the last dim of the first must "
                           "equal the second-to-last of the second")
    bx, by = xs[:-2], ys[:-2]
    for i in range(1, builtins.min(len(bx), len(by)) + 1):
        if bx[-i] != by[-i] and bx[-i] != 1 and by[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({bx[-i]}) must match the size of tensor b "
                               f"({by[-i]}) at non-singleton dimension "
                               f"{builtins.max(len(bx), len(by)) - i}")
    name = ops.matmul_name(x._data, y._data)
    if len(xs) > 2 or len(ys) > 2:
        name = "BmmBackward0" if len(xs) == 3 and len(ys) == 3 else "UnsafeViewBackward0"
    return apply(ops.matmul, (x, y), name=name)


def mm(input, mat2):
    """Matrix product of two 2-d tensors"""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-d, got {input.ndim}-d and "
                           f"{mat2.ndim}-d; use matmul (@) for other shapes")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size"""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (bmm got {input.ndim}-d and "
                           f"{mat2.ndim}-d)")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def dot(input, other):
    """Inner product of two 1-d tensors"""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return matmul(input, other)


def inner(input, other):
    """out = Σ over the last dim of input·other (all pairs of the other dims); a 0-d operand
    multiplies"""
    a, b = tensor_arg(input, "inner"), tensor_arg(other, "inner")
    if a._data.ndim == 0 or b._data.ndim == 0:
        return mul(a, b)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a._data.shape)} and {list(b._data.shape)}")
    if a._data.ndim == 1 and b._data.ndim == 1:
        return dot(a, b)
    return tensordot(a, b, ([-1], [-1]))


def outer(input, vec2):
    """out[i, j] = input[i] · vec2[j]"""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-d tensors, got {input.ndim}-d and {vec2.ndim}-d")
    return mul(unsqueeze(input, 1), vec2)


ger = outer



# =========================================================================================
# issue #12: einsum, products with scaling (addmm, ...), kron, tensordot, distances, and
# torch.linalg (chainrule.linalg re-exports these under torch.linalg's names)
# =========================================================================================

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _return_type(name, fields):
    """torch.return_types.<name>: a named tuple of tensors"""
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"chainrule.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    cls.__module__ = "chainrule.return_types"
    return cls


def _mT(x):
    return transpose(x, -2, -1)


def _matrices(A, op, name="A"):
    """A batch of matrices: at least 2-d (torch's message otherwise)"""
    A = tensor_arg(A, op)
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    return A


def _square(A, op, name="A"):
    A = _matrices(A, op, name)
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are {m} by "
                           f"{n} matrices")
    return A


_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _type_name(dt):
    return _TYPE_NAMES.get(dt.name, dt.name)


def _floating(A, op, int_kernel=None, half_kernel=None):
    """torch.linalg takes float32 and float64 (and complex) only; some ops refuse other dtypes
    from inside their CPU kernel, with NotImplementedError naming it"""
    dt = A._data.dtype
    name = _type_name(dt)
    kernel = int_kernel if dt.kind != "f" else half_kernel if dt == xp.float16 else None
    if kernel is not None:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')
    if dt.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{D.SCALAR_NAMES.get(dt.name, dt.name)}")
    if dt == xp.float16:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    return A


def _same_dtype(A, B, op):
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{D.SCALAR_NAMES.get(A._data.dtype.name)} and B of type "
                           f"{D.SCALAR_NAMES.get(B._data.dtype.name)} instead.")


def _constant_in_graph(value, like):
    """``value`` (an array) as an output in ``like``'s graph with a zero gradient, as torch's
    outputs that depend on an input only through a constant (slogdet's sign, A⁰)"""
    v = wrap(xp.asarray(value, dtype=like._data.dtype))
    if not like.requires_grad:
        return v
    return where(wrap(xp.ones(v._data.shape, dtype=bool)), v,
                 like if tuple(like._data.shape) == tuple(v._data.shape) else
                 expand(like, tuple(v._data.shape)))


# --- einsum --------------------------------------------------------------------------------

def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) as a string equation"""
    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
    ops_, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(args) % 2 == 1:
        out = letters(args[-1])
        ops_ = ops_[:-1]
    eq = ",".join(letters(s) for s in subs)
    return (eq + "->" + out if out is not None else eq), ops_


def einsum(*args):
    """out = Σ over the subscripts missing from the output of Π operands (Einstein notation):
    einsum('ij,jk->ik', a, b) is a @ b; '...' stands for the leading dims (broadcast)"""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, "
                        "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    operands = [tensor_arg(o, "einsum") for o in operands]
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    if builtins.any(o._data.dtype != operands[0]._data.dtype for o in operands):
        names = [D.SCALAR_NAMES.get(o._data.dtype.name) for o in operands]
        raise RuntimeError(f"expected scalar type {names[0]} but found "
                           f"{next(n for n in names if n != names[0])} (einsum's operands must "
                           "share a dtype: convert them with .to(dtype))")
    # the letters '...' stands for, the same in every operand (right-aligned, broadcast)
    used = set(equation) - set(".,->")
    spare = (c for c in _LETTERS if c not in used)
    n_ell = 0
    for t, o in zip(terms, operands):
        if "..." in t:
            n_ell = builtins.max(n_ell, o._data.ndim - (len(t) - 3))
    ell = "".join(next(spare) for _ in range(n_ell))
    size = {}
    explicit = []
    for k, (t, o) in enumerate(zip(terms, operands)):
        nd = o._data.ndim
        if "." in t.replace("...", "", 1):
            raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any "
                               "ellipsis")
        if "..." in t:
            mine = nd - (len(t) - 3)
            if mine < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions ({nd}) "
                                   f"for operand {k}")
            t = t.replace("...", ell[n_ell - mine:])
        elif len(t) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({nd}) for operand {k} "
                               "and no ellipsis was given")
        for c in t:
            if c not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index(c)} "
                                   "in the equation string, subscripts must be in [a-zA-Z]")
        explicit.append(t)
        for c, s in zip(t, o._data.shape):
            if c in size and size[c] != s and s != 1 and size[c] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {k} which "
                                   f"does not broadcast with previously seen size {size[c]}")
            size[c] = builtins.max(size.get(c, s), s) if s != 1 or c not in size else size[c]
    if arrow:
        seen_in = set("".join(terms)) - set(".")
        for c in rhs.replace("...", ""):
            if rhs.replace("...", "").count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in seen_in:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    # size-1 dims broadcast against the others (expand records, so gradients sum back)
    ts = []
    for t, o in zip(explicit, operands):
        want = tuple(size[c] for c in t)
        ts.append(o if tuple(o._data.shape) == want else expand(o, want))
    if len(ts) == 1:
        one = xp.ones((), dtype=ts[0]._data.dtype)
        return apply(ops.einsum, (ts[0], one), {"equation": f"{explicit[0]},->{out}"})
    # left to right, each step keeping the letters still needed later
    acc, acc_t = ts[0], explicit[0]
    for k in range(1, len(ts)):
        later = set(out).union(*explicit[k + 1:]) if k + 1 < len(ts) else set(out)
        seen = acc_t + explicit[k]
        keep = out if k + 1 == len(ts) else "".join(dict.fromkeys(c for c in seen if c in later))
        acc = apply(ops.einsum, (acc, ts[k]), {"equation": f"{acc_t},{explicit[k]}->{keep}"})
        acc_t = keep
    return acc


# --- products with scaling -----------------------------------------------------------------

def _scaled(input, product, beta, alpha):
    """beta·input + alpha·product; beta = 0 ignores input (its NaNs too), as torch"""
    dt = product.dtype
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return product.to(dt)
    x = tensor_arg(input)
    if tuple(x.shape) != tuple(product.shape):
        x = expand(x, tuple(product.shape))       # input broadcasts to the product, as torch
    out = add(x if beta == 1 else mul(x, beta), product)
    return out if out.dtype == dt else out.to(dt)   # integer tensors stay integer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """out = beta·input + alpha·(mat1 @ mat2)"""
    return _scaled(input, mm(mat1, mat2), beta, alpha)


def _check_batches(op, batch1, batch2):
    b1, b2 = tensor_arg(batch1, op), tensor_arg(batch2, op)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if b1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    want = [b1.shape[0], b1.shape[2]]
    if list(b2.shape[:2]) != want:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"{want} but got: {list(b2.shape[:2])}.")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """out = beta·input + alpha·Σᵢ batch1[i] @ batch2[i]"""
    _check_batches("addbmm", batch1, batch2)
    return _scaled(input, sum(bmm(batch1, batch2), 0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """out = beta·input + alpha·(batch1 @ batch2), batch by batch"""
    _check_batches("baddbmm", batch1, batch2)
    return _scaled(input, bmm(batch1, batch2), beta, alpha)


def mv(input, vec):
    """out = input @ vec, a matrix times a vector"""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {input.ndim}, "
                           f"{vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return matmul(input, vec)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """out = beta·input + alpha·(mat @ vec)"""
    return _scaled(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """out = beta·input + alpha·(vec1 ⊗ vec2)"""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if tensor_arg(v, "addr").ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    return _scaled(input, outer(vec1, vec2), beta, alpha)


def vdot(input, other):
    """out = Σ input·other of two 1-d tensors"""
    return dot(input, other)


def kron(input, other):
    """out[i·p + k, j·q + l] = input[i, j]·other[k, l] (the Kronecker product; any ndim)"""
    a, b = tensor_arg(input, "kron"), tensor_arg(other, "kron")
    nd = builtins.max(a._data.ndim, b._data.ndim)
    a = reshape(a, (1,) * (nd - a._data.ndim) + tuple(a._data.shape))
    b = reshape(b, (1,) * (nd - b._data.ndim) + tuple(b._data.shape))
    sa, sb = a._data.shape, b._data.shape
    # interleave: a's dims at even places, b's at odd, then merge each pair
    ai = reshape(a, tuple(s for d in sa for s in (d, 1)))
    bi = reshape(b, tuple(s for d in sb for s in (1, d)))
    return reshape(mul(ai, bi), tuple(x * y for x, y in zip(sa, sb)))


def tensordot(a, b, dims=2, out=None):
    """Σ over dims of a (the last ones) and b (the first ones) of a·b"""
    a, b = tensor_arg(a, "tensordot"), tensor_arg(b, "tensordot")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a._data.ndim - dims, a._data.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % a._data.ndim for d in da]
    db = [d % b._data.ndim for d in db]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y] and 1 not in (a._data.shape[x],
                                                                  b._data.shape[y]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {x} and second has size "
                               f"{b._data.shape[y]} in dim {y}")
    la = [_LETTERS[i] for i in range(a._data.ndim)]
    lb = [_LETTERS[26 + i] for i in range(b._data.ndim)]
    for x, y in zip(da, db):
        lb[y] = la[x]
    res = [c for i, c in enumerate(la) if i not in da] + [c for i, c in enumerate(lb)
                                                          if i not in db]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(res)}", a, b)


def chain_matmul(*matrices):
    """out = M₁ @ M₂ @ ... (2-d matrices; deprecated in torch for linalg.multi_dot)"""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = matrices[0]
    return multi_dot(list(matrices))


# --- distances -----------------------------------------------------------------------------

def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """out[..., i, j] = ‖x1[..., i, :] - x2[..., j, :]‖_p"""
    x1, x2 = tensor_arg(x1, "cdist"), tensor_arg(x2, "cdist")
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: "
                           f"{x1._data.ndim}D" if x1._data.ndim < 2 else
                           f"cdist only supports at least 2D tensors, X2 got: {x2._data.ndim}D")
    for k, t in ((1, x1), (2, x2)):
        dt = t._data.dtype
        if dt.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, X{k} got: "
                               f"{D.SCALAR_NAMES.get(dt.name, dt.name)}")
        if dt == xp.float16:
            raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values")
    diff = sub(x1.unsqueeze(-2), x2.unsqueeze(-3))
    return vector_norm(diff, p, -1)


def dist(input, other, p=2):
    """out = ‖input - other‖_p over all elements (broadcast)"""
    return vector_norm(sub(input, other), p)


def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) input, i < j, flattened"""
    x = tensor_arg(input, "pdist")
    if x._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x._data.ndim}D")
    n = x._data.shape[0]
    i, j = xp.triu_indices(n, 1)
    return vector_norm(sub(getitem(x, i), getitem(x, j)), p, -1)


# --- torch.linalg: norms -------------------------------------------------------------------

def _dims_arg(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """out = (Σ |x|^ord)^(1/ord) over dim (all of x by default); ord ±inf: max/min |x|, 0: count"""
    x = tensor_arg(x, "linalg.vector_norm")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {D.SCALAR_NAMES.get(x._data.dtype.name)}")
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = reduce_dims(_dims_arg(dim), x._data.ndim)
    if x._data.size == 0 and ord < 0 or x._data.size == 0 and ord == float("inf") and (
            dims is None or builtins.any(x._data.shape[d] == 0 for d in dims)):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           "tensor because the operation does not have an identity")
    return apply(ops.norm, (x,), {"p": float(ord), "dims": dims, "keepdim": keepdim})


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of A over its two dims: 'fro' (√Σa²), 'nuc' (Σσ), ±2 (max/min σ),
    ±1 (max/min column sum of |a|), ±inf (max/min row sum of |a|)"""
    A = _matrices(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    _floating(A, "linalg.matrix_norm")
    nd = A._data.ndim
    d0, d1 = (d % nd for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        B = permute(A, tuple(d for d in range(nd) if d not in (d0, d1)) + (d0, d1))
        s = svdvals(B)
        r = sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            r = r.unsqueeze(builtins.min(d0, d1)).unsqueeze(builtins.max(d0, d1))
        return r
    if ord in (1, -1, float("inf"), float("-inf")):
        inner_, outer_ = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = sum(abs(A), inner_, True)
        r = (amax if ord > 0 else amin)(s, outer_, True)
        return r if keepdim else r.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (dim an int, or a 1-d input) or a matrix norm (dim two ints, or a 2-d
    input); ord=None: 2-norm of the flattened input, Frobenius for matrices"""
    A = tensor_arg(A, "linalg.norm")
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    if isinstance(ord, str) or (dim is not None and not isinstance(dim, int) and len(dim) == 2) \
            or (dim is None and ord is not None and A._data.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                           keepdim, dtype=dtype)
    if dim is None and ord is not None and A._data.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A._data.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def nuclear_norm(input, dim=None, keepdim=False):
    """out = Σ singular values of the matrix (matrices over dim)"""
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    """out = √Σ input² over dim"""
    return vector_norm(input, 2, dim, keepdim)


# --- torch.linalg: inverses, determinants, solves --------------------------------------------

def inv(A):
    """out = A⁻¹ (batches of square matrices)"""
    A = _floating(_square(A, "linalg.inv"), "linalg.inv")
    return apply(ops.linalg_inv, (A,))


def inverse(input):
    """out = input⁻¹ (torch.inverse: linalg.inv)"""
    return inv(input)


_inv_ex_result = _return_type("linalg_inv_ex", ["inverse", "info"])


def _info_of(A):
    return lu_pivots(A._data)[2] if A._data.size else xp.zeros(A._data.shape[:-2], xp.int32)


def inv_ex(A, *, check_errors=False):
    """(A⁻¹, info): info ≠ 0 where a matrix is singular (its inverse NaN), no error unless
    check_errors"""
    A = _floating(_square(A, "linalg.inv_ex"), "linalg.inv")
    info = _info_of(A)
    bad = info != 0
    if not bad.any():
        return _inv_ex_result(apply(ops.linalg_inv, (A,)), wrap(info))
    if check_errors:
        return _inv_ex_result(inv(A), wrap(info))
    n = A._data.shape[-1]
    mask = wrap(bad[..., None, None])
    safe = where(mask, wrap(xp.eye(n, dtype=A._data.dtype)), A)
    return _inv_ex_result(where(mask, float("nan"), apply(ops.linalg_inv, (safe,))), wrap(info))


def det(A):
    """out = det A"""
    A = _floating(_square(A, "linalg.det"), "linalg.det", None, "lu_cpu")
    return apply(ops.linalg_det, (A,))


_slogdet_result = _return_type("linalg_slogdet", ["sign", "logabsdet"])
_torch_slogdet_result = _return_type("slogdet", ["sign", "logabsdet"])


def slogdet(A):
    """(sign, log|det A|): det A = sign·exp(logabsdet), without overflow"""
    A = _floating(_square(A, "linalg.slogdet"), "linalg.slogdet")
    sign = xp.asarray(xp.linalg.slogdet(A._data)[0])
    logabsdet = apply(ops.linalg_logabsdet, (A,))
    return _slogdet_result(_constant_in_graph(sign, logabsdet), logabsdet)


def torch_slogdet(input):
    """torch.slogdet: linalg.slogdet as the named tuple torch.return_types.slogdet"""
    return _torch_slogdet_result(*slogdet(input))


def logdet(input):
    """out = log det input (NaN for a negative determinant, -inf for zero)"""
    s, la = slogdet(input)
    return where(s < 0, float("nan"), la)


def _solve_shapes(A, B, op, left=True):
    """B a batch of vectors (as torch decides) or matrices: returns (B as matrices, vector?)"""
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and
                                   tuple(B._data.shape) == tuple(A._data.shape[:-1]))
    if vector:
        Bm = B.unsqueeze(-1)
    else:
        Bm = B
    rows = Bm._data.shape[-2] if left else Bm._data.shape[-1]
    if rows != n:
        s = Bm._data.shape
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {s[-2]}x{s[-1]})")
    return Bm, vector


def solve(A, B, *, left=True):
    """out = X with A X = B (X A = B if not left); B a batch of matrices or of vectors"""
    A = _floating(_square(A, "linalg.solve"), "linalg.solve", None, "lu_cpu")
    B = tensor_arg(B, "linalg.solve")
    _same_dtype(A, B, "linalg.solve")
    Bm, vector = _solve_shapes(A, B, "linalg.solve", left)
    if not left:
        return _mT(solve(_mT(A), _mT(Bm)))
    nb = xp.broadcast_shapes(A._data.shape[:-2], Bm._data.shape[:-2])
    An = A if tuple(A._data.shape[:-2]) == nb else expand(A, nb + tuple(A._data.shape[-2:]))
    Bn = Bm if tuple(Bm._data.shape[:-2]) == nb else expand(Bm, nb + tuple(Bm._data.shape[-2:]))
    out = apply(ops.linalg_solve, (An, Bn))
    return out.squeeze(-1) if vector else out


_solve_ex_result = _return_type("linalg_solve_ex", ["result", "info"])


def solve_ex(A, B, *, left=True, check_errors=False):
    """(X, info): solve without an error for a singular A (info ≠ 0 there)"""
    A = _floating(_square(A, "linalg.solve_ex"), "linalg.solve_ex")
    info = _info_of(A)
    if not (info != 0).any() or check_errors:
        return _solve_ex_result(solve(A, B, left=left), wrap(info))
    bad = wrap((info != 0)[..., None, None])
    safe = where(bad, wrap(xp.eye(A._data.shape[-1], dtype=A._data.dtype)), A)
    x = solve(safe, B, left=left)
    return _solve_ex_result(where(bad if x.ndim == A.ndim else bad.squeeze(-1), float("nan"), x),
                            wrap(info))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """out = X with A X = B (X A = B if not left), A triangular: only its triangle is read"""
    A = _floating(_matrices(A, "linalg.solve_triangular"), "linalg.solve_triangular",
                  "triangular_solve_cpu", "triangular_solve_cpu")
    B = _matrices(tensor_arg(B, "linalg.solve_triangular"), "linalg.solve_triangular", "B")
    _same_dtype(A, B, "linalg.solve_triangular")
    _square(A, "linalg.solve_triangular")
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper, left=True,
                                    unitriangular=unitriangular))
    n = A._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {B._data.shape[-2]}x"
                           f"{B._data.shape[-1]})")
    return apply(ops.linalg_solve_triangular, (A, B),
                 {"upper": bool(upper), "unitriangular": bool(unitriangular)})


_triangular_solve_result = _return_type("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """(X, A.clone()) with A X = b (Aᵀ X = b if transpose); torch.triangular_solve"""
    A = tensor_arg(A, "triangular_solve")
    At = _mT(A) if transpose else A
    x = solve_triangular(At, b, upper=upper != bool(transpose), unitriangular=unitriangular)
    return _triangular_solve_result(x, A.clone())


# --- torch.linalg: factorizations -------------------------------------------------------------

def cholesky(A, *, upper=False):
    """L lower triangular with A = L Lᵀ (Lᵀ if upper), A symmetric positive-definite"""
    A = _floating(_square(A, "linalg.cholesky"), "linalg.cholesky", None, "cholesky_cpu")
    L = apply(ops.linalg_cholesky, (A,))
    return _mT(L) if upper else L


def torch_cholesky(input, upper=False):
    """torch.cholesky(input, upper=False): linalg.cholesky"""
    return cholesky(input, upper=upper)


_cholesky_ex_result = _return_type("linalg_cholesky_ex", ["L", "info"])


def _cholesky_info(a):
    """torch's info: the order of the first leading minor that is not positive-definite"""
    n = a.shape[-1]
    if a.size == 0:
        return xp.zeros(a.shape[:-2], dtype=xp.int32)
    flat = a.reshape((-1, n, n))
    info = xp.zeros(flat.shape[0], dtype=xp.int32)
    for b in range(flat.shape[0]):
        try:
            xp.linalg.cholesky(flat[b])
        except xp.linalg.LinAlgError:
            for k in range(1, n + 1):
                try:
                    xp.linalg.cholesky(flat[b, :k, :k])
                except xp.linalg.LinAlgError:
                    info[b] = k
                    break
    return info.reshape(a.shape[:-2])


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): cholesky without an error where A is not positive-definite (info > 0 there:
    the order of the failing leading minor; L is NaN there)"""
    A = _floating(_square(A, "linalg.cholesky_ex"), "linalg.cholesky_ex")
    info = _cholesky_info(A._data)
    if not (info != 0).any() or check_errors:
        return _cholesky_ex_result(cholesky(A, upper=upper), wrap(info))
    bad = wrap((info != 0)[..., None, None])
    safe = where(bad, wrap(xp.eye(A._data.shape[-1], dtype=A._data.dtype)), A)
    return _cholesky_ex_result(where(bad, float("nan"), cholesky(safe, upper=upper)), wrap(info))


def cholesky_solve(B, L, upper=False):
    """out = X with (L Lᵀ) X = B, from A's Cholesky factor L (Lᵀ L if upper)"""
    L = _matrices(tensor_arg(L, "cholesky_solve"), "cholesky_solve", "input2")
    n = L._data.shape[-1]
    keep = xp.triu(xp.ones((n, n), bool)) if upper else xp.tril(xp.ones((n, n), bool))
    # the triangle's values, but every entry's gradient, as torch's cholesky_solve_backward
    # (it differentiates (L Lᵀ)⁻¹ B in all of L): L plus a detached correction
    T = add(L, where(wrap(keep), 0.0, L).detach() * -1) if L.requires_grad else \
        where(wrap(keep), L, 0.0)
    A = matmul(_mT(T), T) if upper else matmul(T, _mT(T))
    return solve(A, B)


def cholesky_inverse(L, upper=False):
    """out = (L Lᵀ)⁻¹ (or (Lᵀ L)⁻¹ if upper), from the Cholesky factor L"""
    L = _matrices(L, "cholesky_inverse", "input")
    eye = wrap(xp.broadcast_to(xp.eye(L._data.shape[-1], dtype=L._data.dtype),
                               L._data.shape).copy())
    return cholesky_solve(eye, L, upper)


_qr_result = _return_type("linalg_qr", ["Q", "R"])
_torch_qr_result = _return_type("qr", ["Q", "R"])


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q's columns orthonormal, R upper triangular; mode 'reduced'
    (k = min(m, n) columns), 'complete' (Q square) or 'r' (R only, Q empty)"""
    A = _floating(_matrices(A, "linalg.qr"), "linalg.qr", None, "geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    R = apply(ops.linalg_qr_r, (A,), {"mode": mode})
    if mode == "r":
        return _qr_result(wrap(xp.zeros((0,), dtype=A._data.dtype)), R)
    return _qr_result(apply(ops.linalg_qr_q, (A,), {"mode": mode}), R)


def torch_qr(input, some=True):
    """torch.qr(input, some=True): linalg.qr with mode 'reduced' (some) or 'complete'"""
    return _torch_qr_result(*qr(input, "reduced" if some else "complete"))


_eigh_result = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])


def _uplo(UPLO):
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError("Expected UPLO argument to be 'L' or 'U', but got " + str(UPLO))
    return UPLO.upper()


def eigh(A, UPLO="L"):
    """(λ, V) with A = V diag(λ) Vᵀ, λ ascending, A symmetric (only one triangle is read)"""
    A = _floating(_square(A, "linalg.eigh"), "linalg.eigh", "linalg_eigh_cpu", "linalg_eigh_cpu")
    u = _uplo(UPLO)
    return _eigh_result(apply(ops.linalg_eigvalsh, (A,), {"uplo": u}),
                        apply(ops.linalg_eigvecsh, (A,), {"uplo": u}))


def eigvalsh(A, UPLO="L"):
    """λ, the ascending eigenvalues of the symmetric A"""
    A = _floating(_square(A, "linalg.eigvalsh"), "linalg.eigvalsh", "linalg_eigh_cpu",
                  "linalg_eigh_cpu")
    return apply(ops.linalg_eigvalsh, (A,), {"uplo": _uplo(UPLO)})


_svd_result = _return_type("linalg_svd", ["U", "S", "Vh"])
_torch_svd_result = _return_type("svd", ["U", "S", "V"])


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; full_matrices: U and Vh square"""
    A = _floating(_matrices(A, "linalg.svd"), "linalg.svd", None, "linalg_svd_cpu")
    fm = {"full_matrices": bool(full_matrices)}
    return _svd_result(apply(ops.linalg_svd_u, (A,), fm), apply(ops.linalg_svdvals, (A,)),
                       apply(ops.linalg_svd_vh, (A,), fm))


def svdvals(A, *, driver=None):
    """S, the descending singular values of A"""
    A = _floating(_matrices(A, "linalg.svdvals"), "linalg.svd", None, "linalg_svd_cpu")
    return apply(ops.linalg_svdvals, (A,))


def torch_svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) — V, not Vh; some=True gives the reduced factors; without
    compute_uv U and V are zeros"""
    A = _floating(_matrices(input, "svd"), "svd")
    if not compute_uv:
        m, n = A._data.shape[-2:]
        s = svdvals(A)
        bs = tuple(A._data.shape[:-2])
        z = A._data.dtype
        return _torch_svd_result(wrap(xp.zeros(bs + (m, m if not some else builtins.min(m, n)),
                                               z)), s,
                                 wrap(xp.zeros(bs + (n, n if not some else builtins.min(m, n)),
                                               z)))
    U, S, Vh = svd(A, full_matrices=not some)
    return _torch_svd_result(U, S, _mT(Vh))


def matrix_exp(A):
    """out = exp(A) = Σₖ Aᵏ/k!"""
    A = _square(A, "linalg.matrix_exp")
    if A._data.dtype == xp.float16:     # torch computes it in float16; NumPy's solve cannot
        return matrix_exp(A.to(D.float32)).to(D.float16)
    A = _floating(A, "linalg.matrix_exp")
    return apply(ops.linalg_matrix_exp, (A,))


def matrix_power(A, n):
    """out = Aⁿ (A⁻¹ to the -n for negative n; the identity for n = 0)"""
    A = _square(A, "linalg.matrix_power")
    if not isinstance(n, int):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    if n == 0:
        eye = xp.eye(A._data.shape[-1], dtype=A._data.dtype)
        return _constant_in_graph(xp.broadcast_to(eye, A._data.shape), A)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(tensors):
    """out = T₁ @ T₂ @ ... @ Tₙ, the first and last may be 1-d (a row and a column vector)"""
    ts = [tensor_arg(t, "linalg.multi_dot") for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        ok = t._data.ndim == 2 or (t._data.ndim == 1 and i in (0, len(ts) - 1))
        if not ok:
            where_ = ("first" if i == 0 else "last") if i in (0, len(ts) - 1) else None
            raise RuntimeError(
                f"multi_dot(): the {where_} tensor must be 1D or 2D but got {t._data.ndim}D"
                if where_ else
                f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D")
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i]._data.shape[-1] != ts[i + 1]._data.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} "
                               "cannot be multiplied")
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    if last_vec:
        out = out.squeeze(-1)
    if first_vec:
        out = out.squeeze(0)
    return out


def cross(input, other, *, dim=-1):
    """out = input × other, 3-vectors along dim (broadcast)"""
    a, b = tensor_arg(input, "linalg.cross"), tensor_arg(other, "linalg.cross")
    nd = builtins.max(a._data.ndim, b._data.ndim)
    d = dim % nd if nd else 0
    sa = a._data.shape[d - nd + a._data.ndim] if a._data.ndim else 0
    sb = b._data.shape[d - nd + b._data.ndim] if b._data.ndim else 0
    if sa != 3 or sb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa} "
                           f"and {sb}")
    shape = xp.broadcast_shapes(a._data.shape, b._data.shape)
    a = a if tuple(a._data.shape) == shape else expand(a, shape)
    b = b if tuple(b._data.shape) == shape else expand(b, shape)

    def comp(t, k):
        return getitem(t, (slice(None),) * d + (k,))
    c = [sub(mul(comp(a, 1), comp(b, 2)), mul(comp(a, 2), comp(b, 1))),
         sub(mul(comp(a, 2), comp(b, 0)), mul(comp(a, 0), comp(b, 2))),
         sub(mul(comp(a, 0), comp(b, 1)), mul(comp(a, 1), comp(b, 0)))]
    return stack(c, d)


def torch_cross(input, other, dim=None):
    """torch.cross: linalg.cross along dim (default: the first dim of size 3, with a warning
    in torch)"""
    if dim is None:
        shape = xp.broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return cross(input, other, dim=dim)


def vecdot(x, y, *, dim=-1):
    """out = Σ x·y along dim (broadcast)"""
    return sum(mul(x, y), dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """A's diagonal (offset above it if positive) over dims dim1, dim2, as the last dim"""
    A = tensor_arg(A, "linalg.diagonal")
    nd = A._data.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    rest = [d for d in range(nd) if d not in (d1, d2)]
    B = permute(A, tuple(rest) + (d1, d2))
    m, n = A._data.shape[d1], A._data.shape[d2]
    if offset >= 0:
        k = builtins.max(0, builtins.min(m, n - offset))
        i = xp.arange(k)
        return getitem(B, (Ellipsis, i, i + offset))
    k = builtins.max(0, builtins.min(m + offset, n))
    i = xp.arange(k)
    return getitem(B, (Ellipsis, i - offset, i))


def vander(x, N=None):
    """out[..., i, j] = x[..., i]ʲ (increasing powers, N columns)"""
    x = tensor_arg(x, "linalg.vander")
    if x._data.ndim == 0:
        x = x.reshape(1)
    if x._data.dtype in (xp.float16, xp.bool_):
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {_type_name(x._data.dtype)}")
    n = x._data.shape[-1] if N is None else N
    if n < 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x, n)


def _powers(x, n):
    """x⁰, x¹, ..., xⁿ⁻¹ stacked along a new last dim"""
    if x._data.dtype.kind in "iu":        # torch's cumulative product: integers as int64
        x = x.to(D.int64)
    cols = [wrap(xp.ones(x._data.shape, dtype=x._data.dtype))]
    for _ in range(1, n):
        cols.append(mul(cols[-1], x))
    return stack(cols, -1)


def torch_vander(x, N=None, increasing=False):
    """torch.vander: powers of a 1-d x, decreasing unless increasing"""
    x = tensor_arg(x, "vander")
    if x._data.dtype.kind == "b":
        x = x.to(D.int64)
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is not None and N < 0:
        raise RuntimeError("N must be non-negative.")
    if N == 0:
        return wrap(xp.zeros((x._data.shape[0], 0), dtype=x._data.dtype if
                             x._data.dtype.kind != "b" else xp.int64))
    v = _powers(x, x._data.shape[-1] if N is None else N)
    return v if increasing else v.flip(-1)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """The number of singular values above max(atol, rtol·σ₁) (int64, no gradient)"""
    A = _matrices(A, "linalg.matrix_rank")
    if A._data.dtype.kind != "f" or A._data.dtype == xp.float16:
        raise RuntimeError("This function doesn't handle types other than float and double")
    s = xp.abs(xp.linalg.eigvalsh(A._data)) if hermitian else \
        xp.linalg.svd(A._data, compute_uv=False)
    m, n = A._data.shape[-2:]
    top = s.max(-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    tol_ = _tolerance(top, atol if tol is None else tol, rtol, m, n, s.dtype)
    return wrap(xp.asarray((s > tol_).sum(-1), dtype=xp.int64))


def _tolerance(top, atol, rtol, m, n, dtype):
    def arr(v):
        return v._data[..., None] if isinstance(v, Tensor) and v.ndim else (
            v._data if isinstance(v, Tensor) else v)
    if rtol is None:
        rtol = 0 if atol is not None and (not isinstance(atol, (int, float)) or atol > 0) \
            else xp.finfo(dtype).eps * builtins.max(m, n)
    return xp.maximum(0 if atol is None else arr(atol), arr(rtol) * top)


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    """A⁺, the Moore-Penrose pseudo-inverse: singular values below max(atol, rtol·σ₁) are
    dropped (rtol: eps·max(m, n) by default)"""
    A = _matrices(A, "linalg.pinv")
    if A._data.dtype.kind != "f" or A._data.dtype == xp.float16:
        raise RuntimeError(f"linalg.pinv({_type_name(A._data.dtype)}"
                           f"{{{list(A._data.shape)}}}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:
        rtol = rcond
    m, n = A._data.shape[-2:]
    if hermitian:
        # torch reads the lower triangle for the value but differentiates every entry (its
        # pinv_backward is the general one): the symmetric matrix's value, A's gradient
        n = A._data.shape[-1]
        low = wrap(xp.tri(n, n, 0, dtype=A._data.dtype))
        strict = wrap(xp.tri(n, n, -1, dtype=A._data.dtype))
        sym = add(mul(A, low), _mT(mul(A, strict)))
        A = add(A, sub(sym, A).detach())
    U, S, Vh = svd(A, full_matrices=False)
    top = S._data[..., :1] if S._data.shape[-1] else xp.zeros(S._data.shape[:-1] + (1,),
                                                               A._data.dtype)
    tol_ = wrap(_tolerance(top, atol, rtol, m, n, A._data.dtype))
    keep = S > tol_
    if bool(keep._data.all()) and A._data.size:
        # full rank: the same function as the SVD's, through solves, whose gradient has no
        # 1/(σᵢ² - σⱼ²) terms (equal singular values, an orthogonal A, are fine)
        if m >= n:
            AtA = matmul(_mT(A), A)
            return solve(AtA, _mT(A))
        AAt = matmul(A, _mT(A))
        return _mT(solve(AAt, A))
    inv_s = where(keep, div(1, where(keep, S, 1.0)), 0.0)
    return matmul(mul(_mT(Vh), inv_s.unsqueeze(-2)), _mT(U))


def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol=rcond"""
    return pinv(input, rtol=rcond)


_lstsq_result = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(A, B, rcond=None, *, driver=None):
    """X minimising ‖A X - B‖ (the least-norm one if A has fewer rows); residuals (the squared
    error per column, for m > n and full rank, driver other than gelsy), rank and singular
    values (drivers gelsd/gelss) as torch on the CPU"""
    A = _matrices(A, "linalg.lstsq")
    if A._data.dtype.kind != "f" or A._data.dtype == xp.float16:
        raise RuntimeError("This function doesn't handle types other than float and double")
    B = tensor_arg(B, "linalg.lstsq")
    _same_dtype(A, B, "linalg.lstsq")
    driver = driver or "gelsy"
    if driver not in ("gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss)")
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A._data.shape[-2:]
    if Bm._data.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    s = xp.linalg.svd(A._data, compute_uv=False) if A._data.size else \
        xp.zeros(A._data.shape[:-2] + (0,), A._data.dtype)
    top = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    r = xp.finfo(A._data.dtype).eps * builtins.max(m, n) if rcond is None else rcond
    rank = (s > r * top).sum(-1)
    X = matmul(pinv(A, rtol=r), Bm)
    if vector:
        X = X.squeeze(-1)
    full = bool((rank == builtins.min(m, n)).all())
    if m > n and full and driver != "gelsy":
        res = sum(mul(sub(matmul(A, X.unsqueeze(-1) if vector else X), Bm),
                      sub(matmul(A, X.unsqueeze(-1) if vector else X), Bm)), -2)
    else:
        res = wrap(xp.zeros((0,), dtype=A._data.dtype))
    rank_t = wrap(xp.asarray(rank, dtype=xp.int64)) if driver != "gels" else \
        wrap(xp.zeros((0,), dtype=xp.int64))
    sv = wrap(s) if driver in ("gelsd", "gelss") else wrap(xp.zeros((0,), dtype=A._data.dtype))
    return _lstsq_result(X, res, rank_t, sv)


def cond(A, p=None):
    """κ(A) = ‖A‖·‖A⁻¹‖ (p None or 2: σ_max/σ_min; -2: σ_min/σ_max)"""
    A = _floating(_matrices(A, "linalg.cond"), "linalg.svd", None, "linalg_svd_cpu")
    if A._data.size == 0:
        return wrap(xp.zeros(A._data.shape[:-2], dtype=A._data.dtype))
    if p in (None, 2, -2):
        s = svdvals(A)
        hi, lo = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return div(hi, lo) if p != -2 else div(lo, hi)
    _square(A, "linalg.cond")
    return mul(matrix_norm(A, p), matrix_norm(inv(A), p))


def tensorinv(A, ind=2):
    """The tensor B with tensordot(B, A, ind) the identity (A reshaped to a square matrix)"""
    A = tensor_arg(A, "linalg.tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    left, right = tuple(A._data.shape[:ind]), tuple(A._data.shape[ind:])
    rows = int(xp.prod(left)) if left else 1
    cols = int(xp.prod(right)) if right else 1
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return reshape(inv(reshape(A, (rows, cols))), right + left)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B"""
    A, B = tensor_arg(A, "linalg.tensorsolve"), tensor_arg(B, "linalg.tensorsolve")
    if dims is not None:
        nd = A._data.ndim
        dims = [d % nd for d in dims]
        A = permute(A, tuple(d for d in range(nd) if d not in dims) + tuple(dims))
    rest = tuple(A._data.shape[B._data.ndim:])
    n = int(xp.prod(B._data.shape)) if B._data.ndim else 1
    k = int(xp.prod(rest)) if rest else 1
    if n != k:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== prod(self.shape[:other.ndim]), but got {k} != {n}")
    return reshape(solve(reshape(A, (n, k)), reshape(B, (n,))), rest)


def householder_product(A, tau):
    """Q = H₁ H₂ ... H_k, Hᵢ = I - τᵢ vᵢ vᵢᵀ, vᵢ A's i-th column below the diagonal with a 1
    on it (LAPACK's orgqr)"""
    A = _floating(_matrices(A, "linalg.householder_product"), "linalg.householder_product",
                  "orgqr_cpu", "orgqr_cpu")
    tau = tensor_arg(tau, "linalg.householder_product")
    m, n = A._data.shape[-2:]
    k = tau._data.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    dt = A._data.dtype
    below = wrap(xp.tri(m, n, -1, dtype=dt))
    V = add(mul(A, below), wrap(xp.eye(m, n, dtype=dt)))
    Q = _constant_in_graph(xp.broadcast_to(xp.eye(m, n, dtype=dt), A._data.shape[:-2] + (m, n)),
                           A)
    for i in range(k - 1, -1, -1):
        v = getitem(V, (Ellipsis, slice(None), slice(i, i + 1)))          # (..., m, 1)
        t = getitem(tau, (Ellipsis, slice(i, i + 1))).unsqueeze(-1)       # (..., 1, 1)
        Q = sub(Q, mul(t, matmul(v, matmul(_mT(v), Q))))
    return Q


def orgqr(input, tau):
    """torch.orgqr: linalg.householder_product"""
    return householder_product(input, tau)


_geqrf_result = _return_type("geqrf", ["a", "tau"])


def geqrf(input):
    """(a, tau): LAPACK's geqrf, R above the diagonal and the Householder vectors below,
    without a gradient (torch has none)"""
    A = _floating(_matrices(input, "geqrf"), "geqrf", "geqrf_cpu", "geqrf_cpu")
    a, tau = _geqrf_np(A._data)
    return _geqrf_result(wrap(a), wrap(tau))


def _geqrf_np(a):
    """Householder QR as LAPACK's dgeqrf stores it (β = -sign(α)·‖x‖, v₀ = 1)"""
    a = xp.array(a, copy=True)
    m, n = a.shape[-2:]
    k = builtins.min(m, n)
    tau = xp.zeros(a.shape[:-2] + (k,), dtype=a.dtype)
    for j in range(k):
        alpha = a[..., j, j].copy()
        x = a[..., j + 1:, j]
        xnorm = xp.sqrt((x * x).sum(-1))
        beta = -xp.copysign(xp.hypot(alpha, xnorm), alpha)
        zero = xnorm == 0
        safe = xp.where(zero, 1, alpha - beta)
        t = xp.where(zero, 0, (beta - alpha) / xp.where(zero, 1, beta))
        v = xp.where(zero[..., None], 0, x / safe[..., None])
        a[..., j + 1:, j] = v
        a[..., j, j] = xp.where(zero, alpha, beta)
        tau[..., j] = t
        # apply H = I - τ v vᵀ (v with its leading 1) to the trailing columns
        full = xp.concatenate([xp.ones(a.shape[:-2] + (1,), a.dtype), v], -1)
        rest = a[..., j:, j + 1:]
        w = xp.einsum("...i,...ij->...j", full, rest)
        a[..., j:, j + 1:] = rest - t[..., None, None] * full[..., :, None] * w[..., None, :]
    return a, tau


def ormqr(input, tau, other, left=True, transpose=False):
    """Q·other (other·Q if not left; Qᵀ with transpose), Q = householder_product(input, tau)
    completed to m × m"""
    A = tensor_arg(input, "ormqr")
    m = A._data.shape[-2]
    dt = A._data.dtype
    n = A._data.shape[-1]
    pad = wrap(xp.zeros(A._data.shape[:-2] + (m, m - n), dtype=dt)) if m > n else None
    Af = A if pad is None else _cat_last(A, pad)
    Q = householder_product(Af, tau)
    if transpose:
        Q = _mT(Q)
    return matmul(Q, other) if left else matmul(other, Q)


def _cat_last(a, b):
    from .shape import cat
    return cat([a, b], -1)


# --- LU ----------------------------------------------------------------------------------------

_lu_factor_result = _return_type("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex_result = _return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_lu_result = _return_type("linalg_lu", ["P", "L", "U"])
_lu_unpack_result = _return_type("lu_unpack", ["P", "L", "U"])


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): P A = L U packed (L unit lower, below the diagonal), pivots
    1-based as LAPACK's getrf, info > 0 at an exactly singular U"""
    A = _floating(_matrices(A, "torch.linalg.lu_factor_ex"), "torch.linalg.lu_factor_ex",
                  "lu_cpu", "lu_cpu")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    _, piv, info = lu_pivots(A._data)
    if check_errors and (info != 0).any():
        raise LinAlgError(f"torch.linalg.lu_factor_ex: U[{int(info.max())},{int(info.max())}] "
                          "is zero and using it on lu_solve would result in a division by zero.")
    return _lu_factor_ex_result(apply(ops.linalg_lu_factor, (A,)), wrap(piv), wrap(info))


def lu_factor(A, *, pivot=True):
    """(LU, pivots): P A = L U packed, pivots 1-based (torch.linalg.lu_factor)"""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    if (info._data != 0).any():
        k = int(info._data[info._data != 0].flat[0])
        raise RuntimeError(f"torch.linalg.lu_factor: U[{k},{k}] is zero and using it on lu_solve "
                           "would result in a division by zero. If you still want to perform "
                           "the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return _lu_factor_result(LU, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's packed LU and pivots"""
    LU = tensor_arg(LU_data, "lu_unpack")
    m, n = LU._data.shape[-2:]
    k = builtins.min(m, n)
    dt = LU._data.dtype
    if unpack_data:
        L = add(mul(getitem(LU, (Ellipsis, slice(None), slice(0, k))),
                    wrap(xp.tri(m, k, -1, dtype=dt))), wrap(xp.eye(m, k, dtype=dt)))
        U = mul(getitem(LU, (Ellipsis, slice(0, k), slice(None))),
                wrap(xp.triu(xp.ones((k, n), dtype=dt))))
    else:
        L = U = wrap(xp.zeros((0,), dtype=dt))
    P = wrap(permutation_from_pivots(tensor_arg(LU_pivots)._data, m, dt)) if unpack_pivots \
        else wrap(xp.zeros((0,), dtype=dt))
    return _lu_unpack_result(P, L, U)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U, L unit lower triangular, U upper triangular"""
    A = _floating(_matrices(A, "linalg.lu"), "linalg.lu")
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    return _lu_result(*lu_unpack(LU, piv))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (X A = B if not left; Aᵀ with adjoint), A given by lu_factor"""
    LU = tensor_arg(LU, "linalg.lu_solve")
    B = tensor_arg(B, "linalg.lu_solve")
    P, L, U = lu_unpack(LU, pivots)
    if not left:
        # X A = B  ⇔  Aᵀ Xᵀ = Bᵀ
        return _mT(lu_solve(LU, pivots, _mT(B), left=True, adjoint=not adjoint))
    if not adjoint:
        y = matmul(_mT(P), B)
        y = solve_triangular(L, y, upper=False, unitriangular=True)
        return solve_triangular(U, y, upper=True)
    # Aᵀ = Uᵀ Lᵀ Pᵀ
    y = solve_triangular(_mT(U), B, upper=False)
    y = solve_triangular(_mT(L), y, upper=True, unitriangular=True)
    return matmul(P, y)


def torch_lu(A, pivot=True, get_infos=False):
    """torch.lu: (LU, pivots[, infos])"""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def torch_lu_solve(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots): linalg.lu_solve(LU, pivots, b)"""
    return lu_solve(LU_data, LU_pivots, b)


# --- renorm, norm_except_dim ----------------------------------------------------------------

def renorm(input, p, dim, maxnorm):
    """Each slice along dim scaled down to p-norm maxnorm if its norm exceeds it"""
    x = tensor_arg(input, "renorm")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point input, got "
                           f"{D.SCALAR_NAMES.get(x._data.dtype.name)}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    nd = x._data.ndim
    d = dim % nd
    others = tuple(i for i in range(nd) if i != d)
    nrm = vector_norm(x, p, others, True)
    # torch's factor: maxnorm / (norm + 1e-7) where the norm exceeds maxnorm, else 1
    factor = where(nrm > maxnorm, div(maxnorm, add(nrm, 1e-7)), 1.0)
    return mul(x, factor)


def norm_except_dim(v, pow=2, dim=0):
    """‖v‖_pow over every dim but dim (kept as size 1); dim=-1: over all of v"""
    v = tensor_arg(v, "norm_except_dim")
    if dim == -1:
        return vector_norm(v, pow)
    others = tuple(i for i in range(v._data.ndim) if i != dim)
    return vector_norm(v, pow, others, True)


def _positional(fn):
    """fn(input, a, b, beta, alpha) for the in-place forms (inplace passes positions only)"""
    def run(input, a, b, beta, alpha):
        return fn(input, a, b, beta=beta, alpha=alpha)
    run.__name__ = fn.__name__
    return run


addmm_p, addbmm_p, baddbmm_p, addmv_p, addr_p = (
    _positional(f) for f in (addmm, addbmm, baddbmm, addmv, addr))


# --- LDLᵀ (Bunch-Kaufman) ----------------------------------------------------------------------

_ldl_factor_result = _return_type("linalg_ldl_factor", ["LD", "pivots"])
_ldl_factor_ex_result = _return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
_BK_ALPHA = (1 + 17 ** 0.5) / 8


def _sytf2_lower(a):
    """LAPACK's dsytf2 (UPLO='L'), one matrix: A = L D Lᵀ with Bunch-Kaufman pivoting.
    Returns (LD, pivots 1-based, negative for 2 × 2 blocks, info)."""
    a = a.copy()
    n = a.shape[0]
    piv = xp.zeros(n, dtype=xp.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = builtins.abs(a[k, k])
        if k < n - 1:
            imax = k + 1 + int(xp.argmax(xp.abs(a[k + 1:, k])))
            colmax = builtins.abs(a[imax, k])
        else:
            imax, colmax = k, 0.0
        if builtins.max(absakk, colmax) == 0:
            info = info or k + 1
            kp = k
        else:
            if absakk >= _BK_ALPHA * colmax:
                kp = k
            else:
                rowmax = xp.max(xp.abs(a[imax, k:imax]))
                if imax < n - 1:
                    rowmax = builtins.max(rowmax, xp.max(xp.abs(a[imax + 1:, imax])))
                if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif builtins.abs(a[imax, imax]) >= _BK_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:
                if kp < n - 1:
                    a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
                tmp = a[kk + 1:kp, kk].copy()
                a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                a[kp, kk + 1:kp] = tmp
                a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                if kstep == 2:
                    a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
            if kstep == 1:
                if k < n - 1:
                    d11 = 1 / a[k, k]
                    x = a[k + 1:, k].copy()
                    a[k + 1:, k + 1:] -= xp.tril(d11 * xp.outer(x, x))
                    a[k + 1:, k] *= d11
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                for j in range(k + 2, n):
                    wk = d21 * (d11 * a[j, k] - a[j, k + 1])
                    wkp1 = d21 * (d22 * a[j, k + 1] - a[j, k])
                    a[j:, j] -= a[j:, k] * wk + a[j:, k + 1] * wkp1
                    a[j, k] = wk
                    a[j, k + 1] = wkp1
        if kstep == 1:
            piv[k] = kp + 1
        else:
            piv[k] = piv[k + 1] = -(kp + 1)
        k += kstep
    return xp.tril(a), piv, info


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): A = P L D Lᵀ Pᵀ, A symmetric (its lower triangle read), D with 1 × 1
    and 2 × 2 blocks, LAPACK's sytrf (Bunch-Kaufman) storage; no gradient (as torch)"""
    A = _floating(_square(A, "torch.linalg.ldl_factor_ex"), "torch.linalg.ldl_factor_ex",
                  None, "ldl_factor_kernel_cpu")
    a = A._data
    n = a.shape[-1]
    count = int(xp.prod(a.shape[:-2])) if a.ndim > 2 else 1
    flat = a.reshape((count, n, n))
    lds, pivs, infos = [], [], []
    for m in flat:
        ld, p, i = _sytf2_lower(m)
        lds.append(ld)
        pivs.append(p)
        infos.append(i)
    ld = xp.stack(lds).reshape(a.shape) if lds else a.copy()
    piv = xp.stack(pivs).reshape(a.shape[:-1]) if pivs else xp.zeros(a.shape[:-1], xp.int32)
    info = xp.asarray(infos, dtype=xp.int32).reshape(a.shape[:-2])
    if check_errors and (info != 0).any():
        raise LinAlgError(f"torch.linalg.ldl_factor_ex: The factorization could not be completed "
                          f"because the input is not invertible (D[{int(info.max())}] is zero).")
    return _ldl_factor_ex_result(wrap(ld), wrap(piv), wrap(info))


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots): A = P L D Lᵀ Pᵀ (see ldl_factor_ex); no gradient"""
    LD, piv, _ = ldl_factor_ex(A, hermitian=hermitian)
    return _ldl_factor_result(LD, piv)


def _sytrs_lower(a, piv, b):
    """LAPACK's dsytrs (UPLO='L'): X with A X = B from sytrf's LD and pivots, one matrix"""
    b = b.copy()
    n = a.shape[0]
    k = 0
    while k < n:
        if piv[k] > 0:
            kp = piv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            if k < n - 1:
                b[k + 1:] -= xp.outer(a[k + 1:, k], b[k])
            b[k] /= a[k, k]
            k += 1
        else:
            kp = -piv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            if k < n - 2:
                b[k + 2:] -= xp.outer(a[k + 2:, k], b[k])
                b[k + 2:] -= xp.outer(a[k + 2:, k + 1], b[k + 1])
            akm1k = a[k + 1, k]
            akm1 = a[k, k] / akm1k
            ak = a[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1 = b[k] / akm1k
            bk = b[k + 1] / akm1k
            b[k] = (ak * bkm1 - bk) / denom
            b[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:
        if piv[k] > 0:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
            kp = piv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
                b[k - 1] -= a[k + 1:, k - 1] @ b[k + 1:]
            kp = -piv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B, A given by ldl_factor's (LD, pivots); no gradient"""
    LD = _square(tensor_arg(LD, "torch.linalg.ldl_solve"), "torch.linalg.ldl_solve", "LD")
    B = _matrices(tensor_arg(B, "torch.linalg.ldl_solve"), "torch.linalg.ldl_solve", "B")
    piv = tensor_arg(pivots)._data
    n = LD._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"torch.linalg.ldl_solve: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {B._data.shape[-2]}x"
                           f"{B._data.shape[-1]})")
    batch = xp.broadcast_shapes(LD._data.shape[:-2], B._data.shape[:-2])
    count = int(xp.prod(batch)) if batch else 1
    a = xp.broadcast_to(LD._data, batch + (n, n)).reshape((count, n, n))
    p = xp.broadcast_to(piv, batch + (n,)).reshape((count, n))
    b = xp.broadcast_to(B._data, batch + B._data.shape[-2:]).reshape((count,) +
                                                                      B._data.shape[-2:])
    out = [_sytrs_lower(a[i], p[i], b[i].astype(a.dtype)) for i in range(a.shape[0])]
    x = xp.stack(out).reshape(batch + B._data.shape[-2:]) if out else \
        xp.zeros(batch + B._data.shape[-2:], LD._data.dtype)
    return wrap(x)


# --- removed in torch 1.9 (the names remain, raising) -------------------------------------------

def torch_lstsq(input, A, *args, **kwargs):
    """torch.lstsq: removed in torch 1.9; raises torch's RuntimeError (use linalg.lstsq)"""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. `torch.lstsq` is "
        "deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed "
        "arguments and does not return the QR decomposition in the returned tuple (although it "
        "returns other information about the problem).\n\nTo get the QR decomposition consider "
        "using `torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the "
        "residuals of the solution in the last m - n columns of the returned value whenever m > "
        "n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the returned "
        "named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A)."
        "solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution")


def torch_matrix_rank(input, *args, **kwargs):
    """torch.matrix_rank: removed in torch 1.9; raises torch's RuntimeError"""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\nPlease use the "
        "`torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in "
        "`torch.linalg.matrix_rank()` to 'hermitian'.")


def torch_solve(input, A, *args, **kwargs):
    """torch.solve: removed in torch 1.9; raises torch's RuntimeError (use linalg.solve)"""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. `torch.solve` is "
        "deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments "
        "reversed and does not return the LU factorization.\n\nTo get the LU factorization "
        "see `torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\n"
        "X = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)")


def torch_symeig(input, *args, **kwargs):
    """torch.symeig: removed in torch 1.9; raises torch's RuntimeError (use linalg.eigh)"""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. The default "
        "behavior has changed from using the upper triangular portion of the matrix by default "
        "to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should "
        "be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand"
        "\n\nL, V = torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
        "torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def torch_eig(input, *args, **kwargs):
    """torch.eig: removed in torch 1.9; raises torch's RuntimeError (linalg.eig's complex
    results are not built: chainrule has no complex dtypes)"""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. `torch.linalg.eig` "
        "returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
        "mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\n"
        "L_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) "
        "should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)")


# --- randomized low-rank SVD and PCA (Halko et al. 2009, as torch._lowrank) ----------------------

def _approximate_basis(A, q, niter, M):
    """Q with orthonormal columns spanning (nearly) the range of A - M: power iterations on a
    random projection"""
    from ..creation import randn
    R = randn(A._data.shape[-1], q, dtype=A.dtype)

    def minus_m(X, Mx):
        return X if Mx is None else sub(X, Mx)
    Q = qr(minus_m(matmul(A, R), None if M is None else matmul(M, R))).Q
    for _ in range(niter):
        Q = qr(minus_m(matmul(_mT(A), Q), None if M is None else matmul(_mT(M), Q))).Q
        Q = qr(minus_m(matmul(A, Q), None if M is None else matmul(M, Q))).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of rank q approximating A - M (A ≈ U diag(S) Vᵀ): a random projection refined
    by niter power iterations, then an SVD of the small projected matrix; differentiable
    through its steps (the random matrix is a constant)"""
    A = _floating(_matrices(A, "svd_lowrank"), "svd_lowrank")
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A._data.shape[-2:]
    if M is not None:
        M = expand(tensor_arg(M, "svd_lowrank"), tuple(A._data.shape))
    if m < n:
        A = _mT(A)
        M = None if M is None else _mT(M)
    Q = _approximate_basis(A, q, niter, M)
    B = matmul(_mT(Q), A)
    if M is not None:
        B = sub(B, matmul(_mT(Q), M))
    U, S, Vh = svd(B, full_matrices=False)
    V = _mT(Vh)
    U = matmul(Q, U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V): svd_lowrank of A with its column means removed (center), q = min(6, m, n) by
    default"""
    A = _matrices(A, "pca_lowrank")
    m, n = A._data.shape[-2:]
    if q is None:
        q = builtins.min(6, m, n)
    elif not (0 <= q <= builtins.min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)="
                         f"{builtins.min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    C = div(sum(A, -2, True), m)
    return svd_lowrank(sub(A, C), q, niter=niter)


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
           method=None, tracker=None, ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """(E, X): the k largest (or smallest) eigenpairs of the symmetric A (A X = B X diag(E)).
    chainrule computes them exactly with eigh (LOBPCG's converged answer), so the iteration's
    options (X, n, iK, niter, tol, method, tracker, ortho_*) change nothing; gradients through
    eigh"""
    A = _floating(_square(A, "lobpcg"), "lobpcg")
    k = (1 if X is None else X.shape[-1]) if k is None else k
    m = A._data.shape[-1]
    if m < 3 * k:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is "
                         f"smaller than 3 x the number of requested eigenpairs (={k})")
    largest = True if largest is None else largest
    if B is None:
        lam, V = eigh(A)
    else:
        L = cholesky(B)
        C = solve_triangular(L, _mT(solve_triangular(L, A, upper=False)), upper=False)
        lam, W = eigh(C)
        V = solve_triangular(_mT(L), W, upper=True)
    pick = xp.arange(m - 1, m - 1 - k, -1) if largest else xp.arange(k)
    return getitem(lam, (Ellipsis, pick)), getitem(V, (Ellipsis, slice(None), pick))
