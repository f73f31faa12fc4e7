"""``chainrule.nn.parallel``: ``DataParallel`` (with no GPUs, as on torch without CUDA, it wraps
the module and calls it) and ``DistributedDataParallel`` (refuses: no distributed backend)."""
from ..modules import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps ``module`` (``self.module``) and calls it: with no GPUs, torch's DataParallel does
    the same, and the state_dict keys gain the prefix ``module.`` as torch's do."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.dim = dim
        self.output_device = output_device
        self.src_device_obj = None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """``module(*inputs, **module_kwargs)``: the functional DataParallel, with no GPUs."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))


class DistributedDataParallel(Module):
    """Refuses to wrap: chainrule has no distributed backend (see chainrule.distributed)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, *args, **kwargs):
        raise RuntimeError("DistributedDataParallel: chainrule has no distributed backend "
                           "(chainrule.distributed.is_available() is False), so no process "
                           "group can be initialized; use the module itself (or DataParallel)")
