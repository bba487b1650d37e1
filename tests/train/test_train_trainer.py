"""Trainer: learning, exact resume (epoch boundary and mid-epoch Ctrl-C), eval mode, divergence,
diagnostics, callbacks."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.data import DataLoader, TensorDataset
from groundup.data.datasets import MNIST
from groundup.errors import CheckpointError
from groundup.train import (
    Callback,
    EarlyStopping,
    Trainer,
    TrainingDivergedError,
    TrainingInterrupted,
)


@pytest.fixture(scope="module")
def mnist_subset():
    images, labels = MNIST(train=True).arrays(normalize=True)
    return images[:3000].copy(), labels[:3000].copy(), images[-1000:].copy(), labels[-1000:].copy()


def _setup(data, epochs, n_train=640, batch=64, scheduler=True, seed=0, callbacks=(), **kw):
    """A fresh model/optimizer/loader/trainer, deterministic from ``seed``."""
    x, y, xv, yv = data
    gu.manual_seed(seed)
    model = nn.models.MNISTMLP(generator=gu.Generator(seed + 1))  # its own dropout generator
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=batch, shuffle=True)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader)) \
        if scheduler else None
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched,
                      scheduler_interval="step", progress="quiet", callbacks=list(callbacks),
                      diagnostics_every=4, **kw)
    val = DataLoader(TensorDataset(xv[:300], yv[:300]), batch_size=100)
    return model, trainer, loader, val


def _weights(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def test_smoke_training_learns(mnist_subset):
    """300 steps on 3,000 images: the loss falls and validation accuracy passes 90%."""
    x, y, xv, yv = mnist_subset
    model, trainer, loader, val = _setup(mnist_subset, epochs=7, n_train=3000, batch=64,
                                         scheduler=False)
    before = trainer.evaluate(val)
    history = trainer.fit(loader, val, epochs=7)
    assert trainer.step == 7 * 47 == len(history.steps)
    first, last = history.steps.loss[:20].mean(), history.steps.loss[-20:].mean()
    assert first > 1.0 and last < 0.25 * first
    assert before["accuracy"] < 0.3
    assert history["val_accuracy"][-1] > 0.90
    assert history["val_loss"][-1] < history["val_loss"][0]


@pytest.mark.parametrize("stop_after", [1, 2])
def test_resume_at_epoch_boundary_is_bit_identical(mnist_subset, tmp_path, stop_after):
    model_a, trainer_a, loader_a, val_a = _setup(mnist_subset, epochs=3)
    hist_a = trainer_a.fit(loader_a, val_a, epochs=3)

    model_b, trainer_b, loader_b, val_b = _setup(mnist_subset, epochs=3)
    trainer_b.fit(loader_b, val_b, epochs=stop_after)
    trainer_b.save_checkpoint(tmp_path / "ck")
    gu.manual_seed(999)  # the global generator moves on; the checkpoint must restore it

    model_c, trainer_c, loader_c, val_c = _setup(mnist_subset, epochs=3, seed=7)
    trainer_c.load_checkpoint(tmp_path / "ck")
    hist_c = trainer_c.fit(loader_c, val_c, epochs=3)
    for key, value in _weights(model_a).items():
        assert np.array_equal(value, _weights(model_c)[key]), key
    assert hist_c.epochs == [dict(e, seconds=c["seconds"]) for e, c in
                             zip(hist_a.epochs, hist_c.epochs)]
    assert np.array_equal(hist_a.steps.loss, hist_c.steps.loss)


class _SignalAt(Callback):
    """Sends this process a signal after step ``step`` (what Ctrl-C or `kill` does)."""

    def __init__(self, step: int, signum=signal.SIGINT):
        self.step, self.signum = step, signum

    def on_step_end(self, trainer, step, loss):
        if step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum, at_step, position", [
    (signal.SIGINT, 13, (1, 13, 3)),   # in epoch 2 after 3 of its 10 batches
    (signal.SIGTERM, 13, (1, 13, 3)),
    (signal.SIGINT, 10, (1, 10, 0)),   # after an epoch's last batch: an epoch-boundary save
])
def test_signal_saves_checkpoint_and_resume_is_exact(mnist_subset, tmp_path, signum, at_step,
                                                     position):
    model_a, trainer_a, loader_a, val_a = _setup(mnist_subset, epochs=2)
    trainer_a.fit(loader_a, val_a, epochs=2)

    ck = tmp_path / "ck"
    model_b, trainer_b, loader_b, val_b = _setup(mnist_subset, epochs=2, checkpoint_path=ck,
                                                 callbacks=[_SignalAt(at_step, signum)])
    previous = signal.getsignal(signum)
    with pytest.raises(TrainingInterrupted) as info:
        trainer_b.fit(loader_b, val_b, epochs=2)
    assert signal.getsignal(signum) is previous  # handlers restored
    assert info.value.checkpoint == ck and info.value.signal_number == signum
    assert f"step {at_step}" in str(info.value) and "resume with" in str(info.value)
    assert (tmp_path / "ck.json").exists() and (tmp_path / "ck.safetensors").exists()

    model_c, trainer_c, loader_c, val_c = _setup(mnist_subset, epochs=2, seed=3)
    meta = trainer_c.load_checkpoint(ck)
    assert (meta["epoch"], meta["step"], meta["loader"]["batches_done"]) == position
    trainer_c.fit(loader_c, val_c, epochs=2)
    assert trainer_c.step == trainer_a.step == 20
    for key, value in _weights(model_a).items():
        assert np.array_equal(value, _weights(model_c)[key]), key
    # The interrupted epoch's metrics (running sums restored) are the uninterrupted ones too.
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert [e[key] for e in trainer_c.history.epochs] == \
            [e[key] for e in trainer_a.history.epochs], key


def test_checkpoint_from_another_model_changes_nothing(mnist_subset, tmp_path):
    model, trainer, loader, val = _setup(mnist_subset, epochs=1)
    trainer.fit(loader, epochs=1)
    trainer.save_checkpoint(tmp_path / "ck")

    gu.manual_seed(0)
    other = nn.models.MLP([784, 32, 10])
    opt = optim.Adam(other.parameters())
    other_trainer = Trainer(other, nn.CrossEntropyLoss(), opt, progress="quiet")
    before = _weights(other)
    with pytest.raises(CheckpointError, match="is for a MNISTMLP, this trainer's model is a MLP"):
        other_trainer.load_checkpoint(tmp_path / "ck")
    assert all(np.array_equal(v, _weights(other)[k]) for k, v in before.items())

    # Same class, other widths: every mismatching tensor is named, nothing changes.
    narrow = nn.models.MNISTMLP()
    narrow.layers[0] = nn.Linear(784, 100)
    narrow.layers[3] = nn.Linear(100, 128)
    narrow_trainer = Trainer(narrow, nn.CrossEntropyLoss(), optim.Adam(narrow.parameters()),
                             progress="quiet")
    before = _weights(narrow)
    with pytest.raises(CheckpointError) as info:
        narrow_trainer.load_checkpoint(tmp_path / "ck")
    message = str(info.value)
    assert "layers.0.weight has shape (256, 784) in the file, (100, 784) in the model" in message
    assert "layers.3.weight" in message and "help:" in message
    assert all(np.array_equal(v, _weights(narrow)[k]) for k, v in before.items())
    assert narrow_trainer.epoch == 0 and narrow_trainer.step == 0


def test_evaluate_uses_eval_mode_and_restores_training_mode(mnist_subset):
    model, trainer, loader, val = _setup(mnist_subset, epochs=1)
    model.train()
    first, second = trainer.evaluate(val), trainer.evaluate(val)
    assert first == second  # dropout off: deterministic
    assert model.training  # mode restored
    logits = trainer.predict(val)
    assert logits.shape == (300, 10)
    assert np.isclose(first["accuracy"], (logits.argmax(1) == mnist_subset[3][:300]).mean())
    model.eval()
    trainer.evaluate(val)
    assert not model.training


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_nan_loss_stops_with_cause_and_fix(mnist_subset):
    x, y, _, _ = mnist_subset
    gu.manual_seed(0)
    model = nn.models.MLP([784, 64, 10])
    opt = optim.SGD(model.parameters(), lr=1e6)  # absurd: the weights blow up
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress="quiet")
    loader = DataLoader(TensorDataset(x[:640].reshape(640, -1), y[:640]), batch_size=64)
    with pytest.raises(TrainingDivergedError) as info:
        trainer.fit(loader, epochs=1)
    message = str(info.value)
    assert f"at step {info.value.step} (lr=1e+06)" in message
    assert "lower the learning rate" in message
    assert info.value.step >= 2  # the first step's loss is finite


def test_nan_input_is_named_as_the_cause(mnist_subset):
    x, y, _, _ = mnist_subset
    bad = x[:128].reshape(128, -1).copy()
    bad[70, 5] = np.nan
    gu.manual_seed(0)
    model = nn.models.MLP([784, 16, 10])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
                      progress="quiet")
    with pytest.raises(TrainingDivergedError, match="loss became NaN at step 2 .*input batch "
                                                    "contains NaN"):
        trainer.fit(DataLoader(TensorDataset(bad, y[:128]), batch_size=64), epochs=1)


def test_diagnostics_record_grad_norms_dead_relu_and_lr(mnist_subset):
    model, trainer, loader, val = _setup(mnist_subset, epochs=1)
    trainer.fit(loader, epochs=1)
    records = trainer.history.diagnostics
    assert [r["step"] for r in records] == [4, 8]
    for r in records:
        assert list(r["grad_norm"]) == ["layers.0", "layers.3", "layers.6"]
        assert all(v > 0 and np.isfinite(v) for v in r["grad_norm"].values())
        assert set(r["dead_relu"]) == {"layers.1", "layers.4"}
        assert all(0.0 <= v <= 1.0 for v in r["dead_relu"].values())
        assert r["lr"] == trainer.history.steps.lr[r["step"] - 1]
    # Hooks were removed after each diagnostic step.
    assert all(not m._forward_hooks for m in model.modules())


def test_dead_relu_fraction_counts_units_silent_for_the_whole_batch():
    from groundup.train import DeadReLUMonitor

    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with gu.no_grad():
        model[0].weight.data[...] = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], np.float32)
        model[0].bias.data[...] = 0
    monitor = DeadReLUMonitor(model)
    monitor.arm()
    model(gu.tensor(np.array([[1.0, 1.0], [2.0, 3.0]], np.float32)))  # units 1 and 3 never fire
    monitor.disarm()
    assert monitor.fractions == {"1": 0.5}


def test_early_stopping_stops_after_patience_and_restores_best():
    class Scripted(Callback):  # feeds a fixed val_loss sequence through the logs
        values = [1.0, 0.5, 0.6, 0.7, 0.4]

        def on_epoch_end(self, trainer, epoch, logs):
            logs["val_loss"] = self.values[epoch]

    x = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    gu.manual_seed(0)
    model = nn.Linear(3, 2)
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best=True)
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots.append(model.weight.data.copy())

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      callbacks=[Scripted(), Snap(), stopper], progress="quiet")
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=8), epochs=5)
    assert trainer.epoch == 4 and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    assert np.array_equal(model.weight.data, snapshots[1])


def test_reduce_lr_on_plateau_steps_per_epoch_on_val_loss(mnist_subset):
    x, y, xv, yv = mnist_subset
    gu.manual_seed(0)
    model = nn.models.MLP([784, 16, 10])
    opt = optim.SGD(model.parameters(), lr=1e-6)  # too small to improve val_loss by 1e-4
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, progress="quiet")
    flat = DataLoader(TensorDataset(x[:128].reshape(128, -1), y[:128]), batch_size=64)
    val = DataLoader(TensorDataset(xv[:64].reshape(64, -1), yv[:64]), batch_size=64)
    history = trainer.fit(flat, val, epochs=4)
    # The lr each epoch ran with: epoch 1 sets the best; each later epoch without progress
    # (patience 0) halves the lr for the next one.
    assert history["lr"] == [1e-6, 1e-6, 5e-7, 2.5e-7]


def test_history_csv_and_best(tmp_path, mnist_subset):
    model, trainer, loader, val = _setup(mnist_subset, epochs=2)
    history = trainer.fit(loader, val, epochs=2)
    history.to_csv(tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds"
    assert len(lines) == 3 and lines[2].startswith("2,")
    best = history.best("val_loss")
    assert best["val_loss"] == min(history["val_loss"])
    with pytest.raises(KeyError, match="no metric 'f1'"):
        history["f1"]
