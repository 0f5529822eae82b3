"""One training epoch of the MNIST MLP (784-500-300-10, Adam 1e-3, batch 100): minigrad vs torch, and the GEMM floor.

Both engines train from the same weights on the same 54,000 images (already in memory on the device), in the
same batch order, alternated in one process: warm-up, then timed rounds; median, spread, and the ratio
minigrad/torch computed pair by pair. The "GEMM floor" is the same epoch's matrix products alone (3 forward,
3 weight-gradient and 2 input-gradient products per step) in NumPy/CuPy: the physical limit of the machine.
"minigrad_numpy_update" is minigrad again with its fused kernels off (MINIGRAD_FUSED=0 semantics).
With --device cuda (CuPy vs torch CUDA eager, TF32 off in both): "minigrad_xp_update" is minigrad with its CUDA
kernels off, and "minigrad_graph" replays forward + backward as one captured CUDA graph (minigrad.cuda.graph),
each batch gathered into static input buffers, then the fused optimizer step (its own copy of the model, so the
series do not share gradients). Peak GPU memory: benchmarks.memory --device cuda.
    python -m benchmarks.epoch --rounds 5
    python -m benchmarks.epoch --device cuda --rounds 10
"""
import contextlib

import numpy as np

from benchmarks import common

SIZES = (784, 500, 300, 10)


def load_images(n=54000, seed=0, source="mnist"):
    """The first n MNIST training images (float32, /255) when the data is at hand, else (or if asked) random pixels."""
    if source != "random":
        try:
            from minigrad.data import MNIST

            X, y = MNIST(train=True, download=False).tensors(flatten=True, device="cpu", dtype="float32")
            return X.array[:n], y.array[:n], "MNIST"  # a benchmark never downloads
        except Exception as e:  # no data: same shapes, same work
            print(f"(MNIST not found: {type(e).__name__}; timing on random pixels of the same shape)")
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64), "random"


def setup(device, X, y, batch_size, seed=0, dtype="float32", sizes=SIZES, numpy_update=False, graph=False):
    """Build both engines' models (same weights), optimizers and device-resident data; return epoch callables."""
    import minigrad
    from minigrad import kernels
    from reference.convert import copy_weights

    torch = common.torch_setup(device)
    minigrad.manual_seed(seed)
    mg_dev = "cuda" if device == "cuda" else "cpu"
    mg_model = build_mlp(minigrad.nn, sizes).to(mg_dev)
    t_model = build_mlp(torch.nn, sizes).to(device)
    if dtype == "float64":
        mg_model, t_model = mg_model.double(), t_model.double()
    copy_weights(mg_model, t_model)
    mg_opt = minigrad.optim.Adam(mg_model.parameters(), lr=1e-3)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    mg_loss, t_loss = minigrad.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    Xd = X.astype(dtype)
    mg_X, mg_y = minigrad.tensor(Xd, device=mg_dev), minigrad.tensor(y, device=mg_dev)
    t_X, t_y = torch.from_numpy(Xd).to(device), torch.from_numpy(y).to(device)
    order = np.random.default_rng(seed).permutation(len(X))
    mg_order, t_order = minigrad.tensor(order, device=mg_dev), torch.from_numpy(order).to(device)
    n = len(X)

    def mg_epoch():
        for s in range(0, n, batch_size):
            idx = mg_order[s:s + batch_size]
            loss = mg_loss(mg_model(mg_X[idx]), mg_y[idx])
            mg_opt.zero_grad()
            loss.backward()
            mg_opt.step()

    def torch_epoch():
        for s in range(0, n, batch_size):
            idx = t_order[s:s + batch_size]
            loss = t_loss(t_model(t_X[idx]), t_y[idx])
            t_opt.zero_grad()
            loss.backward()
            t_opt.step()

    fns = {"minigrad": fused(mg_epoch, True), "torch": torch_epoch,
           "gemm_floor": gemm_floor(mg_X, batch_size, dtype, sizes)}
    fns["minigrad"].optimizer = mg_opt  # its state, for benchmarks.subnormal
    if numpy_update and device == "cpu" and kernels.available():  # what the fused kernels are worth, same run
        fns["minigrad_numpy_update"] = fused(mg_epoch, False)
    if device == "cuda":
        if numpy_update:
            fns["minigrad_xp_update"] = fused(mg_epoch, False)
        graphed = graph_epoch(sizes, seed, dtype, mg_X, mg_y, mg_order, batch_size) if graph else None
        if graphed is not None:
            fns["minigrad_graph"] = graphed
    return fns


