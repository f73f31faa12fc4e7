"""Saving whole objects (issue #13): ``chainrule.save(model)``, and ``chainrule.load`` with
PyTorch 2.6+'s ``weights_only=True`` default, its allowlist (``add_safe_globals``,
``safe_globals``, ``get_safe_globals``, ``clear_safe_globals``) and ``weights_only=False``.

Round trips: dataclasses, frozen and slotted classes, ``__getstate__``/``__setstate__``, named
tuples, enums, nested classes, shared references and cycles, modules and optimizers (training
continues identically after loading).  Hostile files, written by hand: unlisted classes, blocked
modules (``os.system``), module-path tricks, a ``__reduce__`` that calls ``os.system``: each is
refused with PyTorch's ``UnpicklingError`` text before anything is imported or run (no module
enters ``sys.modules`` during the load, no trap fires).  With torch, the refusal messages are
torch's with chainrule's names.
"""
import collections
import copy
import dataclasses
import enum
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import serialization

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@pytest.fixture(autouse=True)
def _clean_allowlist():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def roundtrip(obj, **kw):
    buf = io.BytesIO()
    cr.save(obj, buf)
    buf.seek(0)
    return cr.load(buf, **kw)


# --- classes saved and loaded ---------------------------------------------------------------

@dataclasses.dataclass
class Point:
    x: int
    w: object = None


@dataclasses.dataclass(frozen=True)
class Frozen:
    name: str
    scale: float


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class WithState:
    def __init__(self, n):
        self.n = n
        self.cache = object()            # not picklable state: __getstate__ leaves it out

    def __getstate__(self):
        return {"n": self.n}

    def __setstate__(self, state):
        self.n = state["n"]
        self.cache = "rebuilt"


class Outer:
    class Inner:
        def __init__(self):
            self.v = 3


Pair = collections.namedtuple("Pair", "left right")


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def test_plain_values_load_by_default():
    obj = {"s": {1, 2, (3, 4)}, "f": frozenset({"a"}), "b": b"\x00\xff", "ba": bytearray(b"xy"),
           "c": 1 + 2j, "ci": complex(float("inf"), -0.0), "t": cr.ones(2),
           "od": collections.OrderedDict(a=1), "cnt": collections.Counter("aab")}
    out = roundtrip(obj)                              # weights_only=True: no class needed
    assert out["s"] == {1, 2, (3, 4)} and type(out["f"]) is frozenset
    assert out["b"] == b"\x00\xff" and type(out["ba"]) is bytearray
    assert out["c"] == 1 + 2j and str(out["ci"]) == "(inf-0j)"
    assert out["od"] == collections.OrderedDict(a=1) and type(out["od"]) is collections.OrderedDict
    assert out["cnt"] == collections.Counter("aab") and type(out["cnt"]) is collections.Counter


