"""``check_engine``: checks a back-propagation engine you wrote yourself (the lecture's Exercise
4.3) against chainrule, and says which local derivative or which accumulation is wrong.

The checker builds a battery of small graphs through your value type — each operation alone,
the lecture's J = 3·(a + b·c), Exercises 4.2 and 4.4, a value used on several paths, a chain of
5,000 operations, broadcasting and a small network when your values hold arrays — builds the same
graphs with chainrule, runs your ``backward()`` and compares every value's gradient, from the
output back to the leaves.  The first gradient that is wrong while every value consuming it is
right pins the mistake down: it is one local derivative (of an op consuming that value) or the way
the contributions were added up.  The checker then tries the usual mistakes (the wrong operand,
a sign, 1 − tanh for 1 − tanh², ``=`` for ``+=``, ...) and names the one that gives the number
your engine produced.

What it calls on your values: ``a + b``, ``a - b``, ``a * b``, ``a / b``, ``a ** k`` (k a Python
number), ``a @ b``, ``a.exp()``, ``a.log()``, ``a.tanh()``, ``a.relu()``, ``a.sum()`` — an op your
type lacks (AttributeError, TypeError, NotImplementedError) is skipped, and the report says so.
Constants (the 3 in 3·v) are made with ``make_value`` too.  It reads a value's number from
``.data`` (or ``.value``, else ``numpy.asarray(value)``), its gradient from the attribute named by
``grad``, and calls the method named by ``backward`` on the output.

``load_engine(path)`` finds the value type in a student's file (``chainrule check-engine``).
"""
import importlib.util
import itertools
import pathlib
import textwrap

import numpy as np

__all__ = ["check_engine", "load_engine", "reference_path", "EngineReport", "EngineCheck"]

DEEP = 5000         # Python's recursion limit is 1,000: a recursive topological sort fails here


# =========================================================================================
# The operations the checker uses, how to call them, and the mistakes usually made in them
# =========================================================================================

# name: (call on a value type, symbol for the list of ops found, how the result reads)
OPS = {
    "add": (lambda x, y: x + y, "+", "{0} + {1}"),
    "sub": (lambda x, y: x - y, "−", "{0} − {1}"),
    "mul": (lambda x, y: x * y, "·", "{0}·{1}"),
    "div": (lambda x, y: x / y, "/", "{0}/{1}"),
    "pow": (lambda x, k: x ** k, "**", "{0}**{k}"),
    "matmul": (lambda x, y: x @ y, "@", "{0} @ {1}"),
    "exp": (lambda x: x.exp(), "exp", "exp({0})"),
    "log": (lambda x: x.log(), "log", "log({0})"),
    "tanh": (lambda x: x.tanh(), "tanh", "tanh({0})"),
    "relu": (lambda x: x.relu(), "relu", "relu({0})"),
    "sum": (lambda x: x.sum(), "sum", "{0}.sum()"),
}
UNARY = ("exp", "log", "tanh", "relu", "sum")

# (op, input slot): [(g, x, y, out, k) -> the wrong gradient, what the mistake is]; x, y are the
# op's inputs (y is None for one-input ops), out its result, g its upstream gradient
MISTAKES = {
    ("sub", 0): [(lambda g, x, y, o, k: -g,
                  "has the wrong sign: ∂(x − y)/∂x = +1, so x gets +g")],
    ("sub", 1): [(lambda g, x, y, o, k: g,
                  "has the wrong sign: ∂(x − y)/∂y = −1, so y gets −g, not g")],
    ("mul", 0): [(lambda g, x, y, o, k: g * x,
                  "uses the wrong operand: ∂(x·y)/∂x = y, the other input, not x itself")],
    ("mul", 1): [(lambda g, x, y, o, k: g * y,
                  "uses the wrong operand: ∂(x·y)/∂y = x, the other input, not y itself")],
    ("div", 0): [(lambda g, x, y, o, k: g * y,
                  "multiplies by y where ∂(x/y)/∂x = 1/y")],
    ("div", 1): [(lambda g, x, y, o, k: g * x / y ** 2,
                  "has the wrong sign: ∂(x/y)/∂y = −x/y²"),
                 (lambda g, x, y, o, k: -g * x / y,
                  "forgets to square y: ∂(x/y)/∂y = −x/y²"),
                 (lambda g, x, y, o, k: -g / y ** 2,
                  "forgets the factor x: ∂(x/y)/∂y = −x/y²")],
    ("pow", 0): [(lambda g, x, y, o, k: g * x ** (k - 1),
                  "forgets the factor k: ∂(xᵏ)/∂x = k·xᵏ⁻¹"),
                 (lambda g, x, y, o, k: g * k * x ** k,
                  "keeps the exponent k: ∂(xᵏ)/∂x = k·xᵏ⁻¹"),
                 (lambda g, x, y, o, k: g * (k - 1) * x ** (k - 1),
                  "multiplies by k − 1: ∂(xᵏ)/∂x = k·xᵏ⁻¹")],
    ("exp", 0): [(lambda g, x, y, o, k: g * x,
                  "multiplies by x where ∂eˣ/∂x = eˣ, the result itself")],
    ("log", 0): [(lambda g, x, y, o, k: g * x,
                  "multiplies by x where ∂log(x)/∂x = 1/x"),
                 (lambda g, x, y, o, k: g / o,
                  "divides by log(x) where ∂log(x)/∂x = 1/x")],
    ("tanh", 0): [(lambda g, x, y, o, k: g * (1 - o),
                   "uses 1 − tanh(x) where ∂tanh(x)/∂x = 1 − tanh(x)² (the square is missing)"),
                  (lambda g, x, y, o, k: g * (1 - x ** 2),
                   "uses 1 − x² where ∂tanh(x)/∂x = 1 − tanh(x)², a function of the result"),
                  (lambda g, x, y, o, k: g * (1 + o ** 2),
                   "has the wrong sign: ∂tanh(x)/∂x = 1 − tanh(x)²")],
    ("relu", 0): [(lambda g, x, y, o, k: g * o,
                   "multiplies by relu(x) where ∂relu(x)/∂x is 1 where x > 0, else 0"),
                  (lambda g, x, y, o, k: g + 0 * x,
                   "lets the gradient through where x ≤ 0 too: ∂relu(x)/∂x = 0 there")],
}


