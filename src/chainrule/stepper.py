"""``chainrule.viz.stepper``: back-propagation, one step at a time, in one self-contained web page.

>>> a, b, c = (chainrule.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
>>> J = 3 * (a + b * c)
>>> page = chainrule.viz.stepper(J, "lecture.html")   # open it in a browser; inline in Jupyter
>>> page.steps[:3], page.live
(['start', 'forward', 'forward'], True)

The page draws the graph in columns, as ``viz`` draws it (inputs on the left, the output on the
right), then steps through: the forward pass node by node; the backward pass edge by edge, each
step the gradient arriving at a node times the local derivative on the edge (formula and number),
added where paths meet; and a closing check of every input's gradient against a central finite
difference.  Next/Back buttons and the arrow keys (Home, End) move; a line of text (read out by
screen readers) states each step in words and numbers.  For scalar graphs of elementary ops a
number box per input re-runs the whole computation in the page's JavaScript.

Everything the page shows comes from the explainer's ``Recording`` (the engine's one reverse pass
and its float64 replay of the forward); Python lays the graph out and writes the SVG.  The page's
own code is ``stepper.js`` and ``stepper.css`` beside this file, inlined into every page, plus one
generated block: for live graphs, each node's forward and local derivatives as JavaScript
expressions (``JS_OPS`` below), printed in the page where a student can read them.
"""
import html
import json
import pathlib

from ._backend import xp
from .explainer import (format_number, format_shape, forward_formula, local_formula,
                        partial_symbol, value_text, vjp_formula)
from .graph import Freed, FreedConstant
from .tensor import Tensor
from .viz import single_use_chains

HERE = pathlib.Path(__file__).parent
NUDGE = 1e-3            # the closing check moves each input by ±NUDGE (central difference)

# op → (forward, (local derivative per input)) in JavaScript, written in {x}, {y} (the inputs) and
# {out} (the op's value): what lets the page recompute a scalar graph when an input changes.  Each
# follows the op's rule in ops/elementwise.py, special cases included (d/dx x**0 = 0, relu'(0) = 0).
JS_OPS = {
    "add": ("{x} + {y}", ("1", "1")),
    "sub": ("{x} - {y}", ("1", "-1")),
    "rsub": ("{y} - {x}", ("-1", "1")),
    "mul": ("{x} * {y}", ("{y}", "{x}")),
    "div": ("{x} / {y}", ("1 / {y}", "-{x} / ({y} * {y})")),
    "pow": ("Math.pow({x}, {y})", ("{y} === 0 ? 0 : {y} * Math.pow({x}, {y} - 1)",
                                   "{x} === 0 && {y} >= 0 ? 0 : {out} * Math.log({x})")),
    "neg": ("-{x}", ("-1",)),
    "exp": ("Math.exp({x})", ("{out}",)),
    "log": ("Math.log({x})", ("1 / {x}",)),
    "sqrt": ("Math.sqrt({x})", ("1 / (2 * {out})",)),
    "reciprocal": ("1 / {x}", ("-{out} * {out}",)),
    "tanh": ("Math.tanh({x})", ("1 - {out} * {out}",)),
    "sigmoid": ("1 / (1 + Math.exp(-{x}))", ("{out} * (1 - {out})",)),
    "relu": ("Math.max({x}, 0)", ("{out} <= 0 ? 0 : 1",)),
    "sin": ("Math.sin({x})", ("Math.cos({x})",)),
    "cos": ("Math.cos({x})", ("-Math.sin({x})",)),
    "abs": ("Math.abs({x})", ("Math.sign({x})",)),
}

# layout, in SVG pixels: monospace text of FONT px is about CHAR px a character
FONT, CHAR, LINE = 13, 7.9, 17
COL_GAP, ROW_GAP, PAD = 78, 22, 16


