"""chainrule.compile never silently skips a change of state (issue #14, "never silently wrong").

Library code that changes state by writing NumPy arrays or Python attributes directly (an
optimizer's step, a scheduler's step, clipping, ``nn.init``, a seed, ...) is invisible to the
recorder, which sees only the operations that go through ``tensor.apply``: a replay would skip
it.  Each such call is a graph break instead.  For each case: the compiled function gives the
eager function's results and leaves the eager function's state over several calls (the check
that catches a skipped change: the state is observed, and often changed back, between calls),
warns once naming the user's line, and raises ``GraphBreak`` under ``fullgraph=True``.

The reference is the same function run eagerly on fresh state, never the compiled code.
"""
import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

FILE = "test_compile_effects.py"


def _line_of(fn, text="# BREAK"):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, s in enumerate(lines) if text in s)


def _runs(make, compiled, calls=3, **kw):
    """Run ``make()``'s function ``calls`` times on fresh state: (what each call gave and left,
    the chainrule.compile warnings).  ``make`` returns (fn, observe): ``observe(out)`` returns
    the state to compare as a list, and may change state before the next call."""
    cr.manual_seed(0)
    fn, observe = make()
    f = cr.compile(fn, **kw) if compiled else fn
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(calls):
            out = f(cr.full((2,), float(k + 1)))
            seen.append([out.detach().numpy()] + [np.asarray(v) for v in observe(out)])
    return seen, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)], fn


def check_break(make, calls=3, marker="# BREAK"):
    """The compiled function matches eager over ``calls`` calls, warns once with the line
    marked ``marker``, and fullgraph=True raises GraphBreak naming that line."""
    eager, quiet, _ = _runs(make, False, calls)
    assert quiet == []
    compiled, warned, fn = _runs(make, True, calls)
    for k, (e, c) in enumerate(zip(eager, compiled)):
        assert len(e) == len(c)
        for a, b in zip(e, c):
            np.testing.assert_array_equal(b, a, err_msg=f"call {k}")
    line = _line_of(fn, marker)
    assert len(warned) == 1, warned
    assert f"{FILE}:{line}" in warned[0] and "graph break" in warned[0], warned[0]
    cr.manual_seed(0)
    fn, _ = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # a scheduler's own order warnings
        with pytest.raises(cr.compiler.GraphBreak, match=f"{FILE}:{line}"):
            cr.compile(fn, fullgraph=True)(cr.ones(2))
    return warned[0]


def check_replay(make, calls=3):
    """The compiled function matches eager over ``calls`` calls with no warning: the change of
    state is recorded (a training step's optimizer call, made again by every replay)."""
    eager, _, _ = _runs(make, False, calls)
    compiled, warned, _ = _runs(make, True, calls)
    assert warned == []
    for k, (e, c) in enumerate(zip(eager, compiled)):
        assert len(e) == len(c)
        for a, b in zip(e, c):
            np.testing.assert_array_equal(b, a, err_msg=f"call {k}")


def _param(grad=True):
    w = cr.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    if grad:
        w.grad = cr.tensor([[0.5, 1.0], [-1.0, 0.25]])
    return w


# --- optimizers --------------------------------------------------------------------------------

def _optimizers():
    """Every Optimizer subclass chainrule.optim defines (a new one is tested without a line
    here)."""
    found, stack = set(), [cr.optim.Optimizer]
    while stack:
        for c in stack.pop().__subclasses__():
            stack.append(c)
            if c.__module__.startswith("chainrule.optim"):
                found.add(c)
    return sorted(found, key=lambda c: c.__name__)


OPTIMIZERS = _optimizers()


