"""Tests for chainrule._printing: tensor text identical to PyTorch's repr.

The first tests need no torch: their expected strings were copied from real
PyTorch 2.x output.  The rest compare ``format_tensor`` with ``repr`` of a
torch tensor holding the same values, and are skipped without torch.
"""

import contextlib
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the comparisons are skipped; the literal tests still run
    torch = None

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:
    given = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
needs_hypothesis = pytest.mark.skipif(given is None, reason="hypothesis is not installed")

try:
    from chainrule import _printing as P
except Exception:  # the package may be missing or half-written: load the file
    _path = Path(__file__).resolve().parents[1] / "src" / "chainrule" / "_printing.py"
    _spec = importlib.util.spec_from_file_location("chainrule_printing", _path)
    P = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(P)

format_tensor = P.format_tensor


@contextlib.contextmanager
def ours(**options):
    """Our print options set temporarily, then reset to the defaults."""
    P.set_printoptions(**options)
    try:
        yield
    finally:
        P.set_printoptions(profile="default")


@pytest.fixture(autouse=True)
def _reset_options():
    P.set_printoptions(profile="default")
    old_default = P.default_float_dtype
    yield
    P.set_printoptions(profile="default")
    P.default_float_dtype = old_default


# ---------------------------------------------------------------------------
# Without torch: literal strings taken from PyTorch 2.x
# ---------------------------------------------------------------------------

F32, F64 = np.float32, np.float64

