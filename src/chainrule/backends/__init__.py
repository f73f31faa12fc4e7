"""``chainrule.backends``: the flags scripts written for PyTorch set or query
(``torch.backends.cudnn.deterministic = True``, ``torch.backends.mps.is_available()``). They
change nothing: chainrule runs NumPy on the CPU, deterministically.
"""
from . import cpu, cuda, cudnn, mps  # noqa: F401
