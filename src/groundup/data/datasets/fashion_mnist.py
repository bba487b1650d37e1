"""Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, downloaded on first use.

Same layout as MNIST (60,000 training and 10,000 test images, IDX files). The four ``.gz`` files
are downloaded to ``$GROUNDUP_DATA/FashionMNIST`` (default ``~/.cache/groundup/FashionMNIST``)
from the first mirror that works, checked by SHA-256 and renamed into place atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from groundup.data.datasets._download import RemoteFile, cache_dir, ensure_files
from groundup.data.datasets.mnist import _IDXClassificationDataset, load_idx_verified
from groundup.errors import DataError, hint

__all__ = ["FashionMNIST"]


class FashionMNIST(_IDXClassificationDataset):
    """Fashion-MNIST, downloaded to a cache on first use (``torchvision.datasets.FashionMNIST``).

    Args:
        root: folder for the four ``.gz`` files (default: ``$GROUNDUP_DATA/FashionMNIST`` or
            ``~/.cache/groundup/FashionMNIST``).
        train: the 60,000 training images (True) or the 10,000 test images (False).
        transform, target_transform: applied to each uint8 ``(28, 28)`` image / int label.
        download: fetch missing or damaged files (default True; torchvision's default is False).
        mirrors: base URLs to try in order (default: ``FashionMNIST.mirrors``).

    Offline, a ``DataError`` names the files, their SHA-256 values and the folder to put them in.
    Attributes as ``MNIST``: ``data``, ``targets``, ``classes``, ``mean`` 0.2860, ``std`` 0.3530.
    """

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    #: SHA-256 of the .gz files as distributed by the mirrors.
    resources = [
        RemoteFile("train-images-idx3-ubyte.gz",
                   "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    mean = 0.2860
    std = 0.3530

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = True, mirrors: Sequence[str] | None = None):
        self.root = Path(root).expanduser() if root is not None else cache_dir() / "FashionMNIST"
        self.download = bool(download)
        if mirrors is not None:
            self.mirrors = list(mirrors)
        super().__init__(train, transform, target_transform)

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        prefix = "train" if self.train else "t10k"
        wanted = [f for f in self.resources if f.name.startswith(prefix + "-")]
        paths = ensure_files(wanted, self.root, self.mirrors, download=self.download,
                             dataset="FashionMNIST")
        by_kind = {("images" if "images" in f.name else "labels"): f for f in wanted}
        images = load_idx_verified(paths[by_kind["images"].name], by_kind["images"].sha256,
                                   ndim=3, compressed_sha256=True)
        labels = load_idx_verified(paths[by_kind["labels"].name], by_kind["labels"].sha256,
                                   ndim=1, compressed_sha256=True)
        if len(images) != len(labels):
            raise DataError(
                hint(f"FashionMNIST: {len(images)} images but {len(labels)} labels",
                     f"the files in {self.root} come from different splits; delete them")
            )
        targets = labels.astype(np.int64)
        targets.flags.writeable = False
        return images, targets
