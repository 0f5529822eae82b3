# %% [markdown]
# # 5. The MNIST MLP: 784-500-300-10
#
# The course's network (Hinton 2005; LeCun's table lists 1.53% test error for it with weight decay):
# two hidden ReLU layers of 500 and 300 units, cross-entropy, Adam with lr 1e-3, batches of 100, 20 epochs.
# 54,000 images train, 6,000 validate; the train and validation error after each epoch; then the error on
# the official 10,000 test images with its 95% confidence interval.
#
# `QUICK = True` trains 1 epoch on 3,000 images and tests on 2,000 (a check that everything runs, not a result).

# %% tags=["parameters"]
QUICK = False

# %%
import pathlib
import sys

ROOT = pathlib.Path.cwd().resolve()  # the repository root, first on sys.path: its minigrad is the one imported
while not (ROOT / "minigrad" / "__init__.py").is_file() and ROOT != ROOT.parent:
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

import minigrad as torch
import minigrad.nn as nn
from minigrad.data import MNIST, DataLoader, Subset, random_split, transforms
from minigrad.metrics import error_rate_ci

# ---- config: the course's values (QUICK: a small run that only checks the notebook works) ----
EPOCHS = 1 if QUICK else 20
BATCH_SIZE = 100
LR = 1e-3
N_TRAIN, N_VAL, N_TEST = (3000, 1000, 2000) if QUICK else (None, None, None)
SEED = 0
torch.manual_seed(SEED)

# %% [markdown]
# ## The data

# %%
train_full = MNIST(train=True, transform=transforms.ToTensor())
test_set = MNIST(train=False, transform=transforms.ToTensor())
train_set, val_set = random_split(train_full, [54000, 6000], seed=SEED)
if QUICK:
    train_set, val_set = Subset(train_set, range(N_TRAIN)), Subset(val_set, range(N_VAL))
    test_set = Subset(test_set, range(N_TEST))

train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=SEED)
val_loader = DataLoader(val_set, batch_size=1000)
test_loader = DataLoader(test_set, batch_size=1000)
print(f"train {len(train_set)}, validation {len(val_set)}, test {len(test_set)}")

# %% [markdown]
# ## The network, the loss, the optimizer

# %%
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 500), nn.ReLU(),
    nn.Linear(500, 300), nn.ReLU(),
    nn.Linear(300, 10),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters")

# %% [markdown]
# ## Training
# Per batch: **forward**, **loss**, `zero_grad`, **backward**, **step**. After each epoch the error on
# the training and the validation images, measured in eval mode without a graph.

# %%
def errors(loader):
    """(number of wrong predictions, number of images) over a loader."""
    model.eval()
    wrong, n = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            _, predicted = torch.max(model(images), 1)
            wrong += (predicted != labels).sum().item()
            n += labels.shape[0]
    return wrong, n


history = {"train_error": [], "val_error": []}
for epoch in range(EPOCHS):
    t0 = time.perf_counter()
    model.train()
    for images, labels in train_loader:
        outputs = model(images)              # forward
        loss = criterion(outputs, labels)    # loss
        optimizer.zero_grad()
        loss.backward()                      # backward
        optimizer.step()                     # step
    seconds = time.perf_counter() - t0
    train_wrong, train_n = errors(train_loader)
    val_wrong, val_n = errors(val_loader)
    history["train_error"].append(train_wrong / train_n)
    history["val_error"].append(val_wrong / val_n)
    print(f"epoch {epoch + 1:2d}  last loss {loss.item():.4f}  train error {100 * train_wrong / train_n:.2f}%  "
          f"validation error {100 * val_wrong / val_n:.2f}%  ({seconds:.1f} s)")

# %% [markdown]
# ## Test error and its 95% confidence interval
# The test error is a proportion measured on n = 10,000 images (2,000 with QUICK). The Wilson score interval
# says where the true error rate of this trained network lies with 95% confidence.

# %%
test_wrong, test_n = errors(test_loader)
rate, low, high = error_rate_ci(test_wrong, test_n, 0.95, method="wilson")
print(f"test error {100 * rate:.2f}% ({test_wrong}/{test_n}), 95% CI [{100 * low:.2f}%, {100 * high:.2f}%]")

# %% [markdown]
# ## Error curves

# %%
epochs = np.arange(1, EPOCHS + 1)
fig, ax = plt.subplots(figsize=(6.5, 4.5))
ax.plot(epochs, 100 * np.array(history["train_error"]), "o-", label="train")
ax.plot(epochs, 100 * np.array(history["val_error"]), "s-", label="validation")
ax.axhline(100 * rate, color="k", ls="--", lw=1, label=f"test {100 * rate:.2f}%")
ax.axhspan(100 * low, 100 * high, color="k", alpha=0.1, label="test 95% CI")
ax.set(xlabel="epoch", ylabel="error (%)", yscale="log", title="MNIST 784-500-300-10, Adam")
ax.yaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 15, 20, 30, 50]))  # plain numbers
ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
ax.yaxis.set_minor_formatter(NullFormatter())
ax.legend()
plt.show()
