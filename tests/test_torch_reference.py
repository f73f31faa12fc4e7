"""chainrule against PyTorch 2.13's recorded behaviour on misuse and numeric edge cases.

Each test runs, on chainrule, the program of one case of ``shared/reference/torch_behaviour.json``
(the test is named after the case; ``# case N`` gives its number in ``catalogue_table.md``) and
checks that chainrule does what torch did: the same exception type with a message containing
torch's key phrase (chainrule may add a hint after it), the same values, dtypes and shapes, and
the same warnings.  Expected values are copied from the JSON as literals: these tests need
neither the JSON nor torch.

Cases checked in the test file of the layer they belong to: 76 and 78-81 (activations and
losses) in ``test_nn_activation_loss.py``, 98, 99 and 101 (``gradcheck``) in
``test_gradcheck.py``, 103-106 (optimizers) in ``test_optim.py``.

Parts of covered cases left out, and why:

- 58 ``index_put_repeated_indices_forward``: ``index_add_`` and ``index_put_(accumulate=True)``
  (chainrule has neither yet; only ``y[idx] += 1`` is checked).
- 74 ``nan_inf_propagation``: ``sort`` (chainrule has no ``sort`` yet).
"""
import math
import re

import numpy as np
import pytest

import chainrule as cr

nan, inf = float("nan"), float("inf")

# torch emitted no warning in any case but those that say so (checked with pytest.warns): an
# unexpected warning (NumPy's "divide by zero", say) fails the test
pytestmark = pytest.mark.filterwarnings("error")


