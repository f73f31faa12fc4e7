"""The graph keeps only what its rules read (issue #11): measured with tracemalloc, which sees
every array NumPy allocates, against the byte size of what a backward pass must have.

20 steps of ``y = y + 1.0`` on a 4 MiB tensor need nothing but the output y (an addition's
rule reads no input); 20 steps of ``y = tanh(0.5·y)`` need the 20 tanh outputs (tanh's rule reads
its output, a product with a number reads nothing).  Each test allows two spare arrays, so it
depends on no allocator, machine or timing.  Max pooling keeps, as PyTorch does, one int64 an
output for the winners' positions.  The benchmark's W7 rows measure the same chains,
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


def test_max_pooling_keeps_one_int64_an_output():
    x = cr.randn(64, 16, 32, 32, requires_grad=True)         # 4 MiB of float32
    tracemalloc.start()
    try:
        out = cr.nn.functional.max_pool2d(x, 2)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    out.sum().backward()
    assert x.grad.shape == x.shape
    need = out.numel() * (4 + 8)        # the output and one int64 position each, as torch
    assert held <= need + 2 ** 16, \
        f"max_pool2d holds {held / 2 ** 20:.2f} MiB; its output and one int64 index an output " \
        f"are {need / 2 ** 20:.2f} MiB"
