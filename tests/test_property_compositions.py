"""Random programs of 3-6 registry ops, checked against central differences (and torch).

Hypothesis draws a program: one to three float64 leaves of small shapes, biased towards 0-d (the
lecture's tensors), then 3-6 steps, each a registry op applied to values computed so far, biased
towards reusing earlier values several times (the fan-out where gradients must add).  Every
value is summed into one scalar J; ``J.backward()`` runs twice (retain_graph) so that a 0-d
leaf's ``.grad`` must accumulate in place.  Checks:

- the gradient of every leaf against central differences of the same program (float64);
- no NumPy scalar in any value's or gradient's array (0-d ufunc results are scalars in NumPy);
- the same program in torch, values and gradients, when torch is installed.

Runs at least 2,000 examples (``CHAINRULE_PROPERTY_EXAMPLES`` raises it); derandomized, so a CI
failure replays.
"""
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr

try:
    import torch
except ImportError:         # the torch comparison is skipped; the differences are not
    torch = None

EXAMPLES = int(os.environ.get("CHAINRULE_PROPERTY_EXAMPLES", "2000"))
SHAPES = [(), (), (), (1,), (3,), (2, 3), (1, 3), (2, 1)]


def _pos(m, x):
    """A positive input for log, sqrt, pow's base and the divisor: x² + 0.5."""
    return x * x + 0.5


# name -> (arity, fn(m, *values)): each written from registry primitives only.  Every op is
# smooth at the values reached, so central differences are a fair reference.
UNARY = {
    "neg": lambda m, x: -x,
    "exp": lambda m, x: m.exp(m.tanh(x)),                   # bounded, so chains stay finite
    "log": lambda m, x: m.log(_pos(m, x)),
    "log1p": lambda m, x: m.log1p(_pos(m, x)),
    "expm1": lambda m, x: m.expm1(m.sin(x)),
    "sqrt": lambda m, x: m.sqrt(_pos(m, x)),
    "rsqrt": lambda m, x: m.rsqrt(_pos(m, x)),
    "reciprocal": lambda m, x: m.reciprocal(_pos(m, x)),
    "sin": lambda m, x: m.sin(x),
    "cos": lambda m, x: m.cos(x),
    "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "square": lambda m, x: x * x,
    "pow_scalar": lambda m, x: _pos(m, x) ** 1.5,
    "rpow": lambda m, x: 2.0 ** m.tanh(x),
    "scale": lambda m, x: 1.5 * x,
    "rsub": lambda m, x: 0.5 - x,
    "rdiv": lambda m, x: 2.0 / _pos(m, x),
    "clone": lambda m, x: x.clone(),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "sum": lambda m, x: x.sum(),
    "mean": lambda m, x: x.mean(),
    "sum_last": lambda m, x: x.sum(-1) if x.dim() else x.sum(),
    "sum_keep": lambda m, x: x.sum(0, keepdim=True) if x.dim() else x + 0.0,
    "prod": lambda m, x: m.tanh(x).prod(),
    "logsumexp": lambda m, x: m.logsumexp(x, dim=-1) if x.dim() else m.logsumexp(x, 0),
    "softmax": lambda m, x: m.softmax(x, dim=-1) if x.dim() else m.softmax(x, 0),
    "log_softmax": lambda m, x: m.log_softmax(x, dim=-1) if x.dim() else m.log_softmax(x, 0),
    "norm": lambda m, x: (x + 0.25).norm(),
    "unsqueeze": lambda m, x: x.unsqueeze(0),
    "reshape": lambda m, x: x.reshape(-1),
    "transpose": lambda m, x: x.t() if x.dim() <= 2 else x,
    "expand": lambda m, x: x.expand(2, *x.shape),
    "index": lambda m, x: x[..., 0] if x.dim() else x[None][0],
    "flip": lambda m, x: x.flip(0) if x.dim() else x.flip([]),
    "stack_self": lambda m, x: m.stack([x, x * 2.0]),
    "repeat": lambda m, x: x.repeat(2, *([1] * x.dim())),
    "permute": lambda m, x: x.permute(tuple(reversed(range(x.dim())))),
    "squeeze": lambda m, x: x.squeeze(),
    "to_copy": lambda m, x: x.to(m.float64, copy=True),
    # kinks: central differences are off only within 1e-6 of one, which random values miss
    "abs": lambda m, x: (x - 0.25).abs(),
    "relu": lambda m, x: m.relu(x - 0.25),
    "clamp": lambda m, x: x.clamp(-0.5, 0.75),
    "amax": lambda m, x: x.amax(),
    "max_dim": lambda m, x: x.max(-1).values if x.dim() else x.max(),
    "amin_keep": lambda m, x: x.amin(0, keepdim=True) if x.dim() else x.amin(),
}
BINARY = {
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: x - y,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / _pos(m, y),
    "pow": lambda m, x, y: _pos(m, x) ** m.tanh(y),
    "where": lambda m, x, y: m.where(x > y + 0.01, x, y),   # the 0.01 keeps ties out of reach
    "add_alpha": lambda m, x, y: m.add(x, y, alpha=0.5),
    "maximum": lambda m, x, y: m.maximum(x, y),    # x with itself: torch halves the gradient
    "minimum": lambda m, x, y: m.minimum(x, y * 0.5),
    "matmul": lambda m, x, y: x.reshape(-1, 1) @ y.reshape(1, -1),
    "cat": lambda m, x, y: m.cat([x.reshape(-1), y.reshape(-1)]),
}


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@st.composite
def programs(draw):
    """(leaf shapes, steps): a step is (name, indices of the values it reads)."""
    n_leaves = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    value_shapes = list(shapes)
    steps = []
    for _ in range(draw(st.integers(3, 6))):
        n = len(value_shapes)
        # bias towards reuse: half the time read one of the first two values again
        pick = st.one_of(st.integers(0, min(1, n - 1)), st.integers(0, n - 1))
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(BINARY)))
            i = draw(pick)
            partners = [j for j in range(n) if _broadcasts(value_shapes[i], value_shapes[j])]
            j = draw(st.sampled_from(partners))     # i itself is always there: x * x
            args = (i, j)
        else:
            name = draw(st.sampled_from(sorted(UNARY)))
            args = (draw(pick),)
        shape = _run_step(np, name, [np.zeros(value_shapes[k]) for k in args], shapes_only=True)
        if shape is None or len(shape) > 3 or math.prod(shape) > 24:
            continue
        steps.append((name, args))
        value_shapes.append(shape)
    assume(steps)
    return shapes, steps


