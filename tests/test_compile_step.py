"""chainrule.compile on a whole training step: backward(), the update and the optimizer inside
one compiled function (compiled autograd + optimizer, as torch.compile of a train step; TinyJit).
A replay must leave every parameter, gradient, optimizer state and version counter exactly as
the eager step would, or fall back to eager loudly."""
import warnings

import numpy as np
import pytest

import chainrule as cr

LR = 0.01
SAMPLES = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]


def _lecture(compiled):
    w = cr.tensor([1.0], requires_grad=True)

    def step(x, y):
        loss = (x * w - y) * (x * w - y)
        loss.backward()
        w.data = w.data - LR * w.grad.data
        w.grad.data.zero_()
        return loss
    return w, cr.compile(step) if compiled else step


def test_the_lecture_step_compiled_whole_gives_the_eager_numbers_bitwise():
    (we, fe), (wc, fc) = _lecture(False), _lecture(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(12):
            x, y = SAMPLES[i % 3]
            le, lc = fe(x, y), fc(x, y)
            assert le.item() == lc.item()
            np.testing.assert_array_equal(we.detach().numpy(), wc.detach().numpy())
            np.testing.assert_array_equal(we.grad.numpy(), wc.grad.numpy())
    src = fc.explain()
    assert "# backward()" in src and "accumulate_grad(T, " in src
    assert "._data = " in src and "[...] = 0" in src
    # the returned loss was backwarded inside: a second backward fails as in eager mode
    assert lc.requires_grad and lc.grad_fn is not None
    with pytest.raises(RuntimeError, match="second time"):
        lc.backward()
    with pytest.raises(RuntimeError, match="second time"):
        le.backward()


def _mlp_step(compiled, opt_name, zero="optimizer", **kw):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(5, 7), cr.nn.Tanh(), cr.nn.Linear(7, 3))
    opt = getattr(cr.optim, opt_name)(model.parameters(), **kw)
    loss_fn = cr.nn.CrossEntropyLoss()

    def step(x, y):
        if zero == "optimizer":
            opt.zero_grad()
        elif zero == "module":
            model.zero_grad()
        elif zero == "zeros":
            opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, cr.compile(step) if compiled else step


OPTIMIZERS = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
              ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
              ("RMSprop", {"lr": 0.01}), ("Adagrad", {"lr": 0.1})]


@pytest.mark.parametrize("zero", ["optimizer", "module", "zeros", "none"])
@pytest.mark.parametrize("opt_name,kw", OPTIMIZERS, ids=[f"{n}{i}" for i, (n, _) in
                                                         enumerate(OPTIMIZERS)])
def test_an_optimizer_step_compiled_whole_matches_eager_bitwise(opt_name, kw, zero):
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((8, 5)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 8))
    me, oe, fe = _mlp_step(False, opt_name, zero, **kw)
    mc, oc, fc = _mlp_step(True, opt_name, zero, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            assert fe(x, y).item() == fc(x, y).item()
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_array_equal(pe.detach().numpy(), pc.detach().numpy())
        np.testing.assert_array_equal(pe.grad.numpy(), pc.grad.numpy())
        assert pe._version == pc._version
    se, sc = oe.state_dict()["state"], oc.state_dict()["state"]
    for k in se:
        for name, v in se[k].items():
            np.testing.assert_array_equal(np.asarray(v.numpy() if hasattr(v, "numpy") else v),
                                          np.asarray(sc[k][name].numpy()
                                                     if hasattr(sc[k][name], "numpy")
                                                     else sc[k][name]))
    assert "called again" in fc.explain()


def test_an_update_written_with_in_place_ops_under_no_grad():
    def make(compiled):
        w = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = cr.tensor(0.25, requires_grad=True)

        def step(x):
            loss = ((x * w).sum() + b).tanh() ** 2
            loss.backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
                b.data -= 0.1 * b.grad      # in place on .data, then .data set to it
                w.grad.zero_()
                b.grad.zero_()
            return loss
        return (w, b), cr.compile(step) if compiled else step
    (te, fe), (tc, fc) = make(False), make(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(6):
            x = cr.tensor([1.0, 0.5 * i, -0.25])
            assert fe(x).item() == fc(x).item()
    for a, b in zip(te, tc):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a._version == b._version     # the replay bumps the counters eager bumps


def test_gradients_accumulate_over_calls_when_never_zeroed():
    def make(compiled):
        w = cr.tensor([1.0, 2.0], requires_grad=True)

        def step(x):
            loss = (cr.exp(x * w)).sum()
            loss.backward()
            return loss
        return w, cr.compile(step) if compiled else step
    (we, fe), (wc, fc) = make(False), make(True)
    for i in range(4):
        x = cr.tensor([0.1 * i, -0.2])
        fe(x), fc(x)
        np.testing.assert_array_equal(we.grad.numpy(), wc.grad.numpy())


def test_argument_leaves_get_their_gradients_and_a_non_leaf_runs_eagerly():
    f = cr.compile(lambda x: (x * x).sum().backward())     # a step that returns nothing
    for _ in range(3):
        x = cr.ones(2, requires_grad=True)
        assert f(x) is None
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])

    def step(x):
        loss = (x * x * 3.0).sum()
        loss.backward()
        return loss
    c = cr.compile(step)
    for i in range(3):
        x = cr.tensor([1.0, float(i)], requires_grad=True)
        c(x)
        np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0 * i])
    # the same signature with an argument made by an op: its gradient must flow on into its
    # graph, which the replay cannot do, so this call runs eagerly
    a = cr.tensor([2.0, 3.0], requires_grad=True)
    c(a * 1.0)
    np.testing.assert_array_equal(a.grad.numpy(), [12.0, 18.0])


