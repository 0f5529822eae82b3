"""nn.BatchNorm1d: batch statistics in training, running statistics in eval (torch's rules)."""
from .. import dtypes
from ..backend import get_xp
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class BatchNorm1d(Module):
    """Normalises each of C channels of (N, C) or (N, C, L); weight (C,) starts at 1, bias (C,) at 0.

    momentum=None: running stats are the cumulative average over num_batches_tracked batches.
    track_running_stats=False: batch statistics in eval too.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        xp, dt = get_xp(device), dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        if affine:
            self.weight = Parameter(Tensor._wrap(xp.ones(num_features, dtype=dt)))
            self.bias = Parameter(Tensor._wrap(xp.zeros(num_features, dtype=dt)))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(xp.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor._wrap(xp.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(xp.zeros((), dtype=dtypes.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, input):
        """(N, C) or (N, C, L) -> same shape: batch statistics in training, running ones in eval."""
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) got {input.shape[1]} channels (input {input.shape})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array = self.num_batches_tracked.array + 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        """The constructor's arguments, for print(module)."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
