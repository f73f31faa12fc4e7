"""``check_derivation``: derivatives worked out by hand, checked against autograd's, at the given
inputs and at random points nearby (for learners)."""
import inspect

from .._backend import xp
from ..engine import grad as _grad
from ..grad_mode import no_grad
from ..tensor import Tensor, wrap
from ._jacobians import as_tuple


# =========================================================================================
# check_derivation: a hand-worked derivative against autograd
# =========================================================================================

class DerivationResult:
    """One input's verdict: ``name``, ``index``, ``right``, and the values at the point shown."""

    __slots__ = ("name", "index", "right", "yours", "autograd", "at", "wrong_points", "points",
                 "problem")

    def __init__(self, name, index, right, yours, autograd, at, wrong_points, points,
                 problem=None):
        self.name = name
        self.index = index
        self.right = right
        self.yours = yours              # arrays at the point shown: the first where it is wrong
        self.autograd = autograd
        self.at = at                    # {input name: value} of that point
        self.wrong_points = wrong_points
        self.points = points
        self.problem = problem

    def __repr__(self):
        return (f"DerivationResult(name={self.name!r}, right={self.right}, "
                f"wrong at {self.wrong_points} of {self.points} points)")


class DerivationReport:
    """What ``check_derivation`` found: ``ok``, ``results`` (one per input checked); print it.

    Its truth value is ``ok``: ``assert check_derivation(...)`` fails when a derivative is wrong.
    """

    def __init__(self, output_name, results, points, rtol, atol):
        self.output_name = output_name
        self.results = results
        self.points = points
        self.rtol = rtol
        self.atol = atol

    @property
    def ok(self):
        return bool(self.results) and all(r.right for r in self.results)

    def __bool__(self):
        return self.ok

    def _label(self, r):
        return f"∂{self.output_name}/∂{r.name}"

    def __str__(self):
        width = max((len(self._label(r)) for r in self.results), default=0) + 1
        lines = []
        for r in self.results:
            verdict = "right" if r.right else "WRONG"
            if r.problem:
                detail = r.problem
            else:
                detail = (f"yours {_fmt(r.yours)}, autograd {_fmt(r.autograd)} at "
                          + ", ".join(f"{k}={_fmt_point(v)}" for k, v in r.at.items()))
            if not r.right and r.wrong_points < r.points:
                detail += f"; right at {r.points - r.wrong_points} of {r.points} points"
            lines.append(f"{(self._label(r) + ':').ljust(width)} {verdict}   ({detail})")
        lines.append(f"Checked at the given inputs and {self.points - 1} random points nearby "
                     f"(rtol={self.rtol:g}, atol={self.atol:g}).")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self):
        rows = ["| derivative | verdict | yours | autograd | at |", "|---|---|---|---|---|"]
        for r in self.results:
            verdict = "right" if r.right else "**WRONG**"
            at = ", ".join(f"{k}={_fmt_point(v)}" for k, v in r.at.items())
            yours = r.problem or _fmt(r.yours)
            rows.append(f"| ∂{self.output_name}/∂{r.name} | {verdict} | {yours} | "
                        f"{_fmt(r.autograd)} | {at} |")
        rows.append("")
        rows.append(f"Checked at the given inputs and {self.points - 1} random points nearby "
                    f"(rtol={self.rtol:g}, atol={self.atol:g}).")
        return "\n".join(rows)


def _fmt(a):
    a = xp.asarray(a)
    if a.size == 1:
        return f"{float(a.reshape(-1)[0]):.4f}"
    return xp.array2string(a, precision=4, floatmode="fixed", separator=", ", threshold=12)


def _fmt_point(a):
    a = xp.asarray(a)
    if a.size == 1:
        return f"{float(a.reshape(-1)[0]):.4g}"
    return xp.array2string(a, precision=3, separator=", ", threshold=8)


def _input_names(func, n):
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            break
    return [names[i] if i < len(names) else f"input{i}" for i in range(n)]


def _as_float64(value, what):
    if isinstance(value, Tensor):
        value = value.detach()._data
    try:
        return xp.array(value, dtype=xp.float64)
    except (TypeError, ValueError):
        raise TypeError(f"check_derivation: {what} is a {type(value).__name__}; give numbers, "
                        "tensors or arrays") from None


