"""``Optimizer``: the base class of every optimizer, with PyTorch's parameter groups and state.

An optimizer holds ``param_groups`` (a list of dicts: ``"params"`` plus one entry per
hyperparameter, filled in from ``defaults``) and ``state`` (a dict from parameter to that
parameter's buffers).  ``state_dict()`` has torch's layout -- state keyed by the parameter's
index in the order the groups list them, groups holding index lists -- so a state dict saved
by chainrule loads into torch, and the reverse, once its tensors are converted.

Subclasses write ``step``; the updates run on the parameters' NumPy arrays in place, so they
record nothing in the graph (torch runs them under ``no_grad``).
"""
import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

from .. import _backend as B
from .. import dtypes as D
from .._backend import xp
from ..grad_mode import enable_grad, graph_break, state as _grad_state
from ..graph import RemovableHandle
from ..tensor import Tensor, wrap

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, run before
    every optimizer's ``step`` (before the optimizer's own pre-hooks); returns a handle whose
    ``remove()`` unregisters it.

    >>> calls = []
    >>> h = chainrule.optim.optimizer.register_optimizer_step_pre_hook(
    ...     lambda opt, args, kwargs: calls.append(type(opt).__name__))
    >>> w = chainrule.zeros(2, requires_grad=True)
    >>> chainrule.optim.SGD([w], lr=0.1).step(); h.remove(); calls
    ['SGD']
    """
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register ``hook(optimizer, args, kwargs) -> None``, run after every optimizer's ``step``
    (after the optimizer's own post-hooks); returns a removable handle.

    >>> calls = []
    >>> h = chainrule.optim.optimizer.register_optimizer_step_post_hook(
    ...     lambda opt, args, kwargs: calls.append("after"))
    >>> w = chainrule.zeros(2, requires_grad=True)
    >>> chainrule.optim.SGD([w], lr=0.1).step(); h.remove(); calls
    ['after']
    """
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _hooked_step(func):
    """``func`` (a ``step``) wrapped to run the global and per-optimizer step hooks, in torch's
    order: global pre, own pre, step, own post, global post.  As in torch, the hooks' ``args``
    include the optimizer itself (``args[0]``).  A ``step`` that calls its base class's
    ``step`` runs the hooks once."""
    @functools.wraps(func)
    def step(*args, **kwargs):
        self = args[0]
        # the update writes the parameters' arrays, unseen by chainrule.compile's recorder:
        # every optimizer's step passes here.  A recorded training step calls it again on
        # replay; with a closure (which computes a loss inside) the function runs eagerly
        rec = _grad_state.recorder
        if rec is not None and not self.__dict__.get("_in_hooked_step"):
            if len(args) == 1 and not kwargs:
                return rec.call(f"{type(self).__name__}.step()", self.step, self._touched)
            graph_break(f"{type(self).__name__}.step(closure) (it changes the parameters and "
                        "the optimizer's state outside the recorded operations)")
        if self.__dict__.get("_in_hooked_step"):
            return func(*args, **kwargs)
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{func} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
        self._in_hooked_step = True
        try:
            out = func(*args, **kwargs)
        finally:
            self._in_hooked_step = False
        for post_hook in chain(self._optimizer_step_post_hooks.values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out
    step.hooked = True
    return step


_HOOK_DICTS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
               "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
               "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks")


