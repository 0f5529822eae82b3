"""Every optimizer against torch.optim (foreach=False): same weights, same gradients, k steps, same parameters."""
import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad.backend import to_numpy
from reference.convert import from_torch_state_dict
from support.helpers import assert_close, to_torch, torch_device

SHAPES = [(3, 4), (4,), ()]
K = 5


def make_params(dtype, backend, seed=0):
    """The same starting weights as minigrad leaves and torch leaves."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    mg = [minigrad.tensor(a, device=backend, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, device=torch_device(backend), requires_grad=True) for a in arrays]
    return mg, tt


def make_grads(dtype, seed=1, k=K):
    """k steps of gradients; about 10% exact zeros; the last param gets no gradient on step 1."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(k):
        gs = []
        for s in SHAPES:
            g = rng.standard_normal(s).astype(dtype)
            g = np.where(rng.random(s) < 0.1, 0.0, g).astype(dtype)
            gs.append(g)
        if step == 1:
            gs[-1] = None  # a param with .grad None is skipped (no state change) by both
        out.append(gs)
    return out


def set_grads(mg, tt, gs, backend):
    for p, tp, g in zip(mg, tt, gs):
        p.grad = None if g is None else minigrad.tensor(g, device=backend)
        tp.grad = None if g is None else torch.tensor(g, device=torch_device(backend))


def tol(dtype):
    # float64: agreement to ~1e-12 (torch fuses some multiply-adds; we cannot); float32: assert_close defaults
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else {}


def check_run(name, kwargs, dtype, backend, k=K):
    mg, tt = make_params(dtype, backend)
    opt = getattr(optim, name)(mg, **kwargs)
    topt = getattr(torch.optim, name)(tt, foreach=False, **kwargs)
    for gs in make_grads(dtype, k=k):
        set_grads(mg, tt, gs, backend)
        opt.step()
        topt.step()
        for p, tp in zip(mg, tt):
            assert p.dtype == np.dtype(dtype)
            assert_close(p, tp, **tol(dtype))
    for p, tp in zip(mg, tt):  # the optimizer state too
        st_, tst = opt.state[p], topt.state[tp]
        assert set(st_) == set(tst)
        for key, v in tst.items():
            if key == "step":
                assert st_[key] == float(v)
            else:
                assert st_[key].dtype == np.dtype(dtype)
                assert_close(st_[key], v, **tol(dtype))
    return opt, topt, mg, tt


# ---- every option combination, fixed values ----------------------------------------------------
def _grid(**axes):
    names = list(axes)
    return [dict(zip(names, vals)) for vals in itertools.product(*axes.values())]


SGD_GRID = [
    kw for kw in _grid(lr=[0.1], momentum=[0.0, 0.9], dampening=[0.0, 0.3], weight_decay=[0.0, 0.05],
                       nesterov=[False, True], maximize=[False, True])
    if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))
]
CASES = (
    [("SGD", kw) for kw in SGD_GRID]
    + [("Adam", kw) for kw in _grid(lr=[0.05], weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True])]
    + [("AdamW", kw) for kw in _grid(lr=[0.05], weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True])]
    + [("Adagrad", kw) for kw in _grid(lr=[0.1], lr_decay=[0.0, 0.2], weight_decay=[0.0, 0.1],
                                       initial_accumulator_value=[0.0, 0.5], maximize=[False, True])]
    + [("Adadelta", kw) for kw in _grid(lr=[1.0], rho=[0.9], weight_decay=[0.0, 0.1], maximize=[False, True])]
    + [("RMSprop", kw) for kw in _grid(lr=[0.01], momentum=[0.0, 0.8], centered=[False, True],
                                       weight_decay=[0.0, 0.1], maximize=[False, True])]
)


