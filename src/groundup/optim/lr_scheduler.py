"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``, same names, same numbers).

A scheduler changes ``group["lr"]`` of its optimizer's parameter groups. Call ``scheduler.step()`` once
per epoch (or per batch for ``CyclicLR``/``OneCycleLR``), *after* ``optimizer.step()``::

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        train_one_epoch(model, opt)
        sched.step()

Building a scheduler sets the learning rate for epoch 0 (``last_epoch`` becomes 0); ``get_last_lr()``
returns the learning rates it set last. Like PyTorch, most schedules are computed *recursively*
(each lr from the previous one, so that schedules can be chained on one optimizer) and reproduce
PyTorch's sequences to the last bit; ``step(epoch)`` uses the closed form where there is one.

``state_dict()`` is JSON-serialisable (plain numbers, lists, dicts, strings; ``inf`` as a float);
user functions (``lr_lambda``, ``scale_fn``) are not saved, like PyTorch: only the ``__dict__`` of a
callable object is.
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right

from groundup.errors import hint
from groundup.optim.optimizer import Optimizer, OptimizerError

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR",
    "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "OneCycleLR",
    "CosineAnnealingWarmRestarts",
]


class SchedulerError(OptimizerError):
    """Bad scheduler arguments."""


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(hint(f"{name}: {type(optimizer).__name__} is not an Optimizer",
                             f"pass the optimizer first: {name}(optimizer, ...)"))


