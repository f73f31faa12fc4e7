"""Samplers: the order in which a ``DataLoader`` visits a dataset's indices.

``RandomSampler`` and ``SubsetRandomSampler`` draw from a ``chainrule.Generator`` (NumPy's PCG64),
so a seeded loader repeats its order run after run; the orders differ from PyTorch's.
"""
import numpy as np

from ... import creation
from ...creation import Generator
from ...tensor import Tensor


class Sampler:
    """Base class: ``__iter__`` yields dataset indices (or lists of them, for batch samplers)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


def _int_array(order):
    return np.asarray(order, dtype=np.int64)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _order(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _fresh_generator():
    # as PyTorch: without a generator, each pass seeds a private one from the global generator,
    # so chainrule.manual_seed(...) fixes every later epoch's order
    seed = int(creation.numpy_rng(None).integers(0, 2 ** 63 - 1))
    return Generator().manual_seed(seed)


class RandomSampler(Sampler):
    """Indices in random order: a new permutation each pass (or draws with ``replacement``).

    ``generator`` (a ``chainrule.Generator``) makes the orders reproducible; without one each
    pass is seeded from the global generator (``chainrule.manual_seed``).

    >>> sorted(RandomSampler(range(4), generator=chainrule.Generator().manual_seed(0)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        # the dataset's size may change between passes
        return len(self.data_source) if self._num_samples is None else self._num_samples

    _CHUNK = 2 ** 16

    def _chunks(self):
        """The order as a stream of int64 arrays, drawn lazily as torch does (in chunks), so that
        ``num_samples=10**10`` with replacement costs one chunk of memory at a time."""
        n = len(self.data_source)
        gen = creation.numpy_rng(self.generator or _fresh_generator())   # a draw: seen
        if not self.replacement:
            full, rest = divmod(self.num_samples, n)
            for _ in range(full):
                yield _int_array(gen.permutation(n))
            yield _int_array(gen.permutation(n)[:rest])
            return
        left = self.num_samples
        while left > 0:
            chunk = gen.integers(0, n, size=min(left, self._CHUNK), dtype=np.int64)
            left -= len(chunk)
            yield chunk

    def _order(self):
        return _int_array(np.concatenate(list(self._chunks()) or [np.empty(0, np.int64)]))

    def __iter__(self):
        for chunk in self._chunks():
            yield from chunk.tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each pass.

    >>> sorted(SubsetRandomSampler([5, 7, 9]))
    [5, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in creation.numpy_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    >>> list(WeightedRandomSampler([0.0, 1.0], 3))
    [1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and "
                               "not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (num_samples={num_samples}, "
                               f"{np.count_nonzero(w)} non-zero weights)")
        self.weights = creation.from_numpy(w)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        w = self.weights._data
        gen = creation.numpy_rng(self.generator)
        if not self.replacement:
            picks = gen.choice(len(w), size=self.num_samples, replace=False, p=w / w.sum())
            yield from picks.tolist()
            return
        # with replacement, in chunks: NumPy draws one uniform per pick in order, so the picks
        # are those of a single call, without num_samples of memory at once
        left = self.num_samples
        while left > 0:
            size = min(left, RandomSampler._CHUNK)
            yield from gen.choice(len(w), size=size, replace=True, p=w / w.sum()).tolist()
            left -= size

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _array_batches(self):
        """Batches as int64 arrays when the sampler can give its whole order at once (fast)."""
        chunks = self.sampler._chunks() if hasattr(self.sampler, "_chunks") else \
            iter([self.sampler._order()])
        bs = self.batch_size
        rest = np.empty(0, np.int64)
        for chunk in chunks:
            order = np.concatenate([rest, chunk]) if len(rest) else chunk
            stop = len(order) - len(order) % bs
            for start in range(0, stop, bs):
                yield order[start:start + bs]
            rest = order[stop:]
        if len(rest) and not self.drop_last:
            yield rest

    def __iter__(self):
        if type(self.sampler) in (SequentialSampler, RandomSampler):
            for b in self._array_batches():
                yield b.tolist()
            return
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
