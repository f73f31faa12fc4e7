"""Muon (Jordan et al., 2024) as torch 2.13 writes it (``torch.optim.Muon``): SGD momentum whose
update matrix is orthogonalised by a few Newton–Schulz iterations.

torch runs the Newton–Schulz iterations in bfloat16.  NumPy has no bfloat16, so this port
computes each product in float32 and rounds the result to bfloat16's 8-bit mantissa
(round to nearest even) where torch stores a bfloat16 tensor; updates agree with torch's to
bfloat16 precision (about 3 significant digits), not to the last bit.
"""
import math

from .._backend import xp
from ..tensor import Tensor, wrap
from .optimizer import Optimizer, fma, lerp_, step_groups

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(a):
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32."""
    a = xp.ascontiguousarray(a, dtype=xp.float32)
    u = a.view(xp.uint32).astype(xp.uint64)
    u = (u + (((u >> 16) & 1) + 0x7FFF)) & 0xFFFF0000
    out = u.astype(xp.uint32).view(xp.float32)
    return xp.where(xp.isnan(a), a, out)


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _bf16(grad)
    if grad.shape[0] > grad.shape[1]:
        x = x.T
    norm = _bf16(xp.sqrt(xp.sum(x * x, dtype=xp.float32)))
    x = _bf16(x / _bf16(xp.maximum(norm, xp.float32(eps))))
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        gram_update = _bf16(xp.float32(b) * gram + xp.float32(c) * (gram @ gram))
        x = _bf16(xp.float32(a) * x + gram_update @ x)
    if grad.shape[0] > grad.shape[1]:
        x = x.T
    return x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    A, B = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        adjusted_ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        adjusted_ratio = 0.2 * math.sqrt(max(A, B))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio


class Muon(Optimizer):
    """Muon for 2-D parameters (use another optimizer for biases, norms and embeddings)::

        b ← lerp(b, g, 1 − momentum);  u = lerp(g, b, momentum) if nesterov else b
        O = NewtonSchulz(u)  (≈ the orthogonal factor UVᵀ of u = UΣVᵀ, in bfloat16)
        θ ← θ(1 − lr·weight_decay) − lr·ratio·O,  ratio = √max(1, rows/cols) ("original")
        or 0.2·√max(rows, cols) ("match_rms_adamw")

    >>> w = chainrule.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> opt = chainrule.optim.Muon([w], lr=0.1, weight_decay=0.0)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> opt.state[w]["momentum_buffer"]
    tensor([[0.1000, 0.0000],
            [0.0000, 0.2000]])
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _muon_group)


def _muon_group(state, group):
    # torch's _single_tensor_muon on the arrays
    lr = group["lr"]
    lr = lr.item() if isinstance(lr, Tensor) else lr
    momentum = group["momentum"]
    for p in group["params"]:
        if p._grad is None:
            continue
        if p._data.dtype.kind == "c":
            raise RuntimeError("Muon does not support complex parameters")
        g = p._grad._data
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        s = state[p]
        if "momentum_buffer" not in s:
            s["momentum_buffer"] = wrap(xp.zeros_like(g))
        buf = s["momentum_buffer"]._data
        lerp_(buf, g, 1 - momentum)
        if group["nesterov"]:
            update = g.copy()
            lerp_(update, buf, momentum)
        else:
            update = buf
        update = _zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                             group["ns_steps"], group["eps"])
        adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
        theta = p._data
        theta *= 1 - lr * group["weight_decay"]
        theta[...] = fma(update.astype(theta.dtype), -adjusted_lr, theta)
        p._vc[0] += 1
