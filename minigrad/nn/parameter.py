"""Parameter: the Tensor a Module registers as learnable (torch.nn.Parameter)."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor a Module registers as learnable; shares `data`'s array, requires_grad=True by default."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor([])
        self.array = data.array if isinstance(data, Tensor) else Tensor(data).array
        self.grad = None
        self._ctx = None
        self.requires_grad = False
        self._vc = [0]
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A new Parameter with a copy of the values and no .grad, as torch's Parameter.__deepcopy__."""
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(Tensor._wrap(self.array.copy()), self.requires_grad)
        memo[id(self)] = new
        return new