LITERAL_CASES = [
    (np.array(-7.84, F32), {}, "tensor(-7.8400)"),
    (np.array(2.0219e-06, F32), {}, "tensor(2.0219e-06)"),
    (np.array(-2.0, F32), {}, "tensor(-2.)"),
    (np.array(4.1433e-05, F32), {}, "tensor(4.1433e-05)"),
    (np.array(8.00001, F32), {}, "tensor(8.0000)"),
    (np.array([1.0, 2.0], F32), {}, "tensor([1., 2.])"),
    (np.array([1.0, 2.0], F32), {"requires_grad": True}, "tensor([1., 2.], requires_grad=True)"),
    (np.array([3.0], F32), {"grad_fn": "MulBackward0"}, "tensor([3.], grad_fn=<MulBackward0>)"),
    (
        np.array(2.0, F32),
        {"grad_fn": "MulBackward0", "requires_grad": True},
        "tensor(2., grad_fn=<MulBackward0>)",
    ),
    (np.array([True, False]), {}, "tensor([ True, False])"),
    (np.array([1, -20, 300], np.int64), {}, "tensor([  1, -20, 300])"),
    (
        np.array([1, 2], np.int32),
        {"dtype_name": "chainrule.int32"},
        "tensor([1, 2], dtype=chainrule.int32)",
    ),
    (np.array([0.5, 1.0], F64), {}, "tensor([0.5000, 1.0000], dtype=chainrule.float64)"),
    (np.array([0.0, np.nan, np.inf, -0.0], F32), {}, "tensor([0., nan, inf, -0.])"),
    (np.array([1e10, 1e-10, 3.0]), {}, "tensor([1.0000e+10, 1.0000e-10, 3.0000e+00], dtype=chainrule.float64)"),
    (np.zeros((0, 3), F32), {}, "tensor([], size=(0, 3))"),
    (np.zeros(0, F32), {}, "tensor([])"),
    (np.zeros(0, np.int64), {}, "tensor([], dtype=chainrule.int64)"),
    (np.zeros((2, 0, 3), np.int64), {}, "tensor([], size=(2, 0, 3), dtype=chainrule.int64)"),
    (np.array([[1, 2], [3, 4]], np.int64), {}, "tensor([[1, 2],\n        [3, 4]])"),
    (
        np.arange(8.0, dtype=F32).reshape(2, 2, 2),
        {},
        "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
    ),
    (
        np.arange(30.0, dtype=F32),
        {"prefix": "Values("},
        "Values([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])",
    ),
    (np.arange(2000, dtype=np.int64), {}, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (np.array([1 + 2j, -0.5 - 1e-5j], np.complex64), {}, "tensor([ 1.0000+2.0000e+00j, -0.5000-1.0000e-05j])"),
]


@pytest.mark.parametrize("array, kwargs, expected", LITERAL_CASES)
def test_literal(array, kwargs, expected):
    assert format_tensor(array, **kwargs) == expected


def test_default_dtype_name_is_derived():
    assert format_tensor(np.array([1.5], F64)) == "tensor([1.5000], dtype=chainrule.float64)"
    assert format_tensor(np.array([1.5], F64), dtype_name="x.y") == "tensor([1.5000], dtype=x.y)"


def test_default_float64_literal():
    P.default_float_dtype = np.float64
    assert format_tensor(np.array([1.5], F64)) == "tensor([1.5000])"
    assert format_tensor(np.array([1.5], F32)) == "tensor([1.5000], dtype=chainrule.float32)"
    assert format_tensor(np.zeros(0, F32)) == "tensor([], dtype=chainrule.float32)"


def test_printoptions_roundtrip():
    assert P.get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }
    P.set_printoptions(profile="short", linewidth=50)
    assert P.get_printoptions()["precision"] == 2
    assert P.get_printoptions()["edgeitems"] == 2
    assert P.get_printoptions()["linewidth"] == 50
    P.set_printoptions(profile="full")
    assert P.get_printoptions()["threshold"] == math.inf
    old = P.get_printoptions()
    with P.printoptions(precision=1, sci_mode=True):
        assert format_tensor(np.array(1.25, F32)) == "tensor(1.2e+00)"
    assert P.get_printoptions() == old
    with ours(precision=2):
        assert format_tensor(np.array([1.12345], F32)) == "tensor([1.12])"
    with ours(threshold=5):
        assert format_tensor(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"


def test_longer_dtype_name_wraps_by_its_own_length():
    array = np.arange(6, dtype=F64) * 1.25
    assert format_tensor(array, dtype_name="torch.float64", requires_grad=True) == (
        "tensor([0.0000, 1.2500, 2.5000, 3.7500, 5.0000, 6.2500], dtype=torch.float64,\n"
        "       requires_grad=True)"
    )
    assert format_tensor(array, requires_grad=True) == (
        "tensor([0.0000, 1.2500, 2.5000, 3.7500, 5.0000, 6.2500],\n"
        "       dtype=chainrule.float64, requires_grad=True)"
    )


def test_rejects_unsupported_dtype():
    with pytest.raises(TypeError):
        format_tensor(np.array(["a"]))


# ---------------------------------------------------------------------------
# Against torch
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def both(**options):
    """The same print options in torch and here, reset afterwards."""
    torch.set_printoptions(**options)
    P.set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        P.set_printoptions(profile="default")


def torch_text(array, *, requires_grad=False, grad_fn=False, cls=None):
    """repr of the torch tensor with these values (dtype names left as
    ``torch.*``: see :func:`check`)."""
    t = torch.from_numpy(np.array(array, copy=True))
    if requires_grad or grad_fn:
        t.requires_grad_()
    if grad_fn:
        t = t.clone()  # CloneBackward0: keeps values exactly ((0+infj) * 1 is nan+infj)
    if cls is not None:
        t = t.as_subclass(cls)
    return repr(t)


def check(array, **kwargs):
    """format_tensor(array) must equal torch's repr of the same values.

    The dtype text is passed as ``torch.<name>``: where a suffix goes on a new
    line depends on its length, so ``chainrule.float64`` (4 characters longer
    than ``torch.float64``) may legitimately wrap where torch's text does not.
    With the same dtype text, every layout decision must agree exactly; the
    ``chainrule.`` naming itself is checked by the literal tests above and by
    test_chainrule_dtype_names.
    """
    kwargs.setdefault("dtype_name", "torch." + np.asarray(array).dtype.name)
    grad_fn = kwargs.pop("grad_fn", False)
    requires_grad = kwargs.pop("requires_grad", False)
    expected = torch_text(array, requires_grad=requires_grad, grad_fn=grad_fn)
    got = format_tensor(
        array,
        requires_grad=requires_grad,
        grad_fn="CloneBackward0" if grad_fn else None,
        **kwargs,
    )
    assert got == expected, f"\n--- torch ---\n{expected}\n--- ours ---\n{got}"


_rng = np.random.default_rng(0)

EDGE_CASES = {
    # 0-d
    "scalar_frac": np.array(-7.84, F32),
    "scalar_tiny": np.array(2.0219e-06, F32),
    "scalar_int_valued": np.array(-2.0, F32),
    "scalar_4e-5": np.array(4.1433e-05, F32),
    "scalar_8": np.array(8.00001, F32),
    "scalar_zero": np.array(0.0, F32),
    "scalar_neg_zero": np.array(-0.0, F32),
    "scalar_nan": np.array(np.nan, F32),
    "scalar_inf": np.array(-np.inf, F64),
    "scalar_big": np.array(1e10, F32),
    "scalar_int": np.array(-12, np.int64),
    "scalar_int32": np.array(7, np.int32),
    "scalar_bool": np.array(True),
    # 1-d
    "ints_as_floats": np.array([1.0, 2.0], F32),
    "mixed_magnitudes": np.array([1e10, 1e-10, 3.0], F32),
    "large": np.array([1e10, 2e10], F32),
    "large_int_valued": np.array([1e8, 3.0], F64),
    "tiny": np.array([1e-10, -3e-10], F32),
    "ratio_just_under_1000": np.array([1.0, 999.0, 0.5], F32),
    "ratio_over_1000": np.array([0.001, 1.5], F32),
    "negative_zero": np.array([-0.0, 0.0, 1.5], F32),
    "negative_zero_int_mode": np.array([-0.0, 2.0], F32),
    "nan_inf_only": np.array([np.nan, np.inf, -np.inf], F32),
    "nan_inf_mixed": np.array([np.nan, 1.5, -np.inf, 0.25], F32),
    "nan_inf_int_mode": np.array([np.nan, 10.0, -np.inf, 0.0], F32),
    "nan_inf_sci": np.array([np.nan, 1e-7, np.inf], F64),
    "ints_negative": np.array([-1000, 5, 12, -3], np.int64),
    "int32": np.array([1, 2, -3], np.int32),
    "int8": np.array([-128, 127], np.int8),
    "int16": np.array([-300, 2], np.int16),
    "uint8": np.array([0, 255], np.uint8),
    "bool": np.array([True, False]),
    "bool_all_true": np.array([True, True]),
    "float16": np.array([0.1, 65504.0, -2.5], np.float16),
    "float64": np.array([0.1, 0.2], F64),
    "complex64": np.array([1 + 2j, -0.5 - 1e-5j, 0j], np.complex64),
    "complex128": np.array([1.5 - 0j, 3j], np.complex128),
    "wrap_floats": _rng.standard_normal(37).astype(F32),
    "wrap_ints": np.arange(-50, 50, dtype=np.int64),
    "wrap_with_dtype_suffix": np.arange(13.0, dtype=F64) + 0.5,
    "wrap_sci": _rng.standard_normal(23) * 1e5,
    # n-d
    "2d": _rng.standard_normal((3, 4)).astype(F32),
    "2d_wide": _rng.standard_normal((4, 30)).astype(F32),
    "2d_int32": np.arange(-20, 25, dtype=np.int32).reshape(3, 15),
    "3d": _rng.standard_normal((2, 3, 4)).astype(F32),
    "3d_bool": _rng.standard_normal((2, 2, 3)) > 0,
    "4d": _rng.standard_normal((2, 2, 3, 5)).astype(F32),
    "4d_ints": _rng.integers(-5000, 5000, (2, 3, 2, 4)),
    "4d_sci": (_rng.standard_normal((2, 3, 2, 4)) * 1e9).astype(F32),
    "rows_of_one": np.ones((3, 1), F32),
    "single_column_nested": np.arange(6.0, dtype=F32).reshape(1, 6, 1),
    # summarization
    "summ_1d": np.arange(1001, dtype=F32) / 7,
    "summ_1d_int": np.arange(5000, dtype=np.int64) - 2500,
    "summ_2d": _rng.standard_normal((40, 40)),
    "summ_2d_tall": _rng.standard_normal((1001, 1)).astype(F32),
    "summ_3d": np.arange(2000.0).reshape(2, 10, 100) * 1.5,
    "summ_4d": _rng.standard_normal((7, 7, 7, 7)).astype(F32),
    "summ_hidden_outlier": np.concatenate([np.ones(500), [1e12], np.ones(600)]).astype(F32),
    "summ_float16": _rng.standard_normal(3000).astype(np.float16),
    "summ_bool": _rng.standard_normal((30, 40)) > 0,
    # empty
    "empty_1d": np.zeros(0, F32),
    "empty_0x3": np.zeros((0, 3), F32),
    "empty_2x0x3": np.zeros((2, 0, 3), F32),
    "empty_int": np.zeros((0,), np.int64),
    "empty_bool": np.zeros((0, 2), bool),
    "empty_f64": np.zeros((3, 0), F64),
    "empty_int32": np.zeros(0, np.int32),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case(name):
    check(EDGE_CASES[name])


@needs_torch
@pytest.mark.parametrize(
    "name",
    ["scalar_frac", "ints_as_floats", "wrap_floats", "wrap_with_dtype_suffix", "2d_wide",
     "3d", "summ_2d", "empty_0x3", "complex64", "nan_inf_only"],
)
@pytest.mark.parametrize("grad", ["requires_grad", "grad_fn"])
def test_autograd_suffixes(name, grad):
    check(EDGE_CASES[name], **{grad: True})


@needs_torch
def test_suffix_wraps_to_new_line():
    # last line long enough that ", dtype=..." and ", requires_grad=True" wrap
    for n in range(1, 30):
        check(np.arange(n, dtype=F64) * 1.25, requires_grad=True)
        check(np.arange(n, dtype=np.int32) * 1000)
        check(np.arange(n, dtype=F32) * 1000.5, grad_fn=True)


@needs_torch
@pytest.mark.parametrize("name", ["float64", "int32", "empty_int", "empty_bool", "float16", "2d_int32"])
def test_chainrule_dtype_names(name):
    # short enough that the longer dtype name does not change any line break
    array = EDGE_CASES[name]
    expected = torch_text(array).replace("torch.", "chainrule.")
    assert format_tensor(array) == expected
    assert format_tensor(array, dtype_name="chainrule." + array.dtype.name) == expected


@needs_torch
def test_prefix_of_subclass():
    class Values(torch.Tensor):
        pass

    for array in [np.arange(30.0, dtype=F32), _rng.standard_normal((3, 12)), np.zeros((0, 2), F32)]:
        expected = torch_text(array, cls=Values)
        assert format_tensor(array, prefix="Values(", dtype_name="torch." + array.dtype.name) == expected


OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"threshold": 0},
    {"linewidth": 30},
    {"linewidth": 10},
    {"linewidth": 200},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6, "sci_mode": False},
]


