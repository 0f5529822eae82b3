# %% [markdown]
# # 3. A binary classifier: 1 against 7
#
# MNIST's 1s and 7s, the 7 the positive class (target 1.0), a 784-64-1 network with a LeakyReLU and a sigmoid
# output. Two losses for the same network from the same initial weights: the **L1 loss** |p - y| and the
# **binary cross-entropy**. First what each loss charges and how its gradient pushes, then the training,
# the validation curves, and the confusion matrix on the test set.
#
# `QUICK = True` trains a few epochs on 2,000 images (a check that everything runs, not a result).

# %% tags=["parameters"]
QUICK = False

# %%
import pathlib
import sys

ROOT = pathlib.Path.cwd().resolve()  # the repository root, first on sys.path: its minigrad is the one imported
while not (ROOT / "minigrad" / "__init__.py").is_file() and ROOT != ROOT.parent:
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt
import numpy as np

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import MNIST, DataLoader, Subset, filter_by_labels, stratified_split, transforms
from minigrad.metrics import binary_counts, confusion_matrix, precision, recall

# ---- config: the course's values (QUICK: a small run that only checks the notebook works) ----
DIGITS, POSITIVE = (1, 7), 7   # target 1.0 for a 7, 0.0 for a 1
EPOCHS = 3 if QUICK else 51    # the course: for epoch in range(51)
EVAL_EVERY = 1 if QUICK else 5
BATCH_SIZE = 256
LR = 1e-3                      # plain SGD
N_TRAIN = 2000 if QUICK else None
SEED = 0

# %% [markdown]
# ## What each loss charges, and its gradient
# For a true label y = 0 and a prediction p in (0, 1): BCE = -log(1 - p), L1 = |p|, squared error p^2.
# Autograd gives dL/dp: L1's gradient is 1 wherever p > 0, however wrong p is; BCE's grows without bound
# as p -> 1, so a confident mistake gets the strongest push.

# %%
y0 = torch.zeros(199)
curves = {}
for name, fn in [("BCE", F.binary_cross_entropy), ("L1", F.l1_loss), ("squared error", F.mse_loss)]:
    p = torch.linspace(0.005, 0.995, 199).requires_grad_()
    values = fn(p, y0, reduction="none")
    values.sum().backward()  # each term depends on its own p_i only: d(sum)/dp_i = dl_i/dp_i
    curves[name] = (p.detach().numpy(), values.detach().numpy(), p.grad.numpy())

fig, ax = plt.subplots(1, 2, figsize=(11, 4))
for name, (p, v, g) in curves.items():
    ax[0].plot(p, v, label=name)
    ax[1].plot(p, g, label=name)
ax[0].set(xlabel="prediction p", ylabel="loss", title="losses for target y = 0", ylim=(-0.05, 5))
ax[1].set(xlabel="prediction p", ylabel="dL/dp", title="their gradients (autograd)", ylim=(-0.5, 10))
for a in ax:
    a.legend()
plt.show()

# %% [markdown]
# ## The data
# Training: every 1 and 7 of MNIST's training set. Validation and test: the 1s and 7s of the official test
# set, split half and half within each class.

# %%
train_all = MNIST(train=True, transform=transforms.ToTensor())
test_all = MNIST(train=False, transform=transforms.ToTensor())
train_set = filter_by_labels(train_all, DIGITS)  # labels stay the digits themselves (1 or 7)
test_17 = filter_by_labels(test_all, DIGITS)
val_idx, test_idx = stratified_split(test_17.targets, 0.5, seed=SEED)
val_set, test_set = Subset(test_17, val_idx), Subset(test_17, test_idx)
if N_TRAIN is not None:
    train_set = Subset(train_set, range(N_TRAIN))
val_loader = DataLoader(val_set, batch_size=1000)
test_loader = DataLoader(test_set, batch_size=1000)
print(f"train {len(train_set)}, validation {len(val_set)}, test {len(test_set)}")

# %% [markdown]
# ## The network

# %%
class BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 64)
        self.act = nn.LeakyReLU()
        self.fc2 = nn.Linear(64, 1)
        self.out = nn.Sigmoid()

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.out(self.fc2(self.act(self.fc1(x))))


