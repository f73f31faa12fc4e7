"""gradcheck's comparison: numerical Jacobians (central differences) against autograd's, with
PyTorch's verdicts and messages.  ``gradcheck.py`` runs it on the user's function; the culprit
search (``_culprit.py``) runs it on one graph node at a time."""
import contextlib
import warnings

from .. import _backend as B
from .._backend import xp
from ..engine import grad as _grad
from ..tensor import Tensor, wrap


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
FULL_LOCAL_JACOBIAN = 4096



def refuse_missing_features(fn, **flags):
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


def double_backward(func, inputs, grad_outputs):
    """PyTorch's function for gradgradcheck: (*inputs, *grad_outputs) ↦ the input gradients."""
    n = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grads = {i for i, g in enumerate(grad_outputs) if g.requires_grad}

    def new_func(*args):
        k = len(args) - n
        input_args = tuple(x.requires_grad_() if i in diff_inputs else x
                           for i, x in enumerate(args[:k]))
        outputs = tuple(o for o in as_tuple(func(*input_args)) if o.requires_grad)
        gs = tuple(g.requires_grad_() if i in diff_grads else g for i, g in enumerate(args[k:]))
        wrt = tuple(x for i, x in enumerate(input_args) if i in diff_inputs)
        grads = _grad(outputs, wrt, gs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)
    return new_func


def random_grad_output(out, noncontiguous, rng=None):
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
    return wrap(data, requires_grad=True)


def run_check(func, inputs, eps, atol, rtol, raise_exception, nondet_tol, check_grad_dtypes,
         fast_mode, locate):
    try:
        diff = _check_inputs(inputs)
        func_out = as_tuple(func(*inputs))
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


def as_tuple(x):
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


def is_float(t):
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
            outs = as_tuple(func(*inputs))
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
        rows = [xp.zeros((x._data.size, o._data.size), o._data.dtype) if is_float(o) else None
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
        return [((c - b) / (2 * eps)).reshape(-1) if is_float(o) else None
                for o, b, c in zip(func_out, lo, hi)]


# --- analytical side: one autograd.grad per output element (or per random vector) ------------

def _vjp_rows(output, diff_inputs, grad_outputs):
    """Stack the VJPs of ``output`` for each grad_output: per input, (numel, len(grad_outputs))."""
    J = [xp.zeros((x._data.size, len(grad_outputs)), x._data.dtype) for x in diff_inputs]
    sizes_ok = types_ok = True
    for c, g in enumerate(grad_outputs):
        grads = _grad(output, diff_inputs, wrap(g), retain_graph=True, allow_unused=True)
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


def unit_rows(output):
    """One-hot grad_outputs, one per element of ``output``: their VJPs are the Jacobian's rows."""
    rows = []
    for c in range(output._data.size):
        g = xp.zeros(output._data.size, output._data.dtype)
        g[c] = 1
        rows.append(g.reshape(output._data.shape))
    return rows


def allclose(a, n, rtol, atol):
    dt = xp.promote_types(a.dtype, n.dtype)
    with xp.errstate(all="ignore"):
        return bool(xp.allclose(a.astype(dt), n.astype(dt), rtol=rtol, atol=atol))


def show(a):
    return repr(wrap(xp.asarray(a)))


def _mismatch(out_idx, in_idx, numerical, analytical, locate, shown=show, extra=""):
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
        analytical = _analytical_jacobians(o, diff_inputs, unit_rows(o), nondet_tol,
                                           check_grad_dtypes)
        for j, a in enumerate(analytical):
            n = numerical[j][o_idx]
            if not allclose(a, n, rtol, atol):
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
    us = [random_unit(rng, x) for x in diff_inputs]
    vs = [random_unit(rng, o) for o in outputs]
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
            if not allclose(a, n, rtol, scaled_atol):
                extra = _slow_recheck(func, inputs, diff[j], p, o, x, func_out, eps, rtol, atol)
                raise _mismatch(k, j, n, a, locate, shown=lambda s: repr(float(s)), extra=extra)


def random_unit(rng, t):
    r = rng.random(t._data.size).astype(t._data.dtype)
    with xp.errstate(all="ignore"):
        return r / xp.sqrt((r * r).sum())


def _slow_recheck(func, inputs, i, p, output, x, func_out, eps, rtol, atol):
    """Torch's follow-up to a fast-mode failure: the full Jacobians of that pair."""
    if x._data.size * output._data.size > 10 ** 6:
        return ("\nThe above quantities are computed in fast mode; the full Jacobians are too "
                "large to recompute in slow mode.\n")
    numerical = _numerical_jacobians(func, inputs, [i], func_out, eps)[0][p]
    analytical = _analytical_jacobians(output, [x], unit_rows(output), float("inf"), False)[0]
    with xp.errstate(all="ignore"):
        max_diff = float(xp.abs(numerical - analytical).max()) if numerical.size else 0.0
    text = ("\nThe above quantities relating the numerical and analytical jacobians are computed "
            "\nin fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more "
            "background \nabout fast mode. Below, we recompute numerical and analytical jacobians "
            f"in slow mode:\n\nNumerical:\n {show(numerical)}\nAnalytical:\n{show(analytical)}"
            f"\n\nThe max per-element difference (slow mode) is: {max_diff}.\n")
    if allclose(analytical, numerical, rtol, atol):
        text += ("\nFast gradcheck failed but element-wise differences are small. This means "
                 "that the test might've passed in slow_mode!\nCall gradcheck with "
                 "fast_mode=False to check the full Jacobians.\n")
    return text


def _check_backward_multiplies_by_grad_output(outputs, diff_inputs):
    """A zero grad_output must give zero input gradients of the inputs' sizes and dtypes."""
    if not outputs:
        return
    zeros = [wrap(xp.zeros(o._data.shape, o._data.dtype)) for o in outputs]
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
