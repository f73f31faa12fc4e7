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


def test_explain_refuses_a_leaf_with_a_clear_error():
    # a leaf that requires grad has no recorded op: say so, instead of a KeyError from inside
    with pytest.raises(ValueError, match="explain\(\): the output is a leaf tensor"):
        cr.explain(cr.tensor(1.0, requires_grad=True))


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
    svg = d._repr_mimebundle_()["image/svg+xml"]
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


# --- after backward(): compute, backward, then look -------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_and_draw_after_backward_are_as_before(case):
    out, names = CASES[case]()
    text, md, dot = (str(cr.explain(out, names=names)),
                     cr.explain(out, names=names)._repr_markdown_(),
                     cr.viz.to_dot(out, names=names))
    out.backward()
    leaves = [t for t in names.values() if t.is_leaf and t.requires_grad]
    grads = [t.grad.numpy().copy() for t in leaves]
    assert str(cr.explain(out, names=names)) == text
    assert cr.explain(out, names=names)._repr_markdown_() == md
    assert cr.viz.to_dot(out, names=names) == dot
    assert cr.viz.draw(out, names=names).dot == dot
    for t, g in zip(leaves, grads):                 # explaining adds nothing to .grad
        np.testing.assert_array_equal(t.grad.numpy(), g)
    if case != "many_paths":                        # (sums save nothing: torch runs them twice)
        with pytest.raises(RuntimeError, match="second time"):
            out.backward()                          # the graph itself stays freed


def test_explain_after_backward_names_a_constant_by_its_variable():
    x = cr.arange(100.0).reshape(10, 10) / 100   # a constant too big to keep: held by x here
    w = cr.ones(10, requires_grad=True)
    loss = (x @ w).sum()
    loss.backward()
    text = str(cr.explain(loss))
    assert "matmul(x, w)" in text or "x@w" in text.replace(" ", "") or "x·w" in text
    assert "Shapes only" not in text and "✓" in text


def test_after_backward_a_big_constant_is_not_kept_alive():
    import gc
    import weakref
    gc.disable()
    try:
        x = cr.randn(1000, 100)
        w = cr.randn(100, requires_grad=True)
        loss = (x @ w).sum()
        alive = weakref.ref(x)
        loss.backward()
        del x
        assert alive() is None                   # the graph did not keep the 100,000 values
    finally:
        gc.enable()
    text = str(cr.explain(loss))                 # what can't be shown is said, not raised
    assert text.startswith("Shapes only\n")
    assert "shape [1000, 100], 100000 values" in text and "before loss.backward()" in text
    assert "loss = matmul(const[1000, 100], w)" in text or "const[1000, 100]" in text
    assert "w.grad: shape [100]" in text and "Check: nudge" not in text
    dot = cr.viz.to_dot(loss)
    assert "shapes only" in dot and "shape [100]" in dot


def test_explain_after_backward_when_a_small_constant_is_gone():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * cr.tensor([3.0, 4.0])).sum()     # the constant has no name and no owner
    loss.backward()
    text = str(cr.explain(loss))
    assert "Shapes only" not in text and "autograd: 4" in text


def test_explain_after_optimizer_step_says_what_changed():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    cr.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place since the graph was recorded"):
        cr.explain(loss)


def test_explain_after_backward_of_an_autograd_function():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g
    a = cr.tensor(2.0, requires_grad=True)
    y = Cube.apply(a) * 2
    before = str(cr.explain(y))
    y.backward()
    assert str(cr.explain(y)) == before and "autograd: 24" in before


# --- the nudge check shows a change ------------------------------------------------------------

def test_nudge_picks_the_entry_with_the_largest_gradient():
    W = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (W * cr.tensor([[0.0, 0.5], [-3.0, 0.0]])).sum()
    line = next(l for l in str(cr.explain(loss)).splitlines() if "moves loss" in l)
    assert line.lstrip().startswith("W[1, 0]: 3 → 3.001")
    assert "autograd: -3" in line and "= -3.000" in line


def test_nudge_prints_enough_digits_to_see_the_change():
    w = cr.tensor(1.0, requires_grad=True)
    J = w * 0.002 + 1.14437
    line = next(l for l in str(cr.explain(J)).splitlines() if "moves J" in l)
    before, after = re.search(r"moves J: (\S+) → (\S+),", line).groups()
    assert before != after and float(after) - float(before) == pytest.approx(2e-6, rel=1e-3)
    assert "ΔJ/Δw = 0.002" in line and "0.000" not in line


# --- check_derivation's verdict is its truth value ----------------------------------------------

def test_check_derivation_report_is_false_when_wrong():
    def loss(x, w, y):
        return (x * w - y) ** 2
    right = cr.check_derivation(loss, lambda x, w, y: {"w": 2 * x * (x * w - y)}, (2.0, 1.0, 4.0))
    wrong = cr.check_derivation(loss, lambda x, w, y: {"w": x * (x * w - y)}, (2.0, 1.0, 4.0))
    assert "WRONG" in str(wrong) and "WRONG" not in str(right)
    assert bool(right) is True and bool(wrong) is False
    assert not wrong and right


# --- the drawing in Jupyter without Graphviz: the DOT text ---------------------------------------

def test_drawing_display_falls_back_to_the_dot_text(monkeypatch):
    J, names = CASES["lecture"]()
    d = cr.viz.draw(J, names=names)
    monkeypatch.setitem(sys.modules, "graphviz", None)          # import graphviz fails
    bundle = d._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/markdown"].startswith("```dot\ndigraph chainrule {")
    assert d.dot in bundle["text/markdown"] and "pip install 'chainrule[viz]'" in bundle["text/markdown"]
    assert bundle["text/plain"] == d.dot
