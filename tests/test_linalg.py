"""Issue #12's linear algebra: einsum, products with scaling, distances and torch.linalg.

Values, first and second derivatives through tests/oracle.py (against torch when it is
installed, central differences always); errors and the Tensor and in-place forms below.
Functions of eigen- and singular vectors are checked through sign-free expressions (|V|,
U·diag(S)·Vh), as LAPACK builds differ in the vectors' signs."""
import numpy as np
import pytest

import chainrule as cr
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

rng = np.random.default_rng(0)


def R(*shape):
    return rng.standard_normal(shape)


def spd(*shape):
    """a well-conditioned symmetric positive-definite batch"""
    a = R(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def well(*shape):
    """a well-conditioned square batch"""
    return R(*shape) + 3 * np.eye(shape[-1])


# --- einsum ----------------------------------------------------------------------------------

@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("i,j->ij", [(3,), (2,)]), ("i,i", [(4,), (4,)]),
    ("ij,kj", [(2, 3), (1, 3)]), ("bA,Ab", [(2, 3), (3, 2)]), ("bA", [(2, 3)]),
    ("iij->ji", [(2, 2, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("...", [(2, 3)]),
    ("i...->...", [(2, 3, 4)]), ("ij,ij->ij", [(2, 3), (1, 3)]),
])
def test_einsum(eq, shapes):
    arrays = [R(*s) for s in shapes]
    check(lambda m, *xs: m.einsum(eq, *xs), *arrays, second=True)


def test_einsum_sublist_and_list_forms():
    a, b = R(2, 3), R(3, 4)
    check(lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b)
    check(lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2]), a, b)
    check(lambda m, x, y: m.einsum(x, [Ellipsis, 1], y, [1, 2], [Ellipsis, 2]), a, b)
    check(lambda m, x, y: m.einsum("ij,jk", [x, y]), a, b)


def test_einsum_errors():
    a = cr.ones(2, 3)
    with pytest.raises(RuntimeError, match="subscript j has size 2 for operand 1 which does not "
                                           "broadcast with previously seen size 3"):
        cr.einsum("ij,jk", a, cr.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"number of subscripts in the equation \(2\) does not "
                                           r"match the number of dimensions \(3\)"):
        cr.einsum("ij", cr.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        cr.einsum("ij,jk", a, cr.ones(3, 4, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="output subscript i appears more than once"):
        cr.einsum("i->ii", cr.ones(3))
    with pytest.raises(RuntimeError, match="output subscript j does not appear in the equation "
                                           "for any input operand"):
        cr.einsum("i,i->j", cr.ones(3), cr.ones(3))
    with pytest.raises(RuntimeError, match="found '.' for operand 0 that is not part of any "
                                           "ellipsis"):
        cr.einsum("i.j", cr.ones(2, 2))
    with pytest.raises(RuntimeError, match="fewer operands were provided"):
        cr.einsum("ij,j", cr.ones(2, 3))


def test_einsum_float32_and_empty():
    out = cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(3, 0))
    assert out.shape == (2, 0) and out.dtype == cr.float32
    assert cr.einsum("ii->i", cr.ones(3, 3)).dtype == cr.float32


# --- products with scaling, kron, tensordot, inner, ... ----------------------------------------

@pytest.mark.parametrize("name,shapes", [
    ("addmm", [(2, 4), (2, 3), (3, 4)]), ("addmm", [(4,), (2, 3), (3, 4)]),
    ("addbmm", [(2, 4), (3, 2, 3), (3, 3, 4)]), ("baddbmm", [(3, 2, 4), (3, 2, 3), (3, 3, 4)]),
    ("addmv", [(2,), (2, 3), (3,)]), ("addr", [(2, 3), (2,), (3,)]),
])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_add_products(name, shapes, beta, alpha):
    arrays = [R(*s) for s in shapes]
    check(lambda m, *xs: getattr(m, name)(*xs, beta=beta, alpha=alpha), *arrays, second=True)
    check(lambda m, *xs: getattr(xs[0], name)(*xs[1:], beta=beta, alpha=alpha), *arrays)


def test_add_products_beta_zero_ignores_nan():
    out = cr.addmm(cr.full((2, 2), float("nan")), cr.ones(2, 3), cr.ones(3, 2), beta=0)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 3.0))


@pytest.mark.parametrize("name,shapes", [
    ("addmm_", [(2, 4), (2, 3), (3, 4)]), ("addbmm_", [(2, 4), (3, 2, 3), (3, 3, 4)]),
    ("baddbmm_", [(3, 2, 4), (3, 2, 3), (3, 3, 4)]), ("addmv_", [(2,), (2, 3), (3,)]),
    ("addr_", [(2, 3), (2,), (3,)])])
