"""``Embedding``: a lookup table of learned vectors."""

from __future__ import annotations

import numpy as np

from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter


class Embedding(Module):
    """Row lookup y = W[indices]: indices (...) int → (..., embedding_dim); ``weight``
    (num_embeddings, embedding_dim) ~ N(0, 1) (PyTorch's init). The row at ``padding_idx`` starts
    at zero and never receives a gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight=None, dtype=None, generator=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is not None:
            self.weight = Parameter(_weight)
        else:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                             dtype=np.dtype(dtype or np.float32)))
            self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Redraw W ~ N(0, 1) and zero the padding row."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None) -> Embedding:
        """An Embedding holding ``embeddings`` (V, D); frozen unless ``freeze=False``."""
        v, d = embeddings.shape
        emb = cls(v, d, padding_idx=padding_idx, _weight=embeddings)
        emb.weight.requires_grad_(not freeze)
        return emb

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
