"""Registry-driven checks: every primitive, on every example its entry declares.

- forward: the value equals an independent NumPy reference (below; a new op must add one), and
  an example whose last step is not the op (``gelu`` records ``erf`` inside a ``mul``) is checked
  whole against a reference of its own in EXAMPLE_REFERENCES;
- first derivatives: autograd's vector-Jacobian product equals central differences, float64;
- second derivatives: the gradient recorded with ``create_graph=True`` differentiates again to
  the central differences of the first derivative.
Adding an op with examples adds all of these tests.
"""
import importlib
import math
import pathlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.tensor import Tensor
from chainrule.tracing import tracing
from sampling import domains, find_node, sample


def _reduce(fn):
    return lambda x, dims=None, keepdim=False, **kw: fn(x, axis=dims, keepdims=keepdim, **kw)


def _softmax_ref(x, dim):
    e = np.exp(x)
    return e / e.sum(axis=dim, keepdims=True)


def _norm_ref(x, p=2.0, dims=None, keepdim=False):
    a = np.abs(x)
    if p == float("inf"):
        return a.max(axis=dims, keepdims=keepdim)
    return (a ** p).sum(axis=dims, keepdims=keepdim) ** (1 / p)


def _pick_ref(pick):
    def ref(x, dim, keepdim=False):
        idx = pick(x, axis=dim, keepdims=True)
        out = np.take_along_axis(x, idx, axis=dim)
        return out if keepdim else out.squeeze(dim)
    return ref


def _swapped(n, a, b):
    axes = list(range(n))
    axes[a], axes[b] = axes[b], axes[a]
    return axes


def _matmul_ref(x, y):
    if x.ndim == 1 and y.ndim == 1:
        return np.einsum("i,i->", x, y)
    if x.ndim == 1:
        return np.einsum("k,...kn->...n", x, y)
    if y.ndim == 1:
        return np.einsum("...nk,k->...n", x, y)
    return np.einsum("...nk,...km->...nm", x, y)


# Independent forward references, computed in float64 by NumPy (naive formulas are fine on the
# entries' sampling domains).
REFERENCES = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "rsub": lambda x, y: y - x,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "fmod": lambda x, y: x - np.trunc(x / y) * y,
    "remainder": lambda x, y: x - np.floor(x / y) * y,
    "pow": lambda x, y: np.exp(y * np.log(x)) if np.all(np.asarray(x) > 0) else np.power(x, y),
    "maximum": lambda x, y: np.where(x >= y, x, y),
    "minimum": lambda x, y: np.where(x <= y, x, y),
    "where": lambda c, x, y: c * x + (~c) * y,
    "neg": lambda x: 0 - x,
    "abs": lambda x: np.sqrt(x * x),
    "exp": lambda x: np.e ** x,
    "log": lambda x: np.log(x),
    "log1p": lambda x: np.log(1 + x),
    "expm1": lambda x: np.exp(x) - 1,
    "sqrt": lambda x: x ** 0.5,
    "rsqrt": lambda x: x ** -0.5,
    "asinh": lambda x: np.log(x + np.sqrt(x * x + 1)),
    "log10": lambda x: np.log(x) / np.log(10),
    "log2": lambda x: np.log(x) / np.log(2),
    "exp2": lambda x: np.exp(x * np.log(2)),
    "asin": lambda x: np.arctan2(x, np.sqrt(1 - x * x)),
    "acos": lambda x: np.arctan2(np.sqrt(1 - x * x), x),
    "atan": lambda x: np.arcsin(x / np.sqrt(1 + x * x)),
    "sinh": lambda x: (np.exp(x) - np.exp(-x)) / 2,
    "cosh": lambda x: (np.exp(x) + np.exp(-x)) / 2,
    "acosh": lambda x: np.log(x + np.sqrt(x * x - 1)),
    "atanh": lambda x: 0.5 * np.log((1 + x) / (1 - x)),
    "erfc": lambda x: np.vectorize(math.erfc, otypes=[np.float64])(x),
    "sin": np.sin,
    "cos": np.cos,
    "tan": lambda x: np.sin(x) / np.cos(x),
    "tanh": lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "relu": lambda x: x * (x > 0),
    "reciprocal": lambda x: 1 / x,
    "sign": lambda x: (x > 0) * 1.0 - (x < 0) * 1.0,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": lambda x, decimals=0: np.round(x, decimals),
    "clamp": lambda x, min=None, max=None: np.minimum(np.maximum(x, -np.inf if min is None else min),
                                                      np.inf if max is None else max),
    "sum": _reduce(np.sum),
    "prod": _reduce(np.prod),
    "amax": _reduce(np.max),
    "amin": _reduce(np.min),
    "max_dim": _pick_ref(np.argmax),
    "min_dim": _pick_ref(np.argmin),
    "logsumexp": lambda x, dims=None, keepdim=False: np.log(np.exp(x).sum(axis=dims, keepdims=keepdim)),
    "softmax": _softmax_ref,
    "log_softmax": lambda x, dim: np.log(_softmax_ref(x, dim)),
    "norm": _norm_ref,
    "reshape": lambda x, shape: x.reshape(shape),
    "squeeze": lambda x, shape: x.reshape(shape),
    "unsqueeze": lambda x, shape: x.reshape(shape),
    "expand": lambda x, shape: x + np.zeros(shape),
    "transpose": lambda x, dim0, dim1: np.einsum(x, list(range(x.ndim)), _swapped(x.ndim, dim0, dim1)),
    "permute": lambda x, dims: np.einsum(x, list(range(x.ndim)), list(dims)),
    "flip": lambda x, dims: x[tuple(slice(None, None, -1) if i in dims else slice(None)
                                    for i in range(x.ndim))],
    "repeat": lambda x, sizes: np.tile(x, sizes),
    "index": lambda x, index, accumulate=False: x[index],
    "cat": lambda *xs, dim: np.concatenate(xs, axis=dim),
    "stack": lambda *xs, dim: np.stack(xs, axis=dim),
    "clone": lambda x: x,
    "to_copy": lambda x, dtype: x.astype(dtype),
    "matmul": _matmul_ref,
    # issue #12's catalogue, one block a family (kept apart so parallel work merges cleanly)
    # -- elementwise
    "atan2": np.arctan2,
    "hypot": np.hypot,
    "nextafter": np.nextafter,
    "trunc": np.trunc,

    # -- special

    # -- reductions, scans and sorting
    "cumsum": lambda x, dim: np.cumsum(x, axis=dim),
    "cumprod": lambda x, dim: np.cumprod(x, axis=dim),
    "logcumsumexp": lambda x, dim: np.log(np.cumsum(np.exp(x), axis=dim)),

    # -- indexing and scatter

    # -- shape

    # -- linear algebra
    # (the references of ops/linalg.py's primitives: tests/references_linalg.py)

    # -- random

    # -- attributes and the rest

}