def test_add_products_in_place(name, shapes):
    arrays = [R(*s) for s in shapes]
    t = cr.tensor(arrays[0])
    r = getattr(t, name)(*[cr.tensor(a) for a in arrays[1:]], beta=2, alpha=3)
    assert r is t
    want = getattr(cr, name[:-1])(*[cr.tensor(a) for a in arrays], beta=2, alpha=3)
    np.testing.assert_allclose(t.numpy(), want.numpy())
    # recorded: gradients flow through the in-place form
    check(lambda m, *xs: getattr(xs[0] * 1, name)(*xs[1:], beta=2, alpha=3), *arrays)


@pytest.mark.parametrize("program,shapes", [
    (lambda m, x, y: m.kron(x, y), [(2, 3), (2, 2)]),
    (lambda m, x, y: m.kron(x, y), [(2,), (3, 2)]),
    (lambda m, x, y: x.kron(y), [(2, 1, 2), (3,)]),
    (lambda m, x, y: m.tensordot(x, y, 2), [(2, 3, 4), (3, 4, 2)]),
    (lambda m, x, y: m.tensordot(x, y, ([0, 2], [2, 0])), [(2, 3, 4), (4, 2, 2)]),
    (lambda m, x, y: m.tensordot(x, y, dims=0), [(2,), (3,)]),
    (lambda m, x, y: m.tensordot(x, y, dims=([0, 1], [2, 0])), [(1, 1, 1), (2, 1, 2)]),
    (lambda m, x, y: m.inner(x, y), [(2, 3), (4, 3)]),
    (lambda m, x, y: x.inner(y), [(3,), (3,)]),
    (lambda m, x, y: m.vdot(x, y), [(3,), (3,)]),
    (lambda m, x, y: x.vdot(y), [(3,), (3,)]),
    (lambda m, x, y: m.mv(x, y), [(2, 3), (3,)]),
    (lambda m, x, y: x.mv(y), [(2, 3), (3,)]),
    (lambda m, x, y: x.ger(y), [(2,), (3,)]),
    (lambda m, x, y: m.chain_matmul(x, y, x.mT), [(2, 3), (3, 3)]),
    (lambda m, x, y: m.linalg.multi_dot([x, y, x]), [(3,), (3, 3)]),
    (lambda m, x, y: m.linalg.multi_dot([x, y]), [(2, 3), (3,)]),
    (lambda m, x, y: m.linalg.cross(x, y), [(4, 3), (4, 3)]),
    (lambda m, x, y: m.linalg.cross(x, y, dim=0), [(3, 2), (3, 1)]),
    (lambda m, x, y: m.cross(x, y, dim=1), [(2, 3), (2, 3)]),
    (lambda m, x, y: x.cross(y, 1), [(2, 3), (2, 3)]),
    (lambda m, x, y: m.linalg.vecdot(x, y), [(2, 3), (3,)]),
    (lambda m, x, y: m.linalg.vecdot(x, y, dim=0), [(2, 3), (2, 1)]),
    (lambda m, x, y: m.linalg.matmul(x, y), [(2, 3), (3,)]),
])
def test_products(program, shapes):
    check(program, *[R(*s) for s in shapes], second=True)


def test_product_errors():
    with pytest.raises(RuntimeError, match="linalg.cross: inputs dimension -1 must have length 3. "
                                           "Got 2 and 2"):
        cr.linalg.cross(cr.ones(2), cr.ones(2))
    with pytest.raises(RuntimeError, match="multi_dot"):
        cr.linalg.multi_dot([cr.ones(2, 2)])
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        cr.tensordot(cr.ones(2, 3), cr.ones(2, 3), 1)


# --- distances and norms -------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_distances(p):
    check(lambda m, x, y: m.cdist(x, y, p=p), R(4, 3), R(5, 3))
    check(lambda m, x, y: m.cdist(x, y, p=p), R(2, 4, 3), R(2, 2, 3))
    check(lambda m, x: m.pdist(x, p=p), R(4, 3))
    check(lambda m, x, y: m.dist(x, y, p), R(3, 2), R(2))
    check(lambda m, x, y: x.dist(y, p), R(3, 2), R(3, 2))


def test_cdist_second_derivative_and_errors():
    check(lambda m, x, y: m.cdist(x, y), R(3, 2), R(2, 2))   # torch has no second derivative
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns"):
        cr.cdist(cr.ones(2, 3), cr.ones(2, 2))


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, float("inf"), float("-inf"), 0])
def test_vector_norm(ord):
    x = R(3, 4)
    # (torch's second derivative for ord 1 is a ZeroTensor, which its numpy() refuses)
    check(lambda m, x: m.linalg.vector_norm(x, ord), x, second=ord in (2, 3))
    check(lambda m, x: m.linalg.vector_norm(x, ord, dim=(0,), keepdim=True), x)
    check(lambda m, x: m.linalg.norm(x, ord, dim=1), x)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")])
