"""Teaching tools: see the graph and watch the chain rule run.

``to_dot(t)`` renders the graph that produced ``t`` as Graphviz DOT text; ``trace(t)`` runs backward
from ``t`` (on a retained graph) and returns the nodes in the order backward visits them, each with
its op, shapes, value and the gradient that arrived at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from groundup.autograd.engine import topological_order


def _short(arr, limit=6) -> str:
    a = np.asarray(arr)
    if a.size == 1:
        return f"{a.reshape(()).item():.4g}"
    flat = ", ".join(f"{v:.4g}" for v in a.reshape(-1)[:limit])
    return f"[{flat}{', …' if a.size > limit else ''}]"


def to_dot(tensor, name: str = "out") -> str:
    """Graphviz DOT text of the graph behind ``tensor``: box nodes for ops (with output shape),
    ellipses for leaves (with shape and, once computed, their gradient)."""

    lines = ["digraph groundup {", '  rankdir="BT";', '  node [fontname="Helvetica"];']
    seen: set[int] = set()

    def leaf_id(t):
        return f"t{id(t)}"

    def node_id(n):
        return f"n{id(n)}"

    root = tensor._node
    if root is None:
        label = f"{name}\\n{tuple(tensor.shape)}"
        lines.append(f'  {leaf_id(tensor)} [shape=ellipse, label="{label}"];')
        lines.append("}")
        return "\n".join(lines)
    lines.append(f'  out [shape=plaintext, label="{name} {tuple(tensor.shape)}"];')
    lines.append(f"  {node_id(root)} -> out;")
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        lines.append(f'  {node_id(node)} [shape=box, style=filled, fillcolor="#dde8f7", '
                     f'label="{node.name}"];')
        for x in node.inputs:
            if not hasattr(x, "_node"):  # a constant (Python number or array)
                continue
            if x._node is not None:
                lines.append(f'  {node_id(x._node)} -> {node_id(node)} [label="{tuple(x.shape)}"];')
                stack.append(x._node)
            else:
                if id(x) not in seen:
                    seen.add(id(x))
                    label = f"leaf {tuple(x.shape)}"
                    if x.requires_grad:
                        label += "\\nrequires_grad"
                    if getattr(x, "grad", None) is not None:
                        label += f"\\ngrad={_short(x.grad.data)}"
                    color = "#f7e3c8" if x.requires_grad else "#eeeeee"
                    lines.append(f'  {leaf_id(x)} [shape=ellipse, style=filled, '
                                 f'fillcolor="{color}", label="{label}"];')
                lines.append(f"  {leaf_id(x)} -> {node_id(node)};")
    lines.append("}")
    return "\n".join(lines)


@dataclass
class TraceStep:
    """One step of backward: the op, its input and output shapes, value and incoming gradient."""

    step: int
    op: str
    input_shapes: tuple
    output_shape: tuple
    value: np.ndarray
    grad: np.ndarray


class Trace(list):
    """The backward visit order as a list of :class:`TraceStep`; ``str`` prints a table."""

    def __str__(self) -> str:
        header = f"{'step':>4}  {'op':<14} {'inputs':<28} {'output':<12} {'value':<22} grad"
        rows = [header, "-" * len(header)]
        for s in self:
            ins = ", ".join(str(tuple(x)) for x in s.input_shapes)
            rows.append(f"{s.step:>4}  {s.op:<14} {ins:<28} {str(tuple(s.output_shape)):<12} "
                        f"{_short(s.value):<22} {_short(s.grad)}")
        return "\n".join(rows)


def trace(tensor, gradient=None) -> Trace:
    """Run backward from ``tensor`` and record each node as backward visits it: its op, shapes,
    forward value and the gradient of the loss with respect to its output. The graph is retained
    and leaf ``.grad``s are accumulated as by ``backward``."""
    from groundup.autograd.engine import run_backward
    from groundup.tensor import Tensor

    root = tensor._node
    if root is None:
        return Trace()
    # Each node's output value is the tensor a downstream node took as input (the root's is tensor).
    # (an output that no later op kept — e.g. the input of an add — shows as NaN)
    values = {id(root): tensor.data}
    for node in topological_order([root]):
        for x in node.inputs:
            if isinstance(x, Tensor) and x._node is not None:
                values.setdefault(id(x._node), x.data)
    steps = Trace()

    def record(node, grad):
        steps.append(TraceStep(
            step=len(steps),
            op=node.name,
            input_shapes=tuple(getattr(x, "shape", ()) for x in node.inputs),
            output_shape=tuple(grad.shape),
            value=np.array(values.get(id(node), np.nan)),
            grad=grad.data.copy(),
        ))

    g = gradient if gradient is not None else Tensor(np.ones_like(tensor.data))
    run_backward([tensor], [g], retain_graph=True, on_node=record)
    return steps
