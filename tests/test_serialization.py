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
import os
import pathlib
import pickle
import struct
import zipfile
import zlib

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
    # whole modules, sets and tensor keys are saved since issue #13 (tests in
    # test_serialization_objects.py); lambdas, local functions and self-containing lists are not
    with pytest.raises(TypeError, match=r"can't save <function.*lambda.*at obj\[0\]"):
        cr.save([lambda: 0], io.BytesIO())
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        cr.save(loop, io.BytesIO())
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
    with pytest.raises(RuntimeError, match=r"'emb' \(BF16\).*\.float\(\)"):
        cr.load_safetensors(tmp_path / "bf16.safetensors")


def test_load_state_dict_from_safetensors_names_mismatches(tmp_path):
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
    import chainrule.serialization as S
    result = doctest.testmod(S, extraglobs={"chainrule": cr},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# --- atomic saves -------------------------------------------------------------------------------

def _old_checkpoint(path):
    cr.save({"w": cr.arange(1000.0), "step": 1}, path)
    return path.read_bytes()


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_save_interrupted_mid_write_keeps_the_old_file(tmp_path, monkeypatch, error):
    path = tmp_path / "ckpt.pt"
    old = _old_checkpoint(path)
    real, calls = np.lib.format.write_array, []

    def fail_on_the_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_the_second_array)
    with pytest.raises(type(error)):
        cr.save({"a": cr.ones(10), "b": cr.ones(10), "c": cr.ones(5)}, path)
    assert path.read_bytes() == old                           # byte-identical
    assert os.listdir(tmp_path) == ["ckpt.pt"]                # no temporary left behind


_CHILD = """
import os, signal, sys, resource, time
import numpy as np
import chainrule as cr
how, kind, path = sys.argv[1:4]
big = {f"w{i}": cr.ones(64, 1024) for i in range(4)}          # 1 MiB
save = cr.save if kind == "save" else cr.save_safetensors
if how == "disk-full":                  # writes past 64 KiB fail with EFBIG, as on a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
    try:
        save(big, path)
    except Exception as e:
        print("failed:", getattr(e, "errno", type(e).__name__), flush=True)
    sys.exit(0)

def pause(*args, **kwargs):             # tell the parent we are mid-save, then wait to be killed
    print("mid-save", flush=True)
    time.sleep(60)

if how == "kill-mid-write":             # after the first array of a chainrule.save
    real = np.lib.format.write_array
    def write_array(*args, **kwargs):
        real(*args, **kwargs)
        pause()
    np.lib.format.write_array = write_array
else:                                   # kill-before-rename: every byte written, not yet renamed
    os.fsync = pause
save(big, path)
print("finished", flush=True)
"""


def _run_child(how, kind, path):
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, how, kind, str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if line == "mid-save":
            proc.kill()                                       # SIGKILL: no cleanup can run
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()
    return line


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE and SIGKILL are POSIX")
@pytest.mark.parametrize("kind", ["save", "save_safetensors"])
@pytest.mark.parametrize("how", ["disk-full", "kill-mid-write", "kill-before-rename"])
def test_save_killed_or_out_of_space_keeps_the_old_file(tmp_path, kind, how):
    if how == "kill-mid-write" and kind == "save_safetensors":
        pytest.skip("save_safetensors writes its arrays without np.lib.format: no pause point")
    path = tmp_path / ("ckpt.pt" if kind == "save" else "ckpt.safetensors")
    if kind == "save":
        old = _old_checkpoint(path)
    else:
        cr.save_safetensors({"w": cr.arange(1000.0)}, path)
        old = path.read_bytes()
    line = _run_child(how, kind, path)
    assert path.read_bytes() == old
    assert line == ("failed: 27" if how == "disk-full" else "mid-save")   # EFBIG
    back = cr.load(path) if kind == "save" else cr.load_safetensors(path)
    assert back["w"].tolist() == list(range(1000))
    leftovers = sorted(set(os.listdir(tmp_path)) - {path.name})
    if how == "disk-full":
        assert leftovers == []
    else:                               # SIGKILL: no cleanup can run; the temporary is hidden
        assert all(n.startswith(f".{path.name}.") and n.endswith(".tmp") for n in leftovers)


def test_saved_files_get_the_permissions_open_would_give(tmp_path):
    old_umask = os.umask(0o027)
    try:
        for save, name in [(cr.save, "a.pt"), (cr.save_safetensors, "a.safetensors")]:
            path = tmp_path / name
            save({"w": cr.ones(2)}, path)
            assert os.stat(path).st_mode & 0o777 == 0o640     # 0o666 less the umask
            os.chmod(path, 0o604)
            save({"w": cr.zeros(2)}, path)
            assert os.stat(path).st_mode & 0o777 == 0o604     # a replaced file keeps its mode
    finally:
        os.umask(old_umask)


