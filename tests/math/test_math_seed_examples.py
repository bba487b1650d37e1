"""The course's worked examples (calculus, linear algebra, probability, information theory,
learning theory, gradient descent), each recomputed through groundup.math's public API."""

from __future__ import annotations

import numpy as np
import pytest

import groundup.math as gm
from groundup.errors import ConvergenceWarning


def close(actual, expected, tolerance):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float),
                               rtol=0, atol=tolerance)


# ------------------------------------------------------------------------------ gradient descent
def test_gd_perceptron_one_step(seed_example):
    ex = seed_example("gd-perceptron-one-step")
    a, c, d, alpha = (ex["inputs"][k] for k in ("a", "c", "d", "alpha"))
    loss = lambda W: a * (W - c) ** 2 + d  # noqa: E731
    grad = lambda W: 2 * a * (W - c)  # noqa: E731  (the document's dL/dW = 10(W − 14))
    tol = ex["tolerance"]
    for W0, g0, W1 in zip(ex["inputs"]["W0"], ex["expected"]["grad_at_W0"], ex["expected"]["W1"],
                          strict=True):
        run = gm.gradient_descent(loss, W0, lr=alpha, steps=1, grad=grad)
        close(run.gradients[0], g0, tol)
        close(run.points[1], W1, tol)
        # The numerical gradient (no grad=) gets the same single step.
        numeric = gm.gradient_descent(loss, W0, lr=alpha, steps=1)
        close(numeric.points[1], W1, tol)
        close(gm.derivative(loss, W0), g0, max(tol, 1e-9 * abs(g0)))
    run = gm.gradient_descent(loss, -100.0, lr=alpha, tol=1e-6, grad=grad)
    assert run.converged and run.n_steps == 1
    close(run.x, ex["expected"]["argmin_W"], tol)
    close(run.value, ex["expected"]["min_loss"], tol)


def test_gd_x2_lr025_from_minus1(seed_example):
    ex = seed_example("gd-x2-lr0.25-from-minus1")
    run = gm.gradient_descent(lambda x: x**2, ex["inputs"]["x0"], lr=ex["inputs"]["lr"],
                              steps=ex["inputs"]["steps"], grad=lambda x: 2 * x)
    close(run.gradients[:-1], ex["expected"]["gradients"], ex["tolerance"])
    close(run.points[1:], ex["expected"]["x"], ex["tolerance"])
    assert not run.diverged


def test_gd_x2_lr10_overshoot_is_reported(seed_example):
    ex = seed_example("gd-x2-lr10-overshoot")
    with pytest.warns(ConvergenceWarning, match="diverged"):
        run = gm.gradient_descent(lambda x: x**2, ex["inputs"]["x0"], lr=ex["inputs"]["lr"],
                                  steps=1, grad=lambda x: 2 * x)
    close(run.points[1], ex["expected"]["x1"], ex["tolerance"])
    assert run.diverged and not run.converged
    assert "diverged" in run.message


def test_mse_single_point_gd_step(seed_example):
    ex = seed_example("mse-single-point-gd-step")
    i, e = ex["inputs"], ex["expected"]
    x, y = i["x"], i["y"]
    loss = lambda p: 0.5 * (p[0] * x + p[1] - y) ** 2  # noqa: E731
    tol = ex["tolerance"]
    start = np.array([i["w"], i["b"]])
    close(start[0] * x + start[1], e["y_hat"], tol)
    close(gm.gradient(loss, start), e["grad"], tol)
    run = gm.gradient_descent(loss, start, lr=i["eta"], steps=1)
    close(run.points[1], [e["w_new"], e["b_new"]], tol)
    close(run.points[1] @ [x, 1.0], e["y_hat_new"], tol)
    close(run.points[0] @ [x, 1.0] - y, e["error"], tol)


def test_gd_step_quadratic_q2_8(seed_example):
    ex = seed_example("gd-step-quadratic-q2-8")
    loss = lambda p: 0.5 * (2 * p[0] + p[1] - 5) ** 2  # noqa: E731
    run = gm.gradient_descent(loss, ex["inputs"]["start"], lr=ex["inputs"]["eta"], steps=1)
    tol, e = ex["tolerance"], ex["expected"]
    close(run.values, [e["loss0"], e["loss1"]], tol)
    close(run.gradients[0], e["grad"], tol)
    close(run.points[1], e["params1"], tol)


