"""Random sampling, issue #12: bernoulli, poisson, binomial, normal's overloads, randint_like,
rand_like/randn_like, the in-place samplers (random_, exponential_, geometric_, cauchy_,
log_normal_, bernoulli_), get_rng_state/set_rng_state, Generator and lazy RandomSampler.

chainrule's streams are NumPy's, not torch's: values are checked statistically (fixed seeds,
generous tolerances); errors and dtypes are literals recorded from torch 2.13 and re-run on torch
when it is installed.
"""
import itertools

import numpy as np
import pytest

import chainrule as cr


def gen(seed=0):
    return cr.Generator().manual_seed(seed)


# --- statistics of every sampler --------------------------------------------------------------

N = 200_000


def test_bernoulli_frequencies_and_dtype():
    p = cr.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=cr.float64).expand(N, 5).contiguous()
    out = cr.bernoulli(p, generator=gen())
    assert out.dtype == cr.float64 and out.grad_fn is None
    np.testing.assert_allclose(out.numpy().mean(0), [0, 0.1, 0.5, 0.9, 1], atol=5e-3)
    assert set(np.unique(out.numpy())) <= {0.0, 1.0}
    scalar = cr.bernoulli(cr.zeros(N), 0.3, generator=gen(1))
    assert abs(scalar.mean().item() - 0.3) < 5e-3
    assert abs(cr.zeros(N).bernoulli(0.7).mean().item() - 0.7) < 5e-3


def test_bernoulli_inplace():
    x = cr.zeros(N, dtype=cr.int64)
    assert x.bernoulli_(0.25, generator=gen()) is x and x.dtype == cr.int64
    assert abs(x.double().mean().item() - 0.25) < 5e-3
    y = cr.zeros(2, N).bernoulli_(cr.tensor([[0.0], [1.0]]))
    assert y[0].sum().item() == 0 and y[1].sum().item() == N


def test_poisson_binomial_moments():
    rates = cr.full((N,), 3.5)
    x = cr.poisson(rates, generator=gen()).numpy()
    assert x.dtype == np.float32
    assert abs(x.mean() - 3.5) < 0.03 and abs(x.var() - 3.5) < 0.06
    b = cr.binomial(cr.full((N,), 10.0), cr.tensor([0.3]), generator=gen()).numpy()
    assert abs(b.mean() - 3.0) < 0.03 and abs(b.var() - 2.1) < 0.05 and b.max() <= 10


@pytest.mark.parametrize("args, shape", [
    ((cr.zeros(N, dtype=cr.float64) + 2.0, cr.ones(N, dtype=cr.float64) * 3.0), (N,)),
    ((2.0, cr.full((N,), 3.0)), (N,)),
    ((cr.full((N,), 2.0), 3.0), (N,)),
])
def test_normal_overloads(args, shape):
    x = cr.normal(*args, generator=gen())
    assert tuple(x.shape) == shape and x.grad_fn is None
    assert abs(x.numpy().mean() - 2.0) < 0.03 and abs(x.numpy().std() - 3.0) < 0.03


def test_normal_size_and_dtype():
    x = cr.normal(2.0, 3.0, size=(N,), generator=gen())
    assert x.dtype == cr.float32 and abs(x.numpy().mean() - 2) < 0.03
    assert cr.normal(0.0, 1.0, (2, 3), dtype=cr.float64).dtype == cr.float64
    assert cr.normal(cr.zeros(2, 3), cr.ones(3)).shape == (2, 3)
    assert cr.normal(cr.zeros(4), cr.ones(2, 2)).shape == (4,)      # equal numel: mean's shape


@pytest.mark.parametrize("name, args, mean, var", [
    ("exponential_", (2.0,), 0.5, 0.25),
    ("log_normal_", (0.0, 0.5), np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25)),
    ("geometric_", (0.25,), 4.0, 0.75 / 0.0625),
    ("random_", (3, 7), 4.5, 1.25),
    ("random_", (4,), 1.5, 1.25),
])
def test_inplace_sampler_moments(name, args, mean, var):
    x = cr.zeros(N, dtype=cr.float64)
    assert getattr(x, name)(*args, generator=gen()) is x
    v = x.numpy()
    assert abs(v.mean() - mean) < 0.02 * max(1, mean) and abs(v.var() - var) < 0.05 * max(1, var)


def test_cauchy_median_and_quartiles():
    v = cr.zeros(N).cauchy_(1.0, 2.0, generator=gen()).numpy()
    np.testing.assert_allclose(np.percentile(v, [25, 50, 75]), [-1, 1, 3], atol=0.05)


def test_random_default_ranges():
    assert cr.zeros(N, dtype=cr.bool).random_(generator=gen()).float().mean().item() == \
        pytest.approx(0.5, abs=0.01)
    u8 = cr.zeros(N, dtype=cr.uint8).random_(generator=gen()).numpy()
    assert u8.min() == 0 and u8.max() == 255
    f = cr.zeros(N).random_(generator=gen()).numpy()
    assert f.max() <= 2 ** 24 and f.max() > 2 ** 23 and (f == np.round(f)).all()
    i64 = cr.zeros(N, dtype=cr.int64).random_(generator=gen()).numpy()
    assert i64.min() >= 0 and i64.max() > 2 ** 62
    ints = cr.zeros(N, dtype=cr.int32).random_(-5, 5, generator=gen()).numpy()
    assert ints.min() == -5 and ints.max() == 4


