"""gradcheck, gradgradcheck and check_derivation.

- every registry example passes gradcheck in float64, in slow and fast mode;
- PyTorch's verdicts and messages (cases 98-101 of shared/reference/catalogue_table.md), checked
  on chainrule with literal expectations and, where torch is importable, on torch too;
- the culprit: a mismatch names the first node whose local derivative is wrong;
- check_derivation on the lecture's Exercise 4.4.
"""
import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from chainrule.autograd import gradcheck as gradcheck_module_function
from test_registry import CASES, _inputs

gc_module = __import__("chainrule.autograd.gradcheck", fromlist=["gradcheck"])
culprit_module = __import__("chainrule.autograd._culprit", fromlist=["_NodeAlone"])


def _f64(values, requires_grad=True):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


# --- every registry op --------------------------------------------------------------------

@pytest.mark.parametrize("name,k,ex", CASES, ids=[f"{n}-{k}:{e[0]}" for n, k, e in CASES])
def test_every_registry_example_passes_gradcheck(name, k, ex):
    xs = tuple(cr.tensor(a, dtype=cr.float64, requires_grad=True)
               for a in _inputs(ops.REGISTRY[name], ex))

    def func(*ts):
        return eval(ex[0], {"float": float}, dict(zip("xyz", ts), m=cr))
    assert gradcheck(func, xs) is True
    assert gradcheck(func, xs, fast_mode=True) is True


# --- PyTorch's verdicts: the same programs on chainrule and on torch -----------------------

def _functions(m):
    """The user-defined Functions of the scenarios, for library ``m`` (chainrule or torch)."""

    class BadSquare(m.autograd.Function):        # case 99: backward forgets the factor 2
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class DetachedExp(m.autograd.Function):      # right first derivative, wrong second
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y.detach()

    class IgnoresGrad(m.autograd.Function):      # returns ∂out/∂x, not g·∂out/∂x
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return m.ones_like(x) * 3

    class Noisy(m.autograd.Function):            # a backward that is not deterministic
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (2 + m.rand(x.shape, dtype=x.dtype) * 1e-9)

    return BadSquare, Exp, DetachedExp, IgnoresGrad, Noisy


def _t(m, values, dtype="float64"):
    return m.tensor(values, dtype=getattr(m, dtype), requires_grad=True)


X3 = [0.3, -1.2, 0.8]

