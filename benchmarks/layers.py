"""Layer benchmark: groundup vs PyTorch (CPU), each side in its own process, alternating.

Times forward+backward of the layers of the course's MNIST CNN on a batch of 64, and one Adam step:

    conv1     Conv2d(1→32, 3×3, pad 1) on (64, 1, 28, 28)     (input needs no grad: the first layer)
    conv2     Conv2d(32→64, 3×3, pad 1) on (64, 32, 14, 14)   (input needs grad: a middle layer)
    maxpool   MaxPool2d(2) on (64, 32, 28, 28)
    batchnorm BatchNorm2d(32), training mode, on (64, 32, 28, 28)
    adam      one Adam step over the 784-256-128-10 MLP's parameters (gradients already set)

Run:  uv run python benchmarks/layers.py [--rounds 5] [--case conv2] [--repeats 30] [--threads 1]
Goals: conv forward+backward ≤ 1.5× PyTorch; an Adam step ≤ 1.0×.

``--threads N`` pins both sides to N BLAS/OpenMP threads (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
set before NumPy or torch load): on a busy shared machine an oversubscribed thread pool makes
every multi-threaded GEMM wait for a time slice, which swamps what is being measured.
"""

from __future__ import annotations

import numpy as np  # noqa: E402
from _harness import main, median_time  # noqa: E402

SHAPES = {
    "conv1": ((64, 1, 28, 28), (1, 32)),
    "conv2": ((64, 32, 14, 14), (32, 64)),
}


def _extra(parser) -> None:
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per process")


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


# ----------------------------------------------------------------------------- groundup side


def _gu_fwd_bwd(make_layer, shape, input_grad, args):
    import groundup as gu

    layer = make_layer()
    x = gu.tensor(_data(shape), requires_grad=input_grad)
    with gu.no_grad():
        g = gu.tensor(np.ones(layer(x).shape, dtype=np.float32))

    def step():
        for p in layer.parameters():
            p.grad = None
        x.grad = None
        layer(x).backward(g)

    return {"seconds": median_time(step, repeats=args.repeats)}


def _gu_conv(name):
    def run(args):
        from groundup import nn

        shape, (cin, cout) = SHAPES[name]
        return _gu_fwd_bwd(lambda: nn.Conv2d(cin, cout, 3, padding=1), shape, name != "conv1",
                           args)
    return run


def gu_maxpool(args):
    from groundup import nn

    return _gu_fwd_bwd(lambda: nn.MaxPool2d(2), (64, 32, 28, 28), True, args)


def gu_batchnorm(args):
    from groundup.nn.layers.normalization import BatchNorm2d

    return _gu_fwd_bwd(lambda: BatchNorm2d(32), (64, 32, 28, 28), True, args)


def _mlp_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(p.shape, dtype=np.float32) for p in params]


def gu_adam(args):
    from groundup import nn
    from groundup.optim.adam import Adam

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    params = list(model.parameters())
    import groundup as gu

    for p, g in zip(params, _mlp_grads(params)):
        p.grad = gu.tensor(g)
    opt = Adam(params, lr=1e-3)
    return {"seconds": median_time(opt.step, repeats=max(args.repeats, 100))}


# ----------------------------------------------------------------------------- PyTorch side


def _torch_fwd_bwd(make_layer, shape, input_grad, args):
    import torch

    layer = make_layer(torch)
    x = torch.tensor(_data(shape), requires_grad=input_grad)
    with torch.no_grad():
        g = torch.ones_like(layer(x))

    def step():
        for p in layer.parameters():
            p.grad = None
        x.grad = None
        layer(x).backward(g)

    return {"seconds": median_time(step, repeats=args.repeats)}


def _torch_conv(name):
    def run(args):
        shape, (cin, cout) = SHAPES[name]
        return _torch_fwd_bwd(lambda t: t.nn.Conv2d(cin, cout, 3, padding=1), shape,
                              name != "conv1", args)
    return run


def torch_maxpool(args):
    return _torch_fwd_bwd(lambda t: t.nn.MaxPool2d(2), (64, 32, 28, 28), True, args)


def torch_batchnorm(args):
    return _torch_fwd_bwd(lambda t: t.nn.BatchNorm2d(32), (64, 32, 28, 28), True, args)


def torch_adam(args):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    params = list(model.parameters())
    for p, g in zip(params, _mlp_grads(params)):
        p.grad = torch.tensor(g)
    # foreach is PyTorch's default on CPU for lists of tensors; keep its defaults.
    opt = torch.optim.Adam(params, lr=1e-3)
    return {"seconds": median_time(opt.step, repeats=max(args.repeats, 100))}


CASES = {
    "conv1": (_gu_conv("conv1"), _torch_conv("conv1")),
    "conv2": (_gu_conv("conv2"), _torch_conv("conv2")),
    "maxpool": (gu_maxpool, torch_maxpool),
    "batchnorm": (gu_batchnorm, torch_batchnorm),
    "adam": (gu_adam, torch_adam),
}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch", extra_args=_extra)