@needs_torch
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize(
    "name",
    ["scalar_frac", "scalar_big", "scalar_int", "mixed_magnitudes", "large_int_valued", "nan_inf_int_mode",
     "wrap_floats", "wrap_ints", "2d_wide", "3d", "3d_bool", "4d_ints", "summ_1d", "summ_2d", "summ_3d",
     "complex64", "empty_0x3", "float16"],
)
def test_printoptions_match_torch(options, name):
    with both(**options):
        check(EDGE_CASES[name])
        assert P.get_printoptions() == torch._tensor_str.get_printoptions()


@needs_torch
@pytest.mark.parametrize("name", ["scalar_frac", "float64", "ints_as_floats", "complex64", "complex128",
                                  "empty_1d", "empty_f64", "2d", "summ_2d", "int32", "bool"])
def test_default_dtype_float64(name):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    P.default_float_dtype = np.float64
    try:
        check(EDGE_CASES[name])
        check(EDGE_CASES[name].astype(F32) if EDGE_CASES[name].dtype.kind == "f" else EDGE_CASES[name])
    finally:
        torch.set_default_dtype(old)


# --- property tests ----------------------------------------------------------

DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.float16, np.float32, np.float64, np.complex64, np.complex128]


def _check_any(array, grad):
    """check() with an autograd suffix where the dtype allows one."""
    if array.dtype.kind not in "fc":
        grad = None
    check(array, **({grad: True} if grad else {}))


