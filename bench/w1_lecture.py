"""W1: the lecture's training loop, one weight, float32: forward, backward and update per sample.

A step is one sample of the lecture's loop (examples/lecture_linear.py): ŷ = x·w,
loss = (ŷ − y)·(ŷ − y), backward, w ← w − 0.01·∂loss/∂w, zero the gradient.  It measures the
fixed cost of recording and back-propagating a handful of tiny ops.
"""
import numpy as np

from bench import Program

TRAINS = True
RTOL = 1e-5          # float32 (micrograd computes in Python floats)
LR = 0.01


def data():
    return {"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0], "w": 1.0}


def _cycle(d):
    """The lecture's samples, one per call, round and round."""
    samples = list(zip(d["x"], d["y"]))
    state = [0]

    def next_sample():
        i = state[0]
        state[0] = (i + 1) % len(samples)
        return samples[i]
    return next_sample


def numpy_(d):
    w = np.array([d["w"]], dtype=np.float32)
    next_sample = _cycle(d)
    x0, y0 = d["x"][0], d["y"][0]

    def step():
        nonlocal w
        x, y = next_sample()
        y_pred = x * w
        loss = (y_pred - y) * (y_pred - y)      # computed, as every engine does
        grad = 2.0 * x * (y_pred - y)           # ∂loss/∂w, by hand
        w = w - LR * grad
        return loss

    def grads():
        return {"w": 2.0 * x0 * (x0 * w - y0)}

    return Program(step, grads, lambda: {"w": w.copy()})


def torchlike(lib, d):
    """The lecture's code, unchanged, for chainrule and for PyTorch (``lib``)."""
    w = lib.tensor([d["w"]], requires_grad=True)
    next_sample = _cycle(d)

    def loss(x, y):
        y_pred = x * w
        return (y_pred - y) * (y_pred - y)

    def step():
        x, y = next_sample()
        l = loss(x, y)
        l.backward()
        w.data = w.data - LR * w.grad.data
        w.grad.data.zero_()

    def grads():
        loss(d["x"][0], d["y"][0]).backward()
        g = w.grad.numpy().copy()
        w.grad = None
        return {"w": g}

    return Program(step, grads, lambda: {"w": w.detach().numpy().copy()})


def chainrule_(d):
    import chainrule
    return torchlike(chainrule, d)


def torch_(d):
    import torch
    return torchlike(torch, d)


def autograd_(d):
    import autograd.numpy as anp
    from autograd import grad
    w = np.array([d["w"]], dtype=np.float32)
    next_sample = _cycle(d)

    def loss(w, x, y):
        y_pred = x * w
        return anp.sum((y_pred - y) * (y_pred - y))

    dloss = grad(loss)

    def step():
        nonlocal w
        x, y = next_sample()
        w = w - LR * dloss(w, x, y)

    def grads():
        return {"w": dloss(w, d["x"][0], d["y"][0])}

    return Program(step, grads, lambda: {"w": w})


def micrograd_(d):
    from micrograd.engine import Value
    w = Value(d["w"])
    next_sample = _cycle(d)

    def loss(x, y):
        y_pred = w * x
        return (y_pred - y) * (y_pred - y)

    def step():
        x, y = next_sample()
        l = loss(x, y)
        w.grad = 0
        l.backward()
        w.data -= LR * w.grad

    def grads():
        w.grad = 0
        loss(d["x"][0], d["y"][0]).backward()
        return {"w": [w.grad]}

    return Program(step, grads, lambda: {"w": [w.data]})


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_, "autograd": autograd_,
            "micrograd": micrograd_}
