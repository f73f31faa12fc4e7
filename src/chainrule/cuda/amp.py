"""``chainrule.cuda.amp``: torch's deprecated CUDA spellings of ``chainrule.amp``'s ``autocast``
and ``GradScaler``. They warn as torch's do (deprecated; CUDA not available) and disable
themselves, changing nothing."""
import warnings

from .. import amp
from .. import dtypes as D

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(amp.autocast):
    """``chainrule.amp.autocast("cuda", ...)``: disabled, as torch's without CUDA."""

    def __init__(self, enabled=True, dtype=D.float16, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``chainrule.amp.GradScaler("cuda", ...)``: disabled, as torch's without CUDA."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """The function unchanged (torch's deprecated CUDA spelling of amp.custom_fwd)."""
    return amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """The function unchanged (torch's deprecated CUDA spelling of amp.custom_bwd)."""
    return amp.custom_bwd(bwd, device_type="cuda")
