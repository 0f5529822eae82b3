"""Backprop by hand, step by step, beside minigrad's autograd and torch's (float64, printed for a terminal).

Part 1, the course's worked example: a mini-batch of N = 3 samples over C = 4 classes. Logits z, softmax
rows p, one-hot targets y, per-sample loss -log p_k, their mean, and the gradient dL/dz = (p - y) / N.
Part 2: an MLP 5 -> 4 (ReLU) -> 4 on the same kind of batch, layer by layer: every forward value and every
backward gradient as the hand-written NumPy formula gives it, beside the engine's autograd and torch's, with
the largest absolute difference per quantity. Writes walkthrough.txt and walkthrough.json to --out.
    python -m experiments.backprop_walkthrough
    python -m experiments.backprop_walkthrough --engine torch   # torch's autograd in the engine column
"""
import numpy as np

from experiments import common

# ---- config: defaults from the course material -------------------------------------------------------------
CONFIG = dict(
    # part 1: 3 samples x 4 classes; logits and classes as in a worked example on paper
    logits=[[2.0, 1.0, 0.1, -1.0],
            [0.5, 2.5, -0.5, 0.0],
            [0.2, -0.4, 1.2, 2.1]],
    labels=[0, 1, 2],      # sample 3's true class is not its largest logit: its loss is the big one
    # part 2: MLP sizes; weights are seeded multiples of 1/4, so the arithmetic is easy to follow
    sizes=(5, 4, 4),
    dtype="float64",       # float64 so hand, engine and torch agree to the last few bits
    seed=0,
    out="results/backprop_walkthrough",
)


# ---- the hand-written math (NumPy, host) -------------------------------------------------------------------
def hand_softmax_ce(z, labels):
    """Forward and backward of mean cross-entropy, written out; returns name -> array."""
    N, C = z.shape
    e = np.exp(z - z.max(axis=1, keepdims=True))  # softmax is shift-invariant; the shift keeps exp finite
    p = e / e.sum(axis=1, keepdims=True)          # p_ij = exp(z_ij) / sum_k exp(z_ik)
    y = np.eye(C)[labels]                         # one-hot rows
    losses = -np.log(p[np.arange(N), labels])     # l_i = -log p_{i, k_i}
    loss = losses.mean()                          # L = (1/N) sum_i l_i
    gz = (p - y) / N                              # dL/dz = (p - y) / N
    return {"z": z, "p": p, "y": y, "losses": losses, "loss": np.array(loss), "dL/dz": gz}


def hand_mlp(X, labels, W1, b1, W2, b2):
    """MLP forward and backward by the chain rule, layer by layer; returns name -> array."""
    h = X @ W1.T + b1                   # h = X W1^T + b1          (N, H)
    a = np.maximum(h, 0.0)              # a = relu(h)
    q = hand_softmax_ce(a @ W2.T + b2, labels)
    z, gz = q["z"], q["dL/dz"]          # z = a W2^T + b2, dL/dz = (p - y) / N
    gW2 = gz.T @ a                      # dL/dW2 = (dL/dz)^T a      (C, H)
    gb2 = gz.sum(axis=0)                # dL/db2 = sum over the batch of dL/dz
    ga = gz @ W2                        # dL/da = dL/dz W2          (N, H)
    gh = np.where(h > 0, ga, 0.0)       # dL/dh = dL/da * relu'(h): passes where h > 0, else 0 (relu'(0) = 0)
    gW1 = gh.T @ X                      # dL/dW1 = (dL/dh)^T X      (H, D)
    gb1 = gh.sum(axis=0)                # dL/db1 = sum over the batch of dL/dh
    gX = gh @ W1                        # dL/dX = dL/dh W1          (N, D)
    return {"h": h, "a": a, "z": z, "p": q["p"], "loss": q["loss"], "dL/dz": gz, "dL/dW2": gW2, "dL/db2": gb2,
            "dL/da": ga, "dL/dh": gh, "dL/dW1": gW1, "dL/db1": gb1, "dL/dX": gX}