def test_matrix_norm(ord):
    x = R(2, 3, 4)
    check(lambda m, x: m.linalg.matrix_norm(x, ord), x)
    check(lambda m, x: m.linalg.matrix_norm(x, ord, dim=(0, 2), keepdim=True), x)
    check(lambda m, x: m.linalg.norm(x[0], ord), x)


def test_norm_aliases():
    x = R(3, 4)
    check(lambda m, x: m.linalg.norm(x), x)
    check(lambda m, x: m.nuclear_norm(x), x)
    check(lambda m, x: m.frobenius_norm(x, (0, 1)), x)
    check(lambda m, x: m.norm_except_dim(x, 2, 1), x)
    check(lambda m, x: m.renorm(x, 2, 0, 1.0), x)
    check(lambda m, x: x.renorm(1, 1, 0.5), x)
    t = cr.tensor(x)
    assert t.renorm_(2, 0, 1.0) is t
    np.testing.assert_allclose(np.linalg.norm(t.numpy(), axis=1), np.minimum(
        np.linalg.norm(x, axis=1), 1.0), rtol=1e-6)


def test_vector_norm_errors():
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point"):
        cr.linalg.vector_norm(cr.ones(3, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported"):
        cr.linalg.matrix_norm(cr.ones(2, 2), 3)


# --- inverses, determinants, solves ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1)])
def test_inverse_and_determinants(shape):
    a = well(*shape)
    check(lambda m, x: m.linalg.inv(x), a, second=True)
    check(lambda m, x: m.inverse(x), a)
    check(lambda m, x: x.inverse(), a)
    check(lambda m, x: m.linalg.inv_ex(x), a)
    # (torch's second derivative of a 1 × 1 det is None, which the oracle shapes as (1,))
    check(lambda m, x: m.linalg.det(x), a, second=shape != (1, 1))
    check(lambda m, x: m.det(x), a)
    check(lambda m, x: x.det(), a)
    check(lambda m, x: m.linalg.slogdet(x), a, second=True)
    check(lambda m, x: x.slogdet(), a)
    check(lambda m, x: m.logdet(x @ x.mT), a)
    check(lambda m, x: x.logdet(), a @ np.swapaxes(a, -1, -2))


def test_singular_and_empty():
    z = cr.zeros(2, 2)
    with pytest.raises(cr.linalg.LinAlgError, match="linalg.inv: The diagonal element 1 is zero, "
                       "the inversion could not be completed because the input matrix is singular"):
        cr.linalg.inv(z)
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 1\): The diagonal "
                                           "element 1 is zero"):
        cr.linalg.inv(cr.stack([cr.eye(2), z]))
    with pytest.raises(cr.linalg.LinAlgError, match="torch.linalg.solve: The solver failed "
                                                    "because the input matrix is singular."):
        cr.linalg.solve(z, cr.ones(2))
    nz = cr.tensor([[1., 2], [2, 1]])
    with pytest.raises(cr.linalg.LinAlgError, match=r"linalg.cholesky: The factorization could "
                       r"not be completed because the input is not positive-definite \(the "
                       r"leading minor of order 2 is not positive-definite\)."):
        cr.linalg.cholesky(nz)
    L, info = cr.linalg.cholesky_ex(nz)
    assert int(info) == 2 and info.dtype == cr.int32
    inv, info = cr.linalg.inv_ex(cr.stack([cr.eye(2), z]))
    assert info.tolist() == [0, 1]
    np.testing.assert_array_equal(inv[0].numpy(), np.eye(2))
    assert issubclass(cr.linalg.LinAlgError, RuntimeError)
    assert float(cr.linalg.det(z)) == 0.0
    assert cr.linalg.inv(cr.ones(0, 3, 3)).shape == (0, 3, 3)
    assert cr.linalg.det(cr.ones(2, 0, 0)).tolist() == [1.0, 1.0]


def test_shape_and_dtype_errors():
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square matrices, but "
                                           "they are 2 by 3 matrices"):
        cr.linalg.inv(cr.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.inv: The input tensor A must have at least 2 "
                                           "dimensions."):
        cr.linalg.inv(cr.ones(2))
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point or complex "
                                           "tensor as input. Got Long"):
        cr.linalg.inv(cr.eye(2, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="linalg.inv: Low precision dtypes not supported. Got "
                                           "Half"):
        cr.linalg.inv(cr.eye(2, dtype=cr.float16))
    with pytest.raises(RuntimeError, match=r"linalg.solve: Incompatible shapes of A and B for the "
                                           r"equation AX = B \(2x2 and 3x1\)"):
        cr.linalg.solve(cr.eye(2), cr.ones(3))
    assert cr.linalg.inv(cr.eye(2)).dtype == cr.float32


@pytest.mark.parametrize("ashape,bshape", [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)),
                                           ((2, 3, 3), (2, 3)), ((2, 3, 3), (1, 3, 2))])
