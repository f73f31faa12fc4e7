"""Issue #12's elementwise ops: atan2, logaddexp, lerp, frac, copysign, hypot, nan_to_num,
isclose, signbit, heaviside, clamp_min/max, addcmul/addcdiv, trunc, the bitwise and integer ops,
frexp/ldexp, and the aliases and in-place forms torch has.

Values and gradients through tests/oracle.py (torch when installed, NumPy references and
float64 central differences always); dtypes, errors and in-place forms against numbers written
from torch 2.13's documented behaviour."""
import math

import numpy as np
import pytest

import chainrule as cr
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

RNG = np.random.default_rng(12)


def rand(*shape, low=-2.0, high=2.0):
    return np.asarray(RNG.uniform(low, high, shape))


def away(*shape, low=0.3, high=2.0):
    """Values with |v| in [low, high] and random signs (no kinks at 0)."""
    return np.asarray(RNG.uniform(low, high, shape) * RNG.choice([-1.0, 1.0], shape))


# --- values and gradients, table-driven -----------------------------------------------------

LN2 = math.log(2)

# name: (program, arrays, NumPy reference, second derivatives: True, False, or None for no
# derivatives at all, where a NaN output leaves central differences NaN: tested below instead)
CASES = {
    "atan2": (lambda m, y, x: m.atan2(y, x), (away(3, 4), away(4)), np.arctan2, True),
    "arctan2": (lambda m, y, x: m.arctan2(y, x), (away(2, 3), away(2, 3)), np.arctan2, True),
    "atan2_method": (lambda m, y, x: y.atan2(x), (away(), away(3)), np.arctan2, True),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), (rand(3, 4), rand(4)), np.logaddexp, True),
    "logaddexp_far": (lambda m, a, b: m.logaddexp(a, b), (rand(5) * 300, rand(5) * 300),
                      np.logaddexp, False),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), (rand(2, 3), rand(2, 3)), np.logaddexp2,
                   True),
    "logaddexp2_method": (lambda m, a, b: a.logaddexp2(b), (rand(3), rand()), np.logaddexp2, False),
    "hypot": (lambda m, a, b: m.hypot(a, b), (away(3, 4), away(4)), np.hypot, True),
    "hypot_method": (lambda m, a, b: a.hypot(b), (away(), away(2)), np.hypot, False),
    "lerp_scalar_small": (lambda m, a, b: m.lerp(a, b, 0.3), (rand(3, 4), rand(4)),
                          lambda a, b: a + 0.3 * (b - a), True),
    "lerp_scalar_large": (lambda m, a, b: a.lerp(b, 0.8), (rand(3), rand(3)),
                          lambda a, b: a + 0.8 * (b - a), True),
    "lerp_tensor": (lambda m, a, b, w: m.lerp(a, b, w), (rand(3, 4), rand(4), rand(3, 1)),
                    lambda a, b, w: a + w * (b - a), True),
    "frac": (lambda m, x: m.frac(x), (rand(3, 4) * 3,), lambda x: x - np.trunc(x), True),
    "frac_method": (lambda m, x: x.frac(), (np.asarray(rand() * 3),), lambda x: x - np.trunc(x), False),
    "trunc": (lambda m, x: m.trunc(x), (rand(3, 4) * 3,), np.trunc, False),
    "fix": (lambda m, x: m.fix(x), (rand(5) * 3,), np.trunc, False),
    "trunc_method": (lambda m, x: x.trunc(), (rand(2, 2) * 3,), np.trunc, False),
    # (no second derivatives: torch gives zeros where chainrule's gradient is constant, None)
    "copysign": (lambda m, a, b: m.copysign(a, b), (away(3, 4), away(4)), np.copysign, False),
    "copysign_number": (lambda m, a: m.copysign(a, -0.0), (away(3),),
                        lambda a: np.copysign(a, -0.0), False),
    "copysign_method": (lambda m, a, b: a.copysign(b), (away(2), away(2)), np.copysign, False),
    "nan_to_num": (lambda m, x: m.nan_to_num(x), (np.array([1.5, np.nan, np.inf, -np.inf, -2.]),),
                   lambda x: np.nan_to_num(x), None),     # (the float64 max overflows w·out)
    "nan_to_num_values": (lambda m, x: x.nan_to_num(nan=2.0, posinf=1.0, neginf=-1.0),
                          (np.array([[1.5, np.nan], [np.inf, -np.inf]]),),
                          lambda x: np.nan_to_num(x, nan=2.0, posinf=1.0, neginf=-1.0), False),
    "clamp_min": (lambda m, x: m.clamp_min(x, 0.5), (away(3, 4),), lambda x: np.maximum(x, 0.5),
                  False),
    "clamp_max": (lambda m, x: x.clamp_max(-0.5), (away(3, 4),), lambda x: np.minimum(x, -0.5),
                  False),
    "clamp_min_tensor": (lambda m, x, lo: m.clamp_min(x, lo), (away(3, 4), away(4)),
                         np.maximum, False),
    "clamp_max_tensor": (lambda m, x, hi: x.clamp_max(hi), (away(3, 4), away(3, 1)),
                         np.minimum, False),
    "addcmul": (lambda m, x, a, b: m.addcmul(x, a, b), (rand(3, 4), rand(4), rand(3, 1)),
                lambda x, a, b: x + a * b, True),
    "addcmul_value": (lambda m, x, a, b: x.addcmul(a, b, value=-0.5), (rand(3), rand(3), rand(3)),
                      lambda x, a, b: x - 0.5 * a * b, True),
    "addcdiv": (lambda m, x, a, b: m.addcdiv(x, a, b, value=2), (rand(3, 4), rand(4), away(3, 1)),
                lambda x, a, b: x + 2 * a / b, True),
    "addcdiv_method": (lambda m, x, a, b: x.addcdiv(a, b), (rand(2), rand(2), away(2)),
                       lambda x, a, b: x + a / b, False),
    "angle": (lambda m, x: m.angle(x), (np.array([-1.5, 0.0, 2.0, -np.inf, np.inf, np.nan]),),
              lambda x: np.where(x < 0, np.pi, np.where(np.isnan(x), np.nan, 0.0)), None),
    "deg2rad": (lambda m, x: m.deg2rad(x), (rand(3, 4) * 180,), np.deg2rad, True),
    "rad2deg": (lambda m, x: x.rad2deg(), (rand(3),), np.rad2deg, True),
    "fmax": (lambda m, a, b: m.fmax(a, b),
             (np.array([1.0, np.nan, 3.0, np.nan, -1.0]), np.array([2.0, 1.0, np.nan, np.nan, -3.0])),
             np.fmax, None),
    "fmin": (lambda m, a, b: a.fmin(b),
             (np.array([1.0, np.nan, 3.0, np.nan, -1.0]), np.array([2.0, 1.0, np.nan, np.nan, -3.0])),
             np.fmin, None),
    "fmax_broadcast": (lambda m, a, b: m.fmax(a, b), (rand(3, 4), rand(4)), np.fmax, False),
    "ldexp": (lambda m, x, e: m.ldexp(x, e), (rand(3, 4), rand(4) * 3), lambda x, e: x * 2.0 ** e,
              True),
    "ldexp_int_exponent": (lambda m, x, e: x.ldexp(e), (rand(3), np.array([1, 2, 5])), np.ldexp,
                           True),
    "nextafter": (lambda m, a, b: m.nextafter(a, b), (rand(3, 4), rand(4)), np.nextafter, False),
    "float_power": (lambda m, x: m.float_power(x, 3), (rand(3, 4),), lambda x: x ** 3, True),
    "float_power_tensors": (lambda m, x, y: x.float_power(y), (away(3) ** 2, rand(3)),
                            np.power, True),
    "float_power_number_base": (lambda m, y: m.float_power(2, y), (rand(4),),
                                lambda y: 2.0 ** y, True),
    "sgn": (lambda m, x: m.sgn(x), (away(3, 4),), np.sign, None),   # torch: a ZeroTensor gradient
    "positive": (lambda m, x: m.positive(x) * 2, (rand(3),), lambda x: 2 * x, False),
    "arccos": (lambda m, x: m.arccos(x), (rand(3, low=-0.9, high=0.9),), np.arccos, True),
    "arcsin": (lambda m, x: x.arcsin(), (rand(3, low=-0.9, high=0.9),), np.arcsin, False),
    "arctan": (lambda m, x: m.arctan(x), (rand(3),), np.arctan, False),
    "arccosh": (lambda m, x: x.arccosh(), (rand(3, low=1.2, high=3.0),), np.arccosh, False),
    "arcsinh": (lambda m, x: m.arcsinh(x), (rand(3),), np.arcsinh, False),
    "arctanh": (lambda m, x: x.arctanh(), (rand(3, low=-0.9, high=0.9),), np.arctanh, False),
    "absolute": (lambda m, x: x.absolute(), (away(3),), np.abs, False),
    "negative": (lambda m, x: x.negative(), (rand(3),), np.negative, False),
    "multiply": (lambda m, x, y: x.multiply(y), (rand(3), rand(3)), np.multiply, False),
    "subtract": (lambda m, x, y: x.subtract(y, alpha=2), (rand(3), rand(3)),
                 lambda x, y: x - 2 * y, False),
    "divide": (lambda m, x, y: x.divide(y), (rand(3), away(3)), np.divide, False),
    "divide_floor": (lambda m, x, y: x.divide(y, rounding_mode="floor"), (rand(3) * 5, away(3)),
                     lambda x, y: np.floor(x / y), False),
    "true_divide": (lambda m, x, y: x.true_divide(y), (rand(3), away(3)), np.divide, False),
    "floor_divide": (lambda m, x, y: x.floor_divide(y), (rand(3) * 5, away(3)),
                     lambda x, y: np.floor(x / y), None),     # torch: no derivative
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients(name):
    program, arrays, ref, second = CASES[name]
    check(program, *arrays, ref=ref, second=bool(second), grad=second is not None)


