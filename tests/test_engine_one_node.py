"""The engine's short path for a graph of one node whose edges all go to leaves (a compiled
call's node, or one eager op on leaves): what ``backward()`` does there must be what the
general pass does: hooks on leaves, ``retain_graph``, the second-backward error, a leaf used
twice, gradients summed back to a leaf's shape or cast to its dtype, accumulation into
``.grad``.

The references are the same function run eagerly as several nodes (the general pass), and
values worked out by hand.
"""
import warnings

import numpy as np
import pytest

import chainrule as cr


def _compiled(fn, *args):
    """``fn`` compiled, called twice (record, then replay): the replay's output, whose
    ``grad_fn`` is the one compiled node."""
    c = cr.compile(fn)
    c(*args)
    out = c(*args)
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    return out


def _leaves(*values, dtype=cr.float32):
    return [cr.tensor(v, dtype=dtype, requires_grad=True) for v in values]


def test_leaf_hooks_see_the_total_and_may_replace_it():
    def f(a, b):
        return (a * b + a * a).sum()

    seen = {}
    for mode in ("eager", "compiled"):
        a, b = _leaves([1.0, 2.0], [3.0, -1.0])
        seen[mode] = []
        a.register_hook(lambda g, s=seen[mode]: s.append(g.numpy().copy()))
        b.register_hook(lambda g: g * 2)
        if mode == "eager":
            out = f(a, b)
        else:
            out = _compiled(f, a, b)
            a.grad = b.grad = None          # the recording call ran no backward: nothing here
        out.backward()
        # d/da = b + 2a = [5, 3]; d/db = a = [1, 2], doubled by the hook
        np.testing.assert_array_equal(a.grad.numpy(), [5.0, 3.0])
        np.testing.assert_array_equal(b.grad.numpy(), [2.0, 4.0])
    assert len(seen["eager"]) == len(seen["compiled"]) == 1
    np.testing.assert_array_equal(seen["compiled"][0], seen["eager"][0])


def test_retain_graph_then_second_backward_error():
    a, b = _leaves([1.0, 2.0], [3.0, 4.0])
    out = _compiled(lambda a, b: (a * b).sum(), a, b)
    out.backward(retain_graph=True)
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [9.0, 12.0])     # 3 × b
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [9.0, 12.0])     # nothing added


def test_second_backward_error_on_one_eager_node():
    a, b = _leaves([1.0, 2.0], [3.0, 4.0])
    out = a * b                             # one node, both edges to leaves
    g = cr.ones(2)
    out.backward(g)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward(g)
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_a_leaf_used_twice_gets_the_sum():
    x, = _leaves([1.5, -2.0])
    out = _compiled(lambda p, q: (p * q).sum(), x, x)   # both arguments are x
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -4.0])     # 2x
    out2 = x * x                                        # eager: one node, two edges to x
    x.grad = None
    out2.backward(cr.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -4.0])


def test_gradients_in_each_leafs_dtype_and_shape():
    a = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float32, requires_grad=True)
    b = cr.tensor([0.5], dtype=cr.float64, requires_grad=True)       # broadcast, other dtype
    out = _compiled(lambda a, b: (a * b).sum(), a, b)
    out.backward()
    assert a.grad.dtype == cr.float32 and b.grad.dtype == cr.float64
    assert tuple(b.grad.shape) == (1,)
    np.testing.assert_array_equal(a.grad.numpy(), np.float32([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(b.grad.numpy(), [6.0])
    # one eager node: un-broadcasting to b's shape and a cast to its dtype in the delivery
    a.grad = b.grad = None
    y = a * b
    y.backward(cr.ones(3, dtype=cr.float64))
    assert a.grad.dtype == cr.float32 and b.grad.dtype == cr.float64
    np.testing.assert_array_equal(a.grad.numpy(), np.float32([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(b.grad.numpy(), [6.0])


def test_accumulates_into_existing_grad_and_never_keeps_the_callers_array():
    w, = _leaves([1.0, 2.0])
    g = cr.tensor([1.0, 1.0])
    (w + 1.0).backward(g)          # add's rule returns g itself: .grad must be a copy
    g.data[0] = 7.0
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])
    grad_before = w.grad
    (w * 3.0).backward(cr.tensor([1.0, 2.0]))
    assert w.grad is grad_before                        # added into the same tensor
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 7.0])


def test_a_hook_on_the_compiled_output_still_runs():
    a, = _leaves([1.0, 2.0])
    out = _compiled(lambda a: (a * a).sum(), a)
    out.register_hook(lambda g: g * 10)
    out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [20.0, 40.0])


def test_grad_mode_and_fp_state_are_restored_after_an_error():
    a, = _leaves([1.0, 2.0])
    out = _compiled(lambda a: (a * a).sum(), a)

    def boom(g):
        raise ValueError("from the hook")
    a.register_hook(boom)
    with pytest.raises(ValueError, match="from the hook"):
        out.backward()
    assert cr.is_grad_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning):             # NumPy's own warnings are back on
            np.log(np.float64(-1.0))
