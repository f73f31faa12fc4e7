"""Linear algebra primitives: matmul, einsum, and torch.linalg's factorizations and solves."""
from .._backend import xp
from . import defprim
from .reductions import prod


def _matmul(x, y):
    """out = x @ y"""
    return xp.matmul(x, y)


def _matmul_vjp_x(F, g, out, x, y):
    if len(y.shape) == 1:
        if len(x.shape) == 1:
            return g * y
        return F.unsqueeze(g, -1) * y          # (..., n, 1) * (k,) → (..., n, k)
    if len(x.shape) == 1:
        return F.squeeze(F.matmul(F.unsqueeze(g, -2), F.swapaxes(y, -1, -2)), -2)
    return F.matmul(g, F.swapaxes(y, -1, -2))


def _matmul_vjp_y(F, g, out, x, y):
    if len(x.shape) == 1:
        if len(y.shape) == 1:
            return g * x
        return F.unsqueeze(x, -1) * F.unsqueeze(g, -2)   # (k, 1) * (..., 1, m) → (..., k, m)
    if len(y.shape) == 1:
        return F.squeeze(F.matmul(F.swapaxes(x, -1, -2), F.unsqueeze(g, -1)), -1)
    return F.matmul(F.swapaxes(x, -1, -2), g)


def matmul_name(x, y):
    if len(x.shape) == 1 and len(y.shape) == 1:
        return "DotBackward0"
    if len(x.shape) == 2 and len(y.shape) == 2:
        return "MmBackward0"
    return "MatmulBackward0"


matmul = defprim("matmul", _matmul, _matmul_vjp_x, _matmul_vjp_y,
                 kind="contraction", linear="bilinear", backward_name="MmBackward0",
                 show="{x} @ {y}", formulas=("yᵀ", "xᵀ"), vjp_texts=("g ↦ g·yᵀ", "g ↦ xᵀ·g"), saves=(0, 1),
                 reads=((1,), (0,)),
                 examples=[("x @ y", (3, 4), (4, 2)), ("x @ y", (4,), (4, 2)), ("x @ y", (3, 4), (4,)),
                           ("x @ y", (4,), (4,)), ("x @ y", (2, 3, 4), (4, 5)),
                           ("x @ y", (2, 1, 3, 4), (5, 4, 2)), ("m.mm(x, y)", (2, 3), (3, 2)),
                           ("m.bmm(x, y)", (2, 2, 3), (2, 3, 4)), ("m.dot(x, y)", (3,), (3,))])


# =========================================================================================
# issue #12: einsum and torch.linalg's factorizations.  Each is a primitive because its
# forward is one LAPACK call (composing it from scalar steps would be slow and unstable); a
# factorization with several outputs is one primitive per output (eigh's values and vectors,
# svd's U, S and Vh), each computing the factorization: the rules are linear in g, so the
# gradients of several outputs add up to the joint rule's, and every output can be an example
# that ends in its own op.  The rules call their siblings through ``F.apply`` so that a
# recorded backward pass (create_graph=True) differentiates them again.
# =========================================================================================

def _mT(F, a):
    return F.swapaxes(a, -1, -2)


def _dtype(a):
    """a's NumPy dtype, whether a is an array or (in a recorded backward pass) a tensor"""
    return a._data.dtype if hasattr(a, "_data") else a.dtype


def _eye(n, like):
    return xp.eye(n, dtype=_dtype(like))


def _diag_embed(F, v, like):
    """(..., n) → (..., n, n) with v on the diagonal"""
    return F.unsqueeze(v, -1) * _eye(v.shape[-1], like)


def _tril_mask(n, m, k, like):
    return xp.tri(n, m, k, dtype=_dtype(like))


def _letters_unused(used):
    pool = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    return iter(pool)


def _einsum(x, y, equation):
    """out = Σ over the summed subscripts of x·y (equation explicit: 'ij,jk->ik'; a unary
    einsum has y = 1 with no subscripts: 'ii,->i')"""
    return xp.asarray(xp.einsum(equation, x, y))


