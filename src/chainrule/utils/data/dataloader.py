"""``DataLoader``: batches from a dataset, in sequential or shuffled order, as PyTorch's.

Loading runs in the calling process: ``num_workers`` and the other multiprocessing options are
accepted for compatibility and change nothing.  A ``TensorDataset`` (or a ``Subset`` of one)
with the default collate takes a fast path: each batch is one indexing of each tensor with the
batch's index array, which gives the same batch as stacking the samples one by one.
"""
import numpy as np

from ...grad_mode import graph_break
from ...tensor import Tensor
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .collate import default_collate, default_convert


def get_worker_info():
    """Always ``None``: chainrule loads data in the main process."""
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    ``shuffle=True`` visits the samples in a new random order each epoch, drawn from
    ``generator`` (a ``chainrule.Generator``) or, without one, from the global generator seeded by
    ``chainrule.manual_seed``.  Each batch is ``collate_fn(list_of_samples)``; the default stacks
    tensors and turns numbers into tensors, through tuples, lists and dicts.

    >>> X, y = chainrule.randn(10, 3), chainrule.arange(10)
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
    >>> len(loader), [tuple(xb.shape) for xb, yb in loader]
    (3, [(4, 3), (4, 3), (2, 3)])
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None and self._iterable:
            BatchSampler(range(1), batch_size, drop_last)            # the same argument checks
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self._auto_collation = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


def _tensor_rows(dataset, idx):
    """The batch ``[t[idx] for t in tensors]`` of a TensorDataset (through Subsets), or None.

    ``idx`` is an int64 array.  None means: not a plain TensorDataset, so take the general path.
    """
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__ \
            and type(dataset).__getitems__ is Subset.__getitems__:
        ind = dataset.indices
        if isinstance(ind, Tensor):
            ind = ind._data
        if isinstance(ind, np.ndarray) and ind.dtype.kind in "iu":
            idx = ind[idx]
        else:
            idx = _maybe_int_array([ind[i] for i in idx.tolist()])
            if idx is None:
                return None
        dataset = dataset.dataset
    if not (isinstance(dataset, TensorDataset)
            and type(dataset).__getitem__ is TensorDataset.__getitem__
            and getattr(dataset, "__getitems__", None) is None):
        return None
    return [t[idx] for t in dataset.tensors]


class _DataLoaderIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns)."""

    def __init__(self, loader):
        self._loader = loader
        self._collate_fn = loader.collate_fn
        self._dataset = loader.dataset
        self._auto = loader._auto_collation
        self._length = None
        if loader._iterable:
            self._stream = iter(loader.dataset)
            self._ended = False
            self._indices = None
            return
        bs = loader._index_sampler
        fast = (self._auto and self._collate_fn is default_collate and type(bs) is BatchSampler
                and type(bs.sampler) in (SequentialSampler, RandomSampler))
        self._indices = bs._array_batches() if fast else iter(bs)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        # the batch depends on where the pass is, Python state a replay would not advance (and
        # the recorder's check run would take a second batch in the recording call)
        graph_break("iterating a DataLoader (each batch comes from where the pass is)")
        loader = self._loader
        if self._indices is None:
            return self._next_from_stream(loader)
        index = next(self._indices)
        if not self._auto:
            return self._collate_fn(self._dataset[index])
        if self._collate_fn is default_collate:
            arr = index if isinstance(index, np.ndarray) else _maybe_int_array(index)
            if arr is not None:
                rows = _tensor_rows(self._dataset, arr)
                if rows is not None:
                    return rows
        if isinstance(index, np.ndarray):
            index = index.tolist()               # datasets see Python ints, as in PyTorch
        getitems = getattr(self._dataset, "__getitems__", None)
        data = getitems(index) if getitems else [self._dataset[i] for i in index]
        return self._collate_fn(data)

    def _next_from_stream(self, loader):
        if self._ended:
            raise StopIteration
        if not self._auto:
            return self._collate_fn(next(self._stream))
        data = []
        for _ in range(loader.batch_size):
            try:
                data.append(next(self._stream))
            except StopIteration:
                self._ended = True
                break
        if not data or (loader.drop_last and len(data) < loader.batch_size):
            raise StopIteration
        return self._collate_fn(data)


def _maybe_int_array(index):
    """A batch of indices from a custom sampler as an int64 array, or None if it isn't ints."""
    if index and isinstance(index[0], Tensor):       # e.g. Subset(ds, tensor_of_indices)
        if not all(isinstance(i, Tensor) for i in index):
            return None
        index = [i._data for i in index]
    try:
        arr = np.asarray(index)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        return None
    return arr.astype(np.int64, copy=False)
