"""The Tensor: a NumPy array that records the operations applied to it.

Recording happens in one function, ``apply``: it runs a primitive's forward on the arrays and, when
any input requires grad (and grad mode is on), links the result to a new graph ``Node``.  Methods
here are one line each; the functions they call live in ``functional/``.
"""
import warnings

from . import _backend as B
from . import dtypes as D
from ._backend import xp
from .grad_mode import state as _grad_state
from .graph import Freed as _Freed
from .graph import Node, RemovableHandle
from .graph import freed_constant as _freed_constant

_ndarray = B.ndarray
_Number = (int, float, bool, xp.number, xp.bool_)


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``chainrule.Size([2, 3])``."""

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """An n-dimensional array that can record its history for back-propagation.

    >>> w = chainrule.tensor([1.0], requires_grad=True)
    >>> loss = ((w * 3.0 - 6.0) ** 2).sum()
    >>> loss.backward(); w.grad
    tensor([-18.])
    """

    __slots__ = ("_data", "_requires_grad", "_grad", "_grad_fn", "_vc", "_hooks",
                 "_retains_grad", "_base", "__weakref__")

    # NumPy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor.__radd__)
    __array_ufunc__ = None

    def __init__(self, *args, dtype=None, requires_grad=False):
        # The legacy constructor: Tensor([1., 2.]) copies data as float; Tensor(2, 3) is empty.
        if len(args) == 1 and not isinstance(args[0], int):
            from .creation import array_from
            data = array_from(args[0], dtype or D.get_default_dtype())
        else:
            data = xp.empty(tuple(args), dtype=(D.to_dtype(dtype) or D.get_default_dtype()).np)
        init_slots(self, xp.asarray(data))
        if requires_grad:
            self.requires_grad_(True)

    # --- the basics -------------------------------------------------------------------------
    @property
    def data(self):
        """This tensor's values as a tensor that shares storage but records nothing.

        Unlike ``detach()``, its version counter is its own (as torch): in-place changes through
        ``.data`` are invisible to autograd's saved-tensor checks.
        """
        return wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, not {type(value).__name__}")
        if _grad_state.recorder is not None:    # chainrule.compile: recorded, or a break
            _grad_state.recorder.set_data(self, value)
        self._data = value._data

    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (leaves and ``retain_grad()`` tensors)."""
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead.", UserWarning, stacklevel=2)
        if _grad_state.recorder is not None:    # chainrule.compile: a .grad backward made
            _grad_state.recorder.grad_read(self)
        return self._grad

    @grad.setter
    def grad(self, value):
        if _grad_state.recorder is not None:    # chainrule.compile: p.grad = None in a
            _grad_state.recorder.set_grad(self, value)  # training step is recorded
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"grad of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                g, t = value._data.dtype.name, self._data.dtype.name
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"'{D.CPP_NAMES.get(g, g)}' to a tensor with grad_dtype "
                                   f"'{D.SCALAR_NAMES.get(t, t)}'. The gradient must match the "
                                   "tensor's grad_dtype (defaults to the tensor's dtype): assign "
                                   f"grad.to({D.of(self._data)!r}) instead")
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf tensor.  Returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(this one is {D.of(self._data)}; convert it first with "
                               ".float() or .double())")
        if bool(requires_grad) != self._requires_grad:
            # a replay would not change the flag again (a call that changes nothing is safe:
            # a tensor's requires_grad is part of a compiled call's signature)
            _observed("requires_grad_() (it changes a tensor's requires_grad)")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        """The graph node that computed this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim_index(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    @property
    def ndim(self):
        return self._data.ndim

    def ndimension(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def nelement(self):
        return self._data.size

    def element_size(self):
        return self._data.itemsize

    @property
    def dtype(self):
        return D.of(self._data)

    @property
    def device(self):
        return device(B.DEVICE)

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def contiguous(self):
        return self if self._data.flags.c_contiguous else clone(self)

    @property
    def _version(self):
        """How many times this tensor's storage was modified in place (shared with views)."""
        return self._vc[0]

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        _observed(".item()")
        return self._data.reshape(()).item()

    def tolist(self):
        _observed(".tolist()")
        return self._data.tolist()

    def numpy(self, force=False):
        """The values as a NumPy array sharing storage (refused while requiring grad, as torch)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        _observed(".numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(x)`` shares x's storage, as ``numpy()``; refused while x requires grad.

        >>> np.asarray(chainrule.ones(2), dtype=np.float64)
        array([1., 1.])
        """
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        _observed("np.asarray(tensor)")
        a = self._data
        if dtype is not None and xp.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"np.asarray(x, dtype={xp.dtype(dtype)}, copy=False): x is "
                                 f"{D.of(a)}, so the conversion needs a copy; leave out "
                                 "copy=False")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, **kwargs):
        """DLPack export of the storage (``torch.from_dlpack(x)``, ``torch.as_tensor(x)``,
        ``np.from_dlpack(x)`` share it); refused while x requires grad, as torch refuses."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def data_ptr(self):
        """The address of the first element (equal for tensors that share storage there)."""
        return self._data.__array_interface__["data"][0]

    def detach(self):
        """A tensor sharing this one's storage and version counter, cut from the graph."""
        t = wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        if self._grad_fn is not None or self._requires_grad:
            _observed("detach_() (it changes a tensor's history in place)")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        _observed("retain_grad() (it adds a hook the replay would not add)")
        self._retains_grad = True
        import weakref
        # Weak references both ways: the hook lives in the node, so a strong reference to the
        # node (or the tensor, whose grad_fn is the node) would be a cycle only gc can free.
        ref = weakref.ref(self)
        node_ref = weakref.ref(self._grad_fn)

        def retain(grad):
            t = ref()
            if t is not None and t._grad_fn is node_ref():
                t._grad = grad if t._grad is None else t._grad + grad
        self._grad_fn.register_prehook(RetainHook(retain))

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        _observed("register_hook() (it adds a hook the replay would not add)")
        if self._grad_fn is not None:
            return self._grad_fn.register_prehook(_TensorHook(hook))
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by the chain rule."""
        if gradient is None and inputs is None and not create_graph and \
                self._grad_fn is not None and self._data.size == 1:
            # the usual call, loss.backward(): straight to the reverse pass
            seed = xp.empty(self._data.shape, self._data.dtype)
            seed.fill(1)
            _engine.run_backward((self,), [seed], bool(retain_graph), False)
            return
        from .engine import backward
        if gradient is not None and not isinstance(gradient, Tensor):
            raise TypeError(f"backward(): gradient must be a Tensor of the output's shape "
                            f"{list(self._data.shape)} (or None for a scalar output), got "
                            f"{type(gradient).__name__}: pass chainrule.tensor({gradient!r})")
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
                 inputs=inputs)

    # --- printing ---------------------------------------------------------------------------
    def __repr__(self):
        _observed("printing a tensor")
        from ._printing import format_tensor
        d = self._data.dtype
        return format_tensor(self._data, dtype_name=repr(D.of(self._data)),
                             requires_grad=self._requires_grad and self._grad_fn is None,
                             grad_fn=None if self._grad_fn is None else self._grad_fn._name) \
            if d.kind in "biuf" else repr(self._data)

    __str__ = __repr__

    def __format__(self, spec):
        _observed("formatting a tensor")
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return repr(self).__format__(spec)

    # --- Python protocol --------------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_F.unbind(self, 0))

    def __bool__(self):
        if self._data.size != 1:
            many = "more than one value" if self._data.size else "no values"
            raise RuntimeError(f"Boolean value of Tensor with {many} is ambiguous "
                               f"(shape {tuple(self._data.shape)}); use .any() or .all()")
        _observed("bool(tensor)")
        return bool(self._data)

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"({kind}() of a tensor of shape {list(self._data.shape)}); reduce "
                             "it first (.sum(), .mean()) or index one element (x[0])")
        _observed(f"{kind}(tensor)")
        return self._data.reshape(()).item()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __complex__(self):
        return complex(self._scalar("complex"))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __getitem__(self, index):
        return _F.getitem(self, index)

    def __setitem__(self, index, value):
        _F.setitem(self, index, value)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad, type(self)))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        t = wrap(self._data.copy(), cls=type(self))      # a Parameter stays a Parameter
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # --- operators --------------------------------------------------------------------------
    def __add__(self, other):
        return _F.add(self, other)

    def __radd__(self, other):         # 3 + x records x + 3, as torch
        return _F.add(self, other)

    def __sub__(self, other):
        return _F.sub(self, other)

    def __rsub__(self, other):
        return _F.rsub(self, other)

    def __mul__(self, other):
        return _F.mul(self, other)

    def __rmul__(self, other):         # 3 * x records x * 3, as torch
        return _F.mul(self, other)

    def __truediv__(self, other):
        return _F.div(self, other)

    def __rtruediv__(self, other):
        if isinstance(other, (bool, int, float, complex)):   # torch computes 3 / x as x.reciprocal() * 3
            return _F.mul(_F.reciprocal(self), other)
        return _F.div(other, self)

    def __floordiv__(self, other):
        return _F.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _F.floor_divide(other, self)

    def __mod__(self, other):
        return _F.remainder(self, other)

    def __rmod__(self, other):
        return _F.remainder(other, self)

    def remainder(self, other):
        return _F.remainder(self, other)

    def fmod(self, other):
        return _F.fmod(self, other)

    def __pow__(self, other):
        return _F.pow(self, other)

    def __rpow__(self, other):
        return _F.pow(other, self)

    def __matmul__(self, other):
        return _F.matmul(self, other)

    def __rmatmul__(self, other):
        return _F.matmul(other, self)

    def __neg__(self):
        return _F.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _F.abs(self)

    def __invert__(self):
        return _F.logical_not(self) if self._data.dtype == bool else _F.bitwise_not(self)

    def __and__(self, other):         # bitwise, as torch (for bools the same as logical)
        return _F.bitwise_and(self, other)

    def __or__(self, other):         # bitwise, as torch (for bools the same as logical)
        return _F.bitwise_or(self, other)

    def __xor__(self, other):         # bitwise, as torch (for bools the same as logical)
        return _F.bitwise_xor(self, other)

    def __eq__(self, other):
        return _F.eq(self, other)

    def __ne__(self, other):
        return _F.ne(self, other)

    def __lt__(self, other):
        return _F.lt(self, other)

    def __le__(self, other):
        return _F.le(self, other)

    def __gt__(self, other):
        return _F.gt(self, other)

    def __ge__(self, other):
        return _F.ge(self, other)

    def __iadd__(self, other):
        return _F.inplace(self, _F.add, other)

    def __isub__(self, other):
        return _F.inplace(self, _F.sub, other)

    def __imul__(self, other):
        return _F.inplace(self, _F.mul, other)

    def __itruediv__(self, other):
        return _F.inplace(self, _F.div, other)

    # --- in-place methods -------------------------------------------------------------------
    def add_(self, other, alpha=1):
        return _F.inplace(self, _F.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return _F.inplace(self, _F.sub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return _F.inplace(self, _F.mul, other)

    def div_(self, other):
        return _F.inplace(self, _F.div, other)

    def pow_(self, other):
        return _F.inplace(self, _F.pow, other)

    def clamp_(self, min=None, max=None):
        return _F.inplace(self, _F.clamp, min, max)

    clip_ = clamp_

    def neg_(self):
        return _F.inplace(self, _F.neg)

    def exp_(self):
        return _F.inplace(self, _F.exp)

    def zero_(self):
        """Fill with zeros, in place."""
        state = _grad_state
        if state.recorder is None and not (state.enabled and self._requires_grad):
            # fill_'s path without a node (zero fits every dtype): every optimizer step, once
            # per gradient, so without the calls that find it has nothing else to do
            self._data[...] = 0
            self._vc[0] += 1
            return self
        return _F.fill_(self, 0, name="ZeroBackward0")

    def fill_(self, value):
        """Fill with ``value``, in place."""
        return _F.fill_(self, value)

    def copy_(self, src):
        """Copy ``src``'s values (broadcast) into this tensor, in place."""
        return _F.copy_(self, src)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return _F.random_fill_(self, "uniform", a, b, generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return _F.random_fill_(self, "normal", mean, std, generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Category indices drawn from this tensor's rows of weights; see chainrule.multinomial."""
        from .creation import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    # --- elementwise ------------------------------------------------------------------------
    def add(self, other, alpha=1):
        return _F.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _F.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _F.mul(self, other)

    def div(self, other, rounding_mode=None):
        return _F.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return _F.pow(self, exponent)

    def neg(self):
        return _F.neg(self)

    def abs(self):
        return _F.abs(self)

    def exp(self):
        return _F.exp(self)

    def log(self):
        return _F.log(self)

    def log1p(self):
        return _F.log1p(self)

    def expm1(self):
        return _F.expm1(self)

    def asinh(self):
        return _F.asinh(self)

    def log10(self):
        return _F.log10(self)

    def log2(self):
        return _F.log2(self)

    def exp2(self):
        return _F.exp2(self)

    def asin(self):
        return _F.asin(self)

    def acos(self):
        return _F.acos(self)

    def atan(self):
        return _F.atan(self)

    def sinh(self):
        return _F.sinh(self)

    def cosh(self):
        return _F.cosh(self)

    def acosh(self):
        return _F.acosh(self)

    def atanh(self):
        return _F.atanh(self)

    def erfc(self):
        return _F.erfc(self)

    def sqrt(self):
        return _F.sqrt(self)

    def rsqrt(self):
        return _F.rsqrt(self)

    def sin(self):
        return _F.sin(self)

    def cos(self):
        return _F.cos(self)

    def tan(self):
        return _F.tan(self)

    def tanh(self):
        return _F.tanh(self)

    def sigmoid(self):
        return _F.sigmoid(self)

    def relu(self):
        return _F.relu(self)

    def sign(self):
        return _F.sign(self)

    def floor(self):
        return _F.floor(self)

    def ceil(self):
        return _F.ceil(self)

    def round(self, decimals=0):
        return _F.round(self, decimals=decimals)

    def square(self):
        return _F.square(self)

    def reciprocal(self):
        return _F.reciprocal(self)

    def clamp(self, min=None, max=None):
        return _F.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _F.maximum(self, other)

    def minimum(self, other):
        return _F.minimum(self, other)

    def where(self, condition, other):
        return _F.where(condition, self, other)

    def tril(self, diagonal=0):
        return _F.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _F.triu(self, diagonal)

    def tril_(self, diagonal=0):
        return _F.inplace(self, _F.tril, diagonal)

    def triu_(self, diagonal=0):
        return _F.inplace(self, _F.triu, diagonal)

    def masked_fill(self, mask, value):
        return _F.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return _F.inplace(self, _F.masked_fill, mask, value)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _F.topk(self, k, dim, largest, sorted)

    def isnan(self):
        return _F.isnan(self)

    def isinf(self):
        return _F.isinf(self)

    def isfinite(self):
        return _F.isfinite(self)

    def eq(self, other):
        return _F.eq(self, other)

    def ne(self, other):
        return _F.ne(self, other)

    def lt(self, other):
        return _F.lt(self, other)

    def le(self, other):
        return _F.le(self, other)

    def gt(self, other):
        return _F.gt(self, other)

    def ge(self, other):
        return _F.ge(self, other)

    def logical_not(self):
        return _F.logical_not(self)

    def equal(self, other):
        return _F.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _F.allclose(self, other, rtol, atol, equal_nan)

    # --- reductions -------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _F.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _F.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _F.prod(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        return _F.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        return _F.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        return _F.var(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                      keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        return _F.std(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                      keepdims=keepdims)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _F.norm(self, p, dim, keepdim, dtype=dtype)

    def softmax(self, dim=None, dtype=None, *, axis=None):
        return _F.softmax(self, dim, dtype=dtype, axis=axis)

    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        return _F.log_softmax(self, dim, dtype=dtype, axis=axis)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.any(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.all(self, dim, keepdim, axis=axis, keepdims=keepdims)

    # --- shape ------------------------------------------------------------------------------
    def reshape(self, *shape):
        return _F.reshape(self, *shape)

    def view(self, *shape):
        return _F.view(self, *shape)

    def view_as(self, other):
        return _F.view(self, other.shape)

    def reshape_as(self, other):
        return _F.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _F.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None, *, axis=None):
        return _F.squeeze(self, dim, axis=axis)

    def unsqueeze(self, dim=None, *, axis=None):
        return _F.unsqueeze(self, dim, axis=axis)

    def transpose(self, dim0, dim1):
        return _F.transpose(self, dim0, dim1)

    def swapaxes(self, axis0, axis1):
        return _F.transpose(self, axis0, axis1)

    def t(self):
        return _F.t(self)

    def permute(self, *args, dims=None):
        return _F.permute(self, *args, dims=dims)

    @property
    def T(self):
        return _F.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _F.transpose(self, -2, -1)

    def expand(self, *sizes):
        return _F.expand(self, *sizes)

    def expand_as(self, other):
        return _F.expand(self, other.shape)

    def repeat(self, *sizes):
        return _F.repeat(self, *sizes)

    def flip(self, *args, dims=None):
        return _F.flip(self, *args, dims=dims)

    def split(self, split_size_or_sections, dim=0):
        return _F.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0, *, axis=None):
        return _F.chunk(self, chunks, dim, axis=axis)

    def unbind(self, dim=0, *, axis=None):
        return _F.unbind(self, dim, axis=axis)

    def narrow(self, dim=None, start=None, length=None, *, axis=None):
        return _F.narrow(self, dim, start, length, axis=axis)

    # --- linear algebra ---------------------------------------------------------------------
    def matmul(self, other):
        return _F.matmul(self, other)

    def mm(self, other):
        return _F.mm(self, other)

    def bmm(self, other):
        return _F.bmm(self, other)

    def dot(self, other):
        return _F.dot(self, other)

    def outer(self, other):
        return _F.outer(self, other)

    # --- copies and conversions -------------------------------------------------------------
    def clone(self, *, memory_format=None):
        return clone(self)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        return _F.to(self, *args, dtype=dtype, device=device, copy=copy)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Fails as PyTorch does without CUDA: chainrule computes on the CPU only."""
        check_device("cuda")

    def type(self, dtype=None):
        if dtype is None:
            return "chainrule." + LEGACY_NAMES[self._data.dtype.name]
        return _F.to(self, dtype)

    def float(self):
        return _F.to(self, D.float32)

    def double(self):
        return _F.to(self, D.float64)

    def half(self):
        return _F.to(self, D.float16)

    def long(self):
        return _F.to(self, D.int64)

    def int(self):
        return _F.to(self, D.int32)

    def bool(self):
        return _F.to(self, D.bool_)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        from .creation import empty
        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # --- catalogue (issue #12): elementwise ----------------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)
    def __lshift__(self, other):
        return _F.bitwise_left_shift(self, other)

    def __rshift__(self, other):
        return _F.bitwise_right_shift(self, other)

    def __rlshift__(self, other):
        return _F.bitwise_left_shift(other, self)

    def __rrshift__(self, other):
        return _F.bitwise_right_shift(other, self)

    def __rand__(self, other):
        return _F.bitwise_and(other, self)

    def __ror__(self, other):
        return _F.bitwise_or(other, self)

    def __rxor__(self, other):
        return _F.bitwise_xor(other, self)

    def __iand__(self, other):
        return _F.bitwise_and_(self, other)

    def __ior__(self, other):
        return _F.bitwise_or_(self, other)

    def __ixor__(self, other):
        return _F.bitwise_xor_(self, other)

    def __ilshift__(self, other):
        return _F.bitwise_left_shift_(self, other)

    def __irshift__(self, other):
        return _F.bitwise_right_shift_(self, other)

    def __ifloordiv__(self, other):
        return _F.floor_divide_(self, other)

    def __imod__(self, other):
        return _F.remainder_(self, other)

    def __ipow__(self, other):
        return _F.inplace(self, _F.pow, other)

    def absolute(self):
        return _F.abs(self)

    def angle(self):
        return _F.angle(self)

    def arccos(self):
        return _F.arccos(self)

    def arccosh(self):
        return _F.arccosh(self)

    def arcsin(self):
        return _F.arcsin(self)

    def arcsinh(self):
        return _F.arcsinh(self)

    def arctan(self):
        return _F.arctan(self)

    def arctanh(self):
        return _F.arctanh(self)

    def bitwise_not(self):
        return _F.bitwise_not(self)

    def deg2rad(self):
        return _F.deg2rad(self)

    def fix(self):
        return _F.fix(self)

    def frac(self):
        return _F.frac(self)

    def frexp(self):
        return _F.frexp(self)

    def isneginf(self):
        return _F.isneginf(self)

    def isposinf(self):
        return _F.isposinf(self)

    def isreal(self):
        return _F.isreal(self)

    def negative(self):
        return _F.neg(self)

    def positive(self):
        return _F.positive(self)

    def rad2deg(self):
        return _F.rad2deg(self)

    def sgn(self):
        return _F.sgn(self)

    def signbit(self):
        return _F.signbit(self)

    def trunc(self):
        return _F.trunc(self)

    def arctan2(self, other):
        return _F.atan2(self, other)

    def atan2(self, other):
        return _F.atan2(self, other)

    def bitwise_and(self, other):
        return _F.bitwise_and(self, other)

    def bitwise_left_shift(self, other):
        return _F.bitwise_left_shift(self, other)

    def bitwise_or(self, other):
        return _F.bitwise_or(self, other)

    def bitwise_right_shift(self, other):
        return _F.bitwise_right_shift(self, other)

    def bitwise_xor(self, other):
        return _F.bitwise_xor(self, other)

    def copysign(self, other):
        return _F.copysign(self, other)

    def floor_divide(self, other):
        return _F.floor_divide(self, other)

    def fmax(self, other):
        return _F.fmax(self, other)

    def fmin(self, other):
        return _F.fmin(self, other)

    def gcd(self, other):
        return _F.gcd(self, other)

    def greater(self, other):
        return _F.gt(self, other)

    def greater_equal(self, other):
        return _F.ge(self, other)

    def hypot(self, other):
        return _F.hypot(self, other)

    def lcm(self, other):
        return _F.lcm(self, other)

    def ldexp(self, other):
        return _F.ldexp(self, other)

    def less(self, other):
        return _F.lt(self, other)

    def less_equal(self, other):
        return _F.le(self, other)

    def logaddexp(self, other):
        return _F.logaddexp(self, other)

    def logaddexp2(self, other):
        return _F.logaddexp2(self, other)

    def logical_and(self, other):
        return _F.logical_and(self, other)

    def logical_or(self, other):
        return _F.logical_or(self, other)

    def logical_xor(self, other):
        return _F.logical_xor(self, other)

    def multiply(self, other):
        return _F.mul(self, other)

    def nextafter(self, other):
        return _F.nextafter(self, other)

    def not_equal(self, other):
        return _F.ne(self, other)

    def true_divide(self, other):
        return _F.div(self, other)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _F.addcdiv(self, tensor1, tensor2, value=value)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _F.addcmul(self, tensor1, tensor2, value=value)

    def clamp_min(self, min):
        return _F.clamp_min(self, min)

    def clamp_max(self, max):
        return _F.clamp_max(self, max)

    def divide(self, other, *, rounding_mode=None):
        return _F.div(self, other, rounding_mode=rounding_mode)

    def float_power(self, exponent):
        return _F.float_power(self, exponent)

    def heaviside(self, values):
        return _F.heaviside(self, values)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _F.isclose(self, other, rtol, atol, equal_nan)

    def lerp(self, end, weight):
        return _F.lerp(self, end, weight)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _F.nan_to_num(self, nan, posinf, neginf)

    def subtract(self, other, *, alpha=1):
        return _F.sub(self, other, alpha=alpha)

    def abs_(self):
        return _F.abs_(self)

    def absolute_(self):
        return _F.absolute_(self)

    def acos_(self):
        return _F.acos_(self)

    def acosh_(self):
        return _F.acosh_(self)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return _F.addcdiv_(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return _F.addcmul_(self, tensor1, tensor2, value=value)

    def apply_(self, callable):
        return _F.apply_(self, callable)

    def arccos_(self):
        return _F.arccos_(self)

    def arccosh_(self):
        return _F.arccosh_(self)

    def arcsin_(self):
        return _F.arcsin_(self)

    def arcsinh_(self):
        return _F.arcsinh_(self)

    def arctan2_(self, other):
        return _F.arctan2_(self, other)

    def arctan_(self):
        return _F.arctan_(self)

    def arctanh_(self):
        return _F.arctanh_(self)

    def asin_(self):
        return _F.asin_(self)

    def asinh_(self):
        return _F.asinh_(self)

    def atan2_(self, other):
        return _F.atan2_(self, other)

    def atan_(self):
        return _F.atan_(self)

    def atanh_(self):
        return _F.atanh_(self)

    def bitwise_and_(self, other):
        return _F.bitwise_and_(self, other)

    def bitwise_left_shift_(self, other):
        return _F.bitwise_left_shift_(self, other)

    def bitwise_not_(self):
        return _F.bitwise_not_(self)

    def bitwise_or_(self, other):
        return _F.bitwise_or_(self, other)

    def bitwise_right_shift_(self, other):
        return _F.bitwise_right_shift_(self, other)

    def bitwise_xor_(self, other):
        return _F.bitwise_xor_(self, other)

    def ceil_(self):
        return _F.ceil_(self)

    def clamp_max_(self, max):
        return _F.clamp_max_(self, max)

    def clamp_min_(self, min):
        return _F.clamp_min_(self, min)

    def copysign_(self, other):
        return _F.copysign_(self, other)

    def cos_(self):
        return _F.cos_(self)

    def cosh_(self):
        return _F.cosh_(self)

    def deg2rad_(self):
        return _F.deg2rad_(self)

    def divide_(self, other, *, rounding_mode=None):
        return _F.divide_(self, other, rounding_mode=rounding_mode)

    def eq_(self, other):
        return _F.eq_(self, other)

    def exp2_(self):
        return _F.exp2_(self)

    def expm1_(self):
        return _F.expm1_(self)

    def fix_(self):
        return _F.fix_(self)

    def float_power_(self, exponent):
        return _F.float_power_(self, exponent)

    def floor_(self):
        return _F.floor_(self)

    def floor_divide_(self, other):
        return _F.floor_divide_(self, other)

    def fmod_(self, other):
        return _F.fmod_(self, other)

    def frac_(self):
        return _F.frac_(self)

    def gcd_(self, other):
        return _F.gcd_(self, other)

    def ge_(self, other):
        return _F.ge_(self, other)

    def greater_(self, other):
        return _F.greater_(self, other)

    def greater_equal_(self, other):
        return _F.greater_equal_(self, other)

    def gt_(self, other):
        return _F.gt_(self, other)

    def heaviside_(self, values):
        return _F.heaviside_(self, values)

    def hypot_(self, other):
        return _F.hypot_(self, other)

    def lcm_(self, other):
        return _F.lcm_(self, other)

    def ldexp_(self, other):
        return _F.ldexp_(self, other)

    def le_(self, other):
        return _F.le_(self, other)

    def lerp_(self, end, weight):
        return _F.lerp_(self, end, weight)

    def less_(self, other):
        return _F.less_(self, other)

    def less_equal_(self, other):
        return _F.less_equal_(self, other)

    def log10_(self):
        return _F.log10_(self)

    def log1p_(self):
        return _F.log1p_(self)

    def log2_(self):
        return _F.log2_(self)

    def log_(self):
        return _F.log_(self)

    def logical_and_(self, other):
        return _F.logical_and_(self, other)

    def logical_not_(self):
        return _F.logical_not_(self)

    def logical_or_(self, other):
        return _F.logical_or_(self, other)

    def logical_xor_(self, other):
        return _F.logical_xor_(self, other)

    def lt_(self, other):
        return _F.lt_(self, other)

    def map_(self, tensor, callable):
        return _F.map_(self, tensor, callable)

    def multiply_(self, other):
        return _F.multiply_(self, other)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _F.nan_to_num_(self, nan, posinf, neginf)

    def ne_(self, other):
        return _F.ne_(self, other)

    def negative_(self):
        return _F.negative_(self)

    def nextafter_(self, other):
        return _F.nextafter_(self, other)

    def not_equal_(self, other):
        return _F.not_equal_(self, other)

    def rad2deg_(self):
        return _F.rad2deg_(self)

    def reciprocal_(self):
        return _F.reciprocal_(self)

    def relu_(self):
        return _F.relu_(self)

    def remainder_(self, other):
        return _F.remainder_(self, other)

    def round_(self, decimals=0):
        return _F.round_(self, decimals=decimals)

    def rsqrt_(self):
        return _F.rsqrt_(self)

    def sgn_(self):
        return _F.sgn_(self)

    def sigmoid_(self):
        return _F.sigmoid_(self)

    def sign_(self):
        return _F.sign_(self)

    def sin_(self):
        return _F.sin_(self)

    def sinh_(self):
        return _F.sinh_(self)

    def sqrt_(self):
        return _F.sqrt_(self)

    def square_(self):
        return _F.square_(self)

    def subtract_(self, other, *, alpha=1):
        return _F.subtract_(self, other, alpha=alpha)

    def tan_(self):
        return _F.tan_(self)

    def tanh_(self):
        return _F.tanh_(self)

    def true_divide_(self, other):
        return _F.true_divide_(self, other)

    def trunc_(self):
        return _F.trunc_(self)

    # --- catalogue (issue #12): special --------------------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)

    def erf(self):
        return _F.erf(self)

    def erf_(self):
        return _F.erf_(self)

    def erfc_(self):
        return _F.erfc_(self)

    def erfinv(self):
        return _F.erfinv(self)

    def erfinv_(self):
        return _F.inplace(self, _F.erfinv)

    def lgamma(self):
        return _F.lgamma(self)

    def lgamma_(self):
        return _F.inplace(self, _F.lgamma)

    def digamma(self):
        return _F.digamma(self)

    def digamma_(self):
        return _F.inplace(self, _F.digamma)

    def polygamma(self, n):
        return _F.polygamma(n, self)

    def polygamma_(self, n):
        return _F.polygamma_(self, n)

    def mvlgamma(self, p):
        return _F.mvlgamma(self, p)

    def mvlgamma_(self, p):
        return _F.inplace(self, _F.mvlgamma, p)

    def i0(self):
        return _F.i0(self)

    def i0_(self):
        return _F.i0_(self)

    def igamma(self, other):
        return _F.igamma(self, other)

    def igamma_(self, other):
        return _F.inplace(self, _F.igamma, other)

    def igammac(self, other):
        return _F.igammac(self, other)

    def igammac_(self, other):
        return _F.inplace(self, _F.igammac, other)

    def logit(self, eps=None):
        return _F.logit(self, eps)

    def logit_(self, eps=None):
        return _F.logit_(self, eps)

    def sinc(self):
        return _F.sinc(self)

    def sinc_(self):
        return _F.sinc_(self)

    def xlogy(self, other):
        return _F.xlogy(self, other)

    def xlogy_(self, other):
        return _F.xlogy_(self, other)

    # --- catalogue (issue #12): reductions, scans and sorting ----------------
    # (one section a family, kept apart so that parallel work merges cleanly)
    # (one-line delegations, unspaced: docs/design.md counts tensor.py's lines)
    def cumsum(self, dim=None, *, dtype=None, axis=None):
        return _F.cumsum(self, dim, dtype=dtype, axis=axis)
    def cumsum_(self, dim=None, *, dtype=None, axis=None):
        return _F.cumsum_(self, dim, dtype=dtype, axis=axis)
    def cumprod(self, dim=None, *, dtype=None, axis=None):
        return _F.cumprod(self, dim, dtype=dtype, axis=axis)
    def cumprod_(self, dim=None, *, dtype=None, axis=None):
        return _F.cumprod_(self, dim, dtype=dtype, axis=axis)
    def cummax(self, dim=None, *, axis=None):
        return _F.cummax(self, dim, axis=axis)
    def cummin(self, dim=None, *, axis=None):
        return _F.cummin(self, dim, axis=axis)
    def logcumsumexp(self, dim=None, *, axis=None):
        return _F.logcumsumexp(self, dim, axis=axis)
    def median(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.median(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def nanmedian(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _F.nanmedian(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def mode(self, dim=-1, keepdim=False, *, axis=None):
        return _F.mode(self, dim, keepdim, axis=axis)
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear", axis=None,
                 keepdims=None):
        return _F.quantile(self, q, dim, keepdim, interpolation=interpolation, axis=axis,
                           keepdims=keepdims)
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear", axis=None,
                    keepdims=None):
        return _F.nanquantile(self, q, dim, keepdim, interpolation=interpolation, axis=axis,
                              keepdims=keepdims)
    def nansum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _F.nansum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def nanmean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _F.nanmean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def count_nonzero(self, dim=None, *, axis=None):
        return _F.count_nonzero(self, dim, axis=axis)
    def aminmax(self, *, dim=None, keepdim=False, axis=None, keepdims=None):
        return _F.aminmax(self, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims)
    def histc(self, bins=100, min=0, max=0):
        return _F.histc(self, bins, min, max)
    def histogram(self, bins, *, range=None, weight=None, density=False):
        return _F.histogram(self, bins, range=range, weight=weight, density=density)
    def bincount(self, weights=None, minlength=0):
        return _F.bincount(self, weights, minlength)
    def sort(self, dim=-1, descending=False, stable=False, *, axis=None):
        return _F.sort(self, dim, descending, stable, axis=axis)
    def argsort(self, dim=-1, descending=False, stable=False, *, axis=None):
        return _F.argsort(self, dim, descending, stable, axis=axis)
    def msort(self):
        return _F.msort(self)
    def kthvalue(self, k, dim=-1, keepdim=False, *, axis=None):
        return _F.kthvalue(self, k, dim, keepdim, axis=axis)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _F.unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _F.unique_consecutive(self, return_inverse, return_counts, dim)
    def diff(self, n=1, dim=-1, prepend=None, append=None, *, axis=None):
        return _F.diff(self, n, dim, prepend, append, axis=axis)
    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _F.cov(self, correction=correction, fweights=fweights, aweights=aweights)
    def corrcoef(self):
        return _F.corrcoef(self)

    # --- catalogue (issue #12): indexing and scatter -------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)
    def gather(self, dim, index, *, sparse_grad=False):
        return _F.gather(self, dim, index)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return _F.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return _F.scatter_(self, dim, index, src, value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _F.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _F.scatter_add_(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _F.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _F.scatter_reduce_(self, dim, index, src, reduce, include_self=include_self)

    def index_select(self, dim, index):
        return _F.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return _F.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _F.index_add_(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return _F.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return _F.index_copy_(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return _F.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return _F.index_fill_(self, dim, index, value)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _F.index_reduce(self, dim, index, source, reduce, include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return _F.index_reduce_(self, dim, index, source, reduce, include_self=include_self)

    def index_put(self, indices, values, accumulate=False):
        return _F.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return _F.index_put_(self, indices, values, accumulate)

    def masked_select(self, mask):
        return _F.masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return _F.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return _F.masked_scatter_(self, mask, source)

    def take(self, index):
        return _F.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return _F.take_along_dim(self, indices, dim)

    def put(self, index, source, accumulate=False):
        return _F.put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return _F.put_(self, index, source, accumulate)

    def nonzero(self, *, as_tuple=False):
        return _F.nonzero(self, as_tuple=as_tuple)

    def nonzero_static(self, *, size, fill_value=-1):
        return _F.nonzero_static(self, size=size, fill_value=fill_value)

    def argwhere(self):
        return _F.argwhere(self)

    def select(self, dim, index):
        return _F.select(self, dim, index)

    def narrow_copy(self, dim, start, length):
        return _F.narrow_copy(self, dim, start, length)

    def select_scatter(self, src, dim, index):
        return _F.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _F.slice_scatter(self, src, dim, start, end, step)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _F.diagonal_scatter(self, src, offset, dim1, dim2)

    def as_strided(self, size, stride, storage_offset=None):
        return _F.as_strided(self, size, stride, storage_offset)

    def as_strided_scatter(self, src, size, stride, storage_offset=None):
        return _F.as_strided_scatter(self, src, size, stride, storage_offset)

    def fill_diagonal_(self, fill_value, wrap=False):
        return _F.fill_diagonal_(self, fill_value, wrap)

    # --- catalogue (issue #12): shape ----------------------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)

    def diag(self, diagonal=0):
        return _F.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _F.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _F.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return _F.diagflat(self, offset)

    def trace(self):
        return _F.trace(self)

    def roll(self, shifts, dims=None):
        return _F.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return _F.rot90(self, k, dims)

    def fliplr(self):
        return _F.fliplr(self)

    def flipud(self):
        return _F.flipud(self)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return _F.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims):
        one = len(dims) == 1 and isinstance(dims[0], (tuple, list))
        return _F.tile(self, dims[0] if one else dims)

    def unflatten(self, dim, sizes):
        return _F.unflatten(self, dim, sizes)

    def unfold(self, dimension, size, step):
        return _F.unfold(self, dimension, size, step)

    def movedim(self, source, destination):
        return _F.movedim(self, source, destination)

    def moveaxis(self, source, destination):
        return _F.movedim(self, source, destination)

    def swapdims(self, dim0, dim1):
        return _F.transpose(self, dim0, dim1)

    def tensor_split(self, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                     tensor_indices_or_sections=None):
        return _F.tensor_split(self, indices_or_sections, dim, sections=sections, indices=indices,
                               tensor_indices_or_sections=tensor_indices_or_sections)

    def hsplit(self, indices_or_sections):
        return _F.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return _F.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return _F.dsplit(self, indices_or_sections)

    def split_with_sizes(self, split_sizes, dim=0):
        return _F.split_with_sizes(self, split_sizes, dim)

    def unsafe_split(self, split_size, dim=0):
        return _F.split(self, split_size, dim)

    def unsafe_chunk(self, chunks, dim=0):
        return _F.chunk(self, chunks, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return _F.split_with_sizes(self, split_sizes, dim)

    def sum_to_size(self, *size):
        return _F.sum_to_size(self, *size)

    def ravel(self):
        return _F.ravel(self)

    def broadcast_to(self, size):
        return _F.broadcast_to(self, size)

    def squeeze_(self, dim=None):
        return _F.inplace_view(self, _F.squeeze, dim)

    def unsqueeze_(self, dim):
        return _F.inplace_view(self, _F.unsqueeze, dim)

    def transpose_(self, dim0, dim1):
        return _F.inplace_view(self, _F.transpose, dim0, dim1)

    def swapaxes_(self, axis0, axis1):
        return _F.inplace_view(self, _F.transpose, axis0, axis1)

    def swapdims_(self, dim0, dim1):
        return _F.inplace_view(self, _F.transpose, dim0, dim1)

    def t_(self):
        return _F.inplace_view(self, _F.t)

    def resize_(self, *sizes, memory_format=None):
        return _F.resize_(self, *sizes)

    def resize_as_(self, the_template, *, memory_format=None):
        return _F.resize_as_(self, the_template)

    def resize(self, *sizes):
        return _F.resize(self, *sizes)

    def resize_as(self, tensor):
        return _F.resize_as(self, tensor)

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
        return _F.empty_strided(size, stride, dtype=dtype or self.dtype, device=device,
                                requires_grad=requires_grad)

    # --- catalogue (issue #12): linear algebra -------------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _F.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return _F.inplace(self, _F.linalg.addmm_p, mat1, mat2, beta, alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _F.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _F.inplace(self, _F.linalg.addbmm_p, batch1, batch2, beta, alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _F.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _F.inplace(self, _F.linalg.baddbmm_p, batch1, batch2, beta, alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _F.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return _F.inplace(self, _F.linalg.addmv_p, mat, vec, beta, alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return _F.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return _F.inplace(self, _F.linalg.addr_p, vec1, vec2, beta, alpha)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _F.triangular_solve(self, A, upper, transpose, unitriangular)

    def ormqr(self, input2, input3, left=True, transpose=False):
        return _F.ormqr(self, input2, input3, left, transpose)

    def lu_solve(self, LU_data, LU_pivots):
        return _F.linalg.torch_lu_solve(self, LU_data, LU_pivots)

    @property
    def mH(self): return _F.transpose(self, -2, -1)

    def adjoint(self): return _F.transpose(self, -2, -1)
    def mv(self, vec): return _F.mv(self, vec)
    def ger(self, vec2): return _F.outer(self, vec2)
    def inner(self, other): return _F.linalg.inner(self, other)
    def vdot(self, other): return _F.vdot(self, other)
    def kron(self, other): return _F.kron(self, other)
    def cross(self, other, dim=None): return _F.linalg.torch_cross(self, other, dim)
    def dist(self, other, p=2): return _F.dist(self, other, p)
    def det(self): return _F.linalg.det(self)
    def slogdet(self): return _F.linalg.torch_slogdet(self)
    def logdet(self): return _F.logdet(self)
    def inverse(self): return _F.inverse(self)
    def pinverse(self, rcond=1e-15): return _F.pinverse(self, rcond)
    def matrix_exp(self): return _F.matrix_exp(self)
    def matrix_power(self, n): return _F.matrix_power(self, n)
    def cholesky(self, upper=False): return _F.linalg.torch_cholesky(self, upper)
    def cholesky_inverse(self, upper=False): return _F.cholesky_inverse(self, upper)
    def cholesky_solve(self, input2, upper=False): return _F.cholesky_solve(self, input2, upper)
    def qr(self, some=True): return _F.linalg.torch_qr(self, some)
    def svd(self, some=True, compute_uv=True): return _F.linalg.torch_svd(self, some, compute_uv)
    def lu(self, pivot=True, get_infos=False): return _F.linalg.torch_lu(self, pivot, get_infos)
    def geqrf(self): return _F.geqrf(self)
    def orgqr(self, input2): return _F.orgqr(self, input2)
    def renorm(self, p, dim, maxnorm): return _F.renorm(self, p, dim, maxnorm)
    def renorm_(self, p, dim, maxnorm): return _F.inplace(self, _F.renorm, p, dim, maxnorm)
    def lstsq(self, A): return _F.linalg.torch_lstsq(self, A)

    # --- catalogue (issue #12): random ---------------------------------------
    # (one section a family, kept apart so that parallel work merges cleanly)
    def bernoulli(self, p=None, *, generator=None):
        from . import creation
        return creation.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        from . import creation
        return creation.bernoulli_(self, p, generator=generator)

    def random_(self, *args, generator=None, **kwargs):
        from . import creation
        return creation.random_(self, *args, generator=generator, **kwargs)

    def exponential_(self, lambd=1.0, *, generator=None):
        from . import creation
        return creation.exponential_(self, lambd, generator=generator)

    def geometric_(self, p, *, generator=None):
        from . import creation
        return creation.geometric_(self, p, generator=generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        from . import creation
        return creation.cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        from . import creation
        return creation.log_normal_(self, mean, std, generator=generator)


    # --- catalogue (issue #12): attributes and the rest ----------------------
    def solve(self, A): return _F.linalg.torch_solve(self, A)
    def symeig(self, eigenvectors=False, upper=True): return _F.linalg.torch_symeig(self)
    def eig(self, eigenvectors=False): return _F.linalg.torch_eig(self)
    def hardshrink(self, lambd=0.5):
        from .nn.functional import hardshrink
        return hardshrink(self, lambd)
    def prelu(self, weight):
        from .nn.functional import prelu
        return prelu(self, weight)
    def reinforce(self, reward):
        raise RuntimeError("reinforce() was removed.\nUse torch.distributions instead.\nSee "
                           "https://pytorch.org/docs/main/distributions.html")
    # (one section a family, kept apart so that parallel work merges cleanly)
    # real, dense, strided tensors on the CPU: these are constants (see _misc.py)
    is_cpu, is_sparse, is_sparse_csr, is_quantized, is_meta, name, output_nr = \
        True, False, False, False, False, None, 0
    is_xpu = is_mps = is_mkldnn = is_vulkan = is_ipu = is_mtia = is_maia = False
    H = property(lambda self: _F.misc.H(self))
    itemsize = property(lambda self: self._data.itemsize)
    nbytes = property(lambda self: self._data.nbytes)
    layout = property(lambda self: _F.misc.strided)
    grad_dtype = property(lambda self: self.dtype)
    volatile = property(lambda self: _F.misc.volatile(self))
    real = property(lambda self: self)
    imag = property(lambda self: _F.misc.imag(self))

    def get_device(self): return -1  # noqa: E704  (the CPU's index, as torch)
    def is_complex(self): return False  # noqa: E704
    def is_conj(self): return False  # noqa: E704
    def is_neg(self): return False  # noqa: E704
    def is_inference(self): return False  # noqa: E704
    def is_distributed(self): return False  # noqa: E704
    def is_pinned(self, device=None): return False  # noqa: E704
    def is_shared(self): return False  # noqa: E704
    def share_memory_(self): return self  # noqa: E704
    def conj(self): return self  # noqa: E704  (real tensors: conj is the identity)
    def conj_physical(self): return self  # noqa: E704
    def resolve_conj(self): return self  # noqa: E704
    def resolve_neg(self): return self  # noqa: E704
    def const_data_ptr(self): return self.data_ptr()  # noqa: E704
    def byte(self): return _F.to(self, D.uint8)  # noqa: E704
    def char(self): return _F.to(self, D.int8)  # noqa: E704
    def short(self): return _F.to(self, D.int16)  # noqa: E704
    def bfloat16(self, memory_format=None): return _F.misc.bfloat16(self)  # noqa: E704
    def is_signed(self): return _F.misc.is_signed(self)  # noqa: E704
    def is_nonzero(self): return _F.misc.is_nonzero(self)  # noqa: E704
    def is_same_size(self, other): return _F.misc.is_same_size(self, other)  # noqa: E704
    def is_set_to(self, tensor): return _F.misc.is_set_to(self, tensor)  # noqa: E704
    def pin_memory(self, device=None): return _F.misc.pin_memory(self)  # noqa: E704
    def storage_offset(self): return _F.misc.storage_offset(self)  # noqa: E704
    def stride(self, dim=None): return _F.misc.stride(self, dim)  # noqa: E704
    def type_as(self, other): return _F.misc.type_as(self, other)  # noqa: E704
    def as_subclass(self, cls): return _F.misc.as_subclass(self, cls)  # noqa: E704
    def new(self, *args, **kwargs): return _F.misc.new(self, *args, **kwargs)  # noqa: E704
    def conj_physical_(self): return _F.misc.conj_physical_(self)  # noqa: E704
    def storage(self): return _F.misc.storage(self)  # noqa: E704
    def untyped_storage(self): return _F.misc.untyped_storage(self)  # noqa: E704
    def storage_type(self): return _F.misc.storage_type(self)  # noqa: E704

    def dim_order(self, *, ambiguity_check=False):
        return _F.misc.dim_order(self, ambiguity_check=ambiguity_check)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _F.isclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def to_dense(self, dtype=None, *, masked_grad=None):
        return self if dtype is None else _F.to(self, dtype)


LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device:
    """Where a tensor lives; any of torch's device names can be spelled, but tensors live only
    on ``device(type='cpu')`` with the NumPy backend (``check_device`` refuses the others)."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if name not in _DEVICE_TYPES or (idx and not idx.isdigit()):
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def check_device(where):
    """Refuse a device other than the CPU the way PyTorch without it does."""
    if where is None or where == "cpu":
        return
    d = device(where)
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled: chainrule computes with NumPy "
                             "on the CPU only; use device='cpu', or pick it with "
                             "'cuda' if chainrule.cuda.is_available() else 'cpu'")
    if d.type != "cpu":
        raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices: chainrule "
                           "computes with NumPy on the CPU only; use device='cpu'")


