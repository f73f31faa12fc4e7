"""One check for a catalogue op (issue #12): run the same program on chainrule and on torch.

``check(program, *arrays)`` runs ``program(m, *tensors)`` with ``m`` the library module
(``chainrule``, then ``torch`` when it is installed) and checks, on float64 inputs:

1. values: chainrule's output equals torch's (dtype and shape too), or ``ref(*arrays)`` (a NumPy
   reference) when torch is absent or ``ref`` is given;
2. first derivatives: chainrule's gradient of ``sum(out * w)`` (``w`` fixed random weights) for
   every floating input equals central differences of the same program, and torch's;
3. second derivatives, with ``second=True``: the gradient of ``sum(grad * v)`` again, against
   central differences of the first gradient, and torch's.

The program may return a tensor or a tuple/list of them (a named tuple's float fields are all
checked; integer fields, such as indices, by value only).  Inputs that are integer or bool arrays
are passed as constants.
"""
import numpy as np

import chainrule as cr

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _floating(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _run(m, program, arrays, requires_grad):
    ts = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            t = m.tensor(a)
            if requires_grad and a.dtype.kind == "f":
                t.requires_grad_(True)
            ts.append(t)
        else:
            ts.append(a)
    return ts, _outputs(program(m, *ts))


def _np(t):
    t = t.detach() if hasattr(t, "detach") else t
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def _weights(outs, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(_np(o))) if _np(o).dtype.kind == "f" else None
            for o in outs]


def _loss(m, outs, ws):
    total = None
    for o, w in zip(outs, ws):
        if w is None or not getattr(o, "requires_grad", False):
            continue
        term = (o * m.tensor(w)).sum()
        total = term if total is None else total + term
    return total


def _grads(m, program, arrays, ws, create_graph=False):
    ts, outs = _run(m, program, arrays, True)
    loss = _loss(m, outs, ws)
    wrt = [t for a, t in zip(arrays, ts) if _floating(a)]
    if loss is None:
        return ts, [np.zeros(t.shape) for t in wrt], None, wrt
    gs = (cr if m is cr else torch).autograd.grad(loss, wrt, allow_unused=True,
                                                  create_graph=create_graph)
    return ts, gs, loss, wrt


def _central(f, arrays, eps=1e-6):
    """d f(arrays) / d arrays[i] for every floating input, by central differences."""
    out = []
    for k, a in enumerate(arrays):
        if not _floating(a):
            continue
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            plus = [b.copy() if isinstance(b, np.ndarray) else b for b in arrays]
            minus = [b.copy() if isinstance(b, np.ndarray) else b for b in arrays]
            plus[k][i] += eps
            minus[k][i] -= eps
            g[i] = (f(plus) - f(minus)) / (2 * eps)
        out.append(g)
    return out


def check(program, *arrays, ref=None, grad=True, second=False, atol=1e-6, rtol=1e-6,
          grad_atol=1e-5, check_dtype=True):
    """See the module docstring.  Returns chainrule's outputs (for further checks)."""
    arrays = tuple(np.asarray(a) if isinstance(a, (np.ndarray, list)) else a for a in arrays)
    _, outs = _run(cr, program, arrays, False)
    if torch is not None:
        _, touts = _run(torch, program, arrays, False)
        assert len(outs) == len(touts), f"{len(outs)} outputs, torch gives {len(touts)}"
        for o, t in zip(outs, touts):
            if hasattr(t, "dtype") and check_dtype:
                assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
                    f"dtype {o.dtype}, torch gives {t.dtype}"
            np.testing.assert_allclose(_np(o), _np(t), atol=atol, rtol=rtol, equal_nan=True)
    if ref is not None:
        refs = _outputs(ref(*arrays))
        for o, r in zip(outs, refs):
            np.testing.assert_allclose(_np(o), np.asarray(r), atol=atol, rtol=rtol,
                                       equal_nan=True)
    if not grad or not any(_floating(a) for a in arrays):
        return outs
    ws = _weights(outs)

    def value(arrs):
        with cr.no_grad():
            _, o = _run(cr, program, arrs, False)
        return float(sum(np.sum(_np(x) * w) for x, w in zip(o, ws) if w is not None))

    _, gs, _, _ = _grads(cr, program, arrays, ws)
    numeric = _central(value, arrays)
    for g, n in zip(gs, numeric):
        got = np.zeros_like(n) if g is None else _np(g)
        np.testing.assert_allclose(got, n, atol=grad_atol, rtol=1e-4,
                                   err_msg="gradient vs central differences")
    if torch is not None:
        _, tgs, _, _ = _grads(torch, program, arrays, ws)
        for g, t in zip(gs, tgs):
            got = None if g is None else _np(g)
            want = None if t is None else _np(t)
            if got is None or want is None:
                assert (got is None or not got.any()) and (want is None or not want.any())
                continue
            np.testing.assert_allclose(got, want, atol=grad_atol, rtol=1e-5,
                                       err_msg="gradient vs torch")
    if second:
        vs = [np.random.default_rng(2).standard_normal(a.shape) for a in arrays
              if _floating(a)]

        def first(arrs):
            _, g1, _, _ = _grads(cr, program, arrs, ws)
            return float(sum(np.sum(_np(g) * v) for g, v in zip(g1, vs) if g is not None))

        def second_grads(m):
            ts, g1, _, wrt = _grads(m, program, arrays, ws, create_graph=True)
            total = None
            for g, v in zip(g1, vs):
                if g is not None and g.requires_grad:
                    term = (g * m.tensor(v)).sum()
                    total = term if total is None else total + term
            if total is None:
                return [None] * len(wrt)
            return (cr if m is cr else torch).autograd.grad(total, wrt, allow_unused=True)

        numeric2 = _central(first, arrays, eps=1e-5)
        for g, n in zip(second_grads(cr), numeric2):
            got = np.zeros_like(n) if g is None else _np(g)
            np.testing.assert_allclose(got, n, atol=1e-4, rtol=1e-3,
                                       err_msg="second derivative vs central differences")
        if torch is not None:
            for g, t in zip(second_grads(cr), second_grads(torch)):
                got = None if g is None else _np(g)
                want = None if t is None else _np(t)
                # no second-order graph on one side: the other's must be zero
                got = np.zeros_like(want) if got is None and want is not None else got
                want = np.zeros_like(got) if want is None and got is not None else want
                if got is None:
                    continue
                np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5,
                                           err_msg="second derivative vs torch")
    return outs