def test_save_to_an_open_file_object_writes_into_it(tmp_path):
    buf = io.BytesIO(b"prefix")
    buf.seek(0, io.SEEK_END)
    cr.save({"w": cr.ones(2)}, buf)
    assert buf.getvalue().startswith(b"prefix")
    buf.seek(6)
    assert cr.load(buf)["w"].tolist() == [1.0, 1.0]


# --- hostile files: chainrule.load ------------------------------------------------------------

def _npy(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a))
    return buf.getvalue()


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _archive(root, members, compression=zipfile.ZIP_STORED):
    """A chainrule archive made by hand: the structure ``root`` and the bytes of each .npy."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("chainrule/structure.json", json.dumps(
            {"format": "chainrule.save", "version": 1, "root": root}))
        for k, data in enumerate(members):
            zf.writestr(f"chainrule/data/{k}.npy", data)
    return buf.getvalue()


class _PeakMemory:
    """The peak of traced allocations (NumPy's arrays included) inside the ``with`` block."""

    def __enter__(self):
        import tracemalloc
        self.tracemalloc = tracemalloc
        self.was_tracing = tracemalloc.is_tracing()
        if not self.was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self.base = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        self.peak = self.tracemalloc.get_traced_memory()[1] - self.base
        if not self.was_tracing:
            self.tracemalloc.stop()


_MiB = 1 << 20


def test_load_refuses_compressed_members_before_decompressing(tmp_path):
    zeros = _npy(np.zeros(_MiB))                              # 8 MiB that deflate to ~8 KiB
    bomb = _archive({"$": "ndarray", "data": 0}, [zeros], zipfile.ZIP_DEFLATED)
    assert len(bomb) < 64 * 1024
    with _PeakMemory() as mem, pytest.raises(RuntimeError, match=r"bomb\.pt.*compressed.*never "
                                                                  r"compresses"):
        (tmp_path / "bomb.pt").write_bytes(bomb)
        cr.load(tmp_path / "bomb.pt")
    assert mem.peak < _MiB


def test_load_reads_an_array_referred_to_many_times_once():
    a = np.arange(_MiB // 8, dtype=np.float64)                # 1 MiB
    root = [{"$": "ndarray", "data": 0}] * 50 + \
        [{"$": "tensor", "data": 0, "dtype": "float64", "shape": [_MiB // 8]}] * 50
    data = _archive(root, [_npy(a)])
    with _PeakMemory() as mem:
        back = cr.load(io.BytesIO(data))
    assert mem.peak < 4 * _MiB                                # not 100 MiB
    assert all(x is back[0] for x in back[:50]) and all(t is back[50] for t in back[50:])
    assert np.shares_memory(back[0], back[50].numpy())        # like torch's shared storages
    np.testing.assert_array_equal(back[0], a)


@pytest.mark.parametrize("shape, data, pattern", [
    ((10 ** 12,), bytes(80), r"declares float64 of shape \(1000000000000,\) \(8000000000000 "
                             r"bytes\) but holds 80"),
    ((2 ** 40, 2 ** 40), bytes(80), r"declares float64 of shape"),
    ((10,), bytes(800), r"declares float64 of shape \(10,\) \(80 bytes\) but holds 800"),
    ((100,), bytes(80), r"declares float64 of shape \(100,\) \(800 bytes\) but holds 80"),
    ((-1,), bytes(8), r"negative shape"),
], ids=["10^12 elements", "2^80 elements", "trailing data", "short data", "negative"])
def test_load_checks_declared_sizes_before_allocating(shape, data, pattern):
    crafted = _archive({"$": "ndarray", "data": 0}, [_npy_header(shape) + data])
    with _PeakMemory() as mem, pytest.raises(RuntimeError, match=r"not a valid chainrule save: "
                                                                  r".*" + pattern):
        cr.load(io.BytesIO(crafted))
    assert mem.peak < _MiB


def test_load_refuses_a_member_larger_than_the_file():
    data = bytearray(_archive({"$": "ndarray", "data": 0}, [_npy(np.zeros(10))]))
    cd = data.rindex(b"PK\x01\x02")                           # the array's central entry
    data[cd + 20:cd + 28] = struct.pack("<II", 0xFFFFFFF0, 0xFFFFFFF0)   # sizes: ~4 GiB
    with _PeakMemory() as mem, pytest.raises(RuntimeError, match=r"declares 4294967280 bytes"):
        cr.load(io.BytesIO(bytes(data)))
    assert mem.peak < _MiB


def _local_entry(name, data):
    return struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, zlib.crc32(data),
                       len(data), len(data), len(name), 0) + name.encode()


def _zip_by_hand(blob, entries):
    """``blob`` (the members' local entries, laid out by the caller) with a central directory
    listing ``entries``, ``(name, data)`` pairs whose local entries lie somewhere in ``blob``."""
    central = b""
    for name, data in entries:
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0,
                               zlib.crc32(data), len(data), len(data), len(name), 0, 0, 0, 0,
                               0, blob.index(_local_entry(name, data))) + name.encode()
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(blob), 0)
    return blob + central + end


def test_load_refuses_overlapping_members():
    depth, payload = 8, 256 * 1024
    names = [f"chainrule/data/{k}.npy" for k in range(depth)]
    structure = json.dumps({"format": "chainrule.save", "version": 1, "root": [
        {"$": "ndarray", "data": k} for k in range(depth)]}).encode()
    entries, inner = [], b""            # each member's data holds the next member's entry whole
    for name in reversed(names):
        raw = inner or bytes(payload)
        data = _npy_header((len(raw),), "|u1") + raw
        inner = _local_entry(name, data) + data
        entries.insert(0, (name, data))
    entries.insert(0, ("chainrule/structure.json", structure))
    crafted = _zip_by_hand(_local_entry(*entries[0]) + structure + inner, entries)
    assert len(crafted) < 2 * payload
    with zipfile.ZipFile(io.BytesIO(crafted)) as zf:          # a zip reader does take it
        assert sum(i.file_size for i in zf.infolist()) > depth * payload
    with _PeakMemory() as mem, pytest.raises(RuntimeError, match=r"overlap"):
        cr.load(io.BytesIO(crafted))
    assert mem.peak < _MiB


# --- fuzzing: every damaged file loads or raises RuntimeError, and never allocates much ----------

def _fuzz_object():
    w = cr.arange(12.0).reshape(3, 4).t()                     # saved in Fortran order
    return {"w": w, "again": w, "b": cr.tensor([True, False, True]),
            "i": cr.arange(5, dtype=cr.int16), "s": cr.tensor(2.5, dtype=cr.float64),
            "p": Parameter(cr.ones(2)), "empty": cr.zeros(0, 3),
            "opt": {"state": {0: {"step": 3, "buf": None}}, "lr": 0.1, "betas": (0.9, 0.99)},
            "np": np.arange(3, dtype=np.uint16), "scalar": np.float32(1.5),
            "size": cr.Size([2, 3]), "dtype": cr.float16, "device": cr.device("cpu"),
            "inf": math.inf, "big": 2 ** 70, "text": "ünïcode"}


def _cuts_and_flips(data, rng, n_cuts, n_flips):
    for at in sorted(set(rng.integers(0, len(data), n_cuts).tolist())):
        yield f"cut at {at}", data[:at]
    for _ in range(n_flips):
        at, bits = int(rng.integers(len(data))), int(rng.integers(1, 256))
        flipped = bytearray(data)
        flipped[at] ^= bits
        yield f"byte {at} ^= {bits:#x}", bytes(flipped)


_WORDS = [b"tensor", b"ndarray", b"numpy_scalar", b"dict", b"OrderedDict", b"tuple", b"Size",
          b"float", b"dtype", b"device", b"items", b"data", b"shape", b"value", b"name", b"type",
          b"cuda", b"float64", b"bool", b"BOOL", b"F32", b"BF16", b"U16", b"I64", b"__metadata__",
          b"dtype", b"data_offsets", b"x"]
_VALUES = [b"0", b"1", b"-1", b"7", b"99999999999", b"1099511627776", b"1e308", b"true", b"null",
           b"[]", b"{}", b'"s"', b"[1,2]", b"[0, 99999999999]", b"[99999999999]", b"-0.5"]


def _mutate_json(text, rng):
    """A JSON text changed where a parser won't notice: one word or one number replaced."""
    import re
    spots = [(m.start(1), m.end(1), _WORDS) for m in re.finditer(rb'"([A-Za-z_0-9]+)"', text)]
    spots += [(m.start(), m.end(), _VALUES) for m in re.finditer(rb"-?\d+(\.\d+)?", text)]
    start, end, choices = spots[int(rng.integers(len(spots)))]
    return text[:start] + choices[int(rng.integers(len(choices)))] + text[end:]


def _check_fuzz(load, variants, max_peak=8 * _MiB):
    escaped, outcomes = [], collections.Counter()
    with _PeakMemory() as mem:
        for what, data in variants:
            try:
                load(data)
                outcomes["loaded"] += 1
            except RuntimeError:
                outcomes["refused"] += 1
            except Exception as e:              # noqa: BLE001 -- exactly what must not happen
                escaped.append(f"{what}: {type(e).__name__}: {e}"[:300])
    assert escaped == [], f"{len(escaped)} variants escaped RuntimeError:\n" + "\n".join(escaped)
    assert mem.peak < max_peak
    assert outcomes["refused"] > 0
    return outcomes


def _load_bytes(data):
    return cr.load(io.BytesIO(data))


def test_fuzz_load_truncated_and_flipped_archives(tmp_path):
    buf = io.BytesIO()
    cr.save(_fuzz_object(), buf)
    data = buf.getvalue()
    _check_fuzz(_load_bytes, _cuts_and_flips(data, np.random.default_rng(0), 150, 250))
    path = tmp_path / "fuzz.pt"                               # through a path, too

    def load_path(content):
        path.write_bytes(content)
        return cr.load(path)

    _check_fuzz(load_path, _cuts_and_flips(data, np.random.default_rng(1), 20, 30))


def test_fuzz_load_damaged_members_in_a_sound_zip():
    # The CRC catches a flipped byte in a member; rebuilt archives (right CRCs) with a damaged
    # structure or .npy header reach the parsers themselves.
    buf = io.BytesIO()
    cr.save(_fuzz_object(), buf)
    with zipfile.ZipFile(buf) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    names = sorted(members)
    rng = np.random.default_rng(2)

    def variants():
        for i in range(400):
            name = names[int(rng.integers(len(names)))] if i % 2 else "chainrule/structure.json"
            body = members[name]
            how = int(rng.integers(3))
            if how == 0 and name.endswith(".json"):
                body = _mutate_json(body, rng)
            elif how == 0:                                    # the .npy header's text
                end = body.index(b"\n") + 1
                body = _mutate_json(body[:end], rng) + body[end:]
            elif how == 1:
                at = int(rng.integers(min(len(body), 160)))
                body = body[:at] + bytes([body[at] ^ int(rng.integers(1, 256))]) + body[at + 1:]
            else:
                body = body[:int(rng.integers(len(body) + 1))]
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as zf:
                for n in names:
                    zf.writestr(n, body if n == name else members[n])
            yield f"variant {i}: {name}", out.getvalue()

    outcomes = _check_fuzz(_load_bytes, variants())
    assert outcomes["loaded"] > 0


# --- hostile files: load_safetensors ----------------------------------------------------------

def _safetensors_file(header, data=b""):
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize("header, data, pattern", [
    ([1, 2], b"", r"header is a JSON list, not an object"),
    ("weights", b"", r"header is a JSON str"),
    (None, b"", r"header is a JSON NoneType"),
    (3.5, b"", r"header is a JSON float"),
    ({"w": [1, 2]}, b"", r"entry for 'w' is not"),
    ({"w": {"dtype": "F32", "shape": [2]}}, bytes(8), r"entry for 'w' is not"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]}}, bytes(8), "not"),
    ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8), "not"),
    ({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, bytes(4), "not"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, bytes(8), "not"),
    ({"w": {"dtype": 5, "shape": [2], "data_offsets": [0, 8]}}, bytes(8), "not"),
    ({"w": {"dtype": "F32", "shape": [10 ** 12], "data_offsets": [0, 4 * 10 ** 12]}}, bytes(8),
     r"'w' lies at bytes 0\.\.4000000000000 of the data, past its end \(8 bytes\)"),
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8), r"past its end"),
    ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8),
     r"'w' is F32 of shape \[3\] \(12 bytes\) but its offsets hold 8"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12), r"overlaps"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8), r"overlaps"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8), r"leaves a gap"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8),
     r"4 bytes at the end of the data belong to no tensor"),
    ({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}, bytes(4), r"unknown dtype"),
    ({"__metadata__": [1]}, b"", r"__metadata__ is not an object of strings"),
    ({"__metadata__": {"epoch": 3}}, b"", r"__metadata__ is not an object of strings"),
    (b"\xff\xfe{}      ", b"", r"damaged header"),
    (b"[" * 100_000, b"", r"damaged header"),
], ids=["list", "str", "null", "number", "entry-list", "no-offsets", "three-offsets",
        "negative-shape", "bool-shape", "reversed-offsets", "dtype-number", "10^12-past-end",
        "past-end", "size-mismatch", "overlap", "same-range", "gap", "trailing-bytes",
        "unknown-dtype", "metadata-list", "metadata-int", "not-utf8", "deep-nesting"])
