"""Checkpoint and weight files: safetensors for arrays, JSON for everything else, never pickle.

A training checkpoint at ``PATH`` (a path without suffix, e.g. ``runs/mlp/checkpoint``) is two files:

- ``PATH.safetensors``: the model's ``state_dict`` under ``model/<key>`` and the optimizer's array
  state under ``optimizer/<param index>/<buffer name>``;
- ``PATH.json``: epoch, step, the optimizer's options and step counters, the scheduler's and
  callbacks' state, the RNG states of every generator, the history, the config, and the SHA-256 of
  the ``.safetensors`` file it belongs to.

Both are written to temporary files in the same folder, flushed and fsync'ed, then renamed into
place (arrays first, JSON last); a crash never leaves a half-written file, and a JSON file whose
SHA-256 does not match the arrays beside it (a crash between the two renames) is refused on load.

Loading checks the format, the hash, and every name, shape and dtype against the model and
optimizer before anything is changed; a mismatch raises :class:`~groundup.errors.CheckpointError`
that lists what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from groundup.errors import CheckpointError, hint

__all__ = [
    "FORMAT",
    "atomic_write_bytes",
    "atomic_write_json",
    "checkpoint_paths",
    "load_checkpoint",
    "load_weights",
    "save_checkpoint",
    "save_weights",
    "validate_model_arrays",
]

FORMAT = "groundup-checkpoint"
VERSION = 1


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(arrays_file, json_file)`` for checkpoint ``path`` (a suffix .json/.safetensors is ignored)."""
    path = Path(path)
    if path.suffix in (".json", ".safetensors"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path``, flushed and fsync'ed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temporary file, flush, fsync, rename."""
    path = Path(path)
    tmp = _write_temp(path, data)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def to_json_bytes(obj) -> bytes:
    return json.dumps(obj, indent=2, default=_json_default).encode("utf-8")


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_bytes(path, to_json_bytes(obj))


# ---------------------------------------------------------------------------------------- weights
def _as_array(value) -> np.ndarray:
    return np.ascontiguousarray(value.data if hasattr(value, "data") and
                                not isinstance(value, np.ndarray) else value)


def save_weights(model_or_state, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """Save a model's ``state_dict`` (or a dict of arrays) as safetensors, atomically; tensor names
    are the ``state_dict`` keys, so PyTorch's ``safetensors.torch.load_file`` reads it too."""
    from safetensors.numpy import save

    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") \
        else model_or_state
    arrays = {k: _as_array(v) for k, v in state.items()}
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    atomic_write_bytes(path, save(arrays, metadata=meta or None))


def _read_safetensors(path: Path, what: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(hint(f"{what} {path} does not exist",
                                   "check the path (a run folder holds model.safetensors and "
                                   "checkpoint.safetensors/.json)")) from None
    except OSError as exc:
        raise CheckpointError(hint(f"{what} {path} cannot be read ({exc})",
                                   "check the file's permissions")) from None
    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError for every defect
        raise CheckpointError(hint(
            f"{what} {path} is damaged or not a safetensors file ({exc})",
            "restore it from a backup or train again; the model was not changed")) from None


def validate_model_arrays(model, arrays: dict[str, np.ndarray], source: str) -> None:
    """Check ``arrays`` against ``model.state_dict()``: same names, shapes and dtypes; raise a
    :class:`CheckpointError` listing every difference."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in arrays]
    unexpected = [k for k in arrays if k not in expected]
    wrong = []
    for k, t in expected.items():
        if k in arrays:
            a, ref = arrays[k], t.data
            if tuple(a.shape) != tuple(ref.shape):
                wrong.append(f"{k} has shape {tuple(a.shape)} in the file, {tuple(ref.shape)} in "
                             "the model")
            elif a.dtype != ref.dtype:
                wrong.append(f"{k} has dtype {a.dtype} in the file, {ref.dtype} in the model")
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): " + ", ".join(missing[:6])
                        + (" ..." if len(missing) > 6 else ""))
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensor(s): " + ", ".join(unexpected[:6])
                        + (" ..." if len(unexpected) > 6 else ""))
    problems.extend(wrong[:6])
    if problems:
        raise CheckpointError(hint(
            f"{source} does not fit {type(model).__name__}: " + "; ".join(problems),
            "it was saved from a different model or configuration; load it into the same "
            "architecture (the run's config.json says which); the model was not changed"))


def load_weights(model, path: str | os.PathLike) -> None:
    """Load a safetensors weights file into ``model`` after checking every name, shape and dtype;
    on any mismatch nothing changes."""
    path = Path(path)
    arrays = _read_safetensors(path, "weights file")
    validate_model_arrays(model, arrays, str(path))
    model.load_state_dict(arrays)


# ------------------------------------------------------------------------------------ checkpoints
def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write a checkpoint: ``arrays`` to ``PATH.safetensors`` and ``meta`` (JSON-serialisable) to
    ``PATH.json`` with the format tag and the arrays' SHA-256; both written atomically."""
    from safetensors.numpy import save

    arrays_path, json_path = checkpoint_paths(path)
    blob = save({k: _as_array(v) for k, v in arrays.items()})
    document = {"format": FORMAT, "version": VERSION,
                "arrays_file": arrays_path.name,
                "arrays_sha256": hashlib.sha256(blob).hexdigest(), **meta}
    text = to_json_bytes(document)  # serialise before touching any file: a bad value fails early
    # Both temporaries are complete on disk before either rename, so the window in which the pair
    # disagrees is two renames long; the SHA-256 check catches it.
    tmp_arrays = _write_temp(arrays_path, blob)
    try:
        tmp_json = _write_temp(json_path, text)
    except BaseException:
        tmp_arrays.unlink(missing_ok=True)
        raise
    os.replace(tmp_arrays, arrays_path)
    os.replace(tmp_json, json_path)
    _fsync_dir(json_path.parent)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read and verify a checkpoint: ``(arrays, meta)``. Raises :class:`CheckpointError` when a file
    is missing, damaged, of another format, or when the two files do not belong together."""
    arrays_path, json_path = checkpoint_paths(path)
    try:
        raw = json_path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(hint(f"checkpoint {json_path} does not exist",
                                   "pass the run folder or checkpoint path that training wrote "
                                   "(it prints it when it saves)")) from None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(hint(f"checkpoint {json_path} is damaged (not valid JSON: {exc})",
                                   "restore it or train again; nothing was changed")) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(hint(f"{json_path} is not a groundup checkpoint (format "
                                   f"{meta.get('format') if isinstance(meta, dict) else None!r})",
                                   "pass a checkpoint written by groundup.train"))
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(hint(f"{json_path} has checkpoint version {meta['version']}, this "
                                   f"groundup reads up to {VERSION}", "upgrade groundup"))
    try:
        blob = arrays_path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(hint(f"checkpoint arrays {arrays_path} are missing",
                                   f"{json_path.name} needs {arrays_path.name} beside it")) from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta.get("arrays_sha256"):
        raise CheckpointError(hint(
            f"{arrays_path.name} does not match {json_path.name} (SHA-256 {digest[:12]}..., "
            f"expected {str(meta.get('arrays_sha256'))[:12]}...): the file is damaged or the two "
            "come from different saves",
            "restore both files from the same save, or train again; nothing was changed"))
    from safetensors.numpy import load

    try:
        arrays = load(blob)
    except Exception as exc:
        raise CheckpointError(hint(f"{arrays_path} is damaged ({exc})",
                                   "restore it or train again; nothing was changed")) from None
    return arrays, meta


def split_arrays(arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Split checkpoint arrays into ``(model_state, optimizer_arrays)`` by their prefixes."""
    model_state, optim_arrays = {}, {}
    for k, v in arrays.items():
        head, _, rest = k.partition("/")
        if head == "model":
            model_state[rest] = v
        elif head == "optimizer":
            optim_arrays[rest] = v
    return model_state, optim_arrays


def pack_optimizer_state(state: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Split ``optimizer.state_dict()`` into named arrays (``"<index>/<name>"``) and a JSON part
    (``param_groups`` and the scalar entries such as ``step``)."""
    arrays, scalars = {}, {}
    for index, entry in state["state"].items():
        for name, value in entry.items():
            arr = np.asarray(value) if value is not None else None
            if arr is not None and arr.ndim > 0:
                arrays[f"{index}/{name}"] = arr
            else:
                scalars.setdefault(str(index), {})[name] = None if arr is None else arr.item()
    return arrays, {"param_groups": state["param_groups"], "scalars": scalars}


def unpack_optimizer_state(arrays: dict[str, np.ndarray], packed: dict) -> dict:
    """The inverse of :func:`pack_optimizer_state`: an ``optimizer.state_dict()``-shaped dict."""
    state: dict[int, dict] = {}
    for key, value in arrays.items():
        index, _, name = key.partition("/")
        state.setdefault(int(index), {})[name] = value
    for index, entries in packed.get("scalars", {}).items():
        for name, value in entries.items():
            state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": packed["param_groups"]}