def check_derivation(func, derivation, inputs, *, points=5, rtol=1e-5, atol=1e-8, seed=0):
    """Compare derivatives you worked out by hand with autograd's, input by input.

    ``func(*inputs)`` returns a scalar tensor (a loss); ``derivation(*inputs)`` returns your
    ∂func/∂input as a dict ``{name or index: value}`` (only the inputs you derived) or a tuple
    with one entry per input (None to skip one).  Both are evaluated at ``inputs`` and at
    ``points`` random points nearby (float64, seeded by ``seed``); a derivative is right if it
    matches autograd everywhere within ``rtol``/``atol``.  ``func`` receives float64 tensors;
    ``derivation`` receives values of the kinds given (numbers, tensors or arrays).

    >>> def loss(x, w, y):
    ...     return (x * w - y) ** 2
    >>> print(chainrule.check_derivation(loss, lambda x, w, y: {"w": 2 * x * (x * w - y)},
    ...                                  (2.0, 1.0, 4.0)))
    ∂loss/∂w: right   (yours -8.0000, autograd -8.0000 at x=2, w=1, y=4)
    Checked at the given inputs and 5 random points nearby (rtol=1e-05, atol=1e-08).
    """
    if isinstance(inputs, dict):        # {name: value}: put them in func's parameter order
        order = _input_names(func, len(inputs))
        names = [n for n in order if n in inputs] + [n for n in inputs if n not in order]
        given = [inputs[n] for n in names]
    else:
        given = list(as_tuple(inputs))
        names = _input_names(func, len(given))
    kinds = ["tensor" if isinstance(v, Tensor) else
             "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else "array"
             for v in given]
    base = [_as_float64(v, f"input {n}") for v, n in zip(given, names)]
    rng = xp.random.default_rng(seed)
    at = [base] + [[a + rng.uniform(-0.5, 0.5, a.shape) * xp.maximum(1.0, xp.abs(a))
                    for a in base] for _ in range(points)]
    fname = getattr(func, "__name__", "f")
    output_name = fname if fname.isidentifier() else "f"

    found = {}                          # index -> [right?, yours, autograd, point] per point
    problems = {}
    for point in at:
        auto = _autograd_at(func, point, output_name, names)
        yours = _derivation_at(derivation, point, kinds, names)
        for i, value in yours.items():
            want = auto[i]
            mine = _as_float64(value, f"your ∂{output_name}/∂{names[i]}")
            if mine.size == want.size:
                mine = mine.reshape(want.shape)
                with xp.errstate(all="ignore"):
                    right = bool(xp.allclose(mine, want, rtol=rtol, atol=atol))
            else:
                right = False
                problems[i] = (f"yours has shape {tuple(mine.shape)}, but {names[i]} has shape "
                               f"{tuple(want.shape)}: a derivative has its input's shape")
            found.setdefault(i, []).append((right, mine, want, point))

    results = []
    for i in sorted(found):
        checks = found[i]
        wrong = [c for c in checks if not c[0]]
        _, mine, want, point = wrong[0] if wrong else checks[0]
        shown = {n: v for n, v in zip(names, point)}
        results.append(DerivationResult(names[i], i, not wrong, mine, want, shown, len(wrong),
                                        len(checks), problems.get(i)))
    return DerivationReport(output_name, results, len(at), rtol, atol)


def _autograd_at(func, point, output_name, names):
    leaves = [wrap(a.copy(), requires_grad=True) for a in point]
    out = func(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"check_derivation: {output_name}(...) returned a {type(out).__name__}; "
                        "it must return a scalar Tensor (e.g. the loss), built with chainrule "
                        "operations from the tensors it receives")
    if out.numel() != 1:
        raise ValueError(f"check_derivation: {output_name}(...) returned a tensor of shape "
                         f"{tuple(out.shape)}; it must return a scalar (reduce it, e.g. .sum())")
    if not out.requires_grad:
        return [xp.zeros(a.shape) for a in point]
    grads = _grad(out, leaves, allow_unused=True, materialize_grads=True)
    return [g._data.astype(xp.float64) for g in grads]


def _derivation_at(derivation, point, kinds, names):
    """{input index: your value} at ``point``."""
    args = [float(a) if k == "number" else wrap(a.copy()) if k == "tensor" else a.copy()
            for a, k in zip(point, kinds)]
    with no_grad():
        given = derivation(*args)
    n = len(names)
    if isinstance(given, dict):
        out = {}
        for key, value in given.items():
            if isinstance(key, str):
                if key not in names:
                    raise KeyError(f"check_derivation: your derivation gives a value for "
                                   f"{key!r}, but the inputs are named {', '.join(names)}")
                out[names.index(key)] = value
            elif isinstance(key, int) and -n <= key < n:
                out[key % n] = value
            else:
                raise KeyError(f"check_derivation: your derivation gives a value for {key!r}: "
                               f"use an input's name ({', '.join(names)}) or index (0 to {n - 1})")
        return out
    if not isinstance(given, (tuple, list)):
        given = (given,)
    if len(given) != n:
        raise ValueError(f"check_derivation: your derivation returned {len(given)} values for "
                         f"{n} inputs ({', '.join(names)}): return one per input (None to skip "
                         "one), or a dict {name: value}")
    return {i: v for i, v in enumerate(given) if v is not None}
