"""Pytrees: nested tuples, lists and dicts (torch.func's containers), flattened and rebuilt.

A spec is ``(kind, meta, children)``: kind is "leaf", "tuple", "list", "dict" or
"namedtuple"; meta holds dict keys or the namedtuple class.  Containers nest a few levels, so
the helpers recurse (depth = nesting depth of the user's containers, never graph depth).
"""

LEAF = ("leaf", None, None)


def tree_flatten(tree):
    """``(leaves, spec)`` of ``tree``, leaves in depth-first order (dicts in insertion order)."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return ("namedtuple", type(tree), tuple(_flatten(v, leaves) for v in tree))
    if isinstance(tree, (tuple, list)):
        kind = "tuple" if isinstance(tree, tuple) else "list"
        return (kind, None, tuple(_flatten(v, leaves) for v in tree))
    if isinstance(tree, dict):
        keys = tuple(tree)
        return ("dict", keys, tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return LEAF


def tree_unflatten(leaves, spec):
    """Rebuild the tree that ``spec`` describes from ``leaves`` (in flattening order)."""
    it = iter(leaves)
    out = _unflatten(it, spec)
    return out


def _unflatten(it, spec):
    kind, meta, children = spec
    if kind == "leaf":
        return next(it)
    values = [_unflatten(it, c) for c in children]
    if kind == "tuple":
        return tuple(values)
    if kind == "list":
        return values
    if kind == "namedtuple":
        return meta(*values)
    return dict(zip(meta, values))


def num_leaves(spec):
    kind, _, children = spec
    if kind == "leaf":
        return 1
    return sum(num_leaves(c) for c in children)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(v) for v in leaves], spec)


def broadcast_prefix(prefix, tree, what):
    """One value per leaf of ``tree``: ``prefix`` is a tree whose leaves (ints or None) stand
    for whole subtrees of ``tree`` (torch's in_dims/out_dims rule)."""
    out = []
    _broadcast(prefix, tree, out, what)
    return out


def _broadcast(prefix, tree, out, what):
    if not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * len(tree_flatten(tree)[0]))
        return
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise ValueError(f"{what} is not compatible with the structure of the inputs: "
                             f"the dict {sorted(prefix)} must have the keys of {_describe(tree)}")
        for k in tree:
            _broadcast(prefix[k], tree[k], out, what)
        return
    if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
        raise ValueError(f"{what} is not compatible with the structure of the inputs: "
                         f"{type(prefix).__name__} of length {len(prefix)} against "
                         f"{_describe(tree)}; give one entry per input (or one int for all)")
    for p, t in zip(prefix, tree):
        _broadcast(p, t, out, what)


def _describe(tree):
    if isinstance(tree, (tuple, list)):
        return f"a {type(tree).__name__} of length {len(tree)}"
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(tree)}"
    return f"a {type(tree).__name__}"
