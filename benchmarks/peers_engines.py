"""The engines benchmarks.peers times, one function each, and the worker loop that runs one of them in its own process.

Each engine function takes the parent's weights [(W (out, in), b (out,)), ...] and returns an Engine whose step is
the same computation everywhere: x @ W.T + b and ReLU between the layers, cross-entropy (mean over the batch),
backward, then Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8) with torch's formula, eps added after bias correction.
step returns the loss of the weights it started from. Only NumPy is imported here: each engine's library is imported
by its function, inside its own worker, so no engine's threads or allocator share a process with another's.
"""
import itertools
import json
import os
import shutil
import sys
import time
from collections import namedtuple

import numpy as np

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
# what the parent checks can be imported before it starts a worker; `peers` is setup.cfg's extra for the others
IMPORTS = {"minigrad": "minigrad", "torch": "torch", "jax": "jax", "autograd": "autograd", "mygrad": "mygrad",
           "tinygrad": "tinygrad", "matmul_floor": "numpy"}
INSTALL = "pip install -e '.[peers]'"
READY_STEPS = 3  # untimed: 1st = the first loss (JAX compiles), 2nd = tinygrad's JIT capture, 3rd = its first replay

# batch(x (N, in) float32, y (N,) int64) -> the engine's own inputs, made once, before any timing;
# step(*batch) -> loss handle; value(loss) -> float (None: no loss); sync() waits for queued work
Engine = namedtuple("Engine", "batch step value sync version info")


def adam_numpy(ws, gs, ms, vs, t, lr=LR):
    """torch's Adam on NumPy arrays, in place; Python-float scalars (a NumPy float64 scalar would upcast float32)."""
    step_size = lr / (1.0 - BETA1 ** t)
    bc2_sqrt = (1.0 - BETA2 ** t) ** 0.5
    for w, g, m, v in zip(ws, gs, ms, vs):
        m += (1.0 - BETA1) * (g - m)                     # m <- b1 m + (1 - b1) g (torch: lerp)
        v *= BETA2
        v += (1.0 - BETA2) * g * g                       # v <- b2 v + (1 - b2) g^2
        w -= step_size * m / (np.sqrt(v) / bc2_sqrt + EPS)


def _torch_api(lib, Ws):
    """minigrad and torch run the same code: nn.Sequential of Linear/ReLU, nn.CrossEntropyLoss, optim.Adam."""
    layers = []
    for i, (W, b) in enumerate(Ws):
        lin = lib.nn.Linear(W.shape[1], W.shape[0])
        with lib.no_grad():
            lin.weight.copy_(lib.from_numpy(W))
            lin.bias.copy_(lib.from_numpy(b))
        layers += [lin, lib.nn.ReLU()] if i < len(Ws) - 1 else [lin]
    model = lib.nn.Sequential(*layers)
    opt, loss_fn = lib.optim.Adam(model.parameters(), lr=LR), lib.nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step, lambda x, y: (lib.from_numpy(x), lib.from_numpy(y)), lambda loss: loss.item()


def engine_minigrad(Ws):
    import minigrad
    from minigrad import kernels

    step, batch, value = _torch_api(minigrad, Ws)
    return Engine(batch, step, value, lambda: None, minigrad.__version__,
                  f"{_numpy_info()}; kernels: {kernels.status()}")


def engine_torch(Ws):
    import torch

    step, batch, value = _torch_api(torch, Ws)
    return Engine(batch, step, value, lambda: None, torch.__version__, f"{torch.get_num_threads()} threads, eager")


