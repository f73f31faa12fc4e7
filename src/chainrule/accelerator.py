"""``chainrule.accelerator``: PyTorch's device-agnostic accelerator API, answered as PyTorch answers
it on a machine without an accelerator, so that scripts choosing their device run unchanged:

>>> chainrule.accelerator.current_accelerator() or chainrule.device("cpu")
device(type='cpu')
"""

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    """False: chainrule computes with NumPy on the CPU."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator (PyTorch returns None too, whether or not it checks)."""
    return None


def device_count():
    return 0


def _none(*args, **kwargs):
    raise RuntimeError(_NONE)


# What needs an accelerator device raises PyTorch's RuntimeError.
current_device_index = current_device_idx = set_device_index = set_device_idx = _none
current_stream = set_stream = synchronize = _none