torch.manual_seed(SEED)
init = BinaryNet()  # both losses start from these weights
print(init)
print(sum(p.numel() for p in init.parameters()), "parameters")

# %% [markdown]
# ## Training: the loop
# Per batch: the course's target line, **forward**, **loss**, `zero_grad`, **backward**, **step**.
# The loader is seeded, so both losses see the same batches in the same order.

# %%
def evaluate(model, loss_fn, loader):
    """Mean loss, accuracy, true and predicted 0/1 labels (predict 7 when the output > 0.5)."""
    model.eval()
    total, trues, preds = 0.0, [], []
    with torch.no_grad():
        for images, digits in loader:
            labels = (digits == POSITIVE).float().view(-1, 1)
            outputs = model(images)
            total += loss_fn(outputs, labels).item() * labels.shape[0]
            trues.append(labels.view(-1).numpy())
            preds.append((outputs > 0.5).float().view(-1).numpy())
    trues, preds = np.concatenate(trues), np.concatenate(preds)
    return total / len(trues), float((trues == preds).mean()), trues, preds


def train(model, loss_fn):
    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=SEED)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    history = {"epoch": [], "train_loss": [], "val_loss": [], "val_acc": []}
    for epoch in range(EPOCHS):
        model.train()
        running, steps = 0.0, 0
        for images, digits in train_loader:
            labels = (digits == POSITIVE).float().view(-1, 1)  # 1.0 for a 7, 0.0 for a 1, shaped like the output
            outputs = model(images)                             # forward
            loss = loss_fn(outputs, labels)                     # loss
            optimizer.zero_grad()
            loss.backward()                                     # backward
            optimizer.step()                                    # step
            running, steps = running + loss.item(), steps + 1
        if epoch % EVAL_EVERY == 0 or epoch == EPOCHS - 1:
            val_loss, val_acc, _, _ = evaluate(model, loss_fn, val_loader)
            history["epoch"].append(epoch)
            history["train_loss"].append(running / steps)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            print(f"epoch {epoch:3d}  train loss {running / steps:.4f}  val loss {val_loss:.4f}  "
                  f"val accuracy {100 * val_acc:.2f}%")
    return history


models, histories = {}, {}
for name, loss_fn in [("L1", nn.L1Loss()), ("BCE", nn.BCELoss())]:
    print(f"--- {name} ---")
    models[name] = BinaryNet()
    models[name].load_state_dict(init.state_dict())
    histories[name] = train(models[name], loss_fn)

# %% [markdown]
# ## Curves

# %%
fig, ax = plt.subplots(1, 3, figsize=(15, 4))
for a, name in zip(ax, histories):
    h = histories[name]
    a.plot(h["epoch"], h["train_loss"], "o-", label="train (mean over the epoch)")
    a.plot(h["epoch"], h["val_loss"], "s-", label="validation")
    a.set(xlabel="epoch", ylabel=f"{name} loss", title=name)
    a.legend()
for name, h in histories.items():
    ax[2].plot(h["epoch"], 100 * np.array(h["val_acc"]), "o-", label=name)
ax[2].set(xlabel="epoch", ylabel="validation accuracy (%)", title="1 vs 7")
ax[2].legend()
plt.show()

# %% [markdown]
# ## Test set: confusion matrix, precision and recall
# Rows are the true class, columns the prediction. Precision = TP / (TP + FP): of the images called 7, how
# many are 7s; recall = TP / (TP + FN): of the 7s, how many were found.

# %%
from experiments.common import plot_confusion

fig, ax = plt.subplots(1, 2, figsize=(10, 4))
for a, (name, model) in zip(ax, models.items()):
    loss_fn = nn.L1Loss() if name == "L1" else nn.BCELoss()
    test_loss, test_acc, trues, preds = evaluate(model, loss_fn, test_loader)
    c = binary_counts(trues, preds, pos_label=1)
    print(f"{name:>3}: TP {c.tp} TN {c.tn} FP {c.fp} FN {c.fn}  accuracy {100 * test_acc:.2f}%  "
          f"precision {precision(trues, preds):.4f}  recall {recall(trues, preds):.4f}")
    plot_confusion(a, confusion_matrix(trues, preds, num_classes=2), ["1 (neg)", "7 (pos)"],
                   f"{name}: accuracy {100 * test_acc:.2f}%")
plt.show()