def test_solve(ashape, bshape):
    a, b = well(*ashape), R(*bshape)
    check(lambda m, x, y: m.linalg.solve(x, y), a, b, second=True)
    check(lambda m, x, y: m.linalg.solve_ex(x, y)[0], a, b)
    check(lambda m, x, y: m.linalg.solve(x, y, left=False), a, R(4, 3))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(upper, left, unit):
    a, b = well(2, 3, 3), R(2, 3, 3)
    check(lambda m, x, y: m.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                    unitriangular=unit), a, b, second=True)


def test_triangular_solve_and_cholesky_family():
    a, b = well(3, 3), R(3, 2)
    check(lambda m, x, y: m.triangular_solve(y, x), a, b)
    # (torch's gradient of A with transpose=True is not masked to A's triangle: values only)
    check(lambda m, x, y: m.triangular_solve(y, x, upper=False, transpose=True), a, b,
          grad=False)
    check(lambda m, x, y: m.triangular_solve(y, m.tril(x), upper=False, transpose=True), a, b)
    check(lambda m, x, y: y.triangular_solve(x, True, False, True), a, b)
    s = spd(3, 3)
    check(lambda m, x: m.linalg.cholesky(x @ x.mT + m.eye(3, dtype=x.dtype)), a, second=True)
    check(lambda m, x: m.linalg.cholesky(x @ x.mT + m.eye(3, dtype=x.dtype), upper=True), a)
    check(lambda m, x: m.cholesky(x @ x.mT + m.eye(3, dtype=x.dtype)), a)
    check(lambda m, x: (x @ x.mT + m.eye(3, dtype=x.dtype)).cholesky(upper=True), a)
    check(lambda m, x: m.linalg.cholesky_ex(x @ x.mT + m.eye(3, dtype=x.dtype)), a)
    L = np.linalg.cholesky(s)
    # torch's gradient reaches all of L (see test_cholesky_solve_gradient_as_torch): central
    # differences agree through an explicit tril
    check(lambda m, x, y: m.cholesky_solve(y, x + 5 * m.triu(x.mT, 1)), L, b, grad=False)
    check(lambda m, x, y: m.cholesky_solve(y, m.tril(x)), L, b, second=True)
    check(lambda m, x, y: m.cholesky_solve(y, m.triu(x.mT), upper=True), L, b)
    check(lambda m, x, y: y.cholesky_solve(m.tril(x)), L, b)
    check(lambda m, x: m.cholesky_inverse(m.tril(x)), L)
    check(lambda m, x: m.triu(x).cholesky_inverse(upper=True), L.T)
    check(lambda m, x: m.linalg.cholesky(x @ x.mT + 3 * m.eye(3, dtype=x.dtype)), R(2, 3, 3),
          second=True)


# --- factorizations --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 3), (2, 2, 4)])
def test_qr(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.qr(x), a, second=True)
    check(lambda m, x: m.linalg.qr(x).R, a)
    check(lambda m, x: m.linalg.qr(x).Q, a)
    check(lambda m, x: m.linalg.qr(x, mode="r")[1], a, grad=False)
    check(lambda m, x: m.qr(x), a)
    check(lambda m, x: x.qr(some=False), a, grad=shape[-2] <= shape[-1])
    if shape[-2] <= shape[-1]:
        check(lambda m, x: m.linalg.qr(x, mode="complete"), a)


def test_qr_errors():
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        cr.linalg.qr(cr.ones(2, 2), mode="x")
    x = cr.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        cr.linalg.qr(x, mode="r")[1].sum().backward()


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_eigh(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.eigvalsh(x + x.mT), a, second=True)
    check(lambda m, x: m.linalg.eigvalsh(x + x.mT, UPLO="U"), a)
    check(lambda m, x: m.linalg.eigh(x + x.mT)[0], a)
    # sign-free functions of the vectors
    check(lambda m, x: m.linalg.eigh(x + x.mT).eigenvectors.abs(), a, second=True)
    check(lambda m, x: m.linalg.eigh(x + x.mT, UPLO="U").eigenvectors ** 2, a)


def test_eigh_degenerate_gradient_is_nan_as_torch():
    a = cr.eye(3, dtype=cr.float64, requires_grad=True)
    cr.linalg.eigvalsh(a).sum().backward()           # values only: finite
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3))
    b = cr.eye(3, dtype=cr.float64, requires_grad=True)
    (cr.linalg.eigh(b).eigenvectors * cr.arange(9.).reshape(3, 3)).sum().backward()
    assert not np.isfinite(b.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 3), (2, 2, 3)])
