"""Approximate patient data from a digitised Kaplan-Meier curve (Guyot et al. 2012).

Written from the description in the paper [Guyot2012]_ (its section "Algorithm"),
in numpy. Input: the digitised points ``(T_k, S_k)`` of one arm, its number of
patients, and when printed the numbers-at-risk table ``(r_i, N_i)`` and the
arm's total events ``D``. Output: for every time, how many patients had the
event and how many were censored (:class:`ArmIPD`).

The algorithm
-------------
The at-risk times cut the time axis into intervals ``[r_i, r_{i+1})``; the
last runs from the last at-risk time to the last digitised point. Without an
at-risk table the whole curve is one interval starting with the arm's ``n``.
Within an interval:

1. *Censoring guess.* If nobody were censored, ``N_i S(r_{i+1}) / S(r_i)``
   patients would still be at risk at ``r_{i+1}``; the surplus over the
   printed ``N_{i+1}`` is the first guess of the number censored, ``c_i``.
2. *Censoring times.* The ``c_i`` censorings are spread evenly over the
   interval (at ``r_i + j (r_{i+1} - r_i) / (c_i + 1)``, ``j = 1..c_i``).
3. *Events.* Walking through the digitised points of the interval, with
   ``n_k`` at risk just before ``T_k`` (those censored before ``T_k``
   removed) and ``S*`` the reconstructed KM just before ``T_k``, the events
   at ``T_k`` are ``d_k = round(n_k (1 - S_k / S*))``; then
   ``S* <- S* (1 - d_k / n_k)``. Using the reconstructed ``S*`` rather than
   the previous digitised point keeps the rounding from accumulating.
4. *Match the table.* The patients left at the end of the interval are
   compared with ``N_{i+1}``; ``c_i`` is corrected by the difference and
   steps 2-4 repeated until they agree (or no integer ``c_i`` does better).

In the last interval there is no ``N_{i+1}`` to match. With total events
``D`` printed, ``c`` is chosen so that the reconstructed events add up to
``D`` (the same correction loop on the event count). Without ``D``,
censoring goes on at the average rate of the earlier intervals (per unit
time), and with no earlier interval (no at-risk table) nobody is censored
before the end of the curve: the weakest case, which the paper warns
about. Patients still at risk at the last digitised point are censored
there.

References
----------
.. [Guyot2012] Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary
   analysis of survival data: reconstructing the data from published
   Kaplan-Meier survival curves. BMC Med Res Methodol. 2012;12:9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ArmIPD", "MAX_ITERATIONS", "kaplan_meier", "reconstruct_arm", "rmst"]

#: Most corrections of the censoring count tried per interval.
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class ArmIPD:
    """Reconstructed patient data of one arm, as an event/censoring table.

    Attributes
    ----------
    label : str
    n : int
        Patients at time 0.
    times : numpy.ndarray
        Distinct times with an event or a censoring, increasing.
    events, censored : numpy.ndarray of int
        Events and censorings at each time.
    used_at_risk, used_total_events : bool
        Whether an at-risk table and the arm's total events were used.
    at_risk_check : tuple of (time, printed, reconstructed)
        The printed at-risk counts next to the reconstruction's.
    total_events_printed : int or None
    notes : tuple of str
        What was assumed or could not be matched.
    """

    label: str
    n: int
    times: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    used_at_risk: bool = False
    used_total_events: bool = False
    at_risk_check: tuple = ()
    total_events_printed: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def total_events(self) -> int:
        return int(self.events.sum())

    def at_risk(self) -> np.ndarray:
        """Patients at risk just before each of :attr:`times`."""
        leaving = self.events + self.censored
        return self.n - np.concatenate([[0], np.cumsum(leaving)[:-1]])

    def at_risk_at(self, t: float) -> int:
        """Patients at risk just before time ``t`` (time >= t)."""
        leaving = (self.events + self.censored)[self.times < t].sum()
        return int(self.n - leaving)

    def patients(self) -> tuple[np.ndarray, np.ndarray]:
        """One row per patient: ``(time, event)`` with ``event`` 1 or 0."""
        time = np.concatenate([np.repeat(self.times, self.events),
                               np.repeat(self.times, self.censored)])
        event = np.concatenate([np.ones(self.total_events, dtype=int),
                                np.zeros(int(self.censored.sum()), dtype=int)])
        order = np.argsort(time, kind="stable")
        return time[order], event[order]

    def km(self) -> tuple[np.ndarray, np.ndarray]:
        """The Kaplan-Meier curve of the reconstructed data: ``(times, survival)``, from (0, 1)."""
        t, s = kaplan_meier(self.times, self.events, self.at_risk())
        return t, s


def kaplan_meier(times, events, at_risk) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate at the times with an event, starting at ``(0, 1)``.

    Parameters
    ----------
    times, events, at_risk : array-like
        Distinct times, events at each, patients at risk just before each.

    Returns
    -------
    (times, survival) : numpy.ndarray
        ``survival[j]`` holds from ``times[j]`` until the next time.
    """
    times, events, at_risk = (np.asarray(x, dtype=float) for x in (times, events, at_risk))
    keep = events > 0
    factors = 1.0 - events[keep] / at_risk[keep]
    return np.concatenate([[0.0], times[keep]]), np.concatenate([[1.0], np.cumprod(factors)])


