"""The registry's human formulas agree with its VJP rules.

Each entry gives, per input, ∂out/∂input as text in x, y, z (the inputs by position), out and the
op's parameters: the explainer prints it.  It is a second copy of the derivative, so here every
formula is translated into a Python expression, evaluated at one-element inputs sampled from the
op's domain, and compared with the op's VJP rule applied to g = 1.  The test walks the registry:
a new primitive is covered by its examples, and a formula this file cannot read fails.

One-element inputs come from the op's own examples, run with every shape's sizes set to 1 (0-d
stays 0-d); an op none of whose examples runs that way needs a case in ONE_ELEMENT_CASES.
"""
import ast
import inspect
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule._fns import ArrayF, dense
from chainrule.tensor import Tensor
from chainrule.tracing import tracing
from sampling import domains, find_node, sample


def _iverson(p):
    return np.asarray(p, dtype=np.float64)


def _softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


FUNCTIONS = {
    "exp": np.exp, "log": np.log, "ln": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "sign": np.sign, "abs": np.abs, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "softmax": _softmax, "norm": lambda v: np.sqrt(np.sum(v * v)), "I": _iverson,
    "T": np.transpose, "prod": np.prod, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc,
    "round": np.round,
}
# functions NumPy lacks that the special functions' formulas name (ψ, Γ, besselI, ...)
from references_special import FORMULA_FUNCTIONS  # noqa: E402

FUNCTIONS.update(FORMULA_FUNCTIONS)
from references_fused import FORMULA_FUNCTIONS as FUSED_FUNCTIONS  # noqa: E402

FUNCTIONS.update(FUSED_FUNCTIONS)

# Words that describe a place inside a tensor, with what they are at one element.  A formula
# using a word not listed here (nor an input, out, a parameter or a function above) fails.
ONE_ELEMENT_WORDS = {
    "δ": "1.0",                 # Kronecker δ between an output and an input element: the same one
    "#ties": "1",               # elements tied for the extreme: just this one
    "others": "np_empty",       # the other elements of the reduced group: none (Π of none = 1)
    "is the max": "= out",      # max_dim's winner: the one element is the max
    "is the min": "= out",
    "= max": "= out",           # amax: out is the max
    "= min": "= out",
    "row = index": "True",      # embedding: the only row is the one indexed
    "at index": "at_index",     # index_put: whether the element is one the index assigns
    "divisor": "(x / out)",     # avg_pool: what the window's sum was divided by
    "cond": "x",                # where's condition: its first input
}

SYMBOLS = [("·", "*"), ("^", "**"), ("²", "**2"), ("³", "**3"), ("≤", "<="), ("≥", ">="),
           ("≠", "!="), ("[", " I("), ("]", ")"), ("π", " pi "), ("σ", " sigmoid"),
           ("β", " beta "), ("Π", " prod"), ("ᵀ", ".T")]

_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call, ast.Name,
            ast.Constant, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def translate(formula):
    """A registry formula as a Python expression over the names above, or ValueError."""
    text = formula
    for word, meaning in sorted(ONE_ELEMENT_WORDS.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(word, f" {meaning} ")
    text = re.sub(r"‖([^‖]+)‖", r" norm(\1)", text)
    text = re.sub(r"√\s*(\w+|\([^()]*\))", r" sqrt(\1)", text)
    for sym, py in SYMBOLS:
        text = text.replace(sym, py)
    text = re.sub(r"(?<![<>!=])=(?!=)", "==", text)
    text = re.sub(r"(\w+)\.T\b", r"T(\1)", text)
    # implicit products: 2x, βx, x(1 - x), )( ...
    text = re.sub(r"(\d)\s*([A-Za-z(])", r"\1*\2", text)
    text = re.sub(r"\)\s*([A-Za-z0-9(])", r")*\1", text)
    text = re.sub(r"\b(x|y|z|out|beta|pi)\s+(?=[A-Za-z(])(?!and\b|or\b|not\b|if\b)", r"\1*", text)
    text = re.sub(r"\b(x|y|z|out)\(", r"\1*(", text)
    text = " ".join(text.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"formula {formula!r} reads as {text!r}, which does not parse: {e}")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.Call) and
                                               not isinstance(node.func, ast.Name)):
            raise ValueError(f"formula {formula!r} reads as {text!r}: "
                             f"{type(node).__name__} is not allowed in a formula")
    return text, tree


