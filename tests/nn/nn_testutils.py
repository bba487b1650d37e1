"""Helpers shared by the tests of groundup.nn (imported by the test files beside it)."""

from __future__ import annotations

import numpy as np

import groundup as gu
from groundup.autograd import gradcheck


def t64(a, requires_grad=True):
    """A float64 groundup tensor (for gradcheck)."""
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def check_module_grads(module, *inputs, seed=0):
    """gradcheck in float64 through ``module`` with respect to its inputs *and* parameters.

    The output is projected on a fixed random tensor R (L = Σ R⊙out), so one backward pass gives
    the full gradient; central differences of L check it for every input and parameter element.
    """
    module.double()
    params = [p for p in module.parameters() if p.requires_grad]
    rng = np.random.default_rng(seed)
    box = {}

    def fn(*args):
        out = module(*args[: len(inputs)])
        if "R" not in box:
            box["R"] = gu.tensor(rng.standard_normal(out.shape))
        return (out * box["R"]).sum()

    return gradcheck(fn, tuple(inputs) + tuple(params), atol=1e-6, rtol=1e-4)


def copy_params_to_torch(gu_module, torch_module):
    """Copy groundup parameters/buffers into a torch module with the same state_dict keys."""
    import torch

    sd = {k: torch.from_numpy(np.array(v.data)) for k, v in gu_module.state_dict().items()}
    torch_module.load_state_dict(sd)
    return torch_module