def test_like_functions():
    x = cr.zeros(2, 3, dtype=cr.float64)
    for f in (cr.rand_like, cr.randn_like):
        y = f(x, generator=gen())
        assert y.shape == (2, 3) and y.dtype == cr.float64
        assert f(x, dtype=cr.float32).dtype == cr.float32
    r = cr.randint_like(x, 5)
    assert r.dtype == cr.float64 and r.min() >= 0 and r.max() < 5
    r = cr.randint_like(cr.zeros(N, dtype=cr.int32), 2, 5, generator=gen())
    assert r.dtype == cr.int32 and set(np.unique(r.numpy())) == {2, 3, 4}


# --- reproducibility --------------------------------------------------------------------------

SAMPLERS = [
    lambda g: cr.bernoulli(cr.full((50,), 0.5), generator=g),
    lambda g: cr.poisson(cr.full((50,), 2.0), generator=g),
    lambda g: cr.binomial(cr.full((50,), 9.0), cr.full((50,), 0.5), generator=g),
    lambda g: cr.normal(cr.zeros(50), 1.0, generator=g),
    lambda g: cr.normal(0.0, 1.0, (50,), generator=g),
    lambda g: cr.randint_like(cr.zeros(50), 9, generator=g),
    lambda g: cr.rand_like(cr.zeros(50), generator=g),
    lambda g: cr.randn_like(cr.zeros(50), generator=g),
    lambda g: cr.zeros(50).random_(generator=g),
    lambda g: cr.zeros(50).exponential_(generator=g),
    lambda g: cr.zeros(50).geometric_(0.3, generator=g),
    lambda g: cr.zeros(50).cauchy_(generator=g),
    lambda g: cr.zeros(50).log_normal_(generator=g),
    lambda g: cr.zeros(50).bernoulli_(generator=g),
]


@pytest.mark.parametrize("draw", SAMPLERS)
def test_seeded_generator_repeats_and_global_state_replays(draw):
    a, b = draw(gen(7)).numpy(), draw(gen(7)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draw(gen(8)).numpy()) or a.std() == 0
    state = cr.get_rng_state()
    c = draw(None).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(c, draw(None).numpy())


def test_generator_state_roundtrip():
    g = gen(3)
    assert g.initial_seed() == 3 and str(g.device) == "cpu"
    s = g.get_state()
    assert s.dtype == cr.uint8
    a = cr.rand(4, generator=g)
    g.set_state(s)
    np.testing.assert_array_equal(a.numpy(), cr.rand(4, generator=g).numpy())
    assert cr.get_rng_state().dtype == cr.uint8


# --- errors -----------------------------------------------------------------------------------

