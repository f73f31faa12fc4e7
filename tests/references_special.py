"""NumPy forward references for the special-function primitives (ops/special.py), read by
tests/test_registry.py.  Each is written independently of chainrule's algorithm (plain sums,
Python's math module, Newton iterations on math.erf), accurate to ~1e-14 on the entries'
sampling domains."""
import math

import numpy as np

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
_erf1 = np.vectorize(math.erf, otypes=[np.float64])
_erfc1 = np.vectorize(math.erfc, otypes=[np.float64])


def _digamma(x):
    """ψ(x) = ψ(x + N) - Σ_{k<N} 1/(x + k), ψ(y) by its asymptotic series at y ≥ 40"""
    x = np.asarray(x, np.float64)
    n = 40
    y = x + n
    head = sum(1.0 / (x + k) for k in range(n))
    z = 1.0 / (y * y)
    tail = np.log(y) - 0.5 / y - z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z / 240)))
    return tail - head


def _polygamma(x, n):
    """(-1)^(n+1) n! Σ_k (x + k)^-(n+1): 200 terms, then Euler-Maclaurin for the rest"""
    if n == 0:
        return _digamma(x)
    x = np.asarray(x, np.float64)
    m = 200
    s = sum((x + k) ** -(n + 1.0) for k in range(m))
    y = x + m
    s = s + y ** -n / n + y ** -(n + 1.0) / 2 + (n + 1) * y ** -(n + 2.0) / 12 \
        - (n + 1) * (n + 2) * (n + 3) * y ** -(n + 4.0) / 720
    return (-1) ** (n + 1) * math.factorial(n) * s


def _newton(f, df, y, steps=60):
    x = np.zeros_like(np.asarray(y, np.float64))
    for _ in range(steps):
        x = x - (f(x) - y) / df(x)
    return x


def _erfinv(y):
    return _newton(_erf1, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), y)


def _ndtri(p):
    return _newton(lambda x: 0.5 * _erfc1(-x / math.sqrt(2)),
                   lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi), p)


def _i1(x):
    """I₁(x) = Σ_k (x/2)^(2k+1) / (k! (k+1)!)"""
    x = np.asarray(x, np.float64)
    return sum((x / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1))
               for k in range(60))


def _igamma(a, x):
    """P(a, x) = Σ_k x^(a+k) e^-x / Γ(a + k + 1)"""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    return sum(np.exp((a + k) * np.log(x) - x - _lgamma(a + k + 1)) for k in range(300))


REFERENCES = {
    "lgamma": _lgamma,
    "digamma": _digamma,
    "polygamma": _polygamma,
    "erfinv": _erfinv,
    "erfcx": lambda x: np.exp(x * x) * _erfc1(x),
    "ndtri": _ndtri,
    "i0": np.i0,
    "i0e": lambda x: np.i0(x) * np.exp(-np.abs(x)),
    "i1": _i1,
    "i1e": lambda x: _i1(x) * np.exp(-np.abs(x)),
    "igamma": _igamma,
    "igammac": lambda a, x: 1 - _igamma(a, x),
    "xlogy": lambda x, y: x * np.log(y),
    "xlog1py": lambda x, y: x * np.log1p(y),
    "entr": lambda x: -x * np.log(x),
    "logit": lambda x, eps=None: np.log(np.clip(x, eps, 1 - eps) / (1 - np.clip(x, eps, 1 - eps)))
    if eps is not None else np.log(x / (1 - x)),
    "sinc": np.sinc,
}

# The functions NumPy lacks that ops/special.py's formulas name (test_formulas.py evaluates them)
FORMULA_FUNCTIONS = {
    "ψ": _digamma,
    "polygamma": lambda n, x: _polygamma(x, int(n)),
    "Γ": np.vectorize(math.gamma, otypes=[np.float64]),
    "besselI": lambda nu, x: np.i0(x) if nu == 0 else _i1(x),
}
