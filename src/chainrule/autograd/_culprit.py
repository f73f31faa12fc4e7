"""Finding the culprit: which op's derivative is wrong, when gradcheck fails.

gradcheck (``gradcheck.py``) says *that* a Jacobian is wrong; this runs ``func`` once more, learns
the nodes of its graph from one reverse pass (the trace of ``engine.run_backward``) and checks each
node's local derivative alone, in forward order, naming the first that is wrong -- typically the
``backward`` of a user-defined ``autograd.Function``.
"""
import warnings

from .. import _backend as B
from .._backend import xp
from .._fns import ArrayF, dense
from ..engine import run_backward
from ..grad_mode import no_grad
from ..graph import Node
from ..tensor import Tensor, apply as _apply, wrap
from ..tracing import tracing
from ._jacobians import (FULL_LOCAL_JACOBIAN, GradcheckError, allclose, as_tuple, double_backward,
                         is_float, random_grad_output, random_unit, run_check, show, unit_rows)
from .function import FunctionCtx, FunctionOp


# =========================================================================================
# Finding the culprit: each node of func's graph, checked alone
# =========================================================================================

def find_culprit(func, inputs, eps, atol, rtol, order):
    """(name, text) of the first node whose local derivative is wrong, or (None, a hint)."""
    nodes = _graph_nodes(func, inputs)
    unchecked = {}                      # node name -> why it could not be checked alone
    token = B.quiet_fp()
    try:
        for node, given in nodes:
            try:
                alone = _NodeAlone(node, given)
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
    with tracing() as recorded:     # the graph keeps what rules read; re-running needs all
        outs = [o for o in as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    given = recorded.inputs_of()
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
    return [(node, given.get(node, node.inputs)) for node in forward]


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

    def __init__(self, node, inputs):
        self.node = node
        self.op = node.op
        self.params = node.params or {}
        self.is_function = isinstance(node.op, FunctionOp)
        self.tensors = [isinstance(v, Tensor) for v in inputs]
        self.values = [_float64_copy(v) for v in inputs]
        self.wrt = [i for i, e in enumerate(node.next) if e is not None]

    # --- the node's forward and VJP, on arrays ----------------------------------------------
    def _args(self, values):
        return [wrap(v) if t else v for v, t in zip(values, self.tensors)]

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
        args, params = (self._args(values), {"ctx": ctx}) if self.is_function else \
            (values, self.params)
        edges = [True if j == i else None for j in range(len(values))]   # input i only
        gi = self.op.vjp(ArrayF, g, out, args, params, edges)[i]   # the engine's one call
        shape = values[i].shape
        if gi is None:
            return xp.zeros(shape)
        gi = xp.asarray(dense(gi))
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
            if x.size * out.size <= FULL_LOCAL_JACOBIAN:
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
                for c, g in enumerate(unit_rows(wrap(out))):
                    analytical[:, c] = self.vjp(g, out, ctx, i).reshape(-1)
                ok = allclose(analytical, numerical, rtol, atol)
                # one-sided differences that disagree: the point is a kink or a jump
                kink = not allclose(left, right, 1e-2, 1e-3)
                layout = f"rows: elements of input {i}, columns: elements of out"
            else:                       # large: compare wᵀJu for random unit u, w
                rng = xp.random.default_rng(0)
                u = random_unit(rng, wrap(x)).reshape(x.shape)
                w = random_unit(rng, wrap(out)).reshape(out.shape)
                # unscaled atol, unlike torch's fast mode: |wᵀ(A - N)u| grows with the size of
                # a dense Jacobian only, and most nodes' Jacobians are diagonal or sparse
                hi, lo = (w * self.moved(i, eps * u)).sum(), (w * self.moved(i, -eps * u)).sum()
                mid = (w * base).sum()
                numerical = xp.asarray((hi - lo) / (2 * eps))
                analytical = xp.asarray((self.vjp(w, out, ctx, i) * u).sum())
                ok = allclose(analytical, numerical, rtol, atol)
                kink = not allclose(xp.asarray((hi - mid) / eps), xp.asarray((mid - lo) / eps),
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
        return f" at input {i} = {show(x)}" if x.size <= 16 else ""

    def _first_order_text(self, i, numerical, analytical, layout, kink):
        name = self.op.cls.__name__ if self.is_function else self.op.name
        where = (f"{name}.backward disagrees with central differences of {name}.forward alone"
                 if self.is_function else
                 f"its VJP rule disagrees with central differences of {name} alone")
        text = (f"\nThe first wrong local derivative is in {self.describe()}: d out/d input {i} "
                f"from {where} (float64; {layout}){self._at(i)},\n"
                f"numerical:{show(numerical)}\nanalytical:{show(analytical)}\n")
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
        leaves = [(wrap(v.copy(), requires_grad=i in self.wrt) if t else v)
                  for i, (v, t) in enumerate(zip(self.values, self.tensors))]

        def node_alone(*args):
            if self.is_function:
                return self.op.cls.apply(*args)
            return _apply(self.op, args, self.params)

        out = node_alone(*leaves)
        if not (isinstance(out, Tensor) and out.requires_grad and is_float(out)):
            return None
        g = random_grad_output(out, False, xp.random.default_rng(0))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                large = sum(v.size for v in self.values if isinstance(v, B.ndarray)) * \
                    out.numel() > FULL_LOCAL_JACOBIAN
                run_check(double_backward(node_alone, tuple(leaves), (g,)), tuple(leaves) + (g,),
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
                      f"numerical:{show(e.numerical)}\nanalytical:{show(e.analytical)}\n")
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
    checked = [n._name for n, _ in nodes if n._name not in unchecked]
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