def test_load_safetensors_refuses_malformed_headers(tmp_path, header, data, pattern):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_safetensors_file(header, data))
    with _PeakMemory() as mem, pytest.raises(RuntimeError, match=r"bad\.safetensors.*" + pattern):
        cr.load_safetensors(path)
    assert mem.peak < _MiB


def test_load_safetensors_reads_a_valid_crafted_file(tmp_path):
    # the checks above refuse only what is wrong: bool bytes other than 0/1 are True, as in torch
    header = {"__metadata__": {"k": "v"},
              "b": {"dtype": "BOOL", "shape": [3], "data_offsets": [8, 11]},
              "e": {"dtype": "I64", "shape": [0, 4], "data_offsets": [8, 8]},
              "d": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]}}
    path = tmp_path / "ok.safetensors"
    path.write_bytes(_safetensors_file(header, struct.pack("<d", 2.5) + bytes([0, 1, 7])))
    back = cr.load_safetensors(path)
    assert list(back) == ["b", "e", "d"]
    assert back["b"].tolist() == [False, True, True] and back["b"].dtype == cr.bool
    assert back["e"].shape == (0, 4) and back["e"].dtype == cr.int64
    assert back["d"].item() == 2.5 and back["d"].shape == () and back["d"].dtype == cr.float64


