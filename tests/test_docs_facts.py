"""Facts the documentation states about the code and the benchmark stay true.

- The README's benchmark table, its memory figures and the busy-machine note are those of
  bench/results/latest.md (and .json), the file the bench writes.
- The line counts of the core files in the README and docs/design.md are right to within a
  quarter.
- Every code block docs/design.md quotes still appears in the source, and every dotted name or
  file it (and docs/performance.md) names exists.
"""
import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "chainrule"
README = (ROOT / "README.md").read_text()
LATEST_MD = (ROOT / "bench" / "results" / "latest.md").read_text()
LATEST = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())


def _rows(text):
    return {line.split("|")[1].strip(): line for line in text.splitlines()
            if re.match(r"\| \*\*W", line)}


def _performance_section():
    return README.split("## Performance", 1)[1].split("\n## ", 1)[0]


def test_readme_benchmark_table_is_the_latest_run():
    readme_rows = _rows(_performance_section())
    latest_rows = _rows(LATEST_MD)
    assert readme_rows, "the README's Performance section has no benchmark table"
    for name, line in readme_rows.items():
        assert latest_rows.get(name) == line, \
            f"README's row {name} differs from bench/results/latest.md: copy the table again"
    day = LATEST["meta"]["date"].split()[0]
    assert f"latest full run ({day}" in _performance_section()


def test_readme_carries_the_busy_machine_note():
    notes = [line.lstrip("- ") for line in LATEST_MD.splitlines() if "machine was busy" in line]
    for note in notes:
        assert note in _performance_section(), \
            "bench/results/latest.md says the machine was busy: the README must say it too"


def test_readme_memory_figures_are_the_latest_run():
    def rss(case, engine):
        return next(r["peak_rss_mib"] for r in LATEST["results"]
                    if r["case"] == case and r["engine"] == engine)
    m = re.search(r"200,000-op chain: (\d+) MiB, PyTorch (\d+)", README)
    assert m, "the README no longer states the W4-200k peak memory: update this test"
    assert int(m.group(1)) == round(rss("W4-200k", "chainrule"))
    assert int(m.group(2)) == round(rss("W4-200k", "torch"))
    m = re.search(r"W3: ([\d.]+)× NumPy's", README)
    assert m and float(m.group(1)) == round(rss("W3", "chainrule") / rss("W3", "numpy"), 2)
    perf = (ROOT / "docs" / "performance.md").read_text()
    for mib, torch_mib in re.findall(r"W4-200k peak memory (\d+) MiB \(PyTorch: (\d+)\)", perf):
        assert (int(mib), int(torch_mib)) == (round(rss("W4-200k", "chainrule")),
                                              round(rss("W4-200k", "torch")))


@pytest.mark.parametrize("doc", ["README.md", "docs/design.md"])
def test_line_counts_of_the_core_files_are_about_right(doc):
    claims = re.findall(r"`([\w/]+\.py)`\s+\([^()]*?about ([\d,]+)", (ROOT / doc).read_text())
    assert len(claims) >= 5, claims
    for name, n in claims:
        lines = len((SRC / name).read_text().splitlines())
        claimed = int(n.replace(",", ""))
        assert abs(lines - claimed) <= claimed / 4, \
            f"{doc} says {name} is about {claimed} lines; it has {lines}: update the sentence"


def _normalise(text):
    return " ".join(text.split())


SOURCE = _normalise("\n".join(p.read_text() for p in SRC.rglob("*.py")))


@pytest.mark.parametrize("doc", ["design.md"])
def test_code_quoted_in_the_docs_is_in_the_source(doc):
    text = (ROOT / "docs" / doc).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        assert _normalise(block) in SOURCE, f"docs/{doc} quotes code that is not in src/:\n{block}"


def _resolve(dotted):
    """``engine.run_backward`` -> the object, importing chainrule.<module> as needed."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("chainrule." + ".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("doc", ["design.md", "performance.md"])
def test_names_in_the_docs_exist(doc):
    text = (ROOT / "docs" / doc).read_text()
    quoted = set(re.findall(r"`([^`\n]+)`", text))
    other_libraries = {"autograd.numpy"}          # HIPS autograd's, in the bench notes
    quoted -= other_libraries
    modules = {p.stem for p in SRC.rglob("*.py")} | {p.name for p in SRC.iterdir() if p.is_dir()}
    missing = []
    for q in sorted(quoted):
        if re.fullmatch(r"[\w/.-]+\.py", q):
            if not any((base / q).exists() for base in (ROOT, SRC)):
                missing.append(q)
        elif re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", q) and q.split(".")[0] in modules:
            try:
                _resolve(q)
            except (ModuleNotFoundError, AttributeError):
                missing.append(q)
    assert not missing, f"docs/{doc} names what the code no longer has: {missing}"
