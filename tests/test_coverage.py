"""docs/coverage.md is current, and its snapshot of PyTorch's names is PyTorch 2.13's."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("coverage_tool", ROOT / "tools" / "coverage.py")
coverage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coverage)


def test_coverage_table_is_current():
    snap = coverage.load_snapshot()
    want = coverage.render(snap, coverage.classify(snap))
    assert coverage.TABLE.read_text() == want, (
        "docs/coverage.md is stale: run python tools/coverage.py")


def test_snapshot_is_the_installed_torchs_names():
    torch = pytest.importorskip("torch")
    snap = coverage.load_snapshot()
    if torch.__version__.split("+")[0] != snap["torch_version"]:
        pytest.skip(f"the snapshot is of torch {snap['torch_version']}, not {torch.__version__}")
    assert coverage.torch_names() == snap


def test_exclusions_only_name_what_chainrule_lacks():
    # an excluded name that chainrule has counts as present: the table never hides a name
    snap = coverage.load_snapshot()
    table = coverage.classify(snap)
    import chainrule
    for n, status, _ in table["torch"]:
        if status == "excluded":
            assert not hasattr(chainrule, n)
    assert all(r[2] for rows in table.values() for r in rows if r[1] == "excluded")


def test_classify_counts_a_name_chainrule_adds(monkeypatch):
    import chainrule
    snap = {"torch_version": "x", "namespaces": {"torch": ["cudnn_convolution", "abs", "zzz"]}}
    rows = coverage.classify(snap)["torch"]
    assert rows == [("cudnn_convolution", "excluded", rows[0][2]), ("abs", "present", ""),
                    ("zzz", "missing", "")]
    monkeypatch.setattr(chainrule, "zzz", lambda: None, raising=False)
    assert coverage.classify(snap)["torch"][2] == ("zzz", "present", "")
    assert coverage.summary({"torch": rows})["torch"] == (1, 1, 1, 50.0)