CASE_IDS = [n + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for n, kw in CASES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_option_grid_matches_torch(name, kwargs, dtype, backend):
    check_run(name, kwargs, dtype, backend)


# Options newer torch releases added to a param group; an older supported torch lacks them (torch 2.4: Adam's
# decoupled_weight_decay). Every option the installed torch has must match ours; ours may have only these more.
NEWER_OPTIONS = {"decoupled_weight_decay"}


def assert_same_group(ours, theirs):
    ours = {k: v for k, v in ours.items() if k != "params"}
    theirs = {k: v for k, v in theirs.items() if k != "params"}
    assert {k: ours.get(k, "<missing>") for k in theirs} == theirs
    assert set(ours) - set(theirs) <= NEWER_OPTIONS


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop"])
def test_defaults_match_torch(name, backend):
    kw = {"momentum": 0.9} if name == "SGD" else {}
    opt, _, _, _ = check_run(name, kw, np.float32, backend)
    topt = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    assert_same_group(opt.param_groups[0], topt.param_groups[0])


# ---- hyper-parameters drawn by hypothesis -------------------------------------------------------
dtypes = st.sampled_from([np.float32, np.float64])
unit = st.floats(0.0, 0.99)
lrs = st.floats(1e-4, 1.0)
wds = st.sampled_from([0.0]) | st.floats(1e-4, 0.2)


@st.composite
def sgd_kwargs(draw):
    momentum = draw(st.sampled_from([0.0]) | unit)
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0]) | st.floats(0.0, 1.0))
    return dict(lr=draw(lrs), momentum=momentum, dampening=dampening, weight_decay=draw(wds), nesterov=nesterov,
                maximize=draw(st.booleans()))


adam_kwargs = st.fixed_dictionaries(dict(
    lr=lrs, betas=st.tuples(unit, st.floats(0.0, 0.999)), eps=st.floats(1e-10, 1e-2), weight_decay=wds,
    amsgrad=st.booleans(), maximize=st.booleans()))
# torch fuses g + weight_decay * p into one rounding (FMA), we round twice: where that sum cancels to ~1e-5 and an
# accumulator of ~1e-10 makes g / sqrt(sum) depend on its last bits, float32 runs part by ~1e-4, so keep the
# accumulator away from that ill-conditioned band (0 itself is fine: then g / sqrt(g^2) = sign(g) exactly).
adagrad_kwargs = st.fixed_dictionaries(dict(
    lr=lrs, lr_decay=st.floats(0.0, 1.0), weight_decay=wds,
    initial_accumulator_value=st.sampled_from([0.0]) | st.floats(1e-3, 1.0),
    eps=st.floats(1e-10, 1e-2), maximize=st.booleans()))
adadelta_kwargs = st.fixed_dictionaries(dict(
    lr=st.floats(1e-3, 2.0), rho=st.floats(0.0, 1.0), eps=st.floats(1e-8, 1e-2), weight_decay=wds,
    maximize=st.booleans()))
# alpha stays away from 0 and 1 when centered: v - mean(g)^2 then cancels to rounding noise in both engines
rmsprop_kwargs = st.fixed_dictionaries(dict(
    lr=st.floats(1e-4, 0.1), alpha=st.floats(0.5, 0.99), eps=st.floats(1e-8, 1e-2), weight_decay=wds,
    momentum=st.sampled_from([0.0]) | unit, centered=st.booleans(), maximize=st.booleans()))


@given(kw=sgd_kwargs(), dtype=dtypes)
def test_sgd_hypothesis(kw, dtype, backend):
    check_run("SGD", kw, dtype, backend)


@given(kw=adam_kwargs, dtype=dtypes, name=st.sampled_from(["Adam", "AdamW"]))
def test_adam_adamw_hypothesis(kw, dtype, name, backend):
    check_run(name, kw, dtype, backend)


@given(kw=adagrad_kwargs, dtype=dtypes)
def test_adagrad_hypothesis(kw, dtype, backend):
    check_run("Adagrad", kw, dtype, backend)


