"""Drawing the graph: Graphviz DOT text, and pictures when Graphviz is installed.

>>> x = chainrule.tensor(2.0, requires_grad=True)
>>> J = 3 * x
>>> print(chainrule.viz.to_dot(J).splitlines()[0])   # DOT text: values, ops, local derivatives
digraph chainrule {
>>> drawing = chainrule.viz.draw(J)  # renders inline in Jupyter; drawing.save("graph.svg")

One box per value (its name, shape, value when small, and ∂output/∂value), one ellipse per op,
edges labelled with the local derivative where it is a number: micrograd's ``draw_dot`` and
torchviz's ``make_dot`` with the gradients on them.  The gradients and local derivatives come from
the same reverse pass the explainer uses (``explainer.Recording``).  Long chains of single-use
ops collapse into one box unless ``show_all=True``, so graphs of thousands of nodes still draw.
"""
import inspect
import re

from ._backend import xp
from .explainer import Recording, format_number, format_shape
from .graph import Node


def to_dot(output, names=None, *, module=None, show_all=False, max_nodes=200, rankdir="LR",
           _frame=None):
    """The graph behind ``output`` as Graphviz DOT text (deterministic, so it can be diffed).

    names: maps names to tensors (default: the caller's variable names).
    module: the ``nn.Module`` that computed ``output``: its parameters are named by their
    ``state_dict`` keys (``fc1.weight``) and the ops that read them are drawn inside one box per
    submodule (``fc1 (Linear)``).
    show_all: draw every node even in large graphs (by default, chains of single-use ops
    collapse into one box once the graph has more than ``max_nodes`` ops).
    """
    if module is not None:
        names = {**dict(module.named_parameters()), **(names or {})}
    frame = _frame or inspect.currentframe().f_back
    try:
        rec = Recording(output, names, frame)
    finally:
        del frame
    return _dot(rec, show_all, max_nodes, rankdir, _owners(module))


def _owners(module):
    """id(parameter) → the label of the submodule that holds it: ``fc1 (Linear)``."""
    owners = {}
    if module is not None:
        for path, m in module.named_modules():
            label = f"{path} ({type(m).__name__})" if path else type(m).__name__
            for p in m._parameters.values():
                if p is not None:
                    owners.setdefault(id(p), label)
    return owners


def _clusters(rec, ids, groups, owners):
    """DOT subgraphs gathering each submodule's parameters and the ops that read them."""
    members = {}
    for leaf in rec.leaves:
        if id(leaf) in owners:
            members.setdefault(owners[id(leaf)], []).append(ids[id(leaf)])
    for node in rec.forward:
        if node in groups:
            continue
        for e in node.next:         # a parameter is a leaf: the node's edge is the tensor itself
            if e is not None and type(e) is not Node and id(e) in owners:
                members.setdefault(owners[id(e)], []).extend([f"op{ids[node][1:]}", ids[node]])
                break
    lines = []
    for k, (label, nodes) in enumerate(members.items(), 1):
        lines += [f"  subgraph cluster_{k} {{",
                  f"    label=\"{_esc(label)}\"; style=rounded; color=\"#999999\";",
                  "    " + "; ".join(nodes) + ";", "  }"]
    return lines


