"""Saving and loading: ``save``/``load`` (state dicts, no pickles) and safetensors files.

``chainrule.save(obj, f)`` writes a zip archive (uncompressed) holding

- ``chainrule/structure.json``: the object's structure (dicts, lists, tuples, numbers, strings,
  None), where each tensor is a reference to an array file, with its dtype and shape;
- ``chainrule/data/<k>.npy``: one NumPy ``.npy`` file per tensor.

Whole objects (modules, optimizers, dataclasses, instances of plain classes) are saved as PyTorch
pickles them, from ``__reduce_ex__``: an object node names its class (or the function that rebuilds
it) by module and qualified name, and holds its constructor arguments and its state (its
``__dict__``, or what ``__getstate__`` returns) as further JSON nodes.  Sets, frozensets, bytes,
bytearrays and complex numbers have their own nodes; an object met twice is saved once and loads
as one object.

``chainrule.load`` reads the JSON and each array's ``.npy`` header, and never unpickles.  By
default (``weights_only=True``, as PyTorch since 2.6) it builds an object node only when its class
or function is allowlisted -- ``collections.OrderedDict``, ``collections.Counter`` and whatever
``add_safe_globals``/``safe_globals`` added -- looking the name up in that list, so nothing is
imported and no code of the file's choosing runs; anything else raises PyTorch's
``pickle.UnpicklingError``.  ``weights_only=False`` imports the named modules and calls the named
classes and functions: only for files you trust, since it can run any code.  Nor can a small file make it allocate much: it refuses what
``save`` never writes (compressed or encrypted members, members that overlap or reach past the end
of the file), checks every array's declared size against its member's size before allocating it,
and reads each array once however often the structure refers to it.  The archive opens with any
zip tool, and its JSON reads as text.

``save_safetensors``/``load_safetensors`` write and read the safetensors format (an 8-byte header
length, a JSON header, the raw little-endian data) directly with NumPy, validating every offset
before reading, so weights move between chainrule and PyTorch (or JAX, ...).

Saving to a path goes through ``_files.atomic_write``: an interrupted save leaves the previous file
as it was.  Every damaged or foreign file raises ``RuntimeError`` naming the file.
"""
import collections
import contextlib
import copyreg
import importlib
import json
import math
import os
import pickle
import struct
import sys
import tokenize
import types
import zipfile
import zlib

import numpy as np

from . import dtypes as D
from ._files import atomic_write
from .tensor import Size, Tensor, device, wrap

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "add_safe_globals",
           "clear_safe_globals", "get_safe_globals", "safe_globals",
           "get_unsafe_globals_in_checkpoint"]

