"""Special functions with PyTorch's names (issue #12): the gamma family (lgamma, digamma,
polygamma, mvlgamma, the incomplete gammas igamma/igammac, zeta), the error-function family
(erf, erfc, erfinv, erfcx, ndtr, ndtri, log_ndtr), the modified Bessel functions i0, i0e, i1,
i1e, and logit, sinc, xlogy, xlog1py, entr.  ``chainrule.special`` holds torch.special's names
for these, its aliases, and its non-differentiable functions (Bessel functions and orthogonal
polynomials).
"""
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..tensor import Tensor, apply, wrap
from ._args import binary, float_input, nondiff, tensor_arg, unary
from .elementwise import add, erfc, log, log1p, mul, sub, where
from .reductions import sum as _sum
from ._inplace import inplace
from .shape import unsqueeze

_SQRT1_2 = math.sqrt(0.5)


# --- the error function family --------------------------------------------------------------

def erf(input):
    """out = (2/√π) ∫₀^input e^(-t²) dt

    >>> chainrule.erf(chainrule.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8427])"""
    return unary(ops.erf, input)


def erfinv(input):
    """out = erf⁻¹(input), for input in [-1, 1] (±inf at ±1, NaN outside)"""
    return unary(ops.erfinv, input)


def erfcx(input):
    """out = exp(input²)·erfc(input), the scaled complementary error function"""
    return unary(ops.erfcx, input)


def ndtr(input):
    """out = Φ(input) = (1/√(2π)) ∫_-∞^input e^(-t²/2) dt = (1 + erf(input/√2))/2

    As torch, through erf: 0 below about -38 (log_ndtr keeps the far left tail)."""
    x = float_input(input, "ndtr")
    return mul(add(erf(mul(x, _SQRT1_2)), 1), 0.5)


def ndtri(input):
    """out = Φ⁻¹(input), the standard normal quantile of a probability"""
    return unary(ops.ndtri, input)


def log_ndtr(input):
    """out = ln Φ(input), accurate far into both tails (erfcx below -1, log1p above)"""
    x = float_input(input, "log_ndtr")
    low = x < -1
    # each branch sees only inputs on its own side, so the discarded one stays finite
    t_low = mul(where(low, x, -1.0), -_SQRT1_2)
    t_high = mul(where(low, -1.0, x), _SQRT1_2)
    left = sub(log(mul(erfcx(t_low), 0.5)), mul(t_low, t_low))
    right = log1p(mul(erfc(t_high), -0.5))
    return where(low, left, right)


# --- the gamma family -----------------------------------------------------------------------

def lgamma(input):
    """out = ln |Γ(input)|"""
    return unary(ops.lgamma, input)


def digamma(input):
    """out = ψ(input) = d ln Γ(input)/d input (-inf at 0, NaN at negative integers)"""
    return unary(ops.digamma, input)


def polygamma(n, input):
    """out = ψ⁽ⁿ⁾(input), the n-th derivative of digamma (n = 0 is digamma itself)"""
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = float_input(input, "polygamma")
    return apply(ops.polygamma, (x,), {"n": int(n)})


def mvlgamma(input, p):
    """out = ln Γ_p(input) = p(p-1)/4 · ln π + Σᵢ₌₀^(p-1) ln Γ(input - i/2)"""
    if isinstance(p, bool) or not isinstance(p, (int, xp.integer)):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not "
                        f"{type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = float_input(input, "mvlgamma")
    shifts = wrap(xp.arange(-p / 2 + 0.5, 0.5, 0.5).astype(x._data.dtype))
    terms = lgamma(add(unsqueeze(x, -1), shifts))
    return add(_sum(terms, -1), p * (p - 1) * math.log(math.pi) / 4)