def graph_epoch(sizes, seed, dtype, X, y, order, batch_size):
    """An epoch with forward + backward replayed from one CUDA graph; None (with the reason) if capture is refused."""
    import minigrad
    from minigrad import cuda

    minigrad.manual_seed(seed)  # the same initial weights as the eager series
    model = build_mlp(minigrad.nn, sizes).to("cuda")
    if dtype == "float64":
        model = model.double()
    opt, loss_fn = minigrad.optim.Adam(model.parameters(), lr=1e-3), minigrad.nn.CrossEntropyLoss()
    xp, n = X.xp, len(order.array) // batch_size * batch_size  # whole batches: a graph has one shape
    if n != len(order.array):
        print(f"(minigrad_graph trains {n} of {len(order.array)} images per epoch: whole batches only)")
    static_x = minigrad.tensor(X.array[:batch_size].copy(), device="cuda")
    static_y = minigrad.tensor(y.array[:batch_size].copy(), device="cuda")
    loss_fn(model(static_x), static_y).backward()  # one eager step: kernels compiled, optimizer state made
    opt.step()
    opt.zero_grad()  # the capture allocates the .grad arrays each replay rewrites
    g = cuda.CUDAGraph()
    try:
        with cuda.graph(g):
            loss_fn(model(static_x), static_y).backward()
    except Exception as e:  # GraphCaptureError says why; anything else must not cost the other series
        print(f"(minigrad_graph left out: {type(e).__name__}: {e})")
        return None

    def run():
        for s in range(0, n, batch_size):
            idx = order.array[s:s + batch_size]
            xp.take(X.array, idx, axis=0, out=static_x.array)
            xp.take(y.array, idx, axis=0, out=static_y.array)
            g.replay()
            opt.step()

    return run


def fused(fn, on):
    """fn run with minigrad's fused kernels on (the default) or off (the NumPy reference formulas)."""
    from minigrad import kernels

    def run():
        with (contextlib.nullcontext() if on else kernels.disabled()):
            fn()

    return run


def build_mlp(nn, sizes=SIZES):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def gemm_floor(X, batch_size, dtype, sizes=SIZES):
    """The epoch's matrix products only, on the same backend arrays: per step 3 forward, 3 dW, 2 dX (dW of a
    one-row batch as the outer product minigrad's Linear computes there, which is faster than BLAS's GEMM)."""
    from minigrad.kernels import weight_grad

    xp = X.xp
    data = X.array
    Ws = [xp.ones((b, a), dtype=dtype) * 0.01 for a, b in zip(sizes[:-1], sizes[1:])]
    n = data.shape[0]

    def run():
        for s in range(0, n, batch_size):
            acts = [data[s:s + batch_size]]
            for W in Ws:
                acts.append(acts[-1] @ W.T)
            g = acts[-1]
            for i in range(len(Ws) - 1, -1, -1):
                gW = weight_grad(g, acts[i])  # noqa: F841  (g.T @ acts[i], an outer product for one row)
                if i > 0:
                    g = g @ Ws[i]

    return run


def parse_args(argv=None):
    """Every flag checked, and torch, the device and the output paths, before any timing starts."""
    p = common.base_parser(__doc__)
    p.add_argument("--batch-size", type=common.positive_int, default=100, help="images per training step")
    p.add_argument("--n", type=common.positive_int, default=54000, help="images per epoch")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of data and parameters")
    p.add_argument("--no-numpy-update", action="store_true",
                   help="skip the extra minigrad series with the fused kernels off")
    p.add_argument("--no-graph", action="store_true", help="cuda: skip the CUDA-graph series")
    common.add_data_arg(p)
    return common.check(p, argv, "epoch")


@common.cli
def main(argv=None):
    args = parse_args(argv)
    info, cmd = common.start(args, argv, "epoch")
    X, y, source = load_images(args.n, source=args.data)
    fns = setup(args.device, X, y, args.batch_size, dtype=args.dtype, numpy_update=not args.no_numpy_update,
                graph=not args.no_graph)
    times = common.paired(fns, args.rounds, args.warmup, common.sync_for(args.device))
    res = common.summary(times, ref="torch")
    for name, row in res.items():
        ratio = (f"  ratio to torch {row['ratio_median']:.3f} (pairs {row['ratio_min']:.3f}-{row['ratio_max']:.3f})"
                 if "ratio_median" in row else "")
        print(f"{name:>21}: median {row['median_s']:.3f}s  (min {row['min_s']:.3f}, max {row['max_s']:.3f}){ratio}")
    common.write(common.out_name("epoch", args.device), {
        "command": cmd, "machine": info, "args": vars(args), "data": source, "results": res, "times": times},
        args.json)
    return res


if __name__ == "__main__":
    main()
