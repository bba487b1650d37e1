"""Random-number generators: every random function in groundup draws from an explicit NumPy
``Generator``; ``manual_seed(s)`` reseeds the default one, so the same seed gives the same numbers.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers (PyTorch's ``torch.Generator``), wrapping a NumPy
    ``np.random.Generator`` (PCG64). Its state can be saved and restored exactly."""

    __slots__ = ("_rng", "_seed")

    def __init__(self, seed: int | None = None) -> None:
        self.manual_seed(0 if seed is None else seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed in place; returns self."""
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The bit generator's full state (JSON-serialisable dict)."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state

    @property
    def numpy(self) -> np.random.Generator:
        """The underlying NumPy generator."""
        return self._rng

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: every random function that is not given a generator then
    produces the same numbers for the same seed. Returns the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(s)
    return s


def get_rng_state() -> dict:
    """The default generator's state."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)


def as_numpy_generator(generator=None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator`` (a groundup or NumPy Generator, or an int
    seed) or the default one."""
    if generator is None:
        return default_generator.numpy
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be a groundup.Generator, a numpy Generator or an int seed, "
                    f"got {type(generator).__name__}; help: pass groundup.Generator(seed)")