def _incomplete_gamma(op, name, input, other):
    for arg, position, v in (("input", 1, input), ("other", 2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(v).__name__}")
    for v in (input, other):
        if v._data.dtype.kind != "f":
            raise NotImplementedError(
                f"\"{name}_cpu\" not implemented for '{D.SCALAR_NAMES.get(v._data.dtype.name)}'"
                f"; convert first, e.g. {name}(a.double(), x.double())")
    return binary(op, input, other)


def igamma(input, other):
    """out = P(input, other) = γ(a, x)/Γ(a), the regularized lower incomplete gamma function
    (a = input > 0, x = other ≥ 0); differentiable in other only, as torch"""
    return _incomplete_gamma(ops.igamma, "igamma", input, other)


def igammac(input, other):
    """out = Q(input, other) = 1 - P(input, other), the regularized upper incomplete gamma"""
    return _incomplete_gamma(ops.igammac, "igammac", input, other)


def zeta(input, other):
    """out = ζ(input, other) = Σₖ₌₀^∞ (k + other)^-input, the Hurwitz zeta function.

    chainrule records no gradient (torch implements none either: its backward raises)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta() received an invalid combination of arguments: pass at least one "
                        "Tensor (input or other)")
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    rt = D.result_type(a, b)
    if rt.kind != "f":
        rt = D.default_float_np()
    return nondiff(lambda u, v: ops.special.hurwitz_zeta(u, v).astype(rt, copy=False), a, b)


# --- the modified Bessel functions of the first kind ----------------------------------------

def i0(input):
    """out = I₀(input), the modified Bessel function of the first kind of order 0"""
    return unary(ops.i0, input)


def i0e(input):
    """out = exp(-|input|)·I₀(input)"""
    return unary(ops.i0e, input)


def i1(input):
    """out = I₁(input), the modified Bessel function of the first kind of order 1"""
    return unary(ops.i1, input)


def i1e(input):
    """out = exp(-|input|)·I₁(input)"""
    return unary(ops.i1e, input)


# --- logit, sinc, xlogy, xlog1py, entr ------------------------------------------------------

def logit(input, eps=None):
    """out = ln(z/(1 - z)) with z = input clamped to [eps, 1 - eps] when eps is given"""
    z = float_input(input, "logit")
    return apply(ops.logit, (z,), None if eps is None else {"eps": float(eps)})


def sinc(input):
    """out = sin(πx)/(πx), 1 at x = 0 (the normalized sinc)"""
    return unary(ops.sinc, input)


def _both_numbers(name, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = tensor_arg(input, name) if isinstance(input, xp.ndarray) else input
        other = tensor_arg(other, name) if isinstance(other, xp.ndarray) else other
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}): pass at least "
                            "one Tensor")
    return input, other


def _scalar_name(name, input, other):
    """torch's grad_fn names: Backward0 for two tensors, 1 for a number input, 2 for other"""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        return f"{name}Backward0"
    return f"{name}Backward{1 if isinstance(other, Tensor) else 2}"


def xlogy(input, other):
    """out = input·ln(other), 0 where input = 0 (unless other is NaN)"""
    input, other = _both_numbers("xlogy", input, other)
    return binary(ops.xlogy, input, other, floating=True,
                  name=_scalar_name("Xlogy", input, other))


def xlog1py(input, other):
    """out = input·ln(1 + other), 0 where input = 0 (unless other is NaN)"""
    input, other = _both_numbers("xlog1py", input, other)
    return binary(ops.xlog1py, input, other, floating=True,
                  name=_scalar_name("SpecialXlog1Py", input, other))


def entr(input):
    """out = -input·ln(input) for input > 0, 0 at 0, -inf for input < 0"""
    return unary(ops.entr, input)


# --- in place (the ones torch also has as functions: torch.erf_, torch.xlogy_, ...) ---------

def erf_(input):
    """input = erf(input), in place"""
    return inplace(input, erf)


def erfc_(input):
    """input = erfc(input), in place"""
    return inplace(input, erfc)


def i0_(input):
    """input = I₀(input), in place"""
    return inplace(input, i0)


def logit_(input, eps=None):
    """input = logit(input, eps), in place"""
    return inplace(input, logit, eps)


def sinc_(input):
    """input = sinc(input), in place"""
    return inplace(input, sinc)


def _polygamma_of(input, n):
    return polygamma(n, input)


_polygamma_of.__name__ = "polygamma"


def polygamma_(input, n):
    """input = ψ⁽ⁿ⁾(input), in place (Tensor.polygamma_(n))"""
    return inplace(input, _polygamma_of, n)


def xlogy_(input, other):
    """input = input·ln(other), in place"""
    return inplace(input, xlogy, other)


# --- the non-differentiable functions of torch.special (no grad_fn, as torch) -----------------

def _nondiff_float(fn, name, *operands):
    """``fn`` (a float64 array function of ops/special.py) on the operands, in their promoted
    float dtype (integers: the default float dtype), recording no gradient"""
    if not any(isinstance(v, Tensor) for v in operands):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got "
                        f"{', '.join(type(v).__name__ for v in operands)}")
    values = [v._data if isinstance(v, Tensor) else v for v in operands]
    rt = D.result_type(*values)
    if rt.kind != "f":
        rt = D.default_float_np()
    return nondiff(lambda *arrays: fn(*arrays).astype(rt, copy=False), *values)


def airy_ai(input):
    """out = Ai(input), the Airy function of the first kind"""
    return _nondiff_float(ops.special.airy_ai, "airy_ai", input)


def bessel_j0(input):
    """out = J₀(input), the Bessel function of the first kind of order 0"""
    return _nondiff_float(ops.special.bessel_j0, "bessel_j0", input)


def bessel_j1(input):
    """out = J₁(input), the Bessel function of the first kind of order 1"""
    return _nondiff_float(ops.special.bessel_j1, "bessel_j1", input)


def bessel_y0(input):
    """out = Y₀(input), the Bessel function of the second kind of order 0"""
    return _nondiff_float(ops.special.bessel_y0, "bessel_y0", input)