# (name, program(m, gradcheck, gradgradcheck) -> verdict, expected verdict)
SCENARIOS = [
    ("case98_tanh_float64", lambda m, gc, ggc: gc(m.tanh, (_t(m, X3),)), True),
    ("case98_tanh_float32", lambda m, gc, ggc: gc(m.tanh, (_t(m, X3, "float32"),),
                                                 raise_exception=False), False),
    ("case99_wrong_backward", lambda m, gc, ggc: gc(_functions(m)[0].apply, (_t(m, X3),),
                                                    raise_exception=False), False),
    ("case99_wrong_backward_fast", lambda m, gc, ggc: gc(_functions(m)[0].apply, (_t(m, X3),),
                                                         raise_exception=False, fast_mode=True),
     False),
    ("case100_abs_at_0", lambda m, gc, ggc: gc(m.abs, (_t(m, [0.0, 1.0]),)), True),
    ("case101_relu_at_0", lambda m, gc, ggc: gc(m.relu, (_t(m, [0.0, 1.0]),),
                                                raise_exception=False), False),
    ("clamp_at_its_bound", lambda m, gc, ggc: gc(lambda x: x.clamp(0.0, 1.0), (_t(m, [0.0, 0.5]),),
                                                 raise_exception=False), False),
    ("max_with_a_tie", lambda m, gc, ggc: gc(lambda x: x.max(), (_t(m, [1.0, 1.0, 0.0]),)), True),
    ("two_outputs", lambda m, gc, ggc: gc(lambda x, y: (x * y, (x + y).sin()),
                                          (_t(m, X3), _t(m, [0.5, 0.1, 2.0]))), True),
    ("non_tensor_input", lambda m, gc, ggc: gc(lambda x, p: x ** p, (_t(m, [0.5, 1.5]), 3)), True),
    ("output_escapes_graph", lambda m, gc, ggc: gc(lambda x: x.detach() * 2, (_t(m, X3),),
                                                   raise_exception=False), False),
    ("constant_output", lambda m, gc, ggc: gc(lambda x: x.detach() * 0, (_t(m, X3),)), True),
    ("right_function", lambda m, gc, ggc: gc(_functions(m)[1].apply, (_t(m, X3),)), True),
    ("backward_ignores_grad_output", lambda m, gc, ggc: gc(_functions(m)[3].apply,
                                                           (_t(m, [0.7]),),
                                                           raise_exception=False), False),
    ("nondeterministic_backward", lambda m, gc, ggc: gc(_functions(m)[4].apply, (_t(m, X3),),
                                                        raise_exception=False), False),
    ("nondeterministic_backward_tolerated",
     lambda m, gc, ggc: gc(_functions(m)[4].apply, (_t(m, X3),), nondet_tol=1e-6), True),
    ("gradgrad_sin_times_x", lambda m, gc, ggc: ggc(lambda x: x.sin() * x, (_t(m, X3),)), True),
    ("gradgrad_matmul", lambda m, gc, ggc: ggc(lambda x, y: x @ y,
                                               (_t(m, [[1.0, 2.0], [0.5, -1.0]]),
                                                _t(m, [[0.3, 0.1], [-0.2, 0.4]]))), True),
    ("gradgrad_softmax", lambda m, gc, ggc: ggc(lambda x: x.softmax(0), (_t(m, X3),)), True),
    ("gradgrad_right_function", lambda m, gc, ggc: ggc(_functions(m)[1].apply, (_t(m, X3),)),
     True),
    ("gradgrad_detached_backward", lambda m, gc, ggc: ggc(_functions(m)[2].apply, (_t(m, X3),),
                                                          raise_exception=False), False),
    ("gradgrad_detached_backward_fast",
     lambda m, gc, ggc: ggc(_functions(m)[2].apply, (_t(m, X3),), raise_exception=False,
                            fast_mode=True), False),
    ("gradgrad_detached_backward_passes_gradcheck",
     lambda m, gc, ggc: gc(_functions(m)[2].apply, (_t(m, X3),)), True),
]


