"""W8: one training step of a small GPT, as in Karpathy's "Let's build GPT" lecture and minGPT:
2 layers, 64 wide (n_embd), 4 heads, a 65-character vocabulary, batch 16 × 64 tokens (the block
size), eager.

Token and position embeddings; per block a pre-LayerNorm causal self-attention (one ``c_attn``
linear layer for q, k, v, split into 4 heads, q·kᵀ/√16, ``masked_fill`` with a ``tril`` buffer to
-inf, softmax, @v, heads concatenated, ``c_proj``) and a pre-LayerNorm GELU MLP (64 → 256 → 64),
each added to the residual stream; a final LayerNorm, ``lm_head`` (no bias),
``F.cross_entropy``; then ``zero_grad()`` and an AdamW step (``torch.optim.AdamW``'s defaults).
Dropout is 0, so it is left out.

chainrule and PyTorch run the same code (``lib`` is the module).  NumPy by hand writes out the
forward pass and its gradient (LayerNorm, softmax, GELU and attention derived on paper) and the
AdamW update.  HIPS autograd and micrograd have no version.

The timed step is float32 (``dtype``).  The check runs in float64 (``Case.check_size``): AdamW's
first steps move each weight by about lr·g/(|g| + ε), whatever |g|, so float32 rounding of a
gradient near ε = 10⁻⁸ (the keys' bias has a gradient of exactly 0: softmax ignores a shift of
all scores) changes its update by up to 10⁻³ of the largest, too much for a tight comparison.
"""
import math

import numpy as np

from bench import Program, Skip

TRAINS = True
RTOL = 1e-4          # float32 gradients; float64 (the check) agrees to about 10⁻¹²
VOCAB, EMBD, HEADS, LAYERS, BLOCK, BATCH = 65, 64, 4, 2, 64, 16
LR, BETAS, EPS, DECAY = 1e-3, (0.9, 0.999), 1e-8, 1e-2        # torch.optim.AdamW's defaults


def names():
    """The parameters, in the order of the torch model's ``named_parameters()``."""
    out = ["wte.weight", "wpe.weight"]
    for i in range(LAYERS):
        out += [f"h.{i}.{k}" for k in (
            "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
            "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
            "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")]
    return out + ["ln_f.weight", "ln_f.bias", "lm_head.weight"]


def data(dtype="float32"):
    """Tokens, next tokens, and every parameter drawn at random (minGPT's N(0, 0.02) weights;
    biases and LayerNorm's affine maps perturbed too, so that their gradients are checked)."""
    rng = np.random.default_rng(0)
    d = {"x": rng.integers(0, VOCAB, (BATCH, BLOCK)), "y": rng.integers(0, VOCAB, (BATCH, BLOCK))}
    shapes = {"wte.weight": (VOCAB, EMBD), "wpe.weight": (BLOCK, EMBD),
              "ln_f.weight": (EMBD,), "ln_f.bias": (EMBD,), "lm_head.weight": (VOCAB, EMBD)}
    for i in range(LAYERS):
        for k, s in {"ln_1.weight": (EMBD,), "ln_1.bias": (EMBD,),
                     "attn.c_attn.weight": (3 * EMBD, EMBD), "attn.c_attn.bias": (3 * EMBD,),
                     "attn.c_proj.weight": (EMBD, EMBD), "attn.c_proj.bias": (EMBD,),
                     "ln_2.weight": (EMBD,), "ln_2.bias": (EMBD,),
                     "mlp.c_fc.weight": (4 * EMBD, EMBD), "mlp.c_fc.bias": (4 * EMBD,),
                     "mlp.c_proj.weight": (EMBD, 4 * EMBD),
                     "mlp.c_proj.bias": (EMBD,)}.items():
            shapes[f"h.{i}.{k}"] = s
    for k in names():
        w = rng.normal(0.0, 0.02, shapes[k])
        if k.endswith("ln_1.weight") or k.endswith("ln_2.weight") or k == "ln_f.weight":
            w = w * 5 + 1.0
        d[k] = w.astype(dtype)
    return d


# ---------------------------------------------------------------- NumPy by hand

def _erf():
    try:
        from scipy.special import erf
        return erf
    except ImportError:
        return np.frompyfunc(math.erf, 1, 1)


def _layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    rstd = 1.0 / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
    xhat = xc * rstd
    return xhat * w + b, (xhat, rstd, w)


