"""The explainer and the drawings: golden text, Markdown and DOT on small fixed graphs, plus the
facts they state checked independently (gradients against autograd, the lecture's numbers)."""
import builtins
import re
import sys

import numpy as np
import pytest

import chainrule as cr

sys.path.insert(0, __import__("os").path.dirname(__file__))
from explain_cases import CASES, GOLDEN  # noqa: E402


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_text_is_golden(case):
    out, names = CASES[case]()
    assert str(cr.explain(out, names=names)) == (GOLDEN / f"explain_{case}.txt").read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_markdown_is_golden(case):
    out, names = CASES[case]()
    md = cr.explain(out, names=names)._repr_markdown_()
    assert md == (GOLDEN / f"explain_{case}.md").read_text()
    assert md.count("$") % 2 == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_is_golden(case):
    out, names = CASES[case]()
    assert cr.viz.to_dot(out, names=names) == (GOLDEN / f"dot_{case}.dot").read_text()


def test_lecture_numbers():
    a = cr.tensor(5.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = cr.tensor(2.0, requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    text = str(cr.explain(J))                 # names come from this function's variables
    assert "u = b·c = 6" in text and "v = a + u = 11" in text and "J = 3·v = 33" in text
    assert "∂J/∂b = ∂J/∂v · ∂v/∂u · ∂u/∂b = 3 · 1 · c = 3 · 1 · 2 = 6" in text
    assert "b: 3 → 3.001 moves J: 33 → 33.006, ΔJ/Δb = 6.000" in text
    assert "∂u/∂b = c = 2" in text


def test_explained_gradients_equal_autograd():
    for case, make in CASES.items():
        out, names = make()
        e = cr.explain(out, names=names)
        leaves = [t for t in names.values() if t.is_leaf and t.requires_grad]
        grads = cr.autograd.grad(out, leaves)
        for t, g in zip(leaves, grads):
            name = next(k for k, v in names.items() if v is t)
            np.testing.assert_allclose(e.grads[name], g.numpy(), rtol=1e-6, err_msg=case)


def test_explain_does_not_touch_grad_or_free_the_graph():
    a = cr.tensor(2.0, requires_grad=True)
    y = a * a * a
    cr.explain(y)
    assert a.grad is None
    y.backward()                              # the graph is still usable
    assert a.grad.item() == 12.0


def test_names_are_generated_from_ops_when_unknown():
    def build():
        p = cr.tensor(1.5, requires_grad=True)
        return (p * 2 + 1).exp()
    text = str(cr.explain(build()))
    assert "mul1 = 2·t1 = 3" in text
    assert "add2 = mul1 + 1 = 4" in text


def test_wrt_selects_inputs_and_intermediates():
    a = cr.tensor(5.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    u = b * 2
    J = a * u
    text = str(cr.explain(J, wrt=[u]))
    assert "∂J/∂u = ∂J/∂u = a = 5" in text
    assert "u: 6 → 6.001 moves J: 30 → 30.005" in text
    assert "∂J/∂b" not in text.split("Chain rule")[1]


def test_many_paths_switch_to_per_node_gradients():
    out, names = CASES["many_paths"]()
    text = str(cr.explain(out, names=names, max_paths=8))
    assert "summed over 32 paths" in text and "∂t/∂add2 = 8" in text
    text = str(cr.explain(out, names=names, max_paths=64))
    assert text.count(" + ") >= 31


def test_explain_refuses_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.explain(cr.tensor(1.0))


def test_a_5000_node_graph_draws_collapsed_and_in_full():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(2500):
        y = y * 1.0001 + 0.0001
    dot = cr.viz.to_dot(y)
    assert "chain of 5000 ops" in dot and dot.count("->") < 10
    full = cr.viz.to_dot(y, show_all=True)
    assert full.count("[shape=ellipse") == 5000


def test_drawing_saves_dot_without_graphviz(tmp_path, monkeypatch):
    J, names = CASES["lecture"]()
    d = cr.viz.draw(J, names=names)
    p = d.save(tmp_path / "g.dot")
    assert open(p).read() == (GOLDEN / "dot_lecture.dot").read_text()
    real_import = builtins.__import__

    def no_graphviz(name, *a, **k):
        if name == "graphviz":
            raise ImportError("no graphviz")
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_graphviz)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[viz\]'"):
        d.save(tmp_path / "g.svg")
    with pytest.raises(ValueError, match="suffix"):
        d.save(tmp_path / "g.jpg")


def test_drawing_renders_svg_when_graphviz_is_installed(tmp_path):
    graphviz = pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    J, names = CASES["lecture"]()
    d = cr.viz.draw(J, names=names)
    svg = d._repr_svg_()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "∂u/∂b = 2" in svg
    d.save(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert graphviz is not None


def test_drawing_boxes_each_submodule_with_its_parameters():
    from chainrule import nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    out = model(cr.randn(5, 4)).sum()
    dot = cr.viz.to_dot(out, module=model)
    assert dot == cr.viz.to_dot(out, module=model)              # deterministic
    clusters = re.findall(r'subgraph cluster_\d+ \{\n    label="([^"]+)";[^\n]*\n    ([^\n]+);', dot)
    assert [label for label, _ in clusters] == ["0 (Linear)", "2 (Linear)"]
    for label, members in clusters:
        names = {m: re.search(rf'  {m} \[[^\n]*label="{{ ([^ |]+)', dot).group(1)
                 for m in members.split("; ") if m.startswith("leaf")}
        prefix = label.split()[0]
        assert sorted(names.values()) == [f"{prefix}.bias", f"{prefix}.weight"]
    assert "Tanh" in dot and "cluster_3" not in dot              # tanh has no parameters