if given is None:

    @needs_hypothesis
    def test_property_matches_torch():
        pass

else:

    @st.composite
    def tensors(draw, max_side=6):
        """Arrays of any supported dtype, 0 to 4 dims of 0 to max_side."""
        dtype = np.dtype(draw(st.sampled_from(DTYPES)))
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=max_side))
        if dtype.kind == "f" and draw(st.booleans()):
            # "nice" values: whole numbers or few-digit decimals at one scale,
            # so int mode and fixed point are exercised, not only sci mode
            scale = draw(st.sampled_from([1, 0.5, 0.01, 1e-3, 1e4, 1e9]))
            ints = draw(hnp.arrays(np.int64, shape, elements=st.integers(-2000, 2000)))
            with np.errstate(over="ignore"):  # float16 overflows to inf: fine
                array = (ints * scale).astype(dtype)
            if array.size and draw(st.booleans()):
                special = draw(st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))
                array.reshape(-1)[draw(st.integers(0, array.size - 1))] = special
            return array
        # hypothesis' own elements: any value, nan, inf, subnormals, extremes
        return draw(hnp.arrays(dtype, shape))

    @needs_torch
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(array=tensors(), grad=st.sampled_from([None, "requires_grad", "grad_fn"]))
    def test_property_matches_torch(array, grad):
        _check_any(array, grad)

    @needs_torch
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        array=tensors(max_side=12),
        precision=st.integers(0, 8),
        threshold=st.sampled_from([0, 1, 10, 50, 1000]),
        edgeitems=st.integers(0, 4),
        linewidth=st.integers(5, 120),
        sci_mode=st.sampled_from([None, True, False]),
    )
    def test_property_with_printoptions(array, precision, threshold, edgeitems, linewidth, sci_mode):
        with both(precision=precision, threshold=threshold, edgeitems=edgeitems,
                  linewidth=linewidth, sci_mode=sci_mode):
            _check_any(array, None)
