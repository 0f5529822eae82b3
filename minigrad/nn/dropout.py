"""nn.Dropout with an optional injectable keep-mask for run-for-run parity with torch."""
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zeroes units with probability p and scales the rest by 1/(1-p) in training; identity in eval.

    mask_fn: None, or a callable (shape, backend) -> bool keep-mask used instead of the RNG.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace
        self.mask_fn = None

    def forward(self, input):
        mask = None
        if self.mask_fn is not None and self.training and self.p > 0:
            mask = self.mask_fn(input.shape, input.backend)
        return F.dropout(input, self.p, self.training, mask=mask)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
