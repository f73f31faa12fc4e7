"""The tour (the README's first command) and the lecture notebook run end to end."""
import io
import os
import pathlib
import subprocess
import sys

import pytest

from chainrule import tour

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_tour_runs_end_to_end(tmp_path, monkeypatch):
    # on the README's base install: no scikit-learn (the digits ship with chainrule), and every
    # file the tour writes goes through _files.atomic_write, never a plain open()
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    real_open = open

    def no_plain_writes(file, mode="r", *args, **kwargs):
        assert not (str(tmp_path) in str(file) and set(mode) & set("wax")), file
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr("builtins.open", no_plain_writes)
    out = io.StringIO()
    saved = tour.run(str(tmp_path / "drawings"), pause=False, stream=out)
    text = out.getvalue()
    # section 1: the lecture's graph, explained, with its nudges
    assert "u = b·c = 6" in text and "J = 3·v = 33" in text
    assert "∂J/∂b = ∂J/∂v · ∂v/∂u · ∂u/∂b = 3 · 1 · c = 3 · 1 · 2 = 6" in text
    assert "b: 3 → 3.001 moves J: 33 → 33.006" in text
    assert "u: 6 → 6.001 moves J: 33 → 33.003" in text
    # sections 2 and 3: the linear loss, and Exercise 4.2 answered
    assert "∂loss/∂w = ∂loss/∂s · ∂s/∂ŷ · ∂ŷ/∂w = 2·s · 1 · x = -2 · 1 · 1 = -2" in text
    assert "∂loss/∂b = ∂loss/∂s · ∂s/∂ŷ · ∂ŷ/∂b = 2·s · 1 · 1 = 2 · 1 · 1 = 2" in text
    # section 4: the lecture's training run prints what PyTorch prints
    golden = (ROOT / "tests" / "golden_lecture_linear.txt").read_text()
    assert golden.strip() in text
    # section 5: Exercise 4.4, symbolically and checked
    assert "∂loss/∂w1" in text and "∂loss/∂w2" in text
    assert "WRONG" not in text.split("7. Exercise 4.3")[0]
    # section 6: a two-layer network, explained on one batch, then trained until it has learned
    assert "∂logits/∂W2: g ↦ gᵀ·a" in text
    accuracies = [float(line.rsplit(" ", 1)[1].rstrip("%")) for line in text.splitlines()
                  if "held-out accuracy" in line]
    assert "Data: 1,797 handwritten digits" in text and "spirals" not in text
    assert len(accuracies) == 10 and accuracies[-1] > 80      # chance is 10%
    # the nudges move the loss visibly, on entries whose gradient is not 0
    nudges = [line for line in text.splitlines() if "moves loss" in line]
    assert nudges and all("autograd: 0 " not in l + " " and "= 0.000" not in l for l in nudges)
    # section 7: Exercise 4.3, the reference engine walked through, then checked, then broken
    assert "def topological_order(root):" in text and "inp.grad += unbroadcast" in text
    assert "On the lecture's graph: J = 33, a.grad, b.grad, c.grad = 3, 6, 9." in text
    assert "18 of 18 checks right." in text and "15 of 18 checks right." in text
    assert "1. gradients are assigned (=) where they must be added up (+=) (3)" in text
    # the footnote on the lecture's two slips
    assert "33.0006" in text and "J = 2·(a + b·c)" in text
    assert saved and all(os.path.exists(p) for p in saved)
    assert {pathlib.Path(p).name for p in saved} >= {"1-lecture-graph.dot", "5-exercise-4-4.dot",
                                                    "6-two-layer-network.dot"}


def test_tour_without_graphviz_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)        # import graphviz fails
    out = io.StringIO()
    monkeypatch.setattr(tour, "SECTIONS", tour.SECTIONS[:3])
    saved = tour.run(str(tmp_path), pause=False, stream=out)
    text = out.getvalue()
    assert text.count("Only .dot drawings, no .svg") == 1
    assert "pip install 'chainrule[viz]'" in text and "apt install graphviz" in text
    assert [pathlib.Path(p).suffix for p in saved] == [".dot"] * 3


def test_tour_command_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "chainrule", "tour", "--no-pause", "--out",
                        str(tmp_path / "t")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "predict (after training)  4 tensor(8.0000)" in r.stdout
    assert (tmp_path / "t" / "1-lecture-graph.dot").exists()


def test_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "examples" / "backprop_lecture.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()          # raises CellExecutionError if any cell fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    markdown = [o["data"]["text/markdown"] for o in outputs
                if "data" in o and "text/markdown" in o["data"]]
    assert any(r"\frac{\partial J}{\partial b}" in m for m in markdown)
    # the drawings: a picture with Graphviz, else the DOT text (not a one-line repr)
    drawings = [o["data"] for o in outputs if "data" in o and
                ("image/svg+xml" in o["data"] or "digraph chainrule" in o["data"].get(
                    "text/markdown", ""))]
    assert len(drawings) == 2
    # the stepper, inline: the page in an iframe, its graph named from the notebook's variables
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any(p.startswith("<iframe srcdoc=") and "∂u/∂b" in p for p in pages)


def test_console_script_points_at_the_tour():
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution("chainrule")
    except PackageNotFoundError:
        pytest.skip("chainrule is not installed (run from source): no console script to check")
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    assert scripts.get("chainrule") == "chainrule.cli:main"