def evaluate(formula, names):
    text, tree = translate(formula)
    unknown = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(names)
    if unknown:
        raise ValueError(f"formula {formula!r} uses {sorted(unknown)}: write it in x, y, z, out "
                         f"and the op's parameters, or give the word a one-element meaning in "
                         f"ONE_ELEMENT_WORDS")
    return eval(compile(tree, "<formula>", "eval"), {"__builtins__": {}}, dict(names))


# A parameter left out (None) that a formula names: clamp's absent bounds.
ABSENT = {"min": -np.inf, "max": np.inf}


def _namespace(args, out, params):
    names = dict(FUNCTIONS, pi=np.pi, np_empty=np.ones(0), out=out)
    names.update({k: ABSENT.get(k) if v is None else v for k, v in (params or {}).items()})
    names.update(zip("xyz", args))
    if "index" in (params or {}) and isinstance(args[0], np.ndarray):
        hit = np.zeros(args[0].shape, bool)
        hit[params["index"]] = True
        names["at_index"] = hit
    return names


# Primitives with no example that runs on one element (the adjoint-only ones, and ops whose
# examples all make or need several elements): the call, as (arrays, params), in float64.
ONE_ELEMENT_CASES = {
    "index_put": lambda rng: [([rng.uniform(-2, 2, (1,)), rng.uniform(-2, 2, ())], {"index": i})
                              for i in ((0,), (slice(0, 0),))],
    "cat": lambda rng: ([rng.uniform(-2, 2, (1,))], {"dim": 0}),
    "stack": lambda rng: ([rng.uniform(-2, 2, ())], {"dim": 0}),
    "repeat": lambda rng: ([rng.uniform(-2, 2, (1,))], {"sizes": (1,)}),
    "embedding": lambda rng: ([rng.uniform(-2, 2, (1, 1)), np.asarray(0)], {}),
    "index_scatter": lambda rng: ([rng.uniform(-2, 2, ())],
                                  {"shape": (), "index": (), "accumulate": False}),
}


def one_element_calls(op, seed):
    """(args, params) of calls of ``op`` on one-element inputs, from its examples."""
    rng = np.random.default_rng(seed)
    calls = []
    for ex in op.examples:
        shapes = [(1,) * len(s) for s in ex[1:]]
        arrays = [sample(s, d, rng) for s, d in zip(shapes, domains(op, len(shapes)))]
        xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
        try:
            with tracing() as trace:
                out = eval(ex[0], {"float": float}, dict(zip("xyz", xs), m=cr))
        except Exception:               # the example needs more than one element
            continue
        node = find_node(out, op) if isinstance(out, Tensor) else None
        if node is None:
            continue
        args = [v._data if isinstance(v, Tensor) else v for v in trace.inputs_of()[node]]
        if all(np.size(a) == 1 for a in args if isinstance(a, np.ndarray)) and \
                np.size(op.forward(*args, **(node.params or {}))) == 1:
            calls.append((args, node.params or {}))
    if op.name in ONE_ELEMENT_CASES:
        case = ONE_ELEMENT_CASES[op.name](rng)
        calls += case if isinstance(case, list) else [case]
    return calls


def _depends(op, args, params, j):
    """Whether the output changes when input j moves (far: kinks and steps are crossed)."""
    out = op.forward(*args, **params)
    a = args[j]
    with np.errstate(all="ignore"):
        for moved in (a + 10, a - 10, -a):
            changed = op.forward(*args[:j], np.asarray(moved), *args[j + 1:], **params)
            if not np.array_equal(changed, out, equal_nan=True):
                return True
    return False


