"""PyTorch's own test samples (its OpInfo database) run on chainrule.

For every OpInfo whose name chainrule has (``atan2``, ``linalg.inv``, ``special.erfcx``,
``nn.functional.conv2d``, ...), each of its float64 CPU samples runs through torch and through
chainrule: the outputs must agree, and so must the gradients of ``sum(out * w)`` (fixed random
``w``) for the inputs that torch differentiates.  The method form (``x.atan2(y)``) runs too where
both libraries have it.

An op that fails on some of its samples is listed in ``KNOWN`` with the reason; those tests are
strict xfails, so fixing one makes its test fail until the entry goes.  Skipped without torch.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
common = pytest.importorskip("torch.testing._internal.common_methods_invocations")

import chainrule as cr  # noqa: E402

MAX_SAMPLES = 12
# ops whose results are random, uninitialised or about memory layout: no value to compare
UNCOMPARABLE = {"normal", "bernoulli", "multinomial", "rand_like", "randn_like", "randint_like",
                "randint", "randn", "rand", "uniform", "exponential", "geometric", "cauchy",
                "log_normal", "nn.functional.rrelu", "empty", "empty_like", "new_empty",
                "empty_strided", "new_empty_strided", "empty_permuted", "bfloat16", "cdouble",
                "cfloat", "chalf", "resize_", "resize_as_", "contiguous", "data_ptr",
                "storage_offset", "stride", "randperm", "item"}
UNCOMPARABLE_PREFIXES = ("nn.functional.dropout", "nn.functional.alpha_dropout",
                         "nn.functional.feature_alpha_dropout", "_")

# op id -> why some of its samples differ (strict xfail: remove the entry once it passes)
KNOWN = {
    "nn.functional.batch_norm": "an empty 1-d input: torch returns it, chainrule refuses 1-d inputs",
    "norm.nuc": "p='nuc' (the nuclear norm) is not supported by norm (linalg.matrix_norm has it)",
    "as_strided.partial_views": "the sample is a view into a larger storage, which torch's "
                                "as_strided reads past; chainrule's copy of it has no such storage",
    "as_strided_scatter": "torch's input gradient is non-zero where src overwrites the input "
                          "(chainrule's is the true derivative: zero there)",
    "gather": "an empty uint8 index: torch accepts it, chainrule asks for int32/int64",
    "index_fill": "repeated indices: torch adds value's gradient once per repetition (chainrule "
                  "once per filled element, the true derivative)",
    "histogramdd": "bin edges that decrease: torch does not check them, chainrule refuses them",
    "linalg.eigh": "eigenvector signs come from NumPy's LAPACK call and can differ from torch's",
    "linalg.pinv.hermitian": "the sample matrix is not symmetric, so hermitian=True's gradient "
                             "is not a derivative of anything; torch's and chainrule's differ",
}


def _resolve(root, name):
    obj = root
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _ops():
    out = []
    for info in common.op_db:
        name = info.name
        if name in UNCOMPARABLE or name.startswith(UNCOMPARABLE_PREFIXES):
            continue
        if torch.float64 not in info.supported_dtypes("cpu"):
            continue
        if _resolve(torch, name) is not info.op or _resolve(cr, name) is None:
            continue
        oid = name + ("." + info.variant_test_name if info.variant_test_name else "")
        out.append(pytest.param(info, id=oid,
                                marks=[pytest.mark.xfail(reason=KNOWN[oid], strict=True)]
                                if oid in KNOWN else []))
    return out


class _Unsupported(Exception):
    pass


def _to_cr(v, leaves):
    """A torch sample argument as chainrule's; tensors that require grad are collected."""
    if isinstance(v, torch.Tensor):
        if v.is_complex() or v.layout != torch.strided:
            raise _Unsupported("complex or sparse")
        t = cr.tensor(v.detach().numpy().copy())
        if v.requires_grad:
            t.requires_grad_(True)
            leaves.append((v, t))
        return t
    if isinstance(v, torch.dtype):
        d = getattr(cr, str(v).split(".")[-1], None)
        if not isinstance(d, cr.dtype):
            raise _Unsupported(f"dtype {v}")
        return d
    if isinstance(v, torch.Size):
        return tuple(v)
    if isinstance(v, (torch.device, torch.memory_format, torch.layout, torch.Generator)):
        raise _Unsupported(type(v).__name__)
    if isinstance(v, (list, tuple)):
        items = [_to_cr(x, leaves) for x in v]
        return type(v)(items) if type(v) in (list, tuple) else tuple(items)
    if isinstance(v, dict):
        return {k: _to_cr(x, leaves) for k, x in v.items()}
    if callable(v):
        raise _Unsupported("callable argument")
    return v


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return [out]