def engine_jax(Ws):
    import functools

    import jax
    import jax.numpy as jnp

    def loss_fn(params, x, y):
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1).mean()

    @functools.partial(jax.jit, donate_argnums=(0, 1, 2))  # the old params and state are dead after the step
    def train_step(params, m, v, x, y, step_size, bc2_sqrt):
        loss, g = jax.value_and_grad(loss_fn)(params, x, y)
        m = jax.tree.map(lambda m, g: m + (1.0 - BETA1) * (g - m), m, g)
        v = jax.tree.map(lambda v, g: BETA2 * v + (1.0 - BETA2) * g * g, v, g)
        params = jax.tree.map(lambda p, m, v: p - step_size * m / (jnp.sqrt(v) / bc2_sqrt + EPS), params, m, v)
        return params, m, v, loss

    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in Ws]
    state = {"p": params, "m": jax.tree.map(jnp.zeros_like, params), "v": jax.tree.map(jnp.zeros_like, params),
             "t": 0}

    def step(x, y):
        state["t"] = t = state["t"] + 1
        # the bias corrections in double on the host, then float32 arguments (traced: no recompile per step)
        scalars = np.float32(LR / (1.0 - BETA1 ** t)), np.float32((1.0 - BETA2 ** t) ** 0.5)
        state["p"], state["m"], state["v"], loss = train_step(state["p"], state["m"], state["v"], x, y, *scalars)
        return loss

    def sync():
        jax.block_until_ready(state["p"])

    return Engine(lambda x, y: (jnp.asarray(x), jnp.asarray(y.astype(np.int32))), step, float, sync,
                  jax.__version__, f"jit of the whole step; {jax.devices()[0]}; XLA_FLAGS={os.getenv('XLA_FLAGS')}")


def engine_autograd(Ws):
    import autograd
    import autograd.numpy as anp
    from autograd.tracer import getval

    def loss_fn(params, x, y):
        h = x
        for i in range(0, len(params), 2):
            h = anp.dot(h, params[i].T) + params[i + 1]
            if i < len(params) - 2:
                h = anp.maximum(h, 0.0)
        z = h - getval(h).max(axis=1, keepdims=True)  # a constant shift, as log_softmax's: no gradient through max
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(logp[np.arange(len(y)), y])

    grad_fn = autograd.value_and_grad(loss_fn)
    params = [a.copy() for W, b in Ws for a in (W, b)]
    ms, vs, t = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params], itertools.count(1)

    def step(x, y):
        loss, grads = grad_fn(params, x, y)
        adam_numpy(params, grads, ms, vs, next(t))
        return loss

    return Engine(lambda x, y: (x, y), step, float, lambda: None, _version("autograd"), _numpy_info())


def engine_mygrad(Ws):
    import mygrad as mg
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy

    params = [mg.tensor(a.copy()) for W, b in Ws for a in (W, b)]
    ms, vs, t = [np.zeros_like(p.data) for p in params], [np.zeros_like(p.data) for p in params], itertools.count(1)

    def step(x, y):
        h = x
        for i in range(0, len(params), 2):
            h = mg.matmul(h, params[i].T) + params[i + 1]
            if i < len(params) - 2:
                h = relu(h)
        loss = softmax_crossentropy(h, y)  # mean over the batch
        loss.backward()  # fresh .grad on every parameter (MyGrad does not accumulate across graphs)
        adam_numpy([p.data for p in params], [p.grad for p in params], ms, vs, next(t))
        return loss

    return Engine(lambda x, y: (x, y), step, lambda loss: loss.item(), lambda: None, mg.__version__, _numpy_info())


def tinygrad_compiler():
    """The C compiler tinygrad's CPU device will run (clang: it cross-compiles to a bare ELF), or None."""
    cc = os.environ.get("CC")
    if cc and "clang" in os.path.basename(cc):
        return shutil.which(cc)
    for name in ["clang"] + [f"clang-{v}" for v in range(30, 10, -1)]:
        if shutil.which(name):
            return shutil.which(name)
    return None


