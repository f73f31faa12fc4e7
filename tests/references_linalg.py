"""NumPy references for the primitives of ops/linalg.py added by issue #12 (the registry test
picks up REFERENCES from every tests/references_*.py), computed another way where one exists."""
import math

import numpy as np


def _tri(a, upper):
    return np.triu(a) if upper else np.tril(a)


def _sym(a, uplo="L"):
    t = np.tril(a) if uplo == "L" else np.triu(a)
    return t + np.swapaxes(t, -1, -2) - t * np.eye(a.shape[-1])


def _cholesky(a):
    """Cholesky–Banachiewicz, row by row"""
    a = np.asarray(a, dtype=float)
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape[:-2]):
        m, L = a[idx], out[idx]
        n = m.shape[0]
        for i in range(n):
            for j in range(i + 1):
                s = m[i, j] - L[i, :j] @ L[j, :j]
                L[i, j] = math.sqrt(s) if i == j else s / L[j, j]
    return out


def _expm(a):
    """Σ Aᵏ/k!, 60 terms (the examples' matrices are small)"""
    out = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    term = out.copy()
    for k in range(1, 60):
        term = term @ a / k
        out = out + term
    return out


def _lu(a):
    """Doolittle with partial pivoting, one matrix at a time, LU packed"""
    out = np.array(a, dtype=float)
    for idx in np.ndindex(out.shape[:-2]):
        m = out[idx]
        n = min(m.shape)
        for j in range(n):
            p = j + int(np.argmax(np.abs(m[j:, j])))
            m[[j, p]] = m[[p, j]]
            if m[j, j] != 0:
                m[j + 1:, j] /= m[j, j]
            m[j + 1:, j + 1:] -= np.outer(m[j + 1:, j], m[j, j + 1:])
    return out


def _svdvals(a):
    gram = np.swapaxes(a, -1, -2) @ a if a.shape[-2] >= a.shape[-1] else a @ np.swapaxes(a, -1, -2)
    return np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[..., ::-1]


REFERENCES = {
    "einsum": lambda x, y, equation: np.einsum(equation, x, y),
    "linalg_inv": lambda a: np.linalg.solve(a, np.broadcast_to(np.eye(a.shape[-1]), a.shape)),
    "linalg_det": lambda a: np.prod(np.linalg.eigvals(a), -1).real,
    "linalg_logabsdet": lambda a: np.log(np.abs(np.prod(np.linalg.eigvals(a), -1))),
    "linalg_solve": lambda a, b: np.linalg.inv(a) @ b,
    "linalg_solve_triangular": lambda a, b, upper, unitriangular=False:
        np.linalg.inv(_tri(a, upper)) @ b,
    "linalg_cholesky": _cholesky,
    "linalg_eigvalsh": lambda a, uplo="L": np.sort(np.linalg.eigvals(_sym(a, uplo)).real, -1),
    "linalg_eigvecsh": lambda a, uplo="L": np.linalg.eigh(a, UPLO=uplo)[1],
    "linalg_svdvals": _svdvals,
    "linalg_svd_u": lambda a, full_matrices=True: np.linalg.svd(a, full_matrices)[0],
    "linalg_svd_vh": lambda a, full_matrices=True: np.linalg.svd(a, full_matrices)[2],
    "linalg_qr_q": lambda a, mode="reduced": np.linalg.qr(a, mode)[0],
    "linalg_qr_r": lambda a, mode="reduced": np.triu(np.linalg.qr(a, mode)[1]),
    "linalg_matrix_exp": _expm,
    "linalg_lu_factor": _lu,
}
