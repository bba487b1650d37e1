"""Autoencoders (primer, section 12.4): ``Autoencoder``, ``VAE`` and ``ConvAutoencoder``.

An autoencoder compresses x to a code z = f_enc(x) through a bottleneck and reconstructs
x̂ = f_dec(z), trained on ‖x − x̂‖². With linear layers and the MSE loss it learns the same subspace
as PCA (the tests check the principal angles); nonlinear ones can follow curved manifolds.

A variational autoencoder (Kingma & Welling, 2014) makes the code a distribution: the encoder
outputs the mean μ and log-variance log σ² of q(z|x) = N(μ, diag σ²); a code is drawn by the
reparameterisation trick z = μ + σ ⊙ ε, ε ~ N(0, I) (so gradients flow through μ and σ), and the
loss is reconstruction + KL(q(z|x) ‖ N(0, I)) with the closed form
KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²). New data: decode z ~ N(0, I) (``sample(n)``).
"""

from __future__ import annotations

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn import functional as F
from groundup.nn.containers import Sequential
from groundup.nn.layers.activation import ReLU, Sigmoid
from groundup.nn.layers.linear import Flatten, Linear, Unflatten
from groundup.nn.module import Module
from groundup.ops import elementwise as E
from groundup.random import as_numpy_generator
from groundup.tensor import Tensor

__all__ = ["Autoencoder", "VAE", "ConvAutoencoder", "vae_loss"]


def _mlp(sizes, final=None, dtype=None, generator=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, dtype=dtype, generator=generator))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    if final is not None:
        layers.append(final)
    return Sequential(*layers)


def _hidden(hidden):
    if hidden is None:
        return []
    return [int(hidden)] if isinstance(hidden, (int, np.integer)) else [int(h) for h in hidden]


def _check_flat(name, x, input_dim):
    if not isinstance(x, Tensor):
        raise TypeError(hint(f"{name}: input must be a Tensor, got {type(x).__name__}",
                             "wrap it with groundup.tensor(...)"))
    if x.ndim >= 2 and x.shape[-1] != input_dim and int(np.prod(x.shape[1:])) == input_dim:
        return x.reshape(x.shape[0], input_dim)  # images (N, 1, 28, 28) → (N, 784)
    if x.shape[-1] != input_dim:
        raise ShapeError(hint(
            f"{name}(input_dim={input_dim}) got input of shape {tuple(x.shape)}: expected "
            f"(N, {input_dim})", "flatten each sample to input_dim features"))
    return x


class Autoencoder(Module):
    """The primer's Listing 12.2: encoder input_dim → hidden… → latent_dim (ReLU between layers)
    and the mirrored decoder latent_dim → …hidden → input_dim, ending in a sigmoid (pixels in
    [0, 1]); ``output_activation=None`` leaves the decoder linear.

    Shapes: x (N, input_dim) (images (N, 1, H, W) are flattened) → x̂ (N, input_dim);
    ``encode(x)`` → z (N, latent_dim), ``decode(z)`` → x̂. ``hidden=()`` with
    ``output_activation=None`` is the linear autoencoder that recovers PCA's subspace.
    """

    def __init__(self, input_dim: int = 784, hidden=(256, 128), latent_dim: int = 32,
                 output_activation="sigmoid", dtype=None, generator=None) -> None:
        super().__init__()
        h = _hidden(hidden)
        self.input_dim, self.latent_dim, self.hidden = int(input_dim), int(latent_dim), h
        final = Sigmoid() if output_activation == "sigmoid" else None
        if output_activation not in ("sigmoid", None):
            raise ValueError(hint(f"Autoencoder: output_activation {output_activation!r}",
                                  "use 'sigmoid' or None"))
        self.encoder = _mlp([self.input_dim, *h, self.latent_dim], dtype=dtype,
                            generator=generator)
        self.decoder = _mlp([self.latent_dim, *h[::-1], self.input_dim], final, dtype=dtype,
                            generator=generator)

    def encode(self, x):
        return self.encoder(_check_flat("Autoencoder", x, self.input_dim))

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def vae_loss(recon, x, mu, logvar, reconstruction: str = "bce", beta: float = 1.0):
    """The VAE's negative ELBO per batch element (summed over features, averaged over the batch):
    reconstruction (binary cross-entropy on probabilities, clamped to [ε, 1 − ε] with ε = 1e-6 in
    float32 so that a saturated sigmoid stays finite; or squared error with
    ``reconstruction="mse"``) + β·KL, KL = −½ Σ (1 + log σ² − μ² − σ²).
    Returns (loss, recon, kl)."""
    n = x.shape[0]
    x = x.reshape(recon.shape) if x.shape != recon.shape else x
    if reconstruction == "bce":
        # a saturated sigmoid can round to exactly 0 or 1 in float32; keep log and 1/p finite
        eps = 1e-6 if recon.dtype == np.float32 else 1e-12
        rec = F.binary_cross_entropy(recon.clamp(eps, 1.0 - eps), x, reduction="sum") / n
    elif reconstruction == "mse":
        rec = F.mse_loss(recon, x, reduction="sum") / n
    else:
        raise ValueError(hint(f"vae_loss: unknown reconstruction {reconstruction!r}",
                              "use 'bce' (pixels in [0, 1]) or 'mse'"))
    kl = (-0.5 * (1.0 + logvar - mu * mu - E.exp(logvar))).sum() / n
    return rec + beta * kl, rec, kl


