"""Exercise 4.3: the reference engine (examples/from_scratch.py) against chainrule, and
``check_engine`` on correct engines and on engines with each typical student bug, named right.

The expected gradients come from chainrule (and torch, where installed), never from the engine
under test; each broken engine is a correct one with one line edited (tests/engines_for_check.py).
"""
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule import cli
from chainrule.exercises import check_engine, load_engine, reference_path

from engines_for_check import SCALAR, reference_bug, scalar_bug

scratch = cli.load_example("from_scratch")
Value = scratch.Value


def _engine(source):
    namespace = {}
    exec(compile(source, "<engine>", "exec"), namespace)
    return namespace["Value"]


def _text(report):
    return " ".join(str(report).split())        # the report wraps its lines


# ---- the reference solution ------------------------------------------------------------

def _both(build, values):
    """Leaf gradients of build(*leaves) by the reference engine and by chainrule."""
    mine = [Value(v) for v in values]
    build(*mine).backward()
    ref = [chainrule.tensor(v, dtype=chainrule.float64, requires_grad=True) for v in values]
    build(*ref).backward()
    return [m.grad for m in mine], [np.zeros(np.shape(v)) if r.grad is None else r.grad.numpy()
                                    for r, v in zip(ref, values)]


@pytest.mark.parametrize("build, values", [
    (lambda a, b, c: 3 * (a + b * c), (5.0, 3.0, 2.0)),                          # the lecture
    (lambda w, b: (w * 1.0 + b - 2.0) ** 2, (1.0, 2.0)),                          # Exercise 4.2
    (lambda w1, w2, b: (2.0 * 2.0 * w2 + 2.0 * w1 + b - 4.0) ** 2, (1.0, 1.0, 0.0)),   # 4.4
])
def test_reference_gradients_on_the_lecture_graphs(build, values):
    mine, ref = _both(build, values)
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m, r, rtol=1e-12)


def test_reference_gives_the_lecture_numbers():
    a, b, c = Value(5.0), Value(3.0), Value(2.0)
    J = 3 * (a + b * c)
    J.backward()
    assert (float(J.data), float(a.grad), float(b.grad), float(c.grad)) == (33, 3, 6, 9)


# unary and binary steps that work on both engines, kept in the domain of log and division
UNARY = [lambda x: x.tanh(), lambda x: x.relu(), lambda x: x.tanh().exp(),
         lambda x: (x * x + 1.0).log(), lambda x: x ** 2, lambda x: -x]
BINARY = [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
          lambda x, y: x / (y * y + 1.0), lambda x, y: 2.0 - x * 0.5 + y]


@pytest.mark.parametrize("seed", range(12))
def test_reference_gradients_on_random_compositions(seed):
    rng = np.random.default_rng(seed)
    shapes = [(), (3,), (2, 3), (1, 3), (2, 1)]
    values = [rng.normal(size=shapes[k % len(shapes)]) for k in range(rng.integers(3, 6))]
    steps = [(rng.integers(len(UNARY)), rng.integers(len(BINARY)), rng.integers(100, size=2))
             for _ in range(8)]

    def build(*leaves):
        live = list(leaves)
        for u, b, (i, j) in steps:
            x, y = live[i % len(live)], live[j % len(live)]
            live.append(BINARY[b](UNARY[u](x), y))
        return live[-1].sum() + live[len(leaves)].sum()

    mine, ref = _both(build, values)
    for m, r in zip(mine, ref):
        assert m.shape == r.shape
        np.testing.assert_allclose(m, r, rtol=1e-10, atol=1e-12)


def test_reference_gradients_through_a_two_layer_network():
    rng = np.random.default_rng(0)
    values = [rng.normal(size=s) for s in [(5, 3), (3, 4), (4,), (4, 1), (1,), (5, 1)]]
    mine, ref = _both(lambda X, W1, b1, W2, b2, Y:
                      (((X @ W1 + b1).tanh() @ W2 + b2 - Y) ** 2).sum() / 5.0, values)
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m, r, rtol=1e-10, atol=1e-12)


def test_reference_against_torch():
    torch = pytest.importorskip("torch")
    a, b, c = Value(5.0), Value(3.0), Value(2.0)
    ((a * b).tanh() * c / (a - b) + (c ** 3).log()).backward()
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (5., 3., 2.))
    ((ta * tb).tanh() * tc / (ta - tb) + (tc ** 3).log()).backward()
    for m, t in zip((a, b, c), (ta, tb, tc)):
        assert float(m.grad) == pytest.approx(t.grad.item(), rel=1e-12)


