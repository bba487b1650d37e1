"""Ensembles against scikit-learn on the same data: accuracy / R² within 1-2 points, exact where
the algorithm is deterministic (AdaBoost's weights, hand-computed second-order gains)."""

import numpy as np
import pytest
from sklearn import ensemble as sk
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_regression
from sklearn.model_selection import train_test_split

from groundup.ml import ensemble as gu
from groundup.ml.testing import check_estimator


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # scikit-learn's OpenMP boosting oversubscribes a busy 2-core machine (10x slower wall time)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        yield


def _split(X, y):
    return train_test_split(X, y, random_state=0)


@pytest.fixture(scope="module")
def cancer():
    return _split(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return _split(X[:800], y[:800])


@pytest.fixture(scope="module")
def regression():
    return _split(*make_regression(500, 8, noise=10, random_state=0))


def _compare(name, data, margin, **kw):
    Xa, Xb, ya, yb = data
    ours = getattr(gu, name)(**kw).fit(Xa, ya).score(Xb, yb)
    theirs = getattr(sk, name)(**kw).fit(Xa, ya).score(Xb, yb)
    assert ours >= theirs - margin, (name, ours, theirs)
    return ours, theirs


def _compare_mean(name, data, margin, seeds, **kw):
    """Mean test score over several seeds: a randomised ensemble's score at one seed moves by a
    sample or two of the test set (0.7 points each on breast cancer) with the random stream alone."""
    Xa, Xb, ya, yb = data
    ours = np.mean([getattr(gu, name)(random_state=s, **kw).fit(Xa, ya).score(Xb, yb) for s in seeds])
    theirs = np.mean([getattr(sk, name)(random_state=s, **kw).fit(Xa, ya).score(Xb, yb) for s in seeds])
    assert ours >= theirs - margin, (name, ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("name", ["RandomForestClassifier", "ExtraTreesClassifier", "BaggingClassifier"])
def test_bagged_classifiers_match_sklearn_accuracy(name, cancer):
    _compare_mean(name, cancer, 0.02, seeds=range(4), n_estimators=25)


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor", "BaggingRegressor"])
def test_bagged_regressors_match_sklearn_r2(name, regression):
    _compare(name, regression, 0.02, n_estimators=20, random_state=0)


def test_forest_on_digits_and_oob(digits):
    _compare("RandomForestClassifier", digits, 0.02, n_estimators=30, random_state=0)
    Xa, _, ya, _ = digits
    forest = gu.RandomForestClassifier(30, oob_score=True, random_state=0).fit(Xa, ya)
    theirs = sk.RandomForestClassifier(30, oob_score=True, random_state=0).fit(Xa, ya)
    assert abs(forest.oob_score_ - theirs.oob_score_) < 0.04
    # the whole importance vector, not just its argmax (which flips between near-equal pixels)
    assert np.corrcoef(forest.feature_importances_, theirs.feature_importances_)[0, 1] > 0.85


def test_adaboost_weights_equal_sklearn(cancer):
    Xa, Xb, ya, yb = cancer
    ours = gu.AdaBoostClassifier(n_estimators=15, random_state=0).fit(Xa, ya)
    theirs = sk.AdaBoostClassifier(n_estimators=15, random_state=0).fit(Xa, ya)
    np.testing.assert_allclose(ours.estimator_weights_, theirs.estimator_weights_, rtol=1e-9)
    np.testing.assert_allclose(ours.estimator_errors_, theirs.estimator_errors_, rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(Xb), theirs.predict(Xb))
    staged = list(ours.staged_predict(Xb))
    assert len(staged) == 15 and np.array_equal(staged[-1], ours.predict(Xb))


def test_adaboost_alpha_workshop_formula():
    # α = ½ ln((1-ε)/ε): ε = 0.2 gives ½ ln 4 = ln 2; SAMME's two-class α is twice that
    assert np.isclose(gu.samme_alpha(0.2, convention="workshop"), np.log(2.0))
    assert np.isclose(gu.samme_alpha(0.2, 2), 2 * np.log(2.0))
    assert np.isclose(gu.samme_alpha(0.5, 3), np.log(2.0))  # chance for 3 classes still counts


def test_adaboost_regressor(regression):
    _compare("AdaBoostRegressor", regression, 0.03, n_estimators=20, random_state=0)


def test_gradient_boosting_classifier(cancer, digits):
    _compare("GradientBoostingClassifier", cancer, 0.01, n_estimators=50, random_state=0)
    _compare("GradientBoostingClassifier", digits, 0.02, n_estimators=15, random_state=0)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_gradient_boosting_regressor(loss, regression):
    # absolute error fits signs: many tied cuts, broken by the seed's random feature order (as in
    # scikit-learn), so the score moves with the seed; compared over a few seeds
    _compare_mean("GradientBoostingRegressor", regression, 0.01, seeds=range(4), n_estimators=50, loss=loss)


def test_gradient_boosting_first_residual_step():
    # squared error: F0 = mean(y); stage 1 fits the residuals y - F0; with one split and η = 1 the
    # leaves are the residual means, so F1 = the mean of y on each side of the split
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([1.0, 3.0, 10.0, 14.0])
    gb = gu.GradientBoostingRegressor(n_estimators=1, learning_rate=1.0, max_depth=1).fit(X, y)
    np.testing.assert_allclose(gb.init_, [7.0])
    np.testing.assert_allclose(gb.predict(X), [2.0, 2.0, 12.0, 12.0])
    half = gu.GradientBoostingRegressor(n_estimators=1, learning_rate=0.5, max_depth=1).fit(X, y)
    np.testing.assert_allclose(half.predict(X), 7.0 + 0.5 * np.array([-5.0, -5.0, 5.0, 5.0]))


def test_gradient_boosting_early_stopping_and_staged(cancer):
    Xa, Xb, ya, yb = cancer
    gb = gu.GradientBoostingClassifier(n_estimators=300, n_iter_no_change=3, random_state=0).fit(Xa, ya)
    assert gb.n_estimators_ < 300 and len(gb.train_score_) == gb.n_estimators_
    staged = list(gb.staged_predict_proba(Xb))
    np.testing.assert_allclose(staged[-1], gb.predict_proba(Xb))


def test_hist_gradient_boosting_matches_sklearn(cancer, digits, regression):
    kw = dict(max_iter=50, early_stopping=False)
    _compare("HistGradientBoostingClassifier", cancer, 0.01, **kw)
    # deterministic: same quantile bins, same splits, same leaf weights as scikit-learn on the
    # training rows (unseen rows may differ where a split's gain is rounding noise, ~1e-14, and
    # float32 and float64 gradients pick different among equal cuts)
    Xa, _, ya, _ = cancer
    ours = gu.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    theirs = sk.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    np.testing.assert_allclose(ours.predict_proba(Xa), theirs.predict_proba(Xa), atol=1e-6)
    _compare("HistGradientBoostingClassifier", digits, 0.02, max_iter=20, early_stopping=False)
    _compare("HistGradientBoostingRegressor", regression, 0.01, **kw)


def test_hist_gradient_boosting_hand_computed_gain():
    # 10 rows, squared error (g = F0 - y, h = 1), λ = 1: check G, H, the gain terms and the leaves
    X = np.arange(10, dtype=float)[:, None]
    y = np.array([1.0, 1, 1, 1, 1, 5, 5, 5, 5, 9])
    hgb = gu.HistGradientBoostingRegressor(max_iter=1, learning_rate=1.0, max_leaf_nodes=2, min_samples_leaf=1,
                                           l2_regularization=1.0, early_stopping=False).fit(X, y)
    info = hgb.explain_split(0)
    g = y.mean() - y
    best = None
    for cut in range(1, 10):
        GL, GR, HL, HR = g[:cut].sum(), g[cut:].sum(), cut, 10 - cut
        gain = 0.5 * (GL**2 / (HL + 1) + GR**2 / (HR + 1) - g.sum() ** 2 / (10 + 1))
        if best is None or gain > best[0]:
            best = (gain, cut, GL, HL, GR, HR)
    gain, cut, GL, HL, GR, HR = best
    np.testing.assert_allclose([info["G_L"], info["H_L"], info["G_R"], info["H_R"]], [GL, HL, GR, HR], atol=1e-12)
    np.testing.assert_allclose(info["gain"], gain, rtol=1e-12)
    assert cut - 1 < info["threshold"] < cut
    np.testing.assert_allclose(hgb.predict(X[[0, 9]]), y.mean() + np.array([-GL / (HL + 1), -GR / (HR + 1)]))


def test_hist_gradient_boosting_missing_values():
    # NaN only in class 1: "missing vs every present value" is an informative split
    X, y = make_classification(3000, 6, random_state=0)
    X[y == 1, 0] = np.where(np.random.default_rng(0).random((y == 1).sum()) < 0.3, np.nan, X[y == 1, 0])
    Xa, Xb, ya, yb = _split(X, y)
    ours = gu.HistGradientBoostingClassifier(max_iter=60, early_stopping=False).fit(Xa, ya)
    theirs = sk.HistGradientBoostingClassifier(max_iter=60, early_stopping=False).fit(Xa, ya)
    assert ours.score(Xb, yb) >= theirs.score(Xb, yb) - 0.015
    trees = [t for stage in ours._stages for t in stage]
    assert any(np.any((t.feature == 0) & np.isinf(t.threshold)) for t in trees)


def test_hist_gradient_boosting_early_stopping():
    # noisy labels: the validation loss turns up early, for scikit-learn and for us
    X, y = make_classification(1500, 6, flip_y=0.3, random_state=0)
    Xa, Xb, ya, yb = _split(X, y)
    ours = gu.HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0).fit(Xa, ya)
    theirs = sk.HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0).fit(Xa, ya)
    assert ours.n_iter_ < 100 and theirs.n_iter_ < 100
    # as scikit-learn's: one score per iteration plus the constant model's, and the fit stops at the
    # first iteration where scikit-learn's own rule says stop
    for est in (ours, theirs):
        assert est.train_score_.shape == est.validation_score_.shape == (est.n_iter_ + 1,)
    val = list(ours.validation_score_)
    stops = [theirs._should_stop(val[:i]) for i in range(1, len(val) + 1)]
    assert stops == [False] * (len(val) - 1) + [True]
    assert ours.score(Xb, yb) >= theirs.score(Xb, yb) - 0.02
    # without early stopping neither library computes a loss: both score lists are empty
    quiet = gu.HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(Xa, ya)
    sk_quiet = sk.HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(Xa, ya)
    for est in (quiet, sk_quiet):
        assert est.train_score_.shape == est.validation_score_.shape == (0,)


