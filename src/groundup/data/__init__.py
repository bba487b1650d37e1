"""Data loading for groundup (``torch.utils.data`` + ``torchvision`` style), NumPy only.

- ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``
- ``DataLoader`` with a fast array path and resumable shuffling; samplers
- ``transforms``: ``Compose``, ``ToTensor``, ``Normalize``, ``Flatten``, ``OneHot``, augmentations
- ``datasets``: ``MNIST`` (bundled), ``FashionMNIST`` (downloaded), synthetic ``make_*`` sets
- ``idx``: read and write the IDX file format
"""

from groundup.data import datasets, idx, transforms
from groundup.data.dataloader import DataLoader, default_collate, default_convert
from groundup.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from groundup.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "datasets",
    "idx",
    "transforms",
    "default_collate",
    "default_convert",
    "random_split",
]
