"""Draw a fitted decision tree as boxes and arrows, like scikit-learn's ``plot_tree``.

Every node is a box with its question (``feature <= threshold``, or ``feature in {categories}`` for
a categorical split; internal nodes only), impurity,
number of samples, value (class counts or proportions, or the mean target) and, for a classifier,
the majority class. ``filled=True`` colours a box by its majority class, paler the more mixed the
node (a regressor's boxes by their value). Leaves sit on a row per depth, spread left to right in
the order the tree reads them. matplotlib is imported on first use; no pyplot, no global state.
"""

from __future__ import annotations

import os

import numpy as np

from groundup.errors import hint

__all__ = ["plot_tree"]

_PALETTE = ["#e58139", "#39e581", "#8139e5", "#e5d439", "#39d4e5", "#e539c0", "#7be539", "#3956e5",
            "#e53958", "#a3a3a3"]


def _layout(tree, max_depth):
    """(x, depth) of every drawn node: leaves (or cut-off nodes) get consecutive x, parents the
    middle of their children."""
    left, right = tree.children_left, tree.children_right
    x = np.zeros(tree.node_count)
    depth = np.zeros(tree.node_count, dtype=int)
    shown, next_x = [], [0.0]

    def visit(node, d):  # iterative would be longer; a tree deeper than the recursion limit is unreadable
        depth[node] = d
        shown.append(node)
        if left[node] == -1 or d >= max_depth:
            x[node] = next_x[0]
            next_x[0] += 1.0
            return
        visit(left[node], d + 1)
        visit(right[node], d + 1)
        x[node] = (x[left[node]] + x[right[node]]) / 2.0

    visit(0, 0)
    return x, depth, shown, next_x[0]


def _num(value, precision):
    """A number as scikit-learn's plot_tree prints it: rounded to ``precision`` decimals."""
    return str(round(float(value), precision))


def _counts(values, precision):
    """Class counts: whole numbers as ints (``[50, 0, 0]``), weighted ones rounded."""
    values = np.asarray(values, dtype=np.float64)
    if np.all(values == np.round(values)):
        return "[" + ", ".join(str(int(v)) for v in values) + "]"
    return "[" + ", ".join(_num(v, precision) for v in values) + "]"


def _color(base_hex, alpha):
    rgb = np.array([int(base_hex[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return tuple(alpha * rgb + (1 - alpha) * np.ones(3))


def plot_tree(decision_tree, *, max_depth=None, feature_names=None, class_names=None, filled=False,
              impurity=True, node_ids=False, proportion=False, rounded=False, precision=3, fontsize=None,
              ax=None, path=None):
    """Plot a fitted :class:`~groundup.ml.tree.DecisionTreeClassifier` or ``...Regressor``.

    Arguments follow scikit-learn's ``plot_tree``; ``path`` saves the figure. Returns the
    ``matplotlib.figure.Figure`` (the one holding ``ax`` when an axes is given).
    """
    tree = getattr(decision_tree, "tree_", None)
    if tree is None:
        raise TypeError(hint(f"plot_tree: expected a fitted decision tree, got {type(decision_tree).__name__}",
                             "fit the tree first, or pass one tree of a forest (forest.estimators_[0])"))
    n_features = decision_tree.n_features_in_
    if feature_names is not None and len(feature_names) != n_features:
        raise ValueError(hint(f"plot_tree: feature_names has {len(feature_names)} names, the tree has "
                              f"{n_features} features", "pass one name per column of X"))
    if max_depth is not None and (not isinstance(max_depth, (int, np.integer)) or max_depth < 0):
        raise ValueError(hint(f"plot_tree: max_depth={max_depth!r}", "pass None or an int >= 0"))
    classes = getattr(decision_tree, "classes_", None)
    is_classifier = classes is not None
    if is_classifier and class_names is not None and class_names is not True and len(class_names) != len(classes):
        raise ValueError(hint(f"plot_tree: class_names has {len(class_names)} names, the tree has "
                              f"{len(classes)} classes", "pass one name per class"))
    x, depth, shown, width = _layout(tree, np.inf if max_depth is None else max_depth)
    n_levels = int(depth[shown].max()) + 1

    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(max(4.0, 2.1 * width), max(2.5, 1.7 * n_levels)), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-n_levels + 0.4, 0.6)
    crit = getattr(decision_tree, "criterion", "impurity")
    crit = {"log_loss": "entropy"}.get(crit, crit)
    fontsize = fontsize or max(5, min(10, int(11 - 0.08 * len(shown))))
    values = tree.value[:, 0, :]
    if not is_classifier and filled:
        vmin, vmax = values[:, 0].min(), values[:, 0].max()
    for node in shown:
        lines = []
        if node_ids:
            lines.append(f"node #{node}")
        cut = tree.children_left[node] != -1 and (max_depth is None or depth[node] < max_depth)
        if tree.children_left[node] != -1:
            f = int(tree.feature[node])
            name = feature_names[f] if feature_names is not None else f"x[{f}]"
            if getattr(tree, "is_categorical", None) is not None and tree.is_categorical[node]:
                from groundup.ml.tree.export import category_set_text
                lines.append(f"{name} in {category_set_text(tree, node)}")
            else:
                lines.append(f"{name} <= {_num(tree.threshold[node], precision)}")
        if impurity:
            lines.append(f"{crit} = {_num(tree.impurity[node], precision)}")
        n = tree.n_node_samples[node]
        lines.append(f"samples = {100.0 * n / tree.n_node_samples[0]:.1f}%" if proportion else f"samples = {n}")
        v = values[node]
        if is_classifier:
            counts = v if proportion else v * tree.weighted_n_node_samples[node]
            lines.append("value = " + _counts(counts, precision))
            k = int(np.argmax(v))
            if class_names is not None:
                label = str(classes[k]) if class_names is True else str(class_names[k])
                lines.append(f"class = {label}")
        else:
            lines.append(f"value = {_num(v[0], precision)}")
        face = "white"
        if filled:
            if is_classifier:
                top = np.sort(v)[::-1]
                alpha = 0.0 if len(top) < 2 or top[0] == 0 else (top[0] - top[1]) / (1.0 - top[1])
                face = _color(_PALETTE[int(np.argmax(v)) % len(_PALETTE)], float(np.clip(alpha, 0, 1)))
            else:
                alpha = 0.0 if vmax == vmin else (v[0] - vmin) / (vmax - vmin)
                face = _color(_PALETTE[0], float(alpha))
        style = "round,pad=0.3" if rounded else "square,pad=0.3"
        ax.text(x[node], -depth[node], "\n".join(lines), ha="center", va="center", fontsize=fontsize,
                bbox=dict(boxstyle=style, facecolor=face, edgecolor="black", linewidth=0.8), zorder=3)
        if cut:
            for child, label in ((tree.children_left[node], "True"), (tree.children_right[node], "False")):
                ax.annotate("", xy=(x[child], -depth[child] + 0.28), xytext=(x[node], -depth[node] - 0.28),
                            arrowprops=dict(arrowstyle="->", linewidth=0.8), zorder=1)
                if node == 0:
                    mx = (x[node] + x[child]) / 2.0
                    ax.text(mx + (-0.12 if label == "True" else 0.12), -0.5, label, ha="center",
                            fontsize=fontsize, zorder=2)
        elif tree.children_left[node] != -1:
            ax.text(x[node], -depth[node] - 0.42, "(...)", ha="center", va="top", fontsize=fontsize)
    if path is not None:
        fig.savefig(os.fspath(path), dpi=fig.dpi, bbox_inches="tight")
    return fig