class Stepper:
    """The stepping page for one recorded graph: made by ``chainrule.viz.stepper(output)`` or
    ``chainrule.explain(output).to_html()``.

    ``html`` is the page; ``steps`` the kind of each step ('start', 'forward', 'seed', 'backward',
    'check'); ``live`` whether the page can recompute when an input changes; ``data`` what the
    page's script reads (numbers, texts, the layout).
    """

    def __init__(self, recording, *, show_all=False, max_nodes=200, title=None):
        rec = recording
        if rec.root is None:
            raise ValueError("stepper(): the output is a leaf tensor, with no recorded op to step "
                             "through; pass a value computed from tensors with requires_grad=True")
        groups = {} if show_all or len(rec.forward) <= max_nodes else single_use_chains(rec)
        self.data, self.live_code = _build(rec, groups, title)
        self.live = self.live_code is not None
        self.steps = (["start"] + ["forward"] * len(self.data["forward"]) + ["seed"]
                      + ["backward"] * len(self.data["backward"]) + ["check"])

    @property
    def html(self):
        return _page(self.data, self.live_code)

    def save(self, path):
        """Write the page to ``path`` (atomically: a failed save leaves an earlier file whole)."""
        from ._files import atomic_write
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return str(path)

    def _repr_html_(self):
        """Jupyter: the same page in an iframe, so that its keys and styles stay its own."""
        height = int(self.data["height"]) + 330
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; '
                f'height: {height}px; border: 1px solid #ddd" title="chainrule stepper: '
                f'{html.escape(self.data["title"] or self.data["output"])}"></iframe>')

    def __repr__(self):
        return (f"<chainrule.viz.Stepper: {self.data['output']}, {len(self.steps)} steps"
                f"{', live inputs' if self.live else ''}; .save('steps.html')>")


# =========================================================================================
# What the page shows: units (boxes), edges, steps, checks
# =========================================================================================

def _quantity(a):
    """A number (scalar) or, for a tensor, the explainer's text: shape and norm."""
    a = xp.asarray(a, dtype=xp.float64)
    return float(a.reshape(())) if a.size == 1 else value_text(a)


def _build(rec, groups, title):
    names = rec.names
    out_name = names[rec.root]
    units, unit_of, edges = [], {}, []

    def add(key, **u):
        unit_of[key] = len(units)
        units.append(u)
        return len(units) - 1

    def value_of(key):
        return None if rec.missing else rec.values[key]

    def describe(key, shape):
        v = value_of(key)
        scalar = len(shape) == 0 or xp.prod(shape) == 1
        return {"scalar": bool(scalar), "shape": format_shape(shape),
                "value": float(xp.reshape(v, ())) if (v is not None and scalar) else None}

    for leaf in rec.leaves:
        add(id(leaf), kind="leaf", name=names[id(leaf)], show="", **describe(id(leaf),
                                                                             rec.shape(id(leaf))))
    consts = {}
    # op units (a collapsed chain is one unit, at its last node), then their input edges
    forward = []
    for node in rec.forward:
        group = groups.get(node)
        if group is not None:
            first, last, members = group
            if node is not last:
                continue
            counts = {}
            for m in members:
                counts[m.op.name] = counts.get(m.op.name, 0) + 1
            what = ", ".join(f"{n} ×{c}" for n, c in counts.items())
            u = add(last, kind="chain", name=names[last],
                    show=f"chain of {len(members)} ops: {what}", **describe(last, rec.shape(last)))
            for m in members:
                unit_of[m] = u
            entry = first
        else:
            u = add(node, kind="op", name=names[node], show=forward_formula(node, rec),
                    **describe(node, rec.shape(node)))
            entry = node
        forward.append(u)
        _input_edges(rec, entry, node, u, units, unit_of, consts, edges, group)
        if group is None and units[u]["scalar"] and not rec.missing:
            _number_template(rec, node, units[u], edges)

    backward = _backward_steps(rec, groups, unit_of, edges)
    data = {"title": title, "output": out_name, "units": units, "edges": edges,
            "forward": forward, "backward": backward, "root": unit_of[rec.root],
            "seed": _quantity(rec.grads[rec.root]) if rec.root in rec.grads else None,
            "checks": [] if rec.missing else _checks(rec, unit_of),
            "paths": _paths(rec, groups, unit_of, edges),
            "missing": None if not rec.missing else
            f"backward() has freed the values, and a constant of shape "
            f"{format_shape(rec.missing.shape)} is gone: only shapes and the leaves' .grad are "
            f"shown (make the page before backward(), or call backward(retain_graph=True))",
            "nudge": NUDGE,
            # after backward() freed the graph: the leaves' .grad is all that is known
            "leaf_grads": {unit_of[k]: _quantity(g) for k, g in rec.grads.items()
                           if rec.missing and k in unit_of}}
    live = None if (groups or rec.missing) else _live_code(rec, units, unit_of, edges)
    data["live"] = live is not None
    _layout(data)
    return data, live


