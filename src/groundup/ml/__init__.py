"""Classical machine learning with scikit-learn's estimator contract."""
