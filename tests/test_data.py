"""chainrule.utils.data and chainrule.datasets: loaders, samplers, collate, splits, datasets.

Orders are checked for reproducibility (same seed, same order) and for being permutations;
batches are checked against NumPy indexing of the same data, and, where torch is importable,
against torch.utils.data on the same data (collate results and sequential batches must agree;
shuffled orders differ by design, since the generators differ).
"""
import collections
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                  IterableDataset, RandomSampler, SequentialSampler,
                                  StackDataset, Subset, SubsetRandomSampler, TensorDataset,
                                  WeightedRandomSampler, default_collate, default_convert,
                                  random_split)
from chainrule.utils.data.collate import collate, default_collate_fn_map

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def _order(loader):
    """The sample ids a loader over ``TensorDataset(X, ids)`` visits, in order."""
    return [int(i) for _, ids in loader for i in ids.tolist()]


def _data(n=23, d=3):
    rng = np.random.default_rng(0)
    X = cr.from_numpy(rng.standard_normal((n, d)).astype(np.float32))
    return TensorDataset(X, cr.arange(n))


# --- order and reproducibility ----------------------------------------------------------------

def test_sequential_order_and_batches():
    ds = _data()
    X = ds.tensors[0].numpy()
    batches = list(DataLoader(ds, batch_size=5))
    assert [tuple(b[0].shape) for b in batches] == [(5, 3)] * 4 + [(3, 3)]
    assert isinstance(batches[0], list)                 # a tuple sample collates to a list
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X)
    assert _order(DataLoader(ds, batch_size=5)) == list(range(23))


def test_same_seed_same_order_different_seed_different_order():
    ds = _data(50)

    def order(seed, **kw):
        return _order(DataLoader(ds, batch_size=8, shuffle=True,
                                 generator=cr.Generator().manual_seed(seed), **kw))

    assert order(0) == order(0)
    assert order(0) != order(1)
    assert sorted(order(0)) == list(range(50))          # each epoch is a permutation
    assert order(0) != list(range(50))


def test_global_seed_fixes_the_order_and_epochs_differ():
    ds = _data(40)
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    cr.manual_seed(3)
    first = [_order(loader), _order(loader)]
    cr.manual_seed(3)
    again = [_order(loader), _order(loader)]
    assert first == again
    assert first[0] != first[1]                         # a new permutation each epoch
    gen_loader = DataLoader(ds, batch_size=7, shuffle=True,
                            generator=cr.Generator().manual_seed(5))
    assert _order(gen_loader) != _order(gen_loader)     # the generator advances between epochs


def test_drop_last_and_len():
    ds = _data(10)
    for bs, drop, sizes in [(3, False, [3, 3, 3, 1]), (3, True, [3, 3, 3]), (5, True, [5, 5]),
                            (5, False, [5, 5]), (20, True, []), (20, False, [10])]:
        for shuffle in (False, True):
            loader = DataLoader(ds, batch_size=bs, drop_last=drop, shuffle=shuffle)
            got = [len(ids) for _, ids in loader]
            assert got == sizes, (bs, drop, shuffle)
            assert len(loader) == len(sizes)


def test_batch_size_none_yields_samples():
    ds = _data(4)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 4 and isinstance(items[0], list)    # default_convert: tuple -> list
    np.testing.assert_array_equal(items[2][0].numpy(), ds.tensors[0].numpy()[2])
    conv = list(DataLoader([np.float32(1.5), np.array([1, 2])], batch_size=None))
    assert conv[0].dtype == cr.float32 and conv[1].tolist() == [1, 2]


# --- collate ----------------------------------------------------------------------------------

