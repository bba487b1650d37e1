"""Adam and AdamW."""

from __future__ import annotations

import numpy as np

from groundup.optim.optimizer import (
    Optimizer,
    OptimizerError,
    _bias_corrections,
    _check_beta,
    _check_nonneg,
    hint,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), exactly as PyTorch's ``torch.optim.Adam`` computes it.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t = 1, 2, \dots`::

        g   <- g_t + λ θ                            (weight_decay λ, L2 form)
        m_t =  β1 m_{t-1} + (1 - β1) g              (first moment, "momentum")
        v_t =  β2 v_{t-1} + (1 - β2) g²             (second moment, "RMSprop")
        v̂   =  max(v̂_{t-1}, v_t) if amsgrad else v_t
        θ   <- θ - η/(1 - β1^t) · m_t / ( sqrt(v̂)/sqrt(1 - β2^t) + ε )

    which is :math:`\theta \leftarrow \theta - \eta\,\hat m_t/(\sqrt{\hat v_t} + \epsilon)` with the
    bias-corrected moments :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`
    (the course's formula). The first step from zero moments moves each weight by about
    :math:`\eta\,\mathrm{sign}(g)`: with g=3, η=0.01 it moves by 0.01 (primer Q5.9).

    With ``decoupled_weight_decay=True`` (this is :class:`AdamW`) the decay is applied to the weights,
    :math:`\theta \leftarrow \theta(1 - \eta\lambda)`, instead of being added to the gradient.

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), and ``max_exp_avg_sq``
    with amsgrad.

    Args:
        lr: η (default 1e-3); betas: (β1, β2) (default (0.9, 0.999)); eps: ε (default 1e-8);
        weight_decay: λ (default 0); amsgrad: use the running maximum of v (default False);
        maximize; foreach (see :class:`~groundup.optim.Optimizer`); decoupled_weight_decay.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False,
                 decoupled_weight_decay=False) -> None:
        name = type(self).__name__
        _check_nonneg(name, "lr", lr)
        _check_nonneg(name, "eps", eps)
        _check_nonneg(name, "weight_decay", weight_decay)
        self._check_betas(betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_betas(self, betas) -> None:
        name = type(self).__name__
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise OptimizerError(hint(f"{name}: betas must be a pair (beta1, beta2), got "
                                      f"{betas!r}", "pass betas=(0.9, 0.999)")) from None
        _check_beta(name, "betas[0]", b1)
        _check_beta(name, "betas[1]", b2)

    def _check_group(self, group: dict) -> None:
        self._check_betas(group["betas"])

    def _state_names(self, group):
        if group["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    def _init_state(self, p, group):
        st = {"step": 0}
        for k in self._state_names(group):
            st[k] = np.zeros_like(p.data)
        return st

    def _pre_update(self, group, params):
        wd = group["weight_decay"]
        if group.get("decoupled_weight_decay") and wd:
            factor = 1 - group["lr"] * wd
            for p in params:
                np.multiply(p.data, factor, out=p.data)

    def _kernel(self, group, step, g, state, out, fresh=False):
        beta1, beta2 = group["betas"]
        m = state["exp_avg"]
        v = state["exp_avg_sq"]
        # m <- m + (1-β1)(g - m)        (torch's lerp)
        np.subtract(g, m, out=out)
        np.multiply(out, 1 - beta1, out=out)
        np.add(m, out, out=m)
        # v <- β2 v + (1-β2) g g
        np.multiply(v, beta2, out=v)
        np.multiply(g, 1 - beta2, out=out)
        np.multiply(out, g, out=out)
        np.add(v, out, out=v)
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        bc1, bc2_sqrt = _bias_corrections(beta1, beta2, step)
        step_size = group["lr"] / bc1
        if step_size == 0.0:  # lr = 0: moments move, weights do not
            out.fill(0)
            return
        # out = step_size * m / (sqrt(v)/sqrt(bc2) + eps), with the two scalings folded into the
        # denominator (one pass fewer): m / (sqrt(v) * 1/(sqrt(bc2) step_size) + eps/step_size)
        np.sqrt(v, out=out)
        np.multiply(out, 1.0 / (bc2_sqrt * step_size), out=out)
        np.add(out, group["eps"] / step_size, out=out)
        np.divide(m, out, out=out)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's ``torch.optim.AdamW``::

        θ <- θ (1 - η λ)
        then the Adam update of :class:`Adam` without weight decay in the gradient.

    Default ``weight_decay=1e-2``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, foreach=None, maximize=False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         decoupled_weight_decay=True)
