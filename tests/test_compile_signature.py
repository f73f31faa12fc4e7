"""A compiled module's signature (issue #14): a later call replays only while the module is
the one recorded: the same training flags, and the same modules, parameters and buffers
(the key reads their identities again only after some module's members changed, so every
kind of change must be seen), parameters of the recorded shape, dtype and requires_grad.

The reference is the uncompiled module on the same input: after each change the compiled
call must give its output and gradients.
"""
from collections import OrderedDict

import numpy as np

import chainrule as cr
from chainrule import nn


def _model():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _same(model, compiled, x):
    """compiled(x) gives model(x)'s values and parameter gradients, twice (record/replay)."""
    for _ in range(2):
        model.zero_grad()
        ref = model(x)
        ref.sum().backward()
        want = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
        model.zero_grad()
        out = compiled(x)
        np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
        assert out.requires_grad == ref.requires_grad
        if out.requires_grad:
            out.sum().backward()
            got = [None if p.grad is None else p.grad.numpy() for p in model.parameters()]
            for g, w in zip(got, want):
                assert (g is None) == (w is None)
                if g is not None:
                    np.testing.assert_array_equal(g, w)


def test_replaced_parameter_is_seen():
    m = _model()
    c = cr.compile(m)
    x = cr.randn(5, 3)
    _same(m, c, x)
    m[0].weight = nn.Parameter(cr.ones(4, 3))
    _same(m, c, x)


def test_replaced_module_without_parameters_is_seen():
    m = _model()
    c = cr.compile(m)
    x = cr.randn(5, 3)
    _same(m, c, x)
    m[1] = nn.ReLU()                # same parameters, same flags: another function
    _same(m, c, x)


def test_direct_writes_into_the_member_dicts_are_seen():
    m = _model()
    c = cr.compile(m)
    x = cr.randn(5, 3)
    _same(m, c, x)
    m[2]._parameters["bias"] = nn.Parameter(cr.full((2,), 3.0))
    _same(m, c, x)
    m._modules["1"] = nn.Sigmoid()
    _same(m, c, x)


def test_containers_changed_in_place_are_seen():
    m = _model()
    c = cr.compile(m)
    x = cr.randn(5, 3)
    _same(m, c, x)
    del m[1]
    m.insert(1, nn.Softplus())
    _same(m, c, x)
    m.append(nn.Tanh())
    _same(m, c, x)


def test_a_member_dict_replaced_by_a_plain_dict_is_still_watched():
    m = _model()
    c = cr.compile(m)
    x = cr.randn(5, 3)
    _same(m, c, x)
    lin = m[0]
    lin._parameters = OrderedDict(lin._parameters)      # not a counting dict any more
    _same(m, c, x)
    lin._parameters["weight"] = nn.Parameter(cr.zeros(4, 3))   # a write it does not count
    _same(m, c, x)


def test_training_flag_requires_grad_and_shape_changes_are_seen():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    c = cr.compile(m)
    x = cr.randn(5, 3)
    m.eval()
    _same(m, c, x)
    m[0].weight.requires_grad_(False)
    _same(m, c, x)
    m[0].weight.requires_grad_(True)
    m[0].bias.data = cr.full((1,), 2.0)                 # broadcasts: another recording
    _same(m, c, x)


def test_a_module_copied_or_unpickled_is_watched_too():
    import copy
    import pickle
    m = _model()
    for other in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        c = cr.compile(other)
        x = cr.randn(5, 3)
        _same(other, c, x)
        other[0]._parameters["weight"] = nn.Parameter(cr.full((4, 3), 0.5))
        _same(other, c, x)
        other[1] = nn.ReLU()
        _same(other, c, x)
