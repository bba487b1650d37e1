"""``Module``: the base class of every layer and model (PyTorch's ``nn.Module``).

A module owns parameters, buffers and submodules. They are registered by plain attribute assignment
(``self.fc = Linear(4, 5)``, ``self.weight = Parameter(...)``) and kept in three ordered dicts
(``_parameters``, ``_buffers``, ``_modules``) that ``parameters()``, ``state_dict()`` and friends
walk.

Speed: every registered value is *also* stored as an ordinary instance attribute, so reading
``self.weight`` in ``forward`` is a plain dict lookup with no ``__getattr__`` detour.
``__setattr__`` keeps both places in sync; only assignment pays for the bookkeeping.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from groundup.errors import CheckpointError, DTypeError, hint
from groundup.nn.parameter import Parameter
from groundup.tensor import Tensor, as_array

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (idempotent)."""
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of all layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters/submodules as attributes, and
    define ``forward(*inputs)``; calling the module runs ``forward`` (and any hooks). ``training``
    is True after construction; ``eval()`` switches dropout and batch norm to inference behaviour.
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()

    # ------------------------------------------------------------------ forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); help: define "
                                  "forward(self, x) in your Module subclass")

    def __call__(self, *args, **kwargs):
        if not (self._forward_hooks or self._forward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, inputs, output)`` runs after ``forward``; a non-None return replaces the
        output."""
        h = RemovableHandle(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, inputs)`` runs before ``forward``; a non-None return replaces the
        inputs."""
        h = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call; "
                                     "help: call super().__init__() first")
            if name not in params:
                self._discard(name)
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign submodules before Module.__init__() call; "
                                     "help: call super().__init__() first")
            if name not in d["_modules"]:
                self._discard(name)
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(hint(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__}",
                    "wrap it in nn.Parameter(...) or assign None",
                ))
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(hint(
                    f"cannot assign {type(value).__name__} as child module {name!r}",
                    "assign an nn.Module or None",
                ))
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(hint(f"cannot assign {type(value).__name__} as buffer {name!r}",
                                     "assign a Tensor or None"))
            d["_buffers"][name] = value
        d[name] = value

    def _discard(self, name: str) -> None:
        d = self.__dict__
        d["_parameters"].pop(name, None)
        d["_modules"].pop(name, None)
        d["_buffers"].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name: str):
        # Only reached when normal lookup fails: registered values live in __dict__ too.
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._discard(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        """Register ``param`` (a Parameter or None) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(hint(f"register_parameter: {name!r} must be a Parameter or None, got "
                                 f"{type(param).__name__}", "wrap it in nn.Parameter(...)"))
        self._check_name(name)
        self._discard(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register a non-learnable tensor (e.g. running statistics) that moves with ``to()`` and,
        when ``persistent``, is saved in ``state_dict()``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(as_array(tensor))
        self._check_name(name)
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module) -> None:
        """Register ``module`` (or None) as a child under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module; help: pass an "
                            "nn.Module instance")
        self._check_name(name)
        if name not in self._modules:
            self._discard(name)  # replacing a child keeps its position
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    @staticmethod
    def _check_name(name) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}; help: names are non-empty strings without '.'")

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` ("" is the module itself)."""
        mod = self
        if target:
            for part in target.split("."):
                if part not in mod._modules:
                    raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} "
                                         f"(path {target!r})")
                mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (e.g. ``"0.weight"``)."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter {name!r}")
        return mod._parameters[name]

    # ------------------------------------------------------------------ iteration
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, depth first (pre-order)."""
        if memo is None:
            memo = set()
        # An explicit stack instead of nested generators: parameters()/zero_grad() walk this
        # every training step.
        stack = [(prefix, self)]
        out = []
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            out.append((name, mod))
            children = [(f"{name}.{k}" if name else k, m) for k, m in mod._modules.items()
                        if m is not None]
            stack.extend(reversed(children))
        return iter(out)

    def modules(self):
        """This module and all descendants."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, module) of the direct children."""
        seen = set()
        for name, mod in self._modules.items():
            if mod is not None and id(mod) not in seen:
                seen.add(id(mod))
                yield name, mod

    def children(self):
        """The direct child modules (each once)."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, attr).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, Parameter), each shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """All parameters (each shared parameter once), in registration order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, buffer Tensor)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """All buffers (running statistics and the like)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) on this module and
        all descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("train(mode): mode must be a bool; help: use model.eval() for False")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (``False`` freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters: set them to None (default) or fill with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad._node is not None:
                    p.grad = p.grad.detach()
                p.grad.data[...] = 0

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every descendant (children first), then on self; returns self.
        Typical use: custom initialisation."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def to(self, *args, **kwargs) -> Module:
        """Cast floating-point parameters and buffers to ``dtype`` in place (integer buffers such
        as ``num_batches_tracked`` keep theirs). ``"cpu"`` is accepted and ignored; returns self."""
        dtype = kwargs.pop("dtype", None)
        for a in args:
            if isinstance(a, str):
                if a != "cpu":
                    raise ValueError(f"to(): device {a!r} is not available; help: groundup runs "
                                     "on the CPU only (use 'cpu')")
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        if kwargs.pop("device", "cpu") not in ("cpu", None):
            raise ValueError("to(): groundup runs on the CPU only; help: use device='cpu'")
        if dtype is None:
            return self
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(hint(f"Module.to() only accepts floating dtypes, got {dt}",
                                  "use float32 or float64"))
        return self._apply_arrays(lambda a: a.astype(dt, copy=False) if a.dtype.kind == "f" else a)

    def _apply_arrays(self, fn) -> Module:
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p.data = fn(p.data)
                if p.grad is not None:
                    p.grad.data = fn(p.grad.data)
            for b in m._buffers.values():
                if b is not None:
                    b.data = fn(b.data)
        return self

    def float(self) -> Module:  # noqa: A003
        """Cast floating parameters and buffers to float32; returns self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64; returns self."""
        return self.to(np.float64)

    def cpu(self) -> Module:
        """No-op (groundup runs on the CPU); returns self."""
        return self

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict from dotted names to tensors: every parameter and persistent buffer.
        Values share memory with the module (detached unless ``keep_vars``)."""
        if destination is None:
            destination = OrderedDict()
        mods = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for mod_prefix, mod in mods:
            pre = f"{mod_prefix}." if mod_prefix else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    destination[pre + name] = p if keep_vars else Tensor(p.data)
            for name, b in mod._buffers.items():
                if b is not None and name not in mod._non_persistent_buffers:
                    destination[pre + name] = b if keep_vars else Tensor(b.data)
        return destination

    def _state_targets(self) -> OrderedDict:
        """Dotted name → the live Tensor (parameter or persistent buffer) it loads into."""
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy ``state_dict``'s values (Tensors or arrays) into the parameters and buffers.

        Checks everything before changing anything: with ``strict`` a missing or unexpected key,
        and always a wrong shape, raises :class:`~groundup.errors.CheckpointError` listing every
        offending key, and the module is left unchanged. Returns ``(missing_keys,
        unexpected_keys)``.
        """
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        wrong = []
        arrays = {}
        for k, t in targets.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.data if isinstance(v, Tensor) else np.asarray(v)
            if tuple(arr.shape) != tuple(t.shape):
                wrong.append(f"{k}: checkpoint {tuple(arr.shape)} vs model {tuple(t.shape)}")
            arrays[k] = arr
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if wrong:
            problems.append("wrong shapes: " + "; ".join(wrong))
        if problems:
            raise CheckpointError(hint(
                f"load_state_dict into {type(self).__name__} failed ({'; '.join(problems)}); the "
                "model was not changed",
                "load weights saved from the same architecture, or pass strict=False to skip "
                "missing/unexpected keys",
            ))
        for k, arr in arrays.items():
            t = targets[k]
            if assign:
                t.data = np.array(arr, dtype=t.dtype)
            elif t.data.flags.writeable:
                t.data[...] = arr
            else:
                t.data = np.array(arr, dtype=t.dtype)
            t._version += 1
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The text inside ``Name(...)``: a layer's configuration (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, mod in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(mod), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()))

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)
