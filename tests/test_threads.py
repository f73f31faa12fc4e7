"""Backward from several threads on separate graphs that share leaves adds up exactly (torch
serialises accumulation into a leaf the same way); grad mode stays per thread."""
import threading

import numpy as np

import chainrule as cr


def _in_threads(fn, n=4):
    errors = []

    def run():
        try:
            fn()
        except BaseException as e:          # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_sharing_a_leaf_lose_no_gradient():
    x = cr.ones(200_000, requires_grad=True)

    def f():
        for _ in range(300):
            (x * 1.0).sum().backward()
    _in_threads(f)
    np.testing.assert_array_equal(x.grad.numpy()[[0, -1]], [1200.0, 1200.0])


def test_threads_sharing_a_layer_add_up_to_the_single_thread_gradient():
    cr.manual_seed(0)
    layer = cr.nn.Linear(512, 512).double()
    inputs = [cr.randn(8, 512, dtype=cr.float64) for _ in range(4)]
    for x in inputs:                       # the reference: one thread, every input 25 times
        for _ in range(25):
            layer(x).square().sum().backward()
    expected = layer.weight.grad.numpy().copy(), layer.bias.grad.numpy().copy()
    layer.zero_grad()

    def f(x):
        def run():
            for _ in range(25):
                layer(x).square().sum().backward()
        return run
    threads = [threading.Thread(target=f(x)) for x in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected[0], rtol=1e-9)   # addition order differs
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected[1], rtol=1e-9)


def test_grad_mode_is_per_thread():
    seen = []

    def worker():
        x = cr.ones(2, requires_grad=True)
        seen.append((x * 2).requires_grad)
    with cr.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]
