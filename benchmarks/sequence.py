"""Sequence-model benchmark: groundup vs PyTorch (CPU), each side in its own process, alternating.

    lstm_epoch   one epoch of the MNIST-rows LSTM classifier: 60,000 images read as 28 steps of 28
                 pixels, LSTM(28 → 128) + Linear(128 → 10) on h_n, cross-entropy, Adam, batch 64
                 (``--batches N`` times the first N batches and scales to the 938-batch epoch)
    transformer  forward+backward of a 2-layer TransformerEncoder (d_model 128, 4 heads,
                 dim_feedforward 2048, dropout 0.1, train mode) on (32, 64, 128), batch-first

Run:  uv run python benchmarks/sequence.py [--rounds 3] [--case lstm_epoch] [--batches 200]
Goals: LSTM epoch ≤ 2.0× PyTorch; transformer forward+backward ≤ 1.5×.

On a shared, heavily loaded 2-core machine multi-threaded BLAS on both sides is dominated by
contention (OpenBLAS threads spin); ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1``
gives steadier ratios. Both settings are worth quoting.
"""

from __future__ import annotations

import time

import numpy as np

from _harness import main, median_time

EPOCH_BATCHES = 938  # ceil(60000 / 64)


def _extra(parser) -> None:
    parser.add_argument("--batches", type=int, default=EPOCH_BATCHES,
                        help="LSTM batches to time (the time is scaled to a full epoch)")
    parser.add_argument("--repeats", type=int, default=10, help="timed transformer steps")


def _mnist_rows():
    from groundup.data.datasets import MNIST

    x, y = MNIST(train=True).arrays()
    return x[:, 0], y  # (60000, 28, 28) float32 normalised, int64 labels


# ----------------------------------------------------------------------------- LSTM epoch
def gu_lstm(args):
    import groundup as gu
    from groundup import nn
    from groundup.nn import functional as F
    from groundup.optim import Adam

    x, y = _mnist_rows()
    gu.manual_seed(0)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, 128, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, xb):
            _, (h, _) = self.lstm(xb)
            return self.fc(h[-1])

    model = Model()
    opt = Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    n = min(args.batches, EPOCH_BATCHES)
    t0 = time.perf_counter()
    total = 0.0
    for b in range(n):
        idx = order[b * 64:(b + 1) * 64]
        loss = F.cross_entropy(model(gu.tensor(x[idx])), gu.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    seconds = (time.perf_counter() - t0) * EPOCH_BATCHES / n
    return {"seconds": seconds, "mean_loss": total / n}


def torch_lstm(args):
    import torch

    x, y = _mnist_rows()
    torch.manual_seed(0)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(28, 128, batch_first=True)
            self.fc = torch.nn.Linear(128, 10)

        def forward(self, xb):
            _, (h, _) = self.lstm(xb)
            return self.fc(h[-1])

    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = min(args.batches, EPOCH_BATCHES)
    t0 = time.perf_counter()
    total = 0.0
    for b in range(n):
        idx = torch.from_numpy(order[b * 64:(b + 1) * 64])
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    seconds = (time.perf_counter() - t0) * EPOCH_BATCHES / n
    return {"seconds": seconds, "mean_loss": total / n}


# ----------------------------------------------------------------------------- transformer
def _src():
    return np.random.default_rng(0).standard_normal((32, 64, 128), dtype=np.float32)


def gu_transformer(args):
    import groundup as gu
    from groundup import nn

    gu.manual_seed(0)
    layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=2048, dropout=0.1,
                                       batch_first=True)
    model = nn.TransformerEncoder(layer, 2)
    x = gu.tensor(_src(), requires_grad=True)

    def step():
        model.zero_grad()
        x.grad = None
        model(x).sum().backward()

    return {"seconds": median_time(step, repeats=args.repeats, warmup=2)}


def torch_transformer(args):
    import torch

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(128, 4, dim_feedforward=2048, dropout=0.1,
                                             batch_first=True)
    model = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    x = torch.tensor(_src(), requires_grad=True)

    def step():
        model.zero_grad()
        x.grad = None
        model(x).sum().backward()

    return {"seconds": median_time(step, repeats=args.repeats, warmup=2)}


CASES = {
    "lstm_epoch": (gu_lstm, torch_lstm),
    "transformer": (gu_transformer, torch_transformer),
}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch", extra_args=_extra)
