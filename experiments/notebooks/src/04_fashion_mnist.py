# %% [markdown]
# # 4. Fashion-MNIST with a feed-forward network
#
# 28x28 greyscale images of 10 kinds of clothing. The pixels are scaled to [0, 1] (`ToTensor`) and then to
# [-1, 1] (`Normalize((0.5,), (0.5,))`: (x - 0.5) / 0.5). A 784-128-64-10 network with ReLU and Dropout(0.2),
# cross-entropy, plain SGD with lr 1e-3 for 100 epochs, as in the course. Then the curves, the test accuracy
# and one image with its predicted probabilities.
#
# `QUICK = True` trains 2 epochs on 2,000 images and evaluates on 1,000 (a check that everything runs,
# not a result).

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
from minigrad.data import DataLoader, FashionMNIST, Subset, random_split, transforms

# ---- config: the course's values (QUICK: a small run that only checks the notebook works) ----
EPOCHS = 2 if QUICK else 100
BATCH_SIZE = 100
LR = 1e-3                       # plain SGD, no momentum
N_TRAIN, N_EVAL = (2000, 1000) if QUICK else (None, None)  # QUICK: subsets for training and for evaluation
SEED = 0
torch.manual_seed(SEED)

# %% [markdown]
# ## The data
# 60,000 training images, of which 6,000 are held out for validation, and the official 10,000 test images.

# %%
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_full = FashionMNIST(train=True, transform=transform)
test_set = FashionMNIST(train=False, transform=transform)
train_set, val_set = random_split(train_full, [54000, 6000], seed=SEED)
if QUICK:
    train_set, val_set, test_set = (Subset(train_set, range(N_TRAIN)), Subset(val_set, range(N_EVAL)),
                                    Subset(test_set, range(N_EVAL)))
classes = FashionMNIST.classes

train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=SEED)
val_loader = DataLoader(val_set, batch_size=1000)
test_loader = DataLoader(test_set, batch_size=1000)
print(f"train {len(train_set)}, validation {len(val_set)}, test {len(test_set)}")
image, label = train_set[0]
print("one image:", image.shape, image.dtype, f"values in [{image.min().item():.1f}, {image.max().item():.1f}]",
      "label", label, classes[label])

# %% [markdown]
# ## Nine training images with their class names
# Displayed as x * 0.5 + 0.5, which undoes the normalisation.

# %%
fig, ax = plt.subplots(3, 3, figsize=(6, 6.5))
for i, a in enumerate(ax.flat):
    image, label = train_set[i]
    a.imshow(image.squeeze().numpy() * 0.5 + 0.5, cmap="gray")
    a.set_title(classes[label], fontsize=9)
    a.axis("off")
plt.show()

# %% [markdown]
# ## The network

# %%
class FeedforwardNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)
        self.relu = nn.ReLU()
        self.dropout1 = nn.Dropout(0.2)
        self.dropout2 = nn.Dropout(0.2)

    def forward(self, x):
        x = self.flatten(x)
        x = self.dropout1(self.relu(self.fc1(x)))
        x = self.dropout2(self.relu(self.fc2(x)))
        return self.fc3(x)  # raw scores: CrossEntropyLoss applies the log-softmax


model = FeedforwardNN()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
print(model)

# %% [markdown]
# ## Training
# `model.train()` switches dropout on, `model.eval()` off. Per batch: **forward**, **loss**, `zero_grad`,
# **backward**, **step**; after each epoch the validation loss and accuracy, without a graph (`no_grad`).

# %%
def evaluate(loader):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            outputs = model(images)
            total += criterion(outputs, labels).item() * labels.shape[0]
            _, predicted = torch.max(outputs, 1)
            correct += (predicted == labels).sum().item()
            n += labels.shape[0]
    return total / n, correct / n


history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
for epoch in range(EPOCHS):
    model.train()
    running, correct, n = 0.0, 0, 0
    for images, labels in train_loader:
        outputs = model(images)              # forward
        loss = criterion(outputs, labels)    # loss
        optimizer.zero_grad()
        loss.backward()                      # backward
        optimizer.step()                     # step
        running += loss.item() * labels.shape[0]
        _, predicted = torch.max(outputs.detach(), 1)
        correct += (predicted == labels).sum().item()
        n += labels.shape[0]
    val_loss, val_acc = evaluate(val_loader)
    for k, v in zip(history, (running / n, correct / n, val_loss, val_acc)):
        history[k].append(v)
    if QUICK or epoch % 10 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch + 1:3d}  train loss {running / n:.4f} acc {100 * correct / n:.2f}%  "
              f"val loss {val_loss:.4f} acc {100 * val_acc:.2f}%")

# %% [markdown]
# ## Curves and the test accuracy
# The training numbers are measured during the epoch, with dropout on and the weights still moving.

# %%
test_loss, test_acc = evaluate(test_loader)
print(f"test loss {test_loss:.4f}  test accuracy {100 * test_acc:.2f}%")

epochs = np.arange(1, EPOCHS + 1)
fig, ax = plt.subplots(1, 2, figsize=(11, 4))
ax[0].plot(epochs, history["train_loss"], "o-", label="train")
ax[0].plot(epochs, history["val_loss"], "s-", label="validation")
ax[0].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
ax[1].plot(epochs, 100 * np.array(history["train_acc"]), "o-", label="train")
ax[1].plot(epochs, 100 * np.array(history["val_acc"]), "s-", label="validation")
ax[1].axhline(100 * test_acc, color="k", ls="--", lw=1, label=f"test {100 * test_acc:.2f}%")
ax[1].set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
for a in ax:
    a.legend()
plt.show()

# %% [markdown]
# ## One image and what the network says about it
# The softmax of the scores gives a probability per class.

# %%
image, label = test_set[0]
model.eval()
with torch.no_grad():
    probs = torch.softmax(model(image.unsqueeze(0)), dim=1)[0]
predicted = int(torch.argmax(probs).item())
print(f"true: {classes[label]}   predicted: {classes[predicted]} ({100 * probs[predicted].item():.1f}%)")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
ax[0].imshow(image.squeeze().numpy() * 0.5 + 0.5, cmap="gray")
ax[0].set_title(f"true {classes[label]}, predicted {classes[predicted]}", fontsize=9)
ax[0].axis("off")
ax[1].barh(range(10), probs.numpy())
ax[1].set(yticks=range(10), xlim=(0, 1), xlabel="probability")
ax[1].set_yticklabels(classes, fontsize=8)
ax[1].invert_yaxis()
plt.show()
