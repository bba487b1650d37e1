"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's form."""

from __future__ import annotations

import numpy as np

from groundup.optim.optimizer import Optimizer, _check_nonneg

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, exactly as PyTorch's ``torch.optim.Adagrad`` computes it.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t = 1, 2, \dots`::

        g   <- g_t + λ θ                          (weight_decay λ)
        η_t =  η / (1 + (t - 1) · lr_decay)
        s_t =  s_{t-1} + g²                       (sum, s_0 = initial_accumulator_value)
        θ   <- θ - η_t g / (sqrt(s_t) + ε)

    Each coordinate's step shrinks as its squared gradients accumulate, so rarely-updated
    coordinates keep larger steps.

    Args:
        lr: η (default 1e-2); lr_decay (default 0); weight_decay: λ (default 0);
        initial_accumulator_value: s_0 (default 0); eps: ε (default 1e-10); maximize; foreach.

    State per parameter (created when the optimizer is built, like PyTorch): ``step``, ``sum``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *,
                 maximize=False) -> None:
        for key, value in (("lr", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                           ("initial_accumulator_value", initial_accumulator_value),
                           ("eps", eps)):
            _check_nonneg("Adagrad", key, value)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(self._init_state(p, group))

    def _state_names(self, group):
        return ("sum",)

    def _init_state(self, p, group):
        return {"step": 0,
                "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _kernel(self, group, step, g, state, out, fresh=False):
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"]
        np.multiply(g, g, out=out)
        np.add(s, out, out=s)
        np.sqrt(s, out=out)
        np.add(out, group["eps"], out=out)
        np.divide(g, out, out=out)
        np.multiply(out, clr, out=out)
