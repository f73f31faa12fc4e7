"""The op registry: every differentiable primitive, one entry each.

An entry holds the op's forward (on arrays), one VJP rule per input, the human formula of each
local derivative (read by the explainer and the docs), the input domain that tests sample from,
and example calls through the public API (run on chainrule, and on torch when it is installed).
No derivative code lives anywhere else.

VJP rules are ``rule(F, g, out, *inputs, **params)``: ``g`` is the gradient arriving at the op's
output, ``out`` its result, ``x, y, ...`` its inputs, and ``F`` the namespace of functions the rule
may call (see ``_fns.py``).  A rule returns the gradient for its input in the *broadcast* shape;
the engine sums it back to the input's shape and dtype (un-broadcasting lives in one place).

The entries live by family: ``elementwise.py``, ``reductions.py``, ``shape.py`` (shape and
indexing), ``linalg.py`` and ``nn.py`` (the primitives of ``nn.functional``); every entry is
importable from here (``ops.mul``, ``ops.convolution``).  Everything else (mean, var, softmax's
module form, losses, ...) is composed from these entries in ``functional/`` and
``nn/functional/`` and needs no rule.  A primitive is added only for numerical stability or
speed, and says which.

This package imports only ``_backend``, ``_fns`` and ``dtypes``: never the tensor or the public
functions, which are built on it.
"""

REGISTRY = {}

# What an entry's kind supplies, so that the entry states only what is particular to it (JAX's
# deflinear/defbilinear, the tags of PyTorch's derivatives.yaml):
# - vmap's batching rule: func/_batching.KIND_RULES holds one per kind that has one; an op of
#   another kind names its own rule in func/_batching.RULES (or runs once per example);
# - the explainer's VJP text: ``g ↦ g·(formula)`` where the kind says how g meets the formula;
# - default examples (``x.name()``, ``m.name(x)``) for a unary elementwise op, which the registry
#   tests sample inside its domain.
KINDS = {
    "elementwise": "out[i] = f(x[i], y[i], ...), the inputs broadcast as NumPy does",
    "reduction": "reduces x over ``dims`` (None: all of them), keepdim as torch",
    "along_dim": "works along one ``dim`` of x (max/min with indices, softmax)",
    "reshape": "x's elements, in order, under a new ``shape``",
    "shape": "moves, picks, repeats or joins elements (transpose, index, cat, ...)",
    "contraction": "sums products across its inputs (matmul, linear, convolution, pooling)",
    "other": "none of the above",
}
# kinds whose VJP texts default to g·(formula): g arrives per element (elementwise), or broadcast
# back over the reduced dims (reduction, along_dim)
_TEXT_FROM_FORMULA = ("elementwise", "reduction", "along_dim")
# JAX's two rule kinds for forward mode: an op linear in its inputs has the op itself, applied
# to the tangents, as its JVP; a bilinear one (x·y) has op(ẋ, y) + op(x, ẏ)
LINEARITY = (None, "linear", "bilinear")