def test_collate_tuples_dicts_lists_numbers():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])
    out = default_collate([(a, 0, "x"), (b, 1, "y")])
    assert isinstance(out, list) and len(out) == 3
    np.testing.assert_array_equal(out[0].numpy(), np.stack([a.numpy(), b.numpy()]))
    assert out[1].dtype == cr.int64 and out[1].tolist() == [0, 1]
    assert list(out[2]) == ["x", "y"]          # strings are left as they are

    d = default_collate([{"img": a, "label": 2.5}, {"img": b, "label": 0.5}])
    assert list(d) == ["img", "label"]
    assert d["label"].dtype == cr.float64 and d["label"].tolist() == [2.5, 0.5]
    od = default_collate([collections.OrderedDict(k=1), collections.OrderedDict(k=2)])
    assert type(od) is collections.OrderedDict and od["k"].tolist() == [1, 2]

    nested = default_collate([[{"a": (1, 2)}], [{"a": (3, 4)}]])
    assert nested[0]["a"][0].tolist() == [1, 3] and nested[0]["a"][1].tolist() == [2, 4]

    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(p) is Point and p.x.tolist() == [1, 3] and p.y.dtype == cr.float64

    assert default_collate([True, False]).dtype == cr.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == cr.float32
    arr = default_collate([np.array([1, 2], np.int32), np.array([3, 4], np.int32)])
    assert arr.dtype == cr.int32 and arr.tolist() == [[1, 2], [3, 4]]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([cr.zeros(2), cr.zeros(3)])


def test_collate_fn_map_extension():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return [b.v for b in batch]

    table = {**default_collate_fn_map, Box: collate_box}
    assert collate([(Box(1), 2), (Box(3), 4)], collate_fn_map=table)[0] == [1, 3]


def test_default_convert():
    out = default_convert({"a": np.array([1.0, 2.0]), "b": (np.int64(3), "s")})
    assert out["a"].dtype == cr.float64 and out["b"][0].tolist() == 3 and out["b"][1] == "s"


