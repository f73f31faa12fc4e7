"""nn.RNN, nn.GRU, nn.LSTM and their cells: against PyTorch (same state_dict, same outputs and
gradients), against central differences (gradcheck, float64), and PyTorch's names, reprs,
initialisation and error texts.  The torch comparisons are skipped when torch is absent."""
import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:                     # the rest of the file still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

LAYERS = ["RNN", "GRU", "LSTM"]
CELLS = ["RNNCell", "GRUCell", "LSTMCell"]


# =========================================================================================
# Helpers
# =========================================================================================

def _np(t):
    return t.detach().cpu().numpy() if torch is not None and isinstance(t, torch.Tensor) \
        else t.detach().numpy()


def _pair(kind, *args, dtype="float64", **kwargs):
    """A torch module and a chainrule module of the same kind holding torch's weights."""
    tm = getattr(torch.nn, kind)(*args, **kwargs).to(getattr(torch, dtype))
    cm = getattr(cr.nn, kind)(*args, **kwargs).to(getattr(cr, dtype))
    cm.load_state_dict({k: cr.tensor(_np(v)) for k, v in tm.state_dict().items()})
    return tm, cm


def _flatten(out):
    """(output, h_n) / (output, (h_n, c_n)) / h / (h, c) as a flat list of tensors."""
    flat, stack = [], [out]
    while stack:
        o = stack.pop(0)
        if isinstance(o, (tuple, list)):
            stack = list(o) + stack
        else:
            flat.append(o)
    return flat


def _tol(dtype):
    return dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)


def _compare(kind, args, kwargs, x_shape, h_shapes, dtype="float64", seed=0):
    """Run both libraries on the same input and states; compare every output and the gradient
    of a weighted sum of the outputs w.r.t. the input, the states and every parameter."""
    torch.manual_seed(seed)
    tm, cm = _pair(kind, *args, dtype=dtype, **kwargs)
    rng = np.random.default_rng(seed)
    npdt = np.dtype(dtype)
    x = rng.standard_normal(x_shape).astype(npdt)
    hs = [rng.standard_normal(s).astype(npdt) for s in h_shapes]
    tx = torch.tensor(x, requires_grad=True)
    cx = cr.tensor(x, requires_grad=True)
    th = [torch.tensor(h, requires_grad=True) for h in hs]
    ch = [cr.tensor(h, requires_grad=True) for h in hs]

    def state(hs_):
        if not hs_:
            return None
        return tuple(hs_) if len(hs_) == 2 else hs_[0]

    touts = _flatten(tm(tx, state(th)))
    couts = _flatten(cm(cx, state(ch)))
    assert len(touts) == len(couts)
    tol = _tol(dtype)
    weights = [rng.standard_normal(tuple(t.shape)).astype(npdt) for t in touts]
    for k, (t, c) in enumerate(zip(touts, couts)):
        assert tuple(c.shape) == tuple(t.shape), f"output {k}: {c.shape} vs torch {t.shape}"
        assert c.dtype.name == dtype
        np.testing.assert_allclose(_np(c), _np(t), err_msg=f"{kind} output {k}", **tol)
    tloss = sum((t * torch.tensor(w)).sum() for t, w in zip(touts, weights))
    closs = sum((c * cr.tensor(w)).sum() for c, w in zip(couts, weights))
    tloss.backward()
    closs.backward()
    np.testing.assert_allclose(_np(cx.grad), _np(tx.grad), err_msg="d/d input", **tol)
    for k, (t, c) in enumerate(zip(th, ch)):
        np.testing.assert_allclose(_np(c.grad), _np(t.grad), err_msg=f"d/d state {k}", **tol)
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(tparams[name].grad), err_msg=f"d/d {name}",
                                   **tol)


# =========================================================================================
# Layers against torch
# =========================================================================================

