"""The MLPs of the study and the final runs, built on either engine's nn (minigrad or torch).

sizes (784, h1, ..., C); each hidden layer is Linear -> [BatchNorm1d] -> activation -> [Dropout];
`dropout_in` drops input pixels (Srivastava et al. 2014 used 0.2 on the input, 0.5 on hidden units).
"""

from experiments.common import loss_value

ACTIVATIONS = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}


def build_mlp(nn, sizes, activation="relu", dropout=0.0, dropout_in=0.0, batchnorm=False):
    """nn.Sequential MLP; activation one of ACTIVATIONS."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: choose from {sorted(ACTIVATIONS)}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {tuple(sizes)}")
    layers = [nn.Flatten()]
    if dropout_in:
        layers.append(nn.Dropout(dropout_in))
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i == len(sizes) - 2:
            break
        if batchnorm:
            layers.append(nn.BatchNorm1d(b))
        layers.append(getattr(nn, ACTIVATIONS[activation])())
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def make_scheduler(E, name, opt, epochs, steps_per_epoch, lr):
    """(scheduler, per_batch): 'none', 'cosine' (per epoch, to 0) or 'onecycle' (per batch, peak = lr)."""
    sched = E.optim.lr_scheduler
    if name == "none":
        return None, False
    if name == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=epochs), False
    if name == "onecycle":
        return sched.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch), True
    raise ValueError(f"unknown schedule {name!r}: choose none, cosine or onecycle")


def train_epoch(E, model, loss_fn, opt, X, y, order, batch_size, sched=None, clip=None, at_step=None, losses=None):
    """One epoch of mini-batches; steps a per-batch scheduler; returns the mean training loss.

    at_step(): called before each step (a run's stop check: it raises to stop at a step boundary).
    losses: list of the step losses (see common.train_epoch: an epoch resumed part way goes on after them)."""
    model.train()
    idx_all = E.tensor(order)
    losses = [] if losses is None else losses
    for start in range(len(losses) * batch_size, len(order), batch_size):
        if at_step is not None:
            at_step()
        idx = idx_all[start:start + batch_size]
        loss = loss_fn(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        if clip:
            E.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.detach())
    return sum(loss_value(v) for v in losses) / max(len(losses), 1)
