"""From the workers' results to the Markdown table, the memory table and the target verdicts.

Every ratio is chainrule's median divided by another engine's median from the same run.
"""
from dataclasses import dataclass

from bench import CASES, ENGINES

MIB_PER_GIB = 1024
BUSY = 0.5       # a load average above this many per usable CPU: the run was not alone


@dataclass(frozen=True)
class Target:
    case: str
    text: str               # as the table prints it
    kind: str               # "time": chainrule / other; "scaling": this case / base case;
    #                         "memory": peak RSS chainrule / other; "memory_mib": chainrule's MiB;
    #                         "graph": MiB held before backward, chainrule / other
    limit: float
    other: str = ""         # the engine (time, memory) or the case (scaling) compared with
    strict: bool = False    # "<" rather than "≤"
    stretch: bool = False   # reported, not counted as missed


TARGETS = [
    Target("W1", "≤ 0.25× PyTorch", "time", 0.25, "torch"),
    Target("W1", "stretch: ≤ micrograd", "time", 1.0, "micrograd", stretch=True),
    Target("W2", "≤ 0.5× PyTorch", "time", 0.5, "torch"),
    Target("W2", "≤ 1.5× NumPy", "time", 1.5, "numpy"),
    Target("W1c", "≤ 2.5× NumPy (issue #14)", "time", 2.5, "numpy"),
    Target("W2c", "≤ 1.3× NumPy (issue #14)", "time", 1.3, "numpy"),
    Target("W3c", "≤ 1.02× NumPy (issue #14)", "time", 1.02, "numpy"),
    Target("W4c-10k", "≤ 0.5× PyTorch (W4's target)", "time", 0.5, "torch"),
    Target("W5c", "≤ 1.2× NumPy (issue #14)", "time", 1.2, "numpy"),
    Target("W3", "≤ 1.05× NumPy", "time", 1.05, "numpy"),
    Target("W4-10k", "≤ 0.5× PyTorch", "time", 0.5, "torch"),
    Target("W4-200k", "≤ 0.5× PyTorch", "time", 0.5, "torch"),
    Target("W4-200k", "≤ 22× the 10k time", "scaling", 22.0, "W4-10k"),
    Target("W5", "≤ 1.2× NumPy", "time", 1.2, "numpy"),
    Target("W6", "≤ 3× PyTorch", "time", 3.0, "torch"),
    Target("W6c", "≤ 1.3× NumPy (issue #14)", "time", 1.3, "numpy"),
    Target("W8", "≤ 1.5× PyTorch", "time", 1.5, "torch"),
    Target("W8c", "≤ 1.0× PyTorch (issue #14)", "time", 1.0, "torch"),
    Target("W3", "peak RSS ≤ 1.25× NumPy", "memory", 1.25, "numpy"),
    Target("W4-200k", "peak RSS < 1 GiB", "memory_mib", MIB_PER_GIB, strict=True),
    *(Target(case, "≤ 1.25× PyTorch", "graph", 1.25, "torch")
      for case in ("W7-add", "W7-tanh", "W7-MLP", "W7-CNN")),
]


def index(results):
    """{(case, engine): result}"""
    return {(r["case"], r["engine"]): r for r in results}


def _value(by, case, engine, key):
    r = by.get((case, engine))
    if r is None or r.get("status") != "ok":
        return None
    return r.get(key)


def ratio(by, case, other, key="median_us"):
    """chainrule's ``key`` over ``other``'s for ``case``, or None if either is missing."""
    mine, theirs = _value(by, case, "chainrule", key), _value(by, case, other, key)
    return mine / theirs if mine is not None and theirs else None


def evaluate(target, by):
    """(value, met): met is None when a number it needs is missing."""
    if target.kind == "time":
        value = ratio(by, target.case, target.other)
    elif target.kind == "memory":
        value = ratio(by, target.case, target.other, "peak_rss_mib")
    elif target.kind == "memory_mib":
        value = _value(by, target.case, "chainrule", "peak_rss_mib")
    elif target.kind == "graph":
        value = ratio(by, target.case, target.other, "graph_mib")
    else:   # scaling
        big = _value(by, target.case, "chainrule", "median_us")
        base = _value(by, target.other, "chainrule", "median_us")
        value = big / base if big is not None and base else None
    if value is None:
        return None, None
    return value, value < target.limit if target.strict else value <= target.limit


