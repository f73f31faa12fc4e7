"""``chainrule.amp``: PyTorch's automatic mixed precision API (``autocast``, ``GradScaler``) so
that training scripts written for ``torch.amp`` run unchanged on the CPU.

chainrule has no reduced-precision kernels to switch to (and NumPy no bfloat16), so ``autocast``
computes everything in the dtypes the inputs have (float32 stays float32); on ``"cuda"`` it warns
and disables itself as torch does without CUDA. ``GradScaler("cuda")`` (the default) warns and
disables itself (``scale`` returns the loss unchanged, ``step`` just steps); ``GradScaler("cpu")``
scales as torch's does: the loss times the scale, gradients unscaled before the step, steps with
inf/NaN gradients skipped and the scale backed off.
"""
import functools
import warnings

from . import dtypes as D
from .grad_mode import graph_break, no_grad
from .tensor import Tensor

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd", "is_autocast_available"]


def is_autocast_available(device_type):
    """Whether ``autocast(device_type)`` can be enabled: only for ``"cpu"`` here."""
    return device_type == "cpu"


class autocast:
    """Context manager and decorator running a region in mixed precision: here (no
    reduced-precision kernels) ops run in their inputs' dtypes, so results equal those outside.

    >>> with chainrule.autocast(device_type="cpu"):
    ...     y = chainrule.ones(2, 2) @ chainrule.ones(2, 2)
    >>> y.dtype
    chainrule.float32
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            D.float16 if device_type == "cuda" else None)     # torch's CPU default is bfloat16
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled and device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.")
            enabled = False
        if enabled and dtype is not None and dtype != D.float16:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.")
            enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom ``Function.forward`` under autocast: the function unchanged."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom ``Function.backward`` under autocast: the function unchanged."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


class GradScaler:
    """Loss scaling for mixed-precision training: ``scale(loss).backward()``,
    ``scaler.step(optimizer)``, ``scaler.update()``.

    Disabled (``enabled=False``, or ``device="cuda"`` with no CUDA, which warns) it changes
    nothing: ``scale`` returns its argument, ``step`` calls ``optimizer.step()``. Enabled
    (``device="cpu"``) it multiplies the loss by the scale, divides the gradients by it before the
    step, skips steps whose gradients hold inf/NaN and then halves the scale, and doubles the
    scale after ``growth_interval`` clean steps.
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        if enabled and device == "cuda":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.")
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = float(init_scale)
            self._scale = None
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = int(growth_interval)
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = {}

    def is_enabled(self):
        return self._enabled

    def _scale_value(self):
        if self._scale is None:
            self._scale = self._init_scale
            self._growth_tracker = self._init_growth_tracker
        return self._scale

    def scale(self, outputs):
        """``outputs`` times the scale (a tensor, or a list/tuple of tensors); unchanged when
        disabled."""
        if not self._enabled:
            return outputs
        # the scale is a Python number update() changes: a replay would keep this call's
        graph_break("GradScaler.scale() (its scale is a Python number that update() changes)")
        s = self._scale_value()
        if isinstance(outputs, Tensor):
            return outputs * s
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(o * s for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer):
        """Divides ``optimizer``'s gradients by the scale in place (before clipping them)."""
        if not self._enabled:
            return
        state = self._per_optimizer_states.setdefault(id(optimizer), {"stage": "ready"})
        if state["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale_value()
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.grad.mul_(inv)
                    if not bool(p.grad.isfinite().all()):
                        found_inf = True
        state["found_inf"] = found_inf
        state["stage"] = "unscaled"

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` on unscaled gradients, skipped (None) if any is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._per_optimizer_states.setdefault(id(optimizer), {"stage": "ready"})
        if state["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == "ready":
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return result

    def update(self, new_scale=None):
        """Backs the scale off after a skipped step, grows it after ``growth_interval`` clean
        steps (or sets ``new_scale``); a no-op when disabled."""
        if not self._enabled:
            return
        graph_break("GradScaler.update() (it changes the scale outside the recorded operations)")
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if "found_inf" in s]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            scale = self._scale_value()
            if any(found):
                self._scale = scale * self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale = scale * self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer_states = {}

    def get_scale(self):
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        """The scale and its schedule ({} when disabled), as torch's keys."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": (self._init_growth_tracker if self._growth_tracker is None
                                    else self._growth_tracker)}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._scale = self._init_scale
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        self._growth_tracker = self._init_growth_tracker