def rmst(times, events, at_risk, horizon: float) -> tuple[float, float]:
    """Restricted mean survival time to ``horizon`` and its SE.

    The area under the Kaplan-Meier step function from 0 to ``horizon``;
    the variance is the Greenwood-type sum
    ``sum_{t_j <= horizon} A_j^2 d_j / (n_j (n_j - d_j))`` with ``A_j`` the
    area from ``t_j`` to the horizon (Klein and Moeschberger 2003, section
    4.5).

    Returns
    -------
    (rmst, se) : tuple of float
    """
    t, s = kaplan_meier(times, events, at_risk)
    times, events, at_risk = (np.asarray(x, dtype=float) for x in (times, events, at_risk))
    # area under the step function from 0 to each jump time, and to the horizon
    cum = np.concatenate([[0.0], np.cumsum(np.diff(t) * s[:-1])])
    k = int(np.searchsorted(t, horizon, side="right")) - 1
    area = float(cum[k] + s[k] * (horizon - t[k]))
    keep = (events > 0) & (times <= horizon)
    a = area - cum[1:][keep[events > 0]]  # area from each event time to the horizon
    d, n = events[keep], at_risk[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > d, a**2 * d / (n * (n - d)), 0.0)
    return area, float(math.sqrt(terms.sum()))


def _step(times: np.ndarray, surv: np.ndarray, t: float) -> float:
    """Digitised survival at time ``t`` (the last point at or before it)."""
    k = int(np.searchsorted(times, t, side="right")) - 1
    return float(surv[max(k, 0)])


def _run(T, S, idx, t_lo, t_hi, n_start, nc, km):
    """Events in one interval with ``nc`` censorings; ``(n_end, events, censor_times, km)``.

    A censoring planned when nobody is left at risk is dropped.
    """
    planned = t_lo + (t_hi - t_lo) * np.arange(1, nc + 1) / (nc + 1)
    n, ci, d_out, used = n_start, 0, [], []

    def censor_until(limit):
        nonlocal n, ci
        while ci < nc and planned[ci] < limit:
            if n > 0:
                n -= 1
                used.append(planned[ci])
            ci += 1

    for k in idx:
        censor_until(T[k])
        d = 0
        if n > 0 and km > 0:
            d = int(min(max(round(n * (1.0 - S[k] / km)), 0), n))
            km *= 1.0 - d / n
        n -= d
        d_out.append(d)
    censor_until(math.inf)
    return n, d_out, np.asarray(used, dtype=float), km


def _solve(run, nc0: int, lo: int, hi: int, miss) -> tuple[int, tuple]:
    """The censoring count in ``[lo, hi]`` that makes ``miss(result)`` zero, by correction steps.

    ``miss`` returns the signed surplus (positive: censor more). Stops at
    zero, at a count seen before, or after :data:`MAX_ITERATIONS`; returns
    the best count seen.
    """
    nc = min(max(nc0, lo), hi)
    seen: dict[int, tuple] = {}
    for _ in range(MAX_ITERATIONS):
        res = run(nc)
        seen[nc] = res
        gap = miss(res)
        if gap == 0:
            break
        nxt = min(max(nc + gap, lo), hi)
        if nxt in seen:
            # oscillating: try the counts in between once each
            for cand in range(min(nc, nxt), max(nc, nxt) + 1):
                if cand not in seen:
                    seen[cand] = run(cand)
            break
        nc = nxt
    best = min(seen, key=lambda c: (abs(miss(seen[c])), c))
    return best, seen[best]