class _RequiredParameter:
    """The default of a hyperparameter that every parameter group must give."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers: parameter groups, per-parameter state, ``zero_grad``,
    ``state_dict``.  Subclasses implement ``step``.

    >>> w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = chainrule.optim.SGD([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init_subclass__(cls, **kwargs):
        # torch wraps ``step`` on first construction (``_patch_step_function``); wrapping it
        # when the subclass is defined gives the same hooks without patching classes later
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        for name in _HOOK_DICTS:
            setattr(self, name, OrderedDict())
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)} (pass [tensor] or "
                            "model.parameters())")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for s in self.state.values():
            if isinstance(s, dict):
                _step_from_number(s)

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # --- groups ----------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and any hyperparameters that
        differ from the defaults), e.g. layers unfrozen during fine-tuning.

        >>> body, head = chainrule.nn.Linear(4, 4), chainrule.nn.Linear(4, 1)
        >>> opt = chainrule.optim.SGD(body.parameters(), lr=0.1)
        >>> opt.add_param_group({"params": head.parameters(), "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):          # from named_parameters()
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _touched(self):
        """The tensors a step writes: the parameters and the state (chainrule.compile's
        recorder treats them as changed after a recorded ``step()``)."""
        found = [p for g in self.param_groups for p in g["params"]]
        for st in self.state.values():
            found += [v for v in st.values() if isinstance(v, Tensor)]
        return found

    # --- gradients and steps ---------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors: to None (the default, as torch), or
        to zeros with ``set_to_none=False``.  A parameter whose grad is None is skipped by
        ``step``; one whose grad is zero is not (weight decay and momentum still act)."""
        if _grad_state.recorder is not None:    # a recorded training step calls it again
            return _grad_state.recorder.call(f"{type(self).__name__}.zero_grad()",
                                             functools.partial(self.zero_grad, set_to_none),
                                             "grads")
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._data.fill(0)
                    g._vc[0] += 1

    def step(self, closure=None):
        """Update the parameters once from their ``.grad``; ``closure`` (optional) re-evaluates
        the model and returns the loss, which ``step`` returns."""
        raise NotImplementedError

    # --- hooks -----------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, run
        before this optimizer's ``step``; returns a handle whose ``remove()`` unregisters it.

        >>> w = chainrule.zeros(2, requires_grad=True)
        >>> opt = chainrule.optim.SGD([w], lr=0.1)
        >>> h = opt.register_step_pre_hook(lambda o, args, kwargs: print("before step"))
        >>> opt.step()
        before step
        """
        return _add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None``, run after this optimizer's
        ``step``; returns a removable handle."""
        return _add_hook(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer) -> None``, run at the start of ``state_dict()``
        (``prepend=True``: before the hooks already registered)."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, run at the end of
        ``state_dict()``; a returned dict replaces the result."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, run at the start of
        ``load_state_dict`` on a shallow copy of the given dict; a returned dict is loaded
        instead."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer) -> None``, run at the end of ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- saving and loading ----------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as a dict, in torch's layout::

            {"state": {0: {"momentum_buffer": tensor(...)}, ...},
             "param_groups": [{"lr": 0.1, ..., "params": [0, 1]}, ...]}

        Parameters are replaced by their index in the order the groups list them.  The state's
        tensors are the live buffers, not copies (as torch): ``copy.deepcopy`` the dict to keep
        a snapshot while training continues.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        mapping = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state from ``state_dict()`` (this library's, or torch's with its tensors
        converted: ``chainrule.tensor(t.numpy())``; NumPy arrays are accepted as they are).

        Parameters are matched by position.  Floating state tensors are copied and cast to
        their parameter's dtype, except ``step``.
        """
        graph_break(f"{type(self).__name__}.load_state_dict() (it replaces the optimizer's "
                    "state outside the recorded operations)")
        state_dict = state_dict.copy()          # shallow, as torch (and Module)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}; this optimizer has {len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group (group {i}: {len(s['params'])} parameters saved, "
                    f"{len(g['params'])} here)")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        saved_params = state_dict["param_groups"]

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, _group_of(saved_params, k), None)
            else:
                state[k] = v

        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


# --- helpers the optimizers share ----------------------------------------------------------

def _add_hook(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _typename(obj):
    t = type(obj)
    if t.__module__ == "builtins":
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _group_of(groups, param_id):
    for g in groups:
        if param_id in g["params"]:
            return g
    return {}


def _cast(param, value, group, key):
    """A copy of a saved state value, its tensors cast to the parameter's dtype."""
    if isinstance(value, xp.ndarray):
        value = wrap(value)
    if isinstance(value, Tensor):
        data = value._data
        if key == "step":
            if group.get("capturable", False) or group.get("fused", False):
                data = data.astype(xp.float32)
        elif param._data.dtype.kind == "f":
            data = data.astype(param._data.dtype)
        return wrap(data.copy() if data is value._data else data)
    if isinstance(value, dict):
        return {k: _cast(param, v, group, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v, group, None) for v in value)
    return value


