"""``chainrule.distributed``: chainrule has no distributed backend (one process, NumPy on the
CPU). ``is_available()`` and ``is_initialized()`` say so, so that scripts guarded by them run on
one process; every other call raises a RuntimeError that says why.
"""

__all__ = ["is_available", "is_initialized", "is_torchelastic_launched", "init_process_group",
           "destroy_process_group", "get_rank", "get_world_size", "barrier", "all_reduce",
           "all_gather", "broadcast", "reduce", "gather", "scatter", "new_group", "get_backend"]


def is_available():
    """False: chainrule has no distributed backend."""
    return False


def is_initialized():
    """False: no process group can exist."""
    return False


def is_torchelastic_launched():
    """False: not launched by torchrun."""
    return False


def _unavailable(name):
    def call(*args, **kwargs):
        raise RuntimeError(f"chainrule.distributed.{name}: chainrule has no distributed backend "
                           "(it runs in one process with NumPy on the CPU); "
                           "chainrule.distributed.is_available() is False, so run on one "
                           "process without it")
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Raises RuntimeError: chainrule has no distributed backend ({name})."
    return call


init_process_group = _unavailable("init_process_group")
destroy_process_group = _unavailable("destroy_process_group")
get_rank = _unavailable("get_rank")
get_world_size = _unavailable("get_world_size")
barrier = _unavailable("barrier")
all_reduce = _unavailable("all_reduce")
all_gather = _unavailable("all_gather")
broadcast = _unavailable("broadcast")
reduce = _unavailable("reduce")
gather = _unavailable("gather")
scatter = _unavailable("scatter")
new_group = _unavailable("new_group")
get_backend = _unavailable("get_backend")
