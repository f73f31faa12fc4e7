"""W6c: W6's CNN step compiled whole with ``chainrule.compile`` (issue #14).

The same layers, data and SGD step as W6: forward, ``backward()`` and the update in one compiled
function.  Max pooling's winners are
found by an op without a gradient that the replay runs again, so the whole loss is one
recording.  NumPy by hand and PyTorch are W6's own versions.
"""
from bench import w6_cnn as W6

TRAINS = True
RTOL = W6.RTOL
data = W6.data


def chainrule_(d, **size):
    import chainrule
    return W6.torchlike(chainrule, d, compiled=True)


BUILDERS = {"chainrule": chainrule_, "numpy": W6.BUILDERS["numpy"], "torch": W6.BUILDERS["torch"]}
