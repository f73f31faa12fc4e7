"""Random sampling: ``multinomial`` and ``Generator``.

chainrule's streams are NumPy's (PCG64), not torch's, so values are checked statistically and
against chainrule itself; errors, dtypes and shapes are literals recorded from torch 2.13 (CPU),
and ``test_errors_match_torch`` re-runs them on torch when it is installed.
"""
import numpy as np
import pytest

import chainrule as cr

nan, inf = float("nan"), float("inf")

# --- multinomial ------------------------------------------------------------------------------

# (weights, num_samples, replacement) -> torch's exception type and the start of its message
ERRORS = [
    ([1.0, -1.0], 1, False, RuntimeError, "probability tensor contains either `inf`, `nan` or"),
    ([1.0, inf], 1, True, RuntimeError, "probability tensor contains either `inf`, `nan` or"),
    ([1.0, nan], 1, False, RuntimeError, "probability tensor contains either `inf`, `nan` or"),
    ([0.0, 0.0], 1, False, RuntimeError, "invalid multinomial distribution (sum of probab"),
    ([[1.0, 0.0], [0.0, 0.0]], 1, True, RuntimeError, "invalid multinomial distribution"),
    ([1.0, 1.0], 3, False, RuntimeError, "cannot sample n_sample > prob_dist.size(-1) samples"),
    (1.0, 1, False, RuntimeError, "prob_dist must be 1 or 2 dim"),
    ([[[1.0]]], 1, False, RuntimeError, "prob_dist must be 1 or 2 dim"),
    ([1, 2], 1, False, RuntimeError, "multinomial only supports floating-point dtypes for input"),
    ([1.0, 2.0], 0, False, RuntimeError, "cannot sample n_sample <= 0 samples"),
    ([1.0, 2.0], -1, True, RuntimeError, "cannot sample n_sample <= 0 samples"),
    ([1.0, 2.0], 2.0, True, TypeError, "multinomial(): argument 'num_samples'"),
]


@pytest.mark.parametrize("weights, n, replacement, exc, message", ERRORS)
def test_errors(weights, n, replacement, exc, message):
    with pytest.raises(exc) as info:
        cr.multinomial(cr.tensor(weights), n, replacement)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("weights, n, replacement, exc, message", ERRORS)
def test_errors_match_torch(weights, n, replacement, exc, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc) as info:
        torch.multinomial(torch.tensor(weights), n, replacement)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("shape, n, replacement, out", [
    ((3,), 2, False, (2,)), ((4, 5), 7, True, (4, 7)), ((0, 3), 1, False, (0, 1)),
    ((2, 3), 3, False, (2, 3))])
def test_shape_and_dtype(shape, n, replacement, out):
    w = cr.rand(*shape, requires_grad=True, dtype=cr.float64) + 0.1
    got = cr.multinomial(w, n, replacement)
    assert got.dtype is cr.int64 and tuple(got.shape) == out and not got.requires_grad
    assert w.multinomial(n, replacement=replacement).shape == got.shape


@pytest.mark.parametrize("replacement", [True, False])
def test_frequencies_match_weights(replacement):
    cr.manual_seed(0)
    weights = [1.0, 0.0, 3.0, 6.0]
    p = np.array(weights) / sum(weights)
    # 20,000 independent single draws, one per row, so both kernels are tested the same way
    draws = cr.multinomial(cr.tensor([weights] * 20_000), 1, replacement).numpy().ravel()
    freq = np.bincount(draws, minlength=4) / draws.size
    assert np.all(np.abs(freq - p) < 0.02), freq
    assert freq[1] == 0


def test_without_replacement_second_draw():
    # P(second = j) = sum over i != j of p_i p_j / (1 - p_i)
    cr.manual_seed(1)
    p = np.array([0.5, 0.3, 0.2])
    second = cr.multinomial(cr.tensor([p.tolist()] * 20_000), 2).numpy()[:, 1]
    expected = [sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(3)]
    assert np.all(np.abs(np.bincount(second, minlength=3) / second.size - expected) < 0.02)


def test_without_replacement_is_distinct():
    cr.manual_seed(2)
    rows = cr.multinomial(cr.rand(200, 10) + 0.01, 10).numpy()
    assert all(sorted(r) == list(range(10)) for r in rows)


def test_zero_weights_come_last_without_replacement():
    # torch's CPU kernel allows more samples than non-zero weights and returns the zeros last
    got = cr.multinomial(cr.tensor([0.0, 5.0, 0.0, 1.0]), 4).tolist()
    assert sorted(got[:2]) == [1, 3] and sorted(got[2:]) == [0, 2]


def test_seeded_runs_repeat():
    w = cr.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    cr.manual_seed(7)
    a = cr.multinomial(w, 5, True).tolist(), cr.multinomial(w, 3).tolist()
    cr.manual_seed(7)
    assert (cr.multinomial(w, 5, True).tolist(), cr.multinomial(w, 3).tolist()) == a


# --- Generator --------------------------------------------------------------------------------

def _draws(g):
    return [cr.rand(3, generator=g).tolist(), cr.randn(2, generator=g).tolist(),
            cr.randint(0, 10, (4,), generator=g).tolist(), cr.randperm(5, generator=g).tolist(),
            cr.normal(0.0, 1.0, (2,), generator=g).tolist(),
            cr.rand_like(cr.zeros(2), generator=g).tolist(),
            cr.randn_like(cr.zeros(2), generator=g).tolist(),
            cr.empty(2).uniform_(generator=g).tolist(), cr.empty(2).normal_(generator=g).tolist(),
            cr.multinomial(cr.tensor([1.0, 2.0, 3.0]), 2, generator=g).tolist()]


def test_generator_api():
    g = cr.Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    state = g.get_state()
    assert isinstance(state, cr.Tensor) and state.dtype is cr.uint8 and state.dim() == 1


def test_same_seed_same_draws():
    assert _draws(cr.Generator().manual_seed(11)) == _draws(cr.Generator().manual_seed(11))
    assert _draws(cr.Generator().manual_seed(11)) != _draws(cr.Generator().manual_seed(12))


def test_get_state_set_state_replays():
    g = cr.Generator().manual_seed(5)
    _draws(g)
    state = g.get_state()
    first = _draws(g)
    assert g.set_state(state) is g
    assert _draws(g) == first
    other = cr.Generator()
    other.set_state(state)
    assert _draws(other) == first


def test_private_generator_leaves_global_stream():
    cr.manual_seed(9)
    expected = cr.rand(4).tolist()
    cr.manual_seed(9)
    _draws(cr.Generator().manual_seed(1))
    assert cr.rand(4).tolist() == expected


def test_multinomial_needs_a_tensor_as_torch():
    with pytest.raises(TypeError, match="must be Tensor"):
        cr.multinomial([0.5, 0.5], 1)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        torch.multinomial([0.5, 0.5], 1)
