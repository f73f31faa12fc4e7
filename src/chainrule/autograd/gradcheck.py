"""Checking gradients: PyTorch's ``gradcheck`` and ``gradgradcheck``, and ``check_derivation``.

``gradcheck(func, inputs)`` compares the Jacobians autograd computes for ``func`` with central
differences, one input element at a time (or along one random direction with ``fast_mode=True``),
with PyTorch's defaults, verdicts and messages.  Where PyTorch stops at "Jacobian mismatch",
chainrule goes on to find the culprit: it runs ``func`` once more, learns the nodes of its graph
from one reverse pass (the trace of ``engine.run_backward``) and checks each node's local
derivative alone, in forward order, naming the first that is wrong -- typically the ``backward``
of a user-defined ``autograd.Function``.

``check_derivation(func, derivation, inputs)`` is for learners: it compares derivatives worked out
by hand with autograd's, at the given inputs and at random points nearby.

>>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
>>> chainrule.autograd.gradcheck(chainrule.tanh, (x,))
True
"""
import contextlib
import inspect
import warnings

from .. import _backend as B
from .._backend import xp
from .._fns import ArrayF
from ..engine import grad as _grad, run_backward
from ..grad_mode import no_grad
from ..graph import Node
from ..tensor import Tensor, _new, apply as _apply
from .function import FunctionCtx, _FunctionOp

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "check_derivation",
           "DerivationReport"]


class GradcheckError(RuntimeError):
    """A gradient that disagrees with finite differences (raised by gradcheck/gradgradcheck).

    ``culprit``: the name of the first graph node whose local derivative is wrong (e.g.
    ``'MyExpBackward'``), when chainrule found one, else None.
    """

    culprit = None


_NOT_DOUBLE = ("Input #{} requires gradient and is not a double precision floating point or "
               "complex. This check will likely fail if all the inputs are not of double precision "
               "floating point or complex. ")

# Local checks compare full local Jacobians up to this many entries, random projections beyond.
_FULL_LOCAL_JACOBIAN = 4096


# =========================================================================================
# gradcheck and gradgradcheck
# =========================================================================================

