"""Predictive customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, fitted by maximum likelihood.

The models follow METRICS.md, "Predictive CLV, the reference":

* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a customer buys
  as a Poisson process with rate λ ~ Gamma(r, α); after every purchase they drop out with probability
  p ~ Beta(a, b). Inputs per customer, in one time unit (weeks or days): ``x`` repeat purchase periods
  (purchases on the same calendar day merged into one), ``t_x`` the time of the last purchase since the first,
  ``T`` the time from the first purchase to the end of the calibration period.
* **Gamma-Gamma** (Fader & Hardie, "The Gamma-Gamma model of monetary value", 2013): a customer's spend per
  transaction is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent of the purchase process. It is
  fitted on the customers with at least one repeat purchase, on the mean value of their *repeat* purchases
  (the first purchase is left out, as in the note's CDNOW example).

Both log-likelihoods are written in log space (``gammaln``, ``betaln``, ``logaddexp``) with analytic gradients
and maximised over the logarithm of the parameters with L-BFGS-B, from several starting points; customers with
identical inputs are fitted once with a weight, so a brand with hundreds of thousands of customers fits in a
second or two. The published CDNOW fits (r 0.243, α 4.414, a 0.793, b 2.426; p 6.25, q 3.74, γ 15.44) are
reproduced by ``tests/test_clv.py``.

CLV here is ``expected purchases over the horizon × expected order value × margin``: undiscounted (a sale next
year counts as much as one today) and future value only (what the customer has spent so far is not in it).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
import types
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl


# SciPy is imported on the first fit, not with the module: it takes ~0.5 s, and the pages that import this
# module (relationships, settings) mostly draw views that fit nothing.
@functools.cache
def _scipy() -> tuple[types.ModuleType, types.ModuleType]:
    import scipy.optimize
    import scipy.special

    return scipy.optimize, scipy.special


def minimize(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - scipy.optimize.minimize
    return _scipy()[0].minimize(*args, **kwargs)


def betaln(a: Any, b: Any) -> Any:  # noqa: ANN401 - scipy.special ufuncs take and give scalars or arrays
    return _scipy()[1].betaln(a, b)


def digamma(x: Any) -> Any:  # noqa: ANN401
    return _scipy()[1].digamma(x)


def expit(x: Any) -> Any:  # noqa: ANN401
    return _scipy()[1].expit(x)


def gammaln(x: Any) -> Any:  # noqa: ANN401
    return _scipy()[1].gammaln(x)


def hyp2f1(a: Any, b: Any, c: Any, z: Any) -> Any:  # noqa: ANN401
    return _scipy()[1].hyp2f1(a, b, c, z)


log = logging.getLogger(__name__)

Unit = Literal["week", "day"]
DAYS_PER_UNIT: dict[str, float] = {"week": 7.0, "day": 1.0}

# The parameters are fitted as logarithms within these bounds: wide enough for any real customer base,
# narrow enough that the optimiser cannot wander into overflow.
_LOG_BOUNDS = (math.log(1e-5), math.log(1e6))

ArrayLike = float | int | np.ndarray | pl.Series


class CLVFitError(ValueError):
    """The data cannot support a fit (too few customers, or no repeat purchases); the message says why."""


# -- parameters ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters: purchase rate λ ~ Gamma(r, α), dropout p ~ Beta(a, b), in the fit's unit."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int

    @property
    def population_mean_order_value(self) -> float:
        """E[M] for a customer about whom nothing is known: p γ / (q − 1); undefined (NaN) when q ≤ 1."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else math.nan

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


# -- transactions → per-customer summary ---------------------------------------------------------------------
def _unit_days(unit: str) -> float:
    try:
        return DAYS_PER_UNIT[unit]
    except KeyError:
        raise ValueError(f"unit must be 'week' or 'day', not {unit!r}") from None


_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$"  # 2024-03-01, 2024-03-01T10:22:00Z, 2024-03-01 10:22:00+02:00
_COMPACT_DATE = r"^\d{8}$"  # 20240301
_SLASH_DATE = r"^\d{4}/\d{2}/\d{2}(?:[T ].*)?$"  # 2024/03/01
DATE_FORMATS_ACCEPTED = "YYYY-MM-DD (optionally followed by a time), YYYYMMDD or YYYY/MM/DD"


