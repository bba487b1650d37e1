"""IDX reader/writer: round trips, and rejection of bad magic, wrong dimensions, truncation."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from groundup.data.idx import encode_idx, parse_idx, read_idx, write_idx
from groundup.errors import DataError, DTypeError

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def test_header_bytes_match_the_mnist_layout():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = encode_idx(images)
    assert raw[:4] == bytes([0, 0, 0x08, 3])
    assert raw[4:16] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + (4).to_bytes(4, "big")
    assert raw[16:] == images.tobytes()
    assert len(raw) == 16 + 24


def test_multibyte_values_are_big_endian():
    raw = encode_idx(np.array([1, 256], dtype=np.int32))
    assert raw[:4] == bytes([0, 0, 0x0C, 1])
    assert raw[8:] == bytes([0, 0, 0, 1, 0, 0, 1, 0])
    decoded = parse_idx(raw)
    assert decoded.dtype == np.dtype(np.int32) and decoded.dtype.isnative
    np.testing.assert_array_equal(decoded, [1, 256])


@settings(max_examples=60, deadline=None)
@given(
    array=st.sampled_from(IDX_DTYPES).flatmap(
        lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
                              elements=hnp.from_dtype(np.dtype(dt), allow_nan=False))
    ),
    compress=st.booleans(),
)
def test_round_trip_through_a_file(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path, ndim=array.ndim)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@settings(max_examples=100, deadline=None)
@given(
    array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6)),
    cut=st.integers(min_value=1, max_value=400),
)
def test_any_truncation_is_rejected(array, cut):
    raw = encode_idx(array)
    cut = min(cut, len(raw))
    with pytest.raises(DataError, match="help:"):
        parse_idx(raw[: len(raw) - cut])


@settings(max_examples=100, deadline=None)
@given(blob=st.binary(max_size=64))
def test_random_bytes_either_parse_consistently_or_raise_data_error(blob):
    try:
        array = parse_idx(blob)
    except DataError as exc:
        assert "help:" in str(exc)
    else:  # a valid file by chance: it must re-encode to exactly the same bytes
        assert encode_idx(array) == blob


@pytest.mark.parametrize(
    "magic, message",
    [(bytes([0, 0, 0x07, 1]), "magic number 0x00000701"),
     (bytes([1, 0, 0x08, 1]), "magic number 0x01000801"),
     (b"<htm", "magic number 0x3C68746D")],
)
def test_wrong_magic_number_is_rejected(magic, message):
    raw = magic + (3).to_bytes(4, "big") + b"\x00\x01\x02"
    with pytest.raises(DataError, match=message):
        parse_idx(raw, name="labels.idx")


def test_wrong_number_of_dimensions_is_rejected_and_named():
    raw = encode_idx(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(DataError, match=r"has 2 dimensions .* expected 1"):
        parse_idx(raw, ndim=1, name="train-labels")


def test_trailing_bytes_are_rejected():
    raw = encode_idx(np.zeros(3, dtype=np.uint8)) + b"\x00"
    with pytest.raises(DataError, match="longer than its header says"):
        parse_idx(raw)


def test_truncated_gzip_file_is_rejected(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(1000, dtype=np.int16)))[:-20])
    with pytest.raises(DataError, match="cannot be decompressed"):
        read_idx(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope.idx")


def test_unsupported_dtype_is_rejected():
    with pytest.raises(DTypeError, match="int64"):
        encode_idx(np.zeros(3, dtype=np.int64))


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "labels.idx"
    write_idx(target, np.array([5, 0, 4], dtype=np.uint8))
    assert sorted(p.name for p in target.parent.iterdir()) == ["labels.idx"]
    np.testing.assert_array_equal(read_idx(target), [5, 0, 4])
