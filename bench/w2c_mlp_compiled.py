"""W2c: W2's MLP step with the loss compiled (``chainrule.compile``, issue #14).

The same model, data and SGD step as W2; the forward pass and loss are one compiled function
(its backward is the generated code), the update stays eager.  NumPy by hand and PyTorch are
W2's own versions.
"""
from bench import _mlp, sgd_program
from bench import w2_mlp as W2

CONFIG = W2.CONFIG
TRAINS = True
RTOL = W2.RTOL
data = W2.data


def chainrule_(d):
    import chainrule as lib
    cfg = CONFIG
    x, y = lib.tensor(d["x"]), lib.tensor(d["y"])
    rows = lib.arange(len(d["y"]))
    p = {k: lib.tensor(d[k], requires_grad=True) for k in _mlp.names(cfg)}
    layers = [(p[f"W{i}"], p[f"b{i}"]) for i in range(1, len(cfg.sizes))]

    @lib.compile
    def loss():
        h = x
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                h = h.tanh() if cfg.act == "tanh" else h.relu()
        return -h.log_softmax(dim=1)[rows, y].mean()

    return sgd_program(lib, loss, p, _mlp.LR)


BUILDERS = {"chainrule": chainrule_, "numpy": W2.BUILDERS["numpy"], "torch": W2.BUILDERS["torch"]}
