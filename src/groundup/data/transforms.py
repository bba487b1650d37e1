"""Sample transforms in the style of ``torchvision.transforms``, with vectorised batch versions.

Every transform is a callable on one sample and has a ``batch(samples)`` method that applies it
to a whole batch at once (axis 0 = samples) without a Python loop per sample or pixel; random
transforms draw independent parameters per sample in both cases. ``MNIST.get_batch`` and hence
the ``DataLoader`` fast path use ``batch``.

Images are arrays (or groundup Tensors) laid out ``[..., H, W]`` — ``(H, W)`` grey, ``(C, H, W)``
after ``ToTensor`` — except ``ToTensor``'s input, which may be ``(H, W)`` or ``(H, W, C)``. A
transform returns the same kind of object it was given (Tensor in, Tensor out), except
``ToTensor`` which always returns a Tensor.

Random transforms take ``generator``: a ``numpy.random.Generator``, an int seed, or ``None`` for
groundup's global generator (seeded by ``groundup.manual_seed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from groundup.data._interop import as_generator, like_input, to_array, to_tensor
from groundup.errors import DataError, ShapeError, hint

__all__ = [
    "Transform",
    "Compose",
    "Lambda",
    "ToTensor",
    "Normalize",
    "Flatten",
    "OneHot",
    "RandomHorizontalFlip",
    "RandomCrop",
    "RandomAffine",
]


class Transform:
    """Base class. Subclasses implement ``__call__(sample)``; the default ``batch(samples)``
    applies it to each sample and stacks the results (built-ins override it with vectorised
    code)."""

    def __call__(self, sample):
        raise NotImplementedError

    def batch(self, samples):
        """Apply the transform to every sample of a batch (axis 0) and stack the results."""
        outputs = [to_array(self(sample)) for sample in to_array(samples)]
        return like_input(np.stack(outputs), samples)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items()
            if not k.startswith("_") and k != "generator"
        )
        return f"{type(self).__name__}({fields})"


def apply_batch(transform: Callable, samples):
    """``transform.batch(samples)`` when the transform has one, else a loop and a stack."""
    if hasattr(transform, "batch"):
        return transform.batch(samples)
    outputs = [to_array(transform(sample)) for sample in to_array(samples)]
    return like_input(np.stack(outputs), samples)


class Compose(Transform):
    """Apply ``transforms`` one after another: ``Compose([f, g])(x) == g(f(x))``."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, sample):
        for transform in self.transforms:
            sample = transform(sample)
        return sample

    def batch(self, samples):
        for transform in self.transforms:
            samples = apply_batch(transform, samples)
        return samples

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """Apply a user function ``fn`` to each sample (``batch`` loops over the samples)."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, sample):
        return self.fn(sample)


class ToTensor(Transform):
    """Image array -> float32 Tensor, channels first, scaled to [0, 1] when the input is uint8.

    ``(H, W)`` -> ``(1, H, W)``; ``(H, W, C)`` -> ``(C, H, W)``; uint8 values are divided by 255
    (``x / 255``, in float32, as torchvision does); other dtypes are converted to float32 without
    scaling. ``batch``: ``(N, H, W)`` -> ``(N, 1, H, W)``, ``(N, H, W, C)`` -> ``(N, C, H, W)``.
    """

    @staticmethod
    def _scale(array: np.ndarray) -> np.ndarray:
        if array.dtype == np.uint8:
            return array.astype(np.float32) / np.float32(255.0)
        return array.astype(np.float32)

    def __call__(self, image):
        array = to_array(image)
        if array.ndim == 2:
            array = array[None]
        elif array.ndim == 3:
            array = array.transpose(2, 0, 1)
        else:
            raise ShapeError(
                hint(
                    f"ToTensor: expected an image of shape (H, W) or (H, W, C), got {array.shape}",
                    "for a batch of images use ToTensor().batch(images)",
                )
            )
        return to_tensor(np.ascontiguousarray(self._scale(array)))

    def batch(self, images):
        array = to_array(images)
        if array.ndim == 3:
            array = array[:, None]
        elif array.ndim == 4:
            array = array.transpose(0, 3, 1, 2)
        else:
            raise ShapeError(
                hint(
                    f"ToTensor.batch: expected images of shape (N, H, W) or (N, H, W, C), "
                    f"got {array.shape}",
                    "for one image call ToTensor()(image)",
                )
            )
        return to_tensor(np.ascontiguousarray(self._scale(array)))


def _channel_vector(values, name: str) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    if vector.size == 0:
        raise ValueError(hint(f"Normalize: {name} is empty", f"pass one {name} per channel"))
    return vector


class Normalize(Transform):
    """Per-channel standardisation: ``out[c] = (x[c] - mean[c]) / std[c]`` for images
    ``(C, H, W)`` (or ``(N, C, H, W)`` in ``batch``); a single mean/std applies to every value
    of any shape. Computed in float32, like torchvision. MNIST: ``Normalize((0.1307,), (0.3081,))``.
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = tuple(_channel_vector(mean, "mean").tolist())
        self.std = tuple(_channel_vector(std, "std").tolist())
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(
                hint(
                    f"Normalize: {len(self.mean)} means but {len(self.std)} stds",
                    "give one mean and one std per channel",
                )
            )
        if any(s == 0 for s in self.std):
            raise ValueError(
                hint(f"Normalize: std {self.std} contains 0, which would divide by zero",
                     "use the data's (non-zero) standard deviation")
            )
        self.inplace = inplace
        self._mean = _channel_vector(mean, "mean")
        self._std = _channel_vector(std, "std")

    def _apply(self, array: np.ndarray, channel_axis_from_end: int = 3) -> np.ndarray:
        mean, std = self._mean, self._std
        channels = max(mean.size, std.size)
        if channels > 1:
            if array.ndim < 3 or array.shape[-3] != channels:
                raise ShapeError(
                    hint(
                        f"Normalize: {channels} channel means/stds but input has shape "
                        f"{array.shape}: expected (..., {channels}, H, W)",
                        "apply ToTensor first (channels first), or pass one mean and std",
                    )
                )
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float32)
        elif not self.inplace:
            array = array.copy()
        array -= mean.astype(array.dtype)
        array /= std.astype(array.dtype)
        return array

    def __call__(self, tensor):
        return like_input(self._apply(to_array(tensor)), tensor)

    def batch(self, tensors):
        return like_input(self._apply(to_array(tensors)), tensors)