# (kwargs, input shape, batched, with states) for input_size 3, hidden_size 4
CONFIGS = [
    pytest.param(dict(), (5, 2, 3), True, False, id="default"),
    pytest.param(dict(), (5, 2, 3), True, True, id="h0"),
    pytest.param(dict(num_layers=2), (4, 3, 3), True, True, id="2layers"),
    pytest.param(dict(bidirectional=True), (4, 2, 3), True, True, id="bidirectional"),
    pytest.param(dict(num_layers=2, bidirectional=True, batch_first=True), (2, 4, 3), True,
                 True, id="2layers-bidir-batch_first"),
    pytest.param(dict(bias=False, num_layers=2), (3, 2, 3), True, False, id="no-bias"),
    pytest.param(dict(bidirectional=True), (23, 2, 3), True, True, id="long"),  # blocked slicing
    pytest.param(dict(), (5, 3), False, False, id="unbatched"),
    pytest.param(dict(num_layers=2, bidirectional=True), (5, 3), False, True,
                 id="unbatched-h0-bidir"),
    pytest.param(dict(batch_first=True), (5, 3), False, True, id="unbatched-batch_first"),
]


def _state_shapes(kind, kwargs, x_shape, batched, with_states, hidden=4):
    if not with_states:
        return []
    d = 2 if kwargs.get("bidirectional") else 1
    n = x_shape[0 if kwargs.get("batch_first") else 1] if batched else None
    shape = (kwargs.get("num_layers", 1) * d, n, hidden) if batched else \
        (kwargs.get("num_layers", 1) * d, hidden)
    return [shape, shape] if kind == "LSTM" else [shape]


@needs_torch
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("kwargs, x_shape, batched, with_states", CONFIGS)
def test_layer_matches_torch(kind, kwargs, x_shape, batched, with_states):
    shapes = _state_shapes(kind, kwargs, x_shape, batched, with_states)
    _compare(kind, (3, 4), kwargs, x_shape, shapes)


@needs_torch
def test_rnn_relu_matches_torch():
    _compare("RNN", (3, 4), dict(nonlinearity="relu", num_layers=2, bidirectional=True),
             (4, 2, 3), [(4, 2, 4)])


@needs_torch
@pytest.mark.parametrize("kind", LAYERS)
def test_float32_matches_torch(kind):
    kwargs = dict(num_layers=2, batch_first=True)
    _compare(kind, (3, 4), kwargs, (2, 6, 3), _state_shapes(kind, kwargs, (2, 6, 3), True, True),
             dtype="float32")


@needs_torch
@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_between_layers(kind):
    """eval ignores dropout; in training p = 1 zeroes the second layer's input, which is
    deterministic, so torch's outputs must be matched exactly."""
    torch.manual_seed(1)
    tm, cm = _pair(kind, 3, 4, num_layers=2, dropout=1.0)
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    for training in (False, True):
        tm.train(training)
        cm.train(training)
        for t, c in zip(_flatten(tm(torch.tensor(x))), _flatten(cm(cr.tensor(x)))):
            np.testing.assert_allclose(_np(c), _np(t), **_tol("float64"))


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_half_only_in_training(kind):
    layer = getattr(cr.nn, kind)(3, 4, num_layers=2, dropout=0.5).double()
    x = cr.randn(6, 2, 3, dtype=cr.float64)
    layer.eval()
    a, b = _np(_flatten(layer(x))[0]), _np(_flatten(layer(x))[0])
    np.testing.assert_array_equal(a, b)
    layer.train()
    c = _np(_flatten(layer(x))[0])
    assert not np.allclose(a, c), "dropout=0.5 in training changed nothing"


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match=re.escape(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            "dropout expects num_layers greater than 1, but got dropout=0.3 and num_layers=1")):
        cr.nn.LSTM(3, 4, dropout=0.3)


# =========================================================================================
# Cells against torch
# =========================================================================================

