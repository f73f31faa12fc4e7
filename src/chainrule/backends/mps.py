"""``chainrule.backends.mps``: Apple's Metal backend, which chainrule does not have."""


def is_available():
    """False: no MPS device."""
    return False


def is_built():
    """False: chainrule is not built with MPS."""
    return False