def test_the_optimizer_list_is_the_whole_package():
    assert {c.__name__ for c in OPTIMIZERS} >= {
        "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
        "ASGD", "Rprop", "LBFGS", "SparseAdam", "Adafactor", "Muon"}


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_an_optimizer_step_inside_a_compiled_function_is_made_again_by_each_replay(cls):
    """The issue's example: eager moves w on every call, a replay that skipped step() would
    leave it where the recording call put it.  A step without a closure is recorded (the
    replay calls it again: tests/test_compile_step.py); LBFGS's closure is a graph break."""
    def make():
        w = _param(grad=cls is not cr.optim.SparseAdam)     # it refuses dense gradients
        opt = cls([w], lr=0.1)
        args = (lambda: (w * w).sum(),) if cls is cr.optim.LBFGS else ()

        def fn(x):
            opt.step(*args)                                 # BREAK
            return x * 2
        return fn, lambda out: [w.detach().numpy().copy()]
    if cls is cr.optim.LBFGS:
        check_break(make)
    else:
        check_replay(make)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_inside_a_compiled_function_is_made_again_by_each_replay(set_to_none):
    """The recording call finds no gradient (nothing to reset); later calls find one."""
    def make():
        w = _param(grad=False)
        opt = cr.optim.Adam([w], lr=0.1)

        def fn(x):
            opt.zero_grad(set_to_none=set_to_none)
            return x * 2

        def observe(out):
            g = w.grad
            seen = [np.zeros(2) if g is None else g.numpy()[0].copy(), g is None]
            w.grad = cr.ones(2, 2)
            return seen
        return fn, observe
    check_replay(make)


def test_module_zero_grad_inside_a_compiled_function_is_made_again_by_each_replay():
    def make():
        m = nn.Linear(2, 1)

        def fn(x):
            m.zero_grad()
            return m(x)         # (with a gradient: its backward is the compiled one)

        def observe(out):
            seen = [m.weight.grad is None]
            m.weight.grad = cr.ones(1, 2)
            return seen
        return fn, observe
    check_replay(make)


def test_lbfgs_whose_closure_runs_backward_breaks_at_its_step():
    """LBFGS's closure runs backward() (a break of its own): the step's break comes first."""
    def make():
        w = _param(grad=False)
        opt = cr.optim.LBFGS([w], lr=0.5, max_iter=2)

        def closure():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        def fn(x):
            loss = opt.step(closure)                        # BREAK
            return x * loss
        return fn, lambda out: [w.detach().numpy().copy()]
    assert "LBFGS.step(closure)" in check_break(make)


# --- learning-rate schedulers and SWA ------------------------------------------------------------

def _schedulers():
    S = cr.optim.lr_scheduler
    return {
        "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.5),
        "StepLR": lambda o: S.StepLR(o, step_size=1, gamma=0.5),
        "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=0),
        "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4),
        "SequentialLR": lambda o: S.SequentialLR(
            o, [S.ConstantLR(o, factor=0.5, total_iters=1), S.ExponentialLR(o, gamma=0.5)],
            milestones=[1]),
        "ChainedScheduler": lambda o: S.ChainedScheduler(
            [S.ConstantLR(o, factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.5)]),
        "SWALR": lambda o: cr.optim.swa_utils.SWALR(o, swa_lr=0.01, anneal_epochs=3),
    }


@pytest.mark.parametrize("name", sorted(_schedulers()))
def test_a_scheduler_step_inside_a_compiled_function_is_a_graph_break(name):
    """A scheduler changes only Python numbers (the groups' lr): a replay would leave them."""
    def make():
        w = _param()
        opt = cr.optim.SGD([w], lr=0.1)
        sched = _schedulers()[name](opt)
        args = (1.0,) if name == "ReduceLROnPlateau" else ()

        def fn(x):
            sched.step(*args)                               # BREAK
            return x * 2
        return fn, lambda out: [opt.param_groups[0]["lr"]]
    check_break(make, calls=4)


def test_averaged_model_update_parameters_is_a_graph_break():
    def make():
        m = nn.Linear(2, 1)
        avg = cr.optim.swa_utils.AveragedModel(m)

        def fn(x):
            avg.update_parameters(m)                        # BREAK
            return avg(x)

        def observe(out):
            seen = [avg.module.weight.detach().numpy().copy(), avg.n_averaged.numpy().copy()]
            with cr.no_grad():
                m.weight.add_(1.0)
            return seen
        return fn, observe
    check_break(make)