def test_old_style_files_keep_format_version_1(tmp_path):
    """A save of plain values writes version 1 (older chainrules read it); objects make it 2."""
    def version(obj):
        buf = io.BytesIO()
        cr.save(obj, buf)
        with zipfile.ZipFile(buf) as zf:
            return json.loads(zf.read("chainrule/structure.json"))["version"]
    assert version({"w": cr.ones(2), "n": [1, (2, None)]}) == 1
    assert version(Point(1)) == 2
    # a version-1 file written by hand, as chainrule 1 wrote them, still loads
    path = tmp_path / "v1.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("chainrule/structure.json", json.dumps(
            {"format": "chainrule.save", "version": 1, "root": {"$": "dict", "items": [
                ["w", {"$": "tensor", "data": 0, "dtype": "float32", "shape": [2]}]]}}))
        with zf.open("chainrule/data/0.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([1.0, 2.0], np.float32))
    assert cr.load(path)["w"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("make", [
    lambda: Point(3, cr.arange(3.0)),
    lambda: Frozen("f", 0.5),
    lambda: Slotted(1, [2, 3]),
    lambda: WithState(7),
    lambda: Outer.Inner(),
    lambda: Pair(1, cr.zeros(1)),
    lambda: Color.BLUE,
    lambda: collections.deque([1, 2], maxlen=5),
    lambda: collections.defaultdict(list, a=[1]),
], ids=["dataclass", "frozen", "slots", "getstate", "nested", "namedtuple", "enum", "deque",
        "defaultdict"])
def test_round_trip_of_objects(make):
    obj = make()
    cls = type(obj)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        roundtrip(obj)
    extra = {collections.deque: [], collections.defaultdict: [list], Color: []}[cls] \
        if cls in (collections.deque, collections.defaultdict, Color) else []
    with serialization.safe_globals([cls] + extra):
        out = roundtrip(obj)
    assert type(out) is cls
    assert not serialization.get_safe_globals()       # the block removed what it added
    for got in (out, roundtrip(obj, weights_only=False)):
        if cls is Slotted:
            assert (got.a, got.b) == (1, [2, 3])
        elif cls is WithState:
            assert got.n == 7 and got.cache == "rebuilt"
        elif cls is Outer.Inner:
            assert got.v == 3
        elif cls is Point:
            assert got.x == 3 and got.w.tolist() == [0.0, 1.0, 2.0]
        elif cls is Pair:
            assert got.left == 1 and got.right.tolist() == [0.0]
        elif cls is collections.deque:
            assert list(got) == [1, 2] and got.maxlen == 5
        elif cls is collections.defaultdict:
            assert got["a"] == [1] and got["new"] == []
        else:
            assert got == obj
    if cls is Color:
        assert out is Color.BLUE                       # enum members stay singletons


def test_shared_references_and_cycles():
    t = cr.ones(2)
    a = Point(1)
    b = Point(2, a)
    a.w = b                                            # a cycle through two objects
    out = roundtrip({"a": a, "b": b, "t": [t, t], "same": [a, a]}, weights_only=False)
    assert out["a"].w is out["b"] and out["b"].w is out["a"]
    assert out["t"][0] is out["t"][1] and out["same"][0] is out["same"][1] is out["a"]


def test_save_errors():
    def local():
        return 0
    with pytest.raises(TypeError, match=r"can't save <function .*local.*obj\[0\]"):
        cr.save([local], io.BytesIO())
    with pytest.raises(TypeError, match=r"can't save <function .*<lambda>.*obj.__dict__\['w'\]"):
        cr.save(Point(1, lambda: 0), io.BytesIO())

    class Unreducible:
        def __reduce_ex__(self, protocol):
            raise RuntimeError("no")
    with pytest.raises(TypeError, match=r"can't save the Unreducible at obj\['u'\]: "
                                        r"RuntimeError: no"):
        cr.save({"u": Unreducible()}, io.BytesIO())


def test_a_failed_save_leaves_the_previous_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    cr.save({"v": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        cr.save({"v": 2, "bad": [lambda: 0]}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]


# --- modules and optimizers -----------------------------------------------------------------

def _model_and_opt():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    return model, opt


def _train(model, opt, steps):
    x = cr.tensor(np.linspace(-1, 1, 15).reshape(5, 3).astype(np.float32))
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


MODEL_GLOBALS = [cr.nn.Sequential, cr.nn.Linear, cr.nn.Tanh]
OPT_GLOBALS = [cr.optim.Adam, collections.defaultdict, dict]


def test_whole_model_and_optimizer_continue_training(tmp_path):
    model, opt = _model_and_opt()
    full = _train(*_model_and_opt(), 6)
    _train(model, opt, 3)
    path = tmp_path / "all.pt"
    cr.save({"model": model, "opt": opt, "epoch": 3}, path)
    with pytest.raises(pickle.UnpicklingError, match="chainrule.nn.modules.container.Sequential"):
        cr.load(path)
    with serialization.safe_globals(MODEL_GLOBALS + OPT_GLOBALS):
        ck = cr.load(path)
    model2, opt2 = ck["model"], ck["opt"]
    assert isinstance(model2[0].weight, cr.nn.Parameter)
    assert opt2.param_groups[0]["params"][0] is model2[0].weight    # one object, as saved
    assert set(opt2.state) == set(model2.parameters())
    rest = _train(model2, opt2, 3)
    for a, b in zip(rest, full):
        np.testing.assert_array_equal(a, b)
    # hooks registered after loading work (the loaded optimizer has its hook dicts)
    calls = []
    opt2.register_step_post_hook(lambda *a: calls.append(1))
    _train(model2, opt2, 1)
    assert calls == [1]


def test_whole_model_with_weights_only_false(tmp_path):
    model, _ = _model_and_opt()
    path = tmp_path / "m.pt"
    cr.save(model, path)
    out = cr.load(path, weights_only=False)
    x = cr.ones(2, 3)
    np.testing.assert_array_equal(out(x).detach().numpy(), model(x).detach().numpy())
    assert sorted(serialization.get_unsafe_globals_in_checkpoint(path)) == [
        "chainrule.nn.modules.activation.Tanh", "chainrule.nn.modules.container.Sequential",
        "chainrule.nn.modules.linear.Linear"]
    serialization.add_safe_globals(MODEL_GLOBALS)
    assert serialization.get_unsafe_globals_in_checkpoint(path) == []


def test_allowlist_api():
    serialization.add_safe_globals([Point, (Frozen, "somewhere.Renamed")])
    assert set(serialization.get_safe_globals()) == {Point, (Frozen, "somewhere.Renamed")}
    with serialization.safe_globals([Slotted]):
        assert Slotted in serialization.get_safe_globals()
    assert Slotted not in serialization.get_safe_globals()
    # a pair names the global as the file does
    doc = _object_file({"$": "object", "id": 0,
                        "class": {"module": "somewhere", "qualname": "Renamed"},
                        "args": [], "state": {"$": "dict", "items": [["name", "n"],
                                                                      ["scale", 1.0]]}})
    assert cr.load(doc) == Frozen("n", 1.0)
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    serialization.add_safe_globals([(Point,)])         # the errors surface when loading
    with pytest.raises(ValueError, match="Expected tuple of length 2"):
        cr.load(doc)
    serialization.clear_safe_globals()
    serialization.add_safe_globals([(Point, 3)])
    with pytest.raises(TypeError, match="Expected second item in tuple to be str"):
        cr.load(doc)


# --- hostile files --------------------------------------------------------------------------

_tripped = []


def trap(*args):
    _tripped.append(args)
    return Point(0)


class Trap:
    def __new__(cls, *args):
        _tripped.append(("new", args))
        return super().__new__(cls)

    def __setstate__(self, state):
        _tripped.append(("setstate", state))


class CallsSystem:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _object_file(root, version=2):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("chainrule/structure.json",
                    json.dumps({"format": "chainrule.save", "version": version, "root": root}))
    buf.seek(0)
    return buf


def _call(module, qualname, *args):
    return {"$": "object", "id": 0, "call": {"module": module, "qualname": qualname},
            "args": list(args)}


def _new(module, qualname, state=None):
    node = {"$": "object", "id": 0, "class": {"module": module, "qualname": qualname},
            "args": []}
    if state is not None:
        node["state"] = state
    return node


HOSTILE = [
    ("os.system", _call("os", "system", "touch {marker}"), "os.system whose module os is blocked"),
    ("posix.system", _call("posix", "system", "touch {marker}"),
     "posix.system whose module posix is blocked"),
    ("sys.exit", _call("sys", "exit", 3), "sys.exit whose module sys is blocked"),
    ("eval", _call("builtins", "eval", "__import__('os').system('touch {marker}')"),
     "GLOBAL eval was not an allowed global"),
    ("getattr", _call("builtins", "getattr", 1, "real"), "GLOBAL getattr was not an allowed"),
    ("subprocess", _call("subprocess", "call", ["touch", "{marker}"]),
     "GLOBAL subprocess.call was not an allowed"),
    ("unimported module", _new("never_imported_module_xyz", "Thing"),
     "GLOBAL never_imported_module_xyz.Thing was not an allowed"),
    ("qualname walk", _call("collections", "OrderedDict.__init__.__globals__"),
     "GLOBAL collections.OrderedDict.__init__.__globals__ was not"),
    ("module walk", _call("chainrule.serialization", "importlib.import_module", "os"),
     "GLOBAL chainrule.serialization.importlib.import_module was not"),
    ("dotted module", _call("collections.OrderedDict", "fromkeys", [1]),
     "GLOBAL collections.OrderedDict.fromkeys was not"),
    ("unlisted class with traps", _new(__name__, "Trap", {"$": "dict", "items": [["a", 1]]}),
     f"GLOBAL {__name__}.Trap was not an allowed global"),
    ("unlisted function", _call(__name__, "trap", 1), f"GLOBAL {__name__}.trap was not"),
    ("global as a value", {"$": "global", "module": "builtins", "qualname": "exec"},
     "GLOBAL exec was not an allowed global"),
    ("nested in a tensor dict", {"$": "dict", "items": [["w", _call("os", "system", "x")]]},
     "os.system whose module os is blocked"),
]


@pytest.mark.parametrize("name, root, message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_without_running_or_importing(tmp_path, name, root, message):
    marker = tmp_path / "pwned"
    root = json.loads(json.dumps(root).replace("{marker}", str(marker)))
    _tripped.clear()
    before = set(sys.modules)
    with pytest.raises(pickle.UnpicklingError) as info:
        cr.load(_object_file(root))
    assert message in str(info.value)
    assert str(info.value).startswith("Weights only load failed.")
    assert set(sys.modules) == before                  # nothing was imported
    assert not marker.exists() and _tripped == []      # nothing ran


def test_blocked_modules_stay_blocked_even_if_allowlisted(tmp_path):
    marker = tmp_path / "pwned"
    serialization.add_safe_globals([os.system, (os.system, "os.system")])
    for module in ("os", "posix"):
        with pytest.raises(pickle.UnpicklingError, match=f"whose module {module} is blocked"):
            cr.load(_object_file(_call(module, "system", f"touch {marker}")))
    assert not marker.exists()


def test_a_reduce_to_os_system_is_saved_but_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    cr.save({"x": CallsSystem(marker)}, path)           # saving runs nothing either
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL \w+\.system whose module \w+ is "
                                                     "blocked"):
        cr.load(path)
    assert not marker.exists()
    assert serialization.get_unsafe_globals_in_checkpoint(path) == [f"{os.system.__module__}"
                                                                    ".system"]


def test_allowlisted_function_may_not_build_other_types():
    serialization.add_safe_globals([trap])
    _tripped.clear()
    node = _call(__name__, "trap")
    node["state"] = {"$": "dict", "items": [["x", 1]]}
    with pytest.raises(pickle.UnpicklingError, match="Can only build Tensor, Parameter, "
                                                     "OrderedDict or types allowlisted"):
        cr.load(_object_file(node))
    node = _call(__name__, "trap")
    node["listitems"] = [1]
    with pytest.raises(pickle.UnpicklingError, match="Can only extend lists"):
        cr.load(_object_file(node))
    node = _call(__name__, "trap")
    node["dictitems"] = [[1, 2]]
    with pytest.raises(pickle.UnpicklingError, match="Can only SETITEMS for dict"):
        cr.load(_object_file(node))


@pytest.mark.parametrize("root, message", [
    ({"$": "ref", "id": 0}, "refers to object 0 before defining it"),
    ({"$": "list", "items": []}, "unknown entry type 'list'"),
    ([_new("collections", "OrderedDict"), _new("collections", "OrderedDict")],
     "object id 0 is invalid or defined twice"),
    (_new("collections", "Counter", {"$": "dict", "items": [["a", 1]]}), None),
    ({"$": "object", "id": 0, "class": {"module": 1, "qualname": "x"}, "args": []},
     "a global is named 1.x"),
    ({"$": "object", "id": "0", "class": {"module": "a", "qualname": "b"}}, "object id 0 is"),
    ({"$": "set", "items": [[1, 2]]}, None),
    ({"$": "bytes", "hex": "zz"}, "malformed"),
])
def test_malformed_object_nodes(root, message):
    if message is None:
        cr.load(_object_file(root))                     # loads, harmlessly
        return
    with pytest.raises(RuntimeError, match=message):
        cr.load(_object_file(root))


def test_weights_only_false_runs_code_as_documented():
    """The opt-in does what pickle does: import, construct, call __setstate__ (and so could
    run anything): here a harmless trap records that it ran."""
    _tripped.clear()
    out = cr.load(_object_file(_new(__name__, "Trap", {"$": "dict", "items": [["a", 1]]})),
                  weights_only=False)
    assert isinstance(out, Trap)
    assert _tripped == [("new", ()), ("setstate", {"a": 1})]
    with pytest.raises(RuntimeError, match="never_imported_module_xyz.+can't be found"):
        cr.load(_object_file(_new("never_imported_module_xyz", "Thing")), weights_only=False)


# --- against torch: the refusal text is torch's, with chainrule's names ---------------------

TORCH_UNSAFE = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in "
                "`torch.load` from `False` to `True`. Re-running `torch.load` with "
                "`weights_only` set to `False` will likely succeed, but it can result in "
                "arbitrary code execution. Do it only if you got the file from a trusted "
                "source.")
CR_UNSAFE = ("In chainrule, as in PyTorch 2.6, the default value of the `weights_only` "
             "argument in `chainrule.load` is `True`. Re-running `chainrule.load` with "
             "`weights_only` set to `False` will likely succeed, but it can result in arbitrary "
             "code execution. Do it only if you got the file from a trusted source.")
TORCH_DOCS = ("Check the documentation of torch.load to learn more about types accepted by "
              "default with weights_only https://pytorch.org/docs/stable/generated/"
              "torch.load.html.")
CR_DOCS = ("Check the documentation of chainrule.load to learn more about types accepted by "
           "default with weights_only (docs/reliability.md, 'Saving whole objects').")


def _torch_message(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError) as info:
        torch.load(buf)
    return str(info.value)


@needs_torch
@pytest.mark.parametrize("which", ["dataclass", "module", "os.system"])
def test_messages_are_torchs(which, tmp_path):
    if which == "dataclass":
        t_obj, c_obj = Point(1), Point(1)
    elif which == "module":
        t_obj, c_obj = torch.nn.Linear(2, 1), cr.nn.Linear(2, 1)
    else:
        t_obj, c_obj = CallsSystem(tmp_path / "x"), CallsSystem(tmp_path / "x")
    expected = (_torch_message(t_obj).replace(TORCH_UNSAFE, CR_UNSAFE)
                .replace(TORCH_DOCS, CR_DOCS).replace("torch.serialization", "chainrule."
                                                      "serialization")
                .replace("torch.nn.modules.linear.Linear", "chainrule.nn.modules.linear.Linear"))
    with pytest.raises(pickle.UnpicklingError) as info:
        roundtrip(c_obj)
    assert str(info.value) == expected
    assert not (tmp_path / "x").exists()


@needs_torch
def test_allowlist_api_as_torch():
    for lib in (torch, cr):
        lib.serialization.clear_safe_globals()
        lib.serialization.add_safe_globals([Point])
        with lib.serialization.safe_globals([Frozen]):
            inside = set(lib.serialization.get_safe_globals()) & {Point, Frozen}
        after = set(lib.serialization.get_safe_globals()) & {Point, Frozen}
        assert (inside, after) == ({Point, Frozen}, {Point})
        lib.serialization.clear_safe_globals()
    assert copy.copy(Point(1)) == Point(1)
