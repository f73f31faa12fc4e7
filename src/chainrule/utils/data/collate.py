"""Collating samples into a batch: ``default_collate``, ``default_convert``, ``collate``.

Ported from PyTorch's ``torch/utils/data/_utils/collate.py``, with the same type table: tensors
are stacked, NumPy arrays and scalars become tensors (dtype kept), Python floats become a
float64 tensor, ints an int64 (bools a bool) tensor, strings stay a list, and mappings,
named tuples and sequences are collated field by field.  Extend it as in PyTorch, by adding an
entry to ``default_collate_fn_map`` or by calling ``collate(batch, collate_fn_map=...)``, both
importable from ``chainrule.utils.data.collate`` (PyTorch: ``torch.utils.data._utils.collate``).
Nested samples are a few levels deep, so plain recursion is fine here (no graph is walked).
"""
import collections.abc
import copy

import numpy as np

from ... import dtypes as D
from ...creation import as_tensor, tensor
from ...functional import stack
from ...tensor import Tensor, wrap

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _bad_numpy_dtype(a):
    """Strings and objects can't become tensors (PyTorch's ``[SaUO]`` pattern)."""
    return a.dtype.kind in "SaUO" or a.dtype not in D.BY_NP


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples, dispatching on the first sample's type via ``collate_fn_map``.

    >>> from chainrule.utils.data.collate import collate, default_collate_fn_map
    >>> collate([(1, 2.0), (3, 4.0)], collate_fn_map=default_collate_fn_map)
    [tensor([1, 3]), tensor([2., 4.], dtype=chainrule.float64)]
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                  for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:          # a mapping type that can't be built from a dict
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):          # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map)  # a list, as PyTorch
                    for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map)
                              for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if _bad_numpy_dtype(elem):
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    a = np.asarray(batch)                 # keeps the scalars' dtype (float32 stays float32)
    if _bad_numpy_dtype(a):
        raise TypeError(default_collate_err_msg_format.format(a.dtype))
    return wrap(a)


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=D.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate``.

    >>> default_collate([{"x": chainrule.zeros(2), "y": 0}, {"x": chainrule.ones(2), "y": 1}])
    {'x': tensor([[0., 0.],
            [1., 1.]]), 'y': tensor([0, 1])}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """NumPy arrays (and scalars) inside ``data`` become tensors; nothing is stacked.

    The collate function a ``DataLoader`` uses with ``batch_size=None``.

    >>> default_convert([np.array([0, 1]), 2])
    [tensor([0, 1]), 2]
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _bad_numpy_dtype(data):
            return data
        return wrap(np.asarray(data)) if not isinstance(data, np.ndarray) else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):          # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]                   # a list, as PyTorch
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
