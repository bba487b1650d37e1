"""Checkpoint and weight files: round trips, atomic writes, and refusals that change nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.errors import CheckpointError
from groundup.train.checkpoint import (
    atomic_write_json,
    load_checkpoint,
    load_weights,
    pack_optimizer_state,
    save_checkpoint,
    save_weights,
    unpack_optimizer_state,
)


def _model(seed=0, hidden=8):
    gu.manual_seed(seed)
    return nn.models.MLP([4, hidden, 3])


def _arrays(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def test_weights_round_trip_and_readable_by_safetensors(tmp_path):
    from safetensors.numpy import load_file

    source, target = _model(0), _model(1)
    save_weights(source, tmp_path / "w.safetensors", metadata={"epoch": 3})
    load_weights(target, tmp_path / "w.safetensors")
    for k, v in _arrays(source).items():
        assert np.array_equal(_arrays(target)[k], v)
    assert sorted(load_file(tmp_path / "w.safetensors")) == ["0.bias", "0.weight", "2.bias",
                                                              "2.weight"]
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left


def test_weights_of_another_shape_are_refused_and_model_unchanged(tmp_path):
    save_weights(_model(0, hidden=8), tmp_path / "w.safetensors")
    target = _model(1, hidden=5)
    before = _arrays(target)
    with pytest.raises(CheckpointError) as info:
        load_weights(target, tmp_path / "w.safetensors")
    message = str(info.value)
    assert "0.weight has shape (8, 4) in the file, (5, 4) in the model" in message
    assert "the model was not changed" in message
    assert all(np.array_equal(v, _arrays(target)[k]) for k, v in before.items())


def test_truncated_weights_file_is_named_damaged(tmp_path):
    save_weights(_model(), tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "w.safetensors").write_bytes(data[: len(data) // 2])
    target = _model(1)
    before = _arrays(target)
    with pytest.raises(CheckpointError, match="is damaged or not a safetensors file"):
        load_weights(target, tmp_path / "w.safetensors")
    assert all(np.array_equal(v, _arrays(target)[k]) for k, v in before.items())


def test_checkpoint_round_trip_keeps_arrays_dtypes_and_json(tmp_path):
    arrays = {"model/w": np.arange(6, dtype=np.float32).reshape(2, 3),
              "optimizer/0/exp_avg": np.ones(3, np.float64)}
    meta = {"epoch": 2, "rng": {"global": np.random.default_rng(5).bit_generator.state}}
    save_checkpoint(tmp_path / "ck", arrays, meta)
    loaded, loaded_meta = load_checkpoint(tmp_path / "ck.json")  # the suffix is optional
    assert loaded["model/w"].dtype == np.float32 and loaded["optimizer/0/exp_avg"].dtype == \
        np.float64
    assert np.array_equal(loaded["model/w"], arrays["model/w"])
    assert loaded_meta["epoch"] == 2
    # A 128-bit PCG64 state survives JSON exactly.
    generator = np.random.default_rng()
    generator.bit_generator.state = loaded_meta["rng"]["global"]
    assert generator.random() == np.random.default_rng(5).random()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]


@pytest.mark.parametrize("damage, message", [
    ("json_garbage", "is damaged (not valid JSON"),
    ("not_ours", "is not a groundup checkpoint"),
    ("arrays_flipped", "does not match ck.json"),
    ("arrays_missing", "are missing"),
])
def test_damaged_checkpoints_say_what_is_wrong(tmp_path, damage, message):
    save_checkpoint(tmp_path / "ck", {"model/w": np.zeros(4, np.float32)}, {"epoch": 1})
    if damage == "json_garbage":
        (tmp_path / "ck.json").write_text('{"format": "groundup-checkpoint", "epo')
    elif damage == "not_ours":
        (tmp_path / "ck.json").write_text(json.dumps({"epoch": 1}))
    elif damage == "arrays_flipped":
        data = bytearray((tmp_path / "ck.safetensors").read_bytes())
        data[-1] ^= 0x01
        (tmp_path / "ck.safetensors").write_bytes(bytes(data))
    else:
        (tmp_path / "ck.safetensors").unlink()
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path / "ck")
    assert message in str(info.value) and "help:" in str(info.value)


def test_missing_checkpoint_says_where_it_looked(tmp_path):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path / "none")
    assert f"checkpoint {tmp_path / 'none.json'} does not exist" in str(info.value)


def test_failed_serialisation_leaves_the_previous_checkpoint_intact(tmp_path):
    save_checkpoint(tmp_path / "ck", {"model/w": np.zeros(2, np.float32)}, {"epoch": 1})
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "ck", {"model/w": np.ones(2, np.float32)},
                        {"epoch": 2, "bad": object()})
    arrays, meta = load_checkpoint(tmp_path / "ck")
    assert meta["epoch"] == 1 and arrays["model/w"].tolist() == [0.0, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]


def test_atomic_write_json_replaces_whole_file(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"a": [1, 2], "b": np.float32(0.5)})
    atomic_write_json(tmp_path / "m.json", {"a": 3})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_optimizer_state_pack_unpack_round_trip():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = gu.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    for _ in range(3):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    arrays, packed = pack_optimizer_state(opt.state_dict())
    assert sorted(arrays)[:2] == ["0/exp_avg", "0/exp_avg_sq"]
    assert packed["scalars"]["0"]["step"] == 3
    restored = optim.Adam(_model(1).parameters(), lr=1.0)
    restored.load_state_dict(unpack_optimizer_state(arrays, json.loads(json.dumps(packed))))
    assert restored.param_groups[0]["lr"] == 1e-2
    state = restored.state_dict()["state"]
    for index, entry in opt.state_dict()["state"].items():
        for name, value in entry.items():
            assert np.array_equal(np.asarray(state[index][name]), np.asarray(value)), name