def test_frexp_values_and_mantissa_gradient():
    x = np.array([3.0, -0.3, 1e-300, 5e-324, 0.0, 1e300, np.inf, -np.inf, np.nan])
    m_ref, e_ref = np.frexp(x)
    out = check(lambda m, t: m.frexp(t), x, ref=lambda a: np.frexp(a), grad=False)
    check(lambda m, t: m.frexp(t), np.array([3.0, -0.3, 0.7, -12.0]), ref=lambda a: np.frexp(a),
          second=True)
    assert out[1].dtype == cr.int32
    # the gradient of the mantissa is g · 2^-exponent, even for subnormal inputs
    t = cr.tensor(x[:6], requires_grad=True)
    cr.frexp(t).mantissa.sum().backward()
    with np.errstate(over="ignore"):        # 2^1074 for the smallest subnormal: inf, as torch
        np.testing.assert_array_equal(t.grad.numpy(), np.ldexp(1.0, -e_ref[:6]))
    np.testing.assert_array_equal(cr.frexp(t).mantissa.detach().numpy(), m_ref[:6])
    res = cr.frexp(cr.tensor([4.0]))
    assert type(res).__name__ == "frexp" and res._fields == ("mantissa", "exponent")
    assert repr(res).startswith("chainrule.return_types.frexp(")
    for dt in (cr.float16, cr.float32):
        small = cr.tensor([1e-45 if dt == cr.float32 else 6e-8, 3.0], dtype=dt, requires_grad=True)
        mant, exp_ = cr.frexp(small)
        assert mant.dtype == dt
        np.testing.assert_array_equal(mant.detach().numpy(), np.frexp(small.detach().numpy())[0])
        np.testing.assert_array_equal(exp_.numpy(), np.frexp(small.detach().numpy())[1])


def test_logaddexp_is_stable_and_keeps_infinities():
    big = cr.tensor([1000.0, -1000.0, 0.0], dtype=cr.float64)
    np.testing.assert_allclose(cr.logaddexp(big, big).numpy(),
                               [1000 + math.log(2), -1000 + math.log(2), math.log(2)])
    np.testing.assert_allclose(cr.logaddexp2(big, big).numpy(), [1001.0, -999.0, 1.0])
    inf = cr.tensor([-math.inf, math.inf, -math.inf, math.inf])
    other = cr.tensor([-math.inf, math.inf, 1.0, math.nan])
    np.testing.assert_array_equal(cr.logaddexp(inf, other).numpy(),
                                  [-math.inf, math.inf, 1.0, math.nan])
    np.testing.assert_array_equal(cr.logaddexp2(inf[:3], other[:3]).numpy(),
                                  [-math.inf, math.inf, 1.0])
    # a tie splits the gradient evenly, as torch
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([1.0], requires_grad=True)
    cr.logaddexp(a, b).sum().backward()
    assert a.grad.item() == 0.5 and b.grad.item() == 0.5


def test_ldexp_with_negative_integer_exponents():
    """The gradient is 2^other (torch 2.13 gives 0 where an integer exponent is negative: its
    rule takes 2 ** other in integers)."""
    x = cr.tensor([3.0, -0.5, 1.5], dtype=cr.float64, requires_grad=True)
    e = cr.tensor([-2, 3, -1])
    out = cr.ldexp(x, e)
    np.testing.assert_array_equal(out.detach().numpy(), [0.75, -4.0, 0.75])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.25, 8.0, 0.5])


def test_hypot_does_not_overflow_or_underflow():
    x = cr.tensor([3e200, 3e-200], dtype=cr.float64)
    y = cr.tensor([4e200, 4e-200], dtype=cr.float64)
    np.testing.assert_allclose(cr.hypot(x, y).numpy(), [5e200, 5e-200], rtol=1e-15)


