"""Pictures of a training run: learning curves, confusion matrix, misclassified images, and the
first layer's filters.

Each function builds a ``matplotlib.figure.Figure`` with the object-oriented API (no pyplot, so no
global state and no GUI backend is needed: it works on a headless server and displays inline in a
notebook), saves it to ``path`` when given, and returns it. matplotlib is imported on first use.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_curves", "plot_filters", "plot_mistakes"]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, path) -> None:
    if path is not None:
        fig.savefig(os.fspath(path), dpi=fig.dpi)


def plot_curves(epochs: list[dict], path=None, title: str | None = None):
    """Loss and accuracy per epoch, training vs validation (``history.epochs`` records)."""
    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    x = [e["epoch"] for e in epochs]

    def series(key):
        values = [e.get(key) for e in epochs]
        return None if all(v is None for v in values) else values

    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy (%)")):
        scale = 100.0 if key == "accuracy" else 1.0
        for prefix, name, style in (("", "train", "o-"), ("val_", "validation", "s--")):
            values = series(prefix + key)
            if values is not None:
                ax.plot(x, [np.nan if v is None else v * scale for v in values], style,
                        label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(x)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_title("loss")
    ax_acc.set_title("accuracy")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_confusion_matrix(matrix, class_names=None, path=None, title: str = "confusion matrix"):
    """Counts of (true class, predicted class) as a heat map with the numbers written in."""
    matrix = np.asarray(matrix)
    k = len(matrix)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    fig = _figure(1.0 + 0.6 * k, 0.6 + 0.6 * k)
    ax = fig.subplots()
    # Log-ish colour scale so the off-diagonal mistakes are visible next to the large diagonal.
    shown = np.log1p(matrix)
    ax.imshow(shown, cmap="Blues")
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{matrix[i, j]:d}", ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"{title} (accuracy {accuracy * 100:.2f}%)")
    _save(fig, path)
    return fig


def plot_mistakes(images, true_labels, predicted, confidence=None, class_names=None, path=None,
                  max_images: int = 36, title: str = "misclassified test images"):
    """A grid of misclassified images, each titled ``true 7 → 2 (83%)``. ``images``: (N, H, W) or
    (N, 1, H, W) of the mistakes only; ``confidence``: the predicted class's probability."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    n = min(len(images), max_images)
    cols = min(6, max(n, 1))
    rows = max(1, math.ceil(n / cols))
    fig = _figure(1.6 * cols, 1.8 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    names = class_names

    def name(c):
        return str(names[c]) if names is not None else str(c)

    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        label = f"true {name(true_labels[i])} → pred {name(predicted[i])}"
        if confidence is not None:
            label += f" ({confidence[i] * 100:.0f}%)"
        ax.set_title(label, fontsize=8, color="firebrick")
    if n == 0:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.suptitle(f"{title} ({n} shown)")
    _save(fig, path)
    return fig


def plot_filters(weight, path=None, max_filters: int = 64, title: str | None = None):
    """The first layer's weights as images: a Linear(784, k) weight (k, 784) gives k 28×28
    templates; a Conv2d weight (k, c, h, w) gives k h×w kernels (first input channel). Each tile
    is scaled symmetrically around 0 (red positive, blue negative)."""
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim == 2:
        side = int(round(math.sqrt(w.shape[1])))
        if side * side != w.shape[1]:
            raise ValueError(f"plot_filters: rows of length {w.shape[1]} are not square images; "
                             "help: pass a Linear weight over flattened square images")
        tiles = w.reshape(len(w), side, side)
        kind = f"first Linear layer: {len(w)} units × {side}×{side} input weights"
    elif w.ndim == 4:
        tiles = w[:, 0]
        kind = f"first Conv2d layer: {len(w)} kernels {w.shape[2]}×{w.shape[3]}"
    else:
        raise ValueError(f"plot_filters: expected a 2-D Linear or 4-D Conv2d weight, got shape "
                         f"{w.shape}")
    n = min(len(tiles), max_filters)
    cols = min(8, n)
    rows = math.ceil(n / cols)
    fig = _figure(1.2 * cols, 1.2 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            limit = np.abs(tiles[i]).max() or 1.0
            ax.imshow(tiles[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title or f"{kind} ({n} shown)")
    _save(fig, path)
    return fig
