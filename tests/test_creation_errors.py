"""Making tensors, dtypes, seeds and scalar conversion: PyTorch 2.13's values and errors.

Every expectation is a literal recorded from torch 2.13 (CPU build), so these tests need no torch;
``test_matches_torch`` runs the same programs on torch when it is installed and checks that both
libraries agree (the same value and dtype, or the same exception type).
"""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init

nan, inf = float("nan"), float("inf")

# an unexpected warning (NumPy's "overflow encountered in cast", a ComplexWarning) fails the test
pytestmark = pytest.mark.filterwarnings("error")


def _same(t, values, dtype):
    assert isinstance(t, cr.Tensor)
    assert t.dtype is dtype, f"dtype {t.dtype}, expected {dtype}"
    assert t.tolist() == values


# --- integers that do not fit ------------------------------------------------------------------

@pytest.mark.parametrize("data", [[2 ** 63], 2 ** 64 - 1, 2 ** 64, -2 ** 63 - 1, [[1], [2 ** 63]],
                                  [True, 2 ** 63], [1, [2 ** 63]][1:]])
def test_tensor_of_an_int_past_int64_raises(data):
    # torch: ValueError "Overflow when unpacking long long" (chainrule wrapped 2**63 to -2**63)
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        cr.tensor(data)


def test_tensor_int64_bounds_and_big_ints_with_floats():
    _same(cr.tensor(2 ** 63 - 1), 2 ** 63 - 1, cr.int64)
    _same(cr.tensor([-2 ** 63]), [-2 ** 63], cr.int64)
    _same(cr.tensor([1.0, 2 ** 63]), [1.0, float(np.float32(2.0 ** 63))], cr.float32)
    _same(cr.tensor(2 ** 70, dtype=cr.float64), float(2 ** 70), cr.float64)
    _same(cr.tensor([2 ** 63], dtype=cr.float32), [float(np.float32(2.0 ** 63))], cr.float32)
    with pytest.raises(OverflowError, match="int too large to convert to float"):
        cr.tensor([2 ** 1100, 1.0])


@pytest.mark.parametrize("data, dtype, name", [([300], cr.uint8, "uint8"),
                                                ([2 ** 40], cr.int32, "int32"),
                                                ([128], cr.int8, "int8"),
                                                ([-2 ** 31 - 1], cr.int32, "int32"),
                                                ([1e20], cr.int64, "int64")])
def test_tensor_with_an_int_dtype_refuses_values_that_overflow(data, dtype, name):
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type {name} without "
                                           "overflow"):
        cr.tensor(data, dtype=dtype)


def test_tensor_with_an_int_dtype_casts_what_torch_casts():
    _same(cr.tensor([-1], dtype=cr.uint8), [255], cr.uint8)       # negatives wrap, as in torch
    _same(cr.tensor([1.5], dtype=cr.int64), [1], cr.int64)
    _same(cr.tensor([2], dtype=cr.bool), [True], cr.bool)
    _same(cr.tensor([1e300], dtype=cr.float32), [inf], cr.float32)
    _same(cr.tensor(np.array([300]), dtype=cr.uint8), [44], cr.uint8)  # arrays cast, unchecked


@pytest.mark.parametrize("size, value, dtype, name", [((2,), 2 ** 63, None, "int64"),
                                                       ((2,), 2 ** 40, cr.int32, "int32"),
                                                       ((2,), 300, cr.uint8, "uint8"),
                                                       ((2,), 1e300, cr.float32, "float32"),
                                                       ((), 2 ** 63, None, "int64")])
def test_full_refuses_a_value_that_overflows_its_dtype(size, value, dtype, name):
    # torch: RuntimeError "value cannot be converted to type int64_t without overflow"
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type {name} without "
                                           "overflow"):
        cr.full(size, value, dtype=dtype)


def test_full_keeps_what_fits():
    _same(cr.full((2,), 2 ** 63 - 1), [2 ** 63 - 1] * 2, cr.int64)
    _same(cr.full((2,), inf, dtype=cr.float16), [inf, inf], cr.float16)
    _same(cr.full((), 3), 3, cr.int64)
    _same(cr.full((0,), 1.5), [], cr.float32)