def test_atan2_quadrants_and_gradient_at_the_origin():
    y = cr.tensor([0.0, 0.0, -0.0, 1.0, -1.0, 0.0], requires_grad=True)
    x = cr.tensor([1.0, -1.0, -1.0, 0.0, 0.0, 0.0], requires_grad=True)
    out = cr.atan2(y, x)
    np.testing.assert_allclose(out.detach().numpy(),
                               [0, math.pi, -math.pi, math.pi / 2, -math.pi / 2, 0], rtol=1e-6)
    out.sum().backward()
    # torch's rule: 0 at the origin (not NaN)
    assert y.grad[5].item() == 0 and x.grad[5].item() == 0
    assert np.isfinite(y.grad.numpy()).all()


def test_lerp_ends_are_exact():
    a = cr.tensor([0.1, 1e8], dtype=cr.float32)
    b = cr.tensor([0.7, 3.0], dtype=cr.float32)
    np.testing.assert_array_equal(cr.lerp(a, b, 1.0).numpy(), b.numpy())
    np.testing.assert_array_equal(cr.lerp(a, b, 0.0).numpy(), a.numpy())
    np.testing.assert_array_equal(cr.lerp(a, b, cr.tensor([1.0, 0.0])).numpy(),
                                  np.array([0.7, 1e8], np.float32))


def test_copysign_signed_zeros_and_nan():
    x = cr.tensor([1.0, 2.0, 3.0, math.nan])
    y = cr.tensor([-0.0, 0.0, -math.nan, -1.0])
    out = cr.copysign(x, y).numpy()
    np.testing.assert_array_equal(np.signbit(out), [True, False, True, True])
    np.testing.assert_array_equal(np.abs(out[:3]), [1.0, 2.0, 3.0])
    assert np.isnan(out[3])
    # d/dx = sign(x)·sign(out): -1 where the sign flips, 0 at x = 0
    a = cr.tensor([1.0, 0.0, -2.0, 3.0], dtype=cr.float64, requires_grad=True)
    cr.copysign(a, cr.tensor([-1.0, 1.0, 0.0, -0.0], dtype=cr.float64)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [-1.0, 0.0, -1.0, -1.0])


def test_nan_to_num_dtypes_and_gradient():
    x = cr.tensor([math.nan, math.inf, -math.inf, 2.0], dtype=cr.float16)
    np.testing.assert_array_equal(cr.nan_to_num(x).numpy(), [0.0, 65504.0, -65504.0, 2.0])
    assert cr.nan_to_num(x).dtype == cr.float16
    f = cr.tensor([math.inf, -math.inf])
    np.testing.assert_array_equal(f.nan_to_num().numpy(),
                                  [np.finfo(np.float32).max, np.finfo(np.float32).min])
    i = cr.tensor([1, -2])
    out = cr.nan_to_num(i)
    assert out.dtype == cr.int64 and out.tolist() == [1, -2]
    out[0] = 5
    assert i.tolist() == [1, -2]             # a copy, as torch
    assert cr.nan_to_num(cr.tensor([True])).dtype == cr.bool
    t = cr.tensor([1.0, math.nan, math.inf], requires_grad=True)
    cr.nan_to_num(t, nan=cr.tensor(3.0)).sum().backward()
    assert t.grad.tolist() == [1.0, 0.0, 0.0]
    assert cr.nan_to_num(cr.tensor(math.nan)).shape == ()


# --- dtypes -----------------------------------------------------------------------------------

I = [1, -2, 3]
F = [1.0, -2.0, 3.0]


def t(values, dtype):
    return cr.tensor(values, dtype=dtype)


@pytest.mark.parametrize("expr, dtype", [
    ("cr.atan2(t(I, cr.int64), t(I, cr.int64))", cr.float32),
    ("cr.atan2(t(I, cr.bool), t(I, cr.bool))", cr.float32),
    ("cr.atan2(t(F, cr.float16), t(F, cr.float32))", cr.float32),
    ("cr.atan2(t(I, cr.int64), t(F, cr.float64))", cr.float64),
    ("cr.atan2(t(F, cr.float16), t(F, cr.float16))", cr.float16),
    ("cr.logaddexp(t(F, cr.float32), t(F, cr.float16))", cr.float32),
    ("cr.hypot(t(F, cr.float32), t(F, cr.float64))", cr.float64),
    ("cr.copysign(t(I, cr.int64), t(I, cr.int64))", cr.float32),
    ("cr.copysign(t(I, cr.int64), -1)", cr.float32),
    ("cr.copysign(t(F, cr.float16), t(F, cr.float32))", cr.float32),
    ("cr.copysign(t(I, cr.bool), t(I, cr.bool))", cr.float32),
    ("cr.clamp_min(t(I, cr.int64), 0.5)", cr.float32),
    ("cr.clamp_max(t(I, cr.int64), 2)", cr.int64),
    ("cr.addcmul(t(I, cr.int64), t(I, cr.int64), t(I, cr.int64))", cr.int64),
    ("cr.addcmul(t(F, cr.float32), t(I, cr.int64), t(I, cr.int64))", cr.float32),
    ("cr.addcmul(t(F, cr.float32), t(F, cr.float64), t(F, cr.float32))", cr.float64),
    ("cr.addcdiv(t(I, cr.int64), t(F, cr.float32), t(F, cr.float32))", cr.float32),
    ("cr.addcdiv(t(F, cr.float32), t(F, cr.float16), t(F, cr.float16))", cr.float32),
    ("cr.trunc(t(I, cr.int64))", cr.int64),
    ("cr.trunc(t(F, cr.float16))", cr.float16),
    ("cr.angle(t(I, cr.int64))", cr.float32),
    ("cr.angle(t(F, cr.float16))", cr.float16),
    ("cr.deg2rad(t(I, cr.bool))", cr.float32),
    ("cr.rad2deg(t(F, cr.float16))", cr.float16),
    ("cr.fmax(t(I, cr.int64), t(F, cr.float32))", cr.float32),
    ("cr.fmin(t(I, cr.bool), t(I, cr.bool))", cr.bool),
    ("cr.gcd(t(I, cr.int64), t(I, cr.int32))", cr.int64),
    ("cr.lcm(t(I, cr.int16), t(I, cr.int8))", cr.int16),
    ("cr.ldexp(t(F, cr.float32), t(I, cr.int64))", cr.float32),
    ("cr.ldexp(t(I, cr.int32), t(I, cr.int32))", cr.float32),
    ("cr.ldexp(t(F, cr.float16), t(I, cr.int64))", cr.float16),
    ("cr.ldexp(t(I, cr.bool), t(I, cr.bool))", cr.float32),
    ("cr.nextafter(t(F, cr.float32), t(F, cr.float64))", cr.float64),
    ("cr.nextafter(t(F, cr.float16), t(F, cr.float16))", cr.float16),
    ("cr.float_power(t(I, cr.int64), 2)", cr.float64),
    ("cr.float_power(t(F, cr.float32), t(I, cr.int64))", cr.float64),
    ("cr.float_power(2, t(F, cr.float16))", cr.float64),
    ("cr.float_power(t(I, cr.bool), 2)", cr.float64),
    ("cr.sgn(t(I, cr.int64))", cr.int64),
    ("cr.sgn(t(I, cr.bool))", cr.bool),
    ("cr.heaviside(t(I, cr.int64), t(I, cr.int64))", cr.int64),
    ("cr.heaviside(t(F, cr.float16), t([0.5], cr.float16))", cr.float16),
    ("cr.heaviside(t(I, cr.bool), t(I, cr.bool))", cr.bool),
    ("cr.bitwise_and(t(I, cr.int64), 2)", cr.int64),
    ("cr.bitwise_and(t(I, cr.bool), 1)", cr.int64),
    ("cr.bitwise_or(t(I, cr.bool), t(I, cr.bool))", cr.bool),
    ("cr.bitwise_xor(t(I, cr.int32), t(I, cr.int64))", cr.int64),
    ("cr.bitwise_and(2, t(I, cr.int8))", cr.int8),
    ("cr.bitwise_left_shift(t(I, cr.uint8), 3)", cr.uint8),
    ("cr.signbit(t(I, cr.int64))", cr.bool),
    ("cr.isposinf(t(I, cr.bool))", cr.bool),
    ("cr.isreal(t(F, cr.float32))", cr.bool),
])
def test_result_dtypes(expr, dtype):
    assert eval(expr).dtype == dtype


