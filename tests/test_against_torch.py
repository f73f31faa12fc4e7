"""chainrule against PyTorch: the same programs on the same values must give the same answers.

Three sources of programs, each compared on forward value, dtype, shape, ``requires_grad`` and
the gradient of every input (``autograd.grad`` of ``(out * w).sum()`` with a fixed random ``w``,
so that non-uniform upstream gradients are exercised):

- every example of every entry in ``chainrule.ops.REGISTRY``, in float32 and float64, with inputs
  drawn from the entry's ``domain``;
- hypothesis-drawn broadcast shapes (0-d and size-1 dims included), dims and keepdim for the
  elementwise binary primitives and the reductions;
- the sample inputs of PyTorch's own OpInfo database for the ops chainrule provides.

The whole module is skipped when torch is not installed.
"""
import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import ops  # noqa: E402
from sampling import domains, sample  # noqa: E402

DTYPES = {"float32": (cr.float32, torch.float32), "float64": (cr.float64, torch.float64)}


# =========================================================================================
# Sampling and comparing
# =========================================================================================

def _tol(ref, precision):
    """(rtol, atol): tight in float64; in float32 an atol scaled to the reference's magnitude,
    since the two libraries sum in different orders.  ``precision`` is the dtype the values were
    computed in (a float64 gradient of a float32 computation is only float32-accurate)."""
    if precision == np.float64:
        return 1e-7, 1e-7
    scale = float(np.max(np.abs(ref), initial=0.0)) if ref.size else 0.0
    if not np.isfinite(scale):
        scale = 1.0
    return 1e-4, 1e-5 * max(scale, 1e-3)


def _check_close(got, ref, what, precision=None):
    """got (chainrule) against ref (torch): dtype, shape, values (NaNs must match)."""
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype}, torch gives {ref.dtype}"
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, torch gives {ref.shape}"
    if ref.dtype.kind in "biu":
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    if precision is None or precision.itemsize > ref.dtype.itemsize:
        precision = ref.dtype
    rtol, atol = _tol(ref, precision)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _np_of(t):
    if isinstance(t, cr.Tensor):
        return t.detach().numpy()
    return t.detach().cpu().resolve_conj().resolve_neg().numpy()


def _outputs(out):
    """The tensors an op returned, as a list (ops such as split or max(dim) return several)."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _compare(cr_out, t_out, cr_inputs, t_inputs, what, seed=0):
    """Forward values, then the gradient of sum(w * out) for every input, chainrule vs torch."""
    cr_outs, t_outs = _outputs(cr_out), _outputs(t_out)
    assert len(cr_outs) == len(t_outs), f"{what}: {len(cr_outs)} outputs, torch gives {len(t_outs)}"
    # the least precise float dtype anywhere in the computation bounds every result's accuracy
    floats = [t.dtype for t in t_inputs + t_outs if t.is_floating_point()]
    precision = np.dtype(np.float32 if torch.float32 in floats else np.float64)
    rng = np.random.default_rng(seed)
    cr_terms, t_terms = [], []
    for k, (c, t) in enumerate(zip(cr_outs, t_outs)):
        assert isinstance(c, cr.Tensor), f"{what}: output {k} is a {type(c).__name__}"
        _check_close(_np_of(c), _np_of(t), f"{what}: forward output {k}", precision)
        assert c.requires_grad == t.requires_grad, (
            f"{what}: output {k} requires_grad={c.requires_grad}, torch gives {t.requires_grad}")
        if t.requires_grad:
            w = rng.uniform(0.5, 1.5, tuple(t.shape))
            cr_terms.append((c * cr.tensor(w, dtype=c.dtype)).sum())
            t_terms.append((t * torch.tensor(w, dtype=t.dtype)).sum())
    if not t_terms:
        return
    want = [i for i, t in enumerate(t_inputs) if t.requires_grad]
    t_grads = torch.autograd.grad(sum(t_terms), [t_inputs[i] for i in want], allow_unused=True)
    cr_grads = cr.autograd.grad(sum(cr_terms), [cr_inputs[i] for i in want], allow_unused=True)
    for i, gc, gt in zip(want, cr_grads, t_grads):
        if gt is None or gc is None:
            assert gt is None and gc is None, (
                f"{what}: gradient of input {i} is {'None' if gc is None else 'a tensor'}, torch "
                f"gives {'None' if gt is None else 'a tensor'}")
            continue
        _check_close(_np_of(gc), _np_of(gt), f"{what}: gradient of input {i}", precision)


def _leaves(arrays, dtype):
    """The same values as chainrule and torch leaves requiring grad, in ``dtype``."""
    crd, td = DTYPES[dtype]
    xs = [cr.tensor(a, dtype=crd, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=td, requires_grad=True) for a in arrays]
    return xs, ts


def _eval_both(expr, cr_env, t_env):
    """``expr`` on torch and on chainrule; None when torch refuses it (chainrule must refuse too,
    with the same exception type)."""
    names = {"float": float, "inf": math.inf}
    try:
        t_out = eval(expr, names, t_env)
    except (TypeError, RuntimeError, IndexError, ValueError) as e:
        with pytest.raises(type(e)):
            eval(expr, names, cr_env)
        return None
    return eval(expr, names, cr_env), t_out


def _run_expr(expr, arrays, dtype, seed=0):
    xs, ts = _leaves(arrays, dtype)
    outs = _eval_both(expr, dict(zip("xyz", xs), m=cr), dict(zip("xyz", ts), m=torch))
    if outs is not None:
        _compare(*outs, xs, ts, f"{expr} on shapes {[np.shape(a) for a in arrays]}, {dtype}", seed)


# =========================================================================================
# 1. Every registry example, float32 and float64
# =========================================================================================

CASES = [(name, k, ex) for name, op in sorted(ops.REGISTRY.items())
         for k, ex in enumerate(op.examples)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,k,ex", CASES, ids=[f"{n}-{k}:{e[0]}" for n, k, e in CASES])
def test_registry_example_matches_torch(name, k, ex, dtype):
    op = ops.REGISTRY[name]
    shapes = ex[1:]
    rng = np.random.default_rng(k)
    arrays = [sample(s, d, rng) for s, d in zip(shapes, domains(op, len(shapes)))]
    _run_expr(ex[0], arrays, dtype, seed=k + 1)


# =========================================================================================
# 2. Hypothesis: broadcasting binaries and reductions over random shapes and dims
# =========================================================================================

HYPOTHESIS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

def _two_tensor_example(op):
    """The entry's first example call on two or more tensors (its public spelling)."""
    return next((ex for ex in op.examples if len(ex) >= 3), None)