class Flatten(Transform):
    """Flatten a sample to a vector in row-major order: ``(C, H, W)`` -> ``(C*H*W,)``, so pixel
    ``(i, j)`` of an ``H x W`` image lands at index ``W*i + j`` (784 values for MNIST).
    ``batch``: ``(N, ...)`` -> ``(N, prod(...))``."""

    def __call__(self, sample):
        return like_input(np.ascontiguousarray(to_array(sample)).reshape(-1), sample)

    def batch(self, samples):
        array = np.ascontiguousarray(to_array(samples))
        return like_input(array.reshape(array.shape[0], -1), samples)


class OneHot(Transform):
    """Class label ``y`` in ``[0, num_classes)`` -> one-hot vector ``e_y`` of length
    ``num_classes`` (float32 by default): 3 with 10 classes -> ``(0,0,0,1,0,0,0,0,0,0)``.
    ``batch``: labels ``(N,)`` -> ``(N, num_classes)``."""

    def __init__(self, num_classes: int, dtype=np.float32):
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(
                hint(f"OneHot: num_classes must be a positive integer, got {num_classes!r}",
                     "use e.g. OneHot(10) for digits")
            )
        self.num_classes = int(num_classes)
        self.dtype = np.dtype(dtype)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        if labels.dtype.kind not in "iub":
            if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
                labels = labels.astype(np.int64)
            else:
                raise DataError(
                    hint(f"OneHot: labels must be integers, got dtype {labels.dtype}",
                         "convert labels with .astype(int)")
                )
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise DataError(
                hint(
                    f"OneHot: labels range over [{labels.min()}, {labels.max()}] but "
                    f"num_classes={self.num_classes}",
                    f"labels must lie in [0, {self.num_classes - 1}]; raise num_classes",
                )
            )
        return np.eye(self.num_classes, dtype=self.dtype)[labels]

    def __call__(self, label):
        return like_input(self._encode(np.asarray(to_array(label))), label)

    def batch(self, labels):
        return like_input(self._encode(np.asarray(to_array(labels))), labels)


def _as_image_batch(array: np.ndarray, owner: str) -> tuple[np.ndarray, tuple]:
    """Reshape ``(N, ..., H, W)`` to ``(N, C, H, W)``; return it and the original shape."""
    if array.ndim < 3:
        raise ShapeError(
            hint(
                f"{owner}: expected images of shape (N, ..., H, W), got {array.shape}",
                "call the transform on one image, or .batch on a stack of images",
            )
        )
    n, h, w = array.shape[0], array.shape[-2], array.shape[-1]
    return array.reshape(n, -1, h, w), array.shape


def _check_image(array: np.ndarray, owner: str) -> None:
    if array.ndim < 2:
        raise ShapeError(
            hint(f"{owner}: expected an image of shape (..., H, W), got {array.shape}",
                 "pass a 2-D (H, W) or 3-D (C, H, W) image")
        )


_GRIDS: dict[tuple[int, int], np.ndarray] = {}