def test_integer_values():
    a = cr.tensor([4, -6, 0, 9])
    b = cr.tensor([6, 4, 0, -12])
    assert cr.gcd(a, b).tolist() == [2, 2, 0, 3]
    assert cr.lcm(a, b).tolist() == [12, 12, 0, 36]
    assert a.gcd(b).tolist() == [2, 2, 0, 3]
    i = cr.tensor([1, -2, 3])
    assert cr.addcmul(i, i, i, value=0.5).tolist() == [1, -2, 3]     # value cast to int: 0
    assert cr.addcmul(i, i, i).tolist() == [2, 2, 12]
    assert cr.heaviside(cr.tensor([-1, 0, 2]), cr.tensor([7])).tolist() == [0, 7, 1]
    assert cr.heaviside(cr.tensor([math.nan, 0.0, -0.0, -1.0]),
                        cr.tensor([0.5])).tolist() == [0.0, 0.5, 0.5, 0.0]
    assert cr.signbit(cr.tensor([-0.0, 0.0, math.nan, -math.nan, -1.0])).tolist() == \
        [True, False, False, True, True]
    x = cr.tensor([-math.inf, math.inf, 1.0, math.nan])
    assert cr.isposinf(x).tolist() == [False, True, False, False]
    assert x.isneginf().tolist() == [True, False, False, False]
    assert cr.isreal(x).tolist() == [True] * 4
    assert cr.angle(cr.tensor([-1, 0, 2])).tolist() == pytest.approx([math.pi, 0.0, 0.0])


def test_bitwise_values_and_shifts():
    i = cr.tensor([1, -2, 3])
    assert cr.bitwise_and(i, 2).tolist() == [0, 2, 2]
    assert cr.bitwise_or(i, cr.tensor([4, 4, 4])).tolist() == [5, -2, 7]
    assert i.bitwise_xor(cr.tensor(1)).tolist() == [0, -1, 2]
    assert i.bitwise_not().tolist() == [-2, 1, -4]
    assert cr.bitwise_and(cr.tensor([True, False]), cr.tensor([True, True])).tolist() == \
        [True, False]
    assert cr.bitwise_left_shift(i, 2).tolist() == [4, -8, 12]
    # counts out of [0, bits): 0 for left shifts, the sign for right shifts, as torch
    assert cr.bitwise_left_shift(i, 64).tolist() == [0, 0, 0]
    assert cr.bitwise_left_shift(i, -1).tolist() == [0, 0, 0]
    assert cr.bitwise_right_shift(i, 64).tolist() == [0, -1, 0]
    assert cr.bitwise_right_shift(i, -1).tolist() == [0, -1, 0]
    assert cr.bitwise_right_shift(i, 1).tolist() == [0, -1, 1]
    assert cr.bitwise_left_shift(2, i).tolist() == [4, 0, 16]
    assert cr.bitwise_left_shift(i.to(cr.int8), 7).tolist() == [-128, 0, -128]
    assert cr.bitwise_left_shift(i.to(cr.uint8), 9).tolist() == [0, 0, 0]
    assert cr.bitwise_right_shift(i.to(cr.int8), 9).tolist() == [0, -1, 0]
    assert i.bitwise_left_shift(cr.tensor([0, 1, 2])).tolist() == [1, -4, 12]


def test_isclose_follows_torch():
    a = cr.tensor([1.0, 2.0, math.inf, math.nan, -math.inf])
    b = cr.tensor([1.0 + 1e-6, 2.1, math.inf, math.nan, math.inf])
    assert cr.isclose(a, b).tolist() == [True, False, True, False, False]
    assert a.isclose(b, equal_nan=True).tolist() == [True, False, True, True, False]
    assert cr.isclose(a, b, rtol=0.1).tolist()[:2] == [True, True]
    assert cr.isclose(cr.tensor([1, 5]), cr.tensor([2, 5]), atol=1).tolist() == [True, True]
    assert cr.isclose(cr.tensor([True, False]), cr.tensor([True, True])).tolist() == \
        [True, False]
    assert cr.isclose(cr.tensor(1.0), cr.tensor(1.0)).shape == ()


# --- zero-size and 0-d inputs -----------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: cr.atan2(x, x), lambda x: cr.logaddexp(x, x), lambda x: cr.logaddexp2(x, x),
    lambda x: cr.hypot(x, x), lambda x: cr.lerp(x, x, 0.5), lambda x: cr.lerp(x, x, x),
    cr.frac, cr.trunc, lambda x: cr.copysign(x, x), cr.nan_to_num, cr.signbit, cr.isposinf,
    cr.isneginf, lambda x: cr.heaviside(x, x), lambda x: cr.clamp_min(x, 0.0),
    lambda x: cr.addcmul(x, x, x), lambda x: cr.addcdiv(x, x, x), cr.angle, cr.deg2rad,
    lambda x: cr.fmax(x, x), lambda x: cr.fmin(x, x), lambda x: cr.frexp(x)[0],
    lambda x: cr.ldexp(x, x), lambda x: cr.nextafter(x, x), lambda x: cr.float_power(x, 2),
    cr.sgn, cr.isreal, lambda x: cr.isclose(x, x)])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_zero_d_and_empty(fn, shape):
    x = cr.ones(shape) * 0.5
    out = fn(x)
    assert out.shape == shape
    assert isinstance(out.numpy(), np.ndarray)


@pytest.mark.parametrize("fn", [
    lambda x: cr.gcd(x, x), lambda x: cr.lcm(x, x), lambda x: cr.bitwise_and(x, x),
    lambda x: cr.bitwise_left_shift(x, x), lambda x: cr.bitwise_right_shift(x, 1)])
@pytest.mark.parametrize("shape", [(), (0,)])
def test_zero_d_and_empty_integers(fn, shape):
    out = fn(cr.ones(shape, dtype=cr.int64) * 3)
    assert out.shape == shape and out.dtype == cr.int64


