"""Callbacks: code that runs at fixed points of :meth:`Trainer.fit` (Keras/Lightning style).

Hooks, each receiving the trainer: ``on_fit_begin``, ``on_epoch_begin(epoch)``,
``on_step_end(step, loss)``, ``on_epoch_end(epoch, logs)``, ``on_fit_end``. A callback stops
training by setting ``trainer.stop_training = True``. The trainer calls ``on_step_end`` only for
callbacks that override it, so a callback that works per epoch costs nothing per step.

Callbacks with state (early stopping's patience counter, a scheduler) implement
``state_dict``/``load_state_dict``; the trainer saves it in every checkpoint so resuming is exact.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

from groundup.errors import hint

__all__ = [
    "Callback",
    "CSVLogger",
    "EarlyStopping",
    "JSONLogger",
    "LRScheduler",
    "ModelCheckpoint",
    "ProgressBar",
]


class Callback:
    """Base class; override the hooks you need."""

    def on_fit_begin(self, trainer) -> None:
        pass

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        pass

    def on_step_end(self, trainer, step: int, loss: float) -> None:
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        pass

    def on_fit_end(self, trainer) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _resolve_mode(monitor: str, mode: str) -> str:
    if mode == "auto":
        return "max" if "acc" in monitor or monitor.endswith(("f1", "auc")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(hint(f"mode must be 'min', 'max' or 'auto', got {mode!r}",
                              "'min' for losses, 'max' for accuracies"))
    return mode


def _improved(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    if value is None or math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(logs: dict, monitor: str, owner: str):
    if monitor not in logs:
        raise KeyError(hint(f"{owner}: metric {monitor!r} is not in this epoch's logs "
                            f"{sorted(logs)}",
                            "pass a val_loader to fit() for val_* metrics, or monitor 'loss'"))
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode``: "min", "max" or "auto" (max for accuracies). With ``restore_best`` the model's weights
    are set back to those of the best epoch when training stops (kept in memory as a copy).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = False) -> None:
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = _resolve_mode(monitor, mode)
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_weights: dict | None = None

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best:
                self._best_weights = {k: np.array(v.data, copy=True)
                                      for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.restore_best and self._best_weights is not None:
                trainer.model.load_state_dict(self._best_weights)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]


class LRScheduler(Callback):
    """Step a learning-rate scheduler every optimisation step (``interval="step"``: cosine,
    one-cycle) or every epoch (``"epoch"``). ``ReduceLROnPlateau`` is stepped each epoch with the
    value of ``monitor`` (default ``val_loss``, or ``loss`` without validation)."""

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("step", "epoch"):
            raise ValueError(hint(f"LRScheduler: interval must be 'step' or 'epoch', got "
                                  f"{interval!r}", "'step' for cosine/one-cycle over all steps"))
        self.scheduler = scheduler
        self.monitor = monitor
        self.plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
        self.interval = "epoch" if self.plateau else interval
        if self.interval == "step":
            self.on_step_end = self._step  # only per-step schedulers pay the per-step call

    def _step(self, trainer, step, loss):
        self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.interval != "epoch":
            return
        if self.plateau:
            key = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()

    def state_dict(self):
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state["scheduler"])


class ModelCheckpoint(Callback):
    """Save at the end of each epoch: the full training checkpoint (``last``, for resuming) to
    ``dirpath/checkpoint.{safetensors,json}`` and, with ``save_best``, the weights of the best epoch
    by ``monitor`` to ``dirpath/best.safetensors``."""

    def __init__(self, dirpath: str | os.PathLike, monitor: str = "val_loss", mode: str = "auto",
                 save_last: bool = True, save_best: bool = True) -> None:
        self.dirpath = Path(dirpath)
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.save_last = save_last
        self.save_best = save_best
        self.best: float | None = None

    @property
    def checkpoint_path(self) -> Path:
        return self.dirpath / "checkpoint"

    def on_epoch_end(self, trainer, epoch, logs):
        from groundup.train.checkpoint import save_weights

        if self.save_best:
            value = logs.get(self.monitor, logs.get("loss"))
            if _improved(value, self.best, self.mode, 0.0):
                self.best = float(value)
                save_weights(trainer.model, self.dirpath / "best.safetensors",
                             metadata={"epoch": epoch + 1, self.monitor: value})
        if self.save_last:
            # Saved after `best` is updated so the checkpoint carries the new best value.
            trainer.save_checkpoint(self.checkpoint_path)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]


class CSVLogger(Callback):
    """Rewrite ``path`` with the epoch table (``history.csv``) after every epoch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def on_epoch_end(self, trainer, epoch, logs):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        trainer.history.to_csv(self.path)


