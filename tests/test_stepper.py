"""The stepping page (``chainrule.viz.stepper``, ``explain(y).to_html``).

Without a browser: the page is one self-contained file, its steps, layout and numbers.  In a
browser (headless Chromium driven by Selenium; skipped with the reason where either is missing):
for the lecture's J, Exercise 4.2, Exercise 4.4 and a small MLP's loss, → through every step and
← back, reading the visible text and checking it against numbers chainrule's autograd computes
independently of the page; Home/End and the buttons; no console errors; the live inputs, whose
recomputed values and gradients must agree with chainrule's to 1e-9; a screenshot of a backward
step under the test's temporary folder.
"""
import json
import math
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import cli, tour
from chainrule.explainer import format_number as fmt

D = cr.float64


# =========================================================================================
# The graphs: each returns (output, names, {name: value}, {name: gradient of the output})
# =========================================================================================

def _facts(out, names):
    """Values and gradients of every named tensor, from chainrule's autograd (not the page)."""
    wanted = [t for t in names.values() if t.requires_grad]
    grads = cr.autograd.grad(out, wanted, retain_graph=True)
    by_id = {id(t): g for t, g in zip(wanted, grads)}
    values = {k: t.detach().numpy() for k, t in names.items()}
    return values, {k: by_id[id(t)].numpy() for k, t in names.items() if id(t) in by_id}


def lecture(a=5.0, b=3.0, c=2.0):
    a, b, c = (cr.tensor(v, dtype=D, requires_grad=True) for v in (a, b, c))
    u = b * c
    v = a + u
    J = 3 * v
    return J, dict(a=a, b=b, c=c, u=u, v=v, J=J)


def exercise_4_2():
    x, y = cr.tensor(1.0, dtype=D), cr.tensor(2.0, dtype=D)
    w = cr.tensor(1.0, dtype=D, requires_grad=True)
    b = cr.tensor(2.0, dtype=D, requires_grad=True)
    wx = w * x
    y_hat = wx + b
    s = y_hat - y
    loss = s ** 2
    return loss, {"x": x, "y": y, "w": w, "b": b, "wx": wx, "ŷ": y_hat, "s": s, "loss": loss}


def exercise_4_4():
    x, y = cr.tensor(2.0, dtype=D), cr.tensor(4.0, dtype=D)
    w1, w2, b = (cr.tensor(v, dtype=D, requires_grad=True) for v in (1.0, 1.0, 0.0))
    x2 = x * x
    q = x2 * w2
    p = x * w1
    qp = q + p
    y_hat = qp + b
    s = y_hat - y
    loss = s ** 2
    return loss, {"x": x, "y": y, "w1": w1, "w2": w2, "b": b, "x²": x2, "q": q, "p": p,
                  "qp": qp, "ŷ": y_hat, "s": s, "loss": loss}


def mlp():
    g = cr.Generator().manual_seed(0)
    x = cr.randn(4, 3, generator=g, dtype=D)
    target = cr.tensor([0, 1, 1, 0])
    W1 = cr.randn(5, 3, generator=g, dtype=D, requires_grad=True)
    b1 = cr.zeros(5, dtype=D, requires_grad=True)
    W2 = cr.randn(2, 5, generator=g, dtype=D, requires_grad=True)
    b2 = cr.zeros(2, dtype=D, requires_grad=True)
    h = F.linear(x, W1, b1)
    a = cr.tanh(h)
    logits = F.linear(a, W2, b2)
    loss = F.cross_entropy(logits, target)
    return loss, dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2, h=h, a=a, logits=logits, loss=loss)


def elementary(a=0.7, b=1.3):
    """Every op the live inputs know, and a value used on several paths (a, b, m)."""
    a, b = (cr.tensor(v, dtype=D, requires_grad=True) for v in (a, b))
    m = a * b
    t = cr.tanh(m)
    dif = a - b
    sg = cr.sigmoid(dif)
    eb = cr.exp(b)
    e = eb / a
    m5 = m - 0.5
    rl = cr.relu(m5)
    r = rl ** 3
    lb = cr.log(b)
    ca = cr.cos(a)
    lg = lb * ca
    sm = cr.sin(m)
    s2 = sm + 2
    sn = s2 - a
    ts = t + sg
    nt = -ts
    er = e * r
    n = nt + er
    ls = lg * sn
    out = n + ls
    return out, dict(a=a, b=b, m=m, t=t, dif=dif, sg=sg, eb=eb, e=e, m5=m5, rl=rl, r=r, lb=lb,
                     ca=ca, lg=lg, sm=sm, s2=s2, sn=sn, ts=ts, nt=nt, er=er, n=n, ls=ls, out=out)


