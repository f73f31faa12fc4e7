"""Saving and loading: ``save``/``load`` (state dicts, no pickles) and safetensors files.

``chainrule.save(obj, f)`` writes a zip archive (uncompressed) holding

- ``chainrule/structure.json``: the object's structure (dicts, lists, tuples, numbers, strings,
  None), where each tensor is a reference to an array file, with its dtype and shape;
- ``chainrule/data/<k>.npy``: one NumPy ``.npy`` file per tensor.

``chainrule.load`` reads the JSON and each array with ``np.load(allow_pickle=False)``: nothing is
ever unpickled, so loading a file from a stranger can't run code (PyTorch's ``torch.load`` needs
``weights_only=True`` for that guarantee; here it always holds).  The archive opens with any zip
tool, and its JSON reads as text.

``save_safetensors``/``load_safetensors`` read and write the safetensors format through the
safetensors package's NumPy API, so weights move between chainrule and PyTorch (or JAX, ...).
"""
import collections
import json
import math
import os
import struct
import zipfile
import zlib

import numpy as np

from . import dtypes as D
from .tensor import Size, Tensor, _new, device

_FORMAT = "chainrule.save"
_VERSION = 1
_STRUCTURE = "chainrule/structure.json"
_DATA = "chainrule/data/{}.npy"


# --- save -------------------------------------------------------------------------------------

class _Writer:
    """Turns an object into JSON-able nodes, collecting the arrays it holds."""

    def __init__(self):
        self.arrays = []
        self.tensor_ids = {}      # id(tensor) -> array index: one tensor saved twice loads as one
        self.keep = []            # keeps those tensors alive, so ids stay unique while saving
        self.open = set()         # ids of the containers being encoded (to refuse cycles)

    def array(self, a):
        self.arrays.append(a)
        return len(self.arrays) - 1

    def encode(self, obj, where):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$": "float", "value": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return {"$": "ndarray", "data": self.array(self.checked(obj, where))}
        if isinstance(obj, (np.bool_, np.number)):
            return {"$": "numpy_scalar", "data": self.array(self.checked(np.asarray(obj), where))}
        if isinstance(obj, D.dtype):
            return {"$": "dtype", "name": obj.name}
        if isinstance(obj, device):
            return {"$": "device", "type": obj.type}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.open:
                raise ValueError(f"chainrule.save: {where} contains itself; a saved object "
                                 "must be a tree")
            self.open.add(id(obj))
            try:
                return self.container(obj, where)
            finally:
                self.open.discard(id(obj))
        raise TypeError(_unsupported(obj, where))

    def container(self, obj, where):
        if isinstance(obj, dict):
            kind = "OrderedDict" if isinstance(obj, collections.OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if isinstance(k, (dict, list, Tensor, np.ndarray)):
                    raise TypeError(f"chainrule.save: the key {k!r} in {where} is a "
                                    f"{type(k).__name__}; keys must be strings, numbers, None "
                                    "or tuples of them")
                items.append([self.encode(k, f"a key of {where}"),
                              self.encode(v, f"{where}[{k!r}]")])
            return {"$": kind, "items": items}
        items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, list):
            return items
        return {"$": "Size" if isinstance(obj, Size) else "tuple", "items": items}

    def tensor(self, t):
        if id(t) not in self.tensor_ids:
            self.tensor_ids[id(t)] = self.array(t._data)
            self.keep.append(t)
        k = self.tensor_ids[id(t)]
        node = {"$": "tensor", "data": k, "dtype": D.of(t._data).name,
                "shape": list(t._data.shape)}
        if t._requires_grad:
            node["requires_grad"] = True
        from .nn.parameter import Parameter          # nn sits above this module's imports
        if isinstance(t, Parameter):
            node["parameter"] = True
        return node

    @staticmethod
    def checked(a, where):
        if a.dtype.hasobject or a.dtype.kind not in "biufc":
            raise TypeError(f"chainrule.save: the NumPy array at {where} has dtype {a.dtype}; "
                            "only numeric and bool arrays can be saved without pickling")
        return a


