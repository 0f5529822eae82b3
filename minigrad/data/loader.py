"""TensorDataset, Subset, DataLoader, random_split, filter_by_labels, stratified_split (torch.utils.data's shape).

Index work (permutations, masks of labels) is host-side NumPy on purpose: orders must be
reproducible and readable by a parity harness; the data itself stays on its backend and batches
are gathered there with the permutation (no per-sample Python loop) whenever the dataset exposes
its whole arrays (`_whole_arrays()`: TensorDataset, Subset of one, MNIST with batchable transforms).
"""
import itertools
import math
from collections.abc import Mapping

import numpy

from .. import random as mg_random
from ..backend import backend_name, get_array_module, get_default_backend, move, name_of, to_numpy
from ..tensor import Tensor


class TensorDataset:
    """Dataset of tensors sharing their first dimension N: item i is (t[i] for t in tensors)."""

    def __init__(self, *tensors):
        tensors = tuple(t if isinstance(t, Tensor) else Tensor._wrap(t) if _is_array(t) else Tensor(t)
                        for t in tensors)
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError("Size mismatch between tensors: all must share their first dimension N.")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def _whole_arrays(self):
        return tuple(t.array for t in self.tensors)


class Subset:
    """The items of `dataset` at `indices` (in that order)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        indices = to_numpy(indices.array if isinstance(indices, Tensor) else indices)
        self.indices = numpy.asarray(indices, dtype=numpy.int64)

    def __getitem__(self, idx):
        if isinstance(idx, (list, tuple)):
            return [self[i] for i in idx]
        return self.dataset[int(self.indices[idx])]

    def __len__(self):
        return len(self.indices)

    def _whole_arrays(self):
        base = getattr(self.dataset, "_whole_arrays", lambda: None)()
        if base is None:
            return None
        return tuple(a[move(self.indices, name_of(get_array_module(a)))] for a in base)


class LabelSubset(Subset):
    """Subset whose integer labels (last item field) are mapped through a lookup table (see filter_by_labels)."""

    def __init__(self, dataset, indices, label_map, targets):
        super().__init__(dataset, indices)
        self.label_map = label_map  # numpy int64: old label -> new label
        self.targets = Tensor._wrap(targets)

    def __getitem__(self, idx):
        if isinstance(idx, (list, tuple)):
            return [self[i] for i in idx]
        item = list(self.dataset[int(self.indices[idx])])
        item[-1] = int(self.label_map[int(item[-1])])
        return tuple(item)

    def _whole_arrays(self):
        arrays = super()._whole_arrays()
        if arrays is None:
            return None
        y = arrays[-1]
        return arrays[:-1] + (move(self.label_map, name_of(get_array_module(y)))[y],)


class DataLoader:
    """Batches of a dataset: lists of Tensors (x float, y int64 for MNIST), optionally shuffled per epoch.

    Random draws are torch's: each iter(loader) first draws a 64-bit base seed (torch's `_base_seed`, drawn even
    without shuffle), then shuffle=True draws the order as torch's RandomSampler: randperm(n) from `generator=`
    (a minigrad.Generator; an int or `seed=` makes one), or, without one, from a fresh Generator seeded by a
    random_() draw of the global generator that minigrad.manual_seed seeds. So the same seed gives torch's batch
    order, and the global stream moves on as torch's does. (A numpy Generator as `generator=` gives its own
    permutation, not torch's order.) The order is drawn at iter(loader), torch draws it at the first next();
    with `generator=` torch's sampler draws one more, unused, randperm as an epoch ends: drawn here at iter() too
    (torch skips it if the loop stops early).
    After iter(loader) `loader.order` holds that epoch's index order and `loader.batch_indices()` its split.
    sampler: as torch's, an iterable of indices read anew each epoch (instead of shuffle). One without a
    length (an endless stream) is read lazily, batch by batch; then `order` stays None and len(loader) is a
    TypeError, as in torch.
    device: backend the batches land on (default: where the data is; the default backend for datasets).
    num_workers / pin_memory are accepted for torch compatibility and ignored.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, seed=None,
                 collate_fn=None, device=None, num_workers=0, pin_memory=False, sampler=None):
        # torch's check: 2.5 or True is a caller's mistake, not a batch size to round
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True both choose the order; pass one of them "
                             "(a sampler that shuffles, or shuffle=True without a sampler)")
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.device = None if device is None else backend_name(device)
        self._rng = _make_rng(generator, seed)
        self._whole = None  # whole arrays on the target backend, captured at first iteration
        self.order = None
        self.epoch = 0

    def __len__(self):
        if self.sampler is not None and not _sized(self.sampler):
            raise TypeError(f"DataLoader: its sampler ({type(self.sampler).__name__}) has no len(): an endless "
                            "stream of indices has no number of batches")
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _stop(self, n):
        """Where an epoch of n indices stops: the last partial batch is dropped with drop_last."""
        return n - n % self.batch_size if self.drop_last else n

    def next_order(self):
        """Draw the next epoch's index order (int64 numpy array) and make it `self.order`."""
        n = len(self.dataset)
        self._draw_base_seed()
        if self.sampler is not None:
            self.order = numpy.fromiter((int(i) for i in self.sampler), dtype=numpy.int64)
            bad = self.order[(self.order < -n) | (self.order >= n)]
            if bad.size:
                raise IndexError(f"DataLoader: the sampler gave index {int(bad[0])}, outside a dataset of {n} samples")
        elif self.shuffle:
            self.order = _permutation(n, self._rng, own_seed=True)
            if self._rng is not None and not isinstance(self._rng, numpy.random.Generator):
                # torch's RandomSampler then runs randperm(n)[:num_samples % n] = [] once its loop ends
                _permutation(n, self._rng)
        else:
            self.order = numpy.arange(n, dtype=numpy.int64)
        self.epoch += 1
        return self.order

    def _draw_base_seed(self):
        """torch's _BaseDataLoaderIter draws a 64-bit `_base_seed` (for workers) from the generator each epoch."""
        if not isinstance(self._rng, numpy.random.Generator):
            self.base_seed = int(mg_random.random_words((), "int64", gen=self._rng))

    def batch_indices(self, order=None):
        """The epoch's order cut into batches (the last one partial unless drop_last)."""
        order = self.order if order is None else order
        return [order[i:i + self.batch_size] for i in range(0, self._stop(len(order)), self.batch_size)]

    def __iter__(self):
        if self.sampler is not None and not _sized(self.sampler):
            self.order, self.epoch = None, self.epoch + 1
            self._draw_base_seed()
            return self._iter_lazy(iter(self.sampler))
        order = self.next_order()  # drawn now, not at the first next(): the order is readable right away
        arrays = self._whole_arrays()
        if arrays is not None:  # the order goes to the arrays' device here, once per epoch, never per batch
            return self._iter_whole(arrays, move(order, name_of(get_array_module(arrays[0]))))
        return self._iter_generic(order)

    def _whole_arrays(self):
        if self._whole is None and self.collate_fn is None and hasattr(self.dataset, "_whole_arrays"):
            arrays = self.dataset._whole_arrays()
            if arrays is not None:
                target = self.device
                if target is None and not isinstance(_root(self.dataset), TensorDataset):
                    target = get_default_backend()  # tensors a user built stay put; file data go to the default
                self._whole = tuple(a if target is None else move(a, target) for a in arrays)
        return self._whole

    def _iter_whole(self, arrays, idx):
        for i in range(0, self._stop(len(idx)), self.batch_size):
            sel = idx[i:i + self.batch_size]
            yield [Tensor._wrap(a[sel]) for a in arrays]

    def _iter_lazy(self, it):
        """Batches from an unsized sampler, read batch_size indices at a time (it may never end)."""
        n = len(self.dataset)
        arrays = self._whole_arrays()
        while True:
            sel = numpy.fromiter((int(i) for i in itertools.islice(it, self.batch_size)), dtype=numpy.int64)
            if sel.size == 0 or (self.drop_last and sel.size < self.batch_size):
                return
            bad = sel[(sel < -n) | (sel >= n)]
            if bad.size:
                raise IndexError(f"DataLoader: the sampler gave index {int(bad[0])}, outside a dataset of {n} samples")
            if arrays is not None:
                yield from self._iter_whole(arrays, move(sel, name_of(get_array_module(arrays[0]))))
            else:
                yield from self._iter_generic(sel)

    def _iter_generic(self, order):
        collate = self.collate_fn or default_collate
        for sel in self.batch_indices(order):
            batch = collate([self.dataset[int(i)] for i in sel])
            yield batch if self.device is None else _to_device(batch, self.device)