def test_update_bn_is_a_graph_break():
    def make():
        m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        data = [cr.randn(4, 2), cr.randn(4, 2)]

        def fn(x):
            cr.optim.swa_utils.update_bn(data, m)           # BREAK
            return x * 2

        def observe(out):
            seen = [m[1].running_mean.numpy().copy()]
            with cr.no_grad():
                m[0].weight.mul_(2.0)
            return seen
        return fn, observe
    check_break(make)


# --- gradients, parameters, flags, hooks -------------------------------------------------------

@pytest.mark.parametrize("clip", ["norm", "value"])
def test_clipping_gradients_is_a_graph_break(clip):
    """The recording call has no gradient to clip; the later ones do."""
    def make():
        w = _param(grad=False)
        clipper, bound = (nn.utils.clip_grad_norm_, 1.0) if clip == "norm" else \
            (nn.utils.clip_grad_value_, 0.75)

        def fn(x):
            clipper([w], bound)                             # BREAK
            return x * 2

        def observe(out):
            seen = [np.zeros((2, 2)) if w.grad is None else w.grad.numpy().copy()]
            w.grad = cr.tensor([[3.0, 4.0], [0.0, -1.0]])
            return seen
        return fn, observe
    check_break(make)


INITS = sorted(n for n in dir(nn.init) if n.endswith("_") and not n.startswith("_"))


@pytest.mark.parametrize("name", INITS)
def test_every_nn_init_function_is_a_graph_break(name):
    args = {"constant_": (0.5,)}.get(name, ())
    shape = (2, 2, 3) if name == "dirac_" else (3, 3)

    def make():
        t = cr.zeros(*shape)

        def fn(x):
            getattr(nn.init, name)(t, *args)                # BREAK
            return x * 2

        def observe(out):
            seen = [t.numpy().copy()]
            t.zero_()
            return seen
        return fn, observe
    assert "nn.init" in check_break(make)


def test_load_state_dict_is_a_graph_break():
    def make():
        m = nn.Linear(2, 1)
        saved = {k: v.detach() * 0 + 0.5 for k, v in m.state_dict().items()}

        def fn(x):
            m.load_state_dict(saved)                        # BREAK
            return m(x)

        def observe(out):
            seen = [m.weight.detach().numpy().copy()]
            with cr.no_grad():
                m.weight.zero_()
            return seen
        return fn, observe
    check_break(make)


def test_vector_to_parameters_is_recorded():
    # param.data = a slice of the vector, for parameters the recorder reaches: recorded
    def make():
        m = nn.Linear(2, 1)

        def fn(x):
            nn.utils.vector_to_parameters(cr.ones(3) * x[0], m.parameters())
            return x * 2

        def observe(out):
            seen = [m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()]
            m.weight.data = cr.zeros(1, 2)
            return seen
        return fn, observe
    check_replay(make)


def test_changing_a_training_flag_is_a_graph_break():
    def make():
        m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

        def fn(x):
            m.eval()                                        # BREAK
            return m(x)

        def observe(out):
            seen = [m.training, m[1].training]
            m.train()
            return seen
        return fn, observe
    check_break(make)


def test_requires_grad_changed_is_a_graph_break_and_unchanged_is_not():
    def make():
        w = cr.tensor([1.0, 2.0])

        def fn(x):
            w.requires_grad_()                              # BREAK
            return x * w

        def observe(out):
            seen = [w.requires_grad, out.requires_grad]
            w.requires_grad_(False)
            return seen
        return fn, observe
    check_break(make)
    # a call that leaves the flag as it is records (the flag is part of the signature)
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    f = cr.compile(lambda x: x * w.requires_grad_())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(cr.ones(2))
        assert f(cr.ones(2)).grad_fn.name() == "CompiledFunctionBackward"