GRAPHS = {"lecture": lecture, "exercise-4-2": exercise_4_2, "exercise-4-4": exercise_4_4,
          "mlp": mlp, "elementary": elementary}


# =========================================================================================
# Without a browser
# =========================================================================================

@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_page_is_one_self_contained_file(graph, tmp_path):
    out, names = GRAPHS[graph]()
    page = cr.viz.stepper(out, tmp_path / "p.html", names=names)
    text = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert text == page.html and text.startswith("<!DOCTYPE html>")
    # nothing is fetched: no external script, style, font or image, and no URL but SVG's name
    assert not re.search(r"<script[^>]+src=|<link|@import|url\((?!#)", text)
    assert set(re.findall(r"https?://[^\s\"']+", text)) <= {"http://www.w3.org/2000/svg"}
    assert text.count("<svg") == 1 and 'aria-live="polite"' in text


def test_steps_of_the_lecture_graph():
    J, names = lecture()
    page = cr.viz.stepper(J, names=names)
    # start, three forward nodes, the seed, five edges, the check
    assert page.steps == ["start"] + ["forward"] * 3 + ["seed"] + ["backward"] * 5 + ["check"]
    assert page.live and "v[1] * v[2]" in page.html          # u = b·c, generated from the op
    units = {u["name"]: u for u in page.data["units"]}
    assert units["u"]["show"] == "b·c" and units["J"]["show"] == "3·v"
    edges = [page.data["edges"][s["edge"]] for s in page.data["backward"]]
    assert [e["sym"] for e in edges] == ["∂J/∂v", "∂v/∂a", "∂v/∂u", "∂u/∂b", "∂u/∂c"]
    assert [(e["formula"], e["local"]) for e in edges][3] == ("c", 2.0)


def test_explain_to_html_is_the_same_page(tmp_path):
    J, names = lecture()
    cr.explain(J, names=names).to_html(tmp_path / "a.html")
    cr.viz.stepper(J, tmp_path / "b.html", names=names)
    assert (tmp_path / "a.html").read_text() == (tmp_path / "b.html").read_text()


def test_save_is_atomic(tmp_path, monkeypatch):
    import chainrule._files as files
    J, names = lecture()
    (tmp_path / "p.html").write_text("the page from before")
    real = files.atomic_write
    calls = []

    def failing(path, mode, encoding=None):
        calls.append(path)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files, "atomic_write", failing)
    with pytest.raises(OSError):
        cr.viz.stepper(J, tmp_path / "p.html", names=names)
    assert calls and (tmp_path / "p.html").read_text() == "the page from before"
    monkeypatch.setattr(files, "atomic_write", real)
    cr.viz.stepper(J, tmp_path / "p.html", names=names)
    assert [p.name for p in tmp_path.iterdir()] == ["p.html"]     # no temporary file left


def test_jupyter_shows_the_page_in_an_iframe():
    J, names = lecture()
    page = cr.viz.stepper(J, names=names)
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in shown
    assert "Stepper: J, 11 steps, live inputs" in repr(page)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_layout_inputs_left_of_their_uses_and_no_overlap(graph):
    out, names = GRAPHS[graph]()
    data = cr.viz.stepper(out, names=names).data
    units = data["units"]
    for e in data["edges"]:
        a, b = units[e["from"]], units[e["to"]]
        assert a["x"] + a["w"] < b["x"], (a["name"], b["name"])
    for i, a in enumerate(units):
        assert 0 <= a["x"] and a["x"] + a["w"] <= data["width"] and a["y"] + a["h"] <= data["height"]
        for b in units[i + 1:]:
            apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or
                     a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
            assert apart, (a["name"], b["name"])


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_numbers_are_chainrules(graph):
    out, names = GRAPHS[graph]()
    values, grads = _facts(out, names)
    data = cr.viz.stepper(out, names=names).data
    units = data["units"]
    for u in units:
        if u["kind"] != "const" and u["scalar"]:
            np.testing.assert_allclose(u["value"], values[u["name"]], rtol=1e-12)
    final = {units[data["root"]]["name"]: data["seed"]}
    for s in data["backward"]:
        final[units[data["edges"][s["edge"]]["from"]]["name"]] = s["after"]
    for name, g in grads.items():
        if g.size == 1:
            np.testing.assert_allclose(final[name], g, rtol=1e-12)
        else:
            assert final[name] == f"shape {list(g.shape)}, ‖·‖ = {fmt(np.linalg.norm(g))}" \
                .replace("'", "")
    for c in data["checks"]:
        leaf = c["where"].split("[")[0]
        g = grads[leaf].reshape(-1)
        assert c["grad"] in g and abs(c["fd"] - c["grad"]) <= 1e-4 * max(1, abs(c["grad"]))


