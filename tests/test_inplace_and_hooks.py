"""What the core must do beyond the recorded torch cases: retain_grad, hooks, backward(inputs=),
Variable, ``.data``, in-place operations on non-leaves, grad_fn introspection, deep graphs.

Each test is one program written against a library module ``T`` and run twice: on chainrule and,
when it is importable, on torch (skipped otherwise).  The expected values are literals, so the
torch run proves they are torch's and the chainrule run that chainrule agrees.
"""
import gc
import re

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("error")     # neither library should warn here


@pytest.fixture(params=["chainrule", "torch"])
def T(request):
    """The library under test: chainrule, or torch when it is installed."""
    if request.param == "torch":
        return pytest.importorskip("torch")
    return cr


def dtype_name(t):
    return str(t.dtype).split(".")[-1]          # 'chainrule.float32' / 'torch.float32'


def check(t, expected, dtype="float32"):
    want = np.asarray(expected, dtype=np.float64)
    assert dtype_name(t) == dtype
    assert tuple(t.shape) == want.shape
    np.testing.assert_allclose(t.detach().numpy().astype(np.float64), want, rtol=1.3e-6,
                               atol=1e-5)


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


def node_name(grad_fn):
    """'MulBackward0' from '<MulBackward0 object at 0x...>' (what both libraries print)."""
    return re.match(r"<(\S+) object at ", repr(grad_fn)).group(1)


# =========================================================================================
# retain_grad
# =========================================================================================