def test_reference_needs_no_recursion_on_a_long_chain():
    a = Value(1.0)
    v = a
    for _ in range(20_000):
        v = v * 1.0 + 0.0
    v.backward()
    assert float(a.grad) == 1.0


def test_reference_trains_the_lecture_model_and_a_tiny_network():
    lines = []
    assert scratch.train_lecture_model(log=lambda *a: lines.append(a)) == pytest.approx(2.0, 1e-4)
    assert scratch.train_tiny_mlp(log=lambda *a: lines.append(a)) < 1e-3


def test_reference_runs_as_a_script():
    r = subprocess.run([sys.executable, str(reference_path())], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "predict (after training) 4 -> 8.0000" in r.stdout
    assert "predictions for (0,0), (0,1), (1,0), (1,1): [0. 1. 1. 0.]" in r.stdout


def test_reference_is_short():
    code = [line for line in reference_path().read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]
    assert len(code) <= 160


# ---- check_engine on correct engines ---------------------------------------------------

def test_check_engine_passes_the_reference_solution():
    report = check_engine(Value)
    assert report and report.ok and not report.failures
    assert report.ops_missing == [] and report.arrays
    assert all(c.status == "right" for c in report.checks)
    assert "18 of 18 checks right." in str(report)


def test_check_engine_works_inside_no_grad():
    with chainrule.no_grad():
        assert check_engine(Value)


def test_check_engine_passes_a_micrograd_style_scalar_engine():
    report = check_engine(_engine(SCALAR))
    assert report, str(report)
    assert report.ops_missing == ["matmul", "sum"]
    # the scalar engine's values hold floats: the array checks are skipped and said so
    assert "Ops found: + − · / ** exp log tanh relu; not found, so not checked: @ sum" in \
        _text(report)
    assert "X @ W (arrays): skipped" in _text(report)


def test_missing_ops_are_skipped_not_failed():
    source = SCALAR.split("    def exp(self):")[0] + "    def backward(self):" + \
        SCALAR.split("    def backward(self):")[1]
    report = check_engine(_engine(source))
    assert report, str(report)
    text = _text(report)
    for op in ("exp", "log", "tanh", "relu"):
        assert f"{op}(x): skipped (needs {op}, which your values lack)" in text
    assert "not found, so not checked: @ exp log tanh relu sum" in text


def test_the_real_micrograd_fails_only_the_deep_chain():
    micrograd = pytest.importorskip("micrograd.engine")
    report = check_engine(micrograd.Value)
    assert [c.name for c in report.failures] == ["a chain of 5,000 ops"]
    assert "RecursionError" in report.failures[0].detail


def test_other_names_for_grad_and_backward():
    source = SCALAR.replace(".grad", ".gradient").replace("def backward(", "def backprop(")
    Engine = _engine(source)
    assert check_engine(Engine, grad="gradient", backward="backprop")
    with pytest.raises(AttributeError, match="no method 'backward'.*backward='name'"):
        check_engine(Engine, grad="gradient")
    with pytest.raises(AttributeError, match="no attribute 'grad'.*grad='name'.*gradient"):
        check_engine(Engine, backward="backprop")
    with pytest.raises(TypeError, match="pass a function"):
        check_engine(42)


# ---- check_engine names each typical bug -----------------------------------------------

SCALAR_BUGS = {
    "mul wrong operand": (
        "∂J/∂k: expected -0.5, got 3 (path J → k): the gradient through `mul` (J = k·s) to its "
        "first input k looks like it uses the wrong operand: ∂(x·y)/∂x = y, the other input, "
        "not x itself.",
        "`mul`'s gradient to its first input uses the wrong operand"),
    "assign not accumulate": (
        "∂loss/∂x: expected 20 = 4·1·1·1·1·2 + 4·1·1·1·1·2 + 4·1·1·1·1, got 4 (path loss → s → "
        "ŷ → q+p → q → x² → x): x is used 3 times (x² = x·x, p = x·w1), so its gradient adds "
        "over the paths, 8 + 8 + 4; yours is the share of p = x·w1 alone: the gradient is "
        "assigned (=) where it must be accumulated (+=). a value used on several paths: WRONG "
        "∂J/∂x: expected -3.5, got -1.5: the same mistake as in “Exercise 4.4",
        "gradients are assigned (=) where they must be added up (+=)"),
    "recursion": (
        "a chain of 5,000 ops: WRONG backward() raised RecursionError on this graph of 5,002 "
        "values",
        "backward() recurses once per node (RecursionError): make the topological sort "
        "iterative"),
    "no seed": (
        "the lecture's J = 3·(a + b·c): WRONG ∂J/∂J: expected 1, got 0",
        "backward() does not seed the output's gradient with 1"),
    "breadth first": (
        "∂J/∂b: expected -5.25 = 1·3·1·(-0.5)·1.5 + 1·(-2)·1.5, got -3 (path J → z → y → w → x "
        "→ b): x passed its gradient on to its inputs when it had received only the share from "
        "z, not yet the one from w",
        "backward() visits a value before all the values that consume it (not in reverse "
        "topological order)"),
    "exp without upstream": (
        "∂J/∂x: expected 4.94616 = 3·1.64872, got 1.64872 (path J → s → x): the gradient through "
        "`exp` (s = exp(x)) to its input is its local derivative alone: multiply it by the "
        "upstream gradient ∂J/∂s = 3 (multiply along the path).",
        "`exp`'s rule does not multiply by the upstream gradient"),
    "tree walk": (
        "∂J/∂b: expected -5.25 = 1·3·1·(-0.5)·1.5 + 1·(-2)·1.5, got -8.25 (path J → z → y → w → "
        "x → b): x passed its gradient on to its inputs 2 times, once per path reaching it, each "
        "time with what it had received so far",
        "backward() visits a value once per path reaching it, not once after all the values "
        "that consume it"),
    "sub sign": (
        "∂J/∂y: expected -3 = 3·(-1), got 3 (path J → s → y): the gradient through `sub` (s = "
        "x − y) to its second input y looks like it has the wrong sign",
        "`sub`'s gradient to its second input has the wrong sign"),
    "tanh 1 - t": (
        "∂J/∂x: expected 2.35934 = 3·0.786448, got 1.61365 (path J → s → x): the gradient "
        "through `tanh` (s = tanh(x)) to its input looks like it uses 1 − tanh(x) where "
        "∂tanh(x)/∂x = 1 − tanh(x)² (the square is missing)",
        "`tanh`'s gradient to its input uses 1 − tanh(x)"),
}


@pytest.mark.parametrize("bug", sorted(SCALAR_BUGS))
def test_check_engine_names_each_bug_of_a_scalar_engine(bug):
    source = scalar_bug(bug)
    assert source != SCALAR
    report = check_engine(_engine(source))
    assert not report
    detail, cause = SCALAR_BUGS[bug]
    text = _text(report)
    assert detail in text, text
    # one cause, named in the summary at the end
    assert report.causes[0].startswith(cause), report.causes
    # the scalar engine's division is x·y⁻¹: a broken mul breaks it too, and is said so
    also = ["a local derivative is wrong: `div`"] if bug == "mul wrong operand" else []
    assert report.causes[1:] == also
    assert f"1. {cause}" in text


REFERENCE_BUGS = {
    "no unbroadcast": (
        "∂J/∂s has shape (4, 3), but s has shape () (path J → zs → s): s was broadcast in "
        "zs = z·s, so its gradient must be summed back over the broadcast axes to its own shape "
        "(un-broadcast)", ["broadcasting: (X·w + b)·s", "a two-layer network (arrays)"]),
    "no unbroadcast in place": (
        "backward() raised ValueError (non-broadcastable output operand with shape () doesn't "
        "match the broadcast shape (4,3)): an input that was broadcast (used on several rows or "
        "columns) gets a gradient of the result's shape; sum it back",
        ["broadcasting: (X·w + b)·s", "a two-layer network (arrays)"]),
    "assign not accumulate": (
        "x is used 3 times (x² = x·x, p = x·w1), so its gradient adds over the paths, 8 + 8 + 4",
        ["Exercise 4.4: (x²·w2 + x·w1 + b − y)²", "a value used on several paths",
         "a chain of 5,000 ops"]),
    "mul wrong operand": (
        "∂J/∂s: expected 3, got -0.5 (path J → s): the gradient through `mul` (J = k·s) to its "
        "second input s looks like it uses the wrong operand: ∂(x·y)/∂y = x, the other input, "
        "not y itself. x − y: WRONG ∂J/∂s: expected 3, got 3.5: the same mistake as in “x + y”.",
        None),
}


@pytest.mark.parametrize("bug", sorted(REFERENCE_BUGS))
def test_check_engine_names_each_bug_of_an_array_engine(bug):
    source = reference_path().read_text()
    broken = reference_bug(source, bug)
    assert broken != source
    report = check_engine(_engine(broken))
    assert not report
    detail, failing = REFERENCE_BUGS[bug]
    assert detail in _text(report), str(report)
    if failing is not None:
        assert [c.name for c in report.failures] == failing
    assert len(report.causes) == 1, report.causes


def test_several_bugs_at_once_are_each_named_even_below_one_another():
    # mul's rule breaks every unit check's J = k·s; the rules below it are still checked
    # against the upstream gradient the engine gave them
    source = scalar_bug("mul wrong operand").replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad")
    source = source.replace("other.grad += -out.grad", "other.grad += out.grad")
    report = check_engine(_engine(source))
    assert [c.split(":")[0] for c in report.causes] == [
        "`mul`'s gradient to its first input uses the wrong operand",
        "`sub`'s gradient to its second input has the wrong sign",
        "a local derivative is wrong",            # the engine's division is x·y⁻¹
        "`tanh`'s gradient to its input uses 1 − tanh(x) where ∂tanh(x)/∂x = 1 − tanh(x)² (the "
        "square is missing)"]
    text = _text(report)
    assert ("tanh(x): WRONG ∂J/∂k: expected 0.462117, got 3: the same mistake as in “x + y”. And: "
            "∂J/∂x: expected 2.35934, got 1.61365 (path J → s → x; expected from your engine's "
            "∂J/∂s): the gradient through `tanh` (s = tanh(x)) to its input looks like it uses "
            "1 − tanh(x)") in text
    assert "And: ∂loss/∂y: expected -4, got 4: the same mistake as in “x − y”." in text


def test_a_wrong_forward_value_is_reported_before_any_gradient():
    report = check_engine(_engine(SCALAR.replace("math.exp(self.data)", "math.exp(self.data) + 1")))
    assert [c.name for c in report.failures] == ["exp(x)"]
    assert "forward pass: s = exp(x) should be 1.64872, yours is 2.64872" in _text(report)


# ---- finding the engine in a file, and the command line --------------------------------

def test_load_engine_finds_make_value_then_the_first_class_with_backward(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SCALAR + "\nprint('top level runs')\nif __name__ == '__main__':\n"
                    "    raise SystemExit('not when loaded')\n")
    assert load_engine(path).__name__ == "Value"
    path.write_text(SCALAR + "\ndef make_value(x):\n    return Value(x)\n")
    assert load_engine(path).__name__ == "make_value"
    path.write_text("class Value:\n    pass\n")
    with pytest.raises(LookupError, match="make_value"):
        load_engine(path)
    with pytest.raises(FileNotFoundError, match="no file"):
        load_engine(tmp_path / "missing.py")
    path.write_text("import no_such_module_here\n")
    with pytest.raises(ImportError, match="ModuleNotFoundError"):
        load_engine(path)


def test_command_line_on_the_reference_and_on_a_broken_engine(tmp_path, capsys):
    assert cli.main(["check-engine", str(reference_path())]) == 0
    assert "18 of 18 checks right." in capsys.readouterr().out
    broken = tmp_path / "broken.py"
    broken.write_text(scalar_bug("sub sign"))
    assert cli.main(["check-engine", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "`sub`'s gradient to its second input has the wrong sign" in out


def test_command_line_options_and_mistakes(tmp_path, capsys):
    path = tmp_path / "renamed.py"
    path.write_text(SCALAR.replace(".grad", ".gradient").replace("def backward(", "def backprop("))
    assert cli.main(["check-engine", str(path), "--grad", "gradient", "--backward",
                     "backprop"]) == 0
    capsys.readouterr()
    for argv, words in [([str(path)], "--backward NAME"),
                        ([str(tmp_path / "nope.py")], "no file"),
                        ([], "check-engine PATH")]:
        with pytest.raises(SystemExit) as e:
            cli.main(["check-engine", *argv])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0] and "Traceback" not in err[0], err


def test_command_line_in_a_subprocess():
    r = subprocess.run([sys.executable, "-m", "chainrule", "check-engine",
                        str(reference_path())], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Ops found: + − · / ** @ exp log tanh relu sum." in r.stdout


def test_the_readme_section_prints_what_it_shows(tmp_path, monkeypatch):
    import contextlib
    import io
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Exercise 4.3"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    code = [b for lang, b in blocks if lang == "python"]
    shown = [b for lang, b in blocks if lang == ""]
    assert len(code) == 1 and len(shown) == 1
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], "README.md", "exec"), {"__name__": "readme"})
    # the block shown is the whole report, exactly as printed (after the first line, False)
    assert out.getvalue() == "False\n" + shown[0]


def test_an_engine_that_keeps_gradients_on_leaves_only_is_still_checked():
    keep_leaves_only = ("            v._backward()\n",
                        "            v._backward()\n        for v in topo:\n"
                        "            if v._prev:\n                v.grad = None\n")
    assert check_engine(_engine(SCALAR.replace(*keep_leaves_only))), "a right engine fails"
    broken = scalar_bug("sub sign").replace(*keep_leaves_only)
    report = check_engine(_engine(broken))
    assert not report
    assert "∂J/∂y: expected -3 = 3·(-1), got 3 (path J → s → y)" in _text(report)
