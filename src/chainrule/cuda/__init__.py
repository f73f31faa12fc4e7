"""``chainrule.cuda``: there is no GPU backend, and this says so the way PyTorch does on a
machine without CUDA, so that scripts written for PyTorch run unchanged:

>>> chainrule.device("cuda" if chainrule.cuda.is_available() else "cpu")
device(type='cpu')
"""


def is_available():
    """False: chainrule computes with NumPy on the CPU."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Does nothing, as PyTorch's does without CUDA (seed the CPU with chainrule.manual_seed)."""


manual_seed_all = manual_seed


def synchronize(device=None):
    """Nothing to wait for on the CPU."""
