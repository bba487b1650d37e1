"""``History``: what happened during training, per epoch and per step (Keras' ``History``).

``history.epochs`` is a list of dicts, one per finished epoch, e.g. ``{"epoch": 1, "loss": 0.27,
"accuracy": 0.92, "val_loss": 0.13, "val_accuracy": 0.96, "lr": 0.00098, "seconds": 2.4}``.
``history.steps`` holds the per-step training loss and learning rate in growing NumPy buffers (one
float each per step, no Python object per step), plus sparse diagnostic records
(``history.diagnostics``: gradient norms, dead-ReLU fractions) taken every few steps.

Everything is JSON-serialisable (``state_dict``/``load_state_dict``) so a checkpoint carries it, and
``to_csv`` writes the epoch table.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

__all__ = ["History"]


class _StepLog:
    """Per-step float series (loss, lr) in an amortised-growth NumPy buffer."""

    __slots__ = ("_loss", "_lr", "size")

    def __init__(self, capacity: int = 1024) -> None:
        self._loss = np.empty(capacity, dtype=np.float64)
        self._lr = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def append(self, loss: float, lr: float) -> None:
        if self.size == len(self._loss):  # double the buffers: O(1) amortised per step
            self._loss = np.concatenate([self._loss, np.empty_like(self._loss)])
            self._lr = np.concatenate([self._lr, np.empty_like(self._lr)])
        self._loss[self.size] = loss
        self._lr[self.size] = lr
        self.size += 1

    @property
    def loss(self) -> np.ndarray:
        return self._loss[: self.size]

    @property
    def lr(self) -> np.ndarray:
        return self._lr[: self.size]

    def __len__(self) -> int:
        return self.size


class History:
    """Per-epoch metrics (``epochs``), per-step loss and learning rate (``steps.loss``,
    ``steps.lr``) and sparse per-step diagnostics (``diagnostics``)."""

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self.steps = _StepLog()
        self.diagnostics: list[dict] = []

    # ------------------------------------------------------------------ access
    def __getitem__(self, key: str) -> list:
        """The series of one epoch metric: ``history["val_accuracy"]`` -> ``[0.95, 0.97, ...]``
        (``None`` for epochs that did not record it)."""
        if not any(key in e for e in self.epochs):
            known = sorted({k for e in self.epochs for k in e})
            raise KeyError(f"History has no metric {key!r}; recorded: {known}")
        return [e.get(key) for e in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    @property
    def metric_names(self) -> list[str]:
        """Every key recorded in some epoch, in first-seen order."""
        names: list[str] = []
        for e in self.epochs:
            names.extend(k for k in e if k not in names)
        return names

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict | None:
        """The epoch record with the lowest (``mode="min"``) or highest value of ``monitor``."""
        rows = [e for e in self.epochs if e.get(monitor) is not None
                and not math.isnan(e[monitor])]
        if not rows:
            return None
        pick = min if mode == "min" else max
        return pick(rows, key=lambda e: e[monitor])

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epochs)}, steps={len(self.steps)})"

    # ------------------------------------------------------------------ files
    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the epoch table (one row per epoch, one column per metric)."""
        names = self.metric_names
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=names)
            writer.writeheader()
            for e in self.epochs:
                writer.writerow({k: e.get(k, "") for k in names})

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """A JSON-serialisable copy: epochs, per-step loss/lr lists and diagnostics."""
        return {
            "epochs": [dict(e) for e in self.epochs],
            "step_loss": self.steps.loss.tolist(),
            "step_lr": self.steps.lr.tolist(),
            "diagnostics": [dict(d) for d in self.diagnostics],
        }

    def load_state_dict(self, state: dict) -> None:
        self.epochs = [dict(e) for e in state.get("epochs", [])]
        losses, lrs = state.get("step_loss", []), state.get("step_lr", [])
        self.steps = _StepLog(max(1024, len(losses)))
        for loss, lr in zip(losses, lrs):
            self.steps.append(loss, lr)
        self.diagnostics = [dict(d) for d in state.get("diagnostics", [])]

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        history = cls()
        history.load_state_dict(state)
        return history