def _parse_date_expr(name: str) -> pl.Expr:
    """A text column as calendar dates; the date as written (a time or zone after it is ignored)."""
    s = pl.col(name).cast(pl.String).str.strip_chars()
    return (
        pl.when(s.str.contains(_ISO_DATE))
        .then(s.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        .when(s.str.contains(_COMPACT_DATE))
        .then(s.str.to_date("%Y%m%d", strict=False))
        .when(s.str.contains(_SLASH_DATE))
        .then(s.str.slice(0, 10).str.to_date("%Y/%m/%d", strict=False))
        .otherwise(None)
    )


def _position(index: int, line_offset: int | None) -> str:
    """'line N' of a CSV (``line_offset`` = the line of the first data row) or 'row N' of a frame."""
    return f"line {index + line_offset}" if line_offset is not None else f"row {index + 1}"


def _first_bad(frame: pl.DataFrame, mask: pl.Expr) -> int | None:
    """The position (in ``frame``) of the first row where ``mask`` holds."""
    hits = frame.select(pl.arg_where(mask).first()).item()
    return None if hits is None else int(hits)


def clean_transactions(
    transactions: pl.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    *,
    line_offset: int | None = None,
) -> pl.DataFrame:
    """Validated ``customer, date, amount`` columns (date as Date, amount as Float64) of a transactions frame.

    Raises ``ValueError`` naming the column and the first offending line (CSV, with ``line_offset``) or row:
    a missing column, an empty customer id, a date that is not a date, an amount that is not a number or is
    negative.
    """
    wanted = [customer_col, date_col] + ([amount_col] if amount_col else [])
    missing = [c for c in wanted if c not in transactions.columns]
    if missing:
        available = ", ".join(transactions.columns) or "none"
        raise ValueError(
            f"column {missing[0]!r} is not in the transactions (columns found: {available}); "
            "name the customer, date and amount columns as they are spelled in the file's header"
        )
    frame = transactions.with_row_index("row").select(
        "row",
        customer=pl.col(customer_col),
        date_raw=pl.col(date_col),
        amount_raw=pl.col(amount_col) if amount_col else pl.lit(0.0),
    )
    # blank lines (every wanted column empty) are skipped; ``row`` keeps the line numbers true
    present = ["customer", "date_raw"] + (["amount_raw"] if amount_col else [])
    frame = frame.filter(~pl.all_horizontal(pl.col(c).is_null() for c in present))

    bad = _first_bad(frame, pl.col("customer").is_null())
    if bad is not None:
        raise ValueError(f"column {customer_col!r} is empty on {_position(frame['row'][bad], line_offset)}")

    dtype = frame.schema["date_raw"]
    if dtype == pl.Date:
        date = pl.col("date_raw")
    elif isinstance(dtype, pl.Datetime):
        date = pl.col("date_raw").dt.date()
    elif dtype == pl.String or dtype.is_integer():
        date = _parse_date_expr("date_raw")
    else:
        raise ValueError(f"column {date_col!r} holds {dtype}, not dates")
    frame = frame.with_columns(date=date)
    bad = _first_bad(frame, pl.col("date").is_null())
    if bad is not None:
        value = frame["date_raw"][bad]
        shown = "an empty value" if value is None else repr(str(value))
        raise ValueError(
            f"column {date_col!r} has {shown} on {_position(frame['row'][bad], line_offset)}, "
            "which is not a date; "
            f"write dates as {DATE_FORMATS_ACCEPTED}"
        )

    if amount_col:
        adtype = frame.schema["amount_raw"]
        if adtype == pl.String:
            amount = pl.col("amount_raw").str.strip_chars().cast(pl.Float64, strict=False)
        elif adtype.is_numeric():
            amount = pl.col("amount_raw").cast(pl.Float64)
        else:
            raise ValueError(f"column {amount_col!r} holds {adtype}, not amounts")
        frame = frame.with_columns(amount=amount)
        bad = _first_bad(frame, pl.col("amount").is_null() | pl.col("amount").is_nan())
        if bad is not None:
            value = frame["amount_raw"][bad]
            shown = "an empty value" if value is None else repr(str(value))
            raise ValueError(
                f"column {amount_col!r} has {shown} on {_position(frame['row'][bad], line_offset)}, "
                "which is not a number; "
                "write amounts as plain numbers such as 19.90 (no currency sign or thousands separator)"
            )
        bad = _first_bad(frame, pl.col("amount") < 0)
        if bad is not None:
            raise ValueError(
                f"column {amount_col!r} is negative ({frame['amount'][bad]}) on "
                f"{_position(frame['row'][bad], line_offset)}; the spend model needs purchase amounts ≥ 0 — "
                "leave refunds out or net them into their order"
            )
    else:
        frame = frame.with_columns(amount=pl.lit(0.0))
    return frame.select("customer", "date", "amount")


def rfm_summary(
    transactions: pl.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    calibration_end: dt.date,
    unit: Unit = "week",
) -> pl.DataFrame:
    """Per-customer BG/NBD and Gamma-Gamma inputs from a transactions frame, as of ``calibration_end``.

    Transactions after ``calibration_end`` are ignored (those on that day count); purchases on the same
    calendar day are merged into one (amounts added). Returns one row per customer whose first purchase is on
    or before ``calibration_end``, sorted by customer: ``<customer_col>``, ``x`` (repeat purchase days),
    ``t_x`` and ``T`` (in ``unit``s), ``monetary_value`` (mean value of the repeat purchases; 0 when x = 0).
    """
    per_unit = _unit_days(unit)
    clean = clean_transactions(transactions, customer_col, date_col, amount_col)
    daily = (
        clean.filter(pl.col("date") <= calibration_end)
        .group_by("customer", "date")
        .agg(amount=pl.col("amount").sum())
    )
    summary = (
        daily.group_by("customer")
        .agg(
            first=pl.col("date").min(),
            last=pl.col("date").max(),
            days=pl.len(),
            total=pl.col("amount").sum(),
            first_amount=pl.col("amount").sort_by("date").first(),
        )
        .sort("customer")
    )
    x = pl.col("days") - 1
    return summary.select(
        pl.col("customer").alias(customer_col),
        x=x.cast(pl.Int64),
        t_x=(pl.col("last") - pl.col("first")).dt.total_days().cast(pl.Float64) / per_unit,
        T=(pl.lit(calibration_end) - pl.col("first")).dt.total_days().cast(pl.Float64) / per_unit,
        monetary_value=pl.when(x > 0)
        .then((pl.col("total") - pl.col("first_amount")) / x)
        .otherwise(0.0)
        .cast(pl.Float64),
    )


# -- fitting helpers -----------------------------------------------------------------------------------------
def _column(summary: pl.DataFrame, name: str) -> np.ndarray:
    if name not in summary.columns:
        raise ValueError(f"the summary has no column {name!r}; build it with rfm_summary()")
    return summary[name].cast(pl.Float64).to_numpy()


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how many customers share each (the fit weights)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


class _Distinct:
    """A column's distinct values and each row's place among them.

    A function of the parameters is evaluated once per distinct value and spread back to the rows: a brand's
    customers share a few hundred distinct x, t_x and T.
    """

    def __init__(self, values: np.ndarray):
        self.values, self.index = np.unique(values, return_inverse=True)

    def map(self, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return f(self.values)[self.index]


def _maximise(
    neg_ll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    starts: list[np.ndarray],
    what: str,
) -> tuple[np.ndarray, float]:
    """Minimise a mean negative log-likelihood over log-parameters from several starts; keep the best.

    Stops once two starts reach the same optimum (the usual case): a large fit runs twice, not thrice.
    """
    best = None
    agreed = 0
    bounds = [_LOG_BOUNDS] * starts[0].size
    for start in starts:
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            result = minimize(
                neg_ll,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9},
            )
        if not np.isfinite(result.fun):
            continue
        if best is not None and abs(result.fun - best.fun) <= 1e-10 * max(1.0, abs(best.fun)):
            agreed += 1
        if best is None or result.fun < best.fun:
            best = result
        if agreed:
            break
    if best is None:
        raise CLVFitError(f"the {what} fit did not converge from any starting point")
    at_bound = np.isclose(best.x, _LOG_BOUNDS[0]) | np.isclose(best.x, _LOG_BOUNDS[1])
    if at_bound.any():
        log.warning("%s fit: a parameter sits at its bound (%s); the data barely identify it", what, best.x)
    if not best.success and np.abs(best.jac).max() > 1e-5:
        log.warning("%s fit: optimiser stopped early (%s); the estimates may be rough", what, best.message)
    return np.exp(best.x), float(best.fun)


# -- BG/NBD --------------------------------------------------------------------------------------------------
class _BGNBDData:
    """Customers' (x, t_x, T), with their distinct values indexed once for the likelihood."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
        self.x, self.t_x, self.T = x, t_x, T
        self.repeat = x > 0
        self.xs, self.t_xs, self.Ts = _Distinct(x), _Distinct(t_x), _Distinct(T)


def _bgnbd_log_likelihood(
    params: np.ndarray, data: _BGNBDData, *, gradient: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-customer log-likelihood (FHL 2005, eq. 6) and, optionally, its gradient in the parameters.

    ℓ = ln Γ(r+x) − ln Γ(r) + r ln α + ln[ B(a, b+x)/B(a,b) · (α+T)^−(r+x)
                                         + [x>0] B(a+1, b+x−1)/B(a,b) · (α+t_x)^−(r+x) ]
    """
    r, alpha, a, b = params
    x, repeat, xs = data.x, data.repeat, data.xs
    b_x1 = lambda v: np.where(v > 0, b + v - 1.0, 1.0)  # noqa: E731 - b + x − 1 only matters when x > 0
    log_alpha_T = data.Ts.map(lambda v: np.log(alpha + v))
    log_alpha_tx = data.t_xs.map(lambda v: np.log(alpha + v))
    beta_ab = betaln(a, b)
    a1 = xs.map(lambda v: gammaln(r + v)) - gammaln(r) + r * math.log(alpha)
    a2 = xs.map(lambda v: betaln(a, b + v)) - beta_ab - (r + x) * log_alpha_T
    a3 = np.where(
        repeat, xs.map(lambda v: betaln(a + 1.0, b_x1(v))) - beta_ab - (r + x) * log_alpha_tx, -np.inf
    )
    mix = np.logaddexp(a2, a3)
    ll = a1 + mix
    if not gradient:
        return ll, None
    w2 = np.exp(a2 - mix)  # share of the "still alive at T" term
    w3 = np.where(repeat, np.exp(a3 - mix), 0.0)
    d_r = (
        xs.map(lambda v: digamma(r + v)) - digamma(r) + math.log(alpha) - w2 * log_alpha_T - w3 * log_alpha_tx
    )
    d_alpha = r / alpha - (r + x) * (w2 * np.exp(-log_alpha_T) + w3 * np.exp(-log_alpha_tx))
    psi_ab = digamma(a + b)
    psi_abx = xs.map(lambda v: digamma(a + b + v))
    d_a = w2 * (psi_ab - psi_abx) + w3 * (digamma(a + 1.0) - digamma(a) + psi_ab - psi_abx)
    d_b = w2 * (xs.map(lambda v: digamma(b + v)) - digamma(b) + psi_ab - psi_abx) + w3 * (
        xs.map(lambda v: digamma(b_x1(v))) - digamma(b) + psi_ab - psi_abx
    )
    return ll, np.vstack([d_r, d_alpha, d_a, d_b])


def bgnbd_log_likelihood(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood under ``params``."""
    x_, t_x_, T_ = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T)))
    data = _BGNBDData(x_, t_x_, T_)
    ll, _ = _bgnbd_log_likelihood(np.array([params.r, params.alpha, params.a, params.b]), data)
    return ll


def _check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if not np.isfinite(np.r_[x, t_x, T]).all() or (x < 0).any() or (t_x < 0).any() or (t_x > T).any():
        raise ValueError("the summary needs x ≥ 0 and 0 ≤ t_x ≤ T for every customer")


def fit_bgnbd(summary: pl.DataFrame) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters for a summary with columns ``x``, ``t_x``, ``T``."""
    x, t_x, T = (_column(summary, c) for c in ("x", "t_x", "T"))
    _check_summary(x, t_x, T)
    n = x.size
    if n < 2 or not (x > 0).any():
        raise CLVFitError(
            f"BG/NBD needs customers with repeat purchases; found {n} customer(s), "
            f"{int((x > 0).sum())} with a repeat purchase"
        )
    (ux, ut_x, uT), weight = _compress(x, t_x, T)
    data = _BGNBDData(ux, ut_x, uT)
    total = weight.sum()

    def neg_ll(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        ll, grad = _bgnbd_log_likelihood(params, data, gradient=True)
        value = -float(np.sum(weight * ll)) / total
        g = -np.sum(grad * weight, axis=1) / total * params  # chain rule: d/d ln θ = θ d/dθ
        if not np.isfinite(value) or not np.isfinite(g).all():
            return math.inf, np.zeros_like(log_params)
        return value, g

    # starts: all ones (the usual default), one scaled to the data's purchase rate, one in between
    mean_T = float(np.mean(T)) or 1.0
    rate = max(float(np.sum(x)) / max(float(np.sum(T)), 1e-9), 1e-6)
    starts = [
        np.zeros(4),
        np.log([1.0, 1.0 / rate, 1.0, 3.0]),
        np.log([0.5, max(mean_T / 10.0, 1e-3), 0.5, 2.0]),
    ]
    (r, alpha, a, b), mean_nll = _maximise(neg_ll, starts, "BG/NBD")
    return BGNBDParams(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(-mean_nll * total),
        n_customers=n,
    )


def probability_alive(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
    x_, t_x_, T_ = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x_ > 0
    b_x1 = np.where(repeat, b + x_ - 1.0, 1.0)
    log_odds_dead = np.where(
        repeat,
        math.log(a) - np.log(b_x1) + (r + x_) * (np.log(alpha + T_) - np.log(alpha + t_x_)),
        -np.inf,
    )
    return expit(-log_odds_dead)


def _purchases_if_alive(
    r: float, alpha: float, a: float, b: float, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """The numerator of FHL 2005 eq. 10, the purchases expected in (T, T+t] of a customer still alive:

    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)].

    Evaluated after Euler's transformation, ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; c; z) =
    (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z) with z = t/(α+T+t), which stays well-conditioned for customers with
    many purchases; where SciPy cannot evaluate that form, the untransformed one is used.
    """
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    pole = np.abs(c) < 1e-9  # x = 0 and a + b = 1: ₂F₁ has a pole at c = 0 that the factor c cancels
    c_safe = np.where(pole, 1.0, c)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        euler = hyp2f1(a + b - 1.0 - r, a - 1.0, c_safe, z)  # can be negative when c < 0: no log then
        log_tail = (a - 1.0) * np.log1p(-z) + np.log(np.where(euler > 0, euler, 1.0))
        # 1 − tail, with expm1 where possible so that a close to 1 loses no precision
        one_minus_tail = np.where(euler > 0, -np.expm1(log_tail), 1.0 - (1.0 - z) ** (a - 1.0) * euler)
        direct = 1.0 - (1.0 - z) ** (r + x) * hyp2f1(r + x, b + x, c_safe, z)
        one_minus_tail = np.where(np.isfinite(one_minus_tail), one_minus_tail, direct)
        value = c * one_minus_tail / (a - 1.0)
        # the limit c → 0 of c·₂F₁(A, B; c; z) is A·B·z·₂F₁(A+1, B+1; 2; z)
        at_pole = -((1.0 - z) ** (a - 1.0)) * (a + b - 1.0 - r) * z * hyp2f1(a + b - r, a, 2.0, z)
    return np.where(pole, at_pole, value)


def expected_purchases(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005, eq. 10), vectorised over customers and horizons.

    = (purchases expected if still alive) × P(alive); see :func:`_purchases_if_alive` for the numerics.
    """
    t_, x_, t_x_, T_ = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, t_x, T)))
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1.0) > 1e-8 else 1.0 + 1e-8  # the formula's removable singularity at a = 1
    value = np.array(_purchases_if_alive(r, alpha, a, b, t_, x_, T_), dtype=float, ndmin=1)
    bad = ~np.isfinite(value) & np.atleast_1d(t_ > 0)
    if bad.any():
        # SciPy's ₂F₁ gives up on a few degenerate parameter sets (c − a − b an integer, z near 1): the
        # function is continuous in a, so evaluate it a hair away
        idx = np.atleast_1d(t_), np.atleast_1d(x_), np.atleast_1d(T_)
        value[bad] = _purchases_if_alive(r, alpha, a * (1 + 1e-7), b, idx[0][bad], idx[1][bad], idx[2][bad])
    value = value.reshape(t_.shape)
    return np.where(t_ > 0, value * probability_alive(params, x_, t_x_, T_), 0.0)


def expected_purchases_new_customer(params: BGNBDParams, t: ArrayLike) -> np.ndarray:
    """E[purchases in (0, t]] of a customer who has just made a first purchase (FHL 2005, eq. 9).

    Eq. 10 with x = t_x = T = 0 is eq. 9, so the same well-conditioned evaluation serves both.
    """
    return expected_purchases(params, t, 0, 0, 0)


# -- Gamma-Gamma ---------------------------------------------------------------------------------------------
class _GammaGammaData:
    """Repeat customers' (x, m̄), with the distinct x indexed once and the constant logs precomputed."""

    def __init__(self, x: np.ndarray, m: np.ndarray):
        self.x, self.m = x, m
        self.xs = _Distinct(x)
        self.log_m, self.log_x = np.log(m), np.log(x)


def _gamma_gamma_log_likelihood(
    params: np.ndarray, data: _GammaGammaData, *, gradient: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-customer log-density of the mean repeat spend m̄ over x purchases, and its gradient.

    ℓ = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x − (px+q) ln(γ + x m̄)
    """
    p, q, gamma = params
    x, xs = data.x, data.xs
    px = p * x
    log_gxm = np.log(gamma + x * data.m)
    ll = (
        xs.map(lambda v: gammaln(p * v + q) - gammaln(p * v))
        - gammaln(q)
        + q * math.log(gamma)
        + (px - 1.0) * data.log_m
        + px * data.log_x
        - (px + q) * log_gxm
    )
    if not gradient:
        return ll, None
    psi_pxq = xs.map(lambda v: digamma(p * v + q))
    d_p = x * (psi_pxq - xs.map(lambda v: digamma(p * v)) + data.log_m + data.log_x - log_gxm)
    d_q = psi_pxq - digamma(q) + math.log(gamma) - log_gxm
    d_gamma = q / gamma - (px + q) * np.exp(-log_gxm)
    return ll, np.vstack([d_p, d_q, d_gamma])


def fit_gamma_gamma(summary: pl.DataFrame) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters on the customers with x > 0 and a positive repeat spend.

    ``summary`` needs ``x`` and ``monetary_value`` (the mean value of the repeat purchases, as
    :func:`rfm_summary` makes it). Customers whose repeat purchases are all worth 0 carry no information
    about spend and are left out (the density needs m̄ > 0).
    """
    x, m = _column(summary, "x"), _column(summary, "monetary_value")
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    n = int(x.size)
    if n < 2:
        raise CLVFitError(
            f"the spend model needs at least 2 customers with a repeat purchase worth more than 0; found {n}"
        )
    (ux, um), weight = _compress(x, m)
    data = _GammaGammaData(ux, um)
    total = weight.sum()

    def neg_ll(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        ll, grad = _gamma_gamma_log_likelihood(params, data, gradient=True)
        value = -float(np.sum(weight * ll)) / total
        g = -np.sum(grad * weight, axis=1) / total * params
        if not np.isfinite(value) or not np.isfinite(g).all():
            return math.inf, np.zeros_like(log_params)
        return value, g

    mean_m = float(np.mean(m))
    starts = [np.zeros(3), np.log([2.0, 3.0, mean_m]), np.log([5.0, 4.0, 3.0 * mean_m / 5.0])]
    (p, q, gamma), mean_nll = _maximise(neg_ll, starts, "Gamma-Gamma")
    return GammaGammaParams(
        p=float(p), q=float(q), gamma=float(gamma), log_likelihood=float(-mean_nll * total), n_customers=n
    )


def expected_order_value(params: GammaGammaParams, x: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """E[M | x, m̄] = (q − 1)/(px + q − 1) · pγ/(q − 1) + px/(px + q − 1) · m̄ = p(γ + x m̄)/(px + q − 1).

    A weighted mean of the population mean and the customer's own mean repeat spend; for x = 0 it is the
    population mean pγ/(q − 1), NaN when q ≤ 1 (the fitted population has no finite mean spend).
    """
    x_, m_ = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(monetary_value, dtype=float))
    p, q, gamma = params.p, params.q, params.gamma
    m_ = np.where(x_ > 0, m_, 0.0)
    denominator = p * x_ + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, p * (gamma + x_ * m_) / denominator, np.nan)


def customer_lifetime_value(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon: float,
    margin: float,
) -> np.ndarray:
    """Undiscounted CLV over ``horizon`` (in the fit's unit): E[purchases] × E[order value] × margin."""
    purchases = expected_purchases(bgnbd, horizon, x, t_x, T)
    return purchases * expected_order_value(gamma_gamma, x, monetary_value) * margin


# -- files ---------------------------------------------------------------------------------------------------
def read_transactions(path: str | os.PathLike[str]) -> tuple[pl.DataFrame, int | None]:
    """A CSV (every column read as text, so errors can name the line) or Parquet file of transactions.

    Returns the frame and the line number of the first data row (CSV) or ``None`` (Parquet: rows, not lines).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pl.read_parquet(path), None
        except (pl.exceptions.ComputeError, OSError) as exc:
            raise ValueError(f"{path.name} could not be read as Parquet: {exc}") from exc
    if suffix not in (".csv", ".tsv"):
        raise ValueError(f"{path.name}: read CSV (.csv) or Parquet (.parquet) files only")
    separator = "\t" if suffix == ".tsv" else ","
    try:
        frame = pl.read_csv(path, infer_schema=False, separator=separator, raise_if_empty=False)
    except pl.exceptions.ComputeError as exc:
        raise ValueError(f"{path.name} could not be read as CSV: {exc}") from exc
    return frame, 2  # line 1 is the header


def fit_transactions_file(
    path: str | os.PathLike[str],
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: dt.date,
    unit: Unit = "week",
) -> dict[str, object]:
    """Fit BG/NBD and Gamma-Gamma on a CSV or Parquet file of transactions (the ``triad clv fit`` command).

    Returns a JSON-ready dict: ``bgnbd`` {r, alpha, a, b, log_likelihood}, ``gamma_gamma``
    {p, q, gamma, log_likelihood}, ``n_customers`` (customers in the BG/NBD fit), and for the record
    ``n_repeat_customers`` (those in the Gamma-Gamma fit), ``n_transactions`` (rows on or before the
    calibration end), ``unit`` and ``calibration_end``. Errors are ``ValueError`` with a sentence naming the
    column and the first offending line.
    """
    _unit_days(unit)
    frame, first_line = read_transactions(path)
    clean = clean_transactions(frame, customer_col, date_col, amount_col, line_offset=first_line)
    n_transactions = int(clean.select((pl.col("date") <= calibration_end).sum()).item() or 0)
    if n_transactions == 0:
        raise CLVFitError(f"no transactions on or before the calibration end {calibration_end.isoformat()}")
    summary = rfm_summary(clean, "customer", "date", "amount", calibration_end, unit)
    bgnbd = fit_bgnbd(summary)
    gamma_gamma = fit_gamma_gamma(summary)
    return {
        "bgnbd": {k: bgnbd.as_dict()[k] for k in ("r", "alpha", "a", "b", "log_likelihood")},
        "gamma_gamma": {k: gamma_gamma.as_dict()[k] for k in ("p", "q", "gamma", "log_likelihood")},
        "n_customers": bgnbd.n_customers,
        "n_repeat_customers": gamma_gamma.n_customers,
        "n_transactions": n_transactions,
        "unit": unit,
        "calibration_end": calibration_end.isoformat(),
    }