@pytest.mark.parametrize("dtype, other, expected", [
    (cr.int32, 2 ** 40, [1, 2]), (cr.int32, 2 ** 31, [-2147483647, -2147483646]),
    (cr.int32, 2 ** 63, [1, 2]), (cr.int64, 2 ** 63, [-9223372036854775807, -9223372036854775806]),
    (cr.uint8, 300, [45, 46]), (cr.uint8, -1, [0, 1]), (cr.int8, 200, [-55, -54])])
def test_integer_tensor_plus_a_python_int_wraps_as_torch(dtype, other, expected):
    # torch casts the Python int to the tensor's dtype, wrapping it (chainrule: OverflowError)
    x = cr.tensor([1, 2], dtype=dtype)
    _same(x + other, expected, dtype)
    _same(other + x, expected, dtype)


def test_wrapped_python_ints_in_sub_mul_and_0d():
    x = cr.tensor([1], dtype=cr.int32)
    _same(x - 2 ** 40, [1], cr.int32)
    _same(2 ** 40 - x, [-1], cr.int32)
    _same(x * 2 ** 40, [0], cr.int32)
    _same(cr.tensor(1, dtype=cr.int32) + 2 ** 40, 1, cr.int32)
    _same(cr.tensor([True]) + 2 ** 40, [2 ** 40 + 1], cr.int64)      # promotes: nothing wraps
    _same(cr.tensor([1.0], dtype=cr.float64) + (2 ** 64 - 1), [2.0 ** 64], cr.float64)


@pytest.mark.parametrize("x, other", [(cr.tensor([1]), 2 ** 64), (cr.tensor([1.0]), 2 ** 200),
                                      (cr.tensor([1.0]), 2 ** 1100),
                                      (cr.tensor([1]), -2 ** 63 - 1)])
def test_a_python_int_past_64_bits_is_an_overflow_error(x, other):
    # torch: OverflowError "int too big to convert" (chainrule gave inf for a float tensor)
    with pytest.raises(OverflowError, match="64 bits"):
        x + other


# --- complex numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: cr.tensor(1j), lambda: cr.tensor([1.0, 2 + 1j]),
                                  lambda: cr.full((2,), 1 + 1j), lambda: cr.ones(2) + 1j,
                                  lambda: 1j * cr.ones(2), lambda: cr.tensor(np.array([1 + 1j])),
                                  lambda: cr.from_numpy(np.ones(2, np.complex64)),
                                  lambda: cr.tensor(np.complex128(1)),
                                  lambda: cr.full_like(cr.ones(2), 1j),
                                  lambda: init.constant_(cr.empty(2), 1j)])
def test_complex_values_are_refused_clearly(make):
    # chainrule has no complex dtype: full((2,), 1+1j) used to drop the imaginary part
    with pytest.raises(TypeError, match="complex"):
        make()


# --- sizes, ranges and steps --------------------------------------------------------------------

