"""``chainrule.explain``: the chain-rule work that ``backward()`` does, written out.

>>> a, b, c = (chainrule.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
>>> u = b * c; v = a + u; J = 3 * v
>>> print(chainrule.explain(J))        # forward pass, local derivatives, paths, nudges
... # doctest: +ELLIPSIS
Forward pass
  u = b·c = 6
  v = a + u = 11
  J = 3·v = 33
...
  ∂J/∂b = ∂J/∂v · ∂v/∂u · ∂u/∂b = 3 · 1 · c = 3 · 1 · 2 = 6
...

Everything comes from one run of the engine's reverse pass (``engine.run_backward`` with a
``trace``) on a copy of the graph re-run from its leaves, so it works after ``backward()`` too:
the nodes in the order the pass ran them, the gradient each received, and the local VJP on every
edge.  Forward values and the finite-difference nudges come from re-running the
recorded nodes' forwards in float64 (not the user's code).  Formula text comes from the op
registry.
"""
import inspect
import math
import re

from . import _backend as B
from . import ops
from ._backend import xp
from ._fns import ArrayF, dense
from .engine import run_backward
from .graph import KEEP, Freed, FreedConstant, Node, dependencies
from .tensor import Tensor, wrap

NUDGE = 1e-3


# =========================================================================================
# Recording: one reverse pass, plus a float64 replay of the forward
# =========================================================================================