CELL_CONFIGS = [
    pytest.param(dict(), (3, 3), True, id="batched"),
    pytest.param(dict(), (3, 3), False, id="no-state"),
    pytest.param(dict(bias=False), (2, 3), True, id="no-bias"),
    pytest.param(dict(), (3,), True, id="unbatched"),
    pytest.param(dict(), (3,), False, id="unbatched-no-state"),
]


@needs_torch
@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("kwargs, x_shape, with_states", CELL_CONFIGS)
def test_cell_matches_torch(kind, kwargs, x_shape, with_states):
    h = (x_shape[0], 4) if len(x_shape) == 2 else (4,)
    shapes = [] if not with_states else [h, h] if kind == "LSTMCell" else [h]
    _compare(kind, (3, 4), kwargs, x_shape, shapes)


@needs_torch
def test_relu_cell_matches_torch():
    _compare("RNNCell", (3, 4), dict(nonlinearity="relu"), (5, 3), [(5, 4)])


def test_layer_equals_its_cell_unrolled():
    """One LSTM layer is the LSTMCell applied along the sequence (no torch needed)."""
    cr.manual_seed(0)
    layer = cr.nn.LSTM(3, 4).double()
    cell = cr.nn.LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.randn(5, 2, 3, dtype=cr.float64)
    out, (h_n, c_n) = layer(x)
    h = c = cr.zeros(2, 4, dtype=cr.float64)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(_np(out[t]), _np(h), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(h_n[0]), _np(h), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(c_n[0]), _np(c), rtol=1e-12, atol=1e-14)


# =========================================================================================
# Central differences
# =========================================================================================

