"""DistributedSampler (issue #13) and the laziness of every sampler.

Without shuffling the indices are torch's exactly (checked against torch when installed, and
against torch's padding rule written out here); with shuffling each replica's share is torch's
rule applied to the permutation of ``chainrule.Generator().manual_seed(seed + epoch)``.  The
samplers draw lazily: asking for the first index of a 10**12-sample sampler is instant.
"""
import itertools
import math
import time

import pytest

import chainrule
from chainrule.utils import data
from chainrule.utils.data import DistributedSampler

try:
    import torch
    from torch.utils.data import DistributedSampler as TorchDistributedSampler
except ImportError:
    torch = None

GRID = [(n, r, drop) for n in (0, 1, 2, 5, 7, 12) for r in (1, 2, 3, 5) for drop in
        (False, True)]


def reference(order, num_replicas, rank, drop_last):
    """torch's __iter__, from the order of the whole dataset."""
    indices = list(order)
    n = len(indices)
    if drop_last and n % num_replicas != 0:
        num_samples = math.ceil((n - num_replicas) / num_replicas)
    else:
        num_samples = math.ceil(n / num_replicas)
    total_size = num_samples * num_replicas
    if not drop_last:
        padding_size = total_size - n
        if padding_size <= n:
            indices += indices[:padding_size]
        else:
            indices += (indices * math.ceil(padding_size / n))[:padding_size]
    else:
        indices = indices[:total_size]
    return indices[rank:total_size:num_replicas]


@pytest.mark.parametrize("n, replicas, drop_last", GRID)
def test_unshuffled_split(n, replicas, drop_last):
    for rank in range(replicas):
        s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                               drop_last=drop_last)
        got = list(s)
        assert got == reference(range(n), replicas, rank, drop_last)
        assert len(got) == len(s)
        if torch is not None:
            t = TorchDistributedSampler(range(n), num_replicas=replicas, rank=rank,
                                        shuffle=False, drop_last=drop_last)
            assert got == list(t)
            assert (len(s), s.total_size) == (len(t), t.total_size)


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True),
                                                    (2, 5, False), (9, 3, False)])
def test_shuffled_split(n, replicas, drop_last):
    for epoch, seed in [(0, 0), (3, 0), (0, 11)]:
        order = chainrule.creation.numpy_rng(
            chainrule.Generator().manual_seed(seed + epoch)).permutation(n).tolist()
        shares = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=seed,
                                   drop_last=drop_last)
            s.set_epoch(epoch)
            got = list(s)
            assert got == reference(order, replicas, rank, drop_last)
            assert all(isinstance(i, int) for i in got)
            assert list(s) == got                       # same epoch, same order
            shares.append(got)
        everyone = sorted(itertools.chain(*shares))
        if drop_last:
            assert len(set(everyone)) == len(everyone)  # no index visited twice
        else:
            assert set(everyone) == set(range(n))       # every index visited


def test_epochs_reshuffle():
    s = DistributedSampler(range(50), num_replicas=2, rank=0)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    s.set_epoch(0)
    assert list(s) == first


def test_errors():
    with pytest.raises(RuntimeError, match="^Requires distributed package to be available$"):
        DistributedSampler(range(4))
    with pytest.raises(RuntimeError, match="^Requires distributed package to be available$"):
        DistributedSampler(range(4), num_replicas=2)
    for rank in (2, -1):
        with pytest.raises(ValueError, match=rf"^Invalid rank {rank}, rank should be in the "
                                             r"interval \[0, 1\]$"):
            DistributedSampler(range(4), num_replicas=2, rank=rank)
    if torch is not None:
        for rank in (2, -1):
            with pytest.raises(ValueError, match=rf"^Invalid rank {rank}, rank should be in "
                                                 r"the interval \[0, 1\]$"):
                TorchDistributedSampler(range(4), num_replicas=2, rank=rank)


def test_exported_and_in_a_dataloader():
    assert data.DistributedSampler is DistributedSampler
    assert "DistributedSampler" in data.__all__
    ds = data.TensorDataset(chainrule.arange(10.0))
    s = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in data.DataLoader(ds, batch_size=2, sampler=s)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]


class Huge:
    def __len__(self):
        return 10 ** 12


def _first(sampler):
    t = time.perf_counter()
    it = iter(sampler)
    first = next(it)
    next(it)
    return first, time.perf_counter() - t


@pytest.mark.parametrize("make", [
    lambda: data.SequentialSampler(Huge()),
    lambda: data.RandomSampler(range(10), replacement=True, num_samples=10 ** 12),
    lambda: data.RandomSampler(range(3), num_samples=10 ** 12),
    lambda: data.WeightedRandomSampler([1.0, 2.0], 10 ** 12),
    lambda: data.BatchSampler(data.RandomSampler(range(10), replacement=True,
                                                 num_samples=10 ** 12), 4, False),
    lambda: DistributedSampler(Huge(), num_replicas=4, rank=3, shuffle=False),
    lambda: DistributedSampler(range(10 ** 12), num_replicas=4, rank=3, shuffle=False),
], ids=["sequential", "random-replacement", "random-epochs", "weighted", "batch",
        "distributed", "distributed-range"])
def test_samplers_draw_lazily(make):
    """A 10**12-index sampler yields its first indices at once: nothing of size num_samples
    is allocated (10**12 int64 would need 8 TB)."""
    _, seconds = _first(make())
    assert seconds < 2.0


def test_distributed_indices_of_a_huge_dataset():
    s = DistributedSampler(Huge(), num_replicas=4, rank=3, shuffle=False)
    it = iter(s)
    assert [next(it) for _ in range(3)] == [3, 7, 11]
    assert len(s) == 250_000_000_000
