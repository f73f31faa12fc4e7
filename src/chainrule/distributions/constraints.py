"""Constraints: where a distribution's parameters and samples live (torch.distributions.constraints).

``c.check(value)`` is a bool tensor, True where ``value`` satisfies ``c`` (over the last
``event_dim`` dims jointly)."""
import numpy as np

from ..tensor import Tensor, wrap

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property",
           "greater_than", "greater_than_eq", "independent", "integer_interval", "interval",
           "half_open_interval", "is_dependent", "less_than", "lower_cholesky",
           "lower_triangular", "MixtureSameFamilyConstraint", "multinomial", "nonnegative",
           "nonnegative_integer", "one_hot", "positive", "positive_semidefinite",
           "positive_definite", "positive_integer", "real", "real_vector", "simplex", "square",
           "stack", "symmetric", "unit_interval"]


def _arr(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


class Constraint:
    """Base class: ``check(value)`` returns a bool tensor of the batch shape."""
    is_discrete = False
    event_dim = 0

    def __init__(self, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is not NotImplemented:
            self.is_discrete = is_discrete
        if event_dim is not NotImplemented:
            self.event_dim = event_dim

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"


class _Check(Constraint):
    """A constraint given by an elementwise NumPy test, reduced over ``event_dim`` dims."""

    def _test(self, v):
        raise NotImplementedError

    def check(self, value):
        ok = self._test(_arr(value))
        for _ in range(self.event_dim):
            ok = ok.all(-1)
        return wrap(np.asarray(ok))


class _Dependent(Constraint):
    """Placeholder for a support that depends on other variables."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim
        super().__init__()

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property whose value is a constraint that depends on the instance (``support``)."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        ok = _arr(self.base_constraint.check(value))
        for _ in range(self.reinterpreted_batch_ndims):
            ok = ok.all(-1)
        return wrap(np.asarray(ok))

    def __repr__(self):
        return (f"{self.__class__.__name__[1:]}({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _Boolean(_Check):
    is_discrete = True

    def _test(self, v):
        return (v == 0) | (v == 1)


class _OneHot(_Check):
    is_discrete = True
    event_dim = 1

    def _test(self, v):
        return ((v == 0) | (v == 1)) & (v.sum(-1, keepdims=True) == 1)


class _IntegerInterval(_Check):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        super().__init__()

    def _test(self, v):
        return (v % 1 == 0) & (_arr(self.lower_bound) <= v) & (v <= _arr(self.upper_bound))

    def __repr__(self):
        return (f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerGreaterThan(_Check):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def _test(self, v):
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(_Check):
    def _test(self, v):
        return v == v                     # False only for NaN


class _GreaterThan(_Check):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def _test(self, v):
        return _arr(self.lower_bound) < v

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def _test(self, v):
        return _arr(self.lower_bound) <= v


class _LessThan(_Check):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def _test(self, v):
        return v < _arr(self.upper_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(_Check):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        super().__init__()

    def _test(self, v):
        return (_arr(self.lower_bound) <= v) & (v <= _arr(self.upper_bound))

    def __repr__(self):
        return (f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _HalfOpenInterval(_Interval):
    def _test(self, v):
        return (_arr(self.lower_bound) <= v) & (v < _arr(self.upper_bound))


class _Simplex(_Check):
    event_dim = 1

    def _test(self, v):
        return (v >= 0).all(-1, keepdims=True) & (np.abs(v.sum(-1, keepdims=True) - 1) < 1e-6)


class _Multinomial(_Check):
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _test(self, v):
        return (v >= 0).all(-1, keepdims=True) & (v.sum(-1, keepdims=True) <= self.upper_bound)


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        v = _arr(value)
        return wrap(np.asarray((np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).min(-1)))


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        v = _arr(value)
        tri = (np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).min(-1)
        diag = (np.diagonal(v, axis1=-2, axis2=-1) > 0).min(-1)
        return wrap(np.asarray(tri & diag))


class _CorrCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        v = _arr(value)
        tol = np.finfo(v.dtype).eps * v.shape[-1] * 10
        unit = np.abs(np.linalg.norm(v, axis=-1) - 1) <= tol
        return wrap(np.asarray(_LowerCholesky().check(value)._data & unit.all(-1)))


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        v = _arr(value)
        return wrap(np.full(v.shape[:-2], v.shape[-2] == v.shape[-1], dtype=bool))


class _Symmetric(_Square):
    def check(self, value):
        v = _arr(value)
        ok = np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6).reshape(v.shape[:-2] + (-1,))
        return wrap(np.asarray(ok.all(-1) & _Square.check(self, value)._data))


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        ok = _Symmetric.check(self, value)._data
        return wrap(np.asarray(ok & (np.linalg.eigvalsh(_arr(value)) >= 0).all(-1)))


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        ok = _Symmetric.check(self, value)._data
        return wrap(np.asarray(ok & (np.linalg.eigvalsh(_arr(value)) > 0).all(-1)))


class _Cat(Constraint):
    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        v = _arr(value)
        parts, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            parts.append(_arr(c.check(np.take(v, range(start, start + n), axis=self.dim))))
            start += n
        return wrap(np.concatenate(parts, axis=self.dim))


class _Stack(Constraint):
    def __init__(self, cseq, dim=0):
        self.cseq = list(cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        v = _arr(value)
        return wrap(np.stack([_arr(c.check(np.take(v, i, axis=self.dim)))
                              for i, c in enumerate(self.cseq)], axis=self.dim))


class MixtureSameFamilyConstraint(Constraint):
    """The support of a mixture: its component's support, checked on the value as given."""

    def __init__(self, base_constraint):
        self.base_constraint = base_constraint
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        return self.base_constraint.check(value)

    def __repr__(self):
        return f"{self.__class__.__name__}({self.base_constraint!r})"


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
