"""W7 graph memory, the two chains of issue #11: 20 steps of ``y ← y + 1.0`` (``op="add"``) or of
``y ← tanh(0.5·y)`` (``op="tanh"``) from a 4 MiB float32 tensor y₀ that requires grad, then
∂sum(y)/∂y₀.

What is measured is the memory held between the forward pass and ``backward()``: the output y
(which the caller still holds, as a user's variable does) and whatever the graph keeps for the
backward.  The add chain's rules read nothing, so an engine needs only y: one 4 MiB array.  The
tanh chain's rules read tanh's output (the scalar product reads nothing), so an engine needs
the 20 outputs.  NumPy by hand keeps exactly that.
"""
import numpy as np

from bench import Program

TRAINS = False
RTOL = 1e-5          # float32
N, STEPS = 2 ** 20, 20          # 2²⁰ float32 values: 4 MiB


def data(op):
    rng = np.random.default_rng(0)
    return {"y0": rng.uniform(-1, 1, N).astype(np.float32)}


def numpy_(d, op):
    y0 = d["y0"]

    def forward():
        y, outs = y0, []                   # outs: what the backward reads
        for _ in range(STEPS):
            if op == "add":
                y = y + 1.0
            else:
                y = np.tanh(y * 0.5)
                outs.append(y)

        def finish():
            y.sum()                         # the loss, as the engines compute it
            g = np.ones_like(y0)
            for out in reversed(outs):      # tanh' = 1 − out², times the 0.5
                g = g * (1 - out * out) * 0.5
            return {"y0": g}
        return finish

    return Program(lambda: forward()(), lambda: forward()(), forward=forward)


def torchlike(lib, d, op):
    """chainrule's and PyTorch's version: the same code."""
    y0 = lib.tensor(d["y0"], requires_grad=True)

    def forward():
        y = y0
        for _ in range(STEPS):
            y = y + 1.0 if op == "add" else (y * 0.5).tanh()

        def finish():
            y.sum().backward()
            g = y0.grad.numpy().copy()
            y0.grad = None
            return {"y0": g}
        return finish

    return Program(lambda: forward()(), lambda: forward()(), forward=forward)


def chainrule_(d, op):
    import chainrule
    return torchlike(chainrule, d, op)


def torch_(d, op):
    import torch
    return torchlike(torch, d, op)


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_}
