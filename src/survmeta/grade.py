"""GRADE inputs: the numbers a rater needs per question, by GRADE domain.

:func:`grade_inputs` reads one pooled result (:class:`~survmeta.results.PoolResult`)
and returns a frozen :class:`GradeInputs`: inconsistency (I², tau with its credible
interval, whether the prediction interval crosses HR 1), imprecision (whether the
interval crosses 1 or a threshold the user gives; the total events against the
optimal-information-size rule of thumb), publication bias (the small-study tests,
:func:`survmeta.exact.small_study_tests`, run only with k >= 10 unless forced), risk
of bias (the share of weight from comparisons whose ``rob_overall`` is high, serious
or critical, when the effect table records it), indirectness (the rater's note) and,
particular to survmeta, the share of weight that comes from reconstructed
(approximate) estimates.

Nothing here rates certainty: the rating is the reviewer's, recorded in the registry
(``[[question]] certainty = { rating, reasons }``) and shown next to these inputs.
No PyMC; the numbers come from the result as pooled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from survmeta._format import fmt_pval
from survmeta.exact.smallstudy import SmallStudyTests

__all__ = ["OIS_EVENTS", "OIS_RULE", "ROB_SERIOUS", "GradeInputs", "grade_inputs"]

#: Total events below which imprecision should be considered (optimal information size).
OIS_EVENTS = 300

#: The rule of thumb :data:`OIS_EVENTS` stands for, as printed.
OIS_RULE = ("optimal information size, rule of thumb: at least 300 events in total for a "
            "hazard-ratio outcome (GRADE guidance on imprecision, Guyatt et al. 2011, "
            "J Clin Epidemiol 64:1283-93)")

#: ``rob_overall`` judgements counted as high risk of bias (RoB 2 "high", ROBINS-I
#: "serious" and "critical"), compared case-insensitively.
ROB_SERIOUS = ("high", "serious", "critical")


@dataclass(frozen=True)
class GradeInputs:
    """The GRADE inputs of one question (see :func:`grade_inputs`).

    Attributes
    ----------
    question : str
    k : int
        Pooled comparisons.
    level : float
        Level of every interval here.
    basis : {"pooled", "one study"}
        One study: the study's own HR and CI; no heterogeneity to assess.
    i2 : float or None
        I² in percent (REML, the frequentist companion); None with one study.
    tau, tau_lower, tau_upper : float or None
        Posterior median of tau and its equal-tailed credible interval (log-HR scale).
    predict_lower, predict_upper : float or None
        Prediction interval for a new study's HR (equal-tailed).
    prediction_crosses_1 : bool or None
    hr, hr_lower, hr_upper : float
        The summary-of-findings HR and interval (credible interval when pooled).
    interval_crosses_1 : bool
    threshold : float or None
        The user's HR threshold (e.g. 0.8 for a clinically important benefit).
    interval_crosses_threshold : bool or None
    events : int or None
        Total events of the comparisons that report them; None when none does.
    events_not_reported : int
        Comparisons whose events the registry lacks.
    ois_events : int
        :data:`OIS_EVENTS`; the rule is :data:`OIS_RULE`.
    events_below_ois : bool or None
        None when it cannot be told (events missing and the reported ones below the size).
    small_study : survmeta.exact.SmallStudyTests or None
        None with fewer than two comparisons.
    approximate_weight : float
        Percent of the weight from reconstructed (approximate) estimates.
    approximate_k : int
        Comparisons with an approximate estimate.
    rob_high_weight : float or None
        Percent of the weight from comparisons at high (serious, critical) risk of bias;
        None when the effect table has no ``rob_overall`` column.
    rob_not_assessed : int
        Comparisons without a ``rob_overall`` judgement (when the column exists).
    indirectness : str or None
        The rater's note (``certainty.indirectness``).
    rating : str or None
        The rater's rating, as recorded; None when not rated.
    reasons : tuple of str
    """

    question: str
    k: int
    level: float
    basis: str
    i2: float | None
    tau: float | None
    tau_lower: float | None
    tau_upper: float | None
    predict_lower: float | None
    predict_upper: float | None
    prediction_crosses_1: bool | None
    hr: float
    hr_lower: float
    hr_upper: float
    interval_crosses_1: bool
    threshold: float | None
    interval_crosses_threshold: bool | None
    events: int | None
    events_not_reported: int
    ois_events: int
    events_below_ois: bool | None
    small_study: SmallStudyTests | None
    approximate_weight: float
    approximate_k: int
    rob_high_weight: float | None
    rob_not_assessed: int
    indirectness: str | None
    rating: str | None
    reasons: tuple[str, ...]

    # -- sentences per domain ---------------------------------------------------------
    def risk_of_bias_text(self) -> str:
        if self.rob_high_weight is None:
            return "not recorded"
        text = f"{self.rob_high_weight:.0f}% of the weight from high/serious/critical risk"
        if self.rob_not_assessed:
            text += f" ({self.rob_not_assessed} of {self.k} comparisons not assessed)"
        return text

    def inconsistency_text(self) -> str:
        if self.basis == "one study":
            return "not assessable, one study"
        pct = f"{self.level * 100:g}%"
        i2 = "-" if self.i2 is None else f"{self.i2:.0f}%"
        crosses = "crosses" if self.prediction_crosses_1 else "does not cross"
        return (f"I\u00b2 {i2} (REML); \u03c4 {self.tau:.2f} ({pct} CrI {self.tau_lower:.2f} to "
                f"{self.tau_upper:.2f}); prediction interval {self.predict_lower:.2f} to "
                f"{self.predict_upper:.2f} {crosses} HR 1")

    def imprecision_text(self) -> str:
        pct = f"{self.level * 100:g}%"
        kind = "CI" if self.basis == "one study" else "CrI"
        parts = [f"{pct} {kind} {self.hr_lower:.2f} to {self.hr_upper:.2f} "
                 f"{'crosses' if self.interval_crosses_1 else 'does not cross'} HR 1"]
        if self.threshold is not None:
            parts.append(f"{'crosses' if self.interval_crosses_threshold else 'does not cross'} "
                         f"the threshold HR {self.threshold:g}")
        parts.append(self.events_text())
        return "; ".join(parts)

    def events_text(self) -> str:
        if self.events is None:
            return f"events not reported (rule of thumb: {self.ois_events} events)"
        text = f"{self.events} events"
        if self.events_not_reported:
            text += f" ({self.events_not_reported} of {self.k} comparisons not reported)"
        if self.events_below_ois is None:
            return text + f"; cannot tell against {self.ois_events}"
        return text + (f", below {self.ois_events}" if self.events_below_ois
                       else f", at least {self.ois_events}")

    def publication_bias_text(self) -> str:
        s = self.small_study
        if s is None or (not s.ran and s.reason is None):
            return "not assessable, one study"
        if not s.ran:
            if s.k < 10:
                return f"not assessable, k < 10 (k = {s.k})"
            return f"not assessable: {s.reason}"
        e, b, t = s.regtest, s.ranktest, s.trimfill
        text = (f"Egger p {fmt_pval(e.pval, equal=True)}; Begg p {fmt_pval(b.pval, equal=True)}; trim-and-fill ({t.estimator}) "
                f"{t.k0} missing on the {t.side}, HR {math.exp(t.fit.estimate):.2f}")
        if s.caveat:
            text += " (forced with k < 10: low power)"
        return text

    def approximate_text(self) -> str:
        return (f"{self.approximate_weight:.0f}% of the weight ({self.approximate_k} of {self.k} "
                "comparisons) from reconstructed (approximate) estimates")

    def rating_text(self) -> str:
        if self.rating is None:
            return "not rated"
        return self.rating + (f" ({'; '.join(self.reasons)})" if self.reasons else "")

    def domains(self) -> list[tuple[str, str]]:
        """``(domain, input)`` rows in GRADE's order, then survmeta's own and the rating."""
        return [
            ("Risk of bias", self.risk_of_bias_text()),
            ("Inconsistency", self.inconsistency_text()),
            ("Indirectness", self.indirectness or "no note recorded"),
            ("Imprecision", self.imprecision_text()),
            ("Publication bias", self.publication_bias_text()),
            ("Reconstructed estimates", self.approximate_text()),
            ("Certainty (rater)", self.rating_text()),
        ]

    def to_dict(self) -> dict:
        """JSON-ready dictionary (the small-study tests as their own ``to_dict``)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "small_study"}
        out["reasons"] = list(self.reasons)
        out["ois_rule"] = OIS_RULE
        out["small_study"] = None if self.small_study is None else self.small_study.to_dict()
        return out

    def flat(self) -> dict:
        """One CSV row: the numbers, and each domain's sentence."""
        out = self.to_dict()
        out.pop("small_study")
        out["reasons"] = "; ".join(self.reasons)
        out.update({f"{d.lower().replace(' ', '_').replace('(', '').replace(')', '')}_text": t
                    for d, t in self.domains()})
        return out