@given(kw=adadelta_kwargs, dtype=dtypes)
def test_adadelta_hypothesis(kw, dtype, backend):
    check_run("Adadelta", kw, dtype, backend)


@given(kw=rmsprop_kwargs, dtype=dtypes)
def test_rmsprop_hypothesis(kw, dtype, backend):
    check_run("RMSprop", kw, dtype, backend)


# ---- a real backward: loss = sum((x @ W + b)^2) on a tiny layer -----------------------------------
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)), ("RMSprop", dict(centered=True))])
def test_with_backward_float64(name, kwargs, backend):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 5))
    W0, b0 = rng.standard_normal((5, 3)), rng.standard_normal(3)
    W, b = (minigrad.tensor(a, device=backend, requires_grad=True) for a in (W0, b0))
    tW, tb = (torch.tensor(a, device=torch_device(backend), requires_grad=True) for a in (W0, b0))
    opt = getattr(optim, name)([W, b], **kwargs)
    topt = getattr(torch.optim, name)([tW, tb], foreach=False, **kwargs)
    mx, tx = minigrad.tensor(x, device=backend), torch.tensor(x, device=torch_device(backend))
    for _ in range(K):
        opt.zero_grad()
        topt.zero_grad()
        ((mx @ W + b) ** 2).sum().backward()
        ((tx @ tW + tb) ** 2).sum().backward()
        opt.step()
        topt.step()
        assert_close(W, tW, rtol=1e-10, atol=1e-10)
        assert_close(b, tb, rtol=1e-10, atol=1e-10)


# ---- behaviour ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop"])
def test_float32_stays_float32_and_grad_untouched(name, backend):
    kw = dict(lr=0.1, weight_decay=0.1, maximize=True)
    kw.update({"SGD": dict(momentum=0.9, nesterov=True), "Adam": dict(amsgrad=True),
               "RMSprop": dict(momentum=0.5, centered=True)}.get(name, {}))
    mg, _ = make_params(np.float32, backend)
    opt = getattr(optim, name)(mg, **kw)
    grads = [minigrad.tensor(np.ones(s, np.float32), device=backend) for s in SHAPES]
    for _ in range(3):
        for p, g in zip(mg, grads):
            p.grad = g
        opt.step()
    for p, g in zip(mg, grads):
        assert p.dtype == np.float32 and p.grad is g
        assert np.all(to_numpy(g.array) == 1.0)  # never written in place
        for v in opt.state[p].values():
            assert isinstance(v, float) or v.dtype == np.float32


def test_zero_grad(backend):
    mg, _ = make_params(np.float32, backend)
    opt = optim.SGD(mg, lr=0.1)
    for p in mg:
        p.grad = minigrad.tensor(np.ones(p.shape, np.float32), device=backend)
    g0 = mg[0].grad
    opt.zero_grad(set_to_none=False)
    assert mg[0].grad is g0  # same tensor, zeroed in place, as torch
    for p in mg:
        assert p.grad is not None and p.grad.dtype == np.float32 and not np.any(to_numpy(p.grad.array))
    opt.zero_grad()
    assert all(p.grad is None for p in mg)