class Recording:
    """The graph behind ``output`` as one reverse pass saw it.

    forward: nodes in forward order; grads: the gradient each node (or leaf, by id) received;
    names: display name of every node and leaf; leaves: leaf tensors in first-use order.

    The pass runs on a copy of the graph re-run from its leaves and constants (``_rebuild``), so
    it works the same before and after ``output.backward()`` (which frees what the graph saved),
    leaves every ``.grad`` alone and runs no hook.  When a constant is gone (freed by backward,
    too big to keep, no longer referenced), ``missing`` says which, ``values`` is empty and the
    gradients are the leaves' ``.grad``: shapes and structure are all that can be shown.
    """

    def __init__(self, output, names=None, frame=None):
        if not isinstance(output, Tensor):
            raise TypeError(f"explain() needs a Tensor, got {type(output).__name__}")
        if not output.requires_grad:
            raise RuntimeError("explain(): the output does not require grad, so there is no graph "
                               "to explain; create the inputs with requires_grad=True")
        self.output = output
        self.scalar_output = output._data.size == 1
        self.root = output._grad_fn
        recorded = _forward_order(self.root)
        self.shapes, dtypes = _shapes(recorded, output)
        self.missing = None
        self.copies = {}            # recorded node -> its copy (a Function's rules read its ctx)
        try:
            copy, original = _rebuild(recorded, output, dtypes)
        except _Unavailable as e:
            self.missing = e
            order, grads, local = list(reversed(recorded)), {}, {}
            for leaf in _leaves(recorded):
                if leaf.grad is not None:
                    grads[id(leaf)] = leaf.grad._data
        else:
            order, grads, local = [], {}, {}

            def trace(node, i, g, gi):
                node = original[node]
                if node not in grads:
                    order.append(node)
                    grads[node] = g
                local[(node, i)] = gi

            seed = xp.ones(output._data.shape, output._data.dtype)
            leaf_grads = run_backward((copy,), [seed], retain_graph=True, create_graph=False,
                                      accumulate=False, trace=trace)
            grads.update(leaf_grads)
            self.copies = {node: c for c, node in original.items()}
        self.backward_order = order
        self.forward = list(reversed(order))
        self.grads = grads
        self.vjp_results = local
        self.leaves = _leaves(self.forward) if self.root is not None else [output]
        self.values = {} if self.missing else self.replay()
        self.names = self._name_everything(names or {}, frame)

    # --- forward replay in float64 ----------------------------------------------------------
    def replay(self, overrides=None):
        """Values of every node (and leaf, by id) from the recorded forwards, in float64."""
        overrides = overrides or {}
        vals = {}
        for leaf in self.leaves:
            vals[id(leaf)] = overrides.get(id(leaf), _f64(leaf._data))
        token = B.quiet_fp()
        try:
            for node in self.forward:
                if node in overrides:
                    vals[node] = overrides[node]
                    continue
                args = [self._arg(node, i, vals) for i in range(len(node.inputs))]
                vals[node] = _run_forward(node, args)
        finally:
            B.restore_fp(token)
        return vals

    def _arg(self, node, i, vals):
        e = node.next[i]
        if type(e) is Node:
            return vals[e]
        if e is not None:
            return vals[id(e)]
        v = _constant(node, i)
        if isinstance(v, Tensor):
            return _f64(v._data)
        return v

    def value(self, key):
        return self.values[key]

    def input_value(self, node, i):
        """Input ``i`` of ``node`` in float64: a node's or a leaf's value, or the constant."""
        return self._arg(node, i, self.values)

    def shape(self, key):
        """The shape of a node's or a leaf's value (known even when the values are not)."""
        return self.shapes[key]

    # --- names ------------------------------------------------------------------------------
    def _name_everything(self, given, frame):
        by_id = {}
        sources = [given] if isinstance(given, dict) else []
        if frame is not None:
            sources.append(frame.f_locals)
            sources.append(frame.f_globals)
        for src in sources:
            for k, v in src.items():
                if isinstance(v, Tensor) and not k.startswith("_") and id(v) not in by_id:
                    by_id[id(v)] = k
                    if v._grad_fn is not None and v._grad_fn not in by_id:
                        by_id[v._grad_fn] = k
        self.by_id = by_id
        rank = {key: k for k, key in enumerate(by_id)}
        self.leaves.sort(key=lambda t: rank.get(id(t), len(rank)))
        names = {}
        for k, leaf in enumerate(self.leaves, 1):
            names[id(leaf)] = by_id.get(id(leaf), f"t{k}")
        for k, node in enumerate(self.forward, 1):
            if node in by_id:
                names[node] = by_id[node]
            elif node is self.root and id(self.output) in by_id:
                names[node] = by_id[id(self.output)]
            else:
                names[node] = f"{_op_name(node)}{k}"
        return names

    def name_of_input(self, node, i):
        e = node.next[i]
        if type(e) is Node:
            return self.names[e]
        if e is not None:
            return self.names[id(e)]
        v = node.inputs[i]
        if isinstance(v, Freed):            # backward() freed it: the tensor, if it still lives
            t = v.tensor() if isinstance(v, FreedConstant) else None
            if t is not None and id(t) in self.by_id:
                return self.by_id[id(t)]
            kept = v.recover()
            if kept is None or kept.size != 1:
                return "const" + format_shape(v.shape)
            return format_number(float((kept._data if isinstance(kept, Tensor) else kept).reshape(())))
        if isinstance(v, Tensor):
            if id(v) in self.by_id:
                return self.by_id[id(v)]
            if v._data.size == 1:
                return format_number(float(v._data.reshape(())))
            return "const" + format_shape(v._data.shape)
        return format_number(v)

    def key_of_input(self, node, i):
        e = node.next[i]
        return e if type(e) is Node else (id(e) if e is not None else None)

    # --- local derivatives ------------------------------------------------------------------
    def local_derivative(self, node, i):
        """∂node/∂input_i as a number, for scalar nodes and inputs (None otherwise)."""
        if self.missing:
            return None
        out = self.values[node]
        args = [self._arg(node, j, self.values) for j in range(len(node.inputs))]
        a = args[i]
        if xp.size(out) != 1 or xp.size(a) != 1:
            return None
        ones = xp.ones(xp.shape(out))
        token = B.quiet_fp()
        try:
            g = _run_vjp(self.copies.get(node, node), i, ones, out, args)
        finally:
            B.restore_fp(token)
        return None if g is None else float(xp.sum(g))

    # --- paths ------------------------------------------------------------------------------
    def path_count(self, target):
        count = {self.root: 1}
        for node in self.backward_order:
            c = count.get(node, 0)
            for i, e in enumerate(node.next):
                key = e if type(e) is Node else (id(e) if e is not None else None)
                if key is not None:
                    count[key] = count.get(key, 0) + c
        return count.get(target, 0)

    def paths(self, target):
        """Every path from the output to ``target``: lists of edges (node, input index)."""
        reach = {}
        for node in self.forward:
            reach[node] = any((type(e) is Node and (e is target or reach.get(e))) or
                              (e is not None and type(e) is not Node and id(e) == target)
                              for e in node.next)
        found = []
        stack = [(self.root, [])]
        while stack:
            node, path = stack.pop()
            nxt = []
            for i, e in enumerate(node.next):
                if e is None:
                    continue
                p = path + [(node, i)]
                key = e if type(e) is Node else id(e)
                if key == target if type(e) is not Node else e is target:
                    found.append(p)
                elif type(e) is Node and reach.get(e):
                    nxt.append((e, p))
            stack.extend(reversed(nxt))
        return found


