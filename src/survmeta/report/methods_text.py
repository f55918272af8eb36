"""The methods paragraph and reference list, written from what was actually run."""

from __future__ import annotations

from survmeta._format import fmt_level

import math
import re
from collections import Counter

from survmeta.errors import SurvmetaError

#: Full references, keyed by short form.
REFERENCES = {
    "Parmar 1998": (
        "Parmar MKB, Torri V, Stewart L. Extracting summary statistics to perform meta-analyses "
        "of the published literature for survival endpoints. Stat Med. 1998;17(24):2815-2834."
    ),
    "Tierney 2007": (
        "Tierney JF, Stewart LA, Ghersi D, Burdett S, Sydes MR. Practical methods for "
        "incorporating summary time-to-event data into meta-analysis. Trials. 2007;8:16."
    ),
    "Michiels 2005": (
        "Michiels S, Piedbois P, Burdett S, Syz N, Stewart L, Pignon JP. Meta-analysis when only "
        "the median survival times are known: a comparison with individual patient data results. "
        "Int J Technol Assess Health Care. 2005;21(1):119-125."
    ),
    "Röver 2020": (
        "Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package. "
        "J Stat Softw. 2020;93(6):1-51."
    ),
    "Abril-Pla 2023": (
        "Abril-Pla O, Andreani V, Carroll C, et al. PyMC: a modern, and comprehensive "
        "probabilistic programming framework in Python. PeerJ Comput Sci. 2023;9:e1516."
    ),
    "Knapp 2003": (
        "Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single "
        "covariate. Stat Med. 2003;22(17):2693-2710."
    ),
    "DerSimonian 1986": (
        "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials. "
        "1986;7(3):177-188."
    ),
    "Turner 2015": (
        "Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Predictive distributions for "
        "between-study heterogeneity and simple methods for their application in Bayesian "
        "meta-analysis. Stat Med. 2015;34(6):984-998."
    ),
    "Röver 2021": (
        "Röver C, Bender R, Dias S, et al. On weakly informative prior distributions for the "
        "heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods. "
        "2021;12(4):448-474."
    ),
    "Vehtari 2021": (
        "Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner PC. Rank-normalization, folding, "
        "and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Anal. "
        "2021;16(2):667-718."
    ),
    "Guyot 2012": (
        "Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival "
        "data: reconstructing the data from published Kaplan-Meier survival curves. BMC Med "
        "Res Methodol. 2012;12:9."
    ),
}

#: Reconstruction method id -> (what it does, in a sentence fragment; references).
METHOD_TEXT = {
    "direct": ("log HR and SE given directly", ()),
    "hr_ci": ("the reported HR with its confidence interval (SE from the interval width)",
              ("Parmar 1998", "Tierney 2007")),
    "hr_p": ("the reported HR with its p-value (SE from the z statistic)",
             ("Tierney 2007",)),
    "logrank_oe": ("the log-rank O - E and its variance V", ("Parmar 1998", "Tierney 2007")),
    "joint": ("a joint likelihood of the printed medians, p-value and log-rank information (from "
              "events, follow-up or group sizes with a calibrated event fraction), its error "
              "terms calibrated on published trials reporting a hazard ratio",
              ("Parmar 1998", "Tierney 2007", "Michiels 2005")),
    "observed_expected": ("observed and expected events per arm", ("Parmar 1998", "Tierney 2007")),
    "km_ipd": ("a Cox model of patient data reconstructed from the digitised Kaplan-Meier curves "
               "(and the numbers at risk and total events where printed), with an extra error SD "
               "calibrated by simulation", ("Guyot 2012",)),
    "chisq": ("the log-rank chi-square statistic with V from the events per arm",
              ("Parmar 1998", "Tierney 2007")),
    "p_events": ("the p-value with V approximated from the number of events",
                 ("Parmar 1998", "Tierney 2007")),
    "p_total_events": ("the p-value with V approximated from the total number of events D and "
                       "the group sizes, V = D n_e n_r / (n_e + n_r)^2 (D/4, i.e. 1:1 allocation, "
                       "when the group sizes are not reported)", ("Tierney 2007",)),
    "p_patients": ("the p-value with V approximated from the number of patients (SE a lower bound)",
                   ("Parmar 1998", "Tierney 2007")),
    "median_ratio_ci": ("the ratio of median survival times assuming exponential survival, SE from "
                        "the medians' confidence intervals", ("Michiels 2005",)),
    "median_ratio_events": ("the ratio of median survival times assuming exponential survival, SE "
                            "from the events per arm", ("Michiels 2005",)),
    "median_ratio_p": ("the ratio of median survival times assuming exponential survival, SE from "
                       "the p-value", ("Michiels 2005",)),
}


