"""What every experiment shares: engines (minigrad or torch), data as arrays, the training loop, outputs.

The training loop is written once against the torch-shaped API, so the same code trains a minigrad model and
a torch model; both see the same batches in the same order (`epoch_order`).
"""
import argparse
import json
import os
import time

import numpy as np

from minigrad.utils.cli import (  # noqa: F401  (re-exported: experiments use common.cli, ...)
    UsageError, cli, dropout_p, explicit, int_in, nonempty_path, nonnegative_float, nonnegative_int,
    number as cli_number, positive_float, positive_int, seed_int, writable_dir,
)
from reference.checks import require_gpu, require_torch  # noqa: F401  (what torch's side needs: reference/)

COMMON_FLAGS = ("backend", "engine", "epochs", "batch_size", "lr", "optimizer", "seed", "data_dir", "out")


def add_common_args(parser, cfg, training=True):
    """The flags every experiment takes, with the experiment's own defaults from `cfg`.

    training=False leaves out the training flags (epochs, batch size, lr, optimizer, limit, progress) for
    experiments that train nothing (loss_curves, backprop_walkthrough).
    """
    parser.add_argument("--backend", choices=["numpy", "cupy"], default=cfg.get("backend", "numpy"),
                        help="array backend: numpy (CPU) or cupy (GPU); with --engine torch: cpu or cuda")
    parser.add_argument("--engine", choices=["minigrad", "torch"], default=cfg.get("engine", "minigrad"),
                        help="which library trains: minigrad, or real PyTorch through the same code")
    if not training:
        parser.add_argument("--seed", type=seed_int, default=cfg.get("seed", 0), help="random seed")
        parser.add_argument("--out", type=nonempty_path, default=cfg.get("out"), help="folder for the JSON and figures")
        parser.add_argument("--dtype", choices=["float32", "float64"], default=cfg.get("dtype", "float32"),
                            help="floating-point type of data and parameters")
        return parser
    parser.add_argument("--epochs", type=positive_int, default=cfg["epochs"], help="passes over the training set")
    parser.add_argument("--batch-size", type=positive_int, default=cfg["batch_size"], help="images per training step")
    parser.add_argument("--lr", type=positive_float, default=cfg["lr"], help="learning rate")
    parser.add_argument("--optimizer", default=cfg["optimizer"],
                        choices=["sgd", "adam", "adamw", "adagrad", "adadelta", "rmsprop"], help="optimizer")
    parser.add_argument("--seed", type=seed_int, default=cfg.get("seed", 0),
                        help="random seed (initial weights, split, batch order, dropout)")
    parser.add_argument("--data-dir", type=nonempty_path, default=cfg.get("data_dir"),
                        help="folder with the IDX files (default: $MINIGRAD_DATA, then ./data)")
    parser.add_argument("--out", type=nonempty_path, default=cfg.get("out"), help="folder for metrics.json and figures")
    parser.add_argument("--dtype", choices=["float32", "float64"], default=cfg.get("dtype", "float32"),
                        help="floating-point type of data and parameters")
    parser.add_argument("--limit", type=positive_int, default=cfg.get("limit"),
                        help="use only the first N training images (quick runs and tests)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return parser


def parse(parser, argv, uses_torch=False):
    """parse_args, then the checks that need the machine (torch, GPU, --out), before any work starts.

    uses_torch: the experiment runs torch whatever --engine says (it compares against it).
    """
    args = parser.parse_args(argv)
    engines = {getattr(args, "engine", "minigrad")} | ({"torch"} if uses_torch else set())
    if "torch" in engines:
        require_torch("this experiment" if uses_torch else "--engine torch")
    if getattr(args, "backend", "numpy") == "cupy":
        require_gpu(engines)
    if getattr(args, "out", None):
        writable_dir(args.out)
        if hasattr(args, "resume"):  # a run that checkpoints: what to do with a run already in --out
            from experiments.runs import check_out

            check_out(args, os.path.splitext(parser.prog)[0])
    return args


def config_from_args(args):
    return {k: v for k, v in vars(args).items()}


class Engine:
    """One of the two engines behind the same torch-shaped API: lib, nn, F, optim, device."""

    def __init__(self, name="minigrad", backend="numpy", dtype="float32"):
        self.name, self.backend = name, backend
        if name == "torch":
            import torch

            self.lib = torch
            self.device = "cuda" if backend == "cupy" else "cpu"
            if self.device == "cuda":  # TF32 off: compare exact float32 GEMMs with CuPy's
                torch.backends.cuda.matmul.allow_tf32 = False
                torch.backends.cudnn.allow_tf32 = False
        elif name == "minigrad":
            import minigrad

            self.lib = minigrad
            self.device = "cuda" if backend == "cupy" else "cpu"
            if backend == "cupy":
                minigrad.backend.get_xp("cupy")  # fail early with the install hint
        else:
            raise ValueError(f"unknown engine {name!r}: use 'minigrad' or 'torch'")
        self.dtype = getattr(self.lib, dtype)
        self.nn = self.lib.nn
        self.F = self.lib.nn.functional
        self.optim = self.lib.optim

    def tensor(self, array):
        """Host NumPy array -> engine tensor on this engine's device (dtype kept)."""
        if self.name == "torch":
            return self.lib.from_numpy(np.ascontiguousarray(array)).to(self.device)
        return self.lib.tensor(array, device=self.device)

    def numpy(self, t):
        if self.name == "torch":
            return t.detach().cpu().numpy()
        from minigrad.backend import to_numpy

        return to_numpy(t.detach().array)

    def seed(self, s):
        self.lib.manual_seed(s)

    def sync(self):
        if self.device == "cuda":
            self.lib.cuda.synchronize()

    def model(self, name, **kwargs):
        from reference.models import build

        m = build(self.name, name, **kwargs).to(self.device)
        return m.double() if self.dtype == self.lib.float64 else m

    def loader(self, X, y, batch_size, seed, shuffle=True):
        """The engine's own DataLoader over (X, y); its sampler gives both engines the same batches (EpochOrder)."""
        data = self.lib.utils.data
        sampler = EpochOrder(len(y), seed, shuffle)
        return data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, sampler=sampler)

    def make_optimizer(self, name, params, lr, **kwargs):
        cls = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad", "adadelta": "Adadelta",
               "rmsprop": "RMSprop"}[name.lower()]
        return getattr(self.optim, cls)(params, lr=lr, **kwargs)