def default_collate(samples):
    """Stack a list of samples field by field into Tensors, as torch's default_collate."""
    elem = samples[0]
    if isinstance(elem, Tensor):
        xp = elem.xp
        return Tensor._wrap(xp.stack([s.array for s in samples]))
    if isinstance(elem, numpy.ndarray) or name_of(get_array_module(elem)) == "cupy":
        return Tensor._wrap(get_array_module(elem).stack(samples))
    if isinstance(elem, (bool, numpy.bool_)):
        return Tensor._wrap(numpy.asarray(samples, dtype=numpy.bool_))
    if isinstance(elem, (int, numpy.integer)):
        return Tensor._wrap(numpy.asarray(samples, dtype=numpy.int64))
    if isinstance(elem, float):
        return Tensor._wrap(numpy.asarray(samples, dtype=numpy.float64))  # torch collates Python floats as float64
    if isinstance(elem, numpy.generic):
        return Tensor._wrap(numpy.asarray(samples))
    if isinstance(elem, str):
        return list(samples)
    if isinstance(elem, Mapping):
        return {k: default_collate([s[k] for s in samples]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(f)) for f in zip(*samples)))
    if isinstance(elem, (tuple, list)):
        return [default_collate(list(f)) for f in zip(*samples)]
    raise TypeError(f"default_collate: samples of type {type(elem).__name__} are not supported")


