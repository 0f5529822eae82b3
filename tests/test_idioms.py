"""Course-style PyTorch snippets, run unchanged on minigrad (`import minigrad as torch`) and on torch.

Each snippet is a function of the module it runs on (`T`); both runs must give the same results:
tensors compared by dtype, shape and value, Python values by equality.
"""
import numpy as np
import pytest
import torch

import minigrad

rng = np.random.default_rng(0)
OUT = rng.standard_normal((6, 4)).astype(np.float32)  # logits of 6 samples over 4 classes
Y = np.array([1, 0, 3, 3, 2, 1])
IMG = rng.standard_normal((3, 1, 4, 4)).astype(np.float32)


def _norm(v):
    """Comparable form: a tensor becomes (dtype name, shape, numpy values); containers recurse."""
    if isinstance(v, (minigrad.Tensor, torch.Tensor)):
        a = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v.detach().cpu().numpy()
        return ("tensor", str(v.dtype).replace("torch.", ""), tuple(v.shape), a)
    if isinstance(v, (tuple, list)):
        return type(v).__name__, [_norm(x) for x in v]
    if isinstance(v, (np.dtype, torch.dtype, minigrad.dtype)):
        return str(v).replace("torch.", "")
    return v


def _assert_same(a, b):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert isinstance(b, tuple) and b[:3] == a[:3], (a[:3], b[:3])
        np.testing.assert_allclose(a[3], b[3], rtol=1.3e-6, atol=1e-5)
    elif isinstance(a, tuple) and len(a) == 2 and isinstance(a[1], list):
        assert len(a[1]) == len(b[1])
        for x, y in zip(a[1], b[1]):
            _assert_same(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1.3e-6, abs=1e-5)
    else:
        assert a == b


def _sgd_loop(T):
    """Manual linear regression with the course's update idiom."""
    T.manual_seed(0)
    X = T.tensor(IMG.reshape(6, 8)[:, :3])
    y = T.tensor(OUT[:, 0])
    w = T.zeros(3, requires_grad=True)
    b = T.zeros(1, requires_grad=True)
    lr, losses = 0.1, []
    for _ in range(5):
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        with T.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return w, b, losses


def _no_grad_block(T):
    w = T.ones(1, requires_grad=True)
    with T.no_grad():
        inside = (w * 2).requires_grad
    return inside, (w * 2).requires_grad


