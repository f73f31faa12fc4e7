"""W5c: W5's elementwise function with ``chainrule.compile`` (issue #14).

sum(sin(x)·exp(−x²) + log1p(x²)) on 10⁶ float32 values, forward and backward; NumPy by hand and
PyTorch are W5's own versions.  The whole step (forward and ``backward()``) is compiled, with
``mode="reduce-overhead"``: the generated backward keeps its scratch arrays between calls (two
of x's size, 8 MB held) instead of allocating them anew on each, which on 4 MB arrays costs page
faults each time glibc gives freed memory back; and its seed is known to be ones, so the
rules' products with it are the other factor itself.
"""
from bench import Program
from bench import w5_elementwise as W5

TRAINS = False
RTOL = W5.RTOL
data = W5.data


def chainrule_(d):
    import chainrule as lib
    x = lib.tensor(d["x"], requires_grad=True)

    @lib.compile(mode="reduce-overhead", fullgraph=True)
    def f(x):           # the whole step: forward and backward()
        (lib.sin(x) * lib.exp(-x ** 2) + lib.log1p(x ** 2)).sum().backward()

    def step():
        f(x)
        x.grad = None

    def grads():
        f(x)
        g = x.grad.numpy().copy()
        x.grad = None
        return {"x": g}

    return Program(step, grads)


BUILDERS = {"chainrule": chainrule_, "numpy": W5.BUILDERS["numpy"], "torch": W5.BUILDERS["torch"]}
