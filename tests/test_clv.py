"""BG/NBD and Gamma-Gamma against the published CDNOW fits, the summary builder, the file entry point."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy.special import hyp2f1

from models.clv import (
    BGNBDParams,
    CLVFitError,
    GammaGammaParams,
    bgnbd_log_likelihood,
    customer_lifetime_value,
    expected_order_value,
    expected_purchases,
    expected_purchases_new_customer,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_transactions_file,
    probability_alive,
    rfm_summary,
)

CDNOW = Path(__file__).parent / "fixtures" / "cdnow_sample.csv"
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks after the first purchases of 1 January 1997


def sig3(value: float) -> str:
    """A number to 3 significant digits, as the papers print them."""
    return f"{value:.3g}"


@pytest.fixture(scope="module")
def cdnow_transactions() -> pl.DataFrame:
    return pl.read_csv(CDNOW, try_parse_dates=True)


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_transactions: pl.DataFrame) -> pl.DataFrame:
    return rfm_summary(cdnow_transactions, "customer_id", "date", "amount", CALIBRATION_END, unit="week")


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow_summary: pl.DataFrame) -> BGNBDParams:
    return fit_bgnbd(cdnow_summary)


@pytest.fixture(scope="module")
def cdnow_gamma_gamma(cdnow_summary: pl.DataFrame) -> GammaGammaParams:
    return fit_gamma_gamma(cdnow_summary)


# -- the published CDNOW results -----------------------------------------------------------------------------
def test_cdnow_summary_matches_the_published_summary(cdnow_summary: pl.DataFrame) -> None:
    # the first rows of Fader & Hardie's summary file (ID, x, t_x, T, zbar), as published to 2 decimals
    published = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "x": [2, 1, 0, 0, 0, 7, 1, 0],
            "t_x": [30.43, 1.71, 0.00, 0.00, 0.00, 29.43, 5.00, 0.00],
            "T": [38.86, 38.86, 38.86, 38.86, 38.86, 38.86, 38.86, 38.86],
            "monetary_value": [22.35, 11.77, 0.00, 0.00, 0.00, 73.74, 11.77, 0.00],
        }
    )
    assert_frame_equal(
        cdnow_summary.head(8), published, rel_tol=0, abs_tol=0.005 + 1e-9
    )  # 2-decimal rounding
    assert cdnow_summary.height == 2357
    assert cdnow_summary.filter(pl.col("x") > 0).height == 946  # the Gamma-Gamma note's repeat customers


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_bgnbd: BGNBDParams) -> None:
    fit = cdnow_bgnbd
    assert (sig3(fit.r), sig3(fit.alpha), sig3(fit.a), sig3(fit.b)) == ("0.243", "4.41", "0.793", "2.43")
    assert round(fit.alpha, 3) == 4.414 and round(fit.b, 3) == 2.426  # the paper's own 4 digits
    assert round(fit.log_likelihood, 1) == -9582.4
    assert fit.n_customers == 2357


def test_gamma_gamma_reproduces_fader_hardie_note(cdnow_gamma_gamma: GammaGammaParams) -> None:
    fit = cdnow_gamma_gamma
    assert (sig3(fit.p), sig3(fit.q), sig3(fit.gamma)) == ("6.25", "3.74", "15.4")
    assert round(fit.gamma, 2) == 15.44
    assert fit.n_customers == 946


def test_conditional_expectation_of_the_papers_example_customer(cdnow_bgnbd: BGNBDParams) -> None:
    # x = 2, t_x = 30.43, T = 38.86: expected repeat purchases in the next 39 weeks, published as 1.226
    expected = float(expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86))
    assert sig3(expected) == "1.23"
    assert round(expected, 3) == 1.226
    published = BGNBDParams(0.243, 4.414, 0.793, 2.426, -9582.4, 2357)
    assert round(float(expected_purchases(published, 39, 2, 30.43, 38.86)), 3) == 1.226


def test_new_customer_expectation_is_the_unconditional_formula(cdnow_bgnbd: BGNBDParams) -> None:
    # FHL 2005 eq. 9: E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]
    r, alpha, a, b = cdnow_bgnbd.r, cdnow_bgnbd.alpha, cdnow_bgnbd.a, cdnow_bgnbd.b
    t = np.array([1.0, 39.0, 78.0])
    by_hand = (
        (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    np.testing.assert_allclose(expected_purchases_new_customer(cdnow_bgnbd, t), by_hand, rtol=1e-10)


def test_fit_is_the_same_in_days_with_alpha_scaled(
    cdnow_transactions: pl.DataFrame, cdnow_bgnbd: BGNBDParams
) -> None:
    daily = rfm_summary(cdnow_transactions, "customer_id", "date", "amount", CALIBRATION_END, unit="day")
    fit = fit_bgnbd(daily)
    assert fit.r == pytest.approx(cdnow_bgnbd.r, rel=1e-5)
    assert fit.alpha == pytest.approx(cdnow_bgnbd.alpha * 7, rel=1e-5)
    assert (fit.a, fit.b) == pytest.approx((cdnow_bgnbd.a, cdnow_bgnbd.b), rel=1e-5)
    # the likelihood of the same data differs by the Jacobian of the time change only: Σ x ln 7
    jacobian = float(daily["x"].sum()) * math.log(7)
    assert fit.log_likelihood == pytest.approx(cdnow_bgnbd.log_likelihood - jacobian, abs=1e-4)


def test_log_likelihood_sums_to_the_fitted_value(
    cdnow_summary: pl.DataFrame, cdnow_bgnbd: BGNBDParams
) -> None:
    per_customer = bgnbd_log_likelihood(
        cdnow_bgnbd, cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"]
    )
    assert per_customer.sum() == pytest.approx(cdnow_bgnbd.log_likelihood, abs=1e-6)
    assert (per_customer < 0).all()


# -- rfm_summary by hand -------------------------------------------------------------------------------------
def test_rfm_summary_by_hand() -> None:
    tx = pl.DataFrame(
        {
            "who": ["a", "a", "a", "a", "a", "b", "c", "c"],
            "when": [
                dt.date(2024, 1, 1),
                dt.date(2024, 1, 1),  # same day as the first: merged into it
                dt.date(2024, 1, 8),
                dt.date(2024, 1, 8),  # same day: merged, amounts added (10 + 5)
                dt.date(2024, 1, 22),
                dt.date(2024, 1, 15),
                dt.date(2024, 1, 20),
                dt.date(2024, 2, 20),  # after the calibration end: ignored
            ],
            "spend": [100.0, 50.0, 10.0, 5.0, 45.0, 7.0, 3.0, 99.0],
        }
    )
    summary = rfm_summary(tx, "who", "when", "spend", dt.date(2024, 1, 29), unit="week")
    expected = pl.DataFrame(
        {
            "who": ["a", "b", "c"],
            "x": [2, 0, 0],
            "t_x": [3.0, 0.0, 0.0],
            "T": [4.0, 2.0, 9 / 7],
            "monetary_value": [30.0, 0.0, 0.0],  # (15 + 45) / 2: repeat days only
        }
    )
    assert_frame_equal(summary, expected)
    by_day = rfm_summary(tx, "who", "when", "spend", dt.date(2024, 1, 29), unit="day")
    assert by_day["t_x"].to_list() == [21.0, 0.0, 0.0]
    assert by_day["T"].to_list() == [28.0, 14.0, 9.0]
    # a customer whose first purchase is after the calibration end is not in the summary
    assert rfm_summary(tx, "who", "when", "spend", dt.date(2024, 1, 10))["who"].to_list() == ["a"]


def test_rfm_summary_accepts_timestamps_and_text_dates() -> None:
    stamps = pl.DataFrame(
        {
            "id": [1, 1, 1],
            "at": [
                dt.datetime(2024, 1, 1, 9),
                dt.datetime(2024, 1, 1, 23, 59),
                dt.datetime(2024, 1, 15, 0, 1),
            ],
            "amount": [1.0, 2.0, 4.0],
        }
    )
    text = stamps.with_columns(pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    for frame in (stamps, text):
        summary = rfm_summary(frame, "id", "at", "amount", dt.date(2024, 1, 29), unit="week")
        assert summary.row(0) == (1, 1, 2.0, 4.0, 4.0)


# -- spend and value -----------------------------------------------------------------------------------------
def test_expected_order_value_shrinks_towards_the_population_mean() -> None:
    gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, n_customers=946)
    population = 6.25 * 15.44 / (3.74 - 1)
    assert gg.population_mean_order_value == pytest.approx(population)
    values = expected_order_value(gg, [0, 1, 10, 1000], [0.0, 50.0, 50.0, 50.0])
    assert values[0] == pytest.approx(population)  # nothing known: the population mean
    assert population < values[1] < values[2] < values[3] < 50.0  # more purchases, closer to their own mean
    weight = 6.25 * 10 / (6.25 * 10 + 3.74 - 1)
    assert values[2] == pytest.approx((1 - weight) * population + weight * 50.0)


def test_clv_is_purchases_times_value_times_margin(
    cdnow_bgnbd: BGNBDParams, cdnow_gamma_gamma: GammaGammaParams
) -> None:
    x, t_x, T, m = (
        np.array([0, 2, 7]),
        np.array([0, 30.43, 29.43]),
        np.array([38.86] * 3),
        np.array([0, 22.35, 73.74]),
    )
    clv = customer_lifetime_value(cdnow_bgnbd, cdnow_gamma_gamma, x, t_x, T, m, horizon=52, margin=0.3)
    by_hand = (
        expected_purchases(cdnow_bgnbd, 52, x, t_x, T) * expected_order_value(cdnow_gamma_gamma, x, m) * 0.3
    )
    np.testing.assert_allclose(clv, by_hand)
    assert (clv > 0).all()


def test_fit_needs_repeat_customers() -> None:
    one_timers = pl.DataFrame(
        {"x": [0, 0, 0], "t_x": [0.0, 0.0, 0.0], "T": [5.0, 6.0, 7.0], "monetary_value": 0.0}
    )
    with pytest.raises(CLVFitError, match="repeat"):
        fit_bgnbd(one_timers)
    with pytest.raises(CLVFitError, match="repeat"):
        fit_gamma_gamma(one_timers)


# -- invariants of the formulas ------------------------------------------------------------------------------
positive = st.floats(min_value=0.05, max_value=20.0)


@settings(max_examples=150, deadline=None)
@given(
    r=positive,
    alpha=positive,
    a=positive,
    b=positive,
    x=st.integers(min_value=0, max_value=200),
    T=st.floats(min_value=0.5, max_value=200.0),
    share=st.floats(min_value=0.0, max_value=1.0),
    t=st.floats(min_value=0.1, max_value=200.0),
)
def test_forecasts_are_probabilities_and_grow_with_the_horizon(
    r: float, alpha: float, a: float, b: float, x: int, T: float, share: float, t: float
) -> None:
    params = BGNBDParams(r, alpha, a, b, 0.0, 0)
    t_x = share * T if x else 0.0
    alive = float(probability_alive(params, x, t_x, T))
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0  # BG/NBD customers can only drop out after a repeat purchase
    sooner, later = expected_purchases(params, [t, 2 * t], x, t_x, T)
    assert np.isfinite(sooner) and np.isfinite(later)
    assert 0.0 <= sooner <= later * (1 + 1e-6) + 1e-12  # equal, up to ₂F₁ rounding, once saturated


# -- the file entry point (triad clv fit) --------------------------------------------------------------------
def test_fit_transactions_file_on_cdnow_csv() -> None:
    result = fit_transactions_file(CDNOW, "customer_id", "date", "amount", CALIBRATION_END)
    assert set(result["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(result["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    bg, gg = result["bgnbd"], result["gamma_gamma"]
    assert [sig3(bg[k]) for k in ("r", "alpha", "a", "b")] == ["0.243", "4.41", "0.793", "2.43"]
    assert [sig3(gg[k]) for k in ("p", "q", "gamma")] == ["6.25", "3.74", "15.4"]
    assert result["n_customers"] == 2357
    assert result["n_repeat_customers"] == 946
    assert result["unit"] == "week" and result["calibration_end"] == "1997-09-30"
    assert all(isinstance(v, float) for v in [*bg.values(), *gg.values()])


def test_fit_transactions_file_reads_parquet_with_its_own_column_names(tmp_path: Path) -> None:
    frame = pl.read_csv(CDNOW, try_parse_dates=True).rename(
        {"customer_id": "Email", "date": "Day", "amount": "Total"}
    )
    path = tmp_path / "orders.parquet"
    frame.write_parquet(path)
    result = fit_transactions_file(path, "Email", "Day", "Total", CALIBRATION_END, unit="day")
    assert sig3(result["bgnbd"]["r"]) == "0.243"
    assert result["bgnbd"]["alpha"] == pytest.approx(4.4136 * 7, rel=1e-4)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(text)
    return path


GOOD_HEAD = "customer,day,total\n1,2024-01-01,10\n1,2024-01-05,12\n"


@pytest.mark.parametrize(
    ("body", "columns", "message"),
    [
        (
            GOOD_HEAD,
            ("customer", "date", "total"),
            r"column 'date' is not in the transactions \(columns found: customer, day, total\)",
        ),
        (
            GOOD_HEAD + "2,2024-13-01,5\n",
            ("customer", "day", "total"),
            r"column 'day' has '2024-13-01' on line 4, which is not a date",
        ),
        (
            GOOD_HEAD + "2,01/02/2024,5\n",
            ("customer", "day", "total"),
            r"column 'day' has '01/02/2024' on line 4",
        ),
        (
            GOOD_HEAD + "\n\n2,2024-02-30,5\n",  # blank lines are skipped but still counted
            ("customer", "day", "total"),
            r"column 'day' has '2024-02-30' on line 6",
        ),
        (GOOD_HEAD + "2,,5\n", ("customer", "day", "total"), r"column 'day' has an empty value on line 4"),
        (
            GOOD_HEAD + "2,2024-01-02,5\n3,2024-01-02,-4.50\n",
            ("customer", "day", "total"),
            r"column 'total' is negative \(-4\.5\) on line 5",
        ),
        (
            GOOD_HEAD + "2,2024-01-02,$5\n",
            ("customer", "day", "total"),
            r"column 'total' has '\$5' on line 4, which is not a number",
        ),
        (
            GOOD_HEAD + ",2024-01-02,5\n",
            ("customer", "day", "total"),
            r"column 'customer' is empty on line 4",
        ),
    ],
    ids=[
        "missing column",
        "impossible date",
        "ambiguous date",
        "after blank lines",
        "empty date",
        "negative amount",
        "currency sign",
        "no customer",
    ],
)
def test_fit_transactions_file_errors_name_the_column_and_line(
    tmp_path: Path, body: str, columns: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_transactions_file(_write(tmp_path, body), *columns, dt.date(2024, 2, 1))


def test_fit_transactions_file_rejects_other_inputs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        fit_transactions_file(tmp_path / "missing.csv", "c", "d", "a", dt.date(2024, 1, 1))
    excel = tmp_path / "orders.xlsx"
    excel.write_bytes(b"")
    with pytest.raises(ValueError, match="CSV .* or Parquet"):
        fit_transactions_file(excel, "c", "d", "a", dt.date(2024, 1, 1))
    with pytest.raises(ValueError, match="unit must be 'week' or 'day'"):
        fit_transactions_file(CDNOW, "customer_id", "date", "amount", CALIBRATION_END, "month")  # type: ignore
    with pytest.raises(CLVFitError, match="no transactions on or before the calibration end 1990-01-01"):
        fit_transactions_file(CDNOW, "customer_id", "date", "amount", dt.date(1990, 1, 1))
