"""``summary(model, input_shape)``: each layer's output shape and parameter count, and the
totals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from groundup.autograd.grad_mode import no_grad
from groundup.nn.module import Module
from groundup.tensor import Tensor


@dataclass
class LayerInfo:
    """One row of a summary: dotted name, layer type, output shape, parameter count."""

    name: str
    type: str
    output_shape: tuple
    params: int
    trainable: int


@dataclass
class ModelSummary:
    """What :func:`summary` measured; ``str()`` gives the printed table."""

    layers: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_shape: tuple = ()
    output_shape: tuple = ()
    notes: list = field(default_factory=list)

    @property
    def non_trainable_params(self) -> int:
        """Parameters with requires_grad=False (frozen)."""
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        rows = [(f"{l.name} ({l.type})", str(l.output_shape), f"{l.params:,}") for l in self.layers]
        head = ("Layer (type)", "Output Shape", "Param #")
        w = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
        line = "-" * (w[0] + w[1] + w[2] + 6)
        fmt = f"{{:<{w[0]}}}   {{:<{w[1]}}}   {{:>{w[2]}}}"
        out = [line, fmt.format(*head), "=" * len(line)]
        out += [fmt.format(*r) for r in rows]
        out += ["=" * len(line),
                f"Input shape: {self.input_shape}",
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                line]
        out += self.notes
        return "\n".join(out)

    __repr__ = __str__


def _shape_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return tuple(_shape_of(o) for o in out)
    return ()


def summary(model: Module, input_shape, dtype=np.float32, print_summary: bool = True,
            input=None) -> ModelSummary:
    """Run one forward pass on zeros of ``input_shape`` (the full shape, batch axis included, as
    torchinfo does; or pass ``input``) and report, for every leaf layer in call order, its output
    shape and parameter count (n_out·(n_in + 1) for a Linear), then the totals.

    The pass runs in eval mode under ``no_grad`` (batch-norm statistics are not touched) and the
    model's modes are restored afterwards. Prints the table unless ``print_summary=False``;
    returns a :class:`ModelSummary`.
    """
    x = input if input is not None else Tensor(np.zeros(tuple(input_shape), dtype=dtype))
    rows: list[LayerInfo] = []
    handles = []
    for name, mod in model.named_modules():
        own = list(mod._parameters.values())
        if mod is model and mod._modules:
            continue
        if mod._modules and not any(p is not None for p in own):
            continue

        def hook(m, inputs, out, name=name):
            ps = [p for p in m._parameters.values() if p is not None]
            rows.append(LayerInfo(name or type(m).__name__, type(m).__name__, _shape_of(out),
                                  sum(p.numel() for p in ps),
                                  sum(p.numel() for p in ps if p.requires_grad)))

        handles.append(mod.register_forward_hook(hook))
    modes = {id(m): m.training for m in model.modules()}
    try:
        model.eval()
        with no_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.__dict__["training"] = modes[id(m)]
    params = list(model.parameters())
    result = ModelSummary(rows, sum(p.numel() for p in params),
                          sum(p.numel() for p in params if p.requires_grad),
                          tuple(x.shape), _shape_of(out))
    result.notes = [_lstm_note(name, m) for name, m in model.named_modules()
                    if type(m).__name__ == "LSTM"]
    if print_summary:
        print(result)
    return result


def _lstm_note(name: str, lstm) -> str:
    """Explain an LSTM's count: 4 gates × H × (in + H) weights, plus biases — one vector per gate
    in the course's equations, two (b_ih and b_hh) in PyTorch's layout, which groundup follows."""
    from groundup.nn.layers.rnn import lstm_parameter_count

    args = (lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bidirectional)
    one = lstm_parameter_count(*args, biases_per_gate=1)
    two = lstm_parameter_count(*args, biases_per_gate=2)
    weights = lstm_parameter_count(*args, biases_per_gate=0)
    h, n_in = lstm.hidden_size, lstm.input_size
    return (f"note: {name or 'LSTM'} (input {n_in}, hidden {h}) has 4 gates x {h} x ({n_in} + {h}) "
            f"weights per layer and direction = {weights:,} in all; with one bias vector per "
            f"gate (the course's equations) {one:,} parameters, with PyTorch's two (b_ih and "
            f"b_hh, the layout used here) {two:,}.")
