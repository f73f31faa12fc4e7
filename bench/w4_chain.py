"""W4: a chain of n steps y ← y·1.0001 + 0.0001 from a float64 scalar y₀, then ∂y/∂y₀.

A step is the whole chain: n·2 recorded ops forward, then the backward through all of them.  It
measures per-node cost on a long graph, and (at two sizes) that the cost grows linearly.  The
gradient is 1.0001ⁿ.  micrograd's recursive topological sort stops with a RecursionError.
"""
import numpy as np

from bench import Program

TRAINS = False
RTOL = 1e-9
A, B = 1.0001, 0.0001


def data(n):
    return {"y0": 1.0}


def numpy_(d, n):
    y0 = np.array(d["y0"])

    def step():
        y = y0
        for _ in range(n):
            y = y * A + B
        g = np.array(1.0)                   # ∂y/∂y₀ by hand: each step multiplies by A
        for _ in range(n):
            g = g * A
        return y, g

    return Program(step, lambda: {"y0": step()[1]})


def torchlike(lib, d, n):
    """chainrule's and PyTorch's version: the same code."""
    y0 = lib.tensor(d["y0"], dtype=lib.float64, requires_grad=True)

    def step():
        y = y0
        for _ in range(n):
            y = y * A + B
        y.backward()
        y0.grad = None

    def grads():
        y = y0
        for _ in range(n):
            y = y * A + B
        y.backward()
        g = y0.grad.numpy().copy()
        y0.grad = None
        return {"y0": g}

    return Program(step, grads)


def chainrule_(d, n):
    import chainrule
    return torchlike(chainrule, d, n)


def torch_(d, n):
    import torch
    return torchlike(torch, d, n)


def autograd_(d, n):
    from autograd import grad

    def f(y):
        for _ in range(n):
            y = y * A + B
        return y

    df = grad(f)
    return Program(lambda: df(d["y0"]), lambda: {"y0": df(d["y0"])})


def micrograd_(d, n):
    from micrograd.engine import Value
    y0 = Value(d["y0"])

    def grads():
        y = y0
        for _ in range(n):
            y = y * A + B
        y0.grad = 0
        y.backward()
        return {"y0": y0.grad}

    return Program(grads, grads)


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_, "autograd": autograd_,
            "micrograd": micrograd_}
