"""One number formatter for tables, figures and reports: probabilities, hazard ratios, levels,
plain numbers, percentages and the p-values of tests.

Pure Python. A probability is never printed as ``1.000`` or ``0.000`` beside a table that shows
three decimals: beyond them it reads ``">0.999"`` / ``"<0.001"``.
"""

from __future__ import annotations

import math

__all__ = ["fmt_hr", "fmt_level", "fmt_num", "fmt_pct", "fmt_prob", "fmt_pval"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_prob(p, digits: int = 3) -> str:
    """A probability with ``digits`` decimals, ``">0.999"`` / ``"<0.001"`` at the extremes.

    Parameters
    ----------
    p : float or None
    digits : int
        Decimals shown (3: the bounds are 0.999 and 0.001).

    Returns
    -------
    str
        ``"NA"`` for a missing value.

    Examples
    --------
    >>> fmt_prob(0.9996), fmt_prob(0.9734), fmt_prob(2e-5)
    ('>0.999', '0.973', '<0.001')
    """
    if _missing(p):
        return "NA"
    p = float(p)
    if math.isnan(p):
        return "NA"
    top = 1.0 - 10.0 ** -digits
    low = 10.0 ** -digits
    # compare the rounded value, so 0.9996 (which would print as 1.000) reads >0.999
    shown = round(p, digits)
    if shown > top or p > top:
        return f">{top:.{digits}f}"
    if shown < low or p < low:
        return f"<{low:.{digits}f}"
    return f"{p:.{digits}f}"


def fmt_pval(p, digits: int = 4, equal: bool = False) -> str:
    """The p-value of a test as metafor prints it: ``digits`` decimals, ``"<0.0001"`` below
    ``10**-digits``; never ``0.0000`` and never scientific notation.

    The rule of metafor's internal ``.pval()`` (used by ``print.rma.uni``, ``regtest``,
    ``ranktest``, ...) with ``add0 = TRUE``: a p-value at or above the cutoff ``10**-digits``
    is printed with ``digits`` decimals (so ``1`` reads ``"1.0000"``, as in metafor), one below
    it reads ``"<"`` and the cutoff. metafor's own tables drop the leading zero of the
    cutoff (``"<.0001"``); here it is kept, as in every other number survmeta prints.

    Parameters
    ----------
    p : float or None
        The p-value.
    digits : int
        Decimals shown (4, metafor's default; at least 1).
    equal : bool
        Prefix the relation: ``"= 0.4218"`` / ``"< 0.0001"`` (metafor's ``showeq = TRUE,
        sep = " "``), for text such as ``f"p {fmt_pval(p, equal=True)}"``.

    Returns
    -------
    str
        ``"NA"`` (``"= NA"`` with ``equal``) for a missing value.

    Examples
    --------
    >>> fmt_pval(0.42179), fmt_pval(1.0), fmt_pval(0.0001), fmt_pval(0.00009996)
    ('0.4218', '1.0000', '0.0001', '<0.0001')
    >>> fmt_pval(3.2e-12), fmt_pval(None), fmt_pval(0.0498, digits=3)
    ('<0.0001', 'NA', '0.050')
    >>> "p " + fmt_pval(0.0362, equal=True), "p " + fmt_pval(0.0, equal=True)
    ('p = 0.0362', 'p < 0.0001')
    """
    digits = max(int(digits), 1)
    cutoff = float(f"1e-{digits}")   # as R's as.numeric(".0001")
    if _missing(p) or math.isnan(float(p)):
        return "= NA" if equal else "NA"
    p = float(p)
    if p >= cutoff:
        return ("= " if equal else "") + f"{p:.{digits}f}"
    return ("< " if equal else "<") + f"{cutoff:.{digits}f}"


def fmt_hr(hr, digits: int = 2) -> str:
    """A hazard ratio with ``digits`` decimals (``"NA"`` if missing, ``"inf"`` if infinite).

    Examples
    --------
    >>> fmt_hr(0.4812), fmt_hr(float("nan"))
    ('0.48', 'NA')
    """
    if _missing(hr):
        return "NA"
    hr = float(hr)
    if math.isnan(hr):
        return "NA"
    if math.isinf(hr):
        return "inf" if hr > 0 else "-inf"
    return f"{hr:.{digits}f}"


def fmt_level(level: float) -> str:
    """An interval level as a percentage: ``0.95 -> "95%"``, ``0.975 -> "97.5%"``.

    Examples
    --------
    >>> fmt_level(0.95), fmt_level(0.9), fmt_level(0.975)
    ('95%', '90%', '97.5%')
    """
    pct = float(level) * 100
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:g}%"


def fmt_num(x, digits: int = 2) -> str:
    """A number with ``digits`` decimals (``"NA"`` if missing, ``"inf"`` if infinite): tau,
    a median time.

    Examples
    --------
    >>> fmt_num(3.0961, 1), fmt_num(0.4481), fmt_num(None)
    ('3.1', '0.45', 'NA')
    """
    return fmt_hr(x, digits)


def fmt_pct(x, digits: int = 1, sign: bool = True) -> str:
    """A percentage (``x`` already in percent) with ``digits`` decimals and ``"%"``.

    Examples
    --------
    >>> fmt_pct(9.7112), fmt_pct(26.81, sign=False), fmt_pct(float("nan"))
    ('9.7%', '26.8', 'NA')
    """
    text = fmt_num(x, digits)
    return text + "%" if sign and text != "NA" else text
