"""One-dimensional posterior marginals used by the exact engine.

Each marginal offers ``pdf``, ``cdf``, ``quantile``, ``mean``, ``sd``, ``median``,
``eti(level)`` (equal-tailed interval) and ``hdi(level)`` (shortest interval,
assuming a unimodal density, as bayesmeta does); ``isf(p)`` is the quantile at the
upper-tail probability ``p``.

Upper tails of the normal mixtures (``p > 0.5``) are solved on the survival
function ``S(x) = 1 - p`` rather than on ``cdf(x) = p``: near ``p = 1`` the CDF
is within rounding of one and carries only its absolute rounding (about
``1e-16``), which is ``1e-16 / pdf`` in ``x`` (3e-13 at ``p = 0.9999``, 2e-9 at
``1 - 1e-8``), while ``S`` keeps its relative precision.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from survmeta.errors import SurvmetaError, check_level

_SQRT2PI = math.sqrt(2.0 * math.pi)



class Marginal:
    """Base class: intervals and medians from ``pdf``, ``cdf`` and ``quantile``."""

    lower: float = -math.inf
    upper: float = math.inf

    def pdf(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def cdf(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def quantile(self, p):  # pragma: no cover - abstract
        raise NotImplementedError

    def isf(self, p):
        """Quantile at the upper-tail probability ``p`` (``quantile(1 - p)``).

        Subclasses that can solve the upper tail directly keep the digits that
        ``1 - p`` rounds away when ``p`` is small.
        """
        return self.quantile(1.0 - np.asarray(p, dtype=float) if np.ndim(p) else 1.0 - float(p))

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sd(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def median(self) -> float:
        """Posterior median."""
        return float(self.quantile(0.5))

    def eti(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed (central) interval at ``level``."""
        level = check_level(level, "interval level")
        tail = (1.0 - level) / 2.0
        return float(self.quantile(tail)), float(self.isf(tail))

    def hdi(self, level: float = 0.95) -> tuple[float, float]:
        """Shortest interval at ``level`` (equal density at both ends, or one-sided).

        When the density is highest at the lower end of the support (e.g. tau with
        its mode at 0), the interval is ``[lower, quantile(level)]``, as in bayesmeta.
        """
        level = check_level(level, "interval level")

        def gap(p):
            a = self.quantile(p)
            b = self.quantile(p + level)
            return float(self.pdf(a) - self.pdf(b))

        eps = 1e-13
        if gap(eps) >= 0.0:
            return float(self.quantile(0.0)), float(self.quantile(level))
        if gap(1.0 - level - eps) <= 0.0:
            return float(self.quantile(1.0 - level)), float(self.quantile(1.0))
        p = optimize.brentq(gap, eps, 1.0 - level - eps, xtol=1e-13, rtol=1e-12)
        return float(self.quantile(p)), float(self.quantile(p + level))