SNIPPETS = {
    "view_batch_flatten": lambda T: (lambda x: x.view(x.size(0), -1))(T.tensor(IMG)),
    "max_dim_unpack": lambda T: (lambda r: r[1])(T.max(T.tensor(OUT), 1)),
    "max_dim_values": lambda T: T.max(T.tensor(OUT), 1)[0],
    "argmax1": lambda T: T.tensor(OUT).argmax(1),
    "accuracy_count": lambda T: (T.tensor(OUT).argmax(1) == T.tensor(Y)).type(T.float).sum().item(),
    "accuracy_sum_item": lambda T: (T.max(T.tensor(OUT), 1)[1] == T.tensor(Y)).sum().item(),
    "binary_target": lambda T: 1 * (T.tensor(Y) == 3).to(T.float32),
    "column": lambda T: T.tensor(Y)[:, None],
    "and_masks": lambda T: (T.tensor(OUT[:, 0]) >= 0.5) & (T.tensor(OUT[:, 1]) >= 0.5),
    "or_masks": lambda T: (T.tensor(OUT[:, 0]) >= 0.5) | ~(T.tensor(OUT[:, 1]) >= 0.5),
    "torch_sum": lambda T: T.sum(T.tensor(OUT) ** 2),
    "torch_sum_dim": lambda T: T.sum(T.tensor(OUT), dim=1),
    "numel_params": lambda T: sum(p.numel() for p in [T.zeros(3, 4), T.zeros(4)]),
    "clone_detach": lambda T: (lambda t: (t.clone().detach(), t.clone().detach().requires_grad))(
        T.ones(2, requires_grad=True) * 3),
    "grad_clone_then_zero": lambda T: (lambda w: ((w * w).sum().backward(), w.grad.clone(), w.grad.zero_(), w.grad)
                                       [1:])(T.tensor([1.0, -2.0], requires_grad=True)),
    "requires_grad_": lambda T: (lambda t: (t.requires_grad_(), t.requires_grad)[1])(T.zeros(2)),
    "zeros_like": lambda T: T.zeros_like(T.tensor(OUT)),
    "linspace": lambda T: T.linspace(-2, 2, 9),
    "rand_shape_dtype": lambda T: (lambda r: (tuple(r.shape), str(r.dtype).replace("torch.", "")))(T.rand(3, 2)),
    "randn_shape_dtype": lambda T: (lambda r: (tuple(r.shape), str(r.dtype).replace("torch.", "")))(T.randn(5)),
    "cat_dim0": lambda T: T.cat([T.ones(2, 3), T.zeros(1, 3)]),
    "cat_dim1": lambda T: T.cat((T.ones(2, 3), T.zeros(2, 1)), dim=1),
    "tensor_int64": lambda T: T.tensor([1, 2, 3]),
    "tensor_float32": lambda T: T.tensor([1.0, 2, 3]),
    "tensor_bool": lambda T: T.tensor([True, False]),
    "dtype_names": lambda T: [T.ones(1, dtype=d) for d in (T.float32, T.float, T.float64, T.long, T.int64, T.bool)],
    "no_grad_block": lambda T: _no_grad_block(T),
    "loss_item": lambda T: ((T.tensor(OUT) - 1) ** 2).mean().item(),
    "fstring_0d": lambda T: f"loss {((T.tensor(OUT) - 1) ** 2).mean():.4f} acc {T.tensor(0.5):.1%}",
    "manual_seed_repeat": lambda T: (T.manual_seed(7), T.rand(3).tolist() == (T.manual_seed(7), T.rand(3))[1].tolist())
    [1],
    "cuda_is_available": lambda T: T.cuda.is_available(),
    "device_cpu": lambda T: str(T.device("cpu")),
    "device_pick": lambda T: str(T.device("cuda" if T.cuda.is_available() else "cpu")),
    "to_device": lambda T: T.tensor(OUT).to(T.device("cpu")),
    "to_device_str": lambda T: T.tensor(Y).to("cpu"),
    "sgd_loop": _sgd_loop,
    # obvious neighbours
    "argmax_dim_kw": lambda T: T.argmax(T.tensor(OUT), dim=1),
    "max_values_attr": lambda T: T.tensor(OUT).max(dim=1).values,
    "max_indices_attr": lambda T: T.tensor(OUT).max(1).indices,
    "max_on_data": lambda T: T.max(T.tensor(OUT).data, 1)[1],
    "eq_sum_float_mean": lambda T: (T.tensor(OUT).argmax(1) == T.tensor(Y)).float().mean(),
    "reshape_minus1": lambda T: T.tensor(IMG).reshape(-1, 16),
    "view_neg_first": lambda T: T.tensor(IMG).view(-1, 4 * 4),
    "flatten_start1": lambda T: T.flatten(T.tensor(IMG), 1),
    "size_index": lambda T: (T.tensor(IMG).size()[0], T.tensor(IMG).size(1), T.tensor(IMG).shape[-1]),
    "Tensor_ctor_float": lambda T: T.Tensor([1, 2]),
    "FloatTensor": lambda T: T.FloatTensor([1, 2]),
    "LongTensor": lambda T: T.LongTensor([1, 2]),
    "from_numpy_float": lambda T: T.from_numpy(np.arange(3)).float(),
    "detach_cpu_numpy": lambda T: T.tensor(OUT, requires_grad=True).detach().cpu().numpy().dtype == np.float32,
    "setitem_mask": lambda T: (lambda x: (x.__setitem__(x < 0, 0.0), x)[1])(T.tensor(OUT)),
    "where_scalars": lambda T: T.where(T.tensor(OUT) > 0, 1, 0),
    "round_prob": lambda T: T.round(T.sigmoid(T.tensor(OUT))),
    "allclose": lambda T: T.allclose(T.ones(2), T.ones(2) + 1e-9),
    "equal": lambda T: T.equal(T.ones(2), T.ones(2)),
    "isclose": lambda T: T.isclose(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.1])),
    "int_division": lambda T: T.tensor([3, 4]) / 2,
    "bool_sum_item": lambda T: (T.tensor(Y) > 1).sum().item(),
    "mse_by_hand": lambda T: T.mean((T.tensor(OUT[:, 0]) - T.tensor(OUT[:, 1])) ** 2),
    "unsqueeze_col": lambda T: T.tensor(Y).unsqueeze(1).float(),
    "clamp_min": lambda T: T.tensor(OUT).clamp(min=0),
    "norm": lambda T: T.tensor(OUT).norm(),
    "is_tensor_numel": lambda T: (T.is_tensor(T.ones(1)), T.numel(T.ones(2, 3))),
    "type_string": lambda T: T.ones(2).type().split(".")[-1],
    "dtype_equality": lambda T: (T.ones(2).dtype == T.float32, T.tensor([1]).dtype == T.long),
    "w_data_update": lambda T: (lambda w: ((w * 2).sum().backward(), w.data.__isub__(0.1 * w.grad.data), w)[2])(
        T.ones(2, requires_grad=True)),
    "loss_data_item": lambda T: ((T.tensor(OUT) - 1) ** 2).mean().data.item(),
    "cuda_manual_seed": lambda T: T.cuda.manual_seed(42),
    # NumPy's spellings, which torch accepts too (d2l writes y_hat.argmax(axis=1))
    "sum_axis_alias": lambda T: T.ones(2, 3).sum(axis=0),
    "axis_keepdims": lambda T: [T.tensor(OUT).sum(axis=1, keepdims=True), T.tensor(OUT).argmax(axis=1),
                                T.tensor(OUT).mean(axis=0), T.tensor(OUT).max(axis=1)[1], T.sum(T.tensor(OUT), axis=0),
                                T.tensor(OUT).softmax(axis=1), T.tensor(OUT).logsumexp(axis=1, keepdims=True),
                                T.tensor(OUT).var(axis=0, keepdims=True), (T.tensor(OUT) > 0).all(axis=1)],
    "d2l_accuracy": lambda T: float((T.tensor(OUT).argmax(axis=1).type(T.tensor(Y).dtype) == T.tensor(Y))
                                    .type(T.tensor(Y).dtype).sum()),
    "size_keyword": lambda T: [T.zeros(size=(2, 3)), T.ones(size=(4,)), T.empty(size=(1, 2)).shape,
                               T.rand(size=(3, 2)).shape, T.randn(size=(2,)).shape],
    "add_alpha": lambda T: [T.add(T.ones(2), T.ones(2), alpha=2), T.sub(T.tensor(OUT), 1.5, alpha=2)],
    "backends": lambda T: (T.backends.cudnn.deterministic, T.backends.mps.is_available()),
    "scatter_one_hot": lambda T: T.zeros(10, dtype=T.float).scatter_(0, T.tensor(int(Y[2])), value=1),
    "sort_topk": lambda T: [T.sort(T.tensor([3.0, 1.0]))[0], T.tensor([3.0, 1.0, 2.0]).topk(2).indices],
    "gather_picks": lambda T: T.tensor(OUT).gather(1, T.tensor(Y).unsqueeze(1)).squeeze(1),
    "new_factories": lambda T: [T.tensor(OUT).double().new_zeros(2, 3), T.tensor(Y).new_ones((2,)),
                                T.tensor(OUT).new_full((2,), 1.5), T.tensor(OUT).new_tensor([1, 2]),
                                T.tensor(OUT).new_empty(3).shape, T.tensor(Y).new_zeros(2, dtype=T.float32)],
}


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_snippet_runs_the_same_on_minigrad_and_torch(name):
    snippet = SNIPPETS[name]
    _assert_same(_norm(snippet(minigrad)), _norm(snippet(torch)))


