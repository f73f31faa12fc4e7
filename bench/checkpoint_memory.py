"""Peak memory of a 64-layer MLP's training step, with and without activation checkpointing.

The same forward and backward pass runs twice: plainly, and as
``checkpoint_sequential(model, 8, x)`` (8 segments of 8 layers: only the segment boundaries are
kept, each segment's activations are recomputed when the gradient reaches it).  Peak memory is
what tracemalloc sees NumPy allocate during the step (the model and data exist before), and the
gradients of every parameter and of the input must be identical bit for bit.

The function-transforms issue asked for a drop of at least 4x, measured against a graph that kept
every input of every op (32.8 MiB plain, 6.6 checkpointed: 5.0x).  Since the graph keeps only
what its rules read, the plain step holds half as much (16.8 MiB: one activation per layer, the
ReLU output that the next Linear reads too), and 8 segments cannot go below the 8 boundaries plus
one segment's 8 activations: 5.6 MiB, 3.0x.  The bar is 2.5x against today's plain graph (the
checkpointed step itself holds less than it did).

    PYTHONPATH=src python bench/checkpoint_memory.py      # exit status 1 below 2.5x
"""
import os
import sys
import time
import tracemalloc

import numpy as np

# run as a script, bench/ is first on sys.path and bench/profile.py would shadow the standard
# library's profile module (which torch imports)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(
    os.path.abspath(__file__))]

DEPTH, WIDTH, BATCH, SEGMENTS, REQUIRED = 64, 64, 1024, 8, 2.5


def step(model, x, run):
    """One forward and backward pass: (peak bytes, seconds, gradients)."""
    model.zero_grad()
    x.grad = None
    tracemalloc.start()
    t = time.perf_counter()
    loss = (run(x) ** 2).mean()
    loss.backward()
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    grads = [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]
    return peak, seconds, grads


def main():
    import chainrule as cr
    from chainrule.utils.checkpoint import checkpoint_sequential
    cr.manual_seed(0)
    layers = []
    for _ in range(DEPTH):
        layers += [cr.nn.Linear(WIDTH, WIDTH), cr.nn.ReLU()]
    model = cr.nn.Sequential(*layers)
    x = cr.randn(BATCH, WIDTH, requires_grad=True)
    plain, t_plain, g_plain = step(model, x, model)
    ckpt, t_ckpt, g_ckpt = step(model, x, lambda v: checkpoint_sequential(
        model, SEGMENTS, v, use_reentrant=False))
    same = all(np.array_equal(a, b) for a, b in zip(g_plain, g_ckpt))
    ratio = plain / ckpt
    print(f"{DEPTH}-layer MLP (Linear({WIDTH}, {WIDTH}) + ReLU), batch {BATCH}, float32; "
          f"one forward + backward")
    print(f"plain        peak {plain / 2**20:7.1f} MiB   {t_plain * 1e3:7.1f} ms")
    print(f"checkpointed peak {ckpt / 2**20:7.1f} MiB   {t_ckpt * 1e3:7.1f} ms   "
          f"({SEGMENTS} segments)")
    print(f"gradients identical: {same}")
    ok = same and ratio >= REQUIRED
    print(f"{'PASS' if ok else 'FAIL'}: peak memory drops {ratio:.1f}x "
          f"(required: at least {REQUIRED:g}x, gradients unchanged)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