def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True if autograd's Jacobians of ``func`` at ``inputs`` match central differences.

    Each element ``a`` of the analytical Jacobian must satisfy ``|a - n| <= atol + rtol·|n|``
    against the numerical one ``n``.  On a mismatch raises ``GradcheckError`` (PyTorch's message,
    then the first node of ``func``'s graph whose own derivative is wrong), or returns False when
    ``raise_exception=False``.  ``fast_mode=True`` compares ``vᵀJu`` for random unit ``u, v``.
    Use float64 inputs: the defaults are made for them.  No sparse tensors exist in chainrule,
    so ``masked`` changes nothing; every output gradient is materialized (zeros, never
    "undefined"), so ``check_undefined_grad`` is covered by the zero-gradient check.

    >>> x = chainrule.tensor([0.5, 1.0], dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    _refuse_missing_features("gradcheck", check_batched_grad=check_batched_grad,
                             check_batched_forward_grad=check_batched_forward_grad,
                             check_forward_ad=check_forward_ad)
    inputs = _as_tuple(inputs)
    locate = (lambda: _locate(func, inputs, eps, atol, rtol, order=1)) if raise_exception else None
    return _run(func, inputs, eps, atol, rtol, raise_exception, nondet_tol, check_grad_dtypes,
                fast_mode, locate)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """True if the gradients of ``func`` differentiate again correctly (second derivatives).

    Runs ``gradcheck`` on ``(inputs, grad_outputs) ↦ autograd.grad(func(inputs), inputs,
    grad_outputs, create_graph=True)``; ``grad_outputs`` defaults to random tensors in [-1, 1)
    that require grad.  A mismatch names the first node whose backward does not differentiate
    correctly (e.g. a ``Function.backward`` that uses a detached value).

    >>> x = chainrule.tensor([0.5, 1.0], dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradgradcheck(lambda t: t.sin() * t, (x,))
    True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True")
    _refuse_missing_features("gradgradcheck", check_batched_grad=check_batched_grad,
                             check_fwd_over_rev=check_fwd_over_rev)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(_random_grad_output(o, gen_non_contig_grad_outputs)
                             for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    new_func = _double_backward(func, inputs, grad_outputs)
    locate = (lambda: _locate(func, inputs, eps, atol, rtol, order=2)) if raise_exception else None
    return _run(new_func, inputs + grad_outputs, eps, atol, rtol, raise_exception, nondet_tol,
                check_grad_dtypes, fast_mode, locate)


def _refuse_missing_features(fn, **flags):
    reasons = {
        "check_batched_grad": "chainrule has no vmap, so it cannot compute batched gradients",
        "check_batched_forward_grad": "chainrule has no vmap and no forward-mode AD",
        "check_forward_ad": "chainrule has no forward-mode AD (it differentiates in reverse "
                            "mode only)",
        "check_fwd_over_rev": "chainrule has no forward-mode AD (it differentiates in reverse "
                              "mode only)",
    }
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f"{fn}({name}=True): {reasons[name]}. Leave {name}=False: "
                                      "the reverse-mode checks still run.")


def _double_backward(func, inputs, grad_outputs):
    """PyTorch's function for gradgradcheck: (*inputs, *grad_outputs) ↦ the input gradients."""
    n = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grads = {i for i, g in enumerate(grad_outputs) if g.requires_grad}

    def new_func(*args):
        k = len(args) - n
        input_args = tuple(x.requires_grad_() if i in diff_inputs else x
                           for i, x in enumerate(args[:k]))
        outputs = tuple(o for o in _as_tuple(func(*input_args)) if o.requires_grad)
        gs = tuple(g.requires_grad_() if i in diff_grads else g for i, g in enumerate(args[k:]))
        wrt = tuple(x for i, x in enumerate(input_args) if i in diff_inputs)
        grads = _grad(outputs, wrt, gs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)
    return new_func


def _random_grad_output(out, noncontiguous, rng=None):
    """Uniform in [-1, 1), the output's dtype (float64 for integer outputs), requiring grad."""
    dtype = out._data.dtype if out._data.dtype.kind == "f" else xp.float64
    shape = tuple(out.shape)
    wide = shape[:-1] + (2 * shape[-1],) if noncontiguous and shape else shape
    if rng is None:                     # chainrule's global generator, as torch uses its own
        from ..creation import numpy_rng
        rng = numpy_rng()
    draw = rng.random(wide)
    data = xp.asarray(draw * 2 - 1, dtype=dtype)
    if wide != shape:
        data = data[..., ::2]          # every other element: a non-contiguous view
    return _new(data, requires_grad=True)


def _run(func, inputs, eps, atol, rtol, raise_exception, nondet_tol, check_grad_dtypes,
         fast_mode, locate):
    try:
        diff = _check_inputs(inputs)
        func_out = _as_tuple(func(*inputs))
        _check_outputs(func_out)
        outputs = tuple(o for o in func_out if o.requires_grad)
        check = _fast_check if fast_mode else _slow_check
        check(func, inputs, diff, func_out, outputs, eps, rtol, atol, nondet_tol,
              check_grad_dtypes, locate)
        _check_backward_multiplies_by_grad_output(outputs, [inputs[i] for i in diff])
        return True
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _check_inputs(inputs):
    """Indices of the inputs that require grad; warns for non-float64 ones, as torch."""
    diff = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        a = x._data
        if a.dtype != xp.float64:
            warnings.warn(_NOT_DOUBLE.format(i), UserWarning, stacklevel=4)
        if not all(st != 0 or n <= 1 for st, n in zip(a.strides, a.shape)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck.")
        diff.append(i)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    return diff


def _check_outputs(func_out):
    for i, o in enumerate(func_out):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: func returned a {type(o).__name__} as output {i}; func "
                            "must return a Tensor or a tuple of Tensors")


def _is_float(t):
    return t._data.dtype.kind == "f"


# --- numerical side: central differences, perturbing the inputs' storage as torch does --------

@contextlib.contextmanager
def _writable(x):
    """``x``'s array, writable in place (a read-only array is swapped for a copy meanwhile)."""
    a = x._data
    if isinstance(a, B.ndarray) and a.flags.writeable:
        yield a
        return
    x._data = xp.array(a)
    try:
        yield x._data
    finally:
        x._data = a


def _outputs_around(func, inputs, a, index, delta, func_out, eps):
    """Copies of func's outputs with ``a[index]`` moved by -delta, then by +delta."""
    orig = a[index].copy()
    found = []
    try:
        for step in (-delta, delta):
            a[index] = orig + step
            outs = _as_tuple(func(*inputs))
            _check_outputs(outs)
            for o, ref in zip(outs, func_out):
                _check_same_dtype_and_shape(o, ref, eps, index)
            found.append([o._data.copy() for o in outs])
    finally:
        a[index] = orig
    return found


def _check_same_dtype_and_shape(o, ref, eps, index):
    on_index = f"on index {index} " if index is not Ellipsis else ""
    if o.shape != ref.shape:
        raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs "
                             f"are perturbed {on_index}by {eps}, but got: shapes {o.shape} and "
                             f"{ref.shape}.")
    if o.dtype != ref.dtype:
        raise AssertionError(f"Expected `func` to return outputs with the same dtype when inputs "
                             f"are perturbed {on_index}by {eps}, but got: dtypes {o.dtype} and "
                             f"{ref.dtype}.")


def _numerical_jacobians(func, inputs, diff, func_out, eps):
    """``J[j][k]``: (numel of input diff[j], numel of output k), one input element per row.

    None for outputs that are not floating point.
    """
    jacobians = []
    for i in diff:
        x = inputs[i]
        rows = [xp.zeros((x._data.size, o._data.size), o._data.dtype) if _is_float(o) else None
                for o in func_out]
        with _writable(x) as a:
            for r, index in enumerate(xp.ndindex(a.shape)):
                lo, hi = _outputs_around(func, inputs, a, index, eps, func_out, eps)
                with xp.errstate(all="ignore"):     # inf - inf is nan, silently, as torch
                    for J, b, c in zip(rows, lo, hi):
                        if J is not None:
                            J[r] = ((c - b) / (2 * eps)).reshape(-1)
        jacobians.append(rows)
    return jacobians


def _numerical_directional(func, inputs, i, u, func_out, eps):
    """Per output, flattened (None if not floating point): (f(x + eps·u) - f(x - eps·u)) / 2eps."""
    x = inputs[i]
    with _writable(x) as a:
        lo, hi = _outputs_around(func, inputs, a, Ellipsis, eps * u.reshape(a.shape), func_out,
                                 eps)
    with xp.errstate(all="ignore"):
        return [((c - b) / (2 * eps)).reshape(-1) if _is_float(o) else None
                for o, b, c in zip(func_out, lo, hi)]


# --- analytical side: one autograd.grad per output element (or per random vector) ------------

def _vjp_rows(output, diff_inputs, grad_outputs):
    """Stack the VJPs of ``output`` for each grad_output: per input, (numel, len(grad_outputs))."""
    J = [xp.zeros((x._data.size, len(grad_outputs)), x._data.dtype) for x in diff_inputs]
    sizes_ok = types_ok = True
    for c, g in enumerate(grad_outputs):
        grads = _grad(output, diff_inputs, _new(g), retain_graph=True, allow_unused=True)
        for Ji, gi, x in zip(J, grads, diff_inputs):
            if gi is None:
                continue
            if gi.shape != x.shape:
                sizes_ok = False
                continue
            if gi._data.dtype != x._data.dtype:
                types_ok = False
            Ji[:, c] = gi._data.reshape(-1)
    return J, sizes_ok, types_ok


def _analytical_jacobians(output, diff_inputs, grad_outputs, nondet_tol, check_grad_dtypes):
    """Run the VJPs twice (checking that backward is deterministic) and check sizes and dtypes."""
    J1, sizes_ok, types_ok = _vjp_rows(output, diff_inputs, grad_outputs)
    J2, _, _ = _vjp_rows(output, diff_inputs, grad_outputs)
    reentrant = True
    with xp.errstate(all="ignore"):
        for a, b in zip(J1, J2):
            if a.size and xp.abs(a - b).max() > nondet_tol:
                reentrant = False
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")
    return J1


def _unit_rows(output):
    """One-hot grad_outputs, one per element of ``output``: their VJPs are the Jacobian's rows."""
    rows = []
    for c in range(output._data.size):
        g = xp.zeros(output._data.size, output._data.dtype)
        g[c] = 1
        rows.append(g.reshape(output._data.shape))
    return rows


def _allclose(a, n, rtol, atol):
    dt = xp.promote_types(a.dtype, n.dtype)
    with xp.errstate(all="ignore"):
        return bool(xp.allclose(a.astype(dt), n.astype(dt), rtol=rtol, atol=atol))


def _show(a):
    return repr(_new(xp.asarray(a)))


def _mismatch(out_idx, in_idx, numerical, analytical, locate, shown=_show, extra=""):
    """The GradcheckError for one (output, input) pair: torch's text, then the culprit."""
    message = (f"Jacobian mismatch for output {out_idx:d} with respect to input {in_idx:d},\n"
               f"numerical:{shown(numerical)}\nanalytical:{shown(analytical)}\n{extra}")
    culprit = None
    if locate is not None:
        try:
            culprit, text = locate()
            message += text
        except Exception:              # the diagnosis is a bonus: never hide the mismatch
            culprit = None
    err = GradcheckError(message)
    err.culprit = culprit
    err.output_index, err.input_index = out_idx, in_idx
    err.numerical, err.analytical = numerical, analytical
    return err


def _slow_check(func, inputs, diff, func_out, outputs, eps, rtol, atol, nondet_tol,
                check_grad_dtypes, locate):
    numerical = _numerical_jacobians(func, inputs, diff, func_out, eps)
    if not outputs:
        for rows in numerical:
            for J in rows:
                if J is not None and (J != 0).any():
                    raise GradcheckError("Numerical gradient for function expected to be zero"
                                         + _ESCAPED_HINT)
        return
    diff_inputs = [inputs[i] for i in diff]
    k = 0
    for o_idx, o in enumerate(func_out):
        if not o.requires_grad:
            continue
        analytical = _analytical_jacobians(o, diff_inputs, _unit_rows(o), nondet_tol,
                                           check_grad_dtypes)
        for j, a in enumerate(analytical):
            n = numerical[j][o_idx]
            if not _allclose(a, n, rtol, atol):
                raise _mismatch(k, j, n, a, locate)
        k += 1


_ESCAPED_HINT = (
    "\nfunc's outputs do not require grad, yet they change when its inputs do: part of the "
    "computation escaped the graph (.detach(), .data, .numpy(), .item(), no_grad()).")


def _fast_check(func, inputs, diff, func_out, outputs, eps, rtol, atol, nondet_tol,
                check_grad_dtypes, locate):
    """PyTorch's fast mode: compare vᵀ(Ju) by central differences with (vᵀJ)u by autograd."""
    rng = xp.random.default_rng(0)      # our own generator: the user's random stream is untouched
    diff_inputs = [inputs[i] for i in diff]
    us = [_random_unit(rng, x) for x in diff_inputs]
    vs = [_random_unit(rng, o) for o in outputs]
    Ju = [_numerical_directional(func, inputs, i, u, func_out, eps) for i, u in zip(diff, us)]
    if not outputs:
        for per_output in Ju:
            for d in per_output:
                if d is not None and d.size and xp.abs(d).max() > nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero"
                                         + _ESCAPED_HINT)
        return
    out_positions = [p for p, o in enumerate(func_out) if o.requires_grad]
    for k, (o, v, p) in enumerate(zip(outputs, vs, out_positions)):
        vJ = _analytical_jacobians(o, diff_inputs, [v.reshape(o._data.shape)], nondet_tol,
                                   check_grad_dtypes)
        for j, (x, u) in enumerate(zip(diff_inputs, us)):
            n = xp.asarray(xp.dot(v, Ju[j][p]))
            a = xp.asarray(xp.dot(vJ[j][:, 0], u))
            scaled_atol = atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, rtol, scaled_atol):
                extra = _slow_recheck(func, inputs, diff[j], p, o, x, func_out, eps, rtol, atol)
                raise _mismatch(k, j, n, a, locate, shown=lambda s: repr(float(s)), extra=extra)