def _breaks(fn, *args, match):
    c = cr.compile(fn)
    with pytest.warns(UserWarning, match=match) as caught:
        c(*args)
    assert len([w for w in caught if "chainrule.compile" in str(w.message)]) == 1
    assert c.broken is not None
    with pytest.raises(cr.compiler.GraphBreak):
        cr.compile(fn, fullgraph=True)(*args)


def test_what_a_training_step_cannot_record_is_a_loud_graph_break():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)

    def retained(x):
        loss = (x * w).sum()
        loss.backward(retain_graph=True)
        return loss.detach()
    _breaks(retained, cr.ones(2), match="retain_graph")

    def grad_before(x):
        w.grad = None if False else w.grad
        return (x * w).sum().detach() + 0 * w.grad.sum()
    w.grad = cr.ones(2)
    _breaks(grad_before, cr.ones(2), match="reading .grad")

    def after_step(x):
        loss = (x * w).sum()
        loss.backward()
        opt.step()
        return (w * 2).detach()
    _breaks(after_step, cr.ones(2), match="after SGD.step()")

    def with_closure(x):
        def closure():
            return (x * w).sum()
        opt.step(closure)
        return x * 1
    _breaks(with_closure, cr.ones(2), match="closure")

    def returns_graph(x):
        y = x * w
        y.sum().backward()
        return y
    _breaks(returns_graph, cr.ones(2), match="requires grad from a function that calls backward")

    h = cr.tensor([1.0, 1.0], requires_grad=True)
    h.register_hook(lambda g: g * 2)

    def hooked(x):
        loss = (x * h).sum()
        loss.backward()
        return loss.detach()
    _breaks(hooked, cr.ones(2), match="hooks")

    outside = w * 3.0

    def from_outside(x):
        loss = (x * outside).sum()
        loss.backward()
        return loss.detach()
    _breaks(from_outside, cr.ones(2), match="outside the compiled function")


def test_a_step_that_calls_the_optimizer_without_backward_inside():
    # the gradients come from outside; the step only updates: called again on every replay
    def make(compiled):
        w = cr.tensor([1.0, -1.0], requires_grad=True)
        opt = cr.optim.Adam([w], lr=0.1)

        def update(scale):
            opt.step()
            opt.zero_grad()
            return scale * 2.0
        return w, cr.compile(update) if compiled else update
    (we, ue), (wc, uc) = make(False), make(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(4):
            for w, u in ((we, ue), (wc, uc)):
                (w * w * (i + 1)).sum().backward()
                u(cr.ones(1))
            np.testing.assert_array_equal(we.detach().numpy(), wc.detach().numpy())


def test_an_in_place_change_to_an_argument_is_recorded_and_replayed():
    def fn(x):
        x.add_(1)
        return x * 2
    c = cr.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(3):
            a, b = cr.full((3,), float(i)), cr.full((3,), float(i))
            np.testing.assert_array_equal(fn(a).numpy(), c(b).numpy())
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert a._version == b._version == 1
    assert "# in place" in c.explain()


def test_the_benchmarks_sgd_step_with_grad_set_to_none():
    # bench's compiled_sgd_program: p -= lr * p.grad; p.grad = None, the step returning None
    def make(compiled):
        cr.manual_seed(0)
        lin = cr.nn.Linear(3, 2)
        params = list(lin.parameters())
        x = cr.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3) / 10)

        def step():
            lin(x).pow(2).mean().backward()
            with cr.no_grad():
                for q in params:
                    q -= 0.1 * q.grad
                    q.grad = None
        return params, cr.compile(step, fullgraph=True) if compiled else step
    (pe, se), (pc, sc) = make(False), make(True)
    for _ in range(4):
        assert se() is None and sc() is None
        for a, b in zip(pe, pc):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
            assert a.grad is None and b.grad is None
    src = sc.explain()
    assert "._grad = None" in src
    # q -= 0.1 * q.grad: the subtraction writes into q itself (eager's own fast path)
    assert "np_subtract(x1, " in src and "out=x1)" in src and "np_copyto" not in src


