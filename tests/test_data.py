"""IDX reading, MNIST / Fashion-MNIST loading and integrity checks, transforms (vs torchvision, pixel for pixel)."""
import gzip
import hashlib
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.data import datasets as ds_mod
from minigrad.data import (
    CHECKSUMS, MNIST, ChecksumError, Compose, DatasetNotFoundError, FashionMNIST, IDXError, Lambda, Normalize,
    ToTensor, parse_idx, read_idx,
)
from minigrad.data.datasets import FileSpec, load_verified
from minigrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC

DATA = os.environ.get("MINIGRAD_DATA")
HAVE_DATA = bool(DATA) and all(
    (Path(DATA) / k / f"{f}.gz").is_file() for k in CHECKSUMS for f in CHECKSUMS[k])
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason="real MNIST files not found: set MINIGRAD_DATA to the shared data folder "
                          "(e.g. MINIGRAD_DATA=/work/shared/data) to run these tests")
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


# ---- real data: facts from shared/data/README.md, checksums, torchvision parity ------------------
@needs_data
def test_mnist_label_facts():
    train, test = MNIST(train=True), MNIST(train=False)
    assert np.bincount(train.targets.numpy()).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert train.targets.numpy()[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(test.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and len(train) == 60000 and len(test) == 10000
    img, label = train[0]
    assert isinstance(img, minigrad.Tensor) and img.shape == (28, 28) and label == 5 and isinstance(label, int)


@needs_data
def test_fashion_label_facts():
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert int(train.targets.numpy()[0]) == 9 and train.classes[9] == "Ankle boot"
    assert train.class_to_idx["Trouser"] == 1


@needs_data
@pytest.mark.parametrize("key", ["mnist", "fashion-mnist"])
def test_shared_files_match_published_md5(key):
    for fname, spec in CHECKSUMS[key].items():
        path = Path(DATA) / key / f"{fname}.gz"
        raw = gzip.decompress(path.read_bytes())
        assert len(raw) == spec.size and hashlib.md5(raw).hexdigest() == spec.md5
        arr = load_verified(str(path), key, fname, IMAGES_MAGIC if "images" in fname else LABELS_MAGIC)
        assert arr.shape[0] == (60000 if fname.startswith("train") else 10000)


@pytest.fixture(scope="module")
def tv_root(tmp_path_factory):
    """torchvision's offline layout: <root>/MNIST/raw and <root>/FashionMNIST/raw with decompressed files."""
    root = tmp_path_factory.mktemp("tv")
    for key, folder in (("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")):
        raw = root / folder / "raw"
        raw.mkdir(parents=True)
        for fname in FILES:
            (raw / fname).write_bytes(gzip.decompress((Path(DATA) / key / f"{fname}.gz").read_bytes()))
    return root


@needs_data
@pytest.mark.parametrize("cls_name", ["MNIST", "FashionMNIST"])
@pytest.mark.parametrize("train", [True, False])
def test_equals_torchvision_pixel_for_pixel(tv_root, cls_name, train, monkeypatch, tmp_path):
    tvd = pytest.importorskip("torchvision.datasets")
    ref = getattr(tvd, cls_name)(str(tv_root), train=train, download=False)
    ours = getattr(minigrad.data, cls_name)(train=train)
    np.testing.assert_array_equal(ours.data.numpy(), ref.data.numpy())
    np.testing.assert_array_equal(ours.targets.numpy(), ref.targets.numpy())
    assert ours.classes == ref.classes
    # the torchvision layout (decompressed files) is accepted too, verified by the decompressed MD5
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    again = getattr(minigrad.data, cls_name)(root=str(tv_root), train=train)
    np.testing.assert_array_equal(again.data.numpy(), ref.data.numpy())


@needs_data
def test_transforms_equal_torchvision(tv_root):
    tvd = pytest.importorskip("torchvision.datasets")
    T = pytest.importorskip("torchvision.transforms")
    import torch

    mean, std = (0.1307,), (0.3081,)
    ref = tvd.MNIST(str(tv_root), train=False, download=False,
                    transform=T.Compose([T.ToTensor(), T.Normalize(mean, std)]))
    ours = MNIST(train=False, transform=Compose([ToTensor(), Normalize(mean, std)]))
    X, y = ours.tensors(normalize=(mean[0], std[0]), device="numpy")
    Xf, _ = ours.tensors(normalize=(0.5, 0.5), flatten=True)
    assert X.dtype == np.float32 and X.shape == (10000, 1, 28, 28) and y.dtype == np.int64
    for i in range(0, 10000, 97):  # torchvision runs per sample on PIL images: compare a spread of them
        r, t = ref[i]
        a, b = ours[i]
        assert a.dtype == np.float32 and a.shape == (1, 28, 28) and b == t
        np.testing.assert_array_equal(a.numpy(), r.numpy())
        np.testing.assert_array_equal(X.numpy()[i], r.numpy())
    # the whole set against torch's ToTensor arithmetic applied in one go (float(uint8)/255, then (x-m)/s)
    whole = torch.from_numpy(ours.data.numpy().copy()).float().div(255)
    np.testing.assert_array_equal(Xf.numpy(), whole.sub(0.5).div(0.5).reshape(10000, -1).numpy())
    np.testing.assert_array_equal(X.numpy(), whole.sub(mean[0]).div(std[0]).unsqueeze(1).numpy())
    # float64: torchvision under default dtype float64
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        r64 = T.Normalize(mean, std)(T.ToTensor()(ref.data[5].numpy()))
    finally:
        torch.set_default_dtype(old)
    X64, _ = ours.tensors(normalize=(mean[0], std[0]), dtype="float64")
    assert X64.dtype == np.float64 and r64.dtype == torch.float64
    np.testing.assert_array_equal(X64.numpy()[5], r64.numpy())


@needs_data
def test_cache_makes_reload_fast_and_data_readonly():
    a, b = MNIST(train=False), MNIST(train=False)
    assert a.data.array is b.data.array  # verified once per process
    with pytest.raises(ValueError, match="read-only"):
        a.data.array[0, 0, 0] = 1
    a.targets.array[0] = 3  # targets are each dataset's own copy
    assert int(b.targets.array[0]) == 7


@needs_data
def test_wrong_dataset_file_is_identified(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "mnist"
    d.mkdir()
    (d / "t10k-images-idx3-ubyte.gz").write_bytes((Path(DATA) / "mnist/t10k-images-idx3-ubyte.gz").read_bytes())
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes((Path(DATA) / "fashion-mnist/t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(ChecksumError, match="fashion-mnist t10k-labels-idx1-ubyte") as e:
        MNIST(root=str(tmp_path), train=False)
    assert str(d / "t10k-labels-idx1-ubyte.gz") in str(e.value)


# ---- small fixture files: every failure mode, layouts, search order, download --------------------
def idx_bytes(a, magic_dtype=0x08):
    a = np.asarray(a, dtype=np.uint8)
    return bytes([0, 0, magic_dtype, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape) + a.tobytes()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Tiny MNIST-like files whose checksums are patched in; no env, empty cwd: nothing else is found."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    raw = {"train-images-idx3-ubyte": idx_bytes(images), "train-labels-idx1-ubyte": idx_bytes(labels)}
    gz = {k: gzip.compress(v, mtime=0) for k, v in raw.items()}
    specs = {k: FileSpec(hashlib.md5(v).hexdigest(), len(v), hashlib.md5(gz[k]).hexdigest()) for k, v in raw.items()}
    monkeypatch.setitem(CHECKSUMS, "mnist", specs)
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.delenv("MINIGRAD_MIRRORS", raising=False)  # the official mirrors (FakeNet stands in for them)
    monkeypatch.chdir(tmp_path)
    ds_mod.clear_cache()
    yield type("Fake", (), dict(images=images, labels=labels, raw=raw, gz=gz, specs=specs, root=tmp_path / "root"))
    ds_mod.clear_cache()


def put(root, sub, fname, data):
    d = root / sub
    d.mkdir(parents=True, exist_ok=True)
    (d / fname).write_bytes(data)
    return d / fname


def test_idx_roundtrip_and_dtypes():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(a))
    np.testing.assert_array_equal(out, a)
    assert not out.flags.writeable
    f = np.array([1.5, -2.25], dtype=">f4")
    got = parse_idx(bytes([0, 0, 0x0D, 1]) + (2).to_bytes(4, "big") + f.tobytes())
    assert got.dtype == np.float32 and got.dtype.isnative and got.tolist() == [1.5, -2.25]


@pytest.mark.parametrize("layout", ["mnist", "MNIST/raw", ""])
@pytest.mark.parametrize("compressed", [True, False])
def test_layouts_load(fake, layout, compressed):
    for k in fake.raw:
        put(fake.root, layout, k + (".gz" if compressed else ""), (fake.gz if compressed else fake.raw)[k])
    ds = MNIST(root=str(fake.root))
    np.testing.assert_array_equal(ds.data.numpy(), fake.images)
    assert ds.targets.numpy().tolist() == [3, 1, 4, 1, 5] and ds.targets.dtype == np.int64


def test_official_gz_accepted_by_its_own_md5(fake, monkeypatch):
    for k in fake.raw:
        put(fake.root, "mnist", k + ".gz", fake.gz[k])
    # break the decompressed MD5: the official .gz must still pass on its published .gz MD5 alone
    monkeypatch.setitem(CHECKSUMS, "mnist", {k: s._replace(md5="0" * 32) for k, s in fake.specs.items()})
    assert len(MNIST(root=str(fake.root))) == 5
    # a re-compressed copy has other .gz bytes: it is checked (and here rejected) by the decompressed MD5
    ds_mod.clear_cache()
    recompressed = gzip.compress(fake.raw["train-labels-idx1-ubyte"], 1, mtime=7)
    put(fake.root, "mnist", "train-labels-idx1-ubyte.gz", recompressed)
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        MNIST(root=str(fake.root))


def test_flipped_byte_raw(fake):
    put(fake.root, "mnist", "train-labels-idx1-ubyte", fake.raw["train-labels-idx1-ubyte"])
    bad = bytearray(fake.raw["train-images-idx3-ubyte"])
    bad[500] ^= 0xFF
    p = put(fake.root, "mnist", "train-images-idx3-ubyte", bytes(bad))
    with pytest.raises(ChecksumError) as e:
        MNIST(root=str(fake.root))
    msg = str(e.value)
    assert str(p) in msg and "checksum mismatch" in msg and "delete it" in msg and "download=True" in msg


def test_flipped_byte_gzip(fake):
    put(fake.root, "mnist", "train-labels-idx1-ubyte.gz", fake.gz["train-labels-idx1-ubyte"])
    bad = bytearray(fake.gz["train-images-idx3-ubyte"])
    bad[len(bad) // 2] ^= 0x55
    p = put(fake.root, "mnist", "train-images-idx3-ubyte.gz", bytes(bad))
    with pytest.raises(IDXError) as e:  # corrupt gzip stream, CRC error, or checksum mismatch: all name the file
        MNIST(root=str(fake.root))
    assert str(p) in str(e.value)


@pytest.mark.parametrize("compressed", [True, False])
def test_truncated(fake, compressed):
    k = "train-images-idx3-ubyte"
    put(fake.root, "mnist", "train-labels-idx1-ubyte", fake.raw["train-labels-idx1-ubyte"])
    data = (fake.gz if compressed else fake.raw)[k]
    p = put(fake.root, "mnist", k + (".gz" if compressed else ""), data[: len(data) - 40])
    with pytest.raises(IDXError, match="truncated") as e:
        MNIST(root=str(fake.root))
    assert str(p) in str(e.value)


def test_wrong_magic(fake, tmp_path):
    put(fake.root, "mnist", "train-labels-idx1-ubyte", fake.raw["train-labels-idx1-ubyte"])
    p = put(fake.root, "mnist", "train-images-idx3-ubyte", fake.raw["train-labels-idx1-ubyte"])  # labels as images
    with pytest.raises(IDXError, match="magic number 0x00000801 but expected 0x00000803") as e:
        MNIST(root=str(fake.root))
    assert str(p) in str(e.value)
    junk = tmp_path / "junk"
    junk.write_bytes(b"PK\x03\x04not idx at all")
    with pytest.raises(IDXError, match="bad magic number"):
        read_idx(junk)


def test_missing_lists_every_place(fake, monkeypatch, tmp_path):
    env = tmp_path / "envdir"
    monkeypatch.setenv("MINIGRAD_DATA", str(env))
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=str(fake.root))
    msg = str(e.value)
    for d in [fake.root / "mnist", fake.root / "MNIST/raw", env / "mnist", tmp_path / "data" / "mnist"]:
        assert str(d) in msg
    assert "MINIGRAD_DATA" in msg and "root=" in msg and "download=True" in msg
    assert isinstance(e.value, FileNotFoundError)


def test_search_order_root_then_env_then_cwd(fake, monkeypatch, tmp_path):
    env = tmp_path / "envdir"
    for k in fake.raw:
        put(env, "mnist", k, fake.raw[k])
        put(fake.root, "mnist", k, b"\x00\x00\x08\x03garbage")  # root wins, so its bad file is what is read
    monkeypatch.setenv("MINIGRAD_DATA", str(env))
    with pytest.raises(IDXError, match=str(fake.root)):
        MNIST(root=str(fake.root))
    assert len(MNIST()) == 5  # no root: $MINIGRAD_DATA
    monkeypatch.delenv("MINIGRAD_DATA")
    for k in fake.raw:
        put(tmp_path, "data/mnist", k + ".gz", fake.gz[k])
    assert len(MNIST()) == 5  # then ./data


def test_fashion_system_dir(fake, monkeypatch, tmp_path):
    monkeypatch.setitem(CHECKSUMS, "fashion-mnist", fake.specs)
    sysdir = tmp_path / "usr_share"
    for k in fake.raw:
        put(sysdir, "", k + ".gz", fake.gz[k])
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(sysdir),))
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST()  # MNIST never looks in the Fashion-MNIST system folder
    assert "usr_share" not in str(e.value)
    assert FashionMNIST().targets.numpy().tolist() == [3, 1, 4, 1, 5]


class FakeNet:
    """urlopen stand-in: serves bytes per URL, raises URLError for unknown ones, records calls."""

    def __init__(self, table):
        self.table, self.calls = table, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if url not in self.table:
            raise urllib.error.URLError("offline")
        return io.BytesIO(self.table[url])


def test_download_good_file_renamed_into_place(fake, monkeypatch):
    m0 = MNIST.mirrors[0]
    net = FakeNet({m0 + k + ".gz": fake.gz[k] for k in fake.gz})
    monkeypatch.setattr(ds_mod, "urlopen", net)
    ds = MNIST(root=str(fake.root), download=True)
    np.testing.assert_array_equal(ds.data.numpy(), fake.images)
    files = sorted(p.name for p in (fake.root / "mnist").iterdir())
    assert files == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # no .part left
    net.calls.clear()
    ds_mod.clear_cache()
    MNIST(root=str(fake.root), download=True)
    assert net.calls == []  # found locally, not downloaded again


def test_download_bad_file_rejected_and_temp_removed(fake, monkeypatch):
    bad = bytearray(fake.raw["train-images-idx3-ubyte"])
    bad[100] ^= 1
    net = FakeNet({m + k + ".gz": (gzip.compress(bytes(bad)) if "images" in k else fake.gz[k])
                   for m in MNIST.mirrors for k in fake.gz})
    monkeypatch.setattr(ds_mod, "urlopen", net)
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=str(fake.root), download=True)
    msg = str(e.value)
    for m in MNIST.mirrors:
        assert m + "train-images-idx3-ubyte.gz" in msg
    assert "checksum mismatch" in msg
    assert sorted(p.name for p in (fake.root / "mnist").iterdir()) == []  # images fail first: nothing kept


def test_download_mirror_fallback(fake, monkeypatch):
    m0, m1 = MNIST.mirrors[:2]
    net = FakeNet({m1 + k + ".gz": fake.gz[k] for k in fake.gz})
    monkeypatch.setattr(ds_mod, "urlopen", net)
    ds = MNIST(root=str(fake.root), download=True)
    assert len(ds) == 5
    assert net.calls[:2] == [m0 + "train-images-idx3-ubyte.gz", m1 + "train-images-idx3-ubyte.gz"]
    assert sorted(p.name for p in (fake.root / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_cache_sees_replaced_file(fake):
    for k in fake.raw:
        p = put(fake.root, "mnist", k, fake.raw[k])
    MNIST(root=str(fake.root))
    bad = bytearray(fake.raw["train-labels-idx1-ubyte"])
    bad[-1] = 9
    p.write_bytes(bytes(bad))
    os.utime(p, ns=(1, 1))  # a different mtime even on coarse clocks
    with pytest.raises(ChecksumError):
        MNIST(root=str(fake.root))


def test_transforms_per_sample(fake):
    for k in fake.raw:
        put(fake.root, "mnist", k, fake.raw[k])
    ds = MNIST(root=str(fake.root), transform=Compose([ToTensor(), Lambda(lambda x: x.reshape(-1))]),
               target_transform=lambda t: t * 10)
    x, t = ds[2]
    assert x.shape == (784,) and x.dtype == np.float32 and t == 40
    np.testing.assert_array_equal(x.numpy(), fake.images[2].reshape(-1).astype(np.float32) / np.float32(255))
    assert ds._whole_arrays() is None  # Lambda forces the per-sample path
    hwc = np.zeros((4, 5, 3), dtype=np.uint8)
    assert ToTensor()(hwc).shape == (3, 4, 5)
    with pytest.raises(ValueError, match="std"):
        Normalize(0.0, 0.0)(ToTensor()(hwc))