def _unbroadcast(g, shape):
    g = np.asarray(g, dtype=np.float64)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


# =========================================================================================
# One graph, built through the student's type and through chainrule side by side
# =========================================================================================

class _Missing(Exception):
    """The graph needs an op the student's type lacks."""


class _BuildError(Exception):
    """The student's op raised while the graph was built."""


class _Node:
    __slots__ = ("name", "op", "inputs", "k", "mine", "ref", "text")

    def __init__(self, name, op, inputs, k, mine, ref, text):
        self.name, self.op, self.inputs, self.k = name, op, inputs, k
        self.mine, self.ref, self.text = mine, ref, text


class _Graph:
    """Records each value: its name, op, inputs, the student's value and chainrule's."""

    def __init__(self, make_value, found):
        self.make_value = make_value
        self.found = found
        self.nodes = []
        self.broadcasts = False

    def leaf(self, name, value):
        import chainrule
        value = float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)
        try:
            mine = self.make_value(value)
        except Exception as e:
            raise _BuildError(f"make_value({_num(value)}) raised {_exc(e)}") from None
        ref = chainrule.tensor(value, dtype=chainrule.float64, requires_grad=True)
        node = _Node(name, None, (), None, mine, ref, name)
        self.nodes.append(node)
        return node

    def const(self, value):
        return self.leaf(_num(value), value)

    def __call__(self, op, *inputs, name=None, k=None):
        if op not in self.found:
            raise _Missing(op)
        call, _, form = OPS[op]
        args = [i.mine for i in inputs] + ([k] if op == "pow" else [])
        try:
            mine = call(*args)
        except Exception as e:
            raise _BuildError(f"building {form.format(*[i.name for i in inputs], k=k)} raised "
                              f"{_exc(e)}") from None
        ref = call(*[i.ref for i in inputs] + ([k] if op == "pow" else []))
        shapes = {tuple(i.ref.shape) for i in inputs}
        if op not in ("matmul", "sum") and len(shapes) > 1:
            self.broadcasts = True
        name = name or f"v{len(self.nodes)}"
        text = f"{name} = {form.format(*[i.name for i in inputs], k=k)}"
        node = _Node(name, op, inputs, k, mine, ref, text)
        self.nodes.append(node)
        return node


# =========================================================================================
# The battery
# =========================================================================================
# Each builder takes a _Graph and returns the output node.  Unit checks multiply the op's result
# by k = 3, so that a rule that forgets the upstream gradient shows.

def _unit(op, **values):
    def build(G):
        leaves = [G.leaf(n, v) for n, v in values.items()]
        if op == "relu":    # both sides of the kink
            s = G("add", G("relu", leaves[0], name="r1"), G("relu", leaves[1], name="r2"),
                  name="s")
        elif op == "pow":
            s = G("pow", leaves[0], name="s", k=3)
        else:
            s = G(op, *leaves, name="s")
        return G("mul", G.leaf("k", 3.0), s, name="J")
    return build


def _lecture(G):
    a, b, c = G.leaf("a", 5.0), G.leaf("b", 3.0), G.leaf("c", 2.0)
    u = G("mul", b, c, name="u")
    v = G("add", a, u, name="v")
    return G("mul", G.const(3.0), v, name="J")


def _exercise_4_2(G):
    x, y = G.leaf("x", 1.0), G.leaf("y", 2.0)
    w, b = G.leaf("w", 1.0), G.leaf("b", 2.0)
    y_hat = G("add", G("mul", w, x, name="wx"), b, name="ŷ")
    s = G("sub", y_hat, y, name="s")
    return G("pow", s, name="loss", k=2)


def _exercise_4_4(G):
    x, y = G.leaf("x", 2.0), G.leaf("y", 4.0)
    w1, w2, b = G.leaf("w1", 1.0), G.leaf("w2", 1.0), G.leaf("b", 0.0)
    x2 = G("mul", x, x, name="x²")
    q = G("mul", x2, w2, name="q")
    p = G("mul", x, w1, name="p")
    y_hat = G("add", G("add", q, p, name="q+p"), b, name="ŷ")
    s = G("sub", y_hat, y, name="s")
    return G("pow", s, name="loss", k=2)