def test_fuzz_load_safetensors(tmp_path):
    tensors = {f"t_{d.name}": _sample(d, (2, 3), seed=i) for i, d in enumerate(DTYPES)}
    tensors["scalar"] = cr.tensor(2.5)
    tensors["empty"] = cr.zeros(0, 2)
    path = tmp_path / "w.safetensors"
    cr.save_safetensors(tensors, path, metadata={"epoch": "3"})
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header, body = data[8:8 + n], data[8 + n:]
    rng = np.random.default_rng(3)

    def variants():
        yield from _cuts_and_flips(data, rng, 150, 250)
        for i in range(300):                                  # a valid JSON header, altered
            raw = _mutate_json(header, rng)
            yield f"header variant {i}: {raw[:200]!r}", _safetensors_file(raw, body)

    fuzzed = tmp_path / "fuzzed.safetensors"

    def load(content):
        fuzzed.write_bytes(content)
        return cr.load_safetensors(fuzzed)

    outcomes = _check_fuzz(load, variants())
    assert outcomes["loaded"] > 0


# --- safetensors files read and written by the safetensors package and by torch ------------------

def _every_kind_of_tensor():
    tensors = {f"t_{d.name}": _sample(d, (2, 3), seed=i) for i, d in enumerate(DTYPES)}
    tensors.update({"scalar": cr.tensor(2.5), "empty": cr.zeros(0, 3, dtype=cr.int32),
                    "view": cr.arange(12.0).reshape(3, 4).t(), "ünï": cr.ones(1)})
    return tensors


