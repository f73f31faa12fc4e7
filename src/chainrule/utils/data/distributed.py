"""``DistributedSampler``: the share of a dataset's indices that one of ``num_replicas``
processes visits (torch's ``torch.utils.data.distributed``).

chainrule has no distributed backend (``chainrule.distributed.is_available()`` is False), so
``num_replicas`` and ``rank`` must be given; without them the sampler raises torch's error for
a build without ``torch.distributed``.  The split is torch's: the (shuffled) order is padded by
repeating its start, or cut with ``drop_last``, to a multiple of ``num_replicas``, and replica
``rank`` takes every ``num_replicas``-th index from position ``rank``.  The shuffled order comes
from a ``chainrule.Generator`` seeded with ``seed + epoch``, so it is the same in every process
and changes with ``set_epoch``; it differs from torch's (NumPy's PCG64, not torch's Mersenne
Twister).  Indices are produced lazily: no list of ``total_size`` is built (torch builds one),
only the permutation of the dataset when ``shuffle=True``.
"""
import math

from ... import creation
from ... import distributed as dist
from ...creation import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that replica ``rank`` of ``num_replicas`` visits; call
    ``set_epoch(epoch)`` before each epoch to reshuffle.

    >>> s = DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)
    >>> list(s), len(s)           # padded to 6 = [0, 1, 2, 3, 4, 0]; rank 1 takes 1, 3, 0
    ([1, 3, 0], 3)
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # split to the nearest length that is evenly divisible: every replica gets the same
            # amount of data
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas)
                                         / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            order = creation.numpy_rng(g).permutation(n)
        else:
            order = None
        return self._draw(order, n)

    def _draw(self, order, n):
        # position j of torch's padded list is the order's entry j mod n
        for j in range(self.rank, self.total_size, self.num_replicas):
            i = j % n
            yield i if order is None else int(order[i])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which (with ``seed``) fixes the shuffled order: call it at the start
        of every epoch, before iterating a ``DataLoader`` that uses this sampler."""
        self.epoch = epoch
