"""Translate :class:`survmeta.priors.Prior` objects into PyMC random variables.

A prior is anything with a ``family`` string and a ``params`` mapping (the shape
returned by :func:`survmeta.priors.parse_prior`). Strings such as
``"halfnormal(0.5)"`` are parsed with :func:`survmeta.priors.parse_prior`.

Supported families
------------------
heterogeneity ``tau``
    ``halfnormal(scale)``, ``halfcauchy(scale)``, ``halft(df, scale)``,
    ``uniform(lower, upper)``, ``exponential(rate)``, ``lognormal_tau2(mu, sigma)``
    (log-normal on tau^2, the form of Turner et al. 2015; since
    ``log tau = log(tau^2) / 2`` it is exactly ``tau ~ LogNormal(mu / 2, sigma / 2)``),
    ``logt_tau2(location, scale, df)`` (and ``rhodes(...)``: tau is
    ``exp(StudentT(df, location / 2, scale / 2))``, a ``pm.CustomDist`` whose log density
    PyMC derives with the Jacobian), ``flat`` (improper, uniform on tau > 0) and
    ``fixed`` (tau = 0, the common-effect model).
overall effect ``mu``
    ``normal(mean, sd)`` and ``flat``.

These are the rows of :data:`survmeta.priors.PRIOR_FAMILIES`, the one table the
exact engine reads too; a family outside it is rejected with the same message.

Sampling transform
------------------
NUTS samples an unconstrained version of tau. The default log transform turns
the Gaussian tail of a half-normal (or the exponential tail of an exponential)
prior into a double-exponential wall that a step size tuned on the bulk runs
into, which shows up as occasional divergences with k = 2..5. For these two
families the softplus inverse ``u = log(exp(tau) - 1)`` is used instead: it is
logarithmic near 0 and linear for large tau, so both tails stay benign (in the
benchmark's 20 small-k fits: 5 divergences with the log transform, 0 with
softplus, and about 25% more ESS for tau).

``custom`` densities (arbitrary numpy log-densities) cannot be expressed as a
PyTensor graph, so they raise :class:`UnsupportedPriorError`: use the exact
engine (``survmeta.exact``) for them.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from survmeta.errors import SurvmetaError
from survmeta.priors import check_family, families, parse_prior

__all__ = [
    "DEFAULT_MU_PRIOR",
    "DEFAULT_TAU_PRIOR",
    "UnsupportedPriorError",
    "as_prior",
    "mu_rv",
    "prior_key",
    "prior_label",
    "tau_rv",
]


TAU_FAMILIES = frozenset(families("tau"))
MU_FAMILIES = frozenset(families("mu"))
#: Unconstrained transform of tau for light-tailed priors (see the module docstring).
SOFTPLUS = pm.distributions.transforms.log_exp_m1


class UnsupportedPriorError(SurvmetaError):
    """A prior that the PyMC models cannot express."""


# the default priors live in survmeta.settings (one home for defaults)
from survmeta.settings import DEFAULT_MU_PRIOR, DEFAULT_TAU_PRIOR  # noqa: E402


def as_prior(prior, kind: str):
    """Return a prior object with ``family`` and ``params``.

    Parameters
    ----------
    prior : str, Prior-like or None
        A spec string or density function (parsed by
        :func:`survmeta.priors.parse_prior`), an object with ``family`` and
        ``params`` attributes (such as :class:`survmeta.priors.Prior`), or None
        for the default.
    kind : {"tau", "mu"}
        Which parameter the prior is for.

    Returns
    -------
    object
        An object with ``family`` (str) and ``params`` (mapping).
    """
    if kind not in ("tau", "mu"):
        raise ValueError(f"kind must be 'tau' or 'mu', not {kind!r}")
    if prior is None:
        prior = DEFAULT_TAU_PRIOR if kind == "tau" else DEFAULT_MU_PRIOR
    if isinstance(prior, str) or callable(prior):
        return parse_prior(prior, kind)
    if not hasattr(prior, "family") or not hasattr(prior, "params"):
        raise TypeError(f"a prior must be a spec string or have .family and .params, not {prior!r}")
    return prior


def prior_key(prior) -> tuple:
    """Hashable identity of a prior (family and sorted parameters).

    Parameters
    ----------
    prior : Prior-like
        Object with ``family`` and ``params``.

    Returns
    -------
    tuple
    """
    params = tuple(sorted((str(k), float(v)) for k, v in dict(prior.params).items()))
    return (prior.family, params)


def prior_label(prior) -> str:
    """Human-readable label, e.g. ``"halfnormal(scale=0.5)"``.

    Parameters
    ----------
    prior : Prior-like

    Returns
    -------
    str
    """
    spec = getattr(prior, "spec", None)
    if spec:
        return str(spec)
    params = ", ".join(f"{k}={v:g}" for k, v in dict(prior.params).items())
    return f"{prior.family}({params})"


def _p(prior, *names: str) -> float:
    """Read one float parameter (first of ``names`` present), or a clear error."""
    for name in names:
        if name in prior.params:
            return float(prior.params[name])
    raise UnsupportedPriorError(
        f"prior {prior.family!r} lacks parameter {names[0]!r} (has {sorted(prior.params)})"
    )


def _custom_error(kind: str) -> UnsupportedPriorError:
    return UnsupportedPriorError(
        f"a custom {kind} prior density cannot be used with the MCMC engine "
        "(it is a numpy function, not a PyTensor graph); use the exact engine "
        "(engine='exact', survmeta.exact.bayesmeta) for custom densities"
    )


def _check(prior, kind: str) -> None:
    """Reject a family outside :data:`survmeta.priors.PRIOR_FAMILIES` (the exact engine's message)."""
    try:
        check_family(prior, kind)  # type: ignore[arg-type]
    except UnsupportedPriorError:
        raise
    except SurvmetaError as exc:
        raise UnsupportedPriorError(str(exc)) from None


def _exp_student_t(location, scale, df, size):
    return pt.exp(pm.StudentT.dist(nu=df, mu=location, sigma=scale, size=size))


def tau_rv(name: str, prior, **kwargs):
    """Create the heterogeneity random variable in the current model.

    Parameters
    ----------
    name : str
        Variable name.
    prior : str, Prior-like or None
        Heterogeneity prior (default :data:`DEFAULT_TAU_PRIOR`).
    **kwargs
        Passed to the PyMC distribution (e.g. ``dims``).

    Returns
    -------
    pytensor.tensor.TensorVariable
    """
    prior = as_prior(prior, "tau")
    fam = prior.family
    if fam == "custom":
        raise _custom_error("tau")
    _check(prior, "tau")
    if fam == "halfnormal":
        return pm.HalfNormal(name, sigma=_p(prior, "scale"), default_transform=SOFTPLUS, **kwargs)
    if fam == "halfcauchy":
        return pm.HalfCauchy(name, beta=_p(prior, "scale"), **kwargs)
    if fam == "halft":
        return pm.HalfStudentT(name, nu=_p(prior, "df", "nu"), sigma=_p(prior, "scale"), **kwargs)
    if fam == "uniform":
        lower = _p(prior, "lower")
        if lower < 0:
            raise UnsupportedPriorError(f"uniform tau prior needs lower >= 0, got {lower:g}")
        return pm.Uniform(name, lower=lower, upper=_p(prior, "upper"), **kwargs)
    if fam == "exponential":
        return pm.Exponential(name, lam=_p(prior, "rate"), default_transform=SOFTPLUS, **kwargs)
    if fam == "lognormal_tau2":
        # log(tau) = log(tau^2) / 2, so tau is log-normal with halved parameters.
        return pm.LogNormal(name, mu=_p(prior, "mu") / 2.0, sigma=_p(prior, "sigma") / 2.0, **kwargs)
    if fam == "logt_tau2":
        # log(tau) = log(tau^2) / 2 ~ t_df(location / 2, scale / 2); PyMC adds the Jacobian.
        return pm.CustomDist(name, _p(prior, "location") / 2.0, _p(prior, "scale") / 2.0,
                             _p(prior, "df"), dist=_exp_student_t,
                             transform=pm.distributions.transforms.log, **kwargs)
    if fam == "flat":
        return pm.HalfFlat(name, **kwargs)
    if fam == "fixed":
        return pm.Deterministic(name, pt.zeros(()), **kwargs)
    raise UnsupportedPriorError(
        f"{fam!r} is not a heterogeneity prior; use one of {sorted(TAU_FAMILIES)}"
    )


def mu_rv(name: str, prior, **kwargs):
    """Create the overall-effect random variable in the current model.

    Parameters
    ----------
    name : str
        Variable name.
    prior : str, Prior-like or None
        Prior of the overall log HR (default :data:`DEFAULT_MU_PRIOR`).
    **kwargs
        Passed to the PyMC distribution (e.g. ``dims``).

    Returns
    -------
    pytensor.tensor.TensorVariable
    """
    prior = as_prior(prior, "mu")
    fam = prior.family
    if fam == "custom":
        raise _custom_error("mu")
    _check(prior, "mu")
    if fam == "normal":
        return pm.Normal(name, mu=_p(prior, "mean", "mu"), sigma=_p(prior, "sd", "sigma"), **kwargs)
    if fam == "flat":
        return pm.Flat(name, **kwargs)
    raise UnsupportedPriorError(f"{fam!r} is not a prior for mu; use one of {sorted(MU_FAMILIES)}")
