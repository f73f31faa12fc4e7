"""torch.func's differentiation transforms on chainrule's one reverse pass.

Reverse mode (``grad``, ``vjp``, ``jacrev``) runs ``autograd.grad`` on fresh aliases of the
inputs.  Forward mode (``jvp``, ``jacfwd``, ``linearize``) is derived from the same pass, with no
derivative code of its own ("double VJP"): the VJP ``g(u) = Jᵀu`` is linear in ``u``, so the
VJP of ``g`` with cotangent ``v`` is ``J v``.  ``jacfwd`` pushes all its basis tangents through
that second pass at once with ``vmap``, so a function with few inputs and many outputs costs
one forward pass and two (batched) reverse passes instead of one reverse pass per output.

Nesting: a transform records its own reverse pass (``create_graph``) whenever another transform
is running around it, or its inputs require grad, so the outer one can differentiate it again.
Each alias is cut from the graph above it while the transform's own passes run, so they never
walk (or free) the outer graph.

Inside ``vmap`` the inputs are BatchedTensors.  A transform peels them to plain tensors with the
batch dims in front (``_to_plain``), differentiates the whole batch in one pass, and wraps the
results again (``_from_plain``); an input shared by the batch is first repeated along it, so its
gradient comes back per example (per-sample gradients).
"""
import functools
import threading

from .. import ops
from ..creation import eye, ones_like, zeros, zeros_like
from ..engine import grad as _autograd_grad
from ..grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor, apply
from . import _batching as Bt
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import vmap


class _State(threading.local):
    depth = 0           # how many transforms are running around this point (this thread)


_state = _State()


class _nested:
    def __enter__(self):
        _state.depth += 1

    def __exit__(self, *exc):
        _state.depth -= 1
        return False


# =========================================================================================
# Levels: a value inside vmap as a plain tensor with its batch dims in front, and back
# =========================================================================================

def _unwrap(v):
    """``(plain, levels)``: the tensor under v's BatchedTensor wrappers, and the level of each
    of its leading dims (ascending: the outermost vmap's dim first)."""
    levels = []
    while type(v) is Bt.BatchedTensor:
        levels.append(v._level)
        v = v._phys
    return v, levels[::-1]


def _levels(v):
    return _unwrap(v)[1] if isinstance(v, Tensor) else []


def _to_plain(v, keep):
    """v with the levels in ``keep`` as leading dims of a plain tensor (in ``keep``'s ascending
    order, repeated where v is shared by that level's batch); v's other levels stay
    BatchedTensor wrappers around it."""
    plain, levels = _unwrap(v)
    sizes = Bt.current().sizes if keep else ()
    for lvl in keep:
        if lvl not in levels:
            s = tuple(plain.shape)
            plain = plain.reshape((1,) + s).expand((sizes[lvl - 1],) + s)
            levels = [lvl] + levels
    others = [lvl for lvl in sorted(levels) if lvl not in keep]
    order = others + sorted(keep)
    perm = [levels.index(lvl) for lvl in order] + list(range(len(levels), plain.dim()))
    if perm != list(range(plain.dim())):
        plain = plain.permute(*perm)
    for lvl in others:
        plain = Bt.batched(plain, lvl)
    return plain


def _from_plain(v, keep):
    """The inverse of ``_to_plain``: the dims for ``keep`` become BatchedTensor levels again."""
    plain, others = _unwrap(v)
    levels = others + list(keep)
    order = sorted(levels)
    perm = [levels.index(lvl) for lvl in order] + list(range(len(levels), plain.dim()))
    if perm != list(range(plain.dim())):
        plain = plain.permute(*perm)
    for lvl in order:
        plain = Bt.batched(plain, lvl)
    return plain


def _alias(p, what):
    """A differentiable stand-in for plain tensor ``p``: a node after p (cut while this
    transform's passes run) when p has a history, else a fresh leaf."""
    if not p.is_floating_point():
        raise RuntimeError(f"{what}: only floating point tensors can be differentiated, got an "
                           f"input of dtype {p.dtype}; convert it first (x.double()) or move it "
                           "out of argnums")
    if p._requires_grad:
        return apply(ops.reshape, (p,), {"shape": tuple(p.shape)}, name="AliasBackward0")
    return p.detach().requires_grad_()