def _dot(rec, show_all, max_nodes, rankdir, owners=None):
    ids = {}
    for k, leaf in enumerate(rec.leaves, 1):
        ids[id(leaf)] = f"leaf{k}"
    for k, node in enumerate(rec.forward, 1):
        ids[node] = f"v{k}"

    groups = {} if show_all or len(rec.forward) <= max_nodes else single_use_chains(rec)

    lines = ["digraph chainrule {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if rec.missing:             # after backward(), a big constant gone: say why there are no values
        lines.append(f'  labelloc=t; label="shapes only: backward() freed the values, and a '
                     f'constant of shape {_esc(format_shape(rec.missing.shape))} is gone (draw before '
                     f'backward(), or backward(retain_graph=True)); grads are the leaves\' .grad";')
    for leaf in rec.leaves:
        lines.append(f"  {ids[id(leaf)]} [shape=record, style=filled, fillcolor=\"#dbe9f6\", "
                     f"label=\"{_value_label(rec, id(leaf), rec.names[id(leaf)])}\"];")
    const_k = 0
    drawn_groups = set()
    for node in rec.forward:
        group = groups.get(node)
        if group is not None:
            first, last, members = group
            if first not in drawn_groups:
                drawn_groups.add(first)
                counts = {}
                for m in members:
                    counts[m._name] = counts.get(m._name, 0) + 1
                what = ", ".join(f"{_op_label(n)} ×{c}"
                                 for n, c in counts.items())
                gid = f"chain{ids[first][1:]}"
                lines.append(f"  {gid} [shape=box, style=\"rounded,dashed\", label=\"chain of "
                             f"{len(members)} ops\\n{_esc(what)}\"];")
                lines.append(f"  {ids[last]} [shape=record, label=\""
                             f"{_value_label(rec, last, rec.names[last])}\"];")
                lines.append(f"  {gid} -> {ids[last]};")
                for i, e in enumerate(first.next):
                    src = _source_id(rec, first, i, ids, groups)
                    if src is not None:
                        lines.append(f"  {src} -> {gid};")
            continue
        op_id = f"op{ids[node][1:]}"
        label = _op_label(node._name)
        lines.append(f"  {op_id} [shape=ellipse, label=\"{_esc(label)}\"];")
        lines.append(f"  {ids[node]} [shape=record, label=\""
                     f"{_value_label(rec, node, rec.names[node])}\"];")
        lines.append(f"  {op_id} -> {ids[node]};")
        for i in range(len(node.inputs)):
            src = _source_id(rec, node, i, ids, groups)
            if src is None:
                const_k += 1
                src = f"c{const_k}"
                lines.append(f"  {src} [shape=plaintext, fontcolor=\"#666666\", "
                             f"label=\"{_esc(rec.name_of_input(node, i))}\"];")
            edge = f"  {src} -> {op_id}"
            if node.next[i] is not None:
                d = rec.local_derivative(node, i)
                if d is not None:
                    edge += (f" [label=\"∂{_esc(rec.names[node])}/∂"
                             f"{_esc(rec.name_of_input(node, i))} = {format_number(d)}\"]")
            lines.append(edge + ";")
    if owners:
        lines += _clusters(rec, ids, groups, owners)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _source_id(rec, node, i, ids, groups):
    e = node.next[i]
    if type(e) is Node:
        g = groups.get(e)
        return ids[g[1]] if g is not None else ids[e]
    if e is not None:
        return ids[id(e)]
    return None


def single_use_chains(rec):
    """Maximal runs of ops where each feeds only the next and the next has only it as input."""
    consumers = {}
    for node in rec.forward:
        for e in node.next:
            if type(e) is Node:
                consumers[e] = consumers.get(e, 0) + 1
    graph_inputs = {node: sum(1 for e in node.next if e is not None) for node in rec.forward}
    groups, run = {}, []

    def close():
        if len(run) >= 3:
            entry = (run[0], run[-1], list(run))
            for m in run:
                groups[m] = entry
    prev = None
    for node in rec.forward:
        linked = (prev is not None and graph_inputs[node] == 1 and consumers.get(prev) == 1
                  and any(e is prev for e in node.next))
        if linked:
            run.append(node)
        else:
            close()
            run = [node]
        prev = node
    close()
    return groups


def _value_label(rec, key, name):
    parts = [_esc(name)]
    val = rec.values.get(key)
    if val is None:             # values unknown (see Recording.missing): the shape is
        parts.append(f"shape {format_shape(rec.shape(key))}")
    elif xp.size(val) == 1:
        parts.append(f"data {format_number(xp.reshape(val, ()))}")
    else:
        parts.append(f"shape {format_shape(xp.shape(val))}")
        if xp.size(val) <= 4:
            parts.append("data " + _esc(", ".join(format_number(v) for v in xp.reshape(val, -1))))
    g = rec.grads.get(key)
    if g is not None:
        g = xp.asarray(g)
        if g.size == 1:
            parts.append(f"grad {format_number(g.reshape(()))}")
        elif g.size <= 4:
            parts.append("grad " + _esc(", ".join(format_number(v) for v in g.reshape(-1))))
    return "{ " + " | ".join(parts) + " }"


def _op_label(backward_name):
    """MulBackward0 → Mul, PowBackward2 → Pow: the op a node's class is named after."""
    return re.sub(r"Backward\d*$", "", backward_name)


def _esc(s):
    s = str(s)
    for ch in "\\{}|<>\"":
        s = s.replace(ch, "\\" + ch)
    return s


class Drawing:
    """A drawn graph: shows inline in Jupyter (SVG) and saves as .svg, .png, .pdf or .dot."""

    def __init__(self, dot):
        self.dot = dot

    def __str__(self):
        return self.dot

    def _render(self, fmt):
        try:
            import graphviz
        except ImportError:
            raise ImportError(
                f"rendering a graph as {fmt} needs the graphviz Python package and Graphviz's "
                "'dot' program: pip install 'chainrule[viz]', and install Graphviz (apt install "
                "graphviz, brew install graphviz or conda install graphviz). Saving as .dot needs "
                "neither.") from None
        try:
            return graphviz.Source(self.dot).pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(
                f"rendering a graph as {fmt} needs Graphviz's 'dot' program on PATH: install "
                "Graphviz (apt install graphviz, brew install graphviz or conda install "
                "graphviz). Saving as .dot does not need it.") from None

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter's display: the SVG picture, or without Graphviz the DOT text in a code block
        with a line on what the picture needs."""
        try:
            return {"image/svg+xml": self._render("svg").decode()}
        except (ImportError, RuntimeError) as e:
            return {"text/markdown": f"```dot\n{self.dot}```\n\n*The picture needs Graphviz: {e}*",
                    "text/plain": self.dot}

    def __repr__(self):
        return (f"<chainrule.viz.Drawing: {self.dot.count(' -> ')} edges; .save('graph.svg'), "
                "or .dot for the Graphviz text>")

    def save(self, path):
        """Write the drawing; the format comes from the suffix (.svg, .png, .pdf or .dot)."""
        from ._files import atomic_write      # a failed save leaves an earlier drawing whole
        path = str(path)
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if fmt in ("dot", "gv"):
            with atomic_write(path, "w", encoding="utf-8") as f:
                f.write(self.dot)
            return path
        if fmt not in ("svg", "png", "pdf"):
            raise ValueError(f"save({path!r}): the suffix must be .svg, .png, .pdf or .dot")
        data = self._render(fmt)
        with atomic_write(path, "wb") as f:
            f.write(data)
        return path


def draw(output, names=None, *, module=None, show_all=False, max_nodes=200, rankdir="LR"):
    """Draw the graph behind ``output``: a ``Drawing`` (inline SVG in Jupyter, ``.save(path)``).
    The arguments are ``to_dot``'s; ``module=model`` boxes each submodule's ops."""
    frame = inspect.currentframe().f_back
    try:
        return Drawing(to_dot(output, names, module=module, show_all=show_all,
                              max_nodes=max_nodes, rankdir=rankdir, _frame=frame))
    finally:
        del frame


def stepper(output, path=None, names=None, *, show_all=False, max_nodes=200, title=None):
    """A self-contained web page that steps through the forward and backward pass of the graph
    behind ``output`` (see ``chainrule.stepper``): returns a ``Stepper``, inline in Jupyter;
    ``path=`` writes the page.  ``names``, ``show_all`` and ``max_nodes`` are ``to_dot``'s;
    ``title``: a line shown above the page's heading.

    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> page = chainrule.viz.stepper(3 * x, "steps.html")
    """
    from .stepper import Stepper
    if getattr(output, "_grad_fn", None) is None and getattr(output, "requires_grad", False):
        raise ValueError("stepper(): the output is a leaf tensor, with no recorded op to step "
                         "through; pass a value computed from tensors with requires_grad=True")
    frame = inspect.currentframe().f_back
    try:
        rec = Recording(output, names, frame)
    finally:
        del frame
    page = Stepper(rec, show_all=show_all, max_nodes=max_nodes, title=title)
    if path is not None:
        page.save(path)
    return page


__all__ = ["to_dot", "draw", "Drawing", "stepper"]
