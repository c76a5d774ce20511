"""Property-based validation: generated and mutated plans, scenarios, CSV series and raw bytes.

Parsing either returns a valid object or raises ``InputError`` (never another exception); every
valid object survives a TOML round trip unchanged; the CLI on any generated file exits 0 or 2
with no traceback, and 0 with finite-or-null JSON when the inputs are valid.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fleetcalc.cli import main
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, load_plan, parse_plan, plan_to_toml
from fleetcalc.scenario import Scenario, load_scenario, parse_scenario, scenario_to_toml
from fleetcalc.series import HASHRATE_SERIES, PRICE_SERIES, load_series
from tests.conftest import PARSER_EXAMPLES
from tests.strategies import (
    Doc,
    mutated,
    plan_and_scenario_docs,
    plan_docs,
    scenario_docs,
)


def _round_trip_plan(plan: Plan) -> None:
    text = tomli_w.dumps(plan_to_toml(plan))
    assert parse_plan(tomllib.loads(text), "again.toml") == replace(plan, source="again.toml")


def _round_trip_scenario(scenario: Scenario) -> None:
    text = tomli_w.dumps(scenario_to_toml(scenario))
    again = parse_scenario(tomllib.loads(text), "again.toml")
    assert again == replace(scenario, source="again.toml")


def _parses_or_input_error(parse: Any, doc: Doc) -> Any:
    """The parsed object, or None after checking the InputError names the source."""
    try:
        return parse(doc, "fuzz.toml")
    except InputError as error:
        assert str(error).startswith("fuzz.toml")
        assert error.expected
        return None


@settings(max_examples=PARSER_EXAMPLES)
@given(plan_docs())
def test_valid_plans_parse_and_survive_a_toml_round_trip(doc: Doc) -> None:
    plan = parse_plan(doc, "fuzz.toml")
    assert len(plan.orders) == len(doc["orders"])
    _round_trip_plan(plan)


@settings(max_examples=PARSER_EXAMPLES)
@given(scenario_docs())
def test_valid_scenarios_parse_and_survive_a_toml_round_trip(doc: Doc) -> None:
    scenario = parse_scenario(doc, "fuzz.toml")
    assert scenario.horizon_days == doc["horizon_days"]
    _round_trip_scenario(scenario)


@settings(max_examples=PARSER_EXAMPLES)
@given(mutated(plan_docs()))
def test_mutated_plans_parse_or_raise_input_error(doc: Doc) -> None:
    plan = _parses_or_input_error(parse_plan, doc)
    if plan is not None:  # a mutation that kept the plan valid
        _round_trip_plan(plan)


@settings(max_examples=PARSER_EXAMPLES)
@given(mutated(scenario_docs()))
def test_mutated_scenarios_parse_or_raise_input_error(doc: Doc) -> None:
    scenario = _parses_or_input_error(parse_scenario, doc)
    if scenario is not None:
        _round_trip_scenario(scenario)


@st.composite
def corrupted_toml(draw: st.DrawFn) -> bytes:
    """A valid plan's TOML with a few random bytes written over it, or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    text = tomli_w.dumps(draw(plan_docs())).encode()
    at = draw(st.integers(0, len(text)))
    junk = draw(st.binary(min_size=1, max_size=8))
    return text[:at] + junk + text[at + draw(st.integers(0, 8)):]


@settings(max_examples=PARSER_EXAMPLES)
@given(corrupted_toml())
def test_random_bytes_as_a_plan_or_scenario_file_are_input_errors_or_valid(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.toml"
        path.write_bytes(data)
        for loader in (load_plan, load_scenario):
            try:
                loader(path)
            except InputError as error:
                assert error.source == str(path)


@st.composite
def series_files(draw: st.DrawFn) -> tuple[bytes, dt.date, int]:
    """A daily price CSV, sometimes valid, with random edits; the window asked of it."""
    start = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
    n_rows = draw(st.integers(0, 40))
    cells = st.one_of(st.floats(0.01, 1e9).map(repr), st.text(max_size=6),
                      st.sampled_from(["nan", "inf", "-1", "0", "1e400", ""]))
    lines = [draw(st.sampled_from(["date,price_usd", "date,price_usd", "date,price", ""]))]
    for i in range(n_rows):
        day = start + dt.timedelta(days=i + draw(st.sampled_from([0, 0, 0, 0, 1, -1])))
        value = draw(cells) if draw(st.integers(0, 9)) == 0 else repr(1000.0 + i)
        lines.append(f"{day},{value}")
    raw = "\n".join(lines).encode()
    if draw(st.integers(0, 9)) == 0:
        raw += draw(st.binary(max_size=10))
    return raw, start + dt.timedelta(days=draw(st.integers(0, 5))), draw(st.integers(1, 40))


@settings(max_examples=PARSER_EXAMPLES)
@given(series_files(), st.sampled_from([PRICE_SERIES, HASHRATE_SERIES]))
def test_csv_series_load_or_raise_input_error(file: tuple[bytes, dt.date, int], kind) -> None:
    raw, start, n_days = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "series.csv"
        path.write_bytes(raw)
        try:
            values = load_series(path, kind, start, n_days)
        except InputError as error:
            assert error.source == str(path)
        else:
            assert len(values) == n_days
            assert all(math.isfinite(v) and kind.lo <= v <= kind.hi for v in values)


def _no_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_no_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_non_finite(v) for v in value)
    return True


@st.composite
def cli_inputs(draw: st.DrawFn) -> tuple[Doc, Doc, bool]:
    """A plan and scenario pair for the CLI; one of them mutated unless ``valid``."""
    plan, scenario = draw(plan_and_scenario_docs())
    broken = draw(st.sampled_from(["none", "plan", "scenario"]))
    if broken == "plan":
        plan = draw(mutated(st.just(plan)))
    elif broken == "scenario":
        scenario = draw(mutated(st.just(scenario)))
    return plan, scenario, broken == "none"


# The profile's example count (this runs the whole evaluation); capsys is reset per example.
@settings(suppress_health_check=[*settings.default.suppress_health_check,
                                 HealthCheck.function_scoped_fixture])
@given(inputs=cli_inputs())
def test_cli_on_generated_files_exits_0_or_2_without_traceback(
    inputs: tuple[Doc, Doc, bool], capsys: pytest.CaptureFixture[str]
) -> None:
    plan, scenario, valid = inputs
    capsys.readouterr()
    with tempfile.TemporaryDirectory() as folder:
        plan_path, scenario_path = Path(folder) / "plan.toml", Path(folder) / "scenario.toml"
        plan_path.write_text(tomli_w.dumps(plan), encoding="utf-8")
        scenario_path.write_text(tomli_w.dumps(scenario), encoding="utf-8")
        code = main(["compare", str(plan_path), "--scenario", str(scenario_path), "--json"])
    out, err = capsys.readouterr()
    event(f"exit {code}")
    assert "Traceback" not in err
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("fleetcalc: error: ") and err.count("\n") == 1
        assert not valid, err
        return
    records = json.loads(out)
    assert len(records) == 1 and _no_non_finite(records)
    # Success prints nothing on stderr but the plan's warnings (implausible, valid inputs).
    assert err.splitlines() == [f"fleetcalc: warning: {w}" for w in records[0]["warnings"]]
