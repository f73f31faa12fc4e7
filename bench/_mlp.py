"""The MLP of W2 and W3, once per engine: layers x @ W + b, tanh or ReLU between them, mean
cross-entropy over the batch, one SGD step (p ← p − 0.1·∂loss/∂p, gradients set to None).

chainrule and PyTorch run the same code, written with tensor operations rather than ``nn``
layers, so the rows measure the autograd engine and not a layer library; W6 uses ``nn``.
"""
import functools
from dataclasses import dataclass

import numpy as np

from bench import Program, compiled_sgd_program, sgd_program

LR = 0.1


@dataclass(frozen=True)
class Config:
    sizes: tuple        # (inputs, hidden..., classes)
    act: str            # "tanh" or "relu"
    batch: int
    dtype: str          # "float32" or "float64"
    seed: int = 0


def names(cfg):
    """Parameter names in order: W1, b1, W2, b2, ..."""
    return [f"{kind}{i + 1}" for i in range(len(cfg.sizes) - 1) for kind in ("W", "b")]


def data(cfg):
    """Inputs, labels and initial parameters (PyTorch's default uniform ±1/√fan_in), seeded."""
    rng = np.random.default_rng(cfg.seed)
    d = {"x": rng.standard_normal((cfg.batch, cfg.sizes[0])).astype(cfg.dtype),
         "y": rng.integers(0, cfg.sizes[-1], cfg.batch)}
    for i, (n_in, n_out) in enumerate(zip(cfg.sizes, cfg.sizes[1:])):
        bound = 1 / np.sqrt(n_in)
        d[f"W{i + 1}"] = rng.uniform(-bound, bound, (n_in, n_out)).astype(cfg.dtype)
        d[f"b{i + 1}"] = rng.uniform(-bound, bound, n_out).astype(cfg.dtype)
    return d


def numpy_(cfg, d):
    x, y = d["x"], d["y"]
    p = {k: d[k].copy() for k in names(cfg)}
    n_layers = len(cfg.sizes) - 1
    rows = np.arange(len(y))

    def forward():
        hs = [x]                                # each layer's input, kept for the backward
        for i in range(1, n_layers + 1):
            z = hs[-1] @ p[f"W{i}"] + p[f"b{i}"]
            if i < n_layers:
                hs.append(np.tanh(z) if cfg.act == "tanh" else np.maximum(z, 0))
        zmax = z.max(axis=1, keepdims=True)
        e = np.exp(z - zmax)
        s = e.sum(axis=1, keepdims=True)
        -(z[rows, y] - zmax[:, 0] - np.log(s[:, 0])).mean()    # the loss, computed as all do

        def backward():
            dz = e / s                          # ∂loss/∂logits = (softmax − onehot) / N
            dz[rows, y] -= 1
            dz /= len(y)
            g = {}
            for i in range(n_layers, 0, -1):
                h = hs[i - 1]
                g[f"W{i}"] = h.T @ dz
                g[f"b{i}"] = dz.sum(axis=0)
                if i > 1:
                    dh = dz @ p[f"W{i}"].T
                    dz = dh * (1 - h * h) if cfg.act == "tanh" else dh * (h > 0)
            return g
        return backward

    def step():
        g = forward()()
        for k, v in g.items():
            p[k] -= LR * v

    return Program(step, lambda: forward()(), lambda: {k: v.copy() for k, v in p.items()},
                   forward)


def torchlike(lib, cfg, d, compiled=False):
    """chainrule's and PyTorch's version (``lib`` is the module): the same code
    (``compiled``: the whole step, forward, backward and the SGD update, in ``lib.compile``:
    W2c, W3c)."""
    x, y = lib.tensor(d["x"]), lib.tensor(d["y"])
    rows = lib.arange(len(d["y"]))
    p = {k: lib.tensor(d[k], requires_grad=True) for k in names(cfg)}
    layers = [(p[f"W{i}"], p[f"b{i}"]) for i in range(1, len(cfg.sizes))]

    def loss():
        h = x
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                h = h.tanh() if cfg.act == "tanh" else h.relu()
        return -h.log_softmax(dim=1)[rows, y].mean()

    return (compiled_sgd_program if compiled else sgd_program)(lib, loss, p, LR)


def compiled_(cfg, d):
    """chainrule's version with the whole step in ``chainrule.compile`` (W2c, W3c)."""
    import chainrule
    return torchlike(chainrule, cfg, d, compiled=True)


def chainrule_(cfg, d):
    import chainrule
    return torchlike(chainrule, cfg, d)


def torch_(cfg, d):
    import torch
    return torchlike(torch, cfg, d)


def autograd_(cfg, d):
    import autograd.numpy as anp
    from autograd import grad
    from autograd.scipy.special import logsumexp
    x, y = d["x"], d["y"]
    keys = names(cfg)
    params = [d[k].copy() for k in keys]
    rows = np.arange(len(y))

    def loss(params):
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = anp.tanh(h) if cfg.act == "tanh" else anp.maximum(h, 0)
        logp = h - logsumexp(h, axis=1, keepdims=True)
        return -anp.mean(logp[rows, y])

    dloss = grad(loss)

    def step():
        nonlocal params
        params = [q - LR * g for q, g in zip(params, dloss(params))]

    return Program(step, lambda: dict(zip(keys, dloss(params))),
                   lambda: dict(zip(keys, params)))


def builders(cfg):
    """The BUILDERS table of a workload module using ``cfg``."""
    return {name: functools.partial(fn, cfg) for name, fn in
            [("chainrule", chainrule_), ("numpy", numpy_), ("torch", torch_),
             ("autograd", autograd_)]}
