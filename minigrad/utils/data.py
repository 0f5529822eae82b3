"""torch.utils.data look-alike: `from minigrad.utils.data import DataLoader, TensorDataset, random_split, Subset`."""
from ..data.loader import (  # noqa: F401
    DataLoader, LabelSubset, Subset, TensorDataset, default_collate, filter_by_labels, random_split,
    stratified_split,
)

Dataset = object  # map-style datasets need only __len__ and __getitem__; subclassing this is optional