def test_safetensors_package_reads_ours_and_we_read_its(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    import safetensors
    tensors = _every_kind_of_tensor()
    ours = tmp_path / "ours.safetensors"
    cr.save_safetensors(tensors, ours, metadata={"epoch": "3", "note": "ü"})
    theirs = stn.load_file(str(ours))
    assert set(theirs) == set(tensors)
    for k, v in tensors.items():
        assert theirs[k].dtype == v.numpy().dtype and theirs[k].shape == tuple(v.shape)
        np.testing.assert_array_equal(theirs[k], v.numpy())
    with safetensors.safe_open(str(ours), "np") as f:
        assert f.metadata() == {"epoch": "3", "note": "ü"}
    other = tmp_path / "theirs.safetensors"
    stn.save_file({k: np.array(v.numpy(), order="C") for k, v in tensors.items()}, str(other),
                  metadata={"a": "b"})
    back = cr.load_safetensors(other)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        _same_tensor(v, back[k])


@needs_torch
def test_torch_safetensors_loader_reads_every_dtype_we_write(tmp_path):
    from safetensors.torch import load_file, save_file
    tensors = _every_kind_of_tensor()
    path = tmp_path / "ours.safetensors"
    cr.save_safetensors(tensors, path)
    theirs = load_file(str(path))
    for k, v in tensors.items():
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
        assert str(theirs[k].dtype) == f"torch.{v.dtype.name}"
    save_file({k: t.contiguous() for k, t in theirs.items()}, str(tmp_path / "t.safetensors"))
    back = cr.load_safetensors(tmp_path / "t.safetensors")
    for k, v in tensors.items():
        _same_tensor(v, back[k])