def engine_tinygrad(Ws):
    # tinygrad 0.14 picks its device with DEV (DEV=CPU: the CPU device, whose default renderer is Clang C, compiled
    # by the program named in CC, `clang` if unset); set before the import, which reads it
    os.environ["DEV"] = "CPU"
    os.environ["CC"] = tinygrad_compiler() or "clang"
    from tinygrad import Device, Tensor, TinyJit
    from tinygrad.helpers import Context
    from tinygrad.nn.optim import Adam

    params = [Tensor(a.copy()).realize() for W, b in Ws for a in (W, b)]
    opt = Adam(params, lr=LR, b1=BETA1, b2=BETA2, eps=EPS)

    @TinyJit
    def step(x, y):
        with Context(TRAINING=1):  # tinygrad's optimizers refuse to step outside training mode
            opt.zero_grad()
            h = x
            for i in range(0, len(params), 2):
                h = h.linear(params[i].T, params[i + 1])
                if i < len(params) - 2:
                    h = h.relu()
            loss = h.sparse_categorical_crossentropy(y).backward()
            # realized with the update: realized after it, the lazy loss would be computed from the new weights
            return loss.realize(*opt.schedule_step())

    def batch(x, y):
        # one buffer per batch: the JIT swaps its input buffers between calls, and slices of one tensor share one
        return Tensor(x.copy()).realize(), Tensor(y.astype(np.int32)).realize()

    device = Device[Device.DEFAULT]
    info = f"DEV={Device.DEFAULT}, {type(device.renderer).__name__}, CC={os.path.basename(os.environ['CC'])}; TinyJit"
    return Engine(batch, step, lambda loss: loss.item(), device.synchronize, _version("tinygrad"), info)


def engine_matmul_floor(Ws):
    """The step's 8 matrix products alone (3 forward, 3 weight-gradient, 2 input-gradient): the machine's floor."""
    from minigrad.kernels import weight_grad  # a one-row dW as the outer product minigrad's Linear computes there

    def step(x, y):
        acts = [x]
        for W, _ in Ws:
            acts.append(acts[-1] @ W.T)
        g = acts[-1]
        for i in range(len(Ws) - 1, -1, -1):
            weight_grad(g, acts[i])
            if i > 0:
                g = g @ Ws[i][0]

    return Engine(lambda x, y: (x, y), step, lambda loss: None, lambda: None, np.__version__, _numpy_info())


BUILD = {"minigrad": engine_minigrad, "torch": engine_torch, "jax": engine_jax, "autograd": engine_autograd,
         "mygrad": engine_mygrad, "tinygrad": engine_tinygrad, "matmul_floor": engine_matmul_floor}


def _numpy_info():
    """NumPy's BLAS and its thread count, where threadpoolctl can tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "NumPy"
    blas = [f"{d.get('internal_api')} {d.get('num_threads')} threads" for d in threadpool_info()
            if d.get("user_api") == "blas"]
    return "NumPy, " + ", ".join(dict.fromkeys(blas) or ["BLAS unknown"])  # one line per library loaded twice


def _version(dist):
    from importlib.metadata import version

    return version(dist)


def load_setup(path):
    """(weights [(W, b)], X (batches, N, in) float32, y (batches, N) int64) from the parent's .npz."""
    d = np.load(path)
    Ws = [(d[f"W{i}"], d[f"b{i}"]) for i in range(int(d["layers"]))]
    return Ws, d["X"], d["y"]


def serve(engine, path, stdin=None):
    """Worker loop: build `engine` from the setup file, report its first loss, then answer {"run": steps} lines."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # an engine's own prints go to stderr: stdout carries only our JSON lines

    def send(obj):
        out.write(json.dumps(obj) + "\n")

    Ws, X, y = load_setup(path)
    t0 = time.perf_counter()
    try:
        eng = BUILD[engine](Ws)
    except ImportError as e:  # installed in name only (e.g. jax without jaxlib): a skip, not a crash
        send({"missing": f"{type(e).__name__}: {e}"})
        return
    batches = [eng.batch(xb, yb) for xb, yb in zip(X, y)]
    losses = [eng.value(eng.step(*batches[k % len(batches)])) for k in range(READY_STEPS)]
    eng.sync()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    send({"first_loss": losses[0], "version": eng.version, "info": eng.info, "cpus": cpus,
          "ready_s": time.perf_counter() - t0})
    k = READY_STEPS
    for line in stdin or sys.stdin:
        steps = json.loads(line)["run"]
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = eng.step(*batches[k % len(batches)])
            k += 1
        eng.sync()
        seconds = time.perf_counter() - t0
        send({"seconds": seconds, "loss": eng.value(loss), "steps_done": k})
