"""Elementwise primitives: out[i] = f(x[i], y[i], ...), inputs broadcast as NumPy does."""
from .._backend import xp
from . import defprim


# =========================================================================================
# Elementwise, binary.  Inputs may be Python numbers; numbers get no gradient.
# =========================================================================================

def _add(x, y):
    """out = x + y"""
    return xp.add(x, y)


add = defprim("add", _add,
              lambda F, g, out, x, y: g,
              lambda F, g, out, x, y: g,
              kind="elementwise", linear="linear",
              show="{x} + {y}", formulas=("1", "1"), vjp_texts=("g ↦ g", "g ↦ g"),
              examples=[("x + y", (3, 4), (3, 4)), ("x + y", (2, 3), (3,)), ("x + 2.5", (3,)),
                        ("x + y", (), (2, 2))])


def _sub(x, y):
    """out = x - y"""
    return xp.subtract(x, y)


sub = defprim("sub", _sub,
              lambda F, g, out, x, y: g,
              lambda F, g, out, x, y: -g,
              kind="elementwise", linear="linear",
              show="{x} - {y}", formulas=("1", "-1"), vjp_texts=("g ↦ g", "g ↦ -g"),
              examples=[("x - y", (3, 4), (4,)), ("m.sub(1.5, x)", (2, 3))])


def _rsub(x, y):
    """out = y - x"""
    return xp.subtract(y, x)


# torch's rsub(input, other) = other - input: what `3 - x` records (RsubBackward1, with one edge)
rsub = defprim("rsub", _rsub,
               lambda F, g, out, x, y: -g,
               lambda F, g, out, x, y: g,
               kind="elementwise", linear="linear",
               show="{y} - {x}", formulas=("-1", "1"), vjp_texts=("g ↦ -g", "g ↦ g"),
               examples=[("1.5 - x", (2, 3)), ("m.rsub(x, y)", (3, 4), (4,))])


def _mul(x, y):
    """out = x · y"""
    return xp.multiply(x, y)


mul = defprim("mul", _mul,
              lambda F, g, out, x, y: g * y,
              lambda F, g, out, x, y: g * x,
              kind="elementwise", linear="bilinear",
              show="{x}·{y}", formulas=("y", "x"), saves=(0, 1), reads=((1,), (0,)),
              examples=[("x * y", (3, 4), (3, 4)), ("x * y", (4, 1), (3,)), ("x * 3.0", (2,)),
                        ("x * y", (), ()), ("m.outer(x, y)", (3,), (2,))])


def _div(x, y):
    """out = x / y"""
    return xp.true_divide(x, y)


div = defprim("div", _div,
              lambda F, g, out, x, y: g / y,
              lambda F, g, out, x, y: -g * x / (y * y),
              kind="elementwise",
              show="{x}/{y}", formulas=("1/y", "-x/y²"), saves=(0, 1), reads=((1,), (0, 1)),
              domain=[(-2.0, 2.0), (0.5, 2.0)],
              examples=[("x / y", (3, 4), (4,)), ("m.div(2.0, y)", (1,), (3,)),
                        ("x / 4", (2, 2))])


def _pow(x, y):
    """out = x ** y (x·x for y = 2, as torch: one rounding, and faster than C's pow)"""
    if type(y) in (int, float) and y == 2 and type(x) is xp.ndarray and x.dtype.kind == "f":
        return xp.square(x)
    return xp.power(x, y)


def _pow_vjp_x(F, g, out, x, y):
    # d/dx x**y = y·x**(y-1), taken as 0 where y == 0 (so d/dx x**0 = 0 even at x = 0, as torch)
    if isinstance(y, (int, float)):
        if y == 2:      # x ** 1 is x: torch's y·x^(y-1) without the pass that copies x
            return g * (y * x)
        return F.zeros_like(g) if y == 0 else g * (y * x ** (y - 1))
    return F.where(F.raw(y) == 0, 0.0, g * (y * x ** (y - 1)))


def _pow_vjp_y(F, g, out, x, y):
    # d/dy x**y = x**y·log(x), taken as 0 where x == 0 and y >= 0 (the limit), as torch
    safe = (F.raw(x) == 0) & (F.raw(y) >= 0)
    return F.where(safe, 0.0, g * out * F.log(F.where(safe, 1.0, x)))


