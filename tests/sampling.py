"""Sampling registry inputs inside each op's domain, and finding an op's node in a graph: shared
by the registry, formula and torch tests."""
import numpy as np

from chainrule.tensor import Tensor


def domains(op, n):
    """The entry's domain, one per input (a list gives one per input; the last one repeats)."""
    d = op.domain
    if isinstance(d, list):
        return d + [d[-1]] * (n - len(d))
    return [d] * n


def sample(shape, domain, rng):
    """Uniform on (low, high), redrawing any value within 0.1 of an avoided point (a kink)."""
    lo, hi = domain[0], domain[1]
    avoid = domain[2] if len(domain) > 2 else ()
    x = rng.uniform(lo, hi, shape)
    for _ in range(1000):
        bad = np.zeros(np.shape(x), bool)
        for p in avoid:
            bad |= np.abs(x - p) < 0.1
        if not bad.any():
            return x
        x = np.where(bad, rng.uniform(lo, hi, np.shape(x)), x)
    raise ValueError(f"domain {domain} leaves no room 0.1 away from its avoided points")


def find_node(out, op):
    """The node in out's history that applied ``op`` (the example's op under test)."""
    stack, seen = [out.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen or not hasattr(n, "op"):
            continue
        seen.add(id(n))
        if n.op is op:
            return n
        stack.extend(e for e in n.next if not isinstance(e, Tensor))   # leaves end a path
    return None
