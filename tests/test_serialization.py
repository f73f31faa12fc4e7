"""chainrule.save / chainrule.load (no pickles) and safetensors files, with PyTorch interop.

Round trips cover every dtype, 0-d and empty tensors, nested containers, module and optimizer
state dicts.  Damaged or foreign files must be refused with an error naming the file, and a
pickle must never be executed.  Where torch is importable, weights cross over through
safetensors in both directions and both libraries' models give the same outputs.
"""
import collections
import io
import json
import math
import pathlib
import pickle
import struct
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Module, Parameter

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

DTYPES = [cr.bool, cr.uint8, cr.int8, cr.int16, cr.int32, cr.int64, cr.float16, cr.float32,
          cr.float64]


def _sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 50
    if dtype == cr.bool:
        a = a > 0
    return cr.from_numpy(np.asarray(a.astype(dtype.np)))


def _roundtrip(obj):
    buf = io.BytesIO()
    cr.save(obj, buf)
    buf.seek(0)
    return cr.load(buf)


def _same_tensor(a, b):
    assert isinstance(b, cr.Tensor)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


# --- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3), (3, 4, 2)])
def test_tensor_roundtrip_every_dtype(dtype, shape):
    t = _sample(dtype, shape)
    _same_tensor(t, _roundtrip(t))


def test_special_values_and_views(tmp_path):
    t = cr.tensor([math.nan, math.inf, -math.inf, -0.0, 1e-45], dtype=cr.float32)
    back = _roundtrip({"t": t})["t"]
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert np.signbit(back.numpy()[3])
    view = cr.arange(12.0).reshape(3, 4).t()[1:]              # a non-contiguous view
    _same_tensor(view, _roundtrip(view))
    path = tmp_path / "x.pt"
    cr.save(view, path)                                       # a pathlib.Path
    _same_tensor(view, cr.load(str(path)))
    back = cr.load(path)
    back[0, 0] = 100.0                                        # loaded tensors are writable
    assert view[0, 0].item() != 100.0


def test_nested_structures_keep_their_types():
    obj = collections.OrderedDict([
        ("a", {"b": [1, 2.0, "s", None, True, False], 3: (cr.zeros(2), ()), (1, "k"): 7}),
        ("floats", [math.nan, math.inf, -math.inf, 0.1, -0.0]),
        ("big", 2 ** 70), ("empty", {}), ("size", cr.Size([2, 3])), ("dtype", cr.float16),
        ("np", np.arange(3, dtype=np.int16)), ("np_scalar", np.float32(2.5)),
        ("device", cr.device("cpu")),
    ])
    back = _roundtrip(obj)
    assert type(back) is collections.OrderedDict and list(back) == list(obj)
    assert type(back["a"]) is dict and list(back["a"]) == ["b", 3, (1, "k")]
    assert back["a"]["b"] == [1, 2.0, "s", None, True, False]
    assert [type(v) for v in back["a"]["b"]] == [int, float, str, type(None), bool, bool]
    assert type(back["a"][3]) is tuple and back["a"][3][1] == ()
    _same_tensor(obj["a"][3][0], back["a"][3][0])
    assert back["a"][(1, "k")] == 7
    f = back["floats"]
    assert math.isnan(f[0]) and f[1:4] == [math.inf, -math.inf, 0.1]
    assert math.copysign(1, f[4]) == -1
    assert back["big"] == 2 ** 70 and back["empty"] == {}
    assert type(back["size"]) is cr.Size and back["size"] == (2, 3)
    assert back["dtype"] is cr.float16 and back["device"] == cr.device("cpu")
    assert back["np"].dtype == np.int16 and back["np"].tolist() == [0, 1, 2]
    assert back["np_scalar"].dtype == np.float32 and back["np_scalar"] == 2.5


def test_identity_requires_grad_and_parameters():
    p = Parameter(cr.randn(3))
    frozen = Parameter(cr.randn(2), requires_grad=False)
    t = cr.randn(2, requires_grad=True)
    back = _roundtrip({"p": p, "again": p, "t": t, "frozen": frozen, "y": t * 2})
    assert back["p"] is back["again"]                         # one object saved twice
    assert type(back["p"]) is Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is Parameter and not back["frozen"].requires_grad
    assert type(back["t"]) is cr.Tensor and back["t"].requires_grad and back["t"].is_leaf
    assert back["y"].is_leaf and back["y"].grad_fn is None    # history is not saved
    _same_tensor(t * 2, back["y"])


