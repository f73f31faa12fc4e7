"""Exercise 4.3: the computation graph and back-propagation, from scratch in NumPy.

A whole engine, to read top to bottom.  A ``Value`` holds an array, the values it was computed
from (its inputs), and a rule that turns the upstream gradient g = ∂output/∂value into each
input's share: g times the local derivative of this step.  ``backward()`` visits the values from
the output back to the leaves, each after every value that consumes it, so that when a value
passes its gradient on it has received all of it:

- multiply along a path: each step multiplies the upstream gradient by its local derivative;
- add over paths: a value used in several places adds up what comes back from each.

Run it (``python examples/from_scratch.py``) to train the lecture's y = w·x model and a tiny
two-layer network.  ``chainrule check-engine examples/from_scratch.py`` checks it, and checks
your own engine the same way.
"""
import numpy as np


class Value:
    """A node of the graph: ``data`` (an array), ``grad`` (∂output/∂this, same shape), and how
    it was made: ``inputs`` and ``rule``, a function from the upstream gradient g to one
    gradient per input (g times the local derivative)."""

    def __init__(self, data, inputs=(), rule=None, op=""):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.inputs = inputs        # a tuple, in argument order (a set would lose x − y's order)
        self.rule = rule            # None for a leaf: nothing to pass the gradient on to
        self.op = op

    def __repr__(self):
        return f"Value({self.data}, grad={self.grad})"

    # ---- the operations: each computes its value and says how to differentiate it --------
    # In each rule, g is the upstream gradient ∂output/∂(this op's result).

    def __add__(self, other):               # ∂(x + y)/∂x = 1, ∂(x + y)/∂y = 1
        other = as_value(other)
        return Value(self.data + other.data, (self, other), lambda g: (g, g), "+")

    def __sub__(self, other):               # ∂(x − y)/∂x = 1, ∂(x − y)/∂y = −1
        other = as_value(other)
        return Value(self.data - other.data, (self, other), lambda g: (g, -g), "-")

    def __mul__(self, other):               # ∂(x·y)/∂x = y, ∂(x·y)/∂y = x
        other = as_value(other)
        return Value(self.data * other.data, (self, other),
                     lambda g: (g * other.data, g * self.data), "*")

    def __truediv__(self, other):           # ∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y²
        other = as_value(other)
        return Value(self.data / other.data, (self, other),
                     lambda g: (g / other.data, -g * self.data / other.data ** 2), "/")

    def __pow__(self, k):                   # ∂(xᵏ)/∂x = k·xᵏ⁻¹, for a number k
        return Value(self.data ** k, (self,), lambda g: (g * k * self.data ** (k - 1),), f"**{k}")

    def __matmul__(self, other):            # X @ W: ∂/∂X is g @ Wᵀ, ∂/∂W is Xᵀ @ g (2-d arrays)
        other = as_value(other)
        return Value(self.data @ other.data, (self, other),
                     lambda g: (g @ other.data.T, self.data.T @ g), "@")

    def exp(self):                          # ∂eˣ/∂x = eˣ, the result itself
        out = np.exp(self.data)
        return Value(out, (self,), lambda g: (g * out,), "exp")

    def log(self):                          # ∂log(x)/∂x = 1/x
        return Value(np.log(self.data), (self,), lambda g: (g / self.data,), "log")

    def tanh(self):                         # ∂tanh(x)/∂x = 1 − tanh(x)²
        t = np.tanh(self.data)
        return Value(t, (self,), lambda g: (g * (1 - t ** 2),), "tanh")

    def relu(self):                         # ∂relu(x)/∂x = 1 where x > 0, else 0
        return Value(np.maximum(self.data, 0), (self,), lambda g: (g * (self.data > 0),), "relu")

    def sum(self):                          # every element moves the sum one for one
        return Value(self.data.sum(), (self,),
                     lambda g: (np.broadcast_to(g, self.data.shape),), "sum")

    # the same operations with the value on the right: 3 * v, 1 - v, ...
    def __radd__(self, other):
        return as_value(other) + self

    def __rsub__(self, other):
        return as_value(other) - self

    def __rmul__(self, other):
        return as_value(other) * self

    def __rtruediv__(self, other):
        return as_value(other) / self

    def __neg__(self):
        return self * -1.0

    # ---- back-propagation -----------------------------------------------------------------

    def backward(self):
        """Fill ``grad`` of every value this one depends on with ∂self/∂value (accumulating,
        as PyTorch does: zero the leaves' ``grad`` between steps)."""
        self.grad = np.ones_like(self.data)     # the seed: ∂output/∂output = 1
        for node in reversed(topological_order(self)):  # output first, each before its inputs
            if node.rule is None:
                continue                        # a leaf: its gradient is complete
            # multiply along the path: the rule multiplies node.grad by each local derivative
            for inp, g in zip(node.inputs, node.rule(node.grad)):
                inp.grad += unbroadcast(g, inp.data.shape)   # add over paths