def _unread(op, args, params, j):
    """Input j is outside what the output reads, while another input is read: a convolution's
    window that covers only padding (out = bias).  A formula describes the elements an output
    reads, so such a call is no check of it.  (An output that reads nothing, like softmax over
    one element, is checked: its derivative is 0.)"""
    floats = [k for k, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return not _depends(op, args, params, j) and any(
        _depends(op, args, params, k) for k in floats if k != j)


def _vjp(op, i, g, out, args, params):
    """Input i's VJP through the op's one call, as the engine makes it."""
    return dense(op.vjp(ArrayF, g, out, args, params, [True if j == i else None for j in range(len(args))])[i])


FORMULA_CASES = [(name, i) for name, op in sorted(ops.REGISTRY.items())
                 for i, f in enumerate(op.formulas) if f is not None]


@pytest.mark.parametrize("name,i", FORMULA_CASES, ids=[f"{n}-{i}" for n, i in FORMULA_CASES])
def test_formula_matches_the_vjp_rule(name, i):
    op = ops.REGISTRY[name]
    formula = op.formulas[i]
    checked = 0
    for seed in range(3):
        for args, params in one_element_calls(op, seed):
            inputs = range(len(args)) if op.nary else [i]
            for j in inputs:
                if j >= len(args) or not (isinstance(args[j], np.ndarray) and args[j].dtype.kind == "f"):
                    continue                # a number, an index, a condition: no gradient
                if _unread(op, args, params, j):
                    continue
                out = np.asarray(op.forward(*args, **params))
                g = np.ones_like(out)
                rule = _vjp(op, j, g, out, args, params)
                want = np.zeros(1) if rule is None else np.ravel(np.asarray(rule))
                got = np.ravel(np.asarray(evaluate(formula, _namespace(args, out, params)),
                                          dtype=np.float64))
                assert got.size == 1 and want.size == 1, (name, got, want)
                np.testing.assert_allclose(
                    got, want, rtol=1e-10, atol=1e-12,
                    err_msg=f"{name}: the formula of input {j}, {formula!r}, says {got[0]!r} at "
                            f"{[np.ravel(a)[0] if isinstance(a, np.ndarray) else a for a in args]}"
                            f" ({params}); its VJP rule gives {want[0]!r}")
                checked += 1
    assert checked, (f"{name}: no one-element call to check its formula on: add an example that "
                     "runs on one-element inputs, or a case to ONE_ELEMENT_CASES")


def test_every_formula_parses():
    bad = []
    for name, op in sorted(ops.REGISTRY.items()):
        for f in op.formulas:
            if f is None:
                continue
            try:
                translate(f)
            except ValueError as e:
                bad.append(f"{name}: {e}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("formula,names,value", [
    ("y·x^(y - 1)", {"x": 2.0, "y": 3.0}, 12.0),
    ("-x/y²", {"x": 1.0, "y": 2.0}, -0.25),
    ("(2/√π)·exp(-x²)", {"x": 0.0}, 2 / np.sqrt(np.pi)),
    ("(x - y)/(x(1 - x))", {"x": 0.5, "y": 1.0}, -2.0),
    ("[min ≤ x ≤ max]", {"x": 0.3, "min": -0.5, "max": 0.5}, 1.0),
    ("[x ≥ y]", {"x": 0.3, "y": 0.5}, 0.0),
    ("σ(βx)", {"x": 0.0, "beta": 2.0}, 0.5),
    ("out·(1 - out)", {"out": 0.25}, 0.1875),
])
def test_translation(formula, names, value):
    assert evaluate(formula, dict(FUNCTIONS, pi=np.pi, **names)) == pytest.approx(value)


@pytest.mark.parametrize("formula", ["__import__('os')", "x.__class__", "lambda: 1", "x if x else 1",
                                     "open('f')", "2 +", "foo(x)", "w·x"])
def test_unreadable_or_unsafe_formulas_are_refused(formula):
    with pytest.raises(ValueError):
        evaluate(formula, dict(FUNCTIONS, x=np.asarray(1.0)))


def test_a_wrong_formula_is_caught(monkeypatch):
    monkeypatch.setattr(ops.REGISTRY["sin"], "formulas", ("-cos(x)",))
    with pytest.raises(AssertionError, match="sin: the formula of input 0"):
        test_formula_matches_the_vjp_rule("sin", 0)
