"""``chainrule.linalg``: torch.linalg's functions, with their gradients.

>>> import chainrule as torch
>>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> torch.linalg.det(A)
tensor(5., grad_fn=<LinalgDetBackward0>)

The functions live in ``functional/linalg.py`` (the primitives in ``ops/linalg.py``); this
module gives them torch.linalg's names.  ``eig`` and ``eigvals`` are absent: their results are
complex, and chainrule has no complex dtype (use ``eigh``/``eigvalsh`` for symmetric matrices).
"""
from .functional.linalg import (LinAlgError, cholesky, cholesky_ex, cond, cross, det,  # noqa: F401
                                diagonal, eigh, eigvalsh, householder_product, inv, inv_ex,
                                ldl_factor, ldl_factor_ex, ldl_solve, lstsq, lu, lu_factor, lu_factor_ex, lu_solve, matmul,
                                matrix_exp, matrix_norm, matrix_power, matrix_rank, multi_dot,
                                pinv, qr, slogdet, solve, solve_ex, solve_triangular, svd,
                                svdvals, tensorinv, tensorsolve, vander, vecdot, vector_norm)
from .functional.linalg import linalg_norm as norm  # noqa: F401

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
           "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
           "vector_norm"]
