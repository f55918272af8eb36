"""One number formatter for tables, figures and reports: probabilities, hazard ratios, levels,
plain numbers and percentages.

Pure Python. A probability is never printed as ``1.000`` or ``0.000`` beside a table that shows
three decimals: beyond them it reads ``">0.999"`` / ``"<0.001"``.
"""

from __future__ import annotations

import math

__all__ = ["fmt_hr", "fmt_level", "fmt_num", "fmt_pct", "fmt_prob"]


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