# every elementwise entry with several inputs, picked by its kind: a new one is tested here too
BINARY = {name: _two_tensor_example(op) for name, op in sorted(ops.REGISTRY.items())
          if op.kind == "elementwise" and not op.nary and len(op.vjps) >= 2
          and _two_tensor_example(op) is not None}


@pytest.mark.parametrize("name", sorted(BINARY))
@HYPOTHESIS
@given(data=st.data())
def test_broadcasting_binary_matches_torch(name, data):
    example = BINARY[name]
    n = len(example) - 1
    min_side = data.draw(st.sampled_from([1, 1, 1, 0]), label="min_side")   # sometimes empty
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=4,
                                                         min_side=min_side, max_side=3),
                       label="shapes").input_shapes
    # each input in its own float dtype: exercises promotion, where 0-d tensors don't count
    dtypes = data.draw(st.lists(st.sampled_from(["float32", "float64"]), min_size=n, max_size=n),
                       label="dtypes")
    # sometimes x or y is a Python number instead (it never widens a float tensor's dtype); not
    # for a loss (torch crashes with AttributeError on a number there, chainrule says TypeError),
    # nor as remainder's dividend (torch has no derivative for the divisor then, chainrule does)
    numbers = [None, None, "x", "y"]
    if "nn.functional" in example[0]:
        numbers = [None]
    elif name == "remainder":
        numbers = [None, None, "y"]
    number = data.draw(st.sampled_from(numbers), label="python number")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    doms = domains(ops.REGISTRY[name], n)
    arrays = [sample(s, d, rng) for s, d in zip(shapes, doms)]
    cr_env, t_env, xs, ts = {"m": cr}, {"m": torch}, [], []
    for v, a, dt in zip("xyz", arrays, dtypes):
        if v == number:
            cr_env[v] = t_env[v] = float(np.ravel(a)[0]) if a.size else 1.5
            continue
        xs.append(cr.tensor(a, dtype=DTYPES[dt][0], requires_grad=True))
        ts.append(torch.tensor(a, dtype=DTYPES[dt][1], requires_grad=True))
        cr_env[v], t_env[v] = xs[-1], ts[-1]
    expr = example[0]
    outs = _eval_both(expr, cr_env, t_env)   # torch.maximum(1.5, x) is refused by both
    if outs is not None:
        _compare(*outs, xs, ts,
                 f"{expr} on shapes {shapes}, dtypes {dtypes}, {number or 'no'} Python number")


