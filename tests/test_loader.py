"""TensorDataset, DataLoader (whole-array and per-sample paths), random_split, Subset, label filters, splits."""
import os
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.backend import to_numpy
from minigrad.data import MNIST, Compose, Normalize, ToTensor
from minigrad.data.loader import LabelSubset, default_collate
from minigrad.utils.data import DataLoader, Subset, TensorDataset, filter_by_labels, random_split, stratified_split

DATA = os.environ.get("MINIGRAD_DATA")
needs_data = pytest.mark.skipif(
    not (DATA and (Path(DATA) / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()),
    reason="real MNIST files not found: set MINIGRAD_DATA (e.g. MINIGRAD_DATA=/work/shared/data) to run")


def make_td(n=23, backend="numpy"):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)  # y = index, so every batch shows which samples it holds
    return TensorDataset(minigrad.tensor(X, device=backend), minigrad.tensor(y, device=backend))


class MapStyle:
    """A plain map-style dataset (no whole arrays): forces the per-sample collate path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.float32), int(i)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("bs", [1, 5, 23, 40])
def test_batches_cover_set(backend, shuffle, drop_last, bs):
    n = 23
    loader = DataLoader(make_td(n, backend), batch_size=bs, shuffle=shuffle, drop_last=drop_last, seed=1)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // bs if drop_last else -(-n // bs))
    sizes = [len(b[1]) for b in batches]
    assert all(s == bs for s in sizes[:-1])
    if batches:
        assert sizes[-1] == (bs if drop_last else n - bs * (len(batches) - 1))
    seen = np.concatenate([to_numpy(b[1].array) for b in batches]) if batches else np.zeros(0, np.int64)
    if drop_last:
        assert len(set(seen.tolist())) == len(seen) == bs * (n // bs)
    else:
        assert sorted(seen.tolist()) == list(range(n))  # every sample exactly once
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))
    for xb, yb in batches:
        assert isinstance(xb, minigrad.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        assert xb.backend == backend and xb.shape[1:] == (3,)
        np.testing.assert_array_equal(to_numpy(xb.array)[:, 0], 3 * to_numpy(yb.array))


def test_seeded_shuffle_reproducible_and_order_exposed():
    def epochs(loader, k=3):
        out = []
        for _ in range(k):
            it = iter(loader)
            order = loader.order.copy()  # readable before the first batch
            ys = np.concatenate([to_numpy(y.array) for _, y in it])
            np.testing.assert_array_equal(ys, order)
            out.append(order)
        return out

    a = epochs(DataLoader(make_td(50), batch_size=7, shuffle=True, seed=3))
    b = epochs(DataLoader(make_td(50), batch_size=7, shuffle=True, seed=3))
    c = epochs(DataLoader(make_td(50), batch_size=7, shuffle=True, seed=4))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1])  # a new order every epoch
    assert not np.array_equal(a[0], c[0])
    loader = DataLoader(make_td(50), batch_size=7, shuffle=True, generator=minigrad.Generator().manual_seed(3))
    np.testing.assert_array_equal(epochs(loader, 1)[0], a[0])  # generator= and seed= agree (torch's Generator(3))
    parts = loader.batch_indices()
    assert len(parts) == len(loader) and np.array_equal(np.concatenate(parts), loader.order)


def test_global_seed_reproducible():
    minigrad.manual_seed(123)
    a = [to_numpy(y.array) for _, y in DataLoader(make_td(30), batch_size=30, shuffle=True)]
    minigrad.manual_seed(123)
    b = [to_numpy(y.array) for _, y in DataLoader(make_td(30), batch_size=30, shuffle=True)]
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], np.arange(30))


def test_generic_path_collates_like_fast_path():
    loader = DataLoader(MapStyle(11), batch_size=4, shuffle=True, seed=0)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 3]
    for xb, yb in batches:
        assert xb.shape[1:] == (2, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy()[:, 0, 0], yb.numpy())
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), loader.order)
    # the same dataset as a TensorDataset, same seed: identical batches through the whole-array path
    td = TensorDataset(np.stack([MapStyle(11)[i][0] for i in range(11)]), np.arange(11))
    for (xa, ya), (xb, yb) in zip(batches, DataLoader(td, batch_size=4, shuffle=True, seed=0)):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_default_collate_kinds():
    out = default_collate([{"a": 1.5, "b": (np.zeros(2), 3)}, {"a": 2.5, "b": (np.ones(2), 4)}])
    assert out["a"].dtype == np.float64 and out["b"][1].dtype == np.int64 and out["b"][0].shape == (2, 2)
    with pytest.raises(TypeError):
        default_collate([object()])


def test_bad_arguments():
    with pytest.raises(ValueError):
        DataLoader(make_td(), batch_size=0)
    with pytest.raises(TypeError):
        DataLoader(make_td(), shuffle=True, generator="x")
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(make_td(10), [3, 3])


def test_random_split_lengths_fractions_seeded():
    import torch

    ds = make_td(23)
    parts = random_split(ds, [0.7, 0.2, 0.1], seed=0)
    ref = torch.utils.data.random_split(range(23), [0.7, 0.2, 0.1], generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(r) for r in ref]  # torch's rounding of fractions
    idx = np.concatenate([p.indices for p in parts])
    assert sorted(idx.tolist()) == list(range(23))
    again = random_split(ds, [0.7, 0.2, 0.1], seed=0)
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))
    assert not np.array_equal(random_split(ds, [16, 7], seed=1)[0].indices, parts[0].indices[:16])
    sub = parts[1]
    x, y = sub[0]
    assert int(y.item()) == int(sub.indices[0])
    got = np.concatenate([b[1].numpy() for b in DataLoader(sub, batch_size=2)])  # Subset keeps the fast path
    np.testing.assert_array_equal(got, sub.indices)
    assert sub._whole_arrays() is not None
    assert len(Subset(MapStyle(5), [4, 0])) == 2 and Subset(MapStyle(5), [4, 0])[0][1] == 4


def test_filter_by_labels_arrays_tensors_datasets():
    y = np.array([1, 7, 3, 7, 1, 0, 7])
    X = np.arange(7 * 2).reshape(7, 2)
    Xk, yk = filter_by_labels((X, y), (1, 7), positive=7)
    np.testing.assert_array_equal(Xk, X[[0, 1, 3, 4, 6]])
    assert yk.tolist() == [0, 1, 1, 0, 1] and yk.dtype == np.int64
    Xt, yt = filter_by_labels((minigrad.tensor(X), minigrad.tensor(y)), (7, 1), relabel=True)
    assert isinstance(yt, minigrad.Tensor) and yt.tolist() == [1, 0, 0, 1, 0]
    _, same = filter_by_labels((X, y), (0, 3))
    assert same.tolist() == [3, 0]
    td = filter_by_labels(TensorDataset(X.astype(np.float32), y), (1, 7), positive=1)
    assert isinstance(td, TensorDataset) and td.tensors[1].tolist() == [1, 0, 0, 1, 0]


def test_stratified_split():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 1000)
    a, b = stratified_split(y, 0.8, seed=5)
    assert len(np.intersect1d(a, b)) == 0 and len(a) + len(b) == 1000
    for c in range(4):
        n_c = int((y == c).sum())
        assert int((y[a] == c).sum()) == round(0.8 * n_c)
    a2, _ = stratified_split(minigrad.tensor(y), 0.8, seed=5)
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, stratified_split(y, 0.8, seed=6)[0])
    with pytest.raises(ValueError):
        stratified_split(y, 1.5)


@needs_data
def test_mnist_loader_fast_path_equals_per_sample():
    ds = MNIST(train=False, transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))
    fast = DataLoader(ds, batch_size=64, shuffle=True, seed=0)
    slow = DataLoader(ds, batch_size=64, shuffle=True, seed=0, collate_fn=default_collate)  # per-sample path
    for k, ((xa, ya), (xb, yb)) in enumerate(zip(fast, slow)):
        assert xa.shape == (64, 1, 28, 28) and xa.dtype == np.float32 and ya.dtype == np.int64
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        if k == 3:
            break
    assert len(fast) == 157
    sizes = [len(y) for _, y in fast]
    assert sizes[-1] == 10000 - 156 * 64


@needs_data
def test_filter_mnist_one_vs_seven():
    ds = MNIST(train=True, transform=ToTensor())
    sub = filter_by_labels(ds, (1, 7), positive=7)
    assert isinstance(sub, LabelSubset) and len(sub) == 6742 + 6265
    assert int(sub.targets.numpy().sum()) == 6265
    x, t = sub[0]
    assert t == int(ds.targets.numpy()[sub.indices[0]] == 7) and x.shape == (1, 28, 28)
    X, y = sub._whole_arrays()
    np.testing.assert_array_equal(y, sub.targets.numpy())
    np.testing.assert_array_equal(X[0], x.numpy())


class EveryEpochReversed:
    """A sampler with state, as torch's: epoch 0 visits 0..n-1 backwards, epoch 1 forwards, ..."""

    def __init__(self, n):
        self.n, self.epoch = n, 0

    def __iter__(self):
        order = range(self.n - 1, -1, -1) if self.epoch % 2 == 0 else range(self.n)
        self.epoch += 1
        return iter(order)

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("per_sample", [False, True])
def test_sampler_gives_the_batches_torchs_dataloader_gives(backend, drop_last, per_sample):
    torch = pytest.importorskip("torch")
    n, bs = 23, 5
    ds = MapStyle(n) if per_sample else make_td(n, backend)
    tds = torch.utils.data.TensorDataset(torch.arange(n * 3.0).reshape(n, 3), torch.arange(n))
    ours = DataLoader(ds, batch_size=bs, drop_last=drop_last, sampler=EveryEpochReversed(n))
    theirs = torch.utils.data.DataLoader(tds, batch_size=bs, drop_last=drop_last, sampler=EveryEpochReversed(n))
    assert len(ours) == len(theirs)
    for _ in range(2):  # the sampler is read anew each epoch
        got = [to_numpy(b[1].array).tolist() for b in ours]
        assert got == [b[1].tolist() for b in theirs]
    assert ours.order.tolist() == list(range(n))  # the second epoch's order, as the sampler gave it


