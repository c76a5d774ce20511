"""The responsive network: the jitted chain against its NumPy reference on drawn networks, its
invariants, and how hashrate answers the BTC price."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fleetcalc.network import difficulty_from_hashrate
from fleetcalc.tiers import cohorts
from kernels.responsive import PATH_BLOCK, simulate_responsive
from kernels.responsive_reference import (
    RESPONSIVE_FIELDS,
    online_share,
    simulate_responsive_reference,
)

HALVING_2028 = 1_050_000


def run_nb(args: dict, threads: int = 1) -> dict[str, np.ndarray]:
    """The jitted chain (on one thread unless told) into fresh buffers, outputs keyed as the
    reference's."""
    shape = args["price_usd"].shape
    out = {name: np.empty(shape) for name in RESPONSIVE_FIELDS}
    halving_day = np.empty(shape[0], dtype=np.int64)
    simulate_responsive(**args, **out, halving_day=halving_day, threads=threads)
    return {**out, "halving_day": halving_day}


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def networks(draw, max_paths: int = 3, max_days: int = 150) -> dict:
    """Keyword arguments of the chain: a random installed base, price paths (daily moves up to
    10%), order noise, parameters over their whole allowed ranges."""
    n_paths = draw(st.integers(1, max_paths))
    n_days = draw(st.integers(1, max_days))
    n_tiers = draw(st.integers(1, 4))
    total_ehs = draw(_floats(10.0, 3000.0))
    shares = draw(hnp.arrays(np.float64, n_tiers, elements=_floats(0.01, 1.0)))
    # Each tier keeps a share of its machines that falls day by day (retirements).
    keep = np.cumprod(draw(hnp.arrays(np.float64, (n_days, n_tiers),
                                      elements=_floats(0.95, 1.0))), axis=0)
    start_share = np.ascontiguousarray(shares / shares.sum() * keep)
    moves = draw(hnp.arrays(np.float64, (n_paths, n_days), elements=_floats(-0.1, 0.1)))
    moves[:, 0] = 0.0
    price = np.ascontiguousarray(draw(_floats(1e3, 1e6)) * np.exp(np.cumsum(moves, axis=1)))
    noise = draw(hnp.arrays(np.float64, (n_paths, n_days), elements=_floats(0.2, 3.0)))
    lag_days = draw(st.integers(1, 60))
    cohort_of_order, cohort_j_per_th = cohorts(n_days, lag_days, draw(_floats(5.0, 30.0)),
                                               draw(_floats(0.0, 0.3)))
    height0 = draw(st.one_of(st.integers(HALVING_2028 - 20_000, HALVING_2028 + 10),
                             st.integers(0, 64 * 210_000 + 1000)))
    return {
        "price_usd": price, "order_noise": noise,
        "fees_btc": draw(hnp.arrays(np.float64, n_days, elements=_floats(0.0, 1.0))),
        "start_share": start_share, "hashrate0_ehs": total_ehs * draw(_floats(0.05, 1.0)),
        "start_j_per_th": draw(hnp.arrays(np.float64, n_tiers, elements=_floats(8.0, 60.0))),
        "cohort_of_order": cohort_of_order, "cohort_j_per_th": cohort_j_per_th,
        # Difficulty off the network's by up to x4 either way drives the retarget clamps.
        "difficulty0": difficulty_from_hashrate(total_ehs) * draw(_floats(0.25, 4.0)),
        "height0": height0, "pool_fee": draw(_floats(0.0, 0.5)),
        "power_median_usd_per_kwh": draw(_floats(0.005, 0.2)),
        "power_sigma": draw(_floats(0.1, 2.0)), "response_days": draw(_floats(1.0, 60.0)),
        "capex_usd_per_th": draw(_floats(1.0, 100.0)),
        "target_payback_days": draw(_floats(30.0, 3000.0)),
        "supply_ehs_per_day": draw(_floats(0.0, 5.0)), "lag_days": lag_days,
        "life_days": draw(st.integers(1, 3000)),
    }


