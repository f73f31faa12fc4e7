"""``chainrule tour``: the back-propagation lecture, worked by chainrule in your terminal.

Run ``chainrule tour`` (or ``python -m chainrule tour``); ``--no-pause`` runs straight through,
``--out DIR`` says where the drawings go (default ``chainrule-tour/``) and ``--html DIR`` writes,
for each graph, a web page that steps through its back-propagation (``chainrule.viz.stepper``).
"""
import contextlib
import os
import runpy
import sys

import chainrule as torch

RULE = "─" * 78


class Tour:
    def __init__(self, out_dir, pause, stream, html_dir=None):
        self.out_dir = out_dir
        self.html_dir = html_dir
        self.pause = pause
        self.stream = stream
        self.saved = []
        self.svg_problem = None     # why SVG drawings can't be made (said once)
        self.current = "chainrule tour"

    def say(self, *parts, sep=" "):
        print(*parts, sep=sep, file=self.stream)

    def section(self, number, title):
        self.current = f"chainrule tour, {number}. {title}"     # the stepper pages' title
        self.say()
        self.say(RULE)
        self.say(f"{number}. {title}")
        self.say(RULE)

    def wait(self):
        if self.pause:
            try:
                input("\n[Enter] for the next section, Ctrl-C to stop ")
            except EOFError:
                self.pause = False

    def draw(self, output, stem, names):
        """Save the drawing as .dot, and as .svg too when Graphviz is installed (else say, once,
        what the SVG needs).  Drawing.save writes each file atomically."""
        drawing = torch.viz.draw(output, names=names)
        os.makedirs(self.out_dir, exist_ok=True)
        paths = [drawing.save(os.path.join(self.out_dir, stem + ".dot"))]
        if self.svg_problem is None:
            try:
                paths.append(drawing.save(os.path.join(self.out_dir, stem + ".svg")))
            except (ImportError, RuntimeError) as e:
                self.svg_problem = str(e)
                self.say(f"(Only .dot drawings, no .svg: {e})")
        self.saved.extend(paths)
        self.say(f"Drawing: {', '.join(paths)}")
        if self.html_dir is not None:
            os.makedirs(self.html_dir, exist_ok=True)
            page = torch.viz.stepper(output, os.path.join(self.html_dir, stem + ".html"),
                                     names=names, title=self.current)
            self.saved.append(os.path.join(self.html_dir, stem + ".html"))
            self.say(f"Step through it in a browser: {self.saved[-1]} ({len(page.steps)} steps)")


