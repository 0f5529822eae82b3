# %% [markdown]
# # 1. Tensors and autograd
#
# The course's introduction to PyTorch, run on **minigrad**: the same code after swapping the import
# (`import minigrad as torch`). Tensors: creation, dtypes, shapes, indexing, broadcasting, the NumPy bridge;
# then autograd: `requires_grad`, the graph, `backward()`, gradients that accumulate, and `no_grad`.
# It ends with the training loop every later notebook uses: forward, loss, backward, step.

# %% tags=["parameters"]
QUICK = False  # this notebook is fast either way; every notebook takes the same parameter

# %%
# Put the repository's root first on sys.path, so this kernel imports the repository's minigrad (and the
# experiments/ helpers) wherever Jupyter was started.
import pathlib
import sys

ROOT = pathlib.Path.cwd().resolve()
while not (ROOT / "minigrad" / "__init__.py").is_file() and ROOT != ROOT.parent:
    ROOT = ROOT.parent
sys.path.insert(0, str(ROOT))

import numpy as np

import minigrad as torch
import minigrad.nn as nn

torch.manual_seed(0)
print("minigrad from", pathlib.Path(torch.__file__).parent)

# %% [markdown]
# ## Creating tensors
# `empty` only reserves memory (its values are whatever was there), `rand` draws U[0, 1), `zeros` / `ones`
# fill; `tensor` copies data you give it. The default dtype is float32, as in torch.

# %%
x = torch.empty(2, 3)
print("empty:", x.shape)
x = torch.rand(2, 3)
print(x)
x = torch.zeros(2, 2)
print(x)
x = torch.ones(2, 2, dtype=torch.float64)
print(x.dtype, x.size())
x = torch.tensor([2.5, 0.1])
print(x, x.dtype)
print(torch.tensor([1, 2, 3]).dtype, "- integers become int64, the dtype of class labels")

# %% [markdown]
# ## Operations
# Elementwise `+ - * /` (or `torch.add`, ...). A trailing underscore means *in place*: `y.add_(x)` changes `y`.

# %%
x = torch.rand(2, 2)
y = torch.rand(2, 2)
z = x + y
print(torch.equal(z, torch.add(x, y)))
y.add_(x)  # in place
print(torch.equal(y, z))
print(x - y, x * y, x / y, sep="\n")

# %% [markdown]
# ## Indexing, slicing and reshaping
# Slices as in NumPy; `.item()` gives the Python number of a one-element tensor; `view` reshapes (-1: infer).

# %%
x = torch.rand(5, 3)
print(x[:, 0])     # first column, all rows
print(x[1, :])     # second row
print(x[1, 1].item())
x = torch.randn(4, 4)
print(x.view(16).size(), x.view(-1, 8).size())

# %% [markdown]
# ## The NumPy bridge
# On the CPU a tensor and the NumPy array it came from (or gave) share memory: change one, the other changes.

# %%
a = torch.ones(5)
b = a.numpy()
a.add_(1)
print(b)
a = np.ones(5)
b = torch.from_numpy(a)
a += 1
print(b)

# %% [markdown]
# ## Broadcasting
# Shapes are aligned from the right; a dimension of size 1 is repeated to match. (3, 1) + (1, 4) is (3, 4);
# a row (4,) is added to every row of a (3, 4) matrix.

# %%
col = torch.arange(3).view(3, 1).float()
row = torch.arange(4).view(1, 4).float()
print(col + row)
M = torch.zeros(3, 4)
print(M + torch.tensor([1.0, 2.0, 3.0, 4.0]))

# %% [markdown]
# ## Autograd
# With `requires_grad=True` every operation on the tensor is recorded: the result carries a `grad_fn`, the
# op that made it. `backward()` on a scalar walks the graph back and stores dz/dx in `x.grad`.
#
# Here z = mean(2 (x + 2)^2), so dz/dx_i = 4 (x_i + 2) / 3.

# %%
x = torch.randn(3, requires_grad=True)
y = x + 2
print(y)  # grad_fn: the addition that made y
z = y * y * 2
z = z.mean()
print(z)
z.backward()
print(x.grad)
print("formula 4 (x + 2) / 3:", (4 * (x.detach() + 2) / 3))
print("equal:", torch.allclose(x.grad, 4 * (x.detach() + 2) / 3))

# %% [markdown]
# A non-scalar output needs the vector v it is multiplied with: `backward(v)` computes the
# vector-Jacobian product v^T J, here J = diag(4 (x + 2)) for z = 2 (x + 2)^2.

# %%
x = torch.randn(3, requires_grad=True)
z = (x + 2) * (x + 2) * 2
v = torch.tensor([0.1, 1.0, 0.001])
z.backward(v)
print(x.grad)
print("formula v * 4 (x + 2):", v * 4 * (x.detach() + 2))

# %% [markdown]
# ## Stopping the recording
# Three ways: `x.requires_grad_(False)`, `x.detach()` (a new tensor without history), and
# `with torch.no_grad():` (what the weight update and the evaluation use).

# %%
x = torch.randn(3, requires_grad=True)
print(x.detach().requires_grad)
with torch.no_grad():
    y = x + 2
print(y.requires_grad)
x.requires_grad_(False)
print(x.requires_grad)

# %% [markdown]
# ## Gradients accumulate
# `backward()` *adds* into `.grad`. Training loops therefore zero the gradients before each backward.

# %%
weights = torch.ones(4, requires_grad=True)
for epoch in range(3):
    model_output = (weights * 3).sum()
    model_output.backward()
    print(weights.grad)        # 3, 6, 9 without the zeroing below
    weights.grad.zero_()

# %% [markdown]
# ## Linear regression three ways
# f(x) = w x, trained to f(x) = 2 x. First the gradient by hand (NumPy): for the squared error
# L = mean((w x - y)^2), dL/dw = mean(2 x (w x - y)).

# %%
X_np = np.array([1, 2, 3, 4], dtype=np.float32)
Y_np = np.array([2, 4, 6, 8], dtype=np.float32)
w = 0.0
for epoch in range(20):
    y_pred = w * X_np
    dw = float(np.mean(2 * X_np * (y_pred - Y_np)))
    w -= 0.01 * dw
print(f"by hand:  w = {w:.3f}, f(5) = {w * 5:.3f}")

# %% [markdown]
# Then the same with autograd: `loss.backward()` computes dL/dw, the update runs under `no_grad`.

# %%
X = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
Y = torch.tensor([2, 4, 6, 8], dtype=torch.float32)
w = torch.tensor(0.0, requires_grad=True)
for epoch in range(20):
    loss = ((w * X - Y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
    w.grad.zero_()
print(f"autograd: w = {w.item():.3f}, f(5) = {w.item() * 5:.3f}")

# %% [markdown]
# Finally with a model, a loss and an optimizer: the loop of every later notebook.
# **forward** (model(x)), **loss**, **backward** (after `zero_grad`), **step**.

# %%
X = X.view(4, 1)
Y = Y.view(4, 1)
model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(200):
    y_pred = model(X)             # forward
    loss = loss_fn(y_pred, Y)     # loss
    optimizer.zero_grad()
    loss.backward()               # backward
    optimizer.step()              # step
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.5f}  w {model.weight.item():.3f}  b {model.bias.item():.3f}")
print(f"nn.Linear: f(5) = {model(torch.tensor([[5.0]])).item():.3f}")