@pytest.mark.parametrize("make, exc, message", [
    (lambda: cr.randperm(-1), RuntimeError, "negative dimension -1"),
    (lambda: cr.arange(0, 10, -1), RuntimeError, "upper bound and lower bound inconsistent "
                                                 "with step sign"),
    (lambda: cr.arange(10, 0), RuntimeError, "inconsistent with step sign"),
    (lambda: cr.arange(0.0, 1.0, -0.5), RuntimeError, "inconsistent with step sign"),
    (lambda: cr.arange(0, nan), RuntimeError, "unsupported range: 0 -> nan"),
    (lambda: cr.arange(nan), RuntimeError, "unsupported range: 0 -> nan"),
    (lambda: cr.arange(0, inf), RuntimeError, "unsupported range: 0 -> inf"),
    (lambda: cr.arange(-inf, 0), RuntimeError, "unsupported range: -inf -> 0"),
    (lambda: cr.arange(0, 1, nan), RuntimeError, "step must be nonzero"),
    (lambda: cr.arange(0, 10, 0), RuntimeError, "step must be nonzero"),
    (lambda: cr.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
    (lambda: cr.eye(2, -1), RuntimeError, "m must be greater or equal to 0, got -1"),
    (lambda: cr.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda: cr.logspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda: cr.zeros(-1), RuntimeError, "negative dimension -1"),
    (lambda: cr.ones(2, -1), RuntimeError, "negative dimension -1"),
    (lambda: cr.full((2,), "a"), TypeError, "argument 'fill_value' .* must be Number, not str"),
    (lambda: cr.full((2,), None), TypeError, "must be Number, not NoneType"),
    (lambda: cr.full_like(cr.ones(2), "a"), TypeError, "must be Number, not str"),
])
def test_bad_sizes_and_ranges_raise_torchs_error(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


def test_empty_ranges_and_sizes_are_fine():
    _same(cr.randperm(0), [], cr.int64)
    _same(cr.arange(0, 0), [], cr.int64)
    _same(cr.arange(3, 3, -1), [], cr.int64)
    _same(cr.arange(3, 0, -1), [3, 2, 1], cr.int64)
    _same(cr.arange(0, 1, inf), [], cr.float32)
    assert cr.eye(0).shape == (0, 0)
    _same(cr.linspace(0, 1, 0), [], cr.float32)
    _same(cr.zeros(0), [], cr.float32)


# --- dtypes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, what", [(lambda d: cr.ones(2, dtype=d), "ones"),
                                        (lambda d: cr.zeros(2, dtype=d), "zeros"),
                                        (lambda d: cr.tensor([1], dtype=d), "tensor"),
                                        (lambda d: cr.full((2,), 1, dtype=d), "full"),
                                        (lambda d: cr.arange(3, dtype=d), "arange"),
                                        (lambda d: cr.ones(2).to(dtype=d), "to")])
@pytest.mark.parametrize("bad", ["float32", np.float32, np.dtype("float32")])
def test_a_dtype_must_be_a_chainrule_dtype(make, what, bad):
    # torch: TypeError "ones(): argument 'dtype' must be torch.dtype, not str"
    with pytest.raises(TypeError, match=rf"{what}\(\): argument 'dtype' must be chainrule.dtype"
                                        r".*dtype=chainrule.float32"):
        make(bad)


def test_python_types_as_dtypes_are_torchs():
    # torch: dtype=float is float64 (not the default dtype), int is int64, bool is bool
    assert cr.ones(2, dtype=float).dtype is cr.float64
    assert cr.ones(2, dtype=int).dtype is cr.int64
    assert cr.ones(2, dtype=bool).dtype is cr.bool
    assert cr.ones(2).to(float).dtype is cr.float64


@pytest.mark.parametrize("value, dtype", [(np.float64(1.0), cr.float64),
                                          (np.float32(1.0), cr.float32),
                                          (np.float16(1.0), cr.float16),
                                          (np.int32(1), cr.int32), (np.int8(1), cr.int8),
                                          (np.uint8(1), cr.uint8), (np.bool_(True), cr.bool),
                                          (np.array(1.0), cr.float64),
                                          ([np.float64(1.0)], cr.float64),
                                          ([np.int32(1)], cr.int32),
                                          ([np.float64(1.0), 2], cr.float64),
                                          ([np.float16(1.0), 2.0], cr.float32),
                                          ([[np.int32(1)], [np.int64(2)]], cr.int64),
                                          ([np.uint8(1), np.int8(1)], cr.int16),
                                          ([np.int8(1), True], cr.int8)])
def test_numpy_scalars_keep_their_dtype(value, dtype):
    # torch keeps a NumPy scalar's dtype (chainrule made np.float64(1.0) float32)
    t = cr.tensor(value)
    assert t.dtype is dtype
    assert t.shape == np.shape(value)


# --- seeds --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed, initial", [(-1, 2 ** 64 - 1), (-2 ** 63, 2 ** 63),
                                           (2 ** 64 - 1, 2 ** 64 - 1), (0, 0), (1.5, 1),
                                           (True, 1), (np.int64(3), 3)])
def test_manual_seed_takes_torchs_range(seed, initial):
    cr.manual_seed(seed)
    assert cr.initial_seed() == initial
    assert cr.Generator().manual_seed(seed).initial_seed() == initial