def random_split(dataset, lengths, generator=None, seed=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1), shuffled."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= n:  # fractions, rounded as torch does
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset ({n})!")
    perm = _permutation(n, _make_rng(generator, seed))  # torch: randperm(n, generator=generator)
    offsets = numpy.cumsum([0] + lengths)
    return [Subset(dataset, perm[offsets[k]:offsets[k + 1]]) for k in range(len(lengths))]


def filter_by_labels(data, labels, relabel=False, positive=None):
    """Keep only samples whose label is in `labels`; optionally relabel them.

    data: a dataset with `.targets` (MNIST), a TensorDataset (labels = last tensor), or a pair (X, y)
    of Tensors or arrays. relabel=True maps labels[i] -> i; positive=k maps k -> 1 and the rest -> 0
    (e.g. labels=(1, 7), positive=7 is the 1-vs-7 task). Returns the same kind as given
    (a LabelSubset for a dataset, preserving its transforms).
    """
    labels = [int(v) for v in labels]
    if isinstance(data, (tuple, list)):
        X, y = data
        y_host = to_numpy(y.array if isinstance(y, Tensor) else y)
    elif isinstance(data, TensorDataset):
        y_host = to_numpy(data.tensors[-1].array)
    else:
        t = data.targets
        y_host = to_numpy(t.array if isinstance(t, Tensor) else t)
    y_host = numpy.asarray(y_host, dtype=numpy.int64)
    keep = numpy.flatnonzero(numpy.isin(y_host, labels))
    table = numpy.arange(max(int(y_host.max(initial=0)), max(labels)) + 1, dtype=numpy.int64)
    if positive is not None:
        table = (table == int(positive)).astype(numpy.int64)
    elif relabel:
        for i, v in enumerate(labels):
            table[v] = i
    new_y = table[y_host[keep]]
    if isinstance(data, (tuple, list)):
        return _take(X, keep), _like(y, new_y)
    if isinstance(data, TensorDataset):
        kept = [_take(t, keep) for t in data.tensors[:-1]]
        return TensorDataset(*kept, _like(data.tensors[-1], new_y))
    return LabelSubset(data, keep, table, new_y)


def stratified_split(labels, fraction, seed=None):
    """Indices (first, second): each class contributes round(fraction * its count) to first; both sorted."""
    y = numpy.asarray(to_numpy(labels.array if isinstance(labels, Tensor) else labels)).reshape(-1)
    if not 0.0 <= float(fraction) <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    rng = numpy.random.default_rng(seed)
    first, second = [], []
    for c in numpy.unique(y):
        idx = rng.permutation(numpy.flatnonzero(y == c))
        k = int(round(float(fraction) * len(idx)))
        first.append(idx[:k])
        second.append(idx[k:])
    return _sorted_cat(first), _sorted_cat(second)


def _sized(sampler):
    """Whether len(sampler) works (torch's samplers, a list) or the sampler is an endless stream."""
    try:
        len(sampler)
    except TypeError:
        return False
    return True


def _sorted_cat(parts):
    return numpy.sort(numpy.concatenate(parts)).astype(numpy.int64) if parts else numpy.zeros(0, numpy.int64)


def _make_rng(generator, seed):
    """A minigrad Generator from seed= or generator= (int or Generator; a numpy Generator is kept as it is);
    None means 'use the global one'."""
    if seed is not None:
        return mg_random.Generator().manual_seed(int(seed))
    if generator is None or isinstance(generator, (mg_random.Generator, numpy.random.Generator)):
        return generator
    if isinstance(generator, (int, numpy.integer)):
        return mg_random.Generator().manual_seed(int(generator))
    raise TypeError(f"generator must be a minigrad.Generator, an int seed or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")


def _permutation(n, rng, own_seed=False):
    """torch's randperm(n, generator=rng) as int64; own_seed: torch's RandomSampler without a generator, which
    seeds a fresh Generator with a random_() draw of the global one first."""
    if isinstance(rng, numpy.random.Generator):
        return numpy.asarray(rng.permutation(n), dtype=numpy.int64)
    if rng is None and own_seed:
        rng = mg_random.Generator().manual_seed(int(mg_random.random_words((), "int64")))
    return mg_random.permutation(n, "numpy", rng)


def _is_array(a):
    return isinstance(a, numpy.ndarray) or name_of(get_array_module(a)) == "cupy"


def _take(x, keep):
    if isinstance(x, Tensor):
        return Tensor._wrap(x.array[move(keep, x.backend)])
    return x[move(keep, name_of(get_array_module(x)))]


def _like(y, values):
    """values (host int64) placed like y: a Tensor on y's backend, or an array of y's kind."""
    if isinstance(y, Tensor):
        return Tensor._wrap(move(values, y.backend))
    return move(values, name_of(get_array_module(y)))


def _root(ds):
    while isinstance(ds, Subset):
        ds = ds.dataset
    return ds


def _to_device(batch, backend):
    if isinstance(batch, Tensor):
        return Tensor._wrap(move(batch.array, backend))
    if isinstance(batch, dict):
        return {k: _to_device(v, backend) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to_device(b, backend) for b in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, backend) for b in batch)
    return batch