def _backward(outs, cts, inputs, cut, create_graph):
    """``autograd.grad(outs, inputs, cts)``, with the aliases in ``cut`` cut from the graph
    above them for the duration (a transform never walks the graph outside its function)."""
    nodes = [a._grad_fn for a in cut if a._grad_fn is not None]
    saved = [n.next for n in nodes]
    for n in nodes:
        n.next = (None,) * len(n.next)
    try:
        pairs = [(o, c) for o, c in zip(outs, cts) if o._requires_grad]
        if not pairs:
            return [None] * len(inputs)
        with enable_grad():
            return list(_autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                                       retain_graph=True, create_graph=create_graph,
                                       allow_unused=True))
    finally:
        for n, s in zip(nodes, saved):
            n.next = s


def _detach(tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([v.detach() if isinstance(v, Tensor) else v for v in leaves], spec)


def _argnums(argnums, nargs, fname):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else argnums
    if not isinstance(nums, tuple) or not nums or not all(isinstance(a, int) for a in nums):
        raise RuntimeError(f"{fname}: argnums must be int or Tuple[int, ...], got: {argnums!r}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"{fname}: Got argnums={argnums}, but only {nargs} positional "
                               "inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{fname}: argnums must be unique, got {argnums}")
    return tuple(out), single


def _split_aux(result, has_aux, fname):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{fname}(f)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return result


def _tensor_leaves(tree, what, fname):
    leaves, spec = tree_flatten(tree)
    for v in leaves:
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{fname}: Expected {what} to be tensors (or pytrees of tensors), "
                               f"got {type(v).__name__}")
    return leaves, spec


class _Run:
    """One run of a function on aliases of some of its arguments (the reverse-mode core)."""

    def __init__(self, func, args, kwargs, nums, has_aux, fname):
        self.trees = [tree_flatten(args[i]) for i in nums]
        leaves = [v for ls, _ in self.trees for v in ls]
        for v in leaves:
            if not isinstance(v, Tensor):
                raise RuntimeError(f"{fname}: the arguments to differentiate must be tensors (or "
                                   f"pytrees of tensors), got {type(v).__name__}")
        # the levels every alias gets: those of any argument, so a gradient w.r.t. an input
        # shared by a batch comes back per example instead of summed over the batch
        keep = set()
        for v in tree_flatten((args, kwargs))[0]:
            keep.update(_levels(v))
        self.outer = _state.depth > 0 or (is_grad_enabled() and
                                          any(v._requires_grad for v in leaves))
        for _ in range(2):
            self.keep = sorted(keep)
            with _nested(), enable_grad():
                self.aliases = [_alias(_to_plain(v, self.keep), fname) for v in leaves]
                values = [_from_plain(a, self.keep) for a in self.aliases]
                new_args = list(args)
                k = 0
                for i, (ls, spec) in zip(nums, self.trees):
                    new_args[i] = tree_unflatten(values[k:k + len(ls)], spec)
                    k += len(ls)
                result = func(*new_args, **kwargs)
            self.out, self.aux = _split_aux(result, has_aux, fname)
            self.out_leaves, self.out_spec = _tensor_leaves(self.out, "outputs", fname)
            found = set()
            for o in self.out_leaves:
                found.update(_levels(o))
            if found <= keep:
                break
            keep |= found       # the output is batched through a tensor f closes over: rerun
        self.outs = [_to_plain(o, self.keep) for o in self.out_leaves]

    def grads(self, cts, create_graph):
        gs = _backward(self.outs, cts, self.aliases, self.aliases, create_graph)
        return [_from_plain(zeros_like(a) if g is None else g, self.keep)
                for g, a in zip(gs, self.aliases)]

    def per_arg(self, flat):
        """Flat per-leaf results, rebuilt in the structure of each differentiated argument."""
        out, k = [], 0
        for ls, spec in self.trees:
            out.append(tree_unflatten(flat[k:k + len(ls)], spec))
            k += len(ls)
        return out

    def finish(self, tree):
        return tree if self.outer else _detach(tree)


