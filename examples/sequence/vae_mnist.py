"""Autoencoders on MNIST (primer, section 12.4).

    uv run python examples/sequence/vae_mnist.py --model vae [--epochs 5] [--out runs/vae]
        VAE(784 → 400 → 20): writes a grid of test reconstructions (originals above, decoded
        below) and a grid of new digits decoded from z ~ N(0, I); prints the test negative ELBO.
    uv run python examples/sequence/vae_mnist.py --model ae2d [--epochs 5]
        Autoencoder(784 → 256 → 128 → 2): writes the 2-D latent codes of the test set coloured
        by digit.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import groundup as gu
from groundup import nn
from groundup.data.datasets import MNIST
from groundup.nn.autoencoders import vae_loss
from groundup.optim import Adam


def _grid(images: np.ndarray, rows: int, path: str, title: str) -> None:
    from matplotlib.figure import Figure

    n = len(images)
    cols = int(np.ceil(n / rows))
    canvas = np.ones((rows * 29 + 1, cols * 29 + 1))
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        canvas[1 + r * 29:1 + r * 29 + 28, 1 + c * 29:1 + c * 29 + 28] = img.reshape(28, 28)
    fig = Figure(figsize=(cols * 0.6, rows * 0.6 + 0.4), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.savefig(path)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["vae", "ae2d"], default="vae")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--out", default="runs/vae")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    gu.manual_seed(args.seed)
    x_train, _ = MNIST(train=True).arrays(normalize=False, flatten=True)   # pixels in [0, 1]
    x_test, y_test = MNIST(train=False).arrays(normalize=False, flatten=True)
    if args.model == "vae":
        model = nn.models.VAE(784, hidden=(400,), latent_dim=20, generator=gu.Generator(args.seed))
    else:
        model = nn.models.Autoencoder(784, hidden=(256, 128), latent_dim=2)
    opt = Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    n = len(x_train)

    def loss_of(xb):
        if args.model == "vae":
            recon, mu, logvar = model(xb)
            return vae_loss(recon, xb, mu, logvar)[0]
        return nn.functional.binary_cross_entropy(model(xb), xb, reduction="sum") / xb.shape[0]

    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        total = 0.0
        for i in range(0, n, args.batch_size):
            xb = gu.tensor(x_train[order[i:i + args.batch_size]])
            loss = loss_of(xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        model.eval()
        with gu.no_grad():
            test = float(np.mean([loss_of(gu.tensor(x_test[j:j + 1000])).item()
                                  for j in range(0, len(x_test), 1000)]))
        model.train()
        what = "negative ELBO" if args.model == "vae" else "reconstruction BCE"
        print(f"[{args.model}] epoch {epoch}: train {what} {total / n:.2f}, test {test:.2f} "
              f"nats/image ({time.perf_counter() - t0:.0f} s)", flush=True)
    os.makedirs(args.out, exist_ok=True)
    model.eval()
    result = {"test_loss": test}
    try:
        if args.model == "vae":
            with gu.no_grad():
                originals = x_test[:16]
                recon = model(gu.tensor(originals))[0].data
            _grid(np.concatenate([originals, recon]), 2, os.path.join(args.out, "vae_recon.png"),
                  "test digits (top) and their VAE reconstructions (bottom)")
            samples = model.sample(64, generator=gu.Generator(1)).data
            _grid(samples, 8, os.path.join(args.out, "vae_samples.png"),
                  "new digits decoded from z ~ N(0, I)")
        else:
            from matplotlib.figure import Figure

            with gu.no_grad():
                z = model.encode(gu.tensor(x_test)).data
            fig = Figure(figsize=(6, 5), dpi=100, layout="constrained")
            ax = fig.subplots()
            sc = ax.scatter(z[:, 0], z[:, 1], c=y_test, cmap="tab10", s=2)
            fig.colorbar(sc, ax=ax, label="digit")
            ax.set_title("autoencoder's 2-D latent space (MNIST test set)")
            fig.savefig(os.path.join(args.out, "ae_latent.png"))
        print(f"wrote figures to {args.out}")
    except ImportError:
        pass
    return result


if __name__ == "__main__":
    main()
