"""W8c: W8's tiny GPT step compiled whole with ``chainrule.compile`` (issue #14).

The same model, data and AdamW step as W8: forward, ``zero_grad()``, ``backward()`` and
``step()`` in one compiled function (the replay calls AdamW's step again).  NumPy by hand and
PyTorch are W8's own versions.
"""
from bench import w8_gpt as W8

TRAINS = True
RTOL = W8.RTOL
data = W8.data


def chainrule_(d, **size):
    import chainrule
    return W8.torchlike(chainrule, d, compiled=True)


BUILDERS = {"chainrule": chainrule_, "numpy": W8.BUILDERS["numpy"], "torch": W8.BUILDERS["torch"]}
