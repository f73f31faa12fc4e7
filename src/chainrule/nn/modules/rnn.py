"""Recurrent layers: RNN, GRU, LSTM and their one-step cells, with PyTorch's API.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a ``state_dict`` moves
between the two libraries and gives the same outputs.  Everything is composed from existing ops
(matmul, sigmoid, tanh, chunk, stack, cat), so no derivative code lives here.  For speed, the
input projection ``x @ W_ihᵀ + b`` of every time step is one matmul before the time loop; the
loop does only the recurrent part ``h @ W_hhᵀ``.
"""
import math
import numbers
import warnings

from ...creation import empty, rand, zeros
from ...functional import cat, relu, sigmoid, stack, tanh
from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "GRUCell", "LSTMCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


# =========================================================================================
# One time step, shared by the layers and the cells
# =========================================================================================
# ``xw`` is the input's projection x @ W_ihᵀ + b_ih of this step, (N, gates·H); ``w_hh_t`` is
# W_hhᵀ; ``b_hh`` may be None (no bias, or already folded into ``xw``).

def _hidden_projection(h, w_hh_t, b_hh):
    hw = h @ w_hh_t
    return hw if b_hh is None else hw + b_hh


def _rnn_tanh_step(xw, h, w_hh_t, b_hh):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""
    return tanh(xw + _hidden_projection(h, w_hh_t, b_hh))


def _rnn_relu_step(xw, h, w_hh_t, b_hh):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh)"""
    return relu(xw + _hidden_projection(h, w_hh_t, b_hh))


def _gru_step(xw, h, w_hh_t, b_hh):
    """r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n), h' = (1 - z)·n + z·h"""
    x_r, x_z, x_n = xw.chunk(3, 1)
    h_r, h_z, h_n = _hidden_projection(h, w_hh_t, b_hh).chunk(3, 1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (h - n)          # = (1 - z)·n + z·h, written as PyTorch's kernel does


def _lstm_step(xw, state, w_hh_t, b_hh):
    """i, f, o = σ(·), g = tanh(·); c' = f·c + i·g; h' = o·tanh(c')"""
    h, c = state
    i, f, g, o = (xw + _hidden_projection(h, w_hh_t, b_hh)).chunk(4, 1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


_STEPS = {"RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step, "GRU": _gru_step,
          "LSTM": _lstm_step}


def _dropout(x, p):
    """Inverted dropout between layers (training only), as PyTorch's RNNs apply it."""
    if p == 1:
        return x * 0.0
    keep = rand(*x.shape, dtype=x.dtype) >= p
    return x * (keep.to(x.dtype) / (1.0 - p))


def _factory(device, dtype, owner):
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"{owner}: chainrule runs on the CPU only, got device={device!r}")
    return dtype


def _check_dtypes(name, input, hidden, weight):
    if input.dtype != weight.dtype:
        raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert input: input.to({weight.dtype}), or convert "
                         f"model: model.to({input.dtype})")
    for label, h in hidden:
        if h.dtype != input.dtype:
            raise RuntimeError(f"{name}: {label} has dtype {h.dtype} but the input has "
                               f"{input.dtype}; convert it with {label}.to({input.dtype})")


# =========================================================================================
# Multi-layer recurrent networks
# =========================================================================================