def test_gd_theta_minus_3_squared(seed_example):
    ex = seed_example("gd-theta-minus-3-squared")
    i = ex["inputs"]
    run = gm.gradient_descent(lambda t: (t - 3) ** 2, i["theta0"], lr=i["eta"], steps=i["steps"],
                              grad=lambda t: 2 * (t - 3))
    close(run.points[1:], ex["expected"]["theta"], ex["tolerance"])
    # Numerical gradients agree to a few 1e-10 on this scale.
    numeric = gm.gradient_descent(lambda t: (t - 3) ** 2, i["theta0"], lr=i["eta"],
                                  steps=i["steps"])
    close(numeric.points[1:], ex["expected"]["theta"], ex["tolerance"])


def test_gd_w2_plus_4(seed_example):
    ex = seed_example("gd-w2-plus-4")
    i, e = ex["inputs"], ex["expected"]
    run = gm.gradient_descent(lambda w: w**2 + 4, i["w0"], lr=i["eta"], steps=i["steps"])
    close(run.values[0], e["J0"], ex["tolerance"])
    close(run.points[1:], e["w"], ex["tolerance"])
    close(run.values[1:], e["J"], ex["tolerance"])


def test_gd_critical_lr_w2(seed_example):
    ex = seed_example("gd-critical-lr-w2")
    i, e = ex["inputs"], ex["expected"]
    for eta in i["etas"]:
        expected = e["trajectories"][str(float(eta))]
        with pytest.warns(ConvergenceWarning) if eta > 1 else _no_warning():
            run = gm.gradient_descent(lambda w: w**2, i["w0"], lr=eta, steps=i["steps"],
                                      grad=lambda w: 2 * w)
        close(run.points[1:], expected, ex["tolerance"])
        assert run.diverged == (eta > e["max_convergent_lr"])
    one_step = gm.gradient_descent(lambda w: w**2, i["w0"], lr=e["one_step_lr"], tol=1e-12,
                                   grad=lambda w: 2 * w)
    assert one_step.converged and one_step.n_steps == 1


class _no_warning:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error", ConvergenceWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def test_gd_w2_from_3(seed_example):
    ex = seed_example("gd-w2-from-3")
    i, e = ex["inputs"], ex["expected"]
    run = gm.gradient_descent(lambda w: w**2, i["w"], lr=i["eta"], steps=1)
    tol = ex["tolerance"]
    close(run.gradients[0], e["grad"], tol)
    close(run.points[1], e["w_new"], tol)
    close(run.values, [e["L_old"], e["L_new"]], tol)
    close(run.values[1] - run.values[0], e["delta_L"], tol)


def test_gd_step_2w0sq_3w1sq(seed_example):
    ex = seed_example("gd-step-2w0sq-3w1sq")
    i, e = ex["inputs"], ex["expected"]
    run = gm.gradient_descent(lambda w: 2 * w[0] ** 2 + 3 * w[1] ** 2, i["w"], lr=i["eta"], steps=1)
    tol = ex["tolerance"]
    close(run.gradients[0], e["grad"], tol)
    close(run.points[1], e["w_new"], tol)
    close(run.values, [e["L_old"], e["L_new"]], tol)
    close(run.values[0] - run.values[1], e["improvement"], tol)


# -------------------------------------------------------------------------------------- calculus
def test_grad_x2_plus_y2(seed_example):
    ex = seed_example("grad-x2-plus-y2-origin")
    f = lambda v: v[0] ** 2 + v[1] ** 2  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    close(gm.gradient(f, [0.0, 0.0]), e["grad_at_origin"], tol)
    close(gm.gradient(f, ex["inputs"]["point"]), e["grad_at_point"], tol)
    run = gm.newton_method(lambda v: f(v) + 1, ex["inputs"]["point"])
    close(run.x, e["argmin"], tol)
    close(run.value, e["min_of_f_plus_1"], tol)
    assert gm.classify_critical_point(lambda v: f(v) + 1, e["argmin"]) == "minimum"