_FORMAT = "chainrule.save"
_VERSION = 2              # 2 adds object, ref, global, set, bytes and complex nodes
_PLAIN_VERSION = 1        # what a save without them writes, so older chainrules read it
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
        self.objects = {}         # id(object) -> its node's id: an object met twice is saved once
        self.building = set()     # ids of objects whose constructor arguments are being encoded
        self.version = _PLAIN_VERSION

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
        if type(obj) in (dict, list, tuple, collections.OrderedDict, Size):
            if id(obj) in self.open:
                raise ValueError(f"chainrule.save: {where} contains itself; a saved object "
                                 "must be a tree")
            self.open.add(id(obj))
            try:
                return self.container(obj, where)
            finally:
                self.open.discard(id(obj))
        self.version = _VERSION
        if isinstance(obj, complex):
            return {"$": "complex", "real": self.encode(obj.real, where),
                    "imag": self.encode(obj.imag, where)}
        if type(obj) in (set, frozenset):
            return {"$": type(obj).__name__,
                    "items": [self.encode(v, f"an item of {where}") for v in obj]}
        if type(obj) in (bytes, bytearray):
            return {"$": type(obj).__name__, "hex": obj.hex()}
        return self.object(obj, where)

    def object(self, obj, where):
        """An object node, from ``obj.__reduce_ex__(2)`` as pickle would call it: the class
        (``copyreg.__newobj__``) or function that rebuilds it, its arguments, then its state."""
        if id(obj) in self.objects:
            if id(obj) in self.building:
                raise ValueError(f"chainrule.save: {where} is its own constructor argument; it "
                                 "can't be rebuilt")
            return {"$": "ref", "id": self.objects[id(obj)]}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"$": "global", **self.global_name(obj, where)}
        try:
            rv = obj.__reduce_ex__(2)
        except Exception as e:                  # noqa: BLE001 - reported with where it was
            raise TypeError(f"chainrule.save: can't save the {type(obj).__name__} at {where}: "
                            f"{type(e).__name__}: {e}") from None
        if isinstance(rv, str):                 # a module-level singleton, saved by name
            module = getattr(obj, "__module__", None) or type(obj).__module__
            return {"$": "global", **self.global_name(obj, where, module, rv)}
        if not isinstance(rv, tuple) or not 2 <= len(rv) <= 5:
            raise TypeError(f"chainrule.save: the {type(obj).__name__} at {where} has a "
                            f"__reduce_ex__ that returns {type(rv).__name__}; chainrule.save "
                            "takes (callable, args[, state[, listitems[, dictitems]]])")
        func, args, state, listitems, dictitems = rv + (None,) * (5 - len(rv))
        k = len(self.objects)
        self.objects[id(obj)] = k
        self.keep.append(obj)
        node = {"$": "object", "id": k}
        self.building.add(id(obj))
        try:
            if func is copyreg.__newobj__:
                node["class"] = self.global_name(args[0], where)
                node["args"] = [self.encode(a, f"{where}'s argument {i}")
                                for i, a in enumerate(args[1:])]
            elif func is copyreg.__newobj_ex__:
                cls, a, kw = args
                node["class"] = self.global_name(cls, where)
                node["args"] = [self.encode(v, f"{where}'s argument {i}")
                                for i, v in enumerate(a)]
                node["kwargs"] = self.encode(dict(kw), f"{where}'s keyword arguments")
            else:
                node["call"] = self.global_name(func, where)
                node["args"] = [self.encode(a, f"{where}'s argument {i}")
                                for i, a in enumerate(args)]
        finally:
            self.building.discard(id(obj))
        if listitems is not None:
            node["listitems"] = [self.encode(v, f"{where}[{i}]")
                                 for i, v in enumerate(listitems)]
        if dictitems is not None:
            node["dictitems"] = [[self.encode(key, f"a key of {where}"),
                                  self.encode(v, f"{where}[{key!r}]")] for key, v in dictitems]
        if state is not None:
            node["state"] = self.encode(state, f"{where}.__dict__")
        return node

    @staticmethod
    def global_name(obj, where, module=None, qualname=None):
        """``{"module", "qualname"}`` naming a class or function, checked to lead back to it
        (pickle's rule: a lambda or a function defined inside a function can't be saved)."""
        module = module or getattr(obj, "__module__", None)
        qualname = qualname or getattr(obj, "__qualname__", None) or \
            getattr(obj, "__name__", None)
        if not isinstance(module, str) or not isinstance(qualname, str) or \
                "<" in qualname:
            raise TypeError(f"chainrule.save: can't save {obj!r} (at {where}): a lambda, a "
                            "function defined inside another, or an object with no module and "
                            "name can't be found again when loading; define it at the top "
                            "level of a module")
        found = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is not obj:
            raise TypeError(f"chainrule.save: can't save {obj!r} (at {where}): it is not the "
                            f"object named {module}.{qualname}")
        return {"module": module, "qualname": qualname}

    def container(self, obj, where):
        if isinstance(obj, dict):
            kind = "OrderedDict" if isinstance(obj, collections.OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if isinstance(k, (dict, list, np.ndarray)):
                    raise TypeError(f"chainrule.save: the key {k!r} in {where} is a "
                                    f"{type(k).__name__}; keys must be hashable: strings, "
                                    "numbers, None, tensors, tuples of them or objects")
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


def save(obj, f, pickle_module=None, pickle_protocol=2):
    """Save ``obj`` to ``f``: a state dict, any tree of tensors, containers and plain values, or
    a whole object (a module, an optimizer, a dataclass, an instance of a plain class: whatever
    pickle could save through ``__reduce_ex__``).

    ``f`` is a path or a binary file object.  The file is a zip of ``.npy`` arrays plus a JSON
    description of the structure; no pickles (``pickle_module``/``pickle_protocol`` are accepted
    for PyTorch compatibility and ignored).  Loading a whole object back needs its classes
    allowlisted (``chainrule.serialization.add_safe_globals``) or ``weights_only=False``.  Saving to a path is atomic: the archive is written
    to a temporary file beside it and renamed over ``f`` only once complete, so an exception,
    Ctrl-C or a killed process leaves the previous file intact.

    >>> chainrule.save({"w": chainrule.ones(2), "step": 3}, "/tmp/ckpt.pt")
    >>> chainrule.load("/tmp/ckpt.pt")
    {'w': tensor([1., 1.]), 'step': 3}
    """
    writer = _Writer()
    root = writer.encode(obj, "obj")
    header = json.dumps({"format": _FORMAT, "version": writer.version, "root": root},
                        allow_nan=False, separators=(",", ":"))
    if isinstance(f, (str, bytes, os.PathLike)):
        with atomic_write(f, "wb") as fh:
            _write_archive(fh, header, writer.arrays)
    else:                          # an open file object: can't be atomic, write into it
        _write_archive(f, header, writer.arrays)


def _write_archive(fh, header, arrays):
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(_STRUCTURE, header)
        for k, a in enumerate(arrays):
            with zf.open(_DATA.format(k), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


# --- load -------------------------------------------------------------------------------------

def _name(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


def _head(f, start=0, n=16):
    """The first bytes of the open file ``f`` from ``start``, to say what it is."""
    try:
        f.seek(start)
        return f.read(n)
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


_CHUNK = 1 << 20          # arrays are read in pieces of this many bytes, never a copy of the whole


class _Reader:
    def __init__(self, zf, name, size, weights_only=True):
        self.zf, self.name, self.size = zf, name, size
        self.weights_only = weights_only
        self.objects = {}     # object node id -> the object it built
        self.arrays = {}      # k -> array: each member is read once, however often it is referred to
        self.tensors = {}     # k -> tensor: one array referred to twice loads as one tensor

    def fail(self, what):
        return RuntimeError(f"chainrule.load: {self.name} is not a valid chainrule save: {what}")

    def check_members(self):
        """Refuse, before reading any member, what ``save`` never writes: compression,
        encryption, and members that reach past the end of the file or overlap (which would let
        a small file stand for large ones)."""
        total = 0
        for info in self.zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise self.fail(f"the member {info.filename!r} is compressed (zip method "
                                f"{info.compress_type}); chainrule.save never compresses, so "
                                "this file was made or altered by something else")
            if info.flag_bits & 0x1:
                raise self.fail(f"the member {info.filename!r} is encrypted; chainrule.save "
                                "never encrypts")
            if info.file_size != info.compress_size or \
                    info.header_offset + info.compress_size > self.size:
                raise self.fail(f"the member {info.filename!r} declares {info.file_size} bytes "
                                f"but the file has {self.size}: truncated or corrupt")
            total += info.compress_size
        if total > self.size:
            raise self.fail(f"its members declare {total} bytes in all but the file has "
                            f"{self.size}: they overlap")

    def array(self, k):
        if not isinstance(k, int) or isinstance(k, bool) or _DATA.format(k) not in self.names:
            raise self.fail(f"the structure refers to array {k!r}, which the archive lacks")
        if k not in self.arrays:
            member = _DATA.format(k)
            try:
                with self.zf.open(member) as fh:
                    self.arrays[k] = self.read_npy(fh, member, self.zf.getinfo(member).file_size)
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as e:
                raise self.fail(f"{member} is corrupt or truncated ({e})") from None
        return self.arrays[k]

    def read_npy(self, fh, member, size):
        """The array in one ``.npy`` member, its declared size checked against ``size`` (the
        member's) before anything is allocated; unlike ``np.load``, which allocates what the
        header declares first."""
        try:
            version = np.lib.format.read_magic(fh)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f".npy format version {version} (chainrule.save writes 1.0)")
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(fh)
        except (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError,
                OverflowError) as e:
            raise self.fail(f"{member} has a damaged .npy header ({e})") from None
        if dtype.hasobject:
            raise self.fail(f"{member} holds pickled objects, which chainrule refuses to load")
        if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
            raise self.fail(f"{member} holds dtype {dtype}, which chainrule.save never writes")
        if any(n < 0 for n in shape):
            raise self.fail(f"{member} declares the negative shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if fh.tell() + nbytes != size:
            raise self.fail(f"{member} declares {dtype} of shape {shape} ({nbytes} bytes) but "
                            f"holds {size - fh.tell()} bytes of data")
        a = np.empty(math.prod(shape), dtype)
        raw = a.view(np.uint8)
        done = 0
        while done < nbytes:
            n = fh.readinto(raw[done:done + _CHUNK])
            if not n:
                raise self.fail(f"{member} is truncated")
            done += n
        if dtype == np.bool_:          # any byte but 0 is True, as everywhere else
            a = raw != 0
        return a.reshape(shape[::-1]).T if fortran_order else a.reshape(shape)

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
            a = self.array(node["data"])
            if a.shape != ():
                raise self.fail(f"a NumPy scalar's array {node['data']} has shape {a.shape}")
            return a[()]
        if kind == "float":
            return float(node["value"])
        if kind == "dtype":
            return D.BY_NAME[node["name"]]
        if kind == "complex":
            return complex(self.decode(node["real"]), self.decode(node["imag"]))
        if kind in ("set", "frozenset"):
            items = (self.decode(v) for v in node["items"])
            items = [tuple(v) if isinstance(v, list) else v for v in items]
            return set(items) if kind == "set" else frozenset(items)
        if kind in ("bytes", "bytearray"):
            return (bytes if kind == "bytes" else bytearray).fromhex(node["hex"])
        if kind == "global":
            return self.resolve(node)
        if kind == "ref":
            k = node["id"]
            if not isinstance(k, int) or isinstance(k, bool) or k not in self.objects:
                raise self.fail(f"it refers to object {str(k)[:20]} before defining it")
            return self.objects[k]
        if kind == "object":
            return self.object(node)
        if kind == "device":
            if node["type"] != "cpu":
                raise self.fail(f"it holds the device {str(node['type'])[:80]!r}; "
                                "chainrule.save only writes 'cpu'")
            return device("cpu")
        raise self.fail(f"unknown entry type {kind!r} (written by a newer chainrule?)")

    def resolve(self, ref):
        """The class or function a node names.  With ``weights_only`` it is looked up, by name,
        in the allowlist only: nothing is imported.  Otherwise the module is imported."""
        module, qualname = ref["module"], ref["qualname"]
        if not isinstance(module, str) or not isinstance(qualname, str):
            raise self.fail(f"a global is named {str(module)[:40]}.{str(qualname)[:40]}")
        full_path = f"{module}.{qualname}"
        if self.weights_only:
            if module in _BLOCKED_MODULES:
                raise _WeightsOnlyError(f"Trying to load unsupported GLOBAL {full_path} whose "
                                        f"module {module} is blocked.")
            if full_path not in self.allowed:
                raise _WeightsOnlyError(_unsupported_global(full_path))
            return self.allowed[full_path]
        try:
            found = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError, ValueError, TypeError) as e:
            raise self.fail(f"it names {full_path[:200]}, which can't be found "
                            f"({type(e).__name__}: {str(e)[:200]})") from None
        return found

    def object(self, node):
        """Rebuild an object node as pickle does: create it, record it (so that its state may
        refer to it), add its list and dict items, then set its state."""
        k = node["id"]
        if not isinstance(k, int) or isinstance(k, bool) or k in self.objects:
            raise self.fail(f"object id {str(k)[:20]} is invalid or defined twice")
        args = [self.decode(a) for a in node.get("args", [])]
        if "class" in node:
            cls = self.resolve(node["class"])
            kwargs = self.decode(node["kwargs"]) if "kwargs" in node else {}
            if not isinstance(cls, type) or not isinstance(kwargs, dict):
                raise self.fail(f"object {k} names {cls!r}, which is not a class")
            obj = cls.__new__(cls, *args, **kwargs)
        else:
            obj = self.resolve(node["call"])(*args)
        self.objects[k] = obj
        allowed = self.allowed.values()
        if "listitems" in node:
            if self.weights_only and type(obj) is not list and type(obj) not in allowed:
                raise _WeightsOnlyError(f"Can only extend lists, but got {type(obj)}")
            items = [self.decode(v) for v in node["listitems"]]
            if hasattr(obj, "extend"):
                obj.extend(items)
            else:
                for v in items:
                    obj.append(v)
        if "dictitems" in node:
            if self.weights_only and type(obj) not in (dict, collections.OrderedDict,
                                                       collections.Counter) and \
                    type(obj) not in allowed:
                raise _WeightsOnlyError("Can only SETITEMS for dict, collections.OrderedDict, "
                                        f"collections.Counter, but got {type(obj)}")
            for key, v in node["dictitems"]:
                key = self.decode(key)
                obj[tuple(key) if isinstance(key, list) else key] = self.decode(v)
        if "state" in node:
            if self.weights_only and type(obj) not in allowed and \
                    type(obj) is not collections.OrderedDict:
                raise _WeightsOnlyError("Can only build Tensor, Parameter, OrderedDict or types "
                                        f"allowlisted via `add_safe_globals`, but got "
                                        f"{type(obj)}")
            _build(obj, self.decode(node["state"]))
        return obj

    def tensor(self, node):
        k = node["data"]
        a = self.array(k)
        if a.dtype not in D.BY_NP or D.BY_NP[a.dtype].name != node.get("dtype") or \
                list(a.shape) != node.get("shape"):
            raise self.fail(f"array {k} holds {a.dtype} of shape {tuple(a.shape)}, but the "
                            f"structure says {str(node.get('dtype'))[:40]} of shape "
                            f"{str(node.get('shape'))[:80]}")
        if k not in self.tensors:
            if node.get("parameter"):
                from .nn.parameter import Parameter
                t = Parameter(wrap(a), requires_grad=bool(node.get("requires_grad")))
            else:
                t = wrap(a, requires_grad=bool(node.get("requires_grad")))
            self.tensors[k] = t
        return self.tensors[k]

    def header(self):
        """The archive's JSON header, once the archive's members are checked."""
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
        self.check_members()
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
        return header

    def load(self):
        header = self.header()
        # read once, before decoding: a malformed allowlist raises torch's errors as they are
        self.allowed = _allowed_globals() if self.weights_only else {}
        try:
            return self.decode(header["root"])
        except _WeightsOnlyError as e:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        except (KeyError, TypeError, IndexError, ValueError, RecursionError) as e:
            raise self.fail(f"its structure is malformed ({type(e).__name__}: "
                            f"{str(e)[:200]})") from None


# --- weights_only: the allowlist -------------------------------------------------------------

# modules never allowed, even if allowlisted (torch's list)
_BLOCKED_MODULES = ["sys", "os", "posix", "nt"]
# the classes an object node may name by default (chainrule's tensors, sizes, dtypes and
# devices have nodes of their own; sets, bytes and complex numbers too)
_DEFAULT_GLOBALS = {"collections.OrderedDict": collections.OrderedDict,
                    "collections.Counter": collections.Counter}
_marked_safe_globals = set()

_UNSAFE_MESSAGE = (
    "In chainrule, as in PyTorch 2.6, the default value of the `weights_only` argument in "
    "`chainrule.load` is `True`. Re-running `chainrule.load` with `weights_only` set to `False` "
    "will likely succeed, but it can result in arbitrary code execution. Do it only if you got "
    "the file from a trusted source.")
_DOCS_MESSAGE = ("\n\nCheck the documentation of chainrule.load to learn more about types "
                 "accepted by default with weights_only (docs/reliability.md, 'Saving whole "
                 "objects').")


class _WeightsOnlyError(Exception):
    """What the weights-only loader refuses; ``load`` turns it into torch's UnpicklingError."""


def _unsupported_global(full_path):
    if full_path.startswith("builtins."):         # torch names builtins without their module
        full_path = full_path[len("builtins."):]
    return (f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
            f"Please use `chainrule.serialization.add_safe_globals([{full_path}])` or the "
            f"`chainrule.serialization.safe_globals([{full_path}])` context manager to "
            "allowlist this global if you trust this class/function.")


def _weights_only_message(message):
    # torch.serialization.load's _get_wo_message, with chainrule's names
    if "was not an allowed global by default." in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the "
                f"checkpoint\033[0m. \n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load "
                "with `weights_only=True` please check the recommended steps in the following "
                "error message.\n\tWeightsUnpickler error: " + message + _DOCS_MESSAGE)
    text = f"Weights only load failed. {_UNSAFE_MESSAGE}\n"
    if "is blocked" not in message:
        text += ("Please file an issue with the following so that we can make "
                 "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
    return text + "\n\n" + message + _DOCS_MESSAGE


def _user_globals():
    out = {}
    for f in _marked_safe_globals:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full "
                                f"path, but got: {type(f[1])}")
            out[f[1]] = f[0]
        else:
            out[f"{f.__module__}.{f.__qualname__}"] = f
    return out


def _allowed_globals():
    return {**_DEFAULT_GLOBALS, **_user_globals()}


def add_safe_globals(safe_globals):
    """Allow ``chainrule.load`` (with the default ``weights_only=True``) to build objects of
    these classes and call these functions.  Each item is a class or function, or a pair
    ``(obj, "module.qualname")`` naming it as the file does.  Only allowlist what you trust: a
    loaded file may call an allowlisted function with any arguments it holds.

    >>> import collections
    >>> chainrule.serialization.add_safe_globals([collections.deque])
    >>> collections.deque in chainrule.serialization.get_safe_globals()
    True
    >>> chainrule.serialization.clear_safe_globals()
    """
    global _marked_safe_globals
    _marked_safe_globals = _marked_safe_globals.union(set(safe_globals))


def get_safe_globals():
    """The globals ``add_safe_globals`` (or an open ``safe_globals`` block) allowlisted."""
    return list(_marked_safe_globals)


def clear_safe_globals():
    """Forget every global ``add_safe_globals`` allowlisted."""
    global _marked_safe_globals
    _marked_safe_globals = set()


class safe_globals:
    """A ``with`` block during which the given globals are allowlisted for ``chainrule.load``.

    >>> import collections
    >>> with chainrule.serialization.safe_globals([collections.deque]):
    ...     len(chainrule.serialization.get_safe_globals())
    1
    >>> chainrule.serialization.get_safe_globals()
    []
    """

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        global _marked_safe_globals
        _marked_safe_globals = _marked_safe_globals - set(self.safe_globals)


def _build(obj, state):
    """Set a rebuilt object's state, as pickle's BUILD does."""
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        obj.__dict__.update(state)
    if slotstate:
        for k, v in slotstate.items():
            setattr(obj, k, v)


def _globals_in(node, out):
    """Every ``module.qualname`` a structure names (iteratively: a file may nest deeply)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key in ("class", "call"):
                ref = node.get(key)
                if isinstance(ref, dict):
                    out.append(f"{ref.get('module')}.{ref.get('qualname')}")
            if node.get("$") == "global":
                out.append(f"{node.get('module')}.{node.get('qualname')}")
            stack.extend(v for k, v in node.items() if k not in ("class", "call"))
    return out


def get_unsafe_globals_in_checkpoint(f):
    """The ``module.qualname`` of every class or function a ``chainrule.save`` file names that
    is not allowlisted (what ``weights_only=True`` would refuse); reads the structure only.

    >>> import collections
    >>> chainrule.save(collections.deque([1]), "/tmp/d.pt")
    >>> chainrule.serialization.get_unsafe_globals_in_checkpoint("/tmp/d.pt")
    ['collections.deque']
    """
    found = _open_archive(f, lambda reader: _globals_in(reader.header()["root"], []))
    allowed = _allowed_globals()
    return sorted({g for g in found if g not in allowed})


def _check_map_location(map_location):
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return              # everything lives on the CPU; a remapping has nothing to move
    where = device(map_location)
    if where.type != "cpu":
        raise RuntimeError(f"Attempting to deserialize object on a {where.type} device, but "
                           f"chainrule has no '{where.type}' device: its backend is NumPy on the "
                           "CPU; use map_location='cpu'")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load what ``chainrule.save`` wrote to ``f`` (a path or a binary file object).

    Nothing is unpickled.  ``weights_only=True`` (the default, as PyTorch since 2.6; None means
    the same) builds whole objects only of allowlisted classes (``collections.OrderedDict``,
    ``collections.Counter`` and what ``chainrule.serialization.add_safe_globals`` or
    ``safe_globals`` added), looked up by name without importing anything; any other class
    or function raises PyTorch's ``pickle.UnpicklingError``.  ``weights_only=False`` imports
    the modules the file names and calls its classes' constructors and ``__setstate__``: it
    can run arbitrary code, so use it only for files you trust.

    ``map_location`` may be None, "cpu", a dict or a function (all tensors are on the CPU
    already).  Tensors come back as leaf tensors with the dtype, shape and ``requires_grad``
    they were saved with (a saved ``Parameter`` comes back as a ``Parameter``); tensors and
    objects that were one object when saved are one object again.  A file that isn't a
    chainrule save, or is damaged, raises ``RuntimeError`` saying which; a small file can't
    make ``load`` allocate large arrays (every declared size is checked against the file's
    before anything is allocated).

    >>> chainrule.save([chainrule.zeros(1), (1, "a")], "/tmp/x.pt")
    >>> chainrule.load("/tmp/x.pt", map_location="cpu")
    [tensor([0.]), (1, 'a')]
    """
    _check_map_location(map_location)
    weights_only = True if weights_only is None else bool(weights_only)
    return _open_archive(f, lambda reader: reader.load(), weights_only)


def _open_archive(f, use, weights_only=True):
    """``use(reader)`` on the archive at ``f``, its file closed afterwards."""
    name = _name(f)
    with contextlib.ExitStack() as stack:
        if isinstance(f, (str, bytes, os.PathLike)):
            f = stack.enter_context(open(f, "rb"))    # a missing file: FileNotFoundError, as torch
        start = 0
        try:
            start = f.tell()
            size = f.seek(0, os.SEEK_END)
            f.seek(start)
            zf = stack.enter_context(zipfile.ZipFile(f))
        except (zipfile.BadZipFile, EOFError, struct.error, ValueError, OSError) as e:
            what = _what_it_is(_head(f, start))
            if what.endswith("zip archive") or what.endswith("corrupt"):
                what = f"{what} ({type(e).__name__}: {e})"
            raise RuntimeError(f"chainrule.load: {name} is not a chainrule save: {what}") \
                from None
        return use(_Reader(zf, name, size, weights_only))


# --- safetensors ------------------------------------------------------------------------------

# chainrule's dtypes by their safetensors codes
_ST_DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
              "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
              "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_ST_CODES = {dt.newbyteorder("="): code for code, dt in _ST_DTYPES.items()}
# safetensors dtypes with no chainrule equivalent: refused by name, with what to do
_ST_FOREIGN = {"BF16", "U16", "U32", "U64", "C64", "F4", "F6_E2M3", "F6_E3M2", "F8_E4M3",
               "F8_E5M2", "F8_E8M0"}
_ST_MAX_HEADER = 100_000_000            # the safetensors package's own limit


def save_safetensors(tensors, path, metadata=None):
    """Write a dict ``{name: tensor}`` (e.g. ``model.state_dict()``) as a safetensors file.

    ``metadata`` is an optional dict of strings stored in the header.  PyTorch reads the file
    with ``safetensors.torch.load_file(path)``.  The write is atomic: an interrupted save leaves
    the previous file intact.

    >>> chainrule.save_safetensors({"w": chainrule.ones(2, 3)}, "/tmp/w.safetensors")
    >>> chainrule.load_safetensors("/tmp/w.safetensors")["w"].shape
    chainrule.Size([2, 3])
    """
    if not isinstance(tensors, collections.abc.Mapping):
        raise TypeError(f"save_safetensors: expected a dict of name -> tensor (such as "
                        f"model.state_dict()), got {type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"save_safetensors: the key {k!r} is a {type(k).__name__}; "
                            "safetensors names are strings")
        if k == "__metadata__":
            raise ValueError("save_safetensors: '__metadata__' is reserved for the header's "
                             "metadata; rename that tensor")
        if not isinstance(v, Tensor):
            raise TypeError(f"save_safetensors: {k!r} is a {type(v).__name__}, not a tensor; "
                            "a safetensors file holds only tensors (use chainrule.save for "
                            "optimizer states and other nested values)")
        arrays[k] = v._data
    if metadata is not None:
        if not isinstance(metadata, collections.abc.Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_safetensors: metadata must be a dict of str -> str, got "
                            f"{metadata!r}")
    # The data goes widest dtype first (as the safetensors package lays it out), so that every
    # tensor starts at a multiple of its item size; the header keeps the dict's order.
    layout = sorted(arrays, key=lambda k: -arrays[k].dtype.itemsize)
    offsets, end = {}, 0
    for k in layout:
        offsets[k] = [end, end + arrays[k].nbytes]
        end += arrays[k].nbytes
    header = {"__metadata__": dict(metadata)} if metadata else {}
    for k, a in arrays.items():
        header[k] = {"dtype": _ST_CODES[a.dtype], "shape": list(a.shape),
                     "data_offsets": offsets[k]}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)               # the data starts 8-byte aligned
    with atomic_write(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for k in layout:
            a = arrays[k]
            fh.write(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C"))


def _safetensors_header(fh, size, name):
    """The JSON header of an open safetensors file and where its data starts, with a clear
    error when it isn't one."""
    raw = fh.read(8)
    if len(raw) < 8:
        raise RuntimeError(f"load_safetensors: {name} is not a safetensors file "
                           f"({'empty' if not raw else 'too short'})")
    (n,) = struct.unpack("<Q", raw)
    if n > size - 8 or n > _ST_MAX_HEADER:
        what = "it is a zip archive (a chainrule.save file? read it with chainrule.load)" \
            if raw[:2] == b"PK" else _what_it_is(raw)
        if what == "it is not a zip archive" or "safetensors" in what:
            what = f"its header claims {n} bytes but the file has {size}: truncated?"
        raise RuntimeError(f"load_safetensors: {name} is not a safetensors file, or it is "
                           f"damaged: {what}")
    try:
        return json.loads(fh.read(n).decode("utf-8")), 8 + n
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RuntimeError(f"load_safetensors: {name} has a damaged header ({e})") from None


def _safetensors_entries(header, data_size, name):
    """``[(key, dtype, shape, begin, end)]`` in the header's order, once every entry is checked:
    a known dtype, a shape of naturals, offsets that fit the data and match shape × item size,
    and, as the format requires, ranges that tile the data with no overlap and no gap."""
    def bad(what):
        return RuntimeError(f"load_safetensors: {name} is damaged: {what}")

    def naturals(v):
        return isinstance(v, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)

    if not isinstance(header, dict):
        raise bad(f"its header is a JSON {type(header).__name__}, not an object of tensors")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("its __metadata__ is not an object of strings")
    entries, foreign = [], {}
    for key, e in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(e, dict) or not isinstance(e.get("dtype"), str) or \
                not naturals(e.get("shape")) or not naturals(e.get("data_offsets")) or \
                len(e["data_offsets"]) != 2 or e["data_offsets"][0] > e["data_offsets"][1]:
            raise bad(f"the entry for {key!r} is not {{dtype, shape, data_offsets: [begin, "
                      f"end]}}: {str(e)[:120]}")
        code, shape, (begin, end) = e["dtype"], e["shape"], e["data_offsets"]
        if end > data_size:
            raise bad(f"{key!r} lies at bytes {begin}..{end} of the data, past its end "
                      f"({data_size} bytes): truncated?")
        if code in _ST_DTYPES:
            nbytes = math.prod(shape) * _ST_DTYPES[code].itemsize
            if end - begin != nbytes:
                raise bad(f"{key!r} is {code} of shape {shape} ({nbytes} bytes) but its "
                          f"offsets hold {end - begin} bytes")
        elif code in _ST_FOREIGN:
            foreign[key] = code
        else:
            raise bad(f"{key!r} has the unknown dtype {code[:20]!r}")
        entries.append((key, code, tuple(shape), begin, end))
    at = 0
    for begin, end, key in sorted((b, e, k) for k, _, _, b, e in entries):
        if begin != at:
            raise bad(f"{key!r} starts at byte {begin} of the data, where the previous tensor "
                      f"{'overlaps it' if begin < at else 'leaves a gap'} (it ends at {at})")
        at = end
    if at != data_size:
        raise bad(f"{data_size - at} bytes at the end of the data belong to no tensor")
    if foreign:
        listed = ", ".join(f"{k!r} ({d})" for k, d in list(foreign.items())[:5])
        raise RuntimeError(f"load_safetensors: {name} holds tensors of dtypes NumPy (and so "
                           f"chainrule) can't represent: {listed}. Convert them before saving, "
                           "e.g. in PyTorch: {k: v.float() for k, v in state_dict.items()}")
    return entries


def load_safetensors(path):
    """The tensors of a safetensors file as a dict ``{name: tensor}``, in the file's order.

    Load them into a model with ``model.load_state_dict(chainrule.load_safetensors(path))``;
    that call names any missing, unexpected or mis-shaped keys.  Every entry of the header is
    checked against the file's size before anything is read; a damaged file raises
    ``RuntimeError`` naming the file.

    >>> chainrule.save_safetensors({"b": chainrule.zeros(3)}, "/tmp/b.safetensors")
    >>> chainrule.load_safetensors("/tmp/b.safetensors")
    {'b': tensor([0., 0., 0.])}
    """
    name = _name(path)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        header, start = _safetensors_header(fh, size, name)
        out = {}
        for key, code, shape, begin, end in _safetensors_entries(header, size - start, name):
            dtype = _ST_DTYPES[code]
            a = np.empty(math.prod(shape), np.uint8 if dtype == np.bool_ else dtype)
            fh.seek(start + begin)
            if fh.readinto(a.view(np.uint8)) != end - begin:
                raise RuntimeError(f"load_safetensors: {name} is truncated (it changed while "
                                   "being read?)")
            if dtype == np.bool_:                    # any byte but 0 is True
                a = a != 0
            out[key] = wrap(a.astype(dtype.newbyteorder("="), copy=False).reshape(shape))
        return out