def test_detach_in_place_of_a_tensor_with_a_history_is_a_graph_break():
    def make():
        w = cr.tensor([1.0, 2.0], requires_grad=True)

        def fn(x):
            w.detach_()                                     # BREAK
            return x * w

        def observe(out):
            seen = [w.requires_grad, out.requires_grad]
            w.requires_grad_()
            return seen
        return fn, observe
    check_break(make)


def test_register_hook_on_a_leaf_is_a_graph_break():
    """Eager adds one more hook on every call: the k-th backward runs k of them."""
    def make():
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        calls = []

        def fn(x):
            w.register_hook(lambda g: calls.append(1))      # BREAK
            return (x * w).sum()

        def observe(out):
            out.backward()
            return [len(calls), w.grad.numpy().copy()]
        return fn, observe
    check_break(make)


def test_retain_grad_is_a_graph_break_naming_its_line():
    def make():
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        kept = []

        def fn(x):
            y = x * w
            y.retain_grad()                                 # BREAK
            kept.append(y)
            return y.sum()

        def observe(out):
            out.backward()
            return [kept[-1].grad.numpy().copy()]
        return fn, observe
    check_break(make)


# --- in-place changes --------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["t_", "squeeze_", "resize_", "copy_"])
def test_in_place_changes_of_an_argument_are_graph_breaks(how):
    """The caller's tensor changes shape or values: a replay would not change it."""
    def make():
        held = []

        def fn(x):
            y = x.reshape(1, 2).clone() if how != "resize_" else x.clone()
            held.append(y)
            args = {"squeeze_": (0,), "resize_": (1,), "copy_": (x * 3,)}.get(how, ())
            getattr(y, how)(*args)                          # BREAK
            return x * 2

        def observe(out):
            return [held[-1].numpy().copy()]
        return fn, observe
    check_break(make)


def test_batch_norm_and_instance_norm_statistics_in_training_are_recorded_or_break():
    # the running statistics are updated in place without a gradient, on buffers the
    # recorder reaches: recorded effects, made again by every replay; with momentum=None the
    # update divides by float(num_batches_tracked), which Python reads: a graph break
    for make_module, breaks in ((lambda: nn.BatchNorm1d(2), False),
                                (lambda: nn.BatchNorm1d(2, momentum=None), True),
                                (lambda: nn.InstanceNorm1d(2, track_running_stats=True), False)):
        def make():
            m = make_module()
            scale = cr.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])

            def fn(x):
                y = scale * x
                y = y.T.reshape(1, 2, 3) if isinstance(m, nn.InstanceNorm1d) else y
                return m(y)                                 # BREAK
            return fn, lambda out: [m.running_mean.numpy().copy(),
                                    m.running_var.numpy().copy(),
                                    m.num_batches_tracked.numpy().copy()]
        if breaks:
            check_break(make)
        else:
            check_replay(make, calls=4)


def test_embedding_max_norm_is_a_graph_break_even_when_nothing_is_rescaled_yet():
    def make():
        w = cr.tensor([[0.1, 0.1], [0.2, 0.0]])

        def fn(x):
            e = nn.functional.embedding(cr.tensor([0, 1]), w, max_norm=1.0)  # BREAK
            return x * e.sum()

        def observe(out):
            seen = [w.numpy().copy()]
            w.mul_(4.0)
            return seen
        return fn, observe
    check_break(make)


def test_an_optimizer_load_state_dict_is_a_graph_break():
    def make():
        w = _param()
        opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
        opt.step()
        saved = {"state": {}, "param_groups": opt.state_dict()["param_groups"]}

        def fn(x):
            opt.load_state_dict(saved)                      # BREAK
            return x * 2

        def observe(out):
            seen = [len(opt.state)]
            opt.step()                  # a momentum buffer: forgotten by the next load
            return seen
        return fn, observe
    check_break(make)


