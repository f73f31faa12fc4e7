"""W5: s = sum(sin(x)·exp(−x²) + log1p(x²)) over 10⁶ float32 values, then ∂s/∂x.

Few ops on large arrays: it measures the temporaries an engine makes, not its per-op overhead.
By hand: ∂s/∂x = e^(−x²)·(cos x − 2x·sin x) + 2x/(1 + x²).
"""
import numpy as np

from bench import Program

TRAINS = False
RTOL = 1e-5          # float32
N = 1_000_000


def data():
    return {"x": np.random.default_rng(0).standard_normal(N).astype(np.float32)}


def numpy_(d):
    x = d["x"]

    def step():
        x2 = x * x
        e = np.exp(-x2)
        s = np.sin(x)
        total = (s * e + np.log1p(x2)).sum()
        grad = e * (np.cos(x) - 2 * x * s) + 2 * x / (1 + x2)
        return total, grad

    return Program(step, lambda: {"x": step()[1]})


def torchlike(lib, d):
    """chainrule's and PyTorch's version: the same code."""
    x = lib.tensor(d["x"], requires_grad=True)

    def step():
        s = (lib.sin(x) * lib.exp(-x ** 2) + lib.log1p(x ** 2)).sum()
        s.backward()
        x.grad = None

    def grads():
        (lib.sin(x) * lib.exp(-x ** 2) + lib.log1p(x ** 2)).sum().backward()
        g = x.grad.numpy().copy()
        x.grad = None
        return {"x": g}

    return Program(step, grads)


def chainrule_(d):
    import chainrule
    return torchlike(chainrule, d)


def torch_(d):
    import torch
    return torchlike(torch, d)


def autograd_(d):
    import autograd.numpy as anp
    from autograd import grad

    def f(x):
        return anp.sum(anp.sin(x) * anp.exp(-x ** 2) + anp.log1p(x ** 2))

    df = grad(f)
    return Program(lambda: df(d["x"]), lambda: {"x": df(d["x"])})


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_, "autograd": autograd_}
