"""Network model: hashprice vector, block production, retargets, subsidy and the halving day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc.network import btc_per_th_day, difficulty_from_hashrate, market_paths
from fleetcalc.scenario import BtcMarket, Network, Scenario
from kernels.reference import simulate_chain_reference, subsidy_sats_reference


def scenario(**network) -> Scenario:
    base = {"hashrate_ehs": 1000.0, "block_height": 930_000}
    base.update(network)
    return Scenario(start_date=dt.date(2027, 1, 1), horizon_days=60,
                    btc=BtcMarket(100_000.0), network=Network(**base))


def test_hashprice_test_vector() -> None:
    # DESIGN.md: D = 1e14, 3.125 BTC, USD 100,000 -> USD 62.864 per PH/s per day.
    usd_per_ph_day = btc_per_th_day(1e14, 3.125, 0.0) * 100_000 * 1000
    assert usd_per_ph_day == pytest.approx(62.8642738, rel=1e-8)


def test_subsidy_is_the_consensus_integer_shift() -> None:
    heights = np.array([0, 209_999, 210_000, 840_000, 1_050_000, 2_100_000, 6_720_000,
                        64 * 210_000, 100 * 210_000])
    expected = [5_000_000_000, 5_000_000_000, 2_500_000_000, 312_500_000, 156_250_000,
                4_882_812, 1, 0, 0]
    assert subsidy_sats_reference(heights).tolist() == expected


def test_constant_hashrate_gives_144_blocks_a_day_and_no_retarget_change() -> None:
    hashrate = np.full((1, 40), 800.0)
    chain = simulate_chain_reference(hashrate, difficulty_from_hashrate(800.0), 930_000, 0.0)
    np.testing.assert_allclose(chain["blocks"], 144.0, rtol=1e-12)
    np.testing.assert_allclose(chain["difficulty"], difficulty_from_hashrate(800.0), rtol=1e-12)


def test_ten_percent_more_hashrate_brings_the_retarget_forward_and_raises_difficulty() -> None:
    d0 = difficulty_from_hashrate(800.0)
    height0 = 2016 * 470  # an epoch starts today: it takes 2016 blocks to the next retarget
    chain = simulate_chain_reference(np.full((1, 20), 880.0), d0, height0, 0.0)
    blocks_per_day = 144 * 1.1
    retarget_day = int(2016 // blocks_per_day)  # 12.7 days -> on day 12, not day 14
    assert chain["difficulty"][0, retarget_day] == d0
    assert chain["difficulty"][0, retarget_day + 1] == pytest.approx(d0 * 1.1, rel=1e-9)
    assert chain["blocks"][0, 0] == pytest.approx(blocks_per_day, rel=1e-12)


def test_retarget_is_clamped_to_four_times() -> None:
    d0 = difficulty_from_hashrate(100.0)
    chain = simulate_chain_reference(np.full((1, 10), 1000.0), d0, 2016 * 470, 0.0)
    changed = chain["difficulty"][0][chain["difficulty"][0] != d0]
    # Ten times the hashrate: the first epoch takes a tenth of two weeks, but difficulty only
    # quadruples; the next epoch (2.5x too fast) then raises it 2.5x more.
    assert changed[0] == pytest.approx(4 * d0, rel=1e-12)
    assert changed.max() == pytest.approx(10 * d0, rel=1e-9)


def test_halving_day_mixes_both_subsidies_in_proportion() -> None:
    # 100 blocks before the halving at 144 blocks/day: 100 at 3.125, 44 at 1.5625.
    chain = simulate_chain_reference(np.full((1, 3), 800.0), difficulty_from_hashrate(800.0),
                           1_050_000 - 100, 0.0)
    mean_subsidy = (100 * 3.125 + 44 * 1.5625) / 144
    assert chain["subsidy_btc"][0, 0] == pytest.approx(mean_subsidy, rel=1e-9)
    assert chain["subsidy_btc"][0, 1] == 1.5625
    assert chain["halving_day"][0] == 0
    d = difficulty_from_hashrate(800.0)
    expected = 1e12 * 86_400 * mean_subsidy / (d * 2**32)
    assert chain["btc_per_th_day"][0, 0] == pytest.approx(expected, rel=1e-9)


def test_fees_add_to_every_block() -> None:
    market = market_paths(scenario(fees_btc_per_block=0.5, difficulty=1e14))
    assert market.btc_per_th_day[0, 0] == pytest.approx(btc_per_th_day(1e14, 3.125 + 0.5, 0))


@given(st.integers(1, 6), st.integers(0, 2**31))
def test_a_monte_carlo_path_does_not_depend_on_how_many_paths_run(paths: int, seed: int) -> None:
    base = scenario(annual_volatility=0.4, price_correlation=0.5)
    base = base.with_changes(btc=BtcMarket(80_000.0, 0.1, 0.6), seed=seed, horizon_days=30)
    small = market_paths(base.with_changes(paths=paths + 1))
    large = market_paths(base.with_changes(paths=paths + 3))
    np.testing.assert_array_equal(small.price_usd, large.price_usd[: paths + 1])
    np.testing.assert_array_equal(small.btc_per_th_day, large.btc_per_th_day[: paths + 1])


def test_monte_carlo_price_mean_follows_the_drift() -> None:
    base = scenario().with_changes(btc=BtcMarket(100_000.0, 0.2, 0.5), paths=4000,
                                   horizon_days=366, seed=5)
    market = market_paths(base)
    assert market.price_usd[:, 365].mean() == pytest.approx(120_000.0, rel=0.03)
    assert (market.price_usd[:, 0] == 100_000.0).all()
