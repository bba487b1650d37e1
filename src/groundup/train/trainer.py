"""``Trainer``: the training loop of the course, written once and correctly.

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                      scheduler=CosineAnnealingLR(opt, T_max=epochs * len(loader)),
                      scheduler_interval="step")
    history = trainer.fit(train_loader, val_loader, epochs=5)
    trainer.evaluate(test_loader)        # {"loss": ..., "accuracy": ...}

What it guarantees:

- ``model.train()`` before each training epoch, ``model.eval()`` and ``no_grad`` for evaluation
  (the previous mode is restored afterwards): the "forgot model.eval()" bug cannot happen.
- The step loop does no per-sample Python work and no avoidable allocation: one ``float()`` of
  the loss per step (to detect NaN/inf immediately and to log it), an ``argmax`` on the logits
  for the running accuracy, callbacks only if they override ``on_step_end``.
- NaN/inf loss stops training with :class:`TrainingDivergedError` naming the step, the learning
  rate, the likely cause and a fix. Every ``diagnostics_every`` steps the per-layer gradient norms,
  dead-ReLU fractions and learning rate go into ``history.diagnostics``.
- Checkpoints (:meth:`save_checkpoint` / :meth:`load_checkpoint`) hold the model, the optimizer,
  callbacks (scheduler, early stopping), the history, the position inside the epoch (the
  DataLoader's ``state_dict``), the running sums of the epoch, and the state of every random
  generator (the global one, the loaders', and any ``generator`` attribute of the model's
  modules, e.g. dropout's). Training N epochs straight, or k epochs then resuming from a checkpoint
  for N − k, gives bit-identical weights, including when the stop was in the middle of an epoch.
- SIGINT (Ctrl-C) and SIGTERM during ``fit`` finish the current step, save a checkpoint (when
  ``checkpoint_path`` is set) and raise :class:`TrainingInterrupted`, whose message says how to
  resume. A second Ctrl-C aborts at once.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from pathlib import Path

import numpy as np

from groundup.autograd.grad_mode import no_grad
from groundup.errors import CheckpointError, GroundupError, hint
from groundup.train.callbacks import Callback, LRScheduler, ProgressBar
from groundup.train.checkpoint import (
    load_checkpoint,
    pack_optimizer_state,
    save_checkpoint,
    split_arrays,
    unpack_optimizer_state,
    validate_model_arrays,
)
from groundup.train.diagnostics import (
    DeadReLUMonitor,
    TrainingDivergedError,
    explain_nonfinite,
    grad_norms,
)
from groundup.train.history import History

__all__ = ["Trainer", "TrainingInterrupted"]


class TrainingInterrupted(GroundupError, KeyboardInterrupt):
    """Training stopped on SIGINT/SIGTERM. ``checkpoint`` is where the state was saved (or None),
    ``signal_number`` which signal arrived."""

    def __init__(self, message: str, checkpoint: Path | None, signal_number: int) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.signal_number = signal_number


def _split_batch(batch):
    """``(inputs, targets)`` of a batch: a pair, or inputs alone (targets None)."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
    return batch, None


def _array(x) -> np.ndarray:
    return x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)


def _as_tensor(x):
    from groundup.tensor import Tensor

    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


