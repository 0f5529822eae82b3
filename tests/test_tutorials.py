"""The official PyTorch "Learn the Basics" tutorials, their calls run on minigrad with the imports swapped
("What is torch.nn really?" and d2l's MLP chapters: test_tutorials_nn.py).

Data comes from minigrad.data with MINIGRAD_DATA (no downloads), in small subsets and one short epoch, so the
module runs in seconds. Where a step can be replayed on torch from the same state, it is, and compared.
Skipped on purpose: torchvision models (vgg16) and matplotlib; pandas/read_image in the custom-dataset example (an
in-memory dataset stands in).
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
from minigrad.data import FashionMNIST, Lambda, ToTensor
from minigrad.utils.data import DataLoader, Dataset, Subset
from support.helpers import assert_close

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