def _flat_network(n_paths: int, n_days: int, **changes) -> dict:
    """A network of three tiers at a flat price, for the examples."""
    start_share = np.ascontiguousarray(np.tile([0.3, 0.4, 0.3], (n_days, 1)))
    cohort_of_order, cohort_j_per_th = cohorts(n_days, 30, 12.0, 0.1)
    args = {
        "price_usd": np.full((n_paths, n_days), 90_000.0),
        "order_noise": np.ones((n_paths, n_days)),
        "fees_btc": np.full(n_days, 0.02), "start_share": start_share, "hashrate0_ehs": 900.0,
        "start_j_per_th": np.array([15.0, 20.0, 30.0]), "cohort_of_order": cohort_of_order,
        "cohort_j_per_th": cohort_j_per_th, "difficulty0": difficulty_from_hashrate(900.0),
        "height0": 978_200, "pool_fee": 0.02, "power_median_usd_per_kwh": 0.05,
        "power_sigma": 0.5, "response_days": 30.0, "capex_usd_per_th": 24.0,
        "target_payback_days": 650.0, "supply_ehs_per_day": 1.2, "lag_days": 30,
        "life_days": 2192,
    }
    args.update(changes)
    return args


def _assert_equal_to_reference(args: dict) -> None:
    expected = simulate_responsive_reference(**args)
    actual = run_nb(args)
    for name in RESPONSIVE_FIELDS:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-9, atol=0.0,
                                   err_msg=name)
    np.testing.assert_array_equal(actual["halving_day"], expected["halving_day"])


@given(networks())
# A price that collapses 10% a day: the network goes dark, epochs stall, the clamp binds.
@example(_flat_network(2, 120, price_usd=90_000.0 * np.exp(-0.1 * np.arange(120))[None, :]
                       * np.ones((2, 1))))
# The 2028 halving on day 0 and an instant response: the day mixes both subsidies.
@example(_flat_network(1, 40, height0=HALVING_2028 - 50, response_days=1.0))
def test_jitted_chain_equals_numpy_reference(args) -> None:
    _assert_equal_to_reference(args)


@settings(max_examples=10)
@given(networks(max_paths=2 * PATH_BLOCK + 3, max_days=60))
def test_jitted_chain_equals_reference_over_several_path_blocks(args) -> None:
    _assert_equal_to_reference(args)


@settings(max_examples=10)
@given(networks(max_paths=PATH_BLOCK + 3, max_days=60))
def test_the_chain_on_two_threads_is_the_chain_on_one(args) -> None:
    one, two = run_nb(args, threads=1), run_nb(args, threads=2)
    for name in one:
        np.testing.assert_array_equal(two[name], one[name], err_msg=name)


@settings(max_examples=20)
@given(networks(max_paths=PATH_BLOCK + 3, max_days=60))
def test_a_path_is_the_same_whatever_paths_run_beside_it(args) -> None:
    # Paths run in lock-step blocks: a path's numbers must not depend on its block-mates.
    together = run_nb(args)
    for p in range(args["price_usd"].shape[0]):
        alone = run_nb({**args, "price_usd": args["price_usd"][p:p + 1].copy(),
                        "order_noise": args["order_noise"][p:p + 1].copy()})
        for name in RESPONSIVE_FIELDS:
            np.testing.assert_array_equal(alone[name][0], together[name][p], err_msg=name)


@given(networks())
def test_online_never_exceeds_installed_and_orders_stay_within_supply(args) -> None:
    out = run_nb(args)
    assert np.all(out["hashrate_ehs"] >= 0.0)
    assert np.all(out["hashrate_ehs"] <= out["installed_ehs"] * (1 + 1e-12) + 1e-9)
    assert np.all(out["ordered_ehs"] >= 0.0)
    assert np.all(out["ordered_ehs"] <= args["supply_ehs_per_day"])
    assert np.all(out["blocks"] >= 0.0)


def test_day_zero_runs_the_start_hashrate_on_every_path_whatever_its_price() -> None:
    price = np.array([[3e4], [9e4], [3e5]]) * np.ones((3, 50))
    out = run_nb(_flat_network(3, 50, price_usd=price))
    np.testing.assert_allclose(out["hashrate_ehs"][:, 0], 900.0, rtol=1e-12)
    # The base is one fact scaled per path: a higher price has more of it online, so less of
    # it installed.
    assert np.all(np.diff(out["installed_ehs"][:, 0]) < 0.0)


def test_no_supply_leaves_only_the_start_tiers_installed() -> None:
    args = _flat_network(1, 200, supply_ehs_per_day=0.0)
    installed = run_nb(args)["installed_ehs"][0]
    np.testing.assert_allclose(installed / installed[0], args["start_share"].sum(axis=1),
                               rtol=1e-12)


