"""Small fixed graphs for the explainer's and the drawing's golden tests (and for regenerating
their golden files: ``python tests/explain_cases.py``)."""
import pathlib

import chainrule as cr

GOLDEN = pathlib.Path(__file__).parent / "golden"


def lecture():
    """The lecture's J = 3·(a + b·c) at a = 5, b = 3, c = 2."""
    a = cr.tensor(5.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = cr.tensor(2.0, requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    return J, dict(a=a, b=b, c=c, u=u, v=v, J=J)


def reused():
    """A value used more than once: b = a + a; c = b + b, and y = x·x."""
    a = cr.tensor(2.0, requires_grad=True)
    x = cr.tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    y = x * x
    J = c * y
    return J, dict(a=a, x=x, b=b, c=c, y=y, J=J)


def tensors():
    """A small linear layer with a ReLU and a mean: shapes and VJP formulas, not Jacobians."""
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    W = cr.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], requires_grad=True)
    b = cr.tensor([0.1, 0.2, 0.3], requires_grad=True)
    h = x @ W + b
    loss = (h.relu() ** 2).mean()
    return loss, dict(x=x, W=W, b=b, h=h, loss=loss)


def many_paths():
    """32 paths from t to y: past max_paths the explainer shows per-node gradients."""
    y = cr.tensor(1.0, requires_grad=True)
    t = y
    for _ in range(5):
        t = t + t
    return t, dict(y=y, t=t)


CASES = {"lecture": lecture, "reused": reused, "tensors": tensors, "many_paths": many_paths}


if __name__ == "__main__":
    for name, make in CASES.items():
        out, names = make()
        e = cr.explain(out, names=names)
        (GOLDEN / f"explain_{name}.txt").write_text(str(e))
        (GOLDEN / f"explain_{name}.md").write_text(e._repr_markdown_())
        (GOLDEN / f"dot_{name}.dot").write_text(cr.viz.to_dot(out, names=names))
