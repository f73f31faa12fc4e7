"""``chainrule.random``, as ``torch.random``: the global generator's seed and state, and
``fork_rng`` (run a block and restore the global random state afterwards)."""
import contextlib

from .creation import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                       seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Run the block, then put the global generator back in the state it had before.

    >>> with chainrule.random.fork_rng():
    ...     _ = chainrule.rand(3)
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
