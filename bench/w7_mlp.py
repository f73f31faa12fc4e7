"""W7 graph memory of an MLP training step: W2's and W3's MLP (``bench/_mlp.py``) at
784→1024→1024→10, ReLU, batch 1024, float32, mean cross-entropy.

Each hidden activation is 4 MiB, so what the graph holds between the forward pass and
``backward()`` is tens of MiB, far above the interpreter's own allocations.  PyTorch keeps each
ReLU's output (which the next product reads too); the product and the bias sum before it are
read by no rule.
"""
from bench import _mlp

CONFIG = _mlp.Config(sizes=(784, 1024, 1024, 10), act="relu", batch=1024, dtype="float32")
TRAINS = True
RTOL = 1e-4          # float32; BLAS libraries sum in different orders


def data():
    return _mlp.data(CONFIG)


# HIPS autograd has no separate forward pass to measure after
BUILDERS = {k: v for k, v in _mlp.builders(CONFIG).items() if k != "autograd"}