def test_hessian_x2_4y2_xy(seed_example):
    ex = seed_example("hessian-x2-4y2-xy")
    f = lambda v: v[0] ** 2 + 4 * v[1] ** 2 + v[0] * v[1]  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    close(gm.gradient(f, [0.0, 0.0]), e["grad_at_origin"], tol)
    H = gm.hessian(f, ex["inputs"]["probe_point"])
    close(H, e["H"], tol)
    close(gm.eigenvalues(H), e["eigenvalues"], tol)
    close(gm.condition_number(H), e["condition_number"], tol)
    assert gm.definiteness(H) == e["classification"]
    run = gm.newton_method(f, ex["inputs"]["probe_point"])
    close(run.x, e["critical_point"], tol)
    assert gm.classify_critical_point(f, run.x) == "minimum"


def test_critical_point_saddle_q2_7(seed_example):
    ex = seed_example("critical-point-saddle-q2-7")
    f = lambda v: 3 * v[0] ** 2 + v[0] * v[1] - v[1] ** 2 + 5 * v[0]  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    close(gm.gradient(f, [0.0, 0.0]), e["grad_at_origin"], tol)
    H = gm.hessian(f, [0.0, 0.0])
    close(H, e["H"], tol)
    # Newton on a quadratic lands on its unique critical point in one step (saddle or not).
    critical = gm.newton_method(f, [0.0, 0.0], steps=1).x
    close(critical, e["critical_point"], tol)
    close(gm.gradient(f, critical), e["grad_at_critical"], tol)
    close(gm.eigenvalues(H), e["eigenvalues"], tol)
    assert gm.definiteness(H) == e["classification"]
    assert gm.classify_critical_point(f, critical) == "saddle"


def test_directional_change_first_order(seed_example):
    ex = seed_example("directional-change-first-order")
    loss = lambda w: 2 * w[0] ** 2 + 3 * w[1] ** 2  # noqa: E731
    w = np.array(ex["inputs"]["w"])
    tol = ex["tolerance"]
    close(loss(w), ex["expected"]["loss"], tol)
    tangent = gm.taylor(loss, w, order=1)
    changes = ex["expected"]["changes"]
    for step, expected in zip(ex["inputs"]["displacements"], changes, strict=True):
        step = np.array(step)
        close(loss(w + step), expected["new_loss"], tol)
        close(loss(w + step) - loss(w), expected["delta_L"], tol)
        close(tangent(w + step) - tangent.value, expected["first_order"], tol)
        close(gm.norm(step), expected["step_norm"], tol)
        # ΔL ≈ ‖Δ‖·D_û L: the directional derivative along the step.
        close(gm.norm(step) * gm.directional_derivative(loss, w, step), expected["first_order"],
              tol)


def test_grad_euclidean_norm_never_zero(seed_example):
    ex = seed_example("grad-euclidean-norm-never-zero")
    f = lambda w: gm.norm(w)  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    grad = gm.gradient(f, ex["inputs"]["point"])
    close(grad, e["grad_at_point"], tol)
    close(gm.norm(grad), e["grad_norm_at_point"], tol)
    rng = np.random.default_rng(0)
    norms = [gm.norm(gm.gradient(f, rng.normal(size=2) * 10 ** rng.uniform(-2, 2)))
             for _ in range(50)]
    close(min(norms), e["min_grad_norm_away_from_origin"], tol)
    close(f([0.0, 0.0]), e["min_value"], tol)
    angles = 2 * np.pi * np.arange(8) / 8
    one_sided = [gm.directional_derivative(f, [0.0, 0.0], [np.cos(t), np.sin(t)],
                                           method="forward") for t in angles]
    close(one_sided, e["one_sided_directional_derivatives_at_origin"], tol)


def test_hessian_2w0sq_3w1sq(seed_example):
    ex = seed_example("hessian-2w0sq-3w1sq")
    f = lambda w: 2 * w[0] ** 2 + 3 * w[1] ** 2  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    H = gm.hessian(f, ex["inputs"]["probe_point"])
    close(H, e["H"], tol)
    close(sorted(gm.eigenvalues(H)), e["eigenvalues"], tol)
    assert gm.is_convex(f, [(-3, 3), (-3, 3)], n_samples=30) is e["convex"]