def _random_unit(rng, t):
    r = rng.random(t._data.size).astype(t._data.dtype)
    with xp.errstate(all="ignore"):
        return r / xp.sqrt((r * r).sum())


def _slow_recheck(func, inputs, i, p, output, x, func_out, eps, rtol, atol):
    """Torch's follow-up to a fast-mode failure: the full Jacobians of that pair."""
    if x._data.size * output._data.size > 10 ** 6:
        return ("\nThe above quantities are computed in fast mode; the full Jacobians are too "
                "large to recompute in slow mode.\n")
    numerical = _numerical_jacobians(func, inputs, [i], func_out, eps)[0][p]
    analytical = _analytical_jacobians(output, [x], _unit_rows(output), float("inf"), False)[0]
    with xp.errstate(all="ignore"):
        max_diff = float(xp.abs(numerical - analytical).max()) if numerical.size else 0.0
    text = ("\nThe above quantities relating the numerical and analytical jacobians are computed "
            "\nin fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more "
            "background \nabout fast mode. Below, we recompute numerical and analytical jacobians "
            f"in slow mode:\n\nNumerical:\n {_show(numerical)}\nAnalytical:\n{_show(analytical)}"
            f"\n\nThe max per-element difference (slow mode) is: {max_diff}.\n")
    if _allclose(analytical, numerical, rtol, atol):
        text += ("\nFast gradcheck failed but element-wise differences are small. This means "
                 "that the test might've passed in slow_mode!\nCall gradcheck with "
                 "fast_mode=False to check the full Jacobians.\n")
    return text


