"""The ``groundup`` command, run in a subprocess on small subsets (``--limit``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

# One BLAS thread: these runs are tiny, and the test machine is shared.
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def groundup(*args, cwd=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "groundup", *map(str, args)],
                          capture_output=True, text=True, env=ENV, cwd=cwd, timeout=timeout)


def assert_one_line_error(proc, status, *fragments):
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "mlp"
    proc = groundup("train", "--limit", 600, "--epochs", 2, "--val-size", 200, "--out", run)
    assert proc.returncode == 0, proc.stderr
    return run, proc


def test_train_writes_the_run_folder_and_prints_the_table(trained_run):
    run, proc = trained_run
    out = proc.stdout
    assert "training mlp on mnist: 600 training images, 200 held out for validation, 2 epochs" \
        in out
    assert "epoch    train loss  train acc  val loss   val acc   lr" in out
    assert "\n1/2 " in out and "\n2/2 " in out
    for name in ("model.safetensors", "checkpoint.safetensors", "checkpoint.json", "config.json",
                 "metrics.json", "history.csv", "curves.png", "confusion_matrix.png",
                 "mistakes.png", "filters.png"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["status"] == "finished"
    assert (config["model"], config["optimizer"], config["lr"], config["batch_size"],
            config["scheduler"], config["dropout"]) == ("mlp", "adam", 1e-3, 64, "cosine", 0.2)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_images"] == 600
    assert f"test accuracy {metrics['test_accuracy'] * 100:.2f}%" in out
    assert metrics["test_accuracy"] > 0.6  # 20 steps on 600 images already learn something
    assert np.sum(metrics["confusion_matrix"]) == 600
    assert (run / "history.csv").read_text().splitlines()[0] == \
        "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds"


def test_evaluate_prints_accuracy_report_and_confusion_matrix(trained_run):
    run, _ = trained_run
    proc = groundup("evaluate", run, "--limit", 600)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"accuracy {metrics['test_accuracy'] * 100:.2f}%" in proc.stdout
    assert "precision" in proc.stdout and "recall" in proc.stdout and "f1-score" in proc.stdout
    assert "confusion matrix (rows: true class, columns: predicted class)" in proc.stdout
    rows = proc.stdout.strip().splitlines()[-10:]
    counts = np.array([[int(v) for v in row.split()[1:]] for row in rows])
    assert counts.tolist() == metrics["confusion_matrix"]


def _top3(stdout):
    lines = [ln.split() for ln in stdout.splitlines() if ln.strip()[:2] in ("1.", "2.", "3.")]
    return [(ln[1], 0.0 if ln[2] == "<0.01%" else float(ln[2].rstrip("%"))) for ln in lines]


def test_predict_index_png_and_npy_agree(trained_run, tmp_path):
    from PIL import Image

    from groundup.data.datasets import MNIST

    run, _ = trained_run
    by_index = groundup("predict", run, "--index", 0)
    assert by_index.returncode == 0, by_index.stderr
    assert "test image 0 (true class 7)" in by_index.stdout
    top = _top3(by_index.stdout)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert 50 < sum(p for _, p in top) <= 100.01

    digit = np.asarray(MNIST(train=False).data[0])
    np.save(tmp_path / "seven.npy", digit)
    by_npy = groundup("predict", run, tmp_path / "seven.npy")
    assert by_npy.returncode == 0, by_npy.stderr
    assert _top3(by_npy.stdout) == top  # the same 28×28 pixels

    # A photo-like picture: larger, RGB, dark ink on white paper.
    big = np.kron(255 - digit, np.ones((4, 4), dtype=np.uint8))
    Image.fromarray(np.stack([big] * 3, -1)).save(tmp_path / "seven.png")
    by_png = groundup("predict", run, tmp_path / "seven.png")
    assert by_png.returncode == 0, by_png.stderr
    assert _top3(by_png.stdout)[0][0] == top[0][0]


def test_info_shows_config_and_summary(trained_run):
    run, _ = trained_run
    proc = groundup("info", run)
    assert proc.returncode == 0, proc.stderr
    assert "model" in proc.stdout and "mlp" in proc.stdout
    assert "Total params: 235,146" in proc.stdout
    assert "test accuracy" in proc.stdout


def test_user_errors_are_one_line_without_traceback(trained_run, tmp_path):
    run, _ = trained_run
    assert_one_line_error(groundup("train", "--model", "resnet"), 2, "invalid choice: 'resnet'")
    assert_one_line_error(groundup("train", "--epochs", "0"), 2, "positive integer")
    assert_one_line_error(groundup("train", "--lr", "fast"), 2, "expected a positive number")
    assert_one_line_error(groundup("train", "--model", "cnn", "--dropout", "0.3"), 2,
                          "--dropout applies to --model mlp only")
    assert_one_line_error(groundup("evaluate", tmp_path / "nope"), 1,
                          f"run folder {tmp_path / 'nope'} does not exist")
    assert_one_line_error(groundup("info", tmp_path), 1, "not a groundup run folder")
    (tmp_path / "broken.png").write_text("not an image")
    assert_one_line_error(groundup("predict", run, tmp_path / "broken.png"), 1,
                          "is not a readable image")
    assert_one_line_error(groundup("predict", run, tmp_path / "missing.png"), 1,
                          "does not exist")
    assert_one_line_error(groundup("predict", run), 2, "give either an image FILE or --index")
    assert_one_line_error(groundup("predict", run, "--index", 10000), 2,
                          "--index must be between 0 and 9999")
    assert_one_line_error(groundup("train", "--resume", run, "--lr", "0.1"), 2,
                          "--resume continues a run with its saved options; drop --lr")
    assert_one_line_error(groundup("train", "--resume", run), 1, "already finished its 2 epochs")
    assert_one_line_error(groundup("train", "--out", run), 1, "already holds a run")


def test_damaged_or_foreign_checkpoint_is_refused_and_left_alone(trained_run, tmp_path):
    import shutil

    run, _ = trained_run
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    config = json.loads((copy / "config.json").read_text())
    config["status"] = "interrupted"  # pretend it was interrupted so that resuming is allowed
    (copy / "config.json").write_text(json.dumps(config))
    meta = json.loads((copy / "checkpoint.json").read_text())
    meta["epoch"] = 1
    (copy / "checkpoint.json").write_text(json.dumps(meta))
    data = bytearray((copy / "checkpoint.safetensors").read_bytes())
    data[-100] ^= 0xFF
    (copy / "checkpoint.safetensors").write_bytes(bytes(data))
    before = (copy / "model.safetensors").read_bytes()
    assert_one_line_error(groundup("train", "--resume", copy), 1,
                          "checkpoint.safetensors does not match checkpoint.json")
    assert (copy / "model.safetensors").read_bytes() == before

    # A checkpoint of another architecture under this run's config.
    (copy / "config.json").write_text(json.dumps(dict(config, model="lenet5", dropout=0.2)))
    shutil.copy(run / "checkpoint.json", copy / "checkpoint.json")
    shutil.copy(run / "checkpoint.safetensors", copy / "checkpoint.safetensors")
    meta = json.loads((copy / "checkpoint.json").read_text())
    meta["epoch"] = 1
    (copy / "checkpoint.json").write_text(json.dumps(meta))
    assert_one_line_error(groundup("train", "--resume", copy), 1,
                          "is for a MNISTMLP, this trainer's model is a LeNet5")
    assert_one_line_error(groundup("evaluate", copy), 1,
                          "does not fit LeNet5")


def test_ctrl_c_saves_checkpoint_and_resume_matches_uninterrupted_run(tmp_path):
    args = ["--limit", 2000, "--epochs", 3, "--val-size", 100]
    straight = groundup("train", *args, "--out", tmp_path / "straight", "--quiet")
    assert straight.returncode == 0, straight.stderr

    run = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-m", "groundup", "train", *map(str, args),
                             "--out", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)
    # Interrupt as soon as the first epoch's row is printed: training is then certainly under
    # way, with two epochs (64 steps) to go.
    for line in proc.stdout:
        if line.startswith("1/3"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("training finished before the signal arrived (very fast machine)")
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err
    assert f"resume with: groundup train --resume {run}" in err
    assert json.loads((run / "config.json").read_text())["status"] == "interrupted"
    assert not (run / "model.safetensors").exists()

    resumed = groundup("train", "--resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    from safetensors.numpy import load_file

    resumed_weights = load_file(run / "model.safetensors")
    straight_weights = load_file(tmp_path / "straight" / "model.safetensors")
    assert list(resumed_weights) == list(straight_weights)
    for name, value in straight_weights.items():
        assert np.array_equal(resumed_weights[name], value), name


def test_help_and_version():
    proc = groundup("--help")
    assert proc.returncode == 0
    for command in ("train", "evaluate", "predict", "info"):
        assert command in proc.stdout
    proc = groundup("train", "--help")
    assert "--resume RUN" in proc.stdout and "--limit" in proc.stdout
    import groundup as gu

    assert groundup("--version").stdout.strip() == f"groundup {gu.__version__}"


def test_fashion_mnist_offline_error_is_one_line(tmp_path):
    # Every mirror is unreachable: the proxy is a closed local port.
    env = dict(ENV, GROUNDUP_DATA=str(tmp_path), no_proxy="", NO_PROXY="",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    proc = subprocess.run([sys.executable, "-m", "groundup", "train", "--dataset",
                           "fashion-mnist", "--limit", "100", "--out", str(tmp_path / "f")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert str(tmp_path) in proc.stderr  # says where to put the files


def test_augmented_batches_stay_mnist_like_and_reproducible():
    import groundup as gu
    from groundup.cli._setup import AugmentedImages
    from groundup.data.datasets import MNIST

    mnist = MNIST(train=True)
    images, labels = np.asarray(mnist.data[:32]), np.asarray(mnist.targets[:32])
    first = AugmentedImages(images, labels, mnist.mean, mnist.std, gu.Generator(1))
    again = AugmentedImages(images, labels, mnist.mean, mnist.std, gu.Generator(1))
    x, y = first.get_batch(np.arange(32))
    assert x.shape == (32, 1, 28, 28) and x.dtype == np.float32
    assert np.array_equal(y, labels)
    # Warping fills with black paper: 0 normalised in float32 as the pipeline does.
    background = (np.float32(0) - np.float32(mnist.mean)) / np.float32(mnist.std)
    assert x.min() == background
    plain = (images.astype(np.float32) / 255 - np.float32(mnist.mean)) / np.float32(mnist.std)
    assert not np.array_equal(x[:, 0], plain)  # images did move
    # Ink is preserved up to the parts shifted out of the frame.
    assert abs((x > background).sum() / (plain > background).sum() - 1) < 0.2
    assert np.array_equal(again.get_batch(np.arange(32))[0], x)
