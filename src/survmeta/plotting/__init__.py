"""Figures of pooled results (matplotlib; PNG, SVG and PDF via :func:`save_figure`).

One ``plot_*`` function per figure, each returning a
:class:`matplotlib.figure.Figure` built without pyplot (nothing is shown and no
global state is kept; any backend works). PyMC is never imported here.

==========================  ==================================================================
``plot_forest``             forest plot of one pooled question
``plot_subgroup_forest``    forest plot grouped by a field, a diamond per subgroup
``plot_posterior``          posterior density of the pooled HR, P(HR < 1) shaded
``plot_tau``                prior vs posterior of the heterogeneity SD tau
``plot_funnel``             funnel plot, log HR against its SE
``plot_funnel_contour``     contour-enhanced funnel plot (p < 0.01, 0.05, 0.10 shaded)
``plot_baujat``             Baujat plot: contribution to Q against influence
``plot_bubble``             bubble plot: HR against a moderator, fitted meta-regression line
``plot_cumulative``         cumulative (by year) forest plot of sensitivity rows
``plot_leave1out``          leave-one-out forest plot of sensitivity rows
``plot_trace``              MCMC trace and densities per chain (ArviZ)
``plot_rank``               MCMC rank plots per chain (ArviZ)
``plot_km``                 digitised Kaplan-Meier points and the reconstructed curves
``plot_proportion_forest``  forest plot of pooled single-group proportions (percent axis)
``plot_median_forest``      forest plot of pooled single-group medians (time axis)
``plot_rob_summary``        risk-of-bias summary: share of studies per judgement per domain
==========================  ==================================================================
"""

from __future__ import annotations

from survmeta.plotting._style import figure_bytes, save_figure
from survmeta.plotting.baujat import plot_baujat
from survmeta.plotting.bubble import plot_bubble
from survmeta.plotting.diagnostics import plot_rank, plot_trace
from survmeta.plotting.forest import plot_cumulative, plot_forest, plot_leave1out, plot_variants
from survmeta.plotting.funnel import plot_funnel
from survmeta.plotting.funnel_contour import plot_funnel_contour
from survmeta.plotting.km import plot_km
from survmeta.plotting.posterior import plot_posterior, plot_tau
from survmeta.plotting.rob import plot_rob_summary
from survmeta.plotting.single_arm import plot_median_forest, plot_proportion_forest
from survmeta.plotting.subgroups import plot_subgroup_forest

__all__ = [
    "plot_forest",
    "plot_subgroup_forest",
    "plot_posterior",
    "plot_tau",
    "plot_funnel",
    "plot_baujat",
    "plot_bubble",
    "plot_funnel_contour",
    "plot_cumulative",
    "plot_leave1out",
    "plot_variants",
    "plot_trace",
    "plot_rank",
    "plot_km",
    "plot_rob_summary",
    "plot_proportion_forest",
    "plot_median_forest",
    "save_figure",
    "figure_bytes",
]
