"""Datasets: MNIST (bundled), Fashion-MNIST (downloaded to a cache) and synthetic 2-D sets."""

from groundup.data.datasets.fashion_mnist import FashionMNIST
from groundup.data.datasets.mnist import MNIST
from groundup.data.datasets.synthetic import (
    make_blobs,
    make_circles,
    make_linear,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "MNIST",
    "FashionMNIST",
    "make_blobs",
    "make_circles",
    "make_linear",
    "make_moons",
    "make_spirals",
    "make_xor",
]
