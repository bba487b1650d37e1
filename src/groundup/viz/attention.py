"""The primer's attention picture from a real model: a heatmap of attention weights, one row per
query token and one column per key token (each row is a probability distribution and sums to 1).

Like the other viz functions it builds a ``matplotlib.figure.Figure`` with the object-oriented API
(no pyplot, no GUI backend), saves it to ``path`` when given, and returns it; matplotlib is imported
on first use.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["attention_heatmap"]


def _as_array(weights) -> np.ndarray:
    data = getattr(weights, "data", weights)
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[0] == 1:  # (1, heads, L, S): one batch element
        arr = arr[0]
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"attention_heatmap: weights of shape {arr.shape}; expected (L, S) or (heads, L, S); "
            "help: pick one batch element, e.g. weights[0], and pass average_attn_weights=False "
            "to MultiheadAttention for one panel per head")
    return arr


def attention_heatmap(weights, tokens=None, query_tokens=None, path=None, title=None,
                      cmap: str = "viridis", annotate: bool | None = None):
    """Heatmap of attention weights.

    ``weights``: (L, S) (one head or averaged) or (heads, L, S) (one panel per head), a Tensor or
    array; ``tokens``: labels of the S keys (and of the L queries when ``query_tokens`` is None and
    L = S, as in self-attention); ``annotate``: write each weight in its cell (default: when the
    grid is at most 12×12). Returns the Figure (saved to ``path`` if given).
    """
    from matplotlib.figure import Figure

    arr = _as_array(weights)
    heads = arr[None] if arr.ndim == 2 else arr
    n, L, S = heads.shape
    keys = [str(t) for t in tokens] if tokens is not None else [str(j) for j in range(S)]
    if query_tokens is not None:
        queries = [str(t) for t in query_tokens]
    elif tokens is not None and L == S:
        queries = keys
    else:
        queries = [str(i) for i in range(L)]
    if len(keys) != S or len(queries) != L:
        raise ValueError(
            f"attention_heatmap: {len(queries)} query and {len(keys)} key labels for weights of "
            f"shape (L={L}, S={S}); help: give one token per row (queries) and per column (keys)")
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    cell = max(0.35, min(0.6, 8.0 / max(L, S)))
    fig = Figure(figsize=(cols * (S * cell + 1.5), rows * (L * cell + 1.2)), dpi=100,
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    annotate = (L <= 12 and S <= 12) if annotate is None else annotate
    image = None
    for h, ax in enumerate(axes):
        if h >= n:
            ax.set_visible(False)
            continue
        image = ax.imshow(heads[h], cmap=cmap, vmin=0.0, vmax=max(1e-12, heads.max()),
                          aspect="auto")
        ax.set_xticks(range(S), keys, rotation=90 if max(map(len, keys)) > 2 else 0)
        ax.set_yticks(range(L), queries)
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query")
        if n > 1:
            ax.set_title(f"head {h}")
        if annotate:
            for i in range(L):
                for j in range(S):
                    v = heads[h, i, j]
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                            color="black" if v > 0.6 * heads.max() else "white")
    fig.colorbar(image, ax=list(axes[:n]), shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(os.fspath(path), dpi=fig.dpi)
    return fig
