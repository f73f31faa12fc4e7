"""chainrule with NumPy and with PyTorch: what converts (``np.asarray``, DLPack, ``tensor``), what
shares memory, and the clear errors where the libraries must not mix.

The NumPy half needs nothing; the PyTorch half is skipped when torch is not installed.
"""
import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("error")

GRAD_MSG = r"Can't call numpy\(\) on Tensor that requires grad. Use tensor.detach\(\)"


# --- NumPy --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
def test_np_asarray_shares_storage(shape):
    x = cr.zeros(*shape)
    a = np.asarray(x)
    assert a.shape == shape and a.dtype == np.float32
    assert np.shares_memory(a, x.numpy()) or a.size == 0


def test_array_protocol_with_numpy2_dtype_and_copy():
    x = cr.tensor([1.0, 2.0])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    copied = np.array(x, copy=True)
    copied[0] = 9.0
    assert x.tolist() == [1.0, 2.0]
    assert np.shares_memory(np.array(x, copy=False), x.numpy())
    with pytest.raises(ValueError, match="needs a copy"):
        np.array(x, dtype=np.float64, copy=False)


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda t: np.array(t, copy=False),
                                     lambda t: t.numpy()])
def test_numpy_refuses_a_tensor_that_requires_grad(convert):
    # torch: np.asarray(t) on a tensor requiring grad raises numpy()'s RuntimeError
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=GRAD_MSG):
        convert(x)
    assert np.asarray(x.detach()).tolist() == [1.0, 1.0]


def test_dlpack_round_trip_with_numpy_shares_memory():
    x = cr.arange(4.0)
    a = np.from_dlpack(x)
    a[0] = 7.0
    assert x[0].item() == 7.0
    y = cr.from_dlpack(np.arange(3))
    assert y.dtype is cr.int64 and y.tolist() == [0, 1, 2]
    assert x.__dlpack_device__() == np.arange(1).__dlpack_device__()
    with pytest.raises(BufferError, match="require gradient, use tensor.detach"):
        np.from_dlpack(cr.ones(2, requires_grad=True))


def test_from_numpy_names_what_it_got():
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got builtins.list\)"):
        cr.from_numpy([1.0])


def test_ops_take_numpy_arrays_but_refuse_complex():
    assert (cr.ones(2) + np.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="no complex dtype"):
        cr.ones(2) + np.complex128(1j)


# --- PyTorch ------------------------------------------------------------------------------------

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("expr", ["x + t", "t + x", "x * t0", "t0 * x", "x == t", "x - t",
                                  "cr.add(x, t)", "cr.exp(t)", "cr.maximum(x, t)", "x.copy_(t)"])
def test_mixing_with_torch_names_torch_and_the_conversion(torch, expr):
    # chainrule said "expected a Tensor or a Python number" about a (torch) Tensor
    x, t, t0 = cr.ones(2), torch.ones(2), torch.tensor(2.0)
    with pytest.raises(TypeError, match=r"got a torch.Tensor.*chainrule.from_dlpack\(t\)"):
        eval(expr)


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_torch_takes_a_chainrule_tensor(torch, shape, dtype):
    # torch.tensor(x) failed with "len() of a 0-d tensor"
    x = cr.zeros(*shape, dtype=getattr(cr, dtype))
    for make in (torch.tensor, torch.as_tensor, torch.from_dlpack,
                 lambda v: torch.from_numpy(v.numpy())):
        t = make(x)
        assert isinstance(t, torch.Tensor)
        assert tuple(t.shape) == shape and str(t.dtype) == f"torch.{dtype}"


def test_torch_tensor_copies_and_as_tensor_shares(torch):
    x = cr.tensor([1.0, 2.0])
    copied, shared = torch.tensor(x), torch.as_tensor(x)
    x.add_(10.0)
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [11.0, 12.0]


@pytest.mark.parametrize("make", ["tensor", "as_tensor", "from_dlpack"])
def test_torch_refuses_a_chainrule_tensor_that_requires_grad(torch, make):
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(BufferError, match="require gradient, use tensor.detach"):
        getattr(torch, make)(x)
    assert getattr(torch, make)(x.detach()).tolist() == [1.0, 1.0]


def test_from_numpy_points_torch_users_to_dlpack(torch):
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got torch.Tensor\).*from_dlpack"):
        cr.from_numpy(torch.ones(2))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool"])
def test_chainrule_takes_a_torch_tensor(torch, dtype):
    t = torch.zeros(3, dtype=getattr(torch, dtype))
    for make in (cr.tensor, cr.as_tensor, cr.from_dlpack, lambda v: cr.from_numpy(v.numpy())):
        x = make(t)
        assert isinstance(x, cr.Tensor) and x.dtype is getattr(cr, dtype) and x.shape == (3,)
    assert cr.tensor(torch.tensor(1.5, dtype=torch.float64)).dtype is cr.float64
    assert cr.tensor([torch.tensor(1.0), torch.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_chainrule_tensor_copies_a_torch_tensor_and_from_dlpack_shares(torch):
    t = torch.tensor([1.0, 2.0])
    copied, shared = cr.tensor(t), cr.from_dlpack(t)
    t.add_(10.0)
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [11.0, 12.0]


def test_chainrule_refuses_a_torch_tensor_that_requires_grad(torch):
    t = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=GRAD_MSG):
        cr.tensor(t)
    with pytest.raises(RuntimeError, match="pass t.detach"):
        cr.from_dlpack(t)
    assert cr.tensor(t.detach()).tolist() == [1.0, 1.0]
