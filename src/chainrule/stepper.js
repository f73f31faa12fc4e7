// chainrule's stepper: walks through the forward and the backward pass of one recorded graph.
// DATA (written by chainrule/stepper.py) holds the boxes ("units"), the edges, the steps and
// chainrule's numbers; LIVE, for a scalar graph of elementary ops, each node's forward and local
// derivatives as JavaScript, so that the page can recompute everything when an input changes.
"use strict";

// Numbers as chainrule prints them (explainer.format_number): 6, 33.006, -0.25, 1.5e-07.
function fmt(v) {
  if (typeof v !== "number") return v;            // a tensor's text: its shape and norm
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const [mantissa, e] = v.toExponential(5).split("e");
  const exp = parseInt(e, 10);                    // Python's %.6g: fixed unless exp < -4 or >= 6
  if (exp < -4 || exp >= 6) {
    const m = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
    return m + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  const s = v.toFixed(5 - exp);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

// a number inside a formula: 5 + (-6), not 5 + -6
function num(v) {
  return typeof v === "number" && v < 0 ? "(" + fmt(v) + ")" : fmt(v);
}

const units = DATA.units;
const edges = DATA.edges;
const out = DATA.output;
const d = (name) => "∂" + out + "/∂" + name;
const $ = (id) => document.getElementById(id);

// chainrule's numbers, replaced by the page's own when an input changes
const ORIGINAL = {
  values: units.map((u) => u.value),
  local: edges.map((e) => (e.local === undefined ? null : e.local)),
  backward: DATA.backward,
  checks: DATA.checks,
  seed: DATA.seed,
};
let NUM = ORIGINAL;

const steps = [{ kind: "start" }];
DATA.forward.forEach((u, k) => steps.push({ kind: "forward", unit: u, k }));
steps.push({ kind: "seed" });
DATA.backward.forEach((b, k) => steps.push({ kind: "backward", k }));
steps.push({ kind: "check" });
let current = 0;

// the backward step that gives each unit its last contribution (where the paths are summed up)
const lastStep = new Map();
DATA.backward.forEach((b, k) => lastStep.set(edges[b.edge].from, k));

// ---------------------------------------------------------------------------------------------
// The text of each step: words and numbers, so that it reads without the picture
// ---------------------------------------------------------------------------------------------

function listing(items) {
  if (items.length < 2) return items.join("");
  return items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
}

function describeInput(i) {
  const u = units[i];
  if (!u.scalar || NUM.values[i] === null) return u.name + " (shape " + u.shape + ")";
  return u.name + " = " + fmt(NUM.values[i]);
}

function startText() {
  const leaves = [], consts = [];
  units.forEach((u, i) => {
    if (u.kind === "leaf") leaves.push(describeInput(i));
    if (u.kind === "const" && u.named) consts.push(describeInput(i));
  });
  let s = "Start: the input" + (leaves.length > 1 ? "s " : " ") + listing(leaves);
  if (consts.length) s += ", and the constant" + (consts.length > 1 ? "s " : " ") + listing(consts);
  return s + ". Press → (Next) to run the forward pass.";
}

function forwardText(st) {
  const u = units[st.unit], v = NUM.values[st.unit];
  let s = "Forward pass, node " + (st.k + 1) + " of " + DATA.forward.length + ": " +
          u.name + " = " + u.show;
  if (u.scalar && v !== null) {
    if (u.template && u.inputs.every((i) => NUM.values[i] !== null)) {
      const filled = u.template.replace(/⟨(\d+)⟩/g, (_, i) => num(NUM.values[u.inputs[+i]]));
      if (filled !== fmt(v)) s += " = " + filled;
    }
    s += " = " + fmt(v) + ".";
  } else {
    s += ", a value of shape " + u.shape + (DATA.missing ? " (its values are gone)." : ".");
  }
  return s;
}

// after backward() freed the graph's values: what the leaves' .grad says
function leafGrads() {
  return Object.entries(DATA.leaf_grads).map(([u, g]) => d(units[u].name) + " = " + fmt(g));
}

function seedText() {
  const seed = NUM.seed;
  if (DATA.missing) {
    return "Backward pass: not available step by step, since backward() has freed the values. " +
           "The leaves' .grad: " + listing(leafGrads()) + ".";
  }
  if (typeof seed === "number") {
    return "Backward pass: it starts at the output with " + d(out) + " = " + fmt(seed) +
           " (a change in " + out + " changes " + out + " one for one).";
  }
  return "Backward pass: it starts at the output " + out + " with a gradient of ones (" + seed +
         "), as backward() does for the sum of its entries.";
}

function pathText(leaf) {
  const paths = DATA.paths[leaf];
  if (!paths || !paths.length) return "";
  if (!paths.every((p) => p.every((e) => typeof NUM.local[e] === "number"))) return "";
  const syms = paths.map((p) => p.map((e) => edges[e].sym).join(" · "));
  const nums = paths.map((p) => p.map((e) => fmt(NUM.local[e])).join(" · "));
  const total = paths.reduce((acc, p) => acc + p.reduce((m, e) => m * NUM.local[e], 1), 0);
  let s = " Along every path from " + out + ": " + d(units[leaf].name) + " = " +
          syms.join(" + ") + " = " + nums.join(" + ");
  if (paths.length > 1 || paths[0].length > 1) s += " = " + fmt(total);
  return s + ".";
}

function backwardText(st) {
  const b = NUM.backward[st.k], e = edges[b.edge];
  const to = units[e.to], from = units[e.from], local = NUM.local[b.edge];
  let s = "Backward pass, edge " + (st.k + 1) + " of " + NUM.backward.length + ": from " +
          to.name + " back to " + from.name + ". The gradient arriving at " + to.name + " is " +
          d(to.name) + " = " + fmt(b.up) + ". ";
  if (typeof local === "number") {
    s += "The local derivative on the edge: " + e.sym + " = " +
         (e.formula ? e.formula + " = " : "") + fmt(local) + ". Their product: " + d(to.name) +
         " · " + e.sym + " = " + num(b.up) + " · " + num(local) + " = " + fmt(b.contrib) + ".";
  } else {
    s += "The local derivative, applied as a vector-Jacobian product (no Jacobian is formed): " +
         e.sym + ": " + e.vjp + ". It gives " + fmt(b.contrib) + ".";
  }
  if (b.before === null) {
    s += " So " + d(from.name) + " = " + fmt(b.after) + ".";
  } else if (typeof b.after === "number") {
    s += " " + from.name + " already holds " + fmt(b.before) + " from another path: where " +
         "paths meet, their contributions add, so " + d(from.name) + " = " + fmt(b.before) +
         " + " + num(b.contrib) + " = " + fmt(b.after) + ".";
  } else {
    s += " " + from.name + " already holds a gradient from another path (" + b.before +
         "): where paths meet, their contributions add, so " + d(from.name) + " is now " +
         b.after + ".";
  }
  if (from.kind === "leaf" && lastStep.get(e.from) === st.k) s += pathText(e.from);
  return s;
}

function checkMark(c) {
  return Math.abs(c.fd - c.grad) <= 1e-3 * Math.max(1, Math.abs(c.grad)) ? "✓" : "✗";
}

function checkText() {
  if (DATA.missing) {
    return "Check: not available (" + DATA.missing + "). The leaves' .grad: " +
           listing(leafGrads()) + ".";
  }
  const h = fmt(DATA.nudge), h2 = fmt(2 * DATA.nudge);
  const parts = NUM.checks.map((c) => c.where + ": autograd " + fmt(c.grad) +
                                      ", finite difference " + fmt(c.fd) + " " + checkMark(c));
  return "Check: each input's gradient from the backward pass beside the finite difference (" +
         out + "(input + " + h + ") − " + out + "(input − " + h + ")) / " + h2 +
         ", re-running the graph in float64. " + parts.join("; ") + ".";
}

const PHASE = { start: "The graph", forward: "Forward pass", seed: "Backward pass",
                backward: "Backward pass", check: "Check" };

function stepText(st) {
  if (st.kind === "start") return startText();
  if (st.kind === "forward") return forwardText(st);
  if (st.kind === "seed") return seedText();
  if (st.kind === "backward") return backwardText(st);
  return checkText();
}

// ---------------------------------------------------------------------------------------------
// Drawing the current step: which values and gradients are known, what is active
// ---------------------------------------------------------------------------------------------

function render() {
  const st = steps[current];
  const forwardDone = st.kind === "start" ? 0 : st.kind === "forward" ? st.k + 1
                      : DATA.forward.length;
  const computed = new Set(DATA.forward.slice(0, forwardDone));
  const backwardDone = st.kind === "backward" ? st.k + 1
                       : st.kind === "check" ? NUM.backward.length : 0;
  const grad = new Map();
  if ((st.kind === "seed" || st.kind === "backward" || st.kind === "check") && !DATA.missing) {
    grad.set(DATA.root, NUM.seed);
  }
  if (DATA.missing && (st.kind === "seed" || st.kind === "check")) {
    for (const [u, g] of Object.entries(DATA.leaf_grads)) grad.set(+u, g);
  }
  const doneEdges = new Set();
  for (let k = 0; k < backwardDone; k++) {
    const b = NUM.backward[k];
    grad.set(edges[b.edge].from, b.after);
    doneEdges.add(b.edge);
  }
  const active = new Set(), activeEdges = new Set();
  if (st.kind === "forward") {
    active.add(st.unit);
    edges.forEach((e, i) => { if (e.to === st.unit) activeEdges.add(i); });
  } else if (st.kind === "backward") {
    const e = NUM.backward[st.k].edge;
    activeEdges.add(e);
    active.add(edges[e].to);
    active.add(edges[e].from);
  } else if (st.kind === "seed") {
    active.add(DATA.root);
  } else if (st.kind === "check") {
    NUM.checks.forEach((c) => active.add(c.unit));
  }
  units.forEach((u, i) => {
    const g = $("n" + i);
    const known = u.kind !== "op" && u.kind !== "chain" || computed.has(i);
    g.classList.toggle("pending", !known);
    g.classList.toggle("active", active.has(i));
    if (u.kind === "const") return;
    const v = NUM.values[i];
    $("n" + i + "-value").textContent = !known ? "" :
      (u.scalar && v !== null ? "= " + fmt(v) : "shape " + u.shape);
    const gv = grad.get(i);
    const norm = (text) => text.replace(/^shape \[[^\]]*\], /, "");   // the box shows the shape
    $("n" + i + "-grad").textContent = gv === undefined ? "" :
      d(u.name) + (typeof gv === "number" ? " = " + fmt(gv) : ": " + norm(gv));
  });
  edges.forEach((e, i) => {
    const g = $("e" + i);
    g.classList.toggle("active", activeEdges.has(i));
    g.classList.toggle("done", doneEdges.has(i));
    const local = NUM.local[i];
    $("e" + i + "-label").textContent = !(doneEdges.has(i) || (activeEdges.has(i) &&
      st.kind === "backward")) ? "" : (typeof local === "number" ? "×" + fmt(local) : "VJP");
  });
  $("counter").textContent = "Step " + (current + 1) + " of " + steps.length;
  $("phase").textContent = PHASE[st.kind];
  $("step-text").textContent = stepText(st);
  $("first").disabled = $("back").disabled = current === 0;
  $("next").disabled = $("last").disabled = current === steps.length - 1;
  renderChecks(st.kind === "check");
}

function renderChecks(show) {
  $("check").hidden = !show;
  if (!show) return;
  const rows = $("check-rows");
  rows.textContent = "";
  for (const c of NUM.checks) {
    const tr = document.createElement("tr");
    for (const text of [c.where, fmt(c.grad), fmt(c.fd), checkMark(c)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    rows.appendChild(tr);
  }
}

function go(k) {
  current = Math.max(0, Math.min(steps.length - 1, k));
  render();
}

$("first").addEventListener("click", () => go(0));
$("back").addEventListener("click", () => go(current - 1));
$("next").addEventListener("click", () => go(current + 1));
$("last").addEventListener("click", () => go(steps.length - 1));
document.addEventListener("keydown", (ev) => {
  if (ev.target instanceof HTMLInputElement) return;   // arrows there change the number
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0,
                  End: steps.length - 1 };
  if (ev.key in moves && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    go(moves[ev.key]);
  }
});

// ---------------------------------------------------------------------------------------------
// Live inputs (scalar graphs of elementary ops): re-run the forward and the backward pass here
// ---------------------------------------------------------------------------------------------

function runForward(values) {
  const v = values.slice();
  for (const [u, f] of LIVE.forward) v[u] = f(v);
  return v;
}

function recompute(inputs) {
  const start = ORIGINAL.values.slice();
  for (const [u, x] of inputs) start[u] = x;
  const v = runForward(start);
  const local = edges.map((e, j) => (j in LIVE.local ? LIVE.local[j](v) : null));
  const acc = new Map([[DATA.root, 1]]);
  const backward = DATA.backward.map((b) => {
    const e = edges[b.edge];
    const up = acc.get(e.to), contrib = up * local[b.edge];
    const before = acc.has(e.from) ? acc.get(e.from) : null;
    const after = before === null ? contrib : before + contrib;
    acc.set(e.from, after);
    return { edge: b.edge, up, contrib, before, after };
  });
  const h = DATA.nudge;
  const checks = DATA.checks.map((c) => {
    const plus = start.slice(), minus = start.slice();
    plus[c.unit] += h;
    minus[c.unit] -= h;
    const fd = (runForward(plus)[DATA.root] - runForward(minus)[DATA.root]) / (2 * h);
    return { unit: c.unit, where: c.where, grad: acc.get(c.unit), fd };
  });
  return { values: v, local, backward, checks, seed: 1 };
}

const inputs = new Map();         // unit → its current value

function setInput(u, x, from) {
  inputs.set(u, x);
  if (from !== "number") $("in-" + u).value = String(x);
  if (from !== "range") $("range-" + u).value = String(x);
  NUM = recompute(inputs);
  render();
}

function buildInputs() {
  const rows = $("input-rows");
  units.forEach((u, i) => {
    if (u.kind !== "leaf") return;
    const x = u.value, span = 2 * Math.max(1, Math.abs(x));
    const row = document.createElement("div");
    row.className = "input-row";
    row.innerHTML = '<label for="in-' + i + '"></label><input type="number" step="any" id="in-' +
      i + '"><input type="range" id="range-' + i + '" aria-label="">';
    row.querySelector("label").textContent = u.name;
    const box = row.querySelector("#in-" + i), range = row.querySelector("#range-" + i);
    box.value = String(x);
    range.min = String(x - span);
    range.max = String(x + span);
    range.step = String(span / 100);
    range.value = String(x);
    range.setAttribute("aria-label", u.name + " (slider)");
    box.addEventListener("input", () => {
      const y = parseFloat(box.value);
      if (Number.isFinite(y)) setInput(i, y, "number");
    });
    range.addEventListener("input", () => setInput(i, parseFloat(range.value), "range"));
    rows.appendChild(row);
  });
  $("reset").addEventListener("click", () => {
    units.forEach((u, i) => { if (u.kind === "leaf") setInput(i, u.value); });
    inputs.clear();
    NUM = ORIGINAL;
    render();
  });
  $("inputs").hidden = false;
}

if (DATA.live) buildInputs();
render();

// for tests and for the curious: the steps, the numbers shown, and a way to move
window.chainruleStepper = {
  steps: steps.map((s) => s.kind),
  go,
  get current() { return current; },
  numbers: () => NUM,
  recompute: (pairs) => recompute(new Map(pairs)),
};