def _check_backward_multiplies_by_grad_output(outputs, diff_inputs):
    """A zero grad_output must give zero input gradients of the inputs' sizes and dtypes."""
    if not outputs:
        return
    zeros = [_new(xp.zeros(o._data.shape, o._data.dtype)) for o in outputs]
    grads = _grad(outputs, diff_inputs, zeros, allow_unused=True)
    for gi, x in zip(grads, diff_inputs):
        if gi is None:
            continue
        if not (gi._data == 0).all():
            raise GradcheckError("backward not multiplied by grad_output")
        if gi._data.dtype != x._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi.shape != x.shape:
            raise GradcheckError("grad is incorrect size")


# =========================================================================================
# Finding the culprit: each node of func's graph, checked alone
# =========================================================================================

def _locate(func, inputs, eps, atol, rtol, order):
    """(name, text) of the first node whose local derivative is wrong, or (None, a hint)."""
    nodes = _graph_nodes(func, inputs)
    unchecked = {}                      # node name -> why it could not be checked alone
    token = B.quiet_fp()
    try:
        for node in nodes:
            try:
                alone = _NodeAlone(node)
                text = alone.first_order_error(eps, atol, rtol)
                if text is None and order == 2:
                    text = alone.second_order_error(eps, atol, rtol)
            except Exception as e:      # e.g. a forward that cannot run again: skip that node
                unchecked.setdefault(node._name, f"{type(e).__name__}: {e}")
                continue
            if text is not None:
                return node._name, text
    finally:
        B.restore_fp(token)
    return None, _no_culprit_text(nodes, inputs, order, unchecked)


