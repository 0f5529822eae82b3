"""Tensor's operators (+ - * / @ **, comparisons, & | ~) and the methods that forward to minigrad.ops."""
from . import autograd, dtypes, tensor_convert, tensor_inplace

ops = _creation = None  # minigrad.ops and minigrad.creation, set by setup_tensor()


class TensorOps:
    """Mixin for Tensor: `x + y` is ops.add(x, y), `x < y` is ops.lt(x, y), ..."""

    def __add__(self, o):
        return ops.add(self, o)

    def __radd__(self, o):
        return ops.add(o, self)

    def __sub__(self, o):
        return ops.sub(self, o)

    def __rsub__(self, o):
        return ops.sub(o, self)

    def __mul__(self, o):
        return ops.mul(self, o)

    def __rmul__(self, o):
        return ops.mul(o, self)

    def __truediv__(self, o):
        return ops.div(self, o)

    def __rtruediv__(self, o):
        return ops.div(o, self)

    def __floordiv__(self, o):
        return ops.floor_divide(self, o)

    def __mod__(self, o):
        return ops.remainder(self, o)

    def __pow__(self, o):
        return ops.pow(self, o)

    def __rpow__(self, o):
        return ops.pow(o, self)

    def __matmul__(self, o):
        return ops.matmul(self, o)

    def __rmatmul__(self, o):
        return ops.matmul(o, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    # comparisons and logic: no gradient, bool results
    def __eq__(self, o):
        return ops.eq(self, o)

    def __ne__(self, o):
        return ops.ne(self, o)

    def __lt__(self, o):
        return ops.lt(self, o)

    def __le__(self, o):
        return ops.le(self, o)

    def __gt__(self, o):
        return ops.gt(self, o)

    def __ge__(self, o):
        return ops.ge(self, o)

    def __and__(self, o):
        return ops.logical_op(self, o, "bitwise_and")

    __rand__ = __and__

    def __or__(self, o):
        return ops.logical_op(self, o, "bitwise_or")

    __ror__ = __or__

    def __xor__(self, o):
        return ops.logical_op(self, o, "bitwise_xor")

    def __invert__(self):
        return ops.logical_not(self) if self.dtype == dtypes.bool else ops.bitwise_not(self)


def _method(name, fn_name=None):
    fn_name = fn_name or name

    def method(self, *args, **kwargs):
        return getattr(ops, fn_name)(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Same as minigrad.{fn_name}(self, ...)."
    return method


# Methods that are the module-level function applied to self (x.exp() == minigrad.exp(x)).
METHODS = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "log1p", "sqrt", "abs", "clamp",
    "maximum", "minimum", "sigmoid", "tanh", "relu", "softmax", "log_softmax", "sum", "mean", "max",
    "min", "argmax", "argmin", "reshape", "view", "flatten", "transpose", "permute", "unsqueeze",
    "squeeze", "expand", "repeat", "var", "std", "all", "any", "eq", "ne", "lt", "le", "gt", "ge",
    "square", "sign", "masked_fill", "cumsum", "cumprod", "prod", "logsumexp", "norm", "amax", "amin",
    "isnan", "isinf", "isfinite", "floor", "ceil", "round", "reciprocal", "t", "clone",
    "gather", "scatter", "scatter_add", "index_select", "take_along_dim",
]


# In-place twins (x.exp_() stores exp(x) in x's own storage): Tensor._apply_ gives them torch's semantics.
INPLACE = [
    "neg", "exp", "log", "log1p", "sqrt", "abs", "sigmoid", "tanh", "relu", "square", "sign", "floor", "ceil",
    "round", "reciprocal", "clamp_min", "clamp_max",
]


def _inplace(name):
    def method(self, *args, **kwargs):
        return self._apply_(lambda x: getattr(ops, name)(x, *args, **kwargs), *args)

    method.__name__ = name + "_"
    method.__doc__ = f"In place: self = minigrad.{name}(self, ...) in self's storage."
    return method


def _new(factory):
    """x.new_zeros(...) and friends: the factory with x's dtype and device unless given (torch's Tensor.new_*)."""
    def method(self, *args, dtype=None, device=None, requires_grad=False):
        fn = getattr(_creation, factory)
        return fn(*args, dtype=dtype or self.dtype, device=device or self.backend, requires_grad=requires_grad)

    method.__name__ = "new_" + factory
    return method


def _attach(Tensor, methods, inplace):
    """x.f(...) for each name in methods and x.f_(...) for each in inplace, where Tensor lacks them."""
    for name in inplace:
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _inplace(name))
    for name in methods:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _method(name))


def setup_tensor(tensor, ops_module, creation, sampling):
    """The one place that wires Tensor and the ops together, as DeZero's setup_variable(): every op makes Tensors
    (autograd.Function) and every Tensor operator or method runs an op, so neither module can import the other at
    its top. minigrad/__init__.py calls this once with the modules (tensor, ops, creation, sampling), after
    importing them (and giving ops nn's relu)."""
    global ops, _creation

    Tensor = tensor.Tensor
    autograd.Tensor, autograd.as_operand = Tensor, tensor.as_operand
    tensor_inplace.Tensor = Tensor
    ops = tensor.ops = tensor_inplace.ops = tensor_convert.ops = ops_module
    _creation = creation
    _attach(Tensor, METHODS, INPLACE)
    sampling.setup(Tensor)  # uniform_, normal_, bernoulli_, multinomial, ...: torch's CPU streams
    _attach(Tensor, ops.surface.METHODS, ops.surface.INPLACE)  # sin, sort, split, lerp_, ...: ops/surface.py's
    ops.surface.setup(Tensor)
    Tensor.clip = _method("clip", "clamp")
    Tensor.clamp_min = _method("clamp_min")
    Tensor.clamp_max = _method("clamp_max")
    Tensor.is_floating_point = lambda self: self.dtype.kind == "f"
    Tensor.mm = _method("mm", "matmul")
    Tensor.multiply = _method("multiply", "mul")
    Tensor.divide = _method("divide", "div")
    Tensor.subtract = _method("subtract", "sub")
    Tensor.where = lambda self, condition, other: ops.where(condition, self, other)  # x.where(c, y): x where c
    Tensor.view_as = lambda self, other: ops.reshape(self, other.shape)
    Tensor.reshape_as = Tensor.view_as
    Tensor.expand_as = lambda self, other: ops.expand(self, other.shape)
    for factory in ("zeros", "ones", "empty", "full", "tensor"):
        setattr(Tensor, "new_" + factory, _new(factory))
