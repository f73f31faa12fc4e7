"""chainrule.utils.checkpoint: checkpointed gradients equal plain ones (bit for bit), memory
drops, and PyTorch's checkpoint gives the same gradients when torch is installed."""
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.checkpoint import _Dropped, checkpoint, checkpoint_sequential


def _mlp(depth, width, seed=0):
    cr.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [cr.nn.Linear(width, width), cr.nn.ReLU()]
    return cr.nn.Sequential(*layers).double()


def _grads(model, x, run):
    model.zero_grad()
    x.grad = None
    loss = (run(x) ** 2).mean()
    loss.backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert np.array_equal(u, v)


def test_checkpointed_gradients_equal_plain_ones():
    model = _mlp(8, 6)
    x = cr.randn(5, 6, dtype=cr.float64, requires_grad=True)
    plain = _grads(model, x, model)
    _same(plain, _grads(model, x, lambda x: checkpoint_sequential(model, 4, x)))
    _same(plain, _grads(model, x, lambda x: checkpoint(model, x)))

    def per_layer(x):
        for layer in model:
            x = checkpoint(layer, x, use_reentrant=False)
        return x
    _same(plain, _grads(model, x, per_layer))


def test_activations_are_dropped_until_the_backward_pass():
    model = _mlp(3, 4)
    x = cr.randn(2, 4, dtype=cr.float64, requires_grad=True)
    out = checkpoint(model, x)
    # no node holds an activation: only x, the parameters, and what will be recomputed
    params = {id(p) for p in model.parameters()} | {id(x)}
    nodes, stack = [], [out.grad_fn]
    while stack:
        n = stack.pop()
        nodes.append(n)
        stack.extend(e for e in n.next if type(e) is type(out.grad_fn))
    held = [v for n in nodes for v in n.inputs if isinstance(v, cr.Tensor) and id(v) not in params]
    assert held == []
    assert any(isinstance(v, _Dropped) for n in nodes for v in n.inputs)
    out.sum().backward(retain_graph=True)
    g = x.grad.numpy().copy()
    out.sum().backward()                        # a second pass over the recomputed graph
    np.testing.assert_array_equal(x.grad.numpy(), 2 * g)


def test_autograd_grad_and_double_backward_through_a_checkpoint():
    w = cr.randn(4, 4, dtype=cr.float64, requires_grad=True)
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)

    def f(x):
        return ((x @ w).tanh() @ w).sin()

    def penalty(run):
        g, = cr.autograd.grad(run(x).pow(2).sum(), x, create_graph=True)
        return cr.autograd.grad(g.pow(2).sum(), (w, x))
    _same([t.detach().numpy() for t in penalty(f)],
          [t.detach().numpy() for t in penalty(lambda x: checkpoint(f, x))])


def test_closed_over_tensors_kwargs_tuples_and_random_masks():
    w = cr.randn(4, dtype=cr.float64, requires_grad=True)
    scale = w * 2                       # a non-leaf the function closes over
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)

    def f(x, *, shift):
        h = cr.nn.functional.dropout(x * scale + shift, 0.5, training=True)
        return h.exp(), (h * h).sum()

    def run(fn, seed):
        cr.manual_seed(seed)
        w.grad = x.grad = None
        a, b = fn(x, shift=1.0)
        (a.sum() + b).backward(retain_graph=True)
        return [w.grad.numpy().copy(), x.grad.numpy().copy()]
    _same(run(f, 3), run(lambda x, shift: checkpoint(f, x, shift=shift), 3))


def test_an_input_changed_in_place_after_the_forward_is_refused():
    x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    y = x * 1.0
    out = checkpoint(lambda y: (y.exp() * y).sum(), y)
    with cr.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_without_grad_the_function_just_runs():
    with cr.no_grad():
        out = checkpoint(lambda v: v * 2, cr.ones(2, requires_grad=True))
    assert not out.requires_grad
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(_mlp(1, 2), 5, cr.ones(1, 2))


def _peak(model, x, run):
    model.zero_grad()
    tracemalloc.start()
    (run(x) ** 2).mean().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_peak_memory_drops():
    # activations dominate (a wide batch, narrow layers): the saving shows at this small size
    model = _mlp(16, 8)
    x = cr.randn(2048, 8, dtype=cr.float64, requires_grad=True)
    plain = _peak(model, x, model)
    checkpointed = _peak(model, x, lambda x: checkpoint_sequential(model, 4, x))
    # the plain graph keeps one activation per layer (each ReLU's output, which the next Linear
    # reads too); checkpointed, the 4 segment boundaries and one segment's activations at a time
    assert checkpointed * 1.5 < plain


def test_gradients_match_torch_checkpoint():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint_sequential as torch_sequential
    model = _mlp(6, 5)
    layers = []
    for m in model:
        if isinstance(m, cr.nn.Linear):
            t = torch.nn.Linear(5, 5).double()
            with torch.no_grad():
                t.weight.copy_(torch.tensor(m.weight.detach().numpy()))
                t.bias.copy_(torch.tensor(m.bias.detach().numpy()))
            layers.append(t)
        else:
            layers.append(torch.nn.ReLU())
    tmodel = torch.nn.Sequential(*layers)
    xs = np.random.default_rng(0).normal(size=(4, 5))
    x = cr.tensor(xs, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)
    ours = _grads(model, x, lambda v: checkpoint_sequential(model, 3, v, use_reentrant=False))
    (torch_sequential(tmodel, 3, tx, use_reentrant=False) ** 2).mean().backward()
    theirs = [p.grad.numpy() for p in tmodel.parameters()] + [tx.grad.numpy()]
    for u, v in zip(ours, theirs):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


def test_checkpoint_composes_with_vmap_and_grad():
    from chainrule.func import grad, vmap
    w = cr.randn(3, 3, dtype=cr.float64)
    xs = cr.randn(4, 3, dtype=cr.float64)

    def f(w, x):
        return ((x @ w).tanh() @ w).sum()
    plain = vmap(grad(f), in_dims=(None, 0))(w, xs)
    inside = vmap(grad(lambda w, x: checkpoint(f, w, x)), in_dims=(None, 0))(w, xs)
    around = grad(lambda w: checkpoint(lambda w: vmap(f, in_dims=(None, 0))(w, xs).sum(), w))(w)
    np.testing.assert_array_equal(inside.numpy(), plain.numpy())
    np.testing.assert_allclose(around.numpy(), plain.numpy().sum(0), rtol=1e-12)