class PointMass(Marginal):
    """A point mass (tau in the common-effect model)."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)
        self.lower = self.upper = self.value

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x == self.value, np.inf, 0.0)

    def cdf(self, x):
        return np.where(np.asarray(x, dtype=float) >= self.value, 1.0, 0.0)

    def quantile(self, p):
        return np.full(np.shape(p), self.value) if np.ndim(p) else self.value

    def mean(self) -> float:
        return self.value

    def sd(self) -> float:
        return 0.0

    def hdi(self, level: float = 0.95) -> tuple[float, float]:
        check_level(level, "interval level")
        return self.value, self.value


class NormalMixture(Marginal):
    """Finite mixture of normals (mu, theta_i or the prediction, integrated over tau).

    Parameters
    ----------
    weights, means, sds : array_like
        Mixture weights (summing to one), component means and SDs.
    """

    def __init__(self, weights, means, sds):
        keep = np.asarray(weights) > 0
        self.w = np.asarray(weights, dtype=float)[keep]
        self.w = self.w / self.w.sum()
        self.m = np.asarray(means, dtype=float)[keep]
        self.s = np.asarray(sds, dtype=float)[keep]
        if np.any(self.s <= 0):
            raise SurvmetaError("normal mixture components need positive SDs")
        self._mirror_of: NormalMixture | None = None

    def _mirror(self) -> NormalMixture:
        """The mixture of ``-X`` (means negated), whose CDF at ``-x`` is this one's ``sf(x)``.

        Upper-tail quantiles are lower-tail quantiles of the mirror, negated, so
        both tails use the same solvers on a CDF that is far from one.
        """
        if self._mirror_of is None:
            mirror = NormalMixture.__new__(NormalMixture)
            mirror.w, mirror.m, mirror.s = self.w, -self.m, self.s
            mirror._mirror_of = self
            self._mirror_of = mirror
        return self._mirror_of

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        z = (x[..., None] - self.m) / self.s
        return np.sum(self.w * np.exp(-0.5 * z * z) / (self.s * _SQRT2PI), axis=-1)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.sum(self.w * special.ndtr((x[..., None] - self.m) / self.s), axis=-1)

    def sf(self, x):
        """Survival function ``1 - cdf(x)``, to relative precision in the upper tail."""
        x = np.asarray(x, dtype=float)
        return np.sum(self.w * special.ndtr((self.m - x[..., None]) / self.s), axis=-1)

    def _quantile1(self, p: float) -> float:
        if p <= 0.0:
            return -math.inf
        if p >= 1.0:
            return math.inf
        if p > 0.5:  # solve S(x) = 1 - p (exact for p > 0.5), as the mirror's lower tail
            return -self._mirror()._quantile1(1.0 - p)
        z = special.ndtri(p)
        lo = float(np.min(self.m + (z - 1.0) * self.s) - 1e-12)
        hi = float(np.max(self.m + (z + 1.0) * self.s) + 1e-12)
        return optimize.brentq(lambda x: float(self.cdf(x)) - p, lo, hi, xtol=1e-14,
                               rtol=4e-15, maxiter=200)

    def _cdf_pdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``cdf(x)`` and ``pdf(x)`` of a 1-d ``x`` together, sharing the standardised values.

        In blocks of rows, so the working arrays stay small (a few MB).
        """
        cdf, dens = np.empty(x.size), np.empty(x.size)
        scale = self.w / (self.s * _SQRT2PI)
        step = max(1, 250_000 // max(1, self.m.size))
        for i in range(0, x.size, step):
            z = np.subtract.outer(x[i:i + step], self.m)
            z /= self.s
            dens[i:i + step] = np.exp(-0.5 * z * z) @ scale
            cdf[i:i + step] = special.ndtr(z, out=z) @ self.w
        return cdf, dens

    def _quantiles(self, p: np.ndarray) -> np.ndarray:
        """Quantiles at many probabilities at once (inverse-CDF draws).

        Probabilities above 0.5 are solved on the survival function, as
        ``-mirror._quantiles_lower(1 - p)`` (see :meth:`_mirror`), the rest by
        :meth:`_quantiles_lower`.
        """
        upper = p > 0.5
        n_up = int(np.count_nonzero(upper))
        if n_up == 0:
            return self._quantiles_lower(p)
        # the 8,192 cells of the table shared in proportion to the probabilities in each half
        cells = max(256, round(8192 * n_up / p.size))
        out = np.empty(p.size)
        out[~upper] = self._quantiles_lower(p[~upper], max(256, 8192 - cells))
        out[upper] = -self._mirror()._quantiles_lower(1.0 - p[upper], cells)
        return out

    def _quantiles_lower(self, p: np.ndarray, cells: int = 8192) -> np.ndarray:
        """Quantiles at probabilities ``p`` in [0, 0.5] (or outside [0, 1]), solved on the CDF.

        The CDF is tabulated on ``cells + 1`` points between the smallest and largest
        quantile asked for (those two by :meth:`_quantile1`); each probability
        starts in its cell of the table, which brackets it, from a cubic Hermite
        interpolation of the inverse, and takes Newton
        steps (``pdf`` is the derivative of ``cdf``), a bisection whenever a
        step would leave the bracket, until a step is within brentq's
        tolerance in :meth:`_quantile1` (``1e-14 + 4e-15 |x|``). Both solve
        ``cdf(x) = p`` to that tolerance; this takes one or two evaluations
        of the mixture per probability instead of about twelve.
        """
        out = np.where(p <= 0.0, -math.inf, math.inf)
        inner = np.flatnonzero((p > 0.0) & (p < 1.0))
        q = p[inner]
        if q.size < 64:
            out[inner] = [self._quantile1(float(v)) for v in q]
            return out
        a, b = self._quantile1(float(q.min())), self._quantile1(float(q.max()))
        grid = np.linspace(a, b, cells + 1)
        table, dens = self._cdf_pdf(grid)
        table = np.maximum.accumulate(table)
        j = np.clip(np.searchsorted(table, q, side="right") - 1, 0, grid.size - 2)
        lo, hi = grid[j].copy(), grid[j + 1].copy()
        lo[q <= table[0]] = a - 1e-12 - 1e-12 * abs(a)  # the ends, allowing for rounding
        hi[q >= table[-1]] = b + 1e-12 + 1e-12 * abs(b)
        # start: cubic Hermite interpolation of x(p) in the cell (slopes dx/dp = 1/pdf), so that
        # most probabilities need one Newton step
        width = table[j + 1] - table[j]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t = np.clip(np.where(width > 0, (q - table[j]) / width, 0.5), 0.0, 1.0)
            t2, t3 = t * t, t * t * t
            x = ((2 * t3 - 3 * t2 + 1) * grid[j] + (t3 - 2 * t2 + t) * width / dens[j]
                 + (3 * t2 - 2 * t3) * grid[j + 1] + (t3 - t2) * width / dens[j + 1])
        linear = grid[j] + t * (grid[j + 1] - grid[j])
        x = np.where(np.isfinite(x) & (x >= lo) & (x <= hi), x, np.clip(linear, lo, hi))
        # cdf(x) = p to its rounding: relative in the tail (1e-15 absolute at p = 0.5)
        ftol = 2e-15 * np.minimum(q, 0.5)
        active = np.arange(q.size)
        for _ in range(50):
            xa, qa = x[active], q[active]
            cdf, pdf = self._cdf_pdf(xa)
            f = cdf - qa
            lo[active] = np.where(f < 0.0, xa, lo[active])
            hi[active] = np.where(f > 0.0, xa, hi[active])
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = xa - f / pdf
            la, ha = lo[active], hi[active]
            # converged: a step within tolerance, or cdf(x) = p to the rounding of the sum
            done = (np.abs(f) <= ftol[active]) | (np.abs(newton - xa) <= 1e-14 + 4e-15 * np.abs(newton))
            inside = (newton > la) & (newton < ha)
            # a last step outside the bracket is rounding: the root is inside it
            step = np.where(inside, newton, np.where(done, np.clip(newton, la, ha), 0.5 * (la + ha)))
            x[active] = np.where(f == 0.0, xa, step)
            active = active[~done]
            if active.size == 0:
                break
        x[active] = [self._quantile1(float(v)) for v in q[active]]  # (none seen in practice)
        out[inner] = x
        return out

    def quantile(self, p):
        if np.ndim(p):
            flat = np.ravel(np.asarray(p, dtype=float))
            return self._quantiles(flat).reshape(np.shape(p))
        return self._quantile1(float(p))

    def isf(self, p):
        """Quantile at the upper-tail probability ``p``: ``x`` with ``sf(x) = p``."""
        return -self._mirror().quantile(p)

    def mean(self) -> float:
        return float(np.sum(self.w * self.m))

    def sd(self) -> float:
        mean = self.mean()
        return float(math.sqrt(np.sum(self.w * (self.s ** 2 + (self.m - mean) ** 2))))


class ExpNormalMixture(Marginal):
    """Distribution of ``exp(X)`` for a normal mixture ``X`` (e.g. the pooled HR)."""

    lower = 0.0

    def __init__(self, base: NormalMixture):
        self.base = base

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        ok = (x > 0) & np.isfinite(x)
        safe = np.where(ok, x, 1.0)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return np.where(ok, self.base.pdf(np.log(safe)) / safe, 0.0)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        safe = np.where(x > 0, x, 1.0)
        return np.where(x > 0, self.base.cdf(np.log(safe)), 0.0)

    def quantile(self, p):
        with np.errstate(over="ignore"):
            return np.exp(self.base.quantile(p))

    def isf(self, p):
        with np.errstate(over="ignore"):
            return np.exp(self.base.isf(p))

    def hdi(self, level: float = 0.95) -> tuple[float, float]:
        """Shortest interval on the log scale, exponentiated.

        The shortest interval of the ratio's own density is not invariant to the
        scale and, when that density is unbounded at 0 (a heavy-tailed tau prior
        with a flat mu prior), starts at 0; computed on the log scale it does neither.
        """
        lo, hi = self.base.hdi(level)
        with np.errstate(over="ignore"):
            return float(np.exp(lo)), float(np.exp(hi))

    def mean(self) -> float:
        b = self.base
        with np.errstate(over="ignore"):
            return float(np.sum(b.w * np.exp(b.m + 0.5 * b.s ** 2)))

    def sd(self) -> float:
        b = self.base
        with np.errstate(over="ignore", invalid="ignore"):
            second = float(np.sum(b.w * np.exp(2.0 * b.m + 2.0 * b.s ** 2)))
            mean = self.mean()
            if not math.isfinite(second):
                return math.inf
            return float(math.sqrt(max(second - mean ** 2, 0.0)))


class GridMarginal(Marginal):
    """Marginal of tau from its unnormalised log density on a grid in ``x = tau/(tau+c)``.

    The CDF at the grid nodes is a cumulative Simpson integral of the density in
    ``x``; between nodes the density is taken as linear in ``x``, so the quantile
    function is the root of a quadratic. Moments come from the separate
    Gauss-Legendre nodes of the engine, which are more accurate.

    Parameters
    ----------
    x : ndarray
        Increasing grid in ``x``.
    g : ndarray
        Density in ``x`` at the grid (any positive constant factor).
    c : float
        Scale of the transformation ``tau = c x / (1 - x)``.
    logpdf_tau : callable
        Exact normalised log density of tau (for ``pdf``).
    moments : tuple of float
        ``(mean, sd)`` of tau.
    """

    def __init__(self, x, g, c, logpdf_tau, moments):
        from scipy.integrate import cumulative_simpson

        self.x = np.asarray(x, dtype=float)
        g = np.asarray(g, dtype=float)
        cum = cumulative_simpson(g, x=self.x, initial=0.0)
        cum = np.maximum.accumulate(np.maximum(cum, 0.0))
        total = cum[-1]
        self.F = cum / total
        self.g = g / total
        self.c = float(c)
        self._logpdf = logpdf_tau
        self._moments = moments
        self.lower = self._tau(self.x[0])
        self.upper = self._tau(self.x[-1])

    def _tau(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(x < 1.0, self.c * x / np.where(x < 1.0, 1.0 - x, 1.0), np.inf)

    def _x(self, tau):
        tau = np.asarray(tau, dtype=float)
        return np.where(np.isfinite(tau), tau / (tau + self.c), 1.0)

    def pdf(self, tau):
        tau = np.asarray(tau, dtype=float)
        return np.exp(self._logpdf(tau))

    def cdf(self, tau):
        xq = np.clip(self._x(tau), self.x[0], self.x[-1])
        j = np.clip(np.searchsorted(self.x, xq, side="right") - 1, 0, len(self.x) - 2)
        h = self.x[j + 1] - self.x[j]
        u = xq - self.x[j]
        slope = (self.g[j + 1] - self.g[j]) / h
        partial = self.g[j] * u + 0.5 * slope * u * u
        cell = self.F[j + 1] - self.F[j]
        return np.clip(self.F[j] + np.minimum(partial, cell), 0.0, 1.0)

    def quantile(self, p):
        p = np.asarray(p, dtype=float)
        pc = np.clip(p, 0.0, 1.0)
        j = np.clip(np.searchsorted(self.F, pc, side="right") - 1, 0, len(self.x) - 2)
        h = self.x[j + 1] - self.x[j]
        need = pc - self.F[j]
        a = 0.5 * (self.g[j + 1] - self.g[j]) / h
        b = self.g[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            disc = np.sqrt(np.maximum(b * b + 4.0 * a * need, 0.0))
            u = np.where(np.abs(a) * h > 1e-12 * np.maximum(b, 1e-300),
                         2.0 * need / (b + disc), need / np.where(b > 0, b, np.inf))
        u = np.clip(np.nan_to_num(u, nan=0.0), 0.0, h)
        out = self._tau(self.x[j] + u)
        out = np.where(pc <= 0.0, self.lower, np.where(pc >= 1.0, self.upper, out))
        return float(out) if out.ndim == 0 else out

    def mean(self) -> float:
        return float(self._moments[0])

    def sd(self) -> float:
        return float(self._moments[1])


def _stack(mixtures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and SDs of mixtures with equally many components, as ``(r, n)`` arrays."""
    return (np.array([mx.w for mx in mixtures]), np.array([mx.m for mx in mixtures]),
            np.array([mx.s for mx in mixtures]))


def _cdf_pdf_rows(w, m, s, x, slope: bool = True, upper=None):
    """CDF, density and (if ``slope``) density slope of each row's mixture at ``x`` (``(r, q)``).

    Where ``upper`` (boolean, broadcastable to ``x``) is true, the first array
    holds the survival function ``1 - cdf`` instead, to relative precision.
    """
    z = (x[:, :, None] - m[:, None, :]) / s[:, None, :]
    phi = np.exp(-0.5 * z * z)
    phi *= (w / (s * _SQRT2PI))[:, None, :]
    pdf = phi.sum(axis=-1)
    der = -np.einsum("rqn,rqn,rn->rq", phi, z, 1.0 / s) if slope else None
    if upper is not None:
        z *= np.where(upper, -1.0, 1.0)[..., None]
    cdf = np.einsum("rqn,rn->rq", special.ndtr(z, out=z), w)
    return cdf, pdf, der


def _pdf_rows(w, m, s, x):
    """Density of each row's mixture at ``x`` of shape ``(r, q)``."""
    z = (x[:, :, None] - m[:, None, :]) / s[:, None, :]
    return np.einsum("rqn,rn->rq", np.exp(-0.5 * z * z), w / (s * _SQRT2PI))


def _quantile_rows(w, m, s, p, upper=None) -> np.ndarray:
    """Quantiles at probabilities ``p`` (shape ``(r, q)``, all in (0, 1)) of each row's mixture.

    Newton steps (``pdf`` is the derivative of ``cdf``) kept inside a bracket by
    bisection, from the bracket of :meth:`NormalMixture._quantile1`, until a step
    is within that method's brentq tolerance (``1e-14 + 4e-15 |x|``); entries
    that do not converge are solved by :meth:`NormalMixture._quantile1`.
    Probabilities above 0.5 are solved on the survival function,
    ``1 - cdf(x) = 1 - p``. Where ``upper`` (boolean, broadcastable to ``p``)
    is true, ``p`` is itself the upper-tail probability: the solution of
    ``1 - cdf(x) = p``, without rounding ``1 - p`` (the upper end of an
    equal-tailed interval).
    """
    if upper is None:
        upper = p > 0.5
        t = np.where(upper, 1.0 - p, p)
    else:
        upper = np.broadcast_to(upper, p.shape)
        t = p
    z = np.where(upper, -special.ndtri(t), special.ndtri(t))
    lo = np.min(m[:, None, :] + (z[..., None] - 1.0) * s[:, None, :], axis=-1) - 1e-12
    hi = np.max(m[:, None, :] + (z[..., None] + 1.0) * s[:, None, :], axis=-1) + 1e-12
    mean = np.sum(w * m, axis=1)
    sd = np.sqrt(np.sum(w * (s ** 2 + (m - mean[:, None]) ** 2), axis=1))
    x = np.clip(mean[:, None] + z * sd[:, None], lo, hi)
    done = np.zeros(t.shape, dtype=bool)
    sign = np.where(upper, -1.0, 1.0)
    ftol = 2e-15 * np.minimum(t, 0.5)  # the residual to rounding, relative in the tails
    rows = np.arange(t.shape[0])  # rows with a probability still to converge
    for _ in range(100):
        xa, ta, la, ha = x[rows], t[rows], lo[rows], hi[rows]
        tail, pdf, _ = _cdf_pdf_rows(w[rows], m[rows], s[rows], xa, slope=False,
                                     upper=upper[rows])
        f = sign[rows] * (tail - ta)  # increasing in x with derivative pdf on both tails
        la = np.where(f < 0.0, xa, la)
        ha = np.where(f > 0.0, xa, ha)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - f / pdf
        small = np.abs(newton - xa) <= 1e-14 + 4e-15 * np.abs(newton)
        fin = (f == 0.0) | (np.abs(f) <= ftol[rows]) | small
        inside = (newton > la) & (newton < ha)
        step = np.where(inside, newton, np.where(small, np.clip(newton, la, ha), 0.5 * (la + ha)))
        x[rows] = np.where(fin | (f == 0.0), np.where(f == 0.0, xa, step), step)
        lo[rows], hi[rows] = la, ha
        done[rows] = fin
        rows = rows[~fin.all(axis=1)]
        if rows.size == 0:
            break
    for r, c in zip(*np.nonzero(~done)):  # (none seen in practice)
        mx = NormalMixture(w[r], m[r], s[r])
        x[r, c] = mx.isf(float(t[r, c])) if upper[r, c] else mx._quantile1(float(t[r, c]))
    return x


def mixture_summaries(mixtures, level: float) -> dict[str, np.ndarray]:
    """Medians, equal-tailed and shortest intervals of several normal mixtures at once.

    The same numbers as :meth:`NormalMixture.median`, :meth:`Marginal.eti` and
    :meth:`Marginal.hdi` (to their root-finding tolerance), for all mixtures in a
    few vectorised steps. The shortest interval ``[a, b]`` solves
    ``cdf(b) - cdf(a) = level`` and ``pdf(a) = pdf(b)`` by Newton's method in
    ``(a, b)`` from the equal-tailed interval; it is accepted when it converged
    and the density on ``[a, b]`` is nowhere below ``pdf(a)`` (checked on a grid);
    otherwise (e.g. a mixture that is not unimodal) the mixture's own
    :meth:`Marginal.hdi` is used.

    Parameters
    ----------
    mixtures : sequence of NormalMixture
        Mixtures; groups with equally many components are solved together.
    level : float
        Interval level.

    Returns
    -------
    dict of ndarray
        ``median``, ``eti_lower``, ``eti_upper``, ``hdi_lower``, ``hdi_upper``,
        one entry per mixture.
    """
    level = check_level(level, "interval level")
    r = len(mixtures)
    out = {key: np.empty(r) for key in ("median", "eti_lower", "eti_upper", "hdi_lower",
                                       "hdi_upper")}
    groups: dict[int, list[int]] = {}
    for i, mx in enumerate(mixtures):
        groups.setdefault(mx.m.size, []).append(i)
    tail = (1.0 - level) / 2.0
    for idx in groups.values():
        w, m, s = _stack([mixtures[i] for i in idx])
        p = np.tile([tail, 0.5, tail], (len(idx), 1))
        q = _quantile_rows(w, m, s, p, upper=np.array([False, False, True]))
        out["eti_lower"][idx], out["median"][idx], out["eti_upper"][idx] = q.T
        a, b = q[:, 0].copy(), q[:, 2].copy()
        ok = np.zeros(len(idx), dtype=bool)
        ends = np.array([False, True])  # cdf(a) and 1 - cdf(b)
        for _ in range(60):
            tails, pdf, slope = _cdf_pdf_rows(w, m, s, np.column_stack([a, b]), upper=ends)
            # cdf(b) - cdf(a) - level, from the two tails (no digits lost when level is near 1)
            f1 = (1.0 - level) - tails[:, 0] - tails[:, 1]
            f2 = pdf[:, 0] - pdf[:, 1]
            # Jacobian of (f1, f2) in (a, b): [[-pdf(a), pdf(b)], [pdf'(a), -pdf'(b)]]
            det = pdf[:, 0] * slope[:, 1] - pdf[:, 1] * slope[:, 0]
            with np.errstate(divide="ignore", invalid="ignore"):
                da = (-slope[:, 1] * f1 - pdf[:, 1] * f2) / det
                db = (-slope[:, 0] * f1 - pdf[:, 0] * f2) / det
            da, db = -da, -db
            na, nb = a + da, b + db
            ok = (np.isfinite(na) & np.isfinite(nb)
                  & (np.abs(da) <= 1e-14 + 4e-15 * np.abs(na))
                  & (np.abs(db) <= 1e-14 + 4e-15 * np.abs(nb)))
            good = np.isfinite(na) & np.isfinite(nb) & (na < nb)
            a, b = np.where(good, na, a), np.where(good, nb, b)
            if ok.all() or not good.any():
                break
        if ok.any():  # the density on [a, b] must not dip below its value at the ends
            t = np.linspace(0.0, 1.0, 17)[1:-1]
            grid = a[:, None] + t * (b - a)[:, None]
            dens = _pdf_rows(w, m, s, grid)
            end = np.maximum(*_pdf_rows(w, m, s, np.column_stack([a, b])).T)
            ok &= np.all(dens >= end[:, None] * (1.0 - 1e-9), axis=1)
        for j, i in enumerate(idx):
            if ok[j]:
                out["hdi_lower"][i], out["hdi_upper"][i] = a[j], b[j]
            else:
                out["hdi_lower"][i], out["hdi_upper"][i] = mixtures[i].hdi(level)
    return out