def _several_paths(G):
    # x reaches J directly and through w, a longer way round: visiting x before w has passed
    # its gradient back loses w's share.  a is also used twice by one op (a·a).
    a, b, c = G.leaf("a", 1.5), G.leaf("b", 2.0), G.leaf("c", -0.5)
    x = G("mul", a, b, name="x")
    w = G("mul", x, c, name="w")
    y = G("add", w, c, name="y")
    z = G("mul", y, x, name="z")
    return G("add", z, G("mul", a, a, name="a²"), name="J")


def _deep_chain(G):
    a, c = G.leaf("a", 1.0), G.leaf("c", 0.001)
    v = a
    for i in range(1, DEEP + 1):
        v = G("add", v, c, name="J" if i == DEEP else f"v{i}")
    return v


def _broadcasting(G):
    X = G.leaf("X", np.arange(12.0).reshape(4, 3) / 10 - 0.5)
    w = G.leaf("w", np.array([0.5, -1.0, 2.0]))
    b = G.leaf("b", np.array([[0.1], [0.2], [-0.3], [0.4]]))
    s = G.leaf("s", 1.5)
    h = G("mul", X, w, name="h")            # w: (3,) used on each of 4 rows
    z = G("add", h, b, name="z")            # b: (4, 1) used on each of 3 columns
    return G("sum", G("mul", z, s, name="zs"), name="J")   # s: a scalar used 12 times


def _array_sum(G):
    X = G.leaf("X", np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]))
    return G("mul", G.leaf("k", 3.0), G("sum", X, name="s"), name="J")


def _array_matmul(G):
    X = G.leaf("X", np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]))
    W = G.leaf("W", np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]]))
    return G("sum", G("matmul", X, W, name="XW"), name="J")


def _mlp(G):
    rng = np.random.default_rng(0)
    X = G.leaf("X", rng.normal(size=(5, 3)))
    Y = G.leaf("Y", rng.normal(size=(5, 1)))
    W1, b1 = G.leaf("W1", rng.normal(size=(3, 4))), G.leaf("b1", rng.normal(size=(4,)))
    W2, b2 = G.leaf("W2", rng.normal(size=(4, 1))), G.leaf("b2", rng.normal(size=(1,)))
    h = G("add", G("matmul", X, W1, name="XW1"), b1, name="h")
    a = G("tanh", h, name="a")
    out = G("add", G("matmul", a, W2, name="aW2"), b2, name="out")
    s = G("sub", out, Y, name="s")
    return G("sum", G("pow", s, name="s²", k=2), name="J")


# (label, builder, needs arrays?)
BATTERY = [
    ("x + y", _unit("add", x=1.5, y=-2.0), False),
    ("x − y", _unit("sub", x=1.5, y=-2.0), False),
    ("x·y", _unit("mul", x=1.5, y=-2.0), False),
    ("x / y", _unit("div", x=1.5, y=-2.0), False),
    ("x**3", _unit("pow", x=1.5), False),
    ("exp(x)", _unit("exp", x=0.5), False),
    ("log(x)", _unit("log", x=2.0), False),
    ("tanh(x)", _unit("tanh", x=0.5), False),
    ("relu(x)", _unit("relu", x=1.5, y=-2.0), False),
    ("the lecture's J = 3·(a + b·c)", _lecture, False),
    ("Exercise 4.2: (w·x + b − y)²", _exercise_4_2, False),
    ("Exercise 4.4: (x²·w2 + x·w1 + b − y)²", _exercise_4_4, False),
    ("a value used on several paths", _several_paths, False),
    (f"a chain of {DEEP:,} ops", _deep_chain, False),
    ("X.sum() (arrays)", _array_sum, True),
    ("X @ W (arrays)", _array_matmul, True),
    ("broadcasting: (X·w + b)·s", _broadcasting, True),
    ("a two-layer network (arrays)", _mlp, True),
]


# =========================================================================================
# The report
# =========================================================================================

class EngineCheck:
    """One graph's verdict: ``name``, ``status`` (``"right"``, ``"WRONG"``, ``"skipped"``),
    ``detail`` (what is wrong, or why skipped) and ``cause`` (a short name of the bug, shared by
    the checks it breaks)."""

    __slots__ = ("name", "status", "detail", "cause", "summary", "more")

    def __init__(self, name, status, detail="", cause=None, summary=None, more=()):
        self.name, self.status, self.detail, self.cause = name, status, detail, cause
        self.summary = summary or detail      # the numbers alone, for a cause met before
        self.more = list(more)                # further mistakes: (detail, cause, summary)

    @property
    def causes(self):
        return ([self.cause] if self.cause else []) + [m[1] for m in self.more]

    def __repr__(self):
        return f"EngineCheck({self.name!r}, {self.status!r}, cause={self.cause!r})"