# =========================================================================================
# Reverse mode
# =========================================================================================

def grad_and_value(func, argnums=0, has_aux=False):
    """Like ``grad``, returning ``(gradient, value)`` (``(gradient, (value, aux))`` with aux).

    >>> import chainrule as torch
    >>> from chainrule.func import grad_and_value
    >>> grad_and_value(lambda x: (x ** 2).sum())(torch.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "grad_and_value")
        run = _Run(func, args, kwargs, nums, has_aux, "grad_and_value")
        out = run.out
        if not isinstance(out, Tensor) or out.dim() != 0:
            what = f"tensor with {out.dim()} dims" if isinstance(out, Tensor) else \
                type(out).__name__
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got {what}. Maybe you wanted to use the vjp or jacrev "
                               "APIs instead?")
        o = run.outs[0]
        gs = run.per_arg(run.grads([ones_like(o)], create_graph=run.outer))
        g = gs[0] if single else tuple(gs)
        if has_aux:
            return run.finish((g, (out, run.aux)))
        return run.finish((g, out))
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of scalar-valued ``func`` with respect to its argument(s) ``argnums``.

    has_aux: func returns ``(output, aux)``; the result is then ``(gradient, aux)``.
    Transforms compose: ``grad(grad(f))``, ``vmap(grad(f))``.

    >>> import chainrule as torch
    >>> from chainrule.func import grad
    >>> grad(lambda x: x.sin().sum())(torch.tensor([0.0]))
    tensor([1.])
    >>> grad(grad(lambda x: x ** 3))(torch.tensor(2.0))
    tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives the cotangents' product with
    func's Jacobian, one result per primal (a tuple), computed by one reverse pass.

    >>> import chainrule as torch
    >>> from chainrule.func import vjp
    >>> out, vjp_fn = vjp(torch.sin, torch.tensor([0.0, 1.0]))
    >>> vjp_fn(torch.tensor([1.0, 0.0]))
    (tensor([1., 0.]),)
    """
    run = _Run(func, primals, {}, tuple(range(len(primals))), has_aux, "vjp")

    def vjp_fn(cotangents):
        leaves, spec = tree_flatten(cotangents)
        if spec != run.out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree "
                               "structure of outputs to the function. cotangents: "
                               f"{_show(spec)}, primal output: {_show(run.out_spec)}")
        for i, (c, o) in enumerate(zip(leaves, run.out_leaves)):
            if not isinstance(c, Tensor) or tuple(c.shape) != tuple(o.shape):
                got = tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise RuntimeError(f"vjp_fn: Mismatch in shape: cotangent {i} has a shape of "
                                   f"{got} and output {i} has a shape of {tuple(o.shape)}")
        cts = [_to_plain(c, run.keep) for c in leaves]
        nested = _state.depth > 0
        batched = any(type(c) is Bt.BatchedTensor for c in cts)
        gs = run.grads(cts, create_graph=run.outer or nested or batched)
        result = tuple(run.per_arg(gs))
        return result if run.outer or nested else _detach(result)

    if has_aux:
        return run.finish(run.out), vjp_fn, run.finish(run.aux)
    return run.finish(run.out), vjp_fn


