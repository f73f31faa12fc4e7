"""``functional_call``: a module run with parameters and buffers given, not its own."""


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced, for this call only,
    by the tensors in ``parameter_and_buffer_dicts`` (one dict, or a sequence of dicts), keyed
    by their ``named_parameters()`` / ``named_buffers()`` names.  The module is restored after
    the call, even on an error.  With ``grad`` and ``vmap`` this gives per-sample gradients.

    tie_weights: a parameter shared under two names is replaced under both when one is given.
    strict: every parameter and buffer must be given, and nothing else.

    >>> import chainrule as torch
    >>> lin = torch.nn.Linear(2, 1)
    >>> params = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    >>> torch.func.functional_call(lin, params, (torch.tensor([1.0, 2.0]),))
    tensor([3.])
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        given = dict(parameter_and_buffer_dicts)
    else:
        given = {}
        for d in parameter_and_buffer_dicts:
            clash = set(given) & set(d)
            if clash:
                raise ValueError(f"functional_call: {sorted(clash)} appeared in more than one of "
                                 "the input dictionaries")
            given.update(d)
    slots = {}          # name -> (submodule, registry, key)
    for where, named in (("_parameters", module.named_parameters),
                         ("_buffers", module.named_buffers)):
        for name, _ in named(remove_duplicate=False):
            path, _, key = name.rpartition(".")
            slots[name] = (module.get_submodule(path), where, key)
    if tie_weights:
        # a tensor shared under several names takes the value given under any one of them
        by_tensor = {}
        for name, (m, where, key) in slots.items():
            by_tensor.setdefault(id(getattr(m, where)[key]), []).append(name)
        for names in by_tensor.values():
            chosen = [n for n in names if n in given]
            if len(chosen) > 1 and any(given[n] is not given[chosen[0]] for n in chosen):
                raise ValueError(f"functional_call: {chosen} are tied in the module but were "
                                 "given different values; give one of them, or pass "
                                 "tie_weights=False")
            if chosen:
                for n in names:
                    given.setdefault(n, given[chosen[0]])
    unexpected = sorted(set(given) - set(slots))
    if strict:
        missing = sorted(set(slots) - set(given))
        if missing or unexpected:
            lines = [f"\t{what} key(s): {', '.join(repr(k) for k in keys)}."
                     for what, keys in (("Unexpected", unexpected), ("Missing", missing)) if keys]
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n" +
                               "\n".join(lines))
    for name in unexpected:         # as torch: set as a plain attribute for the call
        path, _, key = name.rpartition(".")
        slots[name] = (module.get_submodule(path), "__dict__", key)
    saved = []
    try:
        for name, value in given.items():
            m, where, key = slots[name]
            registry = getattr(m, where)
            saved.append((registry, key, registry.get(key, _ABSENT)))
            registry[key] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for registry, key, old in reversed(saved):
            if old is _ABSENT:
                del registry[key]
            else:
                registry[key] = old


_ABSENT = object()