def _crosses(lower: float, upper: float, value: float) -> bool:
    return bool(lower < value < upper)


def _optional(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def grade_inputs(result, threshold: float | None = None, force: bool = False) -> GradeInputs:
    """The GRADE inputs of one pooled question.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        A pooled question (any engine); its ``effects`` must carry ``weight``.
    threshold : float, optional
        An HR threshold of clinical importance; the inputs say whether the interval crosses it.
    force : bool
        Run the small-study tests with fewer than ten comparisons (low power).

    Returns
    -------
    GradeInputs

    Notes
    -----
    The HR and its interval are those of the summary of findings
    (:meth:`~survmeta.results.PoolSet.summary_of_findings`): the pooled posterior median and
    equal-tailed credible interval, or with one study that study's own CI. Weights are the
    effect table's (inverse variance under the posterior median tau, in percent). Events come
    from the effect table's ``events`` column (a comparison's ``total_events``, or its arms'
    events added up); a comparison without them is counted as not reported.
    """
    from survmeta.exact import small_study_tests
    from survmeta.results import PoolSet

    if threshold is not None and not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive HR, got {threshold}")
    sof = PoolSet([result]).summary_of_findings().iloc[0]
    e = result.effects
    k = int(len(e))
    one = sof["basis"] == "one study"
    w = e["weight"].to_numpy(dtype=float) if "weight" in e else np.full(k, 100.0 / max(k, 1))
    total = float(w.sum()) or 1.0

    approx = e["approximate"].fillna(False).to_numpy(dtype=bool) if "approximate" in e \
        else np.zeros(k, dtype=bool)

    rob_high, rob_missing = None, 0
    if "rob_overall" in e:
        judged = [str(x).strip().lower() if isinstance(x, str) and x.strip() else None
                  for x in e["rob_overall"]]
        if any(j is not None for j in judged):  # the column exists; "not recorded" if all empty
            high = np.array([j in ROB_SERIOUS for j in judged], dtype=bool)
            rob_high = 100.0 * float(w[high].sum()) / total
            rob_missing = sum(j is None for j in judged)

    events, missing, below = None, k, None
    if "events" in e:
        ev = e["events"].to_numpy(dtype=float)
        have = np.isfinite(ev)
        missing = int((~have).sum())
        if have.any():
            events = int(round(float(ev[have].sum())))
            below = events < OIS_EVENTS if missing == 0 or events >= OIS_EVENTS else None
    lo, hi = float(sof["hr_lower"]), float(sof["hr_upper"])

    cert = result.question.get("certainty") or {}
    if one:
        i2 = tau = tau_lo = tau_hi = p_lo = p_hi = None
        p_cross = None
    else:
        reml = (result.frequentist or {}).get("REML") or {}
        i2 = _optional(reml.get("I2"))
        ts = result.stats["tau"]
        tau, tau_lo, tau_hi = float(ts.median), float(ts.eti.lower), float(ts.eti.upper)
        p_lo, p_hi = float(sof["predict_lower"]), float(sof["predict_upper"])
        p_cross = _crosses(p_lo, p_hi, 1.0)
    small = None
    if k >= 2:
        small = small_study_tests(e["log_hr"].to_numpy(float), e["se"].to_numpy(float),
                                  force=force)
    return GradeInputs(
        question=result.id, k=k, level=float(result.level), basis=str(sof["basis"]),
        i2=i2, tau=tau, tau_lower=tau_lo, tau_upper=tau_hi, predict_lower=p_lo,
        predict_upper=p_hi, prediction_crosses_1=p_cross,
        hr=float(sof["hr"]), hr_lower=lo, hr_upper=hi, interval_crosses_1=_crosses(lo, hi, 1.0),
        threshold=threshold,
        interval_crosses_threshold=None if threshold is None else _crosses(lo, hi, threshold),
        events=events, events_not_reported=missing, ois_events=OIS_EVENTS,
        events_below_ois=below, small_study=small,
        approximate_weight=100.0 * float(w[approx].sum()) / total,
        approximate_k=int(approx.sum()),
        rob_high_weight=rob_high, rob_not_assessed=rob_missing,
        indirectness=cert.get("indirectness"), rating=cert.get("rating"),
        reasons=tuple(cert.get("reasons") or ()),
    )
