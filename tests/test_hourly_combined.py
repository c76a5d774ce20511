"""Issue 15's kernel promise with every power feature at once: hourly prices, several modes,
sell-back and 4CP forced-off peak hours in one fleet (``tests/test_hourly.py`` draws each of
them at random, so a draw may leave some out). Kernel == the hour-by-hour NumPy reference
(1e-9), and the same bits on 1 and 2 threads for fleets of distinct rigs, not only the runs of
alike rigs ``test_hourly`` checks the bits on."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from kernels.reference import simulate_rigdays_reference
from tests.kernel_cases import PowerCase, digest, power_fleets, run_kernel
from tests.test_kernel import assert_close


def _everything_on(case: PowerCase) -> None:
    """Skip draws that leave a feature out: some rig on an hourly site with 2+ modes, some
    hour forced off (4CP) and some contracted energy that sells back (a positive credit)."""
    hourly_rigs = case.power.site_of >= 0
    assume(hourly_rigs.any())
    assume((case.power.mode_count[hourly_rigs] >= 2).any())
    assume(case.raw.forced_off.any())
    assume((case.raw.credit > 0).any())


@given(power_fleets(sell_back=True, alike=False), st.integers(1, 8), st.integers(1, 2))
def test_kernel_equals_reference_with_hourly_prices_modes_sell_back_and_4cp_together(
        case: PowerCase, block_rigs: int, threads: int) -> None:
    _everything_on(case)
    kernel = run_kernel(case.case.kwargs(), case.case.n_groups, threads=threads,
                        block_rigs=block_rigs, power=case.power)
    reference = simulate_rigdays_reference(**case.case.kwargs(), n_groups=case.case.n_groups,
                                           power=case.power, raw_hours=case.raw)
    for actual, expected in zip(kernel, reference, strict=True):
        assert_close(actual, expected)


@given(power_fleets(sell_back=True, alike=False), st.integers(1, 8))
def test_distinct_rigs_with_every_power_feature_give_the_same_bits_on_1_and_2_threads(
        case: PowerCase, block_rigs: int) -> None:
    _everything_on(case)
    one = run_kernel(case.case.kwargs(), case.case.n_groups, threads=1, block_rigs=block_rigs,
                     power=case.power)
    two = run_kernel(case.case.kwargs(), case.case.n_groups, threads=2, block_rigs=block_rigs,
                     power=case.power)
    assert digest(*one) == digest(*two)