def test_svd(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.svdvals(x), a, second=True)
    check(lambda m, x: m.linalg.svd(x).S, a)
    check(lambda m, x: m.linalg.svd(x, full_matrices=False).U.abs(), a, second=True)
    check(lambda m, x: m.linalg.svd(x, full_matrices=False).Vh.abs(), a, second=True)
    check(lambda m, x: m.linalg.svd(x).U.abs(), a, grad=shape[-2] <= shape[-1])
    check(lambda m, x: m.linalg.svd(x).Vh.abs(), a, grad=shape[-2] >= shape[-1])

    def rebuild(m, x):
        u, s, vh = m.linalg.svd(x, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh
    check(rebuild, a, second=True)

    def rebuild_old(m, x):
        u, s, v = m.svd(x)
        return (u * s.unsqueeze(-2)) @ v.mT
    check(rebuild_old, a)
    check(lambda m, x: x.svd(compute_uv=False)[1], a)


def test_svdvals_of_repeated_singular_values_is_finite():
    a = cr.eye(3, dtype=cr.float64, requires_grad=True)
    cr.linalg.svdvals(a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3))


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1), (4, 4)])
def test_matrix_exp(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.matrix_exp(x), a, second=True)
    check(lambda m, x: m.matrix_exp(x * 3), a)
    check(lambda m, x: x.matrix_exp(), a)
    assert cr.linalg.matrix_exp(cr.zeros(0, 2, 2)).shape == (0, 2, 2)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n):
    a = well(2, 3, 3) / 3
    check(lambda m, x: m.linalg.matrix_power(x, n), a, grad=n != 0)
    check(lambda m, x: x.matrix_power(n), a, grad=n != 0)
    check(lambda m, x: m.matrix_power(x, n), a, grad=n != 0)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 3)])
def test_pinv_and_lstsq(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.pinv(x), a, second=True)
    check(lambda m, x: m.pinverse(x), a)
    check(lambda m, x: x.pinverse(), a)
    b = R(*(shape[:-1] + (2,)))
    check(lambda m, x, y: m.linalg.lstsq(x, y).solution, a, b)
    check(lambda m, x, y: m.linalg.lstsq(x, y, driver="gelsd").residuals, a, b)
    check(lambda m, x, y: m.linalg.lstsq(x, y, driver="gelsd"), a, b, grad=False)
    check(lambda m, x, y: m.linalg.lstsq(x, y[..., 0]).solution, a, b)


def test_pinv_rank_deficient_and_hermitian():
    a = R(4, 2) @ R(2, 3)                                  # rank 2
    check(lambda m, x: m.linalg.pinv(x), a, grad=False)     # not differentiable at rank loss
    s = spd(3, 3)
    check(lambda m, x: m.linalg.pinv(x + x.mT, hermitian=True), s, grad=False)
    check(lambda m, x: m.linalg.pinv(x, hermitian=True), R(3, 3), grad=False)   # lower triangle
    check(lambda m, x: m.linalg.matrix_rank(x), a, grad=False)
    check(lambda m, x: m.linalg.matrix_rank(x, hermitian=True), s, grad=False)
    check(lambda m, x: m.linalg.matrix_rank(x, atol=1.0, rtol=0.0), a, grad=False)


def test_cond():
    a = well(2, 3, 3)
    for p in (None, 2, -2):
        check(lambda m, x: m.linalg.cond(x, p), a)
    for p in ("fro", "nuc", 1, float("inf")):       # torch's backward fails here (in place)
        check(lambda m, x: m.linalg.cond(x, p), a, grad=False)
        check(lambda m, x: m.linalg.matrix_norm(x, p) * m.linalg.matrix_norm(m.linalg.inv(x), p),
              a)


def test_tensorinv_and_tensorsolve():
    a = well(6, 6).reshape(2, 3, 6)
    check(lambda m, x: m.linalg.tensorinv(x, ind=2), a)
    b = R(2, 3)
    check(lambda m, x, y: m.linalg.tensorsolve(x, y), a, b)
    check(lambda m, x, y: m.linalg.tensorsolve(x.permute(2, 0, 1), y, dims=(0,)), a, b)


def test_diagonal_and_vander():
    x = R(2, 3, 4)
    for off in (0, 1, -1, 5):
        check(lambda m, x: m.linalg.diagonal(x, offset=off), x)
    check(lambda m, x: m.linalg.diagonal(x, dim1=0, dim2=2), x)
    v = R(2, 3)
    check(lambda m, x: m.linalg.vander(x), v, second=True)
    check(lambda m, x: m.linalg.vander(x, N=5), v)
    check(lambda m, x: m.linalg.vander(x, N=3), np.array(2.0))
    check(lambda m, x: m.vander(x), v[0], grad=False)       # torch's backward fails (in place)
    check(lambda m, x: m.vander(x, 4, increasing=True), v[0], grad=False)
    check(lambda m, x: m.linalg.vander(x, N=4), v[0])      # the same powers, with gradients
    np.testing.assert_array_equal(cr.linalg.vander(cr.tensor([2, 3])).numpy(), [[1, 2], [1, 3]])
    assert cr.linalg.vander(cr.tensor([2, 3])).dtype == cr.int64


