"""'What is torch.nn really?' (up to its convolutions) and d2l's MLP chapters (from scratch, concise, LazyLinear),
their calls run on minigrad with the imports swapped; small MNIST / Fashion-MNIST subsets from MINIGRAD_DATA.

Skipped on purpose: Mnist_CNN, nn.Conv2d, F.avg_pool2d, nn.AdaptiveAvgPool2d (convolutions are not in minigrad).
"""
import math

import numpy as np
import pytest
import torch as real_torch

import minigrad as torch  # the swap the tutorials are run with
from minigrad import nn
from minigrad.data import MNIST
from minigrad.utils.data import DataLoader, TensorDataset
from support.helpers import assert_close
from test_tutorials import DATA, _fashion, needs_data


# ---- What is torch.nn really? (up to its CNN) -----------------------------------------------------------
def _mnist_arrays(n_train=1000, n_valid=256):
    """The tutorial's (x_train, y_train), (x_valid, y_valid): float32 rows of 784 in [0, 1], int64 labels."""
    ds = MNIST(root=DATA, train=False, download=False)
    X = ds.data.numpy().reshape(-1, 784).astype(np.float32) / 255
    y = ds.targets.numpy()
    return (X[:n_train], y[:n_train]), (X[n_train:n_train + n_valid], y[n_train:n_train + n_valid])


def nn_tutorial_from_scratch(L, arrays, w0, epochs=1):
    """The 'Neural net from scratch' section: hand-written log_softmax, nll, accuracy and update loop."""
    x_train, y_train, x_valid, y_valid = map(L.tensor, arrays)
    n, c = x_train.shape
    weights = L.tensor(w0)
    weights.requires_grad_()
    bias = L.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    def accuracy(out, yb):
        preds = L.argmax(out, dim=1)
        return (preds == yb).float().mean()

    bs, lr, losses = 64, 0.5, []
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = nll(pred, yb)
            loss.backward()
            with L.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
            losses.append(loss.item())
    ce = L.nn.functional.cross_entropy(x_valid @ weights + bias, y_valid).item()
    return losses, accuracy(model(x_valid), y_valid).item(), ce


@needs_data
def test_nn_tutorial_from_scratch_matches_torch():
    (x_train, y_train), (x_valid, y_valid) = _mnist_arrays()
    w0 = (np.random.default_rng(0).standard_normal((784, 10)) / math.sqrt(784)).astype(np.float32)
    arrays = (x_train, y_train, x_valid, y_valid)
    losses, acc, ce = nn_tutorial_from_scratch(torch, arrays, w0)
    tlosses, tacc, tce = nn_tutorial_from_scratch(real_torch, arrays, w0)
    np.testing.assert_allclose(losses, tlosses, rtol=1e-4)
    assert acc == pytest.approx(tacc, abs=1 / len(y_valid)) and ce == pytest.approx(tce, rel=1e-4)
    assert losses[-1] < losses[0] and acc > 0.6


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


class Mnist_Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl, self.func = dl, func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for b in self.dl:
            yield self.func(*b)


