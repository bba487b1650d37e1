"""One optimizer step over the workshop's MNIST MLP (784-256-128-10): groundup vs PyTorch.

Parameter shapes [(256,784),(256,),(128,256),(128,),(10,128),(10,)] (~235k float32), random
gradients, the state warmed up by a few steps; each side in its own process, alternating.

    uv run python benchmarks/optim.py --rounds 5
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import main, median_time  # noqa: E402

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]
CONFIGS = {
    "adam": ("Adam", {"lr": 1e-3}),
    "sgd_momentum": ("SGD", {"lr": 1e-2, "momentum": 0.9}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    "rmsprop": ("RMSprop", {"lr": 1e-3}),
}


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    return params, grads


def _groundup(case):
    def run(args):
        import groundup as gu
        from groundup import optim

        name, kw = CONFIGS[case]
        params, grads = _arrays()
        ps = [gu.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(ps, grads):
            p.grad = gu.tensor(g)
        opt = getattr(optim, name)(ps, **kw)
        return {"seconds": median_time(opt.step, repeats=args.repeats, warmup=20)}
    return run


def _torch(case):
    def run(args):
        import torch

        torch.set_num_threads(args.threads) if args.threads else None
        name, kw = CONFIGS[case]
        params, grads = _arrays()
        ps = [torch.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(ps, grads):
            p.grad = torch.tensor(g)
        opt = getattr(torch.optim, name)(ps, **kw)
        return {"seconds": median_time(opt.step, repeats=args.repeats, warmup=20)}
    return run


def _extra(parser):
    parser.add_argument("--repeats", type=int, default=300, help="timed steps per process")


CASES = {case: (_groundup(case), _torch(case)) for case in CONFIGS}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch", extra_args=_extra)
