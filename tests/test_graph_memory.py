"""The graph keeps only what its rules read (issue #11): measured with tracemalloc, which sees
every array NumPy allocates, against the byte size of what a backward pass must have.

20 steps of ``y = y + 1.0`` on a 4 MiB tensor need nothing but the output y (an addition's
rule reads no input); 20 steps of ``y = tanh(0.5·y)`` need the 20 tanh outputs (tanh's rule reads
its output, a product with a number reads nothing).  Each test allows two spare arrays, so it
depends on no allocator, machine or timing.  The benchmark's W7 rows measure the same chains,
and an MLP and a CNN, against PyTorch (docs/performance.md).
"""
import tracemalloc

import numpy as np
import chainrule as cr

N = 2 ** 20                     # float32 values: 4 MiB
ARRAY = 4 * N
STEPS = 20


def held_before_backward(step):
    """Bytes allocated by 20 steps of ``step`` and still alive just before ``backward()``."""
    y0 = cr.tensor(np.linspace(-1, 1, N, dtype=np.float32), requires_grad=True)
    tracemalloc.start()
    try:
        y = y0
        for _ in range(STEPS):
            y = step(y)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    y.sum().backward()
    assert y0.grad.shape == (N,)
    return held


def test_an_addition_chain_holds_only_its_output():
    held = held_before_backward(lambda y: y + 1.0)
    assert held <= 2 * ARRAY, \
        f"20 additions hold {held / ARRAY:.1f} arrays of 4 MiB; their rules need none but y"


def test_a_tanh_chain_holds_only_the_tanh_outputs():
    held = held_before_backward(lambda y: (y * 0.5).tanh())
    assert held <= (STEPS + 2) * ARRAY, \
        f"20 steps of tanh(0.5·y) hold {held / ARRAY:.1f} arrays of 4 MiB; their rules need 20"