pow = defprim("pow", _pow, _pow_vjp_x, _pow_vjp_y,
              kind="elementwise",
              show="{x}^{y}", formulas=("y·x^(y - 1)", "x^y·ln(x)"), saves=(0, 1), saves_out=True,
              domain=[(0.5, 2.0), (-2.0, 2.0)],
              examples=[("x ** y", (3,), (3,)), ("x ** 3", (2, 3)), ("x ** 0.5", (4,)),
                        ("2.0 ** y", (1,), (3,)), ("x.pow(2)", (3,))])


def _maximum(x, y):
    """out = max(x, y) elementwise (NaN wins)"""
    return xp.maximum(x, y)


maximum = defprim(
    "maximum", _maximum,
    # ties split the gradient evenly, as torch
    lambda F, g, out, x, y: F.where(F.raw(x) < F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    lambda F, g, out, x, y: F.where(F.raw(x) > F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    kind="elementwise",
    formulas=("[x ≥ y]", "[y ≥ x]"), saves=(0, 1),
    examples=[("m.maximum(x, y)", (3, 4), (4,))])


def _minimum(x, y):
    """out = min(x, y) elementwise (NaN wins)"""
    return xp.minimum(x, y)


minimum = defprim(
    "minimum", _minimum,
    lambda F, g, out, x, y: F.where(F.raw(x) > F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    lambda F, g, out, x, y: F.where(F.raw(x) < F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    kind="elementwise",
    formulas=("[x ≤ y]", "[y ≤ x]"), saves=(0, 1),
    examples=[("m.minimum(x, y)", (3, 1), (3, 4))])


def _fmod(x, y):
    """out = x - trunc(x/y)·y, exactly (C's fmod: the sign of x)"""
    # A primitive for exact values: x - trunc(x/y)·y composed from div loses the low bits when
    # x/y is large (fmod(1e6, 0.1) came out 0.0, torch 0.0851), and gave NaN gradients at y = 0.
    return xp.fmod(x, y)


def _remainder(x, y):
    """out = x - ⌊x/y⌋·y, exactly (Python's %: the sign of y)"""
    m = xp.fmod(x, y)
    # torch's rule: shift fmod's result by y where its sign differs from y's (so -0.0 % 2 stays
    # -0.0, and -1 % inf is inf)
    return xp.where((m != 0) & ((m < 0) != (y < 0)), m + y, m)


def _quotient_rule(rounding):
    def rule(F, g, out, x, y):
        # d/dy (x - q·y) = -q with q = round(x/y) constant between its jumps (±inf at y = 0)
        q = rounding(xp.true_divide(F.raw(x), F.raw(y)))
        return -g * q
    return rule


fmod = defprim("fmod", _fmod, lambda F, g, out, x, y: g, _quotient_rule(xp.trunc),
               kind="elementwise",
               formulas=("1", "-trunc(x/y)"), saves=(0, 1),
               domain=[(-2.0, 2.0), (0.5, 2.0)],
               examples=[("m.fmod(x, y)", (3, 4), (4,)), ("m.fmod(x, 1.5)", (2, 3)),
                         ("x.fmod(y)", (), ())])
remainder = defprim("remainder", _remainder, lambda F, g, out, x, y: g,
                    _quotient_rule(xp.floor),
                    kind="elementwise",
                    formulas=("1", "-floor(x/y)"), saves=(0, 1),
                    domain=[(-2.0, 2.0), (0.5, 2.0)],
                    examples=[("m.remainder(x, y)", (3, 4), (4,)), ("x % 1.5", (2, 3)),
                              ("x % y", (), ())])


def _where(cond, x, y):
    """out = x where cond else y"""
    return xp.where(cond, x, y)


where = defprim("where", _where,
                None,
                lambda F, g, out, cond, x, y: F.where(cond, g, 0.0),
                lambda F, g, out, cond, x, y: F.where(cond, 0.0, g),
                kind="elementwise", linear="linear",
                formulas=(None, "[cond]", "[not cond]"), saves=(0,),
                examples=[("m.where(x > 0, x, y)", (3, 4), (4,)), ("m.where(x > 0, x, 0.0)", (5,))])


# =========================================================================================
# Elementwise, unary
# =========================================================================================

def _unary(name, fn, rule, formula, *, saves=(0,), saves_out=False, domain=(-2.0, 2.0),
           examples=(), backward_name=None, vjp_text=None, show=None, linear=None):
    return defprim(name, fn, rule, kind="elementwise", linear=linear, formulas=(formula,),
                   saves=saves, saves_out=saves_out, show=show, domain=domain,
                   backward_name=backward_name, vjp_texts=(vjp_text,) if vjp_text else (),
                   examples=examples)


def _zero_rule(F, g, out, x):
    return F.zeros_like(g)


def _neg(x):
    """out = -x"""
    return xp.negative(x)


def _abs(x):
    """out = |x|"""
    return xp.abs(x)


def _exp(x):
    """out = eˣ"""
    return xp.exp(x)


def _log(x):
    """out = ln x"""
    return xp.log(x)


def _log1p(x):
    """out = ln(1 + x)"""
    return xp.log1p(x)


def _expm1(x):
    """out = eˣ - 1"""
    return xp.expm1(x)


def _sqrt(x):
    """out = √x"""
    return xp.sqrt(x)


def _rsqrt(x):
    """out = 1/√x"""
    return xp.reciprocal(xp.sqrt(x))


def _asinh(x):
    """out = asinh x = ln(x + √(x² + 1))"""
    return xp.arcsinh(x)


_LN10, _LN2 = 2.302585092994046, 0.6931471805599453     # ln 10, ln 2


def _log10(x):
    """out = log₁₀ x"""
    return xp.log10(x)


def _log2(x):
    """out = log₂ x"""
    return xp.log2(x)


def _exp2(x):
    """out = 2ˣ"""
    return xp.exp2(x)


def _asin(x):
    """out = asin x"""
    return xp.arcsin(x)


def _acos(x):
    """out = acos x"""
    return xp.arccos(x)


def _atan(x):
    """out = atan x"""
    return xp.arctan(x)


def _sinh(x):
    """out = sinh x = (eˣ - e⁻ˣ)/2"""
    return xp.sinh(x)


def _cosh(x):
    """out = cosh x = (eˣ + e⁻ˣ)/2"""
    return xp.cosh(x)


def _acosh(x):
    """out = acosh x = ln(x + √(x² - 1))"""
    return xp.arccosh(x)


def _atanh(x):
    """out = atanh x = ½·ln((1 + x)/(1 - x))"""
    return xp.arctanh(x)


def _sin(x):
    """out = sin x"""
    return xp.sin(x)


def _cos(x):
    """out = cos x"""
    return xp.cos(x)


def _tan(x):
    """out = tan x"""
    return xp.tan(x)


def _tanh(x):
    """out = tanh x"""
    return xp.tanh(x)


def _sigmoid(x):
    """out = 1 / (1 + e⁻ˣ), computed without overflow for large |x|"""
    # A primitive for stability: e^(-|x|) never overflows, and both branches are exact.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _relu(x):
    """out = max(x, 0)"""
    # A primitive, not maximum(x, 0): relu'(0) is 0 (maximum would split the tie).
    return xp.maximum(x, 0)


def _reciprocal(x):
    """out = 1/x"""
    return xp.reciprocal(x)


def _sign(x):
    """out = sign x (0 at NaN, as torch)"""
    return xp.where(x != x, 0, xp.sign(x)).astype(x.dtype, copy=False)


def _floor(x):
    """out = ⌊x⌋"""
    return xp.floor(x)


def _ceil(x):
    """out = ⌈x⌉"""
    return xp.ceil(x)


def _round(x, decimals=0):
    """out = x rounded half to even"""
    return xp.round(x, decimals)


neg = _unary("neg", _neg, lambda F, g, out, x: -g, "-1", saves=(), show="-{x}",
             linear="linear", examples=[("-x", (3, 4)), ("x.neg()", ())], vjp_text="g ↦ -g")
abs = _unary("abs", _abs, lambda F, g, out, x: g * F.sign(x), "sign(x)",
             domain=(-2.0, 2.0, [0.0]))
exp = _unary("exp", _exp, lambda F, g, out, x: g * out, "exp(x)", saves=(), saves_out=True)
log = _unary("log", _log, lambda F, g, out, x: g / x, "1/x", domain=(0.1, 3.0))
log1p = _unary("log1p", _log1p, lambda F, g, out, x: g / (x + 1), "1/(1 + x)", domain=(-0.9, 3.0))
expm1 = _unary("expm1", _expm1, lambda F, g, out, x: g * (out + 1), "exp(x)", saves=(), saves_out=True)
sqrt = _unary("sqrt", _sqrt, lambda F, g, out, x: g / (2 * out), "1/(2·sqrt(x))", saves=(), saves_out=True,
              domain=(0.1, 3.0))
rsqrt = _unary("rsqrt", _rsqrt, lambda F, g, out, x: -0.5 * g * out * out * out, "-1/(2·x·sqrt(x))",
               saves=(), saves_out=True, domain=(0.1, 3.0))
asinh = _unary("asinh", _asinh, lambda F, g, out, x: g / F.sqrt(x * x + 1), "1/sqrt(x² + 1)")
log10 = _unary("log10", _log10, lambda F, g, out, x: g / (x * _LN10), "1/(x·ln(10))",
               domain=(0.1, 3.0))
log2 = _unary("log2", _log2, lambda F, g, out, x: g / (x * _LN2), "1/(x·ln(2))", domain=(0.1, 3.0))
exp2 = _unary("exp2", _exp2, lambda F, g, out, x: g * out * _LN2, "out·ln(2)", saves=(),
              saves_out=True)
asin = _unary("asin", _asin, lambda F, g, out, x: g / F.sqrt(1 - x * x), "1/sqrt(1 - x²)",
              domain=(-0.9, 0.9))
acos = _unary("acos", _acos, lambda F, g, out, x: -g / F.sqrt(1 - x * x), "-1/sqrt(1 - x²)",
              domain=(-0.9, 0.9))
atan = _unary("atan", _atan, lambda F, g, out, x: g / (x * x + 1), "1/(1 + x²)")
sinh = _unary("sinh", _sinh, lambda F, g, out, x: g * F.cosh(x), "(exp(x) + exp(-x))/2")
cosh = _unary("cosh", _cosh, lambda F, g, out, x: g * F.sinh(x), "(exp(x) - exp(-x))/2")
acosh = _unary("acosh", _acosh, lambda F, g, out, x: g / F.sqrt(x * x - 1), "1/sqrt(x² - 1)",
               domain=(1.1, 3.0))
atanh = _unary("atanh", _atanh, lambda F, g, out, x: g / (1 - x * x), "1/(1 - x²)",
               domain=(-0.9, 0.9))
sin = _unary("sin", _sin, lambda F, g, out, x: g * F.cos(x), "cos(x)")
cos = _unary("cos", _cos, lambda F, g, out, x: -g * F.sin(x), "-sin(x)")
tan = _unary("tan", _tan, lambda F, g, out, x: g * (1 + out * out), "1 + out²", saves=(),
             saves_out=True, domain=(-1.2, 1.2))
tanh = _unary("tanh", _tanh, lambda F, g, out, x: g * (1 - out * out), "1 - out²", saves=(),
              saves_out=True)
sigmoid = _unary("sigmoid", _sigmoid, lambda F, g, out, x: g * out * (1 - out), "out·(1 - out)",
                 saves=(), saves_out=True, domain=(-6.0, 6.0))
relu = _unary("relu", _relu, lambda F, g, out, x: F.where(F.raw(out) <= 0, 0.0, g), "[x > 0]",
              saves=(), saves_out=True, domain=(-2.0, 2.0, [0.0]),
              backward_name="ReluBackward0")
reciprocal = _unary("reciprocal", _reciprocal, lambda F, g, out, x: -g * out * out, "-1/x²",
                    saves=(), saves_out=True, domain=(0.3, 2.0), show="1/{x}")
sign = _unary("sign", _sign, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [0.0]))
floor = _unary("floor", _floor, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [-2.0, -1.0, 0.0, 1.0]))
ceil = _unary("ceil", _ceil, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [-1.0, 0.0, 1.0, 2.0]))
round = _unary("round", _round, lambda F, g, out, x, decimals=0: F.zeros_like(g), "0", saves=(),
               domain=(-2.0, 2.0, [-1.5, -0.5, 0.5, 1.5]))


def _clamp(x, min=None, max=None):
    """out = min(max(x, min), max)"""
    return xp.clip(x, min, max)


def _clamp_vjp(F, g, out, x, min=None, max=None):
    # the gradient passes where min ≤ x ≤ max, bounds included (torch's convention); NaN gets 0
    keep = F.raw(x) == F.raw(x)
    if min is not None:
        keep = keep & (F.raw(x) >= min)
    if max is not None:
        keep = keep & (F.raw(x) <= max)
    return F.where(keep, g, 0.0)


clamp = defprim("clamp", _clamp, _clamp_vjp, kind="elementwise", backward_name="ClampBackward1",
                formulas=("[min ≤ x ≤ max]",), saves=(0,),
                domain=(-2.0, 2.0, [-0.5, 0.5]),
                examples=[("x.clamp(-0.5, 0.5)", (3, 4)), ("x.clamp(min=-0.5)", (5,)),
                          ("m.clamp(x, max=0.5)", (5,))])


# =========================================================================================
# Copies and casts: every element to itself
# =========================================================================================

def _clone(x):
    """out = a copy of x"""
    return x.copy()


clone = defprim("clone", _clone, lambda F, g, out, x: g,
                kind="elementwise", linear="linear", formulas=("1",), vjp_texts=("g ↦ g",),
                examples=[("x.clone()", (3,))])


def _to_copy(x, dtype):
    """out = x converted to dtype"""
    return x.astype(dtype)


to_copy = defprim("to_copy", _to_copy, lambda F, g, out, x, dtype: g,
                  kind="elementwise", linear="linear",
                  backward_name="ToCopyBackward0", formulas=("1",),
                  vjp_texts=("g ↦ g converted back to x's dtype",),
                  examples=[("x.to(m.float64, copy=True)", (3,)), ("x.to(dtype=m.float64, copy=True)", (2, 2))])


# =========================================================================================
# issue #12's catalogue: the few elementwise ops that need an entry of their own
# =========================================================================================

def _atan2(y, x):
    """out = atan2(y, x), the angle of the point (x, y), in (-π, π]"""
    # A primitive for exact values in every quadrant and on the axes (x = 0): atan(y/x) with
    # quadrant corrections composed from where() loses them and has NaN gradients at x = 0.
    return xp.arctan2(y, x)


def _atan2_rule(F, g, num, y, x):
    # d/dy = x/(x² + y²), d/dx = -y/(x² + y²); taken as 0 at the origin, as torch
    r = x * x + y * y
    zero = F.raw(r) == 0
    return F.where(zero, 0.0, g * num / F.where(zero, 1.0, r))


atan2 = defprim("atan2", _atan2,
                lambda F, g, out, y, x: _atan2_rule(F, g, x, y, x),
                lambda F, g, out, y, x: _atan2_rule(F, g, -y, y, x),
                # formulas name the inputs x, y in order: out = atan2(x, y)
                kind="elementwise", formulas=("y/(x² + y²)", "-x/(x² + y²)"), saves=(0, 1),
                domain=(-2.0, 2.0, [0.0]),
                examples=[("m.atan2(x, y)", (3, 4), (4,)), ("x.atan2(y)", (), (2,)),
                          ("m.arctan2(x, y)", (2, 3), (2, 3))])


def _hypot(x, y):
    """out = √(x² + y²), without overflow or underflow"""
    # A primitive for stability: sqrt(x*x + y*y) overflows to inf for |x| > 1e154 (float64) and
    # underflows to 0 for |x| < 1e-162, where the result itself is representable.
    return xp.hypot(x, y)


hypot = defprim("hypot", _hypot,
                lambda F, g, out, x, y: g * x / out,
                lambda F, g, out, x, y: g * y / out,
                kind="elementwise", formulas=("x/out", "y/out"), saves=(0, 1), saves_out=True,
                domain=(-2.0, 2.0, [0.0]),
                examples=[("m.hypot(x, y)", (3, 4), (4,)), ("x.hypot(y)", (), ())])


def _nextafter(x, y):
    """out = the next floating-point value after x towards y"""
    # A primitive because the value is not a composition of differentiable ops; its derivative
    # is torch's: 1 for x, 0 for y (the step is below any derivative's resolution).
    return xp.nextafter(x, y)


nextafter = defprim("nextafter", _nextafter,
                    lambda F, g, out, x, y: g,
                    lambda F, g, out, x, y: F.zeros_like(g),
                    kind="elementwise", formulas=("1", "0"), vjp_texts=("g ↦ g", "g ↦ 0"),
                    examples=[("m.nextafter(x, y)", (3, 4), (4,))])


def _trunc(x):
    """out = x rounded toward zero"""
    # A primitive for speed: one ufunc, where where(x < 0, ceil(x), floor(x)) took four.
    return xp.trunc(x)


trunc = _unary("trunc", _trunc, _zero_rule, "0", saves=(),
               domain=(-2.0, 2.0, [-2.0, -1.0, 0.0, 1.0, 2.0]))