class VAE(Module):
    """Variational autoencoder with MLP encoder/decoder (see the module docstring).

    encoder: input_dim → hidden… (ReLU) → two heads ``fc_mu`` and ``fc_logvar`` (latent_dim each);
    decoder: latent_dim → …hidden (ReLU) → input_dim → sigmoid.
    Shapes: x (N, input_dim) → (x̂ (N, input_dim), μ (N, latent_dim), log σ² (N, latent_dim)).
    In eval mode the code is the mean (no sampling). ``loss_function(x̂, x, μ, log σ²)`` is
    :func:`vae_loss`; ``sample(n)`` decodes n codes drawn from N(0, I).
    """

    def __init__(self, input_dim: int = 784, hidden=(400,), latent_dim: int = 20, dtype=None,
                 generator=None) -> None:
        super().__init__()
        h = _hidden(hidden)
        self.input_dim, self.latent_dim, self.hidden = int(input_dim), int(latent_dim), h
        last = h[-1] if h else self.input_dim
        self.encoder = _mlp([self.input_dim, *h], dtype=dtype, generator=generator) if h \
            else Sequential()
        if h:
            self.encoder.append(ReLU())
        self.fc_mu = Linear(last, self.latent_dim, dtype=dtype, generator=generator)
        self.fc_logvar = Linear(last, self.latent_dim, dtype=dtype, generator=generator)
        self.decoder = _mlp([self.latent_dim, *h[::-1], self.input_dim], Sigmoid(), dtype=dtype,
                            generator=generator)
        self.generator = generator

    def encode(self, x):
        """(μ, log σ²) of q(z|x)."""
        hdn = self.encoder(_check_flat("VAE", x, self.input_dim))
        return self.fc_mu(hdn), self.fc_logvar(hdn)

    def reparameterize(self, mu, logvar):
        """z = μ + σ ⊙ ε with ε ~ N(0, I) in training; μ in eval."""
        if not self.training:
            return mu
        rng = as_numpy_generator(self.generator)
        eps = Tensor(rng.standard_normal(mu.shape).astype(mu.dtype, copy=False))
        return mu + E.exp(logvar * 0.5) * eps

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar

    @staticmethod
    def loss_function(recon, x, mu, logvar, reconstruction: str = "bce", beta: float = 1.0):
        """Negative ELBO: see :func:`vae_loss` (returns the total loss only)."""
        return vae_loss(recon, x, mu, logvar, reconstruction, beta)[0]

    def sample(self, n: int, generator=None):
        """Decode n codes z ~ N(0, I): (n, input_dim) new samples (no gradient recorded)."""
        from groundup.autograd.grad_mode import no_grad

        rng = as_numpy_generator(generator if generator is not None else self.generator)
        dt = self.fc_mu.weight.dtype
        z = Tensor(rng.standard_normal((int(n), self.latent_dim)).astype(dt))
        with no_grad():
            return self.decode(z)


class ConvAutoencoder(Module):
    """A convolutional autoencoder for (N, 1, 28, 28) images:
    encoder Conv2d(1→16, 3, s2, p1) → ReLU → Conv2d(16→32, 3, s2, p1) → ReLU → Flatten →
    Linear(32·7·7 → latent_dim); decoder Linear → Unflatten(32, 7, 7) → ReLU →
    ConvTranspose2d(32→16, 3, s2, p1, output_padding 1) → ReLU →
    ConvTranspose2d(16→1, 3, s2, p1, output_padding 1) → Sigmoid (14 → 28 pixels).
    Shapes: x (N, in_channels, 28, 28) → x̂ same shape; ``encode`` → (N, latent_dim).
    """

    def __init__(self, in_channels: int = 1, latent_dim: int = 16, dtype=None,
                 generator=None) -> None:
        super().__init__()
        from groundup.nn.layers.conv import Conv2d, ConvTranspose2d

        self.in_channels, self.latent_dim = in_channels, latent_dim
        kw = dict(dtype=dtype) if dtype is not None else {}
        self.encoder = Sequential(
            Conv2d(in_channels, 16, 3, stride=2, padding=1, **kw), ReLU(),
            Conv2d(16, 32, 3, stride=2, padding=1, **kw), ReLU(),
            Flatten(), Linear(32 * 7 * 7, latent_dim, dtype=dtype, generator=generator))
        self.decoder = Sequential(
            Linear(latent_dim, 32 * 7 * 7, dtype=dtype, generator=generator),
            Unflatten(1, (32, 7, 7)), ReLU(),
            ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1, **kw), ReLU(),
            ConvTranspose2d(16, in_channels, 3, stride=2, padding=1, output_padding=1, **kw),
            Sigmoid())

    def encode(self, x):
        if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1:] != (self.in_channels, 28, 28):
            raise ShapeError(hint(
                f"ConvAutoencoder got input of shape {tuple(getattr(x, 'shape', ()))}: expected "
                f"(N, {self.in_channels}, 28, 28)", "reshape flat images with x.reshape(-1, 1, "
                                                    "28, 28)"))
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))
