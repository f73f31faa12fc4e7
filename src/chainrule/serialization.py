"""Saving and loading: ``save``/``load`` (state dicts, no pickles) and safetensors files.

``chainrule.save(obj, f)`` writes a zip archive (uncompressed) holding

- ``chainrule/structure.json``: the object's structure (dicts, lists, tuples, numbers, strings,
  None), where each tensor is a reference to an array file, with its dtype and shape;
- ``chainrule/data/<k>.npy``: one NumPy ``.npy`` file per tensor.

``chainrule.load`` reads the JSON and each array's ``.npy`` header, and never unpickles, so loading a
file from a stranger can't run code (PyTorch's ``torch.load`` needs ``weights_only=True`` for that
guarantee; here it always holds).  Nor can a small file make it allocate much: it refuses what
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
import json
import math
import os
import struct
import tokenize
import zipfile
import zlib

import numpy as np

from . import dtypes as D
from ._files import atomic_write
from .tensor import Size, Tensor, device, wrap

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
    for PyTorch compatibility and ignored).  Saving to a path is atomic: the archive is written
    to a temporary file beside it and renamed over ``f`` only once complete, so an exception,
    Ctrl-C or a killed process leaves the previous file intact.

    >>> chainrule.save({"w": chainrule.ones(2), "step": 3}, "/tmp/ckpt.pt")
    >>> chainrule.load("/tmp/ckpt.pt")
    {'w': tensor([1., 1.]), 'step': 3}
    """
    writer = _Writer()
    root = writer.encode(obj, "obj")
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root},
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
    def __init__(self, zf, name, size):
        self.zf, self.name, self.size = zf, name, size
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
        if kind == "device":
            if node["type"] != "cpu":
                raise self.fail(f"it holds the device {str(node['type'])[:80]!r}; "
                                "chainrule.save only writes 'cpu'")
            return device("cpu")
        raise self.fail(f"unknown entry type {kind!r} (written by a newer chainrule?)")

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
        try:
            return self.decode(header["root"])
        except (KeyError, TypeError, IndexError, ValueError, RecursionError) as e:
            raise self.fail(f"its structure is malformed ({type(e).__name__}: "
                            f"{str(e)[:200]})") from None


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

    Nothing is unpickled, whatever ``weights_only`` says.  ``map_location`` may be None, "cpu",
    a dict or a function (all tensors are on the CPU already).  Tensors come back as leaf tensors
    with the dtype, shape and ``requires_grad`` they were saved with (a saved ``Parameter`` comes
    back as a ``Parameter``); tensors that were one object when saved are one object again.
    A file that isn't a chainrule save, or is damaged, raises ``RuntimeError`` saying which; a
    small file can't make ``load`` allocate large arrays (every declared size is checked against
    the file's before anything is allocated).

    >>> chainrule.save([chainrule.zeros(1), (1, "a")], "/tmp/x.pt")
    >>> chainrule.load("/tmp/x.pt", map_location="cpu")
    [tensor([0.]), (1, 'a')]
    """
    _check_map_location(map_location)
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
        return _Reader(zf, name, size).load()


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
