"""Neural networks with PyTorch's API: ``Module``, ``Parameter``, layers, losses, ``init``,
``functional`` and ``utils``.  A model written for ``torch.nn`` runs here by changing its imports,
and its ``state_dict`` keys and shapes are PyTorch's."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .parallel import DataParallel  # noqa: F401,E402  (torch.nn.DataParallel)
from . import grad  # noqa: F401,E402  (torch.nn.grad; issue 13)
