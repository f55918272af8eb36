"""The methods paragraph and reference list, written from what was actually run."""

from __future__ import annotations

from collections import Counter

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
}

#: Reconstruction method id -> (what it does, in a sentence fragment; references).
METHOD_TEXT = {
    "direct": ("log HR and SE given directly", ()),
    "hr_ci": ("the reported HR with its confidence interval (SE from the interval width)",
              ("Parmar 1998", "Tierney 2007")),
    "hr_p": ("the reported HR with its p-value (SE from the z statistic)",
             ("Tierney 2007",)),
    "logrank_oe": ("the log-rank O - E and its variance V", ("Parmar 1998", "Tierney 2007")),
    "observed_expected": ("observed and expected events per arm", ("Parmar 1998", "Tierney 2007")),
    "chisq": ("the log-rank chi-square statistic with V from the events per arm",
              ("Parmar 1998", "Tierney 2007")),
    "p_events": ("the p-value with V approximated from the number of events",
                 ("Parmar 1998", "Tierney 2007")),
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
        from survmeta.reconstruct.methods import METHOD_TITLES
    except ImportError:  # pragma: no cover - reconstruction is part of the package
        METHOD_TITLES = {}
    if method in METHOD_TITLES:
        return METHOD_TITLES[method]
    return METHOD_TEXT.get(method, (str(method), ()))[0]


def describe_prior(spec, kind: str) -> str:
    """Words for a prior spec via :meth:`survmeta.priors.Prior.describe`, else the spec itself."""
    if spec is None:
        return "not recorded"
    try:
        from survmeta.priors import parse_prior

        return f"{parse_prior(spec, kind).describe()} ({spec})"
    except Exception:  # the spec is still worth printing as written
        return str(spec)


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
        if extra:
            parts.append(
                "The SEs of estimates from approximate methods were inflated by a calibrated "
                "extra error standard deviation."
            )
    engines = sorted({r.engine for r in results})
    level = results[0].level if results else 0.95
    lvl = f"{level * 100:g}%"
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
        d = r.diagnostics or {}
        chains, draws = d.get("chains"), d.get("draws")
        run = f" ({chains} chains of {draws} draws)" if chains and draws else ""
        parts.append(
            f"The posterior was sampled with the No-U-Turn sampler in PyMC{run} (Abril-Pla 2023); "
            "convergence was checked with rank-normalised R-hat, effective sample sizes and "
            "divergent transitions."
        )
        cited.append("Abril-Pla 2023")
        if "hierarchical" in engines:
            parts.append("A hierarchical model shared information on heterogeneity across questions.")
    priors = {(r.priors.get("mu"), r.priors.get("tau")) for r in results}
    if len(priors) == 1:
        mu_spec, tau_spec = next(iter(priors))
        parts.append(
            f"Priors: {describe_prior(tau_spec, 'tau')} for tau and "
            f"{describe_prior(mu_spec, 'mu')} for mu."
        )
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
    return " ".join(parts), list(dict.fromkeys(cited))


def _draw_count(result) -> int | None:
    post = getattr(result, "posterior", None)
    try:
        g = post["posterior"]
        return int(g.sizes.get("chain", 1) * g.sizes.get("draw", 0)) or None
    except Exception:
        return None