class RNNBase(Module):
    """The common part of ``RNN``, ``GRU`` and ``LSTM``: parameters, checks and the time loop.

    ``mode`` is ``"RNN_TANH"``, ``"RNN_RELU"``, ``"GRU"`` or ``"LSTM"``, as in PyTorch.

    >>> chainrule.nn.RNNBase("GRU", 3, 4)
    RNNBase(3, 4)
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        dtype = _factory(device, dtype, type(self).__name__)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) \
                or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        _check_type("bias", bias, bool)
        _check_type("batch_first", batch_first, bool)
        _check_type("input_size", input_size, int)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type("hidden_size", hidden_size, int)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0:
            raise NotImplementedError(
                f"LSTM with proj_size={proj_size} (a projected LSTM, weight_hr_l*) is not "
                "implemented in chainrule: use proj_size=0, or follow the LSTM with a "
                f"Linear({hidden_size}, {proj_size})")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = {f"weight_ih_l{layer}{suffix}": (gate_size, layer_input_size),
                          f"weight_hh_l{layer}{suffix}": (gate_size, hidden_size)}
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    self.register_parameter(name, Parameter(empty(*shape, dtype=dtype)))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters, one list per (layer, direction): ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op, as in PyTorch on the CPU (cuDNN packs the weights into one buffer)."""

    def reset_parameters(self):
        """Draw every weight and bias from U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            weight.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # --- checks -----------------------------------------------------------------------------
    def _name(self):
        return "GRU" if self.mode == "GRU" else "LSTM" if self.mode == "LSTM" else "RNN"

    def _check_input(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}: expected the input to be a Tensor, got "
                            f"{type(input).__name__} (PackedSequence is not supported)")
        if input.dim() not in (2, 3):
            tensor = " tensor" if self.mode.startswith("RNN") else ""
            raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D{tensor} instead")

    def _expected_hidden_size(self, input):
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def _check_forward_args(self, input, hidden, labels):
        """``input`` is 3-d here; ``hidden`` a list of tensors checked against the expected
        (num_layers·num_directions, N, hidden_size)."""
        if input.size(-1) != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")
        expected = self._expected_hidden_size(input)
        for label, h in zip(labels, hidden):
            if tuple(h.shape) != expected:
                raise RuntimeError(f"Expected {label} size {expected}, got {list(h.shape)}")

    # --- the computation --------------------------------------------------------------------
    def _run(self, input, hidden):
        """``input`` (L, N, H_in), time first; ``hidden`` a tuple of initial states (one for
        RNN/GRU, (h0, c0) for LSTM), each (num_layers·num_directions, N, H) or None.
        Returns output (L, N, num_directions·H) and the tuple of final states."""
        length, batch = input.shape[0], input.shape[1]
        if length == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        step = _STEPS[self.mode]
        lstm = self.mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        # RNN and LSTM add b_hh straight to the gates, so it joins b_ih in the one projection;
        # GRU needs b_hn inside r·(W_hn h + b_hn), so it stays in the step
        fold = self.bias and self.mode != "GRU"
        layer_input = input
        finals = [[] for _ in hidden]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                names = self._all_weights[k]
                w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
                b_ih = getattr(self, names[2]) if self.bias else None
                b_hh = getattr(self, names[3]) if self.bias else None
                bias = None if b_ih is None else (b_ih + b_hh if fold else b_ih)
                xw = layer_input.reshape(length * batch, layer_input.shape[2]) @ w_ih.t()
                if bias is not None:
                    xw = xw + bias
                steps = xw.reshape(length, batch, xw.shape[1]).unbind(0)
                state = tuple(zeros(batch, self.hidden_size, dtype=input.dtype) if h is None
                              else h[k] for h in hidden)
                state = state if lstm else state[0]
                w_hh_t = w_hh.t()
                b_step = None if fold else b_hh
                out = [None] * length
                times = range(length - 1, -1, -1) if direction == 1 else range(length)
                for t in times:
                    state = step(steps[t], state, w_hh_t, b_step)
                    out[t] = state[0] if lstm else state
                outputs.append(stack(out, 0))
                for kept, s in zip(finals, state if lstm else (state,)):
                    kept.append(s)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout)
        return layer_input, tuple(stack(f, 0) for f in finals)

    def _forward(self, input, hx):
        """The shared part of forward: unbatched and batch_first in, torch's layout out."""
        self._check_input(input)
        lstm = self.mode == "LSTM"
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if lstm and hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors, got "
                                f"{type(hx).__name__}")
            want = 3 if batched else 2
            if hx[0].dim() != want or hx[1].dim() != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                   f"got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            hidden = tuple(hx) if batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        elif hx is not None:
            want = 3 if batched else 2
            if hx.dim() != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                                   f"{hx.dim()}-D tensor")
            hidden = (hx if batched else hx.unsqueeze(1),)
        else:
            hidden = (None, None) if lstm else (None,)
        if not batched:
            input = input.unsqueeze(batch_dim)
        given = [] if hidden[0] is None else list(hidden)
        labels = ("hidden[0]", "hidden[1]") if lstm else ("hidden",)
        _check_dtypes(self._name(), input, list(zip(("h_0", "c_0") if lstm else ("hx",), given)),
                      getattr(self, self._flat_weights_names[0]))
        self._check_forward_args(input, given, labels)
        if self.batch_first:
            input = input.transpose(0, 1)
        output, finals = self._run(input, hidden)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(batch_dim)
            finals = tuple(f.squeeze(1) for f in finals)
        return output, finals


def _check_type(name, value, kind):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                        f"{type(value).__name__}")


def _refuse_proj_size(kwargs, owner):
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{owner}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), stacked
    ``num_layers`` deep, optionally in both directions.

    Input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in); optional
    ``hx`` (num_layers·num_directions, N, H_out).  Returns ``(output, h_n)``: output
    (L, N, num_directions·H_out) and h_n (num_layers·num_directions, N, H_out).

    >>> rnn = chainrule.nn.RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(chainrule.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        _refuse_proj_size(kwargs, "RNN")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, hx)
        return output, h_n