def bessel_y1(input):
    """out = Y₁(input), the Bessel function of the second kind of order 1"""
    return _nondiff_float(ops.special.bessel_y1, "bessel_y1", input)


def modified_bessel_i0(input):
    """out = I₀(input) (as i0, but recording no gradient, as torch)"""
    return _nondiff_float(ops.special.modified_bessel_i0, "modified_bessel_i0", input)


def modified_bessel_i1(input):
    """out = I₁(input) (as i1, but recording no gradient, as torch)"""
    return _nondiff_float(ops.special.modified_bessel_i1, "modified_bessel_i1", input)


def modified_bessel_k0(input):
    """out = K₀(input), the modified Bessel function of the second kind of order 0"""
    return _nondiff_float(ops.special.modified_bessel_k0, "modified_bessel_k0", input)


def modified_bessel_k1(input):
    """out = K₁(input), the modified Bessel function of the second kind of order 1"""
    return _nondiff_float(ops.special.modified_bessel_k1, "modified_bessel_k1", input)


def scaled_modified_bessel_k0(input):
    """out = exp(input)·K₀(input)"""
    return _nondiff_float(ops.special.scaled_modified_bessel_k0, "scaled_modified_bessel_k0",
                          input)


def scaled_modified_bessel_k1(input):
    """out = exp(input)·K₁(input)"""
    return _nondiff_float(ops.special.scaled_modified_bessel_k1, "scaled_modified_bessel_k1",
                          input)


def spherical_bessel_j0(input):
    """out = j₀(input) = sin(input)/input, the spherical Bessel function of order 0"""
    return _nondiff_float(ops.special.spherical_bessel_j0, "spherical_bessel_j0", input)


def chebyshev_polynomial_t(input, n):
    """out = Tₙ(input), Chebyshev polynomial of the first kind: Tₙ(cos θ) = cos nθ"""
    return _nondiff_float(ops.special.chebyshev_polynomial_t, "chebyshev_polynomial_t", input, n)


def chebyshev_polynomial_u(input, n):
    """out = Uₙ(input), of the second kind: Uₙ(cos θ) = sin((n+1)θ)/sin θ"""
    return _nondiff_float(ops.special.chebyshev_polynomial_u, "chebyshev_polynomial_u", input, n)


def chebyshev_polynomial_v(input, n):
    """out = Vₙ(input), of the third kind: Vₙ(cos θ) = cos((n+½)θ)/cos(θ/2)"""
    return _nondiff_float(ops.special.chebyshev_polynomial_v, "chebyshev_polynomial_v", input, n)


def chebyshev_polynomial_w(input, n):
    """out = Wₙ(input), of the fourth kind: Wₙ(cos θ) = sin((n+½)θ)/sin(θ/2)"""
    return _nondiff_float(ops.special.chebyshev_polynomial_w, "chebyshev_polynomial_w", input, n)


def shifted_chebyshev_polynomial_t(input, n):
    """out = Tₙ*(input) = Tₙ(2·input - 1)"""
    return _nondiff_float(ops.special.shifted_chebyshev_polynomial_t,
                          "shifted_chebyshev_polynomial_t", input, n)


def shifted_chebyshev_polynomial_u(input, n):
    """out = Uₙ*(input) = Uₙ(2·input - 1)"""
    return _nondiff_float(ops.special.shifted_chebyshev_polynomial_u,
                          "shifted_chebyshev_polynomial_u", input, n)


def shifted_chebyshev_polynomial_v(input, n):
    """out = Vₙ*(input) = Vₙ(2·input - 1)"""
    return _nondiff_float(ops.special.shifted_chebyshev_polynomial_v,
                          "shifted_chebyshev_polynomial_v", input, n)


def shifted_chebyshev_polynomial_w(input, n):
    """out = Wₙ*(input) = Wₙ(2·input - 1)"""
    return _nondiff_float(ops.special.shifted_chebyshev_polynomial_w,
                          "shifted_chebyshev_polynomial_w", input, n)


def hermite_polynomial_h(input, n):
    """out = Hₙ(input), the physicists' Hermite polynomial: H₀ = 1, H₁ = 2x"""
    return _nondiff_float(ops.special.hermite_polynomial_h, "hermite_polynomial_h", input, n)


def hermite_polynomial_he(input, n):
    """out = Heₙ(input), the probabilists' Hermite polynomial: He₀ = 1, He₁ = x"""
    return _nondiff_float(ops.special.hermite_polynomial_he, "hermite_polynomial_he", input, n)


def laguerre_polynomial_l(input, n):
    """out = Lₙ(input), the Laguerre polynomial: L₀ = 1, L₁ = 1 - x"""
    return _nondiff_float(ops.special.laguerre_polynomial_l, "laguerre_polynomial_l", input, n)


def legendre_polynomial_p(input, n):
    """out = Pₙ(input), the Legendre polynomial: P₀ = 1, P₁ = x"""
    return _nondiff_float(ops.special.legendre_polynomial_p, "legendre_polynomial_p", input, n)
