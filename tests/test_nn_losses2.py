"""Issue #13: the further losses and distances of nn/functional/loss.py and nn/modules/loss.py
against torch (values, first and second derivatives) and central differences, via oracle.check."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as CF
from oracle import check

rng = np.random.default_rng(0)
R = ("none", "mean", "sum")


def F(m):
    return m.nn.functional


def x(*shape):
    return rng.standard_normal(shape)


SIGN = np.array([1.0, -1.0, 1.0, -1.0])


@pytest.mark.parametrize("reduction", R)
def test_margin_ranking(reduction):
    check(lambda m, a, b, y: F(m).margin_ranking_loss(a, b, y, margin=0.3, reduction=reduction),
          x(4), x(4), SIGN, second=True)


@pytest.mark.parametrize("reduction", R)
def test_hinge_embedding(reduction):
    check(lambda m, a, y: F(m).hinge_embedding_loss(a, y, margin=1.5, reduction=reduction),
          np.array([0.3, 2.0, -0.7, 0.4]), np.array([1.0, -1.0, -1.0, 0.5]), second=True)


@pytest.mark.parametrize("reduction", R)
def test_soft_margin(reduction):
    # torch: not differentiable in the target, so the target is a constant here
    y = np.tile(SIGN, (3, 1))
    check(lambda m, a: F(m).soft_margin_loss(a, m.tensor(y), reduction=reduction), x(3, 4),
          second=True)


@pytest.mark.parametrize("reduction", R)
def test_cosine_embedding(reduction):
    check(lambda m, a, b, y: F(m).cosine_embedding_loss(a, b, y, margin=0.1,
                                                        reduction=reduction),
          x(4, 3), x(4, 3), SIGN, second=True)
    check(lambda m, a, b, y: F(m).cosine_embedding_loss(a, b, y, reduction=reduction),
          x(3), x(3), np.array(-1.0), second=True)


@pytest.mark.parametrize("reduction", R)
@pytest.mark.parametrize("p,swap", [(2, False), (1, True), (3, True)])
def test_triplet(reduction, p, swap):
    check(lambda m, a, po, ne: F(m).triplet_margin_loss(a, po, ne, margin=2.0, p=p, swap=swap,
                                                        reduction=reduction),
          x(4, 3), x(4, 3), x(4, 3), second=p != 1)


@pytest.mark.parametrize("reduction", R)
def test_triplet_with_distance(reduction):
    check(lambda m, a, po, ne: F(m).triplet_margin_with_distance_loss(
        a, po, ne, distance_function=lambda u, v: 1 - F(m).cosine_similarity(u, v), margin=0.5,
        swap=True, reduction=reduction), x(4, 3), x(4, 3), x(4, 3), second=True)
    check(lambda m, a, po, ne: F(m).triplet_margin_with_distance_loss(a, po, ne,
                                                                      reduction=reduction),
          x(4, 3), x(4, 3), x(4, 3), second=True)


@pytest.mark.parametrize("reduction", R)
def test_multilabel_soft_margin(reduction):
    y = (rng.random((3, 4)) > 0.5).astype(float)
    check(lambda m, a, t: F(m).multilabel_soft_margin_loss(a, t, reduction=reduction),
          x(3, 4), y, second=True)
    w = np.array([0.5, 1.0, 2.0, 0.1])
    check(lambda m, a, t: F(m).multilabel_soft_margin_loss(a, t, weight=m.tensor(w),
                                                           reduction=reduction),
          x(3, 4), y, second=True)


@pytest.mark.parametrize("reduction", R)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin(reduction, p):
    # second=False here and below: torch has no second derivative of these two losses
    t = np.array([0, 2, 3])
    check(lambda m, a: F(m).multi_margin_loss(a, m.tensor(t), p=p, margin=0.8,
                                              reduction=reduction), x(3, 4), second=False)
    w = np.array([0.5, 1.0, 2.0, 0.1])
    check(lambda m, a: F(m).multi_margin_loss(a, m.tensor(t), p=p, weight=m.tensor(w),
                                              reduction=reduction), x(3, 4), second=False)
    check(lambda m, a: F(m).multi_margin_loss(a, m.tensor(1), p=p, reduction=reduction), x(4),
          second=False)


@pytest.mark.parametrize("reduction", R)
def test_multilabel_margin(reduction):
    t = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 2, 0, 0], [2, 2, -1, 3]])
    check(lambda m, a: F(m).multilabel_margin_loss(a, m.tensor(t), reduction=reduction),
          x(4, 4), second=False)
    check(lambda m, a: F(m).multilabel_margin_loss(a, m.tensor(t[0]), reduction=reduction),
          x(4), second=False)


@pytest.mark.parametrize("reduction", R)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, True), (True, True)])
def test_poisson_nll(reduction, log_input, full):
    inp = x(5) if log_input else rng.random(5) + 0.1
    t = np.array([0.3, 0.7, 2.0, 3.5, 0.5])  # away from the kink at y = 1
    check(lambda m, a, y: F(m).poisson_nll_loss(a, y, log_input=log_input, full=full,
                                                reduction=reduction), inp, t, second=True)


@pytest.mark.parametrize("reduction", R)
@pytest.mark.parametrize("vshape", [(4, 3), (4,), (4, 1)])
def test_gaussian_nll(reduction, vshape):
    var = rng.random(vshape) + 0.1
    check(lambda m, a, y, v: F(m).gaussian_nll_loss(a, y, v, full=True, reduction=reduction),
          x(4, 3), x(4, 3), var, second=True)
    check(lambda m, a, y: F(m).gaussian_nll_loss(a, y, 0.5, reduction=reduction), x(4, 3),
          x(4, 3), second=True)


def _against_torch(program, *arrays):
    """Values and first derivatives against torch only: torch's gradient here is not the
    derivative of its forward (a value clamped under no_grad), so central differences differ."""
    torch = pytest.importorskip("torch")
    outs, grads = [], []
    for m in (cr, torch):
        ts = [m.tensor(a, requires_grad=True) for a in arrays]
        out = program(m, *ts)
        g = m.autograd.grad(out.sum(), ts)
        outs.append(out.detach().numpy())
        grads.append([gi.numpy() for gi in g])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gaussian_nll_small_var_clamped():
    # var below eps: the value uses eps, the gradient flows to var unclamped (as torch)
    _against_torch(lambda m, a, y, v: F(m).gaussian_nll_loss(a, y, v, eps=0.1,
                                                             reduction="none"),
                   x(3), x(3), np.array([0.01, 0.5, 0.05]))


def test_poisson_nll_full_target_zero():
    # full=True at target 0: torch's target gradient is NaN (0 times log's infinite slope)
    _against_torch(lambda m, a, y: F(m).poisson_nll_loss(a, y, full=True, reduction="none"),
                   x(3), np.array([0.0, 0.5, 3.0]))


def test_cosine_similarity():
    check(lambda m, a, b: F(m).cosine_similarity(a, b), x(4, 3), x(4, 3), second=True)
    check(lambda m, a, b: F(m).cosine_similarity(a, b, dim=0, eps=1e-3), x(4, 3), x(1, 3),
          second=True)
    # a tiny vector: its norm is clamped in value, but the gradient flows through the norm
    small = np.array([[1e-3, 2e-3], [1.0, 2.0]])
    _against_torch(lambda m, a, b: F(m).cosine_similarity(a, b, dim=1, eps=0.1), small,
                   x(2, 2))
    check(lambda m, a, b: m.cosine_similarity(a, b), x(4, 3), x(4, 3), second=True)


def test_pairwise_distance():
    for p in (2.0, 1.0, 3.0, float("inf")):
        check(lambda m, a, b: F(m).pairwise_distance(a, b, p=p), x(4, 3), x(4, 3),
              second=p not in (1.0, float("inf")))
    check(lambda m, a, b: F(m).pairwise_distance(a, b, keepdim=True, eps=0.1), x(4, 3), x(3),
          second=True)
    check(lambda m, a, b: m.pairwise_distance(a, b), x(4, 3), x(4, 3), second=True)


def test_pdist_normalize():
    check(lambda m, a: F(m).pdist(a), x(4, 3))  # torch: no second derivative of pdist
    check(lambda m, a: F(m).pdist(a, p=3), x(4, 3))
    check(lambda m, a: F(m).normalize(a), x(4, 3), second=True)
    check(lambda m, a: F(m).normalize(a, p=1, dim=0), x(4, 3))
    check(lambda m, a: F(m).normalize(a, eps=10.0), x(4, 3), second=True)


MODULES = [
    ("MarginRankingLoss", "margin_ranking_loss", {"margin": 0.2}, (x(4), x(4), SIGN)),
    ("HingeEmbeddingLoss", "hinge_embedding_loss", {"margin": 0.5}, (x(4), SIGN)),
    ("CosineEmbeddingLoss", "cosine_embedding_loss", {"margin": 0.1}, (x(4, 3), x(4, 3), SIGN)),
    ("TripletMarginLoss", "triplet_margin_loss", {"margin": 1.5, "p": 1.0, "swap": True},
     (x(4, 3), x(4, 3), x(4, 3))),
    ("TripletMarginWithDistanceLoss", "triplet_margin_with_distance_loss", {"margin": 0.5},
     (x(4, 3), x(4, 3), x(4, 3))),
    ("SoftMarginLoss", "soft_margin_loss", {}, (x(4), SIGN.astype(np.int64))),
    ("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", {},
     (x(2, 3), np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]))),
    ("MultiMarginLoss", "multi_margin_loss", {"p": 2, "margin": 0.5},
     (x(3, 4), np.array([0, 3, 1]))),
    ("MultiLabelMarginLoss", "multilabel_margin_loss", {},
     (x(2, 4), np.array([[3, 0, -1, 1], [1, -1, 0, 0]]))),
    ("PoissonNLLLoss", "poisson_nll_loss", {"full": True}, (x(4), np.array([0.3, 0.8, 2, 5]))),
    ("GaussianNLLLoss", "gaussian_nll_loss", {"full": True},
     (x(4, 3), x(4, 3), rng.random((4, 1)) + 0.1)),
]


@pytest.mark.parametrize("cls,fn,kw,args", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("reduction", R)
def test_modules(cls, fn, kw, args, reduction):
    kw = dict(kw, reduction=reduction)
    out = check(lambda m, *a: getattr(m.nn, cls)(**kw)(*a), *args)
    ts = [cr.tensor(a) for a in args]
    direct = getattr(CF, fn)(*ts, **kw)
    np.testing.assert_allclose(out[0].detach().numpy(), direct.numpy())


def test_distance_modules():
    check(lambda m, a, b: m.nn.CosineSimilarity(dim=0, eps=1e-6)(a, b), x(4, 3), x(4, 3))
    check(lambda m, a, b: m.nn.PairwiseDistance(p=1.0, keepdim=True)(a, b), x(4, 3), x(4, 3))


def test_legacy_reduction_flags():
    a, b = cr.tensor(x(4)), cr.tensor(x(4))
    y = cr.tensor(SIGN)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        got = CF.margin_ranking_loss(a, b, y, size_average=False)
    np.testing.assert_allclose(got.numpy(), CF.margin_ranking_loss(a, b, y, reduction="none")
                               .sum().numpy())
    with pytest.warns(UserWarning, match="reduction='none'"):
        loss = cr.nn.SoftMarginLoss(reduce=False)
    assert loss.reduction == "none"


def test_errors():
    a = cr.zeros(2, 3)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        CF.soft_margin_loss(a, a, reduction="avg")
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        CF.multi_margin_loss(a, cr.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        CF.gaussian_nll_loss(a, a, cr.ones(3, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        CF.gaussian_nll_loss(a, a, -cr.ones(2, 3))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        CF.triplet_margin_with_distance_loss(a, a, a, margin=0.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        CF.triplet_margin_loss(a, a, cr.zeros(3))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        CF.cosine_embedding_loss(cr.zeros(3), cr.zeros(3), cr.ones(2))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        CF.soft_margin_loss(a, cr.ones(2, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        CF.margin_ranking_loss(a, a, cr.ones(2))


def test_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    z = torch.zeros(2, 3)
    for fn, args, kw in [("soft_margin_loss", (z, z), {"reduction": "avg"}),
                         ("multi_margin_loss", (z, torch.tensor([0, 1])), {"p": 3}),
                         ("gaussian_nll_loss", (z, z, torch.ones(3, 2)), {}),
                         ("triplet_margin_loss", (z, z, torch.zeros(3)), {}),
                         ("cosine_embedding_loss", (torch.zeros(3), torch.zeros(3),
                                                    torch.ones(2)), {})]:
        with pytest.raises(Exception) as te:
            getattr(tf, fn)(*args, **kw)
        cargs = [cr.tensor(a.numpy()) for a in args]
        with pytest.raises(type(te.value)):
            getattr(CF, fn)(*cargs, **kw)


TOP = [("margin_ranking_loss", (x(4), x(4), SIGN), (0.2,)),
       ("hinge_embedding_loss", (x(4), SIGN), (0.5,)),
       ("cosine_embedding_loss", (x(4, 3), x(4, 3), SIGN), (0.1,)),
       ("triplet_margin_loss", (x(4, 3), x(4, 3), x(4, 3)), (1.5, 2, 1e-6, True)),
       ("poisson_nll_loss", (x(4), np.array([0.3, 0.5, 2, 5])), (True, True, 1e-8))]


@pytest.mark.parametrize("name,args,extra", TOP, ids=[t[0] for t in TOP])
@pytest.mark.parametrize("enum", [0, 1, 2])
def test_top_level(name, args, extra, enum):
    check(lambda m, *a: getattr(m, name)(*a, *extra, enum), *args, second=True)


def test_top_level_reduction_is_int():
    a = cr.zeros(3)
    with pytest.raises(TypeError, match="'reduction' must be int, not str"):
        cr.margin_ranking_loss(a, a, a, 0.0, "sum")
    with pytest.raises(TypeError, match="missing"):
        cr.poisson_nll_loss(a, a)


def test_edge_cases_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    v = x(4).astype(np.float32)
    cases = [("multi_margin_loss", (v, np.array([1])), {"reduction": "none"}),
             ("multi_margin_loss", (v, np.array(1)), {"reduction": "none"}),
             ("cosine_similarity", (np.ones((2, 3), np.float32), np.ones((2, 3), np.int64)), {}),
             ("cosine_similarity", (np.ones((2, 3)), np.ones((2, 3), np.float32)), {}),
             ("pairwise_distance", (v, v[::-1].copy()), {"keepdim": True}),
             ("pairwise_distance", (np.ones((0, 3)), np.ones((0, 3))), {}),
             ("normalize", (np.zeros((2, 3), np.float32),), {}),
             ("soft_margin_loss", (v, np.ones(4, np.int64)), {})]
    for fn, args, kw in cases:
        want = getattr(tf, fn)(*[torch.tensor(a) for a in args], **kw)
        got = getattr(CF, fn)(*[cr.tensor(a) for a in args], **kw)
        assert tuple(got.shape) == tuple(want.shape), fn
        assert str(got.dtype) == str(want.dtype).replace("torch", "chainrule"), fn
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point"):
        CF.cosine_similarity(cr.ones(2, 3, dtype=cr.int64), cr.ones(2, 3, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="'target' is out of range"):
        CF.multilabel_margin_loss(cr.zeros(2, 3), cr.tensor([[0, 5, -1], [0, -1, 0]]))
    with pytest.raises(RuntimeError, match="target out of range"):
        CF.multi_margin_loss(cr.zeros(2, 3), cr.tensor([0, 3]))


F32 = np.float32


def _f32(*shape):
    return rng.standard_normal(shape).astype(F32)


S32 = np.array([1, -1, 1], F32)
FLOAT32 = [("margin_ranking_loss", (_f32(3), _f32(3), S32), {}),
           ("hinge_embedding_loss", (_f32(3), S32.astype(np.int64)), {}),
           ("cosine_embedding_loss", (_f32(3, 2), _f32(3, 2), S32), {}),
           ("triplet_margin_loss", (_f32(3, 2), _f32(3, 2), _f32(3, 2)), {"swap": True}),
           ("soft_margin_loss", (_f32(3), S32), {}),
           ("multilabel_soft_margin_loss", (_f32(3, 2), np.ones((3, 2), F32)), {}),
           ("multi_margin_loss", (_f32(3, 4), np.array([0, 1, 3])), {}),
           ("multilabel_margin_loss", (_f32(2, 4), np.array([[1, -1, 0, 0], [0, 1, 2, 3]])), {}),
           ("poisson_nll_loss", (_f32(3), np.array([0.0, 2.0, 3.0], F32)), {"full": True}),
           ("gaussian_nll_loss", (_f32(3, 2), _f32(3, 2), np.ones(3, F32)), {}),
           ("cosine_similarity", (_f32(3, 2), _f32(3, 2)), {}),
           ("pairwise_distance", (_f32(3, 2), _f32(3, 2)), {}),
           ("pdist", (_f32(3, 2),), {}),
           ("normalize", (_f32(3, 2),), {}),
           ("multilabel_soft_margin_loss", (_f32(0, 3), _f32(0, 3)), {}),
           ("triplet_margin_loss", (_f32(0, 2), _f32(0, 2), _f32(0, 2)), {"reduction": "none"})]


@pytest.mark.parametrize("fn,args,kw", FLOAT32, ids=[c[0] for c in FLOAT32])
def test_float32_and_empty(fn, args, kw):
    check(lambda m, *a: getattr(F(m), fn)(*a, **kw), *args, grad=False, rtol=1e-5, atol=1e-6)
