"""torch's CPU random streams, bit for bit: every sampler beside real torch (bytes equal), over seeds, sizes on
both sides of torch's thresholds (16 for normal's blocks, 2^28 for randint's 64-bit words), dtypes, with a
Generator and with the global one."""
import numpy as np
import pytest
import torch

import minigrad
from minigrad import generator as G
from minigrad import random as R
from minigrad.kernels import random_cpu

SEEDS = [0, 1, 42, 2147483647, 2**40 + 7]
# minigrad draws torch 2.15's streams (the newest release when they were written). Older releases draw some samplers
# otherwise (torch 2.4, the oldest we support, differs in rand, randint, bernoulli, multinomial), so the comparisons
# with torch's bytes run against torch >= 2.15 and skip, saying so, on older torch; the rest runs everywhere.
STREAMS_AS = (2, 15)
TORCH = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
SIZES = [1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 1000]
DTYPES = [(minigrad.float32, torch.float32), (minigrad.float64, torch.float64)]


def same(a, t):
    """Bytes equal, dtype and shape too."""
    if TORCH < STREAMS_AS:
        pytest.skip(f"torch {torch.__version__} draws other streams than torch 2.15's, which minigrad reproduces")
    a = a.numpy() if hasattr(a, "numpy") else np.asarray(a)
    t = t.numpy()
    assert a.dtype == t.dtype and a.shape == t.shape, (a.dtype, t.dtype, a.shape, t.shape)
    assert a.tobytes() == t.tobytes(), f"{(a != t).sum()} of {a.size} differ"


def pair(seed, use_generator):
    """(minigrad generator or None, torch generator or None), seeded alike (the global ones when None)."""
    if use_generator:
        return minigrad.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    minigrad.manual_seed(seed)
    torch.manual_seed(seed)
    return None, None


def test_issue_first_check():
    """rand(7) is the low 24 bits of mt19937's first 7 words * 2^-24; randint(0, 10) those words mod 10."""
    mt = np.random.MT19937()  # with RandomState(0)'s key: mt19937's init_genrand(0), as torch seeds it
    mt.state = {"bit_generator": "MT19937", "state": {"key": np.random.RandomState(0).get_state()[1], "pos": 624}}
    words = mt.random_raw(8)
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(minigrad.rand(7).numpy(), ((words[:7] & 0xFFFFFF) * 2.0**-24).astype(np.float32))
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(minigrad.randint(0, 10, (8,)).numpy(), (words % 10).astype(np.int64))


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_rand_randn_and_inplace_fills(seed, use_generator):
    for n in SIZES:
        for md, td in DTYPES:
            g, tg = pair(seed, use_generator)
            same(minigrad.rand(n, dtype=md, generator=g), torch.rand(n, dtype=td, generator=tg))
            same(minigrad.randn(n, dtype=md, generator=g), torch.randn(n, dtype=td, generator=tg))
            same(minigrad.randn(n, 3, dtype=md, generator=g), torch.randn(n, 3, dtype=td, generator=tg))
            same(minigrad.empty(n, dtype=md).normal_(0.3, 1.7, generator=g),
                 torch.empty(n, dtype=td).normal_(0.3, 1.7, generator=tg))
            same(minigrad.empty(n, dtype=md).uniform_(-0.37, 2.1, generator=g),
                 torch.empty(n, dtype=td).uniform_(-0.37, 2.1, generator=tg))
            same(minigrad.empty(n, dtype=md).exponential_(1.5, generator=g),
                 torch.empty(n, dtype=td).exponential_(1.5, generator=tg))
            same(minigrad.normal(2.0, 0.5, size=(n,), dtype=md, generator=g),
                 torch.normal(2.0, 0.5, size=(n,), dtype=td, generator=tg))
            state = (g or minigrad.default_generator).get_state()
            same(state, (tg or torch.default_generator).get_state())  # caches and positions too