@needs_data
def test_nn_tutorial_refactors_train():
    """nn.functional, nn.Module + nn.Parameter, nn.Linear, optim, TensorDataset, DataLoader, validation, fit."""
    import minigrad.nn.functional as F
    from minigrad import optim

    (x_train, y_train), (x_valid, y_valid) = _mnist_arrays()
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
    n, c = x_train.shape
    bs, lr, epochs = 64, 0.5, 1
    loss_func = F.cross_entropy
    xb, yb = x_train[:bs], y_train[:bs]

    def fit_manual(model):
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                xb, yb = x_train[i * bs:i * bs + bs], y_train[i * bs:i * bs + bs]
                loss = loss_func(model(xb), yb)
                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    for cls in (Mnist_Logistic, Mnist_Linear):
        model = cls()
        before = loss_func(model(xb), yb).item()
        fit_manual(model)
        assert loss_func(model(xb), yb).item() < before

    def get_model():
        model = Mnist_Linear()
        return model, optim.SGD(model.parameters(), lr=lr)

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        val_loss = None
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        return val_loss

    def get_data(train_ds, valid_ds, bs):
        return DataLoader(train_ds, batch_size=bs, shuffle=True), DataLoader(valid_ds, batch_size=bs * 2)

    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    model, opt = get_model()
    start = loss_func(model(x_valid), y_valid).item()
    for i in range((n - 1) // bs + 1):
        xb, yb = train_ds[i * bs: i * bs + bs]
        loss = loss_func(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
    with torch.no_grad():
        valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)
    assert (valid_loss / len(valid_dl)).item() < start
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model()
    assert fit(epochs, model, loss_func, opt, train_dl, valid_dl) < start
    # "Using your GPU" (without the CNN): a device object and batches moved by a wrapped loader
    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    train_dl = WrappedDataLoader(get_data(train_ds, valid_ds, bs)[0], lambda x, y: (x.view(-1, 784).to(dev), y.to(dev)))
    model = nn.Sequential(nn.Linear(784, 10)).to(dev)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    valid_dl = WrappedDataLoader(valid_dl, lambda x, y: (x.to(dev), y.to(dev)))
    assert fit(epochs, model, loss_func, opt, train_dl, valid_dl) < start
    # Skipped: Mnist_CNN, nn.Conv2d, F.avg_pool2d, nn.AdaptiveAvgPool2d (convolutions are not in minigrad)


# ---- d2l: MLP from scratch and concise ----------------------------------------------------------------
@needs_data
def test_d2l_mlp_from_scratch_and_concise():
    num_inputs, num_outputs, num_hiddens = 784, 10, 256
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    params = [W1, b1, W2, b2]

    def relu(X):
        a = torch.zeros_like(X)
        return torch.max(X, a)

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)
        return H @ W2 + b2

    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    loss = nn.CrossEntropyLoss(reduction="none")
    train_iter = DataLoader(_fashion(True, 512), batch_size=256, shuffle=True)
    test_iter = DataLoader(_fashion(False, 256), batch_size=256)

    def train_epoch(net, train_iter, loss, updater):
        if isinstance(net, torch.nn.Module):
            net.train()
        total = [0.0, 0.0, 0]
        for X, y in train_iter:
            y_hat = net(X)
            ls = loss(y_hat, y)
            updater.zero_grad()
            ls.mean().backward()
            updater.step()
            total = [total[0] + float(ls.sum()), total[1] + accuracy(y_hat, y), total[2] + y.numel()]
        return total[0] / total[2], total[1] / total[2]

    def evaluate_accuracy(net, data_iter):
        if isinstance(net, torch.nn.Module):
            net.eval()
        right = n = 0
        with torch.no_grad():
            for X, y in data_iter:
                right, n = right + accuracy(net(X), y), n + y.numel()
        return right / n

    updater = torch.optim.SGD(params, lr=0.1)
    first = train_epoch(net, train_iter, loss, updater)
    for _ in range(2):
        last = train_epoch(net, train_iter, loss, updater)
    assert last[0] < first[0] and 0.0 <= evaluate_accuracy(net, test_iter) <= 1.0

    concise = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

    def init_weights(m):
        if type(m) == nn.Linear:  # noqa: E721  (d2l's test, kept as written)
            nn.init.normal_(m.weight, std=0.01)

    concise.apply(init_weights)
    trainer = torch.optim.SGD(concise.parameters(), lr=0.1)
    first = train_epoch(concise, train_iter, loss, trainer)
    for _ in range(2):
        last = train_epoch(concise, train_iter, loss, trainer)
    assert last[0] < first[0] and 0.0 <= evaluate_accuracy(concise, test_iter) <= 1.0
    # the current d2l edition builds the same MLP from LazyLinear: sizes come from the first batch, then it is Linear
    lazy = nn.Sequential(nn.Flatten(), nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    tlazy = real_torch.nn.Sequential(real_torch.nn.Flatten(), real_torch.nn.LazyLinear(256), real_torch.nn.ReLU(),
                                     real_torch.nn.LazyLinear(10))
    assert str(lazy) == str(tlazy)
    trainer = torch.optim.SGD(lazy.parameters(), lr=0.1)  # made before the sizes are known: still the same params
    X, _ = next(iter(train_iter))
    assert lazy(X).shape == tuple(tlazy(real_torch.from_numpy(X.numpy())).shape) and str(lazy) == str(tlazy)
    assert all(abs(p).max().item() <= 1 / math.sqrt(n) for p, n in zip(lazy.parameters(), (784, 784, 256, 256)))
    first = train_epoch(lazy, train_iter, loss, trainer)
    last = train_epoch(lazy, train_iter, loss, trainer)
    assert last[0] < first[0]
    # d2l's synthetic regression data and init, through torch.normal
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    X = torch.normal(0, 1, (100, len(true_w)))
    y = torch.matmul(X, true_w) + true_b
    y += torch.normal(0, 0.01, y.shape)
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(200):
        ls = ((torch.matmul(X, w) + b - y.reshape((-1, 1))) ** 2 / 2).mean()
        ls.backward()
        with torch.no_grad():
            for param in (w, b):
                param -= 0.1 * param.grad
                param.grad.zero_()
    assert_close(w.reshape(-1), real_torch.tensor([2.0, -3.4]), atol=0.05, rtol=0)