def _format_param(name: str, optimizer, param) -> list:
    """A per-group value: a scalar repeated for each group, or a list with one value per group."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise SchedulerError(hint(
                f"{name} has {len(param)} values but the optimizer has "
                f"{len(optimizer.param_groups)} parameter groups",
                "give one value per parameter group, or a single value for all"))
        return list(param)
    return [param] * len(optimizer.param_groups)


def _lrs(optimizer) -> list:
    return [group["lr"] for group in optimizer.param_groups]


class LRScheduler:
    """Base class: subclasses define ``get_lr()`` (the recursive form, from the current lrs) and
    optionally ``_get_closed_form_lr()`` (the lr as a function of ``last_epoch``)."""

    _exclude_from_state: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise SchedulerError(hint(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr' while "
                        f"resuming with last_epoch={last_epoch}",
                        "load the optimizer's state_dict first, or build the scheduler with "
                        "last_epoch=-1 and load its state_dict"))
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    # ------------------------------------------------------------------ API
    def get_last_lr(self) -> list[float]:
        """The learning rates (one per group) set by the last ``step()``."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, using the closed form) and set the lrs."""
        if self._step_count == 1 and not self._is_initial \
                and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                f"{type(self).__name__}.step() was called before optimizer.step(); call "
                "optimizer.step() first, or the first value of the schedule is skipped",
                UserWarning, stacklevel=2)
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The scheduler's state as a JSON-serialisable dict (everything but the optimizer)."""
        return {k: _plain(v) for k, v in self.__dict__.items()
                if k not in self._exclude_from_state}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _plain(value):
    """A copy of ``value`` made of lists/dicts/numbers (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _lambdas_state(lambdas) -> list:
    return [None if isinstance(fn, types.FunctionType) else dict(getattr(fn, "__dict__", {}))
            for fn in lambdas]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; one function, or one per parameter group.

    Example: linear warmup over 10 epochs, ``LambdaLR(opt, lambda e: min(1.0, (e + 1) / 10))``.
    """

    _exclude_from_state = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1) -> None:
        _check_optimizer("LambdaLR", optimizer)
        self.optimizer = optimizer
        self.lr_lambdas = _format_param("lr_lambda", optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(hint(f"LambdaLR: lr_lambda should be a function, got "
                                     f"{type(fn).__name__}", "pass e.g. lambda epoch: 0.95 ** epoch"))
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["lr_lambdas"] = _lambdas_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(LambdaLR):
    """``lr_t = lr_{t-1} * lr_lambda(t)`` (the factor multiplies the current lr)."""

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``: decay by ``gamma`` every ``step_size``
    epochs (the workshop's step decay :math:`\\eta_0 \\gamma^{\\lfloor t/s \\rfloor}`)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise SchedulerError(hint(f"StepLR: step_size must be a positive int, got "
                                      f"{step_size!r}", "pass step_size=10 to decay every 10 "
                                      "epochs"))
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return _lrs(self.optimizer)
        return [group["lr"] * self.gamma ** hits for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** bisect_right(self.milestones, self.last_epoch)
                for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """``lr = base_lr * factor`` for the first ``total_iters`` epochs, then ``base_lr``."""

    def __init__(self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        if factor > 1.0 or factor < 0:
            raise SchedulerError(hint(f"ConstantLR: factor must be in [0, 1], got {factor}",
                                      "pass e.g. factor=0.5"))
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _lrs(self.optimizer)
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warmup (or decay) of the factor from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs: ``lr = base_lr * (s + (e - s) * min(epoch, T) / T)``."""

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if start_factor > 1.0 or start_factor <= 0:
            raise SchedulerError(hint(f"LinearLR: start_factor must be in (0, 1], got "
                                      f"{start_factor}", "pass e.g. start_factor=0.1"))
        if end_factor > 1.0 or end_factor < 0:
            raise SchedulerError(hint(f"LinearLR: end_factor must be in [0, 1], got "
                                      f"{end_factor}", "pass e.g. end_factor=1.0"))
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * (self.start_factor + (self.end_factor - self.start_factor)
                        * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch`` (the workshop's :math:`\\eta_0 e^{-\\lambda t}` with
    ``gamma = exp(-λ)``)."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = base_lr * (1 - min(epoch, T) / T) ** power``."""

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_max`` epochs:

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi t / T_{max}))

    (the course's formula; that is the closed form, used by ``step(epoch)``). ``step()`` uses
    PyTorch's recursive form, which agrees with it while nothing else changes the lr and, like
    PyTorch, keeps following the cosine past ``T_max`` (back up towards ``base_lr``).
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        if T_max <= 0:
            raise SchedulerError(hint(f"CosineAnnealingLR: T_max must be positive, got {T_max}",
                                      "pass the number of epochs of the half cosine"))
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        t, T, lo = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        if self._step_count == 1 and t > 0:
            return [lo + (base - lo) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base, group in zip(self.base_lrs, self.optimizer.param_groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (group["lr"] - lo) + lo for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]``, ... (e.g. warmup with
    ``LinearLR`` then ``CosineAnnealingLR``). At a milestone the next scheduler starts from its
    epoch 0."""

    _exclude_from_state = ("optimizer", "_schedulers")

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_optimizer("SequentialLR", optimizer)
        if len(schedulers) < 1:
            raise SchedulerError(hint("SequentialLR got no schedulers",
                                      "pass a list of schedulers"))
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise SchedulerError(hint(
                    f"SequentialLR: schedulers[{i}] is a ReduceLROnPlateau, whose step needs the "
                    "metric", "step ReduceLROnPlateau yourself"))
            if getattr(s, "optimizer", None) is not optimizer:
                raise SchedulerError(hint(
                    f"SequentialLR: schedulers[{i}] ({type(s).__name__}) belongs to another "
                    "optimizer", "build every scheduler on the same optimizer"))
        if len(milestones) != len(schedulers) - 1:
            raise SchedulerError(hint(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} "
                f"milestones, got {len(milestones)}", "milestones are the epochs where the next "
                "scheduler takes over"))
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched) -> None:
        """Undo the initial step each child scheduler took when it was built."""
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        children = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, children):
            s.load_state_dict(sd)


class ChainedScheduler(SequentialLR):
    """Step several schedulers together each epoch (their factors multiply)."""

    def __init__(self, schedulers, optimizer=None):  # noqa: D107
        if len(schedulers) < 1:
            raise SchedulerError(hint("ChainedScheduler got no schedulers",
                                      "pass a list of schedulers"))
        optimizer = optimizer or schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau) or getattr(s, "optimizer", None) is not optimizer:
                raise SchedulerError(hint(
                    f"ChainedScheduler: schedulers[{i}] cannot be chained (ReduceLROnPlateau or "
                    "another optimizer)", "chain schedulers of one optimizer"))
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _lrs(optimizer)

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = _lrs(self.optimizer)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when the metric passed to ``step(metric)`` has not improved for
    ``patience`` epochs (improved = below ``best * (1 - threshold)`` in ``"min"``/``"rel"`` mode),
    then wait ``cooldown`` epochs; never below ``min_lr``."""

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr=0, eps: float = 1e-8):
        if factor >= 1.0:
            raise SchedulerError(hint(f"ReduceLROnPlateau: factor must be < 1, got {factor}",
                                      "pass e.g. factor=0.1 (the lr is multiplied by it)"))
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if mode not in ("min", "max"):
            raise SchedulerError(hint(f"ReduceLROnPlateau: mode {mode!r} is unknown",
                                      "use 'min' (loss) or 'max' (accuracy)"))
        if threshold_mode not in ("rel", "abs"):
            raise SchedulerError(hint(f"ReduceLROnPlateau: threshold_mode {threshold_mode!r} is "
                                      "unknown", "use 'rel' or 'abs'"))
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _format_param("min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _lrs(optimizer)
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None) -> None:  # type: ignore[override]
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _reduce_lr(self) -> None:
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise SchedulerError(hint(
                    f"ReduceLROnPlateau: the optimizer now has {len(self.optimizer.param_groups)} "
                    f"parameter groups but min_lr has {len(self.min_lrs)} values",
                    "set scheduler.min_lrs to one value per group"))
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                group["lr"] = new

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold


class CyclicLR(LRScheduler):
    """Cyclical learning rate (Smith 2017), stepped every batch: the lr goes linearly from
    ``base_lr`` up to ``max_lr`` over ``step_size_up`` steps and back down over ``step_size_down``;
    ``mode`` scales the amplitude per cycle (``"triangular"``: 1, ``"triangular2"``: halves each
    cycle, ``"exp_range"``: ``gamma ** iteration``). With ``cycle_momentum`` the momentum (or Adam's
    β1) moves inversely between ``max_momentum`` and ``base_momentum``."""

    _exclude_from_state = ("optimizer", "_scale_fn_ref", "_scale_fn_custom")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn=None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float = 0.8, max_momentum: float = 0.9, last_epoch: int = -1):
        _check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise SchedulerError(hint(f"CyclicLR: mode {mode!r} is unknown and no scale_fn given",
                                      "use 'triangular', 'triangular2' or 'exp_range'"))
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise SchedulerError(hint(
                    f"CyclicLR: {type(optimizer).__name__} has no momentum or betas to cycle",
                    "pass cycle_momentum=False"))
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _format_param("base_momentum", optimizer, base_momentum)
            self.max_momentums = _format_param("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(self.max_momentums, self.base_momentums,
                                                optimizer.param_groups):
                    _set_momentum(group, m_max, self.use_beta1)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = _triangular
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = _triangular2
            self.scale_mode = "cycle"
        else:
            gamma = self.gamma
            self._scale_fn_ref = lambda x: gamma ** x
            self.scale_mode = "iterations"

    def scale_fn(self, x) -> float:
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        arg = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + ((top - base) * scale_factor) * self.scale_fn(arg)
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, m_base, m_max in zip(self.optimizer.param_groups, self.base_momentums,
                                            self.max_momentums):
                momentum = m_max - ((m_max - m_base) * scale_factor) * self.scale_fn(arg)
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self) -> dict:
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                     else dict(getattr(fn, "__dict__", {})))
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if fn_state is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()


