"""groundup vs PyTorch: one training epoch on MNIST, and inference on the 10k test images.

Cases:
    mlp64   the workshop MLP (784-256-128-10, ReLU, Dropout 0.2), Adam 1e-3, batch 64
    mlp256  the same at batch 256
    cnn64   the primer's CNN (conv32-pool-conv64-pool-fc128-fc10), Adam 1e-3, batch 64

Both sides start from the same initial weights (drawn here with NumPy, PyTorch's default
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) init, same layouts) and see the 55,000 training images (the
CLI's split: 5,000 held out) in the same order. groundup trains with ``groundup.train.Trainer``
over a ``DataLoader`` (what ``groundup train`` runs); PyTorch with the usual loop over
``torch.utils.data.DataLoader``. Reported per side: ``seconds`` (one epoch), ``images_per_s``,
``cpu_seconds`` (CPU time of the epoch, all threads: steadier than wall time on a busy machine),
``test_accuracy`` after that epoch, ``infer_images_per_s`` (10k test images, batch 1000, no grad,
median of 5) and ``peak_rss_mb`` (the worker's peak resident memory).

    uv run python benchmarks/mnist.py [--rounds 3] [--case mlp64 --case cnn64]

Each measurement runs in its own process, alternating groundup and PyTorch; medians and the ratio
groundup/PyTorch of epoch times are printed. Goals: MLP <= 1.0x at both batch sizes, CNN <= 1.5x.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _harness import main  # noqa: E402

SEED = 0


def _data():
    """Normalised (N, 1, 28, 28) float32 images, the CLI's train split in a fixed shuffled order,
    and the test set."""
    from groundup.data.datasets import MNIST

    x, y = MNIST(train=True).arrays(normalize=True)
    xt, yt = MNIST(train=False).arrays(normalize=True)
    rng = np.random.default_rng(SEED)
    train_idx = rng.permutation(len(x))[5000:]
    order = rng.permutation(len(train_idx))  # the epoch's order, shared by both sides
    idx = train_idx[order]
    return np.ascontiguousarray(x[idx]), y[idx], xt, yt


def _shapes(model: str):
    """(name, shape) of every parameter, in PyTorch's layouts and groundup's state_dict order."""
    if model == "mlp":
        return [("layers.0.weight", (256, 784)), ("layers.0.bias", (256,)),
                ("layers.3.weight", (128, 256)), ("layers.3.bias", (128,)),
                ("layers.6.weight", (10, 128)), ("layers.6.bias", (10,))]
    return [("features.0.weight", (32, 1, 3, 3)), ("features.0.bias", (32,)),
            ("features.3.weight", (64, 32, 3, 3)), ("features.3.bias", (64,)),
            ("classifier.1.weight", (128, 3136)), ("classifier.1.bias", (128,)),
            ("classifier.3.weight", (10, 128)), ("classifier.3.bias", (10,))]


def _initial_weights(model: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED + 1)
    weights = {}
    fan_in = None
    for name, shape in _shapes(model):
        if name.endswith("weight"):
            fan_in = int(np.prod(shape[1:]))
        bound = 1.0 / np.sqrt(fan_in)
        weights[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return weights


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _groundup_case(model_name: str, batch_size: int):
    def run(args):
        import groundup as gu
        from groundup import nn, optim
        from groundup.data import DataLoader, TensorDataset
        from groundup.train import Trainer

        x, y, xt, yt = _data()
        gu.manual_seed(SEED)
        model = nn.models.MNISTMLP() if model_name == "mlp" else nn.models.PrimerCNN()
        model.load_state_dict(_initial_weights(model_name))
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                          progress="quiet")
        loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
        test_loader = DataLoader(TensorDataset(xt, yt), batch_size=1000)
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.fit(loader, epochs=1)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        accuracy = trainer.evaluate(test_loader)["accuracy"]
        model.eval()
        times = []
        with gu.no_grad():
            for _ in range(5):
                t0 = time.perf_counter()
                for start in range(0, len(xt), 1000):
                    model(gu.tensor(xt[start:start + 1000]))
                times.append(time.perf_counter() - t0)
        return {"seconds": seconds, "cpu_seconds": cpu_seconds, "images_per_s": len(x) / seconds,
                "test_accuracy": accuracy,
                "infer_images_per_s": len(xt) / float(np.median(times)),
                "peak_rss_mb": _peak_rss_mb()}

    return run


def _torch_case(model_name: str, batch_size: int):
    def run(args):
        import torch
        from torch import nn

        torch.manual_seed(SEED)
        x, y, xt, yt = _data()
        if model_name == "mlp":
            model = nn.Sequential()
            model.add_module("flatten", nn.Flatten())
            layers = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                                   nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
                                   nn.Linear(128, 10))
            model.add_module("layers", layers)
        else:
            model = nn.Sequential()
            model.add_module("features", nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)))
            model.add_module("classifier", nn.Sequential(
                nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in
                               _initial_weights(model_name).items()})
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()  # what a logging loop does every step
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        model.eval()
        xt_t = torch.from_numpy(xt)
        with torch.no_grad():
            pred = torch.cat([model(xt_t[s:s + 1000]).argmax(1) for s in range(0, len(xt), 1000)])
            accuracy = float((pred.numpy() == yt).mean())
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                for start in range(0, len(xt), 1000):
                    model(xt_t[start:start + 1000])
                times.append(time.perf_counter() - t0)
        return {"seconds": seconds, "cpu_seconds": cpu_seconds, "images_per_s": len(x) / seconds,
                "test_accuracy": accuracy,
                "infer_images_per_s": len(xt) / float(np.median(times)),
                "peak_rss_mb": _peak_rss_mb()}

    return run


CASES = {
    "mlp64": (_groundup_case("mlp", 64), _torch_case("mlp", 64)),
    "mlp256": (_groundup_case("mlp", 256), _torch_case("mlp", 256)),
    "cnn64": (_groundup_case("cnn", 64), _torch_case("cnn", 64)),
}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch")
