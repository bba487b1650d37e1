"""``Optimizer``: the base class of every optimizer (PyTorch's design).

An optimizer holds ``param_groups`` -- a list of dicts, each with ``"params"`` (the tensors it updates)
and that group's options (``lr``, ``momentum``, ...; missing options come from ``defaults``) -- and
``state``, a dict from parameter to that parameter's buffers (``{"step": 3, "exp_avg": array, ...}``).

Training loop::

    opt = groundup.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

How a step runs (the same for every optimizer here):

* Updates work on NumPy arrays (``p.data``, ``p.grad.data``) in place with ``out=`` arguments; no graph
  is recorded and no ``Tensor`` is created. Parameters whose ``.grad`` is ``None`` are skipped.
* **Flat path** (default, ``foreach=None``/``True``): when every parameter of a group has a gradient,
  all have one dtype and their states are in step, the group's state buffers (``exp_avg``, ...) live in
  one contiguous array per buffer, ``state[p]["exp_avg"]`` is a view into it, the gradients are copied
  into one flat scratch array and the update is a handful of large ufunc calls over the whole group.
* **Per-parameter path** (``foreach=False``, or whenever the flat path does not apply): the same
  element-wise kernel runs once per parameter. Both paths perform the same floating-point operations
  on each element, so they give bit-identical results.

``state_dict()`` gives ``{"state": {index: {name: ndarray}}, "param_groups": [{..., "params":
[indices]}]}`` with parameters numbered in group order, as PyTorch does, so it can be saved as named
arrays (safetensors) plus JSON. Arrays are copies; ``step`` is a 0-d float32 array (PyTorch's
``tensor(3.)``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from groundup._threads import parallel_for
from groundup.autograd.grad_mode import enable_grad
from groundup.errors import DTypeError, GroundupError, hint

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marker for an option that has no default (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class OptimizerError(GroundupError, ValueError):
    """Bad optimizer arguments: parameters, options or a state_dict that does not fit."""


def _check_nonneg(name: str, key: str, value) -> None:
    """Refuse a negative (or NaN) option value such as a learning rate."""
    if value is required:
        return
    try:
        ok = float(value) >= 0.0
    except (TypeError, ValueError):
        raise OptimizerError(hint(f"{name}: invalid {key} {value!r} (not a number)",
                                  f"pass {key} as a non-negative float")) from None
    if not ok:
        raise OptimizerError(hint(f"{name}: invalid {key} {value!r} (must be >= 0)",
                                  f"pass {key} >= 0, e.g. {key}=1e-3" if key == "lr"
                                  else f"pass {key} >= 0"))


def _check_beta(name: str, key: str, value, low_inclusive: bool = True) -> None:
    """Refuse a decay rate outside [0, 1)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptimizerError(hint(f"{name}: invalid {key} {value!r} (not a number)",
                                  f"{key} is a float in [0, 1)")) from None
    if not (0.0 <= v < 1.0):
        raise OptimizerError(hint(f"{name}: invalid {key} {value!r} (must be in [0, 1))",
                                  f"{key} is the decay rate of a moving average, e.g. 0.9 or 0.999"))


class _Flat:
    """One group's state buffers as contiguous arrays, with per-parameter views into them."""

    __slots__ = ("params", "dtype", "size", "names", "bufs", "views", "grad", "grad_views",
                 "scratch", "scratch_views", "extra")

    def __init__(self, params, names, dtype):
        self.params = tuple(params)
        self.dtype = dtype
        sizes = [p.data.size for p in params]
        self.size = int(sum(sizes))
        offsets = np.cumsum([0, *sizes])
        slices = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:])]
        shapes = [p.data.shape for p in params]

        def views(flat):
            return [flat[s].reshape(shape) for s, shape in zip(slices, shapes)]

        self.names = tuple(names)
        self.bufs = {n: np.zeros(self.size, dtype) for n in names}
        self.views = {n: views(self.bufs[n]) for n in names}
        self.grad = np.empty(self.size, dtype)
        self.grad_views = views(self.grad)
        self.scratch = np.empty(self.size, dtype)
        self.scratch_views = views(self.scratch)
        self.extra = {}  # more flat scratch arrays, made on demand by a kernel

    def buffer(self, name: str) -> np.ndarray:
        """A flat scratch array ``name`` (allocated once)."""
        arr = self.extra.get(name)
        if arr is None:
            arr = self.extra[name] = np.empty(self.size, self.dtype)
        return arr