def test_a_negative_seed_is_its_value_modulo_2_to_the_64():
    a = cr.manual_seed(-1) and cr.randn(3).tolist()
    b = cr.manual_seed(2 ** 64 - 1) and cr.randn(3).tolist()
    assert a == b


@pytest.mark.parametrize("seed", [2 ** 64, -2 ** 63 - 1])
def test_manual_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        cr.manual_seed(seed)


def test_manual_seed_not_a_number():
    with pytest.raises(ValueError, match="invalid literal for int"):
        cr.manual_seed("a")


@pytest.fixture(autouse=True)
def _reseed():
    yield
    cr.manual_seed(0)


# --- nn.init arguments --------------------------------------------------------------------------

@pytest.mark.parametrize("make, exc, message", [
    (lambda: init.normal_(cr.empty(3), std=-1), RuntimeError,
     "normal expects std >= 0.0, but found std -1"),
    (lambda: init.normal_(cr.empty(3), std=nan), RuntimeError, "std >= 0.0, but found std nan"),
    (lambda: cr.empty(3).normal_(0, -1), RuntimeError, "std >= 0.0"),
    (lambda: init.normal_(cr.empty(3), std="a"), TypeError, "argument 'std' .*must be float"),
    (lambda: init.uniform_(cr.empty(3), 1, 0), RuntimeError,
     r"uniform_ expects to return a \[from, to\) range, but found from=1 > to=0"),
    (lambda: cr.empty(3).uniform_(1, 0), RuntimeError, "from=1 > to=0"),
    (lambda: init.uniform_(cr.empty(3), 0, inf), RuntimeError, "to is out of bounds for float"),
    (lambda: init.uniform_(cr.empty(3), nan, 1), RuntimeError, "from is out of bounds"),
    (lambda: init.trunc_normal_(cr.empty(3), a=2, b=-2), ValueError, "a < b"),
    (lambda: init.constant_(cr.empty(3), "a"), TypeError, "must be Number, not str"),
    (lambda: init.constant_(cr.empty(3), None), TypeError, "must be Number, not NoneType"),
    (lambda: init.constant_(cr.empty(3), 1e300), RuntimeError,
     "value cannot be converted to type float32 without overflow"),
    (lambda: init.constant_(cr.empty(3, dtype=cr.int32), 2 ** 40), RuntimeError,
     "value cannot be converted to type int32 without overflow"),
    (lambda: init.normal_(cr.empty(3, dtype=cr.int64)), NotImplementedError, "int64"),
    (lambda: init.uniform_(cr.empty(3, dtype=cr.int64)), NotImplementedError, "int64"),
    (lambda: init.kaiming_uniform_(cr.empty(2, 3, dtype=cr.int64)), NotImplementedError,
     "int64"),
    (lambda: init.normal_([1.0, 2.0]), TypeError, "chainrule Tensor"),
])
def test_init_argument_errors(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


@pytest.mark.parametrize("x, value, exc, message", [
    (cr.ones(2, dtype=cr.int32), 2 ** 40, RuntimeError,
     "value cannot be converted to type int32 without overflow"),
    (cr.ones(2), 1e300, RuntimeError, "value cannot be converted to type float32"),
    (cr.ones(2), "a", TypeError, "must be Number, not str"),
    (cr.ones(2), 1j, TypeError, "complex"),
])
def test_fill_checks_its_value_as_torch(x, value, exc, message):
    # torch: RuntimeError "value cannot be converted to type int without overflow"
    with pytest.raises(exc, match=message):
        x.fill_(value)
    with pytest.raises(exc, match=message):
        x.clone().requires_grad_(x.is_floating_point()).clone().fill_(value)


def test_init_cases_torch_accepts():
    assert init.normal_(cr.empty(3), std=0).tolist() == [0.0, 0.0, 0.0]
    assert init.uniform_(cr.empty(3), 1, 1).tolist() == [1.0, 1.0, 1.0]
    assert init.normal_(cr.empty(())).shape == ()
    assert init.constant_(cr.empty(()), 2).item() == 2.0
    w = init.trunc_normal_(cr.empty(1000), std=-1)                    # torch: accepted
    assert bool((w.abs() <= 2).all())
    assert init.constant_(cr.empty(2, dtype=cr.int32), 7).tolist() == [7, 7]


# --- copy_ --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dst, src, message", [
    ((3,), (4,), r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                 r"non-singleton dimension 0"),
    ((3,), (2, 3), r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    ((1, 3), (1, 1, 3), r"output with shape \[1, 3\] doesn't match the broadcast shape "
                        r"\[1, 1, 3\]"),
    ((), (1,), r"output with shape \[\] doesn't match the broadcast shape \[1\]"),
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_copy_refuses_a_source_that_does_not_broadcast(dst, src, message, requires_grad):
    x = cr.ones(*dst, requires_grad=requires_grad).clone()
    with pytest.raises(RuntimeError, match=message):
        x.copy_(cr.ones(*src))


def test_copy_broadcasts_and_takes_a_number():
    _same(cr.ones(2, 3).copy_(cr.tensor([1.0, 2.0, 3.0])), [[1.0, 2.0, 3.0]] * 2, cr.float32)
    _same(cr.ones(3).copy_(2.0), [2.0] * 3, cr.float32)
    _same(cr.ones(3).copy_(cr.tensor([1, 2, 3])), [1.0, 2.0, 3.0], cr.float32)
    _same(cr.ones(0).copy_(cr.ones(1)), [], cr.float32)
    _same(cr.ones(()).copy_(cr.tensor(5.0)), 5.0, cr.float32)


# --- Python scalars from tensors ----------------------------------------------------------------

@pytest.mark.parametrize("convert", [float, int, complex])
@pytest.mark.parametrize("shape", [(3,), (0,), (2, 2)])
def test_float_int_of_a_many_element_tensor_is_a_value_error(convert, shape):
    # torch: ValueError "only one element tensors can be converted to Python scalars"
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python "
                                         "scalars"):
        convert(cr.ones(*shape))


def test_scalar_conversions_that_work():
    assert float(cr.ones(1, 1)) == 1.0 and int(cr.tensor([[7]])) == 7
    assert complex(cr.tensor(2.0)) == 2 + 0j
    assert int(cr.tensor(2.7)) == 2 and float(cr.tensor(3)) == 3.0


def test_bool_of_tensors_without_one_value():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is "
                                           "ambiguous"):
        bool(cr.ones(3))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(cr.ones(0))
    assert bool(cr.ones(1, 1)) is True


