"""Tensor's conversions, as torch's: to Python values (item, tolist, float()), to NumPy, to a device or dtype."""
import builtins

from . import backend, dtypes
from .backend import backend_name, parse_to, to_numpy

ops = None  # minigrad.ops, set by tensor_ops.setup_tensor() (ops make Tensors, which are built from this mixin)


class ConvertOps:
    """Mixin for Tensor: item, tolist, numpy, to, cpu, cuda, float, double, long, ..., repr."""

    def item(self):
        """The one element as a Python number; RuntimeError unless it has exactly one.
        A sync point: raises what the device-side checks found."""
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        backend.sync_checks()  # a sync point: raise what the device-side checks found
        return self.array.reshape(()).item()

    def tolist(self):
        """The elements as nested Python lists (a number for a 0-d tensor); copies from the GPU."""
        return to_numpy(self.array).tolist()

    def numpy(self, force=False):
        """The NumPy array sharing this tensor's memory, as torch; refuses a tensor that requires grad
        or lives on the GPU; force=True skips both checks (a host copy from the GPU)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.backend == "cupy" and not force:
            raise TypeError("can't convert cuda tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory "
                            "first.")
        return to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def to(self, *args, **kwargs):
        """to(device), to(dtype) or to(device, dtype); 'cpu'/'numpy' and 'cuda'/'cupy' name the backends."""
        device, dtype = parse_to(args, kwargs, "to")
        out = self
        if dtype is not None:
            out = ops.cast(out, dtypes.as_dtype(dtype))
        if device is not None and backend_name(device) != out.backend:
            out = ops.move_to(out, backend_name(device))
        return out

    def cpu(self):
        """This tensor on the CPU: self when it is there already, else a copy (the gradient flows back)."""
        return self.to("cpu")

    def cuda(self, device=None):
        """This tensor on the GPU (CuPy): self when it is there already; `device` is ignored."""
        return self.to("cuda")

    def type(self, dtype=None):
        """x.type() -> 'torch.FloatTensor' (torch's legacy names); x.type(dtype or name) converts."""
        if dtype is None:
            cuda = "cuda." if self.backend == "cupy" else ""
            return f"torch.{cuda}{dtypes.TENSOR_TYPE_NAMES.get(self.dtype, str(self.dtype))}"
        return self.to(dtypes.as_dtype(dtype))

    def type_as(self, other):
        """self cast to other's dtype (self when they match); the device stays."""
        return self.to(other.dtype)

    def float(self):
        """self as float32 (self when it is float32 already)."""
        return self.to(dtypes.float32)

    def double(self):
        """self as float64 (self when it is float64 already)."""
        return self.to(dtypes.float64)

    def half(self):
        """self as float16 (self when it is float16 already)."""
        return self.to(dtypes.float16)

    def long(self):
        """self as int64 (self when it is int64 already); the result carries no gradient."""
        return self.to(dtypes.int64)

    def int(self):
        """self as int32 (self when it is int32 already); the result carries no gradient."""
        return self.to(dtypes.int32)

    def bool(self):
        """self as bool (nonzero is True; self when it is bool already); no gradient."""
        return self.to(dtypes.bool)

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.array.size} values is ambiguous")
        return builtins.bool(self.item())

    def __format__(self, spec):
        if self.array.size == 1 and self.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        from .printing import tensor_repr

        device = "device='cuda:0'" if self.backend == "cupy" else None
        grad = f"grad_fn=<{self._ctx.name()}>" if self._ctx is not None else (
            "requires_grad=True" if self.requires_grad else None)
        return tensor_repr(to_numpy(self.array), dtypes.get_default_dtype(), device, grad)
