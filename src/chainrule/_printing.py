"""Text of tensors, exactly as PyTorch 2.x prints them.

This module is a port of ``torch/_tensor_str.py`` (PyTorch 2.x) that works
on NumPy arrays and needs nothing but NumPy.  Given the same values, dtype,
print options and autograd flags, :func:`format_tensor` returns the same
characters as ``repr(torch_tensor)``, with the dtype text supplied by the
caller (for example ``chainrule.float64`` instead of ``torch.float64``).

The rules, briefly (see :class:`_Formatter` for the details):

* All elements share one format, chosen from the whole tensor (or, when the
  tensor is summarized, from the elements that are shown):

  - floats whose nonzero finite values are all whole numbers print in
    *int mode*: ``1.``, ``-2.``;
  - *scientific mode* (``1.0000e+10``) is used when the largest nonzero
    finite magnitude exceeds 1e8, the smallest is below 1e-4, or their ratio
    exceeds 1000 -- unless ``sci_mode`` is forced by :func:`set_printoptions`;
  - otherwise fixed point with ``precision`` (4) decimals: ``-7.8400``.

* Every element is right-aligned to the widest one; rows wrap at
  ``linewidth`` (80) characters; inner dimensions are nested with an indent
  equal to the length of the prefix (``"tensor("``), and separated by
  ``dim - 1`` blank lines.
* Tensors with more than ``threshold`` (1000) elements are summarized:
  only ``edgeitems`` (3) entries at each end of every dimension are shown,
  with ``...`` in between.
* Suffixes: ``dtype=...`` unless the dtype is the default float dtype,
  int64 or bool (or the default complex dtype); ``size=(...)`` for empty
  tensors that are not 1-d; ``grad_fn=<...>`` or ``requires_grad=True``.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, List, Optional, Sequence

import numpy as np

__all__ = [
    "default_float_dtype",
    "format_tensor",
    "get_printoptions",
    "printoptions",
    "set_printoptions",
]

#: The default floating point dtype, as in ``torch.get_default_dtype()``.
#: A tensor of this dtype is printed without a ``dtype=`` suffix.  The rest of
#: the package may rebind it (e.g. to ``numpy.float64`` when the user calls
#: ``set_default_dtype(float64)``); it is read on every call.
default_float_dtype = np.float32


# ---------------------------------------------------------------------------
# Print options
# ---------------------------------------------------------------------------

_DEFAULT_OPTIONS = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 80,
    "sci_mode": None,
}

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# The current options; mutated in place by set_printoptions.
_OPTIONS = dict(_DEFAULT_OPTIONS)


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing tensors, like ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point for floats (default 4).
        threshold: number of elements above which a tensor is summarized
            (default 1000).
        edgeitems: number of items shown at each end of every dimension of a
            summarized tensor (default 3).
        linewidth: characters per line used for line breaks (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``: a preset for the
            four options above, applied first; the other arguments override
            it.
        sci_mode: ``True`` or ``False`` forces scientific notation on or off;
            ``None`` lets the formatter choose.  As in PyTorch, this option is
            always assigned, so any call without ``sci_mode`` resets it to
            ``None``.
    """
    # As in PyTorch, an unknown profile name is silently ignored.
    if profile in _PROFILES:
        _OPTIONS.update(_PROFILES[profile])
    if precision is not None:
        _OPTIONS["precision"] = precision
    if threshold is not None:
        _OPTIONS["threshold"] = threshold
    if edgeitems is not None:
        _OPTIONS["edgeitems"] = edgeitems
    if linewidth is not None:
        _OPTIONS["linewidth"] = linewidth
    _OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current print options, as a dict that can be passed back as
    ``**kwargs`` to :func:`set_printoptions`."""
    return dict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Context manager that sets print options temporarily (same arguments
    as :func:`set_printoptions`)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------------------
# Element formatting
# ---------------------------------------------------------------------------

_SUPPORTED_DTYPES = frozenset(
    np.dtype(name)
    for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    )
)


class _Formatter:
    """Formats the elements of one (real) array with a common width.

    A port of ``torch._tensor_str._Formatter``.  It is built from the
    elements that will be shown and then formats single Python scalars
    (``bool``, ``int`` or ``float``) with :meth:`format`.
    """

    def __init__(self, values: np.ndarray):
        precision = _OPTIONS["precision"]
        self.floating_dtype = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        flat = values.reshape(-1)

        if not self.floating_dtype:
            # bool and integers: the width of the longest str().
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            # No valid number: int mode, no sci mode, width 1.
            return

        # PyTorch does this arithmetic in float64.
        magnitudes = np.abs(nonzero_finite).astype(np.float64)
        smallest = float(magnitudes.min())
        largest = float(magnitudes.max())

        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))

        if _OPTIONS["sci_mode"] is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = _OPTIONS["sci_mode"]

        # Widths are measured on the float64 value of each element, as the
        # formatting of a 0-d torch tensor goes through ``.item()``.
        items = nonzero_finite.tolist()
        if self.sci_mode:
            texts = [f"{value:.{precision}e}" for value in items]
            self.max_width = max(len(text) for text in texts)
        elif self.int_mode:
            # One more for the trailing "." that marks a float.
            self.max_width = max(len(f"{value:.0f}") + 1 for value in items)
        else:
            self.max_width = max(len(f"{value:.{precision}f}") for value in items)

    def width(self) -> int:
        """Width that every formatted element is padded to."""
        return self.max_width

    def format(self, value) -> str:
        """Format one Python scalar, right-aligned to :meth:`width`."""
        precision = _OPTIONS["precision"]
        if self.floating_dtype:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{precision}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """Formats complex scalars with one formatter for the real parts and one
    for the imaginary parts, as PyTorch does."""

    def __init__(self, values: np.ndarray):
        self.real = _Formatter(values.real)
        self.imag = _Formatter(values.imag)

    def width(self) -> int:
        # real, imaginary, and the "j".
        return self.real.width() + self.imag.width() + 1

    def format(self, value) -> str:
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        # The sign of the imaginary part (also of -0.0) joins the two.
        if imag_text[0] in "+-":
            return real_text + imag_text
        return real_text + "+" + imag_text


def _make_formatter(values: np.ndarray):
    if values.dtype.kind == "c":
        return _ComplexFormatter(values)
    return _Formatter(values)


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def _summarized_values(array: np.ndarray) -> np.ndarray:
    """The elements a summarized tensor shows, flattened (the port of
    ``get_summarized_data``; only the set of values matters here)."""
    edgeitems = _OPTIONS["edgeitems"]
    if array.ndim == 0:
        return array.reshape(-1)
    if array.ndim == 1:
        if array.shape[0] > 2 * edgeitems:
            # With edgeitems == 0, ``array[-0:]`` is the whole array, exactly
            # as in PyTorch.
            return np.concatenate((array[:edgeitems], array[-edgeitems:]))
        return array
    if not edgeitems:
        return array.reshape(-1)[:0]
    if array.shape[0] > 2 * edgeitems:
        rows: Sequence[np.ndarray] = list(array[:edgeitems]) + list(array[-edgeitems:])
    else:
        rows = list(array)
    return np.concatenate([_summarized_values(row) for row in rows])


def _vector_str(array: np.ndarray, indent: int, summarize: bool, formatter) -> str:
    """A 1-d array: ``[a, b, c]``, wrapped to the line width."""
    edgeitems = _OPTIONS["edgeitems"]
    # Each element also takes a comma and a space.
    element_length = formatter.width() + 2
    elements_per_line = max(1, math.floor((_OPTIONS["linewidth"] - indent) / element_length))

    if summarize and not edgeitems:
        data = ["..."]
    elif summarize and array.shape[0] > 2 * edgeitems:
        data = (
            [formatter.format(v) for v in array[:edgeitems].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in array[-edgeitems:].tolist()]
        )
    else:
        data = [formatter.format(v) for v in array.tolist()]

    lines = [
        ", ".join(data[i : i + elements_per_line])
        for i in range(0, len(data), elements_per_line)
    ]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(array: np.ndarray, indent: int, summarize: bool, formatter) -> str:
    """Any array: a scalar, a vector, or nested brackets, one level per
    dimension (``indent`` is the column of the opening bracket)."""
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, formatter)

    edgeitems = _OPTIONS["edgeitems"]
    count = array.shape[0]
    if summarize and count > 2 * edgeitems:
        slices: List[str] = (
            [_array_str(array[i], indent + 1, summarize, formatter) for i in range(edgeitems)]
            + ["..."]
            + [
                _array_str(array[i], indent + 1, summarize, formatter)
                for i in range(count - edgeitems, count)
            ]
        )
    else:
        slices = [_array_str(array[i], indent + 1, summarize, formatter) for i in range(count)]

    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _tensor_str(array: np.ndarray, indent: int) -> str:
    """The bracketed contents of a tensor, without prefix or suffixes."""
    if array.size == 0:
        return "[]"
    summarize = array.size > _OPTIONS["threshold"]
    shown = _summarized_values(array) if summarize else array
    formatter = _make_formatter(shown)
    return _array_str(array, indent, summarize, formatter)


def _add_suffixes(tensor_str: str, suffixes: Sequence[str], indent: int) -> str:
    """Append ``, suffix`` items and the closing parenthesis, starting a new
    line (indented by ``indent``) when a suffix would pass the line width."""
    parts = [tensor_str]
    # PyTorch's own measure of the last line (it counts two extra
    # characters when there is no newline, one otherwise).
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------


def _default_dtypes() -> tuple:
    """Default float dtype and the default complex dtype that goes with it."""
    default_float = np.dtype(default_float_dtype)
    default_complex = np.dtype(np.complex128 if default_float == np.float64 else np.complex64)
    return default_float, default_complex


def format_tensor(
    data,
    *,
    dtype_name: Optional[str] = None,
    requires_grad: bool = False,
    grad_fn: Optional[str] = None,
    prefix: str = "tensor(",
) -> str:
    """Text of a tensor exactly as PyTorch prints it.

    Args:
        data: NumPy array (0-d allowed) of dtype bool, int8/16/32/64,
            uint8/16/32/64, float16/32/64 or complex64/128.  Other
            array-likes are converted with :func:`numpy.asarray`.
        dtype_name: text shown after ``dtype=`` when PyTorch would show a
            dtype suffix, e.g. ``"chainrule.float64"``.  Whether the suffix
            appears is decided here, by PyTorch's rules: it is omitted for the
            default float dtype (:data:`default_float_dtype`), the matching
            complex dtype, int64 and bool -- except for empty tensors, which
            show it for every dtype but the default float one.  Defaults to
            ``"chainrule." + data.dtype.name``.
        requires_grad: add ``, requires_grad=True`` (only when there is no
            ``grad_fn``, as in PyTorch).
        grad_fn: name of the gradient function, e.g. ``"MulBackward0"``,
            shown as ``, grad_fn=<MulBackward0>``.
        prefix: text before the contents; continuation lines are indented by
            its length.

    Returns:
        The text, e.g. ``"tensor([1., 2.], requires_grad=True)"``.
    """
    array = np.asarray(data)
    if array.dtype not in _SUPPORTED_DTYPES:
        raise TypeError(f"format_tensor: unsupported dtype {array.dtype}")
    if dtype_name is None:
        dtype_name = "chainrule." + array.dtype.name

    default_float, default_complex = _default_dtypes()
    has_default_dtype = array.dtype in (
        default_float,
        default_complex,
        np.dtype(np.int64),
        np.dtype(np.bool_),
    )

    indent = len(prefix)
    suffixes = []
    if array.size == 0:
        # Show the shape unless it is (0,), as NumPy does.
        if array.ndim != 1:
            suffixes.append("size=" + str(tuple(array.shape)))
        # No elements to tell an int64 tensor from a float one, so the dtype
        # is shown for everything but the default float dtype.
        if array.dtype != default_float:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = "[]"
    else:
        if not _OPTIONS["edgeitems"]:
            suffixes.append("size=" + str(tuple(array.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = _tensor_str(array, indent)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent)
