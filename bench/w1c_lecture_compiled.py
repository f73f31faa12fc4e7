"""W1c: W1's lecture step compiled whole (``chainrule.compile``, issue #14).

The same step as W1 (ŷ = x·w, loss = (ŷ − y)², backward, w ← w − 0.01·∂loss/∂w, zero the
gradient), the lecture's code unchanged inside one function wrapped in ``chainrule.compile``:
forward, ``backward()`` and the update are recorded once and replayed as one generated
function.  x and y are Python floats, so each of the three samples is its own recording.
NumPy by hand and PyTorch are W1's own versions (PyTorch eager: torch.compile does not help
graphs this small on a CPU).
"""
from bench import Program
from bench import w1_lecture as W1

TRAINS = True
RTOL = W1.RTOL
LR = W1.LR
data = W1.data


def chainrule_(d):
    import chainrule
    w = chainrule.tensor([d["w"]], requires_grad=True)
    next_sample = W1._cycle(d)

    def loss(x, y):
        y_pred = x * w
        return (y_pred - y) * (y_pred - y)

    @chainrule.compile(fullgraph=True)
    def train(x, y):        # the lecture's step, whole
        l = loss(x, y)
        l.backward()
        w.data = w.data - LR * w.grad.data
        w.grad.data.zero_()
        return l

    def step():
        train(*next_sample())

    def grads():
        loss(d["x"][0], d["y"][0]).backward()
        g = w.grad.numpy().copy()
        w.grad = None
        return {"w": g}

    return Program(step, grads, lambda: {"w": w.detach().numpy().copy()})


BUILDERS = {"chainrule": chainrule_, "numpy": W1.numpy_, "torch": W1.torch_}
