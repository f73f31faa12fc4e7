"""W3c: W3's large MLP step compiled whole with ``chainrule.compile`` (issue #14).

NumPy by hand and PyTorch are W3's own versions.
"""
import functools

from bench import _mlp
from bench import w3_mlp_large as W3

CONFIG = W3.CONFIG
TRAINS = True
RTOL = W3.RTOL
data = W3.data

BUILDERS = {"chainrule": functools.partial(_mlp.compiled_, CONFIG),
            "numpy": W3.BUILDERS["numpy"], "torch": W3.BUILDERS["torch"]}
