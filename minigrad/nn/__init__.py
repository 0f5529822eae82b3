"""minigrad.nn: Module, Parameter, layers, containers, losses (torch.nn's names)."""
from . import functional, init, utils  # noqa: F401
from .activation import Flatten, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .linear import Identity, LazyLinear, Linear  # noqa: F401
from .normalization import BatchNorm1d  # noqa: F401
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss  # noqa: F401
from .module import Module, Parameter  # noqa: F401
