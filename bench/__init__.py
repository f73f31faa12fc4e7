"""chainrule's benchmark suite: ``python -m bench`` from the repository root.

Each workload (``w1_lecture.py`` ... ``w7_mlp.py``) holds the same computation written once
per engine, side by side: chainrule, NumPy with hand-derived gradients (the limit), PyTorch,
HIPS autograd and micrograd.  Every engine's gradients are checked against NumPy by hand before
it is timed (or, for W7's graph-memory cases, before its memory is measured).  ``bench/__main__.py`` runs each workload on each engine in a fresh subprocess
(``bench/_worker.py``), ``bench/report.py`` turns the medians into the Markdown table and the
target verdicts, ``bench/plot.py`` draws the ratios.  How to run it and read it:
docs/performance.md.

>>> from bench import CASES, check
>>> check(CASES["W1"], "chainrule")["status"]
'ok'
"""
import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Callable

# Engine ids, in table order, with the names the table prints.
ENGINES = {
    "chainrule": "chainrule",
    "numpy": "NumPy by hand",
    "torch": "PyTorch",
    "autograd": "HIPS autograd",
    "micrograd": "micrograd",
}
# The module each engine needs (None: always there).
ENGINE_MODULES = {"chainrule": "chainrule", "numpy": None, "torch": "torch",
                  "autograd": "autograd", "micrograd": "micrograd"}


def engine_available(engine):
    """True if ``engine``'s package can be imported here (without importing it)."""
    module = ENGINE_MODULES[engine]
    return module is None or importlib.util.find_spec(module) is not None


class Skip(Exception):
    """Raised by a builder that cannot run yet (e.g. a layer chainrule does not have)."""


@dataclass
class Program:
    """One workload on one engine, ready to run.

    ``step()`` is what is timed: one forward, backward and (where the workload trains) update.
    ``grads()`` returns the gradients at the current parameters as NumPy arrays, keyed by
    name, without updating; ``params()`` the current parameters (empty if nothing is trained).
    ``forward()`` (the W7 graph-memory cases) runs the forward pass alone and returns a function
    that finishes it: backward, then the gradients as ``grads()`` returns them.  What the graph
    holds is measured between the two; ``grads`` is ``lambda: forward()()``, so the check
    covers the path that is measured.
    """
    step: Callable[[], object]
    grads: Callable[[], dict]
    params: Callable[[], dict] = field(default=dict)
    forward: Callable[[], Callable[[], dict]] = None


def sgd_program(lib, loss, named, lr):
    """The ``Program`` of a model of an autograd library ``lib`` (chainrule or torch) trained by
    plain SGD: ``loss()`` runs the forward pass, ``named`` maps names to its parameters."""
    params = list(named.values())

    def step():
        loss().backward()
        with lib.no_grad():
            for q in params:
                q -= lr * q.grad
                q.grad = None

    def forward():
        out = loss()

        def finish():
            out.backward()
            g = {k: q.grad.numpy().copy() for k, q in named.items()}
            for q in params:
                q.grad = None
            return g
        return finish

    return Program(step, lambda: forward()(),
                   lambda: {k: q.detach().numpy().copy() for k, q in named.items()}, forward)


def compiled_sgd_program(lib, loss, named, lr):
    """``sgd_program`` with its whole step in ``lib.compile`` (chainrule's W2c, W3c, W6c):
    forward, ``backward()`` and the SGD update recorded once and replayed as one generated
    function, as one compiles a training step with torch.compile.  ``grads()`` runs the same
    loss eagerly."""
    eager = sgd_program(lib, loss, named, lr)
    # fullgraph: a graph break would fail the check rather than time eager mode
    return Program(lib.compile(eager.step, fullgraph=True), eager.grads, eager.params,
                   eager.forward)