def _pixel_grid(h: int, w: int) -> np.ndarray:
    """``(2, H*W)`` float32 pixel coordinates (x = column, y = row), cached per size."""
    grid = _GRIDS.get((h, w))
    if grid is None:
        ys, xs = np.divmod(np.arange(h * w), w)
        grid = _GRIDS[(h, w)] = np.stack([xs, ys]).astype(np.float32)
    return grid


def _gather(flat: np.ndarray, n: int, c: int, h: int, w: int, xs: np.ndarray, ys: np.ndarray,
            fill) -> np.ndarray:
    """Values of ``flat`` (``(N*C, H*W)``) at integer-valued float positions ``xs, ys``
    (``(N, H*W)``, per image), ``fill`` outside the image; returns ``(N, C, H*W)``."""
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    index = np.where(inside, ys * w + xs, 0).astype(np.intp)  # (N, H*W)
    rows = np.arange(n * c, dtype=np.intp).reshape(n, c, 1) * (h * w)
    values = flat.ravel()[rows + index[:, None, :]]
    return np.where(inside[:, None, :], values, np.asarray(fill, dtype=flat.dtype))


class _RandomImageTransform(Transform):
    """Shared plumbing: one sample is a batch of one, so both paths draw the same way."""

    def __init__(self, generator=None):
        self._generator_arg = generator
        self._generator = None if generator is None else as_generator(generator)

    @property
    def generator(self) -> np.random.Generator:
        return self._generator if self._generator is not None else as_generator(None)

    def _apply_batch(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, image):
        array = to_array(image)
        _check_image(array, type(self).__name__)
        return like_input(self._apply_batch(array[None])[0], image)

    def batch(self, images):
        return like_input(self._apply_batch(to_array(images)), images)


class RandomHorizontalFlip(_RandomImageTransform):
    """Mirror an image left-right (``x[..., ::-1]``) with probability ``p``."""

    def __init__(self, p: float = 0.5, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def _apply_batch(self, images: np.ndarray) -> np.ndarray:
        flip = self.generator.random(images.shape[0]) < self.p
        out = images.copy()
        out[flip] = images[flip][..., ::-1]
        return out


def _pair(value, name: str, owner: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, Sequence) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(hint(f"{owner}: {name} must be an int or a pair (h, w), got {value!r}",
                          f"e.g. {name}=28"))


class RandomCrop(_RandomImageTransform):
    """Pad the image by ``padding`` pixels on each side (filled with ``fill``), then cut out a
    ``size`` (h, w) window at a uniformly random position. ``RandomCrop(28, padding=4)`` shifts
    MNIST digits by up to 4 pixels. ``padding`` is an int (all sides), ``(left/right, top/bottom)``
    or ``(left, top, right, bottom)``, as in torchvision.
    """

    def __init__(self, size, padding=None, fill: float = 0, padding_mode: str = "constant",
                 generator=None):
        super().__init__(generator)
        self.size = _pair(size, "size", "RandomCrop")
        if padding is None:
            padding = 0
        if isinstance(padding, (int, np.integer)):
            padding = (int(padding),) * 4
        elif len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        elif len(padding) != 4:
            raise ValueError(hint(f"RandomCrop: padding {padding!r} must have 1, 2 or 4 values",
                                  "e.g. padding=4"))
        self.padding = tuple(int(p) for p in padding)
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                hint(f"RandomCrop: unknown padding_mode {padding_mode!r}",
                     "use 'constant', 'edge', 'reflect' or 'symmetric'")
            )
        self.fill = fill
        self.padding_mode = padding_mode

    def _apply_batch(self, images: np.ndarray) -> np.ndarray:
        batch, shape = _as_image_batch(images, "RandomCrop")
        left, top, right, bottom = self.padding
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            padded = np.pad(batch, widths, mode="constant", constant_values=self.fill)
        else:
            padded = np.pad(batch, widths, mode=self.padding_mode)
        n, c, hp, wp = padded.shape
        th, tw = self.size
        if th > hp or tw > wp:
            raise ShapeError(
                hint(
                    f"RandomCrop: crop size {self.size} is larger than the padded image "
                    f"({hp}, {wp})",
                    "use a smaller size or more padding",
                )
            )
        tops = self.generator.integers(0, hp - th + 1, size=n)
        lefts = self.generator.integers(0, wp - tw + 1, size=n)
        rows = tops[:, None] + np.arange(th)  # (N, th)
        cols = lefts[:, None] + np.arange(tw)  # (N, tw)
        out = padded[
            np.arange(n)[:, None, None, None],
            np.arange(c)[None, :, None, None],
            rows[:, None, :, None],
            cols[:, None, None, :],
        ]
        return out.reshape(*shape[:-2], th, tw)


