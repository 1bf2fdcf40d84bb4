"""Gaussian-process regression, written the way an autograd or JAX user writes it.

A dict of parameters, SciPy distributions for the likelihood and the priors,
helper functions, and ``scipy.optimize.minimize(..., jac=True)`` on a flat
vector made by ``sg.ravel``.  Only the imports differ from the autograd
version (``import numpy as np`` instead of ``import autograd.numpy as np``, and
``sg.value_and_grad`` for ``autograd.value_and_grad``).

Run it: ``python samples/gp_regression.py``.  It prints the fitted
hyperparameters, the test error against the true function, and the derivative
sourcegrad wrote for the objective.
"""
import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.stats
from scipy.stats import multivariate_normal as mvn

import sourcegrad as sg


def rbf_covariance(kernel, x, xp):
    """Squared-exponential kernel with one lengthscale per input dimension."""
    amplitude = np.exp(kernel["log_amp"])
    lengthscales = np.exp(kernel["log_lengthscales"])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return amplitude * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def log_prior(params):
    """Weak priors: log-normal lengthscales, a gamma prior on the noise variance."""
    lp = np.sum(scipy.stats.norm.logpdf(params["kernel"]["log_lengthscales"], 0.0, 1.5))
    noise = np.exp(params["log_noise"])
    return lp + scipy.stats.gamma.logpdf(noise, 1.5, scale=0.1)


def log_marginal_likelihood(params, x, y):
    noise = np.exp(params["log_noise"]) + 1e-6
    cov = rbf_covariance(params["kernel"], x, x) + noise * np.eye(len(y))
    prior_mean = params["mean"] * np.ones(len(y))
    return mvn.logpdf(y, prior_mean, cov)


def objective(params, x, y):
    """What the optimizer minimises: the negative log posterior."""
    return -log_marginal_likelihood(params, x, y) - log_prior(params)


def predict(params, x, y, xstar):
    """Predictive mean and variance at ``xstar`` (plain NumPy/SciPy, not differentiated)."""
    noise = np.exp(params["log_noise"]) + 1e-6
    k_ff = rbf_covariance(params["kernel"], x, x) + noise * np.eye(len(y))
    k_fs = rbf_covariance(params["kernel"], x, xstar)
    chol = scipy.linalg.cholesky(k_ff, lower=True)
    alpha = scipy.linalg.cho_solve((chol, True), y - params["mean"])
    mean = params["mean"] + k_fs.T @ alpha
    v = scipy.linalg.solve_triangular(chol, k_fs, lower=True)
    var = np.exp(params["kernel"]["log_amp"]) - np.sum(v ** 2, axis=0)
    return mean, var


def truth(x):
    return np.sin(3.0 * x[:, 0]) + 0.5 * np.cos(2.0 * x[:, 1])


def make_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, (n, 2))
    return x, truth(x) + 0.1 * rng.standard_normal(n)


def init_params():
    return {"mean": 0.0, "log_noise": np.log(0.5),
            "kernel": {"log_amp": 0.0, "log_lengthscales": np.zeros(2)}}


def fit(x, y, params):
    flat, unravel = sg.ravel(params)
    value_and_grad = sg.value_and_grad(objective)

    def fun(v):
        value, grads = value_and_grad(unravel(v), x, y)
        return value, sg.ravel(grads)[0]

    result = scipy.optimize.minimize(fun, flat, jac=True, method="L-BFGS-B")
    return unravel(result.x), result, value_and_grad


def main():
    x, y = make_data()
    params0 = init_params()
    params, result, value_and_grad = fit(x, y, params0)
    print("--- fit ---")
    print(f"negative log posterior: {objective(params0, x, y):.4f} -> {result.fun:.4f} "
          f"in {result.nit} iterations ({result.message})")
    print(f"noise std    {np.sqrt(np.exp(params['log_noise'])):.4f}")
    print(f"amplitude    {np.exp(params['kernel']['log_amp']):.4f}")
    print(f"lengthscales {np.round(np.exp(params['kernel']['log_lengthscales']), 4)}")
    xstar = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)), -1).reshape(-1, 2)
    mean, var = predict(params, x, y, xstar)
    rmse = np.sqrt(np.mean((mean - truth(xstar)) ** 2))
    print(f"test RMSE    {rmse:.4f} (predictive std {np.sqrt(np.mean(var)):.4f})")
    print("--- derivative of the objective ---")
    print(sg.source(value_and_grad))


if __name__ == "__main__":
    main()