def test_closure_and_param_groups():
    mg, tt = make_params(np.float64, "numpy")
    opt = optim.SGD([{"params": mg[:2]}, {"params": mg[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": tt[:2]}, {"params": tt[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    for gs in make_grads(np.float64):
        def closure():
            set_grads(mg, tt, gs, "numpy")
            return 42.0
        assert opt.step(closure) == 42.0
        topt.step()
        for p, tp in zip(mg, tt):
            assert_close(p, tp, **tol(np.float64))


def test_add_param_group_and_errors():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered collections"):
        optim.SGD([{"params": {a}}], lr=0.1)
    assert "Parameter Group 1" in repr(opt) and "lr: 0.2" in repr(opt)


VALIDATION = [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(lr=-0.01), "Invalid learning rate: -0.01"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Adam", dict(betas=(0, 0.9)), "betas must be either both floats or both Tensors"),
    ("AdamW", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(lr=-2), "Invalid learning rate: -2"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("RMSprop", dict(eps=-0.1), "Invalid epsilon value: -0.1"),
]


NEWER_CHECKS = {"betas must be either both floats or both Tensors"}  # torch 2.4 accepts betas=(0, 0.9)


@pytest.mark.parametrize("name,kwargs,msg", VALIDATION)
def test_validation_messages(name, kwargs, msg):
    """torch refuses the same values (its wording is not compared: it moves between releases)."""
    try:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    except ValueError:
        pass
    else:  # only a check newer torch releases added may be missing from the installed one
        assert msg in NEWER_CHECKS, f"torch {torch.__version__} accepts {kwargs}"
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        getattr(optim, name)([minigrad.zeros(1, requires_grad=True)], **kwargs)


def test_state_follows_parameter_to_cuda(backend):
    from minigrad.backend import move

    if backend != "cupy":
        pytest.skip("moves the parameters from numpy to a cupy backend")
    mg, tt = make_params(np.float32, "numpy")
    opt = optim.Adam(mg, lr=0.1)
    topt = torch.optim.Adam(tt, lr=0.1, foreach=False)
    for i, gs in enumerate(make_grads(np.float32)):
        if i == 2:  # what Module.to('cuda') does to each parameter after the state exists
            for p in mg:
                p.array = move(p.array, "cupy")
        for p, tp, g in zip(mg, tt, gs):  # torch stays on the CPU, minigrad's grads follow their parameter
            p.grad = None if g is None else minigrad.tensor(g, device=p.backend)
            tp.grad = None if g is None else torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(mg, tt):
            assert_close(p, tp)
    assert all(type(v.array) is type(mg[0].array) for v in opt.state[mg[0]].values() if not isinstance(v, float))


# ---- state_dict --------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(amsgrad=True)),
                                         ("AdamW", {}), ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", {}),
                                         ("RMSprop", dict(momentum=0.5, centered=True))])
def test_state_dict_matches_torch_and_round_trips(name, kwargs):
    grads = make_grads(np.float64, k=6)
    mg, tt = make_params(np.float64, "numpy")
    opt = getattr(optim, name)(mg, **kwargs)
    topt = getattr(torch.optim, name)(tt, **kwargs)
    for gs in grads[:3]:
        set_grads(mg, tt, gs, "numpy")
        opt.step()
        topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    # same layout: same groups (params as indices), same state keys per index
    assert len(sd["param_groups"]) == len(tsd["param_groups"])
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg["params"]
        assert_same_group(g, tg)
    assert sd["state"].keys() == tsd["state"].keys()
    for i in tsd["state"]:
        assert sd["state"][i].keys() == tsd["state"][i].keys()
    # ours -> a fresh optimizer; torch's (converted) -> another; both continue exactly as the original
    copies = []
    for source in (sd, from_torch_state_dict(tsd)):
        mg2, _ = make_params(np.float64, "numpy")
        for p2, p in zip(mg2, mg):
            p2.array[...] = p.array
        opt2 = getattr(optim, name)(mg2, **kwargs)
        opt2.load_state_dict(source)
        copies.append((mg2, opt2))
    for gs in grads[3:]:
        set_grads(mg, tt, gs, "numpy")
        opt.step()
        topt.step()
        for mg2, opt2 in copies:
            for p2, g in zip(mg2, gs):
                p2.grad = None if g is None else minigrad.tensor(g)
            opt2.step()
    for mg2, _ in copies:
        for p, p2, tp in zip(mg, mg2, tt):
            np.testing.assert_array_equal(p2.array, p.array)
            assert_close(p2, tp, **tol(np.float64))


def test_load_state_dict_is_a_copy_and_checks_sizes():
    mg, _ = make_params(np.float32, "numpy")
    opt = optim.SGD(mg, lr=0.1, momentum=0.9)
    for p in mg:
        p.grad = minigrad.ones(p.shape)
    opt.step()
    sd = opt.state_dict()
    opt2 = optim.SGD(make_params(np.float32, "numpy")[0], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    p2 = opt2.param_groups[0]["params"][0]
    assert opt2.state[p2]["momentum_buffer"].array is not opt.state[mg[0]]["momentum_buffer"].array
    assert opt2.param_groups[0]["params"][0] is p2
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD(mg[:2], lr=0.1).load_state_dict(sd)


# ---- schedulers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sched,kwargs", [("StepLR", dict(step_size=3, gamma=0.5)), ("ExponentialLR", dict(gamma=0.9))])
def test_lr_schedulers_match_torch(sched, kwargs):
    opt = optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    s = getattr(optim.lr_scheduler, sched)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, sched)(topt, **kwargs)
    for _ in range(10):
        assert s.get_last_lr() == ts.get_last_lr()
        assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
        opt.step()
        topt.step()
        s.step()
        ts.step()


@pytest.mark.parametrize("opt_name,opt_kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))])
@pytest.mark.parametrize("sched,kwargs,steps", [
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001), 13),  # past T_max: the cosine climbs back
    ("CosineAnnealingLR", dict(T_max=7), 7),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=12), 12),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=4, anneal_strategy="linear", pct_start=0.25), 12),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=20, three_phase=True, div_factor=10.0), 20),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=9, cycle_momentum=False), 9),
])
def test_new_lr_schedulers_match_torch(opt_name, opt_kw, sched, kwargs, steps):
    """lr, momentum and Adam's beta1 after every step equal torch's, to the last bit."""
    opt = getattr(optim, opt_name)([minigrad.zeros(2, requires_grad=True)], **opt_kw)
    topt = getattr(torch.optim, opt_name)([torch.zeros(2, requires_grad=True)], **opt_kw)
    s = getattr(optim.lr_scheduler, sched)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, sched)(topt, **kwargs)
    seen = set()
    for _ in range(steps):
        assert s.get_last_lr() == ts.get_last_lr()
        g, tg = opt.param_groups[0], topt.param_groups[0]
        assert g["lr"] == tg["lr"]
        assert g.get("momentum") == tg.get("momentum") and g.get("betas") == tg.get("betas")
        seen.add(g["lr"])
        opt.step()
        topt.step()
        s.step()
        ts.step()
    assert len(seen) > 2  # the schedule moved