class _TensorHook:
    """A user's ``register_hook`` function on a non-leaf, adapted to a node pre-hook."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


class RetainHook(_TensorHook):
    """The pre-hook that ``retain_grad()`` installs."""

    __slots__ = ()


# --- construction -------------------------------------------------------------------------

_object_new = object.__new__


def init_slots(t, data, requires_grad=False):
    """Give ``t`` every slot of a new leaf tensor holding the ndarray ``data`` (not copied).

    The one slot set-up: ``Tensor()`` and vmap's batched tensors call it; ``apply`` and
    ``wrap`` inline it (keep the three in step when a slot is added)."""
    t._data = data
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._vc = [0]
    t._hooks = None
    t._retains_grad = False
    t._base = None
    if _grad_state.recorder is not None:    # chainrule.compile records: a tensor made here
        _grad_state.recorder.born(t)
    return t


def _observed(what):
    """Python looks at a tensor's values (``bool(t)``, ``.item()``, printing) or changes a
    tensor's attributes (``.grad``, ``.data``): chainrule.compile's recorder, when one records,
    cannot replay that and falls back to eager (a graph break)."""
    r = _grad_state.recorder
    if r is not None:
        r.graph_break(what)


def wrap(data, requires_grad=False, cls=None):
    """Wrap an ndarray in a new leaf tensor (no copy; a NumPy scalar becomes a 0-d array)."""
    if type(data) is not _ndarray:   # a NumPy scalar (0-d ufunc result) would be a copy, not
        data = xp.asarray(data)      # storage: in-place ops and .grad updates would be lost
    # init_slots(...), inlined: .data, .grad and every op without a node come through here
    t = _object_new(Tensor if cls is None else cls)
    t._data = data
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._vc = [0]
    t._hooks = None
    t._retains_grad = False
    t._base = None
    if _grad_state.recorder is not None:    # chainrule.compile records: a tensor made here
        _grad_state.recorder.born(t)
    return t


def _rebuild(data, requires_grad, cls=None):
    return wrap(data, requires_grad, cls)


def dim_index(d, ndim, op="dim"):
    """Normalise one dimension index, with torch's IndexError when out of range."""
    n = ndim if ndim else 1
    try:
        d = d.__index__()
    except AttributeError:
        raise TypeError(f"{op}(): dim must be an int, got {type(d).__name__}") from None
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d % n