def _constant_key(node, i):
    v = node.inputs[i]
    if isinstance(v, Tensor):
        return ("tensor", id(v))
    if isinstance(v, FreedConstant) and v.tensor() is not None:
        return ("tensor", id(v.tensor()))
    return ("number", id(node), i)


def _input_edges(rec, entry, node, u, units, unit_of, consts, edges, group):
    """One edge per input of ``entry`` (the node, or a chain's first node) into unit ``u``."""
    names = rec.names
    counts = {}
    for i in range(len(entry.inputs)):
        k = rec.key_of_input(entry, i)
        if k is not None:
            counts[k] = counts.get(k, 0) + 1
    top = names[node]
    for i, e in enumerate(entry.next):
        if e is None:
            key = _constant_key(entry, i)
            if key not in consts:
                label = rec.name_of_input(entry, i)
                value = None if rec.missing else rec.input_value(entry, i)
                shape = xp.shape(value) if value is not None else (
                    entry.inputs[i].shape if isinstance(entry.inputs[i], (Tensor, Freed)) else ())
                scalar = len(shape) == 0 or xp.prod(shape) == 1
                num = float(xp.reshape(xp.asarray(value, dtype=xp.float64), ())) \
                    if (value is not None and scalar) else None
                consts[key] = len(units)
                units.append({"kind": "const", "name": label, "show": "", "scalar": bool(scalar),
                              "shape": format_shape(shape), "value": num,
                              "named": num is None or label != format_number(num)})
            src = consts[key]
            edges.append({"from": src, "to": u, "grad": False, "sym": None})
            continue
        src = unit_of[rec.key_of_input(entry, i)]
        key = rec.key_of_input(entry, i)
        slot = i + 1 if counts[key] > 1 else None
        edge = {"from": src, "to": u, "grad": True,
                "sym": partial_symbol(top, rec.name_of_input(entry, i), slot),
                "node": (entry, i)}
        if group is not None:
            d = _chain_local(rec, group, i)
            edge.update(formula=f"the product of the chain's {len(group[2])} local derivatives",
                        local=d, vjp=None if d is not None else
                        f"g ↦ the chain's {len(group[2])} VJPs, one after another")
        else:
            d = None if rec.missing else rec.local_derivative(entry, i)
            f = local_formula(entry, i, rec)
            shown = f if f is not None and (d is None or f != format_number(d)) else None
            edge.update(formula=shown, local=d,
                        vjp=None if d is not None else vjp_formula(entry, i, rec))
        edges.append(edge)


def _chain_local(rec, group, i):
    """A collapsed chain's local derivative (from its first node's input i), for scalars."""
    first, last, members = group
    if rec.missing:
        return None
    d = rec.local_derivative(first, i)
    prev = first
    for m in members[1:]:
        if d is None:
            return None
        j = next(k for k, e in enumerate(m.next) if e is prev)
        dm = rec.local_derivative(m, j)
        d = None if dm is None else d * dm
        prev = m
    return d


PLACE = "⟨{}⟩"


def _number_template(rec, node, unit, edges):
    """The forward formula with a placeholder per input, for the page to put numbers in."""
    n = len(node.inputs)
    mine = edges[-n:]                   # _input_edges has just added them, in input order
    unit["template"] = forward_formula(node, rec, [PLACE.format(i) for i in range(n)])
    unit["inputs"] = [e["from"] for e in mine]