def _value(x):
    if isinstance(x, (torch.Tensor, cr.Tensor)):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def _compare(name, got, want):
    g, w = _flat(got), _flat(want)
    assert len(g) == len(w), f"{name}: {len(g)} outputs, torch gives {len(w)}"
    for a, b in zip(g, w):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, cr.Tensor), f"{name}: {type(a).__name__}, torch gives a tensor"
            assert tuple(a.shape) == tuple(b.shape), f"{name}: shape {tuple(a.shape)}, torch " \
                                                     f"gives {tuple(b.shape)}"
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], \
                f"{name}: dtype {a.dtype}, torch gives {b.dtype}"
        np.testing.assert_allclose(_value(a).astype(float) if _value(a).dtype == bool else
                                   _value(a), _value(b).astype(float) if _value(b).dtype == bool
                                   else _value(b), rtol=1e-6, atol=1e-7, equal_nan=True,
                                   err_msg=name)


def _grads_agree(name, cr_out, t_out, leaves):
    pairs = [(a, b) for a, b in zip(_flat(cr_out), _flat(t_out))
             if isinstance(b, torch.Tensor) and b.requires_grad and b.dtype.is_floating_point]
    if not pairs or not leaves:
        return
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    t_loss = sum((b * torch.tensor(w)).sum() for (_, b), w in zip(pairs, ws))
    t_grads = torch.autograd.grad(t_loss, [v for v, _ in leaves], allow_unused=True)
    for (a, _), w in zip(pairs, ws):
        assert isinstance(a, cr.Tensor) and (a.requires_grad or not a.shape.numel()), \
            f"{name}: chainrule's output does not require grad; torch's does"
    live = [(a, w) for (a, _), w in zip(pairs, ws) if a.requires_grad]
    if not live:
        return
    c_loss = sum((a * cr.tensor(w)).sum() for a, w in live)
    c_grads = cr.autograd.grad(c_loss, [t for _, t in leaves], allow_unused=True)
    for (v, _), cg, tg in zip(leaves, c_grads, t_grads):
        # (torch may return a ZeroTensor, which converts only with force=True)
        want = np.zeros(tuple(v.shape)) if tg is None else tg.numpy(force=True)
        got = np.zeros(tuple(v.shape)) if cg is None else cg.numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True,
                                   err_msg=f"{name}: gradient")


@pytest.mark.parametrize("info", _ops())
def test_opinfo_samples(info):
    cr_fn = _resolve(cr, info.name)
    samples = list(info.sample_inputs("cpu", torch.float64, requires_grad=True))[:MAX_SAMPLES]
    ran = 0
    for s in samples:
        leaves = []
        try:
            inp = _to_cr(s.input, leaves)
            args = _to_cr(list(s.args), leaves)
            kwargs = _to_cr(dict(s.kwargs), leaves)
        except _Unsupported:
            continue
        try:
            want = info.op(s.input, *s.args, **s.kwargs)
        except Exception:           # torch refuses this sample: nothing to compare
            continue
        label = f"{info.name}({_describe(s)})"
        got = cr_fn(inp, *args, **kwargs)
        _compare(label, got, want)
        if info.supports_autograd:
            _grads_agree(label, got, want, leaves)
        method = info.method_variant
        if method is not None and isinstance(inp, cr.Tensor) and hasattr(cr.Tensor, info.name):
            _compare(label + " as a method", getattr(inp, info.name)(*args, **kwargs),
                     want)
        ran += 1
    if not ran:
        pytest.skip("no sample chainrule can take (complex, sparse or devices)")


def _describe(s):
    def d(v):
        if isinstance(v, torch.Tensor):
            return f"tensor{tuple(v.shape)}"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(d(x) for x in v) + "]"
        return repr(v)
    parts = [d(s.input)] + [d(a) for a in s.args] + [f"{k}={d(v)}" for k, v in s.kwargs.items()]
    return ", ".join(parts)