class JSONLogger(Callback):
    """Rewrite ``path`` with ``{"epochs": [...], "diagnostics": [...]}`` after every epoch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def on_epoch_end(self, trainer, epoch, logs):
        from groundup.train.checkpoint import atomic_write_json

        atomic_write_json(self.path, {"epochs": trainer.history.epochs,
                                      "diagnostics": trainer.history.diagnostics})


class ProgressBar(Callback):
    """A tqdm bar per epoch with the running loss, rate and ETA (on ``file``, stderr), and a
    table with one row per epoch (on ``table_file``, stdout).

    ``enabled=None`` shows the bar only when ``file`` is a terminal (or in a notebook, where tqdm
    draws a widget); ``quiet=True`` prints nothing at all. The bar is refreshed every
    ``refresh_steps`` steps (default: about 50 times per epoch) so its cost per step is a counter
    increment.
    """

    def __init__(self, enabled: bool | None = None, quiet: bool = False, file=None,
                 refresh_steps: int | None = None, print_epochs: bool = True,
                 table_file=None) -> None:
        self.file = file if file is not None else sys.stderr
        self.table_file = table_file  # None: sys.stdout at print time (works with capture)
        self._header_printed = False
        self.quiet = quiet
        self.enabled = (not quiet) and (enabled if enabled is not None else self._is_tty())
        self.refresh_steps = refresh_steps
        self.print_epochs = print_epochs and not quiet
        self._bar = None
        self._pending = 0
        self._every = 1

    def _is_tty(self) -> bool:
        try:
            return self.file.isatty()
        except (AttributeError, ValueError):
            return False

    def on_epoch_begin(self, trainer, epoch):
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is a dependency; without it the bar is simply off
            self.enabled = False
            return
        total = trainer.steps_per_epoch
        self._every = self.refresh_steps or max(1, (total or 1000) // 50)
        self._pending = 0
        self._bar = tqdm(total=total, initial=trainer.batches_done_in_epoch,
                         desc=f"epoch {epoch + 1}/{trainer.epochs}", unit="step",
                         file=self.file, leave=False, dynamic_ncols=True, mininterval=0.25)

    def on_step_end(self, trainer, step, loss):
        if self._bar is None:
            return
        self._pending += 1
        if self._pending >= self._every:
            self._bar.update(self._pending)
            self._bar.set_postfix_str(f"loss={loss:.4f}", refresh=False)
            self._pending = 0

    def _close(self):
        if self._bar is not None:
            self._bar.update(self._pending)
            self._bar.close()
            self._bar = None

    def on_epoch_end(self, trainer, epoch, logs):
        self._close()
        if self.print_epochs:
            out = self.table_file if self.table_file is not None else sys.stdout
            if not self._header_printed:
                print(format_epoch_header(logs), file=out)
                self._header_printed = True
            print(format_epoch_line(logs, trainer.epochs), file=out, flush=True)

    def on_fit_end(self, trainer):
        self._close()


_COLUMNS = (("epoch", "epoch", 7), ("loss", "train loss", 10), ("accuracy", "train acc", 9),
            ("val_loss", "val loss", 9), ("val_accuracy", "val acc", 8), ("lr", "lr", 9),
            ("seconds", "time", 7))


def format_epoch_header(logs: dict) -> str:
    """The header of the per-epoch table, with the columns present in ``logs``."""
    return "  ".join(f"{title:<{width}}" for key, title, width in _COLUMNS if key in logs).rstrip()


def format_epoch_line(logs: dict, epochs: int | None = None) -> str:
    """One row of the per-epoch table: ``2/5      0.1234      96.12%     0.0950     97.10% ...``."""
    cells = []
    for key, _, width in _COLUMNS:
        if key not in logs:
            continue
        value = logs[key]
        if key == "epoch":
            text = f"{value}/{epochs}" if epochs else str(value)
        elif value is None:
            text = "-"
        elif "accuracy" in key:
            text = f"{value * 100:.2f}%"
        elif key == "lr":
            text = f"{value:.2e}"
        elif key == "seconds":
            text = f"{value:.1f} s"
        else:
            text = f"{value:.4f}"
        cells.append(f"{text:<{width}}")
    return "  ".join(cells).rstrip()