def test_iterating_a_data_loader_is_a_graph_break():
    """Each call takes the next batch: a replay would take the first batch again."""
    def make():
        data = cr.utils.data.TensorDataset(cr.arange(12.0).reshape(6, 2))
        batches = iter(cr.utils.data.DataLoader(data, batch_size=2))

        def fn(x):
            (xb,) = next(batches)                           # BREAK
            return x * xb.sum(0)
        return fn, lambda out: []
    check_break(make)


@pytest.mark.parametrize("call", ["scale", "update"])
def test_an_enabled_grad_scaler_is_a_graph_break(call):
    """scale() multiplies by a Python number that update() changes between calls."""
    def make():
        scaler = cr.amp.GradScaler("cpu", init_scale=4.0)
        scaler._per_optimizer_states = {0: {"found_inf": True}}

        def fn(x):
            if call == "scale":
                return scaler.scale(x * 2)                  # BREAK scale
            scaler.update()                                 # BREAK update
            return x * scaler.get_scale()

        def observe(out):
            if call == "scale":
                scaler.update(new_scale=scaler.get_scale() / 2)
            else:
                scaler._per_optimizer_states = {0: {"found_inf": True}}
            return [scaler.get_scale()]
        return fn, observe
    check_break(make, marker=f"# BREAK {call}")


def test_a_disabled_grad_scaler_records():
    scaler = cr.amp.GradScaler("cpu", enabled=False)
    f = cr.compile(lambda x: scaler.scale(x * 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(cr.ones(2))
        f(cr.ones(2))
    assert f.broken is None and f.recordings == 1


# --- random state ------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["manual_seed", "Generator.manual_seed", "set_rng_state",
                                 "seed"])
def test_seeding_inside_a_compiled_function_is_a_graph_break(how):
    """The function only seeds; the draws happen outside it, and depend on the seed."""
    def make():
        g = cr.Generator()
        state = cr.get_rng_state()
        target, name, args = {"manual_seed": (cr, "manual_seed", (3,)),
                              "Generator.manual_seed": (g, "manual_seed", (3,)),
                              "set_rng_state": (cr, "set_rng_state", (state,)),
                              "seed": (g, "seed", ())}[how]

        def fn(x):
            getattr(target, name)(*args)                    # BREAK
            return x * 2
        if how == "seed":       # a fresh seed each call: the stream differs from any replay's
            return fn, lambda out: [g.initial_seed() != 67280421310721]
        return fn, lambda out: [cr.rand(2, generator=g if "Generator" in how else None).numpy()]
    check_break(make)


def test_a_sampler_with_its_own_generator_draws_through_the_recorder():
    def make():
        s = cr.utils.data.RandomSampler(range(5), generator=cr.Generator().manual_seed(0))

        def fn(x):
            return x * float(list(s)[0])                    # BREAK
        return fn, lambda out: []
    check_break(make)


# --- global settings ---------------------------------------------------------------------------

def test_set_default_dtype_is_a_graph_break():
    def make():
        def fn(x):
            cr.set_default_dtype(cr.float64)                # BREAK
            return x * 2

        def observe(out):
            seen = [str(cr.zeros(1).dtype)]
            cr.set_default_dtype(cr.float32)
            return seen
        return fn, observe
    try:
        check_break(make)
    finally:
        cr.set_default_dtype(cr.float32)


# --- replay-safe calls -------------------------------------------------------------------------

def test_calls_that_change_nothing_are_recorded_and_replayed():
    """share_memory_ (a no-op here), a training flag set to what it is, get_rng_state, a
    fresh Generator, batch norm in training without running statistics (the batch's
    statistics are recorded operations): nothing a replay would need to repeat."""
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False))
    w = cr.tensor([1.0, 2.0])

    def fn(x):
        w.share_memory_()
        m.train()
        cr.get_rng_state()
        cr.Generator()
        return m(x.reshape(1, 2) * cr.tensor([[1.0], [-2.0], [0.5]]) * w)
    f = cr.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):
            x = cr.full((2,), float(k))
            np.testing.assert_array_equal(f(x).detach().numpy(), fn(x).detach().numpy())
    assert f.broken is None and f.recordings == 1
