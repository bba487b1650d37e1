"""The backward engine: reverse-mode accumulation over the recorded graph.

``backward(roots, grads)`` walks the graph in reverse topological order (found iteratively, so a
chain of 10,000 ops needs no recursion), calls each node's ``backward`` with the gradient of its
output, and sums the gradients flowing into each input: ∂L/∂x = Σ over uses of x of the upstream
gradients (the multivariate chain rule). Leaf tensors accumulate into ``.grad`` until cleared.
"""

from __future__ import annotations

import operator

import numpy as np

from groundup.autograd import function as _function
from groundup.autograd import grad_mode
from groundup.errors import GradError, ShapeError, hint

_state = grad_mode.state


def topological_order(root_nodes) -> list:
    """Nodes reachable from ``root_nodes``, each listed after every node that consumes its output.

    An op's inputs always exist before the op runs, so each node's creation counter ``seq`` is
    larger than those of the nodes it depends on: sorting the reachable nodes by decreasing ``seq``
    is a reverse topological order (found with an explicit stack: no recursion limit).
    """
    seen = set()  # nodes hash by identity
    stack = [n for n in root_nodes if n is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        if node.freed:
            raise GradError(hint(
                f"trying to backward through the graph a second time (through {node.name}); "
                "its saved values were freed after the first backward",
                "pass retain_graph=True to the first backward() if you need to call it again",
            ))
        seen.add(node)
        for x, needs in zip(node.inputs, node.needs_input_grad):
            if needs:
                parent = x._node
                if parent is not None and parent not in seen:
                    stack.append(parent)
    return sorted(seen, key=_seq, reverse=True)


_seq = operator.attrgetter("seq")


def _check_grad_shape(node, index, value, grad) -> None:
    if grad.shape != tuple(value.shape):
        raise ShapeError(hint(
            f"{node.name}.backward returned a gradient of shape {grad.shape} for input {index} "
            f"of shape {value.shape}",
            "a backward must return one gradient per input, reduced with unbroadcast()",
        ))


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False, on_node=None):
    """Back-propagate ``root_grads`` (Tensors) from ``roots`` (Tensors).

    Without ``inputs`` leaf gradients are added to ``.grad``; with ``inputs`` (``autograd.grad``)
    their gradients are returned and nothing is accumulated. ``on_node(node, grad)`` is called as
    each node is reached (the teaching ``trace`` uses it).

    The sums ∂L/∂x = Σ upstream gradients are Tensor ops when ``create_graph`` (so they are recorded
    too); in a first-order backward they are plain NumPy additions, and a node's summed gradient is
    wrapped in a Tensor only to hand it to the op's ``backward``.
    """
    Tensor = _function._TENSOR
    root_nodes = []
    leaf_results: dict[int, object] = {}
    wanted = {id(t): t for t in inputs} if inputs is not None else None

    def deliver_leaf(leaf, g):  # g: a Tensor with create_graph, else an array
        if wanted is not None:
            if id(leaf) in wanted:
                prev = leaf_results.get(id(leaf))
                leaf_results[id(leaf)] = g if prev is None else prev + g
            return
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
        elif leaf.grad is None:
            leaf.grad = owned(g)
        else:
            leaf.grad.data += g

    handed_out: set[int] = set()

    def owned(g):
        # A fresh array in a Tensor: a pass-through backward may hand the same (or a read-only
        # broadcast) array to two leaves, and an in-place update of one grad (clipping, the next
        # accumulation) must work and must not change the other.
        if not g.flags.owndata or not g.flags.writeable or id(g) in handed_out:
            g = g.copy()
        handed_out.add(id(g))
        return Tensor(g)

    for root, g in zip(roots, root_grads):
        if not create_graph:
            g = g.data if isinstance(g, Tensor) else np.asarray(g)
        if root._node is None:
            if root.requires_grad:
                deliver_leaf(root, g)
            continue
        node = root._node
        node.acc = g if node.acc is None else node.acc + g
        root_nodes.append(node)

    wanted_nodes = None
    if wanted is not None:
        wanted_nodes = {id(t._node): t for t in inputs if t._node is not None}

    try:  # may raise (a freed graph): done before grad mode changes
        order = topological_order(root_nodes)
    except GradError:
        for node in root_nodes:
            node.acc = None
        raise
    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        for node in order:
            g = node.acc
            if g is None:
                continue
            node.acc = None
            grad = g if create_graph else Tensor(g)
            if on_node is not None:
                on_node(node, grad)
            if node.retained is not None:
                out = node.retained()
                if out is not None and wanted is None:
                    if create_graph:
                        out.grad = g if out.grad is None else out.grad + g
                    elif out.grad is None:
                        out.grad = Tensor(g.copy())
                    else:
                        out.grad.data += g
            if wanted_nodes is not None and id(node) in wanted_nodes:
                t = wanted_nodes[id(node)]
                prev = leaf_results.get(id(t))
                leaf_results[id(t)] = g if prev is None else prev + g
            for x, version in node.versions:
                if version != x._version:
                    raise GradError(hint(
                        f"an input of {node.name} (shape {x.shape}) was modified in place after "
                        "it was used, so its saved value is stale",
                        "do not modify tensors in place between forward and backward; use an "
                        "out-of-place op (x = x + 1 instead of x += 1)",
                    ))
            if create_graph:
                _function.check_twice_differentiable(node)
            grads = node.fn.backward(node, grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
            for i, (x, needs, gi) in enumerate(zip(node.inputs, node.needs_input_grad, grads)):
                if not needs or gi is None:
                    continue
                # A backward returns Tensors, or arrays (first-order fast paths, fused kernels).
                if isinstance(gi, Tensor):
                    if not create_graph:
                        gi = gi.data
                else:
                    gi = np.asarray(gi, dtype=x.dtype)
                    if create_graph:
                        gi = Tensor(gi)
                if gi.shape != x.shape:
                    _check_grad_shape(node, i, x, gi)
                if x._node is None:
                    deliver_leaf(x, gi)
                else:
                    parent = x._node
                    prev = parent.acc
                    parent.acc = gi if prev is None else prev + gi
            if not retain_graph:
                node.free()
    finally:
        _state.enabled = prev_mode
        for node in order:  # after an error part-way, leave no stale sums behind
            node.acc = None

    if inputs is not None:
        results = []
        for t in inputs:
            r = leaf_results.get(id(t))
            if r is None and not allow_unused:
                raise GradError(hint(
                    f"one of the inputs (shape {t.shape}) was not used to compute the outputs",
                    "pass allow_unused=True to get None for it",
                ))
            if r is not None and not create_graph:
                r = owned(r)
            results.append(r)
        return tuple(results)
    return None