@st.composite
def _dims(draw, ndim, allow_none=True, allow_tuple=True, allow_empty=False):
    """A torch dim argument for a tensor of ``ndim`` dims: None, an int, or a tuple of ints."""
    n = max(ndim, 1)
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    axes = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=0 if allow_empty else 1,
                         max_size=n))
    return tuple(a - n if draw(st.booleans()) else a for a in axes)


def _reduced_count(shape, dim):
    if dim is None or (isinstance(dim, tuple) and not dim):
        return int(np.prod(shape))
    dims = dim if isinstance(dim, tuple) else (dim,)
    return int(np.prod([shape[d] for d in dims])) if shape else 1


def _call(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _draw_reduction(draw, name, shape):
    """(expression, domain) for one random call of reduction ``name`` on a tensor of ``shape``."""
    nd = len(shape)
    keepdim = draw(st.booleans())
    if name in ("softmax", "log_softmax"):
        return f"x.{name}({_call({'dim': draw(_dims(nd, False, False))})})", (-3.0, 3.0)
    if name in ("max_dim", "min_dim"):         # max/min over a dim: the values of the pair
        dim = draw(_dims(nd, allow_none=False, allow_tuple=False))
        return f"x.{name[:3]}({_call({'dim': dim, 'keepdim': keepdim})}).values", (-2.0, 2.0)
    if name in ("sum", "mean", "amax", "amin"):
        dim = draw(_dims(nd, allow_none=name not in ("amax", "amin"), allow_empty=True))
        if dim is None:
            return f"x.{name}()", (-2.0, 2.0)
        return f"m.{name}(x, {_call({'dim': dim, 'keepdim': keepdim})})", (-2.0, 2.0)
    if name == "prod":               # torch's prod takes one int dim (or none)
        dim = draw(_dims(nd, allow_tuple=False))
        if dim is None:
            return "x.prod()", (0.5, 1.5)
        return f"x.prod({_call({'dim': dim, 'keepdim': keepdim})})", (0.5, 1.5)
    if name == "logsumexp":
        dim = draw(_dims(nd, allow_none=False))
        return f"m.logsumexp(x, {_call({'dim': dim, 'keepdim': keepdim})})", (-3.0, 3.0)
    if name in ("var", "std"):
        dim = draw(_dims(nd))
        correction = draw(st.sampled_from([0, 1, 2]))
        if _reduced_count(shape, dim) <= correction:
            correction = 0           # no degrees of freedom left: NaN/inf, not compared here
        return (f"x.{name}({_call({'dim': dim, 'keepdim': keepdim, 'correction': correction})})",
                (-2.0, 2.0))
    if name == "norm":
        p = draw(st.sampled_from([2, 1, 3, 0.5, float("inf")]))
        dim = draw(_dims(nd))
        return (f"x.norm({_call({'p': p, 'dim': dim, 'keepdim': keepdim})})",
                (-2.0, 2.0, [0.0]))
    if name in ("cumsum", "cumprod", "logcumsumexp"):     # issue #12's scans, along one dim
        dim = draw(_dims(nd, allow_none=False, allow_tuple=False))
        return f"x.{name}({dim})", (0.5, 1.5) if name == "cumprod" else (-3.0, 3.0)
    raise AssertionError(name)


REDUCTIONS = ["sum", "mean", "amax", "amin", "max_dim", "min_dim", "prod", "logsumexp", "var",
              "std", "norm", "softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp"]


def test_every_reduction_entry_is_drawn_here():
    """The registry's reductions and ops along a dim, by kind, all run in the test below: a new
    one fails here until _draw_reduction knows its arguments."""
    by_kind = {name for name, op in ops.REGISTRY.items() if op.kind in ("reduction", "along_dim")}
    assert by_kind <= set(REDUCTIONS), sorted(by_kind - set(REDUCTIONS))


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")   # empty var/std: both warn
@pytest.mark.parametrize("name", REDUCTIONS)
@HYPOTHESIS
@given(data=st.data())
def test_reduction_matches_torch(name, data):
    min_side = data.draw(st.sampled_from([1, 1, 1, 0]), label="min_side")   # sometimes empty
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=min_side, max_side=4),
                      label="shape")
    expr, domain = _draw_reduction(data.draw, name, shape)
    data.draw(st.just(expr), label="expr")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = sample(shape, domain, rng)
    if name == "prod" and x.size > 1 and data.draw(st.booleans(), label="zeros"):
        # zeros take prod's other gradient path (the product of the other elements)
        x.reshape(-1)[rng.choice(x.size, data.draw(st.integers(1, 2)), replace=False)] = 0.0
    _run_expr(expr, [x], dtype)


# =========================================================================================
# 3. PyTorch's OpInfo database
# =========================================================================================

