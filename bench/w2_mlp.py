"""W2: MLP 64→32→10, tanh, batch 64, float64, mean cross-entropy, one SGD step.

Small matrices: the engine's per-op cost and the matrix products weigh about the same.
"""
from bench import _mlp

CONFIG = _mlp.Config(sizes=(64, 32, 10), act="tanh", batch=64, dtype="float64")
TRAINS = True
RTOL = 1e-9


def data():
    return _mlp.data(CONFIG)


BUILDERS = _mlp.builders(CONFIG)