def _backward_steps(rec, groups, unit_of, edges):
    """One step per gradient edge, in the order the engine's pass ran them."""
    by_node = {}
    for k, e in enumerate(edges):
        if e["grad"]:
            by_node.setdefault(e["node"][0], []).append(k)
    steps, acc = [], {}
    for node in rec.backward_order:
        group = groups.get(node)
        if group is not None and node is not group[1]:
            continue
        entry = group[0] if group is not None else node
        for k in by_node.get(entry, []):
            edge = edges[k]
            contrib = rec.vjp_results.get(edge["node"])
            if contrib is None:
                continue
            src = edge["from"]
            before = acc.get(src)
            after = contrib if before is None else before + contrib
            acc[src] = after
            steps.append({"edge": k, "up": _quantity(rec.grads[node]),
                          "contrib": _quantity(contrib),
                          "before": None if before is None else _quantity(before),
                          "after": _quantity(after)})
    for e in edges:
        e.pop("node", None)
    return steps


def _paths(rec, groups, unit_of, edges):
    """For each scalar leaf: every path from the output, as edge indices (at most 4 paths)."""
    if groups:
        return {}
    index = {}
    for k, e in enumerate(edges):
        if e["grad"]:
            index[(e["to"], e["from"], e["sym"])] = k
    found = {}
    for leaf in rec.leaves:
        if rec.path_count(id(leaf)) > 4:
            continue
        paths = []
        for path in rec.paths(id(leaf)):
            ks = []
            for node, i in path:
                counts = sum(1 for j in range(len(node.inputs))
                             if rec.key_of_input(node, j) == rec.key_of_input(node, i))
                sym = partial_symbol(rec.names[node], rec.name_of_input(node, i),
                                     i + 1 if counts > 1 else None)
                ks.append(index[(unit_of[node], unit_of[rec.key_of_input(node, i)], sym)])
            paths.append(ks)
        found[unit_of[id(leaf)]] = paths
    return found


def _checks(rec, unit_of):
    """Each input's gradient beside a central difference, re-running the graph in float64."""
    checks = []
    for leaf in rec.leaves:
        key = id(leaf)
        g = rec.grads.get(key)
        if g is None:
            continue
        g = xp.asarray(g, dtype=xp.float64)
        flat = int(xp.argmax(xp.abs(g).reshape(-1)))       # the entry that matters most
        start = xp.array(rec.values[key], dtype=xp.float64)
        moved = []
        for sign in (1, -1):
            m = start.copy()
            m.reshape(-1)[flat] += sign * NUDGE
            vals = rec.replay({key: m})
            moved.append(float(xp.sum(vals[rec.root])))
        where = rec.names[key] if start.size == 1 else \
            f"{rec.names[key]}[{', '.join(map(str, xp.unravel_index(flat, start.shape)))}]"
        checks.append({"unit": unit_of[key], "where": where,
                       "grad": float(g.reshape(-1)[flat]),
                       "fd": (moved[0] - moved[1]) / (2 * NUDGE)})
    return checks


def _live_code(rec, units, unit_of, edges):
    """JavaScript for every node's value and local derivatives, or None when the graph is not
    a scalar graph of the ops in JS_OPS."""
    if not all(u["scalar"] for u in units):
        return None
    lines = ["// generated by chainrule.stepper from the recorded graph: v[k] is box k's value",
             "const LIVE = {", "  forward: ["]
    local_lines = []
    into = {}
    for j, e in enumerate(edges):
        into.setdefault(e["to"], []).append(j)
    for node in rec.forward:
        op = JS_OPS.get(node.op.name)
        if op is None or node.params:
            return None
        k = unit_of[node]
        fill = {"out": f"v[{k}]"}
        for i, n in zip(range(len(node.inputs)), "xy"):
            e = node.next[i]
            if e is not None:
                fill[n] = f"v[{unit_of[rec.key_of_input(node, i)]}]"
            else:
                c = float(xp.reshape(xp.asarray(rec.input_value(node, i), dtype=xp.float64), ()))
                fill[n] = f"({c!r})" if c < 0 else repr(c)
        if len(node.inputs) != len(op[1]):
            return None
        code = op[0].format(**fill)
        lines.append(f"    [{k}, (v) => {code}],   // {units[k]['name']} = {units[k]['show']}")
        for i, j in enumerate(into[k]):
            if edges[j]["grad"]:
                local_lines.append(f"    {j}: (v) => {op[1][i].format(**fill)},   // "
                                   f"{edges[j]['sym']}")
    lines += ["  ],", "  local: {"] + local_lines + ["  },", "};"]
    return "\n".join(lines)