def test_cosine_annealing_closed_form_matches_torch():
    opt = optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    s, ts = optim.lr_scheduler.CosineAnnealingLR(opt, 5), torch.optim.lr_scheduler.CosineAnnealingLR(topt, 5)
    for epoch in (3, 1, 5):
        s.step(epoch)
        ts.step(epoch)
        assert s.get_last_lr() == ts.get_last_lr()


def test_one_cycle_errors_match_torch():
    cases = [("SGD", dict(max_lr=1.0)), ("SGD", dict(max_lr=1.0, total_steps=0)),
             ("SGD", dict(max_lr=1.0, total_steps=5, pct_start=2.0)),
             ("SGD", dict(max_lr=1.0, total_steps=5, anneal_strategy="step")),
             ("Adagrad", dict(max_lr=1.0, total_steps=5))]  # no momentum and no betas to cycle
    for name, kw in cases:
        with pytest.raises(ValueError):
            optim.lr_scheduler.OneCycleLR(getattr(optim, name)([minigrad.zeros(2, requires_grad=True)], lr=0.1), **kw)
        with pytest.raises(ValueError):
            topt = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], lr=0.1)
            torch.optim.lr_scheduler.OneCycleLR(topt, **kw)
    s = optim.lr_scheduler.OneCycleLR(optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9),
                                      max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="3"):
        s.step()  # one step past total_steps


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", patience=1, factor=0.5),
                                    dict(patience=0, cooldown=2, threshold=0.1, threshold_mode="abs"),
                                    dict(patience=1, min_lr=0.04, factor=0.5)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    opt = optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.7, 0.49, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8,
               0.8, 0.8, 0.8, 0.8, 0.8]
    lrs = set()
    for m in metrics:
        s.step(m)
        ts.step(m)
        assert s.get_last_lr() == ts.get_last_lr()
        assert (s.best, s.num_bad_epochs, s.cooldown_counter) == (ts.best, ts.num_bad_epochs, ts.cooldown_counter)
        lrs.add(opt.param_groups[0]["lr"])
    assert len(lrs) > 1  # each case reduces at least once
    with pytest.raises(ValueError):
        optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


