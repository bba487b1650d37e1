"""groundup.nn vs torch.nn: one training step of the workshop's MNIST MLP and single layers.

(a) mlp_step: MNISTMLP (Flatten, 784-256-128-10, ReLU, Dropout 0.2) in train mode, batch of 64
    (1, 28, 28) float32 images: zero_grad, forward, CrossEntropyLoss, backward, plain SGD update
    written by hand (the same on both sides, so only nn and autograd are compared);
(b) cross_entropy: forward + backward of CrossEntropyLoss on (64, 10) logits;
(c) batchnorm1d: forward + backward of BatchNorm1d(256) on (64, 256) in training;
(d) layernorm: forward + backward of LayerNorm(256) on (64, 256).

    uv run python benchmarks/nn_mlp.py [--rounds 5] [--threads 1]

Each side runs in its own process, alternating; the ratio is groundup/PyTorch of median times.
``--threads N`` pins both sides' BLAS/intra-op threads (useful on a busy machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _harness import main, median_time  # noqa: E402


def _batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)


def gu_mlp_step(args):
    import groundup as gu
    from groundup import nn

    gu.manual_seed(0)
    x_np, y_np = _batch()
    x, y = gu.tensor(x_np), gu.tensor(y_np)
    model = nn.models.MNISTMLP()
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())

    def step():
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with gu.no_grad():
            for p in params:
                p.data -= 0.01 * p.grad.data

    return {"seconds": median_time(step, repeats=200, warmup=20)}


def torch_mlp_step(args):
    import torch
    from torch import nn

    torch.manual_seed(0)
    x_np, y_np = _batch()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())

    def step():
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad

    return {"seconds": median_time(step, repeats=200, warmup=20)}


def _layer_case(make_gu, make_torch, shape, target=False):
    def gu_case(args):
        import groundup as gu

        rng = np.random.default_rng(0)
        x = gu.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        y = gu.tensor(rng.integers(0, shape[1], shape[0]))
        layer = make_gu()

        def run():
            x.grad = None
            out = layer(x, y) if target else layer(x)
            out.sum().backward()

        return {"seconds": median_time(run, repeats=200, warmup=20)}

    def torch_case(args):
        import torch

        rng = np.random.default_rng(0)
        x = torch.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        y = torch.from_numpy(rng.integers(0, shape[1], shape[0]))
        layer = make_torch()

        def run():
            x.grad = None
            out = layer(x, y) if target else layer(x)
            out.sum().backward()

        return {"seconds": median_time(run, repeats=200, warmup=20)}

    return gu_case, torch_case


def _gu(name, *a):
    def make():
        from groundup import nn

        return getattr(nn, name)(*a)
    return make


def _th(name, *a):
    def make():
        from torch import nn

        return getattr(nn, name)(*a)
    return make


CASES = {
    "mlp_step": (gu_mlp_step, torch_mlp_step),
    "cross_entropy": _layer_case(_gu("CrossEntropyLoss"), _th("CrossEntropyLoss"), (64, 10),
                                 target=True),
    "batchnorm1d": _layer_case(_gu("BatchNorm1d", 256), _th("BatchNorm1d", 256), (64, 256)),
    "layernorm": _layer_case(_gu("LayerNorm", 256), _th("LayerNorm", 256), (64, 256)),
}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch")
