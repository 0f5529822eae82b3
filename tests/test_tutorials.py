"""The official PyTorch beginner tutorials ("Learn the Basics" and "What is torch.nn really?" up to its
convolutions), their calls run on minigrad with the imports swapped; d2l's MLP chapters' idioms too.

Data comes from minigrad.data with MINIGRAD_DATA (no downloads), in small subsets and one short epoch, so the
module runs in seconds. Where a step can be replayed on torch from the same state, it is, and compared.
Skipped on purpose: the convolution parts of "torch.nn really?" (Conv2d, avg_pool2d: not in minigrad), torchvision
models (vgg16) and matplotlib; pandas/read_image in the custom-dataset example (an in-memory dataset stands in).
"""
import contextlib
import io
import math
import os
import re

import numpy as np
import pytest
import torch as real_torch

import minigrad as torch  # the swap the tutorials are run with
from minigrad import nn
from minigrad.data import FashionMNIST, MNIST, Lambda, ToTensor
from minigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset
from helpers import assert_close

DATA = os.environ.get("MINIGRAD_DATA")
needs_data = pytest.mark.skipif(
    not (DATA and os.path.isdir(os.path.join(DATA, "fashion-mnist")) and os.path.isdir(os.path.join(DATA, "mnist"))),
    reason="MNIST / Fashion-MNIST not found: set MINIGRAD_DATA to the shared data folder (no downloads here)")


def _prints(fn, *args):
    """What fn prints, as a list of lines."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(*args)
    return buf.getvalue().splitlines()


def _no_addresses(lines):
    return [re.sub(r"0x[0-9a-f]+", "0x", line) for line in lines]


# ---- Tensors --------------------------------------------------------------------------------------
def tensors_tutorial(L):
    """The tutorial's deterministic steps (its random tensors are printed by shape only)."""
    data = [[1, 2], [3, 4]]
    x_data = L.tensor(data)
    x_np = L.from_numpy(np.array(data))
    print(f"Ones Tensor: \n {L.ones_like(x_data)} \n", x_np)
    x_rand = L.rand_like(x_data, dtype=L.float)
    print(x_rand.shape, x_rand.dtype)
    shape = (2, 3,)
    print(L.rand(shape).shape, L.ones(shape), L.zeros(shape))
    tensor = L.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    if L.cuda.is_available():
        tensor = tensor.to("cuda")
    tensor = L.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    print(tensor)
    print(L.cat([tensor, tensor, tensor], dim=1))
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = L.rand_like(y1)
    L.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = L.rand_like(tensor)
    L.mul(tensor, tensor, out=z3)
    print(y1, y2, y3, z1, z2, z3)
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    print(f"{tensor} \n")
    tensor.add_(5)
    print(tensor)
    t = L.ones(5)
    n = t.numpy()
    t.add_(1)
    print(f"t: {t}", f"n: {n}")
    n = np.ones(5)
    t = L.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}", f"n: {n}")


def test_tensors_tutorial_prints_what_torch_prints():
    assert _prints(tensors_tutorial, torch) == _prints(tensors_tutorial, real_torch)


# ---- Datasets & DataLoaders, Transforms ---------------------------------------------------------
class InMemoryImages(Dataset):
    """The tutorial's CustomImageDataset shape (__init__/__len__/__getitem__, transforms), without files."""

    def __init__(self, images, labels, transform=None, target_transform=None):
        self.images, self.labels = images, labels
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image, label = self.images[idx], int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


@needs_data
def test_datasets_dataloaders_and_transforms_tutorials():
    training_data = FashionMNIST(root=DATA, train=True, download=False, transform=ToTensor())
    sample_idx = torch.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    assert img.shape == (1, 28, 28) and img.dtype == torch.float32 and 0 <= label <= 9
    assert img.squeeze().shape == (28, 28)
    train_dataloader = DataLoader(Subset(training_data, range(256)), batch_size=64, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    assert f"Feature batch shape: {train_features.size()}" == "Feature batch shape: torch.Size([64, 1, 28, 28])"
    assert f"Labels batch shape: {train_labels.size()}" == "Labels batch shape: torch.Size([64])"
    assert train_features[0].squeeze().shape == (28, 28) and 0 <= int(train_labels[0]) <= 9
    # the one-hot target transform (scatter_ with value=), in both spellings of the tutorial
    one_hot = Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1))
    one_hot_kw = Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(dim=0, index=torch.tensor(y), value=1))
    ds = FashionMNIST(root=DATA, train=True, download=False, transform=ToTensor(), target_transform=one_hot)
    for i in range(5):
        _, target = ds[i]
        want = real_torch.zeros(10).scatter_(0, real_torch.tensor(int(training_data.targets[i])), value=1)
        assert target.dtype == torch.float32 and target.tolist() == want.tolist() == one_hot_kw(
            int(training_data.targets[i])).tolist()
    custom = InMemoryImages(training_data.data[:10], training_data.targets[:10], transform=ToTensor(),
                            target_transform=one_hot)
    xb, yb = next(iter(DataLoader(custom, batch_size=4)))
    assert len(custom) == 10 and xb.shape == (4, 1, 28, 28) and yb.shape == (4, 10) and yb.sum().item() == 4.0


# ---- Build Model, Quickstart, Optimization, Save & Load ----------------------------------------------
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