class _Generators:
    """Every random generator whose state decides the course of training, by name."""

    def __init__(self, model, loaders, extra: dict | None) -> None:
        from groundup.random import Generator, default_generator

        self.items: dict[str, object] = {"global": default_generator}
        seen = {id(default_generator), id(default_generator.numpy)}
        for name, module in model.named_modules():
            gen = getattr(module, "generator", None)
            if isinstance(gen, (Generator, np.random.Generator)) and id(gen) not in seen:
                self.items[f"model.{name or 'root'}"] = gen
                seen.add(id(gen))
                if isinstance(gen, Generator):
                    seen.add(id(gen.numpy))
        for name, gen in (extra or {}).items():
            if id(gen) not in seen:
                self.items[name] = gen
                seen.add(id(gen))
        # Loaders' generators travel inside their own state_dict (with the epoch position).
        self.loader_ids = {id(getattr(loader, "generator", None)) for loader in loaders}

    @staticmethod
    def _state(gen) -> dict:
        return gen.get_state() if hasattr(gen, "get_state") else gen.bit_generator.state

    @staticmethod
    def _set(gen, state) -> None:
        if hasattr(gen, "set_state"):
            gen.set_state(state)
        else:
            gen.bit_generator.state = state

    def state_dict(self) -> dict:
        return {name: self._state(gen) for name, gen in self.items.items()}

    def check(self, states: dict) -> list[str]:
        return [f"generator {name!r} is in the checkpoint but not in this setup"
                for name in states if name not in self.items]

    def load_state_dict(self, states: dict) -> None:
        for name, state in states.items():
            self._set(self.items[name], state)