# =========================================================================================
# Layout: columns as viz draws them (inputs left, output right), rows ordered by barycentres
# =========================================================================================

def _box_lines(data, u):
    unit, out = data["units"][u], data["output"]
    name = unit["name"]
    if unit["kind"] == "const":
        return [name if not unit["named"] else
                f"{name} = {format_number(unit['value'])}" if unit["value"] is not None
                else f"{name}: {unit['shape']}"]
    head = name if not unit["show"] else f"{name} = {_short(unit['show'])}"
    value = "= -0.123457" if unit["scalar"] else f"shape {unit['shape']}"      # room for 6 digits
    grad = f"∂{out}/∂{name} = -0.123457" if unit["scalar"] else f"∂{out}/∂{name}: ‖·‖ = 0.123457"
    return [head, value, grad]


def _short(s, n=30):
    return s if len(s) <= n else s[:n - 1] + "…"


def _layout(data):
    units, edges = data["units"], data["edges"]
    preds = {u: [] for u in range(len(units))}
    succs = {u: [] for u in range(len(units))}
    for e in edges:
        preds[e["to"]].append(e["from"])
        succs[e["from"]].append(e["to"])
    col = {}
    for u in data["forward"]:           # an op one column right of its deepest op input
        col[u] = 1 + max([col[p] for p in preds[u] if p in col] or [0])
    for u, unit in enumerate(units):    # inputs and constants just left of their first use
        if u not in col:
            col[u] = min([col[s] for s in succs[u]] or [1]) - 1
    low = min(col.values())
    columns = {}
    for u in range(len(units)):
        columns.setdefault(col[u] - low, []).append(u)
    n_cols = max(columns) + 1
    for c in range(n_cols):
        columns.setdefault(c, [])
    pos = {}

    def place(c):
        members = columns[c]
        for k, u in enumerate(members):
            pos[u] = k - (len(members) - 1) / 2

    for c in range(n_cols):
        place(c)
    for _ in range(4):                  # barycentre sweeps: fewer crossings, deterministic
        for c in list(range(1, n_cols)) + list(range(n_cols - 2, -1, -1)):
            near = preds if c > 0 else succs
            members = columns[c]
            keyed = [(sum(pos[p] for p in near[u]) / len(near[u]) if near[u] else pos[u], k, u)
                     for k, u in enumerate(members)]
            columns[c] = [u for _, _, u in sorted(keyed)]
            place(c)
    sizes = {}
    for u in range(len(units)):
        lines = _box_lines(data, u)
        w = max(len(s) for s in lines) * CHAR + 2 * 10
        h = len(lines) * LINE + 12 if len(lines) > 1 else LINE + 8
        sizes[u] = (max(w, 40 if units[u]["kind"] == "const" else 96), h)
    widths = [max([sizes[u][0] for u in columns[c]] or [0]) for c in range(n_cols)]
    heights = [sum(sizes[u][1] for u in columns[c]) + ROW_GAP * (len(columns[c]) - 1)
               for c in range(n_cols)]
    total_h = max(heights) + 2 * PAD
    x = PAD
    for c in range(n_cols):
        y = PAD + (total_h - 2 * PAD - heights[c]) / 2
        for u in columns[c]:
            w, h = sizes[u]
            units[u].update(x=round(x + (widths[c] - w) / 2, 1), y=round(y, 1), w=round(w, 1),
                            h=h, lines=len(_box_lines(data, u)))
            y += h + ROW_GAP
        x += widths[c] + COL_GAP
    data["width"] = round(x - COL_GAP + PAD, 1)
    data["height"] = round(total_h, 1)


# =========================================================================================
# The page
# =========================================================================================