class TorchNeuralNetwork(real_torch.nn.Module):
    def __init__(self):
        super().__init__()
        nn_ = real_torch.nn
        self.flatten = nn_.Flatten()
        self.linear_relu_stack = nn_.Sequential(
            nn_.Linear(28 * 28, 512), nn_.ReLU(), nn_.Linear(512, 512), nn_.ReLU(), nn_.Linear(512, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def test_build_model_tutorial():
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    old_device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert device == old_device
    model = NeuralNetwork().to(device)
    assert str(model) == str(TorchNeuralNetwork()).replace("TorchNeuralNetwork", "NeuralNetwork")
    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    assert re.fullmatch(r"Predicted class: tensor\(\[\d\](, device='cuda:0')?\)", f"Predicted class: {y_pred}")
    input_image = torch.rand(3, 28, 28)
    flat_image = nn.Flatten()(input_image)
    layer1 = nn.Linear(in_features=28 * 28, out_features=20)
    hidden1 = nn.ReLU()(layer1(flat_image))
    assert (input_image.size(), flat_image.size(), hidden1.size()) == ((3, 28, 28), (3, 784), (3, 20))
    assert "grad_fn=<ReluBackward0>" in f"After ReLU: {hidden1}"
    seq_modules = nn.Sequential(nn.Flatten(), layer1, nn.ReLU(), nn.Linear(20, 10))
    pred_probab = nn.Softmax(dim=1)(seq_modules(torch.rand(3, 28, 28)))
    assert_close(pred_probab.sum(1), real_torch.ones(3))
    for (name, param), (tname, tparam) in zip(model.named_parameters(), TorchNeuralNetwork().named_parameters()):
        line = f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n"
        assert name == tname and f"Size: {tparam.size()} |" in line and "grad_fn=<SliceBackward0>" in line


def _fashion(train, n):
    ds = FashionMNIST(root=DATA, train=train, download=False, transform=ToTensor())
    return Subset(ds, range(n))


def train_loop(dataloader, model, loss_fn, optimizer, batch_size=64):
    size = len(dataloader.dataset)
    model.train()
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if batch % 2 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    return losses


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct, test_loss


test_loop.__test__ = False  # the tutorial's name, not a pytest test


@needs_data
def test_quickstart_and_optimization_tutorials_match_torch_step_by_step(tmp_path):
    training_data, test_data = _fashion(True, 192), _fashion(False, 128)
    train_dataloader = DataLoader(training_data, batch_size=64)
    test_dataloader = DataLoader(test_data, batch_size=64)
    for X, y in test_dataloader:
        assert f"Shape of X [N, C, H, W]: {X.shape}" == "Shape of X [N, C, H, W]: torch.Size([64, 1, 28, 28])"
        assert f"Shape of y: {y.shape} {y.dtype}" == "Shape of y: torch.Size([64]) torch.int64"
        break
    model, tmodel = NeuralNetwork(), TorchNeuralNetwork()
    tmodel.load_state_dict({k: real_torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    lines = _prints(lambda: train_loop(train_dataloader, model, loss_fn, optimizer))
    assert re.fullmatch(r"loss: \d\.\d{6}  \[   64/  192\]", lines[0]) and len(lines) == 2
    # the same epoch on torch, from the same weights and batches: the same losses and weights
    topt = real_torch.optim.SGD(tmodel.parameters(), lr=1e-1)
    model2 = NeuralNetwork()
    model2.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()})
    ours = train_loop(train_dataloader, model2, loss_fn, torch.optim.SGD(model2.parameters(), lr=1e-1))
    theirs = []
    for X, y in train_dataloader:
        loss = real_torch.nn.functional.cross_entropy(tmodel(real_torch.from_numpy(X.numpy())),
                                                      real_torch.from_numpy(y.numpy()))
        loss.backward()
        topt.step()
        topt.zero_grad()
        theirs.append(loss.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    for k, v in model2.state_dict().items():
        assert_close(v, tmodel.state_dict()[k], rtol=1e-4, atol=1e-5)
    correct, avg = test_loop(test_dataloader, model, loss_fn)
    assert 0.0 <= correct <= 1.0 and math.isfinite(avg)
    # save & load: the state dict (safe default), then the whole model (pickle, weights_only=False)
    torch.save(model.state_dict(), tmp_path / "model.pth")
    model3 = NeuralNetwork()
    model3.load_state_dict(torch.load(tmp_path / "model.pth", weights_only=True))
    model3.eval()
    torch.save(model3, tmp_path / "model_full.pth")
    model4 = torch.load(tmp_path / "model_full.pth", weights_only=False)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        pred = model4(x)
        predicted, actual = classes[pred[0].argmax(0)], classes[y]
    assert predicted == classes[model(x)[0].argmax(0)] and actual in classes
    assert torch.equal(model4(x), model(x))


# ---- Autograd ----------------------------------------------------------------------------------------
def autograd_tutorial(L, w0, b0):
    x = L.ones(5)
    y = L.zeros(3)
    w = L.tensor(w0, requires_grad=True)
    b = L.tensor(b0, requires_grad=True)
    z = L.matmul(x, w) + b
    loss = L.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    loss.backward()
    print(w.grad)
    print(b.grad)
    print(z.requires_grad)
    with L.no_grad():
        z = L.matmul(x, w) + b
    print(z.requires_grad)
    print(L.matmul(x, w).add(b).detach().requires_grad)
    inp = L.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(L.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(L.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(L.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")


def test_autograd_tutorial_prints_what_torch_prints():
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    ours, theirs = _prints(autograd_tutorial, torch, w0, b0), _prints(autograd_tutorial, real_torch, w0, b0)
    assert _no_addresses(ours) == _no_addresses(theirs)
    assert ours[0].startswith("Gradient function for z = <AddBackward0 object at 0x")
    assert ours[1].startswith("Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object")


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