def test_householder_geqrf_orgqr_ormqr():
    a = R(4, 3)
    check(lambda m, x: m.geqrf(x), a, grad=False)
    aa, tau = np.linalg.qr(a, mode="raw")
    qr_a, tau = aa.T.copy(), tau
    check(lambda m, x, t: m.linalg.householder_product(x, t), qr_a, tau, second=True)
    check(lambda m, x, t: m.orgqr(x, t), qr_a, tau)
    check(lambda m, x, t: x.orgqr(t), qr_a, tau)
    c = R(4, 2)
    check(lambda m, x, t, y: m.ormqr(x, t, y), qr_a, tau, c)
    check(lambda m, x, t, y: m.ormqr(x, t, y.mT, left=False, transpose=True), qr_a, tau, c)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_lu(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.lu_factor(x), a, second=True)
    check(lambda m, x: m.linalg.lu_factor_ex(x), a)
    check(lambda m, x: m.linalg.lu(x), a)
    check(lambda m, x: m.lu_unpack(*m.linalg.lu_factor(x)), a)
    check(lambda m, x: m.lu(x), a)
    check(lambda m, x: x.lu(get_infos=True), a)
    b = R(*(shape[:-1] + (2,)))
    for left in (True, False):
        for adjoint in (True, False):
            bb = b if left else np.swapaxes(b, -1, -2)
            check(lambda m, x, y: m.linalg.lu_solve(*m.linalg.lu_factor(x), y, left=left,
                                                    adjoint=adjoint), a, bb)
    check(lambda m, x, y: m.lu_solve(y, *m.linalg.lu_factor(x)), a, b)
    check(lambda m, x, y: y.lu_solve(*m.linalg.lu_factor(x)), a, b)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 2, 4), (2, 5, 2)])
def test_lu_rectangular(shape):
    a = R(*shape)
    check(lambda m, x: m.linalg.lu_factor(x), a, second=True)
    check(lambda m, x: m.linalg.lu(x), a)


def test_lu_singular():
    with pytest.raises(RuntimeError, match=r"torch.linalg.lu_factor: U\[1,1\] is zero"):
        cr.linalg.lu_factor(cr.zeros(2, 2))
    assert cr.linalg.lu_factor_ex(cr.zeros(2, 2)).info.tolist() == 1


def test_tensor_adjoint_and_mH():
    x = R(2, 3)
    check(lambda m, x: x.adjoint(), x)
    check(lambda m, x: x.mH, x)
    check(lambda m, x: x.mT, x)


def test_namespace_covers_torch_linalg():
    names = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
             "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq", "lu",
             "lu_factor",
             "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
             "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
             "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
             "vecdot", "vector_norm"]
    assert [n for n in names if not hasattr(cr.linalg, n)] == []


@pytest.mark.parametrize("seed", range(6))
def test_ldl(seed):
    r = np.random.default_rng(seed)
    n = 2 + seed % 4
    a = r.standard_normal((n, n))
    a = a + a.T if seed % 2 else a @ a.T + np.eye(n)      # indefinite (2 × 2 pivots) and SPD
    b = r.standard_normal((n, 2))
    check(lambda m, x: m.linalg.ldl_factor(x), a, grad=False)
    check(lambda m, x: m.linalg.ldl_factor_ex(x), a, grad=False)
    ld, piv = cr.linalg.ldl_factor(cr.tensor(a))
    x = cr.linalg.ldl_solve(ld, piv, cr.tensor(b)).numpy()
    np.testing.assert_allclose(a @ x, b, atol=1e-9)
    batch = cr.linalg.ldl_factor(cr.tensor(np.stack([a, a])))
    np.testing.assert_array_equal(batch.pivots[1].numpy(), piv.numpy())
    assert piv.dtype == cr.int32


def test_ldl_singular_info():
    assert int(cr.linalg.ldl_factor_ex(cr.zeros(2, 2)).info) == 1