def _einsum_vjp(F, g, out, x, y, equation, i):
    # x's gradient is the einsum of g with y, out to x's subscripts (and y's alike).  A
    # subscript repeated in x (a diagonal, 'ii') or summed in x alone ('ij->i') is not in g or
    # y: the einsum goes to the others, then one more with a constant K (identity matrices
    # joining a repeat to a fresh letter, ones for a lone sum) spreads it out to x's shape
    ins, outs = equation.split("->")
    subs = ins.split(",")
    mine, other = subs[i], subs[1 - i]
    a = (x, y)[i]
    size = {c: a.shape[k] for k, c in enumerate(mine)}
    present = set(outs) | set(other)
    fresh = _letters_unused(set(equation))
    dt = _dtype(g)
    unique, target, k_terms, k = [], [], [], xp.ones((), dtype=dt)
    for c in mine:
        if c in unique:
            new = next(fresh)
            k = xp.multiply.outer(k, _eye(size[c], g))
            k_terms.append(c + new)
            target.append(new)
            continue
        unique.append(c)
        target.append(c)
        if c not in present:
            k = xp.multiply.outer(k, xp.ones(size[c], dtype=dt))
            k_terms.append(c)
    have = "".join(c for c in unique if c in present)
    tmp = F.apply(einsum, (g, (y, x)[i]), {"equation": f"{outs},{other}->{have}"})
    if not k_terms:
        return tmp
    return F.apply(einsum, (tmp, k),
                   {"equation": f"{have},{''.join(k_terms)}->{''.join(target)}"})


einsum = defprim("einsum", _einsum, lambda F, g, out, x, y, equation:
                 _einsum_vjp(F, g, out, x, y, equation, 0),
                 lambda F, g, out, x, y, equation: _einsum_vjp(F, g, out, x, y, equation, 1),
                 kind="contraction", linear="bilinear", formulas=("y", "x"),
                 vjp_texts=("g ↦ einsum(g, y) onto x's subscripts",
                            "g ↦ einsum(g, x) onto y's subscripts"),
                 saves=(0, 1), reads=((1,), (0,)),
                 examples=[("m.einsum('ij,jk->ik', x, y)", (2, 3), (3, 4)),
                           ("m.einsum('ii->i', x)", (3, 3)),
                           ("m.einsum('bij,j->bi', x, y)", (2, 3, 4), (4,)),
                           ("m.einsum('i,i', x, y)", (1,), (1,))])


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite (torch.linalg.LinAlgError)"""


def _batch(b, shape):
    """torch's "(Batch element i): " prefix, for a batch of matrices"""
    return f"(Batch element {b}): " if len(shape) > 2 else ""


def _singular_error(op, a, solver=False):
    """torch's LinAlgError for an exactly singular matrix (LAPACK's getrf: a zero pivot)"""
    info = lu_pivots(a)[2].reshape(-1)
    b = int(xp.argmax(info != 0))
    if solver:
        return LinAlgError(f"{op}: {_batch(b, a.shape)}The solver failed because the input "
                           "matrix is singular.")
    return LinAlgError(f"{op}: {_batch(b, a.shape)}The diagonal element {int(info[b])} is zero, "
                       "the inversion could not be completed because the input matrix is "
                       "singular.")


def _inv(a):
    """out = A⁻¹"""
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise _singular_error("linalg.inv", a) from None


linalg_inv = defprim(
    "linalg_inv", _inv, lambda F, g, out, a: -F.matmul(_mT(F, out), F.matmul(g, _mT(F, out))),
    kind="other", backward_name="LinalgInvExBackward0", formulas=("-1/x²",),
    vjp_texts=("g ↦ -A⁻ᵀ·g·A⁻ᵀ",), saves_out=True, domain=(0.5, 2.0),
    examples=[("m.linalg.inv(x + 3 * m.eye(3, dtype=x.dtype))", (3, 3)),
              ("m.linalg.inv(x)", (1, 1)), ("m.inverse(x + 3 * m.eye(2, dtype=x.dtype))", (2, 2, 2))])


def _det(a):
    """out = det A"""
    return xp.asarray(xp.linalg.det(a))


def _det_vjp(F, g, out, a):
    # the cofactor matrix det(A)·A⁻ᵀ; where some det A is 0 (A⁻¹ does not exist) torch's SVD
    # form for the whole batch: det(U)·det(Vh)·U·diag(Πⱼ≠ᵢ sⱼ)·Vh
    gk = F.unsqueeze(F.unsqueeze(g, -1), -1)
    if not (F.raw(out) == 0).any():
        return gk * F.unsqueeze(F.unsqueeze(out, -1), -1) * _mT(F, F.apply(linalg_inv, (a,), {}))
    n = a.shape[-1]
    u, s, vh = _svd_parts(F, a)
    eye = _eye(n, g)
    others = F.unsqueeze(s, -2) * (1 - eye) + eye           # row i: s with sᵢ replaced by 1
    cof = F.apply(prod, (others,), {"dims": (len(a.shape) - 1,), "keepdim": False})
    sign = F.apply(linalg_det, (u,), {}) * F.apply(linalg_det, (vh,), {})
    return gk * F.unsqueeze(F.unsqueeze(sign, -1), -1) * F.matmul(u * F.unsqueeze(cof, -2), vh)