class RandomAffine(_RandomImageTransform):
    """Random rotation, translation and scaling about the image centre.

    Per image: angle ``a ~ U(-degrees, degrees)`` (or ``U(degrees)`` for a pair; positive is
    counter-clockwise as displayed), shifts ``tx ~ U(-translate[0]*W, translate[0]*W)`` and
    ``ty ~ U(-translate[1]*H, translate[1]*H)`` rounded to whole pixels (as torchvision), and
    ``s ~ U(scale)``. The output pixel ``p`` (row/col around the centre ``c = ((H-1)/2, (W-1)/2)``)
    takes the input value at ``R(a)^-1 (p - c - t) / s + c`` by nearest-neighbour or bilinear
    interpolation; points outside the image get ``fill``. All images of a batch are warped with
    one vectorised gather.
    """

    def __init__(self, degrees, translate=None, scale=None, interpolation: str = "nearest",
                 fill: float = 0, generator=None):
        super().__init__(generator)
        if isinstance(degrees, (int, float, np.number)):
            if degrees < 0:
                raise ValueError(hint(f"RandomAffine: degrees={degrees} is negative",
                                      "pass a non-negative number or a (min, max) pair"))
            degrees = (-float(degrees), float(degrees))
        self.degrees = (float(degrees[0]), float(degrees[1]))
        if translate is not None:
            translate = (float(translate[0]), float(translate[1]))
            if not all(0 <= t <= 1 for t in translate):
                raise ValueError(hint(f"RandomAffine: translate={translate} must lie in [0, 1]",
                                      "translate is a fraction of the width and height"))
        self.translate = translate
        if scale is not None:
            scale = (float(scale[0]), float(scale[1]))
            if not 0 < scale[0] <= scale[1]:
                raise ValueError(hint(f"RandomAffine: scale={scale} must be 0 < min <= max",
                                      "e.g. scale=(0.9, 1.1)"))
        self.scale = scale
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(hint(f"RandomAffine: unknown interpolation {interpolation!r}",
                                  "use 'nearest' or 'bilinear'"))
        self.interpolation = interpolation
        self.fill = fill

    def sample_params(self, n: int, height: int, width: int):
        """Draw ``n`` (angle in degrees, tx, ty, scale) parameter sets."""
        generator = self.generator
        angles = generator.uniform(self.degrees[0], self.degrees[1], size=n)
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            tx = np.round(generator.uniform(-max_dx, max_dx, size=n))
            ty = np.round(generator.uniform(-max_dy, max_dy, size=n))
        else:
            tx = ty = np.zeros(n)
        scales = generator.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        return angles, tx, ty, scales

    def warp(self, images: np.ndarray, angles, tx, ty, scales) -> np.ndarray:
        """Apply the affine maps with the given per-image parameters to ``(N, ..., H, W)``."""
        batch, shape = _as_image_batch(images, "RandomAffine")
        n, c, h, w = batch.shape
        centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        theta = np.deg2rad(np.asarray(angles, dtype=np.float64))
        cos, sin = np.cos(theta), np.sin(theta)
        inv_scale = 1.0 / np.asarray(scales, dtype=np.float64)
        # With y pointing down, a counter-clockwise rotation by a maps (dx, dy) to
        # (dx cos a + dy sin a, -dx sin a + dy cos a); the inverse map is its transpose:
        # source = R^-1 (p - c - t) / s + c, as one (N, 2, 2) @ (2, H*W) product.
        inverse = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
        inverse *= inv_scale[:, None, None]
        shift = np.stack([np.asarray(tx, np.float64), np.asarray(ty, np.float64)], 1)
        offset = centre - np.einsum("nij,nj->ni", inverse, centre + shift)  # (N, 2)
        source = (inverse.astype(np.float32) @ _pixel_grid(h, w)
                  + offset.astype(np.float32)[:, :, None])  # (N, 2, H*W): x then y
        flat = batch.reshape(n * c, h * w)
        if self.interpolation == "nearest":
            out = _gather(flat, n, c, h, w, np.rint(source[:, 0]), np.rint(source[:, 1]),
                          self.fill)
        else:
            x0, y0 = np.floor(source[:, 0]), np.floor(source[:, 1])
            fx, fy = source[:, 0] - x0, source[:, 1] - y0
            out = np.zeros((n, c, h * w), dtype=np.float32)
            for oy, ox, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                                   (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
                corner = _gather(flat, n, c, h, w, x0 + ox, y0 + oy, self.fill)
                out += weight[:, None, :] * corner
            if np.issubdtype(batch.dtype, np.integer):
                info = np.iinfo(batch.dtype)
                out = np.clip(np.rint(out), info.min, info.max)
            out = out.astype(batch.dtype)
        return out.reshape(shape)
    def _apply_batch(self, images: np.ndarray) -> np.ndarray:
        h, w = images.shape[-2], images.shape[-1]
        return self.warp(images, *self.sample_params(images.shape[0], h, w))