ERRORS = [
    (lambda m: m.bernoulli(m.tensor([0.5, 1.5])), RuntimeError,
     "Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    (lambda m: m.bernoulli(m.tensor([0.2]), 1.5), RuntimeError,
     "bernoulli_ expects p to be in [0, 1], but got p=1.5"),
    (lambda m: m.bernoulli(m.tensor([1, 0])), NotImplementedError,
     '"bernoulli_tensor_cpu_p_" not implemented for \'Long\''),
    (lambda m: m.zeros(2).bernoulli_(1.3), RuntimeError,
     "bernoulli_ expects p to be in [0, 1], but got p=1.3"),
    (lambda m: m.poisson(m.tensor([-1.0])), RuntimeError,
     "invalid Poisson rate, expected rate to be non-negative"),
    (lambda m: m.poisson(m.tensor([1, 2])), NotImplementedError,
     '"poisson_cpu" not implemented for \'Long\''),
    (lambda m: m.binomial(m.tensor([5]), m.tensor([0.5])), ValueError,
     "binomial only supports floating-point dtypes for count, got: Long"),
    (lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1.0])), RuntimeError,
     "normal expects all elements of std >= 0.0"),
    (lambda m: m.normal(m.zeros(2), m.ones(3)), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    (lambda m: m.zeros(3).exponential_(0), RuntimeError,
     "exponential_ expects lambda > 0.0, but found lambda=0"),
    (lambda m: m.zeros(3).exponential_(-1), RuntimeError,
     "exponential_ expects lambda > 0.0, but found lambda=-1"),
    (lambda m: m.zeros(3, dtype=m.int64).exponential_(), RuntimeError,
     "Exponential distribution is a continuous probability distribution. dtype must be a "
     "floating point but you specified Long"),
    (lambda m: m.zeros(3).geometric_(0), RuntimeError,
     "geometric_ expects p to be in (0, 1), but got p=0"),
    (lambda m: m.zeros(3).geometric_(1.5), RuntimeError,
     "geometric_ expects p to be in (0, 1), but got p=1.5"),
    (lambda m: m.zeros(3).log_normal_(0, -1), RuntimeError,
     "log_normal_ expects std > 0.0, but found std=-1"),
    (lambda m: m.zeros(3).cauchy_(0, 0), RuntimeError,
     "cauchy_ expects sigma > 0.0, but found sigma=0"),
    (lambda m: m.zeros(3).random_(5, 2), RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
    (lambda m: m.zeros(3, dtype=m.uint8).random_(-1, 2), RuntimeError,
     "from is out of bounds for unsigned char"),
    (lambda m: m.rand_like(m.zeros(2, dtype=m.int64)), NotImplementedError,
     '"check_uniform_bounds" not implemented for \'Long\''),
    (lambda m: m.randn_like(m.zeros(2, dtype=m.int64)), NotImplementedError,
     '"normal_kernel_cpu" not implemented for \'Long\''),
    (lambda m: m.set_rng_state(m.zeros(3)), TypeError, "RNG state must be a torch.ByteTensor"),
    (lambda m: m.zeros(2, requires_grad=True).exponential_(), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation"),
]


@pytest.mark.parametrize("call, exc, message", ERRORS)
def test_errors(call, exc, message):
    with pytest.raises(exc) as info:
        call(cr)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("call, exc, message", ERRORS)
def test_errors_match_torch(call, exc, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc) as info:
        call(torch)
    assert str(info.value).startswith(message)


def test_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    calls = [lambda m: m.bernoulli(m.zeros(2, dtype=m.float64)),
             lambda m: m.bernoulli(m.zeros(2, dtype=m.float64), 0.5),
             lambda m: m.poisson(m.zeros(2, dtype=m.float64)),
             lambda m: m.binomial(m.ones(2, dtype=m.float64), m.ones(2, dtype=m.float64) / 2),
             lambda m: m.normal(m.zeros(2, dtype=m.float64), 1.0),
             lambda m: m.normal(0.0, m.ones(2, dtype=m.float64)),
             lambda m: m.normal(0.0, 1.0, (2,)),
             lambda m: m.randint_like(m.zeros(2, dtype=m.int32), 3),
             lambda m: m.zeros(2, dtype=m.int16).geometric_(0.5),
             lambda m: m.zeros(2, dtype=m.int64).bernoulli_(0.5)]
    for call in calls:
        a, t = call(cr), call(torch)
        assert str(a.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert tuple(a.shape) == tuple(t.shape)


# --- samplers ---------------------------------------------------------------------------------

def test_random_sampler_with_replacement_is_lazy():
    from chainrule.utils.data import BatchSampler, RandomSampler
    s = RandomSampler(range(10), replacement=True, num_samples=10 ** 10, generator=gen())
    assert len(s) == 10 ** 10
    first = list(itertools.islice(iter(s), 1000))
    assert all(0 <= i < 10 for i in first)
    batches = BatchSampler(s, batch_size=4, drop_last=False)
    assert len(next(iter(batches))) == 4


def test_samplers_take_a_generator():
    from chainrule.utils.data import (DataLoader, RandomSampler, SubsetRandomSampler,
                                      WeightedRandomSampler, random_split)
    for make in (lambda g: list(RandomSampler(range(20), generator=g)),
                 lambda g: list(RandomSampler(range(5), True, 30, generator=g)),
                 lambda g: list(SubsetRandomSampler(list(range(20)), generator=g)),
                 lambda g: list(WeightedRandomSampler([1.0, 2.0, 3.0], 20, generator=g)),
                 lambda g: [list(s) for s in random_split(range(20), [0.5, 0.5], generator=g)],
                 lambda g: [b.tolist() for b in DataLoader(cr.arange(20), batch_size=3,
                                                           shuffle=True, generator=g)]):
        assert make(gen(4)) == make(gen(4))
        assert make(gen(4)) != make(gen(5))
    from chainrule.utils.data import BatchSampler
    order = list(RandomSampler(range(7), generator=gen(2)))
    assert [i for b in BatchSampler(RandomSampler(range(7), generator=gen(2)), 3, False)
            for i in b] == order
    assert sorted(order) == list(range(7))


def test_random_module_and_fork_rng():
    assert cr.random.manual_seed is cr.manual_seed
    cr.random.manual_seed(11)
    before = cr.random.get_rng_state()
    with cr.random.fork_rng():
        inside = cr.rand(3).numpy()
    np.testing.assert_array_equal(cr.random.get_rng_state().numpy(), before.numpy())
    np.testing.assert_array_equal(cr.rand(3).numpy(), inside)
    with cr.random.fork_rng(enabled=False):
        cr.rand(1)
    assert not np.array_equal(cr.random.get_rng_state().numpy(), before.numpy())
    assert cr.random.initial_seed() == 11


def test_generator_clone_state():
    g = gen(5)
    cr.rand(2, generator=g)
    h = g.clone_state()
    np.testing.assert_array_equal(cr.rand(4, generator=g).numpy(),
                                  cr.rand(4, generator=h).numpy())
    k = cr.Generator().graphsafe_set_state(g.graphsafe_get_state())
    assert k.initial_seed() == 5
    np.testing.assert_array_equal(cr.rand(4, generator=g).numpy(),
                                  cr.rand(4, generator=k).numpy())