# ---- the same through an engine's autograd (minigrad or torch) ------------------------------------------
def engine_softmax_ce(E, z_host, labels):
    z = E.tensor(z_host).requires_grad_()
    y = E.tensor(np.asarray(labels, dtype=np.int64))
    p = E.F.softmax(z, dim=1)
    losses = E.F.cross_entropy(z, y, reduction="none")
    loss = E.F.cross_entropy(z, y)
    loss.backward()
    onehot = E.F.one_hot(y, num_classes=z_host.shape[1])
    return {"z": z_host, "p": E.numpy(p), "y": E.numpy(onehot).astype(np.float64), "losses": E.numpy(losses),
            "loss": E.numpy(loss), "dL/dz": E.numpy(z.grad)}


def engine_mlp(E, X_host, labels, W1, b1, W2, b2):
    D, H, C = W1.shape[1], W1.shape[0], W2.shape[0]
    fc1, fc2 = E.nn.Linear(D, H).double(), E.nn.Linear(H, C).double()
    fc1.load_state_dict({"weight": E.tensor(W1), "bias": E.tensor(b1)})
    fc2.load_state_dict({"weight": E.tensor(W2), "bias": E.tensor(b2)})
    X = E.tensor(X_host).requires_grad_()
    h = fc1(X)
    a = E.F.relu(h)
    z = fc2(a)
    for t in (h, a, z):
        t.retain_grad()  # keep the gradients of the intermediate values, not only of the leaves
    loss = E.F.cross_entropy(z, E.tensor(np.asarray(labels, dtype=np.int64)))
    loss.backward()
    n = E.numpy
    return {"h": n(h), "a": n(a), "z": n(z), "p": n(E.F.softmax(z.detach(), dim=1)), "loss": n(loss),
            "dL/dz": n(z.grad), "dL/dW2": n(fc2.weight.grad), "dL/db2": n(fc2.bias.grad), "dL/da": n(a.grad),
            "dL/dh": n(h.grad), "dL/dW1": n(fc1.weight.grad), "dL/db1": n(fc1.bias.grad), "dL/dX": n(X.grad)}


def mlp_inputs(sizes, labels, seed):
    """Seeded X, W1, b1, W2, b2: multiples of 1/4 (weights), 1/2 (inputs), biases odd multiples of 1/16.

    Every product w*x is a multiple of 1/8, so h = X W1^T + b1 is never exactly 0: no ReLU kink to argue about.
    """
    D, H, C = sizes
    rng = np.random.default_rng(seed)
    X = rng.integers(-4, 5, (len(labels), D)) / 2.0
    W1, W2 = rng.integers(-4, 5, (H, D)) / 4.0, rng.integers(-4, 5, (C, H)) / 4.0
    b1, b2 = (2 * rng.integers(-4, 4, H) + 1) / 16.0, (2 * rng.integers(-4, 4, C) + 1) / 16.0
    return X, W1, b1, W2, b2


# ---- printing -------------------------------------------------------------------------------------------
def fmt(a):
    a = np.asarray(a) + 0.0  # -0.0 + 0.0 = +0.0: no "-0.0000" to puzzle a reader
    return np.array2string(a, precision=4, suppress_small=True, floatmode="fixed", sign=" ",
                           max_line_width=200).splitlines()


def side_by_side(blocks, titles, gap=4, max_width=120):
    """Lines of several printed arrays next to each other, each under its title (stacked if too wide)."""
    cols = [[t] + fmt(b) for t, b in zip(titles, blocks)]
    width = [max(len(s) for s in c) for c in cols]
    if sum(width) + gap * (len(cols) - 1) > max_width:
        return [s for c in cols for s in c]
    rows = max(len(c) for c in cols)
    return ["".join((c[i] if i < len(c) else "").ljust(w + gap) for c, w in zip(cols, width)).rstrip()
            for i in range(rows)]


def compare(title, formulas, hand, eng, ref, engine_name, lines, record):
    """Print each quantity: hand | engine | torch, and the largest absolute differences; record them."""
    lines += ["", "=" * 100, title, "=" * 100]
    for k, formula in formulas:
        d_e = float(np.abs(hand[k] - eng[k]).max())
        d_t = float(np.abs(hand[k] - ref[k]).max())
        lines += ["", f"{k} {tuple(np.shape(hand[k]))}:  {formula}",
                  *side_by_side([hand[k], eng[k], ref[k]], ["hand formula", f"{engine_name} autograd",
                                                            "torch autograd"]),
                  f"  max |hand - {engine_name}| = {d_e:.2e}    max |hand - torch| = {d_t:.2e}"]
        record[k] = {"formula": formula, "hand": hand[k], "engine": eng[k], "torch": ref[k],
                     "max_abs_diff_engine": d_e, "max_abs_diff_torch": d_t}