def test_sampler_errors_say_what_to_do():
    with pytest.raises(ValueError, match="sampler.*shuffle"):
        DataLoader(make_td(), sampler=range(23), shuffle=True)
    with pytest.raises(IndexError, match="23.*23 samples"):
        list(DataLoader(make_td(), sampler=[0, 23]))


class Endless:
    """An infinite sampler without len(), as torch allows: 0, 1, ..., n-1, 0, 1, ... forever."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return (i % self.n for i in __import__("itertools").count())


@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_infinite_sampler_is_read_lazily_as_torch(backend, per_sample, drop_last):
    torch = pytest.importorskip("torch")
    import itertools

    n, bs = 23, 5
    ds = MapStyle(n) if per_sample else make_td(n, backend)
    tds = torch.utils.data.TensorDataset(torch.arange(n * 3.0).reshape(n, 3), torch.arange(n))
    ours = DataLoader(ds, batch_size=bs, drop_last=drop_last, sampler=Endless(n))
    theirs = torch.utils.data.DataLoader(tds, batch_size=bs, drop_last=drop_last, sampler=Endless(n))
    got = [to_numpy(b[1].array).tolist() for b in itertools.islice(ours, 12)]  # 60 indices: past one pass
    assert got == [b[1].tolist() for b in itertools.islice(theirs, 12)]
    for loader in (ours, theirs):
        with pytest.raises(TypeError):
            len(loader)


def test_finite_unsized_sampler_ends_with_its_last_partial_batch():
    loader = DataLoader(make_td(10), batch_size=4, sampler=(i for i in [9, 8, 7, 6, 5]))
    assert [to_numpy(b[1].array).tolist() for b in loader] == [[9, 8, 7, 6], [5]]


@pytest.mark.parametrize("bs", [0, -1, 2.5, 2.0, True, False, "3", None])
def test_batch_size_checked_as_torch(bs):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=repr(bs).replace(".", r"\.")):
        DataLoader(make_td(), batch_size=bs)
    if bs is not None:  # torch's None turns automatic batching off; minigrad always batches
        with pytest.raises(ValueError):
            torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(4)), batch_size=bs)
    assert len(DataLoader(make_td(10), batch_size=np.int64(3))) == 4