class GRU(RNNBase):
    """Multi-layer gated recurrent unit, PyTorch's equations and gate order (r, z, n):

    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 - z)·n + z·h.

    Shapes as ``RNN``; returns ``(output, h_n)``.

    >>> gru = chainrule.nn.GRU(10, 20, batch_first=True)
    >>> output, h_n = gru(chainrule.randn(3, 5, 10))
    >>> output.shape, h_n.shape
    (chainrule.Size([3, 5, 20]), chainrule.Size([1, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        _refuse_proj_size(kwargs, "GRU")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Multi-layer long short-term memory, PyTorch's equations and gate order (i, f, g, o):

    i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·), g = tanh(W_ig x + b_ig + W_hg h + b_hg),
    c' = f·c + i·g, h' = o·tanh(c').

    ``hx`` is ``(h_0, c_0)``, each (num_layers·num_directions, N, H); returns
    ``(output, (h_n, c_n))``.  Only ``proj_size=0`` is implemented.

    >>> lstm = chainrule.nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> lstm
    LSTM(10, 20, num_layers=2, batch_first=True)
    >>> output, (h_n, c_n) = lstm(chainrule.randn(3, 5, 10))
    >>> output.shape, h_n.shape, c_n.shape
    (chainrule.Size([3, 5, 20]), chainrule.Size([2, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._forward(input, hx)
        return output, (h_n, c_n)


# =========================================================================================
# Cells: one time step
# =========================================================================================

class RNNCellBase(Module):
    """The common part of the cells: ``weight_ih`` (chunks·H, H_in), ``weight_hh``
    (chunks·H, H), ``bias_ih`` and ``bias_hh`` (chunks·H), drawn from U(-1/√H, 1/√H).

    >>> chainrule.nn.RNNCellBase(3, 4, bias=True, num_chunks=2).weight_ih.shape
    chainrule.Size([8, 3])
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        dtype = _factory(device, dtype, type(self).__name__)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias from U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            weight.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _prepare(self, input, hx, n_states):
        """Check shapes as PyTorch's cells do; return the batched input and states."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if n_states == 2 and hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("lstm_cell expects two hidden states")
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected hx[{idx}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        elif hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            states = (zeros(input.size(0), self.hidden_size, dtype=input.dtype),) * n_states
        else:
            states = tuple(hx) if n_states == 2 else (hx,)
            if not batched:
                states = tuple(s.unsqueeze(0) for s in states)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for k, s in enumerate(states):
            if s.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} "
                                   f"batch size {s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.size(1)}, "
                                   f"expected {self.hidden_size}")
            if s.dim() != 2:
                raise RuntimeError(f"{name}: hidden{k} should be (batch, hidden_size) = "
                                   f"{(input.size(0), self.hidden_size)}, got {list(s.shape)}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype ({input.dtype}) does not match weight "
                               f"dtype ({self.weight_ih.dtype}); convert the input with "
                               f".to({self.weight_ih.dtype}) or the cell with "
                               f".to({input.dtype})")
        for k, s in enumerate(states):
            if s.dtype != input.dtype:
                raise RuntimeError(f"{name}: hidden{k} has dtype {s.dtype} but the input has "
                                   f"{input.dtype}")
        return input, states, batched

    def _step(self, step, input, state):
        xw = input @ self.weight_ih.t()
        if self.bias_ih is not None:
            xw = xw + self.bias_ih
        return step(xw, state, self.weight_hh.t(), self.bias_hh)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    Input (N, H_in) or (H_in); ``hx`` (N, H) or (H), zeros when omitted; returns h'.

    >>> cell = chainrule.nn.RNNCell(10, 20)
    >>> cell(chainrule.randn(3, 10)).shape
    chainrule.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx, 1)
        if self.nonlinearity == "tanh":
            step = _rnn_tanh_step
        elif self.nonlinearity == "relu":
            step = _rnn_relu_step
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = self._step(step, input, h)
        return h if batched else h.squeeze(0)


class GRUCell(RNNCellBase):
    """One step of a GRU (gate order r, z, n; see ``GRU``); returns h'.

    >>> cell = chainrule.nn.GRUCell(10, 20)
    >>> cell(chainrule.randn(10)).shape
    chainrule.Size([20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx, 1)
        h = self._step(_gru_step, input, h)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM (gate order i, f, g, o; see ``LSTM``); ``hx`` is ``(h, c)``;
    returns ``(h', c')``.

    >>> cell = chainrule.nn.LSTMCell(10, 20)
    >>> h, c = cell(chainrule.randn(3, 10))
    >>> h.shape, c.shape
    (chainrule.Size([3, 20]), chainrule.Size([3, 20]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._prepare(input, hx, 2)
        h, c = self._step(_lstm_step, input, states)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
