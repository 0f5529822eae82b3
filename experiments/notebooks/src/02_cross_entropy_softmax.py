# %% [markdown]
# # 2. Softmax and cross-entropy
#
# By hand in NumPy first, then with the library (`minigrad` as `torch`): softmax turns scores (logits) into
# probabilities, cross-entropy measures how much probability the model gave the true class.
# `nn.CrossEntropyLoss` takes **raw logits** and **class indices**: it applies log-softmax itself.

# %% tags=["parameters"]
QUICK = False  # this notebook is fast either way; every notebook takes the same parameter

# %%
import pathlib
import sys

ROOT = pathlib.Path.cwd().resolve()  # the repository root, first on sys.path: its minigrad is the one imported
while not (ROOT / "minigrad" / "__init__.py").is_file() and ROOT != ROOT.parent:
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

import numpy as np

import minigrad as torch
import minigrad.nn as nn

np.set_printoptions(precision=4, floatmode="fixed")

# %% [markdown]
# ## Softmax
# S(y_i) = exp(y_i) / sum_j exp(y_j): positive, sums to 1, keeps the order of the scores.

# %%
def softmax(x):
    return np.exp(x) / np.sum(np.exp(x), axis=0)


x = np.array([2.0, 1.0, 0.1])
outputs = softmax(x)
print("softmax numpy:", outputs)

# %%
x = torch.tensor([2.0, 1.0, 0.1])
outputs = torch.softmax(x, dim=0)
print("softmax minigrad:", outputs)

# %% [markdown]
# ## Cross-entropy by hand
# D(Y_hat, Y) = -sum_i Y_i log(Y_hat_i), with Y one-hot: minus the log of the probability given to the
# true class. A confident right answer costs little, a confident wrong one a lot.

# %%
def cross_entropy(actual, predicted):
    loss = -np.sum(actual * np.log(predicted))
    return loss  # / float(predicted.shape[0]) for the mean over a batch


# y must be one-hot encoded: class 0 -> [1 0 0], class 1 -> [0 1 0], class 2 -> [0 0 1]
Y = np.array([1, 0, 0])
Y_pred_good = np.array([0.7, 0.2, 0.1])
Y_pred_bad = np.array([0.1, 0.3, 0.6])
l1 = cross_entropy(Y, Y_pred_good)
l2 = cross_entropy(Y, Y_pred_bad)
print(f"Loss1 numpy: {l1:.4f}")
print(f"Loss2 numpy: {l2:.4f}")

# %% [markdown]
# ## `nn.CrossEntropyLoss`
# = `nn.LogSoftmax` + `nn.NLLLoss`. So: **no softmax in the last layer**, and Y holds class labels, not
# one-hot rows. Y_pred has shape (n_samples, n_classes) and holds raw scores.

# %%
loss = nn.CrossEntropyLoss()

Y = torch.tensor([0])
Y_pred_good = torch.tensor([[2.0, 1.0, 0.1]])
Y_pred_bad = torch.tensor([[0.5, 2.0, 0.3]])
l1 = loss(Y_pred_good, Y)
l2 = loss(Y_pred_bad, Y)
print(f"Loss1 one sample: {l1.item():.4f}")
print(f"Loss2 one sample: {l2.item():.4f}")

_, predictions1 = torch.max(Y_pred_good, 1)
_, predictions2 = torch.max(Y_pred_bad, 1)
print("predictions:", predictions1, predictions2)

# %% [markdown]
# The same for a batch of three samples: the loss is the mean over the batch.

# %%
Y = torch.tensor([2, 0, 1])
Y_pred_good = torch.tensor([[0.1, 0.2, 3.9],   # predict class 2
                            [1.2, 0.1, 0.3],   # predict class 0
                            [0.3, 2.2, 0.2]])  # predict class 1
Y_pred_bad = torch.tensor([[0.9, 0.2, 0.1],
                           [0.1, 0.3, 1.5],
                           [1.2, 0.2, 0.5]])
l1 = loss(Y_pred_good, Y)
l2 = loss(Y_pred_bad, Y)
print(f"Batch Loss1: {l1.item():.4f}")
print(f"Batch Loss2: {l2.item():.4f}")

_, predictions1 = torch.max(Y_pred_good, 1)
_, predictions2 = torch.max(Y_pred_bad, 1)
print("predictions:", predictions1, predictions2)

# %% [markdown]
# ## The same number three ways, and its gradient
# For logits z and true class k: CE = -log softmax(z)_k. Its gradient is dCE/dz = softmax(z) - onehot(k)
# (divided by N for the mean over a batch): the reason softmax and cross-entropy are fused into one op.

# %%
z = torch.tensor([[0.5, 2.0, 0.3]], requires_grad=True)
k = torch.tensor([0])
ce = loss(z, k)
ce.backward()
z_np = np.array([0.5, 2.0, 0.3])
p = softmax(z_np)
print(f"by hand -log softmax(z)_0 = {-np.log(p[0]):.4f}, library {ce.item():.4f}")
print("dCE/dz by hand  p - onehot:", p - np.array([1.0, 0.0, 0.0]))
print("dCE/dz autograd:           ", z.grad.numpy()[0])

# %% [markdown]
# ## The two networks of the course
# Binary: one output, a sigmoid at the end, `nn.BCELoss`. Multi-class: C outputs, **no** softmax at the end,
# `nn.CrossEntropyLoss`.

# %%
class NeuralNet1(nn.Module):
    """Binary classification: sigmoid at the end, trained with nn.BCELoss()."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out = self.relu(self.linear1(x))
        return torch.sigmoid(self.linear2(out))


class NeuralNet2(nn.Module):
    """Multi-class: raw scores at the end (no softmax), trained with nn.CrossEntropyLoss()."""

    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        return self.linear2(self.relu(self.linear1(x)))


torch.manual_seed(0)
x = torch.randn(4, 28 * 28)
binary = NeuralNet1(input_size=28 * 28, hidden_size=5)
print("binary BCE:", nn.BCELoss()(binary(x), torch.tensor([[1.0], [0.0], [1.0], [0.0]])).item())
multi = NeuralNet2(input_size=28 * 28, hidden_size=5, num_classes=3)
print("multi-class CE:", nn.CrossEntropyLoss()(multi(x), torch.tensor([0, 2, 1, 0])).item())