def test_not_live_for_tensors_and_unknown_ops():
    out, names = mlp()
    assert not cr.viz.stepper(out, names=names).live
    x = cr.tensor(0.5, requires_grad=True)
    assert not cr.viz.stepper(x.atan() * 2).live               # atan: no JavaScript given
    assert cr.viz.stepper(cr.tanh(x) * 2).live


def test_long_chains_collapse_as_viz_does():
    x = cr.tensor(0.3, dtype=D, requires_grad=True)
    y = x * 2
    for _ in range(6):
        y = cr.tanh(y)
    out = y * y
    page = cr.viz.stepper(out, max_nodes=4, names={"x": x, "out": out})
    kinds = [u["kind"] for u in page.data["units"]]
    assert kinds.count("chain") == 1 and "chain of 7 ops: mul ×1, tanh ×6" in page.html
    assert page.steps.count("forward") == 2 and not page.live
    (g,) = cr.autograd.grad(out, [x])
    assert page.data["checks"][0]["grad"] == pytest.approx(g.item(), rel=1e-12)
    assert len(cr.viz.stepper(out, show_all=True).steps) > len(page.steps)


def test_after_backward_and_errors():
    J, names = lecture()
    J.backward()
    page = cr.viz.stepper(J, names=names)                     # re-runs the recorded graph
    assert page.data["checks"][1]["grad"] == 6.0
    with pytest.raises(ValueError, match="leaf tensor"):
        cr.viz.stepper(cr.tensor(1.0, requires_grad=True))


def test_tour_html_writes_a_page_per_graph(tmp_path, monkeypatch):
    monkeypatch.setattr(tour, "SECTIONS", tour.SECTIONS[:3])
    monkeypatch.setattr("sys.stdout", __import__("io").StringIO())
    assert cli.main(["tour", "--no-pause", "--out", str(tmp_path / "d"),
                     "--html", str(tmp_path / "h")]) == 0
    pages = sorted(p.name for p in (tmp_path / "h").iterdir())
    assert pages == ["1-lecture-graph.html", "2-linear-loss.html", "3-exercise-4-2.html"]
    text = (tmp_path / "h" / "1-lecture-graph.html").read_text()
    assert "∂u/∂b" in text and "chainrule tour, 1. The computation graph of J" in text


# =========================================================================================
# In Chromium
# =========================================================================================

def _browser_paths():
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                     if shutil.which(n)), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
         if shutil.os.path.exists(p)), None)
    return chromium, driver


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="the browser tests need Selenium: pip install selenium (in "
        "the test extra)")
    chromium, driver_path = _browser_paths()
    if chromium is None or driver_path is None:
        pytest.skip("the browser tests need Chromium and its driver: apt-get install chromium "
                    "chromium-driver (found: chromium %s, chromedriver %s)" % (chromium, driver_path))
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,900"):
        options.add_argument(arg)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as e:      # noqa: BLE001 - a driver that does not start is a skip, said why
        pytest.skip(f"Chromium did not start under Selenium: {str(e).splitlines()[0]}")
    yield driver
    driver.quit()


def _open(browser, tmp_path, graph, **kw):
    out, names = GRAPHS[graph](**kw)
    path = tmp_path / f"{graph}.html"
    page = cr.viz.stepper(out, path, names=names)
    browser.get(path.as_uri())
    browser.get_log("browser")                  # start each page with an empty log
    return out, names, page


def _text(browser):
    return browser.find_element("id", "step-text").text


def _press(browser, key):
    from selenium.webdriver.common.keys import Keys
    browser.find_element("tag name", "body").send_keys(getattr(Keys, key))