class EngineReport:
    """What ``check_engine`` found: ``checks`` (one per graph), ``ops_found``, ``ops_missing``;
    print it.  Its truth value is ``ok``: every check that ran was right."""

    def __init__(self, checks, ops_found, ops_missing, arrays):
        self.checks = checks
        self.ops_found = ops_found
        self.ops_missing = ops_missing
        self.arrays = arrays

    @property
    def ok(self):
        ran = [c for c in self.checks if c.status != "skipped"]
        return bool(ran) and all(c.status == "right" for c in ran)

    def __bool__(self):
        return self.ok

    @property
    def failures(self):
        return [c for c in self.checks if c.status == "WRONG"]

    @property
    def causes(self):
        """The distinct causes of the failures, in the order the checks met them."""
        seen = []
        for c in self.failures:
            for cause in c.causes:
                if cause not in seen:
                    seen.append(cause)
        return seen

    def __str__(self):
        width = max(len(c.name) for c in self.checks) + 2
        lines = ["Your engine against chainrule, graph by graph (gradients of every value, "
                 "from the output back):"]
        first = {}                      # cause -> the check that met it first
        for c in self.checks:
            head = f"  {(c.name + ':').ljust(width)} {c.status}"
            if c.status == "right":
                lines.append(head)
            elif c.status == "skipped":
                lines.append(f"{head} ({c.detail})")
            else:
                lines.append(head)
                for k, (detail, cause, summary) in enumerate([(c.detail, c.cause, c.summary)]
                                                             + c.more):
                    if cause in first:
                        detail = f"{summary}: the same mistake as in “{first[cause]}”."
                    first.setdefault(cause, c.name)
                    lines.extend(textwrap.wrap(("And: " if k else "") + detail, 96,
                                               initial_indent="      ",
                                               subsequent_indent="      ",
                                               break_on_hyphens=False))
        symbols = [OPS[o][1] for o in self.ops_found]
        line = "Ops found: " + " ".join(symbols)
        if self.ops_missing:
            line += "; not found, so not checked: " + " ".join(OPS[o][1] for o in self.ops_missing)
        if not self.arrays:
            line += "; your values hold numbers only, so the array checks are skipped"
        lines.extend(textwrap.wrap(line + ".", 98, subsequent_indent="  ",
                                   break_on_hyphens=False))
        ran = [c for c in self.checks if c.status != "skipped"]
        right = sum(c.status == "right" for c in ran)
        skipped = len(self.checks) - len(ran)
        lines.append(f"{right} of {len(ran)} checks right" +
                     (f", {skipped} skipped." if skipped else "."))
        if self.failures:
            counts = {}
            for c in self.failures:
                for cause in c.causes:
                    counts[cause] = counts.get(cause, 0) + 1
            lines.append("Fix first (one line per distinct cause, the number of checks it "
                         "breaks):")
            for k, cause in enumerate(self.causes, 1):
                lines.extend(textwrap.wrap(f"{k}. {cause} ({counts[cause]})", 96,
                                           initial_indent="  ", subsequent_indent="     ",
                                           break_on_hyphens=False))
        return "\n".join(lines)

    __repr__ = __str__


# =========================================================================================
# check_engine
# =========================================================================================

def check_engine(make_value, *, grad="grad", backward="backward", rtol=1e-5, atol=1e-8):
    """Check a back-propagation engine you wrote (Exercise 4.3) against chainrule, op by op.

    ``make_value(x)`` wraps a number (a Python float) or a NumPy array in your value type; the
    checker builds graphs with your type's operators, calls ``output.<backward>()`` and reads
    ``value.<grad>`` on every value.  Returns an :class:`EngineReport`: true when every check
    that ran is right; printed, it names each wrong local derivative or accumulation, with the
    expected and received numbers and the path from the output to where it first goes wrong.

    >>> from chainrule.exercises import check_engine, load_engine, reference_path
    >>> report = check_engine(load_engine(reference_path()))   # the reference solution
    >>> bool(report), report.failures
    (True, [])
    """
    import chainrule
    _check_usage(make_value, grad, backward)
    found, missing, arrays = _probe(make_value)
    checks = []
    with chainrule.enable_grad():       # chainrule's side records even inside no_grad()
        for label, build, needs_arrays in BATTERY:
            if needs_arrays and not arrays:
                checks.append(EngineCheck(label, "skipped", "your values hold numbers only"))
                continue
            checks.append(_run_check(label, build, make_value, found, grad, backward, rtol,
                                     atol))
    return EngineReport(checks, found, missing, arrays)


def _check_usage(make_value, grad, backward):
    if not callable(make_value):
        raise TypeError(f"check_engine: make_value is a {type(make_value).__name__}; pass a "
                        "function (or your class) that wraps a number in your value type, e.g. "
                        "check_engine(Value)")
    try:
        a, b = make_value(2.0), make_value(3.0)
    except Exception as e:
        raise TypeError(f"check_engine: make_value(2.0) raised {_exc(e)}; pass a function "
                        "that wraps a number in your value type") from None
    try:
        out = a * b
    except Exception as e:
        raise TypeError(f"check_engine: make_value(2.0) * make_value(3.0) raised {_exc(e)}; "
                        "the checker needs at least * on your values") from None
    method = getattr(out, backward, None)
    if not callable(method):
        raise AttributeError(f"check_engine: your values have no method {backward!r}; pass "
                             "backward='name' naming the method that runs back-propagation")
    try:
        method()
    except Exception:
        pass                    # a broken backward is reported by the checks, not here
    if not hasattr(a, grad):
        attrs = sorted(n for n in vars(a) if not n.startswith("__")) if hasattr(a, "__dict__") \
            else []
        raise AttributeError(f"check_engine: your values have no attribute {grad!r} after "
                             f"backward(); pass grad='name' naming the attribute that holds the "
                             f"gradient (yours has: {', '.join(attrs) or 'none I can list'})")