# =========================================================================================
# Re-running the recorded graph: what lets explain() and draw() work after backward()
# =========================================================================================

class _Unavailable(Exception):
    """A constant the graph needs is gone: ``shape`` and ``size`` say what it was."""

    def __init__(self, shape):
        super().__init__(shape)
        self.shape = shape
        self.size = math.prod(shape)


def _forward_order(root):
    """The recorded nodes in forward order: the reverse of the order the engine's pass runs them
    (the same Kahn loop over ``graph.dependencies``), without running any rule."""
    if root is None:
        return []
    deps = dependencies([root])
    ready, order = [root], []
    while ready:
        node = ready.pop()
        order.append(node)
        for e in node.next:
            if type(e) is Node:
                deps[e] -= 1
                if deps[e] == 0:
                    ready.append(e)
    order.reverse()
    return order


def _leaves(forward):
    leaves, seen = [], set()
    for node in forward:
        for e in node.next:
            if e is not None and type(e) is not Node and id(e) not in seen:
                seen.add(id(e))
                leaves.append(e)
    return leaves


def _shapes(forward, output):
    """Shape and dtype of every node's value and every leaf, read from the inputs that consume
    them (a ``Freed`` record keeps both), so they are known after backward() too."""
    shapes = {output._grad_fn: output._data.shape, id(output): output._data.shape}
    dtypes = {output._grad_fn: output._data.dtype}
    for node in forward:
        for i, e in enumerate(node.next):
            v = node.inputs[i]
            if type(e) is Node:
                shapes.setdefault(e, v.shape if isinstance(v, Freed) else v._data.shape)
                dtypes.setdefault(e, v.dtype if isinstance(v, Freed) else v._data.dtype)
            elif e is not None:
                shapes.setdefault(id(e), e._data.shape)
    return shapes, dtypes


def _constant(node, i):
    """Input ``i`` of ``node`` when it is no edge: a number, a tensor, or what backward() kept."""
    v = node.inputs[i]
    if isinstance(v, Freed):
        kept = v.recover()
        if kept is None:
            raise _Unavailable(v.shape)
        return kept if isinstance(kept, Tensor) else wrap(kept)
    return v


def _rebuild(forward, output, dtypes):
    """A fresh copy of the graph behind ``output``, each recorded op re-run on the leaves
    themselves, the constants, and the copies of its inputs; returns the copy of ``output`` and
    ``{copied node: recorded node}``.  The copy gives the engine's pass what the recorded graph
    may have freed, so the one reverse pass serves the explainer after backward() too."""
    from .grad_mode import enable_grad, state
    made, original = {}, {}
    hook, state.apply_hook = state.apply_hook, None
    try:
        with enable_grad():
            for node in forward:
                _check_leaves_unchanged(node)
                args = []
                for i, e in enumerate(node.next):
                    if type(e) is Node:
                        args.append(made[e])
                    elif e is not None:
                        args.append(e)
                    else:
                        args.append(_constant(node, i))
                t = _apply_again(node, args)
                if t._grad_fn is None:
                    raise _Unavailable(())
                if t._data.dtype != dtypes[node]:   # mixed dtypes promote as the op recorded
                    t._data = t._data.astype(dtypes[node])
                    if t._grad_fn.out_data is not None:
                        t._grad_fn.out_data = t._data
                t._grad_fn._name = node._name
                made[node] = t
                original[t._grad_fn] = node
    finally:
        state.apply_hook = hook
    return made[output._grad_fn], original


