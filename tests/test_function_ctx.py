"""autograd.Function's ctx: mark_dirty and set_materialize_grads behave as in PyTorch."""
import numpy as np
import pytest

import chainrule as cr


def _add_one(T):
    class AddOne(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return AddOne


def _run_in_place(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    v0 = b._version
    c = _add_one(T).apply(b)
    same, bumped = c is b, b._version - v0
    history = c.grad_fn.name()
    c.sum().backward()
    return same, bumped, history, a.grad.numpy().tolist(), c.detach().numpy().tolist()


def test_mark_dirty_makes_the_input_itself_the_output():
    same, bumped, history, grad, value = _run_in_place(cr)
    assert same and bumped == 2              # add_ and mark_dirty each bump the version
    assert history.startswith("AddOne")
    assert grad == [2.0, 2.0] and value == [2.0, 3.0]


def test_mark_dirty_matches_torch():
    torch = pytest.importorskip("torch")
    got, expected = _run_in_place(cr), _run_in_place(torch)
    assert got[:2] == expected[:2] and got[3:] == expected[3:]


def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in "
                                           "an in-place operation"):
        _add_one(cr).apply(a)


def test_mark_dirty_catches_a_saved_old_value():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    s = b.sin()                               # saves b's values
    _add_one(cr).apply(b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_mark_dirty_of_a_tensor_that_is_not_an_input_warns():
    class NotInput(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.clone()
            ctx.mark_dirty(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.warns(UserWarning, match="received a tensor that was not an input"):
        NotInput.apply(cr.ones(2, requires_grad=True) * 1)


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads_leaves_a_one_output_function_unchanged(materialize):
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = cr.tensor([1.0, 3.0], requires_grad=True)
    Square.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 6.0])