def reconstruct_arm(times, survival, n: int, at_risk_times=None, at_risk_n=None,
                    total_events: int | None = None, label: str = "") -> ArmIPD:
    """Reconstruct one arm's patient data from its digitised Kaplan-Meier curve.

    Parameters
    ----------
    times, survival : array-like
        Digitised points, sorted by time, survival non-increasing in [0, 1]
        (as :mod:`survmeta.registry.km` cleans them).
    n : int
        Patients at time 0.
    at_risk_times, at_risk_n : array-like, optional
        The numbers-at-risk table (times from 0, counts non-increasing).
    total_events : int, optional
        The arm's total events, when printed.
    label : str
        The arm's name, carried along.

    Returns
    -------
    ArmIPD
    """
    T = np.asarray(times, dtype=float)
    S = np.asarray(survival, dtype=float)
    notes: list[str] = []
    if T[0] > 0:
        T, S = np.concatenate([[0.0], T]), np.concatenate([[1.0], S])
    elif S[0] < 1.0:
        notes.append(f"the first digitised point (0, {S[0]:.3g}) is read as survival 1 at time 0")
        S = S.copy()
        S[0] = 1.0
    t_end = float(T[-1])
    if at_risk_times is not None and len(at_risk_times) > 1:
        r = [float(x) for x in at_risk_times]
        N = [int(x) for x in at_risk_n]
        beyond = [i for i, x in enumerate(r) if x > t_end]
        if beyond:
            notes.append(f"{len(beyond)} at-risk count(s) after the last digitised point "
                         f"({t_end:g}) not used")
            r, N = r[: beyond[0]], N[: beyond[0]]
        if N[0] != n:
            notes.append(f"n at time 0 taken from the at-risk table ({N[0]})")
            n = N[0]
        used_at_risk = len(r) > 1
    else:
        r, N = [0.0], [int(n)]
        used_at_risk = False
    m = len(r)
    ends = r[1:] + [t_end]
    event_at = np.zeros(len(T), dtype=int)
    censor_times: list[np.ndarray] = []
    km = 1.0
    n_start = int(n)
    censored_before = 0
    check = []
    for i in range(m):
        t_lo, t_hi = r[i], ends[i]
        last = i == m - 1
        idx = np.flatnonzero((T >= t_lo) & ((T <= t_hi) if last else (T < t_hi)))

        def run(nc, idx=idx, t_lo=t_lo, t_hi=t_hi, n_start=n_start, km=km):
            return _run(T, S, idx, t_lo, t_hi, n_start, nc, km)

        if not last:
            target = N[i + 1]
            s_lo, s_hi = _step(T, S, t_lo), _step(T, S, t_hi)
            guess = round(n_start * s_hi / s_lo - target) if s_lo > 0 else 0
            nc, res = _solve(run, guess, 0, n_start, lambda res, target=target: res[0] - target)
            if res[0] != target:
                notes.append(f"at time {t_hi:g} the reconstruction has {res[0]} at risk, the table "
                             f"{target}: the curve and the table do not agree exactly")
        elif total_events is not None:
            before = int(event_at.sum())
            nc, res = _solve(run, 0, 0, n_start,
                             lambda res, before=before: before + sum(res[1]) - total_events)
            got = before + sum(res[1])
            if got != total_events:
                notes.append(f"the printed total events ({total_events}) cannot be met: the "
                             f"reconstruction has {got}")
        else:
            rate = censored_before / t_lo if t_lo > 0 else 0.0
            nc = min(int(round(rate * (t_hi - t_lo))), n_start)
            res = run(nc)
            if not used_at_risk:
                notes.append("no at-risk table and no total events: nobody is censored before the "
                             "end of the curve (Guyot 2012: the reconstruction is then least "
                             "reliable)")
            else:
                notes.append("after the last at-risk time, censoring at the average rate of the "
                             "earlier intervals")
        n_end, d, cens, km = res
        event_at[idx] += np.asarray(d, dtype=int)
        censor_times.append(cens)
        censored_before += len(cens)
        n_start = n_end
        if not last:
            check.append((t_hi, N[i + 1], n_end))
    # still at risk at the end of the curve: censored there
    censor_times.append(np.full(max(n_start, 0), t_end))
    cens_all = np.concatenate(censor_times) if censor_times else np.zeros(0)
    all_times = np.unique(np.concatenate([T[event_at > 0], cens_all]))
    events = np.zeros(len(all_times), dtype=int)
    censored = np.zeros(len(all_times), dtype=int)
    np.add.at(events, np.searchsorted(all_times, T[event_at > 0]), event_at[event_at > 0])
    np.add.at(censored, np.searchsorted(all_times, cens_all), 1)
    return ArmIPD(label=label, n=int(n), times=all_times, events=events, censored=censored,
                  used_at_risk=used_at_risk, used_total_events=total_events is not None,
                  at_risk_check=((0.0, int(n), int(n)),) + tuple(check) if used_at_risk else (),
                  total_events_printed=total_events, notes=tuple(notes))
