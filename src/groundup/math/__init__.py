"""groundup.math — the math underneath machine learning, one callable function per idea.

- :mod:`~groundup.math.calculus`: numerical derivatives, limits, gradient, Jacobian, Hessian,
  directional derivatives, Taylor approximations, critical points and convexity, gradient descent
  and Newton's method, Riemann sums and integration.
- :mod:`~groundup.math.linalg`: norms, angles, projections, Gram matrices, eigenvalues, condition
  number, rank, least squares, definiteness.
- :mod:`~groundup.math.information`: surprise, entropy, cross-entropy, KL and JS divergences,
  conditional entropy, mutual information, perplexity.
- :mod:`~groundup.math.probability`: binomial distribution, guessing simulation, MLEs, Beta–Binomial
  posterior, Bayes' rule.
- :mod:`~groundup.math.learning_theory`: generalisation bounds, PAC sample complexity, shattering,
  VC dimension.

NumPy only; float64 throughout.
"""

from groundup.math.calculus import (
    ConvexityReport,
    LimitResult,
    OptimizationResult,
    TaylorApproximation,
    TaylorSeries,
    classify_critical_point,
    derivative,
    directional_derivative,
    gradient,
    gradient_descent,
    hessian,
    integrate,
    is_convex,
    jacobian,
    limit,
    newton_method,
    riemann_sum,
    second_derivative,
    simpson,
    steepest_descent_direction,
    taylor,
    taylor_series,
    trapezoid,
)
from groundup.math.information import (
    conditional_entropy,
    cross_entropy,
    entropy,
    information_content,
    joint_distribution,
    joint_entropy,
    js_divergence,
    kl_divergence,
    mutual_information,
    perplexity,
)
from groundup.math.learning_theory import (
    FAMILIES,
    best_linear_accuracy,
    can_realize,
    finite_class_bound,
    hoeffding_bound,
    linearly_separable,
    pac_sample_complexity,
    shatters,
    vc_bound,
    vc_dimension,
)
from groundup.math.linalg import (
    angle_between,
    condition_number,
    cosine_similarity,
    definiteness,
    determinant,
    dot,
    eig,
    eigenvalues,
    gram_matrix,
    inverse,
    is_positive_definite,
    is_positive_semidefinite,
    is_symmetric,
    matmul_shape,
    norm,
    project,
    rank,
    singular_values,
    solve,
    solve_least_squares,
    symmetric_part,
    unit_vector,
)
from groundup.math.probability import (
    BetaPosterior,
    GaussianMLE,
    bayes_posterior,
    bernoulli_mle,
    beta_binomial_posterior,
    binomial_mean_var,
    binomial_pmf,
    gaussian_mle,
    simulate_guessing_test,
)

__all__ = [
    # calculus
    "derivative", "second_derivative", "limit", "LimitResult", "gradient", "jacobian", "hessian",
    "directional_derivative", "steepest_descent_direction", "taylor", "taylor_series",
    "TaylorApproximation", "TaylorSeries", "classify_critical_point", "is_convex",
    "ConvexityReport", "gradient_descent", "newton_method", "OptimizationResult", "riemann_sum",
    "trapezoid", "simpson", "integrate",
    # linear algebra
    "dot", "norm", "unit_vector", "cosine_similarity", "angle_between", "project", "gram_matrix",
    "matmul_shape", "determinant", "inverse", "solve", "eig", "eigenvalues", "singular_values",
    "condition_number", "rank", "solve_least_squares", "is_symmetric", "symmetric_part",
    "definiteness", "is_positive_definite", "is_positive_semidefinite",
    # information theory
    "information_content", "entropy", "cross_entropy", "kl_divergence", "js_divergence",
    "joint_entropy", "conditional_entropy", "mutual_information", "joint_distribution",
    "perplexity",
    # probability
    "binomial_pmf", "binomial_mean_var", "simulate_guessing_test", "bernoulli_mle", "gaussian_mle",
    "GaussianMLE", "beta_binomial_posterior", "BetaPosterior", "bayes_posterior",
    # learning theory
    "finite_class_bound", "vc_bound", "pac_sample_complexity", "hoeffding_bound", "FAMILIES",
    "can_realize", "shatters", "vc_dimension", "linearly_separable", "best_linear_accuracy",
]