# --- devices ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: cr.ones(2).cuda(), lambda: cr.ones(2).to("cuda"),
                                  lambda: cr.ones(2).to("cuda:0"),
                                  lambda: cr.ones(2).to(device="cuda"),
                                  lambda: cr.ones(2).to(cr.device("cuda")),
                                  lambda: cr.tensor([1.0], device="cuda"),
                                  lambda: cr.zeros(2, device="cuda"),
                                  lambda: cr.ones(2, device="cuda"),
                                  lambda: cr.full((2,), 1.0, device="cuda"),
                                  lambda: cr.arange(3, device="cuda"),
                                  lambda: cr.randn(2, device="cuda"),
                                  lambda: cr.zeros_like(cr.ones(2), device="cuda"),
                                  lambda: cr.nn.Linear(2, 2).cuda(),
                                  lambda: cr.nn.Linear(2, 2).to("cuda")])
def test_cuda_is_torchs_not_compiled_assertion(make):
    # torch without CUDA: AssertionError "Torch not compiled with CUDA enabled"
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled.*CPU"):
        make()


def test_devices_torch_accepts():
    assert cr.device("cuda").type == "cuda" and str(cr.device("cuda:1")) == "cuda:1"
    assert cr.ones(2, device="cpu").device == cr.device("cpu")
    assert cr.ones(2).to("cpu").device.type == "cpu"
    assert cr.ones(2).cpu().device.type == "cpu"
    assert isinstance(cr.nn.Module().cuda(), cr.nn.Module)        # nothing to move, as torch
    assert cr.nn.Linear(2, 2).to("cpu").weight.device.type == "cpu"
    with pytest.raises(RuntimeError, match="not linked with support for mps devices"):
        cr.ones(2).to("mps")
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        cr.device("foo")