def _unsupported(obj, where):
    kind = type(obj).__name__
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return (f"chainrule.save: can't save the {kind} at {where} itself (that would need "
                f"pickle); save its state instead: chainrule.save(obj.state_dict(), f), then "
                f"rebuild it and call .load_state_dict(chainrule.load(f))")
    return (f"chainrule.save: can't save an object of type {kind} (at {where}); a chainrule "
            "save holds tensors, NumPy arrays, dicts, lists, tuples, numbers, strings, bools and "
            "None (no pickles): convert it to those first")


def save(obj, f, pickle_module=None, pickle_protocol=2):
    """Save ``obj`` (a state dict, or any tree of tensors, containers and plain values) to ``f``.

    ``f`` is a path or a binary file object.  The file is a zip of ``.npy`` arrays plus a JSON
    description of the structure; no pickles (``pickle_module``/``pickle_protocol`` are accepted
    for PyTorch compatibility and ignored).

    >>> chainrule.save({"w": chainrule.ones(2), "step": 3}, "/tmp/ckpt.pt")
    >>> chainrule.load("/tmp/ckpt.pt")
    {'w': tensor([1., 1.]), 'step': 3}
    """
    writer = _Writer()
    root = writer.encode(obj, "obj")
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root},
                        allow_nan=False, separators=(",", ":"))
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(_STRUCTURE, header)
        for k, a in enumerate(writer.arrays):
            with zf.open(_DATA.format(k), "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, a, allow_pickle=False)


# --- load -------------------------------------------------------------------------------------

def _name(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


def _head(f, n=16):
    """The first bytes of ``f`` (a path or a seekable file object), to say what it is."""
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(n)
    try:
        pos = f.tell()
        data = f.read(n)
        f.seek(pos)
        return data
    except (AttributeError, OSError, ValueError):
        return b""


def _what_it_is(head):
    """A guess at what a file that isn't a chainrule save is, from its first bytes."""
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("it is a pickle (pickle.dump, or torch.save from PyTorch before 1.6); chainrule "
                "never unpickles, since a pickle can run any code. Re-save the tensors with "
                "safetensors and use chainrule.load_safetensors")
    if len(head) >= 9 and head[8:9] == b"{":
        return "it looks like a safetensors file: read it with chainrule.load_safetensors(path)"
    if head[:6] == b"\x93NUMPY":
        return "it is a NumPy .npy file: read it with numpy.load(path)"
    if head[:2] == b"PK":
        return "the zip archive is truncated or corrupt"
    return "it is not a zip archive"


class _Reader:
    def __init__(self, zf, name):
        self.zf, self.name = zf, name
        self.tensors = {}

    def fail(self, what):
        return RuntimeError(f"chainrule.load: {self.name} is not a valid chainrule save: {what}")

    def array(self, k):
        member = _DATA.format(k) if isinstance(k, int) and not isinstance(k, bool) else None
        if member is None or member not in self.names:
            raise self.fail(f"the structure refers to array {k!r}, which the archive lacks")
        try:
            with self.zf.open(member) as fh:
                return np.load(fh, allow_pickle=False)
        except ValueError as e:
            if "allow_pickle" in str(e):
                raise self.fail(f"{member} holds pickled objects, which chainrule refuses to "
                                "load") from None
            raise self.fail(f"{member} is damaged ({e})") from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as e:
            raise self.fail(f"{member} is corrupt or truncated ({e})") from None

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or "$" not in node:
            raise self.fail(f"unexpected entry {str(node)[:80]} in the structure")
        kind = node["$"]
        if kind in ("dict", "OrderedDict"):
            out = {} if kind == "dict" else collections.OrderedDict()
            for pair in node["items"]:
                key = self.decode(pair[0])
                out[tuple(key) if isinstance(key, list) else key] = self.decode(pair[1])
            return out
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "Size":
            return Size(self.decode(v) for v in node["items"])
        if kind == "tensor":
            return self.tensor(node)
        if kind == "ndarray":
            return self.array(node["data"])
        if kind == "numpy_scalar":
            return self.array(node["data"])[()]
        if kind == "float":
            return float(node["value"])
        if kind == "dtype":
            return D._from_name(node["name"])
        if kind == "device":
            return device(node["type"])
        raise self.fail(f"unknown entry type {kind!r} (written by a newer chainrule?)")

    def tensor(self, node):
        k = node["data"]
        if k in self.tensors:
            return self.tensors[k]
        a = self.array(k)
        if a.dtype not in D._BY_NP or D._BY_NP[a.dtype].name != node.get("dtype") or \
                list(a.shape) != node.get("shape"):
            raise self.fail(f"array {k} holds {a.dtype} of shape {tuple(a.shape)}, but the "
                            f"structure says {node.get('dtype')} of shape "
                            f"{tuple(node.get('shape') or ())}")
        if node.get("parameter"):
            from .nn.parameter import Parameter
            t = Parameter(_new(a), requires_grad=bool(node.get("requires_grad")))
        else:
            t = _new(a, requires_grad=bool(node.get("requires_grad")))
        self.tensors[k] = t
        return t

    def load(self):
        self.names = set(self.zf.namelist())
        if _STRUCTURE not in self.names:
            if any(n.endswith("data.pkl") for n in self.names):
                raise RuntimeError(
                    f"chainrule.load: {self.name} is a PyTorch checkpoint (torch.save: a zip of "
                    "pickles); chainrule never unpickles. In PyTorch, save the weights with "
                    "safetensors: safetensors.torch.save_file(model.state_dict(), "
                    "'model.safetensors'); then here: "
                    "model.load_state_dict(chainrule.load_safetensors('model.safetensors'))")
            if self.names and all(n.endswith(".npy") for n in self.names):
                raise self.fail("it is a NumPy .npz archive; read it with "
                                "numpy.load(path, allow_pickle=False)")
            raise self.fail(f"the zip archive has no {_STRUCTURE}")
        try:
            header = json.loads(self.zf.read(_STRUCTURE).decode("utf-8"))
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as e:
            raise self.fail(f"{_STRUCTURE} is corrupt or truncated ({e})") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise self.fail(f"{_STRUCTURE} is not valid JSON ({e})") from None
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise self.fail(f"{_STRUCTURE} does not describe a chainrule save")
        if not isinstance(header.get("version"), int) or header["version"] > _VERSION:
            raise self.fail(f"it was written in format version {header.get('version')!r}; this "
                            f"chainrule reads up to version {_VERSION}: upgrade chainrule")
        try:
            return self.decode(header["root"])
        except (KeyError, TypeError, IndexError, ValueError, RecursionError) as e:
            raise self.fail(f"its structure is malformed ({type(e).__name__}: {e})") from None


def _check_map_location(map_location):
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return              # everything lives on the CPU; a remapping has nothing to move
    device(str(map_location).split(":")[0])       # 'cuda' etc. raise: the backend is NumPy


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load what ``chainrule.save`` wrote to ``f`` (a path or a binary file object).

    Nothing is unpickled, whatever ``weights_only`` says.  ``map_location`` may be None, "cpu",
    a dict or a function (all tensors are on the CPU already).  Tensors come back as leaf tensors
    with the dtype, shape and ``requires_grad`` they were saved with (a saved ``Parameter`` comes
    back as a ``Parameter``); tensors that were one object when saved are one object again.
    A file that isn't a chainrule save, or is damaged, raises ``RuntimeError`` saying which.

    >>> chainrule.save([chainrule.zeros(1), (1, "a")], "/tmp/x.pt")
    >>> chainrule.load("/tmp/x.pt", map_location="cpu")
    [tensor([0.]), (1, 'a')]
    """
    _check_map_location(map_location)
    name = _name(f)
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, EOFError, struct.error, ValueError) as e:
        what = _what_it_is(_head(f))
        if what.endswith("zip archive") or what.endswith("corrupt"):
            what = f"{what} ({type(e).__name__}: {e})"
        raise RuntimeError(f"chainrule.load: {name} is not a chainrule save: {what}") from None
    with zf:
        return _Reader(zf, name).load()


# --- safetensors ------------------------------------------------------------------------------

def _safetensors_numpy(fn):
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError(f"chainrule.{fn} needs the safetensors package: "
                          'pip install "chainrule[safetensors]"') from None
    return stn


def save_safetensors(tensors, path, metadata=None):
    """Write a dict ``{name: tensor}`` (e.g. ``model.state_dict()``) as a safetensors file.

    ``metadata`` is an optional dict of strings stored in the header.  PyTorch reads the file
    with ``safetensors.torch.load_file(path)``.

    >>> chainrule.save_safetensors({"w": chainrule.ones(2, 3)}, "/tmp/w.safetensors")
    >>> chainrule.load_safetensors("/tmp/w.safetensors")["w"].shape
    chainrule.Size([2, 3])
    """
    stn = _safetensors_numpy("save_safetensors")
    if not isinstance(tensors, collections.abc.Mapping):
        raise TypeError(f"save_safetensors: expected a dict of name -> tensor (such as "
                        f"model.state_dict()), got {type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"save_safetensors: the key {k!r} is a {type(k).__name__}; "
                            "safetensors names are strings")
        if not isinstance(v, Tensor):
            raise TypeError(f"save_safetensors: {k!r} is a {type(v).__name__}, not a tensor; "
                            "a safetensors file holds only tensors (use chainrule.save for "
                            "optimizer states and other nested values)")
        a = v._data            # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        arrays[k] = a if a.flags.c_contiguous else a.copy(order="C")
    if metadata is not None:
        if not isinstance(metadata, collections.abc.Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_safetensors: metadata must be a dict of str -> str, got "
                            f"{metadata!r}")
        metadata = dict(metadata)
    stn.save_file(arrays, os.fspath(path), metadata=metadata)


# safetensors dtype codes NumPy (and so chainrule) can hold
_ST_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "F32", "F64"}


def _safetensors_header(path, name):
    """The JSON header of a safetensors file, with a clear error when it isn't one."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        size = os.fstat(fh.fileno()).st_size
        if len(raw) < 8:
            raise RuntimeError(f"load_safetensors: {name} is not a safetensors file "
                               f"({'empty' if not raw else 'too short'})")
        (n,) = struct.unpack("<Q", raw)
        if n > size - 8 or n > 100_000_000:
            what = "it is a zip archive (a chainrule.save file? read it with chainrule.load)" \
                if raw[:2] == b"PK" else _what_it_is(raw)
            if what == "it is not a zip archive" or "safetensors" in what:
                what = f"its header claims {n} bytes but the file has {size}: truncated?"
            raise RuntimeError(f"load_safetensors: {name} is not a safetensors file, or it is "
                               f"damaged: {what}")
        try:
            return json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise RuntimeError(f"load_safetensors: {name} has a damaged header ({e})") from None


def load_safetensors(path):
    """The tensors of a safetensors file as a dict ``{name: tensor}``, in the file's order.

    Load them into a model with ``model.load_state_dict(chainrule.load_safetensors(path))``;
    that call names any missing, unexpected or mis-shaped keys.

    >>> chainrule.save_safetensors({"b": chainrule.zeros(3)}, "/tmp/b.safetensors")
    >>> chainrule.load_safetensors("/tmp/b.safetensors")
    {'b': tensor([0., 0., 0.])}
    """
    stn = _safetensors_numpy("load_safetensors")
    name = _name(path)
    header = _safetensors_header(path, name)
    bad = {k: v.get("dtype") for k, v in header.items()
           if k != "__metadata__" and isinstance(v, dict) and v.get("dtype") not in _ST_DTYPES}
    if bad:
        listed = ", ".join(f"{k!r} ({d})" for k, d in list(bad.items())[:5])
        raise TypeError(f"load_safetensors: {name} holds tensors of dtypes NumPy (and so "
                        f"chainrule) can't represent: {listed}. Convert them before saving, "
                        "e.g. in PyTorch: {k: v.float() for k, v in state_dict.items()}")
    try:
        arrays = stn.load_file(os.fspath(path))
    except Exception as e:            # safetensors' own error type is not importable everywhere
        raise RuntimeError(f"load_safetensors: can't read {name}: {e}") from None
    order = [k for k in header if k != "__metadata__"]
    return {k: _new(arrays[k]) for k in order if k in arrays}