class Primitive:
    """One differentiable operation.  See the module docstring."""

    __slots__ = ("name", "kind", "linear", "backward_name", "forward", "vjps", "formulas",
                 "vjp_texts", "saves", "reads", "saves_out", "domain", "examples", "nary", "doc",
                 "show", "grads")

    def __init__(self, name, forward, vjps, *, kind, linear, backward_name, formulas, vjp_texts,
                 saves, reads, saves_out, domain, examples, nary, doc, show, grads=None):
        self.name = name
        self.grads = grads
        self.kind = kind
        self.linear = linear
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

    joint = False   # an autograd.Function's op (its backward gives every input's gradient)

    def vjp(self, F, g, out, inputs, params, edges):
        """Every input's gradient for one application of the op, given ``g``, the gradient
        arriving at its output: a sequence with None where ``edges[i]`` is None (no gradient
        wanted; a node passes its ``next``).  The one call the reverse pass, gradcheck's
        culprit search and the explainer make on a node (``autograd.Function`` nodes answer it
        too)."""
        kw = params or _NO_PARAMS
        if self.grads is not None:      # every gradient in one call, sharing their work
            return self.grads(F, g, out, *inputs, wanted=tuple(e is not None for e in edges),
                              **kw)[:len(inputs)]
        rules = self.vjps
        if self.nary:
            return [rules(F, g, out, *inputs, i=i, **kw) if e is not None else None
                    for i, e in enumerate(edges)]
        # one and two inputs written out: most ops, and the reverse pass's hottest call
        if len(rules) == 1:
            return (None if edges[0] is None else rules[0](F, g, out, *inputs, **kw),)
        if len(rules) == 2:
            return (None if edges[0] is None else rules[0](F, g, out, *inputs, **kw),
                    None if edges[1] is None else rules[1](F, g, out, *inputs, **kw))
        return [None if e is None else rule(F, g, out, *inputs, **kw)
                for rule, e in zip(rules, edges)]

    def jvp(self, F, tangents, inputs, params):
        """The output's tangent, given one tangent per input (None: zero), for an op declared
        ``linear`` (the op itself on the tangents; an input without a rule, such as
        ``where``'s condition, keeps its value) or ``bilinear`` in its first two inputs (and
        linear in any others: ``linear``'s and ``convolution``'s bias): op(ẋ, y, ḃ) + op(x, ẏ).
        None when every tangent is None.  Forward mode from the kind, with no rule written
        (see docs/design.md for why ``func.jvp`` does not call it yet)."""
        kw = params or _NO_PARAMS
        if all(t is None for t in tangents):
            return None

        def tangent(i):
            t = tangents[i]
            return F.zeros_like(inputs[i]) if t is None else t
        if self.linear == "linear":
            rules = (self.vjps,) * len(inputs) if self.nary else self.vjps
            return F.apply(self, tuple(inputs[i] if rules[i] is None else tangent(i)
                                       for i in range(len(inputs))), kw)
        if self.linear != "bilinear":
            raise TypeError(f"{self.name} is neither linear nor bilinear: its JVP is not the op "
                            "on the tangents")
        out = None
        if any(t is not None for i, t in enumerate(tangents) if i != 1):
            out = F.apply(self, (tangent(0), inputs[1]) + tuple(
                tangent(i) for i in range(2, len(inputs))), kw)
        if tangents[1] is not None:
            term = F.apply(self, (inputs[0], tangents[1]), kw)
            out = term if out is None else out + term
        return out


    def __repr__(self):
        return f"<primitive {self.name}>"


_NO_PARAMS = {}


def defprim(name, forward, *vjps, kind, linear=None, backward_name=None, formulas=(),
            vjp_texts=(), saves=(), reads=None, saves_out=False, domain=(-2.0, 2.0), examples=(),
            nary=False, show=None, grads=None):
    """Register a primitive.

    kind: one of ``KINDS`` (above); it supplies the batching rule, the default VJP texts and,
        for a unary elementwise op, the default examples.
    linear: ``"linear"`` or ``"bilinear"`` (JAX's ``deflinear``/``defbilinear``) when the op is,
        in its differentiable inputs: then ``Primitive.jvp`` is the op itself on the tangents.

    formulas: per input, ∂out/∂input as text in terms of x, y, out (for scalar explanations).
    vjp_texts: per input, the VJP as text ``g ↦ ...`` (for tensor explanations); defaults to
        ``g·(formula)`` for the elementwise, reduction and along_dim kinds.
    saves: indices of the inputs whose *values* the VJPs read (shapes and dtypes are always
        kept); they are version-checked and freed after backward.  saves_out: the VJPs read
        ``out``.
    reads: optional, per input, the inputs its rule reads (a subset of ``saves``), when the
        rules differ: ``x * y`` keeps ``x`` only when ``y`` needs a gradient.  Default: every
        rule reads all of ``saves``.  The graph keeps only what the needed rules read.
    domain: ``(low, high)`` or ``(low, high, avoid)`` for all inputs, or a list per input, where
        ``avoid`` lists points (kinks) that samples keep 0.1 away from.
    examples: ``(expr, shape, shape, ...)``: ``expr`` in ``x, y, z`` (and ``m``, the library
        module) runs on chainrule and on torch; one shape per tensor input.  A unary elementwise
        op defaults to ``x.name()`` on a (3, 4) tensor and ``m.name(x)`` on a 0-d one.
    show: how the explainer writes the op, e.g. ``"{x}·{y}"`` (default ``name(x, ...)``).
    grads: optional ``grads(F, g, out, *inputs, wanted=(bool, ...), **params)`` returning every
        input's gradient (None where not wanted) in one call, for an op whose gradients share
        work (attention's weights and dS); the reverse pass then calls it instead of the
        per-input rules, which stay for the registry's tests, the explainer and ``compile``.

    A rule whose gradient is sparse (``x[index]``'s: only the indexed elements) returns
    ``F.index_scatter(g, shape, index, accumulate)``; on arrays that is a ``Scattered`` value
    the engine adds into the input's gradient in place, so many small contributions (``x[t]``
    for every t) cost their own size, not the input's each.
    """
    if backward_name is None:
        backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
    if kind not in KINDS:
        raise ValueError(f"defprim({name!r}): kind={kind!r} is not one of {sorted(KINDS)}")
    if linear not in LINEARITY:
        raise ValueError(f"defprim({name!r}): linear={linear!r} is not one of {LINEARITY}")
    if not vjp_texts and formulas:
        if kind not in _TEXT_FROM_FORMULA:
            raise ValueError(f"defprim({name!r}): a {kind} op has no default VJP text: give "
                             "vjp_texts, one 'g ↦ ...' per input")
        vjp_texts = tuple(None if f is None else f"g ↦ g·({f})" for f in formulas)
    if not examples and kind == "elementwise" and len(vjps) == 1:
        examples = [(f"x.{name}()", (3, 4)), (f"m.{name}(x)", ())]
    if nary:
        vjps = vjps[0]      # one rule for every input, told which one by ``i``
    saves = tuple(saves)
    if reads is not None:
        reads = tuple(tuple(r) for r in reads)
        if not all(set(r) <= set(saves) for r in reads):
            raise ValueError(f"defprim({name!r}): reads={reads} names inputs outside "
                             f"saves={saves}")
    p = Primitive(name, forward, vjps, kind=kind, linear=linear, backward_name=backward_name,
                  formulas=tuple(formulas),
                  vjp_texts=tuple(vjp_texts), saves=saves, reads=reads, saves_out=saves_out,
                  domain=domain, examples=tuple(examples), nary=nary, doc=forward.__doc__,
                  show=show, grads=grads)
    REGISTRY[name] = p
    return p


