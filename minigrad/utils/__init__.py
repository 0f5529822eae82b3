"""torch.utils look-alike: `minigrad.utils.data` holds DataLoader, TensorDataset, random_split, Subset."""
from . import data  # noqa: F401