@dataclass(frozen=True)
class Case:
    """One row of the table: a workload module at one size."""
    id: str                  # "W4-200k"
    module: str              # "w4_chain"
    title: str               # what the row measures, as the table prints it
    size: dict = field(default_factory=dict)
    check_in_quick: bool = True      # checked by ``--quick --check-only`` (the test)
    quick_engines: tuple = ()        # if set: the engines ``--quick`` times (others too slow)
    memory: bool = False             # W7: its peak RSS is reported
    graph_memory: bool = False       # W7: what the graph holds before backward, not timed
    check_size: dict = None          # if set: the size the check runs at instead of ``size``
    #                                  (W8: float64, where AdamW would amplify float32 rounding)

    def workload(self):
        return importlib.import_module(f"bench.{self.module}")


CASES = {c.id: c for c in [
    Case("W1", "w1_lecture", "lecture loop, 1 weight, forward+backward+update"),
    Case("W2", "w2_mlp", "MLP 64→32→10 tanh, batch 64, cross-entropy, SGD step"),
    Case("W1c", "w1c_lecture_compiled", "W1's whole step (forward, backward, update) in chainrule.compile"),
    Case("W2c", "w2c_mlp_compiled", "W2's whole step in chainrule.compile"),
    Case("W3c", "w3c_mlp_large_compiled", "W3's whole step in chainrule.compile"),
    Case("W4c-10k", "w4c_chain_compiled", "W4-10k's chain in chainrule.compile",
         size={"n": 10_000}),
    Case("W5c", "w5c_elementwise_compiled", "W5 in chainrule.compile(mode=\"reduce-overhead\")"),
    Case("W3", "w3_mlp_large", "MLP 784→512→512→10 ReLU, batch 256, float32, SGD step",
         memory=True),
    Case("W4-10k", "w4_chain", "chain y = y·1.0001 + 0.0001, 10,000 steps, forward+backward",
         size={"n": 10_000}),
    Case("W4-200k", "w4_chain", "the same chain, 200,000 steps", size={"n": 200_000},
         check_in_quick=False, quick_engines=("chainrule", "numpy", "torch"), memory=True),
    Case("W5", "w5_elementwise",
         "sum(sin(x)·exp(−x²) + log1p(x²)), 10⁶ float32 values, forward+backward"),
    Case("W6", "w6_cnn", "CNN step: Conv2d(1,16,3) → ReLU → MaxPool2d(2) → Linear, "
                         "batch 64, 8×8 images, float32"),
    Case("W6c", "w6c_cnn_compiled", "W6's whole step in chainrule.compile"),
    Case("W7-add", "w7_graph_memory", "graph memory: y ← y + 1.0, 20 times, on a 4 MiB float32 "
         "tensor requiring grad", size={"op": "add"}, graph_memory=True),
    Case("W7-tanh", "w7_graph_memory", "graph memory: y ← tanh(0.5·y), 20 times, on a 4 MiB "
         "float32 tensor requiring grad", size={"op": "tanh"}, graph_memory=True),
    Case("W7-MLP", "w7_mlp", "graph memory: MLP 784→1024→1024→10 ReLU, batch 1024, float32, "
         "cross-entropy", graph_memory=True),
    Case("W7-CNN", "w6_cnn", "graph memory: W6's CNN on batch 256 of 28×28 images, float32",
         size={"batch": 256, "side": 28}, graph_memory=True),
    Case("W8", "w8_gpt", "GPT step: 2 layers, 64 wide, 4 heads, vocab 65, batch 16 × 64 "
         "tokens, cross-entropy, AdamW, float32", check_size={"dtype": "float64"}),
    Case("W8c", "w8c_gpt_compiled", "W8's whole step (AdamW's included) in chainrule.compile",
         check_size={"dtype": "float64"}),
]}


def build(case, engine, size=None):
    """The ``Program`` for ``case`` on ``engine`` (at ``size``, default ``case.size``); None if
    the workload has no version for it.

    Raises ``Skip`` when the engine cannot run it yet.
    """
    workload = case.workload()
    builder = workload.BUILDERS.get(engine)
    if builder is None:
        return None
    size = case.size if size is None else size
    return builder(workload.data(**size), **size)


