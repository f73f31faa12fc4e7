"""W5c: W5's elementwise function with ``chainrule.compile`` (issue #14).

sum(sin(x)·exp(−x²) + log1p(x²)) on 10⁶ float32 values, forward and backward; NumPy by hand and
PyTorch are W5's own versions.  Compiled with ``mode="reduce-overhead"``: the generated backward
keeps its three scratch arrays between calls (12 MB held) instead of allocating them anew on
each, which on 4 MB arrays costs page faults each time glibc gives freed memory back.
"""
from bench import Program
from bench import w5_elementwise as W5

TRAINS = False
RTOL = W5.RTOL
data = W5.data


def chainrule_(d):
    import chainrule as lib
    x = lib.tensor(d["x"], requires_grad=True)

    @lib.compile(mode="reduce-overhead")
    def f(x):
        return (lib.sin(x) * lib.exp(-x ** 2) + lib.log1p(x ** 2)).sum()

    def step():
        f(x).backward()
        x.grad = None

    def grads():
        f(x).backward()
        g = x.grad.numpy().copy()
        x.grad = None
        return {"x": g}

    return Program(step, grads)


BUILDERS = {"chainrule": chainrule_, "numpy": W5.BUILDERS["numpy"], "torch": W5.BUILDERS["torch"]}