def _vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """linalg.vector_norm(x, ord, dim, keepdim) is chainrule's norm(x, p=ord, dim, keepdim)."""
    return cr.norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def _method(name):
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


# (OpInfo name, variant_test_name) -> the chainrule callable taking the same arguments
OPINFO_OPS = {
    **{(n, ""): getattr(cr, n) for n in [
        "add", "sub", "mul", "true_divide", "pow", "exp", "log", "log1p", "expm1",
        "sin", "cos", "tan", "tanh", "sigmoid", "sqrt", "rsqrt", "reciprocal", "abs", "neg",
        "sign", "floor", "ceil", "round", "trunc", "square", "clamp", "maximum", "minimum",
        "fmod", "remainder", "sum", "mean", "amax", "amin", "prod", "logsumexp", "var",
        "std", "softmax", "log_softmax", "norm", "matmul", "mm", "bmm", "dot", "outer",
        "reshape", "permute", "transpose", "squeeze", "unsqueeze", "expand", "flip", "repeat",
        "cat", "stack", "flatten", "t", "clone", "narrow", "split", "chunk", "unbind"]},
    ("div", "no_rounding_mode"): cr.div,
    ("div", "trunc_rounding"): cr.div,
    ("div", "floor_rounding"): cr.div,
    ("round", "decimals_0"): cr.round,
    ("round", "decimals_3"): cr.round,
    ("round", "decimals_neg_3"): cr.round,
    ("var", "unbiased"): cr.var,
    ("std", "unbiased"): cr.std,
    ("softmax", "with_dtype"): cr.softmax,
    ("log_softmax", "with_dtype"): cr.log_softmax,
    ("squeeze", "multiple"): cr.squeeze,
    ("split", "list_args"): cr.split,
    ("max", "reduction_with_dim"): cr.max,
    ("max", "reduction_no_dim"): cr.max,
    ("max", "binary"): cr.max,
    ("min", "reduction_with_dim"): cr.min,
    ("min", "reduction_no_dim"): cr.min,
    ("min", "binary"): cr.min,
    ("norm", "fro"): cr.norm,
    ("norm", "inf"): cr.norm,
    ("nn.functional.relu", ""): cr.relu,
    ("linalg.vector_norm", ""): _vector_norm,
    ("view", ""): _method("view"),
    ("view_as", ""): _method("view_as"),
    ("reshape_as", ""): _method("reshape_as"),
    ("expand_as", ""): _method("expand_as"),
    ("T", ""): lambda x: x.T,
    ("mT", ""): lambda x: x.mT,
    ("__getitem__", ""): lambda x, index: x[index],
    ("where", ""): lambda x, condition, other: cr.where(condition, x, other),  # OpInfo's order
}

MAX_SAMPLES = 60         # per op (linalg.vector_norm alone has 180): keeps the module near 20 s

# Keyword arguments for what chainrule leaves out on purpose; samples using them are skipped.
_UNSUPPORTED_KWARGS = {"out", "memory_format", "device", "layout", "pin_memory"}


@pytest.fixture(scope="module")
def op_db():
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except Exception as e:           # needs expecttest, and internals move between releases
        pytest.skip(f"torch's OpInfo database is not importable: {e}")
    return {(o.name, o.variant_test_name): o for o in op_db}


def _to_cr(v, leaves):
    """A torch value (tensor, dtype, nested list/tuple, number) as its chainrule counterpart;
    tensors requiring grad become chainrule leaves, recorded in ``leaves`` as (torch, chainrule)."""
    if isinstance(v, torch.Tensor):
        for t, c in leaves:          # one torch tensor passed twice is one chainrule leaf
            if t is v:
                return c
        if v.is_complex():
            raise _Unsupported("complex tensor")
        if v.device.type != "cpu":
            raise _Unsupported(f"device {v.device}")
        a = _np_of(v).copy()
        t = cr.tensor(a, requires_grad=v.requires_grad and v.is_floating_point())
        if t.requires_grad:
            leaves.append((v, t))
        return t
    if isinstance(v, torch.dtype):
        if v.is_complex:
            raise _Unsupported("complex dtype")
        return getattr(cr, str(v).split(".")[-1])
    if isinstance(v, torch.memory_format):
        raise _Unsupported("memory_format")
    if isinstance(v, torch.Size):
        return tuple(v)
    if isinstance(v, (list, tuple)):
        return type(v)(_to_cr(e, leaves) for e in v)
    if isinstance(v, complex):
        raise _Unsupported("complex scalar")
    return v


class _Unsupported(Exception):
    """A sample uses a feature chainrule leaves out on purpose."""


