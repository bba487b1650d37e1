"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np

from groundup.optim.optimizer import Optimizer, OptimizerError, _check_nonneg, hint

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    With gradient :math:`g_t` (negated when ``maximize``), learning rate :math:`\eta`, momentum
    :math:`\mu`, dampening :math:`\tau` and weight decay :math:`\lambda`, one step is::

        g   <- g_t + λ θ                                   (if weight_decay)
        b_1 =  g            (first step)                   (if momentum)
        b_t =  μ b_{t-1} + (1 - τ) g                       (later steps)
        g   <- g + μ b_t  (nesterov)   or   g <- b_t
        θ   <- θ - η g

    Without momentum this is plain gradient descent, :math:`\theta \leftarrow \theta - \eta g`.

    **Two momentum conventions.** PyTorch's form above (``v_t = βv_{t-1} + g``, ``θ -= ηv_t``) is the
    one the workshop and the primer's §5.4 write. The primer's Q5.2 writes the exponential moving
    average ``v_t = βv_{t-1} + (1-β)g_t`` with ``v_0 = 0``; pass ``ema=True`` to get it (then
    ``v_1 = (1-β)g_1``; ``dampening=β`` alone differs in the first step, where PyTorch copies
    ``g_1``). The EMA form is the momentum form scaled by ``(1-β)``: same path with a learning rate
    ``η/(1-β)``.

    Args:
        params: parameters (iterable of tensors) or parameter groups (dicts).
        lr: learning rate :math:`\eta` (default 1e-3).
        momentum: :math:`\mu` (default 0).
        dampening: :math:`\tau` (default 0).
        weight_decay: L2 penalty :math:`\lambda` added to the gradient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: maximize the objective instead of minimizing it.
        foreach: ``None``/``True`` use the flat single-buffer path when possible; ``False`` always
            updates parameter by parameter (same results).
        ema: the course's EMA momentum form (see above).
    """

    _lazy_state = ("momentum_buffer",)
    _has_step = False

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, ema=False) -> None:
        for key, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            _check_nonneg("SGD", key, value)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise OptimizerError(hint(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}",
                "pass momentum=0.9 (and no dampening) with nesterov=True"))
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, ema=ema)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_nonneg("SGD", "momentum", group["momentum"])

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] else ()

    def _init_state(self, p, group):
        return {}

    def _kernel(self, group, step, g, state, out, fresh=False):
        lr = group["lr"]
        mu = group["momentum"]
        if not mu:
            np.multiply(g, lr, out=out)
            return
        buf = state["momentum_buffer"]
        if group.get("ema", False):
            # b_t = μ b_{t-1} + (1-μ) g, b_0 = 0
            if fresh:
                np.multiply(g, 1 - mu, out=buf)
            else:
                np.multiply(buf, mu, out=buf)
                np.multiply(g, 1 - mu, out=out)
                np.add(buf, out, out=buf)
        elif fresh:
            np.copyto(buf, g)
        else:
            np.multiply(buf, mu, out=buf)
            damp = group["dampening"]
            if damp:
                np.multiply(g, 1 - damp, out=out)
                np.add(buf, out, out=buf)
            else:
                np.add(buf, g, out=buf)
        if group["nesterov"]:
            np.multiply(buf, mu, out=out)
            np.add(g, out, out=out)
            np.multiply(out, lr, out=out)
        else:
            np.multiply(buf, lr, out=out)
