"""MNIST and Fashion-MNIST, found locally or downloaded, every file checked against its published MD5.

`.data` is a uint8 minigrad Tensor N x 28 x 28 (read-only: it shares the per-process cache of
verified arrays; clone() to edit) and `.targets` an int64 minigrad Tensor N, both on the CPU/numpy
backend, as torchvision keeps them on the CPU. `ds[i]` is (image, label): the image a
uint8 Tensor 28 x 28 passed through `transform` (where torchvision would pass a PIL image; ToTensor
accepts both), the label a Python int. `ds.tensors(...)` builds the whole float set in one array op.
"""
import os
import tempfile
import urllib.request
from collections import namedtuple
from pathlib import Path

from .. import dtypes
from ..backend import backend_name, get_default_backend, move
from ..tensor import Tensor
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, gunzip, is_gzip, md5_hex, parse_idx
from .transforms import apply_batch, is_batchable, normalize as normalize_chw, to_float_chw

FileSpec = namedtuple("FileSpec", ["md5", "size", "gz_md5"])  # decompressed MD5, decompressed bytes, official .gz MD5

# Published checksums (the table in shared/data/README.md; the .gz column is what torchvision checks).
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte":
            FileSpec("6bbc9ace898e44ae57da46a324031adb", 47040016, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte":
            FileSpec("a25bea736e30d166cdddb491f175f624", 60008, "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte":
            FileSpec("2646ac647ad5339dbf082846283269ea", 7840016, "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte":
            FileSpec("27ae3e4e09519cfbb04c329615203637", 10008, "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte":
            FileSpec("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte":
            FileSpec("9018921c3c673c538a1fc5bad174d6f9", 60008, "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte":
            FileSpec("8181f5470baa50b63fa0f6fddb340f0a", 7840016, "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte":
            FileSpec("15d484375f8d13e6eb1aabb0c3f46965", 10008, "bb300cfdad3c16e7a12a480ee83cd310"),
    },
}

urlopen = urllib.request.urlopen  # module attribute so tests can serve bytes offline
_CACHE = {}  # (data set, file, real path, size, mtime) -> verified read-only array


class ChecksumError(IDXError):
    """A file's content does not match the published MD5 of the file it is meant to be."""


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a data set file was found (and none could be downloaded)."""


class MNIST:
    """MNIST digits: 60,000 train / 10,000 test uint8 images 28 x 28 with int64 labels 0-9."""

    key = "mnist"
    folders = ("mnist", "MNIST/raw", "MNIST", "")  # our layout, torchvision's layout, files right in root
    system_dirs = ()
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        self.root = None if root is None else os.path.expanduser(str(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.sources = {}  # file name -> the path it was read from, or the URL it was downloaded from
        prefix = "train" if train else "t10k"
        images = self._load(f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC, download)
        labels = self._load(f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC, download)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
            raise IDXError(f"{type(self).__name__}: images of shape {images.shape} do not pair with labels of "
                           f"shape {labels.shape} (expected N x 28 x 28 and N).")
        # .data shares the cached verified array, read-only so it stays pristine (clone() it to edit pixels)
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels.astype(dtypes.int64))

    # ---- torchvision's dataset interface -----------------------------------------------------
    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img = Tensor._wrap(self.data.array[int(index)])
        target = int(self.targets.array[int(index)])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def class_to_idx(self):
        """{class name: label}, as torchvision's."""
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Split: {split}\n"
                f"    Transform: {self.transform!r}")

    # ---- whole-set fast paths ---------------------------------------------------------------
    def tensors(self, normalize=None, flatten=False, device=None, dtype=None):
        """Whole set as (X, y) Tensors: X N x 1 x 28 x 28 (N x 784 if flatten), y int64 N.

        X equals torchvision's ToTensor() (+ Normalize(mean, std) when normalize=(mean, std)) run in
        `dtype` (default: the default dtype) sample by sample, computed here in one array op on `device`.
        """
        backend = get_default_backend() if device is None else backend_name(device)
        X = to_float_chw(move(self.data.array, backend), dtype, batched=True)  # move uint8: 4x fewer bytes
        if normalize is not None:
            X = normalize_chw(X, *normalize, inplace=True)  # X is ours, fresh from the conversion
        if flatten:
            X = X.reshape(len(X), -1)
        return Tensor._wrap(X), Tensor._wrap(move(self.targets.array, backend))

    def _whole_arrays(self):
        """(X, y) host arrays equal to stacking every ds[i], or None when a transform must run per sample."""
        if not is_batchable(self.transform) or self.target_transform is not None:
            return None
        return apply_batch(self.transform, self.data.array), self.targets.array

    # ---- finding, verifying, downloading ------------------------------------------------------
    def _search_dirs(self):
        roots = [self.root, os.environ.get("MINIGRAD_DATA") or None, "data", *self.system_dirs]
        dirs = []
        for r in roots:
            if r is None:
                continue
            for sub in self.folders if r not in self.system_dirs else ("",):
                d = os.path.abspath(os.path.join(os.path.expanduser(r), sub))
                if d not in dirs:
                    dirs.append(d)
        return dirs

    def _load(self, fname, magic, download):
        dirs = self._search_dirs()
        for d in dirs:
            for name in (fname + ".gz", fname):
                path = os.path.join(d, name)
                if os.path.isfile(path):
                    arr = load_verified(path, self.key, fname, magic)
                    self.sources[fname] = path
                    return arr
        if download:
            return self._download(fname, magic, dirs)
        looked = "\n".join(f"  {d}/{fname}[.gz]" for d in dirs)
        if not os.environ.get("MINIGRAD_DATA"):
            looked += "\n  ($MINIGRAD_DATA is not set)"
        raise DatasetNotFoundError(
            f"{type(self).__name__}: file {fname}(.gz) not found. Looked in, in order:\n{looked}\n"
            f"To fix: set MINIGRAD_DATA to the folder that holds {self.folders[0]}/ (e.g. "
            f"export MINIGRAD_DATA=/path/to/shared/data), or pass root=<that folder>, or pass download=True "
            f"to fetch it from the official mirrors.")

    def urls(self, fname):
        """Where fname.gz is fetched from, in order: $MINIGRAD_MIRRORS (base URLs of folders laid out as
        ours, <base>/mnist/<file>.gz) when set, else the official mirrors."""
        bases = os.environ.get("MINIGRAD_MIRRORS", "").split()
        if bases:
            return [b.rstrip("/") + f"/{self.key}/{fname}.gz" for b in bases]
        return [m + fname + ".gz" for m in self.mirrors]

    def _download(self, fname, magic, looked=()):
        """Fetch fname.gz from each mirror in turn into a temp file; rename into place once verified.

        The temp file ends in .part, a name the search never matches, and is removed on any failure, so a
        cut-short download can never pass for the real file.
        """
        dest_dir = Path(self.root if self.root is not None else "data").absolute() / self.key
        errors = []
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            errors.append(f"creating the download folder {dest_dir}: {e.strerror or e}")
        for url in self.urls(fname) if not errors else ():
            fd, tmp = tempfile.mkstemp(prefix=fname + ".", suffix=".part", dir=dest_dir)
            try:
                with os.fdopen(fd, "wb") as f:
                    _fetch(url, f, fname + ".gz")
                arr = load_verified(tmp, self.key, fname, magic, label=url, cache=False)
                os.replace(tmp, dest_dir / (fname + ".gz"))
                self.sources[fname] = url
                return arr
            except Exception as e:  # network error or bad bytes: this mirror failed, try the next
                errors.append(f"{url} ({_reason(e)})")
            finally:  # also on Ctrl-C: no .part file outlives its download
                if os.path.exists(tmp):
                    os.unlink(tmp)
        raise DatasetNotFoundError(self._not_found_paragraph(fname, looked, errors, dest_dir))

    def _not_found_paragraph(self, fname, looked, errors, dest_dir):
        """Where we looked, what we tried, how to place the files: one paragraph, for people, not tracebacks."""
        files = ", ".join(f + ".gz" for f in CHECKSUMS[self.key])
        env = os.environ.get("MINIGRAD_DATA")
        return (f"{type(self).__name__}: {fname}.gz is not on this machine and could not be downloaded. "
                f"Looked in: {', '.join(looked) or '(nowhere)'}"
                f"{'' if env else ' ($MINIGRAD_DATA is not set)'}. "
                f"Tried: {'; '.join(errors)}. "
                f"To fix: on a machine with network, download {files} (from one of the addresses above) and put "
                f"them in {dest_dir}/, or point $MINIGRAD_DATA (or root=, or --data-dir) at a folder that holds "
                f"{self.key}/ with them; then run again.")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 60,000 train / 10,000 test uint8 images 28 x 28 of 10 clothing classes."""

    key = "fashion-mnist"
    folders = ("fashion-mnist", "FashionMNIST/raw", "FashionMNIST", "")
    system_dirs = ("/usr/share/datasets/fashion-mnist",)  # Debian's dataset-fashion-mnist package
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    )
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _fetch(url, f, desc):
    """Copy url's body into the open file f with a progress bar; a body shorter than announced raises."""
    from tqdm import tqdm

    with urlopen(url, timeout=60) as r:
        headers = getattr(r, "headers", None)
        total = int(headers["Content-Length"]) if headers is not None and headers.get("Content-Length") else None
        got = 0
        with tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False) as bar:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk)
                got += len(chunk)
                bar.update(len(chunk))
    if total is not None and got != total:
        raise IDXError(f"download cut short: {got} of {total} bytes")


def _reason(e):
    """A network or verification error in a few words (urllib nests the cause in .reason)."""
    reason = getattr(e, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    return str(getattr(e, "strerror", None) or e) if not isinstance(e, IDXError) else str(e)


def load_verified(path, key, fname, magic, label=None, cache=True):
    """Read `path` as data set `key`'s file `fname` and prove it is that file; returns a read-only array.

    An official .gz passes by its own MD5; any other copy (re-compressed or decompressed) by the MD5
    of its decompressed bytes. Verified arrays are cached per process, keyed by path, size and mtime.
    """
    label = label or path
    st = os.stat(path)
    ck = (key, fname, os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if cache and ck in _CACHE:
        return _CACHE[ck]
    spec = CHECKSUMS[key][fname]
    with open(path, "rb") as f:
        buf = f.read()
    official_gz = is_gzip(buf) and md5_hex(buf) == spec.gz_md5
    raw = gunzip(buf, label) if is_gzip(buf) else buf
    arr = parse_idx(raw, label, magic)  # structure first: truncation and wrong kind get their own message
    if not official_gz:
        got = md5_hex(raw)
        if got != spec.md5:
            other = _identify(got)
            also = f"; its content is {other}" if other else ""
            raise ChecksumError(
                f"{label}: checksum mismatch for {key} {fname}: MD5 of the decompressed bytes is {got}, "
                f"expected {spec.md5} ({spec.size} bytes; file holds shape {arr.shape}){also}. The file is "
                f"corrupt or not the right one: delete it and copy it again, or pass download=True.")
    if cache:
        _CACHE[ck] = arr
    return arr


def clear_cache():
    """Forget the verified arrays (the next construction re-reads and re-hashes the files)."""
    _CACHE.clear()


def _identify(md5):
    for key, files in CHECKSUMS.items():
        for fname, spec in files.items():
            if md5 in (spec.md5, spec.gz_md5):
                return f"{key} {fname}"
    return None


__all__ = ["MNIST", "FashionMNIST", "ChecksumError", "DatasetNotFoundError", "CHECKSUMS", "load_verified",
           "clear_cache"]