def _probe(make_value):
    """(ops found, ops missing, whether values hold arrays)."""
    def usable(f):
        try:
            f()
        except (AttributeError, TypeError, NotImplementedError):
            return False
        except Exception:
            return True         # the op exists but is broken: its checks will say how
        return True

    arrays = False
    try:
        m = make_value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        out = m * m
        arrays = np.shape(_as_array(out)) == (2, 3)
    except Exception:
        pass
    x, y = 0.5, 2.0
    found = []
    for op in OPS:
        call = OPS[op][0]
        if op == "matmul":
            ok = arrays and usable(lambda: call(make_value(np.ones((2, 3))),
                                                make_value(np.ones((3, 2)))))
        elif op == "pow":
            ok = usable(lambda: call(make_value(x), 2))
        elif op in UNARY:
            ok = usable(lambda: call(make_value(y)))
        else:
            ok = usable(lambda: call(make_value(x), make_value(y)))
        if ok:
            found.append(op)
    return found, [op for op in OPS if op not in found], arrays


def _run_check(label, build, make_value, found, grad_name, backward_name, rtol, atol):
    G = _Graph(make_value, set(found))
    try:
        out = build(G)
    except _Missing as e:
        return EngineCheck(label, "skipped", f"needs {OPS[e.args[0]][1]}, which your values "
                                             "lack")
    except _BuildError as e:
        return EngineCheck(label, "WRONG", f"{e.args[0]}.", cause=e.args[0])
    nodes = G.nodes
    # the forward pass first: a wrong value makes every gradient after it meaningless
    for n in nodes:
        if n.op is None:
            continue
        try:
            got = _as_array(n.mine)
        except Exception:
            break               # values the checker cannot read: check the gradients only
        want = n.ref.detach().numpy()
        if not _close(got, want, rtol, atol):
            cause = f"`{n.op}` computes the wrong value"
            return EngineCheck(label, "WRONG", f"forward pass: {n.text} should be "
                               f"{_num(want)}, yours is {_num(got)}: {cause}.", cause=cause)
    # the student's backward pass
    try:
        getattr(out.mine, backward_name)()
    except RecursionError:
        cause = "backward() recurses once per node (RecursionError): make the topological " \
                "sort iterative, with an explicit stack"
        return EngineCheck(label, "WRONG", f"backward() raised RecursionError on this graph "
                           f"of {len(nodes):,} values: Python stops recursing near 1,000 calls, "
                           "so the topological sort (or backward) must not call itself once "
                           "per node; walk the graph with an explicit stack.", cause=cause)
    except Exception as e:
        if G.broadcasts and isinstance(e, ValueError) and "broadcast" in str(e):
            cause = "a broadcast input's gradient is not summed back to its shape (un-broadcast)"
            return EngineCheck(label, "WRONG", f"backward() raised {_exc(e)}: an input that "
                               "was broadcast (used on several rows or columns) gets a gradient "
                               "of the result's shape; sum it back over the broadcast axes to "
                               "the input's shape (un-broadcast), in one helper applied to "
                               "every input.", cause=cause,
                               summary=f"backward() raised {type(e).__name__}")
        cause = f"backward() raises {type(e).__name__}"
        return EngineCheck(label, "WRONG", f"backward() raised {_exc(e)}.", cause=cause,
                           summary=f"backward() raised {type(e).__name__}")
    # every value's gradient, from the output back to the leaves
    import chainrule
    refs = [n.ref for n in nodes]
    want = [g.numpy() for g in chainrule.autograd.grad(out.ref, refs, allow_unused=True,
                                                       materialize_grads=True)]
    got = [_grad_of(n, grad_name) for n in nodes]
    got = [g.reshape(w.shape) if g is not None and g.shape != w.shape and g.size == w.size
           else g for g, w in zip(got, want)]
    # the upstream gradient each op actually received from the engine (chainrule's where the
    # engine keeps none, or one of the wrong shape)
    up = [g if g is not None and g.shape == w.shape else w for g, w in zip(got, want)]
    right = [g is None or _close(g, w, rtol, atol) for g, w in zip(got, want)]
    consumers = {id(n): [] for n in nodes}
    for n in nodes:
        for slot, i in enumerate(n.inputs):
            consumers[id(i)].append((n, slot))
    index = {id(n): k for k, n in enumerate(nodes)}
    # From the output back, each value's gradient against what its consumers' rules make of the
    # gradients the engine gave them: a mismatch is a mistake on this value's incoming edges,
    # whatever went wrong above it.  The first is the first wrong gradient; the next ones are
    # further mistakes (up to 3 distinct causes per graph).
    problems = []
    for k in range(len(nodes) - 1, -1, -1):
        n = nodes[k]
        uses = consumers[id(n)]
        if got[k] is None or (right[k] and all(right[index[id(c)]] for c, _ in uses)):
            continue
        if n is out or not uses:
            expect = want[k]
        else:
            expect = sum(_vjp(c, slot, up[index[id(c)]]) for c, slot in uses)
        if _close(got[k], expect, rtol, atol):
            continue
        detail, cause = _diagnose(n, out, got, up, want, index, consumers, rtol, atol,
                                  first=not problems)
        if any(cause == p[1] for p in problems):
            continue
        summary = _compare(f"∂{out.name}/∂{n.name}", expect, got[k], rtol, atol)
        problems.append((detail, cause, summary))
        if len(problems) == 3:
            break
    if not problems:
        return EngineCheck(label, "right")
    return EngineCheck(label, "WRONG", *problems[0], more=problems[1:])


