"""Example data sets used by the exact-engine tests, with their sources."""

import numpy as np

# Rubin (1981) eight-schools data as stored in bayesmeta's ``Rubin1981`` data set
# (printed in bayesmeta's vignette "An introduction to meta-analysis using the
# bayesmeta package", section "Estimates and standard errors").
SCHOOLS_Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
SCHOOLS_SE = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
SCHOOLS_LABELS = list("ABCDEFGH")

# Crins et al. (2014), acute rejection counts from bayesmeta's data/CrinsEtAl2014.R
# (rows in the order of the data set: Heffron, Gibelli, Schuller, Ganschow, Spada, Gras).
CRINS_LABELS = ["Heffron (2003)", "Gibelli (2004)", "Schuller (2005)", "Ganschow (2005)",
                "Spada (2006)", "Gras (2008)"]
CRINS_EXP_EVENTS = np.array([14, 16, 3, 9, 4, 0], dtype=float)
CRINS_EXP_TOTAL = np.array([61, 28, 18, 54, 36, 50], dtype=float)
CRINS_CONT_EVENTS = np.array([15, 19, 8, 29, 11, 3], dtype=float)
CRINS_CONT_TOTAL = np.array([20, 28, 12, 54, 36, 34], dtype=float)


def crins_log_or():
    """Log odds ratios and variances as metafor's escalc(measure="OR") computes them
    (0.5 added to every cell of a table with a zero cell)."""
    a, c = CRINS_EXP_EVENTS, CRINS_CONT_EVENTS
    b, d = CRINS_EXP_TOTAL - a, CRINS_CONT_TOTAL - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (x + 0.5 * zero for x in (a, b, c, d))
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


# BCG vaccine trials, metafor's dat.bcg (printed in metafor's README.md).
BCG_TPOS = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27], dtype=float)
BCG_TNEG = np.array([119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493,
                     16886], dtype=float)
BCG_CPOS = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29], dtype=float)
BCG_CNEG = np.array([128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338,
                     17825], dtype=float)
BCG_YEAR = np.array([1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969,
                     1976])
BCG_ABLAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], dtype=float)
BCG_ALLOC = ["random", "random", "random", "random", "alternate", "alternate", "random",
             "random", "random", "systematic", "systematic", "systematic", "systematic"]


def bcg_log_rr():
    """Log risk ratios and variances with escalc(measure="RR") formulas."""
    t_n = BCG_TPOS + BCG_TNEG
    c_n = BCG_CPOS + BCG_CNEG
    yi = np.log((BCG_TPOS / t_n) / (BCG_CPOS / c_n))
    vi = 1 / BCG_TPOS - 1 / t_n + 1 / BCG_CPOS - 1 / c_n
    return yi, vi