SNIPPETS.update({  # .data as torch's: a detached Tensor sharing the storage
    "data_numpy": lambda T: T.tensor(OUT).data.numpy(),
    "grad_data_zero": lambda T: (lambda w: ((w * 2).sum().backward(), w.grad.data.zero_(), w.grad)[2])(
        T.ones(2, requires_grad=True)),
    "data_std_is_unbiased": lambda T: T.tensor(OUT).data.std(),
    "weight_data_normal_": lambda T: (lambda w: (w.data.normal_(0, 0.01), w.requires_grad, w.is_leaf)[1:])(
        T.ones(2, requires_grad=True)),
    "data_iadd_keeps_tensor": lambda T: (lambda w: (w.data.__iadd__(-0.1 * w), type(w.data).__name__, w)[1:])(
        T.ones(2, requires_grad=True)),
})

KNOWN_GAPS = {  # torch idioms that minigrad does not support (documented)
    "scatter_reduce": lambda T: T.zeros(3).scatter(0, T.tensor([0, 0]), T.tensor([1.0, 2.0]), reduce="multiply"),
}


@pytest.mark.parametrize("name", list(KNOWN_GAPS))
def test_known_gaps_fail_loudly(name):
    """Documented gaps: torch runs them; minigrad raises (no silent wrong answer)."""
    KNOWN_GAPS[name](torch)
    with pytest.raises((AttributeError, TypeError, NotImplementedError)):
        KNOWN_GAPS[name](minigrad)