def test_retain_grad_accumulates_across_backward_calls(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert y.retains_grad is False
    y.retain_grad()
    assert y.retains_grad is True
    z = y * y
    z.retain_grad()
    z.sum().backward(retain_graph=True)
    check(y.grad, [4.0, 8.0])
    check(z.grad, [1.0, 1.0])
    z.sum().backward()
    check(y.grad, [8.0, 16.0])
    check(z.grad, [2.0, 2.0])


def test_retain_grad_on_leaf_is_a_no_op(T):
    x = T.tensor([1., 2.], requires_grad=True)
    x.retain_grad()
    assert x.retains_grad is False
    (x * 3).sum().backward()
    check(x.grad, [3.0, 3.0])


def test_retain_grad_without_grad_raises(T):
    with raises(RuntimeError, "can't retain_grad on Tensor that has requires_grad=False"):
        T.ones(2).retain_grad()


def test_retained_grad_is_read_without_warning(T, recwarn):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    check(y.grad, [1.0, 1.0])
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_sees_the_gradient_after_hooks(T, retain_first):
    # torch: the retained .grad is the one the tensor's hooks produced, whatever the order
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    if retain_first:
        y.retain_grad()
    y.register_hook(lambda g: g * 10)
    if not retain_first:
        y.retain_grad()
    y.sum().backward()
    check(y.grad, [10.0, 10.0])
    check(x.grad, [20.0, 20.0])


def test_retain_grad_follows_an_inplace_op(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.add_(1)
    (y * y).sum().backward()
    check(y.grad, [6.0, 10.0])         # 2·y for the new y = 2x + 1
    check(x.grad, [12.0, 20.0])


# =========================================================================================
# register_hook and handle.remove()
# =========================================================================================

def test_leaf_hook_sees_the_summed_gradient_once(T):
    x = T.tensor([1., 2.], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.clone()))
    (x * 2 + x * 3).sum().backward()
    assert len(calls) == 1
    check(calls[0], [5.0, 5.0])
    check(x.grad, [5.0, 5.0])


def test_leaf_hooks_chain_in_registration_order(T):
    x = T.tensor([1., 2.], requires_grad=True)
    x.register_hook(lambda g: g * 3)
    x.register_hook(lambda g: g + 1)
    (x * 2).sum().backward()
    check(x.grad, [7.0, 7.0])          # (2·3) + 1


def test_leaf_hook_remove(T):
    x = T.tensor([1., 2.], requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 2).sum().backward()
    check(x.grad, [2.0, 2.0])


def test_nonleaf_hooks_chain_and_remove(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    h1 = y.register_hook(lambda g: g * 2)
    h2 = y.register_hook(lambda g: g + 1)
    y.sum().backward(retain_graph=True)
    check(x.grad, [6.0, 6.0])          # ((1·2) + 1)·2
    h1.remove()
    x.grad = None
    y.sum().backward(retain_graph=True)
    check(x.grad, [4.0, 4.0])          # (1 + 1)·2
    h2.remove()
    x.grad = None
    y.sum().backward()
    check(x.grad, [2.0, 2.0])


def test_nonleaf_hook_returning_none_keeps_the_gradient(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    (y * 3).sum().backward()
    check(seen[0], [3.0, 3.0])
    check(x.grad, [6.0, 12.0])


def test_hook_registered_before_inplace_sees_the_old_version(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    y.mul_(3)
    (y * y).sum().backward()
    check(seen[0], [36.0, 72.0])       # d/d(old y) of (3·old y)²
    check(x.grad, [72.0, 144.0])


def test_leaf_hook_applies_to_autograd_grad(T):
    x = T.tensor([1., 2.], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    g, = T.autograd.grad((x * x).sum(), x)
    check(g, [4.0, 8.0])
    assert x.grad is None


def test_nonleaf_hook_under_create_graph(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 3)
    gx, = T.autograd.grad(y.sum(), x, create_graph=True)
    check(gx, [6.0, 6.0])


# =========================================================================================
# backward(inputs=...)
# =========================================================================================

def test_backward_inputs_accumulates_only_into_inputs(T):
    x = T.tensor([1., 2.], requires_grad=True)
    w = T.tensor([3., 4.], requires_grad=True)
    y = (x * w).sum()
    y.backward(inputs=[x], retain_graph=True)
    check(x.grad, [3.0, 4.0])
    assert w.grad is None
    y.backward(inputs=x)
    check(x.grad, [6.0, 8.0])
    assert w.grad is None


def test_backward_inputs_nonleaf_gets_grad(T, recwarn):
    x = T.tensor([1., 2.], requires_grad=True)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    check(h.grad, [4.0, 8.0])
    assert x.grad is None
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_backward_inputs_empty_raises(T):
    x = T.tensor([1., 2.], requires_grad=True)
    with raises(RuntimeError, "`inputs` argument to `backward()` cannot be empty."):
        (x * 2).sum().backward(inputs=[])


def test_backward_inputs_not_requiring_grad_raises(T):
    # torch says "can't retain_grad on Tensor that has requires_grad=False"; chainrule says what
    # autograd.grad says: "One of the differentiated Tensors does not require grad"
    x = T.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2).sum().backward(inputs=[T.ones(2)])


def test_autograd_grad_with_respect_to_nonleaf(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * x
    y.retain_grad()
    g, = T.autograd.grad(y.sum(), y)
    check(g, [1.0, 1.0])
    h = x ** 3
    g2, = T.autograd.grad((h * 2).sum(), h, create_graph=True)
    check(g2, [2.0, 2.0])
    assert g2.requires_grad is False   # d(2h)/dh does not depend on x


def test_autograd_grad_fills_only_retained_grads(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * x
    y.retain_grad()
    g, = T.autograd.grad(y.sum(), x)
    check(g, [2.0, 4.0])
    assert x.grad is None              # leaves: returned, not accumulated
    check(y.grad, [1.0, 1.0])          # retain_grad's hook still runs, as in torch


def test_backward_of_several_roots(T):
    x = T.tensor([1., 2.], requires_grad=True)
    T.autograd.backward([(x * 2).sum(), (x * 3).sum()])
    check(x.grad, [5.0, 5.0])
    x.grad = None
    T.autograd.backward([x * 2, x * 3], [T.ones(2), T.tensor([1., 10.])])
    check(x.grad, [5.0, 32.0])


def test_backward_of_a_leaf(T):
    x = T.tensor([1., 2.], requires_grad=True)
    x.backward(T.tensor([3., 4.]))
    check(x.grad, [3.0, 4.0])


def test_backward_create_graph_retains_nonleaf_grad_without_graph(T):
    x = T.tensor(3., requires_grad=True)
    y = x ** 2
    y.retain_grad()
    with pytest.warns(UserWarning, match="create_graph=True"):
        y.backward(create_graph=True)
    check(x.grad, 6.0)
    assert x.grad.requires_grad is True
    assert y.grad.requires_grad is False


def test_grad_is_accumulated_in_place(T):
    x = T.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    check(first, [5.0, 5.0])


def test_assign_grad_wrong_dtype(T):
    x = T.ones(2, requires_grad=True)
    with raises(RuntimeError, "attempting to assign a gradient with dtype 'double' to a tensor "
                "with grad_dtype 'Float'. The gradient must match the tensor's grad_dtype "
                "(defaults to the tensor's dtype)"):
        x.grad = T.ones(2, dtype=T.float64)


def test_assign_grad_to_nonleaf(T):
    x = T.ones(2, requires_grad=True)
    y = x * 2
    y.grad = T.ones(2)
    check(y.grad, [1.0, 1.0])


def test_detach_inplace(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.requires_grad is False and y.is_leaf and y.grad_fn is None


def test_detach_shares_storage_and_version_counter(T):
    x = T.ones(3, requires_grad=True)
    d = x.detach()
    d[0] = 10.
    check(x, [10.0, 1.0, 1.0])
    assert x._version == 1


def test_requires_grad_on_a_no_grad_result(T):
    x = T.tensor([1., 2.], requires_grad=True)
    with T.no_grad():
        y = x * 2
    y.requires_grad_()
    assert y.is_leaf
    (y * y).sum().backward()
    check(y.grad, [4.0, 8.0])
    assert x.grad is None


def test_grad_mode_switches(T):
    a = T.tensor([1., 2.], requires_grad=True)
    T.set_grad_enabled(False)
    try:
        assert T.is_grad_enabled() is False
        assert (a * 2).requires_grad is False
    finally:
        T.set_grad_enabled(True)
    with T.inference_mode(False):
        assert (a * 2).requires_grad is True

    @T.enable_grad()
    def double(t):
        return t * 2

    with T.no_grad():
        assert double(a).requires_grad is True
        assert T.is_grad_enabled() is False
    assert T.is_grad_enabled() is True


# =========================================================================================
# Variable, .data, requires_grad_()
# =========================================================================================

def test_variable_is_a_tensor_sharing_storage(T):
    t = T.tensor([1., 2.])
    v = T.autograd.Variable(t, requires_grad=True)
    assert isinstance(v, T.Tensor)
    assert type(v).__name__ == "Tensor"
    assert v.is_leaf and v.requires_grad
    assert t.requires_grad is False
    with T.no_grad():
        t.add_(1)
    check(v, [2.0, 3.0])
    (v * v).sum().backward()
    check(v.grad, [4.0, 6.0])
    v2 = T.autograd.Variable(t)
    assert isinstance(v2, T.Tensor) and v2.requires_grad is False


def test_data_assignment_is_not_recorded(T):
    w = T.tensor([1., 2.], requires_grad=True)
    w.data = T.tensor([5., 6.])
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    check(w, [5.0, 6.0])
    w.data.mul_(2)                     # allowed on a leaf requiring grad, outside no_grad
    check(w, [10.0, 12.0])
    assert w._version == 0
    (w * w).sum().backward()
    check(w.grad, [20.0, 24.0])


def test_inplace_through_data_is_invisible_to_saved_tensor_checks(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * x
    x.data.mul_(2)                     # .data has its own version counter: no error below
    y.sum().backward()
    check(x.grad, [4.0, 8.0])          # 2x with the new x (torch reads the modified values)
    a = T.tensor([1., 2.], requires_grad=True)
    b = a * 2
    c = b * b
    b.data.add_(1)
    c.sum().backward()
    check(a.grad, [12.0, 20.0])        # 2·2b with b = [3, 5]


def test_requires_grad_on_nonleaf(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert y.requires_grad_() is y
    assert y.requires_grad_(True).is_leaf is False
    with raises(RuntimeError, "you can only change requires_grad flags of leaf variables."):
        y.requires_grad_(False)


# =========================================================================================
# dtypes of gradients
# =========================================================================================

def test_grad_dtype_follows_leaf_with_float64_scalars(T):
    x = T.tensor([1., 2.], requires_grad=True)
    s = T.tensor(3., dtype=T.float64, requires_grad=True)
    out = (x * s).sum()
    assert dtype_name(out) == "float32"
    out.backward()
    check(x.grad, [3.0, 3.0], "float32")
    check(s.grad, 3.0, "float64")
    x = T.tensor([1., 2.], requires_grad=True)
    o = (x + T.tensor(1., dtype=T.float64)) * T.tensor(2., dtype=T.float64)
    assert dtype_name(o) == "float32"
    o.sum().backward()
    check(x.grad, [2.0, 2.0], "float32")


def test_grad_through_dtype_conversion(T):
    x = T.tensor([1., 2.], requires_grad=True)
    (x.double() * 3).sum().backward()
    check(x.grad, [3.0, 3.0], "float32")


# =========================================================================================
# grad_fn introspection
# =========================================================================================

def test_grad_fn_repr_and_next_functions(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert node_name(y.grad_fn) == "MulBackward0"
    (acc, i0), (none, i1) = y.grad_fn.next_functions
    assert node_name(acc) == "AccumulateGrad" and acc.variable is x and i0 == 0
    assert none is None and i1 == 0
    z = (y + x).sum()
    assert node_name(z.grad_fn) == "SumBackward0"
    (add, _), = z.grad_fn.next_functions
    assert node_name(add) == "AddBackward0"
    (mul, _), (acc2, _) = add.next_functions
    assert mul is y.grad_fn
    assert acc2.variable is x
    assert node_name(x.clone().grad_fn) == "CloneBackward0"


def test_grad_fn_name_method():
    x = cr.tensor([1., 2.], requires_grad=True)
    assert (x * 2).grad_fn.name() == "MulBackward0"
    assert (x ** 2).grad_fn.name() == "PowBackward0"
    assert (2 ** x).grad_fn.name() == "PowBackward2"
    assert (3 - x).grad_fn.name() == "RsubBackward1"


# =========================================================================================
# in-place operations on non-leaves
# =========================================================================================

def test_iadd_on_nonleaf_records_history(T):
    x = T.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y += 1
    assert node_name(y.grad_fn) == "AddBackward0"
    assert y._version == 1
    (y * y).sum().backward()
    check(x.grad, [12.0, 20.0])        # 2·(2x + 1)·2


def test_mul_inplace_by_tensor_requiring_grad(T):
    x = T.tensor([1., 2.], requires_grad=True)
    w = T.tensor([3., 5.], requires_grad=True)
    y = x * x
    y.mul_(w)
    assert node_name(y.grad_fn) == "MulBackward0"
    (y * 2).sum().backward()
    check(x.grad, [12.0, 40.0])        # 2·w·2x
    check(w.grad, [2.0, 8.0])          # 2·x²


def test_setitem_on_nonleaf_gives_gradients_to_both(T):
    x = T.tensor([1., 2., 3.], requires_grad=True)
    v = T.tensor(4., requires_grad=True)
    y = x * 2
    y[1] = v * 3
    assert node_name(y.grad_fn) == "CopySlices"
    (y * y).sum().backward()
    check(x.grad, [8.0, 0.0, 24.0])
    check(v.grad, 72.0)


def test_setitem_advanced_index_on_nonleaf(T):
    x = T.tensor([1., 2., 3., 4.], requires_grad=True)
    v = T.tensor([10., 20.], requires_grad=True)
    y = x.clone()
    y[T.tensor([0, 2])] = v
    (y * T.tensor([1., 2., 3., 4.])).sum().backward()
    check(x.grad, [0.0, 2.0, 0.0, 4.0])
    check(v.grad, [1.0, 3.0])


def test_setitem_slice_with_number_on_nonleaf(T):
    x = T.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    y[1:] = 7.
    (y * y).sum().backward()
    check(x.grad, [8.0, 0.0, 0.0])


def test_setitem_on_leaf_requiring_grad_raises(T):
    x = T.tensor([1., 2.], requires_grad=True)
    # torch: "a view of a leaf Variable that requires grad is being used in an in-place operation."
    with raises(RuntimeError, "leaf Variable that requires grad is being used in an in-place "
                "operation"):
        x[0] = 1.


def test_copy_into_nonleaf(T):
    x = T.tensor([1., 2.], requires_grad=True)
    s = T.tensor([5., 7.], requires_grad=True)
    y = x * 3
    y.copy_(s * s)
    assert node_name(y.grad_fn) == "CopyBackwards"
    (y * T.tensor([1., 10.])).sum().backward()
    check(x.grad, [0.0, 0.0])
    check(s.grad, [10.0, 140.0])


def test_copy_broadcasts_and_unbroadcasts(T):
    x = T.tensor([1., 2.], requires_grad=True)
    s = T.tensor(5., requires_grad=True)
    y = x * 3
    y.copy_(s)
    check(y, [5.0, 5.0])
    (y * T.tensor([1., 10.])).sum().backward()
    check(x.grad, [0.0, 0.0])
    check(s.grad, 11.0)


def test_copy_into_plain_tensor_starts_a_graph(T):
    buf = T.zeros(2)
    s = T.tensor([5., 7.], requires_grad=True)
    buf.copy_(s)
    assert buf.requires_grad and not buf.is_leaf
    (buf * buf).sum().backward()
    check(s.grad, [10.0, 14.0])


def test_fill_and_zero_on_nonleaf(T):
    x = T.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    y.fill_(7.)
    assert node_name(y.grad_fn) == "FillBackward2"
    (y * y).sum().backward()
    check(x.grad, [0.0, 0.0, 0.0])

    x = T.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    z = y + x                          # uses y before the zero_
    y.zero_()
    assert node_name(y.grad_fn) == "ZeroBackward0"
    check(y, [0.0, 0.0, 0.0])
    (z + y).sum().backward()
    check(x.grad, [3.0, 3.0, 3.0])


def test_fill_with_tensor_requiring_grad(T):
    x = T.tensor([1., 2., 3.], requires_grad=True)
    f = T.tensor(2., requires_grad=True)
    y = x * 2
    y.fill_(f)
    assert node_name(y.grad_fn) == "FillBackward3"
    (y * T.tensor([1., 2., 3.])).sum().backward()
    check(x.grad, [0.0, 0.0, 0.0])
    check(f.grad, 6.0)


def test_leaf_modified_under_no_grad_stays_a_leaf(T):
    x = T.tensor([1., 2.], requires_grad=True)
    with T.no_grad():
        x[0] = 5.
        x.mul_(2)
        x.copy_(T.tensor([3., 4.]))
        x.fill_(1.)
        x.zero_()
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert x._version == 5
    (x * 3).sum().backward()
    check(x.grad, [3.0, 3.0])


@pytest.mark.xfail(strict=True, raises=RuntimeError, reason="chainrule refuses in-place ops on a "
                   "view of a tensor that requires grad (torch rebases the view's history onto "
                   "its base: a design change, see the report)")
def test_inplace_on_view_of_nonleaf():
    x = cr.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    y[1:].fill_(7.)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 0.0, 0.0])


# =========================================================================================
# deep graphs
# =========================================================================================

def test_chain_of_a_million_ops():
    # no recursion anywhere: a graph 10^6 nodes deep back-propagates (float64, so the only
    # error is the rounding of 10^6 products, ~1e-10 relative).  Python's cyclic GC rescans the
    # millions of live graph objects as they pile up (it more than doubles the time to build
    # the chain); it has nothing to collect here, so it is paused to keep the test fast.
    x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        y = x
        for _ in range(1_000_000):
            y = y * 1.0000001
        y.backward()
    finally:
        if was_enabled:
            gc.enable()
    np.testing.assert_allclose(y.item(), 1.0000001 ** 1_000_000, rtol=1e-8)
    np.testing.assert_allclose(x.grad.item(), 1.0000001 ** 1_000_000, rtol=1e-8)


# =========================================================================================
# custom autograd.Function
# =========================================================================================

def _scale_function(T):
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            ctx.save_for_backward(x)
            return x * k

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return g * ctx.k, None            # None for the non-tensor argument

    return Scale


def test_function_with_a_non_tensor_argument(T):
    Scale = _scale_function(T)
    x = T.tensor([1., 2.], requires_grad=True)
    y = Scale.apply(x, 3.)
    assert node_name(y.grad_fn).endswith("ScaleBackward")
    s = y.sum()
    s.backward()
    check(x.grad, [3.0, 3.0])
    with raises(RuntimeError, "Trying to backward through the graph a second time"):
        s.backward()


def test_function_saved_tensor_modified_in_place(T):
    Scale = _scale_function(T)
    x = T.tensor([1., 2.], requires_grad=True)
    y = Scale.apply(x, 3.)
    with T.no_grad():
        x.mul_(2)
    with raises(RuntimeError, "one of the variables needed for gradient computation has been "
                "modified by an inplace operation: ") as e:
        y.sum().backward()
    assert "FloatTensor [2]] is at version 1; expected version 0 instead." in str(e.value)


def test_function_not_recorded_without_grad(T):
    Scale = _scale_function(T)
    y = Scale.apply(T.tensor([1., 2.]), 3.)
    assert y.requires_grad is False and y.grad_fn is None
    x = T.tensor([1., 2.], requires_grad=True)
    with T.no_grad():
        assert Scale.apply(x, 3.).requires_grad is False


def test_function_returning_too_few_grads(T):
    class Few(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = T.tensor([1., 2.], requires_grad=True)
    w = T.tensor([1., 2.], requires_grad=True)
    with raises(RuntimeError, "function FewBackward returned an incorrect number of gradients "
                "(expected 2, got 1)"):
        Few.apply(x, w).sum().backward()


def test_function_returning_a_gradient_of_the_wrong_shape(T):
    class Bad(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(3)

    x = T.tensor([1., 2.], requires_grad=True)
    with raises(RuntimeError, "Function BadBackward returned an invalid gradient at index 0 - got "
                "[3] but expected shape compatible with [2]"):
        Bad.apply(x).sum().backward()


def test_function_differentiated_twice(T):
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2

    x = T.tensor(2., requires_grad=True)
    g, = T.autograd.grad(Cube.apply(x), x, create_graph=True)
    check(g, 12.0)
    assert g.requires_grad is True
    g2, = T.autograd.grad(g, x)
    check(g2, 12.0)                            # 6x
