"""``chainrule.backends``: the flags scripts written for PyTorch set or query
(``torch.backends.cudnn.deterministic = True``, ``torch.backends.mps.is_available()``). They
change nothing: chainrule runs NumPy on the CPU, deterministically.
"""
import types

cudnn = types.SimpleNamespace(enabled=True, deterministic=False, benchmark=False,
                              is_available=lambda: False)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
