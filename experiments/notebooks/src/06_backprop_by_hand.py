# %% [markdown]
# # 6. Backpropagation by hand
#
# A small MLP, 5 inputs -> 4 hidden units (ReLU) -> 4 classes, mean cross-entropy over a batch of N = 3.
# Every value of the forward pass and every gradient of the backward pass, first from the formulas (NumPy),
# then from minigrad's autograd, then from PyTorch's, side by side. Then the graph autograd walked, drawn
# by `minigrad.viz`.
#
# float64 throughout, so the three columns agree to the last bits. The weights are multiples of 1/4 and the
# inputs of 1/2: the arithmetic can be followed on paper.

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
from IPython.display import display

import minigrad as mg
from experiments.backprop_walkthrough import mlp_inputs, side_by_side
from minigrad import viz

try:
    import torch  # optional: the third column
except ImportError:
    torch = None

labels = [0, 1, 2]  # the true class of each sample
X, W1, b1, W2, b2 = mlp_inputs(sizes=(5, 4, 4), labels=labels, seed=0)
print("\n".join(side_by_side([X, W1, b1], ["X (N x D)", "W1 (H x D)", "b1"])))
print("\n".join(side_by_side([W2, b2], ["W2 (C x H)", "b2"])))

# %% [markdown]
# ## Forward, from the formulas
# h = X W1^T + b1, a = relu(h), z = a W2^T + b2, p = softmax(z) row by row,
# L = (1/N) sum_i -log p_{i, k_i} with k_i the true class of sample i.

# %%
N, C = X.shape[0], W2.shape[0]
h = X @ W1.T + b1                                  # (N, H)
a = np.maximum(h, 0.0)                             # relu
z = a @ W2.T + b2                                  # (N, C) logits
e = np.exp(z - z.max(axis=1, keepdims=True))       # softmax is shift-invariant; the shift keeps exp finite
p = e / e.sum(axis=1, keepdims=True)
y = np.eye(C)[labels]                              # one-hot rows
loss = -np.log(p[np.arange(N), labels]).mean()
print(f"L = {loss:.6f}")

# %% [markdown]
# ## Backward, from the formulas: the chain rule, layer by layer
# dL/dz = (p - y) / N (softmax and cross-entropy together); a linear layer u = v W^T + c passes
# dL/dW = (dL/du)^T v, dL/dc = sum over the batch of dL/du, dL/dv = dL/du W; relu passes the gradient where
# its input was positive and blocks it elsewhere.

# %%
gz = (p - y) / N                 # dL/dz
gW2 = gz.T @ a                   # dL/dW2
gb2 = gz.sum(axis=0)             # dL/db2
ga = gz @ W2                     # dL/da
gh = np.where(h > 0, ga, 0.0)    # dL/dh = dL/da * relu'(h)
gW1 = gh.T @ X                   # dL/dW1
gb1 = gh.sum(axis=0)             # dL/db1
gX = gh @ W1                     # dL/dX

hand = {"h": h, "a": a, "z": z, "p": p, "loss": loss, "dL/dz": gz, "dL/dW2": gW2, "dL/db2": gb2,
        "dL/da": ga, "dL/dh": gh, "dL/dW1": gW1, "dL/db1": gb1, "dL/dX": gX}

# %% [markdown]
# ## The same with minigrad's autograd
# Two `nn.Linear` layers holding the same weights. Autograd keeps the gradients of leaves (weights, X);
# `retain_grad()` asks it to keep those of the intermediate values too. `retain_graph=True` keeps the graph
# after `backward()`, so it can be drawn below.

# %%
def autograd_column(lib):
    """Forward and backward through `lib` (minigrad or torch); every quantity as a NumPy array."""
    fc1, fc2 = lib.nn.Linear(5, 4).double(), lib.nn.Linear(4, 4).double()
    with lib.no_grad():
        for layer, W, b in ((fc1, W1, b1), (fc2, W2, b2)):
            layer.weight.copy_(lib.tensor(W))
            layer.bias.copy_(lib.tensor(b))
    Xt = lib.tensor(X, requires_grad=True)
    h = fc1(Xt)
    a = lib.nn.functional.relu(h)
    z = fc2(a)
    for t in (h, a, z):
        t.retain_grad()
    target = lib.tensor(labels)
    loss = lib.nn.functional.cross_entropy(z, target)
    loss.backward(retain_graph=True)

    def n(t):
        return t.detach().numpy()

    column = {"h": n(h), "a": n(a), "z": n(z), "p": n(lib.softmax(z.detach(), dim=1)), "loss": n(loss),
              "dL/dz": n(z.grad), "dL/dW2": n(fc2.weight.grad), "dL/db2": n(fc2.bias.grad), "dL/da": n(a.grad),
              "dL/dh": n(h.grad), "dL/dW1": n(fc1.weight.grad), "dL/db1": n(fc1.bias.grad), "dL/dX": n(Xt.grad)}
    named = dict(X=Xt, W1=fc1.weight, b1=fc1.bias, W2=fc2.weight, b2=fc2.bias, h=h, a=a, z=z, target=target)
    return column, {**named, "loss": loss}


ours, graph_tensors = autograd_column(mg)
print(f"minigrad: L = {ours['loss']:.6f}")

# %% [markdown]
# ## And with PyTorch's
# The same function, given `torch` instead of `minigrad`. Without torch installed this column is left out.

# %%
if torch is not None:
    theirs, _ = autograd_column(torch)
    print(f"torch {torch.__version__}: L = {theirs['loss']:.6f}")
else:
    theirs = None
    print("torch is not installed: the torch column is left out (pip install torch to see it)")

# %% [markdown]
# ## Side by side
# Each quantity from the formula, from minigrad, from torch, and the largest absolute differences.

# %%
columns = [("formula", hand), ("minigrad", ours)] + ([("torch", theirs)] if theirs is not None else [])
worst = 0.0
for key in hand:
    diffs = [float(np.abs(np.asarray(col[key]) - hand[key]).max()) for _, col in columns[1:]]
    worst = max([worst] + diffs)
    print(f"\n{key} {np.shape(hand[key])}")
    print("\n".join(side_by_side([col[key] for _, col in columns], [name for name, _ in columns])))
    print("  " + "   ".join(f"max |formula - {name}| = {d:.1e}" for (name, _), d in zip(columns[1:], diffs)))
print(f"\nlargest difference over every quantity: {worst:.1e}")
assert worst < 1e-12, "the formulas and autograd disagree"

# %% [markdown]
# ## The graph behind the loss
# `minigrad.viz.draw(loss)` walks from the loss back to the leaves: one box per op (its name, the shape and
# dtype of what it produced), one per leaf. `grads=True` adds each gradient autograd kept: the leaves' and
# the retained intermediates'. Edges point the way the data flowed. As a text tree:

# %%
g = viz.draw(graph_tensors["loss"], params=graph_tensors, grads=True)
print(g)

# %% [markdown]
# And drawn by Graphviz, where it is installed (`dot` on the PATH; otherwise the same text tree shows).

# %%
display(viz.draw(graph_tensors["loss"], params=graph_tensors, grads=True))