def test_convexity_second_derivative_1d(seed_example):
    ex = seed_example("convexity-second-derivative-1d")
    functions = {"x^2": lambda x: x**2, "x^3": lambda x: x**3, "x^4": lambda x: x**4}
    x = ex["inputs"]["x"]
    for name, f in functions.items():
        close(gm.second_derivative(f, x), ex["expected"]["second_derivative"][name],
              ex["tolerance"])
        assert gm.is_convex(f, (-2.0, 2.0)) is ex["expected"]["convex_everywhere"][name]


def test_convexity_hessian_13_5(seed_example):
    ex = seed_example("convexity-hessian-13-5")
    f = lambda w: w[0] ** 2 + 2 * w[0] * w[1] + 3 * w[1] ** 2  # noqa: E731
    tol, e = ex["tolerance"], ex["expected"]
    close(gm.gradient(f, ex["inputs"]["probe_point"]), e["grad_at_point"], tol)
    H = gm.hessian(f, ex["inputs"]["probe_point"])
    close(H, e["H"], tol)
    close(gm.eigenvalues(H), e["eigenvalues"], tol)
    assert gm.is_positive_semidefinite(H) is e["convex"]
    assert gm.is_convex(f, [(-2, 2), (-2, 2)], n_samples=30) is e["convex"]


# -------------------------------------------------------------------------------- linear algebra
def test_unit_vector_same_direction(seed_example):
    ex = seed_example("unit-vector-same-direction")
    tol, e = ex["tolerance"], ex["expected"]
    v1, v2 = ex["inputs"]["v1"], ex["inputs"]["v2"]
    close(gm.norm(v1), e["norm_v1"], tol)
    close(gm.norm(v2), e["norm_v2"], tol)
    close(gm.unit_vector(v1), e["unit_v1"], tol)
    close(gm.unit_vector(v2), e["unit_v2"], tol)
    assert (abs(gm.cosine_similarity(v1, v2) - 1) < 1e-12) is e["same_direction"]


def test_dot_product(seed_example):
    ex = seed_example("dot-product-123-456")
    assert gm.dot(ex["inputs"]["u"], ex["inputs"]["v"]) == ex["expected"]["dot"]


def test_matmul_shape_compat(seed_example):
    ex = seed_example("matmul-shape-compat")
    for (a, b), expected in zip(ex["inputs"]["pairs"], ex["expected"]["results"], strict=True):
        shape = gm.matmul_shape(a, b)
        assert (shape is not None) is expected["valid"]
        assert shape == (tuple(expected["result_shape"]) if expected["valid"] else None)


def test_cosine_similarity_king_queen(seed_example):
    ex = seed_example("cosine-similarity-king-queen")
    king, queen = ex["inputs"]["king"], ex["inputs"]["queen"]
    tol, e = ex["tolerance"], ex["expected"]
    close(gm.dot(king, queen), e["dot"], tol)
    close(gm.norm(king), e["norm_king"], tol)
    close(gm.norm(queen), e["norm_queen"], tol)  # √12.5, not the document's √10.5
    close(gm.cosine_similarity(king, queen), e["cosine"], tol)


def test_vector_norms(seed_example):
    ex = seed_example("vector-norms-l1-l2-linf")
    x, tol, e = ex["inputs"]["x"], ex["tolerance"], ex["expected"]
    close(gm.norm(x, 1), e["l1"], tol)
    close(gm.norm(x, 2), e["l2"], tol)
    close(gm.norm(x, np.inf), e["linf"], tol)


def test_solve_2x2_system(seed_example):
    ex = seed_example("solve-2x2-system")
    A, b, tol, e = ex["inputs"]["A"], ex["inputs"]["b"], ex["tolerance"], ex["expected"]
    close(gm.determinant(A), e["det"], tol)
    close(gm.inverse(A), e["A_inv"], tol)
    close(gm.solve(A, b), e["x"], tol)


def test_eig_upper_triangular(seed_example):
    ex = seed_example("eig-upper-triangular-3-1-0-2")
    A = np.array(ex["inputs"]["A"])
    tol, e = ex["tolerance"], ex["expected"]
    values, vectors = gm.eig(A)
    close(values, e["eigenvalues"], tol)
    cosines = [abs(gm.cosine_similarity(vectors[:, i], doc))
               for i, doc in enumerate(ex["inputs"]["doc_eigenvectors"])]
    close(cosines, e["abs_cos_with_doc_eigenvectors"], tol)
    close(np.abs(A @ vectors - vectors * values).max(), e["max_residual"], tol)