def lecture_graph(t):
    t.section(1, "The computation graph of J = 3·(a + b·c)")
    t.say("The lecture splits J into steps, u = b·c and v = a + u, so each step has a simple\n"
          "local derivative. chainrule records the same graph as the code runs:\n")
    a = torch.tensor(5.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    c = torch.tensor(2.0, requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    names = dict(a=a, b=b, c=c, u=u, v=v, J=J)
    t.say("    a, b, c = 5, 3, 2\n    u = b * c\n    v = a + u\n    J = 3 * v\n")
    t.say(str(torch.explain(J, wrt=[a, b, c, u], names=names)))
    t.say("Nudging b by 0.001 moves J by 6 × 0.001, nudging u moves it by 3 × 0.001: the\n"
          "gradient is how fast J moves per unit of the input. (1)")
    t.draw(J, "1-lecture-graph", names)
    J.backward()
    t.say(f"\nPyTorch-style: J.backward() then a.grad, b.grad, c.grad = {a.grad}, {b.grad}, "
          f"{c.grad}")


def linear_loss(t):
    t.section(2, "The loss of a linear model: ŷ = w·x, s = ŷ − y, loss = s²")
    x, y = torch.tensor(1.0), torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)
    y_hat = w * x
    s = y_hat - y
    loss = s ** 2
    names = {"x": x, "y": y, "w": w, "ŷ": y_hat, "s": s, "loss": loss}
    t.say("At x = 1, y = 2, w = 1:\n")
    t.say(str(torch.explain(loss, names=names)))
    t.draw(loss, "2-linear-loss", names)


def exercise_4_2(t):
    t.section(3, "Exercise 4.2: ŷ = w·x + b at x = 1, y = 2, w = 1, b = 2")
    x, y = torch.tensor(1.0), torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    wx = w * x
    y_hat = wx + b
    s = y_hat - y
    loss = s ** 2
    names = {"x": x, "y": y, "w": w, "b": b, "wx": wx, "ŷ": y_hat, "s": s, "loss": loss}
    t.say(str(torch.explain(loss, names=names)))
    t.say("Answer: ∂loss/∂w = 2·s·x = 2 and ∂loss/∂b = 2·s = 2 (s = ŷ − y = 1).")
    t.draw(loss, "3-exercise-4-2", names)


def training(t):
    t.section(4, "Training y = w·x by gradient descent (the lecture's PyTorch script)")
    from .cli import example_path
    path = example_path("lecture_linear")
    t.say("The lecture's script, examples/lecture_linear.py, is PyTorch code with its two import\n"
          "lines changed to `import chainrule as torch`. It prints what PyTorch prints:\n")
    with contextlib.redirect_stdout(t.stream):
        runpy.run_path(str(path), run_name="__main__")

def exercise_4_4(t):
    t.section(5, "Exercise 4.4: ŷ = x²·w2 + x·w1 + b, loss = (ŷ − y)²")
    x, y = torch.tensor(2.0), torch.tensor(4.0)
    w1 = torch.tensor(1.0, requires_grad=True)
    w2 = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    x2 = x * x
    q = x2 * w2
    p = x * w1
    y_hat = q + p + b
    s = y_hat - y
    loss = s ** 2
    names = {"x": x, "y": y, "w1": w1, "w2": w2, "b": b, "x²": x2, "q": q, "p": p,
             "ŷ": y_hat, "s": s, "loss": loss}
    t.say("At x = 2, y = 4, w1 = w2 = 1, b = 0. The registry's formulas along each path give the\n"
          "derivatives symbolically, then numerically:\n")
    t.say(str(torch.explain(loss, wrt=[w1, w2], names=names)))
    t.draw(loss, "5-exercise-4-4", names)

    def model_loss(x, y, w1, w2, b):
        y_hat = x * x * w2 + x * w1 + b
        return (y_hat - y) ** 2

    def derivation(x, y, w1, w2, b):
        y_hat = x * x * w2 + x * w1 + b
        return {"w1": 2 * x * (y_hat - y), "w2": 2 * x * x * (y_hat - y)}

    t.say("The exercise's answer, ∂loss/∂w1 = 2x(ŷ − y) and ∂loss/∂w2 = 2x²(ŷ − y), checked by\n"
          "check_derivation at this point and at random points nearby:\n")
    report = torch.check_derivation(model_loss, derivation,
                                    (x, y, w1.detach(), w2.detach(), b.detach()))
    t.say(str(report))


def two_layer_network(t):
    t.section(6, "The same machinery at scale: a two-layer network on handwritten digits")
    from chainrule import nn
    import chainrule.nn.functional as F
    from chainrule.utils.data import DataLoader, TensorDataset, random_split
    from chainrule.datasets import load_digits     # shipped with chainrule: NumPy is enough
    x, y = load_digits()
    x, what = x / 16.0, "1,797 handwritten digits (8×8 pixels, 10 classes; the UCI set)"
    torch.manual_seed(0)
    classes = int(y.max()) + 1
    model = nn.Sequential(nn.Linear(x.shape[1], 32), nn.Tanh(), nn.Linear(32, classes))
    t.say(f"Data: {what}. Model:\n{model}\n")
    xb, yb = x[:8], y[:8]
    h = model[0](xb)
    a = model[1](h)
    logits = model[2](a)
    loss = F.cross_entropy(logits, yb)
    names = {"x": xb, "W1": model[0].weight, "b1": model[0].bias, "h": h, "a": a,
             "W2": model[2].weight, "b2": model[2].bias, "logits": logits, "loss": loss}
    t.say("One batch of 8 examples through it, explained. With matrices, each edge shows the\n"
          "vector-Jacobian product backward() applies (g ↦ gᵀ·x), not a Jacobian:\n")
    t.say(str(torch.explain(loss, names=names)))
    t.draw(loss, "6-two-layer-network", names)

    train_set, test_set = random_split(TensorDataset(x, y), [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(0))
    loader = DataLoader(train_set, batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    x_test, y_test = test_set[:]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    t.say("\nTrained with the same loop as section 4, now over batches with an optimizer:\n")
    for epoch in range(1, 11):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
        t.say(f"epoch {epoch:2d}: last batch loss {loss.item():.4f}, "
              f"held-out accuracy {accuracy:.1%}")
    t.say("\nMore: chainrule train digits-mlp (or digits-cnn, moons, ...) and examples/.")


def exercise_4_3(t):
    t.section(7, "Exercise 4.3: the computation graph and back-propagation, from scratch")
    import inspect
    from .cli import load_example
    from .exercises import check_engine, reference_path
    scratch = load_example("from_scratch")
    path = reference_path()
    t.say("chainrule's engine is built for speed and PyTorch's API. The exercise's answer fits in\n"
          "one file of NumPy, examples/from_scratch.py, to read top to bottom (installed as\n"
          f"{path}).\n"
          "A Value records its inputs and a rule from the upstream gradient g to each input's\n"
          "share, g times the local derivative:\n")
    t.say(textwrap_indent(inspect.getsource(scratch.Value.__mul__)))
    t.say("backward() seeds the output's gradient with 1, then visits every value after all the\n"
          "values that consume it, multiplying along each path and adding over paths:\n")
    t.say(textwrap_indent(inspect.getsource(scratch.Value.backward)))
    t.say("The order comes from a depth-first search with an explicit stack (no recursion, so a\n"
          "chain of 100,000 ops is fine), and broadcasting is undone in one helper:\n")
    t.say(textwrap_indent(inspect.getsource(scratch.topological_order)))
    a, b, c = scratch.Value(5.0), scratch.Value(3.0), scratch.Value(2.0)
    J = 3 * (a + b * c)
    J.backward()
    t.say(f"On the lecture's graph: J = {J.data:g}, a.grad, b.grad, c.grad = {a.grad:g}, "
          f"{b.grad:g}, {c.grad:g}.\n")
    t.say("chainrule.exercises.check_engine (or `chainrule check-engine your_file.py`) checks an\n"
          "engine like this one, yours included, on a battery of graphs against chainrule:")
    report = check_engine(scratch.Value)
    t.say("  " + str(report).splitlines()[-1] + "\n")
    t.say("The same file with one classic slip, `inp.grad = ...` where it must be `inp.grad += ...`\n"
          "(assigning a gradient instead of adding over paths):\n")
    broken = path.read_text().replace("inp.grad += unbroadcast", "inp.grad = unbroadcast")
    namespace = {}
    exec(compile(broken, "broken_engine.py", "exec"), namespace)
    t.say(str(check_engine(namespace["Value"])))


def textwrap_indent(source):
    import textwrap
    return textwrap.indent(textwrap.dedent(source).rstrip(), "    ") + "\n"


def footnote(t):
    t.say()
    t.say(RULE)
    t.say("(1) Two slips in the lecture's text, corrected here: J = 3·v, where the text once writes "
          "J = 2·(a + b·c);\n    and nudging b to 3.001 gives J = 33.006, nudging u to 6.001 "
          "gives J = 33.003\n    (the text writes 33.0006 and 33.0003).")
    if t.saved:
        t.say(f"The drawings are in {t.out_dir}/.")
    if t.html_dir is not None:
        t.say(f"The pages that step through each graph are in {t.html_dir}/: open one in a "
              "browser.")


SECTIONS = [lecture_graph, linear_loss, exercise_4_2, training, exercise_4_4, two_layer_network,
            exercise_4_3]


def run(out_dir="chainrule-tour", pause=True, stream=None, html_dir=None):
    """Walk through the lecture; returns the paths of the drawings (and pages) written.
    ``html_dir``: also write a stepping web page for each graph there."""
    t = Tour(out_dir, pause and sys.stdin is not None and sys.stdin.isatty(), stream or sys.stdout,
             html_dir)
    t.say("chainrule tour: back-propagation, worked step by step. Each section computes with\n"
          "chainrule and prints the chain-rule work that PyTorch's backward() does silently.")
    for k, section in enumerate(SECTIONS):
        section(t)
        if k < len(SECTIONS) - 1:
            t.wait()
    footnote(t)
    return t.saved
