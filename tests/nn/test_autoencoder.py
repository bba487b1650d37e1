"""Autoencoders: shapes and layouts, the linear autoencoder recovers PCA's subspace, the VAE's
closed-form KL and reparameterisation, short learning tests, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.errors import ShapeError
from groundup.nn.autoencoders import vae_loss
from groundup.optim import Adam


def test_autoencoder_is_the_primers_listing():
    ae = nn.models.Autoencoder()  # 784 → 256 → 128 → 32 → 128 → 256 → 784
    shapes = [tuple(p.shape) for n, p in ae.named_parameters() if n.endswith("weight")]
    assert shapes == [(256, 784), (128, 256), (32, 128), (128, 32), (256, 128), (784, 256)]
    x = gu.rand(5, 1, 28, 28)
    assert ae.encode(x).shape == (5, 32)
    out = ae(x)
    assert out.shape == (5, 784) and 0 < out.data.min() and out.data.max() < 1


def test_linear_autoencoder_learns_the_pca_subspace():
    """The primer's claim: a linear autoencoder trained with MSE spans the top-k principal
    components; the principal angles to PCA's components fall below 1 degree."""
    decomposition = pytest.importorskip("groundup.ml.decomposition")
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    X = (rng.standard_normal((400, 6)) * np.array([3.0, 2.0, 0.5, 0.3, 0.2, 0.1])) @ basis.T
    X = (X + rng.standard_normal(6)).astype(np.float64)
    pca = decomposition.PCA(n_components=2).fit(X)
    gu.manual_seed(0)
    ae = nn.models.Autoencoder(6, hidden=(), latent_dim=2, output_activation=None,
                               dtype=np.float64)
    opt = Adam(ae.parameters(), lr=0.02)
    xt = gu.tensor(X)
    for _ in range(800):
        loss = ((ae(xt) - xt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    W = ae.decoder[0].weight.data  # (6, 2): the decoder's columns span the code's image
    q_ae, _ = np.linalg.qr(W)
    q_pca, _ = np.linalg.qr(pca.components_.T)
    cosines = np.linalg.svd(q_ae.T @ q_pca, compute_uv=False)
    angles = np.degrees(np.arccos(np.clip(cosines, -1, 1)))
    assert angles.max() < 1.0, angles
    # and the reconstruction error equals PCA's (the variance left in the other components)
    pca_err = ((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean()
    assert loss.item() < pca_err * 1.01


def test_vae_kl_is_the_closed_form_and_zero_at_the_prior():
    rng = np.random.default_rng(1)
    mu, logvar = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x = rng.random((4, 5))
    recon = np.clip(rng.random((4, 5)), 0.05, 0.95)
    loss, rec, kl = vae_loss(gu.tensor(recon), gu.tensor(x), gu.tensor(mu), gu.tensor(logvar))
    expected_kl = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar)) / 4
    expected_rec = -np.sum(x * np.log(recon) + (1 - x) * np.log(1 - recon)) / 4
    assert abs(kl.item() - expected_kl) < 1e-12
    assert abs(rec.item() - expected_rec) < 1e-12
    assert abs(loss.item() - expected_rec - expected_kl) < 1e-12
    _, _, kl0 = vae_loss(gu.tensor(recon), gu.tensor(x), gu.zeros(4, 3, dtype=gu.float64),
                         gu.zeros(4, 3, dtype=gu.float64))
    assert kl0.item() == 0.0
    # a Monte-Carlo estimate of KL(N(μ, σ²) ‖ N(0, 1)) for one coordinate agrees
    m, lv = 0.7, -0.4
    s = np.exp(0.5 * lv)
    z = m + s * np.random.default_rng(2).standard_normal(400_000)
    mc = np.mean(-0.5 * ((z - m) / s) ** 2 - np.log(s) + 0.5 * z ** 2)
    _, _, kl1 = vae_loss(gu.tensor([[0.5]]), gu.tensor([[0.5]]), gu.tensor([[m]]),
                         gu.tensor([[lv]]))
    assert abs(kl1.item() - mc) < 5e-3


def test_vae_reparameterisation_passes_gradients_and_eval_uses_the_mean():
    gu.manual_seed(0)
    vae = nn.models.VAE(12, hidden=(8,), latent_dim=3, dtype=np.float64, generator=gu.Generator(1))
    x = gu.tensor(np.random.default_rng(0).random((6, 12)))
    recon, mu, logvar = vae(x)
    assert recon.shape == (6, 12) and mu.shape == (6, 3) and logvar.shape == (6, 3)
    vae.loss_function(recon, x, mu, logvar).backward()
    assert np.abs(vae.fc_logvar.weight.grad.data).max() > 0  # σ gets gradient through z = μ + σε
    vae.eval()
    a, b = vae(x)[0].data, vae(x)[0].data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, vae.decode(vae.encode(x)[0]).data)
    samples = vae.sample(7, generator=gu.Generator(3))
    assert samples.shape == (7, 12) and not samples.requires_grad
    np.testing.assert_array_equal(samples.data, vae.sample(7, generator=gu.Generator(3)).data)


def test_vae_learns_tiny_binary_patterns():
    """Four 16-pixel binary patterns: the negative ELBO falls from ~11 to below 4 in 300 steps."""
    gu.manual_seed(0)
    rng = np.random.default_rng(0)
    patterns = (rng.random((4, 16)) > 0.5).astype(np.float32)
    x = gu.tensor(np.repeat(patterns, 16, axis=0))
    vae = nn.models.VAE(16, hidden=(32,), latent_dim=2, generator=gu.Generator(0))
    opt = Adam(vae.parameters(), lr=0.01)
    first = None
    for _ in range(300):
        recon, mu, logvar = vae(x)
        loss = vae.loss_function(recon, x, mu, logvar)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 9 and loss.item() < 4.0


def test_conv_autoencoder_shapes_and_learning():
    gu.manual_seed(0)
    cae = nn.models.ConvAutoencoder(latent_dim=8)
    names = [n for n, _ in cae.named_parameters()]
    assert "decoder.3.weight" in names and tuple(cae.decoder[3].weight.shape) == (32, 16, 3, 3)
    rng = np.random.default_rng(0)
    x = np.zeros((4, 1, 28, 28), np.float32)
    for i in range(4):  # bright squares at random places
        r, c = rng.integers(2, 18, 2)
        x[i, 0, r:r + 8, c:c + 8] = 1.0
    xt = gu.tensor(x)
    assert cae.encode(xt).shape == (4, 8) and cae(xt).shape == (4, 1, 28, 28)
    opt = Adam(cae.parameters(), lr=3e-3)
    for _ in range(80):
        loss = ((cae(xt) - xt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05  # a constant 0.5 output would score 0.25, all-zeros ≈ 0.08


def test_autoencoder_errors():
    with pytest.raises(ShapeError, match=r"Autoencoder\(input_dim=784\).*\(3, 100\)"):
        nn.models.Autoencoder()(gu.randn(3, 100))
    with pytest.raises(ShapeError, match=r"VAE\(input_dim=16\)"):
        nn.models.VAE(16)(gu.randn(3, 15))
    with pytest.raises(ShapeError, match=r"ConvAutoencoder.*\(3, 784\).*\(N, 1, 28, 28\)"):
        nn.models.ConvAutoencoder()(gu.randn(3, 784))
    with pytest.raises(ValueError, match="reconstruction"):
        vae_loss(gu.rand(2, 3), gu.rand(2, 3), gu.zeros(2, 1), gu.zeros(2, 1), "l1")