def _triangular(x: float) -> float:
    return 1.0


def _triangular2(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def _set_momentum(group: dict, value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped every batch: the lr rises from
    ``max_lr/div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps`` and anneals
    (cosine or linear) down to ``initial_lr/final_div_factor``; momentum moves the opposite way.
    ``three_phase=True`` adds a symmetric decrease before the final annealing."""

    def __init__(self, optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        _check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise SchedulerError(hint(f"OneCycleLR: total_steps must be a positive int, got "
                                          f"{total_steps!r}", "pass the number of batches"))
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0 or not isinstance(steps_per_epoch, int) \
                    or steps_per_epoch <= 0:
                raise SchedulerError(hint(
                    f"OneCycleLR: epochs and steps_per_epoch must be positive ints, got "
                    f"{epochs!r} and {steps_per_epoch!r}", "pass e.g. epochs=10, "
                    "steps_per_epoch=len(loader)"))
            self.total_steps = epochs * steps_per_epoch
        else:
            raise SchedulerError(hint("OneCycleLR: give total_steps, or epochs and "
                                      "steps_per_epoch", "pass total_steps=epochs*len(loader)"))
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise SchedulerError(hint(f"OneCycleLR: pct_start must be a float in [0, 1], got "
                                      f"{pct_start!r}", "pass e.g. pct_start=0.3"))
        if anneal_strategy not in ("cos", "linear"):
            raise SchedulerError(hint(f"OneCycleLR: anneal_strategy {anneal_strategy!r} is "
                                      "unknown", "use 'cos' or 'linear'"))
        self._anneal_func_type = anneal_strategy
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum",
                 "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * n) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum",
                 "end_momentum": "max_momentum"},
                {"end_step": n - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum",
                 "end_momentum": "base_momentum"},
                {"end_step": n - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for m, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise SchedulerError(hint(
                    f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle",
                    "pass cycle_momentum=False"))
            self.use_beta1 = "betas" in optimizer.defaults
            m_maxs = _format_param("max_momentum", optimizer, max_momentum)
            m_bases = _format_param("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(m_maxs, m_bases, optimizer.param_groups):
                    _set_momentum(group, m_max, self.use_beta1)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise SchedulerError(hint(
                f"OneCycleLR: stepped {step} times but total_steps is {self.total_steps}",
                "step once per batch and set total_steps = epochs * batches per epoch"))
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]],
                                                group[phase["end_momentum"]], pct)
                    break
                start = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, momentum, self.use_beta1)
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR (Loshchilov & Hutter): cosine annealing restarted every :math:`T_i` epochs,
    :math:`T_0, T_0 T_{mult}, T_0 T_{mult}^2, \dots`:

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur}/T_i))

    ``step(epoch)`` accepts fractional epochs (step per batch with ``epoch + i / iters``).
    """

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise SchedulerError(hint(f"CosineAnnealingWarmRestarts: T_0 must be a positive int, "
                                      f"got {T_0!r}", "pass the length of the first cycle"))
        if not isinstance(T_mult, int) or T_mult < 1:
            raise SchedulerError(hint(f"CosineAnnealingWarmRestarts: T_mult must be an int >= 1, "
                                      f"got {T_mult!r}", "pass 1 (equal cycles) or 2 (doubling)"))
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i))
                / 2 for base in self.base_lrs]

    def step(self, epoch=None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise SchedulerError(hint(f"CosineAnnealingWarmRestarts: epoch must be >= 0, got "
                                          f"{epoch}", "pass a non-negative epoch"))
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)