def test_randn_large_and_the_box_muller_cache():
    """160k float32 draws (torch's AVX2 log/sincos emulation) and the double cache carried between calls."""
    g, tg = pair(5, True)
    same(minigrad.randn(160_000, generator=g), torch.randn(160_000, generator=tg))
    for n in (1, 3, 1, 2, 5):  # odd sizes leave r sin(theta) in the generator for the next call
        same(minigrad.randn(n, dtype=minigrad.float64, generator=g), torch.randn(n, dtype=torch.float64, generator=tg))
        same(g.get_state(), tg.get_state())


def test_non_contiguous_fill_in_memory_order():
    minigrad.manual_seed(3)
    torch.manual_seed(3)
    for shape in ((5, 4), (20, 9)):
        w, tw = minigrad.empty(*shape).t(), torch.empty(*shape).t()
        same(w.normal_(), tw.normal_())
        same(w.uniform_(-1, 2), tw.uniform_(-1, 2))


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_randint_every_range(seed, use_generator):
    for low, high in [(0, 10), (-5, 3), (0, 2**28 - 1), (0, 2**28), (3, 2**32 + 5), (-2**50, 2**50), (0, 2**63 - 1)]:
        for n in (1, 17, 200):
            g, tg = pair(seed, use_generator)
            same(minigrad.randint(low, high, (n,), generator=g), torch.randint(low, high, (n,), generator=tg))
            same(minigrad.randint(low, high, (n,), dtype=minigrad.float64, generator=g),
                 torch.randint(low, high, (n,), dtype=torch.float64, generator=tg))


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_randperm_and_random_(seed, use_generator):
    for n in (0, 1, 2, 10, 1000, 60000):
        g, tg = pair(seed, use_generator)
        same(minigrad.randperm(n, generator=g), torch.randperm(n, generator=tg))
    pairs = [(minigrad.int64, torch.int64), (minigrad.int32, torch.int32), (minigrad.int16, torch.int16),
             (minigrad.uint8, torch.uint8), (minigrad.bool, torch.bool)] + DTYPES
    for md, td in pairs:
        g, tg = pair(seed, use_generator)
        same(minigrad.empty(50, dtype=md).random_(generator=g), torch.empty(50, dtype=td).random_(generator=tg))
        if md != minigrad.bool:
            same(minigrad.empty(50, dtype=md).random_(3, 100, generator=g),
                 torch.empty(50, dtype=td).random_(3, 100, generator=tg))


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli_scalar_and_tensor_p(seed, use_generator):
    for n in (1, 16, 33, 1000):
        for md, td in DTYPES:
            g, tg = pair(seed, use_generator)
            same(minigrad.empty(n, dtype=md).bernoulli_(0.3, generator=g),
                 torch.empty(n, dtype=td).bernoulli_(0.3, generator=tg))
            p = minigrad.rand(n, 2, dtype=md, generator=g)
            tp = torch.rand(n, 2, dtype=td, generator=tg)
            same(minigrad.bernoulli(p, generator=g), torch.bernoulli(tp, generator=tg))
            same(minigrad.empty(n, 2, dtype=md).bernoulli_(p[:, :1], generator=g),
                 torch.empty(n, 2, dtype=td).bernoulli_(tp[:, :1], generator=tg))


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_multinomial(seed, use_generator):
    for md, td in DTYPES:
        for shape in ((10,), (4, 7), (3, 100)):
            g, tg = pair(seed, use_generator)
            p = minigrad.rand(*shape, dtype=md, generator=g) ** 2
            tp = torch.rand(*shape, dtype=td, generator=tg) ** 2
            for k, replacement in ((1, False), (1, True), (5, False), (5, True), (40, True)):
                same(minigrad.multinomial(p, k, replacement, generator=g),
                     torch.multinomial(tp, k, replacement, generator=tg))


def test_dropout_masks():
    for p in (0.1, 0.5, 0.8):
        for md, td in DTYPES:
            x = np.random.default_rng(0).standard_normal((33, 17)).astype(md)
            pair(2, False)
            same(minigrad.nn.Dropout(p)(minigrad.tensor(x)), torch.nn.Dropout(p)(torch.tensor(x)))
            same(minigrad.nn.functional.dropout(minigrad.tensor(x), p),
                 torch.nn.functional.dropout(torch.tensor(x), p))


