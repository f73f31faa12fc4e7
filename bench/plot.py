"""The chart of the ratios: ``python -m bench.plot [latest.json] [ratios.png]``.

One horizontal bar per ratio (chainrule over NumPy by hand, over PyTorch, the W4 scaling and the
W7 memory ratios), on a log scale.  A bar with a target is green when the target is met and red
when it is missed, and the target is drawn as a black tick; a bar without one is grey.
Needs matplotlib: ``pip install "chainrule[bench]"``.
"""
import json
import sys
from pathlib import Path

from bench import CASES, report
from chainrule._files import atomic_write

RESULTS = Path(__file__).resolve().parent / "results"


def bars(results):
    """(label, value, limit or None, met or None) for every ratio this run measured: the time
    ratios case by case, then the W4 scaling, then memory (W7)."""
    by = report.index(results)
    targets = {(t.case, t.kind, t.other): t for t in report.TARGETS}
    out, memory = [], []
    for cid in CASES:
        t = targets.get((cid, "graph", "torch"))
        if t is not None:
            value = report.ratio(by, cid, "torch", "graph_mib")
            if value is not None:
                memory.append(_bar(f"{cid} held before backward ÷ PyTorch", value, t))
            continue
        for other, name in (("numpy", "NumPy"), ("torch", "PyTorch"), ("micrograd", "micrograd")):
            t = targets.get((cid, "time", other))
            if other == "micrograd" and t is None:
                continue
            value = report.ratio(by, cid, other)
            if value is not None:
                out.append(_bar(f"{cid}  ÷ {name}", value, t))
        t = targets.get((cid, "scaling", "W4-10k"))
        if t is not None:
            value, _ = report.evaluate(t, by)
            if value is not None:
                out.append(_bar(f"{cid}  ÷ chainrule W4-10k", value, t))
        t = targets.get((cid, "memory", "numpy"))
        if t is not None:
            value = report.ratio(by, cid, "numpy", "peak_rss_mib")
            if value is not None:
                memory.append(_bar(f"W7 {cid} peak RSS ÷ NumPy", value, t))
        t = targets.get((cid, "memory_mib", ""))
        if t is not None:
            value, _ = report.evaluate(t, by)
            if value is not None:       # drawn as a ratio to its limit, 1 GiB
                memory.append((f"W7 {cid} peak RSS ÷ 1 GiB", value / t.limit, 1.0,
                               value < t.limit if t.strict else value <= t.limit))
    return out + memory


def _bar(label, value, target):
    if target is None:
        return label, value, None, None
    met = value < target.limit if target.strict else value <= target.limit
    return label + (" (stretch)" if target.stretch else ""), value, target.limit, met


def draw(json_path=RESULTS / "latest.json", png_path=RESULTS / "ratios.png"):
    """Draw the ratios of ``json_path`` into ``png_path``; returns the path."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('the chart needs matplotlib: pip install "chainrule[bench]"') from e
    saved = json.loads(Path(json_path).read_text())
    rows = bars(saved["results"])
    if not rows:
        raise ValueError(f"{json_path}: no ratio to draw (was chainrule measured?)")
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(rows) + 1.6))
    ys = range(len(rows))[::-1]
    colors = ["#9e9e9e" if met is None else "#2e7d32" if met else "#c62828"
              for _, _, _, met in rows]
    ax.barh(list(ys), [v for _, v, _, _ in rows], color=colors, height=0.6)
    for y, (_, value, limit, _) in zip(ys, rows):
        ax.text(value * 1.04, y, report.fmt_ratio(value), va="center", fontsize=8)
        if limit is not None:
            ax.plot([limit, limit], [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.set_yticks(list(ys), [label for label, _, _, _ in rows], fontsize=8)
    ax.set_xscale("log")
    ax.axvline(1.0, color="#555555", linewidth=0.8, linestyle=":")
    ax.set_xlabel("chainrule ÷ other (log scale; < 1: chainrule is faster or smaller)")
    meta = saved.get("meta", {})
    versions = meta.get("machine", {}).get("versions", {})
    ax.set_title(f"chainrule {versions.get('chainrule', '')}: ratios, {meta.get('mode', '')}, "
                 f"{meta.get('date', '')}\ngreen: target met, red: missed, black tick: target, "
                 "grey: no target", fontsize=9)
    fig.tight_layout()
    with atomic_write(png_path, "wb") as f:        # the previous chart stays until this one is whole
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return Path(png_path)


if __name__ == "__main__":
    print(draw(*sys.argv[1:3]))