def _graph_nodes(func, inputs):
    """The nodes of a fresh run of func that gradients flow through, in forward order.

    Learned from one reverse pass (``run_backward``'s trace sees every local VJP, in processing
    order, which reversed is a forward order).  A node whose backward returned only None sends
    no gradient, so it is seen only as the target of its consumer's edge: it goes just before it.
    """
    outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    processed, reached = {}, {}

    def trace(node, i, g, gi):
        processed.setdefault(node, None)
        e = node.next[i]
        if type(e) is Node:
            reached.setdefault(e, node)

    grads = [xp.ones(o._data.shape, o._data.dtype) for o in outs]
    run_backward(outs, grads, retain_graph=True, create_graph=False, inputs=wanted,
                 accumulate=False, trace=trace)
    forward = list(reversed(processed))
    for node, consumer in reached.items():
        if node not in processed:
            forward.insert(forward.index(consumer), node)
    return forward


def _float64_copy(v):
    if isinstance(v, Tensor):
        a = v._data
        return a.astype(xp.float64) if a.dtype.kind == "f" else a.copy()
    return v


class _NodeAlone:
    """One recorded node as a function of its own inputs, on float64 copies of them.

    A registry primitive runs its ``forward`` and its VJP rules (with ``ArrayF``, as the engine
    does); a user-defined Function runs ``cls.forward`` with a fresh ctx and its ``backward``.
    """

    def __init__(self, node):
        self.node = node
        self.op = node.op
        self.params = node.params or {}
        self.is_function = isinstance(node.op, _FunctionOp)
        self.tensors = [isinstance(v, Tensor) for v in node.inputs]
        self.values = [_float64_copy(v) for v in node.inputs]
        self.wrt = [i for i, e in enumerate(node.next) if e is not None]

    # --- the node's forward and VJP, on arrays ----------------------------------------------
    def _args(self, values):
        return [_new(v) if t else v for v, t in zip(values, self.tensors)]

    def run(self, values):
        """(output array, ctx) at ``values``; ctx is None for a primitive."""
        if not self.is_function:
            return xp.asarray(self.op.forward(*values, **self.params)), None
        ctx = FunctionCtx(tuple(i in self.wrt for i in range(len(values))))
        with no_grad():
            out = self.op.cls.forward(ctx, *self._args(values))
        return out._data, ctx

    def vjp(self, g, out, ctx, i):
        """The node's gradient for input ``i`` given ``g``, summed to the input's shape."""
        values = self.values
        if self.is_function:
            gi = self.op.vjps(ArrayF, g, out, *self._args(values), ctx=ctx)[i]
        elif self.op.nary:
            gi = self.op.vjps(ArrayF, g, out, *values, i=i, **self.params)
        else:
            gi = self.op.vjps[i](ArrayF, g, out, *values, **self.params)
        shape = values[i].shape
        if gi is None:
            return xp.zeros(shape)
        gi = xp.asarray(gi)
        if gi.shape != shape:
            gi = B.sum_to(gi, shape)
        return gi.astype(xp.float64)

    def moved(self, i, delta):
        """The output with input ``i`` moved by ``delta`` (an array of its shape)."""
        values = list(self.values)
        values[i] = self.values[i] + delta
        return self.run(values)[0].astype(xp.float64)

    # --- first derivatives --------------------------------------------------------------------
    def first_order_error(self, eps, atol, rtol):
        out, ctx = self.run(self.values)
        if out.dtype.kind != "f":
            return None
        if out.dtype != xp.float64:     # the node itself rounds (e.g. .float()): coarser check
            eps, atol, rtol = max(eps, 1e-3), max(atol, 1e-3), max(rtol, 1e-2)
        base = out.astype(xp.float64)
        for i in self.wrt:
            x = self.values[i]
            kink = None
            if x.size * out.size <= _FULL_LOCAL_JACOBIAN:
                numerical = xp.zeros((x.size, out.size))
                left, right = numerical.copy(), numerical.copy()
                for r in range(x.size):
                    e = xp.zeros(x.size)
                    e[r] = eps
                    e = e.reshape(x.shape)
                    hi, lo = self.moved(i, e), self.moved(i, -e)
                    numerical[r] = ((hi - lo) / (2 * eps)).reshape(-1)
                    right[r] = ((hi - base) / eps).reshape(-1)
                    left[r] = ((base - lo) / eps).reshape(-1)
                analytical = xp.zeros((x.size, out.size))
                for c, g in enumerate(_unit_rows(_new(out))):
                    analytical[:, c] = self.vjp(g, out, ctx, i).reshape(-1)
                ok = _allclose(analytical, numerical, rtol, atol)
                # one-sided differences that disagree: the point is a kink or a jump
                kink = not _allclose(left, right, 1e-2, 1e-3)
                layout = f"rows: elements of input {i}, columns: elements of out"
            else:                       # large: compare wᵀJu for random unit u, w
                rng = xp.random.default_rng(0)
                u = _random_unit(rng, _new(x)).reshape(x.shape)
                w = _random_unit(rng, _new(out)).reshape(out.shape)
                # unscaled atol, unlike torch's fast mode: |wᵀ(A - N)u| grows with the size of
                # a dense Jacobian only, and most nodes' Jacobians are diagonal or sparse
                hi, lo = (w * self.moved(i, eps * u)).sum(), (w * self.moved(i, -eps * u)).sum()
                mid = (w * base).sum()
                numerical = xp.asarray((hi - lo) / (2 * eps))
                analytical = xp.asarray((self.vjp(w, out, ctx, i) * u).sum())
                ok = _allclose(analytical, numerical, rtol, atol)
                kink = not _allclose(xp.asarray((hi - mid) / eps), xp.asarray((mid - lo) / eps),
                                     1e-2, 1e-3)
                layout = "a random projection wᵀJu, the Jacobian being large"
            if not ok:
                return self._first_order_text(i, numerical, analytical, layout, kink)
        return None

    def describe(self):
        if self.is_function:
            return f"{self.node._name} (a user-defined autograd.Function {self.op.cls.__name__})"
        doc = (self.op.doc or "").strip().splitlines()
        return f"{self.node.name} (the primitive {self.op.name}" + (
            f": {doc[0]})" if doc else ")")

    def _at(self, i):
        x = self.values[i]
        return f" at input {i} = {_show(x)}" if x.size <= 16 else ""

    def _first_order_text(self, i, numerical, analytical, layout, kink):
        name = self.op.cls.__name__ if self.is_function else self.op.name
        where = (f"{name}.backward disagrees with central differences of {name}.forward alone"
                 if self.is_function else
                 f"its VJP rule disagrees with central differences of {name} alone")
        text = (f"\nThe first wrong local derivative is in {self.describe()}: d out/d input {i} "
                f"from {where} (float64; {layout}){self._at(i)},\n"
                f"numerical:{_show(numerical)}\nanalytical:{_show(analytical)}\n")
        if kink:
            return text + (f"Its one-sided differences disagree: the input sits where {name} is "
                           "not differentiable (a kink or a jump, e.g. relu at 0), and central "
                           "differences average the two sides. Check at another point.\n")
        if self.is_function:
            return text + (f"Fix {name}.backward: for input {i} it must return "
                           f"g·∂out/∂input {i} summed over out's elements (the chain rule); each "
                           "analytical column above is what it returned for a one-hot g.\n")
        formulas = self.op.formulas
        formula = formulas[min(i, len(formulas) - 1)] if formulas else None
        rule = f" (∂out/∂input {i} = {formula})" if formula else ""
        return text + f"The VJP rule of {name}{rule} in ops.py is wrong at this point.\n"

    # --- second derivatives (for gradgradcheck) -----------------------------------------------
    def second_order_error(self, eps, atol, rtol):
        """gradgradcheck of this node alone, re-applied to fresh float64 leaves."""
        leaves = [(_new(v.copy(), requires_grad=i in self.wrt) if t else v)
                  for i, (v, t) in enumerate(zip(self.values, self.tensors))]

        def node_alone(*args):
            if self.is_function:
                return self.op.cls.apply(*args)
            return _apply(self.op, args, self.params)

        out = node_alone(*leaves)
        if not (isinstance(out, Tensor) and out.requires_grad and _is_float(out)):
            return None
        g = _random_grad_output(out, False, xp.random.default_rng(0))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                large = sum(v.size for v in self.values if isinstance(v, B.ndarray)) * \
                    out.numel() > _FULL_LOCAL_JACOBIAN
                _run(_double_backward(node_alone, tuple(leaves), (g,)), tuple(leaves) + (g,),
                     eps, atol, rtol, True, 0.0, False, large, None)
        except GradcheckError as e:
            return self._second_order_text(e)
        return None

    def _second_order_text(self, e):
        numbered = self.wrt + ["g"]          # the differentiable inputs of the double backward
        of = getattr(e, "output_index", None)
        wrt = getattr(e, "input_index", None)
        if of is None or of >= len(self.wrt) or wrt >= len(numbered):
            detail = f"\n{e}"
        else:
            by = "the incoming gradient g" if numbered[wrt] == "g" else f"input {numbered[wrt]}"
            detail = (f": d(gradient of input {self.wrt[of]})/d({by}), for a random incoming "
                      "gradient g,\n"
                      f"numerical:{_show(e.numerical)}\nanalytical:{_show(e.analytical)}\n")
        text = (f"\nThe first wrong local second derivative is in {self.describe()}: its backward "
                "gives the right first derivative, but the graph it records under "
                f"create_graph=True does not differentiate to the right values{detail}")
        if self.is_function:
            text += (f"Does {self.op.cls.__name__}.backward use a value autograd cannot see "
                     "(.detach(), .data, .numpy(), a tensor computed in forward and stored on "
                     "ctx without save_for_backward)? Compute it in backward, from "
                     "ctx.saved_tensors, with chainrule operations.\n")
        return text