INITS = [("uniform_", dict(a=-0.3, b=0.8)), ("normal_", dict(mean=0.1, std=0.5)), ("trunc_normal_", dict(std=0.02)),
         ("trunc_normal_", dict(mean=0.5, std=2.0, a=-1.0, b=3.0)), ("xavier_uniform_", {}),
         ("xavier_normal_", dict(gain=1.3)), ("kaiming_uniform_", dict(a=5**0.5)),
         ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"))]


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_nn_init(seed):
    for shape in ((3, 2), (5, 4), (20, 30), (7, 3, 5, 5)):
        for md, td in DTYPES:
            for name, kw in INITS:
                pair(seed, False)
                same(getattr(minigrad.nn.init, name)(minigrad.empty(*shape, dtype=md), **kw),
                     getattr(torch.nn.init, name)(torch.empty(*shape, dtype=td), **kw))
                g, tg = pair(seed, True)
                same(getattr(minigrad.nn.init, name)(minigrad.empty(*shape, dtype=md), generator=g, **kw),
                     getattr(torch.nn.init, name)(torch.empty(*shape, dtype=td), generator=tg, **kw))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 5])
def test_default_init_of_linear_and_batchnorm(seed, dtype):
    pair(seed, False)
    m = minigrad.nn.Sequential(minigrad.nn.Linear(784, 100, dtype=getattr(minigrad, dtype)),
                               minigrad.nn.BatchNorm1d(100, dtype=getattr(minigrad, dtype)),
                               minigrad.nn.Linear(100, 10, dtype=getattr(minigrad, dtype)))
    t = torch.nn.Sequential(torch.nn.Linear(784, 100, dtype=getattr(torch, dtype)),
                            torch.nn.BatchNorm1d(100, dtype=getattr(torch, dtype)),
                            torch.nn.Linear(100, 10, dtype=getattr(torch, dtype)))
    for a, b in zip(m.parameters(), t.parameters()):
        same(a.detach(), b.detach())
    same(minigrad.rand(3), torch.rand(3))  # BatchNorm drew nothing, as torch's


@pytest.mark.parametrize("use_generator", [False, True])
def test_dataloader_shuffle_and_random_split(use_generator):
    from torch.utils.data import DataLoader, TensorDataset, random_split

    X = np.arange(206, dtype=np.float32).reshape(103, 2)
    pair(8, False)  # the global streams too: the base seeds come from them without a generator
    g, tg = pair(3, use_generator)
    ml = minigrad.data.DataLoader(minigrad.data.TensorDataset(minigrad.tensor(X)), 10, shuffle=True, generator=g)
    tl = DataLoader(TensorDataset(torch.tensor(X)), 10, shuffle=True, generator=tg)
    plain, tplain = (minigrad.data.DataLoader(minigrad.data.TensorDataset(minigrad.tensor(X)), 10),
                     DataLoader(TensorDataset(torch.tensor(X)), 10))
    for _ in range(3):
        same(np.concatenate([b[0].numpy() for b in ml]), torch.cat([b[0] for b in tl]))
        list(plain), list(tplain)  # an unshuffled loader still draws torch's base seed per epoch
    same(minigrad.rand(5), torch.rand(5))
    for lengths in ([0.7, 0.2, 0.1], [50, 53]):
        g, tg = pair(11, use_generator)
        a = minigrad.data.random_split(minigrad.data.TensorDataset(minigrad.tensor(X)), lengths, generator=g)
        b = random_split(TensorDataset(torch.tensor(X)), lengths, generator=tg or torch.default_generator)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.indices, np.array(y.indices))