def method_title(method: str) -> str:
    """One-line description of a reconstruction method (from the reconstruction module when present)."""
    try:
        from survmeta.reconstruction.methods import METHOD_TITLES
    except ImportError:  # pragma: no cover - reconstruction is part of the package
        METHOD_TITLES = {}
    if method in METHOD_TITLES:
        return METHOD_TITLES[method]
    return METHOD_TEXT.get(method, (str(method), ()))[0]


def describe_prior(prior, kind: str) -> str:
    """Words for a prior: :meth:`survmeta.priors.Prior.describe` and its spec, or the words
    recorded for it (``PoolResult.prior_notes``) as written.

    Parameters
    ----------
    prior : Prior, str or None
        A :class:`~survmeta.priors.Prior`, or words describing a prior.
    kind : {"tau", "mu"}
        The parameter (kept for callers; the prior knows its own).
    """
    if prior is None:
        return "not recorded"
    describe = getattr(prior, "describe", None)
    if callable(describe):
        return f"{describe()} ({prior})"
    return str(prior)


def result_prior(result, name: str):
    """The prior on ``name`` of a result: its :class:`~survmeta.priors.Prior`, else the words
    in ``prior_notes``, else None."""
    prior = (getattr(result, "priors", None) or {}).get(name)
    if prior is None:
        prior = (getattr(result, "prior_notes", None) or {}).get(name)
    return prior


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cite(keys) -> str:
    keys = [k for k in dict.fromkeys(keys) if k]
    return f" ({'; '.join(keys)})" if keys else ""


def methods_used(poolset) -> Counter:
    """How many pooled estimates each reconstruction method produced."""
    c: Counter = Counter()
    for r in poolset.values():
        if "method" in r.effects:
            c.update(str(m) for m in r.effects["method"])
    return c


def _shrinkage_sentence(methods: list[str]) -> str:
    """What the shrinkage correction did, with the calibrated factor and where it comes from."""
    from survmeta.reconstruction.calibration import load_calibration

    cal = load_calibration()
    factors = sorted({(cal[m].shrinkage.b, cal[m].shrinkage.n) for m in methods
                      if m in cal and cal[m].shrinkage is not None})
    how = "; ".join(f"b = {b:.2f}, from {n} trials" for b, n in factors)
    return (
        "Estimates from " + _join([method_title(m) for m in methods]) + " were divided by their "
        f"shrinkage towards no effect ({how}: the slope of the reconstructed on the reported log "
        "HR in published comparisons of overall survival from randomised trials outside lung "
        "cancer that report both), with the extra error standard deviation of corrected "
        "estimates."
    )