def _no_culprit_text(nodes, inputs, order, unchecked):
    if not nodes:
        return ("\nNo recorded operation of func carries a gradient to its inputs: part of the "
                "computation escaped the graph (.detach(), .data, .numpy(), .item(), no_grad()).\n")
    checked = [n._name for n in nodes if n._name not in unchecked]
    names = ", ".join(checked[:8]) + (", ..." if len(checked) > 8 else "")
    what = "local derivative" + (" and second derivative" if order == 2 else "")
    text = "\n"
    if unchecked:
        text += "".join(f"chainrule could not check {name} alone ({why}). "
                        for name, why in unchecked.items())
    if not checked:
        return text + "\n"
    text += (f"chainrule checked each of the {len(checked)} operations of func's graph alone "
             f"({names}): every {what} agrees with central differences in float64, so no "
             f"single derivative rule {'there ' if unchecked else ''}is wrong. ")
    coarse = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad
              and x._data.dtype != xp.float64]
    if coarse:
        return text + (f"Input #{coarse[0]} is {inputs[coarse[0]].dtype}: finite differences "
                       "in that precision are too coarse for these tolerances. Check in float64.\n")
    return text + ("Look for values computed outside the graph (.detach(), .data, .numpy(), "
                   ".item()) that autograd cannot see, or for a point where func is not "
                   "differentiable.\n")


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
        given = list(_as_tuple(inputs))
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
    leaves = [_new(a.copy(), requires_grad=True) for a in point]
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
    args = [float(a) if k == "number" else _new(a.copy()) if k == "tensor" else a.copy()
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