# The primitives of ops/nn.py (convolution, pooling, ...) bring their references in a
# module of their own beside this one, tests/references_<area>.py, holding a REFERENCES dict.
for _path in sorted(pathlib.Path(__file__).parent.glob("references_*.py")):
    _mod = importlib.import_module(_path.stem)
    assert not set(_mod.REFERENCES) & set(REFERENCES), f"{_path.name} redefines a reference"
    REFERENCES.update(_mod.REFERENCES)


def _avg_pool1d_3_2_1(x):
    """avg_pool1d(x, 3, stride=2, padding=1): zero-padded windows of 3, divided by 3."""
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 1)])
    n = (xp.shape[-1] - 3) // 2 + 1
    return np.stack([xp[..., 2 * i:2 * i + 3].sum(-1) / 3 for i in range(n)], axis=-1)


def _conv2d_unbatched(x, w):
    """conv2d(x, w) on a (C, H, W) input: every output pixel a sum over its window."""
    o, c, kh, kw = w.shape
    out = np.zeros((o, x.shape[1] - kh + 1, x.shape[2] - kw + 1))
    for i, j in np.ndindex(out.shape[1:]):
        out[:, i, j] = np.einsum("ockl,ckl->o", w, x[:, i:i + kh, j:j + kw])
    return out


# Examples whose last recorded step is not the op under test (a composite around it, or a
# reshape after it): the whole expression's reference, keyed by the example's text.
EXAMPLE_REFERENCES = {
    "m.nn.functional.avg_pool1d(x, 3, stride=2, padding=1)": _avg_pool1d_3_2_1,
    "m.nn.functional.conv2d(x, y)": _conv2d_unbatched,
    "m.nn.functional.binary_cross_entropy(x, y)":
        lambda x, y: -np.mean(y * np.log(x) + (1 - y) * np.log(1 - x)),
}

# Primitives that exist only as the adjoint of another, exercised through it.
ADJOINT_ONLY = {
    "index_scatter": "the VJP of `index`, checked by every indexing example's second derivative",
    "index_put": "index assignment (x[i] = v, fill_, copy_): checked in the in-place tests",
    "gelu_backward": "gelu's VJP (torch's GeluBackward0), checked by gelu's second derivative "
                     "and in tests/test_fused_primitives.py",
}

CASES = [(name, k, ex) for name, op in sorted(ops.REGISTRY.items())
         for k, ex in enumerate(op.examples)]


def _inputs(op, ex, seed=0):
    rng = np.random.default_rng(seed)
    shapes = ex[1:]
    doms = domains(op, len(shapes))
    # the where primitive's first input is the condition: sample the tensor operands only
    return [sample(s, d, rng) for s, d in zip(shapes, doms)]


