"""Every frame of ``Results`` has the schema declared in ``fleetcalc.frames`` (the summary's
from the metric catalogue), and a frame that strays from its schema is an error."""

from __future__ import annotations

import polars as pl
import pytest

from fleetcalc.engine import evaluate
from fleetcalc.frames import PlanFrames, conform, result_frames, result_schemas
from fleetcalc.network import market_paths
from fleetcalc.plan import default_plans
from fleetcalc.scenario import load_scenario


@pytest.mark.parametrize(("paths", "failures"), [(1, "expected"), (3, "sampled")])
def test_every_results_frame_has_its_declared_schema(paths: int, failures: str) -> None:
    scenario = load_scenario(None).with_changes(horizon_days=120, paths=paths,
                                                failures=failures, seed=2)
    plans = [plan.with_order(0, quantity=25) for plan in default_plans()[:2]]
    results = evaluate(plans, scenario, breakevens=False)
    for name, schema in result_schemas(paths).items():
        frame = getattr(results, name)
        assert list(frame.schema.items()) == list(schema.items()), name
    assert results.summary.height == 2 and results.paths.height == 2 * paths


def test_a_frame_that_strays_from_its_schema_is_an_error() -> None:
    schema = {"plan": pl.String(), "day": pl.Int64()}
    frame = pl.DataFrame({"day": [1], "plan": ["a"]})
    assert conform(frame, schema, "daily").columns == ["plan", "day"]
    with pytest.raises(TypeError, match="daily"):
        conform(frame.with_columns(pl.col("day").cast(pl.Float64)), schema, "daily")
    with pytest.raises(TypeError, match="extra"):
        conform(frame.with_columns(extra=pl.lit(1.0)), schema, "daily")


def test_a_summary_row_without_a_catalogue_metric_is_an_error() -> None:
    scenario = load_scenario(None).with_changes(horizon_days=30)
    empty = pl.DataFrame()
    part = PlanFrames(summary={"plan": "x"}, daily=empty, orders=empty, tariff_lines=empty,
                      paths=empty, sites=empty)
    with pytest.raises(TypeError, match="units"):
        result_frames([part], scenario, market_paths(scenario))


def test_every_frame_of_results_has_a_declared_schema() -> None:
    # The schema test above walks the declared schemas: a frame added to Results without one
    # would pass it unseen.
    import dataclasses
    import typing

    from fleetcalc.engine import Results

    hints = typing.get_type_hints(Results)
    frames = {f.name for f in dataclasses.fields(Results) if hints[f.name] is pl.DataFrame}
    assert frames == set(result_schemas(1))
