"""Which of several equally good splits a node takes.

Exact ties between candidate splits are common: on pixels or few-valued features two features often
split a node's rows the same way. scikit-learn visits a node's candidate features in a random order
and keeps the first one that reaches the best score, at its first (lowest) cut; so do all of
groundup's finders, with each candidate's **priority** (lower comes first) standing for the visiting
order:

* trees that draw features per node (``max_features < p``, extra trees): the draw order itself,
  priority = the candidate's index in the node's list;
* trees that try every feature: scikit-learn still shuffles them per node. Here each node has a
  64-bit **key** (the root's drawn from the tree's random state, a child's a hash of its parent's
  key and its side) and feature ``f``'s priority in the node is ``hash(key, f)``: a random order per
  node that every builder (depth-first, level-wise, presorted) computes the same, whatever order it
  visits the nodes in. Without a random state (``key`` None) the order is the features' own.

The rule, in every finder: the highest score; among equal scores the lowest priority; then the
lowest cut (and, with missing values, "missing to the right" before "missing to the left").
"""

from __future__ import annotations

import numpy as np

_GOLDEN, _M1, _M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_MASK = (1 << 64) - 1


def _mix64_int(z: int) -> int:
    z = (z + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def mix64(x):
    """SplitMix64's finaliser, a bijective hash of 64-bit integers (arithmetic modulo 2⁶⁴): a
    Python int for an int, a ``uint64`` array for an array (NumPy arrays wrap without warnings)."""
    if isinstance(x, (int, np.integer)):
        return _mix64_int(int(x))  # one node's key: plain ints are ~20× faster than NumPy scalars
    z = np.asarray(x, dtype=np.uint64) + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def root_key(rng) -> int | None:
    """The root's key, drawn from the tree's random state (``None`` without one)."""
    return None if rng is None else int(rng.integers(0, 2**63))


def child_keys(keys, is_left):
    """Keys of the children of nodes with ``keys`` (an int or a ``uint64`` array; ``None`` stays
    ``None``): ``hash(2·key + side)``, side 0 left, 1 right."""
    if keys is None:
        return None
    if isinstance(keys, (int, np.integer)):
        return _mix64_int((2 * int(keys) + (0 if is_left else 1)) & _MASK)
    side = np.where(np.asarray(is_left), np.uint64(0), np.uint64(1))
    return mix64(np.asarray(keys, dtype=np.uint64) * np.uint64(2) + side)


def feature_priority(keys, features):
    """Priority of ``features`` in the nodes of ``keys`` (an int or an array, broadcast against
    ``features``): ``hash(key ⊕ hash(f))``, or the feature index itself when ``keys`` is None."""
    f = np.asarray(features)
    if keys is None:
        return f.astype(np.uint64)
    k = np.uint64(keys) if isinstance(keys, (int, np.integer)) else np.asarray(keys, dtype=np.uint64)
    return mix64(mix64(np.atleast_1d(f).astype(np.uint64)) ^ k).reshape(np.broadcast_shapes(np.shape(k), f.shape))


def first_best(score, priority) -> int:
    """Index of the best entry of ``score`` (1-D): the highest score, ties to the lowest
    ``priority``, then to the earliest index."""
    top = np.flatnonzero(score == score.max())
    return int(top[np.argmin(priority[top])]) if len(top) > 1 else int(top[0])


def first_best_per_node(node, score, priority, m):
    """Per node (``node`` (k,) in ``[0, m)``), the index of its best entry among ``score`` (k,):
    the highest score, ties to the lowest ``priority``, then the earliest index. Returns the
    winners' indices (one per node that has an entry, in node order)."""
    top = np.full(m, -np.inf)
    np.maximum.at(top, node, score)
    tie = np.flatnonzero(score == top[node])
    if len(tie) == len(np.unique(node[tie])):
        return tie[np.argsort(node[tie], kind="stable")]
    o = np.lexsort((tie, priority[tie], node[tie]))
    t = tie[o]
    nt = node[t]
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = nt[1:] != nt[:-1]
    return t[keep]