def test_a_gradient_that_is_a_forward_value_is_copied_into_grad():
    # d(w·v)/dw with the seed of ones is v·1 = v itself: the generated code skips the
    # multiplication, and the .grad it makes must still be an array of its own
    w = cr.tensor([1.5], requires_grad=True)

    @cr.compile
    def step(x):
        v = x * 2.0
        (w * v).backward()
        return v
    for i in range(3):
        w.grad = None
        v = step(cr.tensor([float(i + 1)]))
        np.testing.assert_array_equal(w.grad.numpy(), [2.0 * (i + 1)])
        v.add_(100.0)
        np.testing.assert_array_equal(w.grad.numpy(), [2.0 * (i + 1)])
    assert "accumulate_grad(T, (1,), (g_x1, ), g, (0,))" in step.explain()


def test_gradients_made_from_the_seed_alone_are_constants_and_copied_into_grad():
    # sum's rule on backward()'s seed of ones is ones: written as a constant, and a product
    # with it is the other factor; each .grad is still an array of its own, writable
    def make(compiled):
        a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step():
            (a.sum() + (a * b).sum() + cr.exp(b).sum()).backward()
        return (a, b), cr.compile(step) if compiled else step
    (te, fe), (tc, fc) = make(False), make(True)
    for _ in range(3):
        fe(), fc()
        for x, y in zip(te, tc):
            np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
    src = fc.explain()
    assert "a constant" in src
    with cr.no_grad():
        tc[0].grad += 1.0       # its own array: the constant is not touched
    fc()
    np.testing.assert_array_equal(tc[0].grad.numpy(), te[0].grad.numpy() + 1.0 +
                                  (te[0].grad.numpy() / 3))


def test_labels_reached_through_the_loss_functions_closure_are_read_on_every_call():
    # step -> loss -> y: an index taken from y must follow y's values, not be frozen
    logits_w = cr.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
    y = cr.tensor([0, 2, 1, 0])

    def loss():
        return -logits_w.log_softmax(dim=1)[cr.arange(4), y].mean()

    @cr.compile
    def step():
        out = loss()
        out.backward()
        return out.detach()
    for labels in ([0, 2, 1, 0], [1, 1, 1, 1], [2, 0, 0, 2]):
        y.copy_(cr.tensor(labels))
        logits_w.grad = None
        got = step()
        g = logits_w.grad.numpy().copy()
        logits_w.grad = None
        want = loss()
        want.backward()
        assert got.item() == want.item()
        np.testing.assert_array_equal(g, logits_w.grad.numpy())


class _Data:
    def __init__(self):
        self.y = cr.tensor([0, 2, 1, 0])


def test_a_target_reached_through_an_object_is_read_on_every_call():
    # the labels live on an object the recorder cannot walk to: the loss tells the recorder
    # it hands their array on, so the replay reads them from the tensor each call
    w = cr.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
    data = _Data()
    f = cr.compile(lambda: cr.nn.functional.cross_entropy(w * 1.0, data.y))
    g = cr.compile(lambda: w.log_softmax(1)[cr.arange(4), data.y].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for labels in ([0, 2, 1, 0], [1, 1, 1, 1], [2, 0, 0, 2]):
            data.y.copy_(cr.tensor(labels))
            y = cr.tensor(labels)
            assert f().item() == cr.nn.functional.cross_entropy(w * 1.0, y).item()
            assert g().item() == w.log_softmax(1)[cr.arange(4), y].sum().item()


def test_two_losses_two_optimizers_in_one_step():
    # a second model trained on the first one's output after the first optimizer stepped: its
    # parameters were not touched by that step, so reading them is fine
    def make(compiled):
        cr.manual_seed(0)
        a, b = cr.nn.Linear(3, 3), cr.nn.Linear(3, 1)
        oa, ob = cr.optim.SGD(a.parameters(), lr=0.1), cr.optim.Adam(b.parameters(), lr=0.01)

        def step(x):
            oa.zero_grad()
            ob.zero_grad()
            h = a(x).tanh()
            l1 = (h ** 2).mean()
            l1.backward()
            oa.step()
            l2 = b(h.detach()).pow(2).mean()
            l2.backward()
            ob.step()
            return l1.detach(), l2.detach()
        return (a, b), cr.compile(step) if compiled else step
    (me, fe), (mc, fc) = make(False), make(True)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            for u, v in zip(fe(x), fc(x)):
                assert u.item() == v.item()
    for m1, m2 in zip(me, mc):
        for p, q in zip(m1.parameters(), m2.parameters()):
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert fc.explain().count("# backward()") == 2


def test_reading_an_optimizers_state_after_its_step_is_a_graph_break():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)

    def step(x):
        (x * w).sum().backward()
        opt.step()
        return opt.state[w]["momentum_buffer"] * 1.0
    _breaks(step, cr.ones(2), match="after SGD.step()")