def _run(expr, arrays, requires_grad=True):
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=requires_grad) for a in arrays]
    env = dict(zip("xyz", xs), m=cr)
    return eval(expr, {"float": float}, env), xs


def test_every_primitive_has_examples_and_a_reference():
    for name, op in ops.REGISTRY.items():
        if name in ADJOINT_ONLY:
            continue
        assert op.examples, f"{name}: add examples to its registry entry"
        assert name in REFERENCES, f"{name}: add a NumPy reference to REFERENCES"
        assert len(op.formulas) == (1 if op.nary else len(op.vjps)), name


@pytest.mark.parametrize("name,k,ex", CASES, ids=[f"{n}-{k}:{e[0]}" for n, k, e in CASES])
def test_forward_matches_numpy(name, k, ex):
    op = ops.REGISTRY[name]
    with tracing() as trace:        # the graph keeps only what rules read; a trace keeps all
        out, xs = _run(ex[0], _inputs(op, ex))
    node = find_node(out, op)
    assert node is not None, f"{ex[0]} did not record {name}"
    args = [v._data if isinstance(v, Tensor) else v for v in trace.inputs_of()[node]]
    params = node.params or {}
    # the primitive, on the operands it was recorded with
    np.testing.assert_allclose(op.forward(*args, **params), REFERENCES[name](*args, **params),
                               rtol=1e-12, atol=1e-12, err_msg=f"{name} on the inputs of {ex[0]}")
    # the example as the user calls it
    if out.grad_fn.op is op:
        expected = REFERENCES[name](*args, **params)
    else:
        assert ex[0] in EXAMPLE_REFERENCES, _NO_WHOLE_REFERENCE.format(ex[0], name)
        expected = EXAMPLE_REFERENCES[ex[0]](*(x._data for x in xs))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12,
                               err_msg=ex[0])
    assert out.dtype == cr.float64


_NO_WHOLE_REFERENCE = ("{}: the example's last step is not {} itself, so its value is not the "
                       "op's: add a NumPy reference for the whole expression to EXAMPLE_REFERENCES")


def test_every_example_has_a_forward_reference():
    """No forward case can pass by asserting nothing: each example's value has a reference."""
    missing = []
    for name, k, ex in CASES:
        op = ops.REGISTRY[name]
        out, _ = _run(ex[0], _inputs(op, ex))
        if out.grad_fn.op is not op and ex[0] not in EXAMPLE_REFERENCES:
            missing.append(_NO_WHOLE_REFERENCE.format(ex[0], name))
    assert not missing, "\n".join(missing)


