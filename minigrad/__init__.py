"""minigrad: a readable deep-learning engine with hand-written backprop on NumPy or CuPy."""
import sys as _sys

from . import autograd, dtypes  # noqa: F401  (minigrad.autograd, minigrad.dtypes)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .backend import Device as device  # noqa: F401
from .backend import get_default_backend, set_default_backend  # noqa: F401
from .dtypes import (  # noqa: F401
    bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8, int16, int32, int64,
    long, set_default_dtype, short, uint8, uint16, uint32, uint64,
)
from .ops import *  # noqa: F401,F403
from .ops import abs, all, any, max, min, pow, round, sum  # noqa: F401  (shadow builtins, as torch does)
from .tensor import Size, Tensor, is_tensor, numel  # noqa: F401
from .ops.out import *  # noqa: F401,F403  (minigrad.add(a, b, out=c) ...: the out= forms, as torch's)
from .ops.surface import *  # noqa: F401,F403  (the same for sin, sort, lerp, ...: issue 19's ops)
from .creation import (  # noqa: F401
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, normal, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
    BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor,
)
from .generator import Generator, default_generator, get_rng_state, set_rng_state  # noqa: F401
from .random import initial_seed, manual_seed, seed  # noqa: F401
from . import accelerator, backends, cuda  # noqa: F401  (torch.accelerator, torch.backends, torch.cuda)
from .backends.cuda import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: F401
from .accelerator import get_default_device, set_default_device  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401  (minigrad.gradcheck(fn, inputs), as torch.autograd.gradcheck)
from .grad_mode import is_inference_mode_enabled  # noqa: F401
from . import function as _function  # noqa: E402

# torch.autograd's names: minigrad.autograd.Function (the op base; subclass it torch's way), grad, backward, ...
autograd.make_user_function = _function.make_user_function  # Function subclasses with a static forward(ctx, ...)
autograd.grad, autograd.backward, autograd.Variable = _function.grad, _function.backward, _function.Variable
autograd.gradcheck, autograd.function = gradcheck, _function
autograd.FunctionCtx, autograd.once_differentiable = _function.FunctionCtx, _function.once_differentiable
_sys.modules[__name__ + ".autograd.function"] = _function  # from minigrad.autograd.function import ...
from .serialization import load, save  # noqa: F401

from . import linalg  # noqa: E402,F401  (torch.linalg: vector_norm, matrix_norm, norm, cross, inv, det, solve)
from . import nn, optim  # noqa: E402,F401  (minigrad.nn / minigrad.optim, as torch.nn / torch.optim)
from . import data, metrics, utils  # noqa: E402,F401
from . import viz  # noqa: E402,F401  (minigrad.viz.draw(tensor): the graph behind it)
from .nn.layers import leaky_relu, relu  # noqa: E402,F401  (torch.relu; the ops live with nn.ReLU, nn.LeakyReLU)
from .sampling import bernoulli, multinomial  # noqa: E402,F401
from .tensor_ops import setup_tensor  # noqa: E402

ops.relu = relu  # x.relu() and minigrad.relu: ReLU's op lives with nn.ReLU (nn/layers.py), above the tensor core
setup_tensor(_sys.modules[__name__ + ".tensor"], ops, creation, sampling)  # minigrad.tensor is also a function

__version__ = "0.1.0"