@needs_torch
def test_collate_agrees_with_torch():
    from torch.utils.data import default_collate as tcollate
    Point = collections.namedtuple("Point", "x y")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    cases = [
        [1, 2, 3], [1.5, 2.0], [True, False], [1, 2.5],
        [np.float32(1), np.float32(2)], [np.int16(1), np.int16(4)],
        arrays, [(a, i) for i, a in enumerate(arrays)],
        [{"x": a, "y": float(i)} for i, a in enumerate(arrays)],
        [Point(a, i) for i, a in enumerate(arrays)], [[1, [2.0, 3]], [4, [5.0, 6]]],
        [("a", 1), ("b", 2)],
    ]

    def flat(v):
        if isinstance(v, (cr.Tensor, torch.Tensor)):
            return [(str(v.dtype).split(".")[-1], v.numpy().tolist())]
        if isinstance(v, dict):
            return [(k, f) for k in v for f in flat(v[k])]
        if isinstance(v, (list, tuple)):
            return [("T" if isinstance(v, tuple) else "L", len(v))] + \
                [f for e in v for f in flat(e)]
        return [v]

    for batch in cases:
        torch_batch = [
            ({k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
             if isinstance(s, dict) else s) for s in batch]
        ours = default_collate([
            ({k: cr.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
             if isinstance(s, dict) else s) for s in batch])
        assert flat(ours) == flat(tcollate(torch_batch)), batch


@needs_torch
def test_sequential_batches_agree_with_torch():
    from torch.utils import data as tdata
    X = np.random.default_rng(2).standard_normal((17, 4)).astype(np.float32)
    y = np.arange(17)
    for bs, drop in [(4, False), (4, True), (17, False), (1, False)]:
        ours = DataLoader(TensorDataset(cr.from_numpy(X), cr.from_numpy(y)), batch_size=bs,
                          drop_last=drop)
        theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                                  batch_size=bs, drop_last=drop)
        assert len(ours) == len(theirs)
        for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
            assert str(ya.dtype).split(".")[-1] == str(yb.dtype).split(".")[-1]


@needs_torch
def test_random_split_lengths_agree_with_torch():
    from torch.utils.data import random_split as trandom_split
    for n, lengths in [(10, [0.8, 0.2]), (11, [0.5, 0.5]), (7, [0.3, 0.3, 0.4]),
                       (103, [0.7, 0.2, 0.1]), (9, [3, 6])]:
        ours = [len(s) for s in random_split(range(n), lengths)]
        theirs = [len(s) for s in trandom_split(range(n), lengths)]
        assert ours == theirs, (n, lengths)


# --- fast path ----------------------------------------------------------------------------------

def _slow(batch):
    return default_collate(batch)        # a different function: disables the fast path


def _assert_same_batches(a, b):
    assert len(a) == len(b)
    for ba, bb in zip(a, b, strict=True):
        assert type(ba) is type(bb) and len(ba) == len(bb)
        for ta, tb in zip(ba, bb, strict=True):
            assert ta.dtype == tb.dtype and ta.shape == tb.shape
            np.testing.assert_array_equal(ta.numpy(), tb.numpy())


def test_fast_path_equals_slow_path():
    rng = np.random.default_rng(4)
    ds = TensorDataset(cr.from_numpy(rng.standard_normal((29, 2, 3)).astype(np.float32)),
                       cr.from_numpy(rng.integers(0, 5, 29)),
                       cr.from_numpy(rng.random(29) > 0.5),
                       cr.from_numpy(rng.standard_normal(29)))
    for kw in [dict(batch_size=4), dict(batch_size=4, shuffle=True),
               dict(batch_size=6, shuffle=True, drop_last=True), dict(batch_size=1),
               dict(batch_size=5, sampler=SubsetRandomSampler([3, 1, 4, 1, 5, 9, 2, 6])),
               dict(batch_sampler=[[0, 5, -1], [28, 2]])]:
        get = (lambda collate_fn: list(DataLoader(ds, collate_fn=collate_fn,
                                                  generator=cr.Generator().manual_seed(0),
                                                  **kw)))
        if "sampler" in kw:
            cr.manual_seed(0)
            fast = get(None)
            cr.manual_seed(0)
            slow = get(_slow)
        else:
            fast, slow = get(None), get(_slow)
        _assert_same_batches(fast, slow)
    # through random_split's Subsets, and a single-tensor dataset
    train, _ = random_split(ds, [0.7, 0.3], generator=cr.Generator().manual_seed(1))
    for d in (train, Subset(train, [2, 0, 1]), TensorDataset(ds.tensors[0]),
              Subset(ds, cr.tensor([4, 0, 2, 9, 28])), Subset(ds, [cr.tensor(4), cr.tensor(0)])):
        _assert_same_batches(list(DataLoader(d, batch_size=3, shuffle=True,
                                             generator=cr.Generator().manual_seed(2))),
                             list(DataLoader(d, batch_size=3, shuffle=True, collate_fn=_slow,
                                             generator=cr.Generator().manual_seed(2))))


def test_fast_path_gradients_equal_slow_path():
    w = cr.randn(6, 2, dtype=cr.float64, requires_grad=True)
    grads = []
    for collate_fn in (None, _slow):
        w.grad = None
        loader = DataLoader(TensorDataset(w), batch_size=4, collate_fn=collate_fn)
        total = sum((xb * cr.arange(1, 3, dtype=cr.float64)).sum() * (k + 1)
                    for k, (xb,) in enumerate(loader))
        total.backward()
        grads.append(w.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    expected = np.repeat([[1.0, 2.0]], 6, 0) * np.array([[1], [1], [1], [1], [2], [2]])
    np.testing.assert_array_equal(grads[0], expected)


def test_subclass_of_tensordataset_takes_general_path():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)

    (xb,) = next(iter(DataLoader(Doubled(cr.arange(4)), batch_size=4)))
    assert xb.tolist() == [0, 2, 4, 6]

    class Negated(Subset):
        def __getitem__(self, i):
            return tuple(-t for t in super().__getitem__(i))

        def __getitems__(self, indices):
            return [self[i] for i in indices]

    (xb,) = next(iter(DataLoader(Negated(TensorDataset(cr.arange(4)), [1, 2]), batch_size=2)))
    assert xb.tolist() == [-1, -2]


# --- datasets, samplers, split ----------------------------------------------------------------

def test_tensordataset_checks():
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors.*\(3, 2\).*\(4,\)"):
        TensorDataset(cr.zeros(3, 2), cr.zeros(4))
    with pytest.raises(TypeError, match="expects tensors"):
        TensorDataset(np.zeros(3))
    ds = TensorDataset(cr.zeros(3, 2), cr.tensor([1, 2, 3]))
    assert len(ds) == 3 and ds[-1][1].item() == 3


def test_concat_subset_stack_and_add():
    a, b = TensorDataset(cr.arange(3)), TensorDataset(cr.arange(10, 12))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert [both[i][0].item() for i in range(-5, 5)] == [0, 1, 2, 10, 11] * 2
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-6]
    sub = Subset(both, [4, 0])
    assert len(sub) == 2 and sub[0][0].item() == 11
    assert [ids.tolist() for (ids,) in DataLoader(sub, batch_size=2)] == [[11, 0]]
    st = StackDataset(x=a, y=[5, 6, 7])
    assert st[1]["y"] == 6 and len(st) == 3
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a, b)


