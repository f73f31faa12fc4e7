"""Neural networks with PyTorch's API: ``Module``, ``Parameter``, layers, losses, ``init``,
``functional`` and ``utils``.  A model written for ``torch.nn`` runs here by changing its imports,
and its ``state_dict`` keys and shapes are PyTorch's."""
from . import functional, init, utils  # noqa: F401
from . import attention  # noqa: F401,E402  (issue 13: torch.nn.attention)
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .parallel import DataParallel  # noqa: F401,E402  (torch.nn.DataParallel)
# -- issue 13: Buffer, the uninitialized tensors of lazy modules, common_types, factory_kwargs
from . import common_types  # noqa: F401,E402
from .parameter import Buffer, UninitializedBuffer, UninitializedParameter  # noqa: F401,E402


def factory_kwargs(kwargs):
    """The factory keywords (device, dtype, memory_format) of ``kwargs`` as one dict, merged
    with an explicit ``factory_kwargs`` entry; any other key is a TypeError (torch's).

    >>> chainrule.nn.factory_kwargs({"dtype": chainrule.float64})
    {'dtype': chainrule.float64}
    """
    if kwargs is None:
        return {}
    simple_keys = {"device", "dtype", "memory_format"}
    expected_keys = simple_keys | {"factory_kwargs"}
    if not kwargs.keys() <= expected_keys:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected_keys}")
    r = dict(kwargs.get("factory_kwargs", {}))
    for k in simple_keys:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
from . import grad  # noqa: F401,E402  (torch.nn.grad; issue 13)
