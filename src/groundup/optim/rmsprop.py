"""RMSprop (Hinton's lecture 6e), PyTorch's form, with the course's ε-inside-the-root as an option."""

from __future__ import annotations

import numpy as np

from groundup.optim.optimizer import Optimizer, _check_beta, _check_nonneg

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, exactly as PyTorch's ``torch.optim.RMSprop`` computes it.

    With gradient :math:`g_t` (negated when ``maximize``), smoothing constant α::

        g   <- g_t + λ θ                                 (weight_decay λ)
        s_t =  α s_{t-1} + (1 - α) g²                    (square_avg)
        ḡ_t =  α ḡ_{t-1} + (1 - α) g                     (grad_avg, if centered)
        d   =  sqrt(s_t - ḡ_t²) + ε   if centered   else   sqrt(s_t) + ε
        b_t =  μ b_{t-1} + g / d ;   θ <- θ - η b_t      (if momentum μ > 0)
        θ   <- θ - η g / d                               (otherwise)

    **Where ε goes.** PyTorch (and Keras, TF) add ε *outside* the square root, as above. The
    workshop writes :math:`\theta \leftarrow \theta - \eta g/\sqrt{s_t + \epsilon}`; pass
    ``eps_inside_sqrt=True`` for that form (``d = sqrt(s_t + ε)``). The two differ only while
    :math:`s_t` is comparable to ε (or ε²).

    Args:
        lr: η (default 1e-2); alpha: α (default 0.99); eps: ε (default 1e-8); weight_decay: λ;
        momentum: μ (default 0); centered: normalize by the estimated variance of the gradient;
        maximize; foreach (see :class:`~groundup.optim.Optimizer`); eps_inside_sqrt.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, foreach=None, maximize=False, eps_inside_sqrt=False) -> None:
        for key, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay),
                           ("momentum", momentum), ("alpha", alpha)):
            _check_nonneg("RMSprop", key, value)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize, foreach=foreach,
                        eps_inside_sqrt=eps_inside_sqrt)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_nonneg("RMSprop", "momentum", group["momentum"])
        if group["alpha"] != 1:  # alpha = 1 is allowed by PyTorch (a frozen average)
            _check_beta("RMSprop", "alpha", group["alpha"])

    def _state_names(self, group):
        names = ("square_avg",)
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def _init_state(self, p, group):
        st = {"step": 0}
        for k in self._state_names(group):
            st[k] = np.zeros_like(p.data)
        return st

    def _kernel(self, group, step, g, state, out, fresh=False):
        alpha = group["alpha"]
        eps = group["eps"]
        sq = state["square_avg"]
        # s <- α s + (1-α) g g
        np.multiply(sq, alpha, out=sq)
        np.multiply(g, 1 - alpha, out=out)
        np.multiply(out, g, out=out)
        np.add(sq, out, out=sq)
        if group["centered"]:
            ga = state["grad_avg"]
            np.subtract(g, ga, out=out)          # ḡ <- ḡ + (1-α)(g - ḡ)   (torch's lerp)
            np.multiply(out, 1 - alpha, out=out)
            np.add(ga, out, out=ga)
            np.multiply(ga, ga, out=out)
            np.subtract(sq, out, out=out)
            denom_src = out
        else:
            denom_src = sq
        if group.get("eps_inside_sqrt", False):
            np.add(denom_src, eps, out=out)
            np.sqrt(out, out=out)
        else:
            np.sqrt(denom_src, out=out)
            np.add(out, eps, out=out)
        np.divide(g, out, out=out)
        mu = group["momentum"]
        if mu > 0:
            buf = state["momentum_buffer"]
            np.multiply(buf, mu, out=buf)
            np.add(buf, out, out=buf)
            np.multiply(buf, group["lr"], out=out)
        else:
            np.multiply(out, group["lr"], out=out)