class Trainer:
    """Fits a model with a loss and an optimizer; evaluates and predicts.

    Args:
        model: a ``Module`` returning predictions (logits for classification).
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar Tensor (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: a ``groundup.optim`` optimizer over the model's parameters.
        scheduler: an ``optim.lr_scheduler`` scheduler, stepped every step or every epoch according
            to ``scheduler_interval`` ("step" or "epoch"; ``ReduceLROnPlateau`` always per epoch,
            on ``val_loss``).
        metrics: ``("accuracy",)`` computes accuracy from the argmax of the outputs (classification);
            ``()`` for regression.
        callbacks: :class:`~groundup.train.callbacks.Callback` objects.
        progress: ``True``/``False``/``None`` (a bar only on a terminal); ``"quiet"`` prints nothing.
            Ignored when ``callbacks`` already contains a ``ProgressBar``.
        diagnostics_every: record gradient norms, dead-ReLU fractions and the lr every this many
            steps (0: never).
        checkpoint_path: where SIGINT/SIGTERM save a checkpoint (``PATH.safetensors``/``.json``).
        generators: extra named generators whose state checkpoints must carry (the global one,
            the loaders' and those stored on the model's modules are found automatically).
        config: a JSON-serialisable dict stored in every checkpoint (e.g. the command's options).
        handle_signals: install the SIGINT/SIGTERM handlers during ``fit`` (main thread only).
    """

    def __init__(self, model, loss_fn, optimizer, scheduler=None, metrics=("accuracy",),
                 callbacks=(), scheduler_interval: str = "epoch", progress=None,
                 diagnostics_every: int = 200, checkpoint_path=None, generators=None,
                 config: dict | None = None, handle_signals: bool = True,
                 resume_hint: str | None = None) -> None:
        unknown = [m for m in metrics if m != "accuracy"]
        if unknown:
            raise ValueError(hint(f"Trainer: unknown metrics {unknown}",
                                  "metrics=('accuracy',) for classification or () for regression; "
                                  "compute other metrics on trainer.predict(loader)"))
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metrics = tuple(metrics)
        self.callbacks: list[Callback] = list(callbacks)
        if scheduler is not None:
            self.callbacks.insert(0, LRScheduler(scheduler, scheduler_interval))
        if not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.append(ProgressBar(quiet=progress == "quiet",
                                              enabled=None if progress == "quiet" else progress))
        self.diagnostics_every = int(diagnostics_every)
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.extra_generators = dict(generators or {})
        self.config = dict(config or {})
        self.handle_signals = handle_signals
        self.resume_hint = resume_hint
        self.history = History()
        self.epoch = 0  # epochs finished
        self.step = 0   # optimisation steps taken
        self.epochs = 0  # target of the current fit
        self.stop_training = False
        self.steps_per_epoch: int | None = None
        self.batches_done_in_epoch = 0
        self._epoch_sums = self._fresh_sums()
        self._train_loader = None
        self._pending_loader_state = None
        self._signal: int | None = None

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _fresh_sums() -> dict:
        return {"loss": 0.0, "correct": 0, "count": 0, "batches": 0, "seconds": 0.0}

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _generators(self, loaders=()) -> _Generators:
        return _Generators(self.model, loaders, self.extra_generators)

    # ------------------------------------------------------------------ fit
    def fit(self, train_loader, val_loader=None, epochs: int = 1) -> History:
        """Train until ``epochs`` epochs are done in total (a resumed trainer continues where its
        checkpoint stopped). Returns the :class:`History`."""
        self.epochs = int(epochs)
        self.stop_training = False
        self._train_loader = train_loader
        if self._pending_loader_state is not None:
            train_loader.load_state_dict(self._pending_loader_state)
            self._pending_loader_state = None
        try:
            self.steps_per_epoch = len(train_loader)
        except TypeError:
            self.steps_per_epoch = None
        step_callbacks = [cb for cb in self.callbacks
                          if getattr(type(cb), "on_step_end", None) is not Callback.on_step_end
                          or "on_step_end" in vars(cb)]
        previous_handlers = self._install_signal_handlers()
        try:
            for cb in self.callbacks:
                cb.on_fit_begin(self)
            while self.epoch < self.epochs and not self.stop_training:
                logs = self._train_epoch(train_loader, step_callbacks)
                if val_loader is not None:
                    val = self.evaluate(val_loader)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = self._lr()
                logs["seconds"] = self._epoch_sums["seconds"]
                self.history.epochs.append(logs)
                self.epoch += 1
                self._epoch_sums = self._fresh_sums()
                self.batches_done_in_epoch = 0
                for cb in self.callbacks:
                    cb.on_epoch_end(self, self.epoch - 1, logs)
                if self._signal is not None:  # arrived during the last step or validation
                    self._interrupt()
            for cb in self.callbacks:
                cb.on_fit_end(self)
        finally:
            for cb in self.callbacks:
                if isinstance(cb, ProgressBar):
                    cb._close()
            self._restore_signal_handlers(previous_handlers)
        return self.history

    def _train_epoch(self, loader, step_callbacks) -> dict:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        sums = self._epoch_sums
        want_accuracy = "accuracy" in self.metrics
        diag_every = self.diagnostics_every
        dead_monitor = DeadReLUMonitor(model) if diag_every else None
        history_steps = self.history.steps
        param_groups = optimizer.param_groups
        for cb in self.callbacks:
            cb.on_epoch_begin(self, self.epoch)
        model.train()
        started = time.perf_counter()
        loss_sum, correct, count, batches = sums["loss"], sums["correct"], sums["count"], \
            sums["batches"]
        for batch in loader:
            inputs, targets = _split_batch(batch)
            step = self.step + 1
            diagnose = diag_every and step % diag_every == 0
            if diagnose:
                dead_monitor.arm()
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            loss_value = float(loss.data)
            if not math.isfinite(loss_value):
                if dead_monitor is not None:
                    dead_monitor.disarm()
                raise TrainingDivergedError(
                    explain_nonfinite(model, loss_value, step, param_groups[0]["lr"], inputs),
                    step=step, lr=param_groups[0]["lr"])
            loss.backward()
            if diagnose:
                dead_monitor.disarm()
                self.history.diagnostics.append({
                    "step": step, "epoch": self.epoch + 1, "loss": loss_value,
                    "lr": param_groups[0]["lr"], "grad_norm": grad_norms(model),
                    "dead_relu": dict(dead_monitor.fractions)})
            optimizer.step()
            self.step = step
            n = len(outputs.data)
            loss_sum += loss_value * n
            count += n
            batches += 1
            if want_accuracy:
                correct += int(np.count_nonzero(outputs.data.argmax(axis=1) == _array(targets)))
            history_steps.append(loss_value, param_groups[0]["lr"])
            self.batches_done_in_epoch = batches
            for cb in step_callbacks:
                cb.on_step_end(self, step, loss_value)
            if self._signal is not None and batches != self.steps_per_epoch:
                # Mid-epoch: save the position inside the epoch. After the epoch's last batch
                # the stop waits for the end of the epoch (validation, callbacks), so that the
                # checkpoint is an epoch-boundary one and the epoch is not trained twice.
                sums.update(loss=loss_sum, correct=correct, count=count, batches=batches,
                            seconds=sums["seconds"] + time.perf_counter() - started)
                self._interrupt()
        sums.update(loss=loss_sum, correct=correct, count=count, batches=batches,
                    seconds=sums["seconds"] + time.perf_counter() - started)
        logs = {"epoch": self.epoch + 1, "loss": loss_sum / max(count, 1)}
        if want_accuracy:
            logs["accuracy"] = correct / max(count, 1)
        return logs

    # ------------------------------------------------------------------ evaluation
    def _outputs(self, loader, with_loss: bool):
        """Run the model over ``loader`` in eval mode under no_grad; yields per batch."""
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, targets = _split_batch(batch)
                    outputs = self.model(inputs)
                    loss = float(self.loss_fn(outputs, targets).data) \
                        if with_loss and targets is not None else None
                    yield outputs.data, (None if targets is None else _array(targets)), loss
        finally:
            self.model.train(was_training)

    def evaluate(self, loader) -> dict:
        """Mean loss (and accuracy) over ``loader``, in eval mode, without gradients."""
        loss_sum, correct, count = 0.0, 0, 0
        want_accuracy = "accuracy" in self.metrics
        for outputs, targets, loss in self._outputs(loader, with_loss=True):
            n = len(outputs)
            loss_sum += loss * n
            count += n
            if want_accuracy:
                correct += int(np.count_nonzero(outputs.argmax(axis=1) == targets))
        result = {"loss": loss_sum / max(count, 1)}
        if want_accuracy:
            result["accuracy"] = correct / max(count, 1)
        return result

    def predict(self, loader) -> np.ndarray:
        """The model's outputs (e.g. logits) for every sample of ``loader``, concatenated."""
        chunks = [outputs for outputs, _, _ in self._outputs(loader, with_loss=False)]
        return np.concatenate(chunks) if chunks else np.empty((0,))

    # ------------------------------------------------------------------ signals
    def _install_signal_handlers(self):
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return None
        self._signal = None

        def request_stop(signum, frame):
            if self._signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt  # second Ctrl-C: stop now, without saving
            self._signal = signum

        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.getsignal(sig)
            signal.signal(sig, request_stop)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous) -> None:
        if previous:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _interrupt(self):
        signum, self._signal = self._signal, None
        name = signal.Signals(signum).name
        where = f"epoch {self.epoch + 1}, step {self.step}"
        if self.checkpoint_path is None:
            raise TrainingInterrupted(f"training stopped by {name} at {where} (no checkpoint_path, "
                                      "nothing saved)", None, signum)
        self.save_checkpoint(self.checkpoint_path)
        resume = self.resume_hint or f"Trainer.load_checkpoint('{self.checkpoint_path}')"
        raise TrainingInterrupted(f"training stopped by {name} at {where}; checkpoint saved to "
                                  f"{self.checkpoint_path}.json; resume with: {resume}",
                                  self.checkpoint_path, signum)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> tuple[dict, dict]:
        """``(arrays, meta)``: everything a checkpoint holds (see the module docstring)."""
        arrays = {f"model/{k}": np.array(v.data, copy=True)
                  for k, v in self.model.state_dict().items()}
        optim_arrays, optim_meta = pack_optimizer_state(self.optimizer.state_dict())
        arrays.update({f"optimizer/{k}": v for k, v in optim_arrays.items()})
        loader = self._train_loader
        meta = {
            "model_class": type(self.model).__name__,
            "optimizer_class": type(self.optimizer).__name__,
            "epoch": self.epoch,
            "step": self.step,
            "epochs": self.epochs,
            "epoch_sums": dict(self._epoch_sums),
            "loader": loader.state_dict() if loader is not None and hasattr(loader, "state_dict")
            else None,
            "optimizer": optim_meta,
            "callbacks": {f"{i}:{type(cb).__name__}": cb.state_dict()
                          for i, cb in enumerate(self.callbacks)},
            "rng": self._generators([loader] if loader is not None else []).state_dict(),
            "history": self.history.state_dict(),
            "config": self.config,
        }
        return arrays, meta

    def save_checkpoint(self, path) -> Path:
        """Write a checkpoint to ``PATH.safetensors`` + ``PATH.json`` (atomically); returns PATH."""
        arrays, meta = self.state_dict()
        save_checkpoint(path, arrays, meta)
        return Path(path)

    def load_checkpoint(self, path, train_loader=None) -> dict:
        """Restore a checkpoint written by :meth:`save_checkpoint` into this trainer (same model
        class, optimizer, callbacks). Everything is checked before anything changes; a mismatch
        raises :class:`CheckpointError` saying what differs. The DataLoader position is applied to
        ``train_loader`` now, or to the loader passed to the next ``fit``. Returns the JSON part."""
        arrays, meta = load_checkpoint(path)
        model_state, optim_arrays = split_arrays(arrays)
        source = f"checkpoint {path}"
        if meta.get("model_class") != type(self.model).__name__:
            raise CheckpointError(hint(
                f"{source} is for a {meta.get('model_class')}, this trainer's model is a "
                f"{type(self.model).__name__}",
                "build the same model as the one that was trained (see the run's config.json); "
                "nothing was changed"))
        validate_model_arrays(self.model, model_state, source)
        if meta.get("optimizer_class") != type(self.optimizer).__name__:
            raise CheckpointError(hint(
                f"{source} has {meta.get('optimizer_class')} state, this trainer uses "
                f"{type(self.optimizer).__name__}",
                "resume with the same optimizer; nothing was changed"))
        saved_callbacks = list(meta.get("callbacks", {}))
        own_callbacks = [f"{i}:{type(cb).__name__}" for i, cb in enumerate(self.callbacks)]
        stateful = [k for k, cb in zip(own_callbacks, self.callbacks) if cb.state_dict()]
        missing_cb = [k for k in stateful if k not in saved_callbacks]
        generators = self._generators([train_loader] if train_loader is not None else [])
        problems = generators.check(meta.get("rng", {})) + \
            [f"callback {k} has no saved state" for k in missing_cb]
        if problems:
            raise CheckpointError(hint(f"{source} does not fit this trainer: "
                                       + "; ".join(problems),
                                       "resume with the same setup (model, scheduler, callbacks) "
                                       "as the run that was saved; nothing was changed"))
        # Apply, rolling the model back if a later part turns out not to fit.
        backup = {k: np.array(v.data, copy=True) for k, v in self.model.state_dict().items()}
        optim_backup = self.optimizer.state_dict()
        try:
            self.model.load_state_dict(model_state)
            self.optimizer.load_state_dict(unpack_optimizer_state(optim_arrays, meta["optimizer"]))
        except Exception as exc:
            self.model.load_state_dict(backup)
            self.optimizer.load_state_dict(optim_backup)
            raise CheckpointError(hint(f"{source} does not fit this trainer's optimizer ({exc})",
                                       "resume with the same optimizer and parameters; nothing "
                                       "was changed")) from None
        saved_cb = meta.get("callbacks", {})
        for key, cb in zip(own_callbacks, self.callbacks):
            if key in saved_cb and saved_cb[key]:
                cb.load_state_dict(saved_cb[key])
        generators.load_state_dict(meta.get("rng", {}))
        self.history = History.from_state_dict(meta.get("history", {}))
        self.epoch = int(meta["epoch"])
        self.step = int(meta["step"])
        self._epoch_sums = dict(meta.get("epoch_sums") or self._fresh_sums())
        self.batches_done_in_epoch = int(self._epoch_sums.get("batches", 0))
        loader_state = meta.get("loader")
        if loader_state is not None:
            if train_loader is not None:
                train_loader.load_state_dict(loader_state)
            else:
                self._pending_loader_state = loader_state
        return meta
