"""Finance metrics: NPV, IRR, payback, on generated cash flows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fleetcalc import finance

# Inflows of at least a cent: smaller ones vanish against the capex in float64.
inflows = hnp.arrays(np.float64, st.integers(30, 800),
                     elements=st.one_of(st.just(0.0), st.floats(0.01, 1e5)))


@st.composite
def investments(draw):
    """Capex on day 0 then non-negative inflows: a plan whose return can be positive."""
    flows = draw(inflows)
    flows[0] = -draw(st.floats(1e3, 1e7))
    return flows


@given(investments(), st.floats(-0.5, 2.0), st.floats(0.001, 1.0))
def test_npv_falls_as_the_discount_rate_rises(flows, rate, step) -> None:
    assume(flows[1:].sum() > 0)
    assert finance.npv(flows, rate + step) < finance.npv(flows, rate)


@given(investments())
def test_irr_makes_npv_zero(flows) -> None:
    rate = finance.irr(flows[None, :])[0]
    if np.isnan(rate):
        # No IRR: NPV has the same sign at both ends of the searched range.
        lo, hi = np.expm1(finance.IRR_LOG_RANGE)
        assert np.sign(finance.npv(flows, lo)) == np.sign(finance.npv(flows, hi))
    else:
        scale = np.abs(flows).sum()
        assert abs(finance.npv(flows, rate)) <= 1e-7 * scale


def test_irr_of_a_known_investment() -> None:
    flows = np.zeros(366)
    flows[0], flows[365] = -100.0, 110.0
    assert finance.irr(flows[None, :])[0] == pytest.approx(0.10, abs=1e-9)


@given(hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-1e4, 1e4)))
def test_payback_day_is_the_first_day_cumulative_cash_turns_non_negative(flows) -> None:
    day = finance.payback_day(flows[None, :])[0]
    cumulative = np.cumsum(flows)
    if not (cumulative < 0).any():
        assert day == 0
    elif day == -1:
        first_negative = int(np.argmax(cumulative < 0))
        assert (cumulative[first_negative:] < 0).all()
    else:
        assert cumulative[day] >= 0 and (cumulative[:day] < 0).any()
        first_negative = int(np.argmax(cumulative < 0))
        assert (cumulative[first_negative:day] < 0).all()


def test_illinois_root_finds_roots_of_kinked_monotone_functions() -> None:
    def kinked(x: np.ndarray) -> np.ndarray:
        return np.maximum(x - 1.0, 0.0) * 3.0 + x - 2.5

    lo, hi = np.zeros(2), np.array([10.0, 5.0])
    root = finance.illinois_root(lambda x, rows: kinked(x), lo, hi, kinked(lo), kinked(hi))
    np.testing.assert_allclose(kinked(root), 0.0, atol=1e-8)


def test_safe_ratio_is_nan_where_the_denominator_is_zero() -> None:
    out = finance.safe_ratio(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
    assert np.isnan(out[0]) and out[1] == 0.5


def test_safe_ratio_of_a_vanishing_denominator_is_nan() -> None:
    out = finance.safe_ratio(np.array([1e10]), np.array([1e-310]))
    assert np.isnan(out[0])