def _apply_again(node, args):
    from .tensor import apply
    op = node.op
    if getattr(op, "joint", False):         # an autograd.Function: its forward, a fresh ctx
        return op.cls.apply(*args)
    return apply(op, tuple(args), node.params)


def _check_leaves_unchanged(node):
    """A leaf an op saved, changed in place since (optimizer.step()): what the engine refuses."""
    if node.versions is None:
        return
    for i, v in zip(node.op.saves, node.versions):
        e = node.next[i]
        if e is not None and type(e) is not Node and e._vc[0] != v:
            raise RuntimeError(
                f"explain(): an input of {node._name} (shape {format_shape(e._data.shape)}) has been "
                f"modified in place since the graph was recorded (is at version {e._vc[0]}; "
                f"expected version {v}), e.g. by optimizer.step(): explain the output before "
                "changing its inputs, or compute the output again")


def _f64(a):
    return a.astype(xp.float64) if a.dtype.kind == "f" else a


def _op_name(node):
    op = node.op
    return getattr(op, "name", type(op).__name__)


def _run_forward(node, args):
    op = node.op
    if op is ops.to_copy:
        return args[0]           # keep float64 while replaying
    if getattr(op, "joint", False):
        from .autograd.function import FunctionCtx
        from .grad_mode import no_grad
        ctx = FunctionCtx(tuple(False for _ in args))
        with no_grad():
            out = op.cls.forward(ctx, *[wrap(xp.asarray(a)) if isinstance(a, B.ndarray) else a
                                        for a in args], **{k: v for k, v in node.params.items()
                                                           if k != "ctx"})
        return _f64(out._data)
    out = op.forward(*args, **node.params) if node.params else op.forward(*args)
    return xp.asarray(out)


def _run_vjp(node, i, g, out, args):
    """Input ``i``'s local VJP, through the node's one call (as the engine runs it)."""
    edges = [True if j == i else None for j in range(len(args))]   # input i only
    return dense(node.op.vjp(ArrayF, g, out, args, node.params, edges)[i])


# =========================================================================================
# Text
# =========================================================================================

def format_number(v):
    """A number as the lecture writes it: 6, 33.006, -0.25, 1.5e-07."""
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    s = f"{v:.6g}"
    return s