def _svg(data):
    out = [f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {data["width"]} '
           f'{data["height"]}" width="{data["width"]}" height="{data["height"]}" role="img" '
           f'aria-label="the computation graph of {html.escape(data["output"])}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
           'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
           '<path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    units = data["units"]
    for k, e in enumerate(data["edges"]):
        a, b = units[e["from"]], units[e["to"]]
        x1, y1 = a["x"] + a["w"], a["y"] + a["h"] / 2
        x2, y2 = b["x"], b["y"] + b["h"] / 2
        mx = (x1 + x2) / 2
        cls = "edge" + ("" if e["grad"] else " const")
        out.append(f'<g id="e{k}" class="{cls}"><path d="M {x1:.1f} {y1:.1f} C {mx:.1f} {y1:.1f}, '
                   f'{mx:.1f} {y2:.1f}, {x2 - 1:.1f} {y2:.1f}" marker-end="url(#arrow)"/>'
                   f'<text class="elabel" id="e{k}-label" x="{mx:.1f}" y="{(y1 + y2) / 2 - 5:.1f}" '
                   f'text-anchor="middle"></text></g>')
    for k, u in enumerate(units):
        lines = _box_lines(data, k)
        title = html.escape(f"{u['name']} = {u['show']}" if u["show"] else u["name"])
        out.append(f'<g id="n{k}" class="unit {u["kind"]}"><title>{title}</title>'
                   f'<rect x="{u["x"]}" y="{u["y"]}" width="{u["w"]}" height="{u["h"]}" rx="6"/>')
        tx = u["x"] + 10
        if u["kind"] == "const":
            out.append(f'<text x="{tx}" y="{u["y"] + LINE}">{html.escape(lines[0])}</text></g>')
            continue
        out.append(f'<text class="head" x="{tx}" y="{u["y"] + LINE + 2}">'
                   f'{html.escape(lines[0])}</text>'
                   f'<text class="value" id="n{k}-value" x="{tx}" y="{u["y"] + 2 * LINE + 2}">'
                   f'</text><text class="grad" id="n{k}-grad" x="{tx}" '
                   f'y="{u["y"] + 3 * LINE + 2}"></text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _script_json(obj):
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


def _page(data, live_code):
    css = (HERE / "stepper.css").read_text(encoding="utf-8")
    js = (HERE / "stepper.js").read_text(encoding="utf-8")
    title = html.escape(data["output"])
    heading, page_title = "", f"Back-propagation through {title}, step by step (chainrule)"
    if data["title"] is not None:           # a line above the heading: the tour's section
        heading = f'<p class="title">{html.escape(data["title"])}</p>\n'
        page_title = f"{html.escape(data['title'])}: {page_title}"
    missing = "" if not data["missing"] else \
        f'<p class="missing">Shapes only: {html.escape(data["missing"])}.</p>\n'
    live = "" if live_code is None else f"<script>\n{live_code}\n</script>\n"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{page_title}</title>
<style>
{css}</style>
</head>
<body>
<header>
{heading}<h1>Back-propagation through <span class="name">{title}</span>, step by step</h1>
<p class="how">Next/Back or the arrow keys → ←, Home and End for the first and last step.
Made by <code>chainrule.viz.stepper</code>.</p>
</header>
<nav class="controls" aria-label="steps">
<button id="first" type="button" title="first step (Home)">« First</button>
<button id="back" type="button" title="previous step (←)">← Back</button>
<span id="counter" aria-hidden="true"></span>
<button id="next" type="button" title="next step (→)">Next →</button>
<button id="last" type="button" title="last step (End)">Last »</button>
</nav>
{missing}<p id="phase"></p>
<p id="step-text" role="status" aria-live="polite"></p>
<div id="picture">
{_svg(data)}
</div>
<section id="check" hidden>
<h2>Check: autograd beside finite differences</h2>
<table><thead><tr><th>input</th><th>autograd</th><th>finite difference</th><th></th></tr></thead>
<tbody id="check-rows"></tbody></table>
</section>
<section id="inputs" hidden>
<h2>Change an input</h2>
<p>Every value, local derivative and gradient on the page is recomputed as you type (in
JavaScript, float64).</p>
<div id="input-rows"></div>
<button id="reset" type="button">Reset the inputs</button>
</section>
<script>
const DATA = {_script_json(data)};
</script>
{live}<script>
{js}</script>
</body>
</html>
"""


__all__ = ["Stepper"]