# --- errors ---------------------------------------------------------------------------------

f32 = cr.tensor([1.0, 2.0])
i64 = cr.tensor([1, 2])


@pytest.mark.parametrize("call, error, message", [
    (lambda: cr.atan2(f32, 1), TypeError, r"atan2\(\): argument 'other' \(position 2\) must be "
                                          r"Tensor, not int"),
    (lambda: cr.hypot(f32, 1.0), TypeError, "hypot.*must be Tensor, not float"),
    (lambda: cr.logaddexp(f32, 1.0), TypeError, "logaddexp.*must be Tensor"),
    (lambda: cr.logaddexp(i64, i64), NotImplementedError,
     "\"logaddexp_cpu\" not implemented for 'Long'"),
    (lambda: cr.logaddexp2(i64, i64), NotImplementedError, "logaddexp2_cpu"),
    (lambda: cr.hypot(i64, i64), NotImplementedError, "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda: cr.lerp(i64, i64, 0.5), NotImplementedError,
     "\"lerp_kernel_scalar\" not implemented for 'Long'"),
    (lambda: cr.lerp(f32, f32.double(), 0.5), RuntimeError,
     "expected dtype float for `end` but got dtype double"),
    (lambda: cr.lerp(f32, f32, f32.double()), RuntimeError,
     "expected dtype float for `weight` but got dtype double"),
    (lambda: cr.lerp(f32, 2.0, 0.5), TypeError, "lerp.*'end'.*must be Tensor"),
    (lambda: cr.frac(i64), NotImplementedError, "\"frac_cpu\" not implemented for 'Long'"),
    (lambda: cr.frac(cr.tensor([True])), NotImplementedError, "'Bool'"),
    (lambda: cr.trunc(cr.tensor([True])), NotImplementedError,
     "\"trunc_vml_cpu\" not implemented for 'Bool'"),
    (lambda: cr.isclose(i64, f32), RuntimeError, "Long did not match Float"),
    (lambda: cr.isclose(f32, 1.0), TypeError, "isclose.*must be Tensor"),
    (lambda: cr.isclose(f32, f32, rtol=-1), RuntimeError,
     "rtol must be greater than or equal to zero, but got -1"),
    (lambda: cr.isclose(f32, f32, atol=-0.5), RuntimeError,
     "atol must be greater than or equal to zero, but got -0.5"),
    (lambda: cr.isclose(f32, cr.ones(3)), RuntimeError,
     r"The size of tensor a \(2\) must match the size of tensor b \(3\)"),
    (lambda: cr.heaviside(f32, f32.double()), RuntimeError,
     "heaviside is not yet implemented for tensors with different dtypes"),
    (lambda: cr.heaviside(f32, 1.0), TypeError, "heaviside.*'values'.*must be Tensor"),
    (lambda: cr.addcdiv(i64, i64, i64), RuntimeError,
     "Integer division with addcdiv is no longer supported"),
    (lambda: cr.addcdiv(f32, i64, i64), RuntimeError, "Integer division with addcdiv"),
    (lambda: cr.addcmul(cr.tensor([True]), cr.tensor([True]), cr.tensor([True])),
     NotImplementedError, "\"addcmul_cpu_out\" not implemented for 'Bool'"),
    (lambda: cr.frexp(i64), RuntimeError, r"torch.frexp\(\) only supports floating-point"),
    (lambda: cr.gcd(f32, f32), NotImplementedError, "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: cr.gcd(cr.tensor([True]), cr.tensor([True])), NotImplementedError, "'Bool'"),
    (lambda: cr.gcd(i64, 2), TypeError, "gcd.*must be Tensor, not int"),
    (lambda: cr.lcm(i64, f32), NotImplementedError, "\"lcm_cpu\" not implemented for 'Float'"),
    (lambda: cr.ldexp(f32, 2), TypeError, "ldexp.*must be Tensor, not int"),
    (lambda: cr.nextafter(i64, i64), NotImplementedError,
     "\"nextafter_cpu\" not implemented for 'Long'"),
    (lambda: cr.nextafter(f32, 2.0), TypeError, "nextafter.*must be Tensor"),
    (lambda: cr.positive(cr.tensor([True])), RuntimeError,
     "The `\\+` operator, on a bool tensor is not supported."),
    (lambda: cr.float_power(2, 3), TypeError, "float_power"),
    (lambda: cr.fmax(f32, 1.0), TypeError, "fmax.*must be Tensor, not float"),
    (lambda: cr.fmin(f32, cr.ones(3)), RuntimeError, "The size of tensor a"),
    (lambda: cr.bitwise_and(f32, f32), NotImplementedError,
     "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda: cr.bitwise_or(i64, 2.0), NotImplementedError,
     "\"bitwise_or_cpu\" not implemented for 'Float'"),
    (lambda: cr.bitwise_xor(1, 2), TypeError, "bitwise_xor"),
    (lambda: cr.bitwise_not(f32), NotImplementedError,
     "\"bitwise_not_cpu\" not implemented for 'Float'"),
    (lambda: cr.bitwise_left_shift(f32, 1), NotImplementedError,
     "\"lshift_cpu\" not implemented for 'Float'"),
    (lambda: cr.bitwise_right_shift(i64, 1.5), NotImplementedError,
     "\"rshift_cpu\" not implemented for 'Float'"),
    (lambda: cr.bitwise_left_shift(cr.tensor([True]), cr.tensor([True])), NotImplementedError,
     "\"lshift_cpu\" not implemented for 'Bool'"),
    (lambda: cr.clamp_min(f32), TypeError, "min"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@needs_torch
@pytest.mark.parametrize("call", [
    "m.atan2(f, 1)", "m.logaddexp(i, i)", "m.lerp(i, i, 0.5)", "m.lerp(f, d, 0.5)",
    "m.frac(i)", "m.isclose(i, f)", "m.isclose(f, f, rtol=-1)", "m.heaviside(f, d)",
    "m.addcdiv(i, i, i)", "m.frexp(i)", "m.gcd(f, f)", "m.bitwise_and(f, f)",
    "m.bitwise_left_shift(b, b)", "m.positive(b)", "m.nextafter(i, i)", "m.hypot(i, i)",
    "f.clone().float_power_(2)", "i.clone().atan2_(i)", "i.clone().copysign_(-1)",
    "f.clone().requires_grad_().apply_(lambda v: v)", "i.clone().lt_(m.ones(2, 2))"])
def test_errors_are_torchs(call):
    """The same misuse raises the same exception type in chainrule and in torch."""
    def run(m):
        env = {"m": m, "f": m.tensor([1.0, 2.0]), "d": m.tensor([1.0, 2.0], dtype=m.float64),
               "i": m.tensor([1, 2]), "b": m.tensor([True, False])}
        with pytest.raises(Exception) as info:
            eval(call, env)
        return info.type
    assert run(cr) is run(torch)


# --- in-place forms ---------------------------------------------------------------------------

# (name, args, kwargs, input): every in-place method (and torch.name_ where torch has it) must
# give the out-of-place function's values, in the input's own storage
INPLACE = [
    ("abs_", (), {}, "f"), ("absolute_", (), {}, "f"), ("acos_", (), {}, "u"),
    ("arccos_", (), {}, "u"), ("acosh_", (), {}, "g"), ("arccosh_", (), {}, "g"),
    ("asin_", (), {}, "u"), ("arcsin_", (), {}, "u"), ("asinh_", (), {}, "f"),
    ("arcsinh_", (), {}, "f"), ("atan_", (), {}, "f"), ("arctan_", (), {}, "f"),
    ("atanh_", (), {}, "u"), ("arctanh_", (), {}, "u"), ("ceil_", (), {}, "f"),
    ("cos_", (), {}, "f"), ("cosh_", (), {}, "f"), ("deg2rad_", (), {}, "f"),
    ("rad2deg_", (), {}, "f"), ("exp2_", (), {}, "f"), ("expm1_", (), {}, "f"),
    ("fix_", (), {}, "f"), ("trunc_", (), {}, "f"), ("floor_", (), {}, "f"),
    ("frac_", (), {}, "f"), ("log10_", (), {}, "g"), ("log1p_", (), {}, "g"),
    ("log2_", (), {}, "g"), ("log_", (), {}, "g"), ("negative_", (), {}, "f"),
    ("reciprocal_", (), {}, "g"), ("relu_", (), {}, "f"), ("round_", (), {}, "f"),
    ("round_", (), {"decimals": 1}, "f"), ("rsqrt_", (), {}, "g"), ("sigmoid_", (), {}, "f"),
    ("sin_", (), {}, "f"), ("sinh_", (), {}, "f"), ("sqrt_", (), {}, "g"), ("square_", (), {}, "f"),
    ("tan_", (), {}, "u"), ("tanh_", (), {}, "f"), ("sgn_", (), {}, "f"), ("sign_", (), {}, "f"),
    ("nan_to_num_", (), {}, "n"), ("nan_to_num_", (), {"nan": 1.0, "posinf": 2.0}, "n"),
    ("clamp_min_", (0.5,), {}, "f"), ("clamp_max_", (0.5,), {}, "f"),
    ("atan2_", ("f",), {}, "f"), ("arctan2_", ("f",), {}, "f"), ("copysign_", (-1.0,), {}, "f"),
    ("hypot_", ("f",), {}, "f"), ("ldexp_", ("i",), {}, "f"), ("nextafter_", ("g",), {}, "f"),
    ("lerp_", ("g", 0.3), {}, "f"), ("lerp_", ("g", "u"), {}, "f"),
    ("addcmul_", ("f", "g"), {"value": 2}, "f"), ("addcdiv_", ("f", "g"), {"value": 3}, "f"),
    ("heaviside_", ("u",), {}, "f"), ("fmod_", (0.7,), {}, "f"), ("remainder_", (0.7,), {}, "f"),
    ("multiply_", ("g",), {}, "f"), ("subtract_", ("g",), {"alpha": 2}, "f"),
    ("divide_", ("g",), {}, "f"), ("divide_", ("g",), {"rounding_mode": "trunc"}, "f"),
    ("true_divide_", ("g",), {}, "f"), ("floor_divide_", ("g",), {}, "f"),
    ("float_power_", (2,), {}, "d"),
    ("eq_", ("f",), {}, "f"), ("ne_", (0.5,), {}, "f"), ("lt_", ("u",), {}, "f"),
    ("le_", ("u",), {}, "f"), ("gt_", ("u",), {}, "f"), ("ge_", ("u",), {}, "f"),
    ("greater_", ("u",), {}, "f"), ("greater_equal_", ("u",), {}, "f"), ("less_", ("u",), {}, "f"),
    ("less_equal_", ("u",), {}, "f"), ("not_equal_", ("u",), {}, "f"),
    ("logical_and_", ("u",), {}, "f"), ("logical_or_", ("u",), {}, "f"),
    ("logical_xor_", ("u",), {}, "f"), ("logical_not_", (), {}, "f"),
    ("gcd_", ("k",), {}, "i"), ("lcm_", ("k",), {}, "i"), ("bitwise_and_", ("k",), {}, "i"),
    ("bitwise_or_", ("k",), {}, "i"), ("bitwise_xor_", ("k",), {}, "i"),
    ("bitwise_not_", (), {}, "i"), ("bitwise_left_shift_", (2,), {}, "i"),
    ("bitwise_right_shift_", ("k",), {}, "i"),
]

_DATA = {
    "f": np.array([[1.5, -0.3, 0.8], [-1.2, 0.0, 2.25]]),
    "g": np.array([[1.1, 2.0, 1.4], [3.0, 1.7, 2.5]]),
    "u": np.array([[0.5, -0.3, 0.0], [-0.6, 0.1, 0.25]]),
    "n": np.array([[np.nan, np.inf, -np.inf], [1.0, -2.0, 0.5]]),
    "d": np.array([[1.5, -0.3, 0.8], [-1.2, 0.0, 2.25]]),
    "i": np.array([[12, -7, 5], [0, 9, 64]]),
    "k": np.array([[8, 3, 1], [6, 4, 2]]),
}


def _arg(m, a):
    if isinstance(a, str):
        dtype = {"i": m.int64, "k": m.int64, "d": m.float64}.get(a, m.float32)
        return m.tensor(_DATA[a], dtype=dtype)
    return a


@pytest.mark.parametrize("name, args, kwargs, kind", INPLACE,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(INPLACE)])
def test_in_place_methods(name, args, kwargs, kind):
    x = _arg(cr, kind)
    before = x.clone()
    r = getattr(x, name)(*[_arg(cr, a) for a in args], **kwargs)
    assert r is x and r.dtype == before.dtype
    out_of_place = getattr(cr, "absolute" if name == "absolute_" else name[:-1], None)
    if out_of_place is None:
        out_of_place = getattr(cr.Tensor, name[:-1])
    want = out_of_place(before, *[_arg(cr, a) for a in args], **kwargs).to(before.dtype)
    np.testing.assert_array_equal(x.numpy(), want.numpy())
    if hasattr(cr, name):               # torch.name_(x, ...) where torch has it
        y = before.clone()
        assert getattr(cr, name)(y, *[_arg(cr, a) for a in args], **kwargs) is y
        np.testing.assert_array_equal(y.numpy(), want.numpy())
    if torch is not None:
        tx = _arg(torch, kind)
        getattr(tx, name)(*[_arg(torch, a) for a in args], **kwargs)
        np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6, atol=1e-6)


def test_top_level_in_place_functions_are_torchs():
    names = sorted({n for n, *_ in INPLACE} | {"clamp_", "clip_", "exp_", "neg_", "zero_",
                                                "fill_"})
    for n in names:
        if torch is not None:
            assert hasattr(cr, n) == hasattr(torch, n), n
        assert hasattr(cr.Tensor, n), n


def test_in_place_on_integers_refuses_a_floating_result():
    for name, args in (("sqrt_", ()), ("atan2_", (cr.tensor([1, 2]),)), ("copysign_", (-1,)),
                       ("exp_", ()), ("deg2rad_", ()), ("divide_", (2,)),
                       ("true_divide_", (2,))):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the "
                                               "desired output type Long"):
            getattr(cr.tensor([1, 2]), name)(*args)
    for name in ("abs_", "relu_", "square_", "trunc_", "round_", "ceil_", "sgn_"):
        x = cr.tensor([1, -2])
        getattr(x, name)()
        assert x.dtype == cr.int64
    x = cr.tensor([5, -7])
    x.floor_divide_(2)
    assert x.tolist() == [2, -4]
    x = cr.tensor([1.0, 2.0])
    x.eq_(1.0)
    assert x.tolist() == [1.0, 0.0]
    b = cr.tensor([True, False])
    b.eq_(1)
    assert b.dtype == cr.bool and b.tolist() == [True, False]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        cr.tensor([1, 2]).lt_(cr.ones(2, 2))


def test_float_power_in_place_needs_float64():
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float but "
                                           "the operation's result requires dtype Double"):
        cr.tensor([1.0, 2.0]).float_power_(2)
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    x.float_power_(cr.tensor([3.0, 0.5]))
    np.testing.assert_allclose(x.numpy(), [1.0, 2 ** 0.5])