def methods_paragraph(poolset) -> tuple[str, list[str]]:
    """The methods paragraph and the short forms of the references it cites.

    Parameters
    ----------
    poolset : survmeta.results.PoolSet
        What was run: engines, priors, reconstruction methods, levels and seeds
        are read from the results, never assumed.

    Returns
    -------
    (str, list of str)
        The paragraph, and the keys of :data:`REFERENCES` it cites, in order.
    """
    results = list(poolset.values())
    cited: list[str] = []
    parts: list[str] = []
    used = methods_used(poolset)
    if used:
        frags = []
        for m, n in sorted(used.items(), key=lambda kv: (-kv[1], kv[0])):
            text, refs = METHOD_TEXT.get(m, (method_title(m), ()))
            frags.append(f"{text} ({n} estimate{'s' if n != 1 else ''}){_cite(refs)}")
            cited += list(refs)
        parts.append(
            "For each comparison, the log hazard ratio (HR) of the experimental versus the "
            "reference arm and its standard error (SE) were reconstructed from what the paper "
            f"reported, using {_join(frags)}."
        )
        extra = any(
            "se_extra" in r.effects and (r.effects["se_extra"].fillna(0).astype(float) > 0).any()
            for r in results
        )
        corrected = sorted({
            str(m) for r in results if "flags" in r.effects
            for m, f in zip(r.effects["method"], r.effects["flags"])
            if isinstance(f, (tuple, list)) and "shrinkage_corrected" in f
        })
        if corrected:
            parts.append(_shrinkage_sentence(corrected))
        if extra:
            parts.append(
                "The SEs of estimates from approximate methods were inflated by a calibrated "
                "extra error standard deviation."
            )
    engines = sorted({r.engine for r in results})
    level = results[0].level if results else 0.95
    lvl = fmt_level(level)
    if results:
        parts.append(
            "Each question was pooled with a normal-normal random-effects model on the log HR "
            "scale (a common mean log HR mu and between-study standard deviation tau)."
        )
    if "exact" in engines:
        draws = _draw_count(next(r for r in results if r.engine == "exact"))
        parts.append(
            "The posterior was computed by numerical integration over tau, as in the bayesmeta "
            "approach (Röver 2020)"
            + (f"; {draws} independent posterior draws were kept for the figures" if draws else "")
            + "."
        )
        cited.append("Röver 2020")
    if "mcmc" in engines or "hierarchical" in engines:
        r = next(r for r in results if r.engine in ("mcmc", "hierarchical"))
        chains, draws = r.diagnostics.chains, r.diagnostics.draws
        run = f" ({chains} chains of {draws} draws)" if chains and draws else ""
        parts.append(
            f"The posterior was sampled with the No-U-Turn sampler in PyMC{run} (Abril-Pla 2023); "
            "convergence was checked with rank-normalised R-hat, effective sample sizes "
            "(Vehtari 2021) and divergent transitions."
        )
        cited += ["Abril-Pla 2023", "Vehtari 2021"]
    priors = {(str(result_prior(r, "mu")), str(result_prior(r, "tau"))):
              (result_prior(r, "mu"), result_prior(r, "tau")) for r in results}
    if len(priors) == 1:
        mu_spec, tau_spec = next(iter(priors.values()))
        weak = (" (a weakly informative prior, Röver 2021)" if _is_halfnormal(tau_spec)
                else "")
        parts.append(
            f"Priors: {describe_prior(tau_spec, 'tau')} for tau{weak} and "
            f"{describe_prior(mu_spec, 'mu')} for mu."
        )
        if weak:
            cited.append("Röver 2021")
    elif priors:
        parts.append("Priors differed between questions; they are listed with each question.")
    if results:
        parts.append(
            f"Results are posterior medians with {lvl} equal-tailed credible intervals (CrI), "
            f"{lvl} prediction intervals for the HR of a new study, and the posterior probability "
            "that the HR is below 1."
        )
    if any(r.frequentist for r in results):
        parts.append(
            "Frequentist companions are reported alongside: REML with the Knapp-Hartung interval "
            "(Knapp 2003) and DerSimonian-Laird (DerSimonian 1986), with I\u00b2."
        )
        cited += ["Knapp 2003", "DerSimonian 1986"]
    seeds = sorted({r.seed for r in results if r.seed is not None})
    if seeds:
        parts.append(f"Random seed: {', '.join(str(s) for s in seeds)}.")
    hier = getattr(poolset, "hierarchical", None)
    if hier is not None and len(hier):
        fits = hier.by_fit() if hasattr(hier, "by_fit") else {"": hier}
        if len(fits) > 1 or "" not in fits:
            parts.append(
                "The hierarchical model shares heterogeneity only among the questions of one "
                "question group, each group fitted separately: "
                + "; ".join(f"{g} ({', '.join(f)})" for g, f in fits.items()) + ".")
        for fit in fits.values():
            h_text, h_cited = hierarchical_paragraph(fit)
            parts.append(h_text)
            cited += h_cited
    parts += single_arm_sentences(poolset)
    return " ".join(parts), list(dict.fromkeys(cited))


