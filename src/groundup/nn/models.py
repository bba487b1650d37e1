"""The course's reference networks: ``MLP``, the workshop's ``MNISTMLP`` (784-256-128-10),
``ResidualBlock`` (the primer's skip connection) and ResNet's ``BasicBlock``. The convolutional
ones (``LeNet5``, the primer's CNN) live in ``models_cnn`` and are re-exported here."""

from __future__ import annotations

from groundup.nn.autoencoders import VAE, Autoencoder, ConvAutoencoder  # noqa: F401 (re-export)
from groundup.nn.containers import Sequential
from groundup.nn.layers import activation as act
from groundup.nn.layers.dropout import Dropout
from groundup.nn.layers.linear import Flatten, Linear
from groundup.nn.layers.normalization import BatchNorm2d
from groundup.nn.module import Module

_ACTIVATIONS = {
    "relu": act.ReLU, "leaky_relu": act.LeakyReLU, "elu": act.ELU, "gelu": act.GELU,
    "sigmoid": act.Sigmoid, "tanh": act.Tanh, "softplus": act.Softplus, "silu": act.SiLU,
    "prelu": act.PReLU, "identity": None, "linear": None, None: None,
}


def _activation(spec):
    """A fresh activation module from a name, a Module class or a factory (None: no activation)."""
    if isinstance(spec, str) or spec is None:
        key = spec.lower() if isinstance(spec, str) else spec
        if key not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}; help: use one of "
                             f"{sorted(k for k in _ACTIVATIONS if k)} or pass a Module class")
        cls = _ACTIVATIONS[key]
        return cls() if cls is not None else None
    if isinstance(spec, Module):
        raise TypeError("pass the activation's class (nn.ReLU) or name ('relu'), not an instance: "
                        "each layer needs its own; help: MLP(sizes, activation=nn.ReLU)")
    return spec()


class MLP(Sequential):
    """A fully connected network with layer widths ``sizes`` = [n_in, h1, ..., n_out]:
    Linear → activation (→ Dropout(p) if ``dropout``) for each hidden layer, then a final Linear
    (followed by ``output_activation`` if given). Parameters: Σ n_out·(n_in + 1), e.g. [4, 5, 4, 2]
    has 25 + 24 + 10 = 59."""

    def __init__(self, sizes, activation="relu", dropout: float = 0.0, output_activation=None,
                 bias: bool = True, dtype=None, generator=None) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output width, got {sizes}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype, generator=generator))
            if i < len(sizes) - 2:
                a = _activation(activation)
                if a is not None:
                    layers.append(a)
                if dropout:
                    layers.append(Dropout(dropout, generator=generator))
        out_act = _activation(output_activation)
        if out_act is not None:
            layers.append(out_act)
        super().__init__(*layers)
        self.__dict__["sizes"] = sizes


class MNISTMLP(Module):
    """The workshop's MNIST classifier: Flatten → 784-256-128-10 with ReLU and Dropout(0.2) after
    each hidden layer; input (N, 1, 28, 28) or (N, 784), output logits (N, 10). 235,146 params."""

    def __init__(self, dropout: float = 0.2, dtype=None, generator=None) -> None:
        super().__init__()
        self.flatten = Flatten()
        self.layers = Sequential(
            Linear(784, 256, dtype=dtype, generator=generator), act.ReLU(),
            Dropout(dropout, generator=generator),
            Linear(256, 128, dtype=dtype, generator=generator), act.ReLU(),
            Dropout(dropout, generator=generator),
            Linear(128, 10, dtype=dtype, generator=generator),
        )

    def forward(self, x):
        return self.layers(self.flatten(x))


MNISTClassifier = MNISTMLP  # the workshop's class name


class ResidualBlock(Module):
    """The primer's skip connection on feature vectors: y = g(x + F(x)) with
    F(x) = Linear(g(Linear(x))) of width ``hidden`` (default ``features``) and g the activation.
    Shape (..., features) → (..., features); the identity path lets gradients bypass F."""

    def __init__(self, features: int, hidden: int | None = None, activation="relu",
                 dtype=None, generator=None) -> None:
        super().__init__()
        hidden = hidden or features
        self.fc1 = Linear(features, hidden, dtype=dtype, generator=generator)
        self.act1 = _activation(activation)
        self.fc2 = Linear(hidden, features, dtype=dtype, generator=generator)
        self.act2 = _activation(activation)

    def forward(self, x):
        h = self.fc1(x)
        if self.act1 is not None:
            h = self.act1(h)
        y = x + self.fc2(h)
        return self.act2(y) if self.act2 is not None else y


class BasicBlock(Module):
    """ResNet's basic block for images: y = ReLU(BN(conv3×3(ReLU(BN(conv3×3(x))))) + shortcut(x)),
    the shortcut a 1×1 conv + BN when the stride or the channel count changes.
    Shape (N, in_channels, H, W) → (N, out_channels, H/stride, W/stride)."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        from groundup.nn.layers.conv import Conv2d  # written alongside; imported on use

        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.relu = act.ReLU()
        self.conv2 = Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(
                Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                BatchNorm2d(out_channels))
        else:
            self.shortcut = Sequential()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


def __getattr__(name):
    # LeNet5 and the primer's CNN are defined in models_cnn (by the convolution work); re-export.
    import importlib
    import importlib.util

    if importlib.util.find_spec("groundup.nn.models_cnn") is not None:
        mod = importlib.import_module("groundup.nn.models_cnn")
        if hasattr(mod, name):
            return getattr(mod, name)
    raise AttributeError(f"module 'groundup.nn.models' has no attribute {name!r}")