def _accepts(fn, kwargs):
    """The keyword arguments of ``kwargs`` that ``fn`` does not take."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    named = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return [k for k in kwargs if k not in named]


OPINFO_IDS = [f"{n}.{v}" if v else n for n, v in OPINFO_OPS]


@pytest.mark.parametrize("key", list(OPINFO_OPS), ids=OPINFO_IDS)
def test_opinfo_samples_match_torch(key, op_db):
    if key not in op_db:
        pytest.skip(f"torch {torch.__version__} has no OpInfo {key}")
    opinfo, fn = op_db[key], OPINFO_OPS[key]
    failures, skipped, ran = [], {}, 0
    samples = opinfo.sample_inputs("cpu", torch.float64, requires_grad=True)
    for k, case in enumerate(samples):
        if ran >= MAX_SAMPLES:
            break
        what = f"{key[0]} sample {k}: {case.summary() if hasattr(case, 'summary') else case}"
        leaves = []
        inp, args, kwargs = case.input, case.args, case.kwargs     # read once: the same objects
        try:
            bad = [n for n in kwargs if n in _UNSUPPORTED_KWARGS] + _accepts(fn, kwargs)
            if bad:
                raise _Unsupported(f"keyword argument(s) {sorted(set(bad))}")
            cr_input = _to_cr(inp, leaves)
            cr_args = _to_cr(tuple(args), leaves)
            cr_kwargs = {n: _to_cr(v, leaves) for n, v in kwargs.items()}
        except _Unsupported as e:
            skipped[str(e)] = skipped.get(str(e), 0) + 1
            continue
        ran += 1
        t_out = opinfo.op(inp, *args, **kwargs)
        try:
            cr_out = fn(cr_input, *cr_args, **cr_kwargs)
            t_leaves = [t for t, _ in leaves]
            _compare(cr_out, t_out, [c for _, c in leaves], t_leaves, what, seed=k)
        except Exception as e:       # collect them all: one report per op, every sample named
            failures.append(f"{what}\n    {type(e).__name__}: {str(e).strip()[:600]}")
    assert not failures, (f"{len(failures)} of {ran} samples differ from torch:\n"
                          + "\n".join(failures))
    if ran == 0:
        pytest.skip(f"no sample chainrule supports: {skipped}")


# =========================================================================================
# 4. What Python's operators record: grad_fn names and next_functions, as torch's
# =========================================================================================

OPERATOR_PROGRAMS = ["3 * v", "v * 3", "3 + v", "v + 3", "3 - v", "v - 3", "3 / v", "v / 3",
                     "2 ** v", "v ** 2", "v ** w", "v - w", "v / w", "-v", "v.pow(2)",
                     "m.pow(2, v)", "m.sub(3, v)", "m.mul(3, v)", "m.rsub(v, 3)", "m.rsub(v, w)",
                     "v @ w", "(v * w).sum()", "v[0]", "v.exp()"]


def _graph_shape(fn, depth=2):
    """(name, [child shapes...]) of a grad_fn, ``depth`` levels down; None for no edge."""
    if fn is None:
        return None
    name = type(fn).__name__ if type(fn).__name__ != "Node" else fn.name()
    if depth == 0 or not hasattr(fn, "next_functions"):
        return name
    return (name, [_graph_shape(f, depth - 1) for f, _ in fn.next_functions])


@pytest.mark.parametrize("program", OPERATOR_PROGRAMS)
def test_operators_record_torchs_graph(program):
    def build(m):
        a = m.tensor([5., 2.], requires_grad=True)
        w = m.tensor([2., 1.], requires_grad=True)
        v = a + 1
        return eval(program, {"m": m, "v": v, "w": w})

    got, ref = build(cr), build(torch)
    assert _graph_shape(got.grad_fn) == _graph_shape(ref.grad_fn)
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("upstream", [[1., 2., 3., 4.], [math.inf, math.inf, math.nan, 1.]])
@pytest.mark.parametrize("values", [[math.nan, -1., 0., 2.], [1., -1., 0., 2.]])
def test_masked_gradients_keep_torchs_nan_and_inf(values, upstream):
    # relu/clamp rules mask g branch-free (g·mask); a masked inf must still give 0, as torch
    for fn in ("relu", "clamp"):
        x = cr.tensor(values, requires_grad=True)
        t = torch.tensor(values, requires_grad=True)
        args = {"clamp": {"min": 0.0}}.get(fn, {})
        getattr(cr, fn)(x, **args).backward(cr.tensor(upstream))
        getattr(torch, fn)(t, **args).backward(torch.tensor(upstream))
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