# ---- a small net (Linear -> ReLU -> Linear, cross-entropy), weights copied from torch -------------
NET_CASES = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)), ("Adam", dict(lr=0.01)),
             ("AdamW", dict(lr=0.01, amsgrad=True)), ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
             ("Adadelta", dict(weight_decay=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True))]


def _nets(dtype, backend):
    import minigrad.nn as nn
    from reference.convert import from_torch_state_dict

    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    tnet = tnet.to(dtype=getattr(torch, np.dtype(dtype).name), device=torch_device(backend))
    net = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4)).to(np.dtype(dtype)).to(backend)
    net.load_state_dict(from_torch_state_dict(tnet.state_dict()))
    return net, tnet


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", NET_CASES, ids=[c[0] for c in NET_CASES])
def test_small_net_training_matches_torch(name, kwargs, dtype, backend):
    """Each step starts from identical weights (copied from torch) and sees torch's own gradients."""
    import minigrad.nn as nn

    net, tnet = _nets(dtype, backend)
    opt = getattr(optim, name)(net.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tnet.parameters(), foreach=False, **kwargs)
    rng = np.random.default_rng(5)
    for _ in range(K):
        x = rng.standard_normal((16, 12)).astype(dtype)
        y = rng.integers(0, 4, 16)
        opt.zero_grad()
        topt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(minigrad.tensor(x, device=backend)), minigrad.tensor(y, device=backend))
        tloss = torch.nn.functional.cross_entropy(tnet(to_torch(x, backend)), to_torch(y, backend))
        loss.backward()
        tloss.backward()
        assert_close(loss, tloss, **tol(dtype))
        for p, tp in zip(net.parameters(), tnet.parameters()):
            assert_close(p.grad, tp.grad, **tol(dtype))
            p.grad = minigrad.tensor(tp.grad.detach().cpu().numpy(), device=backend)  # identical from here on
        opt.step()
        topt.step()
        for p, tp in zip(net.parameters(), tnet.parameters()):
            assert p.dtype == np.dtype(dtype)
            assert_close(p, tp, **tol(dtype))


def test_net_moved_after_state_exists_keeps_training(backend):
    """net.double() after the first step: state is cast lazily and training goes on as torch's does."""
    net, tnet = _nets(np.float32, backend)
    opt = optim.Adam(net.parameters(), lr=0.01)
    topt = torch.optim.Adam(tnet.parameters(), lr=0.01, foreach=False)
    rng = np.random.default_rng(6)
    for i in range(3):
        if i == 1:
            net.double()
            tnet.double()
            for st_ in topt.state.values():  # torch does not follow; cast its state by hand
                for k in ("exp_avg", "exp_avg_sq"):
                    st_[k] = st_[k].double()
        for p, tp in zip(net.parameters(), tnet.parameters()):
            g = rng.standard_normal(p.shape).astype(p.dtype)
            p.grad = minigrad.tensor(g, device=backend)
            tp.grad = to_torch(g, backend)
        opt.step()
        topt.step()
    for p, tp in zip(net.parameters(), tnet.parameters()):
        assert p.dtype == np.float64 and opt.state[p]["exp_avg"].dtype == np.float64
        assert_close(p, tp)