# =========================================================================================
# Diagnosis of the first wrong gradient
# =========================================================================================

def _diagnose(n, out, got, up, want, index, consumers, rtol, atol, first=True):
    """(what is wrong, its cause) for value ``n``, whose gradient disagrees with what its
    consumers' rules make of the upstream gradients ``up`` the engine gave them."""
    k = index[id(n)]
    uses = consumers[id(n)]
    # what each use contributes from the upstream gradient the engine computed for it
    parts = [_vjp(c, slot, up[index[id(c)]]) for c, slot in uses]
    r = got[k]
    e = sum(parts[1:], parts[0]) if parts and n is not out else want[k]
    total = e
    label = f"∂{out.name}/∂{n.name}"
    path = _path(n, out, consumers)
    where = f" (path {path})"
    if first:
        head = _compare(label, e, r, rtol, atol, _expression(n, out, consumers))
    else:       # a mistake below another one: expected from the engine's own upstream values
        given = ", ".join(f"∂{out.name}/∂{c.name}" for c in dict.fromkeys(c for c, _ in uses))
        head = _compare(label, e, r, rtol, atol)
        where = f" (path {path}; expected from your engine's {given})"
    if n is out:
        cause = "backward() does not seed the output's gradient with 1"
        return (f"{head}: backward() must start by setting the output's own gradient to 1 "
                f"(∂{out.name}/∂{out.name} = 1, the seed); every other gradient is a multiple "
                "of it.", cause)
    if r.shape != e.shape and r.size != e.size:
        if _broadcastable(r.shape, e.shape) and _close(_unbroadcast(r, e.shape), e, rtol, atol):
            users = [c for c, _ in consumers[id(n)]]
            cause = "a broadcast input's gradient is not summed back to its shape (un-broadcast)"
            return (f"{label} has shape {r.shape}, but {n.name} has shape {e.shape} "
                    f"(path {path}): {n.name} was broadcast in {_uses(users)}, so its gradient "
                    "must be summed back over the broadcast axes to its own shape "
                    "(un-broadcast); the sums are right.", cause)
        cause = "a gradient has the wrong shape"
        return (f"{label} has shape {r.shape}, but {n.name} has shape {e.shape} (path {path}): "
                "a value's gradient has the value's shape.", cause)
    r = r.reshape(e.shape)

    def matches(i, value):
        rest = sum((p for j, p in enumerate(parts) if j != i), np.zeros_like(e))
        return _close(rest + value, r, rtol, atol)

    # 1. a known mistake in one rule
    for i, (c, slot) in enumerate(uses):
        g = up[index[id(c)]]
        for wrong, what in MISTAKES.get((c.op, slot), ()):
            value = _try_mistake(wrong, c, g, n.ref.shape)
            if value is not None and not _close(value, parts[i], rtol, atol) and matches(i, value):
                cause = f"`{c.op}`'s gradient to {_slot(c, slot)} {what}"
                return (f"{head}{where}: the gradient through `{c.op}` ({c.text}) to "
                        f"{_which(c, slot)} looks like it {what}.", cause)
    # 2. the contributions assigned, not added
    if len(parts) > 1:
        for i, (c, slot) in enumerate(uses):
            if _close(parts[i], r, rtol, atol) and not _close(total, r, rtol, atol):
                terms = " + ".join(_num(p) for p in parts[:4]) + (" + …" if len(parts) > 4 else "")
                cause = "gradients are assigned (=) where they must be added up (+=)"
                return (f"{head}{where}: {n.name} is used {len(parts):,} times "
                        f"({_uses([u for u, _ in uses])}), "
                        f"so its gradient adds over the paths, {terms}; yours is the share of "
                        f"{c.text} alone: the gradient is assigned (=) where it must be "
                        "accumulated (+=).", cause)
    # 3. a consumer passed its gradient on before it had all of it
    for i, (c, slot) in enumerate(uses):
        c_parts = [_vjp(d, s, up[index[id(d)]]) for d, s in consumers[id(c)]]
        if c is out:
            continue
        for subset in _strict_subsets(len(c_parts)):
            if not subset:
                continue
            partial = sum((c_parts[j] for j in subset), np.zeros_like(c_parts[0]))
            if matches(i, _vjp(c, slot, partial)):
                have = ", ".join(consumers[id(c)][j][0].name for j in subset)
                lack = ", ".join(d.name for j, (d, _) in enumerate(consumers[id(c)])
                                 if j not in subset)
                cause = ("backward() visits a value before all the values that consume it "
                         "(not in reverse topological order)")
                return (f"{head}{where}: {c.name} passed its gradient on to its inputs when it "
                        f"had received only the share from {have}, not yet the one from "
                        f"{lack} ({c.name}'s own gradient is right in the end): backward() "
                        f"must visit each value after every value that consumes it (reverse "
                        "topological order).", cause)
    # 3b. a consumer passed its gradient on once per path reaching it, each time with what it
    # had so far (a walk over the graph as if it were a tree, with no visited set)
    for i, (c, slot) in enumerate(uses):
        c_uses = consumers[id(c)]
        if c is out or not 2 <= len(c_uses) <= 4:
            continue
        c_parts = [_vjp(d, s, up[index[id(d)]]) for d, s in c_uses]
        for order in itertools.permutations(range(len(c_parts))):
            prefixes = itertools.accumulate(c_parts[j] for j in order)
            if matches(i, sum(_vjp(c, slot, p) for p in prefixes)):
                cause = ("backward() visits a value once per path reaching it, not once after "
                         "all the values that consume it")
                return (f"{head}{where}: {c.name} passed its gradient on to its inputs "
                        f"{len(c_parts)} times, once per path reaching it, each time with what "
                        f"it had received so far: backward() must visit each value once, after "
                        "every value that consumes it (reverse topological order), keeping a set "
                        "of the values visited.", cause)
    # 4. generic mistakes in one rule
    for i, (c, slot) in enumerate(uses):
        g = up[index[id(c)]]
        ones = _vjp(c, slot, np.ones_like(g))
        if not _close(g, np.ones_like(g), rtol, atol) and matches(i, ones):
            cause = f"`{c.op}`'s rule does not multiply by the upstream gradient"
            return (f"{head}{where}: the gradient through `{c.op}` ({c.text}) to "
                    f"{_which(c, slot)} is its local derivative alone: multiply it by the "
                    f"upstream gradient ∂{out.name}/∂{c.name} = {_num(g)} (multiply along the "
                    "path).", cause)
        if matches(i, -parts[i]):
            cause = f"`{c.op}`'s gradient to {_slot(c, slot)} has the wrong sign"
            return (f"{head}{where}: the gradient through `{c.op}` ({c.text}) to "
                    f"{_which(c, slot)} has the wrong sign.", cause)
        if matches(i, np.zeros_like(parts[i])):
            cause = f"no gradient reaches {_slot(c, slot)} of `{c.op}`"
            return (f"{head}{where}: nothing came back through `{c.op}` ({c.text}) to "
                    f"{_which(c, slot)}, though {c.name}'s gradient is right: its rule does not "
                    f"pass the gradient to that input, or {c.name} was visited before it had "
                    "received its gradient.", cause)
        if matches(i, 2 * parts[i]):
            cause = f"`{c.op}`'s gradient to {_slot(c, slot)} is counted twice"
            return (f"{head}{where}: the gradient through `{c.op}` ({c.text}) to "
                    f"{_which(c, slot)} is counted twice.", cause)
    ops = ", ".join(f"`{c.op}` ({c.text}) to {_which(c, slot)}" for c, slot in uses)
    cause = "a local derivative is wrong: " + ", ".join(sorted({f"`{c.op}`" for c, _ in uses}))
    above = "the gradients above it are right, so " if first else ""
    return (f"{head}{where}: {above}the mistake is in the gradient through {ops}, or in how "
            "the contributions are added.", cause)