def verdicts(results):
    """One dict per target: case, text, value, met, stretch, kind."""
    by = index(results)
    out = []
    for t in TARGETS:
        value, met = evaluate(t, by)
        out.append({"case": t.case, "text": t.text, "kind": t.kind, "value": value, "met": met,
                    "stretch": t.stretch, "limit": t.limit})
    return out


# ---------------------------------------------------------------- formatting

def fmt_us(x):
    """3 significant figures, thousands separated: 4.40, 19.3, 320, 8,572."""
    if x < 10:
        return f"{x:.2f}"
    if x < 100:
        return f"{x:.1f}"
    return f"{x:,.0f}"


def fmt_ratio(x):
    if x is None:
        return "—"
    return f"{x:.2f}×" if x < 10 else f"{x:,.0f}×"


def fmt_mib(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def cell(result, key="median_us", fmt=fmt_us):
    """A result as the table prints it: the number, or why there is none."""
    if result is None:
        return "—"
    status = result.get("status")
    if status == "ok":
        value = result.get(key)
        return fmt(value) if value is not None else "—"
    return {"limit": result.get("note") or "limit", "n/a": "—", "skipped": "skipped",
            "wrong": "**wrong gradient**", "error": "**error**"}.get(status, status)


def _verdict_text(v):
    mark = {True: "✓", False: "✗", None: "?"}[v["met"]]
    if v["value"] is None:
        shown = "not measured"
    elif v["kind"] == "memory_mib":
        shown = f"{fmt_mib(v['value'])} MiB"
    else:
        shown = fmt_ratio(v["value"])
    return f"{mark} {v['text']} ({shown})"


def markdown(meta, results, engines=None):
    """The whole report: header, time table, memory table, targets, notes, workload legend."""
    engines = [e for e in (engines or ENGINES)]
    by = index(results)
    targets = verdicts(results)
    lines = ["# chainrule benchmarks", ""]
    lines += header_lines(meta)
    heads = ["", *(ENGINES[e] for e in engines), "chainrule / NumPy", "chainrule / PyTorch",
             "targets"]
    timed = [cid for cid, c in CASES.items() if not c.graph_memory and any(
        r["case"] == cid for r in results)]
    if timed:
        lines += ["", "Median time per step in µs (lower is better); ratios are chainrule's "
                  "median over the other engine's, from this run.", ""]
        lines += [_row(heads), _row(["---"] + ["---:"] * (len(heads) - 2) + ["---"])]
    for cid in timed:
        ts = "; ".join(_verdict_text(v) for v in targets if v["case"] == cid and
                       v["kind"] in ("time", "scaling"))
        lines.append(_row([f"**{cid}**", *(cell(by.get((cid, e))) for e in engines),
                           fmt_ratio(ratio(by, cid, "numpy")),
                           fmt_ratio(ratio(by, cid, "torch")), ts]))
    memory = [cid for cid, c in CASES.items() if c.memory and any(
        r["case"] == cid for r in results)]
    if memory:
        lines += ["", "W7: peak RSS in MiB of the process that ran the workload (interpreter, "
                  "imports and data included; read after the first three steps).", ""]
        lines += [_row(heads), _row(["---"] + ["---:"] * (len(heads) - 2) + ["---"])]
        for cid in memory:
            ts = "; ".join(_verdict_text(v) for v in targets if v["case"] == cid and
                           v["kind"].startswith("memory"))
            lines.append(_row(
                [f"**W7** ({cid})",
                 *(cell(by.get((cid, e)), "peak_rss_mib", fmt_mib) for e in engines),
                 fmt_ratio(ratio(by, cid, "numpy", "peak_rss_mib")),
                 fmt_ratio(ratio(by, cid, "torch", "peak_rss_mib")), ts]))
    graph = [cid for cid, c in CASES.items() if c.graph_memory and any(
        r["case"] == cid for r in results)]
    if graph:
        lines += ["", "W7, graph memory: MiB held between the forward pass and `backward()` "
                  "(the resident set just before `backward()` minus the resident set just before "
                  "the forward pass; the forward's output included; median of the repetitions), "
                  "each engine in a fresh process with `MALLOC_MMAP_THRESHOLD_=65536`, so that "
                  "freed arrays leave the resident set.", ""]
        lines += [_row(heads), _row(["---"] + ["---:"] * (len(heads) - 2) + ["---"])]
        for cid in graph:
            ts = "; ".join(_verdict_text(v) for v in targets if v["case"] == cid and
                           v["kind"] == "graph")
            lines.append(_row(
                [f"**{cid}**", *(cell(by.get((cid, e)), "graph_mib", fmt_mib) for e in engines),
                 fmt_ratio(ratio(by, cid, "numpy", "graph_mib")),
                 fmt_ratio(ratio(by, cid, "torch", "graph_mib")), ts]))
    counted = [v for v in targets if not v["stretch"] and v["met"] is not None]
    missed = [v for v in counted if not v["met"]]
    lines += ["", f"Targets met: {len(counted) - len(missed)} of {len(counted)} measured"
              + (" (missed: " + "; ".join(f"{v['case']} {v['text']}" for v in missed) + ")"
                 if missed else "") + "."]
    notes = [f"- {r['case']} on {ENGINES[r['engine']]}: {r['status']}: {r['note']}"
             for r in results if r.get("status") not in ("ok", "n/a") and r.get("note")]
    notes += [f"- {r['case']} on {ENGINES[r['engine']]}: one step, the first (longer than the "
              "time budget of a measurement)" for r in results if r.get("first_step_only")]
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", "Workloads (forward, backward and, where there are parameters, the SGD update "
              "per step):", ""]
    lines += [f"- **{c.id}**: {c.title}" for c in CASES.values()]
    return "\n".join(lines) + "\n"


def header_lines(meta):
    m = meta.get("machine", {})
    v = m.get("versions", {})
    names = [("chainrule", "chainrule"), ("numpy", "NumPy"), ("torch", "PyTorch"),
             ("autograd", "HIPS autograd"), ("micrograd", "micrograd")]
    versions = ", ".join(f"{label} {v[k]}" for k, label in names if k in v)
    git = meta.get("git")
    if git and "chainrule" in v:
        versions = versions.replace(f"chainrule {v['chainrule']}",
                                    f"chainrule {v['chainrule']} ({git})", 1)
    out = [f"{meta.get('date', '?')} · {meta.get('mode', '?')} · `{meta.get('command', '')}`",
           "",
           f"- Machine: {m.get('cpu', '?')}, {m.get('cpus_usable', '?')} of "
           f"{m.get('cpu_count', '?')} CPUs usable, {m.get('memory_gib', '?')} GiB; "
           f"{m.get('platform', '?')}",
           f"- Python {m.get('python', '?')}; {versions}",
           f"- BLAS: {blas_text(m)}",
           f"- {meta.get('env_note', '')}",
           f"- Timing: {meta.get('timing', '')}"]
    load = meta.get("load_average") or {}
    cpus = m.get("cpus_usable")
    if load.get("start") is not None and load.get("end") is not None:
        out.append(f"- Load average (1 min) at the start and at the end: {load['start']} and "
                   f"{load['end']}, on {cpus} CPUs")
        if cpus and max(load["start"], load["end"]) > BUSY * cpus:
            out.append("- **The machine was busy: other processes competed for the CPUs, so "
                       "these times are noise (multi-threaded engines suffer most). Measure "
                       "again on a quiet machine.**")
    return out


def blas_text(machine):
    """Which BLAS ran, with its kernel and threads, for NumPy and for PyTorch."""
    parts = []
    pools = machine.get("threadpools")
    if pools:
        for p in pools:
            details = [f"kernel {p['architecture']}" if p.get("architecture") else "",
                       f"{p.get('num_threads')} threads", _lib_name(p.get("filepath", ""))]
            name = " ".join(x for x in (p.get("internal_api"), p.get("version")) if x)
            parts.append(f"{name} ({', '.join(d for d in details if d)})")
    else:
        nb = machine.get("numpy_blas") or {}
        parts.append(f"NumPy: {nb.get('name', '?')} {nb.get('version', '')} (kernel and threads "
                     "unknown: install threadpoolctl)")
    if "torch" in machine:
        parts.append(f"PyTorch: {machine['torch']['blas']}, "
                     f"{machine['torch']['threads']} intra-op threads")
    return "; ".join(parts)


def _lib_name(path):
    return path.rsplit("/", 1)[-1]


def _row(cells):
    return "| " + " | ".join(cells) + " |"