class Optimizer:
    """Base class of all optimizers.

    ``params``: an iterable of tensors (``model.parameters()``) or of dicts, each a parameter group
    ``{"params": [...], "lr": ..., ...}`` whose options override ``defaults``.
    ``defaults``: the options of groups that do not set them.

    Subclasses define ``_state_names(group)`` (names of the array buffers of each parameter),
    ``_init_state(p, group)`` (a parameter's fresh state) and ``_kernel(group, step, params, grads,
    states, out)`` (the element-wise update, written for arrays so that it runs on one parameter or on
    a whole flattened group).
    """

    # Array state created lazily on the first step (SGD's momentum buffer is a copy of the first
    # gradient); every other state buffer is created by ``_init_state``.
    _lazy_state: tuple[str, ...] = ()
    # True when the state has a step counter.
    _has_step: bool = True

    def __init__(self, params, defaults: dict) -> None:
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._flat: dict[int, _Flat] = {}
        self._scratch: dict[tuple, np.ndarray] = {}
        if hasattr(params, "data") and hasattr(params, "requires_grad"):
            raise OptimizerError(hint(
                f"{name}: params should be an iterable of Tensors or dicts, got a single "
                f"{type(params).__name__}",
                "pass model.parameters() or a list: " + name + "([w], lr=...)",
            ))
        if isinstance(params, (set, frozenset)):
            raise OptimizerError(hint(
                f"{name}: params given as a {type(params).__name__}, whose order changes between "
                "runs",
                "pass a list (or model.parameters()) so that the state_dict order is reproducible",
            ))
        if isinstance(params, dict):
            params = [params]
        if not isinstance(params, Iterable):
            raise OptimizerError(hint(
                f"{name}: params should be an iterable of Tensors or dicts, got "
                f"{type(params).__name__}", "pass model.parameters()"))
        groups = list(params)
        if len(groups) == 0:
            raise OptimizerError(hint(
                f"{name} got an empty parameter list",
                "the model has no parameters, or model.parameters() (a generator) was already "
                "consumed; call model.parameters() again",
            ))
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a lower ``lr`` for a pretrained
        body). Options not given are taken from ``defaults``."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise OptimizerError(hint(
                f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}",
                'pass {"params": [...], "lr": ...}'))
        if "params" not in param_group:
            raise OptimizerError(hint(f"{name}.add_param_group: the group has no 'params' key",
                                      'pass {"params": [...], ...}'))
        params = param_group["params"]
        if hasattr(params, "data") and hasattr(params, "requires_grad"):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise OptimizerError(hint(
                f"{name}: parameter group given as a {type(params).__name__}, whose order "
                "changes between runs", "pass a list"))
        else:
            params = list(params)
        if len(params) == 0:
            raise OptimizerError(hint(f"{name} got a parameter group with no parameters",
                                      "leave the group out, or check which parameters you "
                                      "selected"))
        for i, p in enumerate(params):
            if not (hasattr(p, "data") and hasattr(p, "grad") and hasattr(p, "requires_grad")):
                raise OptimizerError(hint(
                    f"{name} can only optimize Tensors, but params[{i}] is a "
                    f"{type(p).__name__}", "pass model.parameters() or tensors made with "
                    "requires_grad=True"))
            if getattr(p.data, "dtype", None) is None or p.data.dtype.kind != "f":
                raise DTypeError(hint(
                    f"{name} can only optimize floating-point tensors, params[{i}] has dtype "
                    f"{getattr(p.data, 'dtype', None)}", "convert with .float() or .double()"))
            if not p.requires_grad:
                raise OptimizerError(hint(
                    f"{name}: params[{i}] (shape {tuple(p.data.shape)}) does not require grad, "
                    "so it would never be updated",
                    "create it with requires_grad=True, or leave frozen parameters out"))
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            dup = next(i for i, x in enumerate(ids) if ids.index(x) != i)
            raise OptimizerError(hint(
                f"{name}: parameter params[{dup}] (shape {tuple(params[dup].data.shape)}) appears "
                "more than once in the group", "pass each parameter once; a parameter given twice "
                "would be updated twice per step"))
        if seen.intersection(ids):
            dup = next(i for i, x in enumerate(ids) if x in seen)
            raise OptimizerError(hint(
                f"{name}: parameter params[{dup}] (shape {tuple(params[dup].data.shape)}) is "
                "already in another parameter group", "each parameter may belong to one group "
                "only"))
        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            if value is required and key not in group:
                raise OptimizerError(hint(
                    f"{name}: parameter group didn't specify a value of required option {key!r}",
                    f"pass {key}=... to {name}() or in the group"))
            group.setdefault(key, value)
        for key in ("lr", "weight_decay", "eps"):
            if key in group:
                _check_nonneg(name, key, group[key])
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Validate a subclass's own options (hook)."""

    # ------------------------------------------------------------------ grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters: ``p.grad = None`` (default, like PyTorch), or fill
        them with zeros when ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data.fill(0)

    # ------------------------------------------------------------------ step
    def step(self, closure=None):
        """Perform one optimization step and return the closure's loss (or None).

        ``closure``: a function that clears the gradients, recomputes the loss, calls backward and
        returns the loss; it is called with gradients enabled before the update.
        """
        self._opt_called = True  # lets a scheduler warn when it is stepped first
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        params = group["params"]
        with_grad = [p for p in params if p.grad is not None]
        if not with_grad:
            return
        flat = None
        foreach = group.get("foreach", None)
        if foreach is not False and len(with_grad) == len(params) and (
                foreach or len(params) > 8 or self._state_names(group)):
            # (a stateless update of a few parameters -- plain SGD -- gains nothing from
            # gathering the gradients, so it stays per parameter unless foreach=True)
            flat = self._flat_for(group)
        if flat is not None:
            self._step_flat(group, flat)
        else:
            for p in with_grad:
                self._step_single(group, p)

    def _grad_array(self, p, name: str) -> np.ndarray:
        g = p.grad.data if hasattr(p.grad, "data") else np.asarray(p.grad)
        if g.shape != p.data.shape:
            raise OptimizerError(hint(
                f"{name}: a parameter of shape {tuple(p.data.shape)} has a gradient of shape "
                f"{tuple(g.shape)}", "the gradient must have the parameter's shape"))
        return g

    def _buf(self, key: str, like: np.ndarray) -> np.ndarray:
        """A reusable scratch array shaped like ``like`` (per-parameter path)."""
        k = (key, like.shape, like.dtype)
        arr = self._scratch.get(k)
        if arr is None:
            arr = self._scratch[k] = np.empty(like.shape, like.dtype)
        return arr

    def _prepared_grad(self, group, p, g, out):
        """The gradient the update uses: negated when maximizing, plus ``weight_decay * p`` (L2
        penalty, coupled form). Returns ``g`` itself (unmodified) when neither applies, else ``out``."""
        maximize = group.get("maximize", False)
        wd = group.get("weight_decay", 0) if not group.get("decoupled_weight_decay") else 0
        if not maximize and not wd:
            return g
        if maximize:
            np.negative(g, out=out)
        elif out is not g:
            np.copyto(out, g)
        if wd:
            tmp = self._buf("wd", p.data)
            np.multiply(p.data, wd, out=tmp)
            np.add(out, tmp, out=out)
        return out

    def _step_single(self, group: dict, p) -> None:
        name = type(self).__name__
        g = self._grad_array(p, name)
        state = self.state[p]
        if not state:
            state.update(self._init_state(p, group))
        names = self._state_names(group)
        fresh = self._fresh_lazy(state, names)
        if fresh:
            for key in self._lazy_state:
                if key in names:
                    state[key] = np.empty_like(p.data)
        g = self._prepared_grad(group, p, g, self._buf("g", p.data))
        if self._has_step:
            state["step"] = state.get("step", 0) + 1
            step = state["step"]
        else:
            step = None
        self._pre_update(group, [p])
        delta = self._buf("delta", p.data)
        self._kernel(group, step, g, state, delta, fresh=fresh)
        np.subtract(p.data, delta, out=p.data)
        self._bump_version(p)

    def _fresh_lazy(self, state, names) -> bool:
        """True when a lazily created buffer (SGD's momentum) does not exist yet."""
        return any(k in names and state.get(k) is None for k in self._lazy_state)

    def _step_flat(self, group: dict, flat: _Flat) -> None:
        name = type(self).__name__
        params = flat.params
        state = self.state
        # Gather the gradients into one flat array (one copy per parameter).
        for p, gv in zip(params, flat.grad_views):
            np.copyto(gv, self._grad_array(p, name))
        g = self._prepared_grad_flat(group, flat)
        if self._has_step:
            step = state[params[0]]["step"] + 1
            for p in params:
                state[p]["step"] = step
        else:
            step = None
        self._pre_update(group, params)
        names = flat.names
        fresh = self._fresh_lazy(state[params[0]], names)
        bufs, out = flat.bufs, flat.scratch

        def update(a, b):   # the kernels are elementwise: slices of the flat arrays run apart
            self._kernel(group, step, g[a:b], {k: v[a:b] for k, v in bufs.items()}, out[a:b],
                         fresh=fresh)

        parallel_for(g.size, update, g.size)       # split from ~260k parameters up
        if fresh:
            for key in self._lazy_state:
                if key in names:
                    for i, p in enumerate(params):
                        state[p][key] = flat.views[key][i]
        for p, d in zip(params, flat.scratch_views):
            np.subtract(p.data, d, out=p.data)
            self._bump_version(p)

    def _prepared_grad_flat(self, group, flat: _Flat) -> np.ndarray:
        maximize = group.get("maximize", False)
        wd = group.get("weight_decay", 0) if not group.get("decoupled_weight_decay") else 0
        g = flat.grad
        if maximize:
            np.negative(g, out=g)
        if wd:
            for p, gv, tv in zip(flat.params, flat.grad_views, flat.scratch_views):
                np.multiply(p.data, wd, out=tv)
                np.add(gv, tv, out=gv)
        return g

    @staticmethod
    def _bump_version(p) -> None:
        # An in-place change: a graph that saved this parameter before the step must not be
        # back-propagated through afterwards (the engine checks versions).
        try:
            p._version += 1
        except AttributeError:
            pass

    def _pre_update(self, group: dict, params) -> None:
        """Work done on the parameters themselves before the kernel (AdamW's decoupled decay)."""

    # ------------------------------------------------------------------ the flat layout
    def _flat_for(self, group: dict) -> _Flat | None:
        """The group's flat buffers if the flat path applies, packing the state into them if
        needed; None when it does not apply (mixed dtypes, states out of step)."""
        params = group["params"]
        names = self._state_names(group)
        flat = self._flat.get(id(group))
        if flat is not None and self._flat_valid(flat, params, names):
            return flat
        dtype = params[0].data.dtype
        if any(p.data.dtype != dtype for p in params):
            return None
        states = [self.state[p] for p in params]  # (creates empty entries)
        fresh = [not s for s in states]
        if not all(fresh):
            if any(fresh):
                return None
            steps = {s.get("step") for s in states}
            if len(steps) != 1:
                return None
            keys = [frozenset(k for k in s if k != "step") for s in states]
            if len(set(keys)) != 1 or not keys[0] <= set(names):
                return None
            if any(s[k].shape != p.data.shape for s, p in zip(states, params) for k in keys[0]):
                return None
        flat = _Flat(params, names, dtype)
        for i, p in enumerate(params):
            st = self.state[p]
            if not st:
                st.update(self._init_state(p, group))
            for k in names:
                if k in st:
                    np.copyto(flat.views[k][i], st[k])
                    st[k] = flat.views[k][i]
        self._flat[id(group)] = flat
        return flat

    def _flat_valid(self, flat: _Flat, params, names) -> bool:
        if len(flat.params) != len(params) or flat.names != tuple(names):
            return False
        state = self.state
        step = None
        first = True
        for i, (a, b) in enumerate(zip(flat.params, params)):
            if a is not b or b.data.dtype != flat.dtype or b.data.shape != flat.grad_views[i].shape:
                return False
            st = state.get(b)
            if st is None:
                return False
            for k in names:
                v = st.get(k)
                if v is not flat.views[k][i] and not (v is None and k in self._lazy_state):
                    return False
            if self._has_step:
                s = st.get("step")
                if first:
                    step, first = s, False
                elif s != step:
                    return False
        if self._lazy_state:
            present = {k in state[p] for p in params for k in self._lazy_state}
            if len(present) != 1:
                return False
        return True

    # ------------------------------------------------------------------ subclass hooks
    def _state_names(self, group: dict) -> tuple[str, ...]:
        return ()

    def _init_state(self, p, group: dict) -> dict:
        return {"step": 0} if self._has_step else {}

    def _kernel(self, group, step, g, state, out, fresh=False) -> None:
        """Write the update into ``out`` so that ``p_new = p - out``; update ``state`` in place."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict:
        """``{"state": {index: {name: ndarray}}, "param_groups": [...]}``; parameters are numbered
        across groups in order; arrays are copies."""
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = list(range(start, start + len(group["params"])))
            for p, i in zip(group["params"], ids):
                index[id(p)] = i
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if not st:
                    continue
                state[index[id(p)]] = {
                    k: (np.array(v, dtype=np.float32) if k == "step" else np.array(v, copy=True))
                    for k, v in st.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by :meth:`state_dict` (arrays are copied and cast to each
        parameter's dtype). Checks everything first: on a mismatch nothing changes."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise OptimizerError(hint(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'",
                "pass what optimizer.state_dict() returned"))
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise OptimizerError(hint(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                f"groups, this optimizer has {len(self.param_groups)}",
                "build the optimizer with the same parameter groups as the one that was saved"))
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        if sizes != saved_sizes:
            raise OptimizerError(hint(
                f"{name}.load_state_dict: saved parameter groups have sizes {saved_sizes}, this "
                f"optimizer's have {sizes}",
                "build the optimizer over the same parameters, in the same order"))
        id_map = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for i, p in zip(saved["params"], group["params"]):
                id_map[int(i)] = p
        new_state = defaultdict(dict)
        problems = []
        for key, st in state_dict["state"].items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                problems.append(f"state key {key!r} is not a parameter index")
                continue
            if idx not in id_map:
                problems.append(f"state for parameter {idx}, which does not exist")
                continue
            p = id_map[idx]
            entry = {}
            for k, v in st.items():
                if k == "step":
                    entry[k] = int(round(float(np.asarray(v))))
                    continue
                if v is None:
                    entry[k] = None
                    continue
                arr = np.asarray(v.data if hasattr(v, "data") and not isinstance(v, np.ndarray)
                                 else v)
                if arr.shape != p.data.shape:
                    problems.append(f"state[{idx}][{k!r}] has shape {arr.shape}, parameter "
                                    f"{idx} has shape {p.data.shape}")
                    continue
                entry[k] = np.array(arr, dtype=p.data.dtype, copy=True)
            new_state[p] = entry
        if problems:
            raise OptimizerError(hint(
                f"{name}.load_state_dict: " + "; ".join(problems),
                "load a state_dict saved from an optimizer over the same parameters"))
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            g = {k: v for k, v in saved.items() if k != "params"}
            for k, v in list(g.items()):
                if k == "betas" and isinstance(v, list):
                    g[k] = tuple(v)
            g["params"] = group["params"]
            new_groups.append(g)
        self.param_groups[:] = new_groups
        self.state = new_state
        self._flat.clear()

    # ------------------------------------------------------------------ misc
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _bias_corrections(beta1: float, beta2: float, step: int) -> tuple[float, float]:
    """``1 - beta1**t`` and ``sqrt(1 - beta2**t)`` in Python floats (double precision)."""
    return 1.0 - beta1 ** step, math.sqrt(1.0 - beta2 ** step)
