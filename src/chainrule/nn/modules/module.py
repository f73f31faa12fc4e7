"""``Module``: the base class of every layer and model, with PyTorch's behaviour.

Assigning a ``Parameter``, a ``Module`` or a registered buffer as an attribute records it in
``_parameters``, ``_modules`` or ``_buffers`` (ordered dicts, so ``parameters()`` and
``state_dict()`` list things in the order they were assigned, as PyTorch does).  Walks over the
module tree are iterative, like the engine's.
"""
import copy
import functools
from collections import OrderedDict, namedtuple

from ... import dtypes, grad_mode
from ...graph import RemovableHandle
from ...tensor import Tensor, check_device
from ..parameter import Buffer, Parameter, is_lazy

# How many times any module's children, parameters or buffers changed (a ``Members`` dict
# written, or one of them replaced through ``setattr``): a compiled module's signature reads
# its tree again only when this moved (``chainrule.compile``).
tree_changes = [0]
_MEMBER_DICTS = frozenset({"_parameters", "_buffers", "_modules"})


class Members(OrderedDict):
    """A module's ``_parameters``, ``_buffers`` or ``_modules``: an ``OrderedDict`` that counts
    every change in ``tree_changes`` (its repr is an OrderedDict's, as torch's)."""

    __slots__ = ()

    def __setitem__(self, key, value):
        tree_changes[0] += 1
        OrderedDict.__setitem__(self, key, value)

    def __delitem__(self, key):
        tree_changes[0] += 1
        OrderedDict.__delitem__(self, key)

    def pop(self, *args):
        tree_changes[0] += 1
        return OrderedDict.pop(self, *args)

    def popitem(self, last=True):
        tree_changes[0] += 1
        return OrderedDict.popitem(self, last)

    def setdefault(self, key, default=None):
        tree_changes[0] += 1
        return OrderedDict.setdefault(self, key, default)

    def update(self, *args, **kwargs):
        tree_changes[0] += 1
        OrderedDict.update(self, *args, **kwargs)

    def clear(self):
        tree_changes[0] += 1
        OrderedDict.clear(self)

    def __ior__(self, other):
        tree_changes[0] += 1
        return OrderedDict.__ior__(self, other)

    def __repr__(self):
        return "OrderedDict" + OrderedDict.__repr__(self)[len("Members"):]

    def __reduce_ex__(self, protocol):     # saved as the OrderedDict torch's files hold
        return OrderedDict, (list(self.items()),)

    def __deepcopy__(self, memo):
        new = memo[id(self)] = Members()
        for k, v in self.items():
            OrderedDict.__setitem__(new, k, copy.deepcopy(v, memo))
        return new


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for layers and models: subclass it, assign layers and ``Parameter``s in
    ``__init__`` (after ``super().__init__()``), and write ``forward``.

    >>> class TwoLayer(chainrule.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = chainrule.nn.Linear(4, 8)
    ...         self.fc2 = chainrule.nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            "Module.__init__() takes none (call super().__init__() without them)")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = Members()
        d["_buffers"] = Members()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = Members()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    # --- registration -----------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Add ``param`` (a ``Parameter`` or None) as ``self.<name>``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (chainrule.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (``BatchNorm``'s ``running_mean``).

        Buffers are in ``state_dict()`` unless ``persistent=False``, and are not trained.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(chainrule Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module as ``self.<name>``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain ".", got: {name}' if name else
                           'module name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _forget(self, name, keep="_parameters")    # a replaced parameter keeps its place
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(chainrule.nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _forget(self, name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (chainrule.nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer):     # nn.Buffer registers itself, with its persistence
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(chainrule Tensor or None expected)")
            buffers[name] = value
            return
        if name in _MEMBER_DICTS:           # a dict of members replaced: the tree changed
            tree_changes[0] += 1
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and children live in dicts
        d = self.__dict__
        for where in ("_parameters", "_buffers", "_modules"):
            if where in d and name in d[where]:
                return d[where][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for where in (self._parameters, self._buffers, self._modules):
            if name in where:
                del where[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # --- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(qualified name, module)`` for this module and every descendant, depth first."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [(name + ("." if name else "") + k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and m not in seen:
                seen.add(m)
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, where, prefix, recurse, remove_duplicate):
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for k, v in getattr(module, where).items():
                if v is None or (remove_duplicate and v in seen):
                    continue
                if remove_duplicate:
                    seen.add(v)
                yield module_prefix + ("." if module_prefix else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, Parameter)`` pairs, named as in ``state_dict()`` (``fc1.weight``)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module and its descendants, each once: what an optimizer
        needs (``optim.SGD(model.parameters(), lr=0.1)``)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The module at a dotted path: ``model.get_submodule("encoder.0")``."""
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def apply(self, fn):
        """Call ``fn`` on every descendant, then on this module (as ``model.apply(init_fn)``)."""
        for module in reversed(list(self.named_modules(remove_duplicate=False))):
            fn(module[1])
        return self

    # --- modes and gradients ----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``Dropout`` drops, ``BatchNorm`` uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        modules = [m for _, m in self.named_modules()]
        if any(m.training != mode for m in modules):
            # what later calls compute depends on it, and a replay would not set it again; a
            # call that changes nothing is no break (the replay runs the recorded mode's
            # operations), though a flag changed outside between calls is then not set back
            grad_mode.graph_break(f"{type(self).__name__}.train({mode}) (it changes the "
                                  "module's training flag)")
        for m in modules:
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter (to None, or to zeros in place)."""
        rec = grad_mode.state.recorder
        if rec is not None:         # a recorded training step calls it again
            return rec.call(f"{type(self).__name__}.zero_grad()",
                            functools.partial(self.zero_grad, set_to_none), "grads")
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    # --- dtype ------------------------------------------------------------------------------
    def _apply(self, fn):
        with grad_mode.no_grad():
            for _, m in self.named_modules():
                for k, p in m._parameters.items():
                    if p is not None:
                        p.data = fn(p)
                        if p._grad is not None:
                            p._grad = fn(p._grad)
                for k, b in m._buffers.items():
                    if b is not None:
                        m._buffers[k] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """Cast floating parameters and buffers to a dtype (``model.to(chainrule.float64)``);
        devices other than ``"cpu"`` are refused."""
        dtype = kwargs.pop("dtype", None)
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, dtypes.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif a is not None and not isinstance(a, bool):
                check_device(a)           # 'cuda': PyTorch-without-CUDA's AssertionError
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Fails as PyTorch does without CUDA when there is a tensor to move: chainrule computes
        on the CPU only."""
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type):
        return self.to(dst_type)

    # --- hooks ------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False):
        """``hook(module, args)`` runs before ``forward``; it may return replacement args."""
        return _add_hook(self._forward_pre_hooks, hook, prepend)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` (``module`` first with ``with_module``) runs before ``load_state_dict``
        reads this module's entries: how lazy modules materialize to a checkpoint's shapes."""
        hooks = self.__dict__.setdefault("_load_state_dict_pre_hooks", OrderedDict())
        if with_module:
            hook = _WithModule(hook, self)
        return _add_hook(hooks, hook, False)

    def register_forward_hook(self, hook, *, prepend=False):
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output."""
        return _add_hook(self._forward_hooks, hook, prepend)

    # --- state ------------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by qualified name, as PyTorch's
        (``0.weight``, ``fc1.bias``, ``bn.running_mean``); values are detached unless
        ``keep_vars``."""
        if args:                      # the deprecated positional form (destination, prefix, ...)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        out = OrderedDict() if destination is None else destination
        for module_prefix, m in self.named_modules(prefix=prefix.rstrip(".")):
            dot = module_prefix + "." if module_prefix else ""
            # an uninitialized (lazy) tensor is saved as itself, as torch's lazy modules do
            for k, p in m._parameters.items():
                if p is not None:
                    out[dot + k] = p if keep_vars or is_lazy(p) else p.detach()
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent_buffers_set:
                    out[dot + k] = b if keep_vars or is_lazy(b) else b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        With ``strict`` (the default) every key must match: missing and unexpected keys are
        errors, as are shape mismatches (always).  Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        grad_mode.graph_break("load_state_dict() (it writes the parameters and buffers outside the "
                              "recorded operations)")
        for module_prefix, m in self.named_modules():
            hooks = m.__dict__.get("_load_state_dict_pre_hooks")
            for hook in list(hooks.values()) if hooks else ():
                hook(state_dict, module_prefix + "." if module_prefix else "", {}, strict, [],
                     [], [])
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:             # torch's order: missing, then unexpected, then size mismatches
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        for k, target in own.items():
            if k not in state_dict:
                continue
            value = state_dict[k]
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{k}", expected a chainrule '
                              f"Tensor from the checkpoint but received {type(value).__name__}")
                continue
            if tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{value.shape} from checkpoint, the shape in current model is "
                              f"{target.shape}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        with grad_mode.no_grad():
            for k, target in own.items():
                if k in state_dict:
                    value = state_dict[k]
                    if assign:
                        _assign(self, k, value)
                    else:
                        target.copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # --- printing ---------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside this module's parentheses in ``repr`` (``in_features=2, ...``)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _check_name(module, name, what, own):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{what} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{what} name can\'t be empty string ""')
    if name not in own and name in module.__dict__:
        raise KeyError(f"attribute '{name}' already exists")


def _forget(module, name, keep=None):
    """Drop ``name`` from every registry (but ``keep``, where a replacement keeps its place, as
    torch's) before it is registered again."""
    for where in ("_parameters", "_buffers", "_modules"):
        if where != keep:
            module.__dict__[where].pop(name, None)
    module.__dict__["_non_persistent_buffers_set"].discard(name)
    module.__dict__.pop(name, None)


def _assign(root, key, value):
    path, _, name = key.rpartition(".")
    module = root.get_submodule(path)
    if name in module._parameters:
        module._parameters[name] = value if isinstance(value, Parameter) else \
            Parameter(value, requires_grad=module._parameters[name].requires_grad)
    else:
        module._buffers[name] = value


def _add_hook(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class _WithModule:
    def __init__(self, hook, module):
        self.hook, self.module = hook, module

    def __call__(self, *args):
        return self.hook(self.module, *args)
