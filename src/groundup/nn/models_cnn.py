"""The course's reference convolutional networks: ``LeNet5`` and the primer's ``PrimerCNN``.

Both take (N, C, 28, 28) MNIST-sized images by default and return (N, num_classes) logits (feed
them to ``CrossEntropyLoss``). Each is a ``features`` stack (conv/activation/pool) followed by a
``classifier`` stack (flatten/linear), so ``state_dict`` keys read ``features.0.weight``, ...

Parameter counts (a conv layer with K filters of f×f over C channels has K·(f²C + 1)):

    PrimerCNN(in_channels=1): conv 320 + conv 18,496 + fc 401,536 + fc 1,290 = 421,642
    PrimerCNN(in_channels=3): first conv 896 (the primer's Q10.8)
    LeNet5():                 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706
"""

from __future__ import annotations

from groundup.errors import ShapeError, hint
from groundup.nn.containers import Sequential
from groundup.nn.layers.activation import ReLU, Tanh
from groundup.nn.layers.conv import Conv2d
from groundup.nn.layers.linear import Flatten, Linear
from groundup.nn.layers.pooling import AvgPool2d, MaxPool2d
from groundup.nn.module import Module


def _check_image(model: Module, x, in_channels: int, size: int) -> None:
    shape = tuple(x.shape)
    if len(shape) != 4 or shape[1:] != (in_channels, size, size):
        help_ = ("add the channel axis: x.unsqueeze(1) turns (N, H, W) into (N, 1, H, W)"
                 if len(shape) == 3 and in_channels == 1 else
                 f"the model was built for {in_channels}×{size}×{size} images (change "
                 "in_channels/image_size to match your data)")
        raise ShapeError(hint(
            f"{type(model).__name__} got input of shape {shape}: expected "
            f"(N, {in_channels}, {size}, {size})", help_))


class PrimerCNN(Module):
    """The primer's CNN (Chapter 10): two 3×3 'same' convolutions, each followed by ReLU and 2×2
    max pooling, then a 128-unit hidden layer and the class logits.

        (N, C, 28, 28) → Conv2d(C, 32, 3, padding=1) → ReLU → MaxPool2d(2)   → (N, 32, 14, 14)
                       → Conv2d(32, 64, 3, padding=1) → ReLU → MaxPool2d(2)  → (N, 64, 7, 7)
                       → Flatten → Linear(3136, 128) → ReLU → Linear(128, 10) → (N, 10)

    ``image_size`` must be divisible by 4 (two halvings); the flattened size is
    64·(image_size/4)². Convs have 320 (C=1) or 896 (C=3) and 18,496 parameters.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28,
                 hidden: int = 128, generator=None) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(hint(f"PrimerCNN: image_size={image_size} is not divisible by 4",
                                  "two 2×2 max pools halve the side twice; pad or resize to a "
                                  "multiple of 4 (28, 32, 64, ...)"))
        self.in_channels, self.image_size = int(in_channels), int(image_size)
        side = image_size // 4
        self.features = Sequential(
            Conv2d(in_channels, 32, 3, padding=1, generator=generator), ReLU(), MaxPool2d(2),
            Conv2d(32, 64, 3, padding=1, generator=generator), ReLU(), MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(64 * side * side, hidden, generator=generator), ReLU(),
            Linear(hidden, num_classes, generator=generator),
        )

    def forward(self, x):
        _check_image(self, x, self.in_channels, self.image_size)
        return self.classifier(self.features(x))


class LeNet5(Module):
    """LeNet-5 (LeCun et al., 1998): 2 convolutions + 3 fully connected layers, for 28×28 digits.

        (N, C, 28, 28) → Conv2d(C, 6, 5, padding=2) → act → pool(2)  → (N, 6, 14, 14)
                       → Conv2d(6, 16, 5)           → act → pool(2)  → (N, 16, 5, 5)
                       → Flatten → Linear(400, 120) → act → Linear(120, 84) → act
                       → Linear(84, num_classes)

    The original used tanh and average ("subsampling") pooling on 32×32 inputs; padding=2 on the
    first conv gives the same 28×28 map from MNIST's 28×28 images. ``activation="relu"`` and
    ``pool="max"`` give the common modern variant. 61,706 parameters for C = 1.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, activation: str = "tanh",
                 pool: str = "avg", generator=None) -> None:
        super().__init__()
        acts = {"tanh": Tanh, "relu": ReLU}
        pools = {"avg": AvgPool2d, "max": MaxPool2d}
        if activation not in acts or pool not in pools:
            raise ValueError(hint(
                f"LeNet5: activation={activation!r}, pool={pool!r} not supported",
                "activation is 'tanh' or 'relu'; pool is 'avg' or 'max'"))
        act, pl = acts[activation], pools[pool]
        self.in_channels = int(in_channels)
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=2, generator=generator), act(), pl(2),
            Conv2d(6, 16, 5, generator=generator), act(), pl(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(16 * 5 * 5, 120, generator=generator), act(),
            Linear(120, 84, generator=generator), act(),
            Linear(84, num_classes, generator=generator),
        )

    def forward(self, x):
        _check_image(self, x, self.in_channels, 28)
        return self.classifier(self.features(x))


__all__ = ["LeNet5", "PrimerCNN"]
