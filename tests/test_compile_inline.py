"""chainrule.compile's backward writes elementwise rules out as ufunc calls that may reuse dead
buffers (compiler/inline.py): the same bits as the rules, and never a buffer someone else holds."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule._fns import ArrayF
from chainrule.compiler.codegen import Site
from chainrule.compiler.inline import ARRAY, Ufunc, place, trace_rule

RNG = np.random.default_rng(11)
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, 65504.0, -1.0, 1.0])


def _traced():
    """(name, i, rule, arity) of every registry rule ``trace_rule`` writes out."""
    found = []
    for name, op in sorted(ops.REGISTRY.items()):
        if op.nary or getattr(op, "kind", None) != "elementwise":
            continue
        for i, rule in enumerate(op.vjps):
            for arity in (1, 2):
                args = [ARRAY, ARRAY] + [ARRAY] * arity
                if trace_rule(rule, args, {}) is not None:
                    found.append((name, i, rule, arity))
                    break
    return found


TRACED = _traced()


def test_the_common_rules_are_written_out():
    names = {(n, i) for n, i, _, _ in TRACED}
    for want in [("mul", 0), ("mul", 1), ("div", 0), ("div", 1), ("exp", 0), ("log1p", 0),
                 ("sin", 0), ("cos", 0), ("tanh", 0), ("neg", 0), ("sqrt", 0), ("add", 0)]:
        assert want in names
    # a rule with a comparison or where() is called, not written out
    assert ("relu", 0) not in names and ("maximum", 0) not in names


def _run(ops_, result, arrays):
    values = list(arrays)
    for fn, operands in ops_:
        vals = [values[o.n] if hasattr(o, "n") else o for o in operands]
        values.append(vals[0] ** vals[1] if fn == "**" else fn(*vals))
    return values[result]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name,i,rule,arity", TRACED, ids=[f"{n}-{i}" for n, i, _, _ in TRACED])
def test_written_out_rule_gives_the_rules_bits(name, i, rule, arity, dtype):
    n = 64
    arrays = []
    for _ in range(2 + arity):
        a = RNG.uniform(-3, 3, n)
        a[:len(SPECIAL)] = RNG.permutation(SPECIAL)
        arrays.append(a.astype(dtype))
    ops_, result = trace_rule(rule, [ARRAY] * (2 + arity), {})
    with np.errstate(all="ignore"):
        want = rule(ArrayF, *arrays)
        got = _run(ops_, result, arrays)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)    # NaN in the same places, else the same bits


def _grads(fn, xs, g=None, compiled=True, retain=False):
    f = cr.compile(fn) if compiled else fn
    out = None
    for _ in range(3 if compiled else 1):        # record, first replay, specialized replay
        ts = [cr.tensor(x, requires_grad=True) for x in xs]
        out = f(*ts)
        out.backward(g, retain_graph=retain)
        if retain:
            out.backward(g)
    return [t.grad.numpy() for t in ts], f


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_in_place_backward_matches_eager_bitwise(dtype):
    x = RNG.standard_normal(300).astype(dtype)
    y = RNG.uniform(0.5, 2, 300).astype(dtype)

    def fn(x, y):
        # x used five times, y three: gradients added up in place; sin·exp chains rules
        a = cr.sin(x) * cr.exp(-x ** 2) + cr.log1p(x ** 2)
        b = cr.tanh(x * y) / y + cr.sqrt(y) * x
        return (a * b).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, f = _grads(fn, [x, y])
    want, _ = _grads(fn, [x, y], compiled=False)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    back = f.explain().split("def backward_0")[1]
    assert "out=" in back           # the point of it: results written into dead buffers


def test_retain_graph_backward_twice_reads_unchanged_saved_values():
    x = RNG.standard_normal(50)
    fn = lambda x: (cr.exp(x) * cr.sin(x)).sum()    # noqa: E731
    got, _ = _grads(fn, [x], retain=True)
    want, _ = _grads(fn, [x], compiled=False, retain=True)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[0], 2 * (np.exp(x) * (np.sin(x) + np.cos(x))), rtol=1e-13)


def test_the_callers_gradient_is_never_written():
    x = RNG.standard_normal(40)
    g = cr.tensor(RNG.standard_normal(40))
    keep = g.numpy().copy()
    fn = lambda x: cr.exp(-x) * 3.0     # noqa: E731 - every rule's first operand is g
    e = cr.tensor(x, requires_grad=True)
    fn(e).backward(g)
    f = cr.compile(fn)
    for _ in range(3):
        t = cr.tensor(x, requires_grad=True)
        f(t).backward(g)
        np.testing.assert_array_equal(g.numpy(), keep)
        np.testing.assert_array_equal(t.grad.numpy(), e.grad.numpy())
    np.testing.assert_allclose(t.grad.numpy(), keep * np.exp(-x) * -3.0, rtol=1e-14)


def test_two_inputs_given_one_array_get_their_own_grads():
    # (a + b)·w: add's rule hands both inputs the same array; each .grad must be its own
    w = cr.full((3,), 2.0)
    f = cr.compile(lambda a, b: ((a + b) * w).sum())
    for _ in range(3):
        a, b = cr.ones(3, requires_grad=True), cr.ones(3, requires_grad=True)
        f(a, b).backward()
    with cr.no_grad():
        a.grad += 1
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0, 2.0])


def test_pow_two_is_x_times_x_as_torch():
    x = RNG.standard_normal(1000).astype(np.float32)
    t = cr.tensor(x, requires_grad=True)
    y = t ** 2
    np.testing.assert_array_equal(y.detach().numpy(), x * x)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2 * x)
    torch = pytest.importorskip("torch")
    tt = torch.tensor(x, requires_grad=True)
    (tt ** 2).sum().backward()
    np.testing.assert_array_equal((tt ** 2).detach().numpy(), y.detach().numpy())
    np.testing.assert_array_equal(tt.grad.numpy(), t.grad.numpy())


def test_a_buffer_handed_to_a_called_rule_is_never_written_again():
    # a called rule may return a view of the gradient it is given (reshape's does): once a
    # buffer went to one, no later result may be written into it, though its name is dead
    def lines(call):
        return [Ufunc("t0", "np_negative", ["g"]),
                Ufunc("g4", "np_multiply", ["t0", "v1"]),
                Site(0, "g3", None, call, "(3, 4)", "dt", 0),
                Ufunc("g5", "np_multiply", ["g4", "v2"]),
                Ufunc("g_x0", "np_add", ["g5", "g3"]),
                "    return (g_x0, )"]
    free = lines("other_vjp0(F, g1, None)")
    place(free, keep=False)
    assert free[1].out == "t0" and free[3].out == "g4" and free[4].out == "g5"
    handed = lines("reshape_vjp0(F, g4, None, shape=(3, 4))")
    place(handed, keep=False)
    assert handed[1].out == "t0" and handed[3].out is None and handed[4].out == "g5"


def test_compiled_backward_with_views_matches_eager_bitwise():
    def f(x):
        a = x * 3.0
        v = cr.exp(a)
        r = (v * 2.0).reshape(3, 4)
        return (r * r.detach()).sum() + (v * cr.sin(a)).sum()

    x = RNG.standard_normal(12)
    got, c = _grads(f, [x])
    want, _ = _grads(f, [x], compiled=False)
    np.testing.assert_array_equal(got[0], want[0])


def test_buffers_kept_between_calls_never_reach_a_result():
    # the backward's temporaries live in arrays the program keeps (P): a gradient it returned
    # must not be one of them, or the next call would overwrite a .grad the user holds
    fn = lambda x: (cr.sin(x) * cr.exp(-x ** 2) + cr.log1p(x ** 2)).sum()   # noqa: E731
    f = cr.compile(fn, mode="reduce-overhead")
    xs = [RNG.standard_normal(100) for _ in range(4)]
    grads = []
    for x in xs:
        t = cr.tensor(x, requires_grad=True)
        f(t).backward()
        grads.append(t.grad)
    assert "out=P[" in f.explain()
    for x, g in zip(xs, grads):
        e = cr.tensor(x, requires_grad=True)
        fn(e).backward()
        np.testing.assert_array_equal(g.numpy(), e.grad.numpy())


def test_two_calls_backward_in_turn_with_their_graphs_retained():
    # two live calls of one program, their backwards interleaved: each takes the kept
    # buffers in turn and gets its own gradients
    fn = lambda x: (cr.tanh(x) * cr.cos(x)).sum()   # noqa: E731
    f = cr.compile(fn, mode="reduce-overhead")
    f(cr.ones(5, requires_grad=True)).backward()
    a, b = cr.tensor(RNG.standard_normal(5), requires_grad=True), \
        cr.tensor(RNG.standard_normal(5), requires_grad=True)
    la, lb = f(a), f(b)
    la.backward(retain_graph=True)
    lb.backward(retain_graph=True)
    la.backward()
    lb.backward()
    for t in (a, b):
        e = cr.tensor(t.detach().numpy(), requires_grad=True)
        fn(e).backward()
        np.testing.assert_array_equal(t.grad.numpy(), 2 * e.grad.numpy())


def test_only_the_workspace_keeping_modes_keep_buffers():
    fn = lambda x: (cr.sin(x) * cr.exp(x)).sum()    # noqa: E731
    sources = {}
    for mode in (None, "default", "reduce-overhead", "max-autotune"):
        f = cr.compile(fn, mode=mode)
        for _ in range(3):
            f(cr.ones(4, requires_grad=True)).backward()
        sources[mode] = f.explain()
    assert "out=P[" not in sources[None] and "out=P[" not in sources["default"]
    assert "out=P[" in sources["reduce-overhead"] and "out=P[" in sources["max-autotune"]
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast, should be one of: default"):
        cr.compile(fn, mode="fast")


def test_a_recording_holds_no_array_of_its_call_until_the_first_replay():
    # the code is written at the first replay, from a recording that kept only shapes,
    # dtypes and each node's skeleton: none of the recording call's arrays stays behind
    import tracemalloc
    x = cr.ones(1 << 16)                                    # 256 KiB
    f = cr.compile(lambda x: (x.exp() * 2.0 + x).sum())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        f(x)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < (1 << 16) * 4 // 2, f"the recording holds {held} bytes"
    assert f(x).item() == pytest.approx(float(np.float32(np.e * 2 + 1)) * (1 << 16), rel=1e-5)