def run(cfg):
    """Print the walkthrough, write it to cfg['out']; returns the metrics dict (every quantity + differences)."""
    cfg = {**CONFIG, **cfg}
    dt = np.dtype(cfg["dtype"])
    E = common.Engine(cfg.get("engine", "minigrad"), cfg.get("backend", "numpy"), cfg["dtype"])
    T = common.Engine("torch", cfg.get("backend", "numpy"), cfg["dtype"])
    lines = [f"Backprop walkthrough ({cfg['dtype']}): hand-written NumPy formulas vs {E.name} and torch autograd"]

    z, labels = np.asarray(cfg["logits"], dtype=dt), list(cfg["labels"])
    part1 = {}
    compare(f"Part 1: cross-entropy on a mini-batch of N = {z.shape[0]} samples, C = {z.shape[1]} classes, "
            f"true classes {labels}",
            [("z", "logits (given)"), ("p", "p_ij = exp(z_ij) / sum_k exp(z_ik)   (softmax of each row)"),
             ("y", "one-hot targets"), ("losses", "l_i = -log p_{i,k_i}   (k_i the true class)"),
             ("loss", "L = (1/N) sum_i l_i"), ("dL/dz", "dL/dz = (p - y) / N")],
            hand_softmax_ce(z, labels), engine_softmax_ce(E, z, labels), engine_softmax_ce(T, z, labels),
            E.name, lines, part1)

    X, W1, b1, W2, b2 = (a.astype(dt) for a in mlp_inputs(cfg["sizes"], labels, cfg["seed"]))
    D, H, C = cfg["sizes"]
    lines += ["", f"Part 2 inputs (seed {cfg['seed']}): X {X.shape}, labels {labels}",
              *side_by_side([X, W1, b1], ["X", "W1 (fc1.weight)", "b1"]),
              *side_by_side([W2, b2], ["W2 (fc2.weight)", "b2"])]
    part2 = {}
    compare(f"Part 2: MLP {D} -> {H} (ReLU) -> {C}, mean cross-entropy; forward, then backward layer by layer",
            [("h", "h = X W1^T + b1"), ("a", "a = relu(h)"), ("z", "z = a W2^T + b2"), ("p", "p = softmax(z)"),
             ("loss", "L = mean_i -log p_{i,k_i}"), ("dL/dz", "dL/dz = (p - y) / N"),
             ("dL/dW2", "dL/dW2 = (dL/dz)^T a"), ("dL/db2", "dL/db2 = sum_i dL/dz_i"),
             ("dL/da", "dL/da = dL/dz W2"), ("dL/dh", "dL/dh = dL/da * [h > 0]"),
             ("dL/dW1", "dL/dW1 = (dL/dh)^T X"), ("dL/db1", "dL/db1 = sum_i dL/dh_i"),
             ("dL/dX", "dL/dX = dL/dh W1")],
            hand_mlp(X, labels, W1, b1, W2, b2), engine_mlp(E, X, labels, W1, b1, W2, b2),
            engine_mlp(T, X, labels, W1, b1, W2, b2), E.name, lines, part2)

    worst = max(max(r["max_abs_diff_engine"], r["max_abs_diff_torch"]) for r in [*part1.values(), *part2.values()])
    lines += ["", f"largest absolute difference over every quantity: {worst:.2e}"]
    text = "\n".join(lines)
    print(text)
    metrics = {"config": dict(cfg), "engine": E.name, "part1_softmax_ce": part1, "part2_mlp": part2,
               "inputs": {"X": X, "W1": W1, "b1": b1, "W2": W2, "b2": b2}, "max_abs_diff": worst}
    out = common.out_dir(cfg, CONFIG["out"])
    with open(f"{out}/walkthrough.txt", "w") as f:
        f.write(text + "\n")
    common.write_json(f"{out}/walkthrough.json", metrics)
    return metrics


def parse_args(argv=None):
    """Every flag checked, and the machine (torch, GPU, --out), before any work starts."""
    parser = common.parser_for(__doc__, CONFIG, training=False)
    parser.set_defaults(dtype=CONFIG["dtype"])
    return common.parse(parser, argv, uses_torch=True)


@common.cli
def main(argv=None):
    return run(common.config_from_args(parse_args(argv)))


if __name__ == "__main__":
    main()