linalg_det = defprim("linalg_det", _det, _det_vjp, kind="other", formulas=("1",),
                     vjp_texts=("g ↦ g·det(A)·A⁻ᵀ",), saves=(0,), saves_out=True,
                     domain=(0.5, 2.0),
                     examples=[("m.linalg.det(x)", (3, 3)), ("m.det(x)", (2, 2, 2)),
                               ("m.linalg.det(x)", (1, 1))])


def _logabsdet(a):
    """out = log |det A|"""
    return xp.asarray(xp.linalg.slogdet(a)[1])


linalg_logabsdet = defprim(
    "linalg_logabsdet", _logabsdet,
    lambda F, g, out, a: F.unsqueeze(F.unsqueeze(g, -1), -1) * _mT(
        F, F.apply(linalg_inv, (a,), {})),
    kind="other", backward_name="LinalgSlogdetBackward0", formulas=("1/x",),
    vjp_texts=("g ↦ g·A⁻ᵀ",), saves=(0,), domain=(0.5, 2.0),
    examples=[("m.linalg.slogdet(x)[1]", (3, 3)), ("m.linalg.slogdet(x).logabsdet", (2, 2, 2)),
              ("m.linalg.slogdet(x)[1]", (1, 1))])


def _solve(a, b):
    """out = A⁻¹ B  (B a batch of matrices)"""
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        raise _singular_error("torch.linalg.solve", a, solver=True) from None


def _solve_vjp_b(F, g, out, a, b):
    return F.apply(linalg_solve, (_mT(F, a), g), {})


def _solve_vjp_a(F, g, out, a, b):
    return -F.matmul(_solve_vjp_b(F, g, out, a, b), _mT(F, out))


linalg_solve = defprim("linalg_solve", _solve, _solve_vjp_a, _solve_vjp_b, kind="other",
                       backward_name="LinalgSolveExBackward0", formulas=("-out/x", "1/x"),
                       vjp_texts=("g ↦ -A⁻ᵀ·g·Xᵀ", "g ↦ A⁻ᵀ·g"), saves=(0,), saves_out=True,
                       domain=[(0.5, 2.0), (-2.0, 2.0)],
                       examples=[("m.linalg.solve(x + 3 * m.eye(3, dtype=x.dtype), y)",
                                  (3, 3), (3, 2)),
                                 ("m.linalg.solve(x, y)", (1, 1), (1, 1)),
                                 ("m.linalg.solve(x + 3 * m.eye(3, dtype=x.dtype), y)",
                                  (2, 3, 3), (3, 1))])


def _solve_triangular(a, b, upper, unitriangular=False):
    """out = A⁻¹ B, A triangular (only its upper or lower triangle is read)"""
    n = a.shape[-1]
    t = a * (_tril_mask(n, n, 0, a).T if upper else _tril_mask(n, n, 0, a))
    if unitriangular:
        t = t * (1 - _eye(n, a)) + _eye(n, a)
    # LAPACK's trtrs gives inf/nan for a zero diagonal, as torch; solve would raise
    with xp.errstate(all="ignore"):
        try:
            return xp.linalg.solve(t, b)
        except xp.linalg.LinAlgError:
            return _substitute(t, b, upper)


def _substitute(t, b, upper):
    """Back/forward substitution, one row at a time: for singular triangles (inf/nan)"""
    n = t.shape[-1]
    shape = xp.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = xp.broadcast_to(t, shape + t.shape[-2:])
    x = xp.array(xp.broadcast_to(b, shape + b.shape[-2:]), dtype=xp.result_type(t, b))
    rows = range(n - 1, -1, -1) if upper else range(n)
    for i in rows:
        others = slice(i + 1, n) if upper else slice(0, i)
        acc = x[..., i, :] - xp.einsum("...k,...kj->...j", t[..., i, others], x[..., others, :])
        x[..., i, :] = acc / t[..., i, i:i + 1]
    return x


def _solve_triangular_vjp_b(F, g, out, a, b, upper, unitriangular=False):
    return F.apply(linalg_solve_triangular, (_mT(F, a), g),
                   {"upper": not upper, "unitriangular": unitriangular})


def _solve_triangular_vjp_a(F, g, out, a, b, upper, unitriangular=False):
    n = a.shape[-1]
    mask = _tril_mask(n, n, -1 if unitriangular else 0, a)
    gb = _solve_triangular_vjp_b(F, g, out, a, b, upper, unitriangular)
    return -F.matmul(gb, _mT(F, out)) * (mask.T if upper else mask)