# The entries, by family (each module registers its own with defprim above).
from .elementwise import (abs, add, asinh, ceil, clamp, clone, cos, div, exp, expm1,  # noqa: E402
                          exp2, log10, log2, acos, acosh, asin, atan, atanh, cosh, sinh,
                          floor, fmod, log, log1p, maximum, minimum, mul, neg, pow, reciprocal,
                          relu, remainder, round, rsqrt, rsub, sigmoid, sign, sin, sqrt, sub, tan,
                          tanh, to_copy, where)
from .reductions import (amax, amin, log_softmax, logsumexp, max_dim, min_dim,  # noqa: E402
                         norm, prod, softmax, sum)
from .shape import (cat, expand, flip, index, index_put, index_scatter, permute,  # noqa: E402
                    repeat, reshape, squeeze, stack, transpose, unsqueeze)
from .linalg import matmul, matmul_name  # noqa: E402
from .nn import (avg_pool2d, binary_cross_entropy, convolution, embedding, erf,  # noqa: E402
                 erfc,
                 linear, log_sigmoid, softplus)

# issue #12's catalogue, one block a family (kept apart so that parallel work merges cleanly)
# -- elementwise
from .elementwise import atan2, hypot, nextafter, trunc  # noqa: E402

# -- special
from .special import (digamma, entr, erfcx, erfinv, i0, i0e, i1, i1e, igamma,  # noqa: E402
                      igammac, lgamma, logit, ndtri, polygamma, sinc, xlog1py, xlogy)

# -- reductions, scans and sorting
from .scans import cumprod, cumsum, logcumsumexp  # noqa: E402

# -- indexing and scatter
from .indexing import scatter_reduce  # noqa: E402

# -- shape

# -- linear algebra
from .linalg import (einsum, linalg_cholesky, linalg_det, linalg_eigvalsh,  # noqa: E402
                     linalg_eigvecsh, linalg_inv, linalg_logabsdet, linalg_lu_factor,
                     linalg_matrix_exp, linalg_qr_q, linalg_qr_r, linalg_solve,
                     linalg_solve_triangular, linalg_svd_u, linalg_svd_vh, linalg_svdvals)

# -- random

# -- attributes and the rest


# issue #13, one block a family
# -- attention
from .nn import scaled_dot_product_attention  # noqa: E402
# -- fused primitives for speed
from .nn import cross_entropy, gelu, gelu_backward, layer_norm  # noqa: E402