def test_hist_gradient_boosting_early_stopping_on_training_loss_and_validation_sizes():
    # validation_fraction=None: early stopping watches the training loss (scikit-learn's rule on
    # train_score_), and no validation scores are kept, as in scikit-learn
    X, y = make_classification(1500, 6, flip_y=0.3, random_state=0)
    kw = dict(max_iter=300, early_stopping=True, validation_fraction=None, n_iter_no_change=3, tol=1e-3)
    ours = gu.HistGradientBoostingClassifier(**kw).fit(X, y)
    theirs = sk.HistGradientBoostingClassifier(**kw).fit(X, y)
    assert ours.n_iter_ < 300 and theirs.n_iter_ < 300
    for est in (ours, theirs):
        assert est.train_score_.shape == (est.n_iter_ + 1,) and est.validation_score_.shape == (0,)
    scores = list(ours.train_score_)
    assert [theirs._should_stop(scores[:i]) for i in range(1, len(scores) + 1)] == [False] * (len(scores) - 1) + [True]
    # the first iterations' training losses are scikit-learn's (its gradients are float32)
    np.testing.assert_allclose(ours.train_score_[:5], theirs.train_score_[:5], rtol=1e-8)
    # an int holds out that many rows: the same split as the fraction it is of the rows
    by_rows = gu.HistGradientBoostingClassifier(max_iter=30, early_stopping=True, validation_fraction=300,
                                                random_state=0).fit(X, y)
    by_share = gu.HistGradientBoostingClassifier(max_iter=30, early_stopping=True, validation_fraction=0.2,
                                                 random_state=0).fit(X, y)
    np.testing.assert_array_equal(by_rows.validation_score_, by_share.validation_score_)
    for bad in (0, 1500, 1.0, -0.1, True, "x"):
        with pytest.raises(ValueError, match="validation_fraction.*help"):
            gu.HistGradientBoostingClassifier(max_iter=3, early_stopping=True, validation_fraction=bad).fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction.*help"):
        gu.GradientBoostingClassifier(n_estimators=3, n_iter_no_change=2, validation_fraction=None).fit(X, y)


