"""groundup.train: the training loop (``Trainer``), its callbacks, checkpoint files and diagnostics.

- :class:`Trainer` with ``fit``/``evaluate``/``predict``, exact resume and Ctrl-C checkpoints;
- callbacks: :class:`ProgressBar`, :class:`EarlyStopping`, :class:`ModelCheckpoint`,
  :class:`LRScheduler`, :class:`CSVLogger`, :class:`JSONLogger`;
- files: :func:`save_weights`/:func:`load_weights` (safetensors),
  :func:`save_checkpoint`/:func:`load_checkpoint` (safetensors + JSON, written atomically);
- diagnostics: :func:`grad_norms`, :class:`DeadReLUMonitor`, :class:`TrainingDivergedError`;
- :class:`History`: per-epoch and per-step records.
"""

from groundup.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    LRScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from groundup.train.checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from groundup.train.diagnostics import (
    DeadReLUMonitor,
    TrainingDivergedError,
    explain_nonfinite,
    grad_norms,
)
from groundup.train.history import History
from groundup.train.trainer import Trainer, TrainingInterrupted

__all__ = [
    "CSVLogger",
    "Callback",
    "DeadReLUMonitor",
    "EarlyStopping",
    "History",
    "JSONLogger",
    "LRScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "Trainer",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "explain_nonfinite",
    "grad_norms",
    "load_checkpoint",
    "load_weights",
    "save_checkpoint",
    "save_weights",
]