def single_arm_engine_text(sa) -> str:
    """How one single-group question's posterior was computed: ``"by exact Bayesian
    quadrature"`` (exact engine) or ``"with the No-U-Turn sampler in PyMC (4 chains of 1000
    draws)"`` (mcmc engine; the run as its diagnostics recorded it)."""
    if getattr(sa, "engine", "exact") != "mcmc":
        return "by exact Bayesian quadrature"
    d = getattr(sa, "diagnostics", None)
    chains, draws = (d.chains, d.draws) if d is not None else (None, None)
    run = f" ({chains} chains of {draws} draws)" if chains and draws else ""
    return f"with the No-U-Turn sampler in PyMC{run}"


def _median_engine_text(sa) -> str:
    if getattr(sa, "engine", "exact") != "mcmc":
        return "by the exact engine"
    return single_arm_engine_text(sa)


def single_arm_sentences(poolset) -> list[str]:
    """How the single-group questions were pooled, with the priors the results carry."""
    single = list(getattr(poolset, "single_arm", {}).values())
    out = []
    props = [sa for sa in single if sa.measure == "proportion"]
    meds = [sa for sa in single if sa.measure == "median"]
    try:
        if props:
            p = props[0].pool
            out.append(
                f"Single-group proportions ({', '.join(sa.id for sa in props)}) were pooled in "
                "the binomial-normal random-effects model on the logit scale (events binomial "
                "given each study's logit, the logits normal around mu with SD tau), "
                f"{single_arm_engine_text(props[0])} with mu ~ {p.mu_prior} and tau ~ "
                f"{p.tau_prior}; the "
                "pooled proportion is expit of mu's posterior median.")
        if meds:
            lm = next((sa.pool.log_median for sa in meds if sa.pool.log_median is not None), None)
            prior = (f" with mu ~ {lm.mu_prior} and tau ~ {lm.tau_prior}" if lm is not None
                     else "")
            out.append(
                f"Median times ({', '.join(sa.id for sa in meds)}) were pooled on the log scale, "
                "each study's SE taken from its confidence interval (95% unless stated), in the "
                f"normal-normal random-effects model {_median_engine_text(meds[0])}{prior}; a "
                "median not "
                "reached was left out as a bound, and the median of medians is reported beside "
                "the pooled median.")
    except SurvmetaError:  # saved results keep no pool object, and the sentences need it
        return []
    return out


def _is_halfnormal(prior) -> bool:
    return getattr(prior, "family", None) == "halfnormal"


# ---------------------------------------------------------------------------
# hierarchical model across questions
# ---------------------------------------------------------------------------
#: Covariate name -> what it codes (see survmeta.models.hierarchical.design_matrix).
COVARIATE_TEXT = {
    "endpoint_os": "an indicator of overall survival as the endpoint (1 for OS, 0 for any other "
                   "endpoint)",
    "approximate": "an indicator of an estimate from an approximate reconstruction method (1 "
                   "rather than 0 for a reported HR or log-rank statistic)",
}

#: Extra error mode -> how the calibrated extra error of approximate reconstructions entered.
EXTRA_ERROR_TEXT = {
    "known": "the calibrated extra error SD of estimates from approximate reconstruction methods "
             "was added to their sampling variance as known",
    "estimated": "the calibrated extra error SD of estimates from approximate reconstruction "
                 "methods was multiplied by a factor kappa with a half-normal(1) prior (kappa = 1 "
                 "is the calibration) and added to their sampling variance",
    "none": "the sampling SEs were used alone, without the calibrated extra error of "
            "approximate reconstruction methods",
}


