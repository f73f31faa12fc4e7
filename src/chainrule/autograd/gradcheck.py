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
from ._culprit import find_culprit
from ._jacobians import (GradcheckError, as_tuple, double_backward, random_grad_output,
                         refuse_missing_features, run_check)
from .derivation import DerivationReport, check_derivation  # noqa: F401  (the public names stay here)

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "check_derivation",
           "DerivationReport"]


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
    refuse_missing_features("gradcheck", check_batched_grad=check_batched_grad,
                             check_batched_forward_grad=check_batched_forward_grad,
                             check_forward_ad=check_forward_ad)
    inputs = as_tuple(inputs)
    locate = (lambda: find_culprit(func, inputs, eps, atol, rtol, order=1)) \
        if raise_exception else None
    return run_check(func, inputs, eps, atol, rtol, raise_exception, nondet_tol, check_grad_dtypes,
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
    refuse_missing_features("gradgradcheck", check_batched_grad=check_batched_grad,
                             check_fwd_over_rev=check_fwd_over_rev)
    inputs = as_tuple(inputs)
    if grad_outputs is None:
        outputs = [o for o in as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(random_grad_output(o, gen_non_contig_grad_outputs)
                             for o in outputs)
    else:
        grad_outputs = as_tuple(grad_outputs)
    new_func = double_backward(func, inputs, grad_outputs)
    locate = (lambda: find_culprit(func, inputs, eps, atol, rtol, order=2)) \
        if raise_exception else None
    return run_check(new_func, inputs + grad_outputs, eps, atol, rtol, raise_exception, nondet_tol,
                check_grad_dtypes, fast_mode, locate)
