"""repr(tensor) laid out as torch's (torch/_tensor_str.py): 4 decimals, sci mode, summaries, suffixes."""
import math

import numpy

from . import dtypes

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80


class _Formatter:
    """Picks one layout for all elements: ints, integral floats ('1.'), fixed '.4f' or sci '.4e'."""

    def __init__(self, a):
        self.is_float = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = a.reshape(-1)
        if not self.is_float:
            self.width = max([len(str(v)) for v in flat.tolist()] or [1])
            return
        vals = flat[numpy.isfinite(flat) & (flat != 0)].astype(numpy.float64)
        if vals.size == 0:
            return
        lo, hi = float(numpy.abs(vals).min()), float(numpy.abs(vals).max())
        self.int_mode = bool(numpy.all(vals == numpy.ceil(vals)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if self.sci_mode:
            fmt, extra = f"{{:.{PRECISION}e}}", 0
        elif self.int_mode:
            fmt, extra = "{:.0f}", 1  # room for the trailing '.'
        else:
            fmt, extra = f"{{:.{PRECISION}f}}", 0
        self.width = max(len(fmt.format(v)) + extra for v in vals.tolist())

    def format(self, v):
        if not self.is_float:
            s = str(v)
        elif self.sci_mode:
            s = f"{{:{self.width}.{PRECISION}e}}".format(v)
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{{:.{PRECISION}f}}".format(v)
        return " " * (self.width - len(s)) + s


def _summary(a):
    """Only the edge items that will be shown, so the layout is chosen from them (as torch)."""
    if a.ndim == 0 or a.shape[0] <= 2 * EDGEITEMS:
        return a if a.ndim <= 1 else numpy.stack([_summary(x) for x in a])
    if a.ndim == 1:
        return numpy.concatenate([a[:EDGEITEMS], a[-EDGEITEMS:]])
    return numpy.stack([_summary(x) for x in list(a[:EDGEITEMS]) + list(a[-EDGEITEMS:])])


def _body(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        per_line = max(1, math.floor((LINEWIDTH - indent) / (fmt.width + 2)))
        vals = a.tolist()
        if summarize and len(vals) > 2 * EDGEITEMS:
            items = [fmt.format(v) for v in vals[:EDGEITEMS]] + [" ..."] + [fmt.format(v) for v in vals[-EDGEITEMS:]]
        else:
            items = [fmt.format(v) for v in vals]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        rows = list(range(EDGEITEMS)) + [None] + list(range(a.shape[0] - EDGEITEMS, a.shape[0]))
    parts = ["..." if i is None else _body(a[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(a, default_dtype, device=None, grad=None, prefix="tensor("):
    """a: host numpy array; device/grad: the 'device=...' and 'grad_fn=...' suffixes, if any."""
    indent = len(prefix)
    extra = [device] if device else []
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            extra.append(f"size={tuple(a.shape)}")
        if a.dtype != default_dtype:
            extra.append(f"dtype={dtypes.of(a.dtype)}")
    else:
        summarize = a.size > THRESHOLD
        body = _body(a, indent, summarize, _Formatter(_summary(a) if summarize else a))
        if a.dtype not in (default_dtype, numpy.dtype("int64"), numpy.dtype("bool")):
            extra.append(f"dtype={dtypes.of(a.dtype)}")
    out, last = prefix + body, len(prefix + body) - (prefix + body).rfind("\n") + 1
    for s in extra + ([grad] if grad else []):
        if last + len(s) + 2 > LINEWIDTH:
            out += ",\n" + " " * indent + s
            last = indent + len(s)
        else:
            out += ", " + s
            last += len(s) + 2
    return out + ")"