def _show(spec):
    kind, meta, children = spec
    if kind == "leaf":
        return "*"
    inner = ", ".join(_show(c) for c in children)
    return {"tuple": f"({inner})", "list": f"[{inner}]"}.get(kind, f"{kind}({inner})")


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to ``argnums`` by reverse mode: one forward pass,
    then one reverse pass for all output elements at once (vmap over the basis cotangents).

    The result has shape ``output.shape + input.shape`` (pytrees: one per output and input).

    >>> import chainrule as torch
    >>> from chainrule.func import jacrev
    >>> jacrev(lambda x: x ** 2)(torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "jacrev")
        run = _Run(func, args, kwargs, nums, has_aux, "jacrev")
        in_shapes = [tuple(v.shape) for ls, _ in run.trees for v in ls]
        per_output = []
        for i, o in enumerate(run.out_leaves):
            m = o.numel()
            basis = eye(m, dtype=o.dtype).reshape((m,) + tuple(o.shape))

            def rows(e, i=i):
                cts = [_to_plain(e, run.keep) if k == i else zeros_like(p)
                       for k, p in enumerate(run.outs)]
                return tuple(run.grads(cts, create_graph=True))
            r = vmap(rows, chunk_size=chunk_size)(basis)
            per_output.append(run.per_arg([j.reshape(tuple(o.shape) + s)
                                           for j, s in zip(r, in_shapes)]))
        jac = [p[0] if single else tuple(p) for p in per_output]
        jac = tree_unflatten(jac, run.out_spec)
        keep_graph = run.outer or _state.depth > 0
        jac = jac if keep_graph else _detach(jac)
        return (jac, run.finish(run.aux)) if has_aux else jac
    return wrapper


# =========================================================================================
# Forward mode, by transposing the reverse pass
# =========================================================================================

class _Linear:
    """func at primals, and its reverse pass recorded with a dummy cotangent ``u`` so that
    ``J v`` is one more reverse pass (with respect to ``u``)."""

    def __init__(self, func, primals, has_aux, fname, tangent_levels=()):
        self.leaves, self.spec = _tensor_leaves(primals, "primals", fname)
        keep = set()
        for v in self.leaves:
            keep.update(_levels(v))
        self.outer = _state.depth > 0 or (is_grad_enabled() and
                                          any(v._requires_grad for v in self.leaves))
        for _ in range(2):
            self.keep = sorted(keep)
            with _nested(), enable_grad():
                self.aliases = [_alias(_to_plain(v, self.keep), fname) for v in self.leaves]
                values = [_from_plain(a, self.keep) for a in self.aliases]
                result = func(*tree_unflatten(values, self.spec))
            self.out, self.aux = _split_aux(result, has_aux, fname)
            self.out_leaves, self.out_spec = _tensor_leaves(self.out, "outputs", fname)
            found = set()
            for o in self.out_leaves:
                found.update(_levels(o))
            # a level the output has and the primals lack is summed over in Jᵀu and undone by
            # ∂/∂u -- unless a tangent is batched along it too: then rerun with it
            if not (found - keep) & set(tangent_levels):
                break
            keep |= found
        self.out_levels = [_levels(o) for o in self.out_leaves]
        outs = [_to_plain(o, lv) for o, lv in zip(self.out_leaves, self.out_levels)]
        self.us = [zeros(tuple(p.shape), dtype=p.dtype).requires_grad_() for p in outs]
        self.gs = _backward(outs, self.us, self.aliases, self.aliases, create_graph=True)

    def push(self, tangent_leaves):
        ts = [_to_plain(t, self.keep) for t in tangent_leaves]
        pairs = [(g, t) for g, t in zip(self.gs, ts) if g is not None and g._requires_grad]
        nested = _state.depth > 0
        batched = any(type(t) is Bt.BatchedTensor for t in ts)
        create = self.outer or nested or batched
        if pairs:
            jvs = _backward([g for g, _ in pairs], [t for _, t in pairs], self.us, self.aliases,
                            create)
        else:
            jvs = [None] * len(self.us)
        out = [_from_plain(zeros_like(u) if j is None else j, lv)
               for j, u, lv in zip(jvs, self.us, self.out_levels)]
        out = tree_unflatten(out, self.out_spec)
        return out if self.outer or nested else _detach(out)

    def finish(self, tree):
        return tree if self.outer else _detach(tree)


