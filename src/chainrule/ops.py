"""The op registry: every differentiable primitive, one entry each.

An entry holds the op's forward (on arrays), one VJP rule per input, the human formula of each
local derivative (read by the explainer and the docs), the input domain that tests sample from,
and example calls through the public API (run on chainrule, and on torch when it is installed).
No derivative code lives anywhere else.

VJP rules are ``rule(F, g, out, *inputs, **params)``: ``g`` is the gradient arriving at the op's
output, ``out`` its result, ``x, y, ...`` its inputs, and ``F`` the namespace of functions the rule
may call (see ``_fns.py``).  A rule returns the gradient for its input in the *broadcast* shape;
the engine sums it back to the input's shape and dtype (un-broadcasting lives in one place).

Everything else (mean, var, softmax's module form, losses, ...) is composed from these entries in
``functional.py`` and needs no rule.  A primitive is added only for numerical stability or speed,
and says which.
"""
from ._backend import xp

REGISTRY = {}


class Primitive:
    """One differentiable operation.  See the module docstring."""

    __slots__ = ("name", "backward_name", "forward", "vjps", "formulas", "vjp_texts", "saves",
                 "reads", "saves_out", "domain", "examples", "nary", "doc", "show")

    def __init__(self, name, forward, vjps, *, backward_name, formulas, vjp_texts, saves,
                 reads, saves_out, domain, examples, nary, doc, show):
        self.name = name
        self.backward_name = backward_name
        self.forward = forward
        self.vjps = vjps
        self.formulas = formulas
        self.vjp_texts = vjp_texts
        self.saves = saves
        self.reads = reads
        self.saves_out = saves_out
        self.domain = domain
        self.examples = examples
        self.nary = nary
        self.doc = doc
        self.show = show

    def vjp(self, F, g, out, inputs, params, edges):
        """Every input's gradient for one application of the op, given ``g``, the gradient
        arriving at its output: a sequence with None where ``edges[i]`` is None (no gradient
        wanted; a node passes its ``next``).  The one call the reverse pass, gradcheck's
        culprit search and the explainer make on a node (``autograd.Function`` nodes answer it
        too)."""
        kw = params or _NO_PARAMS
        rules = self.vjps
        if self.nary:
            return [rules(F, g, out, *inputs, i=i, **kw) if e is not None else None
                    for i, e in enumerate(edges)]
        if len(rules) == 1:         # most ops: one differentiable input
            return (rules[0](F, g, out, *inputs, **kw) if edges[0] is not None else None,)
        return [rule(F, g, out, *inputs, **kw) if e is not None else None
                for rule, e in zip(rules, edges)]

    def kept(self, edges):
        """The inputs whose values the rules of the inputs with an edge read: what a node
        keeps."""
        if self.reads is None:
            return self.saves
        kept = ()
        for r, e in zip(self.reads, edges):
            if e is not None:
                kept += r
        return kept

    def release(self, node):
        """Called when backward() frees ``node`` (an ``autograd.Function`` drops its ctx)."""

    def __repr__(self):
        return f"<primitive {self.name}>"


_NO_PARAMS = {}


def defprim(name, forward, *vjps, backward_name=None, formulas=(), vjp_texts=(), saves=(),
            reads=None, saves_out=False, domain=(-2.0, 2.0), examples=(), nary=False, show=None):
    """Register a primitive.

    formulas: per input, ∂out/∂input as text in terms of x, y, out (for scalar explanations).
    vjp_texts: per input, the VJP as text ``g ↦ ...`` (for tensor explanations); defaults to
        ``g·formula`` for elementwise ops.
    saves: indices of the inputs whose *values* the VJPs read (shapes and dtypes are always
        kept); they are version-checked and freed after backward.  saves_out: the VJPs read
        ``out``.
    reads: optional, per input, the inputs its rule reads (a subset of ``saves``), when the
        rules differ: ``x * y`` keeps ``x`` only when ``y`` needs a gradient.  Default: every
        rule reads all of ``saves``.  The graph keeps only what the needed rules read.
    domain: ``(low, high)`` or ``(low, high, avoid)`` for all inputs, or a list per input, where
        ``avoid`` lists points (kinks) that samples keep 0.1 away from.
    examples: ``(expr, shape, shape, ...)``: ``expr`` in ``x, y, z`` (and ``m``, the library
        module) runs on chainrule and on torch; one shape per tensor input.
    show: how the explainer writes the op, e.g. ``"{x}·{y}"`` (default ``name(x, ...)``).

    A rule whose gradient is sparse (``x[index]``'s: only the indexed elements) returns
    ``F.index_scatter(g, shape, index, accumulate)``; on arrays that is a ``Scattered`` value
    the engine adds into the input's gradient in place, so many small contributions (``x[t]``
    for every t) cost their own size, not the input's each.
    """
    if backward_name is None:
        backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
    if not vjp_texts and formulas:
        vjp_texts = tuple(None if f is None else f"g ↦ g·({f})" for f in formulas)
    if nary:
        vjps = vjps[0]      # one rule for every input, told which one by ``i``
    saves = tuple(saves)
    if reads is not None:
        reads = tuple(tuple(r) for r in reads)
        if not all(set(r) <= set(saves) for r in reads):
            raise ValueError(f"defprim({name!r}): reads={reads} names inputs outside "
                             f"saves={saves}")
    p = Primitive(name, forward, vjps, backward_name=backward_name, formulas=tuple(formulas),
                  vjp_texts=tuple(vjp_texts), saves=saves, reads=reads, saves_out=saves_out,
                  domain=domain, examples=tuple(examples), nary=nary, doc=forward.__doc__,
                  show=show)
    REGISTRY[name] = p
    return p