def test_least_squares_perfect_fit(seed_example):
    ex = seed_example("least-squares-perfect-fit")
    X, y, tol, e = ex["inputs"]["X"], ex["inputs"]["y"], ex["tolerance"], ex["expected"]
    close(gm.gram_matrix(X, of="columns"), e["XtX"], tol)
    close(np.asarray(X).T @ y, e["Xty"], tol)
    close(gm.determinant(gm.gram_matrix(X, of="columns")), e["det_XtX"], tol)
    for method in ("normal", "lstsq"):
        w = gm.solve_least_squares(X, y, method=method)
        close(w, e["w"], tol)
        close(np.asarray(X) @ w, e["Xw"], tol)
    close(gm.project(y, X), e["Xw"], tol)


def test_svd_vs_eig_relation(seed_example):
    ex = seed_example("svd-vs-eig-relation")
    X, tol, e = np.array(ex["inputs"]["X"]), ex["tolerance"], ex["expected"]
    sigma = gm.singular_values(X)
    close(sigma, e["singular_values"], tol)
    close(np.sqrt(gm.eigenvalues(gm.gram_matrix(X, of="columns"))), e["sqrt_eigvals_XtX"], tol)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    close(s, sigma, 1e-12)
    close(np.abs(U * sigma @ Vt - X).max(), e["reconstruction_error"], tol)


def test_max_rank_5x3(seed_example):
    ex = seed_example("max-rank-5x3")
    A = ex["inputs"]["A"]
    assert min(np.shape(A)) == ex["expected"]["max_rank"]
    assert gm.rank(A) == ex["expected"]["rank_of_example"]


def test_definiteness_from_eigenvalues(seed_example):
    ex = seed_example("definiteness-from-eigenvalues")
    rng = np.random.default_rng(0)
    for values, expected in zip(ex["inputs"]["eigenvalue_sets"],
                                ex["expected"]["classification"], strict=True):
        Q, _ = np.linalg.qr(rng.normal(size=(len(values), len(values))))
        A = Q @ np.diag(values) @ Q.T  # a symmetric matrix with exactly these eigenvalues
        assert gm.definiteness(A) == expected
    # Q2.5: a Hessian with eigenvalues {3, 0, −2} means a saddle.
    saddle = lambda v: 1.5 * v[0] ** 2 - v[2] ** 2  # noqa: E731  (eigenvalues 3, 0, −2)
    assert gm.classify_critical_point(saddle, [0.0, 0.0, 0.0]) == "saddle"


def test_dot_angle_projection(seed_example):
    ex = seed_example("dot-angle-projection")
    u, v, tol, e = ex["inputs"]["u"], ex["inputs"]["v"], ex["tolerance"], ex["expected"]
    close(gm.dot(u, v), e["dot"], tol)
    close(gm.norm(u), e["norm_u"], tol)
    close(gm.norm(v), e["norm_v"], tol)
    close(gm.cosine_similarity(u, v), e["cos"], tol)
    close(gm.angle_between(u, v, degrees=True), e["angle_deg"], tol)
    close(gm.project(v, onto=u), e["proj_v_onto_u"], tol)


def test_eig_nonsymmetric_and_symmetrized(seed_example):
    ex = seed_example("eig-nonsymmetric-and-symmetrized")
    A, tol, e = ex["inputs"]["A"], ex["tolerance"], ex["expected"]
    close(gm.eigenvalues(A), e["eigenvalues_A"], tol)
    assert gm.is_symmetric(A) is e["is_symmetric"]
    S = gm.symmetric_part(A)
    close(S, e["sym_part"], tol)
    close(gm.eigenvalues(S), e["eigenvalues_sym_part"], tol)  # not the document's 5.25, 1.75
    assert gm.is_positive_definite(S) is e["sym_part_positive_definite"]
    assert gm.is_positive_definite(A) is e["sym_part_positive_definite"]


# ----------------------------------------------------------------------------------- probability
def test_binomial_mean_variance(seed_example):
    ex = seed_example("binomial-mean-variance")
    for (n, p), expected in zip(ex["inputs"]["cases"], ex["expected"]["cases"], strict=True):
        mean, variance = gm.binomial_mean_var(n, p)
        close([mean, variance, mean / n], [expected["mean"], expected["variance"],
                                           expected["mean_fraction"]], ex["tolerance"])


