"""Module's state_dict and load_state_dict, as torch's: keys such as '0.weight', values that share memory,
torch's missing / unexpected / size-mismatch errors. A mixin of Module (minigrad/nn/module.py)."""
from collections import OrderedDict, namedtuple

from ..backend import move
from ..tensor import Size, Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


class StateDict:
    """Mixin for Module: state_dict() and load_state_dict()."""

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """OrderedDict name -> tensor (detached, sharing memory), keys as torch's ('0.weight', 'fc1.bias')."""
        dest = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                dest[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                dest[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=dest, prefix=prefix + name + ".", keep_vars=keep_vars)
        return dest

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values into this module's tensors in place; torch's missing/unexpected/size errors."""
        own = self.state_dict(keep_vars=True)
        missing, errors = [], []
        for k, t in own.items():
            if k not in state_dict:
                missing.append(k)
                continue
            v = _host_or_backend_array(state_dict[k])
            if tuple(v.shape) != t.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape {Size(v.shape)!r} from "
                              f"checkpoint, the shape in current model is {Size(t.shape)!r}.")
                continue
            t.array[...] = move(v, t.backend)  # assignment casts to the parameter's dtype
            t._vc[0] += 1  # an in-place change (torch's copy_): graphs that saved t refuse to backward
        unexpected = [k for k in state_dict if k not in own]
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)


def _host_or_backend_array(v):
    """Array behind a state_dict value: minigrad Tensor, NumPy/CuPy array, or a torch tensor."""
    if isinstance(v, Tensor):
        return v.array
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor, e.g. copying weights from torch
        return v.detach().cpu().numpy()
    return v