def epoch_order(n, seed, epoch, shuffle=True):
    """The order in which epoch `epoch` visits the n training samples (the same for both engines)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


class EpochOrder:
    """A DataLoader sampler: epoch e (counted by its iterations) visits the samples in epoch_order(n, seed, e)."""

    def __init__(self, n, seed, shuffle=True):
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def __iter__(self):
        order = epoch_order(self.n, self.seed, self.epoch, self.shuffle)
        self.epoch += 1
        return iter(order.tolist())

    def __len__(self):
        return self.n


def train_epoch(E, model, loss_fn, optimizer, X, y, order, batch_size, bar=None, targets_float=False, at_step=None,
                losses=None):
    """One pass over X[order] in mini-batches; returns the per-step training losses (host array).

    at_step(): called before each step (a run's stop check: it raises to stop at a step boundary).
    losses: a list the step losses go into, holding those of the steps already done when an epoch stopped part way
    is resumed (the epoch goes on after them); the caller keeps it when a stop raises."""
    model.train()
    idx_all = E.tensor(order)
    losses = [] if losses is None else losses
    running, seen = 0.0, 0  # running mean of this epoch's losses, for the bar (read every 50 steps: .item() syncs)
    last = -(-len(order) // batch_size)
    if bar is not None and losses:
        bar.update(len(losses))
    for start in range(len(losses) * batch_size, len(order), batch_size):
        if at_step is not None:
            at_step()
        idx = idx_all[start:start + batch_size]
        out = model(X[idx])
        loss = loss_fn(out, y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
        if bar is not None:
            bar.update(1)
            if len(losses) % 50 == 0 or len(losses) == last:
                running += sum(loss_value(v) for v in losses[seen:])
                seen = len(losses)
                bar.set_postfix(loss=f"{running / seen:.4f}")
    return np.array([loss_value(v) for v in losses])


def loss_value(v):
    """A step's loss as a Python float: a detached loss tensor, or already a float (restored from a checkpoint)."""
    return v if isinstance(v, float) else float(v.item())


def predict(E, model, X, batch_size=1000):
    """Model outputs for all of X in eval mode, without a graph (host array)."""
    model.eval()
    outs = []
    with E.lib.no_grad():
        for start in range(0, X.shape[0], batch_size):
            outs.append(E.numpy(model(X[start:start + batch_size])))
    return np.concatenate(outs)


def evaluate(E, model, loss_fn, X, y, batch_size=1000):
    """(mean loss, accuracy, predicted classes) of a multi-class model over X, y."""
    model.eval()
    total, n = 0.0, X.shape[0]
    outs = []
    with E.lib.no_grad():
        for start in range(0, n, batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            out = model(xb)
            total += float(loss_fn(out, yb).item()) * xb.shape[0]
            outs.append(E.numpy(out))
    logits = np.concatenate(outs)
    pred = logits.argmax(1)
    return total / n, float((pred == E.numpy(y)).mean()), pred


def progress(total, desc, enabled=True):
    """A tqdm bar of `total` steps (None when disabled); given an iterable instead, that iterable under a bar."""
    if not enabled:
        return None if isinstance(total, int) else total
    from tqdm import tqdm

    if isinstance(total, int):
        return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
    return tqdm(total, desc=desc, leave=False, dynamic_ncols=True)


def load_arrays(name="mnist", data_dir=None, normalize=None, download=True):
    """(X_train, y_train, X_test, y_test) as host arrays: X float32 (N, 784) in [0, 1] (then normalised).

    Files not found locally are downloaded (verified) into data_dir or ./data unless download=False.
    """
    from minigrad.data import FashionMNIST, MNIST
    from minigrad.backend import to_numpy

    cls = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "fashion_mnist": FashionMNIST}[name]
    out, sources = [], {}
    for train in (True, False):
        ds = cls(root=data_dir, train=train, download=download)
        sources.update(ds.sources)
        images = to_numpy(getattr(ds.data, "array", ds.data))
        labels = to_numpy(getattr(ds.targets, "data", ds.targets)).astype(np.int64)
        X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)  # torchvision ToTensor
        if normalize is not None:
            mean, std = normalize
            X = (X - np.float32(mean)) / np.float32(std)
        out += [X, labels]
    print(data_line(cls.key, sources), flush=True)
    return tuple(out)