def _inputs(*shapes, seed=0):
    g = np.random.default_rng(seed)
    return [cr.tensor(g.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("kind, kwargs", [
    ("RNN", dict(num_layers=2, bidirectional=True)),
    ("RNN", dict(nonlinearity="relu")),
    ("GRU", dict(num_layers=2, batch_first=True)),
    ("LSTM", dict(bidirectional=True)),
])
def test_layer_gradcheck(kind, kwargs):
    cr.manual_seed(0)
    layer = getattr(cr.nn, kind)(2, 2, **kwargs).double()
    s = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    x_shape = (2, 3, 2) if kwargs.get("batch_first") else (3, 2, 2)     # L = 3, N = 2
    x, h, c = _inputs(x_shape, (s, 2, 2), (s, 2, 2))
    names = [n for n, _ in layer.named_parameters()]

    def f(x, h, c, *ps):
        hx = (h, c) if kind == "LSTM" else h
        return tuple(_flatten(_forward_with(layer, dict(zip(names, ps)), x, hx)))

    ps = [cr.tensor(_np(p), requires_grad=True) for p in layer.parameters()]
    assert gradcheck(f, (x, h, c, *ps))


def _forward_with(module, params, *args):
    """module(*args) with ``params`` (tensors in the graph) standing in for its parameters."""
    saved = dict(module._parameters)
    try:
        module._parameters.update(params)
        return module(*args)
    finally:
        module._parameters.update(saved)


@pytest.mark.parametrize("kind, kwargs", [("RNNCell", dict(nonlinearity="relu")),
                                          ("RNNCell", dict()), ("GRUCell", dict()),
                                          ("LSTMCell", dict())])
def test_cell_gradcheck(kind, kwargs):
    cr.manual_seed(0)
    cell = getattr(cr.nn, kind)(2, 3, **kwargs).double()
    x, h, c = _inputs((2, 2), (2, 3), (2, 3), seed=1)
    names = [n for n, _ in cell.named_parameters()]

    def f(x, h, c, *ps):
        hx = (h, c) if kind == "LSTMCell" else h
        return tuple(_flatten(_forward_with(cell, dict(zip(names, ps)), x, hx)))

    ps = [cr.tensor(_np(p), requires_grad=True) for p in cell.parameters()]
    assert gradcheck(f, (x, h, c, *ps))


@pytest.mark.parametrize("kind", LAYERS)
def test_second_derivatives(kind):
    """Composed from ops whose rules run on tensors too, so gradients of gradients work."""
    cr.manual_seed(0)
    layer = getattr(cr.nn, kind)(2, 2).double()
    x, = _inputs((2, 1, 2), seed=2)
    assert gradgradcheck(lambda x: _flatten(layer(x))[0], (x,))


# =========================================================================================
# Names, shapes, repr, initialisation
# =========================================================================================

ARCHS = [
    ("RNN", (10, 20), dict()),
    ("RNN", (10, 20), dict(nonlinearity="relu", num_layers=3, bias=False)),
    ("GRU", (3, 4), dict(num_layers=2, bidirectional=True)),
    ("LSTM", (10, 20), dict(num_layers=2, batch_first=True)),
    ("LSTM", (5, 6), dict(num_layers=2, batch_first=True, dropout=0.5, bidirectional=True,
                          bias=False)),
    ("GRU", (3, 4), dict(dropout=0)),
    ("RNNCell", (3, 4), dict(nonlinearity="relu", bias=False)),
    ("RNNCell", (3, 4), dict()),
    ("GRUCell", (3, 4), dict(bias=False)),
    ("LSTMCell", (3, 4), dict()),
]


@needs_torch
@pytest.mark.parametrize("kind, args, kwargs", ARCHS)
def test_state_dict_and_repr_as_torch(kind, args, kwargs):
    tm = getattr(torch.nn, kind)(*args, **kwargs)
    cm = getattr(cr.nn, kind)(*args, **kwargs)
    assert repr(cm) == repr(tm)
    tsd, csd = tm.state_dict(), cm.state_dict()
    assert list(csd) == list(tsd)
    assert [tuple(v.shape) for v in csd.values()] == [tuple(v.shape) for v in tsd.values()]
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    if hasattr(tm, "_all_weights"):
        assert cm._all_weights == tm._all_weights
        assert cm._flat_weights_names == tm._flat_weights_names


def test_reprs():
    assert repr(cr.nn.LSTM(10, 20, num_layers=2, batch_first=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(cr.nn.RNN(10, 20, 2, bias=False, batch_first=True, dropout=0.5,
                          bidirectional=True)) == \
        "RNN(10, 20, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    assert repr(cr.nn.RNNCell(3, 4, nonlinearity="relu", bias=False)) == \
        "RNNCell(3, 4, bias=False, nonlinearity=relu)"


@needs_torch
@pytest.mark.parametrize("kind", LAYERS)
def test_chainrule_state_dict_into_torch(kind):
    """The other direction: chainrule's weights loaded into torch give the same outputs."""
    cr.manual_seed(3)
    cm = getattr(cr.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    tm = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    tm.load_state_dict({k: torch.tensor(_np(v)) for k, v in cm.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((4, 2, 3))
    with torch.no_grad():
        touts = _flatten(tm(torch.tensor(x)))
    for t, c in zip(touts, _flatten(cm(cr.tensor(x)))):
        np.testing.assert_allclose(_np(c), _np(t), **_tol("float64"))


@pytest.mark.parametrize("kind", LAYERS + CELLS)
def test_default_initialisation(kind):
    """Every weight and bias is U(-1/√H, 1/√H): inside the bounds, and filling them."""
    m = getattr(cr.nn, kind)(16, 25, **({} if "Cell" in kind else dict(num_layers=2)))
    bound = 1 / math.sqrt(25)
    values = np.concatenate([_np(p).ravel() for p in m.parameters()])
    assert all(p.dtype == cr.float32 and p.requires_grad for p in m.parameters())
    assert np.all(np.abs(values) <= bound)
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.05 * bound and abs(values.std() - bound / math.sqrt(3)) < \
        0.05 * bound
    m.reset_parameters()
    assert np.all(np.abs(np.concatenate([_np(p).ravel() for p in m.parameters()])) <= bound)


def test_attributes_and_dtype():
    lstm = cr.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=cr.float64)
    assert (lstm.mode, lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bias,
            lstm.batch_first, lstm.dropout, lstm.bidirectional, lstm.proj_size) == \
        ("LSTM", 3, 4, 2, True, False, 0.0, True, 0)
    assert len(lstm.all_weights) == 4 and lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    assert lstm.weight_ih_l1.shape == (16, 8) and lstm.weight_ih_l0.dtype == cr.float64
    assert cr.nn.RNN(3, 4, nonlinearity="relu").mode == "RNN_RELU"
    gru = cr.nn.GRU(3, 4).double()
    out, h = gru(cr.randn(2, 1, 3, dtype=cr.float64))
    assert out.dtype == h.dtype == cr.float64
    lstm.flatten_parameters()


@pytest.mark.parametrize("kind", LAYERS)
def test_empty_batch(kind):
    out = _flatten(getattr(cr.nn, kind)(3, 4, num_layers=2)(cr.randn(5, 0, 3)))
    assert tuple(out[0].shape) == (5, 0, 4)
    assert all(tuple(h.shape) == (2, 0, 4) for h in out[1:])


# =========================================================================================
# Errors (torch's texts)
# =========================================================================================

def _raises(exc, text):
    return pytest.raises(exc, match=re.escape(text))


def test_constructor_errors():
    with _raises(ValueError, "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."):
        cr.nn.RNN(3, 4, nonlinearity="sigmoid")
    with _raises(ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU"):
        cr.nn.GRU(3, 4, proj_size=2)
    with _raises(ValueError, "proj_size has to be smaller than hidden_size"):
        cr.nn.LSTM(3, 4, proj_size=5)
    with _raises(NotImplementedError, "proj_size=2"):
        cr.nn.LSTM(3, 4, proj_size=2)
    with _raises(ValueError, "dropout should be a number in range [0, 1]"):
        cr.nn.LSTM(3, 4, dropout=2)
    with _raises(ValueError, "hidden_size must be greater than zero"):
        cr.nn.LSTM(3, 0)
    with _raises(ValueError, "num_layers must be greater than zero"):
        cr.nn.LSTM(3, 4, 0)
    with _raises(TypeError, "hidden_size should be of type int, got: float"):
        cr.nn.LSTM(3, 4.0)
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.nn.GRU(3, 4, device="cuda")


LAYER_ERRORS = [
    ("RNN", lambda m: m(cr.randn(5, 3, 8)), RuntimeError,
     "input.size(-1) must be equal to input_size. Expected 10, got 8"),
    ("RNN", lambda m: m(cr.randn(5, 3, 10), cr.randn(2, 4, 20)), RuntimeError,
     "Expected hidden size (2, 3, 20), got [2, 4, 20]"),
    ("RNN", lambda m: m(cr.randn(5, 3, 10), cr.randn(4, 20)), RuntimeError,
     "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    ("GRU", lambda m: m(cr.randn(5, 10), cr.randn(2, 3, 20)), RuntimeError,
     "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
    ("GRU", lambda m: m(cr.randn(5, 10), cr.randn(3, 20)), RuntimeError,
     "Expected hidden size (2, 1, 20), got [3, 1, 20]"),
    ("RNN", lambda m: m(cr.randn(10)), ValueError,
     "RNN: Expected input to be 2D or 3D, got 1D tensor instead"),
    ("LSTM", lambda m: m(cr.randn(4, 5, 3, 10)), ValueError,
     "LSTM: Expected input to be 2D or 3D, got 4D instead"),
    ("LSTM", lambda m: m(cr.randn(5, 3, 10), (cr.randn(2, 4, 20), cr.randn(2, 3, 20))),
     RuntimeError, "Expected hidden[0] size (2, 3, 20), got [2, 4, 20]"),
    ("LSTM", lambda m: m(cr.randn(5, 3, 10), (cr.randn(2, 3, 20), cr.randn(2, 3, 21))),
     RuntimeError, "Expected hidden[1] size (2, 3, 20), got [2, 3, 21]"),
    ("LSTM", lambda m: m(cr.randn(5, 3, 10), (cr.randn(3, 20), cr.randn(2, 3, 20))),
     RuntimeError, "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) "
     "tensors"),
    ("LSTM", lambda m: m(cr.randn(5, 10), (cr.randn(3, 20), cr.randn(2, 3, 21))),
     RuntimeError, "For unbatched 2-D input, hx and cx should also be 2-D but got (2-D, 3-D) "
     "tensors"),
    ("GRU", lambda m: m(cr.randn(0, 3, 10)), RuntimeError,
     "Expected sequence length to be larger than 0 in RNN"),
    ("RNN", lambda m: m(cr.randn(5, 3, 10, dtype=cr.float64)), ValueError,
     "RNN input dtype (chainrule.float64) does not match weight dtype (chainrule.float32). "
     "Convert input: input.to(chainrule.float32), or convert model: "
     "model.to(chainrule.float64)"),
]


@pytest.mark.parametrize("kind, call, exc, text", LAYER_ERRORS)
def test_layer_errors(kind, call, exc, text):
    with _raises(exc, text):
        call(getattr(cr.nn, kind)(10, 20, num_layers=2))


CELL_ERRORS = [
    ("RNNCell", lambda m: m(cr.randn(3, 8)), RuntimeError,
     "input has inconsistent input_size: got 8 expected 10"),
    ("RNNCell", lambda m: m(cr.randn(3, 10), cr.randn(4, 20)), RuntimeError,
     "Input batch size 3 doesn't match hidden0 batch size 4"),
    ("RNNCell", lambda m: m(cr.randn(3, 10), cr.randn(3, 21)), RuntimeError,
     "hidden0 has inconsistent hidden_size: got 21, expected 20"),
    ("RNNCell", lambda m: m(cr.randn(3, 3, 10)), ValueError,
     "RNNCell: Expected input to be 1D or 2D, got 3D instead"),
    ("RNNCell", lambda m: m(cr.randn(3, 10), cr.randn(1, 3, 20)), ValueError,
     "RNNCell: Expected hidden to be 1D or 2D, got 3D instead"),
    ("LSTMCell", lambda m: m(cr.randn(3, 10), (cr.randn(3, 20), cr.randn(4, 20))),
     RuntimeError, "Input batch size 3 doesn't match hidden1 batch size 4"),
    ("LSTMCell", lambda m: m(cr.randn(3, 10), (cr.randn(3, 20),)), RuntimeError,
     "lstm_cell expects two hidden states"),
    ("GRUCell", lambda m: m(cr.randn(10), cr.randn(3, 20)), RuntimeError,
     "hidden0 has inconsistent hidden_size: got 3, expected 20"),
]


@pytest.mark.parametrize("kind, call, exc, text", CELL_ERRORS)
def test_cell_errors(kind, call, exc, text):
    with _raises(exc, text):
        call(getattr(cr.nn, kind)(10, 20))


@needs_torch
@pytest.mark.parametrize("kind, call, exc, text", LAYER_ERRORS + CELL_ERRORS)
def test_error_texts_are_torchs(kind, call, exc, text):
    """The texts above are torch's own (torch prints torch.float64 where we print chainrule.)."""
    m = getattr(torch.nn, kind)(10, 20, **({} if "Cell" in kind else dict(num_layers=2)))

    class Shim:             # run the same lambda on torch: cr.randn -> torch.randn
        float64 = torch.float64

        @staticmethod
        def randn(*shape, dtype=None):
            return torch.randn(*shape, dtype=dtype)

    global cr
    saved, cr = cr, Shim
    try:
        with _raises(exc, text.replace("chainrule.", "torch.")):
            call(m)
    finally:
        cr = saved


def test_docstring_examples():
    import doctest

    from chainrule.nn.modules import rnn
    result = doctest.testmod(rnn, extraglobs={"chainrule": cr})
    assert result.attempted > 0 and result.failed == 0