# =========================================================================================
# Elementwise, binary.  Inputs may be Python numbers; numbers get no gradient.
# =========================================================================================

def _add(x, y):
    """out = x + y"""
    return xp.add(x, y)


add = defprim("add", _add,
              lambda F, g, out, x, y: g,
              lambda F, g, out, x, y: g,
              show="{x} + {y}", formulas=("1", "1"), vjp_texts=("g ↦ g", "g ↦ g"),
              examples=[("x + y", (3, 4), (3, 4)), ("x + y", (2, 3), (3,)), ("x + 2.5", (3,)),
                        ("x + y", (), (2, 2))])


def _sub(x, y):
    """out = x - y"""
    return xp.subtract(x, y)


sub = defprim("sub", _sub,
              lambda F, g, out, x, y: g,
              lambda F, g, out, x, y: -g,
              show="{x} - {y}", formulas=("1", "-1"), vjp_texts=("g ↦ g", "g ↦ -g"),
              examples=[("x - y", (3, 4), (4,)), ("m.sub(1.5, x)", (2, 3))])


def _rsub(x, y):
    """out = y - x"""
    return xp.subtract(y, x)


# torch's rsub(input, other) = other - input: what `3 - x` records (RsubBackward1, with one edge)
rsub = defprim("rsub", _rsub,
               lambda F, g, out, x, y: -g,
               lambda F, g, out, x, y: g,
               show="{y} - {x}", formulas=("-1", "1"), vjp_texts=("g ↦ -g", "g ↦ g"),
               examples=[("1.5 - x", (2, 3)), ("m.rsub(x, y)", (3, 4), (4,))])


def _mul(x, y):
    """out = x · y"""
    return xp.multiply(x, y)


mul = defprim("mul", _mul,
              lambda F, g, out, x, y: g * y,
              lambda F, g, out, x, y: g * x,
              show="{x}·{y}", formulas=("y", "x"), saves=(0, 1), reads=((1,), (0,)),
              examples=[("x * y", (3, 4), (3, 4)), ("x * y", (4, 1), (3,)), ("x * 3.0", (2,)),
                        ("x * y", (), ()), ("m.outer(x, y)", (3,), (2,))])


def _div(x, y):
    """out = x / y"""
    return xp.true_divide(x, y)


div = defprim("div", _div,
              lambda F, g, out, x, y: g / y,
              lambda F, g, out, x, y: -g * x / (y * y),
              show="{x}/{y}", formulas=("1/y", "-x/y²"), saves=(0, 1), reads=((1,), (0, 1)),
              domain=[(-2.0, 2.0), (0.5, 2.0)],
              examples=[("x / y", (3, 4), (4,)), ("m.div(2.0, y)", (1,), (3,)),
                        ("x / 4", (2, 2))])


def _pow(x, y):
    """out = x ** y"""
    return xp.power(x, y)


def _pow_vjp_x(F, g, out, x, y):
    # d/dx x**y = y·x**(y-1), taken as 0 where y == 0 (so d/dx x**0 = 0 even at x = 0, as torch)
    if isinstance(y, (int, float)):
        return F.zeros_like(g) if y == 0 else g * (y * x ** (y - 1))
    return F.where(F.raw(y) == 0, 0.0, g * (y * x ** (y - 1)))


def _pow_vjp_y(F, g, out, x, y):
    # d/dy x**y = x**y·log(x), taken as 0 where x == 0 and y >= 0 (the limit), as torch
    safe = (F.raw(x) == 0) & (F.raw(y) >= 0)
    return F.where(safe, 0.0, g * out * F.log(F.where(safe, 1.0, x)))


pow = defprim("pow", _pow, _pow_vjp_x, _pow_vjp_y,
              show="{x}^{y}", formulas=("y·x^(y - 1)", "x^y·ln(x)"), saves=(0, 1), saves_out=True,
              domain=[(0.5, 2.0), (-2.0, 2.0)],
              examples=[("x ** y", (3,), (3,)), ("x ** 3", (2, 3)), ("x ** 0.5", (4,)),
                        ("2.0 ** y", (1,), (3,)), ("x.pow(2)", (3,))])


def _maximum(x, y):
    """out = max(x, y) elementwise (NaN wins)"""
    return xp.maximum(x, y)