def _run_step(m, name, args, shapes_only=False):
    if shapes_only:       # the shape the step produces, from a chainrule run on zeros
        with cr.no_grad():
            out = _run_step(cr, name, [cr.tensor(a) for a in args])
        return tuple(out.shape)
    fn = BINARY.get(name) or UNARY[name]
    return fn(m, *args)


def run(m, leaves, steps):
    """Every value of the program, leaves first; J sums all of them."""
    values = list(leaves)
    for name, args in steps:
        values.append(_run_step(m, name, [values[k] for k in args]))
    J = values[0].sum()
    for v in values[1:]:
        J = J + v.sum()
    return values, J


def _central_differences(leaves, steps, eps=1e-6):
    grads = []
    for which, leaf in enumerate(leaves):
        a = leaf.detach().numpy()
        g = np.zeros(a.shape)
        for idx in np.ndindex(a.shape):
            def J_at(delta):
                moved = [cr.tensor(l.detach().numpy().copy()) for l in leaves]
                moved[which]._data[idx] += delta
                with cr.no_grad():
                    return run(cr, moved, steps)[1].item()
            g[idx] = (J_at(eps) - J_at(-eps)) / (2 * eps)
        grads.append(g)
    return grads


def _no_scalars(t, what):
    assert type(t._data) is np.ndarray, f"{what} holds a {type(t._data).__name__}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_compositions_have_the_right_gradients(program, seed):
    shapes, steps = program
    rng = np.random.default_rng(seed)
    data = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    leaves = [cr.tensor(d, dtype=cr.float64, requires_grad=True) for d in data]
    values, J = run(cr, leaves, steps)
    assume(math.isfinite(J.item()) and abs(J.item()) < 1e6)
    J.backward(retain_graph=True)
    first = [l.grad.numpy().copy() for l in leaves]
    J.backward()                        # a second pass must add into the same .grad in place
    for k, v in enumerate(values):
        _no_scalars(v, f"value {k}")
    for k, (leaf, g1) in enumerate(zip(leaves, first)):
        _no_scalars(leaf.grad, f"leaf {k}'s .grad")
        np.testing.assert_allclose(leaf.grad.numpy(), 2 * g1, rtol=1e-12, atol=1e-12,
                                   err_msg=f"leaf {k}: the second backward did not accumulate")
    expected = _central_differences(leaves, steps)
    for k, (g, e) in enumerate(zip(first, expected)):
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5 * scale,
                                   err_msg=f"leaf {k} of shape {shapes[k]}; steps {steps}")
    if torch is not None:
        t_leaves = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
        t_values, t_J = run(torch, t_leaves, steps)
        t_J.backward()
        for k, (v, tv) in enumerate(zip(values, t_values)):
            assert tuple(v.shape) == tuple(tv.shape), f"value {k}: steps {steps}"
            np.testing.assert_allclose(v.detach().numpy(), tv.detach().numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=f"value {k}: steps {steps}")
        for k, (g, tl) in enumerate(zip(first, t_leaves)):
            np.testing.assert_allclose(g, tl.grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"leaf {k} against torch: steps {steps}")


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(BINARY))
def test_every_step_kind_is_drawable_on_a_0d_value(name):
    """Each op of the property test runs on 0-d values (so the bias towards 0-d reaches it)."""
    x = cr.tensor(0.3, dtype=cr.float64, requires_grad=True)
    args = [x] if name in UNARY else [x, x]
    out = _run_step(cr, name, args)
    out.sum().backward()
    _no_scalars(out, name)
    _no_scalars(x.grad, f"{name}: x.grad")
