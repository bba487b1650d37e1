"""groundup: machine learning from the ground up, on NumPy.

``import groundup as gu`` gives PyTorch's tensor API: ``gu.tensor``, ``gu.zeros``, ``gu.randn``,
``gu.no_grad``, ``gu.manual_seed``, the differentiable functions (``gu.exp``, ``gu.matmul``, ...), and
the subpackages ``autograd``, ``nn``, ``optim``, ``data``, ``train``, ``ml``, ``math``, ``metrics``.
"""

__version__ = "0.1.0"

from groundup._allocator import tune_allocator as _tune_allocator  # noqa: E402

_tune_allocator()  # reuse freed array memory between training steps (see groundup/_allocator.py)

from groundup import autograd  # noqa: E402
from groundup._threads import get_num_threads, set_num_threads  # noqa: E402
from groundup.autograd.grad_mode import (  # noqa: E402
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from groundup.creation import (  # noqa: E402
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from groundup.ops import *  # noqa: E402,F403
from groundup.random import (  # noqa: E402
    Generator,
    default_generator,
    get_rng_state,
    manual_seed,
    seed,
    set_rng_state,
)
from groundup.tensor import (  # noqa: E402
    Tensor,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)

# PyTorch's dtype aliases (bound here only, so that builtins stay intact inside the library).
half, double, long = float16, float64, int64
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = bool_  # noqa: A001

_SUBPACKAGES = ("nn", "optim", "data", "train", "ml", "math", "metrics", "viz", "examples", "cli")


def __getattr__(name):
    # Subpackages load on first use (``gu.nn``, ``gu.ml``), so ``import groundup`` stays light.
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"groundup.{name}")
    raise AttributeError(f"module 'groundup' has no attribute {name!r}")
