"""W4c: W4's chain of n steps y ← y·1.0001 + 0.0001 in ``chainrule.compile`` (issue #14).

The chain is one compiled function (2n ops written out as straight-line code, recorded and
compiled once: about 2 s for n = 10,000); backward() runs its generated backward.  NumPy by hand
and PyTorch are W4's own versions.
"""
from bench import Program
from bench import w4_chain as W4

TRAINS = False
RTOL = W4.RTOL
A, B = W4.A, W4.B
data = W4.data


def chainrule_(d, n):
    import chainrule as lib
    y0 = lib.tensor(d["y0"], dtype=lib.float64, requires_grad=True)

    @lib.compile
    def chain(y):
        for _ in range(n):
            y = y * A + B
        return y

    def step():
        chain(y0).backward()
        y0.grad = None

    def grads():
        chain(y0).backward()
        g = y0.grad.numpy().copy()
        y0.grad = None
        return {"y0": g}

    return Program(step, grads)


BUILDERS = {"chainrule": chainrule_, "numpy": W4.BUILDERS["numpy"], "torch": W4.BUILDERS["torch"]}