linalg_solve_triangular = defprim(
    "linalg_solve_triangular", _solve_triangular, _solve_triangular_vjp_a,
    _solve_triangular_vjp_b, kind="other", formulas=("-out/x", "1/x"),
    vjp_texts=("g ↦ -tri(A⁻ᵀ·g·Xᵀ)", "g ↦ A⁻ᵀ·g"), saves=(0,), saves_out=True,
    domain=[(0.5, 2.0), (-2.0, 2.0)],
    examples=[("m.linalg.solve_triangular(x + 3 * m.eye(3, dtype=x.dtype), y, upper=True)",
               (3, 3), (3, 2)),
              ("m.linalg.solve_triangular(x + 3 * m.eye(3, dtype=x.dtype), y, upper=False)",
               (2, 3, 3), (3, 1)),
              ("m.linalg.solve_triangular(x, y, upper=True)", (1, 1), (1, 1))])


def _cholesky(a):
    """out = L, lower triangular with L Lᵀ = A"""
    try:
        return xp.linalg.cholesky(a)
    except xp.linalg.LinAlgError:
        n = a.shape[-1]
        flat = a.reshape((-1, n, n))
        for b in range(flat.shape[0]):
            for k in range(1, n + 1):
                try:
                    xp.linalg.cholesky(flat[b, :k, :k])
                except xp.linalg.LinAlgError:
                    raise LinAlgError(
                        f"linalg.cholesky: {_batch(b, a.shape)}The factorization could not be "
                        "completed because the input is not positive-definite (the leading "
                        f"minor of order {k} is not positive-definite).") from None
        raise


def _cholesky_vjp(F, g, out, a):
    # torch's cholesky_backward (Murray 2016): Φ(Lᵀ ḡ) symmetrised, then L⁻ᵀ · · L⁻¹
    n = a.shape[-1]
    low = _tril_mask(n, n, 0, a)
    p = F.matmul(_mT(F, out), g) * low
    p = (p + _mT(F, p * _tril_mask(n, n, -1, a))) * 0.5
    tri = {"upper": True, "unitriangular": False}
    p = F.apply(linalg_solve_triangular, (_mT(F, out), p), tri)
    return _mT(F, F.apply(linalg_solve_triangular, (_mT(F, out), _mT(F, p)), tri))


linalg_cholesky = defprim(
    "linalg_cholesky", _cholesky, _cholesky_vjp, kind="other",
    backward_name="LinalgCholeskyExBackward0", formulas=("1/(2·out)",),
    vjp_texts=("g ↦ L⁻ᵀ·Φ(Lᵀ·g)·L⁻¹ (Murray), symmetrised",), saves_out=True,
    domain=(0.5, 2.0),
    examples=[("m.linalg.cholesky(x @ x.mT + 3 * m.eye(3, dtype=x.dtype))", (3, 3)),
              ("m.linalg.cholesky(x)", (1, 1)),
              ("m.linalg.cholesky(x @ x.mT + 2 * m.eye(2, dtype=x.dtype))", (2, 2, 2))])