def test_in_place_records_gradients():
    a = cr.tensor([0.3, -0.4, 0.5], dtype=cr.float64, requires_grad=True)
    b = cr.tensor([1.5, 2.0, -1.0], dtype=cr.float64, requires_grad=True)
    x = a * 1.0
    x.add_(0.5)
    x.atan2_(b)         # saves x after an earlier in-place op: its version must still check
    x.lerp_(b, 0.25)
    x.addcmul_(a, b, value=2)
    x.sum().backward()
    ga, gb = a.grad.numpy().copy(), b.grad.numpy().copy()
    a.grad = b.grad = None
    y = cr.lerp(cr.atan2(a * 1.0 + 0.5, b), b, 0.25)
    cr.addcmul(y, a, b, value=2).sum().backward()
    np.testing.assert_allclose(ga, a.grad.numpy())
    np.testing.assert_allclose(gb, b.grad.numpy())


def test_in_place_comparison_cuts_the_gradient():
    """x.eq_(y) on a tensor that records: its old history gets gradient 0, as torch."""
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = a * 2
    x.gt_(3.0)
    assert x.requires_grad and x.tolist() == [0.0, 1.0, 1.0]
    (x * 5).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        cr.tensor([1.0], requires_grad=True).eq_(1.0)


def test_fill_and_zero():
    x = cr.tensor([1.5, -2.0], requires_grad=True)
    out = cr.fill(x, 3)
    assert out.tolist() == [3.0, 3.0] and x.tolist() == [1.5, -2.0] and out.requires_grad
    v = cr.tensor(2.0, requires_grad=True)
    out = cr.fill(x, v)
    (out * cr.tensor([1.0, 4.0])).sum().backward()
    assert v.grad.item() == 5.0 and x.grad.tolist() == [0.0, 0.0]
    assert cr.fill(cr.tensor([1, 2]), 2.5).tolist() == [2, 2]
    y = cr.tensor([1.0, 2.0])
    assert cr.fill_(y, 7) is y and y.tolist() == [7.0, 7.0]
    assert cr.zero_(y) is y and y.tolist() == [0.0, 0.0]