def hierarchical_settings(hier) -> dict:
    """What the hierarchical fit recorded: priors, covariates, extra error, sampler, diagnostics.

    Read from the shared posterior's ``attrs["survmeta_*"]`` and the shared
    diagnostics of the first result of ``hier`` (a PoolSet of per-question
    results with engine ``"hierarchical"``); absent entries are None.
    """
    first = next(iter(hier.values()))
    attrs = {}
    try:
        attrs = dict(first.posterior["posterior"].attrs)
    except Exception:  # no posterior kept: fall back to what the result itself carries
        pass
    covs = attrs.get("survmeta_covariates")
    covariates = [] if covs in (None, "", "none") else [c.strip() for c in str(covs).split(";")
                                                        if c.strip()]
    notes = attrs.get("survmeta_notes")
    d = first.diagnostics
    mu_prior = result_prior(first, "mu")
    return {
        "questions": len(hier),
        "mu_prior": attrs.get("survmeta_mu_prior") or (None if mu_prior is None
                                                       else str(mu_prior)),
        "tau_population_prior": attrs.get("survmeta_tau_population_prior"),
        "covariates": covariates if covs is not None else None,
        "extra_error": attrs.get("survmeta_extra_error"),
        "parametrization": attrs.get("survmeta_parametrization"),
        "seed": attrs.get("survmeta_random_seed", first.seed),
        "tuning_steps": attrs.get("survmeta_tune", attrs.get("tuning_steps")),
        "coefficient_sd": attrs.get("survmeta_coefficient_sd"),
        "target_accept": attrs.get("survmeta_target_accept"),
        "clustered": attrs.get("survmeta_clustered"),
        "notes": None if notes in (None, "", "none") else str(notes),
        "chains": d.chains,
        "draws": d.draws,
        "r_hat_max": d.r_hat_max,
        "ess_bulk_min": d.ess_bulk_min,
        "ess_tail_min": d.ess_tail_min,
        "divergences": d.divergences,
        "treedepth_hits": d.treedepth_hits,
        "warnings": list(d.warnings),
        "k": sum(r.k for r in hier.values()),
    }


def _model_constant(name: str, default: float) -> float:
    """A fixed setting of the hierarchical model, from its module when it is loaded (it is,
    whenever the model ran in this process), else the documented default."""
    import sys

    mod = sys.modules.get("survmeta.models.hierarchical")
    return float(getattr(mod, name, default)) if mod is not None else default


def _lognormal_text(spec) -> str | None:
    """'log tau_pop ~ Normal(m, s)' -> words with the implied median and 95% range of tau_pop."""
    m = re.search(r"Normal\(\s*([-+0-9.eE]+)\s*,\s*([0-9.eE+]+)\s*\)", str(spec or ""))
    if not m:
        return None
    mu, sd = float(m.group(1)), float(m.group(2))
    lo, hi = math.exp(mu - 1.959964 * sd), math.exp(mu + 1.959964 * sd)
    return (f"log tau_pop ~ normal({mu:g}, {sd:g}), i.e. a log-normal prior on tau_pop with "
            f"median {math.exp(mu):.2f} and 95% range {lo:.2f} to {hi:.2f}")


def covariates_sentence(covariates, coefficient_sd: float | None = None) -> str:
    """The meta-regression covariates as a sentence (for the methods and the model section).

    ``coefficient_sd`` is the prior SD the fit recorded; when absent, the
    model's default is stated.
    """
    if coefficient_sd is None:
        coefficient_sd = _model_constant('DEFAULT_COEFFICIENT_SD', 0.5)
    if covariates is None:
        return "The covariates of the fit were not recorded."
    if not covariates:
        return "No meta-regression covariates were included."
    what = _join([f"{c}, {COVARIATE_TEXT.get(c, _covariate_words(c))}" for c in covariates])
    plural = len(covariates) > 1
    return (
        f"The mean log HR of each estimate was adjusted for {what}; "
        f"{'each covariate was' if plural else 'the covariate was'} centred within its question, "
        "so a question's pooled log HR is at its own covariate mix and the coefficient"
        f"{'s are' if plural else ' is'} informed only by contrasts within questions, with a "
        f"zero-centred normal(0, {float(coefficient_sd):g}) shrinkage "
        "prior on each coefficient."
    )


def _covariate_words(name: str) -> str:
    for prefix in ("design_", "method_"):
        if name.startswith(prefix):
            return f"an indicator of {prefix[:-1]} {name[len(prefix):]}"
    return "a numeric column of the effect table"


