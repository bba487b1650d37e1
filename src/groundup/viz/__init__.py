"""Every plot in groundup (matplotlib, imported only when a plot is drawn).

``plot_curves``, ``plot_confusion_matrix``, ``plot_mistakes``, ``plot_filters`` (training runs),
``plot_tree`` (decision trees, like scikit-learn's), ``attention_heatmap`` (attention weights).
"""

_WHERE = {
    "plot_curves": "training", "plot_confusion_matrix": "training", "plot_mistakes": "training",
    "plot_filters": "training", "plot_tree": "tree", "attention_heatmap": "attention",
}


def __getattr__(name):
    # Load the module that draws ``name`` on first use, so importing groundup.viz costs nothing.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"groundup.viz.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'groundup.viz' has no attribute {name!r}")


__all__ = sorted(_WHERE)
