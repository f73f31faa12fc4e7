"""The reverse pass adds gradients in place only into arrays it allocated itself: many slices
of one tensor (x[t] for every t) cost their own size, and nothing the user or another node
holds is ever written to."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck


def _slices_everywhere(x):
    y = x * 2                                        # a non-leaf, sliced below
    s = y.sum()
    for t in range(x.shape[0]):
        s = s + (y[t] * (t + 1)).sum() + x[t, ::2].sum()
    return s + x[[0, 0, 1]].sum() + x[1:3].sum() + y[x[:, 0] > 0].sum()


def test_many_slices_of_leaves_and_non_leaves_give_central_differences():
    x = cr.randn(5, 4, dtype=cr.float64, requires_grad=True)
    assert gradcheck(_slices_everywhere, (x,))


def test_slices_match_the_dense_sum():
    x = cr.randn(6, 3, dtype=cr.float64, requires_grad=True)
    _slices_everywhere(x).backward()
    xs = x.detach().numpy()
    expected = 2 + np.arange(1, 7)[:, None] * 2.0 * np.ones((6, 3))      # y.sum, y[t]*(t+1)
    expected[:, ::2] += 1                                                 # x[t, ::2]
    expected[0] += 2                                                      # x[[0, 0, 1]]
    expected[1] += 1
    expected[1:3] += 1                                                    # x[1:3]
    expected[xs[:, 0] > 0] += 2                                           # y[mask]
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_a_gradient_the_user_passes_is_never_written_to():
    x = cr.randn(4, 3, requires_grad=True)
    y = x * 1.0
    out = y[0] + y[1] + y[0]                         # y's gradient gathers three slices
    g = cr.ones(3)
    before = g.numpy().copy()
    out.backward(g)
    np.testing.assert_array_equal(g.numpy(), before)
    np.testing.assert_array_equal(x.grad.numpy()[0], [2, 2, 2])


def test_a_leaf_grad_shared_by_two_paths_is_not_aliased():
    a = cr.randn(3, requires_grad=True)
    b = cr.randn(3, requires_grad=True)
    s = a + b                                        # add's rule hands both the same g
    (s[0] + s[1] + a[2] + s.sum()).backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_array_equal(a.grad.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(b.grad.numpy(), [2, 2, 1])


@pytest.mark.parametrize("retain", [False, True])
def test_accumulating_twice_into_grad_is_unaffected(retain):
    x = cr.randn(5, requires_grad=True)
    for _ in range(2):
        (x[0] + x[0] + x[1:].sum()).backward(retain_graph=retain)
    np.testing.assert_array_equal(x.grad.numpy(), [4, 2, 2, 2, 2])
