"""Checks of device values with no hidden sync: they raise at once on NumPy, at the next sync point on CuPy.

Why: reading a GPU value on the host (`bool(bad.any())`) copies it back and waits for every queued kernel, so a
check on every loss call (class-target range, BCE input range, NaN) would stall the GPU once per step. torch
checks on the device instead (CUDA_KERNEL_ASSERT) and the error surfaces at the next synchronising call.
minigrad does the same, here and only here:
- check() folds `bad.any()` into one pending 0-d device flag per kind of check, with the first offending value,
  using device ops only (no copy, no sync);
- sync() reads the pending flags and raises the first failed check's error. It runs where the user asks for
  host data anyway: backend.to_numpy (.numpy(), .cpu(), .tolist(), printing), Tensor.item() (and float(),
  bool(), ...), minigrad.cuda.synchronize().
On NumPy the value is on the host already: check() raises where it is called, as before.
"""
import numpy

from .backend import get_array_module

# (error type, message) -> [flag: 0-d device bool, first offending value: 0-d device array]; insertion-ordered,
# so sync() reports the check that was registered first
_pending = {}


def check(bad, values, message, error=RuntimeError):
    """Raise error(message.format(v)) if any element of the boolean array `bad` is True; v is the first offending
    element of `values` (same shape as bad), or None. Now on NumPy; at the next sync point on CuPy."""
    if bad.size == 0:
        return
    xp = get_array_module(bad)
    if xp is numpy:
        if bad.any():
            raise error(message.format(None if values is None else values[bad][0].item()))
        return
    flag = bad.any()  # 0-d device array: no copy
    first = flag if values is None else values.ravel()[bad.ravel().argmax()]
    key = (error, message)
    if key not in _pending:
        _pending[key] = [flag, first]
    else:  # keep the earliest failure's value; all on the device
        prev_flag, prev_first = _pending[key]
        _pending[key] = [prev_flag | flag, xp.where(prev_flag, prev_first, first)]


def sync():
    """Raise the first pending failed check (reads the flags: a device->host copy, at a point that syncs anyway)."""
    if not _pending:
        return
    items = list(_pending.items())
    _pending.clear()
    for (error, message), (flag, first) in items:
        if bool(flag):
            raise error(message.format(first.item()))


def all_true(a):
    """True if every element of the boolean array a is True, where knowing costs no sync (NumPy); on CuPy always
    False, so the caller takes its general path (e.g. the masked loss), which gives the same numbers."""
    return get_array_module(a) is numpy and bool(a.all())
