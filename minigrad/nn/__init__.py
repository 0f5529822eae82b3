"""minigrad.nn: Module, Parameter, layers, containers, losses (torch.nn's names)."""
from . import functional, init, utils  # noqa: F401
from .layers import (  # noqa: F401
    Dropout, Flatten, Identity, LazyLinear, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh,
)
from .loss import CrossEntropyLoss, NLLLoss  # noqa: F401
from .loss_elementwise import BCELoss, BCEWithLogitsLoss, L1Loss, MSELoss  # noqa: F401
from .containers import ModuleDict, ModuleList  # noqa: F401
from .module import Module, Sequential  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .normalization import BatchNorm1d  # noqa: F401
