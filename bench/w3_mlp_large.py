"""W3: MLP 784→512→512→10, ReLU, batch 256, float32, mean cross-entropy, one SGD step.

MNIST-sized: the matrix products dominate, so every engine should approach NumPy by hand.
"""
from bench import _mlp

CONFIG = _mlp.Config(sizes=(784, 512, 512, 10), act="relu", batch=256, dtype="float32")
TRAINS = True
RTOL = 1e-4          # float32; BLAS libraries sum in different orders


def data():
    return _mlp.data(CONFIG)


BUILDERS = _mlp.builders(CONFIG)