def _compare(label, e, r, rtol, atol, expression=""):
    """'∂J/∂b: expected 6 = 3·1·2, got 3'; for arrays, the first wrong entry and how many."""
    r = np.asarray(r, dtype=np.float64)
    if e.size <= 1 or r.shape != e.shape:
        return f"{label}: expected {_num(e)}{expression}, got {_num(r)}"
    with np.errstate(all="ignore"):
        wrong = ~np.isclose(r, e, rtol=rtol, atol=atol)
    where = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (f"{label}{list(where)}: expected {_num(e[where])}, got {_num(r[where])} "
            f"({int(wrong.sum())} of {e.size} entries wrong)")


def _strict_subsets(m):
    for mask in range(2 ** m - 1):
        yield [j for j in range(m) if mask >> j & 1]


def _vjp(c, slot, g):
    """What op ``c`` passes to its input ``slot`` when its upstream gradient is ``g``."""
    import chainrule
    xs = [chainrule.tensor(i.ref.detach().numpy(), requires_grad=True) for i in c.inputs]
    call = OPS[c.op][0]
    out = call(*xs + ([c.k] if c.op == "pow" else []))
    grads = chainrule.autograd.grad(out, xs[slot], grad_outputs=chainrule.tensor(g),
                                    allow_unused=True, materialize_grads=True)
    return grads[0].numpy()