# --- against torch itself -----------------------------------------------------------------------

_PROGRAMS = {
    "tensor_2_63": lambda L: L.tensor([2 ** 63]),
    "tensor_uint64_max": lambda L: L.tensor(2 ** 64 - 1),
    "tensor_int32_overflow": lambda L: L.tensor([2 ** 40], dtype=L.int32),
    "tensor_uint8_negative": lambda L: L.tensor([-200], dtype=L.uint8),
    "full_overflow": lambda L: L.full((2,), 2 ** 63),
    "full_str": lambda L: L.full((2,), "a"),
    "int32_plus_2_40": lambda L: L.tensor([1, 2], dtype=L.int32) + 2 ** 40,
    "int8_times_200": lambda L: L.tensor([3], dtype=L.int8) * 200,
    "uint8_minus_300": lambda L: L.tensor([3], dtype=L.uint8) - 300,
    "int64_plus_2_64": lambda L: L.tensor([1]) + 2 ** 64,
    "float_plus_2_200": lambda L: L.tensor([1.0]) + 2 ** 200,
    "randperm_neg": lambda L: L.randperm(-1),
    "arange_bad_sign": lambda L: L.arange(0, 10, -1),
    "arange_nan": lambda L: L.arange(0, nan),
    "arange_inf": lambda L: L.arange(0, inf),
    "arange_down": lambda L: L.arange(5, 0, -2),
    "arange_float_down": lambda L: L.arange(1.0, 0.0, -0.25),
    "eye_neg": lambda L: L.eye(-1),
    "linspace_neg": lambda L: L.linspace(0, 1, -1),
    "zeros_neg": lambda L: L.zeros(-1),
    "ones_str_dtype": lambda L: L.ones(2, dtype="float32"),
    "ones_float_dtype": lambda L: L.ones(2, dtype=float),
    "np_float64": lambda L: L.tensor(np.float64(1.5)),
    "np_int32": lambda L: L.tensor(np.int32(2)),
    "np_bool": lambda L: L.tensor(np.bool_(True)),
    "list_np_float64": lambda L: L.tensor([np.float64(1.5), 2]),
    "float_ones3": lambda L: float(L.ones(3)),
    "int_ones3": lambda L: int(L.ones(3)),
    "bool_ones0": lambda L: bool(L.ones(0)),
    "cuda": lambda L: L.ones(2).cuda(),
    "to_cuda": lambda L: L.ones(2).to("cuda"),
    "tensor_cuda": lambda L: L.tensor([1.0], device="cuda"),
    "copy_mismatch": lambda L: L.ones(3).copy_(L.ones(4)),
    "copy_broadcast_mismatch": lambda L: L.ones(3).copy_(L.ones(2, 3)),
    "copy_number": lambda L: L.ones(3).copy_(2.0),
    "seed_neg": lambda L: (L.manual_seed(-1), L.initial_seed())[1],
    "seed_low": lambda L: (L.manual_seed(-2 ** 63), L.initial_seed())[1],
    "seed_too_big": lambda L: L.manual_seed(2 ** 64),
    "init_normal_neg_std": lambda L: L.nn.init.normal_(L.empty(3), std=-1),
    "init_uniform_reversed": lambda L: L.nn.init.uniform_(L.empty(3), 1, 0),
    "init_constant_overflow": lambda L: L.nn.init.constant_(L.empty(2), 1e300),
    "init_normal_int": lambda L: L.nn.init.normal_(L.empty(2, dtype=L.int64)),
}


def _outcome(L, program):
    try:
        out = program(L)
    except Exception as e:               # noqa: BLE001 - the type is what is compared
        return type(e).__name__
    if hasattr(out, "tolist"):
        return (out.tolist(), str(out.dtype).split(".")[-1])
    return out


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(_PROGRAMS))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    program = _PROGRAMS[name]
    expected = _outcome(torch, program)
    if expected == "AssertionError" and torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    assert _outcome(cr, program) == expected