def _errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _say(value):
    """What the page writes for a value: a number, or a tensor's shape and norm."""
    value = np.asarray(value, dtype=np.float64)
    if value.size == 1:
        return fmt(value.reshape(()))
    return f"shape [{', '.join(map(str, value.shape))}], ‖·‖ = {fmt(np.linalg.norm(value))}"


def _check_step(text, kind, out_name, values, grads, leaves):
    if kind == "start":
        assert text.startswith("Start: the input")
        for name in leaves:
            v = values[name]
            assert (f"{name} = {fmt(v)}" if v.size == 1 else
                    f"{name} (shape [{', '.join(map(str, v.shape))}])") in text
    elif kind == "forward":
        m = re.match(r"Forward pass, node \d+ of \d+: (\S+) = ", text)
        name = m.group(1)
        v = values[name]
        assert text.endswith(f" = {fmt(v)}.") if v.size == 1 else \
            text.endswith(f"a value of shape [{', '.join(map(str, v.shape))}].")
    elif kind == "seed":
        assert f"∂{out_name}/∂{out_name} = 1" in text
    elif kind == "backward":
        m = re.match(r"Backward pass, edge \d+ of \d+: from (\S+) back to (\S+)\. ", text)
        to, frm = m.groups()
        assert f"The gradient arriving at {to} is ∂{out_name}/∂{to} = {_say(grads[to])}." in text
        if f"∂{out_name}/∂{frm} = {_say(grads[frm])}." not in text:
            # not its last contribution: the text says what it has so far
            assert re.search(rf"∂{re.escape(out_name)}/∂{re.escape(frm)} (=|is now) ", text)
        assert "nan" not in text and "undefined" not in text
    else:
        assert text.startswith("Check:") and "✗" not in text
        for part in text.split(". ", 1)[1].rstrip(".").split("; "):
            where, rest = part.split(": autograd ")
            leaf = where.split("[")[0]
            g = grads[leaf]
            if "[" in where:
                index = tuple(int(i) for i in where[where.index("[") + 1:-1].split(", "))
                g = g[index]
            assert rest.startswith(fmt(g) + ", finite difference ") and rest.endswith("✓")


@pytest.mark.parametrize("graph", ["lecture", "exercise-4-2", "exercise-4-4", "mlp", "elementary"])
def test_step_through_in_chromium(browser, tmp_path, graph):
    out, names, page = _open(browser, tmp_path, graph)
    values, grads = _facts(out, names)
    out_name = next(k for k, t in names.items() if t is out)
    leaves = [k for k, t in names.items() if t.is_leaf and t.requires_grad]
    kinds = browser.execute_script("return window.chainruleStepper.steps")
    assert kinds == page.steps
    seen = []
    for k, kind in enumerate(kinds):
        text = _text(browser)
        assert browser.find_element("id", "counter").text == f"Step {k + 1} of {len(kinds)}"
        _check_step(text, kind, out_name, values, grads, leaves)
        seen.append(text)
        if kind == "backward" and k == kinds.index("backward") + 1:
            browser.save_screenshot(str(tmp_path / f"{graph}-backward.png"))
        _press(browser, "ARROW_RIGHT")
    _press(browser, "ARROW_RIGHT")                       # past the end: stays on the check
    assert _text(browser) == seen[-1]
    for k in range(len(kinds) - 1, -1, -1):             # ← back through every step
        assert _text(browser) == seen[k]
        _press(browser, "ARROW_LEFT")
    assert _text(browser) == seen[0]
    _press(browser, "END")
    assert _text(browser) == seen[-1]
    _press(browser, "HOME")
    assert _text(browser) == seen[0]
    browser.find_element("id", "next").click()
    assert _text(browser) == seen[1]
    browser.find_element("id", "last").click()
    assert _text(browser) == seen[-1] and browser.find_element("id", "check").is_displayed()
    browser.find_element("id", "first").click()
    assert _text(browser) == seen[0]
    assert (tmp_path / f"{graph}-backward.png").stat().st_size > 5000
    assert _errors(browser) == []


