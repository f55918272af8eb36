"""Log-t priors on tau^2 and the Rhodes et al. (2015) family by name.

Table values: Rhodes, Turner, Higgins (2015), J Clin Epidemiol 68:52-60, Tables 3,
A.3.1 and A.3.2, as transcribed in bayesmeta 3.4's R/bayesmeta.R
(``RhodesEtAlParameters``; general setting -3.44, 2.59). Densities: the closed
form of a log-t variable written in the tests.
"""

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta
from survmeta.exact.rhodes import _LOCATION, AREAS, COMPARISONS, OUTCOMES
from survmeta.priors import parse_prior

CLOSED = 1e-12
LOGT = 1e-5     # engine vs brute force with a log-t prior: the prior density is infinite at
                # tau = 0 and puts mass of order 1 / (5 |log tau|^5) below any tau, and the
                # engine's grid stops at tau = 1e-12 x median SE, which leaves out 2.8e-6 of this
                # posterior's mass (the brute force below integrates over log tau to tau = e^-200)


def test_logt_density_and_cdf_closed_form():
    """log(tau^2) ~ t_5(l, s): P(tau <= x) = T_5((2 log x - l) / s), density 2 t_5(z) / (s x)."""
    loc, sc = -3.44, 2.59
    p = parse_prior("logt_tau2(-3.44, 2.59, 5)")
    assert (p.family, p.params, p.proper) == ("logt_tau2", {"location": loc, "scale": sc,
                                                           "df": 5.0}, True)
    for x in (0.01, 0.2, 1.0, 7.0):
        z = (2 * math.log(x) - loc) / sc
        assert float(p.cdf(x)) == pytest.approx(stats.t.cdf(z, 5), rel=CLOSED)
        assert float(p.pdf(x)) == pytest.approx(2 * stats.t.pdf(z, 5) / (sc * x), rel=CLOSED)
    assert float(p.pdf(0.0)) == 0.0 and float(p.cdf(0.0)) == 0.0
    assert parse_prior(p.spec) == p


@pytest.mark.parametrize("spec, location, scale", [
    ("rhodes(any)", -3.44, 2.59),
    ("rhodes(obstetric, pharma-vs-placebo)", -4.13, 2.34),
    ("rhodes(mental-health, pharma-vs-placebo)", -2.99, 2.16),
    ("rhodes(subjective, pharma-vs-pharma)", -3.03, 2.59),
    ("rhodes(resource use and hospital stay / process, nonpharma)", -2.41, 2.57),
    ("rhodes(biological-markers, pharma-vs-pharma, respiratory)", -5.59, 2.78),
    ("rhodes(resource-use, pharma-vs-placebo, cancer)", 0.01, 2.83),
    ("rhodes(internal, nonpharma, cancer)", 0.27, 2.45),
])
def test_rhodes_table_values(spec, location, scale):
    p = parse_prior(spec)
    assert p.family == "logt_tau2"
    assert p.params == {"location": location, "scale": scale, "df": 5.0}
    assert "Rhodes et al. 2015" in p.describe() and "not calibrated" in p.describe()


def test_rhodes_table_is_additive():
    """The paper's model puts outcome, comparison and area effects on the location additively;
    least squares over every tabulated cell leaves residuals within the rounding (0.01)."""
    rows, values = [], []
    n_o, n_c, n_a = len(OUTCOMES), len(COMPARISONS), len(AREAS)
    for a in range(n_a):
        for j in range(n_c):
            for i in range(n_o):
                v = _LOCATION[a][j][i]
                if v is None:
                    continue
                x = np.zeros(n_o + n_c + n_a)
                x[i], x[n_o + j], x[n_o + n_c + a] = 1, 1, 1
                rows.append(x)
                values.append(v)
    X, y = np.array(rows), np.array(values)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert len(values) == n_o * n_c * n_a - 2
    assert np.max(np.abs(X @ coef - y)) <= 0.011


@pytest.mark.parametrize("spec", ["rhodes(mental-health, nonpharma)",
                                  "rhodes(internal, pharma-vs-placebo, cancer)"])
def test_rhodes_unverified_cells_are_refused(spec):
    with pytest.raises(SurvmetaError, match="could not be verified"):
        parse_prior(spec)


@pytest.mark.parametrize("spec, message", [
    ("rhodes(mental-health)", "give an outcome and a comparison type"),
    ("rhodes(any, nonpharma)", "general setting"),
    ("rhodes(mentl, nonpharma)", "unknown Rhodes outcome"),
    ("rhodes(obstetric, pharma, other)", "unknown Rhodes comparison"),
    ("rhodes(obstetric, nonpharma, lung)", "unknown Rhodes area"),
    ("rhodes(a, b, c, d)", r"takes 1 or 2 or 3 argument\(s\), got 4"),
    ("logt_tau2(-3, 0, 5)", "must be positive"),
])
def test_rhodes_errors(spec, message):
    with pytest.raises(SurvmetaError, match=message):
        parse_prior(spec)


def test_engine_with_rhodes_prior_matches_brute_force():
    """Posterior mean of tau on Crins-like log ORs by direct quadrature over tau."""
    y = np.array([-1.8, -0.4, -1.3, -1.9, -1.0, -1.6])
    s = np.array([0.6, 0.55, 0.8, 0.45, 0.6, 1.3])
    prior = parse_prior("rhodes(any)")
    post = bayesmeta(y, s, tau_prior="rhodes(any)", mu_prior="flat")

    def unnorm(t):  # p(tau) p(y | tau), mu integrated out under a flat prior
        v = s**2 + t**2
        w = 1 / v
        m = np.sum(w * y) / np.sum(w)
        return float(prior.pdf(t)) * math.exp(0.5 * np.sum(np.log(w)) - 0.5 * math.log(np.sum(w))
                                               - 0.5 * np.sum(w * (y - m) ** 2))

    kw = {"limit": 1000, "epsabs": 0, "epsrel": 1e-12}

    def moment(p):  # integral of tau^p p(tau) p(y | tau) over log tau
        return integrate.quad(lambda u: math.exp(u * (p + 1)) * unnorm(math.exp(u)), -200, 10,
                              points=[-20, -10, -5, -2, 0, 2], **kw)[0]

    assert post.mean("tau") == pytest.approx(moment(1) / moment(0), rel=LOGT)


def test_cli_pool_takes_rhodes(tmp_path, capsys):
    """The exact engine's pooled tau under rhodes(any) is its logt_tau2 table entry's.

    (rhodes works with --engine mcmc too since the prior families share one table; that path's
    log density is tested against scipy in tests/priors without sampling.)
    """
    csv = tmp_path / "e.csv"
    csv.write_text("study,estimate,se\na,-0.3,0.2\nb,-0.1,0.25\nc,0.05,0.3\n")
    assert main(["pool", "--effects", str(csv), "--tau-prior", "rhodes(any)",
                 "--format", "json"]) == 0
    (q,) = json.loads(capsys.readouterr().out)["questions"]
    assert q["priors"]["tau"] == "rhodes(any)"
    direct = bayesmeta([-0.3, -0.1, 0.05], [0.2, 0.25, 0.3], tau_prior="logt_tau2(-3.44, 2.59, 5)",
                       mu_prior="normal(0, 4)")
    assert q["tau"]["median"] == pytest.approx(direct.median("tau"), abs=1e-12)