def _check_tangents(primals, tangents, fname):
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{fname}: Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure {_show(p_spec)} "
                           f"and tangents with structure {_show(t_spec)}")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{fname}: Expected tangents to be tensors, got "
                               f"{type(t).__name__} at position {i}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{fname}: Expected primals and tangents to have the same shape, "
                               f"got primal {i} of shape {tuple(p.shape)} and tangent of shape "
                               f"{tuple(t.shape)}")
    return t_leaves


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J·tangents)``: the Jacobian-vector product (forward mode).

    Derived from two reverse passes (the VJP's VJP), so it needs no forward rules.

    >>> import chainrule as torch
    >>> from chainrule.func import jvp
    >>> jvp(torch.sin, (torch.tensor([0.0]),), (torch.tensor([2.0]),))
    (tensor([0.]), tensor([2.]))
    """
    for what, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, tuple):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {what} to be a tuple. "
                               "E.g. it should be valid to call f(*primals).")
    t_leaves = _check_tangents(primals, tangents, "jvp(f, primals, tangents)")
    t_levels = set()
    for t in t_leaves:
        t_levels.update(_levels(t))
    lin = _Linear(lambda *p: func(*p), primals, has_aux, "jvp", t_levels)
    jv = lin.push(t_leaves)
    if has_aux:
        return lin.finish(lin.out), jv, lin.finish(lin.aux)
    return lin.finish(lin.out), jv


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``J·tangents`` at the primals,
    reusing the pass recorded once here.

    >>> import chainrule as torch
    >>> from chainrule.func import linearize
    >>> out, jvp_fn = linearize(torch.exp, torch.tensor([0.0]))
    >>> jvp_fn(torch.tensor([3.0]))
    tensor([3.])
    """
    lin = _Linear(func, primals, False, "linearize")

    def jvp_fn(*tangents):
        t_leaves = _check_tangents(primals, tangents, "linearize: jvp_fn")
        return lin.push(t_leaves)
    return lin.finish(lin.out), jvp_fn


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` with respect to ``argnums`` by forward mode: all basis tangents
    pushed through at once (vmap over ``jvp``).  Best with few inputs and many outputs.

    >>> import chainrule as torch
    >>> from chainrule.func import jacfwd
    >>> jacfwd(lambda x: x.sum() * x)(torch.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "jacfwd")
        trees = [tree_flatten(args[i]) for i in nums]
        leaves = [v for ls, _ in trees for v in ls]
        for v in leaves:
            if not isinstance(v, Tensor):
                raise RuntimeError("jacfwd: the arguments to differentiate must be tensors (or "
                                   f"pytrees of tensors), got {type(v).__name__}")
        sizes = [v.numel() for v in leaves]
        total = sum(sizes)
        bases, start = [], 0
        for v, n in zip(leaves, sizes):
            b = zeros(total, n, dtype=v.dtype)
            b[start:start + n] = eye(n, dtype=v.dtype)
            bases.append(b.reshape((total,) + tuple(v.shape)))
            start += n
        captured = {}

        def with_diff(*diff):
            new_args, k = list(args), 0
            for i, (ls, spec) in zip(nums, trees):
                new_args[i] = tree_unflatten(list(diff[k:k + len(ls)]), spec)
                k += len(ls)
            result = func(*new_args, **kwargs)
            out, aux = _split_aux(result, has_aux, "jacfwd")
            captured["aux"] = aux
            return out

        def push(*ts):
            return jvp(with_diff, tuple(leaves), tuple(ts))[1]
        jv = vmap(push, randomness=randomness)(*bases)
        outs, out_spec = tree_flatten(jv)
        per_output = []
        for o in outs:
            so = tuple(o.shape[1:])
            blocks, start = [], 0
            for v, n in zip(leaves, sizes):
                blk = o[start:start + n]                     # (n, *out_shape)
                perm = tuple(range(1, len(so) + 1)) + (0,)
                blocks.append(blk.permute(*perm).reshape(so + tuple(v.shape)))
                start += n
            k, trees_out = 0, []
            for ls, spec in trees:
                trees_out.append(tree_unflatten(blocks[k:k + len(ls)], spec))
                k += len(ls)
            per_output.append(trees_out[0] if single else tuple(trees_out))
        jac = tree_unflatten(per_output, out_spec)
        return (jac, captured["aux"]) if has_aux else jac
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``.

    >>> import chainrule as torch
    >>> from chainrule.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)
