"""Command-line handling shared by the repository's experiments and benchmarks (and any script that wants it): a
user's mistake is one message, exit code 2.

Mistakes in flags (a negative epoch count, a zero learning rate) are caught by argparse types here; mistakes
about the machine (no data, no GPU, no torch, an --out that cannot be written) are checked before any work
starts where they can be, and otherwise raised as the exceptions in USER_ERRORS, which `cli` turns into
`error: ...` on stderr and exit code 2 instead of a traceback. Anything else is a bug and keeps its traceback.
"""
import argparse
import functools
import math
import os
import sys
import tempfile

from minigrad.data import DatasetNotFoundError, IDXError

EXIT_USAGE = 2  # what argparse uses for bad flags, so every user error exits the same way


class UsageError(Exception):
    """The command cannot run as asked on this machine (missing GPU, missing torch, unwritable output)."""


USER_ERRORS = (UsageError, DatasetNotFoundError, IDXError)  # IDXError covers ChecksumError and damaged files


def cli(main):
    """Decorator for main(argv): user errors print one `error:` message on stderr and exit with code 2;
    Ctrl-C exits 130 without a traceback."""
    @functools.wraps(main)
    def wrapped(argv=None):
        try:
            return main(argv)
        except USER_ERRORS as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from None
        except KeyboardInterrupt:  # Ctrl-C outside a run's step loop (loading data, a second Ctrl-C): no traceback
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None
    return wrapped


def number(kind, cast, ok, what):
    """argparse type: cast(text), then ok(value), else an error naming what was expected and what came."""
    def parse(text):
        try:
            v = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return v
    parse.__name__ = kind  # argparse names the type in its messages
    return parse


positive_int = number("positive_int", int, lambda v: v > 0, "a positive integer")
nonnegative_int = number("nonnegative_int", int, lambda v: v >= 0, "an integer >= 0")
positive_float = number("positive_float", float, lambda v: v > 0 and math.isfinite(v), "a positive number")
unit_interval = number("unit_interval", float, lambda v: 0 <= v <= 1, "a number from 0 to 1")
nonnegative_float = number("nonnegative_float", float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
seed_int = number("seed", int, lambda v: 0 <= v < 2**32, "an integer from 0 to 2**32 - 1")  # numpy's and torch's range
dropout_p = number("probability", float, lambda v: 0 <= v < 1, "a probability in [0, 1)")  # p = 1 drops every unit


def int_in(lo, hi, what=None):
    """argparse type: an integer lo <= v <= hi (hi None: no upper bound)."""
    what = what or (f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}")
    return number("int", int, lambda v: v >= lo and (hi is None or v <= hi), what)


def nonempty_path(text):
    """argparse type for a path flag: refuses the empty string (it would name the current folder by accident)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def explicit(argv, *flags):
    """The flags of `flags` that the user typed in argv (sys.argv[1:] when None), abbreviations and --f=v included."""
    argv = sys.argv[1:] if argv is None else argv
    return [f for f in flags if any(a == f or a.startswith(f + "=") for a in argv)]


def writable_dir(path, flag="--out"):
    """Create folder `path` if needed and prove a file can be written there, before hours of training."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write there ({e.strerror or e}). "
                         f"Choose a folder you can write to.") from None
    return path