def test_the_lecture_example_in_chromium(browser, tmp_path):
    _open(browser, tmp_path, "lecture")
    browser.execute_script("window.chainruleStepper.go(8)")
    text = _text(browser)
    assert "from u back to b" in text and "∂u/∂b = c = 2" in text
    assert "∂J/∂u · ∂u/∂b = 3 · 2 = 6" in text
    assert "∂J/∂b = ∂J/∂v · ∂v/∂u · ∂u/∂b = 3 · 1 · 2 = 6" in text
    # the picture agrees: b's box shows its gradient, the edge its local derivative
    assert browser.find_element("css selector", "#n1 .grad").text == "∂J/∂b = 6"
    browser.save_screenshot(str(tmp_path / "lecture-edge-u-b.png"))
    assert _errors(browser) == []


def test_paths_meet_and_add_in_chromium(browser, tmp_path):
    out, names, page = _open(browser, tmp_path, "elementary")
    _press(browser, "END")
    texts = []
    for _ in page.steps:
        texts.append(_text(browser))
        _press(browser, "ARROW_LEFT")
    meet = [t for t in texts if "where paths meet, their contributions add" in t]
    assert meet
    values, grads = _facts(out, names)
    # a's last contribution (texts run from the end): the sum is autograd's ∂out/∂a
    last_a = next(t for t in texts if "back to a." in t)
    assert "where paths meet" in last_a and f" = {fmt(grads['a'])}." in last_a
    assert _errors(browser) == []
    # few paths are written out, one product each, and summed: y = x·x + x at x = 2
    x = cr.tensor(2.0, dtype=D, requires_grad=True)
    sq = x * x
    y = sq + x
    cr.viz.stepper(y, tmp_path / "paths.html", names={"x": x, "sq": sq, "y": y})
    browser.get((tmp_path / "paths.html").as_uri())
    _press(browser, "END")
    _press(browser, "ARROW_LEFT")
    assert _text(browser).endswith(
        "Along every path from y: ∂y/∂x = ∂y/∂x + ∂y/∂sq · (∂sq/∂x)_1 + ∂y/∂sq · (∂sq/∂x)_2 = "
        "1 + 1 · 2 + 1 · 2 = 5.")


def _type(browser, element_id, value):
    box = browser.find_element("id", element_id)
    box.clear()
    box.send_keys(str(value))


def _unit(page, name):
    return next(i for i, u in enumerate(page.data["units"]) if u["name"] == name)


@pytest.mark.parametrize("graph,changes", [
    ("lecture", {"b": 4.0}),
    ("lecture", {"a": -1.25, "c": 0.1}),
    ("elementary", {"a": 1.1, "b": 0.45}),
    ("elementary", {"a": -0.8}),                # relu at its flat side
])
def test_live_inputs_recompute_like_chainrule(browser, tmp_path, graph, changes):
    out, names, page = _open(browser, tmp_path, graph)
    for name, value in changes.items():
        _type(browser, f"in-{_unit(page, name)}", value)
    leaves = {k: t.item() for k, t in names.items() if t.is_leaf and t.requires_grad}
    leaves.update(changes)
    out2, names2 = GRAPHS[graph](**leaves)
    values, grads = _facts(out2, names2)
    shown = browser.execute_script("return window.chainruleStepper.numbers()")
    for i, u in enumerate(page.data["units"]):
        if u["kind"] != "const":
            assert math.isclose(shown["values"][i], float(values[u["name"]]), rel_tol=1e-9,
                                abs_tol=1e-12), u["name"]
    final = {page.data["units"][page.data["root"]]["name"]: 1.0}
    for s in shown["backward"]:
        final[page.data["units"][page.data["edges"][s["edge"]]["from"]]["name"]] = s["after"]
    for name, g in grads.items():
        assert math.isclose(final[name], float(g), rel_tol=1e-9, abs_tol=1e-12), name
    # and the visible text says so
    _press(browser, "END")
    text = _text(browser)
    for name, g in grads.items():
        if name in leaves:
            assert f"{name}: autograd {fmt(g)}, finite difference " in text
    assert "✗" not in text
    browser.find_element("id", "reset").click()
    assert browser.execute_script("return window.chainruleStepper.numbers()")["checks"] == \
        json.loads(json.dumps(page.data["checks"]))
    assert _errors(browser) == []


def test_live_recompute_at_the_start_agrees_with_chainrule(browser, tmp_path):
    out, names, page = _open(browser, tmp_path, "elementary")
    again = browser.execute_script("return window.chainruleStepper.recompute([])")
    for mine, theirs in zip(again["values"], page.data["units"]):
        if theirs["value"] is not None:
            assert math.isclose(mine, theirs["value"], rel_tol=1e-9, abs_tol=1e-12)
    for mine, theirs in zip(again["backward"], page.data["backward"]):
        assert math.isclose(mine["after"], theirs["after"], rel_tol=1e-9, abs_tol=1e-12)


