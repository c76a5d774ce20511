"""Finance metrics from daily cash flows, vectorised over Monte Carlo paths.

Cash flows are ``[paths, days]`` arrays in USD; day t is discounted by ``(1 + r) ** (t / 365)``
with r the annual rate. Metrics that do not exist (no IRR in range, payback never reached, no
BTC mined) come back as NaN or -1 with a reason, never as a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DAYS_PER_YEAR = 365.0
IRR_LOG_RANGE = (np.log(0.01), np.log(1001.0))  # IRR searched in (-99%, +100,000%) a year
# A breakeven's bracket doubles from its start this many times (2**40 x) before it gives up.
BRACKET_DOUBLINGS = 40


def discount_factors(n_days: int, annual_rate: float) -> np.ndarray:
    return (1.0 + annual_rate) ** (-np.arange(n_days) / DAYS_PER_YEAR)


def npv(cash_flow_usd: np.ndarray, annual_rate: float) -> np.ndarray:
    """Net present value per path at day 0."""
    return cash_flow_usd @ discount_factors(cash_flow_usd.shape[-1], annual_rate)


def npv_unthreaded(cash_flow_usd: np.ndarray, annual_rate: float) -> np.ndarray:
    """``npv`` summed by NumPy's own loop instead of BLAS: the breakeven searches take the NPV
    of hundreds of rows a round, where OpenBLAS's threads cost 25x the sum's CPU time on a
    busy 2-core machine (400 rows x 5 years: 11 ms against 0.44 ms). Not bit for bit ``npv``
    (another order of the sum), so the reported NPVs keep ``npv``."""
    return present_value_unthreaded(
        cash_flow_usd, discount_factors(cash_flow_usd.shape[-1], annual_rate))


def present_value_unthreaded(cash_flow_usd: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """``npv_unthreaded`` with the discount factors given (computed once for many calls)."""
    return np.einsum("...t,t->...", cash_flow_usd, discount)


def irr(cash_flow_usd: np.ndarray, iterations: int = 80) -> np.ndarray:
    """Annual IRR per path by bisection on log(1 + r); NaN where NPV has the same sign at both
    ends of the range (no root in it, or an even number of roots: no single IRR).

    Bisection rather than Newton: cash flows with several sign changes can have several roots,
    and a bracketed search always returns one that is a root to the bracket's precision.
    """
    flows = np.atleast_2d(cash_flow_usd)
    years = np.arange(flows.shape[1]) / DAYS_PER_YEAR

    def npv_at(log_rate: np.ndarray) -> np.ndarray:
        return np.einsum("pt,pt->p", flows, np.exp(-log_rate[:, None] * years[None, :]))

    n = flows.shape[0]
    lo = np.full(n, IRR_LOG_RANGE[0])
    hi = np.full(n, IRR_LOG_RANGE[1])
    f_lo = npv_at(lo)
    f_hi = npv_at(hi)
    valid = np.sign(f_lo) != np.sign(f_hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        f_mid = npv_at(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    result = np.expm1(0.5 * (lo + hi))
    return np.where(valid, result, np.nan)


def payback_day(cash_flow_usd: np.ndarray) -> np.ndarray:
    """First day the cumulative cash turns from negative to non-negative; -1 if it never does.

    A plan whose cumulative cash is never negative pays back on day 0.
    """
    cumulative = np.cumsum(np.atleast_2d(cash_flow_usd), axis=1)
    negative = cumulative < 0.0
    negative_before = np.zeros_like(negative)
    negative_before[:, 1:] = np.maximum.accumulate(negative, axis=1)[:, :-1]
    turned = negative_before & ~negative
    day = np.where(turned.any(axis=1), turned.argmax(axis=1), -1)
    return np.where(negative.any(axis=1), day, 0)


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator; NaN where it does not exist (zero or vanishing denominator)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    # A vanishing denominator (a subnormal amount of BTC) overflows: no meaningful ratio either.
    with np.errstate(over="ignore"):
        np.divide(numerator, denominator, out=out, where=denominator != 0)
    return np.where(np.isfinite(out), out, np.nan)


def shutdown_btc_price_usd(
    power_kw: float, energy_usd_per_kwh: float, hashrate_th: float, btc_per_th_day: float,
    pool_fee: float,
) -> float:
    """BTC price at which a day's revenue equals its energy cost (the running-cost shutdown
    price): ``power_kw x 24 x energy_usd_per_kwh / (hashrate_th x btc_per_th_day x (1 -
    pool_fee))``. Uptime scales both sides and cancels. NaN when the network pays nothing."""
    btc_per_day = hashrate_th * btc_per_th_day * (1.0 - pool_fee)
    return float(safe_ratio(power_kw * 24.0 * energy_usd_per_kwh, btc_per_day))


def shutdown_energy_usd_per_kwh(
    power_kw: float, price_usd: float, hashrate_th: float, btc_per_th_day: float,
    pool_fee: float,
) -> float:
    """Energy price at which a day's revenue equals its energy cost: the inverse of
    ``shutdown_btc_price_usd`` at the BTC price ``price_usd``."""
    revenue_usd_per_day = hashrate_th * btc_per_th_day * (1.0 - pool_fee) * price_usd
    return float(safe_ratio(revenue_usd_per_day, power_kw * 24.0))


# A row-wise function: values at x[k] for the rows rows[k] of a search (only the rows still open
# are evaluated, so a search's late rounds cost only what is left).
RowFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def illinois_root(
    function: RowFunction, a: np.ndarray, b: np.ndarray, f_a: np.ndarray, f_b: np.ndarray,
    rel_tol: float = 1e-9, f_tol: float = 0.0, max_iter: int = 200, x_rel_tol: float = 0.0,
) -> np.ndarray:
    """Vectorised false position, Illinois variant, on brackets [a, b] with f_a * f_b <= 0.

    ``function(x[k], rows[k]) -> f[k]``, called on the rows not yet done. Converges
    superlinearly and never leaves the bracket, so it suits monotone but kinked functions such
    as NPV under curtailment. A row is done when its bracket is within ``rel_tol``, its last
    value within ``f_tol`` of zero, or its last value over the bracket's secant slope (the
    distance to the root the next step would go) within ``x_rel_tol`` of it: the retained end
    of a false-position bracket can stay put, so the width alone converges slowly.
    """
    a, b, f_a, f_b = (np.array(v, dtype=np.float64) for v in (a, b, f_a, f_b))

    def converged() -> np.ndarray:
        width = np.abs(b - a) <= rel_tol * np.maximum(np.abs(a), np.abs(b))
        slope = np.abs(f_b - f_a) / np.maximum(np.abs(b - a), 1e-300)
        step_ok = np.abs(f_b) <= x_rel_tol * np.abs(b) * slope
        return (np.abs(f_b) <= f_tol) | width | step_ok

    done = converged()
    for _ in range(max_iter):
        open_rows = np.flatnonzero(~done)
        if open_rows.size == 0:
            break
        ao, bo, fao, fbo = a[open_rows], b[open_rows], f_a[open_rows], f_b[open_rows]
        c = bo - fbo * (bo - ao) / np.where(fbo != fao, fbo - fao, 1.0)
        f_c = function(c, open_rows)
        crossed = np.sign(f_c) != np.sign(fbo)
        a[open_rows] = np.where(crossed, bo, ao)
        f_a[open_rows] = np.where(crossed, fbo, fao / 2.0)
        b[open_rows], f_b[open_rows] = c, f_c
        done = done | converged()
    return b


def breakeven(
    npv_of: RowFunction, n_rows: int, start: float | np.ndarray,
    increasing: bool | np.ndarray, npv_tol_usd: float, x_rel_tol: float = 0.0,
) -> np.ndarray:
    """Root of a monotone NPV(x) per row on x >= 0; NaN where none exists in range.

    ``npv_of(x[k], rows[k])``; ``start`` and ``increasing`` per row or for all. A rising
    NPV(x) already >= 0 at x = 0 gives 0 (breakeven price 0: profitable at any price); a
    falling one already < 0 at x = 0 (a loss even with free power) gives NaN. Each round is
    one call of ``npv_of`` on the rows still open.
    """
    rows = np.arange(n_rows)
    zero = np.zeros(n_rows)
    f_zero = npv_of(zero, rows)
    sign = np.where(increasing, 1.0, -1.0) * np.ones(n_rows)
    at_zero = sign * f_zero >= 0.0
    no_root = (sign < 0.0) & (f_zero < 0.0)
    hi = np.maximum(np.broadcast_to(start, (n_rows,)), 1e-9).astype(np.float64)
    f_hi = npv_of(hi, rows)
    for _ in range(BRACKET_DOUBLINGS):
        short = np.flatnonzero((sign * f_hi < 0.0) & ~at_zero)
        if short.size == 0:
            break
        hi[short] *= 2.0
        f_hi[short] = npv_of(hi[short], short)
    bracketed = (sign * f_hi >= 0.0) & ~at_zero
    if not bracketed.any():
        return np.where(at_zero & ~no_root, 0.0, np.nan)
    # Rows without a bracket are done from the start (a zero-width bracket).
    lo = np.where(bracketed, zero, hi)
    f_lo = np.where(bracketed, f_zero, f_hi)
    root = illinois_root(npv_of, lo, hi, f_lo, f_hi, f_tol=npv_tol_usd, x_rel_tol=x_rel_tol)
    return np.where(at_zero & ~no_root, 0.0, np.where(bracketed, root, np.nan))