@pytest.mark.parametrize("expr,shape", [
    ("m.linalg.inv(x)", (0, 3, 3)), ("m.linalg.det(x)", (2, 0, 0)),
    ("m.linalg.slogdet(x)[1]", (0, 0)), ("m.linalg.svdvals(x)", (0, 3)),
    ("m.linalg.svd(x)[0]", (2, 0, 3)), ("m.linalg.qr(x)[1]", (3, 0)), ("m.linalg.eigh(x)[0]", (0, 0)),
    ("m.linalg.cholesky(x)", (0, 0)), ("m.linalg.matrix_exp(x)", (0, 0)),
    ("m.linalg.vector_norm(x)", (0,)), ("m.linalg.vector_norm(x)", ()),
    ("m.linalg.matrix_norm(x)", (0, 3)), ("m.linalg.pinv(x)", (0, 3)),
    ("m.linalg.lu_factor(x)[0]", (0, 0)), ("m.einsum('i,i', x, x)", (0,)), ("m.kron(x, x)", ()),
    ("m.cdist(x, x)", (0, 3)), ("m.linalg.matrix_power(x, 3)", (0, 0)),
    ("m.tensordot(x, x, 0)", ()), ("m.inner(x, x)", ()), ("m.linalg.cross(x, x)", (0, 3)),
    ("m.linalg.cond(x)", (0, 0)), ("m.linalg.lstsq(x, x).solution", (0, 3)),
])
def test_empty_and_zero_d(expr, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    check(lambda m, x: eval(expr), a, grad=a.size > 0)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "int32"])
@pytest.mark.parametrize("expr", [
    "m.linalg.inv(x)", "m.linalg.det(x)", "m.linalg.slogdet(x)[1]", "m.linalg.eigvalsh(x + x.mT)",
    "m.linalg.svdvals(x)", "m.linalg.qr(x)[1]", "m.linalg.matrix_exp(x)", "m.linalg.lu_factor(x)[1]",
    "m.linalg.pinv(x)", "m.linalg.matrix_rank(x)", "m.linalg.lstsq(x, x)[0]", "m.linalg.norm(x)",
    "m.linalg.cond(x)", "m.cdist(x, x)", "m.kron(x, x)", "m.linalg.vander(x)", "m.vander(x[0])",
    "m.linalg.inv_ex(x)[1]", "m.linalg.ldl_factor(x + x.mT)[1]", "m.geqrf(x)[1]",
    "m.linalg.solve_triangular(x, x, upper=True)", "m.linalg.householder_product(x, x[0])",
    "m.linalg.cholesky(x @ x.mT + 9 * m.eye(3, dtype=x.dtype))", "m.linalg.solve(x, x[0])",
    "m.einsum('ij,jk->ik', x, x)", "m.linalg.eigh(x + x.mT)[0]"])
def test_dtypes_and_dtype_errors_as_torch(dtype, expr):
    a = (np.random.default_rng(0).standard_normal((3, 3)) * 3).astype(dtype)
    got = []
    for m in (torch, cr):
        try:
            x = m.tensor(a)
            r = eval(expr)
            got.append((str(r.dtype).split(".")[-1], tuple(r.shape)))
        except (RuntimeError, NotImplementedError) as e:
            got.append((type(e).__name__, str(e)))
    assert got[0] == got[1]


def test_outputs_constant_in_an_input_are_in_its_graph_as_torch():
    x = cr.tensor(well(3, 3), requires_grad=True)
    for out in (cr.linalg.slogdet(x).sign, cr.linalg.matrix_power(x, 0),
                cr.linalg.householder_product(x, cr.zeros(0, dtype=x.dtype))):
        assert out.requires_grad
        (g,) = cr.autograd.grad(out.sum(), [x])
        np.testing.assert_array_equal(g.numpy(), np.zeros((3, 3)))


@pytest.mark.parametrize("expr", ["m.linalg.ldl_factor(x)[0]", "m.linalg.cholesky_ex(x)[1]",
                                  "m.linalg.pinv(x, hermitian=True)", "m.linalg.slogdet(x)[0]"])
def test_more_empty_inputs(expr):
    check(lambda m, x: eval(expr), np.zeros((2, 0, 0)), grad=False)


@needs_torch
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_gradient_as_torch(upper):
    """torch differentiates (L Lᵀ)⁻¹ B in every entry of L (the other triangle too)"""
    L = np.linalg.cholesky(spd(2, 3, 3))
    L = np.swapaxes(L, -1, -2) if upper else L
    b = R(2, 3, 2)
    grads = []
    for m in (torch, cr):
        x, y = m.tensor(L, requires_grad=True), m.tensor(b, requires_grad=True)
        out = m.cholesky_solve(y, x, upper) + m.cholesky_inverse(x, upper).sum(-1, keepdim=True)
        (out * m.tensor(np.arange(12.).reshape(2, 3, 2))).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for g_t, g_c in zip(*grads):
        np.testing.assert_allclose(g_c, g_t, rtol=1e-6, atol=1e-8)