def test_numbers_are_written_as_chainrule_writes_them(browser, tmp_path):
    _open(browser, tmp_path, "lecture")
    numbers = [6.0, 33.006, -0.25, 1.5e-07, 123456.7, 1234567.0, 0.1 + 0.2, 1e-5, 2 / 3, -1e20,
               1e15 + 2, 0.0001234, -0.000123456789, 99999.95, 999999.5, math.pi * 1e-9, -0.0]
    shown = browser.execute_script("return arguments[0].map(fmt)", numbers)
    assert shown == [fmt(v) for v in numbers]
    specials = browser.execute_script("return [fmt(NaN), fmt(Infinity), fmt(-Infinity)]")
    assert specials == [fmt(float(v)) for v in ("nan", "inf", "-inf")]


def test_vector_output_and_freed_values_in_chromium(browser, tmp_path):
    # a vector output: backward() seeds it with ones, as for the sum of its entries
    w = cr.tensor([1.0, -2.0, 0.5], dtype=D, requires_grad=True)
    y = w * 2 + 1
    page = cr.viz.stepper(y, tmp_path / "vector.html", names={"w": w, "y": y})
    browser.get((tmp_path / "vector.html").as_uri())
    texts = []
    for _ in page.steps:
        texts.append(_text(browser))
        _press(browser, "ARROW_RIGHT")
    assert "a gradient of ones (shape [3], ‖·‖ = 1.73205)" in texts[3]
    assert texts[-1].endswith("w[0]: autograd 2, finite difference 2 ✓.")
    assert _errors(browser) == []
    # after backward(), a big constant gone: shapes and the leaves' .grad only, said so
    W = cr.tensor(np.linspace(-1, 1, 100), requires_grad=True)

    def loss():
        x = cr.tensor(np.arange(100.0))
        return (W * x).sum()
    out = loss()
    out.backward()
    page = cr.viz.stepper(out, tmp_path / "freed.html", names={"W": W, "out": out})
    assert page.steps == ["start", "forward", "forward", "seed", "check"]
    browser.get((tmp_path / "freed.html").as_uri())
    assert "Shapes only: backward() has freed the values" in browser.find_element(
        "css selector", ".missing").text
    _press(browser, "END")
    norm = fmt(np.linalg.norm(np.arange(100.0)))
    assert f"The leaves' .grad: ∂out/∂W = shape [100], ‖·‖ = {norm}." in _text(browser)
    assert _errors(browser) == []


def test_the_slider_moves_the_number_box_and_the_numbers(browser, tmp_path):
    out, names, page = _open(browser, tmp_path, "lecture")
    c = _unit(page, "c")
    browser.execute_script(
        "const r = document.getElementById(arguments[0]); r.value = '4';"
        "r.dispatchEvent(new Event('input'));", f"range-{c}")
    assert browser.find_element("id", f"in-{c}").get_attribute("value") == "4"
    _press(browser, "END")
    # J = 3·(a + b·c) at c = 4: ∂J/∂b = 3·c = 12, ∂J/∂c = 3·b = 9
    assert "b: autograd 12, finite difference 12 ✓" in _text(browser)
    assert _errors(browser) == []


def test_a_collapsed_chain_in_chromium(browser, tmp_path):
    x = cr.tensor(0.3, dtype=D, requires_grad=True)
    y = x * 2
    for _ in range(6):
        y = cr.tanh(y)
    out = y * y
    page = cr.viz.stepper(out, tmp_path / "chain.html", max_nodes=4, names={"x": x, "out": out})
    browser.get((tmp_path / "chain.html").as_uri())
    texts = []
    for _ in page.steps:
        texts.append(_text(browser))
        _press(browser, "ARROW_RIGHT")
    (g,) = cr.autograd.grad(out, [x])
    assert any("chain of 7 ops: mul ×1, tanh ×6" in t for t in texts)
    last = next(t for t in texts if "back to x." in t)
    assert "the product of the chain's 7 local derivatives" in last
    assert last.endswith(f"So ∂out/∂x = {fmt(g.item())}.")
    assert _errors(browser) == []
