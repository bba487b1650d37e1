"""attention_heatmap draws real attention weights (skipped without matplotlib)."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import nn


def test_attention_heatmap_from_a_real_model(tmp_path):
    pytest.importorskip("matplotlib")
    from groundup.viz.attention import attention_heatmap

    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gu.randn(1, 5, 8)
    _, w = mha(x, x, x, average_attn_weights=False)           # (1, 2, 5, 5)
    tokens = "the cat sat on mat".split()
    fig = attention_heatmap(w, tokens, path=tmp_path / "heads.png")
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert len(axes) == 2  # one panel per head
    shown = axes[1].images[0].get_array()
    np.testing.assert_allclose(np.asarray(shown), w.data[0, 1])
    assert [t.get_text() for t in axes[0].get_xticklabels()] == tokens
    assert (tmp_path / "heads.png").stat().st_size > 1000
    single = attention_heatmap(w.data[0].mean(0), tokens)
    assert len([ax for ax in single.axes if ax.images]) == 1
    with pytest.raises(ValueError, match="key labels"):
        attention_heatmap(w.data[0, 0], tokens[:3])
    with pytest.raises(ValueError, match=r"weights of shape \(5,\)"):
        attention_heatmap(np.ones(5))
