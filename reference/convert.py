"""torch <-> minigrad state dicts: the one place where weights cross between the engines.

The engine (minigrad/) never imports torch; whoever holds both does it here. `to_torch_state_dict` and
`from_torch_state_dict` keep the nesting (a model's or an optimizer's state dict), and `copy_weights` copies a
model's weights into another model of the same layout, in either direction, through them.
"""
from collections import OrderedDict

import numpy as np


def is_torch(model):
    return any(c.__module__.startswith("torch") for c in type(model).__mro__)


def to_torch_state_dict(sd):
    """Same nesting with every minigrad Tensor replaced by a torch tensor (host copy, same dtype)."""
    import torch

    from minigrad import Tensor
    from minigrad.backend import to_numpy

    return _map_tensors(sd, Tensor, lambda t: torch.from_numpy(np.array(to_numpy(t.array), copy=True)))


def from_torch_state_dict(sd, device=None):
    """Same nesting with every torch tensor replaced by a minigrad Tensor (same dtype) on device."""
    import torch

    import minigrad

    return _map_tensors(sd, torch.Tensor,
                        lambda t: minigrad.tensor(t.detach().cpu().numpy().copy(), device=device or "cpu"))


def state_arrays(model):
    """name -> host NumPy copy of every tensor in a torch or minigrad model's state_dict."""
    sd = model.state_dict() if is_torch(model) else to_torch_state_dict(model.state_dict())
    return {k: v.detach().cpu().numpy().copy() for k, v in sd.items()}


def copy_weights(src, dst):
    """Copy every weight of src into dst (torch <-> minigrad, any direction); keys must match. Returns dst."""
    sd = src.state_dict()
    device = next(dst.parameters()).device
    if is_torch(dst):
        sd = sd if is_torch(src) else to_torch_state_dict(sd)
        dst.load_state_dict({k: v.to(device) for k, v in sd.items()})
    else:
        dst.load_state_dict(from_torch_state_dict(sd, device) if is_torch(src) else sd)
    return dst


def _map_tensors(x, cls, fn):
    """x with fn applied to every instance of cls inside dicts (OrderedDict kept), lists and tuples."""
    if isinstance(x, cls):
        return fn(x)
    if isinstance(x, dict):
        out = OrderedDict() if isinstance(x, OrderedDict) else {}
        for k, v in x.items():
            out[k] = _map_tensors(v, cls, fn)
        return out
    if isinstance(x, (list, tuple)):
        items = [_map_tensors(v, cls, fn) for v in x]
        return tuple(items) if isinstance(x, tuple) else items
    return x