def _expm(a):
    """out = exp(A) = Σ Aᵏ/k!  (Padé 13 with scaling and squaring, Higham 2005)"""
    a = xp.asarray(a)
    n = a.shape[-1]
    if a.size == 0:
        return a.copy()
    if a.dtype != xp.float64:       # float32: squaring amplifies rounding, so work in float64
        return _expm(a.astype(xp.float64)).astype(a.dtype)
    b = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.)
    norm1 = xp.abs(a).sum(-2).max(-1)
    with xp.errstate(divide="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(norm1 / 5.371920351148152)))
    s = xp.where(xp.isfinite(s), s, 0).astype(xp.int64)
    x = a / (2.0 ** s)[..., None, None].astype(a.dtype)
    eye = xp.broadcast_to(_eye(n, a), a.shape)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2
             + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for k in range(int(s.max()) if s.size else 0):
        r = xp.where((s > k)[..., None, None], r @ r, r)
    return r.astype(a.dtype, copy=False)


def _expm_vjp(F, g, out, a):
    # the block-triangular trick: exp([[Aᵀ, g], [0, Aᵀ]]) has the VJP as its top-right block;
    # the block matrix is built by matmuls with constant selectors so that it records
    n = a.shape[-1]
    top = xp.concatenate([_eye(n, a), xp.zeros((n, n), _dtype(a))])      # (2n, n): [I; 0]
    bottom = xp.concatenate([xp.zeros((n, n), _dtype(a)), _eye(n, a)])   # [0; I]
    at = _mT(F, a)

    def place(m, rows, cols):
        return F.matmul(F.matmul(rows, m), cols.T)
    block = place(at, top, top) + place(at, bottom, bottom) + place(g, top, bottom)
    e = F.apply(linalg_matrix_exp, (block,), {})
    return F.matmul(F.matmul(top.T, e), bottom)


linalg_matrix_exp = defprim(
    "linalg_matrix_exp", _expm, _expm_vjp, kind="other", formulas=("out",),
    vjp_texts=("g ↦ the top-right block of exp([[Aᵀ, g], [0, Aᵀ]])",), saves=(0,),
    examples=[("m.linalg.matrix_exp(x)", (3, 3)), ("m.matrix_exp(x)", (2, 2, 2)),
              ("m.linalg.matrix_exp(x)", (1, 1))])


# --- eigh: values and vectors ------------------------------------------------------------

def _eigvalsh(a, uplo="L"):
    """out = λ, the ascending eigenvalues of the symmetric A (one triangle read)"""
    return xp.linalg.eigvalsh(a, UPLO=uplo)


def _eigvecsh(a, uplo="L"):
    """out = V, orthonormal eigenvectors of the symmetric A, A = V diag(λ) Vᵀ"""
    return xp.linalg.eigh(a, UPLO=uplo)[1]


def _eigvalsh_vjp(F, g, out, a, uplo="L"):
    v = F.apply(linalg_eigvecsh, (a,), {"uplo": uplo})
    return F.matmul(v * F.unsqueeze(g, -2), _mT(F, v))


def _eigvecsh_vjp(F, g, out, a, uplo="L"):
    # torch's linalg_eig_backward for hermitian A: V ((Vᵀ gV)_skew / E) Vᵀ, E_ij = λj - λi;
    # equal eigenvalues divide by zero (inf/nan) as in torch
    lam = F.apply(linalg_eigvalsh, (a,), {"uplo": uplo})
    n = a.shape[-1]
    vg = F.matmul(_mT(F, out), g)
    vg = (vg - _mT(F, vg)) * 0.5
    e = F.unsqueeze(lam, -2) - F.unsqueeze(lam, -1) + _eye(n, g)
    ret = vg / e * (1 - _eye(n, g))
    return F.matmul(out, F.matmul(ret, _mT(F, out)))


linalg_eigvalsh = defprim(
    "linalg_eigvalsh", _eigvalsh, _eigvalsh_vjp, kind="other",
    backward_name="LinalgEighBackward0", formulas=("1",), vjp_texts=("g ↦ V·diag(g)·Vᵀ",),
    saves=(0,), examples=[("m.linalg.eigvalsh(x + x.mT)", (3, 3)),
                          ("m.linalg.eigh(x + x.mT).eigenvalues", (2, 3, 3)),
                          ("m.linalg.eigvalsh(x)", (1, 1))])
linalg_eigvecsh = defprim(
    "linalg_eigvecsh", _eigvecsh, _eigvecsh_vjp, kind="other",
    backward_name="LinalgEighBackward0", formulas=(None,),
    vjp_texts=("g ↦ V·(skew(Vᵀ·g)/(λⱼ - λᵢ))·Vᵀ",), saves=(0,), saves_out=True,
    # diagonally dominant: LAPACK builds differ in the eigenvectors' signs (torch's and
    # NumPy's agree on these); tests/test_linalg.py checks sign-free functions of the rest
    examples=[("m.linalg.eigh(x + x.mT + m.eye(3, dtype=x.dtype) * m.arange(0., 30., 10., "
               "dtype=x.dtype))[1]", (3, 3)),
              ("m.linalg.eigh(x + x.mT + m.eye(3, dtype=x.dtype) * m.arange(0., 30., 10., "
               "dtype=x.dtype), UPLO='U').eigenvectors", (2, 3, 3))])


# --- svd: U, S and Vh --------------------------------------------------------------------

def _svdvals(a):
    """out = S, the descending singular values of A"""
    return xp.linalg.svd(a, compute_uv=False)


def _svd_u(a, full_matrices=True):
    """out = U of A = U diag(S) Vh"""
    return xp.linalg.svd(a, full_matrices=full_matrices)[0]


def _svd_vh(a, full_matrices=True):
    """out = Vh of A = U diag(S) Vh"""
    return xp.linalg.svd(a, full_matrices=full_matrices)[2]


def _svd_parts(F, a):
    reduced = {"full_matrices": False}
    return (F.apply(linalg_svd_u, (a,), reduced), F.apply(linalg_svdvals, (a,), {}),
            F.apply(linalg_svd_vh, (a,), reduced))


def _svdvals_vjp(F, g, out, a):
    u, _, vh = _svd_parts(F, a)
    return F.matmul(u * F.unsqueeze(g, -2), vh)


def _svd_e(F, s, like):
    """E_ij = s_j² - s_i², 1 on the diagonal (torch's svd_backward)"""
    s2 = s * s
    return F.unsqueeze(s2, -2) - F.unsqueeze(s2, -1) + _eye(s.shape[-1], like)


def _svd_u_vjp(F, g, out, a, full_matrices=True):
    # torch's svd_backward with gS and gVh absent (the three rules add up to the joint one)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    u, s, vh = _svd_parts(F, a)
    if full_matrices and m > n:
        g = F.getitem(g, (Ellipsis, slice(None), slice(0, k)))
    uhgu = F.matmul(_mT(F, u), g)
    uhgu = uhgu - _mT(F, uhgu)
    ga = uhgu / _svd_e(F, s, g) * F.unsqueeze(s, -2)
    if m > n:
        ga = F.matmul(u, ga)
        gus = g / F.unsqueeze(s, -2)
        ga = ga + gus - F.matmul(u, F.matmul(_mT(F, u), gus))
        return F.matmul(ga, vh)
    return F.matmul(u, F.matmul(ga, vh))


def _svd_vh_vjp(F, g, out, a, full_matrices=True):
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    u, s, vh = _svd_parts(F, a)
    if full_matrices and m < n:
        g = F.getitem(g, (Ellipsis, slice(0, k), slice(None)))
    vhgv = F.matmul(vh, _mT(F, g))
    vhgv = vhgv - _mT(F, vhgv)
    ga = F.unsqueeze(s, -1) * (vhgv / _svd_e(F, s, g))
    if m < n:
        ga = F.matmul(ga, vh)
        sgvh = g / F.unsqueeze(s, -1)
        ga = ga + sgvh - F.matmul(F.matmul(sgvh, _mT(F, vh)), vh)
        return F.matmul(u, ga)
    return F.matmul(u, F.matmul(ga, vh))


linalg_svdvals = defprim(
    "linalg_svdvals", _svdvals, _svdvals_vjp, kind="other", backward_name="LinalgSvdBackward0",
    formulas=("sign(x)",), vjp_texts=("g ↦ U·diag(g)·Vh",), saves=(0,),
    examples=[("m.linalg.svdvals(x)", (3, 2)), ("m.linalg.svd(x).S", (2, 2, 3)),
              ("m.linalg.svdvals(x)", (1, 1))])
linalg_svd_u = defprim(
    "linalg_svd_u", _svd_u, _svd_u_vjp, kind="other", backward_name="LinalgSvdBackward0",
    formulas=(None,), vjp_texts=("g ↦ U·(skew(Uᵀ·g)/E)·S·Vh + (I - UUᵀ)·g·S⁻¹·Vh",), saves=(0,),
    examples=[("m.linalg.svd(x, full_matrices=False)[0]", (3, 3)),
              ("m.linalg.svd(x).U", (2, 3, 3))])
linalg_svd_vh = defprim(
    "linalg_svd_vh", _svd_vh, _svd_vh_vjp, kind="other", backward_name="LinalgSvdBackward0",
    formulas=(None,), vjp_texts=("g ↦ U·S·(skew(Vh·gᵀ)/E)·Vh + U·S⁻¹·g·(I - VVᵀ)",), saves=(0,),
    examples=[("m.linalg.svd(x, full_matrices=False)[2]", (3, 3)),
              ("m.linalg.svd(x).Vh", (2, 3, 3))])


# --- qr: Q and R ---------------------------------------------------------------------------

def _qr_q(a, mode="reduced"):
    """out = Q of A = QR (orthonormal columns)"""
    return xp.linalg.qr(a, mode=mode)[0]


def _qr_r(a, mode="reduced"):
    """out = R of A = QR (upper triangular)"""
    return xp.linalg.qr(a, mode="reduced" if mode == "r" else mode)[1]


def _qr_backward(F, gq, gr, a, mode):
    """torch's linalg_qr_backward, gQ or gR possibly None (m ≥ n: Walter and Lehmann;
    m < n: the square QR of A's first m columns, the rest through Q)"""
    m, n = a.shape[-2], a.shape[-1]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    q = F.apply(linalg_qr_q, (a,), {"mode": "reduced"})
    r = F.apply(linalg_qr_r, (a,), {"mode": "reduced"})
    if m >= n:
        return _qr_square_backward(F, gq, gr, q, r, n)
    x = F.getitem(a, (Ellipsis, slice(None), slice(0, m)))
    y = F.getitem(a, (Ellipsis, slice(None), slice(m, None)))
    u = F.getitem(r, (Ellipsis, slice(None), slice(0, m)))
    gx = gy = None
    if gr is not None:
        gv = F.getitem(gr, (Ellipsis, slice(None), slice(m, None)))
        gy = F.matmul(q, gv)
        yv = F.matmul(y, _mT(F, gv))
        gq = yv if gq is None else gq + yv
        gr = F.getitem(gr, (Ellipsis, slice(None), slice(0, m)))
    gx = _qr_square_backward(F, gq, gr, q, u, m)
    dt = _dtype(a)
    left = xp.eye(m, n, dtype=dt)                       # [I | 0]
    ga = F.matmul(gx, left)
    if gy is not None:
        ga = ga + F.matmul(gy, xp.eye(n - m, n, m, dtype=dt))   # [0 | I]
    return ga


def _qr_square_backward(F, gq, gr, q, r, n):
    # gA = (gQ + Q copyltu(M)) R⁻ᵀ, M = R gRᵀ - gQᵀ Q, copyltu(M) = tril(M) + tril(M, -1)ᵀ
    low = _tril_mask(n, n, 0, r)
    terms = []
    if gr is not None:
        terms.append(F.matmul(r, _mT(F, gr)))
    if gq is not None:
        terms.append(-F.matmul(_mT(F, gq), q))
    mm = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    c = mm * low + _mT(F, mm * _tril_mask(n, n, -1, r))
    b = F.matmul(q, c)
    if gq is not None:
        b = b + gq
    x = F.apply(linalg_solve_triangular, (r, _mT(F, b)), {"upper": True, "unitriangular": False})
    return _mT(F, x)


linalg_qr_q = defprim(
    "linalg_qr_q", _qr_q, lambda F, g, out, a, mode="reduced": _qr_backward(F, g, None, a, mode),
    kind="other", backward_name="LinalgQrBackward0", formulas=(None,),
    vjp_texts=("g ↦ (g + Q·copyltu(-gᵀQ))·R⁻ᵀ",), saves=(0,),
    examples=[("m.linalg.qr(x)[0]", (4, 3)), ("m.linalg.qr(x).Q", (2, 3, 3)),
              ("m.linalg.qr(x).Q", (2, 4))])
linalg_qr_r = defprim(
    "linalg_qr_r", _qr_r, lambda F, g, out, a, mode="reduced": _qr_backward(F, None, g, a, mode),
    kind="other", backward_name="LinalgQrBackward0", formulas=(None,),
    vjp_texts=("g ↦ Q·copyltu(R·gᵀ)·R⁻ᵀ",), saves=(0,),
    examples=[("m.linalg.qr(x)[1]", (4, 3)), ("m.linalg.qr(x).R", (2, 3, 3)),
              ("m.linalg.qr(x).R", (2, 4))])


# --- LU with partial pivoting --------------------------------------------------------------

def lu_pivots(a):
    """(LU, pivots): LAPACK getrf's partial pivoting on a batch, pivots 1-based int32, and
    info (int32: the first zero pivot, 1-based, 0 if none)"""
    # xp.copy, not xp.array: a vmapped tensor's stand-in values must refuse to be read
    a = xp.copy(a)
    m, n = a.shape[-2], a.shape[-1]
    batch = a.shape[:-2]
    k = min(m, n)
    if a.size == 0:
        return a, xp.zeros(batch + (k,), dtype=xp.int32), xp.zeros(batch, dtype=xp.int32)
    flat = a.reshape((-1, m, n))
    b = xp.arange(flat.shape[0])
    piv = xp.zeros((flat.shape[0], k), dtype=xp.int32)
    info = xp.zeros(flat.shape[0], dtype=xp.int32)
    with xp.errstate(all="ignore"):
        for j in range(k):
            p = xp.argmax(xp.abs(flat[:, j:, j]), axis=-1) + j
            piv[:, j] = p + 1
            row = flat[b, j].copy()
            flat[b, j] = flat[b, p]
            flat[b, p] = row
            d = flat[:, j, j]
            zero = d == 0
            info = xp.where(zero & (info == 0), j + 1, info).astype(xp.int32)
            scale = xp.where(zero, 1, d)
            flat[:, j + 1:, j] /= scale[:, None]
            flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j, None] * flat[:, j, None, j + 1:]
    return flat.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def permutation_from_pivots(piv, m, dtype):
    """P with A = P L U, from LAPACK's 1-based row swaps"""
    batch = piv.shape[:-1]
    flat = piv.reshape((-1, piv.shape[-1])) - 1
    perm = xp.broadcast_to(xp.arange(m), (flat.shape[0], m)).copy()
    b = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        row = perm[b, j].copy()
        perm[b, j] = perm[b, p]
        perm[b, p] = row
    pm = xp.zeros((flat.shape[0], m, m), dtype=dtype)
    pm[b[:, None], perm, xp.arange(m)[None, :]] = 1
    return pm.reshape(batch + (m, m))


