"""``Dropout`` (inverted), ``Dropout1d``, ``Dropout2d``."""

from __future__ import annotations

from groundup.nn import functional as F
from groundup.nn.module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False, generator=None) -> None:
        super().__init__()
        F._check_p(p, type(self).__name__)
        self.p = p
        self.inplace = inplace
        self.generator = generator

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: in training zero each element with probability p and scale the rest by
    1/(1−p) (so E[y] = x); in eval the identity. Any shape. ``generator`` makes the masks
    reproducible independently of the global seed."""

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        return F.dropout(x, self.p, True, generator=self.generator)


class Dropout2d(_DropoutNd):
    """Channel dropout for (N, C, H, W) (or (N, C, L)): zero whole channels with probability p,
    scale the rest by 1/(1−p); identity in eval."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, generator=self.generator)


class Dropout1d(_DropoutNd):
    """Channel dropout for (N, C, L); identity in eval."""

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training, generator=self.generator)