def data_line(key, sources):
    """One line: where each of the data set's files came from (folder or download address), and that each was
    checked against its published MD5 (minigrad.data refuses a file that is not)."""
    where = {}
    for fname, src in sources.items():
        url = "://" in src
        folder = src.rsplit("/", 1)[0] + "/" if url else os.path.dirname(os.path.abspath(src))
        where.setdefault(("downloaded from " if url else "from ") + folder, []).append(fname)
    parts = [f"{len(files)} files {w}" if len(files) > 1 else f"{files[0]} {w}" for w, files in where.items()]
    return f"data: {key}: {'; '.join(parts)}; every file's MD5 matches the published checksum"


def split_indices(n, n_val, seed):
    """Seeded split of range(n) into (train, validation) index arrays."""
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def out_dir(cfg, default):
    path = cfg.get("out") or default
    os.makedirs(path, exist_ok=True)
    return path


def write_json(path, obj):
    """JSON written whole or not at all (a kill mid-write leaves the previous file)."""
    from experiments.runs import write_json as atomic

    return atomic(path, obj)


def savefig(fig, path):
    from experiments.runs import savefig_atomic

    savefig_atomic(fig, path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        return False


def parser_for(module_doc, cfg, training=True):
    """argparse parser: the docstring's first line as description, the rest as epilog, and the common flags."""
    lines = module_doc.strip().splitlines()
    p = argparse.ArgumentParser(description=lines[0], epilog="\n".join(lines[1:]).strip() or None,
                                formatter_class=_HelpFormatter)
    return add_common_args(p, cfg, training)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the docstring's line breaks (its example commands) in the epilog."""


def plot_confusion(ax, cm, names, title):
    """Draw confusion matrix cm (rows = true, columns = predicted) on ax, counts written in each cell."""
    cm = np.asarray(cm)
    ax.imshow(cm, cmap="Blues")
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    return ax
