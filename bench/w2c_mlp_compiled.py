"""W2c: W2's MLP step compiled whole with ``chainrule.compile`` (issue #14).

The same model, data and SGD step as W2 (``_mlp.compiled_``): forward, ``backward()`` and the
update in one compiled function.  NumPy by
hand and PyTorch are W2's own versions.
"""
import functools

from bench import _mlp
from bench import w2_mlp as W2

CONFIG = W2.CONFIG
TRAINS = True
RTOL = W2.RTOL
data = W2.data

BUILDERS = {"chainrule": functools.partial(_mlp.compiled_, CONFIG),
            "numpy": W2.BUILDERS["numpy"], "torch": W2.BUILDERS["torch"]}
