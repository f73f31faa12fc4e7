"""``chainrule.nn.attention``: torch's switches for scaled dot product attention.

chainrule has one attention kernel, the fused NumPy one behind
``nn.functional.scaled_dot_product_attention``; it plays both of the backends torch runs on a CPU
(``MATH`` and ``FLASH_ATTENTION``).  ``sdpa_kernel`` sets the same flags as torch's (read back by
``chainrule.backends.cuda.math_sdp_enabled()`` and the like) and, as on torch's CPU, attention
raises when neither of those two is enabled.  The flash-implementation registry (FA3, FA4 on
CUDA) is kept as a plain registry of callables: nothing is registered by default.
``bias`` holds the causal masks (``causal_upper_left``, ``causal_lower_right``).
"""
import contextlib
import enum
import logging

from ...backends import cuda as _cuda
from . import bias  # noqa: F401,E402

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS",
           "register_flash_attention_impl", "activate_flash_attention_impl",
           "list_flash_attention_impls", "current_flash_attention_impl",
           "restore_flash_attention_impl"]

# torch: whether to warn when a fused kernel cannot run (there is none to miss here)
WARN_FOR_UNFUSED_KERNELS = False

_log = logging.getLogger(__name__)


class SDPBackend(enum.IntEnum):
    """The attention backends, with torch's names and values."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self):
        return f"<SDPBackend.{self.name}: {self.value}>"

    def __str__(self):
        return f"SDPBackend.{self.name}"


# backends.cuda's flag of each backend; OVERRIDEABLE (torch's hook for out-of-tree kernels)
# has no flag there and is kept here
_FLAGS = {SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.FLASH_ATTENTION: "flash",
          SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.MATH: "math"}
_overrideable = [True]
_priority = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH,
             SDPBackend.CUDNN_ATTENTION, SDPBackend.OVERRIDEABLE]


def _enabled():
    on = [b for b, flag in _FLAGS.items() if getattr(_cuda, f"{flag}_sdp_enabled")()]
    return on + ([SDPBackend.OVERRIDEABLE] if _overrideable[0] else [])


def _set(backends):
    for b, flag in _FLAGS.items():
        getattr(_cuda, f"enable_{flag}_sdp")(b in backends)
    _overrideable[0] = SDPBackend.OVERRIDEABLE in backends


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Enable only ``backends`` (one SDPBackend or a list) inside the block; the flags come back
    on exit.  On chainrule, as on torch's CPU, ``MATH`` or ``FLASH_ATTENTION`` must be among them
    for attention to run (both run the same kernel here).

    >>> from chainrule.nn.attention import SDPBackend, sdpa_kernel
    >>> with sdpa_kernel(SDPBackend.MATH):
    ...     chainrule.backends.cuda.flash_sdp_enabled()
    False
    >>> chainrule.backends.cuda.flash_sdp_enabled()
    True
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _enabled()
    previous_priority = list(_priority)
    try:
        _set(backends)
        if set_priority:
            _priority[:] = backends + [b for b in previous_priority if b not in backends]
        yield {}
    finally:
        _set(previous)
        if set_priority:
            _priority[:] = previous_priority


# -- the flash attention implementation registry (torch's is for CUDA kernels) -------------

_IMPLS = {}
_ACTIVE = [None]        # (name, handle) of the activated implementation, or None


def register_flash_attention_impl(impl, *, register_fn):
    """Record ``register_fn``, to be called by ``activate_flash_attention_impl(impl)``."""
    _IMPLS[impl] = register_fn


def list_flash_attention_impls():
    """The registered implementations' names (none by default: torch's FA3 and FA4 are CUDA
    kernels)."""
    return list(_IMPLS)


def current_flash_attention_impl():
    """The activated implementation's name, or None for the default."""
    return None if _ACTIVE[0] is None else _ACTIVE[0][0]


def activate_flash_attention_impl(impl):
    """Call the ``register_fn`` registered as ``impl`` (after restoring the default)."""
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. Available implementations: "
                         f"{list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _ACTIVE[0] = (impl, handle)


def restore_flash_attention_impl(_raise_warn=True):
    """Go back to the default implementation (calling the active handle's ``remove()``)."""
    handle = None if _ACTIVE[0] is None else _ACTIVE[0][1]
    if handle is not None:
        handle.remove()
    elif _raise_warn:
        _log.warning("Trying to restore default FA2 impl when no custom impl was activated")
    _ACTIVE[0] = None
