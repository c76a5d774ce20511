"""Unit keys and the checkpoint store ``<out>.parts/``.

A finished unit is checkpointed at once as two Parquet parts named by its key, so memory holds
one unit at a time and ``--resume`` redoes only the units whose parts are missing. The key is a
digest of everything the unit's rows depend on; a part written under any other key is never
read, so a resume after an edit of the plan, the scenario, the options or the code recomputes
instead of mixing old rows in (or failing on a changed schema).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc import version

if TYPE_CHECKING:
    import polars as pl

    from fleetcalc.batch.grid import Variant
    from fleetcalc.batch.units import PlanFile

# Part files of another layout are never reused by --resume.
PART_FORMAT_VERSION = 1
CONCAT_BATCH_FILES = 64


def key_document(plan_file: PlanFile, variant: Variant, breakevens: bool) -> dict[str, Any]:
    """What a unit's rows depend on, as a JSON-able document (its digest is the unit key)."""
    from fleetcalc.scenario import scenario_to_toml

    return {
        "format": PART_FORMAT_VERSION,
        "results_version": version.RESULTS_VERSION,
        "code": version.code_digest(),
        "file": plan_file.source,  # the name is in the rows
        "plan": plan_file.digest,
        "variant": [variant.index, variant.values],
        "scenario": scenario_to_toml(variant.scenario),  # paths, seed and grid values included
        "power": variant.power_usd_per_kwh,
        "breakevens": breakevens,
    }


def unit_key(plan_file: PlanFile, variant: Variant, breakevens: bool) -> str:
    """The unit's key: a hash of ``key_document``."""
    text = json.dumps(key_document(plan_file, variant, breakevens), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PartStore:
    """``<out>.parts/``: per unit ``<key>.paths.parquet`` then ``<key>.summary.parquet``, each
    written atomically; the summary part, written last, marks the unit done."""

    directory: Path

    def summary(self, key: str) -> Path:
        return self.directory / f"{key}.summary.parquet"

    def paths(self, key: str) -> Path:
        return self.directory / f"{key}.paths.parquet"

    def done(self, key: str) -> bool:
        return self.summary(key).is_file() and self.paths(key).is_file()

    def save(self, key: str, summary: pl.DataFrame, paths: pl.DataFrame) -> None:
        from fleetcalc.io import write_table_atomic

        write_table_atomic(paths, self.paths(key), "--out")
        write_table_atomic(summary, self.summary(key), "--out")

    def concat(self, keys: list[str], kind: str) -> pl.DataFrame:
        """The parts of ``keys`` in that order, scanned lazily a batch of files at a time.

        One scan over thousands of small files (or a concat of thousands of scans) holds
        hundreds of MB of per-file buffers; batches keep that to a few MB and each batch is
        rechunked so the result is not thousands of one-row chunks.
        """
        import polars as pl

        files = [self.summary(k) if kind == "summary" else self.paths(k) for k in keys]
        batches = [
            pl.scan_parquet(files[i : i + CONCAT_BATCH_FILES]).collect().rechunk()
            for i in range(0, len(files), CONCAT_BATCH_FILES)
        ]
        return pl.concat(batches, how="vertical", rechunk=True)