def format_shape(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


_TOKEN = re.compile(r"(?<![A-Za-z0-9_])(out|x|y|z)(?![A-Za-z0-9_])")


def _fill(template, names):
    """Put display names into a registry formula written in x, y, z, out."""
    def sub(m):
        n = names.get(m.group(1), m.group(1))
        return n if re.fullmatch(r"[\w.]+", n) else f"({n})"
    return _simplify(_TOKEN.sub(sub, template))


def _simplify(text):
    """Tidy numbers the substitution produced: 2·s^(2 - 1) → 2·s, a^(3 - 1) → a^2."""
    def power(m):
        k = float(m.group(1)) - 1
        return "" if k == 1 else "^" + format_number(k)
    text = re.sub(r"\^\((-?\d+(?:\.\d+)?) - 1\)", power, text)
    return text


def forward_formula(node, rec, arg_names=None):
    """The forward formula of a node with its inputs' names: b·c, a + u, exp(x), sum(h).
    ``arg_names`` replaces the inputs' names (the stepper passes placeholders for numbers)."""
    op = node.op
    arg_names = list(arg_names or [rec.name_of_input(node, i) for i in range(len(node.inputs))])
    show = getattr(op, "show", None)
    if show:
        if op is ops.mul and not isinstance(node.inputs[1], (Tensor, Freed)) and \
                isinstance(node.inputs[0], (Tensor, Freed)):
            arg_names.reverse()         # 3 * v records v * 3 (as torch); write it 3·v
        return show.format(**dict(zip("xyz", arg_names)))
    name = _op_name(node)
    params = ", ".join(f"{k}={v}" for k, v in (node.params or {}).items()
                       if k not in ("ctx", "index", "accumulate") and v is not None
                       and not (k == "keepdim" and v is False))
    if name == "index":
        return f"{arg_names[0]}[{_index_text(node.params['index'])}]"
    return f"{name}({', '.join(arg_names)}{', ' + params if params else ''})"


def _index_text(index):
    parts = []
    for i in index:
        if i is Ellipsis:
            continue
        if isinstance(i, slice):
            parts.append(f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
                         + (f":{i.step}" if i.step is not None else ""))
        elif i is None:
            parts.append("None")
        elif isinstance(i, B.ndarray):
            parts.append("[" + ", ".join(map(str, i.reshape(-1)[:4].tolist())) +
                         (", ..." if i.size > 4 else "") + "]")
        else:
            parts.append(str(i))
    return ", ".join(parts) or "..."


def partial_symbol(top, bottom, slot=None):
    """∂top/∂bottom, or (∂top/∂bottom)_slot when ``bottom`` is several inputs of one op."""
    s = f"∂{top}/∂{bottom}"
    return s if slot is None else f"({s})_{slot}"


class Explanation:
    """The result of ``explain``: prints as text, renders as Markdown with LaTeX in Jupyter.

    Attributes: ``grads`` maps each explained input's name to its gradient (a number or array);
    ``sections`` holds the text, (title, lines) per section; ``recording`` the ``Recording`` it
    was written from (``to_html`` makes the stepping page from it).
    """

    def __init__(self, sections, grads, recording=None):
        self.sections = sections
        self.grads = grads
        self.recording = recording

    def to_html(self, path=None):
        """The same graph as a self-contained web page that steps through the forward and the
        backward pass (``chainrule.viz.stepper``); writes it to ``path`` and returns the
        ``Stepper`` (which shows inline in Jupyter).

        >>> x = chainrule.tensor(2.0, requires_grad=True)
        >>> page = chainrule.explain(3 * x).to_html("stepper.html")
        """
        from .stepper import Stepper
        if self.recording is None:
            raise ValueError("to_html(): this Explanation was made without its recording; "
                             "call chainrule.explain(output).to_html(path)")
        page = Stepper(self.recording)
        if path is not None:
            page.save(path)
        return page

    def __str__(self):
        out = []
        for title, lines in self.sections:
            out.append(title)
            out.extend("  " + (line[0] if isinstance(line, tuple) else line) for line in lines)
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def __repr__(self):
        return str(self)

    def _repr_markdown_(self):
        out = []
        for title, lines in self.sections:
            out.append(f"**{title}**\n")
            out.extend(f"- {line[1] if isinstance(line, tuple) else _markdown_line(line)}"
                       for line in lines)
            out.append("")
        return "\n".join(out)


def _latex(s):
    s = re.sub(r"∂([\w.]+)/∂([\w.]+)", r"\\frac{\\partial \1}{\\partial \2}", s)
    s = re.sub(r"Δ([\w.]+)/Δ([\w.]+)", r"\\frac{\\Delta \1}{\\Delta \2}", s)
    for a, b in ((" · ", r" \cdot "), ("·", r" \cdot "), ("→", r"\to"), ("↦", r"\mapsto "), ("²", "^2"),
                 ("ᵀ", r"^\top"), ("≈", r"\approx "), ("Σ", r"\sum "), ("⊙", r"\odot "),
                 ("δ", r"\delta "), ("‖", r"\|"), ("≤", r"\le ")):
        s = s.replace(a, b)
    return s


def _markdown_line(line):
    # prose stays prose; the maths part (before a tick or an explanation in brackets) goes in $..$
    m = re.match(r"^(.*?)(\s+[✓✗].*|\s+\(.*\))?$", line)
    maths, rest = m.group(1), m.group(2) or ""
    if ":" in maths and not maths.lstrip().startswith("∂"):
        head, tail = maths.split(":", 1)
        return f"{head}: ${_latex(tail.strip())}${rest}"
    return f"${_latex(maths)}${rest}"


# =========================================================================================
# explain
# =========================================================================================

def explain(output, wrt=None, names=None, max_paths=8):
    """The chain rule behind ``output.backward()``, written out step by step.

    Shows the forward pass, the local derivative on every edge, each path from the output to
    every input (or those in ``wrt``) as a product of local derivatives, the sum over paths where
    a value is used more than once, and a finite-difference nudge of each input that re-runs the
    recorded graph in float64.  ``names`` maps names to tensors (by default the caller's variable
    names are used); past ``max_paths`` paths, the accumulated gradient per node is shown instead.

    >>> a, b, c = (chainrule.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    >>> J = 3 * (a + b * c)
    >>> print(chainrule.explain(J, names={"a": a, "b": b, "c": c, "J": J}))
    ... # doctest: +ELLIPSIS
    Forward pass
      mul1 = b·c = 6
    ...
      b: 3 → 3.001 moves J: 33 → 33.006, ΔJ/Δb = 6.000   ✓ autograd: 6
    ...
    """
    if getattr(output, "_grad_fn", None) is None and getattr(output, "requires_grad", False):
        raise ValueError("explain(): the output is a leaf tensor, with no recorded op to explain; "
                         "pass a value computed from tensors with requires_grad=True")
    frame = inspect.currentframe().f_back
    try:
        rec = Recording(output, names, frame)
    finally:
        del frame
    return _explain(rec, wrt, max_paths)


def _explain(rec, wrt, max_paths):
    names = rec.names
    out_name = names[rec.root] if rec.root is not None else names[id(rec.output)]
    sections = []
    if rec.missing:
        sections.append(("Shapes only", [_missing_text(rec, out_name)]))

    # forward pass
    fwd = []
    for node in rec.forward:
        shown = forward_formula(node, rec)
        if rec.missing:
            fwd.append(f"{names[node]} = {shown}   shape {format_shape(rec.shape(node))}")
            continue
        val = rec.values[node]
        if xp.size(val) == 1:
            fwd.append(f"{names[node]} = {shown} = {format_number(xp.reshape(val, ()))}")
        else:
            fwd.append(f"{names[node]} = {shown}   shape {format_shape(xp.shape(val))}")
    sections.append(("Forward pass", fwd))

    # local derivatives
    local_lines, local = [], {}
    for node in rec.forward:
        counts = {}
        for i in range(len(node.inputs)):
            k = rec.key_of_input(node, i)
            if k is not None:
                counts[k] = counts.get(k, 0) + 1
        for i, e in enumerate(node.next):
            if e is None:
                continue
            key = rec.key_of_input(node, i)
            slot = i + 1 if counts[key] > 1 else None
            sym = partial_symbol(names[node], rec.name_of_input(node, i), slot)
            d = rec.local_derivative(node, i)
            local[(node, i)] = d
            formula = local_formula(node, i, rec)
            if d is not None:
                text = f"{sym} = "
                num = format_number(d)
                if formula is not None and formula != num:
                    text += f"{formula} = "
                local_lines.append(text + num)
            else:
                vjp = vjp_formula(node, i, rec)
                local_lines.append(f"{sym}: {vjp}")
    sections.append(("Local derivatives, one per edge", local_lines))

    # chain rule per input
    targets = _targets(rec, wrt)
    chain, grads = [], {}
    for key, label in targets:
        g = rec.grads.get(key)
        g_arr = None if g is None else xp.asarray(g, dtype=xp.float64)
        grads[label] = None if g_arr is None else (float(g_arr.reshape(())) if g_arr.size == 1
                                                   else g_arr)
        n_paths = rec.path_count(key)
        head = partial_symbol(out_name, label)
        if g_arr is None and rec.missing:
            chain.append(f"{head}: not available (see above)")
            continue
        if g_arr is None:
            chain.append(f"{head} = 0   ({label} does not affect {out_name})")
            continue
        scalar_path = g_arr.size == 1
        if n_paths == 0:
            chain.append(f"{head} = 1   (the output itself)")
            continue
        if n_paths > max_paths:
            chain.append(f"{head} = {value_text(g_arr)}   (summed over {n_paths} paths: more "
                         f"than max_paths={max_paths}, so per node below)")
            continue
        paths = rec.paths(key)
        terms_sym, terms_num, all_scalar = [], [], scalar_path
        for path in paths:
            syms, nums = [], []
            for node, i in path:
                counts = sum(1 for j in range(len(node.inputs))
                             if rec.key_of_input(node, j) == rec.key_of_input(node, i))
                syms.append(partial_symbol(names[node], rec.name_of_input(node, i),
                                     i + 1 if counts > 1 else None))
                d = local.get((node, i))
                if d is None:
                    all_scalar = False
                nums.append(d)
            terms_sym.append(" · ".join(syms))
            terms_num.append(nums)
        if all_scalar:
            prods = [math.prod(n) for n in terms_num]
            num_text = " + ".join(" · ".join(format_number(v) for v in n) for n in terms_num)
            line = f"{head} = {' + '.join(terms_sym)}"
            symbolic = _symbolic(rec, paths)
            if symbolic is not None and symbolic != num_text:
                line += f" = {symbolic}"
            line += f" = {num_text}"
            if len(paths) > 1 or len(terms_num[0]) > 1:
                line += f" = {format_number(sum(prods))}"
            chain.append(line)
        else:
            grad_of = f"{label}.grad: " if rec.missing else ""
            chain.append(f"{head} = {' + '.join(terms_sym)}   ({grad_of}{value_text(g_arr)})")
    sections.append(("Chain rule: multiply along each path, add over paths", chain))

    # many paths: the gradient accumulated at each node, as the engine did it
    if not rec.missing and any(rec.path_count(key) > max_paths for key, _ in targets):
        acc = [f"{partial_symbol(out_name, names[node])} = {value_text(rec.grads[node])}"
               for node in rec.backward_order]
        sections.append(("Gradient accumulated at each node (the engine's order)", acc))

    # nudges
    if rec.missing:
        return Explanation(sections, grads, rec)
    nudges = []
    base = rec.values[rec.root] if rec.root is not None else _f64(rec.output._data)
    for key, label in targets:
        g = grads[label]
        if g is None:
            continue
        nudges.append(_nudge(rec, key, label, out_name, base, g))
    sections.append((f"Check: nudge each input by {NUDGE:g} and re-run the recorded graph "
                     "(float64)", nudges))
    return Explanation(sections, grads, rec)


def _missing_text(rec, out_name):
    m = rec.missing
    return (f"backward() has freed the values this graph saved, and a constant it needs (shape "
            f"{format_shape(m.shape)}, {m.size} values) is no longer there: the graph keeps constants "
            f"of up to {KEEP} values, and bigger ones only while your code still holds "
            f"them, unchanged. So only shapes, the paths and the leaves' .grad are shown, without "
            f"values, local derivatives or nudges. To see them: explain({out_name}) before "
            f"{out_name}.backward(), or call backward(retain_graph=True), or keep that tensor.")


def _symbolic(rec, paths):
    """The paths' products written with the registry's formulas: 2·s · 1 · x."""
    terms = []
    for path in paths:
        factors = []
        for node, i in path:
            f = local_formula(node, i, rec)
            if f is None:
                return None
            factors.append(f if re.fullmatch(r"[^+\- ]+|-?[\w.]+", f) else f"({f})")
        terms.append(" · ".join(factors))
    return " + ".join(terms)


def _targets(rec, wrt):
    """(key, name) of each input to explain: the leaves, or the tensors in ``wrt``."""
    if wrt is None:
        return [(id(leaf), rec.names[id(leaf)]) for leaf in rec.leaves]
    if isinstance(wrt, Tensor):
        wrt = [wrt]
    out = []
    for t in wrt:
        if t._grad_fn is not None and t._grad_fn in rec.names:
            out.append((t._grad_fn, rec.names[t._grad_fn]))
        elif id(t) in rec.names:
            out.append((id(t), rec.names[id(t)]))
        else:
            raise ValueError("explain(wrt=...): a tensor in wrt is not part of the output's graph")
    return out


def local_formula(node, i, rec):
    """∂node/∂input_i as the registry writes it, in the graph's names (``c`` for u = b·c)."""
    formulas = getattr(node.op, "formulas", ())
    if not formulas:
        return None
    f = formulas[0] if getattr(node.op, "nary", False) else formulas[i]
    if f is None:
        return None
    mapping = {"out": rec.names[node]}
    for j, n in zip(range(len(node.inputs)), "xyz"):
        mapping[n] = rec.name_of_input(node, j)
    return _fill(f, mapping)


def vjp_formula(node, i, rec):
    """The local VJP on edge ``i`` of ``node`` with the shapes it maps: g ↦ gᵀ·x ([4, 5] → [5, 3])."""
    texts = getattr(node.op, "vjp_texts", ())
    if texts and not getattr(node.op, "joint", False):
        t = texts[0] if node.op.nary else texts[i]
    else:
        t = f"g ↦ {node._name}'s backward()"
    mapping = {"out": rec.names[node]}
    for j, n in zip(range(len(node.inputs)), "xyz"):
        mapping[n] = rec.name_of_input(node, j)
    shapes = f"{format_shape(rec.shape(node))} → {format_shape(rec.shape(rec.key_of_input(node, i)))}"
    return f"{_fill(t, mapping)}   ({shapes})"


def value_text(g):
    """A gradient as the explainer writes it: a number, or its shape and norm."""
    g = xp.asarray(g, dtype=xp.float64)
    if g.size == 1:
        return format_number(g.reshape(()))
    return f"shape {format_shape(g.shape)}, ‖·‖ = {format_number(float(xp.sqrt((g * g).sum())))}"


def _nudge(rec, key, label, out_name, base, grad):
    """The lecture's check: move one input by NUDGE, re-run, and compare ΔJ/Δx with autograd."""
    start = xp.array(rec.values[key], dtype=xp.float64)
    # the entry autograd says matters most: nudging one whose gradient is 0 shows nothing
    flat_index = 0 if not isinstance(grad, B.ndarray) else int(xp.argmax(xp.abs(grad).reshape(-1)))
    moved = start.copy()
    moved.reshape(-1)[flat_index] += NUDGE
    vals = rec.replay({key: moved})
    after = vals[rec.root] if rec.root is not None else moved
    before_out, after_out = float(xp.sum(base)), float(xp.sum(after))
    slope = (after_out - before_out) / NUDGE
    g_here = float(grad) if not isinstance(grad, B.ndarray) else float(grad.reshape(-1)[flat_index])
    where = label if start.size == 1 else \
        f"{label}[{', '.join(map(str, xp.unravel_index(flat_index, start.shape)))}]"
    ok = abs(slope - g_here) <= 1e-2 * max(1.0, abs(g_here))
    mark = "✓" if ok else "✗"
    a, b = format_number(start.reshape(-1)[flat_index]), format_number(moved.reshape(-1)[flat_index])
    before, after = _distinct(before_out, after_out)
    slope_text = _slope(slope)
    text = (f"{where}: {a} → {b} moves {out_name}: {before} → {after}, "
            f"Δ{out_name}/Δ{where} = {slope_text}   {mark} autograd: {format_number(g_here)}")
    md = (f"${_latex(where)}: {a} \\to {b}$ moves ${out_name}: {before} \\to "
          f"{after}$, ${_latex(f'Δ{out_name}/Δ{where}')} = {slope_text}$ "
          f"{mark} autograd: {format_number(g_here)}")
    return text, md


def _distinct(before, after):
    """Two values with enough significant digits to see that they differ: 1.14637 → 1.14637
    hides a change that 1.146372 → 1.146378 shows."""
    a, b = format_number(before), format_number(after)
    digits = 6
    while a == b and before != after and digits < 17:
        digits += 1
        a, b = f"{before:.{digits}g}", f"{after:.{digits}g}"
    return a, b


def _slope(slope):
    """ΔJ/Δx as the lecture writes it (6.000), with significant digits when it is small."""
    if slope == 0 or abs(slope) >= 0.01:
        return f"{slope:.3f}"
    return f"{slope:.3g}"
