"""Engines for tests/test_exercises.py: a micrograd-style scalar engine written the way students
write one (a closure per op, ``+=`` into ``.grad``), and the typical bugs, each made by editing
one line of a correct engine's source (the reference solution's or this one)."""

SCALAR = '''
import math


class Value:
    def __init__(self, data, children=(), op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = children
        self._op = op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data - other.data, (self, other), "-")
        def _backward():
            self.grad += out.grad
            other.grad += -out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other):
        return self * other ** -1

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), "**")
        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")
        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")
        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")
        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
'''

RECURSIVE_TOPO = '''
    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for c in v._prev:
                    build(c)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
'''

BREADTH_FIRST = '''
    def backward(self):
        self.grad = 1.0
        queue, seen = [self], {self}
        while queue:
            v = queue.pop(0)
            v._backward()
            for c in v._prev:
                if c not in seen:
                    seen.add(c)
                    queue.append(c)
'''


TREE_WALK = '''
    def backward(self):
        self.grad = 1.0
        stack = [self]
        while stack:
            v = stack.pop()
            v._backward()
            stack.extend(v._prev)
'''


def scalar_bug(name):
    """The scalar engine's source with one typical bug (None: the correct engine)."""
    s = SCALAR
    head, tail = s.split("    def backward(self):")
    if name is None:
        return s
    if name == "mul wrong operand":
        return s.replace("self.grad += other.data * out.grad", "self.grad += self.data * out.grad")
    if name == "assign not accumulate":
        return s.replace(".grad += ", ".grad = ")
    if name == "recursion":
        return head + RECURSIVE_TOPO.lstrip("\n").split("    def backward(self):", 1)[0] + \
            "    def backward(self):" + RECURSIVE_TOPO.split("    def backward(self):", 1)[1]
    if name == "no seed":
        return s.replace("        self.grad = 1.0\n        for v in reversed", "        for v in reversed")
    if name == "breadth first":
        return head + "    def backward(self):" + BREADTH_FIRST.split("    def backward(self):", 1)[1]
    if name == "tree walk":
        return head + "    def backward(self):" + TREE_WALK.split("    def backward(self):", 1)[1]
    if name == "exp without upstream":
        return s.replace("self.grad += out.data * out.grad", "self.grad += out.data")
    if name == "sub sign":
        return s.replace("other.grad += -out.grad", "other.grad += out.grad")
    if name == "tanh 1 - t":
        return s.replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad")
    raise KeyError(name)


def reference_bug(source, name):
    """The reference solution's source with one typical bug."""
    if name == "no unbroadcast":
        return source.replace("inp.grad += unbroadcast(g, inp.data.shape)", "inp.grad = inp.grad + g")
    if name == "no unbroadcast in place":
        return source.replace("inp.grad += unbroadcast(g, inp.data.shape)", "inp.grad += g")
    if name == "assign not accumulate":
        return source.replace("inp.grad += unbroadcast(g, inp.data.shape)", "inp.grad = unbroadcast(g, inp.data.shape)")
    if name == "mul wrong operand":
        return source.replace("lambda g: (g * other.data, g * self.data)", "lambda g: (g * other.data, g * other.data)")
    raise KeyError(name)
