"""nn.Linear (torch's default init), nn.LazyLinear and nn.Identity."""
import math

from .. import dtypes
from ..backend import get_xp
from ..ops.nn import linear
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b.  x: (*, in_features) -> y: (*, out_features); W: (out, in) as torch."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        xp, dtype = get_xp(device), dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        self.weight = Parameter(_empty(xp, (out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(_empty(xp, (out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # torch's law: kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in)) for W, U(+-1/sqrt(fan_in)) for b
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LazyLinear(Linear):
    """Linear whose in_features comes from its first input (torch.nn.LazyLinear); after that call it is a Linear.

    The weight and bias Parameters are the same objects before and after, so an optimizer made earlier keeps them."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, device, dtype)

    def reset_parameters(self):
        if self.in_features:  # nothing to initialise until the input size is known
            super().reset_parameters()

    def forward(self, input):
        self.in_features = input.shape[-1]
        self.weight.data = self.weight.xp.empty((self.out_features, self.in_features), dtype=self.weight.data.dtype)
        if self.bias is not None:
            self.bias.data = self.bias.xp.empty((self.out_features,), dtype=self.bias.data.dtype)
        self.reset_parameters()
        self.__class__ = Linear  # as torch's cls_to_become
        return Linear.forward(self, input)


class Identity(Module):
    """Returns its input unchanged (placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _empty(xp, shape, dtype):
    from ..tensor import Tensor

    return Tensor._wrap(xp.empty(shape, dtype=dtype))