# --- recording ----------------------------------------------------------------------------

_quiet_fp, _restore_fp = B.quiet_fp, B.restore_fp


def apply(op, inputs, params=None, arrays=None, name=None):
    """Run primitive ``op`` on ``inputs`` (tensors and numbers) and record it if needed.

    ``arrays`` optionally gives the operands' arrays already converted to the result dtype;
    the node keeps the original tensors, so gradients come back in each input's own dtype.
    """
    state = _grad_state
    hook = state.apply_hook
    if hook is not None:        # vmap's batching rules, checkpoint's recorder (see grad_mode)
        return hook(op, inputs, params, arrays, name)
    if arrays is None:
        if len(inputs) == 2:        # the common binary op, without a list comprehension
            a, b = inputs
            arrays = [a._data if isinstance(a, Tensor) else a,
                      b._data if isinstance(b, Tensor) else b]
        else:
            arrays = [v._data if isinstance(v, Tensor) else v for v in inputs]
    token = _quiet_fp()
    try:
        out = op.forward(*arrays, **params) if params else op.forward(*arrays)
    except ValueError as e:
        raise _shape_error(op, arrays, e) from None
    finally:
        _restore_fp(token)
    if type(out) is not _ndarray:
        out = xp.asarray(out)
    # init_slots(_object_new(Tensor), out), inlined: this is the hottest path in chainrule
    t = _object_new(Tensor)
    t._data = out
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._vc = [0]
    t._hooks = None
    t._retains_grad = False
    t._base = None
    if not state.enabled:
        return t
    # The node keeps only what its rules read (``kept``): the inputs in ``saves``, or, for an
    # op whose rules differ (``reads``), what the rules of the inputs with an edge read.
    reads = op.reads
    kept = op.saves if reads is None else ()
    next_ = None
    i = 0
    for v in inputs:
        if isinstance(v, Tensor) and v._requires_grad:
            if next_ is None:
                next_ = [None] * len(inputs)
            next_[i] = v._grad_fn or v
            if reads is not None:
                kept += reads[i]
        i += 1
    if next_ is None:
        return t
    # an input no rule that will run reads leaves a record of its shape and dtype (and, when
    # it is a constant, what the explainer may re-run it from)
    recorded = inputs
    if len(kept) != len(inputs):        # else every input is read: nothing to drop
        i = 0
        for v in inputs:
            if i not in kept and isinstance(v, Tensor) and next_[i] is not v:
                if recorded is inputs:
                    recorded = list(inputs)
                recorded[i] = _Freed(v._data) if next_[i] is not None else _freed_constant(v)
            i += 1
    node = Node(op, tuple(recorded), tuple(next_), params)
    if name is not None:
        node._name = name
    if kept:
        node.versions = tuple([inputs[i]._vc[0] if isinstance(inputs[i], Tensor) else None
                               for i in op.saves])
    if op.saves_out:
        node.out_data = out
        node.out_version = (t._vc, 0)
    t._requires_grad = True
    t._grad_fn = node
    if state.trace is not None:     # tracing.tracing(): whoever must re-run it, with all inputs
        state.trace.note(node, inputs, t, arrays)
    return t


def _shape_error(op, arrays, e):
    """NumPy's broadcasting ValueError, said the way torch says it (naming both shapes)."""
    shapes = [a.shape for a in arrays if isinstance(a, _ndarray)]
    if "broadcast" in str(e) and len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        for d in range(n - 1, -1, -1):
            if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
                return RuntimeError(
                    f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                    f"non-singleton dimension {d} ({op.name} of shapes {list(a)} and {list(b)}: "
                    "broadcasting needs equal sizes or 1 in each dimension)")
    return RuntimeError(f"{op.name}: {e}")


def clone(x):
    """A copy of ``x`` that stays in the graph (gradient flows back to ``x``)."""
    from . import ops
    return apply(ops.clone, (x,))


from . import functional as _F  # noqa: E402  (functional needs Tensor defined first)
from . import engine as _engine  # noqa: E402
