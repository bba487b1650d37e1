"""Text rendering of a fitted tree, in scikit-learn's ``export_text`` layout."""

from __future__ import annotations

import numpy as np

from groundup.errors import hint
from groundup.ml.base import check_is_fitted

from ._tree import TREE_LEAF


def export_text(decision_tree, *, feature_names=None, class_names=None, max_depth=10, spacing=3,
                decimals=2, show_weights=False) -> str:
    """The rules of a fitted tree as indented text, one ``|--- feature <= t`` line per branch.

    Leaves show ``class: c`` (classifier) or ``value: [v]`` (regressor); ``show_weights`` adds the
    weighted class counts. Branches deeper than ``max_depth`` are summarised as ``truncated``.
    A categorical node reads ``feature in {0, 2, 5}`` on its left branch and ``not in`` on its right.
    """
    check_is_fitted(decision_tree, "tree_")
    tree = decision_tree.tree_
    n_features = decision_tree.n_features_in_
    if feature_names is None:
        feature_names = [f"feature_{i}" for i in range(n_features)]
    elif len(feature_names) != n_features:
        raise ValueError(hint(f"export_text: feature_names has {len(feature_names)} names, the tree has "
                              f"{n_features} features", "pass one name per column of X"))
    classes = getattr(decision_tree, "classes_", None)
    if class_names is None and classes is not None:
        class_names = classes
    bar = "|" + " " * spacing
    lines = []

    def leaf_text(node):
        value = tree.value[node, 0]
        if classes is None:
            return f"value: [{np.round(value[0], decimals)}]"
        text = f"class: {class_names[int(np.argmax(value))]}"
        if show_weights:
            weights = np.round(value * tree.weighted_n_node_samples[node], decimals)
            text = f"weights: {weights.tolist()} " + text
        return text

    stack = [(0, 0, None)]
    while stack:
        node, depth, side = stack.pop()
        indent = bar * depth + "|" + "-" * spacing + " "
        if side is not None:
            parent, is_left = side
            name = feature_names[tree.feature[parent]]
            if tree.is_categorical[parent]:  # a category-set question
                question = f"{name} {'in' if is_left else 'not in'} {category_set_text(tree, parent)}"
            else:
                op = "<=" if is_left else "> "
                question = f"{name} {op} {tree.threshold[parent]:.{decimals}f}"
            lines.append(bar * (depth - 1) + "|" + "-" * spacing + " " + question)
        if tree.children_left[node] == TREE_LEAF:
            lines.append(indent + leaf_text(node))
        elif depth >= max_depth:
            lines.append(indent + f"truncated branch of depth {_subtree_depth(tree, node)}")
        else:
            stack.append((tree.children_right[node], depth + 1, (node, False)))
            stack.append((tree.children_left[node], depth + 1, (node, True)))
    return "\n".join(lines) + "\n"


def category_set_text(tree, node, limit=12):
    """The categories a categorical node sends left, as ``{0, 2, 5}`` (long sets shortened)."""
    cats = [str(int(c)) for c in tree.categories_left(node)]
    if len(cats) > limit:
        cats = cats[: limit - 1] + ["…", cats[-1]]
    return "{" + ", ".join(cats) + "}"


def _subtree_depth(tree, node):
    depth, frontier = 0, [node]
    while frontier:
        nxt = [c for n in frontier if tree.children_left[n] != TREE_LEAF
               for c in (tree.children_left[n], tree.children_right[n])]
        if nxt:
            depth += 1
        frontier = nxt
    return depth
