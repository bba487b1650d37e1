"""plot_tree draws the same boxes as scikit-learn's plot_tree for the same tree."""

import numpy as np
import pytest
from sklearn import tree as sk_tree
from sklearn.datasets import load_iris, make_regression

from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor
from groundup.viz.tree import plot_tree

pytest.importorskip("matplotlib")


def _box_texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_bbox_patch() is not None]


def _sk_texts(est, **kw):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    texts = [a.get_text() for a in sk_tree.plot_tree(est, ax=ax, **kw) if a.get_text().strip() not in ("True", "False", "(...)")]
    plt.close(fig)
    return texts


def test_classifier_boxes_equal_sklearn(tmp_path):
    X, y = load_iris(return_X_y=True)
    X = X[:, [0, 1, 3]]  # petal length and width both split off setosa: keep one, no tie at the root
    names = ["sepal length", "sepal width", "petal width"]
    ours = DecisionTreeClassifier(max_depth=3).fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    fig = plot_tree(ours, feature_names=names, class_names=["setosa", "versicolor", "virginica"], filled=True,
                    path=tmp_path / "tree.png")
    assert sorted(_box_texts(fig)) == sorted(_sk_texts(theirs, feature_names=names,
                                                       class_names=["setosa", "versicolor", "virginica"]))
    assert (tmp_path / "tree.png").stat().st_size > 5000
    # filled: a pure leaf in its class colour at full strength, the mixed root white
    faces = {t.get_text().split("\n")[0]: t.get_bbox_patch().get_facecolor() for t in fig.axes[0].texts
             if t.get_bbox_patch() is not None}
    assert np.allclose(faces["petal width <= 0.8"][:3], 1.0)


def test_regressor_and_max_depth():
    X, y = make_regression(200, 3, random_state=0)
    ours = DecisionTreeRegressor(max_depth=4, min_samples_leaf=10).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(max_depth=4, min_samples_leaf=10, random_state=0).fit(X, y)
    fig = plot_tree(ours, max_depth=2)
    assert sorted(_box_texts(fig)) == sorted(_sk_texts(theirs, max_depth=2))
    assert len(_box_texts(fig)) == 7


def test_bad_input():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="fitted decision tree.*help"):
        plot_tree(DecisionTreeClassifier())
    tree = DecisionTreeClassifier(max_depth=1).fit(X, y)
    with pytest.raises(ValueError, match="feature_names.*help"):
        plot_tree(tree, feature_names=["a"])
