"""Reductions, fmod/remainder and NumPy's spellings (issue #10, sections 6 and 7).

Expected values are hard facts (arithmetic, or NumPy in float64 on the same float16 inputs) or
PyTorch 2.13's recorded answers copied as literals; where torch is importable the same programs
also run on torch and must agree.
"""
import math

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("error")

inf = float("inf")


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _grad_of(lib, fn, data, dtype):
    x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
    y = fn(x)
    (y if y.ndim == 0 else y.sum()).backward()
    return y, x.grad


def _central(fn, data, eps=1e-6):
    """d sum(fn(x)) / dx by central differences in float64 (on NumPy arrays through chainrule's
    forward only: the gradient under test is never used)."""
    x = np.array(data, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[i] += eps
        lo[i] -= eps
        f = lambda a: float(fn(cr.tensor(a)).sum().item())   # noqa: E731
        g[i] = (f(hi) - f(lo)) / (2 * eps)
    return g


# =========================================================================================
# float16 reductions accumulate in float32 (as torch): results and gradients stay float16
# =========================================================================================

# (name, fn, input, value, gradient): value and gradient are the exact answers rounded to
# float16, and what torch 2.13 gives unless the comment says otherwise
F16_CASES = [
    ("mean", lambda x: x.mean(), [60000., 60000.], 60000., [0.5, 0.5]),
    ("mean_dim", lambda x: x.mean(1), [[60000., 60000.]], [60000.], [[0.5, 0.5]]),
    ("mean_axis_keepdims", lambda x: cr_or_torch_mean(x), [[60000., 60000.]], [[60000.]],
     [[0.5, 0.5]]),
    ("norm", lambda x: x.norm(), [300., 300.], 300 * math.sqrt(2), [0.5 ** 0.5] * 2),
    ("var", lambda x: x.var(), [1000., 1001., 1002.], 1.0, [-1.0, 0.0, 1.0]),
    ("std", lambda x: x.std(), [1000., 1001., 1002.], 1.0, [-0.5, 0.0, 0.5]),
    ("var_dim", lambda x: x.var(0, keepdim=True), [[1000.], [1001.], [1002.]], [[1.0]],
     [[-1.0], [0.0], [1.0]]),
    ("softmax", lambda x: x.softmax(0)[0], [0.] * 70000, 1 / 70000, None),
]


def cr_or_torch_mean(x):
    return x.mean(axis=1, keepdims=True)


def _close16(got, want):
    """Equal within float16's rounding (two ulps of the wanted value)."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    tol = 2 * np.abs(np.spacing(want.astype(np.float16)).astype(np.float64)) + 1e-7
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= tol))


@pytest.mark.parametrize("name,fn,data,value,grad", F16_CASES, ids=[c[0] for c in F16_CASES])
def test_float16_reductions_accumulate_in_float32(name, fn, data, value, grad):
    y, g = _grad_of(cr, fn, data, "float16")
    assert y.dtype == cr.float16 and g.dtype == cr.float16
    assert _close16(y.tolist(), value), (y.tolist(), value)
    if grad is not None:
        assert _close16(g.tolist(), grad), (g.tolist(), grad)
    torch = _torch()
    if torch is not None:
        ty, tg = _grad_of(torch, fn, data, "float16")
        assert _close16(y.tolist(), ty.float().tolist())
        assert _close16(g.float().tolist(), tg.float().tolist())


def test_float16_reductions_where_torch_overflows_are_exact():
    """Where torch 2.13 itself loses the float16 answer (noted per line), chainrule gives the
    exact one: these primitives accumulate in float32 and return float16."""
    # prod: torch inf (accumulates in float16); 300·300·(1/300) = 300
    y, g = _grad_of(cr, lambda x: x.prod(), [300., 300., 1 / 300], "float16")
    assert _close16(y.item(), 300.0) and g.tolist()[:2] == [1.0, 1.0] and g.tolist()[2] == inf
    # logsumexp of 70000 zeros: ln 70000 (torch: inf)
    y, g = _grad_of(cr, lambda x: x.logsumexp(0), [0.] * 70000, "float16")
    assert _close16(y.item(), math.log(70000)) and _close16(g[0].item(), 1 / 70000)
    # log_softmax of 70000 zeros: -ln 70000 (torch: -inf)
    y = cr.zeros(70000, dtype=cr.float16).log_softmax(0)
    assert y.dtype == cr.float16 and _close16(y[0].item(), -math.log(70000))
    # the 3-norm of [300, 300] and its gradient (|x|/‖x‖)² = 2^(-2/3) (torch: NaN gradient)
    y, g = _grad_of(cr, lambda x: x.norm(3), [300., 300.], "float16")
    assert _close16(y.item(), 300 * 2 ** (1 / 3)) and _close16(g.tolist(), [2 ** (-2 / 3)] * 2)


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "norm", "softmax", "log_softmax",
                                "logsumexp", "prod"])
def test_float16_reductions_match_float64_on_random_inputs(op):
    """On 2,000 float16 values the result is the float64 answer rounded once to float16 (values
    near 40 for mean, var, std and norm, whose float16 sums, 80,000 and 3.2e6, overflow)."""
    rng = np.random.default_rng(0)
    a = (rng.uniform(0.5, 1.5, 2000) if op == "prod" else
         rng.normal(40, 5, 2000) if op in ("mean", "var", "std", "norm") else
         rng.normal(3, 1, 2000))
    a = a.astype(np.float16)
    if op == "prod":
        a = a[:40]
    x = cr.tensor(a)
    fn = {"softmax": lambda t: t.softmax(0), "log_softmax": lambda t: t.log_softmax(0),
          "logsumexp": lambda t: t.logsumexp(0)}.get(op, lambda t: getattr(t, op)())
    got = fn(x)
    assert got.dtype == cr.float16
    got = np.asarray(got.tolist(), np.float64)
    w = a.astype(np.float64)
    e = np.exp(w - w.max())
    want = {"sum": w.sum, "mean": w.mean, "var": lambda: w.var(ddof=1),
            "std": lambda: w.std(ddof=1), "norm": lambda: np.sqrt((w * w).sum()),
            "prod": w.prod, "softmax": lambda: e / e.sum(),
            "log_softmax": lambda: w - w.max() - np.log(e.sum()),
            "logsumexp": lambda: w.max() + np.log(e.sum())}[op]()
    # one rounding to float16 of the float32-accumulated value
    assert np.allclose(got, want, rtol=2 ** -10, atol=1e-7), (op, got, want)


# =========================================================================================
# norm's gradient at zeros
# =========================================================================================

NORM_INPUTS = [[0., 2., -3.], [0., 0., 0.], [0., 0., 1.], [-2., 0., 2.]]
# torch 2.13's gradients of torch.norm(x, p) for the inputs above, float64
NORM_TORCH_GRADS = {
    0.5: [[0.0, 2.224744871391589, -1.8164965809277265], [0, 0, 0], [0, 0, 1], [-2, 0, 2]],
    1: [[0, 1, -1], [0, 0, 0], [0, 0, 1], [-1, 0, 1]],
    1.5: [[0.0, 0.7063840791276675, -0.8651402781442813], [0, 0, 0], [0, 0, 1],
          [-0.7937005259840997, 0.0, 0.7937005259840997]],
    2: [[0.0, 0.5547001962252291, -0.8320502943378437], [0, 0, 0], [0, 0, 1],
        [-0.7071067811865475, 0.0, 0.7071067811865475]],
    "fro": [[0.0, 0.5547001962252291, -0.8320502943378437], [0, 0, 0], [0, 0, 1],
            [-0.7071067811865475, 0.0, 0.7071067811865475]],
    3: [[0.0, 0.37383614973583884, -0.8411313369056374], [0, 0, 0], [0, 0, 1],
        [-0.6299605249474365, 0.0, 0.6299605249474365]],
    inf: [[0, 0, -1], [0, 0, 0], [0, 0, 1], [-0.5, 0, 0.5]],
    -inf: [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
    -1: [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
    -2: [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
}


@pytest.mark.parametrize("p", list(NORM_TORCH_GRADS), ids=str)
@pytest.mark.parametrize("k", range(len(NORM_INPUTS)))
def test_norm_gradient_at_zero_elements_is_torchs(p, k):
    data = NORM_INPUTS[k]
    _, g = _grad_of(cr, lambda x: cr.norm(x, p), data, "float64")
    np.testing.assert_allclose(g.tolist(), NORM_TORCH_GRADS[p][k], rtol=1e-12, atol=0)
    assert not np.isnan(g.tolist()).any()
    torch = _torch()
    if torch is not None:
        _, tg = _grad_of(torch, lambda x: torch.norm(x, p), data, "float64")
        np.testing.assert_allclose(g.tolist(), tg.tolist(), rtol=1e-12, atol=0)


def test_norm_p0_counts_and_has_no_gradient():
    x = cr.tensor([0., 2., -3.], dtype=cr.float64, requires_grad=True)
    n = cr.norm(x, 0)
    assert n.item() == 2.0
    n.backward()
    assert x.grad is None          # torch: None as well


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, inf, -inf, -1])
def test_norm_gradient_matches_central_differences_away_from_zero(p):
    data = [[0.7, -1.3, 0.4], [1.1, 0.9, -0.2]]
    fn = lambda t: cr.norm(t, p, dim=1) * cr.norm(t, p, dim=1) + cr.norm(t, p)   # noqa: E731
    _, g = _grad_of(cr, fn, data, "float64")
    np.testing.assert_allclose(g.tolist(), _central(fn, data), rtol=1e-6, atol=1e-7)


# =========================================================================================
# fmod and remainder
# =========================================================================================

@pytest.mark.parametrize("op", ["fmod", "remainder"])
@pytest.mark.parametrize("divisor", [0, "tensor0", "tensor_with_0", "uint8"])
def test_integer_fmod_and_remainder_by_zero_raise_like_torch(op, divisor):
    x = cr.tensor([3, -3, 5])
    d = {0: 0, "tensor0": cr.tensor(0), "tensor_with_0": cr.tensor([1, 0, 2])}.get(divisor)
    if divisor == "uint8":
        x, d = cr.tensor([3], dtype=cr.uint8), 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(cr, op)(x, d)


def test_percent_by_integer_zero_raises():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        cr.tensor([3]) % 0


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_float_fmod_and_remainder_by_zero_are_nan_silently(op):
    for x, d in [(cr.tensor([3., -3., 0.]), 0), (cr.tensor([3, -3, 0]), 0.0),
                 (cr.tensor([3., -3., 0.]), cr.tensor([0., 0., 0.]))]:
        r = getattr(cr, op)(x, d)
        assert r.dtype == cr.float32 and np.isnan(r.tolist()).all()


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_and_remainder_are_exact(op):
    """x - trunc(x/y)·y loses the low bits when x/y is large: the result must be C's fmod."""
    for a, b in [(1e6, 0.1), (123456.7, 0.3), (-5.5, 0.7), (5.5, -0.7), (1e30, 3.0)]:
        got = getattr(cr, op)(cr.tensor([a]), b).item()
        want = np.fmod(np.float32(a), np.float32(b))
        if op == "remainder" and want != 0 and (want < 0) != (b < 0):
            want = want + np.float32(b)
        assert got == float(want), (op, a, b, got, want)
    # integers stay exact integers (int64 through float64 would round 2**62 + 1)
    r = getattr(cr, op)(cr.tensor([2 ** 62 + 1, -7, 7]), cr.tensor([3, 2, -2]))
    assert r.dtype == cr.int64
    assert r.tolist() == ([2, -1, 1] if op == "fmod" else [2, 1, -1])


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_and_remainder_gradients(op):
    # torch: d/dx = 1, d/dy = -trunc(x/y) (fmod) or -floor(x/y) (remainder), ±inf at y = 0
    x = cr.tensor([5.5, -5.5, 3.0, -3.5], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([2.0, 2.0, 0.0, 0.0], dtype=cr.float64, requires_grad=True)
    getattr(cr, op)(x, y).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert y.grad.tolist() == ([-2.0, 2.0, -inf, inf] if op == "fmod" else [-2.0, 3.0, -inf, inf])
    data = [[0.7, -1.3, 1.9], [0.6, 0.8, -0.9]]
    fn = lambda t: getattr(cr, op)(t[0], t[1]) * t[0]        # noqa: E731  (x used twice)
    _, g = _grad_of(cr, fn, data, "float64")
    np.testing.assert_allclose(g.tolist(), _central(fn, data), rtol=1e-6, atol=1e-7)
    torch = _torch()
    if torch is not None:
        tx = torch.tensor([5.5, -5.5, 3.0, -3.5], dtype=torch.float64, requires_grad=True)
        ty = torch.tensor([2.0, 2.0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
        getattr(torch, op)(tx, ty).sum().backward()
        assert tx.grad.tolist() == x.grad.tolist() and ty.grad.tolist() == y.grad.tolist()


def test_fmod_of_bool_is_refused_as_torch():
    with pytest.raises(NotImplementedError, match="Bool"):
        cr.fmod(cr.tensor([True]), cr.tensor([True]))


# =========================================================================================
# Integer and bool sums and products are int64
# =========================================================================================

INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("op", ["sum", "prod"])
def test_integer_sum_and_prod_are_int64(dtype, op):
    data = [[1, 1, 0], [1, 1, 1]] if dtype == "bool" else [[100, 3, 1], [2, 100, 7]]
    x = cr.tensor(data, dtype=getattr(cr, dtype))
    flat = [v for row in data for v in row]
    want_all = sum(flat) if op == "sum" else math.prod(flat)
    r = getattr(x, op)()
    assert r.dtype == cr.int64 and r.item() == want_all   # exact: no wrap at 8 bits
    r = getattr(x, op)(1)
    want = [sum(row) if op == "sum" else math.prod(row) for row in data]
    assert r.dtype == cr.int64 and r.tolist() == want
    torch = _torch()
    if torch is not None:
        t = torch.tensor(data, dtype=getattr(torch, dtype))
        assert str(getattr(t, op)().dtype) == "torch.int64"
        assert getattr(t, op)().item() == want_all


# =========================================================================================
# NumPy's spellings: axis= and keepdims=, where torch accepts them
# =========================================================================================

# Programs over a tensor x of shape (2, 3) (and m, the library): each runs on chainrule and on
# torch; the second form, with dim=/keepdim=, is what the first must equal.
SPELLINGS = [
    ("x.sum(axis=1, keepdims=True)", "x.sum(dim=1, keepdim=True)"),
    ("m.sum(x, axis=0, keepdims=True)", "m.sum(x, 0, True)"),
    ("x.sum(0, keepdims=True)", "x.sum(0, True)"),
    ("x.sum(axis=1, keepdim=True)", "x.sum(1, True)"),
    ("x.sum(axis=[0, 1])", "x.sum((0, 1))"),
    ("x.mean(axis=0, keepdims=True)", "x.mean(0, True)"),
    ("m.mean(x, axis=(0, 1))", "m.mean(x, (0, 1))"),
    ("x.prod(axis=1, keepdims=True)", "x.prod(1, True)"),
    ("m.prod(x, axis=0)", "m.prod(x, 0)"),
    ("x.amax(axis=0, keepdims=True)", "x.amax(0, True)"),
    ("m.amax(x, axis=(0, 1))", "m.amax(x, (0, 1))"),
    ("x.amin(axis=0)", "x.amin(0)"),
    ("m.amin(x, axis=1, keepdims=True)", "m.amin(x, 1, True)"),
    ("x.max(axis=0)", "x.max(0)"),
    ("m.max(x, axis=1, keepdims=True)", "m.max(x, 1, True)"),
    ("x.min(axis=0)", "x.min(0)"),
    ("m.min(x, axis=1)", "m.min(x, 1)"),
    ("x.argmax(axis=0, keepdims=True)", "x.argmax(0, True)"),
    ("m.argmax(x, axis=1)", "m.argmax(x, 1)"),
    ("x.argmax(keepdims=True)", "x.argmax(keepdim=True)"),
    ("x.argmin(axis=0)", "x.argmin(0)"),
    ("m.argmin(x, axis=1, keepdims=True)", "m.argmin(x, 1, True)"),
    ("x.std(axis=0)", "x.std(0)"),
    ("x.std(0, True, keepdims=True)", "x.std(0, True, True)"),
    ("m.std(x, axis=1, correction=0)", "m.std(x, 1, correction=0)"),
    ("x.var(axis=0, keepdims=True)", "x.var(0, keepdim=True)"),
    ("m.var(x, axis=(0, 1), unbiased=False)", "m.var(x, (0, 1), False)"),
    ("x.logsumexp(axis=0, keepdims=True)", "x.logsumexp(0, True)"),
    ("m.logsumexp(x, axis=(0, 1))", "m.logsumexp(x, (0, 1))"),
    ("x.any(axis=0, keepdims=True)", "x.any(0, True)"),
    ("m.all(x, axis=1)", "m.all(x, 1)"),
    ("x.all(keepdims=True)", "x.all(keepdim=True)"),
    ("x.softmax(axis=0)", "x.softmax(0)"),
    ("m.softmax(x, axis=1)", "m.softmax(x, 1)"),
    ("x.log_softmax(axis=0)", "x.log_softmax(0)"),
    ("m.log_softmax(x, axis=1)", "m.log_softmax(x, 1)"),
    ("m.cat([x, x], axis=1)", "m.cat([x, x], 1)"),
    ("m.stack([x, x], axis=1)", "m.stack([x, x], 1)"),
    ("x[None].squeeze(axis=0)", "x[None].squeeze(0)"),
    ("m.squeeze(x[None, None], axis=(0, 1))", "m.squeeze(x[None, None], (0, 1))"),
    ("x.unsqueeze(axis=1)", "x.unsqueeze(1)"),
    ("m.unsqueeze(x, axis=0)", "m.unsqueeze(x, 0)"),
    ("x.chunk(3, axis=1)", "x.chunk(3, 1)"),
    ("m.chunk(x, 2, axis=0)", "m.chunk(x, 2, 0)"),
    ("x.unbind(axis=1)", "x.unbind(1)"),
    ("m.unbind(x, axis=0)", "m.unbind(x, 0)"),
    ("x.narrow(axis=1, start=0, length=2)", "x.narrow(1, 0, 2)"),
    ("m.narrow(x, axis=0, start=1, length=1)", "m.narrow(x, 0, 1, 1)"),
]

# What torch refuses, with TypeError: chainrule refuses it the same way
REFUSED = [
    "x.sum(dim=0, axis=0)", "m.sum(x, 0, axis=1)", "x.mean(0, axis=0)", "x.max(0, axis=0)",
    "m.min(x, 0, axis=0)", "x.amax(0, axis=1)", "x.var(0, axis=0)", "x.softmax(0, axis=0)",
    "x.unsqueeze(0, axis=0)", "m.cat([x], 1, axis=0)", "x.sum(0, keepdim=True, keepdims=True)",
    "x.norm(axis=0)", "x.norm(dim=0, keepdims=True)", "m.norm(x, axis=0)",
    "m.nn.functional.softmax(x, axis=0)", "m.nn.functional.log_softmax(x, axis=0)",
    "x.flatten(axis=0)", "x.split(1, axis=0)", "x.max(keepdims=True)",
]


def _values(r):
    if isinstance(r, (tuple, list)):
        return [_values(v) for v in r]
    return (np.asarray(r.tolist(), np.float64), r.dtype.__repr__().split(".")[-1],
            tuple(r.shape))


def _eval(expr, m):
    x = m.arange(6.0).reshape(2, 3) - 2.5
    return eval(expr, {"x": x, "m": m})


def _same(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
        return
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    assert a[1:] == b[1:], (a[1:], b[1:])


@pytest.mark.parametrize("numpy_form,torch_form", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_numpy_spellings_are_accepted_as_torch_does(numpy_form, torch_form):
    got = _values(_eval(numpy_form, cr))
    _same(got, _values(_eval(torch_form, cr)))
    torch = _torch()
    if torch is not None:
        _same(got, _values(_eval(numpy_form, torch)))


def test_max_over_axis_is_the_named_tuple():
    r = cr.tensor([[1., 5.], [3., 2.]]).max(axis=0)
    assert type(r).__name__ == "max" and r._fields == ("values", "indices")
    assert r.values.tolist() == [3., 5.] and r.indices.tolist() == [1, 0]
    r = cr.min(cr.tensor([[1., 5.], [3., 2.]]), 1, keepdim=True)
    assert type(r).__name__ == "min" and r.values.tolist() == [[1.], [2.]]
    assert r.indices.tolist() == [[0], [1]]


@pytest.mark.parametrize("expr", REFUSED)
def test_spellings_torch_refuses_are_refused(expr):
    with pytest.raises(TypeError):
        _eval(expr, cr)
    torch = _torch()
    if torch is not None:
        with pytest.raises(TypeError):
            _eval(expr, torch)


def test_gradient_through_axis_spellings():
    data = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]]
    fn = lambda t: (t.sum(axis=1, keepdims=True) * t.mean(axis=0, keepdims=True)      # noqa
                    + t.var(axis=0, keepdims=True) + t.amax(axis=1, keepdims=True)
                    + t.logsumexp(axis=0) + t.max(axis=0).values)
    _, g = _grad_of(cr, fn, data, "float64")
    np.testing.assert_allclose(g.tolist(), _central(fn, data), rtol=1e-6, atol=1e-7)


# =========================================================================================
# 0-d and empty inputs (torch's values and errors), a value used several times
# =========================================================================================

E = (0, 3)


@pytest.mark.parametrize("op,dim,want", [
    ("sum", None, 0.0), ("sum", 0, [0., 0., 0.]), ("prod", None, 1.0), ("prod", 0, [1., 1., 1.]),
    ("mean", None, math.nan), ("mean", 0, [math.nan] * 3), ("logsumexp", (0, 1), -inf),
    ("logsumexp", 0, [-inf] * 3), ("norm", None, 0.0), ("amax", 1, []), ("sum", 1, []),
])
def test_empty_reductions_give_torchs_values(op, dim, want):
    x = cr.zeros(E)
    r = getattr(x, op)() if dim is None else getattr(x, op)(dim)
    np.testing.assert_array_equal(np.asarray(r.tolist(), np.float64), np.asarray(want))
    assert r.dtype == cr.float32


@pytest.mark.parametrize("op,dim,exc,msg", [
    ("amax", None, RuntimeError, "Expected reduction dim to be specified"),
    ("amax", 0, IndexError, "Expected reduction dim 0 to have non-zero size"),
    ("amin", 0, IndexError, "Expected reduction dim 0 to have non-zero size"),
    ("max", None, RuntimeError, "Expected reduction dim to be specified"),
    ("max", 0, IndexError, "Expected reduction dim 0 to have non-zero size"),
    ("min", None, RuntimeError, "Expected reduction dim to be specified"),
    ("argmax", None, IndexError, "Expected reduction dim to be specified"),
    ("argmin", None, IndexError, "Expected reduction dim to be specified"),
    ("argmax", 0, IndexError, "Expected reduction dim 0 to have non-zero size"),
])
def test_empty_reductions_raise_torchs_errors(op, dim, exc, msg):
    x = cr.zeros(E)
    with pytest.raises(exc, match=msg):
        getattr(x, op)() if dim is None else getattr(x, op)(dim)
    torch = _torch()
    if torch is not None:
        t = torch.zeros(E)
        with pytest.raises(exc, match=msg):
            getattr(t, op)() if dim is None else getattr(t, op)(dim)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_empty_var_warns_about_degrees_of_freedom(op, dim):
    x = cr.zeros(E)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        r = getattr(x, op)() if dim is None else getattr(x, op)(dim)
    assert tuple(r.shape) == {None: (), 0: (3,), 1: (0,)}[dim]


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin", "logsumexp", "norm",
                                "softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_zero_d_reductions(op, dtype):
    x = cr.tensor(2.5, dtype=getattr(cr, dtype), requires_grad=True)
    f = getattr(x, op)
    for r in ([f(0), f(-1)] if op != "norm" else [f(), f(dim=0)]):
        assert tuple(r.shape) == () and r.dtype == x.dtype
        assert type(r._data) is np.ndarray
    want = {"softmax": 1.0, "log_softmax": 0.0}.get(op, 2.5)
    assert r.item() == want
    r.backward()
    assert x.grad.dtype == x.dtype and type(x.grad._data) is np.ndarray
    assert x.grad.item() == {"softmax": 0.0, "log_softmax": 0.0, "norm": 1.0}.get(op, 1.0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        f(1) if op != "norm" else f(dim=1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions_of_a_value_used_several_times(dtype):
    data = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]]

    def fn(t):
        s = t.sum(1, keepdim=True)
        n = t.norm(dim=0)
        v = t.var(1, keepdim=True)
        return (s * t + s * s + n * n.sum() + v * s + t.std() * t.prod(0)
                + t.logsumexp(1, keepdim=True) * s + t.softmax(1) * t.mean())
    _, g = _grad_of(cr, fn, data, dtype)
    tol = 1e-6 if dtype == "float64" else 2e-3
    np.testing.assert_allclose(g.tolist(), _central(fn, data), rtol=tol, atol=tol)
    torch = _torch()
    if torch is not None:
        _, tg = _grad_of(torch, fn, data, dtype)
        np.testing.assert_allclose(g.tolist(), tg.tolist(), rtol=tol, atol=tol)
