"""Optimizer base: param groups, per-parameter state, zero_grad, state_dict in torch's layout."""
import warnings
from collections import defaultdict
from contextlib import nullcontext
from copy import deepcopy
from itertools import chain

from .. import backend, kernels
from ..autograd import enable_grad
from ..backend import move
from ..tensor import Tensor


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Holds param_groups (dicts of params + hyper-parameters) and state[p] (dict of Tensors/floats)."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"{type(params).__module__}.{type(params).__name__}"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            s += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return s + ")"

    # ---- groups ---------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a dict {'params': [...], **options}; missing options come from defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]  # named_parameters() pairs
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__module__}."
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
        if not seen.isdisjoint(set(params)):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- the training-step API -----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget gradients: .grad = None (default) or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._ctx = None
                    p.grad.requires_grad = False
                    p.grad.array[...] = 0  # torch zeroes in place; each leaf's .grad owns its array
                    p.grad._vc[0] += 1

    def step(self, closure=None):
        """One update of every parameter that has a .grad; returns closure() when given."""
        if backend.capture.open:
            raise RuntimeError(
                "optimizer.step() inside minigrad.cuda.graph capture: its scalars (learning rate, Adam's bias "
                "correction for this step count) would be frozen into the graph. Capture forward and backward only, "
                "then call optimizer.step() after each g.replay() (one fused launch).")
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._fast = kernels.switch.on  # each optimizer's fused twin (_fused_adam, ...), or its formulas alone
        with kernels.batch() if self._fast else nullcontext():  # CuPy: the step's fused updates in one launch
            for group in self.param_groups:
                self._step_group(group)
        for group in self.param_groups:  # the updates changed each parameter in place: count it, as torch
            for p in group["params"]:
                if p.grad is not None:
                    p._vc[0] += 1
        return loss

    _fast = False  # set by step() from minigrad.kernels.switch

    def _step_group(self, group):
        raise NotImplementedError

    def _with_grad(self, group):
        """(p, state) for params that have a gradient; state arrays follow p to its backend."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            for v in state.values():
                # a Module moved with .to('cuda') / .double() after the first step: state follows lazily
                if isinstance(v, Tensor) and (type(v.array) is not type(p.array) or v.array.dtype != p.array.dtype):
                    self._move_state(state, p)
                    break
            yield p, state

    @staticmethod
    def _move_state(state, p):
        for v in state.values():
            if isinstance(v, Tensor):
                v.array = move(v.array, p.backend).astype(p.array.dtype, copy=False)

    # ---- state_dict ----------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]} as torch lays it out."""
        mapping = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load state_dict() output (ours, or a torch one via reference.convert.from_torch_state_dict)."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        saved_ids = chain.from_iterable(g["params"] for g in saved_groups)
        id_map = dict(zip(saved_ids, chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {name: _cast(p, name, value) for name, value in v.items()}
            else:
                state[k] = v
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            for key, value in self.defaults.items():  # a state dict from an older torch lacks newer options
                s.setdefault(key, value)  # (Adam's decoupled_weight_decay): their defaults, as torch's __setstate__
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.state = state
        self.param_groups = saved_groups


def _cast(p, key, value):
    """Deep copy of one state value: 'step' becomes a Python float, arrays take p's dtype and backend."""
    if key == "step":
        return float(value.item() if hasattr(value, "item") else value)
    if isinstance(value, Tensor):
        a = move(value.array, p.backend)
        a = a.astype(p.dtype) if p.dtype.kind == "f" else a.copy()
        return Tensor._wrap(a)
    return deepcopy(value)


def check_flags(foreach=None, fused=None, capturable=False, differentiable=False):
    """torch's implementation switches: foreach is accepted (same math); the others are not implemented."""
    if fused or capturable or differentiable:
        raise NotImplementedError("minigrad optimizers support fused=None, capturable=False, differentiable=False")


def scalar(v):
    """Python float for a hyper-parameter: a NumPy float64 scalar would promote float32 arrays."""
    return float(v.item() if isinstance(v, Tensor) else v)


def typed(dtype, *values):
    """Hyper-parameters as scalars of the parameter's dtype, for the xp formulas: NumPy 1.x computes a 0-d float32
    array with a Python float in float64 (NumPy 2's NEP 50 casts the float to float32, as this does)."""
    return [dtype.type(v) for v in values]


def lerp(start, end, weight):
    """torch.lerp: start + weight (end - start); for weight >= 0.5 torch computes end - (end - start) (1 - weight),
    with 1 - weight rounded in the dtype, which is exact at weight = 1."""
    c, big = lerp_consts(start.dtype, weight)
    d = (end - start) * start.dtype.type(c)
    return end - d if big else start + d


def lerp_consts(dtype, w):
    """(factor, big) for lerp: torch uses 1 - weight, rounded in the dtype (float32 too), when weight >= 0.5."""
    if abs(w) < 0.5:
        return w, False
    return float(1 - dtype.type(w)), True


def decayed_grad(xp, p, g, weight_decay, maximize):
    """(-)g + weight_decay * p as a new array (never written into p.grad); g itself when nothing to do."""
    if weight_decay != 0:
        d = xp.multiply(p, p.dtype.type(weight_decay))
        if maximize:
            d -= g
        else:
            d += g
        return d
    return xp.negative(g) if maximize else g
