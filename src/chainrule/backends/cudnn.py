"""``chainrule.backends.cudnn``: PyTorch's cuDNN flags, settable and read back, changing nothing
(there is no cuDNN: chainrule computes with NumPy on the CPU, deterministically).

>>> import chainrule.backends.cudnn as cudnn
>>> cudnn.is_available(), cudnn.enabled
(False, True)
"""
enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available():
    """False: there is no cuDNN (torch says the same on a machine without CUDA)."""
    return False


def version():
    """None, as torch gives without cuDNN."""
    return None


def is_acceptable(tensor):
    """False: no tensor goes to cuDNN."""
    return False