def test_det_gradient_at_singular_matrices_as_torch():
    a = np.array([[1., 2, 3], [2, 4, 6], [1, 0, 1]])           # rank 2
    check(lambda m, x: m.linalg.det(x), a)
    check(lambda m, x: m.linalg.det(x), np.stack([a, np.eye(3) + 0.1]))
    check(lambda m, x: m.det(x), np.zeros((3, 3)))


def test_functions_torch_removed_raise_as_torch():
    for call in (lambda: cr.lstsq(cr.ones(2, 2), cr.ones(2, 2)),
                 lambda: cr.ones(2, 2).lstsq(cr.ones(2, 2))):
        with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed. "
                                               "`torch.lstsq` is deprecated"):
            call()
    with pytest.raises(RuntimeError, match="Please use the `torch.linalg.matrix_rank` function"):
        cr.matrix_rank(cr.ones(2, 2))


@needs_torch
def test_pinv_hermitian_gradient_as_torch():
    """torch differentiates pinv(A, hermitian=True) as the general pinv (every entry of A)"""
    a = R(2, 4, 4)
    a = a + np.swapaxes(a, -1, -2)
    w = R(2, 4, 4)
    grads = []
    for m in (torch, cr):
        x = m.tensor(a, requires_grad=True)
        (m.linalg.pinv(x, hermitian=True) * m.tensor(w)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 3)])
def test_svd_lowrank_and_pca_lowrank(shape):
    a = R(*shape)
    k = min(shape[-2:])

    def rebuild(m, x, fn, **kw):
        m.manual_seed(0)
        u, s, v = fn(m)(x, **kw)
        return (u * s.unsqueeze(-2)) @ v.mT
    # with q = min(m, n) the approximation is exact: A itself (and its gradient the identity)
    check(lambda m, x: rebuild(m, x, lambda m: m.svd_lowrank, q=k), a)
    check(lambda m, x: rebuild(m, x, lambda m: m.pca_lowrank, q=k) + x.mean(-2, keepdim=True),
          a)
    check(lambda m, x: rebuild(m, x, lambda m: m.pca_lowrank, q=k, center=False), a)
    cr.manual_seed(0)
    _, s, _ = cr.svd_lowrank(cr.tensor(a), q=k)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-8)
    with pytest.raises(ValueError, match=r"q\(=9\) must be non-negative integer"):
        cr.pca_lowrank(cr.tensor(a), q=9)


def test_product_shape_errors_as_torch():
    o = cr.ones
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(2\), mat \(2x3\), vec \(2\)"):
        cr.addmv(o(2), o(2, 3), o(2))
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 "
                                           r"tensor to be: \[2, 3\] but got: \[3, 3\]."):
        cr.baddbmm(o(2, 2), o(2, 2, 3), o(3, 3, 2))
    with pytest.raises(RuntimeError, match="addr: Expected 1-D argument vec1, but got 2-D"):
        cr.addr(o(2, 3), o(2, 2), o(3))
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): tensors 0 and 1 with shapes \[2, 3\] "
                                           r"and \[2, 3\] cannot be multiplied"):
        cr.linalg.multi_dot([o(2, 3), o(2, 3)])
    with pytest.raises(TypeError, match="argument 'n' \\(position 2\\) must be int, not float"):
        cr.linalg.matrix_power(o(2, 2), 2.0)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        cr.addmm(o(3, 3), o(2, 3), o(3, 2))
    i = cr.ones(2, 2, dtype=cr.int64)
    out = cr.addmm(i, i, i, beta=2, alpha=3)
    assert out.dtype == cr.int64 and out.tolist() == [[8, 8], [8, 8]]


def test_slogdet_named_tuples():
    assert type(cr.slogdet(cr.eye(2))).__name__ == "slogdet"
    assert type(cr.eye(2).slogdet()).__name__ == "slogdet"
    assert type(cr.linalg.slogdet(cr.eye(2))).__name__ == "linalg_slogdet"
    assert cr.linalg.slogdet(cr.eye(2)).logabsdet.item() == 0.0


@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg(largest):
    a = R(9, 9)
    b = spd(9, 9)
    check(lambda m, x: m.lobpcg(x @ x.mT + m.eye(9, dtype=x.dtype), k=2, largest=largest)[0], a,
          atol=1e-5)
    check(lambda m, x: m.lobpcg(x @ x.mT + m.eye(9, dtype=x.dtype), k=2,
                                largest=largest)[1].abs(), a, atol=1e-4, grad_atol=1e-4)
    check(lambda m, x, y: m.lobpcg(x @ x.mT + m.eye(9, dtype=x.dtype), k=1, B=y,
                                   largest=largest)[0], a, b, atol=1e-5, grad=False)
    with pytest.raises(ValueError, match=r"number of A rows \(=4\) is smaller than 3 x the "
                                         r"number of requested eigenpairs \(=2\)"):
        cr.lobpcg(cr.eye(4), k=2)
