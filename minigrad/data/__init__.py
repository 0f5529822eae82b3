"""Data: IDX files, MNIST / Fashion-MNIST with checksum verification, transforms, DataLoader and splits."""
from . import transforms  # noqa: F401
from .datasets import CHECKSUMS, MNIST, ChecksumError, DatasetNotFoundError, FashionMNIST, clear_cache  # noqa: F401
from .idx import IDXError, parse_idx, read_idx  # noqa: F401
from .loader import (  # noqa: F401
    DataLoader, LabelSubset, Subset, TensorDataset, default_collate, filter_by_labels, random_split,
    stratified_split,
)
from .transforms import Compose, Lambda, Normalize, ToTensor  # noqa: F401
