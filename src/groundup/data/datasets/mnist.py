"""MNIST, bundled inside the package and verified by SHA-256, as ``torchvision.datasets.MNIST``.

60,000 training and 10,000 test images of handwritten digits, 28x28 grey levels 0-255, labels
0-9 (Y. LeCun, C. Cortes, C. J. C. Burges). The four gzip-compressed IDX files live in
``groundup/data/datasets/mnist_data/``; the SHA-256 of their decompressed bytes is checked the
first time each is loaded in a process, and the decoded arrays are cached (read-only) for the
rest of the process.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from groundup.data._interop import to_array
from groundup.data.dataset import Dataset, _check_index
from groundup.data.idx import parse_idx
from groundup.data.transforms import apply_batch
from groundup.errors import DataError, hint

__all__ = ["MNIST", "BUNDLED_MNIST_DIR", "load_idx_verified"]

BUNDLED_MNIST_DIR = Path(__file__).resolve().parent / "mnist_data"

# (path, size, mtime) -> decoded read-only array; verification runs once per file per process.
_VERIFIED_CACHE: dict[tuple[str, int, int], np.ndarray] = {}


def load_idx_verified(path: str | os.PathLike, sha256: str, ndim: int,
                      compressed_sha256: bool = False) -> np.ndarray:
    """Read an IDX file (gzip or raw), check its SHA-256 and decode it; cached per process.

    ``sha256`` is the hash of the decompressed bytes (or of the file as stored when
    ``compressed_sha256``). The returned array is read-only because it is shared by every
    dataset object built from the same file; copy it to modify it.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    cached = _VERIFIED_CACHE.get(key)
    if cached is not None:
        return cached
    stored = path.read_bytes()
    raw = stored
    if stored[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(stored)
        except (EOFError, OSError, zlib.error) as exc:
            raise DataError(
                hint(f"{path} cannot be decompressed ({exc})",
                     "the file is damaged; restore it (reinstall groundup for the bundled MNIST)")
            ) from exc
    digest = hashlib.sha256(stored if compressed_sha256 else raw).hexdigest()
    if digest != sha256:
        raise DataError(
            hint(
                f"{path} has SHA-256 {digest}, expected {sha256}",
                "the file is damaged or a different version; replace it (reinstall groundup "
                "for the bundled MNIST)",
            )
        )
    array = parse_idx(raw, ndim=ndim, name=str(path))
    array.flags.writeable = False
    _VERIFIED_CACHE[key] = array
    return array


class _IDXClassificationDataset(Dataset):
    """Shared code of MNIST-like datasets: ``data`` (uint8, N x 28 x 28), ``targets`` (int64)."""

    classes: list[str] = []
    mean: float = 0.0
    std: float = 1.0

    def __init__(self, train: bool, transform, target_transform):
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.targets = self._load()

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        """``(image, target)``: the uint8 ``(28, 28)`` image and the int label, each passed
        through ``transform`` / ``target_transform`` when given."""
        index = _check_index(index, len(self.data), type(self).__name__)
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices: np.ndarray):
        """``(images, targets)`` for ``indices`` with one gather, the transforms applied with
        their vectorised ``batch`` methods: shapes ``(B, 28, 28)`` uint8 and ``(B,)`` int64
        without transforms."""
        images, targets = self.data[indices], self.targets[indices]
        if self.transform is not None:
            images = to_array(apply_batch(self.transform, images))
        if self.target_transform is not None:
            targets = to_array(apply_batch(self.target_transform, targets))
        return images, targets

    def arrays(self, normalize: bool = True, flatten: bool = False):
        """All images as float32 and the labels as int64, ready for training.

        Images are ``x / 255`` and, with ``normalize``, ``(x / 255 - mean) / std`` (MNIST:
        mean 0.1307, std 0.3081), computed in float32 exactly like ``ToTensor`` then
        ``Normalize``. Shape ``(N, 1, 28, 28)``, or ``(N, 784)`` with ``flatten``.
        """
        # In-place float32 passes: the same operations (hence bits) as ToTensor then Normalize.
        images = self.data.astype(np.float32)
        images /= np.float32(255.0)
        if normalize:
            images -= np.float32(self.mean)
            images /= np.float32(self.std)
        shape = (len(images), -1) if flatten else (len(images), 1, *self.data.shape[1:])
        return images.reshape(shape), self.targets.copy()

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split!r}, samples={len(self)})"


class MNIST(_IDXClassificationDataset):
    """The MNIST digits, loaded from the copy bundled with groundup (no network).

    Args:
        root: ``None`` for the bundled files; or a folder holding the four IDX files (raw or
            ``.gz``, directly or in ``MNIST/raw/`` as torchvision stores them), checked
            against the same SHA-256 values.
        train: the 60,000 training images (True) or the 10,000 test images (False).
        transform: applied to each uint8 ``(28, 28)`` image (e.g. ``Compose([ToTensor(),
            Normalize((0.1307,), (0.3081,))])``).
        target_transform: applied to each int label.

    Attributes: ``data`` (uint8, ``(N, 28, 28)``, read-only), ``targets`` (int64, ``(N,)``),
    ``classes``, ``mean`` = 0.1307 and ``std`` = 0.3081 (training pixels / 255).
    """

    #: SHA-256 of the decompressed IDX files (the canonical content).
    resources = {
        "train-images-idx3-ubyte":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    mean = 0.1307
    std = 0.3081

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        # `download` is accepted for torchvision compatibility: the files are always bundled.
        self.root = None if root is None else Path(root).expanduser()
        super().__init__(train, transform, target_transform)

    def _find(self, name: str) -> Path:
        if self.root is None:
            return BUNDLED_MNIST_DIR / (name + ".gz")
        folders = [self.root, self.root / "MNIST" / "raw"]
        for folder in folders:
            for candidate in (folder / name, folder / (name + ".gz")):
                if candidate.is_file():
                    return candidate
        raise DataError(
            hint(
                f"MNIST: {name} (or {name}.gz) not found in " + " or ".join(map(str, folders)),
                "leave root=None to use the copy bundled with groundup, or put the file there",
            )
        )

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        prefix = "train" if self.train else "t10k"
        images_name, labels_name = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
        images = load_idx_verified(self._find(images_name), self.resources[images_name], ndim=3)
        labels = load_idx_verified(self._find(labels_name), self.resources[labels_name], ndim=1)
        if len(images) != len(labels):
            raise DataError(
                hint(f"MNIST: {len(images)} images but {len(labels)} labels",
                     "the images and labels files come from different splits")
            )
        targets = labels.astype(np.int64)
        targets.flags.writeable = False
        return images, targets