def assert_tensor(t, expected, dtype="float32", shape=None):
    """``t`` has torch's recorded values, dtype name and shape (NaN matches NaN)."""
    assert isinstance(t, cr.Tensor), f"expected a Tensor, got {type(t).__name__}"
    assert t.dtype.name == dtype, f"dtype {t.dtype.name}, expected {dtype}"
    want = np.asarray(expected, dtype=np.float64)
    shape = want.shape if shape is None else tuple(shape)
    assert tuple(t.shape) == shape, f"shape {tuple(t.shape)}, expected {shape}"
    # torch.testing.assert_close's default tolerances
    tol = dict(rtol=1.3e-6, atol=1e-5) if dtype in ("float32", "float16") else \
        dict(rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(t.detach().numpy().astype(np.float64), want.reshape(shape),
                               equal_nan=True, **tol)


def raises(exc, torch_message):
    """``pytest.raises`` whose message must contain torch's text verbatim."""
    return pytest.raises(exc, match=re.escape(torch_message))


def warns(torch_message):
    return pytest.warns(UserWarning, match=re.escape(torch_message))


NONLEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward().")
NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
MODIFIED = ("one of the variables needed for gradient computation has been modified by an "
            "inplace operation: ")


# =========================================================================================
# backward misuse and gradient accumulation
# =========================================================================================

def test_backward_nonscalar_no_gradient():  # case 1
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        y.backward()


def test_backward_nonscalar_with_gradient():  # case 2
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.backward(cr.tensor([1., 10., 100.]))
    assert_tensor(x.grad, [2.0, 20.0, 200.0])


def test_backward_gradient_wrong_shape():  # case 3
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    # torch prints torch.Size([2]); chainrule prints chainrule.Size([2])
    with raises(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of ") as e:
        y.backward(cr.ones(2))
    assert "Size([2]) and output[0] has a shape of " in str(e.value)
    assert "Size([3])." in str(e.value)


def test_backward_scalar_gradient_shape_1():  # case 4
    x = cr.ones(3, requires_grad=True)
    y = (x * 2).sum()
    with raises(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of ") as e:
        y.backward(cr.ones(1))
    assert "Size([1]) and output[0] has a shape of " in str(e.value)
    assert "Size([])." in str(e.value)
    assert x.grad is None


def test_backward_gradient_wrong_dtype():  # case 5
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.backward(cr.ones(3, dtype=cr.float64))
    assert_tensor(x.grad, [2.0, 2.0, 2.0], "float32")


def test_backward_twice_without_retain_graph():  # case 6
    x = cr.tensor([1., 2., 3.], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    assert_tensor(x.grad, [2.0, 4.0, 6.0])
    with raises(RuntimeError, "Trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward() or autograd.grad(). "
                "Specify retain_graph=True if you need to backward through the graph a second "
                "time or if you need to access saved tensors after calling backward."):
        y.backward()


def test_backward_twice_nothing_saved():  # case 7
    x = cr.tensor([1., 2., 3.], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert_tensor(x.grad, [2.0, 2.0, 2.0])


def test_backward_twice_retain_graph_accumulates():  # case 8
    x = cr.tensor([1., 2., 3.], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_tensor(x.grad, [4.0, 8.0, 12.0])


def test_grad_accumulates_across_two_graphs():  # case 9
    x = cr.tensor([1., 2.], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert_tensor(x.grad.clone(), [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    assert_tensor(x.grad.clone(), [3.0, 3.0])
    x.grad.zero_()
    assert_tensor(x.grad, [0.0, 0.0])


def test_backward_on_tensor_without_grad():  # case 10
    y = cr.ones(3).sum()
    with raises(RuntimeError, NO_GRAD_FN):
        y.backward()


def test_backward_on_one_element_nonscalar():  # case 11
    x = cr.ones(1, 1, requires_grad=True)
    y = x * 3
    y.backward()
    assert_tensor(x.grad, [[3.0]])


def test_same_tensor_used_twice():  # case 12
    x = cr.tensor([1., 2.], requires_grad=True)
    (x * x + x + x).sum().backward()
    assert_tensor(x.grad, [4.0, 6.0])


def test_backward_returns():  # case 13
    x = cr.tensor(2., requires_grad=True)
    r = (x * x).backward()
    assert r is None
    assert_tensor(x.grad, 4.0)


# =========================================================================================
# leaf / non-leaf
# =========================================================================================

def test_nonleaf_grad_access_warns():  # case 14
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    assert y.is_leaf is False
    with warns(NONLEAF_GRAD):
        assert y.grad is None


def test_nonleaf_retain_grad():  # case 15
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert_tensor(y.grad, [4.0, 4.0, 4.0])
    assert_tensor(x.grad, [8.0, 8.0, 8.0])


def test_is_leaf_rules():  # case 16
    x = cr.ones(2, requires_grad=True)
    c = cr.ones(2)
    assert x.is_leaf is True
    assert c.is_leaf is True
    assert (x * 2).is_leaf is False
    assert (c * 2).is_leaf is True
    assert x.detach().is_leaf is True
    assert (x * 2).detach().requires_grad is False
    assert (x + c).requires_grad is True
    # torch: type((x * 2).grad_fn).__name__ == 'MulBackward0'; chainrule's nodes are all of one
    # class, so compare what both print: "<MulBackward0 object at 0x...>"
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at ")
    assert x.grad_fn is None


def test_set_requires_grad_on_nonleaf():  # case 17
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    with raises(RuntimeError, "you can only change requires_grad flags of leaf variables. If you "
                "want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."):
        y.requires_grad = False


def test_leaf_after_dtype_conversion():  # case 18
    w = cr.ones(2, requires_grad=True).double()
    (w * 2).sum().backward()
    assert w.is_leaf is False
    with warns(NONLEAF_GRAD):
        assert w.grad is None


def test_assign_grad_wrong_shape():  # case 19
    x = cr.ones(3, requires_grad=True)
    with raises(RuntimeError, "attempting to assign a gradient of size '[2]' to a tensor of size "
                "'[3]'. Please ensure that the gradient and the tensor are the same size"):
        x.grad = cr.ones(2)


# =========================================================================================
# dtypes
# =========================================================================================

def test_requires_grad_on_int_tensor_ctor():  # case 20
    with raises(RuntimeError, "Only Tensors of floating point and complex dtype can require "
                "gradients"):
        cr.tensor([1, 2, 3], requires_grad=True)


def test_requires_grad_on_int_tensor_method():  # case 21
    x = cr.arange(3)
    with raises(RuntimeError, "only Tensors of floating point dtype can require gradients"):
        x.requires_grad_()


def test_tensor_list_dtype_inference():  # case 22
    assert cr.tensor([1, 2, 3]).dtype.name == "int64"
    assert cr.tensor([1., 2.]).dtype.name == "float32"
    assert cr.tensor([1, 2.5]).dtype.name == "float32"
    assert cr.tensor([True, False]).dtype.name == "bool"
    assert cr.tensor(3.0).dtype.name == "float32"
    assert list(cr.tensor(3.0).shape) == []
    assert cr.tensor(np.array([1., 2.])).dtype.name == "float64"
    assert cr.tensor(np.array([1, 2])).dtype.name == "int64"
    assert cr.tensor(np.array([1., 2.], dtype=np.float32)).dtype.name == "float32"
    assert cr.from_numpy(np.array([1., 2.])).dtype.name == "float64"
    assert cr.tensor([]).dtype.name == "float32"
    assert list(cr.tensor([]).shape) == [0]
    assert list(cr.tensor([[]]).shape) == [1, 0]


def test_tensor_ragged_list():  # case 23
    with raises(ValueError, "expected sequence of length 2 at dim 1 (got 1)"):
        cr.tensor([[1, 2], [3]])


def test_default_dtype():  # case 24
    assert cr.get_default_dtype().name == "float32"
    assert cr.nn.Linear(2, 2).weight.dtype.name == "float32"
    assert cr.ones(2).dtype.name == "float32"
    assert cr.zeros(2, dtype=cr.float64).dtype.name == "float64"
    assert cr.arange(3).dtype.name == "int64"
    assert cr.arange(3.).dtype.name == "float32"
    assert cr.randn(2).dtype.name == "float32"
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.tensor([1.5]).dtype.name == "float64"
        assert cr.tensor([1]).dtype.name == "int64"
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.tensor([1.5]).dtype.name == "float32"


def test_float32_vs_float64_precision():  # case 25
    a32 = cr.tensor(1e-8, dtype=cr.float32)
    a64 = cr.tensor(1e-8, dtype=cr.float64)
    assert_tensor((a32 + 1) - 1, 0.0, "float32")
    assert_tensor((a64 + 1) - 1, 9.99999993922529e-09, "float64")
    assert cr.finfo(cr.float32).eps == 1.1920928955078125e-07
    assert_tensor(cr.exp(cr.tensor(89.)), inf, "float32")
    assert_tensor(cr.exp(cr.tensor(89., dtype=cr.float64)), 4.4896128191743455e+38, "float64")


def test_type_promotion():  # case 26
    f32 = cr.ones(2)
    f64 = cr.ones(2, dtype=cr.float64)
    i64 = cr.ones(2, dtype=cr.long)
    b = cr.ones(2, dtype=cr.bool)
    assert (f32 + f64).dtype.name == "float64"
    assert (f32 + 2.5).dtype.name == "float32"
    assert (f64 + cr.tensor(1.)).dtype.name == "float64"
    assert (f32 + cr.tensor(1., dtype=cr.float64)).dtype.name == "float32"
    assert (i64 + 2.5).dtype.name == "float32"
    assert (i64 + f32).dtype.name == "float32"
    assert (i64 * 3).dtype.name == "int64"
    assert (i64 / i64).dtype.name == "float32"
    assert (i64 // i64).dtype.name == "int64"
    assert (b + b).dtype.name == "bool"
    assert (b + i64).dtype.name == "int64"
    assert b.sum().dtype.name == "int64"
    assert i64.sum().dtype.name == "int64"


def test_mean_of_int_tensor():  # case 27
    with raises(RuntimeError, "mean(): could not infer output dtype. Input dtype must be either "
                "a floating point or complex dtype. Got: Long"):
        cr.arange(3).mean()


def test_int_float_promotion_keeps_grad():  # case 28
    x = cr.tensor([1., 2.], requires_grad=True)
    idx = cr.tensor([3, 4])
    y = (x * idx).sum()
    y.backward()
    assert y.dtype.name == "float32"
    assert_tensor(x.grad, [3.0, 4.0])
    assert x.long().requires_grad is False
    assert x.argmax().requires_grad is False


def test_integer_floor_div_and_div_by_zero():  # case 29
    assert_tensor(cr.tensor(-7) // 2, -4, "int64")
    assert_tensor(cr.tensor(-7) % 3, 2, "int64")
    assert_tensor(cr.tensor([1]) / cr.tensor([0]), [inf], "float32")
    with raises(RuntimeError, "ZeroDivisionError"):
        cr.tensor([1]) // cr.tensor([0])


def test_mixed_dtype_matmul():  # case 30
    with raises(RuntimeError, "expected m1 and m2 to have the same dtype, but got: long int != "
                "float"):
        cr.ones(2, 2, dtype=cr.long) @ cr.ones(2, 2)


# =========================================================================================
# in-place operations and the version counter
# =========================================================================================

def test_inplace_on_leaf_requiring_grad():  # case 32
    x = cr.ones(3, requires_grad=True)
    with raises(RuntimeError, "a leaf Variable that requires grad is being used in an in-place "
                "operation."):
        x += 1


def test_inplace_modify_saved_tensor_version_counter():  # case 33
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    z = y ** 2
    assert y._version == 0
    y.add_(1)
    assert y._version == 1
    with raises(RuntimeError, MODIFIED) as e:
        z.sum().backward()
    # torch says [torch.FloatTensor [3]]; chainrule [chainrule.FloatTensor [3]]
    assert "FloatTensor [3]], which is output 0 of Add, is at version 1; expected version 0 " \
        "instead." in str(e.value)


def test_inplace_modify_output_saved_by_exp():  # case 34
    x = cr.ones(3, requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with raises(RuntimeError, MODIFIED) as e:
        y.sum().backward()
    assert "FloatTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 " \
        "instead." in str(e.value)


def test_inplace_ok_when_not_saved():  # case 35
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    z = y + 1
    y.add_(1)
    z.sum().backward()
    assert_tensor(x.grad, [2.0, 2.0, 2.0])


def test_inplace_update_leaf_under_no_grad():  # case 36
    x = cr.ones(3, requires_grad=True)
    (x * x).sum().backward()
    with cr.no_grad():
        x -= 0.1 * x.grad
    assert_tensor(x, [0.800000011920929] * 3)
    assert x.requires_grad is True
    assert x.is_leaf is True
    assert x.grad_fn is None


def test_detach_shares_storage_and_version():  # case 37
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    z = y ** 2
    d = y.detach()
    d.zero_()
    assert_tensor(y, [0.0, 0.0, 0.0])
    assert y.requires_grad is True
    with raises(RuntimeError, MODIFIED) as e:
        z.sum().backward()
    assert "FloatTensor [3]], which is output 0 of Mul, is at version 1; expected version 0 " \
        "instead." in str(e.value)


# =========================================================================================
# shapes
# =========================================================================================

def test_matmul_shape_mismatch_2d():  # case 38
    with raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"):
        cr.ones(2, 3) @ cr.ones(2, 3)


def test_matmul_shape_mismatch_1d():  # case 39
    with raises(RuntimeError, "inconsistent tensor size, expected tensor [3] and src [4] to have "
                "the same number of elements, but got 3 and 4 elements respectively"):
        cr.ones(3) @ cr.ones(4)


def test_matmul_batched_mismatch():  # case 40
    with raises(RuntimeError, "The size of tensor a (5) must match the size of tensor b (4) at "
                "non-singleton dimension 0"):
        cr.ones(5, 2, 3) @ cr.ones(4, 3, 2)


def test_matmul_shapes_1d_2d():  # case 41
    assert list((cr.ones(3) @ cr.ones(3)).shape) == []
    assert list((cr.ones(3) @ cr.ones(3, 4)).shape) == [4]
    assert list((cr.ones(2, 3) @ cr.ones(3)).shape) == [2]
    assert list((cr.ones(5, 2, 3) @ cr.ones(3, 4)).shape) == [5, 2, 4]
    assert list((cr.ones(5, 1, 2, 3) @ cr.ones(4, 3, 2)).shape) == [5, 4, 2, 2]
    a = cr.randn(3, requires_grad=True)
    B = cr.randn(3, 4, requires_grad=True)
    (a @ B).sum().backward()
    assert [list(a.grad.shape), list(B.grad.shape)] == [[3], [3, 4]]


def test_matmul_scalar_operand():  # case 42
    with raises(RuntimeError, "both arguments to matmul need to be at least 1D, but they are 0D "
                "and 1D"):
        cr.tensor(2.) @ cr.ones(3)


def test_broadcast_mismatch():  # case 43
    with raises(RuntimeError, "The size of tensor a (3) must match the size of tensor b (4) at "
                "non-singleton dimension 1"):
        cr.ones(2, 3) + cr.ones(4)


def test_broadcast_grad_reduces_to_input_shape():  # case 44
    a = cr.ones(3, 1, requires_grad=True)
    b = cr.ones(1, 4, requires_grad=True)
    s = cr.tensor(2., requires_grad=True)
    v = cr.ones(4, requires_grad=True)
    (a * b * s * v).sum().backward()
    assert_tensor(a.grad, [[8.0], [8.0], [8.0]])
    assert_tensor(b.grad, [[6.0, 6.0, 6.0, 6.0]])
    assert_tensor(s.grad, 12.0)
    assert_tensor(v.grad, [6.0, 6.0, 6.0, 6.0])


def test_sum_dim_out_of_range():  # case 45
    with raises(IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got "
                "2)"):
        cr.ones(2, 3).sum(dim=2)


def test_reduction_keepdim_grad():  # case 46
    x = cr.arange(6.).reshape(2, 3).requires_grad_()
    m = x.mean(dim=1, keepdim=True)
    assert list(m.shape) == [2, 1]
    (x - m).pow(2).sum().backward()
    assert_tensor(x.grad, [[-2.0, 0.0, 2.0], [-2.0, 0.0, 2.0]])
    y = cr.arange(6.).reshape(2, 3).requires_grad_()
    y.sum(dim=(0, 1)).backward()
    assert_tensor(y.grad, [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])


def test_sum_dim_empty_tuple():  # case 47
    x = cr.arange(6.).reshape(2, 3)
    assert_tensor(x.sum(dim=()), 15.0)
    assert_tensor(x.sum(dim=[]), 15.0)
    assert_tensor(x.amax(dim=()), 5.0)


def test_view_non_contiguous():  # case 48
    x = cr.arange(6.).reshape(2, 3).t()
    assert list(x.reshape(6).shape) == [6]
    with raises(RuntimeError, "view size is not compatible with input tensor's size and stride (at "
                "least one dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead."):
        x.view(6)


def test_reshape_two_minus_one():  # case 49
    with raises(RuntimeError, "only one dimension can be inferred"):
        cr.ones(6).reshape(-1, -1)


def test_reshape_wrong_numel():  # case 50
    with raises(RuntimeError, "shape '[4, 2]' is invalid for input of size 6"):
        cr.ones(6).reshape(4, 2)


def test_cat_shape_mismatch():  # case 51
    with raises(RuntimeError, "Sizes of tensors must match except in dimension 0. Expected size 3 "
                "but got size 4 for tensor number 1 in the list."):
        cr.cat([cr.ones(2, 3), cr.ones(2, 4)])


def test_zero_size_matmul():  # case 52
    a = cr.ones(2, 0, requires_grad=True)
    b = cr.ones(0, 3, requires_grad=True)
    c = a @ b
    c.sum().backward()
    assert_tensor(c, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert c.requires_grad is True
    assert_tensor(a.grad, np.zeros((2, 0)), shape=(2, 0))


def test_bool_of_multi_element_tensor():  # case 53
    with raises(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"):
        if cr.ones(2) > 0:
            pass


def test_len_of_0d_tensor():  # case 54
    assert len(cr.ones(3, 2)) == 3
    with raises(TypeError, "len() of a 0-d tensor"):
        len(cr.tensor(1.))


def test_item_on_multi_element():  # case 55
    with raises(RuntimeError, "a Tensor with 3 elements cannot be converted to Scalar"):
        cr.ones(3).item()


def test_numpy_on_requires_grad():  # case 56
    with raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."):
        cr.ones(3, requires_grad=True).numpy()


# =========================================================================================
# indexing
# =========================================================================================

def test_indexing_repeated_indices_grad_accumulates():  # case 57
    x = cr.tensor([1., 2., 3.], requires_grad=True)
    y = x[cr.tensor([0, 0, 1, 0])]
    (y * cr.tensor([1., 10., 100., 1000.])).sum().backward()
    assert_tensor(x.grad, [1011.0, 100.0, 0.0])


def test_index_put_repeated_indices_forward():  # case 58 (index_add_, index_put_: not yet)
    y = cr.zeros(3)
    y[cr.tensor([0, 0])] += 1          # read-modify-write: does not accumulate
    assert_tensor(y, [1.0, 0.0, 0.0])


def test_indexing_slices_and_bool_mask_grad():  # case 59
    x = cr.arange(6.).reshape(2, 3).requires_grad_()
    (x[:, 1:].sum() + x[x > 3].sum() * 10).backward()
    assert_tensor(x.grad, [[0.0, 1.0, 1.0], [0.0, 11.0, 11.0]])


def test_index_out_of_range():  # case 60
    with raises(IndexError, "index 5 is out of bounds for dimension 0 with size 3"):
        cr.ones(3)[cr.tensor([5])]


# =========================================================================================
# numeric edge cases
# =========================================================================================

def test_grad_sqrt_at_0():  # case 61
    x = cr.tensor(0., requires_grad=True)
    y = cr.sqrt(x)
    y.backward()
    assert_tensor(y, 0.0)
    assert_tensor(x.grad, inf)


def test_grad_pow_half_at_0():  # case 62
    x = cr.tensor(0., requires_grad=True)
    y = x ** 0.5
    y.backward()
    assert_tensor(y, 0.0)
    assert_tensor(x.grad, inf)


def test_grad_log_at_0():  # case 63
    x = cr.tensor(0., requires_grad=True)
    y = cr.log(x)
    y.backward()
    assert_tensor(y, -inf)
    assert_tensor(x.grad, inf)


def test_log_and_sqrt_of_negative():  # case 64
    x = cr.tensor(-1., requires_grad=True)
    y = cr.log(x) + cr.sqrt(x)
    y.backward()
    assert_tensor(y, nan)
    assert_tensor(x.grad, nan)


def test_grad_relu_at_0():  # case 65
    x = cr.tensor([-1., 0., 1.], requires_grad=True)
    cr.relu(x).sum().backward()
    assert_tensor(x.grad, [0.0, 0.0, 1.0])


def test_grad_abs_at_0():  # case 66
    x = cr.tensor([-1., 0., 1.], requires_grad=True)
    x.abs().sum().backward()
    assert_tensor(x.grad, [-1.0, 0.0, 1.0])


def test_grad_clamp_at_boundaries():  # case 67
    x = cr.tensor([-1., 0., 0.5, 1., 2.], requires_grad=True)
    x.clamp(0., 1.).sum().backward()
    assert_tensor(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_grad_max_min_ties():  # case 68
    def grad_of(f):
        x = cr.tensor([1., 3., 3., 2.], requires_grad=True)
        f(x).sum().backward()
        return x.grad

    assert_tensor(grad_of(lambda x: x.max()), [0.0, 0.5, 0.5, 0.0])
    assert_tensor(grad_of(lambda x: x.amax()), [0.0, 0.5, 0.5, 0.0])
    assert_tensor(grad_of(lambda x: x.max(dim=0).values), [0.0, 1.0, 0.0, 0.0])
    assert_tensor(cr.tensor([1., 3., 3., 2.]).max(dim=0).indices, 1, "int64")
    x = cr.tensor([1., 1., 2.], requires_grad=True)
    x.min().backward()
    assert_tensor(x.grad, [0.5, 0.5, 0.0])
    a = cr.tensor([2., 1.], requires_grad=True)
    b = cr.tensor([2., 3.], requires_grad=True)
    cr.maximum(a, b).sum().backward()
    assert_tensor(a.grad, [0.5, 0.0])
    assert_tensor(b.grad, [0.5, 1.0])
    m = cr.tensor([[1., 4.], [4., 4.]], requires_grad=True)
    m.amax(dim=1).sum().backward()
    assert_tensor(m.grad, [[0.0, 1.0], [0.5, 0.5]])


def test_grad_norm_at_zero():  # case 69
    x = cr.zeros(3, requires_grad=True)
    x.norm().backward()
    assert_tensor(x.grad, [0.0, 0.0, 0.0])
    y = cr.zeros(3, requires_grad=True)
    cr.sqrt((y ** 2).sum()).backward()
    assert_tensor(y.grad, [nan, nan, nan])


def test_pow_zero_edge_cases():  # case 70
    x = cr.tensor(0., requires_grad=True)
    y = x ** 0
    y.backward()
    assert_tensor(y, 1.0)
    assert y.requires_grad is True
    assert_tensor(x.grad, 0.0)
    e = cr.tensor(2., requires_grad=True)
    z = cr.tensor(0.) ** e
    z.backward()
    assert_tensor(e.grad, 0.0)
    b = cr.tensor(-8., requires_grad=True)
    w = b ** (1. / 3)
    w.backward()
    assert_tensor(w, nan)
    assert_tensor(b.grad, nan)


def test_where_nan_in_unselected_branch():  # case 71
    x = cr.tensor([-1., 4.], requires_grad=True)
    y = cr.where(x > 0, cr.sqrt(x), cr.zeros_like(x))
    y.sum().backward()
    assert_tensor(y, [0.0, 2.0])
    assert_tensor(x.grad, [nan, 0.25])


def test_sum_mean_max_over_empty():  # case 72
    e = cr.tensor([], requires_grad=True)
    s = e.sum()
    s.backward()
    assert_tensor(s, 0.0)
    assert s.requires_grad is True
    assert_tensor(e.grad, [], shape=(0,))
    assert_tensor(cr.tensor([]).mean(), nan)
    assert_tensor(cr.tensor([]).prod(), 1.0)
    assert list(cr.zeros(0, 3).sum(0).shape) == [3]
    with raises(RuntimeError, "max(): Expected reduction dim to be specified for input.numel() == "
                "0. Specify the reduction dim with the 'dim' argument."):
        cr.tensor([]).max()


def test_empty_mean_does_not_warn(recwarn):  # case 72, and numpy_divergences: NumPy warns
    cr.tensor([]).mean()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_division_by_zero():  # case 73
    x = cr.tensor([1., 0., -1.], requires_grad=True)
    d = cr.zeros(3, requires_grad=True)
    y = x / d
    y.sum().backward()
    assert_tensor(y, [inf, nan, -inf])
    assert_tensor(x.grad, [inf, inf, inf])
    assert_tensor(d.grad, [-inf, nan, inf])
    assert_tensor(cr.tensor(0.).reciprocal(), inf)


def test_nan_inf_propagation():  # case 74 (sort: not yet)
    x = cr.tensor([1., nan, inf], requires_grad=True)
    s = x.sum()
    s.backward()
    assert_tensor(s, nan)
    assert_tensor(x.grad, [1.0, 1.0, 1.0])
    x.grad = None
    m = x.max()
    m.backward()
    assert_tensor(m, nan)
    assert_tensor(x.grad, [0.0, 1.0, 0.0])
    assert_tensor(cr.relu(cr.tensor(nan)), nan)
    assert_tensor(cr.tensor(inf) - inf, nan)
    assert_tensor(cr.tensor(0.) * inf, nan)
    x2 = cr.tensor([inf], requires_grad=True)
    (x2 * 0).sum().backward()
    assert_tensor(x2.grad, [0.0])
    assert_tensor(cr.tensor(nan).clamp(0, 1), nan)
    assert_tensor(cr.maximum(cr.tensor(nan), cr.tensor(1.)), nan)


def test_exp_overflow_and_grad():  # case 75
    x = cr.tensor([100., 1000.], requires_grad=True)
    y = x.exp()
    y.sum().backward()
    assert_tensor(y, [inf, inf])
    assert_tensor(x.grad, [inf, inf])
    t = cr.tensor([20., -1000.], requires_grad=True)
    cr.tanh(t).sum().backward()
    assert_tensor(t.grad, [0.0, 0.0])


def test_sigmoid_logsigmoid_extremes():  # case 76 (F.logsigmoid: nn.functional, later)
    x = cr.tensor([-1000., 0., 1000.], requires_grad=True)
    s = cr.sigmoid(x)
    s.sum().backward()
    assert_tensor(s, [0.0, 0.5, 1.0])
    assert_tensor(x.grad, [0.0, 0.25, 0.0])
    assert_tensor(cr.log(cr.sigmoid(cr.tensor([-1000., 1000.]))), [-inf, 0.0])


def test_softmax_log_softmax_huge_logits():  # case 77
    x = cr.tensor([1000., 0., -1000.], requires_grad=True)
    ls = cr.log_softmax(x, dim=0)
    ls[1].backward()
    assert_tensor(ls, [0.0, -1000.0, -2000.0])
    assert ls.requires_grad is True
    assert_tensor(x.grad, [-1.0, 1.0, 0.0])
    assert_tensor(cr.softmax(cr.tensor([1000., 0., -1000.]), dim=0), [1.0, 0.0, 0.0])
    big = cr.exp(cr.tensor([1000., 0.]))
    assert_tensor(cr.log(big / big.sum()), [nan, -inf])
    assert_tensor(cr.logsumexp(cr.tensor([1000., 1000.]), 0), 1000.6931762695312)
    assert_tensor(cr.logsumexp(cr.tensor([-inf, -inf]), 0), -inf)


def test_std_var_single_element():  # case 82
    x = cr.tensor([1.], requires_grad=True)
    with warns("std(): degrees of freedom is <= 0. Correction should be strictly less than the "
               "reduction factor (input numel divided by output numel)."):
        s = x.std()
    s.backward()
    assert_tensor(s, nan)
    assert s.requires_grad is True
    assert_tensor(x.grad, [nan])
    assert_tensor(cr.tensor([1.]).var(correction=0), 0.0)


def test_softmax_implicit_dim():  # case 83
    with warns("Implicit dimension choice for softmax has been deprecated. Change the call to "
               "include dim=X as an argument."):
        s = cr.softmax(cr.ones(2, 2))
    assert_tensor(s, [[0.5, 0.5], [0.5, 0.5]])


# =========================================================================================
# no_grad, detach
# =========================================================================================

def test_no_grad_block():  # case 84
    x = cr.ones(3, requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert cr.is_grad_enabled() is False
        with cr.enable_grad():
            w = x * 2
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert w.requires_grad is True
    with cr.no_grad():
        p = cr.ones(2, requires_grad=True)
    assert p.requires_grad is True
    with raises(RuntimeError, NO_GRAD_FN):
        y.sum().backward()


def test_no_grad_decorator_and_set_grad_enabled():  # case 85
    @cr.no_grad()
    def f(t):
        return t * 2

    x = cr.ones(2, requires_grad=True)
    assert f(x).requires_grad is False
    with cr.set_grad_enabled(False):
        assert (x * 2).requires_grad is False
    with cr.inference_mode():
        assert (x * 2).requires_grad is False
    assert cr.is_grad_enabled() is True


def test_detach_semantics():  # case 86
    x = cr.tensor([1., 2.], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.requires_grad is False
    assert d.is_leaf is True
    assert d.data_ptr() == y.data_ptr()
    z = (y + d * 100).sum()
    z.backward()
    assert_tensor(x.grad, [3.0, 3.0])
    assert repr(x.clone().grad_fn).startswith("<CloneBackward0 object at ")


def test_backward_through_detached_only():  # case 87
    x = cr.ones(2, requires_grad=True)
    with raises(RuntimeError, NO_GRAD_FN):
        (x.detach() * 2).sum().backward()


def test_tensor_from_tensor_warning():  # case 88
    x = cr.ones(2, requires_grad=True)
    with warns("To copy construct from a tensor, it is recommended to use "
               "sourceTensor.detach().clone() or "
               "sourceTensor.detach().clone().requires_grad_(True), rather than "):
        y = cr.tensor(x)
    assert y.requires_grad is False


# =========================================================================================
# hooks
# =========================================================================================

def test_hooks():  # case 89
    x = cr.tensor([1., 2.], requires_grad=True)
    h = x.register_hook(lambda g: g * 10)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    y.sum().backward()
    assert_tensor(x.grad, [20.0, 20.0])
    assert_tensor(seen[0], [1.0, 1.0])
    h.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert_tensor(x.grad, [2.0, 2.0])


def test_hook_on_tensor_without_grad():  # case 90
    with raises(RuntimeError, "cannot register a hook on a tensor that doesn't require gradient"):
        cr.ones(2).register_hook(lambda g: g)


def test_hook_returns_wrong_shape():  # case 91
    x = cr.ones(2, requires_grad=True)
    x.register_hook(lambda g: cr.ones(3))
    with raises(RuntimeError, "hook '<lambda>' has changed the size of value"):
        (x * 2).sum().backward()


# =========================================================================================
# higher order and autograd.grad
# =========================================================================================

def test_create_graph_second_derivative_x_cubed():  # case 92
    x = cr.tensor(2., requires_grad=True)
    y = x ** 3
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    assert_tensor(g, 12.0)
    assert g.requires_grad is True
    (g2,) = cr.autograd.grad(g, x, create_graph=True)
    assert_tensor(g2, 12.0)
    assert g2.requires_grad is True
    (g3,) = cr.autograd.grad(g2, x)
    assert_tensor(g3, 6.0)
    assert x.grad is None


def test_backward_create_graph_then_grad_of_grad():  # case 93
    x = cr.tensor(2., requires_grad=True)
    with warns("Using backward() with create_graph=True will create a reference cycle between the "
               "parameter and its gradient which can cause a memory leak."):
        (x ** 3).backward(create_graph=True)
    gx = x.grad
    assert_tensor(gx, 12.0)
    assert gx.requires_grad is True
    x.grad = None
    gx.backward()
    assert_tensor(x.grad, 12.0)


def test_second_derivative_without_create_graph():  # case 94
    x = cr.tensor(2., requires_grad=True)
    (g,) = cr.autograd.grad(x ** 3, x)
    assert g.requires_grad is False
    with raises(RuntimeError, NO_GRAD_FN):
        cr.autograd.grad(g, x)


def test_autograd_grad_unused_input():  # case 95
    x = cr.tensor(1., requires_grad=True)
    z = cr.tensor(1., requires_grad=True)
    gx, gz = cr.autograd.grad(x * 2, [x, z], allow_unused=True)
    assert_tensor(gx, 2.0)
    assert gz is None
    gx, gz = cr.autograd.grad(x * 2, [x, z], materialize_grads=True)
    assert_tensor(gx, 2.0)
    assert_tensor(gz, 0.0)
    with raises(RuntimeError, "The differentiated Tensor at index 1 appears to not have been used "
                "in the graph. Set allow_unused=True if this is the desired behavior."):
        cr.autograd.grad(x * 2, [x, z])


def test_autograd_grad_nonscalar_output():  # case 96
    x = cr.ones(3, requires_grad=True)
    grads = cr.autograd.grad(x * 2, x, grad_outputs=cr.ones(3))
    assert isinstance(grads, tuple) and len(grads) == 1
    assert_tensor(grads[0], [2.0, 2.0, 2.0])
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        cr.autograd.grad(x * 2, x)


def test_autograd_grad_input_not_requiring_grad():  # case 97
    x = cr.ones(3, requires_grad=True)
    c = cr.ones(3)
    with raises(RuntimeError, "One of the differentiated Tensors does not require grad"):
        cr.autograd.grad((x * c).sum(), c)


def test_custom_function_wrong_number_of_grads():  # case 102
    class F2(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = cr.ones(2, requires_grad=True)
    with raises(RuntimeError, "function F2Backward returned an incorrect number of gradients "
                "(expected 1, got 2)"):
        F2.apply(x).sum().backward()


def test_backward_refuses_a_number_as_gradient():
    # torch raises TypeError too; ours says what to pass
    x = cr.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"gradient must be a Tensor.*chainrule.tensor\(2.0\)"):
        (x * 3).backward(2.0)


def test_a_float_too_large_for_float32_is_inf_without_a_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.tensor([1e300]).tolist() == [math.inf]
        assert cr.tensor([-1e300], dtype=cr.float32).tolist() == [-math.inf]


def test_linear_float64_input_float32_params():  # case 31
    layer = cr.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        layer(cr.ones(4, 3, dtype=cr.float64))


def test_gradcheck_nondifferentiable_point():  # case 100
    # abs at 0: the central difference is 0, and so is abs'(0) = sign(0)
    x = cr.tensor([-1.0, 0.0, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(cr.abs, (x,)) is True


def test_module_parameters_and_train_eval():  # case 107
    nn = cr.nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight",
                                                          "3.bias"]
    assert [list(p.shape) for p in model.parameters()] == [[4, 3], [4], [1, 4], [1]]
    assert model.training is True
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    model.eval()
    x = cr.randn(5, 3)
    assert cr.equal(model(x), model(x))                       # dropout is off in eval
    bound = 1 / math.sqrt(3)
    assert float(model[0].weight.abs().max()) <= bound