@pytest.mark.parametrize("seed", range(20))
def test_early_stopping_rules_are_scikit_learns(seed):
    # validation-loss curves with plateaus and ties (values on a coarse grid): each rule stops at
    # the same iteration as scikit-learn's
    from groundup.ml.ensemble._gb import _no_improvement, _stopping
    rng = np.random.default_rng(seed)
    losses = np.round(1.0 - np.cumsum(rng.normal(0.01, 0.02, 60)), 2)
    n, tol = int(rng.integers(1, 6)), float(rng.choice([0.0, 0.01, 0.015]))
    # first order: scikit-learn's ring buffer of the last n losses (GradientBoosting._fit_stages)
    history, expected = np.full(n, np.inf), None
    for i, v in enumerate(losses):
        if np.any(v + tol < history):
            history[i % n] = v
        else:
            expected = i
            break
    got = next((i for i in range(len(losses)) if _stopping(list(losses[: i + 1]), n, tol)), None)
    assert got == expected
    # histogram boosting: HistGradientBoosting._should_stop on the scores -loss
    judge = sk.HistGradientBoostingClassifier(n_iter_no_change=n, tol=tol)
    scores = list(-losses)
    for i in range(1, len(scores) + 1):
        assert _no_improvement(scores[:i], n, tol) == judge._should_stop(scores[:i])