def test_dataset_base_and_iterable():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]

    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5],
                                                                         [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert [b.tolist() for b in DataLoader(Stream(4) + Stream(2), batch_size=4)] == \
        [[0, 1, 2, 3], [0, 1]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)


def test_dataloader_argument_errors():
    ds = _data(5)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    loader = DataLoader(ds, batch_size=2, num_workers=2, pin_memory=True)   # accepted
    assert len(list(loader)) == 3


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = cr.Generator().manual_seed(0)
    rs = RandomSampler(range(6), generator=g)
    assert sorted(rs) == list(range(6)) and len(rs) == 6
    rep = list(RandomSampler(range(3), replacement=True, num_samples=50,
                             generator=cr.Generator().manual_seed(0)))
    assert len(rep) == 50 and set(rep) <= {0, 1, 2}
    more = list(RandomSampler(range(4), num_samples=10, generator=cr.Generator().manual_seed(0)))
    assert sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3] and len(more) == 10
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([])
    w = list(WeightedRandomSampler([0.0, 0.0, 1.0], 5))
    assert w == [2] * 5
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, True)) == 2 and len(BatchSampler(range(7), 3, False)) == 3
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


def test_random_split():
    ds = _data(53)
    parts = random_split(ds, [0.6, 0.3, 0.1], generator=cr.Generator().manual_seed(0))
    sizes = [len(p) for p in parts]
    # PyTorch's rule: floor of each share, then the remainder one by one from the first split
    floors = [math.floor(53 * f) for f in (0.6, 0.3, 0.1)]
    expected = [f + (1 if i < 53 - sum(floors) else 0) for i, f in enumerate(floors)]
    assert sizes == expected
    ids = [i for p in parts for i in p.indices]
    assert sorted(ids) == list(range(53))                    # disjoint and covering
    again = random_split(ds, [0.6, 0.3, 0.1], generator=cr.Generator().manual_seed(0))
    assert [p.indices for p in parts] == [p.indices for p in again]
    other = random_split(ds, [0.6, 0.3, 0.1], generator=cr.Generator().manual_seed(1))
    assert [p.indices for p in parts] != [p.indices for p in other]
    assert [len(p) for p in random_split(ds, [50, 3])] == [50, 3]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [50, 4])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])


# --- chainrule.datasets -----------------------------------------------------------------------

@pytest.mark.parametrize("name, n, d, classes", [
    ("load_digits", 1797, 64, 10), ("load_iris", 150, 4, 3), ("load_breast_cancer", 569, 30, 2),
    ("load_wine", 178, 13, 3), ("load_diabetes", 442, 10, None)])