def step_groups(optimizer, closure, update):
    """The ``step`` of the optimizers here: run ``closure`` (with grad enabled, as torch), then
    ``update(optimizer.state, group)`` for each group, NumPy's floating-point warnings off
    (torch is silent about 0/0 when eps = 0)."""
    loss = None
    if closure is not None:
        with enable_grad():
            loss = closure()
    for group in optimizer.param_groups:
        if group.get("capturable") and any(p._grad is not None for p in group["params"]):
            raise AssertionError(getattr(optimizer, "_capturable_error", CAPTURABLE_ERROR))
    token = B.quiet_fp()
    try:
        for group in optimizer.param_groups:
            update(optimizer.state, group)
    finally:
        B.restore_fp(token)
    return loss


# torch refuses capturable=True at the first step with a CPU parameter (CUDA graphs only)
CAPTURABLE_ERROR = ("If capturable=True, params and state_steps must be on supported devices: "
                    "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")


def set_defaults(groups, **defaults):
    """Fill in hyperparameters that older state dicts lack (torch's ``__setstate__``)."""
    for group in groups:
        for k, v in defaults.items():
            group.setdefault(k, v)


def scalar(x):
    """A hyperparameter as a Python float (a 1-element tensor lr is read here, as torch)."""
    return float(x.item()) if isinstance(x, Tensor) else float(x)


def step_tensor():
    """A new 0-d ``step`` counter: float32, or float64 when that is the default (as torch)."""
    dt = xp.float64 if D.get_default_dtype() is D.float64 else xp.float32
    return wrap(xp.zeros((), dtype=dt))


def advance(step_t):
    """Add 1 to a ``step`` counter in place; return the new count as a float."""
    a = step_t._data
    xp.add(a, 1, out=a)
    return float(a)


def _step_from_number(state):
    """Old state dicts hold ``step`` as a number: make it a tensor, as torch's loaders do."""
    s = state.get("step")
    if s is not None and not isinstance(s, Tensor):
        t = step_tensor()
        t._data[...] = float(s)
        state["step"] = t


def fma(a, b, c):
    """a·b + c with one rounding, as torch's ``c.add_(a, alpha=b)`` computes it on CPU (a fused
    multiply-add): float64 by Dekker's exact product and Knuth's two-sum, float32 through
    float64.  Matching it keeps iterates equal to torch's to the last bit in most steps; a
    rounded ``c + b*a`` drifts by an ulp per update, which L-BFGS's line search amplifies."""
    a = xp.asarray(a)
    if a.dtype != xp.float64:
        return (a.astype(xp.float64) * xp.float64(b) + c.astype(xp.float64)).astype(a.dtype)
    b = xp.float64(b)
    p = a * b
    split = 134217729.0                              # 2**27 + 1: Veltkamp's splitting
    ca, cb = a * split, b * split
    ah = ca - (ca - a)
    al = a - ah
    bh = cb - (cb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl    # p + e == a·b exactly
    s = p + c
    z = s - p
    f = (p - (s - z)) + (c - z)                          # s + f == p + c exactly
    return s + (e + f)


def lerp_(a, b, w):
    """a ← lerp(a, b, w) in place, torch's formula: a + w(b − a), or b − (b − a)(1 − w) for
    |w| ≥ 0.5 (exact at w = 1)."""
    t = xp.subtract(b, a)
    if abs(w) < 0.5:
        t *= w
        a += t
    else:
        t *= 1 - w
        xp.subtract(b, t, out=a)


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    check_nonneg(lr, "learning rate")


def check_nonneg(value, what):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def check_unsupported(differentiable):
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported: chainrule's optimizers update the parameters' "
            "arrays in place outside the graph. Write the update with tensor ops yourself to "
            "differentiate through it")


def nd(a):
    """``a``, or a 1-element view of a 0-d array: NumPy's ufuncs turn 0-d results into scalars,
    which can't be updated in place."""
    return a if a.ndim else a.reshape(1)