def test_generator_seeds_random_split_loader_and_rand():
    """`torch.Generator().manual_seed(42)` as course code passes it to random_split / DataLoader / rand."""
    import minigrad as mtorch
    from minigrad.utils.data import DataLoader, TensorDataset, random_split

    ds = TensorDataset(mtorch.arange(10).float(), mtorch.arange(10))
    a1, _ = random_split(ds, [7, 3], generator=mtorch.Generator().manual_seed(42))
    a2, _ = random_split(ds, [7, 3], generator=mtorch.Generator().manual_seed(42))
    a3, _ = random_split(ds, [7, 3], generator=mtorch.Generator().manual_seed(43))
    assert list(a1.indices) == list(a2.indices) != list(a3.indices)
    r1 = mtorch.rand(5, generator=mtorch.Generator().manual_seed(1))
    r2 = mtorch.rand(5, generator=mtorch.Generator().manual_seed(1))
    assert r1.dtype == mtorch.float32 and (r1 == r2).all()
    order = [[y.tolist() for _, y in DataLoader(ds, batch_size=4, shuffle=True,
                                                generator=mtorch.Generator().manual_seed(0))] for _ in range(2)]
    assert order[0] == order[1] and sorted(sum(order[0], [])) == list(range(10))


def test_normal_like_torch():
    """torch.normal's forms (d2l's synthetic data and init): shapes, dtypes and the distribution."""
    for L in (minigrad, torch):
        L.manual_seed(0)
        assert L.normal(0, 1, (5, 2)).shape == (5, 2) and L.normal(0, 0.01, size=(3,)).dtype == L.float32
        w = L.normal(0, 0.01, size=(2, 1), requires_grad=True)
        assert w.requires_grad and w.is_leaf
        m = L.normal(mean=L.zeros(size=(3, 2)), std=0.01)
        assert m.shape == (3, 2) and not m.requires_grad
        assert L.normal(L.zeros(2, 1), L.ones(3)).shape == (2, 3) and L.normal(2.0, L.ones(4)).shape == (4,)
        assert L.normal(L.zeros(2, dtype=L.float64), 1.0).dtype == L.float64
        big = L.normal(3.0, 2.0, size=(20000,))
        assert abs(big.mean().item() - 3.0) < 0.1 and abs(big.std().item() - 2.0) < 0.1
        with pytest.raises(TypeError):
            L.normal(0.0, 1.0)