def test_apply_and_map():
    x = cr.tensor([[1, -2], [3, 4]])
    assert x.apply_(lambda v: v * 2) is x and x.tolist() == [[2, -4], [6, 8]]
    assert x.apply_(lambda v: 2.5).tolist() == [[2, 2], [2, 2]]
    view = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    view.t().apply_(lambda v: -v)
    assert view.tolist() == [[-1.0, -2.0], [-3.0, -4.0]]
    y = cr.ones(2, 3)
    assert y.map_(cr.tensor([1.0, 2.0, 3.0]), lambda a, b: a + b) is y
    assert y.tolist() == [[2.0, 3.0, 4.0]] * 2
    with pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires "
                                           r"grad. Use var.detach\(\).apply_\(\) instead."):
        cr.ones(2, requires_grad=True).apply_(lambda v: v)
    with pytest.raises(RuntimeError, match=r"Can't call map_\(\)"):
        cr.ones(2, requires_grad=True).map_(cr.ones(2), lambda a, b: a)
    with pytest.raises(TypeError, match="map_: expected chainrule.LongTensor for 'other' "
                                        r"\(got chainrule.DoubleTensor\)"):
        cr.tensor([1, 2]).map_(cr.tensor([1.0, 2.0], dtype=cr.float64), lambda a, b: a)
    with pytest.raises(RuntimeError, match="map_"):
        cr.ones(3).map_(cr.ones(2, 3), lambda a, b: a)
    with pytest.raises(TypeError):
        cr.tensor([1]).apply_(lambda v: "a")


# --- methods and aliases ----------------------------------------------------------------------