maximum = defprim(
    "maximum", _maximum,
    # ties split the gradient evenly, as torch
    lambda F, g, out, x, y: F.where(F.raw(x) < F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    lambda F, g, out, x, y: F.where(F.raw(x) > F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    formulas=("[x ≥ y]", "[y ≥ x]"), saves=(0, 1),
    examples=[("m.maximum(x, y)", (3, 4), (4,))])


def _minimum(x, y):
    """out = min(x, y) elementwise (NaN wins)"""
    return xp.minimum(x, y)


minimum = defprim(
    "minimum", _minimum,
    lambda F, g, out, x, y: F.where(F.raw(x) > F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    lambda F, g, out, x, y: F.where(F.raw(x) < F.raw(y), 0.0, F.where(F.raw(x) == F.raw(y), g / 2, g)),
    formulas=("[x ≤ y]", "[y ≤ x]"), saves=(0, 1),
    examples=[("m.minimum(x, y)", (3, 1), (3, 4))])


def _fmod(x, y):
    """out = x - trunc(x/y)·y, exactly (C's fmod: the sign of x)"""
    # A primitive for exact values: x - trunc(x/y)·y composed from div loses the low bits when
    # x/y is large (fmod(1e6, 0.1) came out 0.0, torch 0.0851), and gave NaN gradients at y = 0.
    return xp.fmod(x, y)


def _remainder(x, y):
    """out = x - ⌊x/y⌋·y, exactly (Python's %: the sign of y)"""
    m = xp.fmod(x, y)
    # torch's rule: shift fmod's result by y where its sign differs from y's (so -0.0 % 2 stays
    # -0.0, and -1 % inf is inf)
    return xp.where((m != 0) & ((m < 0) != (y < 0)), m + y, m)


def _quotient_rule(rounding):
    def rule(F, g, out, x, y):
        # d/dy (x - q·y) = -q with q = round(x/y) constant between its jumps (±inf at y = 0)
        q = rounding(xp.true_divide(F.raw(x), F.raw(y)))
        return -g * q
    return rule


fmod = defprim("fmod", _fmod, lambda F, g, out, x, y: g, _quotient_rule(xp.trunc),
               formulas=("1", "-trunc(x/y)"), saves=(0, 1),
               domain=[(-2.0, 2.0), (0.5, 2.0)],
               examples=[("m.fmod(x, y)", (3, 4), (4,)), ("m.fmod(x, 1.5)", (2, 3)),
                         ("x.fmod(y)", (), ())])
remainder = defprim("remainder", _remainder, lambda F, g, out, x, y: g,
                    _quotient_rule(xp.floor),
                    formulas=("1", "-floor(x/y)"), saves=(0, 1),
                    domain=[(-2.0, 2.0), (0.5, 2.0)],
                    examples=[("m.remainder(x, y)", (3, 4), (4,)), ("x % 1.5", (2, 3)),
                              ("x % y", (), ())])


def _where(cond, x, y):
    """out = x where cond else y"""
    return xp.where(cond, x, y)


where = defprim("where", _where,
                None,
                lambda F, g, out, cond, x, y: F.where(cond, g, 0.0),
                lambda F, g, out, cond, x, y: F.where(cond, 0.0, g),
                formulas=(None, "[cond]", "[not cond]"), saves=(0,),
                examples=[("m.where(x > 0, x, y)", (3, 4), (4,)), ("m.where(x > 0, x, 0.0)", (5,))])


# =========================================================================================
# Elementwise, unary
# =========================================================================================

def _unary(name, fn, rule, formula, *, saves=(0,), saves_out=False, domain=(-2.0, 2.0),
           examples=None, backward_name=None, vjp_text=None, show=None):
    return defprim(name, fn, rule, formulas=(formula,), saves=saves, saves_out=saves_out,
                   show=show,
                   domain=domain, backward_name=backward_name,
                   vjp_texts=(vjp_text,) if vjp_text else (),
                   examples=examples or [(f"x.{name}()", (3, 4)), (f"m.{name}(x)", ())])


def _zero_rule(F, g, out, x):
    return F.zeros_like(g)


def _neg(x):
    """out = -x"""
    return xp.negative(x)


def _abs(x):
    """out = |x|"""
    return xp.abs(x)


def _exp(x):
    """out = eˣ"""
    return xp.exp(x)


def _log(x):
    """out = ln x"""
    return xp.log(x)


def _log1p(x):
    """out = ln(1 + x)"""
    return xp.log1p(x)


def _expm1(x):
    """out = eˣ - 1"""
    return xp.expm1(x)


def _sqrt(x):
    """out = √x"""
    return xp.sqrt(x)


def _rsqrt(x):
    """out = 1/√x"""
    return xp.reciprocal(xp.sqrt(x))


def _sin(x):
    """out = sin x"""
    return xp.sin(x)


def _cos(x):
    """out = cos x"""
    return xp.cos(x)


def _tan(x):
    """out = tan x"""
    return xp.tan(x)


def _tanh(x):
    """out = tanh x"""
    return xp.tanh(x)


def _sigmoid(x):
    """out = 1 / (1 + e⁻ˣ), computed without overflow for large |x|"""
    # A primitive for stability: e^(-|x|) never overflows, and both branches are exact.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _relu(x):
    """out = max(x, 0)"""
    # A primitive, not maximum(x, 0): relu'(0) is 0 (maximum would split the tie).
    return xp.maximum(x, 0)


def _reciprocal(x):
    """out = 1/x"""
    return xp.reciprocal(x)


def _sign(x):
    """out = sign x (0 at NaN, as torch)"""
    return xp.where(x != x, 0, xp.sign(x)).astype(x.dtype, copy=False)


def _floor(x):
    """out = ⌊x⌋"""
    return xp.floor(x)


def _ceil(x):
    """out = ⌈x⌉"""
    return xp.ceil(x)


def _round(x, decimals=0):
    """out = x rounded half to even"""
    return xp.round(x, decimals)


neg = _unary("neg", _neg, lambda F, g, out, x: -g, "-1", saves=(), show="-{x}",
             examples=[("-x", (3, 4)), ("x.neg()", ())], vjp_text="g ↦ -g")
abs = _unary("abs", _abs, lambda F, g, out, x: g * F.sign(x), "sign(x)",
             domain=(-2.0, 2.0, [0.0]))
exp = _unary("exp", _exp, lambda F, g, out, x: g * out, "exp(x)", saves=(), saves_out=True)
log = _unary("log", _log, lambda F, g, out, x: g / x, "1/x", domain=(0.1, 3.0))
log1p = _unary("log1p", _log1p, lambda F, g, out, x: g / (x + 1), "1/(1 + x)", domain=(-0.9, 3.0))
expm1 = _unary("expm1", _expm1, lambda F, g, out, x: g * (out + 1), "exp(x)", saves=(), saves_out=True)
sqrt = _unary("sqrt", _sqrt, lambda F, g, out, x: g / (2 * out), "1/(2·sqrt(x))", saves=(), saves_out=True,
              domain=(0.1, 3.0))
rsqrt = _unary("rsqrt", _rsqrt, lambda F, g, out, x: -0.5 * g * out * out * out, "-1/(2·x·sqrt(x))",
               saves=(), saves_out=True, domain=(0.1, 3.0))
sin = _unary("sin", _sin, lambda F, g, out, x: g * F.cos(x), "cos(x)")
cos = _unary("cos", _cos, lambda F, g, out, x: -g * F.sin(x), "-sin(x)")
tan = _unary("tan", _tan, lambda F, g, out, x: g * (1 + out * out), "1 + out²", saves=(),
             saves_out=True, domain=(-1.2, 1.2))
tanh = _unary("tanh", _tanh, lambda F, g, out, x: g * (1 - out * out), "1 - out²", saves=(),
              saves_out=True)
sigmoid = _unary("sigmoid", _sigmoid, lambda F, g, out, x: g * out * (1 - out), "out·(1 - out)",
                 saves=(), saves_out=True, domain=(-6.0, 6.0))
relu = _unary("relu", _relu, lambda F, g, out, x: F.where(F.raw(out) <= 0, 0.0, g), "[x > 0]",
              saves=(), saves_out=True, domain=(-2.0, 2.0, [0.0]),
              backward_name="ReluBackward0")
reciprocal = _unary("reciprocal", _reciprocal, lambda F, g, out, x: -g * out * out, "-1/x²",
                    saves=(), saves_out=True, domain=(0.3, 2.0), show="1/{x}")
sign = _unary("sign", _sign, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [0.0]))
floor = _unary("floor", _floor, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [-2.0, -1.0, 0.0, 1.0]))
ceil = _unary("ceil", _ceil, _zero_rule, "0", saves=(), domain=(-2.0, 2.0, [-1.0, 0.0, 1.0, 2.0]))
round = _unary("round", _round, lambda F, g, out, x, decimals=0: F.zeros_like(g), "0", saves=(),
               domain=(-2.0, 2.0, [-1.5, -0.5, 0.5, 1.5]))


def _clamp(x, min=None, max=None):
    """out = min(max(x, min), max)"""
    return xp.clip(x, min, max)


def _clamp_vjp(F, g, out, x, min=None, max=None):
    # the gradient passes where min ≤ x ≤ max, bounds included (torch's convention); NaN gets 0
    keep = F.raw(x) == F.raw(x)
    if min is not None:
        keep = keep & (F.raw(x) >= min)
    if max is not None:
        keep = keep & (F.raw(x) <= max)
    return F.where(keep, g, 0.0)


clamp = defprim("clamp", _clamp, _clamp_vjp, backward_name="ClampBackward1",
                formulas=("[min ≤ x ≤ max]",), saves=(0,),
                domain=(-2.0, 2.0, [-0.5, 0.5]),
                examples=[("x.clamp(-0.5, 0.5)", (3, 4)), ("x.clamp(min=-0.5)", (5,)),
                          ("m.clamp(x, max=0.5)", (5,))])


# =========================================================================================
# Reductions.  `dims` is a normalized tuple of axes (None: all); keepdim as torch.
# =========================================================================================

def _kept(g, x_shape, dims, keepdim):
    """Reinsert the reduced axes of ``g`` as size-1 axes, so it broadcasts against the input."""
    if keepdim or not x_shape:
        return g
    axes = range(len(x_shape)) if dims is None else dims
    shape = list(x_shape)
    for a in axes:
        shape[a] = 1
    return g.reshape(tuple(shape)) if not isinstance(g, (int, float)) else g


def _rekeep(F, g, x_shape, dims, keepdim):
    if keepdim or not x_shape:
        return g
    axes = range(len(x_shape)) if dims is None else dims
    shape = list(x_shape)
    for a in axes:
        shape[a] = 1
    return F.reshape(g, tuple(shape))


def _wide(x):
    """float16 is accumulated in float32, as torch does (Σ of two 60000s, Π of 300, 300 and 1/300
    overflow in float16); the reductions cast their result back with ``_narrow``."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def _narrow(r, x):
    return xp.asarray(r).astype(x.dtype, copy=False)


def _sum(x, dims=None, keepdim=False):
    """out = Σ x over dims"""
    if x.dtype == xp.float16:
        return _narrow(xp.sum(x, axis=dims, keepdims=keepdim, dtype=xp.float32), x)
    return xp.sum(x, axis=dims, keepdims=keepdim)


sum = defprim("sum", _sum,
              lambda F, g, out, x, dims=None, keepdim=False:
                  F.expand(_rekeep(F, g, x.shape, dims, keepdim), x.shape),
              formulas=("1",), vjp_texts=("g ↦ g broadcast back to x's shape",),
              examples=[("x.sum()", (3, 4)), ("x.sum(1)", (3, 4)), ("x.sum(dim=(0, 2), keepdim=True)", (2, 3, 4)),
                        ("m.sum(x, 0)", (5,)), ("x.sum()", ())])


def _prod(x, dims=None, keepdim=False):
    """out = Π x over dims"""
    return _narrow(xp.prod(_wide(x), axis=dims, keepdims=keepdim), x)


def _prod_vjp(F, g, out, x, dims=None, keepdim=False):
    gk = _rekeep(F, g, x.shape, dims, keepdim)
    ok = _rekeep(F, out, x.shape, dims, keepdim)
    xr = F.raw(x)
    if not (xr == 0).any() and xr.dtype != xp.float16:
        return gk * ok / x
    # with zeros, out/x is 0/0, and in float16 out may have overflowed where the product of the
    # others has not: use the product of the *other* elements, computed exactly
    return gk * F.raw(_narrow(_prod_of_others(_wide(xr), dims), xr))


def _prod_of_others(x, dims):
    """For each element, the product of the other elements of its reduction group."""
    axes = tuple(range(x.ndim)) if dims is None else dims
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = xp.transpose(x, rest + axes)
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), x.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], -1), -1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], -1), -1), -1), -1)
    others = (left * right).reshape(moved.shape)
    return xp.transpose(others, xp.argsort(rest + axes))


prod = defprim("prod", _prod, _prod_vjp, formulas=("Π(others)",), saves=(0,), saves_out=True,
               domain=(0.5, 1.5),
               examples=[("x.prod()", (3, 4)), ("x.prod(1)", (3, 4)), ("x.prod(0, keepdim=True)", (4, 2))])


def _amax(x, dims=None, keepdim=False):
    """out = max x over dims"""
    return xp.amax(x, axis=dims, keepdims=keepdim)


def _amin(x, dims=None, keepdim=False):
    """out = min x over dims"""
    return xp.amin(x, axis=dims, keepdims=keepdim)


def _extreme_vjp(F, g, out, x, dims=None, keepdim=False):
    # the gradient is split evenly among the elements equal to the extreme (NaN counts as equal)
    xr, ok = F.raw(x), _kept(F.raw(out), x.shape, dims, keepdim)
    hit = (xr == ok) | (xp.isnan(xr) & xp.isnan(ok))
    count = xp.sum(hit, axis=dims, keepdims=True)
    return _rekeep(F, g, x.shape, dims, keepdim) * (hit / count).astype(xr.dtype)


amax = defprim("amax", _amax, _extreme_vjp, formulas=("[x = max] / #ties",), saves=(0,),
               saves_out=True,
               examples=[("x.amax()", (3, 4)), ("x.amax(1)", (3, 4)), ("x.amax(dim=(0, 1), keepdim=True)", (2, 3, 2)),
                         ("x.max()", (5,))])
amin = defprim("amin", _amin, _extreme_vjp, formulas=("[x = min] / #ties",), saves=(0,),
               saves_out=True,
               examples=[("x.amin()", (3, 4)), ("x.amin(0)", (3, 4)), ("x.min()", (5,))])


def _pick(x, idx, dim, keepdim):
    out = xp.take_along_axis(x, xp.expand_dims(idx, dim), dim)
    return out if keepdim else xp.squeeze(out, dim)


def _max_dim(x, dim, keepdim=False):
    """out = max x along dim (the gradient goes to the returned index)"""
    return _pick(x, xp.argmax(x, dim), dim, keepdim)


def _min_dim(x, dim, keepdim=False):
    """out = min x along dim (the gradient goes to the returned index)"""
    return _pick(x, xp.argmin(x, dim), dim, keepdim)


def _at_index_vjp(pick):
    def rule(F, g, out, x, dim, keepdim=False):
        xr = F.raw(x)
        idx = xp.expand_dims(pick(xr, dim), dim)
        onehot = xp.arange(xr.shape[dim]).reshape((-1,) + (1,) * (xr.ndim - dim - 1)) == idx
        return _rekeep(F, g, x.shape, (dim,), keepdim) * onehot.astype(xr.dtype)
    return rule


max_dim = defprim("max_dim", _max_dim, _at_index_vjp(xp.argmax), backward_name="MaxBackward0",
                  formulas=("[x is the max]",), saves=(0,),
                  examples=[("x.max(1).values", (3, 4)), ("x.max(dim=0, keepdim=True)[0]", (3, 4))])
min_dim = defprim("min_dim", _min_dim, _at_index_vjp(xp.argmin), backward_name="MinBackward0",
                  formulas=("[x is the min]",), saves=(0,),
                  examples=[("x.min(1).values", (3, 4)), ("m.min(x, 0)[0]", (3, 4))])


def _logsumexp(x, dims=None, keepdim=False):
    """out = ln Σ eˣ, shifted by the max so it never overflows"""
    # A primitive for stability: the shift by the max keeps exp() in range.
    w = _wide(x)
    m = xp.amax(w, axis=dims, keepdims=True) if w.size else xp.zeros((1,) * w.ndim, w.dtype)
    m = xp.where(xp.isinf(m), 0, m).astype(w.dtype, copy=False)
    s = xp.log(xp.sum(xp.exp(w - m), axis=dims, keepdims=True)) + m
    return _narrow(s if keepdim else xp.squeeze(s, dims if dims is not None else None), x)


logsumexp = defprim(
    "logsumexp", _logsumexp,
    lambda F, g, out, x, dims=None, keepdim=False:
        _rekeep(F, g, x.shape, dims, keepdim) * F.exp(x - _rekeep(F, out, x.shape, dims, keepdim)),
    formulas=("softmax(x)",), saves=(0,), saves_out=True,
    examples=[("x.logsumexp(1)", (3, 4)), ("m.logsumexp(x, dim=(0, 1))", (3, 4)),
              ("x.logsumexp(0, keepdim=True)", (5,))])


def _softmax(x, dim):
    """out = eˣ / Σ eˣ along dim"""
    # A primitive for speed (one pass, one output saved); the max shift keeps it stable.
    w = _wide(x)
    e = xp.exp(w - xp.amax(w, axis=dim, keepdims=True, initial=-xp.inf))   # initial: empty dim
    return _narrow(e / xp.sum(e, axis=dim, keepdims=True), x)


softmax = defprim("softmax", _softmax,
                  lambda F, g, out, x, dim: out * (g - F.sum(g * out, (dim,), True)),
                  formulas=("out·(δ - out)",), vjp_texts=("g ↦ s ⊙ (g - Σ g⊙s)",), saves=(),
                  saves_out=True,
                  examples=[("x.softmax(1)", (3, 4)), ("m.softmax(x, dim=0)", (5,))])


def _log_softmax(x, dim):
    """out = x - ln Σ eˣ along dim"""
    # A primitive for stability: log(softmax) underflows to -inf for very negative logits.
    w = _wide(x)
    m = xp.amax(w, axis=dim, keepdims=True, initial=-xp.inf)     # initial: an empty dim
    s = w - m
    return _narrow(s - xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True)), x)


log_softmax = defprim("log_softmax", _log_softmax,
                      lambda F, g, out, x, dim: g - F.exp(out) * F.sum(g, (dim,), True),
                      formulas=("δ - softmax(x)",), vjp_texts=("g ↦ g - softmax(x)·Σg",), saves=(),
                      saves_out=True,
                      examples=[("x.log_softmax(1)", (3, 4)), ("m.log_softmax(x, 0)", (5,))])


def _norm(x, p=2.0, dims=None, keepdim=False):
    """out = (Σ |x|ᵖ)^(1/p)"""
    # A primitive for the gradient at 0: torch defines it as 0, sqrt(Σx²) would give NaN.
    a = xp.abs(_wide(x))
    if p == 2:
        r = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
    elif p == 1:
        r = xp.sum(a, axis=dims, keepdims=keepdim)
    elif p == float("inf"):
        r = xp.amax(a, axis=dims, keepdims=keepdim)
    elif p == float("-inf"):
        r = xp.amin(a, axis=dims, keepdims=keepdim)
    elif p == 0:
        r = xp.sum(a != 0, axis=dims, keepdims=keepdim)
    else:
        r = xp.power(xp.sum(xp.power(a, p), axis=dims, keepdims=keepdim), 1.0 / p)
    return _narrow(r, x)


def _norm_vjp(F, g, out, x, p=2.0, dims=None, keepdim=False):
    gk = _rekeep(F, g, x.shape, dims, keepdim)
    ok = _rekeep(F, out, x.shape, dims, keepdim)
    if p == 2:
        return gk * F.where(F.raw(ok) == 0, 0.0, x / F.where(F.raw(ok) == 0, 1.0, ok))
    if p == 1:
        return gk * F.sign(x)
    if p == 0:
        return None             # a count: torch gives no gradient (None), not zeros
    if p == float("inf") or p == float("-inf"):
        a = F.abs(x)
        hit = (F.raw(a) == F.raw(ok))
        count = xp.sum(hit, axis=dims, keepdims=True)
        return gk * F.sign(x) * (hit / count).astype(F.raw(x).dtype)
    # sign(x)·(|x|/‖x‖)^(p-1): the ratio is at most 1 for p > 0, so nothing overflows (in float16
    # x·|x|^(p-2)/‖x‖^(p-1) is inf/inf at |x| = 300, p = 3); torch's 0 where x = 0 (for p < 1 the
    # power is infinite there) or where the norm is 0
    zero = (F.raw(x) == 0) | (F.raw(ok) == 0)
    ratio = F.abs(F.where(zero, 1.0, x)) / F.where(F.raw(ok) == 0, 1.0, ok)
    return gk * F.where(zero, 0.0, F.sign(x) * ratio ** (p - 1))


norm = defprim("norm", _norm, _norm_vjp, backward_name="LinalgVectorNormBackward0",
               formulas=("x/‖x‖",), saves=(0,), saves_out=True,
               domain=(-2.0, 2.0, [0.0]),
               examples=[("x.norm()", (3, 4)), ("x.norm(dim=1)", (3, 4)), ("x.norm(p=1)", (5,)),
                         ("x.norm(p=3, dim=0, keepdim=True)", (3, 2)),
                         ("x.norm(p=float('inf'))", (5,))])


# =========================================================================================
# Shape and indexing
# =========================================================================================

def _reshape_back(F, g, out, x, shape=None, dim=None):
    return F.reshape(g, x.shape)


def _reshape(x, shape):
    """out = x with a new shape (same elements, row-major order)"""
    return xp.reshape(x, shape)


reshape = defprim("reshape", _reshape, _reshape_back, backward_name="ViewBackward0",
                  formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                  examples=[("x.reshape(4, 3)", (3, 4)), ("x.view(-1)", (2, 3)),
                            ("x.flatten()", (2, 3, 2)), ("x.reshape(())", (1,))])
squeeze = defprim("squeeze", _reshape, _reshape_back, backward_name="SqueezeBackward0",
                  formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                  examples=[("x.squeeze()", (3, 1, 4)), ("x.squeeze(0)", (1, 4))])
unsqueeze = defprim("unsqueeze", _reshape, _reshape_back, backward_name="UnsqueezeBackward0",
                    formulas=("1",), vjp_texts=("g ↦ g reshaped to x's shape",),
                    examples=[("x.unsqueeze(1)", (3, 4)), ("x.unsqueeze(-1)", (3,))])


def _expand(x, shape):
    """out = x broadcast to shape (a read-only view)"""
    return xp.broadcast_to(x, shape)


expand = defprim("expand", _expand, lambda F, g, out, x, shape: F.sum_to(g, x.shape),
                 formulas=("1",), vjp_texts=("g ↦ g summed over the broadcast axes",),
                 examples=[("x.expand(3, 4)", (4,)), ("x.expand(2, -1, 3)", (4, 1)),
                           ("x.expand_as(y)", (3, 1), (3, 4))])


def _transpose(x, dim0, dim1):
    """out = x with axes dim0 and dim1 swapped"""
    return xp.swapaxes(x, dim0, dim1)


transpose = defprim("transpose", _transpose,
                    lambda F, g, out, x, dim0, dim1: F.swapaxes(g, dim0, dim1),
                    formulas=("1",), vjp_texts=("g ↦ gᵀ",),
                    examples=[("x.transpose(0, 1)", (3, 4)), ("x.mT", (2, 3, 4)), ("x.t()", (3, 2))])


def _permute(x, dims):
    """out = x with its axes reordered"""
    return xp.transpose(x, dims)


permute = defprim("permute", _permute,
                  lambda F, g, out, x, dims: F.permute(g, tuple(xp.argsort(dims))),
                  formulas=("1",), vjp_texts=("g ↦ g with the axes put back",),
                  examples=[("x.permute(2, 0, 1)", (2, 3, 4)), ("x.T", (3, 4))])


def _flip(x, dims):
    """out = x reversed along dims"""
    return xp.flip(x, dims)


flip = defprim("flip", _flip, lambda F, g, out, x, dims: F.flip(g, dims),
               formulas=("1",), vjp_texts=("g ↦ g flipped back",),
               examples=[("x.flip(0)", (3, 4)), ("x.flip(0, 1)", (3, 4))])


def _repeat(x, sizes):
    """out = x tiled sizes times along each axis"""
    return xp.tile(x, sizes)


def _repeat_vjp(F, g, out, x, sizes):
    shape = (1,) * (len(sizes) - len(x.shape)) + tuple(x.shape)
    split = []
    for r, n in zip(sizes, shape):
        split += [r, n]
    g = F.sum(F.reshape(g, tuple(split)), tuple(range(0, 2 * len(sizes), 2)), False)
    return F.reshape(g, x.shape)


repeat = defprim("repeat", _repeat, _repeat_vjp, formulas=("1",),
                 vjp_texts=("g ↦ the sum of g's tiles",),
                 examples=[("x.repeat(2, 3)", (3, 4)), ("x.repeat(2, 1, 2)", (3,))])


def _index(x, index, accumulate=False):
    """out = x[index]"""
    return x[index]


index = defprim("index", _index,
                lambda F, g, out, x, index, accumulate=False:
                    F.index_scatter(g, x.shape, index, accumulate),
                backward_name="IndexBackward0", formulas=("1",),
                vjp_texts=("g ↦ zeros of x's shape with g added at the index",),
                examples=[("x[1]", (3, 4)), ("x[:, 1:3]", (3, 4)), ("x[..., None, 0]", (3, 4)),
                          ("x[[0, 2, 0]]", (3, 4)), ("x[x > 0]", (3, 4)), ("x[[0, 1], [1, 2]]", (3, 4)),
                          ("x[::2, -1]", (5, 3))])


def _index_scatter(g, shape, index, accumulate):
    """out = zeros(shape) with g added at index (the adjoint of x[index])"""
    out = xp.zeros(shape, dtype=g.dtype)
    if accumulate:
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


index_scatter = defprim("index_scatter", _index_scatter,
                        lambda F, g, out, src, shape, index, accumulate: F.getitem(g, index),
                        backward_name="IndexPutBackward0", formulas=("1",),
                        vjp_texts=("g ↦ g[index]",))


def _index_put(x, value, index):
    """out = x with out[index] = value"""
    out = x.copy()
    out[index] = value
    return out


def _index_put_vjp_x(F, g, out, x, value, index):
    keep = xp.ones(x.shape, dtype=bool)
    keep[index] = False
    return F.where(keep, g, 0.0)


index_put = defprim("index_put", _index_put, _index_put_vjp_x,
                    lambda F, g, out, x, value, index: F.getitem(g, index),
                    backward_name="CopySlices", formulas=("[not at index]", "1"),
                    vjp_texts=("g ↦ g with zeros at the index", "g ↦ g[index]"))


def _cat(*xs, dim):
    """out = the inputs joined along dim"""
    # torch skips 1-d empty inputs (a legacy rule kept for compatibility); they still get an
    # (empty) gradient, so they stay inputs of the node
    return xp.concatenate([x for x in xs if x.shape != (0,)] or xs[:1], axis=dim)


def _cat_vjp(F, g, out, *xs, dim, i):
    start = 0
    for x in xs[:i]:
        start += x.shape[dim] if x.shape != (0,) else 0
    if xs[i].shape == (0,):                 # a skipped empty input: an empty gradient
        return F.reshape(F.getitem(g, (slice(None),) * dim + (slice(0, 0),)), (0,))
    index = (slice(None),) * dim + (slice(start, start + xs[i].shape[dim]),)
    return F.getitem(g, index)


cat = defprim("cat", _cat, _cat_vjp, nary=True, formulas=("1",),
              vjp_texts=("g ↦ the slice of g that came from this input",),
              examples=[("m.cat([x, y], 0)", (2, 3), (4, 3)), ("m.cat((x, y, x), dim=1)", (2, 3), (2, 1))])


def _stack(*xs, dim):
    """out = the inputs stacked along a new axis dim"""
    return xp.stack(xs, axis=dim)


stack = defprim("stack", _stack,
                lambda F, g, out, *xs, dim, i: F.getitem(g, (slice(None),) * dim + (i,)),
                nary=True, formulas=("1",), vjp_texts=("g ↦ the slice of g at this input's index",),
                examples=[("m.stack([x, y])", (2, 3), (2, 3)), ("m.stack((x, y), dim=1)", (4,), (4,))])


def _clone(x):
    """out = a copy of x"""
    return x.copy()


clone = defprim("clone", _clone, lambda F, g, out, x: g, formulas=("1",), vjp_texts=("g ↦ g",),
                examples=[("x.clone()", (3,))])


def _to_copy(x, dtype):
    """out = x converted to dtype"""
    return x.astype(dtype)


to_copy = defprim("to_copy", _to_copy, lambda F, g, out, x, dtype: g,
                  backward_name="ToCopyBackward0", formulas=("1",),
                  vjp_texts=("g ↦ g converted back to x's dtype",),
                  examples=[("x.to(m.float64, copy=True)", (3,)), ("x.to(dtype=m.float64, copy=True)", (2, 2))])


# =========================================================================================
# Linear algebra
# =========================================================================================

def _matmul(x, y):
    """out = x @ y"""
    return xp.matmul(x, y)


def _matmul_vjp_x(F, g, out, x, y):
    if len(y.shape) == 1:
        if len(x.shape) == 1:
            return g * y
        return F.unsqueeze(g, -1) * y          # (..., n, 1) * (k,) → (..., n, k)
    if len(x.shape) == 1:
        return F.squeeze(F.matmul(F.unsqueeze(g, -2), F.swapaxes(y, -1, -2)), -2)
    return F.matmul(g, F.swapaxes(y, -1, -2))


def _matmul_vjp_y(F, g, out, x, y):
    if len(x.shape) == 1:
        if len(y.shape) == 1:
            return g * x
        return F.unsqueeze(x, -1) * F.unsqueeze(g, -2)   # (k, 1) * (..., 1, m) → (..., k, m)
    if len(y.shape) == 1:
        return F.squeeze(F.matmul(F.swapaxes(x, -1, -2), F.unsqueeze(g, -1)), -1)
    return F.matmul(F.swapaxes(x, -1, -2), g)


def _matmul_name(x, y):
    if len(x.shape) == 1 and len(y.shape) == 1:
        return "DotBackward0"
    if len(x.shape) == 2 and len(y.shape) == 2:
        return "MmBackward0"
    return "MatmulBackward0"


matmul = defprim("matmul", _matmul, _matmul_vjp_x, _matmul_vjp_y, backward_name="MmBackward0",
                 show="{x} @ {y}", formulas=("yᵀ", "xᵀ"), vjp_texts=("g ↦ g·yᵀ", "g ↦ xᵀ·g"), saves=(0, 1),
                 reads=((1,), (0,)),
                 examples=[("x @ y", (3, 4), (4, 2)), ("x @ y", (4,), (4, 2)), ("x @ y", (3, 4), (4,)),
                           ("x @ y", (4,), (4,)), ("x @ y", (2, 3, 4), (4, 5)),
                           ("x @ y", (2, 1, 3, 4), (5, 4, 2)), ("m.mm(x, y)", (2, 3), (3, 2)),
                           ("m.bmm(x, y)", (2, 2, 3), (2, 3, 4)), ("m.dot(x, y)", (3,), (3,))])