def _try_mistake(wrong, c, g, shape):
    x = c.inputs[0].ref.detach().numpy()
    y = c.inputs[1].ref.detach().numpy() if len(c.inputs) > 1 else None
    o = c.ref.detach().numpy()
    try:
        with np.errstate(all="ignore"):
            value = _unbroadcast(np.broadcast_to(wrong(g, x, y, o, c.k), np.broadcast_shapes(
                np.shape(g), *(np.shape(i) for i in (x, y) if i is not None))), tuple(shape))
    except (ValueError, TypeError):
        return None
    return value if value.shape == tuple(shape) else None


def _expression(n, out, consumers, max_paths=3, max_len=6):
    """' = 3·1·2' (the local derivatives multiplied along each path, added over paths) when
    n is a scalar reached by a few short paths; else ''."""
    if n is out or n.ref.numel() != 1:
        return ""
    paths, stack = [], [[(n, None)]]
    while stack:
        p = stack.pop()
        top = p[-1][0]
        if top is out:
            paths.append(p)
            if len(paths) > max_paths:
                return ""
            continue
        if len(p) > max_len:
            return ""
        for c, slot in reversed(consumers[id(top)]):
            if c.ref.numel() != 1:
                return ""
            stack.append(p + [(c, slot)])
    terms = []
    for p in paths:
        factors = []
        for (below, _), (above, slot) in zip(p, p[1:]):
            factors.append(_num(_vjp(above, slot, np.ones(tuple(above.ref.shape)))))
        factors.reverse()
        terms.append("·".join(f"({f})" if f.startswith("-") else f for f in factors))
    if len(terms) == 1 and "·" not in terms[0]:
        return ""
    return " = " + " + ".join(terms)


def _path(n, out, consumers):
    """'J → v → u → b': one path from the output down to n (plus how many others)."""
    chain, node = [n], n
    while node is not out and consumers[id(node)]:
        node = consumers[id(node)][0][0]
        chain.append(node)
    names = [m.name for m in reversed(chain)]
    if len(names) > 8:
        names = names[:3] + [f"… {len(names) - 6} more …"] + names[-3:]
    return " → ".join(names)


def _which(c, slot):
    if len(c.inputs) == 1:
        return "its input"
    return ("its first input", "its second input")[slot] + f" {c.inputs[slot].name}"


def _uses(users, most=3):
    seen = []
    for u in users:
        if u.text not in seen:
            seen.append(u.text)
    return ", ".join(seen[:most]) + (", …" if len(seen) > most else "")


def _slot(c, slot):
    """'its second input' (without its name: the same mistake in two graphs is one cause)."""
    return "its input" if len(c.inputs) == 1 else ("its first input", "its second input")[slot]


def _broadcastable(big, small):
    try:
        return np.broadcast_shapes(big, small) == tuple(big)
    except ValueError:
        return False


# =========================================================================================
# Reading the student's values
# =========================================================================================

def _as_array(v):
    if isinstance(v, np.ndarray) or np.isscalar(v):
        return np.asarray(v, dtype=np.float64)
    for attr in ("data", "value"):
        inner = getattr(v, attr, None)
        if inner is not None and not callable(inner):
            return _as_array(inner) if not hasattr(inner, attr) else np.asarray(inner, float)
    return np.asarray(v, dtype=np.float64)


def _grad_of(n, name):
    g = getattr(n.mine, name, None)
    if g is None:
        return np.zeros(tuple(n.ref.shape)) if n.op is None else None
    try:
        return _as_array(g)
    except (TypeError, ValueError):
        return None


def _close(got, want, rtol, atol):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        if got.size != want.size:
            return False
        got = got.reshape(want.shape)
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _num(a):
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        x = float(a.reshape(-1)[0])
        return f"{x:.6g}" if x != int(x) or abs(x) >= 1e15 else str(int(x))
    return np.array2string(a, precision=4, separator=", ", threshold=12, suppress_small=True)


def _exc(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}" + (f" ({text[0]})" if text else "")


# =========================================================================================
# Finding the student's value type in a file
# =========================================================================================

def reference_path():
    """The reference solution, ``examples/from_scratch.py`` (``chainrule.examples``).

    >>> reference_path().name
    'from_scratch.py'
    """
    from .cli import example_path
    return example_path("from_scratch")


def load_engine(path, backward="backward"):
    """The function that makes values in the student's file ``path``: its ``make_value``
    function if it has one, else the first class it defines that has a method named
    ``backward``.
    The file is imported as a module (code under ``if __name__ == "__main__":`` does not run).

    >>> Value = load_engine(reference_path())
    >>> Value.__name__
    'Value'
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {str(path)!r}: give the path of the .py file that "
                                "defines your value class")
    spec = importlib.util.spec_from_file_location(f"student_engine_{path.stem}", path)
    if spec is None:
        raise ImportError(f"{path} is not a Python file I can import: give a .py file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise ImportError(f"importing {path} raised {_exc(e)}") from e
    make = getattr(module, "make_value", None)
    if callable(make):
        return make
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__ and \
                callable(getattr(value, backward, None)):
            return value
    raise LookupError(f"{path} defines neither a make_value function nor a class with a "
                      f"{backward!r} method: add `def make_value(x): return YourClass(x)` to it")