def _vjp_numeric(expr, arrays, w, eps=1e-6):
    """Central differences of sum(w * f(x)) with respect to every input, float64."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = g.reshape(-1)
        for j in range(a.size):
            def f(delta):
                b = [c.copy() for c in arrays]
                b[i].reshape(-1)[j] += delta
                with cr.no_grad():
                    out, _ = _run(expr, b, requires_grad=False)
                return float(np.sum(w * out.numpy()))
            flat[j] = (f(eps) - f(-eps)) / (2 * eps)
        grads.append(g)
    return grads


def _vjp(expr, arrays, w, create_graph=False):
    out, xs = _run(expr, arrays)
    s = (out * cr.tensor(w)).sum()
    gs = cr.autograd.grad(s, xs, create_graph=create_graph, allow_unused=True)
    return [np.zeros_like(a) if g is None else g for g, a in zip(gs, arrays)], xs


@pytest.mark.parametrize("name,k,ex", CASES, ids=[f"{n}-{k}:{e[0]}" for n, k, e in CASES])
def test_gradient_matches_central_differences(name, k, ex):
    op = ops.REGISTRY[name]
    arrays = _inputs(op, ex)
    out, _ = _run(ex[0], arrays)
    w = np.random.default_rng(1).uniform(0.5, 1.5, out.shape)
    analytic, _ = _vjp(ex[0], arrays, w)
    numeric = _vjp_numeric(ex[0], arrays, w)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a = a.numpy() if isinstance(a, Tensor) else a
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{ex[0]}: gradient of input {i}")
        assert a.dtype == np.float64


@pytest.mark.parametrize("name,k,ex", CASES, ids=[f"{n}-{k}:{e[0]}" for n, k, e in CASES])
def test_second_derivative_matches_central_differences(name, k, ex):
    op = ops.REGISTRY[name]
    arrays = _inputs(op, ex)
    out, _ = _run(ex[0], arrays)
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 1.5, out.shape)
    vs = [rng.uniform(0.5, 1.5, a.shape) for a in arrays]
    first, xs = _vjp(ex[0], arrays, w, create_graph=True)
    s = sum((g * cr.tensor(v)).sum() for g, v in zip(first, vs) if isinstance(g, Tensor))
    if not isinstance(s, Tensor) or not s.requires_grad:
        second = [np.zeros_like(a) for a in arrays]          # the VJP is constant: linear op
    else:
        second = [np.zeros_like(a) if g is None else g.numpy()
                  for g, a in zip(cr.autograd.grad(s, xs, allow_unused=True), arrays)]

    eps = 1e-5
    for i, a in enumerate(arrays):
        numeric = np.zeros_like(a)
        for j in range(a.size):
            vals = []
            for delta in (eps, -eps):
                b = [c.copy() for c in arrays]
                b[i].reshape(-1)[j] += delta
                g, _ = _vjp(ex[0], b, w)
                vals.append(sum(float(np.sum((gg.numpy() if isinstance(gg, Tensor) else gg) * v))
                                for gg, v in zip(g, vs)))
            numeric.reshape(-1)[j] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(second[i], numeric, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{ex[0]}: second derivative, input {i}")


def test_rule_namespaces_offer_the_same_functions():
    """VJP rules run on ArrayF (plain backward) and TensorF (create_graph): same names."""
    from chainrule._fns import ArrayF
    from chainrule.functional import TensorF

    def names(cls):
        return {n for n in dir(cls) if not n.startswith("_")}
    assert names(ArrayF) == names(TensorF)


# =========================================================================================
# What each entry's kind promises (ops.KINDS), checked on its examples
# =========================================================================================

def _recorded(op, ex):
    """The arrays (and numbers) and params ``op`` was applied to in example ``ex``."""
    with tracing() as trace:
        out, _ = _run(ex[0], _inputs(op, ex))
    node = find_node(out, op)
    args = [v._data if isinstance(v, Tensor) else v for v in trace.inputs_of()[node]]
    return args, node.params or {}


ELEMENTWISE_CASES = [c for c in CASES if ops.REGISTRY[c[0]].kind == "elementwise"]


@pytest.mark.parametrize("name,k,ex", ELEMENTWISE_CASES,
                         ids=[f"{n}-{k}:{e[0]}" for n, k, e in ELEMENTWISE_CASES])
def test_elementwise_entries_act_element_by_element(name, k, ex):
    """vmap's rule for the kind, and its default texts, rely on out[i] = f(x[i], y[i], ...)."""
    op = ops.REGISTRY[name]
    args, params = _recorded(op, ex)
    out = op.forward(*args, **params)
    rng = np.random.default_rng(k)
    for flat in rng.choice(max(out.size, 1), size=min(out.size, 5), replace=False):
        i = np.unravel_index(flat, out.shape)
        one = [np.asarray(np.broadcast_to(a, out.shape)[i]) if isinstance(a, np.ndarray) else a
               for a in args]
        np.testing.assert_array_equal(op.forward(*one, **params), out[i],
                                      err_msg=f"{name} is declared elementwise: element {i} of "
                                              f"{ex[0]} differs from {name} on that element")


LINEAR_CASES = [c for c in CASES if ops.REGISTRY[c[0]].linear]


@pytest.mark.parametrize("name,k,ex", LINEAR_CASES,
                         ids=[f"{n}-{k}:{e[0]}" for n, k, e in LINEAR_CASES])
def test_linear_entries_forward_mode_is_the_op_on_the_tangents(name, k, ex):
    """``Primitive.jvp`` of a linear or bilinear entry (no rule written) against func.jvp,
    which derives forward mode from the VJP rules (double VJP)."""
    from chainrule._fns import ArrayF
    from chainrule.func import jvp
    from chainrule.tensor import apply

    op = ops.REGISTRY[name]
    args, params = _recorded(op, ex)
    rules = (op.vjps,) * len(args) if op.nary else op.vjps
    diff = [i for i, (a, r) in enumerate(zip(args, rules))
            if r is not None and isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    assert diff, f"{ex[0]}: no differentiable input of {name}"
    rng = np.random.default_rng(k)

    def f(*ts):
        full = [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        for i, t in zip(diff, ts):
            full[i] = t
        return apply(op, tuple(full), params)

    # every input moving, then only the last one (a bilinear op's second term alone, or its first)
    for moving in (diff, diff[-1:]):
        tangents = [rng.uniform(-1, 1, np.shape(args[i])) if i in moving else None
                    for i in range(len(args))]
        got = op.jvp(ArrayF, tangents, args, params)
        _, want = jvp(f, tuple(cr.tensor(args[i]) for i in diff),
                      tuple(cr.tensor(tangents[i] if tangents[i] is not None
                                      else np.zeros(np.shape(args[i]))) for i in diff))
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{ex[0]}: {name}'s JVP from its kind, tangents on "
                                           f"inputs {moving}")