def test_orders_arrive_after_the_lag_and_retire_after_the_life() -> None:
    # A price so high every day orders the whole supply: the installed base grows by the supply
    # each day from day 1 (orders in flight) and shrinks again once the first ones retire.
    lag, life, supply = 30, 100, 2.0
    args = _flat_network(1, 200, price_usd=np.full((1, 200), 1e7), lag_days=lag,
                         life_days=life, supply_ehs_per_day=supply)
    base = run_nb({**args, "supply_ehs_per_day": 0.0})["installed_ehs"][0]
    installed = run_nb(args)["installed_ehs"][0] - base
    assert installed[0] == 0.0  # day 0 runs the installed base alone
    np.testing.assert_allclose(installed[1:life + 1], supply * np.arange(1, life + 1), rtol=1e-9)
    np.testing.assert_allclose(installed[life + 1:], supply * life, rtol=1e-9)


def test_miners_act_on_the_moving_average_of_hashprice() -> None:
    # Halve the price from day 10 on, difficulty left alone (no retarget within 12 days, height
    # mid-epoch): the hashprice miners act on closes 1/response_days of its gap a day, and each
    # tier runs its online share at that hashprice.
    n_days, response = 12, 4.0
    price = np.full((1, n_days), 90_000.0)
    price[0, 10:] = 45_000.0
    args = _flat_network(1, n_days, price_usd=price, response_days=response,
                         supply_ehs_per_day=0.0, height0=2016 * 490)
    out = run_nb(args)
    np.testing.assert_array_equal(out["difficulty"][0], args["difficulty0"])
    # Which tiers run answers the moving average of log hashprice (what orders answer, the
    # moving average of hashprice itself).
    before = 90_000.0 * out["btc_per_th_day"][0, 0] * (1 - 0.02)
    signal = before * 0.5 ** (1 - (1 - 1 / response) ** 2)
    j_per_th, share = args["start_j_per_th"], args["start_share"]
    online_then = (share[0] * online_share(before, j_per_th, 0.05, 0.5)).sum()
    online_now = (share[11] * online_share(signal, j_per_th, 0.05, 0.5)).sum()
    np.testing.assert_allclose(out["hashrate_ehs"][0, 11], 900.0 * online_now / online_then,
                               rtol=1e-9)


@given(hashprice=_floats(1e-4, 1.0), j_per_th=_floats(5.0, 60.0), factor=_floats(1.0, 10.0),
       median=_floats(0.005, 0.2), log_sd=_floats(0.1, 2.0))
def test_the_online_share_rises_with_hashprice_and_falls_with_joules(
    hashprice, j_per_th, factor, median, log_sd
) -> None:
    share = online_share(hashprice, j_per_th, median, log_sd)
    assert 0.0 <= share <= 1.0
    assert online_share(hashprice * factor, j_per_th, median, log_sd) >= share
    assert online_share(hashprice, j_per_th * factor, median, log_sd) <= share


def test_a_tier_at_its_breakeven_median_is_half_online() -> None:
    # Breakeven power price = hashprice / (0.024 x J/TH); at the median, half the tier runs.
    hashprice = 0.05 * 0.024 * 20.0
    assert float(online_share(hashprice, 20.0, 0.05, 0.5)) == pytest.approx(0.5, rel=1e-12)


@given(networks(max_days=120), st.data())
def test_a_higher_price_never_lowers_hashrate_until_the_chain_answers(args, data) -> None:
    """Raise the price from day s >= 1 on: every day from s until either network's difficulty
    or subsidy first changes has at least the hashrate of the lower path. (From day 0 the
    start itself changes: day 0 runs the scenario's hashrate at any price, from a smaller base
    when more of it runs.)

    Beyond that window the statement is false, in this model and on the real network: the
    extra hashrate raises the next difficulty (so the next epoch's hashprice, at the same
    price, is lower) and brings the halving earlier; see the README's design notes."""
    n_days = args["price_usd"].shape[1]
    assume(n_days > 1)
    s = data.draw(st.integers(1, n_days - 1))
    factor = data.draw(_floats(1.0, 3.0))
    higher = args["price_usd"].copy()
    higher[:, s:] *= factor
    low = run_nb(args)
    high = run_nb({**args, "price_usd": higher})
    for p in range(higher.shape[0]):
        end = n_days
        for out in (low, high):
            changed = ((out["difficulty"][p, s:] != out["difficulty"][p, s])
                       | (np.floor(out["height"][p, s:] / 210_000)
                          != np.floor(out["height"][p, s] / 210_000)))
            if changed.any():
                end = min(end, s + int(np.argmax(changed)))
        np.testing.assert_array_equal(high["hashrate_ehs"][p, :s], low["hashrate_ehs"][p, :s])
        assert np.all(high["hashrate_ehs"][p, s:end]
                      >= low["hashrate_ehs"][p, s:end] * (1 - 1e-12))