def _run_scenario(m, program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return program(m, m.autograd.gradcheck, m.autograd.gradgradcheck)


@pytest.mark.parametrize("name,program,expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_verdict(name, program, expected):
    assert _run_scenario(cr, program) is expected


@pytest.mark.parametrize("name,program,expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_torch_gives_the_same_verdict(name, program, expected):
    torch = pytest.importorskip("torch")
    assert _run_scenario(torch, program) is expected


def test_signatures_and_defaults_are_torchs():
    """case 98: eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, fast_mode=False."""
    d = {k: p.default for k, p in inspect.signature(gradcheck).parameters.items()}
    assert (d["eps"], d["atol"], d["rtol"], d["raise_exception"], d["fast_mode"]) == \
        (1e-06, 1e-05, 0.001, True, False)
    try:
        import torch
    except ImportError:
        return
    for ours, theirs in [(gradcheck, torch.autograd.gradcheck),
                         (gradgradcheck, torch.autograd.gradgradcheck)]:
        a = [(k, p.kind, p.default) for k, p in inspect.signature(ours).parameters.items()]
        b = [(k, p.kind, p.default) for k, p in inspect.signature(theirs).parameters.items()]
        assert a == b


def test_exports():
    from chainrule.autograd.gradcheck import GradcheckError as E
    assert E is GradcheckError is cr.autograd.GradcheckError
    assert issubclass(GradcheckError, RuntimeError)
    assert gradcheck_module_function is cr.autograd.gradcheck
    assert cr.check_derivation is gc_module.check_derivation


# --- torch's messages ---------------------------------------------------------------------

def test_float32_input_warns_with_torchs_text():
    """case 98: the warning, then False with raise_exception=False."""
    x = cr.tensor(X3, requires_grad=True)
    with pytest.warns(UserWarning) as record:
        assert gradcheck(cr.tanh, (x,), raise_exception=False) is False
    assert str(record[0].message) == (
        "Input #0 requires gradient and is not a double precision floating point or complex. "
        "This check will likely fail if all the inputs are not of double precision floating "
        "point or complex. ")
    assert record[0].filename == __file__         # the warning points at the caller


def test_wrong_backward_raises_torchs_message():
    """case 99: torch's text and layout (rows: input elements, columns: output elements).

    Column c is backward's result for a one-hot g at c: g·x gives -0. where x < 0, as torch.
    """
    BadSquare = _functions(cr)[0]
    x = _f64([1.5, -0.25])
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadSquare.apply, (x,))
    text = str(info.value)
    assert text.startswith("Jacobian mismatch for output 0 with respect to input 0,\n"
                           "numerical:tensor([[ 3.0000,  0.0000],\n"
                           "        [ 0.0000, -0.5000]], dtype=chainrule.float64)\n"
                           "analytical:tensor([[ 1.5000,  0.0000],\n"
                           "        [-0.0000, -0.2500]], dtype=chainrule.float64)\n")
    assert isinstance(info.value, RuntimeError)


def test_relu_at_0_raises_torchs_message_and_blames_the_kink():
    """case 101: torch's numerical [[0.5, 0], [0, 1]] against analytical [[0, 0], [0, 1]]."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(cr.relu, (_f64([0.0, 1.0]),))
    text = str(info.value)
    assert text.startswith("Jacobian mismatch for output 0 with respect to input 0,\n"
                           "numerical:tensor([[0.5000, 0.0000],\n"
                           "        [0.0000, 1.0000]], dtype=chainrule.float64)\n"
                           "analytical:tensor([[0., 0.],\n"
                           "        [0., 1.]], dtype=chainrule.float64)\n")
    assert info.value.culprit == "ReluBackward0"
    assert "not differentiable (a kink or a jump" in text


def test_fast_mode_message():
    BadSquare = _functions(cr)[0]
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadSquare.apply, (_f64(X3),), fast_mode=True)
    text = str(info.value)
    assert text.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "in fast mode" in text and "The max per-element difference (slow mode) is: " in text
    assert info.value.culprit == "BadSquareBackward"


def test_misuse_errors():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(cr.tanh, (_f64(X3, requires_grad=False),))
    wide = cr.zeros(1, dtype=cr.float64).expand(3).requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        gradcheck(cr.tanh, (wide,))
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of Tensors"):
        gradcheck(lambda x: 1.0, (_f64(X3),))
    with pytest.raises(AssertionError, match="check_forward_ad or check_backward_ad"):
        gradcheck(cr.tanh, (_f64(X3),), check_backward_ad=False)


@pytest.mark.parametrize("fn,flags", [
    (gradcheck, {"check_batched_grad": True}),
    (gradcheck, {"check_forward_ad": True}),
    (gradcheck, {"check_forward_ad": True, "check_batched_forward_grad": True}),
    (gradgradcheck, {"check_fwd_over_rev": True}),
    (gradgradcheck, {"check_batched_grad": True}),
])
def test_features_chainrule_lacks_raise_only_when_asked(fn, flags):
    with pytest.raises(NotImplementedError, match="chainrule has no"):
        fn(cr.tanh, (_f64(X3),), **flags)
    off = {k: False for k in flags}
    assert fn(cr.tanh, (_f64(X3),), **off) is True


def test_gradgradcheck_options():
    x = _f64(X3)
    g = _f64([1.0, -0.5, 0.25])
    assert gradgradcheck(lambda t: t ** 3, (x,), (g,)) is True
    assert gradgradcheck(lambda t: t ** 3, (x,), gen_non_contig_grad_outputs=True) is True
    assert gradgradcheck(lambda t: (t.exp() * t).sum(), x, fast_mode=True) is True


# --- the culprit --------------------------------------------------------------------------

class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * 2                          # wrong: d eˣ/dx = eˣ


class WrongSecondInput(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * y                       # wrong for y: should be g * x


class ForgetsInput(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return None                               # wrong: should be g * 2


def test_the_culprit_is_named_inside_a_larger_graph():
    x = _f64([0.1, 0.5, -0.3])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (MyExp.apply(t * 2) + 1).sin(), (x,))
    err = info.value
    text = str(err)
    assert text.startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert err.culprit == "MyExpBackward"
    assert ("The first wrong local derivative is in MyExpBackward (a user-defined "
            "autograd.Function MyExp): d out/d input 0") in text
    # the local Jacobians of MyExp at its own input t * 2: numerical eˣ, analytical 2eˣ
    local = text[text.index("The first wrong"):]
    assert "numerical:tensor([[1.2214, 0.0000, 0.0000]" in local
    assert "analytical:tensor([[2.4428, 0.0000, 0.0000]" in local
    assert "Fix MyExp.backward" in local


def test_the_first_wrong_node_in_forward_order_is_named():
    Exp = _functions(cr)[1]
    BadSquare = _functions(cr)[0]
    x = _f64([0.2, 0.4])
    with pytest.raises(GradcheckError) as info:      # right, wrong (½), wrong (2), wrong (2)
        gradcheck(lambda t: MyExp.apply(MyExp.apply(BadSquare.apply(Exp.apply(t)))), (x,))
    assert info.value.culprit == "BadSquareBackward"
    with pytest.raises(GradcheckError) as info:      # wrong (2), wrong (½), wrong (½)
        gradcheck(lambda t: BadSquare.apply(BadSquare.apply(MyExp.apply(t))), (x,))
    assert info.value.culprit == "MyExpBackward"


def test_the_culprit_names_the_input():
    x, y = _f64([0.5, 2.0]), _f64([1.5, -1.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: WrongSecondInput.apply(a, b).sum(), (x, y))
    assert str(info.value).startswith("Jacobian mismatch for output 0 with respect to input 1,")
    assert info.value.culprit == "WrongSecondInputBackward"
    assert "d out/d input 1" in str(info.value)


def test_a_backward_that_returns_none_is_found():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: ForgetsInput.apply(t * 3).exp(), (_f64([0.1, 0.2]),))
    assert info.value.culprit == "ForgetsInputBackward"


def _sabotaged(name):
    """The registry entry's VJPs, with the one for its last input off by 10%."""
    op = ops.REGISTRY[name]
    if op.nary:
        rule = op.vjps
        return lambda F, g, out, *xs, i, **kw: rule(F, g, out, *xs, i=i, **kw) * (
            1.1 if i == len(xs) - 1 else 1.0)
    *keep, last = op.vjps
    return (*keep, lambda F, g, out, *xs, **kw: last(F, g, out, *xs, **kw) * 1.1)


@pytest.mark.parametrize("name,func,culprit,wrt", [
    ("sin", lambda a, b: (a * 2).sin().sum() + b.sum(), "SinBackward0", 0),
    ("mul", lambda a, b: (a.exp() * b).tanh(), "MulBackward0", 1),
    ("cat", lambda a, b: cr.cat([a, b.sin()], 0).exp(), "CatBackward0", 1),
])
def test_a_wrong_rule_in_the_registry_is_named(monkeypatch, name, func, culprit, wrt):
    monkeypatch.setattr(ops.REGISTRY[name], "vjps", _sabotaged(name))
    with pytest.raises(GradcheckError) as info:
        gradcheck(func, (_f64(X3), _f64([0.4, -0.6, 1.1])))
    assert info.value.culprit == culprit
    assert f"d out/d input {wrt} from its VJP rule" in str(info.value)
    assert f"The VJP rule of {name}" in str(info.value)


def test_a_wrong_rule_is_found_in_large_tensors_too(monkeypatch):
    monkeypatch.setattr(ops.REGISTRY["sin"], "vjps", _sabotaged("sin"))
    big = cr.tensor(np.random.default_rng(0).uniform(-1, 1, (80, 80)), dtype=cr.float64,
                    requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (t * 2).sin().sum(), (big,), fast_mode=True)
    assert info.value.culprit == "SinBackward0"
    assert "a random projection" in str(info.value)


def test_no_culprit_when_every_rule_is_right():
    x = _f64(X3)
    with pytest.raises(GradcheckError) as info:      # a value autograd cannot see
        gradcheck(lambda t: t * t.detach(), (x,))
    assert info.value.culprit is None
    assert "no single derivative rule is wrong" in str(info.value)
    assert ".detach()" in str(info.value)
    x32 = cr.tensor([3.0, -2.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(GradcheckError) as info:  # float32 precision
            gradcheck(lambda t: (t * 1000.0).sin(), (x32,))
    assert info.value.culprit is None
    assert "Check in float64" in str(info.value)


def test_a_failing_diagnosis_still_raises_the_plain_mismatch(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("the diagnosis itself failed")
    monkeypatch.setattr(culprit_module._NodeAlone, "first_order_error", broken)
    with pytest.raises(GradcheckError) as info:
        gradcheck(MyExp.apply, (_f64(X3),))
    assert info.value.culprit is None
    assert str(info.value).startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert "first wrong" not in str(info.value)
    assert "could not check MyExpBackward alone (ZeroDivisionError" in str(info.value)
    monkeypatch.setattr(culprit_module, "_graph_nodes", broken)
    with pytest.raises(GradcheckError) as info:
        gradcheck(MyExp.apply, (_f64(X3),))
    assert str(info.value).endswith("dtype=chainrule.float64)\n")     # torch's text alone


def test_gradgradcheck_names_a_backward_that_does_not_differentiate():
    DetachedExp = _functions(cr)[2]
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda t: DetachedExp.apply(t * 2).sum(), (_f64(X3),))
    text = str(info.value)
    assert text.startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert info.value.culprit == "DetachedExpBackward"
    assert "The first wrong local second derivative is in DetachedExpBackward" in text
    assert ".detach()" in text


def test_the_inputs_are_left_as_they_were():
    x = _f64(X3)
    before = x.detach().numpy().copy()
    gradcheck(lambda t: t.sin(), (x,))
    with pytest.raises(GradcheckError):
        gradcheck(MyExp.apply, (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None


# --- check_derivation: the lecture's Exercise 4.4 ------------------------------------------

def loss(x, w1, w2, b, y):
    y_hat = x ** 2 * w2 + x * w1 + b
    return (y_hat - y) ** 2


def right_derivation(x, w1, w2, b, y):
    y_hat = x ** 2 * w2 + x * w1 + b
    return {"w1": 2 * x * (y_hat - y), "w2": 2 * x ** 2 * (y_hat - y)}


def wrong_derivation(x, w1, w2, b, y):
    y_hat = x ** 2 * w2 + x * w1 + b
    return {"w1": 2 * x * (y_hat - y), "w2": 2 * x * (y_hat - y)}   # forgets one factor x


POINT = (1.0, 1.0, 2.0, 3.0, 2.0)        # x, w1, w2, b, y


def test_check_derivation_right():
    report = cr.check_derivation(loss, right_derivation, POINT)
    assert report.ok
    assert [(r.name, r.right) for r in report.results] == [("w1", True), ("w2", True)]
    assert str(report).splitlines() == [
        "∂loss/∂w1: right   (yours 8.0000, autograd 8.0000 at x=1, w1=1, w2=2, b=3, y=2)",
        "∂loss/∂w2: right   (yours 8.0000, autograd 8.0000 at x=1, w1=1, w2=2, b=3, y=2)",
        "Checked at the given inputs and 5 random points nearby (rtol=1e-05, atol=1e-08).",
    ]


def test_check_derivation_wrong():
    # at x = 1 the wrong ∂loss/∂w2 = 2x(ŷ - y) equals the right 2x²(ŷ - y): the random points
    # nearby catch it
    report = cr.check_derivation(loss, wrong_derivation, POINT)
    assert not report.ok
    w1, w2 = report.results
    assert w1.right and not w2.right
    assert (w2.wrong_points, w2.points) == (5, 6)
    lines = str(report).splitlines()
    assert lines[0].startswith("∂loss/∂w1: right   (yours 8.0000, autograd 8.0000 at x=1, ")
    assert lines[1].startswith("∂loss/∂w2: WRONG   (yours ")
    assert lines[1].endswith("; right at 1 of 6 points)")
    x = w2.at["x"]
    assert x != 1.0
    np.testing.assert_allclose(w2.yours * x, w2.autograd)     # off by exactly the factor x
    markdown = report._repr_markdown_()
    assert "| ∂loss/∂w2 | **WRONG** |" in markdown and "| ∂loss/∂w1 | right |" in markdown


def test_check_derivation_forms():
    # a tuple with one entry per input (None: not derived), tensors as inputs, index keys
    def as_tuple(x, w1, w2, b, y):
        y_hat = x ** 2 * w2 + x * w1 + b
        return (None, (2 * x * (y_hat - y)).sum(), (2 * x ** 2 * (y_hat - y)).sum(), None, None)

    def batch_loss(x, w1, w2, b, y):
        return loss(x, w1, w2, b, y).sum()

    xs = cr.tensor([1.0, 2.0, 3.0])
    ys = cr.tensor([2.0, 4.0, 6.0])
    report = cr.check_derivation(batch_loss, as_tuple, (xs, 1.0, 2.0, 0.5, ys))
    assert report.ok and [r.name for r in report.results] == ["w1", "w2"]
    report = cr.check_derivation(loss, lambda *a: {3: 2 * (a[0] ** 2 * a[2] + a[0] * a[1] + a[3]
                                                           - a[4])}, POINT, points=2)
    assert report.ok and report.results[0].name == "b" and report.results[0].points == 3
    # a derivative of the wrong shape is wrong, and says why
    report = cr.check_derivation(batch_loss, lambda x, w1, w2, b, y: {"w1": 2 * x},
                                 (xs, 1.0, 2.0, 0.5, ys))
    assert not report.ok and "has shape" in str(report)
    # inputs by name
    report = cr.check_derivation(loss, right_derivation,
                                 {"y": 2.0, "x": 1.0, "w1": 1.0, "w2": 2.0, "b": 3.0})
    assert report.ok and "at x=1, w1=1, w2=2, b=3, y=2" in str(report)


def test_check_derivation_misuse():
    with pytest.raises(ValueError, match="must return a scalar"):
        cr.check_derivation(lambda x: x * 2, lambda x: 2, (cr.tensor([1.0, 2.0]),))
    with pytest.raises(KeyError, match="'w3'"):
        cr.check_derivation(loss, lambda *a: {"w3": 1.0}, POINT)
    with pytest.raises(ValueError, match="returned 2 values for 5 inputs"):
        cr.check_derivation(loss, lambda *a: (1.0, 2.0), POINT)


def test_the_readme_section_runs_and_prints_what_it_shows():
    import contextlib
    import io
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Checking gradients"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    code = [b for lang, b in blocks if lang == "python"]
    shown = [b for lang, b in blocks if lang == ""]
    assert len(code) == 1 and len(shown) == 2
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], "README.md", "exec"), {"__name__": "readme"})
    printed = out.getvalue()
    assert printed.startswith("True\nTrue\nTrue\n")
    for block in shown:
        assert block in printed