def extra_error_sentence(mode) -> str | None:
    """How the extra error of approximate reconstructions entered the hierarchical model."""
    if mode is None:
        return None
    text = EXTRA_ERROR_TEXT.get(str(mode), f"extra error mode {mode!r}")
    return text[0].upper() + text[1:] + "."


def hierarchical_paragraph(hier) -> tuple[str, list[str]]:
    """The hierarchical model across questions as run: model, priors, covariates, extra error,
    sampler settings, seed and diagnostics, with the keys of :data:`REFERENCES` it cites."""
    s = hierarchical_settings(hier)
    cited = ["Turner 2015", "Abril-Pla 2023", "Vehtari 2021"]
    parts = [
        f"In addition, the {s['questions']} questions ({s['k']} estimates) were pooled jointly "
        "in a hierarchical model (docs/models.md, section 2): each question q has its own pooled "
        "log HR mu_q and between-study SD tau_q, and the log tau_q are drawn from one normal "
        "population, log tau_q = log tau_pop + sigma_logtau eta_q with eta_q ~ normal(0, 1), so "
        "questions with one or two studies borrow the typical heterogeneity of the others."
    ]
    if s["mu_prior"]:
        parts.append(f"Priors: mu_q ~ {s['mu_prior']} for each question's pooled log HR;")
    pop = _lognormal_text(s["tau_population_prior"]) or (
        str(s["tau_population_prior"]) if s["tau_population_prior"] else None)
    if pop:
        parts.append(
            f"{pop} for the centre of the population of tau_q (a log-normal prior on tau^2 of "
            "the kind derived by Turner 2015), and a half-normal"
            f"({_model_constant('DEFAULT_SIGMA_LOGTAU_SCALE', 0.5):g}) prior on sigma_logtau, "
            "the spread of log tau_q between questions."
        )
    parts.append(covariates_sentence(s["covariates"], s["coefficient_sd"]))
    ee = extra_error_sentence(s["extra_error"])
    if ee:
        parts.append(ee)
    if s["clustered"]:
        parts.append("Several rows of one study within a question shared a study-level deviation.")
    run = []
    if s["chains"] and s["draws"]:
        run.append(f"{s['chains']} chains of {s['draws']} draws")
    if s["tuning_steps"]:
        run.append(f"after {s['tuning_steps']} tuning steps each")
    if s["target_accept"]:
        run.append(f"at a target acceptance rate of {float(s['target_accept']):g}")
    parametrization = ""
    if s["parametrization"] and "marginal" in str(s["parametrization"]):
        parametrization = (", with the study effects integrated out of the likelihood and drawn "
                           "afterwards from their conditional posterior")
    parts.append(
        "It was sampled with the No-U-Turn sampler of PyMC"
        + (f", {' '.join(run)}" if run else "")
        + (f" (seed {s['seed']})" if s["seed"] is not None else "")
        + parametrization + " (Abril-Pla 2023)."
    )
    diag = []
    if s["r_hat_max"] is not None:
        diag.append(f"largest rank-normalised R-hat {s['r_hat_max']:.3f}")
    if s["ess_bulk_min"] is not None:
        tail = (f" and tail ESS {s['ess_tail_min']:.0f}" if s["ess_tail_min"] is not None else "")
        diag.append(f"smallest bulk ESS {s['ess_bulk_min']:.0f}{tail}")
    if s["divergences"] is not None:
        diag.append(f"{s['divergences']} divergent transitions")
    if s["treedepth_hits"] is not None:
        diag.append(f"{s['treedepth_hits']} draws at the maximum tree depth")
    if diag:
        verdict = ("no warnings" if not s["warnings"]
                   else f"{len(s['warnings'])} warning{'s' if len(s['warnings']) != 1 else ''}, "
                        "listed with the model")
        parts.append(f"Diagnostics (Vehtari 2021): {_join(diag)}; {verdict}.")
    if s["notes"]:
        parts.append(f"Notes from the fit: {s['notes']}.")
    return " ".join(parts), cited


def _draw_count(result) -> int | None:
    post = getattr(result, "posterior", None)
    try:
        g = post["posterior"]
        return int(g.sizes.get("chain", 1) * g.sizes.get("draw", 0)) or None
    except Exception:
        return None
