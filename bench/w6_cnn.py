"""W6: a small CNN step on digits-sized images: Conv2d(1, 16, 3) → ReLU → MaxPool2d(2) →
Linear(144, 10), mean cross-entropy, batch 64 of 1×8×8 float32 images, one SGD step.

chainrule and PyTorch use their ``nn`` layers and ``F.cross_entropy``; NumPy by hand does the
convolution as a matrix product over the 3×3 patches (im2col).  HIPS autograd and micrograd
have no version.  W7-CNN runs the same network on batch 256 of 28×28 images (``batch``,
``side``; the linear layer then takes 16·13·13 inputs) and measures what the graph holds
before ``backward()``: there the convolution's output is 11 MiB.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bench import Program, compiled_sgd_program, sgd_program, Skip

TRAINS = True
RTOL = 1e-4          # float32
LR = 0.1
BATCH, CLASSES = 64, 10
NAMES = ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]


def data(batch=BATCH, side=8):
    """Images of ``side``×``side`` (even after the 3×3 convolution: side − 2 is pooled by 2)."""
    rng = np.random.default_rng(0)
    d = {"x": rng.standard_normal((batch, 1, side, side)).astype(np.float32),
         "y": rng.integers(0, CLASSES, batch)}
    flat = 16 * ((side - 2) // 2) ** 2
    for name, shape, fan_in in [("conv.weight", (16, 1, 3, 3), 9), ("conv.bias", (16,), 9),
                                ("fc.weight", (CLASSES, flat), flat),
                                ("fc.bias", (CLASSES,), flat)]:
        bound = 1 / np.sqrt(fan_in)            # PyTorch's default initialisation
        d[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return d


def numpy_(d, **size):
    x, y = d["x"], d["y"]
    n = len(y)
    o = x.shape[-1] - 2                     # the convolution's output side; pooled to o // 2
    q = o // 2
    rows = np.arange(n)
    p = {k: d[k].copy() for k in NAMES}

    def forward():
        # conv as a product: one row per output pixel (n, i, j), one column per (c, ki, kj)
        cols = sliding_window_view(x, (3, 3), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
        cols = cols.reshape(n * o * o, 9)
        conv = cols @ p["conv.weight"].reshape(16, 9).T + p["conv.bias"]    # (n·o·o, 16)
        a = np.maximum(conv, 0)
        # 2×2 windows (n, pi, pj, c, 4); PyTorch's max pool takes the first maximum
        win = a.reshape(n, q, 2, q, 2, 16).transpose(0, 1, 3, 5, 2, 4).reshape(n, q, q, 16, 4)
        idx = win.argmax(axis=-1)[..., None]
        pooled = np.take_along_axis(win, idx, axis=-1)[..., 0]
        flat = pooled.transpose(0, 3, 1, 2).reshape(n, 16 * q * q)         # PyTorch's (C, H, W)
        z = flat @ p["fc.weight"].T + p["fc.bias"]
        zmax = z.max(axis=1, keepdims=True)
        e = np.exp(z - zmax)
        s = e.sum(axis=1, keepdims=True)
        -(z[rows, y] - zmax[:, 0] - np.log(s[:, 0])).mean()    # the loss, computed as all do

        def backward():
            dz = e / s
            dz[rows, y] -= 1
            dz /= n
            g = {"fc.weight": dz.T @ flat, "fc.bias": dz.sum(axis=0)}
            dpooled = (dz @ p["fc.weight"]).reshape(n, 16, q, q).transpose(0, 2, 3, 1)
            dwin = np.zeros_like(win)
            np.put_along_axis(dwin, idx, dpooled[..., None], axis=-1)
            da = dwin.reshape(n, q, q, 16, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n * o * o, 16)
            dconv = da * (conv > 0)
            g["conv.weight"] = (dconv.T @ cols).reshape(16, 1, 3, 3)
            g["conv.bias"] = dconv.sum(axis=0)
            return g
        return backward

    def step():
        g = forward()()
        for k, v in g.items():
            p[k] -= LR * v

    return Program(step, lambda: forward()(), lambda: {k: v.copy() for k, v in p.items()},
                   forward)


def torchlike(lib, d, compiled=False):
    """chainrule's and PyTorch's version: the same code (``compiled``: the whole step, forward,
    backward and SGD update, in ``chainrule.compile``, W6c)."""
    nn = lib.nn
    missing = [name for name in ("Conv2d", "ReLU", "MaxPool2d", "Linear") if
               not hasattr(nn, name)] + [f"functional.{name}" for name in ("cross_entropy",)
                                         if not hasattr(nn.functional, name)]
    if missing:
        raise Skip(f"{lib.__name__}.nn has no {', '.join(missing)} yet")
    conv, relu, pool = nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2)
    fc = nn.Linear(d["fc.weight"].shape[1], CLASSES)
    p = {"conv.weight": conv.weight, "conv.bias": conv.bias,
         "fc.weight": fc.weight, "fc.bias": fc.bias}
    with lib.no_grad():
        for k, q in p.items():
            q.copy_(lib.tensor(d[k]))
    x, y = lib.tensor(d["x"]), lib.tensor(d["y"])

    def loss():
        h = pool(relu(conv(x)))
        return nn.functional.cross_entropy(fc(h.flatten(1)), y)

    if compiled:            # the whole step (W6c)
        return compiled_sgd_program(lib, loss, p, LR)
    return sgd_program(lib, loss, p, LR)


def chainrule_(d, **size):
    import chainrule
    return torchlike(chainrule, d)


def torch_(d, **size):
    import torch
    return torchlike(torch, d)


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_}