def _layer_norm_back(dy, saved):
    """dx, dw, db of y = x̂·w + b: dx = rstd·(dx̂ - mean dx̂ - x̂·mean(dx̂·x̂)), dx̂ = dy·w."""
    xhat, rstd, w = saved
    dxhat = dy * w
    dx = rstd * (dxhat - dxhat.mean(-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(-1, keepdims=True))
    return dx, (dy * xhat).reshape(-1, w.size).sum(0), dy.reshape(-1, w.size).sum(0)


def numpy_(d, dtype="float32"):
    erf = _erf()
    idx, tgt = d["x"], d["y"]
    n, t = idx.shape
    hs = EMBD // HEADS
    scale = 1.0 / math.sqrt(hs)
    keys = names()
    p = {k: d[k].copy() for k in keys}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    steps = [0]
    causal = np.tril(np.ones((t, t), dtype=bool))
    dt = p["wte.weight"].dtype

    def heads(a):                                      # (n, t, C) → (n, H, t, hs)
        return a.reshape(n, t, HEADS, hs).transpose(0, 2, 1, 3)

    def forward():
        g = {}
        x = p["wte.weight"][idx] + p["wpe.weight"][:t]
        saved = []
        for i in range(LAYERS):
            q = {k: p[f"h.{i}.{k}"] for k in (
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")}
            a, ln1 = _layer_norm(x, q["ln_1.weight"], q["ln_1.bias"])
            qkv = a @ q["attn.c_attn.weight"].T + q["attn.c_attn.bias"]
            qh, kh, vh = (heads(qkv[..., j * EMBD:(j + 1) * EMBD]) for j in range(3))
            s = (qh @ kh.swapaxes(-1, -2)) * dt.type(scale)
            s = np.where(causal, s, -np.inf)
            e = np.exp(s - s.max(-1, keepdims=True))
            att = e / e.sum(-1, keepdims=True)
            yh = att @ vh
            y = yh.transpose(0, 2, 1, 3).reshape(n, t, EMBD)
            x = x + y @ q["attn.c_proj.weight"].T + q["attn.c_proj.bias"]
            a2, ln2 = _layer_norm(x, q["ln_2.weight"], q["ln_2.bias"])
            h = a2 @ q["mlp.c_fc.weight"].T + q["mlp.c_fc.bias"]
            phi = (0.5 * (1.0 + erf(h * dt.type(1 / math.sqrt(2))))).astype(dt)
            gh = h * phi
            x = x + gh @ q["mlp.c_proj.weight"].T + q["mlp.c_proj.bias"]
            saved.append((q, a, ln1, qh, kh, vh, att, y, a2, ln2, h, phi, gh))
        xf, lnf = _layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
        logits = (xf @ p["lm_head.weight"].T).reshape(n * t, VOCAB)
        z = logits - logits.max(1, keepdims=True)
        ez = np.exp(z)
        probs = ez / ez.sum(1, keepdims=True)
        rows = np.arange(n * t)
        -(z[rows, tgt.ravel()] - np.log(ez.sum(1))).mean()     # the loss, as all compute it

        def backward():
            dlogits = probs.copy()
            dlogits[rows, tgt.ravel()] -= 1
            dlogits /= n * t
            g["lm_head.weight"] = dlogits.T @ xf.reshape(n * t, EMBD)
            dxf = (dlogits @ p["lm_head.weight"]).reshape(n, t, EMBD)
            dx, g["ln_f.weight"], g["ln_f.bias"] = _layer_norm_back(dxf, lnf)
            for i in reversed(range(LAYERS)):
                q, a, ln1, qh, kh, vh, att, y, a2, ln2, h, phi, gh = saved[i]
                pre = f"h.{i}."
                dm = dx.reshape(n * t, EMBD)
                g[pre + "mlp.c_proj.weight"] = dm.T @ gh.reshape(n * t, 4 * EMBD)
                g[pre + "mlp.c_proj.bias"] = dm.sum(0)
                dgh = dx @ q["mlp.c_proj.weight"]
                # d/dh h·Φ(h) = Φ(h) + h·φ(h), φ the standard normal density
                dh = dgh * (phi + h * np.exp(-0.5 * h * h) * dt.type(1 / math.sqrt(2 * math.pi)))
                g[pre + "mlp.c_fc.weight"] = dh.reshape(n * t, -1).T @ a2.reshape(n * t, EMBD)
                g[pre + "mlp.c_fc.bias"] = dh.reshape(n * t, -1).sum(0)
                da2 = dh @ q["mlp.c_fc.weight"]
                dln, g[pre + "ln_2.weight"], g[pre + "ln_2.bias"] = _layer_norm_back(da2, ln2)
                dx = dx + dln
                do = dx.reshape(n * t, EMBD)
                g[pre + "attn.c_proj.weight"] = do.T @ y.reshape(n * t, EMBD)
                g[pre + "attn.c_proj.bias"] = do.sum(0)
                dyh = heads(dx @ q["attn.c_proj.weight"])
                datt = dyh @ vh.swapaxes(-1, -2)
                dvh = att.swapaxes(-1, -2) @ dyh
                ds = att * (datt - (datt * att).sum(-1, keepdims=True)) * dt.type(scale)
                dqh = ds @ kh
                dkh = ds.swapaxes(-1, -2) @ qh
                dqkv = np.concatenate([dz.transpose(0, 2, 1, 3).reshape(n, t, EMBD)
                                       for dz in (dqh, dkh, dvh)], axis=-1)
                g[pre + "attn.c_attn.weight"] = dqkv.reshape(n * t, -1).T @ a.reshape(n * t, EMBD)
                g[pre + "attn.c_attn.bias"] = dqkv.reshape(n * t, -1).sum(0)
                da = dqkv @ q["attn.c_attn.weight"]
                dln, g[pre + "ln_1.weight"], g[pre + "ln_1.bias"] = _layer_norm_back(da, ln1)
                dx = dx + dln
            g["wpe.weight"] = np.zeros_like(p["wpe.weight"])
            g["wpe.weight"][:t] = dx.sum(0)
            g["wte.weight"] = np.zeros_like(p["wte.weight"])
            np.add.at(g["wte.weight"], idx.ravel(), dx.reshape(n * t, EMBD))
            return g
        return backward

    def step():
        g = forward()()
        steps[0] += 1
        k = steps[0]
        c1, c2 = 1 - BETAS[0] ** k, 1 - BETAS[1] ** k
        for name in keys:
            w, gw = p[name], g[name]
            w *= 1 - LR * DECAY
            m[name] = BETAS[0] * m[name] + (1 - BETAS[0]) * gw
            v2[name] = BETAS[1] * v2[name] + (1 - BETAS[1]) * gw * gw
            w -= (LR / c1) * m[name] / (np.sqrt(v2[name]) / math.sqrt(c2) + EPS)

    return Program(step, lambda: forward()(), lambda: {k: v.copy() for k, v in p.items()},
                   forward)


# ---------------------------------------------------------------- chainrule and PyTorch

def torchlike(lib, d, compiled=False):
    """chainrule's and PyTorch's version: the same code, minGPT's model (``compiled``: the whole
    step, forward, backward and AdamW, in ``lib.compile``, W8c)."""
    nn, F = lib.nn, lib.nn.functional
    missing = [k for k in ("LayerNorm", "Embedding", "GELU", "ModuleList") if not hasattr(nn, k)]
    if missing or not hasattr(lib.optim, "AdamW"):
        raise Skip(f"{lib.__name__} has no {', '.join(missing or ['optim.AdamW'])} yet")

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(EMBD, 3 * EMBD)
            self.c_proj = nn.Linear(EMBD, EMBD)
            self.register_buffer("bias", lib.tril(lib.ones(BLOCK, BLOCK))
                                 .view(1, 1, BLOCK, BLOCK))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(EMBD, dim=2)
            k = k.view(B, T, HEADS, C // HEADS).transpose(1, 2)    # (B, nh, T, hs)
            q = q.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            v = v.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v                                             # (B, nh, T, hs)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(EMBD, 4 * EMBD)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * EMBD, EMBD)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(EMBD)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(EMBD)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, EMBD)
            self.wpe = nn.Embedding(BLOCK, EMBD)
            self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(EMBD)
            self.lm_head = nn.Linear(EMBD, VOCAB, bias=False)

        def forward(self, idx, targets):
            B, T = idx.size()
            pos = lib.arange(0, T, dtype=lib.long)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    model = GPT()
    dtype = getattr(lib, str(d["wte.weight"].dtype))
    model.to(dtype)
    named = dict(model.named_parameters())
    assert list(named) == names(), list(named)
    with lib.no_grad():
        for k, q in named.items():
            q.copy_(lib.tensor(d[k]))
    opt = lib.optim.AdamW(model.parameters())
    x, y = lib.tensor(d["x"]), lib.tensor(d["y"])
    def step():
        loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    if compiled:            # the whole step, AdamW's included (W8c)
        step = lib.compile(step, fullgraph=True)
    run = model

    def forward():
        loss = run(x, y)

        def finish():
            opt.zero_grad()
            loss.backward()
            g = {k: q.grad.numpy().copy() for k, q in named.items()}
            opt.zero_grad()
            return g
        return finish

    return Program(step, lambda: forward()(),
                   lambda: {k: q.detach().numpy().copy() for k, q in named.items()}, forward)


def chainrule_(d, **size):
    import chainrule
    return torchlike(chainrule, d)


def torch_(d, **size):
    import torch
    return torchlike(torch, d)


BUILDERS = {"chainrule": chainrule_, "numpy": numpy_, "torch": torch_}