def test_bernoulli_mle(seed_example):
    ex = seed_example("bernoulli-mle")
    heads, flips = ex["inputs"]["heads"], ex["inputs"]["flips"]
    close(gm.bernoulli_mle(heads, trials=flips), ex["expected"]["p_hat"], ex["tolerance"])
    outcomes = [1] * heads + [0] * (flips - heads)
    close(gm.bernoulli_mle(outcomes), ex["expected"]["p_hat"], ex["tolerance"])


def test_beta_binomial_map_q3_5(seed_example):
    ex = seed_example("beta-binomial-map-q3-5")
    i, e = ex["inputs"], ex["expected"]
    post = gm.beta_binomial_posterior(i["prior_a"], i["prior_b"], i["heads"],
                                      i["flips"] - i["heads"])
    assert (post.alpha, post.beta) == tuple(e["posterior"])
    close(post.mean, e["posterior_mean"], ex["tolerance"])
    close(post.map, e["posterior_mode_MAP"], ex["tolerance"])  # 159/298, not the mean 160/300
    close(gm.bernoulli_mle(i["heads"], trials=i["flips"]), e["mle"], ex["tolerance"])


def test_gaussian_mle(seed_example):
    ex = seed_example("gaussian-mle-1-3-5-7-9")
    fit, unbiased = gm.gaussian_mle(ex["inputs"]["x"]), gm.gaussian_mle(ex["inputs"]["x"], ddof=1)
    close([fit.mean, fit.variance, unbiased.variance],
          [ex["expected"]["mu_mle"], ex["expected"]["var_mle"], ex["expected"]["var_unbiased"]],
          ex["tolerance"])


def test_bayes_spam(seed_example):
    ex = seed_example("bayes-spam-winner")
    i = ex["inputs"]
    posterior = gm.bayes_posterior([i["p_spam"], 1 - i["p_spam"]],
                                   [i["p_word_given_spam"], i["p_word_given_ham"]])
    close(posterior[0], ex["expected"]["p_spam_given_word"], ex["tolerance"])


def test_beta_binomial_update_listing(seed_example):
    ex = seed_example("beta-binomial-update-listing-3-1")
    a, b = ex["inputs"]["prior"]
    for (heads, flips), expected in zip(ex["inputs"]["observations"],
                                        ex["expected"]["posteriors"], strict=True):
        post = gm.beta_binomial_posterior(a, b, heads, flips - heads)
        assert [post.alpha, post.beta] == expected


# ------------------------------------------------------------------------- information, learning
def test_information_content_bits(seed_example):
    ex = seed_example("information-content-bits")
    close(gm.information_content(ex["inputs"]["p"]), ex["expected"]["bits"], ex["tolerance"])


def test_cross_entropy_confidence(seed_example):
    ex = seed_example("cross-entropy-confidence")
    close(gm.cross_entropy(ex["inputs"]["p"], ex["inputs"]["q"]), ex["expected"]["H_p_q"],
          ex["tolerance"])


def test_ce_entropy_kl_q3_8(seed_example):
    ex = seed_example("ce-entropy-kl-q3-8")
    p, q, tol, e = ex["inputs"]["p"], ex["inputs"]["q"], ex["tolerance"], ex["expected"]
    close(gm.cross_entropy(p, q), e["cross_entropy"], tol)
    close(gm.entropy(p), e["entropy_p"], tol)
    close(gm.kl_divergence(p, q), e["kl"], tol)


def test_vc_dimension_facts(seed_example):
    ex = seed_example("vc-dimension-facts")
    e = ex["expected"]
    assert gm.vc_dimension("linear-2d") == e["linear_2d"]
    assert gm.vc_dimension("linear", dim=ex["inputs"]["d"]) == e["linear_Rd"]
    assert gm.vc_dimension("intervals") == e["intervals"]
    assert gm.vc_dimension("rectangles") == e["axis_aligned_rectangles"]
    xor_points, xor_labels = [[0, 0], [1, 1], [0, 1], [1, 0]], [0, 0, 1, 1]
    assert gm.best_linear_accuracy(xor_points, xor_labels) == e["xor_best_linear_accuracy"]