def as_value(x):
    """Numbers and arrays in an expression become leaves: ``3 * v`` works."""
    return x if isinstance(x, Value) else Value(x)


def unbroadcast(g, shape):
    """Sum a gradient back to its input's shape.  ``b + x`` with b of shape (3,) and x of shape
    (4, 3) uses b on 4 rows; b's gradient adds over those uses, as over any other paths."""
    while g.ndim > len(shape):                  # axes that broadcasting added in front
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):            # axes of length 1 that were stretched
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def topological_order(root):
    """Every value ``root`` depends on, each one listed after all of its inputs.  A depth-first
    search with an explicit stack, not recursion: Python stops recursing near 1,000 calls, and
    a graph easily has more nodes in a chain."""
    order, visited = [], set()
    stack = [(root, False)]                     # (node, are its inputs already listed?)
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))          # comes back after all its inputs
            stack.extend((inp, False) for inp in reversed(node.inputs))
    return order


# ---- training with it ---------------------------------------------------------------------

def train_lecture_model(epochs=40, lr=0.01, log=print):
    """The lecture's y = w·x on (1, 2), (2, 4), (3, 6), one step per example; returns w."""
    w = 1.0
    for epoch in range(epochs):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            wv = Value(w)
            loss = (wv * x - y) ** 2
            loss.backward()
            w -= lr * float(wv.grad)
        if epoch % 10 == 0:
            log(f"epoch {epoch:2d}: w = {w:.4f}, loss = {float(loss.data):.4f}")
    log(f"predict (after training) 4 -> {4 * w:.4f}")
    return w


def train_tiny_mlp(steps=300, lr=0.1, seed=0, log=print):
    """A 2-8-1 tanh network learning XOR by gradient descent; returns the final loss."""
    rng = np.random.default_rng(seed)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    params = [Value(rng.normal(0, 1, (2, 8))), Value(np.zeros(8)),
              Value(rng.normal(0, 1, (8, 1))), Value(np.zeros(1))]
    for step in range(steps + 1):
        w1, b1, w2, b2 = params
        hidden = (Value(x) @ w1 + b1).tanh()    # b1 of shape (8,) is broadcast over 4 rows
        loss = ((hidden @ w2 + b2 - y) ** 2).sum() / len(x)
        for p in params:
            p.grad = np.zeros_like(p.data)
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        if step % 100 == 0:
            log(f"step {step:3d}: loss = {float(loss.data):.4f}")
    log("predictions for (0,0), (0,1), (1,0), (1,1):",
        np.round((hidden @ w2 + b2).data.ravel(), 2))
    return float(loss.data)


if __name__ == "__main__":
    print("The lecture's model y = w·x, trained with this engine:")
    train_lecture_model()
    print("\nA tiny two-layer network learning XOR:")
    train_tiny_mlp()