def test_bundled_datasets(name, n, d, classes):
    skd = pytest.importorskip("sklearn.datasets")
    X, y = getattr(cr.datasets, name)()
    assert tuple(X.shape) == (n, d) and X.dtype == cr.float32 and tuple(y.shape) == (n,)
    Xr, yr = getattr(skd, name)(return_X_y=True)
    np.testing.assert_allclose(X.numpy(), Xr.astype(np.float32))
    if classes is None:
        assert y.dtype == cr.float32
        np.testing.assert_allclose(y.numpy(), yr.astype(np.float32))
    else:
        assert y.dtype == cr.int64
        assert sorted(set(y.tolist())) == list(range(classes))
        np.testing.assert_array_equal(y.numpy(), yr)
    ds = getattr(cr.datasets, name)(as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == n


def test_bundled_dataset_without_sklearn(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[data\]"'):
        cr.datasets.load_iris()


def test_make_moons():
    X, y = cr.datasets.make_moons(101, seed=0)
    assert tuple(X.shape) == (101, 2) and X.dtype == cr.float32 and y.dtype == cr.int64
    assert (y == 0).sum().item() == 50 and (y == 1).sum().item() == 51
    x, lab = X.numpy().astype(np.float64), y.numpy()
    # without noise the points lie on the two unit half circles
    np.testing.assert_allclose(np.hypot(x[lab == 0, 0], x[lab == 0, 1]), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(x[lab == 1, 0] - 1, x[lab == 1, 1] - 0.5), 1, atol=1e-6)
    assert (x[lab == 0, 1] >= -1e-6).all() and (x[lab == 1, 1] <= 0.5 + 1e-6).all()
    a, b = cr.datasets.make_moons(50, noise=0.1, seed=7), cr.datasets.make_moons(50, noise=0.1,
                                                                                 seed=7)
    assert a[0].equal(b[0]) and a[1].equal(b[1])
    assert not a[0].equal(cr.datasets.make_moons(50, noise=0.1, seed=8)[0])
    cr.manual_seed(1)
    c = cr.datasets.make_moons(20, noise=0.2)
    cr.manual_seed(1)
    assert c[0].equal(cr.datasets.make_moons(20, noise=0.2)[0])
    unshuffled = cr.datasets.make_moons(10, shuffle=False)[1].tolist()
    assert unshuffled == [0] * 5 + [1] * 5


def test_make_spirals():
    X, y = cr.datasets.make_spirals(301, n_classes=3, seed=0)
    assert tuple(X.shape) == (301, 2) and X.dtype == cr.float32 and y.dtype == cr.int64
    assert [(y == k).sum().item() for k in range(3)] == [101, 100, 100]
    r = np.hypot(*X.numpy().T.astype(np.float64))
    assert r.max() <= 1 + 1e-6
    Xn, _ = cr.datasets.make_spirals(301, n_classes=3, noise=0.3, seed=0)
    assert not Xn.equal(X)
    ds = cr.datasets.make_spirals(20, as_dataset=True, seed=0)
    assert isinstance(ds, TensorDataset) and len(ds) == 20
    with pytest.raises(ValueError, match="n_samples must be an int >= 3"):
        cr.datasets.make_spirals(2, n_classes=3)


def test_make_regression():
    X, y, w = cr.datasets.make_regression(40, 3, bias=2.0, coef=True, seed=0)
    assert tuple(X.shape) == (40, 3) and tuple(y.shape) == (40,) and tuple(w.shape) == (3,)
    assert X.dtype == y.dtype == w.dtype == cr.float32
    expected = X.numpy().astype(np.float64) @ w.numpy().astype(np.float64) + 2.0
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    _, y_noisy = cr.datasets.make_regression(40, 3, bias=2.0, noise=1.0, seed=0)
    resid = y_noisy.numpy() - y.numpy()
    assert 0.3 < resid.std() < 2.0                            # noise is N(0, 1) on the target
    ds, w2 = cr.datasets.make_regression(10, 2, coef=True, as_dataset=True, seed=1)
    assert isinstance(ds, TensorDataset) and tuple(w2.shape) == (2,)


@pytest.mark.parametrize("module", ["dataset", "sampler", "dataloader",
                                    "collate"])
def test_docstring_examples(module):
    import doctest
    import importlib
    import chainrule.utils.data as U
    mod = importlib.import_module(f"chainrule.utils.data.{module}")
    env = {"chainrule": cr, "np": np, **{k: getattr(U, k) for k in U.__all__}}
    result = doctest.testmod(mod, extraglobs=env, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("module", ["bundled", "synthetic"])
def test_datasets_docstring_examples(module):
    import doctest
    import importlib
    if module == "bundled":
        pytest.importorskip("sklearn")
    mod = importlib.import_module(f"chainrule.datasets.{module}")
    result = doctest.testmod(mod, extraglobs={"chainrule": cr, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