def check_size(case):
    """The size ``case`` is checked at: ``case.check_size`` over ``case.size``."""
    return dict(case.size, **(case.check_size or {}))


def compare(name, got, want, rtol):
    """The largest error of ``got`` against ``want``, relative to ``want``'s largest magnitude.

    Raises AssertionError, naming the gradient and the worst element, if it exceeds ``rtol``.
    """
    got = _as_float64(got)
    want = _as_float64(want)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape}, but NumPy by hand gives {want.shape}")
    scale = max(float(abs(want).max()) if want.size else 0.0, 1e-30)
    err = abs(got - want)
    worst = float(err.max()) / scale if err.size else 0.0
    if not worst <= rtol:    # also catches NaN
        i = tuple(int(k) for k in _unravel(int(err.argmax()), want.shape))
        raise AssertionError(
            f"{name}: differs from NumPy by hand by {worst:.3g} of its largest magnitude "
            f"(tolerance {rtol:g}); worst element {i}: {got[i]!r} vs {want[i]!r}")
    return worst


def _unravel(flat, shape):
    """The multi-index of element ``flat`` in ``shape`` (``numpy.unravel_index``, 0-d too)."""
    import numpy as np
    return np.unravel_index(flat, shape) if shape else ()


def _as_float64(x):
    import numpy as np
    return np.asarray(x, dtype=np.float64)


def check(case, engine):
    """Check ``engine``'s gradients (and its parameters after two steps) against NumPy by hand.

    Returns a dict: ``status`` is "ok", "n/a" (no version of this workload for the engine),
    "skipped" (``Skip``: the engine can't run it yet) or "limit" (the engine hit its own limit,
    e.g. micrograd's RecursionError on a long chain); ``note`` says why; ``max_rel_err`` is the
    worst relative error found.  A gradient that disagrees raises AssertionError.
    """
    result = {"case": case.id, "engine": engine, "status": "ok", "note": "",
              "max_rel_err": 0.0}
    if not engine_available(engine):
        return dict(result, status="n/a", note="not installed")
    try:
        program = build(case, engine, check_size(case))
        if program is None:
            return dict(result, status="n/a", note="no version of this workload")
        got = program.grads()
        got_params = {}
        if case.workload().TRAINS:
            program.step()
            program.step()
            got_params = program.params()
    except Skip as e:
        return dict(result, status="skipped", note=str(e))
    except RecursionError:
        return dict(result, status="limit", note="RecursionError")
    result["max_rel_err"] = verify(case, engine, got, got_params)
    if case.check_size and engine != "numpy":     # the timed size's gradients, too
        result["max_rel_err"] = max(result["max_rel_err"], verify(
            case, engine, build(case, engine).grads(), None, case.size))
    return result


def verify(case, engine, got, got_params, size=None):
    """Compare gradients (and parameters after two steps) with NumPy by hand's; the worst error.

    ``size``: the size ``got`` was computed at (default: the check's); ``got_params`` None
    compares the gradients alone."""
    if engine == "numpy":
        return 0.0                          # the reference itself
    workload = case.workload()
    size = check_size(case) if size is None else size
    ref = build(case, "numpy", size)
    want = ref.grads()
    want_params = {}
    if workload.TRAINS and got_params is not None:
        ref.step()
        ref.step()
        want_params = ref.params()
    if set(got) != set(want):
        raise AssertionError(f"{case.id} on {engine}: gradients for {sorted(got)}, "
                             f"NumPy by hand has {sorted(want)}")
    worst = 0.0
    for name in want:
        worst = max(worst, compare(f"{case.id} on {engine}: ∂loss/∂{name}", got[name],
                                   want[name], workload.RTOL))
    # the change two SGD steps made (sharper than the parameters themselves)
    initial = workload.data(**size)
    for name in want_params:
        start = _as_float64(initial[name])
        worst = max(worst, compare(f"{case.id} on {engine}: change of {name} in two SGD steps",
                                   _as_float64(got_params[name]) - start,
                                   _as_float64(want_params[name]) - start, workload.RTOL))
    return worst
