"""Seeded simulated trials written as registry text with digitised curves, for the km tests.

Synthetic data: Weibull or piecewise-exponential arms with uniform censoring; the curve is the
Kaplan-Meier estimate of the simulated data at every step (no digitisation noise).
"""

from __future__ import annotations

import numpy as np

from survmeta.reconstruction.km import kaplan_meier


def km_of(time, event):
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event).astype(int)
    leaving = np.bincount(inv)
    at_risk = len(time) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    return ut, d, at_risk


def simulate(seed: int, n: int = 200, hr: float = 0.7, crossing: bool = False):
    """Two arms ``(time, event)``: experimental first. ``crossing``: hazards that cross."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(6, 30, (2, n))
    if crossing:
        # experimental: hazard 0.2/month for 4 months, then 0.02; reference: 0.07 throughout
        e1 = rng.exponential(1 / 0.2, n)
        te = np.where(e1 < 4, e1, 4 + rng.exponential(1 / 0.02, n))
        tr = rng.exponential(1 / 0.07, n)
    else:
        te = rng.weibull(1.2, n) * 14 * hr ** (-1 / 1.2)
        tr = rng.weibull(1.2, n) * 14
    out = []
    for t, cc in ((te, c[0]), (tr, c[1])):
        out.append((np.round(np.minimum(t, cc), 3), (t <= cc).astype(int)))
    return out


def curve_toml(time, event, step: float = 3.0, with_table: bool = True, with_events: bool = False):
    ut, d, at_risk = km_of(time, event)
    t, s = kaplan_meier(ut, d, at_risk)
    t, s = np.append(t, ut[-1]), np.append(s, s[-1])
    pts = ", ".join(f"[{a:.4f}, {b:.5f}]" for a, b in zip(t, s))
    lines = [f"points = [{pts}]"]
    if with_table:
        grid = np.arange(0, t[-1], step)
        lines.append("at_risk = { times = [%s], n = [%s] }" % (
            ", ".join(f"{g:g}" for g in grid), ", ".join(str(int((time >= g).sum())) for g in grid)))
    if with_events:
        lines.append(f"total_events = {int(event.sum())}")
    return "\n".join(lines)


def registry_text(arms, extra: str = "", **kw) -> str:
    (te, ee), (tr, er) = arms
    return f'''schema_version = 1

[[question]]
id = "q"
title = "A vs B"
experimental = "A"
reference = "B"
outcome = "OS"

[[study]]
id = "sim"
citation = "Simulated trial (synthetic data)"
year = 2024
design = "rct"
population = "synthetic"

[[study.comparison]]
id = "os"
question = "q"
endpoint = "OS"
quote = "Figure 2"
location = "Figure 2"
p = "0.03"
{extra}
[study.comparison.experimental]
label = "A"
n = {len(te)}
median = 12.0

[study.comparison.experimental.km]
{curve_toml(te, ee, **kw)}
location = "Figure 2"

[study.comparison.reference]
label = "B"
n = {len(tr)}
median = 9.0

[study.comparison.reference.km]
{curve_toml(tr, er, **kw)}
location = "Figure 2"
'''