def _lu_factor(a):
    """out = L + U - I packed, P A = L U with partial pivoting (pivots kept apart)"""
    return lu_pivots(a)[0]


def _lu_factor_vjp(F, g, out, a):
    # torch's linalg_lu_backward (square, wide and tall), with L, U and their gradients
    # unpacked from the packed LU: gA = P L⁻ᵀ (tril(Lᵀ gL, -1) + triu(gU Uᵀ)) U⁻ᵀ when square
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    piv = lu_pivots(F.raw(a))[1]
    p = permutation_from_pivots(piv, m, _dtype(a))
    low_mask = xp.tri(m, k, -1, dtype=_dtype(g))
    up_mask = 1 - xp.tri(k, n, -1, dtype=_dtype(g))
    cols = F.getitem(out, (Ellipsis, slice(None), slice(0, k)))      # (m, k)
    rows = F.getitem(out, (Ellipsis, slice(0, k), slice(None)))      # (k, n)
    low = cols * low_mask + xp.eye(m, k, dtype=_dtype(g))
    up = rows * up_mask
    gl = F.getitem(g, (Ellipsis, slice(None), slice(0, k))) * low_mask
    gu = F.getitem(g, (Ellipsis, slice(0, k), slice(None))) * up_mask
    unit_upper = {"upper": True, "unitriangular": True}
    if m == n:
        phi = F.matmul(_mT(F, low), gl) * _tril_mask(k, k, -1, g) + \
            F.matmul(gu, _mT(F, up)) * (1 - _tril_mask(k, k, -1, g))
        x = F.apply(linalg_solve_triangular, (_mT(F, low), phi), unit_upper)
        x = _mT(F, F.apply(linalg_solve_triangular, (up, _mT(F, x)),
                           {"upper": True, "unitriangular": False}))
        return F.matmul(p, x)
    dt = _dtype(g)
    if m < n:
        # wide: A = P L [U1 U2]
        u1 = F.getitem(up, (Ellipsis, slice(None), slice(0, m)))
        x = (F.matmul(_mT(F, low), gl) - F.matmul(gu, _mT(F, up))) * _tril_mask(m, m, -1, g)
        # x U1⁻ᵀ = (U1⁻¹ xᵀ)ᵀ
        x = _mT(F, F.apply(linalg_solve_triangular, (u1, _mT(F, x)),
                           {"upper": True, "unitriangular": False}))
        x = F.matmul(x, xp.eye(m, n, dtype=dt)) + gu        # [x + gU1, gU2]
        x = F.apply(linalg_solve_triangular, (_mT(F, low), x), unit_upper)
        return F.matmul(p, x)
    # tall: A = P [L1; L2] U
    l1 = F.getitem(low, (Ellipsis, slice(0, n), slice(None)))
    x = (F.matmul(gu, _mT(F, up)) - F.matmul(_mT(F, low), gl)) * (1 - _tril_mask(n, n, -1, g))
    x = F.apply(linalg_solve_triangular, (_mT(F, l1), x), unit_upper)
    x = F.matmul(xp.eye(m, n, dtype=dt), x) + gl            # [x + gL1; gL2]
    # x U⁻ᵀ = (U⁻¹ xᵀ)ᵀ
    x = _mT(F, F.apply(linalg_solve_triangular, (up, _mT(F, x)),
                       {"upper": True, "unitriangular": False}))
    return F.matmul(p, x)


linalg_lu_factor = defprim(
    "linalg_lu_factor", _lu_factor, _lu_factor_vjp, kind="other",
    backward_name="LinalgLuFactorExBackward0", formulas=("1",),
    vjp_texts=("g ↦ P·L⁻ᵀ·(tril(Lᵀ·g, -1) + triu(g·Uᵀ))·U⁻ᵀ",), saves=(0,), saves_out=True,
    examples=[("m.linalg.lu_factor(x)[0]", (3, 3)), ("m.linalg.lu_factor(x).LU", (2, 3, 3)),
              ("m.linalg.lu_factor(x)[0]", (1, 1))])
