"""Tariff schedule data, override semantics and the landed-cost join."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fleetcalc.errors import InputError
from fleetcalc.scenario import load_tariff_overrides
from fleetcalc.tariffs import (
    ASSUMED_FROM,
    ASSUMPTION_CAVEAT,
    ORDER_TARIFF_SCHEMA,
    SECTION_301_FORCED_LABOR,
    TARIFF_SCHEMA,
    TariffOverride,
    apply_overrides,
    landed_costs,
    load_schedule,
    shipped_overrides_path,
    stack_on,
)

D = dt.date

# Stacked duty (% of customs value) by entry window, copied from the reference's
# tariff_totals.csv (cells that are plain numbers). Columns: CN, MY, ID, TH, VN, KZ, US.
ORIGINS = ("CN", "MY", "ID", "TH", "VN", "KZ", "US")
REFERENCE_TOTALS_PCT = [
    (D(2018, 6, 8), D(2018, 8, 22), (2.6, 2.6, 2.6, 2.6, 2.6, 2.6, 0)),
    (D(2018, 8, 23), D(2025, 2, 3), (27.6, 2.6, 2.6, 2.6, 2.6, 2.6, 0)),
    (D(2025, 2, 4), D(2025, 3, 3), (37.6, 2.6, 2.6, 2.6, 2.6, 2.6, 0)),
    (D(2025, 3, 4), D(2025, 4, 4), (47.6, 2.6, 2.6, 2.6, 2.6, 2.6, 0)),
    (D(2025, 4, 5), D(2025, 4, 8), (57.6, 12.6, 12.6, 12.6, 12.6, 12.6, 0)),
    (D(2025, 4, 9), D(2025, 4, 9), (131.6, 12.6, 12.6, 12.6, 12.6, 12.6, 0)),
    (D(2025, 4, 10), D(2025, 5, 13), (172.6, 12.6, 12.6, 12.6, 12.6, 12.6, 0)),
    (D(2025, 5, 14), D(2025, 8, 6), (57.6, 12.6, 12.6, 12.6, 12.6, 12.6, 0)),
    (D(2025, 8, 7), D(2025, 11, 9), (57.6, 21.6, 21.6, 21.6, 22.6, 27.6, 0)),
    (D(2025, 11, 10), D(2026, 2, 23), (47.6, 21.6, 21.6, 21.6, 22.6, 27.6, 0)),
    (D(2026, 2, 24), D(2026, 7, 23), (37.6, 12.6, 12.6, 12.6, 12.6, 12.6, 0)),
]


def total(schedule: pl.DataFrame, origin: str, on: dt.date) -> float:
    return float(stack_on(schedule, origin, on)["rate"].sum())


def order_frame(rows: list[dict[str, object]]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, schema=ORDER_TARIFF_SCHEMA)


def one_order(origin: str, on: dt.date, index: int = 0) -> dict[str, object]:
    """100 S21 XP units at the Bitmain shop price; freight and install are test values."""
    return {
        "order_index": index, "tariff_origin": origin, "import_date": on, "quantity": 100,
        "customs_value_usd": 4590.0, "freight_usd": 40.0, "install_usd": 25.0,
        "hashrate_th": 270.0,
    }


def test_schedule_rows_name_a_legal_basis_and_rates_are_fractions() -> None:
    # The loader's rules (origins, programs, statuses, sources, overlaps) are each shown
    # failing in tests/test_catalog.py; this is the content.
    schedule = load_schedule()
    assert (schedule["legal_basis"].str.len_chars() > 0).all()  # no loader rule covers it
    # Rates are fractions: the largest ever charged is China's 125 % reciprocal rate.
    assert schedule["rate"].min() >= 0.0 and schedule["rate"].max() == 1.25
    assert schedule.filter(pl.col("origin") == "US")["rate"].to_list() == [0.0]


@pytest.mark.parametrize(("start", "end", "totals_pct"), REFERENCE_TOTALS_PCT)
def test_stacked_totals_match_reference_windows(
    start: dt.date, end: dt.date, totals_pct: tuple[float, ...]
) -> None:
    schedule = load_schedule()
    middle = start + (end - start) / 2
    for origin, expected_pct in zip(ORIGINS, totals_pct, strict=True):
        for day in (start, middle, end):
            assert total(schedule, origin, day) == pytest.approx(expected_pct / 100, abs=1e-12), (
                origin, day)


def test_after_section_122_the_shipped_rates_are_the_floor() -> None:
    # Reference's last window: US 0 is the only plain number; the proposed Section 301
    # forced-labor rates are unverified and not in the shipped rows (they ship as an optional
    # overrides file), so the rest is the floor: MFN, plus Section 301 25 % for China.
    schedule = load_schedule()
    for on in (D(2026, 7, 24), D(2027, 6, 1), D(2031, 12, 31)):
        assert total(schedule, "US", on) == 0.0
        assert total(schedule, "CN", on) == pytest.approx(0.276)
        for origin in ("MY", "ID", "TH", "VN", "KZ", "DE"):
            assert total(schedule, origin, on) == pytest.approx(0.026)


IMPORTED = ("CN", "MY", "ID", "TH", "VN", "KZ", "DE", "SG")


@pytest.mark.parametrize("on", [ASSUMED_FROM, D(2026, 12, 15), D(2030, 1, 1)])
def test_every_row_for_an_import_from_2026_07_24_on_is_an_assumption(on: dt.date) -> None:
    assert D(2026, 7, 24) == ASSUMED_FROM
    schedule = load_schedule()
    for origin in IMPORTED:
        stack = stack_on(schedule, origin, on)
        assert stack.height > 0 and (stack["status"] == "assumption").all(), (origin, on)
    # A US-made rig is no import: its duty is 0 whatever the import regime.
    assert stack_on(schedule, "US", on)["status"].to_list() == ["in_force"]


def test_the_day_before_the_verified_rows_apply() -> None:
    schedule = load_schedule()
    for origin in ("CN", "MY", "ID", "TH", "VN", "KZ"):
        assert (stack_on(schedule, origin, D(2026, 7, 23))["status"] == "in_force").all()


@given(origin=st.sampled_from([*IMPORTED, "US"]),
       on=st.dates(min_value=D(2025, 11, 1), max_value=D(2032, 12, 31)))
def test_imports_are_flagged_exactly_from_2026_07_24(origin: str, on: dt.date) -> None:
    per_order, _ = landed_costs(order_frame([one_order(origin, on)]), load_schedule())
    flagged = per_order.collect()["tariff_assumption"].item()
    # Origins without their own rows also use the assumed 10 % baseline until 2026-02-23.
    star_baseline = origin in ("DE", "SG") and on <= D(2026, 2, 23)
    assert flagged == (origin != "US" and (on >= ASSUMED_FROM or star_baseline))


def test_caveat_names_both_assumption_windows_and_the_pending_section_301_action() -> None:
    assumed = load_schedule().filter(pl.col("status") == "assumption")
    dates = set(assumed["effective_from"]) | set(assumed["effective_to"].drop_nulls())
    for day in dates:
        assert day.isoformat() in ASSUMPTION_CAVEAT, day
    assert "2026-07-23" in ASSUMPTION_CAVEAT  # the last day Section 122 applied
    for words in ("Section 301", "forced-labor", "2026-06-02", "10-12.5%",
                  SECTION_301_FORCED_LABOR):
        assert words in ASSUMPTION_CAVEAT
    assert "; " not in ASSUMPTION_CAVEAT  # results join assumption lists with "; "


def test_default_plans_importing_in_december_2026_are_flagged_with_the_caveat() -> None:
    import fleetcalc

    summary = fleetcalc.evaluate(breakevens=False).summary
    for plan, flagged, assumptions in summary.select(
            "plan", "tariff_assumption", "assumptions").rows():
        us_built = plan.endswith("US-built")
        assert flagged == (not us_built), plan
        assert (ASSUMPTION_CAVEAT in assumptions) == (not us_built), plan


def test_china_stack_differs_before_and_after_scotus() -> None:
    schedule = load_schedule()
    june_2025 = stack_on(schedule, "CN", D(2025, 6, 1))
    march_2026 = stack_on(schedule, "CN", D(2026, 3, 1))
    assert list(june_2025.columns) == list(TARIFF_SCHEMA)
    assert june_2025["rate"].sum() == pytest.approx(0.576)
    assert march_2026["rate"].sum() == pytest.approx(0.376)
    assert set(june_2025["program"]) == {"mfn", "section_301", "fentanyl", "reciprocal"}
    assert set(march_2026["program"]) == {"mfn", "section_301", "section_122"}


def test_origin_without_rows_uses_default_rows() -> None:
    schedule = load_schedule()
    on = D(2025, 6, 1)
    germany = stack_on(schedule, "DE", on)
    assert set(germany["origin"]) == {"*"}
    assert germany.drop("origin").equals(stack_on(schedule, "*", on).drop("origin"))
    assert germany["rate"].sum() == pytest.approx(0.126)
    per_order, _ = landed_costs(order_frame([one_order("DE", D(2025, 9, 1))]), schedule)
    row = per_order.collect().row(0, named=True)
    assert row["tariff_rate"] == pytest.approx(0.126)
    assert row["tariff_assumption"]  # the post-2025-08-07 default baseline is an assumption


def test_same_order_from_china_and_us_differs_by_the_tariff() -> None:
    on = D(2025, 6, 1)
    orders = order_frame([one_order("CN", on, 0), one_order("US", on, 1)])
    per_order, per_program = landed_costs(orders, load_schedule())
    china, us = per_order.collect().sort("order_index").iter_rows(named=True)
    assert us["tariffs_usd"] == 0.0 and us["tariff_rate"] == 0.0
    assert china["tariff_rate"] == pytest.approx(0.576)
    assert china["landed_cost_usd"] - us["landed_cost_usd"] == pytest.approx(
        china["tariffs_usd"], rel=1e-12)
    assert us["landed_cost_usd_per_unit"] == 4590.0 + 40.0 + 25.0
    assert china["landed_usd_per_th"] == pytest.approx(china["landed_cost_usd_per_unit"] / 270.0)
    china_programs = per_program.collect().filter(pl.col("order_index") == 0)
    assert china_programs["tariff_usd"].sum() == pytest.approx(china["tariffs_usd"])
    assert not china["tariff_assumption"]


def test_per_order_keeps_inputs_order_and_orders_with_nothing_in_force() -> None:
    rows = [one_order("MY", D(2026, 3, 1), 7), one_order("CN", D(2010, 1, 1), 3)]
    orders = order_frame(rows).with_columns(plan=pl.lit("p"))
    per_order, per_program = landed_costs(orders, load_schedule())
    frame = per_order.collect()
    assert frame["order_index"].to_list() == [7, 3]
    assert frame["plan"].to_list() == ["p", "p"]
    before_schedule = frame.row(1, named=True)
    assert before_schedule["tariff_rate"] == 0.0 and not before_schedule["tariff_assumption"]
    assert set(per_program.collect()["order_index"]) == {7}
    assert per_program.collect_schema().names() == [
        "order_index", "program", "rate", "status", "source", "tariff_usd_per_unit", "tariff_usd"]


def test_missing_order_column_is_an_error() -> None:
    orders = order_frame([one_order("MY", D(2026, 3, 1))]).drop("freight_usd")
    with pytest.raises(ValueError, match="freight_usd"):
        landed_costs(orders, load_schedule())


def test_override_replaces_same_program_from_its_start() -> None:
    schedule = apply_overrides(load_schedule(), [
        TariffOverride("MY", "reciprocal", 0.40, D(2025, 9, 1)),
    ])
    assert total(schedule, "MY", D(2025, 8, 31)) == pytest.approx(0.216)
    assert total(schedule, "MY", D(2025, 9, 1)) == pytest.approx(0.426)
    # Open-ended: still in force after the shipped row's SCOTUS end, stacked on Section 122.
    assert total(schedule, "MY", D(2026, 3, 1)) == pytest.approx(0.526)
    assert "override" in set(stack_on(schedule, "MY", D(2025, 9, 1))["status"])
    assert total(schedule, "ID", D(2025, 9, 1)) == pytest.approx(0.216)  # other origins untouched


def test_bounded_override_replaces_program_from_its_start_on() -> None:
    schedule = apply_overrides(load_schedule(), [
        TariffOverride("MY", "reciprocal", 0.40, D(2025, 9, 1), D(2025, 9, 30)),
    ])
    assert total(schedule, "MY", D(2025, 9, 30)) == pytest.approx(0.426)
    # The shipped row was truncated at 2025-08-31, so nothing resumes after the override.
    assert total(schedule, "MY", D(2025, 10, 15)) == pytest.approx(0.026)


def test_override_starting_with_a_row_drops_it() -> None:
    schedule = apply_overrides(load_schedule(), [
        TariffOverride("MY", "reciprocal", 0.30, D(2025, 8, 7)),
    ])
    recip = schedule.filter((pl.col("origin") == "MY") & (pl.col("program") == "reciprocal"))
    assert recip["rate"].to_list() == [0.10, 0.30]
    assert recip["effective_to"].to_list() == [D(2025, 8, 6), None]


def test_override_of_new_program_stacks() -> None:
    # The reference's "40.1 % if the 12.5 % forced-labor Section 301 action is final" scenario.
    schedule = apply_overrides(load_schedule(), [
        TariffOverride("CN", "section_301_forced_labor", 0.125, D(2026, 7, 24)),
    ])
    assert total(schedule, "CN", D(2026, 7, 23)) == pytest.approx(0.376)
    assert total(schedule, "CN", D(2026, 8, 1)) == pytest.approx(0.401)


def test_override_for_origin_without_rows_keeps_default_programs() -> None:
    schedule = apply_overrides(load_schedule(), [
        TariffOverride("DE", "reciprocal", 0.15, D(2025, 9, 1)),
    ])
    assert total(schedule, "DE", D(2025, 9, 15)) == pytest.approx(0.176)  # MFN kept
    assert total(schedule, "DE", D(2025, 6, 1)) == pytest.approx(0.126)
    assert total(schedule, "FR", D(2025, 9, 15)) == pytest.approx(0.126)  # still the * rows


def test_invalid_override_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        apply_overrides(load_schedule(), [
            TariffOverride("MY", "reciprocal", 0.1, D(2026, 1, 2), D(2026, 1, 1)),
        ])


origins = st.sampled_from(["CN", "MY", "ID", "TH", "VN", "KZ", "US", "DE"])
dates = st.dates(min_value=D(2018, 1, 1), max_value=D(2028, 12, 31))
money = st.floats(min_value=0.0, max_value=20_000.0)
bumps = st.floats(min_value=0.0, max_value=2.0)
order_rows = st.lists(
    st.fixed_dictionaries({
        "tariff_origin": origins, "import_date": dates,
        "quantity": st.integers(min_value=1, max_value=5000), "customs_value_usd": money,
        "freight_usd": money, "install_usd": money,
        "hashrate_th": st.floats(min_value=1.0, max_value=2000.0),
    }),
    min_size=1, max_size=8,
)


@st.composite
def rows_and_bump(draw: st.DrawFn) -> tuple[list[dict[str, object]], TariffOverride]:
    """Orders plus one rate increase: one shipped row's rate raised over its own interval, or a
    new program stacked on an origin and dates the orders use (so the bump usually bites)."""
    rows = draw(order_rows)
    schedule = load_schedule()
    if draw(st.booleans()):
        row = schedule.row(draw(st.integers(0, schedule.height - 1)), named=True)
        return rows, TariffOverride(row["origin"], row["program"], row["rate"] + draw(bumps),
                                    row["effective_from"], row["effective_to"])
    target = draw(st.sampled_from(rows))
    start = draw(st.dates(min_value=D(2018, 1, 1), max_value=target["import_date"]))
    end = draw(st.none() | st.dates(min_value=target["import_date"], max_value=D(2029, 12, 31)))
    return rows, TariffOverride(target["tariff_origin"], "what_if", draw(bumps), start, end)


@given(case=rows_and_bump())
# Found by hypothesis: an override that gave DE its only row used to hide DE's MFN duty.
@example(case=(
    [{"tariff_origin": "DE", "import_date": D(2025, 1, 1), "quantity": 1,
      "customs_value_usd": 1000.0, "freight_usd": 0.0, "install_usd": 0.0, "hashrate_th": 1.0}],
    TariffOverride("DE", "what_if", 0.0, D(2018, 1, 1)),
))
def test_landed_cost_is_monotone_in_every_tariff_rate(
    case: tuple[list[dict[str, object]], TariffOverride],
) -> None:
    rows, bump = case
    orders = order_frame([{"order_index": i, **row} for i, row in enumerate(rows)])
    base = load_schedule()
    before, _ = landed_costs(orders, base)
    after, _ = landed_costs(orders, apply_overrides(base, [bump]))
    old = before.collect()["landed_cost_usd"]
    new = after.collect()["landed_cost_usd"]
    # Summing the same rates in another order may move the last bit.
    assert (new >= old - 1e-9 * (1.0 + old.abs())).all()


def test_forced_labor_overrides_file_loads() -> None:
    shipped = load_tariff_overrides()
    assert shipped.source == str(shipped_overrides_path())
    assert shipped_overrides_path().name == SECTION_301_FORCED_LABOR
    rates = {o.origin: o.rate for o in shipped.overrides}
    assert rates == {"CN": 0.125, "VN": 0.125, "ID": 0.10, "MY": 0.125, "TH": 0.125, "KZ": 0.125}
    assert {o.program for o in shipped.overrides} == {"section_301_forced_labor"}
    assert {o.effective_from for o in shipped.overrides} == {ASSUMED_FROM}
    assert all(o.effective_to is None for o in shipped.overrides)
    assert len(shipped.assumptions) == 1 and "UNVERIFIED" in shipped.assumptions[0]
    text = shipped_overrides_path().read_text()
    assert "greenwich-mercantile.com" in text and "rbtfl.xyz" in text and "ASSUMPTION" in text


def test_forced_labor_overrides_stack_on_the_shipped_rows_from_2026_07_24() -> None:
    schedule = apply_overrides(load_schedule(), load_tariff_overrides().overrides)
    expected = {"CN": 0.401, "VN": 0.151, "ID": 0.126, "MY": 0.151, "TH": 0.151, "KZ": 0.151,
                "US": 0.0, "DE": 0.026}
    for origin, rate in expected.items():
        assert total(schedule, origin, D(2026, 7, 24)) == pytest.approx(rate, abs=1e-12)
        before = total(load_schedule(), origin, D(2026, 7, 23))
        assert total(schedule, origin, D(2026, 7, 23)) == pytest.approx(before, abs=1e-12)


def test_forced_labor_overrides_apply_to_an_evaluation() -> None:
    import fleetcalc
    from fleetcalc.plan import default_plans
    from fleetcalc.scenario import load_scenario

    plan = default_plans()[0]  # 6,806 Malaysia-built S23 at USD 5,844.84, imported 2026-12-15
    order = plan.orders[0]
    assert (order.origin, order.unit_price_usd) == ("MY", 5844.84)
    base = load_scenario(None)
    scenario = load_tariff_overrides().add_to(base)
    assert scenario.assumptions[:len(base.assumptions)] == base.assumptions
    assert scenario.assumptions[-1] == load_tariff_overrides().assumptions[0]
    row = fleetcalc.evaluate([plan], scenario, breakevens=False).summary.row(0, named=True)
    customs_usd = order.quantity * order.unit_price_usd
    assert row["tariffs_usd"] == pytest.approx((0.026 + 0.125) * customs_usd, rel=1e-12)
    assert row["tariff_assumption"]


@pytest.mark.parametrize(("text", "where", "expected"), [
    ("name = 'x'\n", ": name: got 'name'", "only the keys assumptions, tariff_overrides"),
    ("[[tariff_overrides]]\norigin = 'MY'\nprogram = 'x'\nrate = -1\n"
     "effective_from = 2027-01-01\n", ": tariff_overrides[0].rate: got -1", "[0, 10]"),
    ("[[tariff_overrides]]\norigin = 'Malaysia'\nprogram = 'x'\nrate = 0.1\n"
     "effective_from = 2027-01-01\n", ": tariff_overrides[0].origin", "ISO 3166"),
])
def test_a_bad_overrides_file_is_an_input_error(
    tmp_path, text: str, where: str, expected: str,
) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_tariff_overrides(path)
    assert str(caught.value).startswith(f"{path}{where}")
    assert expected in str(caught.value)


def test_the_tariffs_command_lists_an_origin_an_override_adds(tmp_path, capsys) -> None:
    # The origins shown come from the schedule (with the scenario's overrides), not from a list
    # of their own: an override for India makes India a row.
    import json

    import tomli_w

    from fleetcalc.cli import main
    from fleetcalc.scenario import load_scenario, scenario_to_toml

    document = scenario_to_toml(load_scenario(None))
    document["tariff_overrides"] = [{"origin": "IN", "program": "reciprocal", "rate": 0.25,
                                     "effective_from": dt.date(2026, 1, 1)}]
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(tomli_w.dumps(document))
    assert main(["tariffs", "--json", "--on", "2026-12-15", "--scenario", str(scenario)]) == 0
    rows = {row["origin"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"CN", "MY", "US", "IN"} <= set(rows)
    assert any(p["program"] == "reciprocal" and p["rate"] == 0.25
               for p in rows["IN"]["programs"])