@pytest.mark.parametrize("make", [
    lambda: gu.RandomForestClassifier(5, random_state=0), lambda: gu.RandomForestRegressor(5, random_state=0),
    lambda: gu.ExtraTreesClassifier(5, random_state=0), lambda: gu.GradientBoostingClassifier(n_estimators=5),
    lambda: gu.GradientBoostingRegressor(n_estimators=5), lambda: gu.HistGradientBoostingClassifier(max_iter=5),
    lambda: gu.HistGradientBoostingRegressor(max_iter=5), lambda: gu.AdaBoostClassifier(n_estimators=5),
    lambda: gu.AdaBoostRegressor(n_estimators=5, random_state=0), lambda: gu.BaggingClassifier(n_estimators=3, random_state=0),
    lambda: gu.ExtraTreesRegressor(5, random_state=0), lambda: gu.BaggingRegressor(n_estimators=3, random_state=0),
])
def test_check_estimator(make):
    check_estimator(make())


def test_bagging_sample_weight_draws_rows_in_proportion(cancer):
    # scikit-learn's frequency meaning: rows drawn with probability w/Σw (never a zero-weight
    # row), a float max_samples a share of Σw; accuracy as scikit-learn's with the same weights
    Xa, Xb, ya, yb = cancer
    n = len(ya)
    w = np.tile([0.0, 1.0, 3.0], n // 3 + 1)[:n]
    bag = gu.BaggingClassifier(n_estimators=200, random_state=0).fit(Xa, ya, sample_weight=w)
    drawn = np.bincount(np.concatenate(bag.estimators_samples_), minlength=n)
    assert drawn[w == 0].sum() == 0 and all(len(r) == n for r in bag.estimators_samples_)
    ratio = drawn[w == 3].mean() / drawn[w == 1].mean()
    assert 2.85 < ratio < 3.15, ratio  # 3 ± ~1.5%: 200 draws of n rows
    half = gu.BaggingClassifier(n_estimators=2, max_samples=0.5, random_state=0).fit(Xa, ya, sample_weight=2 * w)
    assert len(half.estimators_samples_[0]) == int(0.5 * (2 * w).sum())
    ours = gu.BaggingClassifier(n_estimators=30, random_state=0).fit(Xa, ya, sample_weight=w).score(Xb, yb)
    theirs = sk.BaggingClassifier(n_estimators=30, random_state=0).fit(Xa, ya, sample_weight=w).score(Xb, yb)
    assert ours >= theirs - 0.03, (ours, theirs)
    for bad, err in ((-np.ones(n), ValueError), (np.ones(5), ValueError), (np.zeros(n), ValueError)):
        with pytest.raises(err, match="sample_weight.*help"):
            gu.BaggingRegressor(n_estimators=2).fit(Xa, ya.astype(float), sample_weight=bad)
    for bad in (0, 1.5, True):
        for est in (gu.BaggingClassifier(n_estimators=2, max_samples=bad), gu.RandomForestClassifier(2, max_samples=bad)):
            with pytest.raises(ValueError, match="max_samples.*help"):
                est.fit(Xa, ya)
    with pytest.warns(UserWarning, match="bootstrap=True"), pytest.raises(ValueError, match="max_samples.*help"):
        gu.BaggingClassifier(n_estimators=2, bootstrap=False, max_samples=n).fit(Xa, ya, sample_weight=w)


def test_forest_sample_weight_draws_rows_in_proportion_and_balanced_subsample(cancer):
    # scikit-learn 1.9's weighted bootstrap: rows drawn with probability w/Σw, each tree grown on
    # its counts (root weight = rows drawn), zero-weight rows always out of bag
    Xa, Xb, ya, yb = cancer
    n = len(ya)
    w = np.where(ya == 1, 3.0, 1.0)
    w[::7] = 0.0
    rf = gu.RandomForestClassifier(100, random_state=0, oob_score=True).fit(Xa, ya, sample_weight=w)
    roots = np.array([t.tree_.value[0, 0] * t.tree_.weighted_n_node_samples[0] for t in rf.estimators_])
    assert np.allclose(roots.sum(axis=1), n)  # the counts of n draws
    share = roots[:, 1].sum() / roots.sum()
    expected = w[ya == 1].sum() / w.sum()
    assert abs(share - expected) < 0.01, (share, expected)
    in_bag = np.array([rf._in_bag(seed, n, rf._n_draw) for seed in rf._seeds])
    assert not in_bag[:, w == 0].any() and in_bag[:, w > 0].mean() > 0.5
    assert np.isfinite(rf.oob_decision_function_[w == 0]).all()  # always out of bag: always scored
    ours = rf.score(Xb, yb)
    theirs = sk.RandomForestClassifier(100, random_state=0).fit(Xa, ya, sample_weight=w).score(Xb, yb)
    assert ours >= theirs - 0.02, (ours, theirs)
    # a float max_samples is a share of Σw
    half = gu.RandomForestRegressor(3, max_samples=0.5, random_state=0).fit(Xa, ya.astype(float), sample_weight=2 * w)
    assert all(t.tree_.weighted_n_node_samples[0] == int(0.5 * (2 * w).sum()) for t in half.estimators_)
    # balanced_subsample: each tree's own sample is balanced (equal class weights at its root)
    bal = gu.RandomForestClassifier(20, class_weight="balanced_subsample", random_state=0).fit(Xa, ya)
    for t in bal.estimators_:
        np.testing.assert_allclose(t.tree_.value[0, 0], [0.5, 0.5], rtol=1e-12)
    ours = bal.score(Xb, yb)
    theirs = sk.RandomForestClassifier(20, class_weight="balanced_subsample", random_state=0).fit(Xa, ya).score(Xb, yb)
    assert ours >= theirs - 0.03, (ours, theirs)
    with pytest.raises(ValueError, match="sample_weight.*help"):
        gu.RandomForestClassifier(3).fit(Xa, ya, sample_weight=np.zeros(n))


def test_hist_gradient_boosting_class_weight():
    # class weights multiply the sample weights: "balanced" is the fit with n/(K·n_c) as weights;
    # on imbalanced data, the balanced accuracy of scikit-learn's balanced booster
    X, y = make_classification(1200, 8, weights=[0.9, 0.1], random_state=0)
    Xa, Xb, ya, yb = _split(X, y)
    kw = dict(max_iter=30, early_stopping=False)
    bal = gu.HistGradientBoostingClassifier(class_weight="balanced", **kw).fit(Xa, ya)
    counts = np.bincount(ya)
    w = (len(ya) / (2 * counts))[ya]
    np.testing.assert_array_equal(bal.decision_function(Xb),
                                  gu.HistGradientBoostingClassifier(**kw).fit(Xa, ya, sample_weight=w).decision_function(Xb))
    by_dict = gu.HistGradientBoostingClassifier(class_weight={0: 1.0, 1: 5.0}, **kw).fit(Xa, ya)
    np.testing.assert_array_equal(by_dict.decision_function(Xb), gu.HistGradientBoostingClassifier(**kw).fit(
        Xa, ya, sample_weight=np.where(ya == 1, 5.0, 1.0)).decision_function(Xb))
    from sklearn.metrics import balanced_accuracy_score
    ours = balanced_accuracy_score(yb, bal.predict(Xb))
    theirs = balanced_accuracy_score(yb, sk.HistGradientBoostingClassifier(class_weight="balanced", **kw)
                                     .fit(Xa, ya).predict(Xb))
    plain = balanced_accuracy_score(yb, gu.HistGradientBoostingClassifier(**kw).fit(Xa, ya).predict(Xb))
    assert ours >= theirs - 0.03 and ours > plain, (ours, theirs, plain)
    with pytest.raises(ValueError, match="class_weight.*help"):
        gu.HistGradientBoostingClassifier(class_weight="nope", max_iter=2).fit(Xa, ya)


def test_scikit_learn_attributes_and_methods():
    # the attributes and methods scikit-learn's ensembles offer beside fit/predict, on data without
    # ties (the same learners as scikit-learn's where the algorithm is deterministic)
    X, y = make_classification(500, 6, n_informative=4, random_state=0)
    Xr, yr = make_regression(400, 5, noise=5, random_state=0)
    ours, theirs = (m.AdaBoostClassifier(n_estimators=20, random_state=0).fit(X, y) for m in (gu, sk))
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, rtol=1e-12)
    np.testing.assert_allclose(list(ours.staged_score(X, y)), list(theirs.staged_score(X, y)))
    np.testing.assert_allclose(list(ours.staged_predict_proba(X))[-1], theirs.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(ours.predict_log_proba(X), theirs.predict_log_proba(X), rtol=1e-12)
    assert type(ours.estimator_).__name__ == "DecisionTreeClassifier" and ours.estimator_.max_depth == 1
    reg = gu.AdaBoostRegressor(n_estimators=8, random_state=0).fit(Xr, yr)
    np.testing.assert_allclose(reg.feature_importances_, sum(
        a * e.feature_importances_ for a, e in zip(reg.estimator_weights_, reg.estimators_)) / reg.estimator_weights_.sum())
    assert list(reg.staged_score(Xr, yr))[-1] == reg.score(Xr, yr)
    # gradient boosting: leaf indices whose values add up to the decision function
    for cls, Xs, ys in (("GradientBoostingClassifier", X, y), ("GradientBoostingRegressor", Xr, yr)):
        ours, theirs = (getattr(m, cls)(n_estimators=5, random_state=0).fit(Xs, ys) for m in (gu, sk))
        leaves = ours.apply(Xs)
        assert leaves.shape == theirs.apply(Xs).shape
        assert (ours.n_trees_per_iteration_, ours.max_features_) == (theirs.n_trees_per_iteration_, theirs.max_features_)
        trees = [stage[0] for stage in ours._stages]
        leaf_sum = sum(t.value[leaves[:, m, 0] if leaves.ndim == 3 else leaves[:, m], 0, 0] for m, t in enumerate(trees))
        raw = ours.decision_function(Xs) if cls.endswith("Classifier") else ours.predict(Xs)
        np.testing.assert_allclose(ours._baseline[0] + leaf_sum, raw, rtol=1e-12, atol=1e-12)
    # forests: each tree's rows, the template tree, one output
    rf = gu.RandomForestClassifier(5, random_state=0).fit(X, y)
    for t, rows in zip(rf.estimators_, rf.estimators_samples_):
        assert len(rows) == len(X) and t.tree_.weighted_n_node_samples[0] == len(rows)
    assert rf.n_outputs_ == 1 and rf.estimator_.max_features == "sqrt"
    assert all(len(r) == len(X) for r in gu.ExtraTreesClassifier(3).fit(X, y).estimators_samples_)
    # histogram boosting: whether early stopping ran ("auto": only above 10,000 rows)
    for es in ("auto", True, False):
        ours, theirs = (m.HistGradientBoostingClassifier(max_iter=5, early_stopping=es).fit(X, y) for m in (gu, sk))
        assert ours.do_early_stopping_ == theirs.do_early_stopping_
    # log-probabilities of every classifier
    for est in (gu.BaggingClassifier(n_estimators=3, random_state=0), gu.RandomForestClassifier(3, random_state=0),
                gu.GradientBoostingClassifier(n_estimators=3), gu.HistGradientBoostingClassifier(max_iter=3)):
        est.fit(X, y)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(est.predict_log_proba(X), np.log(est.predict_proba(X)))


def test_bad_input():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match="max_features.*help"):
        gu.RandomForestClassifier(3, max_features=9).fit(X, y)
    with pytest.raises(ValueError, match="oob_score.*help"):
        gu.RandomForestClassifier(3, bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(ValueError, match="loss.*help"):
        gu.GradientBoostingRegressor(loss="nope").fit(X, y.astype(float))
    with pytest.raises(ValueError, match="NaN"):
        gu.ExtraTreesClassifier(3).fit(np.where(X > 1, np.nan, X), y)


def test_forest_n_jobs_and_random_state_give_the_same_trees(digits, monkeypatch):
    # pixel data (<= 17 distinct values) with bootstrap counts: the radix finder's path; threads
    # for the trees and the column coding must not change a single split, nor must worker
    # processes (trees sent in batches, the shared data memory-mapped by joblib or, on large data,
    # by the forest itself) or a refit
    import os

    from joblib import parallel_backend

    from groundup.ml.ensemble import _forest
    from groundup.ml.tree._binning import Binning

    Xa, Xb, ya, _ = digits
    one = gu.RandomForestClassifier(8, n_jobs=1, random_state=3, oob_score=True).fit(Xa, ya)
    two = gu.RandomForestClassifier(8, n_jobs=2, random_state=3, oob_score=True).fit(Xa, ya)
    with parallel_backend("loky", n_jobs=2):
        procs = gu.RandomForestClassifier(8, n_jobs=2, random_state=3, oob_score=True).fit(Xa, ya)
    mapped, real = [], Binning.memory_map
    monkeypatch.setattr(Binning, "memory_map", lambda self, folder: mapped.append(folder) or real(self, folder))
    monkeypatch.setattr(_forest, "_PROCESS_MIN_CELLS", 0)  # the large-data path: processes, own memory maps
    large = gu.RandomForestClassifier(8, n_jobs=2, random_state=3, oob_score=True).fit(Xa, ya)
    assert mapped and not os.path.exists(mapped[0])  # used, and its files removed after the fit
    again = gu.RandomForestClassifier(8, n_jobs=1, random_state=3, oob_score=True).fit(Xa, ya)
    assert len(procs.estimators_) == 8
    for other in (two, procs, large, again):
        for a, b in zip(one.estimators_, other.estimators_):
            np.testing.assert_array_equal(a.tree_.feature, b.tree_.feature)
            np.testing.assert_array_equal(a.tree_.threshold, b.tree_.threshold)
        np.testing.assert_array_equal(one.predict_proba(Xb), other.predict_proba(Xb))
        assert one.oob_score_ == other.oob_score_
    seen = ~np.isnan(one.oob_decision_function_[:, 0])
    assert one.oob_score_ == np.mean(one.oob_decision_function_[seen].argmax(1) == ya[seen])


def test_forest_rows_in_locality_order_grow_the_same_trees(digits, monkeypatch):
    # large classification data is stored class by class (then along two principal directions) so
    # a deep node's rows sit close together; bootstrap counts move with the rows: same trees
    import groundup.ml.ensemble._forest as forest

    Xa, Xb, ya, _ = digits
    fits = []
    for min_rows in (10**9, 1):
        monkeypatch.setattr(forest, "_LOCALITY_MIN_ROWS", min_rows)
        fits.append(gu.RandomForestClassifier(6, random_state=5, oob_score=True).fit(Xa, ya))
    plain, local = fits
    order = forest._locality_order(Xa, ya)
    assert np.all(np.diff(ya[order]) >= 0) and not np.array_equal(order, np.arange(len(ya)))
    for a, b in zip(plain.estimators_, local.estimators_):
        np.testing.assert_array_equal(a.tree_.feature, b.tree_.feature)
        np.testing.assert_array_equal(a.tree_.threshold, b.tree_.threshold)
        np.testing.assert_array_equal(a.tree_.value, b.tree_.value)
    np.testing.assert_array_equal(plain.predict_proba(Xb), local.predict_proba(Xb))
    assert plain.oob_score_ == local.oob_score_
