"""Training pictures: each function draws what it says and writes a PNG."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.viz.training import plot_confusion_matrix, plot_curves, plot_filters, plot_mistakes

EPOCHS = [{"epoch": 1, "loss": 0.30, "accuracy": 0.91, "val_loss": 0.15, "val_accuracy": 0.95},
          {"epoch": 2, "loss": 0.12, "accuracy": 0.96, "val_loss": 0.10, "val_accuracy": 0.97}]


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_plot_train_and_validation_per_epoch(tmp_path):
    fig = plot_curves(EPOCHS, tmp_path / "curves.png")
    assert _is_png(tmp_path / "curves.png")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train", "validation"]
    assert list(loss_ax.lines[1].get_ydata()) == [0.15, 0.10]
    assert list(acc_ax.lines[0].get_ydata()) == pytest.approx([91.0, 96.0])
    # Without validation only the training curve is drawn.
    fig = plot_curves([{"epoch": 1, "loss": 0.3, "accuracy": 0.9}])
    assert [line.get_label() for line in fig.axes[0].lines] == ["train"]


def test_confusion_matrix_writes_counts_and_accuracy(tmp_path):
    cm = np.array([[5, 1], [0, 4]])
    fig = plot_confusion_matrix(cm, ["cat", "dog"], tmp_path / "cm.png")
    assert _is_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "4"]
    assert ax.get_title() == "confusion matrix (accuracy 90.00%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]


def test_mistakes_grid_titles_true_and_predicted(tmp_path):
    images = np.random.default_rng(0).random((8, 1, 28, 28))
    fig = plot_mistakes(images, [1, 2, 3, 4, 5, 6, 7, 8], [7, 7, 7, 7, 7, 7, 1, 1],
                        confidence=np.full(8, 0.83), path=tmp_path / "m.png")
    assert _is_png(tmp_path / "m.png")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == "true 1 → pred 7 (83%)" and len(titles) == 8
    empty = plot_mistakes(np.zeros((0, 28, 28)), [], [])
    assert empty.axes[0].texts[0].get_text() == "no mistakes"


def test_filters_from_linear_and_conv_weights(tmp_path):
    linear = np.random.default_rng(0).standard_normal((100, 784))
    fig = plot_filters(linear, tmp_path / "f.png")
    assert _is_png(tmp_path / "f.png")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 64 and shown[0].images[0].get_array().shape == (28, 28)
    conv = np.random.default_rng(0).standard_normal((32, 1, 3, 3))
    fig = plot_filters(conv)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 32 and shown[0].images[0].get_array().shape == (3, 3)
    with pytest.raises(ValueError, match="not square images"):
        plot_filters(np.zeros((4, 10)))
