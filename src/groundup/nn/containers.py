"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict`` (PyTorch's semantics and names)."""

from __future__ import annotations

from collections import OrderedDict

from groundup.nn.module import Module


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Built from modules (named "0", "1", ...) or from one ``OrderedDict`` of name → module.
    Indexing with an int gives a layer, with a slice a new Sequential.
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, mod in args[0].items():
                self.add_module(name, mod)
        else:
            for i, mod in enumerate(args):
                self.add_module(str(i), mod)
        self._refresh()

    def _refresh(self) -> None:
        # The forward loop reads this tuple: cheaper than walking the OrderedDict each call.
        self.__dict__["_layers"] = tuple(m for m in self._modules.values() if m is not None)

    def add_module(self, name, module) -> None:
        super().add_module(name, module)
        if "_layers" in self.__dict__:
            self._refresh()

    def __setattr__(self, name, value) -> None:
        super().__setattr__(name, value)
        if name in self._modules and "_layers" in self.__dict__:
            self._refresh()  # ``seq.extra = Linear(...)`` joins the forward pass, as in PyTorch

    def forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    def append(self, module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> Sequential:
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module) -> Sequential:
        """Insert ``module`` before position ``index`` (renumbering the names); returns self."""
        mods = list(self._modules.values())
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {n}")
        mods.insert(index % (n + 1) if index < 0 else index, module)
        self._reset(mods)
        return self

    def _reset(self, mods) -> None:
        for name in list(self._modules):
            self._discard(name)
            self.__dict__.pop(name, None)
        for i, m in enumerate(mods):
            Module.add_module(self, str(i), m)
        self._refresh()

    def pop(self, index: int = -1):
        """Remove and return the module at ``index`` (renumbering the names)."""
        mods = list(self._modules.values())
        m = mods.pop(index)
        self._reset(mods)
        return m

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        n = len(keys)
        if not -n <= idx < n:
            raise IndexError(f"Sequential index {idx} is out of range for length {n}")
        return self._modules[keys[idx]]

    def __setitem__(self, idx: int, module) -> None:
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        doomed = set(keys[idx] if isinstance(idx, slice) else [keys[idx]])
        self._reset([m for k, m in self._modules.items() if k not in doomed])

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them).
    It has no ``forward``; iterate over it in your own."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"ModuleList index {idx} is out of range for length {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module) -> None:
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx) -> None:
        mods = list(self._modules.values())
        del mods[idx]
        for name in list(self._modules):
            self._discard(name)
            self.__dict__.pop(name, None)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def append(self, module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module) -> None:
        """Insert ``module`` before position ``index``."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        for name in list(self._modules):
            self._discard(name)
            self.__dict__.pop(name, None)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); help: loop over its modules in "
                                  "your own forward, or use nn.Sequential")


class ModuleDict(Module):
    """An ordered dict of name → module whose parameters are registered."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self._discard(key)
        self.__dict__.pop(key, None)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove and return the module named ``key``."""
        m = self._modules[key]
        del self[key]
        return m

    def clear(self) -> None:
        """Remove every module."""
        for k in list(self._modules):
            del self[k]

    def update(self, modules) -> None:
        """Add (or replace) modules from a mapping or (name, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); help: call its modules by name")