# --- modules and optimizers ---------------------------------------------------------------------

class TinyLinear(Module):
    """y = x Wᵀ + b, with PyTorch's parameter names and shapes (in case nn.Linear is absent)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = Parameter(cr.randn(n_out, n_in) * (1 / math.sqrt(n_in)))
        self.bias = Parameter(cr.randn(n_out) * 0.1)

    def forward(self, x):
        return x @ self.weight.t() + self.bias


Linear = getattr(cr.nn, "Linear", TinyLinear)


class MLP(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Linear(4, 8)
        self.fc2 = Linear(8, 3)
        self.register_buffer("scale", cr.tensor([1.5, 0.5, 2.0]))

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh()) * self.scale


def test_module_state_dict_roundtrip(tmp_path):
    cr.manual_seed(0)
    model = MLP()
    path = tmp_path / "model.pt"
    cr.save(model.state_dict(), path)
    sd = cr.load(path)
    assert type(sd) is collections.OrderedDict and list(sd) == list(model.state_dict())
    cr.manual_seed(1)
    fresh = MLP()
    x = cr.randn(5, 4)
    assert not np.allclose(fresh(x).detach().numpy(), model(x).detach().numpy())
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    for k, v in model.state_dict().items():
        _same_tensor(v, sd[k])


def test_optimizer_like_state_dict():
    state = {
        "state": {0: {"step": cr.tensor(3.0), "exp_avg": cr.randn(2, 3),
                      "exp_avg_sq": cr.rand(2, 3, dtype=cr.float64)},
                  1: {"step": cr.tensor(3.0), "momentum_buffer": None}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "amsgrad": False, "maximize": False,
                          "foreach": None, "params": [0, 1], "initial_lr": 0.01}],
    }
    back = _roundtrip(state)
    assert list(back["state"]) == [0, 1] and back["param_groups"] == state["param_groups"]
    for i in (0, 1):
        for k, v in state["state"][i].items():
            if v is None:
                assert back["state"][i][k] is None
            else:
                _same_tensor(v, back["state"][i][k])


def test_real_optimizer_state_dict_if_available():
    optim = pytest.importorskip("chainrule.optim")
    if not hasattr(optim, "Adam"):
        pytest.skip("chainrule.optim.Adam is not written yet")
    model = MLP()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(3, 4)).sum().backward()
    opt.step()
    back = _roundtrip(opt.state_dict())
    opt2 = optim.Adam(MLP().parameters(), lr=0.5)
    opt2.load_state_dict(back)
    assert opt2.param_groups[0]["lr"] == 0.01


# --- refusals -----------------------------------------------------------------------------------

_tripped = []


class _Trap:
    """Unpickling this calls _trip: loading must never get that far."""

    def __reduce__(self):
        return (_tripped.append, ("unpickled!",))


def _valid_save_bytes():
    buf = io.BytesIO()
    cr.save({"w": cr.arange(100.0), "n": 1}, buf)
    return buf.getvalue()


def test_refuses_a_pickle(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"x": _Trap()}))
    with pytest.raises(RuntimeError, match=r"evil\.pt.*pickle.*never unpickles"):
        cr.load(path)
    with pytest.raises(RuntimeError, match="pickle"):
        cr.load(path, weights_only=False)
    assert _tripped == []


def test_refuses_pickles_inside_the_archive(tmp_path):
    # a well-formed chainrule archive whose array entry is an object array (a pickle in .npy)
    path = tmp_path / "sneaky.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("chainrule/structure.json", json.dumps(
            {"format": "chainrule.save", "version": 1, "root": {"$": "ndarray", "data": 0}}))
        with zf.open("chainrule/data/0.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([_Trap()], dtype=object), allow_pickle=True)
    with pytest.raises(RuntimeError, match=r"sneaky\.pt.*pickled objects.*refuses"):
        cr.load(path)
    assert _tripped == []


def test_refuses_corrupt_and_truncated_files(tmp_path):
    data = _valid_save_bytes()
    at = data.index(b"\x93NUMPY") + 200                       # inside the array's bytes
    flipped = bytearray(data)
    flipped[at] ^= 0xFF
    cases = {
        "flipped.pt": (bytes(flipped), r"flipped\.pt.*corrupt"),
        "truncated.pt": (data[: len(data) // 2], r"truncated\.pt.*truncated or corrupt"),
        "empty.pt": (b"", r"empty\.pt.*empty"),
        "random.pt": (bytes(range(256)) * 4, r"random\.pt.*not a zip archive"),
        "npy.pt": (b"\x93NUMPY" + bytes(100), r"npy\.pt.*NumPy \.npy"),
    }
    for name, (content, pattern) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(RuntimeError, match=pattern):
            cr.load(path)


def test_refuses_zips_that_are_not_chainrule_saves(tmp_path):
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.zeros(2))
    with pytest.raises(RuntimeError, match=r"arrays\.npz.*NumPy \.npz"):
        cr.load(npz)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(RuntimeError, match=r"other\.zip.*no chainrule/structure\.json"):
        cr.load(other)
    bad_json = tmp_path / "bad_json.pt"
    with zipfile.ZipFile(bad_json, "w") as zf:
        zf.writestr("chainrule/structure.json", "{not json")
    with pytest.raises(RuntimeError, match=r"bad_json\.pt.*not valid JSON"):
        cr.load(bad_json)
    missing = tmp_path / "missing.pt"
    with zipfile.ZipFile(missing, "w") as zf:
        zf.writestr("chainrule/structure.json", json.dumps(
            {"format": "chainrule.save", "version": 1,
             "root": {"$": "tensor", "data": 4, "dtype": "float32", "shape": [2]}}))
    with pytest.raises(RuntimeError, match=r"missing\.pt.*array 4.*lacks"):
        cr.load(missing)
    newer = tmp_path / "newer.pt"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr("chainrule/structure.json",
                    json.dumps({"format": "chainrule.save", "version": 99, "root": None}))
    with pytest.raises(RuntimeError, match=r"newer\.pt.*version 99.*upgrade"):
        cr.load(newer)
    lying = tmp_path / "lying.pt"
    with zipfile.ZipFile(lying, "w") as zf:
        zf.writestr("chainrule/structure.json", json.dumps(
            {"format": "chainrule.save", "version": 1,
             "root": {"$": "tensor", "data": 0, "dtype": "float32", "shape": [3]}}))
        with zf.open("chainrule/data/0.npy", "w") as fh:
            np.lib.format.write_array(fh, np.zeros(2, np.float64))
    with pytest.raises(RuntimeError, match=r"lying\.pt.*float64 of shape \(2,\).*float32"):
        cr.load(lying)


@needs_torch
def test_refuses_a_torch_checkpoint_and_says_what_to_do(tmp_path):
    path = tmp_path / "torch_model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match=r"torch_model\.pt.*PyTorch checkpoint.*safetensors"):
        cr.load(path)


def test_save_errors():
    with pytest.raises(TypeError, match=r"obj\['m'\].*state_dict\(\)"):
        cr.save({"m": MLP()}, io.BytesIO())
    with pytest.raises(TypeError, match=r"type set \(at obj\[0\]\)"):
        cr.save([{1, 2}], io.BytesIO())
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        cr.save(loop, io.BytesIO())
    with pytest.raises(TypeError, match="keys must be"):
        cr.save({cr.zeros(1): 1}, io.BytesIO())
    with pytest.raises(TypeError, match="dtype <U1"):
        cr.save(np.array(["a"]), io.BytesIO())


def test_map_location():
    data = _valid_save_bytes()
    for loc in (None, "cpu", cr.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        assert cr.load(io.BytesIO(data), map_location=loc)["n"] == 1
    with pytest.raises(RuntimeError, match="no 'cuda' device"):
        cr.load(io.BytesIO(data), map_location="cuda:0")


# --- safetensors --------------------------------------------------------------------------------

def test_safetensors_roundtrip(tmp_path):
    stn = pytest.importorskip("safetensors")
    tensors = {f"t_{d.name}": _sample(d, (2, 3), seed=i) for i, d in enumerate(DTYPES)}
    tensors["scalar"] = cr.tensor(2.5)
    tensors["view"] = cr.arange(12.0).reshape(3, 4).t()
    tensors["param"] = Parameter(cr.randn(3))
    path = tmp_path / "w.safetensors"
    cr.save_safetensors(tensors, path, metadata={"epoch": "3"})
    back = cr.load_safetensors(path)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        _same_tensor(v, back[k])
        assert not back[k].requires_grad
    with stn.safe_open(str(path), "np") as f:
        assert f.metadata() == {"epoch": "3"}
    back["view"][0, 0] = 7.0                                  # writable


def test_safetensors_errors(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    with pytest.raises(TypeError, match="the key 0 is a int"):
        cr.save_safetensors({0: cr.zeros(1)}, path)
    with pytest.raises(TypeError, match="'step' is a int, not a tensor"):
        cr.save_safetensors({"w": cr.zeros(1), "step": 3}, path)
    with pytest.raises(TypeError, match="expected a dict"):
        cr.save_safetensors([cr.zeros(1)], path)
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        cr.save_safetensors({"w": cr.zeros(1)}, path, metadata={"epoch": 3})
    zipped = tmp_path / "model.pt"
    cr.save({"w": cr.zeros(1)}, zipped)
    with pytest.raises(RuntimeError, match=r"model\.pt.*not a safetensors file.*chainrule\.load"):
        cr.load_safetensors(zipped)
    cr.save_safetensors({"w": cr.zeros(100)}, path)
    with pytest.raises(RuntimeError, match=r"w\.safetensors.*looks like a safetensors file"):
        cr.load(path)
    (tmp_path / "cut.safetensors").write_bytes(path.read_bytes()[:30])
    with pytest.raises(RuntimeError, match=r"cut\.safetensors.*truncated"):
        cr.load_safetensors(tmp_path / "cut.safetensors")
    # bfloat16 (common in PyTorch checkpoints) has no NumPy dtype: say which tensor and what to do
    header = json.dumps({"emb": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "bf16.safetensors").write_bytes(struct.pack("<Q", len(header)) + header +
                                                bytes(4))
    with pytest.raises(TypeError, match=r"'emb' \(BF16\).*\.float\(\)"):
        cr.load_safetensors(tmp_path / "bf16.safetensors")


def test_load_state_dict_from_safetensors_names_mismatches(tmp_path):
    pytest.importorskip("safetensors")
    model = MLP()
    sd = model.state_dict()
    sd["fc2.weight"] = cr.zeros(2, 8)
    del sd["fc1.bias"]
    path = tmp_path / "w.safetensors"
    cr.save_safetensors(sd, path)
    with pytest.raises(RuntimeError, match=r"fc1\.bias[\s\S]*size mismatch for fc2\.weight|"
                                           r"size mismatch for fc2\.weight[\s\S]*fc1\.bias"):
        MLP().load_state_dict(cr.load_safetensors(path))


# --- PyTorch interop --------------------------------------------------------------------------

def _torch_mlp():
    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.fc2 = torch.nn.Linear(8, 3)
            self.register_buffer("scale", torch.tensor([1.5, 0.5, 2.0]))

        def forward(self, x):
            return self.fc2(torch.tanh(self.fc1(x))) * self.scale

    return TorchMLP()


@needs_torch
def test_chainrule_to_torch_through_safetensors(tmp_path):
    from safetensors.torch import load_file
    cr.manual_seed(0)
    model = MLP()
    with cr.no_grad():
        model.scale.copy_(cr.tensor([0.5, 3.0, -1.0]))
    path = tmp_path / "cr.safetensors"
    cr.save_safetensors(model.state_dict(), path)
    sd = load_file(str(path))
    assert {k: tuple(v.shape) for k, v in sd.items()} == \
        {k: tuple(v.shape) for k, v in model.state_dict().items()}
    tmodel = _torch_mlp()
    tmodel.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    ours = model(cr.from_numpy(x)).detach().numpy()
    theirs = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@needs_torch
def test_torch_to_chainrule_through_safetensors(tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(0)
    tmodel = _torch_mlp()
    path = tmp_path / "torch.safetensors"
    save_file(tmodel.state_dict(), str(path))
    model = MLP()
    model.load_state_dict(cr.load_safetensors(path))
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    ours = model(cr.from_numpy(x)).detach().numpy()
    theirs = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    for k, v in tmodel.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[k].numpy(), v.numpy())


def test_pathlib_and_file_objects(tmp_path):
    path = pathlib.Path(tmp_path) / "a.pt"
    with open(path, "wb") as fh:
        cr.save([1, cr.ones(2)], fh)
    with open(path, "rb") as fh:
        back = cr.load(fh)
    assert back[0] == 1 and back[1].tolist() == [1.0, 1.0]


def test_docstring_examples():
    import doctest
    pytest.importorskip("safetensors")
    import chainrule.serialization as S
    result = doctest.testmod(S, extraglobs={"chainrule": cr},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
