"""``groundup evaluate``, ``groundup predict`` and ``groundup info``: look at a trained run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from groundup.cli._setup import (
    CLIError,
    class_names,
    load_split,
    load_trained_model,
    read_config,
    test_arrays,
)


# -------------------------------------------------------------------------------------- evaluate
def add_evaluate_arguments(p) -> None:
    p.add_argument("run", type=Path, help="run folder written by groundup train")
    p.add_argument("--limit", type=int, default=None, help="evaluate on the first N test images")


def evaluate(args) -> int:
    from groundup.cli.train import evaluate_arrays
    from groundup.metrics import classification_report, confusion_matrix

    model, config = load_trained_model(args.run)
    images, labels, dataset = test_arrays(config, args.limit)
    _, pred, loss = evaluate_arrays(model, images, labels)
    names = class_names(dataset)
    k = len(names)
    accuracy = float((pred == labels).mean()) if len(labels) else float("nan")
    print(f"{args.run}: {config['model']} on the {config['dataset']} test set "
          f"({len(labels):,} images)")
    print(f"accuracy {accuracy * 100:.2f}%  loss {loss:.4f}\n")
    print(classification_report(labels, pred, labels=list(range(k)), target_names=names,
                                digits=4, zero_division=0))
    cm = np.asarray(confusion_matrix(labels, pred, labels=list(range(k))))
    width = max(5, len(str(cm.max())) + 1)
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(" " * 6 + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, cm):
        print(f"{name:>5} " + "".join(f"{v:>{width}}" for v in row))
    return 0


# --------------------------------------------------------------------------------------- predict
def add_predict_arguments(p) -> None:
    p.add_argument("run", type=Path, help="run folder written by groundup train")
    p.add_argument("file", nargs="?", type=Path,
                   help="an image (PNG/JPEG of any size and colour) or a .npy array (28×28 or 784)")
    p.add_argument("--index", type=int, default=None, help="classify test image number I instead")


def load_image(path: Path, invert: str = "auto", digits: bool = True) -> np.ndarray:
    """An image file as a 28×28 float array in [0, 1] with MNIST's conventions: grey, white
    digit on black (dark-on-light pictures are inverted), the digit scaled to fit a 20×20 box and
    centred by its centre of mass in the 28×28 frame, as the MNIST images were made. With
    ``digits=False`` (Fashion-MNIST) the whole picture is resized to 28×28 instead."""
    if not path.exists():
        raise CLIError(f"image {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CLIError(f"{path} is not a readable .npy array ({exc})") from None
        if array.size != 784 or array.dtype.kind not in "uif":
            raise CLIError(f"{path} holds an array of shape {array.shape} and dtype "
                           f"{array.dtype}: expected 784 numbers (28×28, pixel values 0-255 or "
                           "0-1)")
        array = array.reshape(28, 28).astype(np.float64)
        return array / 255.0 if array.max() > 1.0 else array
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        raise CLIError("reading images needs Pillow (pip install pillow)") from None
    try:
        with Image.open(path) as image:
            image.load()
            grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
            if image.mode in ("RGBA", "LA") or "transparency" in image.info:
                alpha = np.asarray(image.convert("RGBA"), dtype=np.float64)[..., 3] / 255.0
                grey = grey * alpha + (1.0 - alpha)  # transparent areas count as white paper
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CLIError(f"{path} is not a readable image ({exc.__class__.__name__}: {exc})") \
            from None
    if not digits:
        from PIL import Image

        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
            grey = 1.0 - grey  # Fashion-MNIST items are light on a black background too
        small = Image.fromarray((grey * 255).astype(np.uint8)).resize(
            (28, 28), Image.Resampling.LANCZOS)
        return np.asarray(small, dtype=np.float64) / 255.0
    return to_mnist_frame(grey, invert)


def to_mnist_frame(grey: np.ndarray, invert: str = "auto") -> np.ndarray:
    """A grey image in [0, 1] → MNIST's 28×28 format (see :func:`load_image`)."""
    from PIL import Image

    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        grey = 1.0 - grey  # a dark digit on light paper: MNIST digits are white on black
    ink = grey > 0.2 * grey.max() if grey.max() > 0 else np.zeros_like(grey, bool)
    if ink.any():
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        grey = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = grey.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize(
        size, Image.Resampling.LANCZOS), dtype=np.float64) / 255.0
    frame = np.zeros((28, 28))
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    frame[top:top + small.shape[0], left:left + small.shape[1]] = small
    total = frame.sum()
    if total > 0:  # shift the centre of mass to the centre, as MNIST did
        ys, xs = np.indices(frame.shape)
        dy = int(round(13.5 - (ys * frame).sum() / total))
        dx = int(round(13.5 - (xs * frame).sum() / total))
        frame = np.roll(frame, (dy, dx), axis=(0, 1))
    return np.clip(frame, 0.0, 1.0)


def predict(args) -> int:
    from groundup.cli.train import evaluate_arrays

    if (args.file is None) == (args.index is None):
        raise CLIError("give either an image FILE or --index I (not both)", 2)
    model, config = load_trained_model(args.run)
    dataset = load_split(config["dataset"], train=False)
    names = class_names(dataset)
    mean, std = float(getattr(dataset, "mean", 0.0)), float(getattr(dataset, "std", 1.0))
    truth = None
    if args.index is not None:
        if not 0 <= args.index < len(dataset):
            raise CLIError(f"--index must be between 0 and {len(dataset) - 1}, got {args.index}",
                           2)
        pixels = dataset.data[args.index].astype(np.float64) / 255.0
        truth = int(dataset.targets[args.index])
        source = f"test image {args.index}"
    else:
        pixels = load_image(args.file, digits=config["dataset"] == "mnist")
        source = str(args.file)
    x = ((pixels.astype(np.float32) - np.float32(mean)) / np.float32(std))[None, None]
    probs, _, _ = evaluate_arrays(model, x, np.zeros(1, dtype=np.int64))
    top = np.argsort(-probs[0], kind="stable")[:3]
    print(f"{source}" + (f" (true class {names[truth]})" if truth is not None else ""))
    width = max(len(n) for n in names)
    for rank, c in enumerate(top, 1):
        p = probs[0, c] * 100
        print(f"  {rank}. {names[c]:<{width}}  " + (f"{p:6.2f}%" if p >= 0.01 else " <0.01%"))
    return 0


# ------------------------------------------------------------------------------------------ info
def add_info_arguments(p) -> None:
    p.add_argument("run", type=Path, help="run folder written by groundup train")


def info(args) -> int:
    from groundup.cli._setup import build_model
    from groundup.nn import summary

    config = read_config(args.run)
    model = build_model(config)
    print(f"run {args.run} ({config.get('status', 'unknown')})")
    shown = {k: v for k, v in config.items() if k not in ("status",)}
    width = max(len(k) for k in [*shown, "test accuracy"])
    for key, value in shown.items():
        print(f"  {key:<{width}}  {value}")
    metrics_path = args.run / "metrics.json"
    if metrics_path.exists():
        try:
            metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
            print(f"  {'test accuracy':<{width}}  {metrics['test_accuracy'] * 100:.2f}% "
                  f"({metrics['test_correct']:,}/{metrics['test_images']:,})")
        except (ValueError, KeyError) as exc:
            print(f"  metrics.json unreadable ({exc})")
    print()
    summary(model, (1, 1, 28, 28))
    return 0