def test_state_api_and_fork_rng():
    g = minigrad.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    same(g.get_state(), torch.Generator().get_state())
    for seed in (0, -1, 2**63, 2**64 - 1):
        want = torch.Generator().manual_seed(seed).initial_seed()
        assert minigrad.Generator().manual_seed(seed).initial_seed() == want
    g, tg = pair(9, True)
    minigrad.randn(5, generator=g), torch.randn(5, generator=tg)
    state = tg.get_state()
    h = minigrad.Generator().set_state(minigrad.tensor(state.numpy()))  # torch's bytes restore ours
    same(minigrad.randn(7, dtype=minigrad.float64, generator=h), torch.randn(7, dtype=torch.float64, generator=tg))
    minigrad.manual_seed(4)
    before = minigrad.get_rng_state()
    with minigrad.random.fork_rng():
        minigrad.rand(100)
    same(minigrad.get_rng_state(), torch.tensor(before.numpy()))
    minigrad.set_rng_state(before)
    torch.manual_seed(4)
    same(minigrad.rand(3), torch.rand(3))
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64


def test_seeding_is_init_genrand():
    key = G.init_genrand(5489)
    np.testing.assert_array_equal(key, np.random.RandomState(5489).get_state()[1])


@pytest.mark.parametrize("name", ["log", "log1p", "cos", "sin"])
def test_libm_kernels_equal_their_reference(name):
    """Numba's ufuncs call the same libm as the ctypes reference: equal bits, float32 and float64."""
    x = np.random.default_rng(0).random(20000)
    for dt in (np.float32, np.float64):
        a = (-x if name == "log1p" else x * 7).astype(dt)
        np.testing.assert_array_equal(random_cpu.call(name, a), random_cpu._reference(name, a))
    z = np.arange(1, 500, dtype=np.int64) % np.arange(500, 1, -1)
    with minigrad.kernels.disabled():
        slow = random_cpu.fisher_yates(z)
    np.testing.assert_array_equal(random_cpu.fisher_yates(z), slow)


def test_cupy_keeps_its_own_generator(backend):
    """On CuPy, draws come from CuPy's generator seeded by manual_seed: a seeded run repeats itself."""
    if backend == "numpy":
        pytest.skip("CuPy's generator only")
    minigrad.manual_seed(1)
    a = [minigrad.rand(5, device=backend).cpu().numpy(), minigrad.randn(20, device=backend).cpu().numpy()]
    minigrad.manual_seed(1)
    b = [minigrad.rand(5, device=backend).cpu().numpy(), minigrad.randn(20, device=backend).cpu().numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    R._generators.clear()


@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("seed", [0, 3, 99])
def test_cauchy_log_normal_geometric_and_the_like_factories(seed, use_generator):
    for n in (1, 5, 17, 300):
        for md, td in DTYPES:
            g, tg = pair(seed, use_generator)
            same(minigrad.empty(n, dtype=md).cauchy_(0.5, 2.0, generator=g),
                 torch.empty(n, dtype=td).cauchy_(0.5, 2.0, generator=tg))
            same(minigrad.empty(n, dtype=md).log_normal_(0.2, 0.7, generator=g),
                 torch.empty(n, dtype=td).log_normal_(0.2, 0.7, generator=tg))
            same(minigrad.empty(n, dtype=md).geometric_(0.3, generator=g),
                 torch.empty(n, dtype=td).geometric_(0.3, generator=tg))
            x, tx = minigrad.zeros(n, dtype=md), torch.zeros(n, dtype=td)
            same(minigrad.rand_like(x, generator=g), torch.rand_like(tx, generator=tg))
            same(minigrad.randn_like(x, generator=g), torch.randn_like(tx, generator=tg))
            same(minigrad.randint_like(x, 2, 9, generator=g), torch.randint_like(tx, 2, 9, generator=tg))


@pytest.mark.parametrize("n", [3, 20])
def test_normal_with_tensor_mean_or_std(n):
    for md, td in DTYPES:
        m, s = np.linspace(-1, 1, n).astype(md), np.linspace(0.1, 2, n).astype(md)
        cases = [((minigrad.tensor(m), 0.7), (torch.tensor(m), 0.7)),
                 ((1.5, minigrad.tensor(s)), (1.5, torch.tensor(s))),
                 ((minigrad.tensor(m), minigrad.tensor(s)), (torch.tensor(m), torch.tensor(s)))]
        for a, b in cases:
            pair(4, False)
            same(minigrad.normal(*a), torch.normal(*b))