ALIASES = [("arccos", "acos"), ("arccosh", "acosh"), ("arcsin", "asin"), ("arcsinh", "asinh"),
           ("arctan", "atan"), ("arctanh", "atanh"), ("arctan2", "atan2"), ("fix", "trunc"),
           ("sgn", "sign"), ("absolute", "abs"), ("negative", "neg"), ("multiply", "mul"),
           ("subtract", "sub"), ("divide", "div"), ("true_divide", "div"),
           ("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
           ("not_equal", "ne")]


@pytest.mark.parametrize("alias, name", ALIASES)
def test_aliases_give_the_same_values(alias, name):
    x = cr.tensor([0.25, -0.5, 0.75])
    y = cr.tensor([0.5, 0.5, -0.25])
    binary = alias in ("arctan2", "multiply", "subtract", "divide", "true_divide", "greater",
                       "greater_equal", "less", "less_equal", "not_equal")
    args = (y,) if binary else ()
    want = getattr(cr.Tensor, name)(x, *args).numpy()
    np.testing.assert_array_equal(getattr(x, alias)(*args).numpy(), want)
    if hasattr(cr, alias) and alias not in ("arctan2",) or alias == "arctan2":
        np.testing.assert_array_equal(getattr(cr, alias)(x, *args).numpy(), want)


def test_methods_exist_where_torchs_do():
    names = ["atan2", "arctan2", "logaddexp", "logaddexp2", "lerp", "frac", "copysign", "hypot",
             "nan_to_num", "isclose", "isneginf", "isposinf", "signbit", "heaviside",
             "clamp_min", "clamp_max", "addcmul", "addcdiv", "trunc", "fix", "angle", "deg2rad",
             "rad2deg", "fmax", "fmin", "frexp", "gcd", "lcm", "ldexp", "nextafter", "positive",
             "sgn", "isreal", "float_power", "bitwise_and", "bitwise_or", "bitwise_xor",
             "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_and",
             "logical_or", "logical_xor", "map_", "apply_"]
    for n in names:
        assert hasattr(cr.Tensor, n), n
        if torch is not None:
            assert hasattr(cr, n) == hasattr(torch, n), n


def test_positive_returns_the_tensor():
    x = cr.tensor([1.0, -2.0])
    assert cr.positive(x) is x and x.positive() is x
    assert cr.positive(cr.tensor([1, 2])).dtype == cr.int64


def test_non_differentiable_results_have_no_grad_fn():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    for out in (cr.signbit(x), cr.isposinf(x), cr.isneginf(x), cr.isreal(x),
                cr.isclose(x, x), cr.heaviside(x, x), cr.frexp(x).exponent):
        assert out.grad_fn is None and not out.requires_grad
    for out in (cr.frac(x), cr.atan2(x, x), cr.nextafter(x, x), cr.angle(x), cr.sgn(x),
                cr.nan_to_num(x), cr.trunc(x)):
        assert out.requires_grad
    assert cr.trunc(x).grad_fn.name() == "TruncBackward0"
    assert cr.atan2(x, x).grad_fn.name() == "Atan2Backward0"


def test_angle_gradient_is_zero():
    x = cr.tensor([-1.0, 2.0, 0.0, math.inf], requires_grad=True)
    cr.angle(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_fmax_gradient_follows_torch():
    """Ties go to input (not split, as maximum's); NaN in one side sends the gradient to the
    other."""
    a = cr.tensor([1.0, 2.0, math.nan, 1.0], requires_grad=True)
    b = cr.tensor([1.0, 1.0, 1.0, math.nan], requires_grad=True)
    cr.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 0.0, 1.0]
    assert b.grad.tolist() == [0.0, 0.0, 1.0, 0.0]
    a.grad = b.grad = None
    cr.fmin(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert b.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_operators():
    x = cr.tensor([1, -2, 12])
    assert (x << 2).tolist() == [4, -8, 48] and (x >> 1).tolist() == [0, -1, 6]
    assert (1 << cr.tensor([0, 3])).tolist() == [1, 8]
    assert (64 >> cr.tensor([1, 3])).tolist() == [32, 8]
    assert (6 & x).tolist() == [0, 6, 4] and (1 | x).tolist() == [1, -1, 13]
    assert (3 ^ x).tolist() == [2, -3, 15]
    assert (x & cr.tensor([3, 3, 3])).tolist() == [1, 2, 0]
    assert (cr.tensor([True, False]) & True).tolist() == [True, False]
    y = x.clone()
    y <<= 1
    y >>= cr.tensor([0, 1, 2])
    y |= 1
    y ^= 2
    y &= 7
    assert y.tolist() == [1, 5, 5]         # [2, -4, 24] → [2, -2, 6] → [3, -1, 7] → [1, -3, 5]
    z = cr.tensor([7.0, -7.0], requires_grad=True)
    w = z * 1.0
    w //= 2
    assert w.tolist() == [3.0, -4.0]
    w = z * 1.0
    w %= 3
    w **= 2
    assert w.tolist() == [1.0, 4.0]
    w.sum().backward()
    assert z.grad.tolist() == [2.0, 4.0]
    with pytest.raises(NotImplementedError, match="bitwise_and_cpu"):
        cr.tensor([1.0]) & cr.tensor([1.0])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fn", [
    lambda a, b: cr.logaddexp(a, b), lambda a, b: cr.atan2(a, b), lambda a, b: cr.hypot(a, b),
    lambda a, b: cr.lerp(a, b, 0.7), lambda a, b: cr.lerp(a, b, b), lambda a, b: cr.fmax(a, b),
    lambda a, b: cr.copysign(a, b), lambda a, b: cr.frexp(a).mantissa,
    lambda a, b: cr.nan_to_num(a / b), lambda a, b: cr.isclose(a, b, atol=0.5),
    lambda a, b: cr.heaviside(a, b), lambda a, b: cr.addcdiv(a, a, b), lambda a, b: cr.signbit(b),
    lambda a, b: cr.trunc(a * 3)])
def test_vmap_matches_a_loop(fn):
    x = cr.tensor(RNG.standard_normal((4, 3)))
    y = cr.tensor(RNG.standard_normal((4, 3)))
    got = cr.func.vmap(fn)(x, y)
    want = cr.stack([fn(x[i], y[i]) for i in range(4)])
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_vmap_integer_ops():
    i = cr.tensor([[1, 2], [3, -4]])
    for fn in (lambda a: cr.bitwise_left_shift(a, 1), lambda a: cr.gcd(a, a * 2),
               lambda a: a & 3, lambda a: cr.bitwise_right_shift(a, cr.tensor([1, 70]))):
        np.testing.assert_array_equal(cr.func.vmap(fn)(i).numpy(),
                                      cr.stack([fn(i[k]) for k in range(2)]).numpy())


@pytest.mark.parametrize("expr, name", [
    ("cr.lerp(x, y, 0.3)", "LerpBackward0"), ("cr.lerp(x, y, 0.7)", "LerpBackward0"),
    ("cr.lerp(x, y, y)", "LerpBackward1"), ("cr.addcmul(x, y, y)", "AddcmulBackward0"),
    ("cr.addcdiv(x, y, y, value=2)", "AddcdivBackward0"), ("cr.frac(x)", "FracBackward0"),
    ("cr.logaddexp(x, y)", "LogaddexpBackward0"), ("cr.logaddexp2(x, y)", "Logaddexp2Backward0"),
    ("cr.copysign(x, y)", "CopysignBackward0"), ("cr.copysign(x, -1.0)", "CopysignBackward1"),
    ("cr.fmax(x, y)", "FmaxBackward0"), ("cr.fmin(x, y)", "FminBackward0"),
    ("cr.nan_to_num(x)", "NanToNumBackward0"), ("cr.deg2rad(x)", "Deg2RadBackward0"),
    ("cr.rad2deg(x)", "Rad2DegBackward0"), ("cr.ldexp(x, y)", "LdexpBackward0"),
    ("cr.angle(x)", "AngleBackward0"), ("cr.clamp_min(x, 0.0)", "ClampMinBackward0"),
    ("cr.clamp_min(x, y)", "ClampMinBackward1"), ("cr.clamp_max(x, 0.0)", "ClampMaxBackward0"),
    ("cr.clamp_max(x, y)", "ClampMaxBackward1"), ("cr.frexp(x).mantissa", "FrexpBackward0"),
    ("cr.sgn(x)", "SgnBackward0"), ("cr.atan2(x, y)", "Atan2Backward0"),
    ("cr.hypot(x, y)", "HypotBackward0"), ("cr.nextafter(x, y)", "NextafterBackward0"),
    ("cr.fix(x)", "TruncBackward0"), ("cr.float_power(x, 2)", "PowBackward0"),
    ("cr.fill(x, 2.0)", "FillBackward0")])
def test_grad_fn_names_are_torchs(expr, name):
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    y = cr.tensor([0.5, 3.0], requires_grad=True)
    assert eval(expr).grad_fn.name() == name
