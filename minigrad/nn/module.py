"""Module (registration, traversal, train/eval, device/dtype moves; state_dict in module_state.py) and Sequential, the module that runs
modules in order. Parameter is in parameter.py; ModuleList and ModuleDict in containers.py."""
from collections import OrderedDict

from .. import dtypes
from ..backend import backend_name, get_array_module, move, name_of, parse_to
from ..tensor import Tensor
from .module_state import StateDict
from .parameter import Parameter


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


class Module(StateDict):
    """Base class of every layer and model: assign Parameters / Modules as attributes to register them."""

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- attribute registration (torch's rules) ----------------------------------------------
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            self._modules[name] = value
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and children live in dicts
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, ()):
                del self.__dict__[key][name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register param (a Parameter, or None) as `name`, as assigning it does; TypeError otherwise."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A non-learnable tensor saved in state_dict (unless persistent=False) and moved by .to()."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register module (a Module, or None) as child `name`; TypeError otherwise. register_module is it."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The descendant at a dotted path ('0.fc1'; '' is self); AttributeError if there is none."""
        m = self
        for part in target.split(".") if target else []:
            m = getattr(m, part)
        return m

    # ---- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for self and every descendant, depth first, each module once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """self and every descendant module, depth first, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, module) for each direct child, each module once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct child modules, each once."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, key, prefix, recurse):
        seen = set()  # ids: Tensor.__eq__ is elementwise, so never test tensors with `in`
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for k, v in m.__dict__[key].items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield mp + ("." if mp else "") + k, v

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) for each parameter (of descendants too, if recurse), each once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Every Parameter (of descendants too, if recurse), each once, in registration order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        """(dotted name, tensor) for each buffer (of descendants too, if recurse), each once."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        """Every buffer (of descendants too, if recurse), each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call fn on every descendant (children first), then on self; return self (model.apply(init_fn))."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and grads ---------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on self and every descendant (Dropout reads it); ValueError unless a bool."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """train(False): evaluation mode (Dropout is the identity); return self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter; return self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset each parameter's .grad: to None (set_to_none=True, torch's default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0
                p.grad._vc[0] += 1

    # ---- device / dtype ----------------------------------------------------------------------
    def _apply_arrays(self, fn):
        """Replace every parameter's, grad's and buffer's array by fn(array), keeping the objects."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.array = fn(p.array)
                    if p.grad is not None:
                        p.grad.array = fn(p.grad.array)
            for b in m._buffers.values():
                if b is not None:
                    b.array = fn(b.array)
        return self

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): moves/casts in place, returns self."""
        device, dtype = parse_to(args, kwargs, "to", allow_copy=False)
        dtype = dtypes.as_dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        backend = backend_name(device) if device is not None else None

        def fn(a):
            if dtype is not None and a.dtype.kind == "f":  # as torch: only floating tensors are cast
                a = a.astype(dtype, copy=False)
            if backend is not None and name_of(get_array_module(a)) != backend:
                a = move(a, backend)
            return a

        return self._apply_arrays(fn)

    def cpu(self):
        """Move every parameter, gradient and buffer to the CPU, in place; return self."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter, gradient and buffer to the GPU (CuPy), in place; return self."""
        return self.to("cuda")

    def float(self):
        """Cast floating parameters, gradients and buffers to float32, in place; return self."""
        return self.to(dtypes.float32)

    def double(self):
        """Cast floating parameters, gradients and buffers to float64, in place; return self."""
        return self.to(dtypes.float64)

    def half(self):
        """Cast floating parameters, gradients and buffers to float16, in place; return self."""
        return self.to(dtypes.float16)

    # ---- repr --------------------------------------------------------------------------------
    def extra_repr(self):
        """Extra text inside this module's repr line; subclasses override it (empty here)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = ["(" + k + "): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"


# ---- modules that hold modules --------------------------------------------------------------------------------------
class _ModuleSequence(Module):
    """What Sequential and ModuleList share: integer indexing, len, iteration, append/extend/insert."""

    def _index(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def _renumber(self, mods):
        # torch keeps the keys 0..n-1 after a deletion or insertion
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for k in (keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]):
            del self._modules[k]
        self._renumber(list(self._modules.values()))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)
        return self


class Sequential(_ModuleSequence):
    """Calls its modules in order: Sequential(a, b)(x) == b(a(x)). Also Sequential(OrderedDict)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)
