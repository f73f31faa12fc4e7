"""nn.functional.pad, chainrule.constant_pad_nd and the padding modules (issue #13)."""
import numpy as np
import pytest

import chainrule as cr
from oracle import check

RNG = np.random.default_rng(13)


def _x(*shape):
    return RNG.standard_normal(shape)


def _np_pad(a, pad, mode, value=0.0):
    """NumPy reference: crop negative pads, then np.pad the rest."""
    k = len(pad) // 2
    sl = [slice(None)] * a.ndim
    widths = [(0, 0)] * a.ndim
    for j in range(k):
        d = a.ndim - 1 - j
        left, right = pad[2 * j], pad[2 * j + 1]
        sl[d] = slice(max(-left, 0), a.shape[d] - max(-right, 0))
        widths[d] = (max(left, 0), max(right, 0))
    a = a[tuple(sl)]
    npmode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}[mode]
    kw = {"constant_values": value} if mode == "constant" else {}
    return np.pad(a, widths, mode=npmode, **kw)


CONSTANT = [((4,), (1, 2)), ((3, 4), (2, 0, 1, 3)), ((2, 3, 4), (-1, 2, 1, -1)),
            ((2, 3, 4), (1, 1, 1, 1, 1, 1)), ((3, 5), (-2, -1)), ((2, 2, 3, 4), (0, 0, 0, 0, 2, 1)),
            ((3, 4), ())]


@pytest.mark.parametrize("shape,pads", CONSTANT)
def test_constant(shape, pads):
    check(lambda m, x: m.nn.functional.pad(x, pads), _x(*shape), second=True,
          ref=lambda a: _np_pad(a, pads, "constant"))
    check(lambda m, x: m.nn.functional.pad(x, pads, value=2.5), _x(*shape), second=True,
          ref=lambda a: _np_pad(a, pads, "constant", 2.5))
    check(lambda m, x: m.constant_pad_nd(x, pads, -1.0), _x(*shape), second=True,
          ref=lambda a: _np_pad(a, pads, "constant", -1.0))


NONCONST = [((2, 5), (2, 3)), ((2, 3, 5), (1, 4)), ((3, 4, 5), (1, 2, 3, 0)),
            ((2, 3, 4, 5), (2, 1, 0, 3)), ((2, 3, 4, 5), (1, 1, 2, 1, 2, 1)),
            ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1)), ((2, 3, 6), (-1, 2)), ((2, 6), (0, 0))]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", NONCONST)
def test_nonconstant(mode, shape, pads):
    if mode == "circular":
        pads = tuple(min(p, 3) for p in pads)
    check(lambda m, x: m.nn.functional.pad(x, pads, mode), _x(*shape), second=True,
          ref=lambda a: _np_pad(a, pads, mode))


def test_dtypes_and_ints():
    x = cr.tensor([[1, 2, 3]])
    assert cr.nn.functional.pad(x, (1, 1), value=7).tolist() == [[7, 1, 2, 3, 7]]
    assert cr.nn.functional.pad(x, (2, 0), "reflect").tolist() == [[3, 2, 1, 2, 3]]
    assert cr.nn.functional.pad(x, (2, 0), "replicate").tolist() == [[1, 1, 1, 2, 3]]
    assert cr.nn.functional.pad(x, (0, 2), "circular").tolist() == [[1, 2, 3, 1, 2]]
    y = cr.ones(2, 3, dtype=cr.float16)
    assert cr.nn.functional.pad(y, (1, 1), "replicate").dtype == cr.float16
    assert cr.nn.functional.pad(y, (1, 1)).dtype == cr.float16


@pytest.mark.parametrize("call,exc,msg", [
    (lambda F, x: F.pad(x, (1, 2, 3)), RuntimeError, "divisible by 2"),
    (lambda F, x: F.pad(x, (1, 1) * 4), RuntimeError, "less than or equal to two times"),
    (lambda F, x: F.pad(x, (4, 0), "reflect"), RuntimeError, "should be less than"),
    (lambda F, x: F.pad(x, (1,) * 6, "reflect"), NotImplementedError, "Padding size 6"),
    (lambda F, x: F.pad(x, (5, 0), "circular"), RuntimeError, "wrapping around more than once"),
    (lambda F, x: F.pad(x, (1, 1), "foo"), NotImplementedError, "Unrecognised padding mode"),
    (lambda F, x: F.pad(x, (1, 1), "reflect", 1.0), RuntimeError, "doesn't take in value"),
    (lambda F, x: F.pad(x, (1.5, 1)), TypeError, "tuple of ints"),
    (lambda F, x: F.pad(x[:, :0], (1, 1), "replicate"), RuntimeError, "non-zero dimensions"),
])
def test_errors(call, exc, msg):
    x = cr.randn(2, 3, 4)
    with pytest.raises(exc, match=msg):
        call(cr.nn.functional, x)


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    for call in [lambda F, x: F.pad(x, (1, 2, 3)), lambda F, x: F.pad(x, (4, 0), "reflect"),
                 lambda F, x: F.pad(x, (5, 0), "circular"),
                 lambda F, x: F.pad(x[0, 0], (1, 1), "reflect")]:
        with pytest.raises(Exception) as te:
            call(torch.nn.functional, torch.randn(2, 3, 4))
        with pytest.raises(type(te.value)) as ce:
            call(cr.nn.functional, cr.randn(2, 3, 4))
        assert str(ce.value) == str(te.value)


MODULES = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 2, 0, 1),)), ("ZeroPad3d", (1,)),
           ("ConstantPad1d", (2, 3.5)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0)),
           ("ConstantPad3d", (1, 0.5)), ("ReflectionPad1d", (2,)),
           ("ReflectionPad2d", ((1, 2, 0, 1),)), ("ReflectionPad3d", (1,)),
           ("ReplicationPad1d", ((3, 1),)), ("ReplicationPad2d", (2,)),
           ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),)), ("CircularPad1d", (2,)),
           ("CircularPad2d", ((1, 2, 0, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name,args", MODULES)
def test_modules(name, args):
    nd = int(name[-2])
    shape = (2, 3, 4, 5, 4)[: nd + 2]
    check(lambda m, x: getattr(m.nn, name)(*args)(x), _x(*shape), second=True)
    mod = getattr(cr.nn, name)(*args)
    assert len(mod.padding) == 2 * nd
    try:
        import torch
    except ImportError:
        return
    assert repr(mod) == repr(getattr(torch.nn, name)(*args))
