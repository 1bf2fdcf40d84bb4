"""Code written for autograd or JAX: ``autograd.numpy`` used as ``np`` is
differentiated with NumPy's rules; the idioms that belong to another
library's tracer (``@primitive``/``defvjp``, ``elementwise_grad``,
``jax.custom_vjp``, ``jax.numpy``) are refused by name, pointing to the
sourcegrad way (README, "Coming from autograd or JAX")."""
from __future__ import annotations

import numpy as onp
import pytest

import sourcegrad as sg
from sourcegrad.errors import NoDerivativeError
from sourcegrad.testing import check_grads

X = onp.array([0.1, 0.5, 1.2])


# --------------------------------------------------------------- autograd --

autograd = pytest.importorskip("autograd", reason="autograd is not installed")
import autograd.numpy as anp  # noqa: E402


def with_autograd_numpy(x):
    h = anp.tanh(anp.dot(x, x) * x)
    return anp.sum(h ** 2) + anp.sum(anp.array([1.0, 2.0, 3.0]) * anp.exp(x))


def test_autograd_numpy_uses_numpy_rules():
    check_grads(with_autograd_numpy, X)


def test_autograd_scipy_uses_scipy_rules():
    pytest.importorskip("scipy", reason="SciPy is not installed")
    check_grads(_autograd_scipy, X)


def _autograd_scipy(x):
    return anp.sum(asp.gammaln(x + 1.0)) + anp.sum(asp.logsumexp(x * 2.0)) + \
        anp.sum(anorm.logpdf(x, 0.3, scale=anp.exp(x[0])))


try:
    import autograd.scipy.special as asp  # noqa: E402
    import autograd.scipy.stats.norm as anorm  # noqa: E402
except ImportError:  # autograd without SciPy
    asp = anorm = None


@autograd.primitive
def logsq(x):
    return anp.log(x ** 2)


autograd.extend.defvjp(logsq, lambda ans, x: lambda g: g * 2.0 / x)


def with_primitive(x):
    return anp.sum(logsq(x))


def test_autograd_primitive_is_named_with_the_sourcegrad_way():
    with pytest.raises(NoDerivativeError) as info:
        sg.grad(with_primitive)(X)
    msg = str(info.value)
    assert "call to logsq" in msg and "is an autograd @primitive" in msg
    assert "defvjp" in msg and "@sourcegrad.adjoint(logsq)" in msg
    assert info.value.filename == __file__
    assert "tracer.py" not in msg


def test_a_rule_for_an_autograd_primitive():
    from sourcegrad.rules.registry import _RULES, _key

    def logsq_rule(z, x):
        d[x] = d[z] * 2.0 / x  # noqa: F821  (d: the template's adjoint name)

    sg.adjoint(logsq)(logsq_rule)
    try:
        check_grads(with_primitive, X)
    finally:
        _RULES.pop(_key(logsq), None)


def with_elementwise_grad(x):
    return anp.sum(autograd.elementwise_grad(anp.tanh)(x))


def with_autograd_grad(x):
    return autograd.grad(lambda v: anp.sum(v ** 2))(x)


@pytest.mark.parametrize("fn,idiom,way", [
    (with_elementwise_grad, "elementwise_grad", "sg.grad(lambda x: np.sum(f(x)))"),
    (with_autograd_grad, "grad", "sg.grad(f)"),
])
def test_autograd_operators_are_named(fn, idiom, way):
    with pytest.raises(NoDerivativeError) as info:
        sg.grad(fn)(X)
    msg = str(info.value)
    assert f"is autograd's {idiom}," in msg and way in msg
    assert "Coming from autograd or JAX" in msg
    assert info.value.filename == __file__  # at transformation time, at the user's line


# -------------------------------------------------------------------- JAX --
# JAX is not a dependency; these objects carry the module names JAX's have, which
# is all sourcegrad looks at to recognise them.

class custom_vjp:  # stands in for jax.custom_vjp
    def __init__(self, fun):
        self.fun = fun
        self.__name__ = fun.__name__

    def __call__(self, *args):
        return self.fun(*args)


custom_vjp.__module__ = "jax._src.custom_derivatives"


@custom_vjp
def clip_gradient(x):
    return x


def jnp_sum(x):
    return onp.sum(x)


jnp_sum.__module__ = "jax.numpy"


def with_custom_vjp(x):
    return onp.sum(clip_gradient(x) ** 2)


def with_jax_numpy(x):
    return jnp_sum(x * x)


def test_jax_custom_vjp_is_named():
    with pytest.raises(NoDerivativeError) as info:
        sg.grad(with_custom_vjp)(X)
    msg = str(info.value)
    assert "clip_gradient is a jax.custom_vjp" in msg
    assert "@sourcegrad.adjoint(" in msg and "Coming from autograd or JAX" in msg


def test_jax_numpy_points_to_numpy():
    with pytest.raises(NoDerivativeError) as info:
        sg.grad(with_jax_numpy)(X)
    msg = str(info.value)
    assert "belongs to JAX" in msg and "import numpy as np" in msg


# ------------------------------------------------------------- the README --

def _readme_blocks(section):
    import pathlib
    import re
    text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 3)
    end = len(text) if end < 0 else end
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_readme_minimize_example_fits(tmp_path):
    pytest.importorskip("scipy", reason="SciPy is not installed")
    from sourcegrad.testing import load_source
    (block,) = _readme_blocks("Coming from autograd or JAX")
    mod = load_source(str(tmp_path / "readme_fit.py"), block)
    np_ = mod.np
    np_.testing.assert_allclose(mod.params["w"], [2.0], atol=1e-3)
    np_.testing.assert_allclose(mod.params["b"], 1.0, atol=1e-3)
    assert isinstance(mod.params["b"], float)


def test_readme_rule_example_checks(tmp_path):
    pytest.importorskip("scipy", reason="SciPy is not installed")
    from sourcegrad.rules.registry import _RULES, _key
    from sourcegrad.testing import load_source
    rule, check = _readme_blocks("A rule for a function sourcegrad can't read")
    try:
        load_source(str(tmp_path / "readme_rule.py"), "import numpy as np\n" + rule + check)
    finally:
        import scipy.special
        _RULES.pop(_key(scipy.special.zeta), None)
