"""Unit keys and the checkpoint store ``<out>.parts/``.

A finished unit is checkpointed at once as two Parquet parts named by its key, so memory holds
one unit at a time and ``--resume`` redoes only the units whose checkpoints are missing.

The key is a digest of everything the unit's rows depend on (as dask's ``tokenize``): the plan
file's text and the bytes of its hourly price series, the scenario variant, the bytes of every
CSV series the scenario reads and the daily values taken from them, the options, the version of
the results, a digest of the code and the shipped data (catalog, tariffs, defaults), and the
versions of Python and the numeric libraries.
A part written under any other key is never read, so a resume after an edit of any of them
recomputes instead of mixing old rows in (or failing on a changed schema).

A checkpoint is trusted only whole: each part carries its key in its Parquet metadata, and a
receipt ``<key>.done.json``, written last, names the key and the SHA-256 of each part's bytes.
On resume a checkpoint whose receipt, parts or keys disagree (a part damaged, truncated or
copied over another) is reported by name and its unit evaluated again.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc import version

if TYPE_CHECKING:
    import polars as pl

    from fleetcalc.batch.grid import Variant
    from fleetcalc.batch.units import PlanFile
    from fleetcalc.plan import Plan
    from fleetcalc.scenario import Scenario

# Part files of another layout are never reused by --resume (2: receipts and keys inside).
PART_FORMAT_VERSION = 2
CONCAT_BATCH_FILES = 64
KINDS = ("paths", "summary")  # written in this order, then the receipt
KEY_METADATA = b"fleetcalc.unit_key"
RECEIPT_SUFFIX = ".done.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scenario_inputs(scenario: Scenario) -> dict[str, dict[str, str]]:
    """What a scenario reads besides its own fields: per CSV series, the SHA-256 of the file's
    bytes and of the daily values taken from it (the values alone would miss nothing the unit
    uses; the bytes are what the user edits)."""
    import numpy as np

    from fleetcalc.scenario import series_files

    values = {"btc.price_series": scenario.price_series_usd,
              "network.hashrate_series": scenario.hashrate_series_ehs}
    inputs: dict[str, dict[str, str]] = {}
    for key, path in series_files(scenario).items():
        try:
            file_digest = _sha256(path.read_bytes())
        except OSError as error:  # read a moment ago by the parser; a key must not guess
            file_digest = f"unreadable: {error.strerror}"
        series = values[key]
        values_digest = "" if series is None else _sha256(np.asarray(series, "<f8").tobytes())
        inputs[key] = {"file": str(path), "bytes": file_digest, "values": values_digest}
    return inputs


def plan_inputs(plan: Plan) -> dict[str, dict[str, str]]:
    """What a plan reads besides its own text: each site's hourly price series, by the SHA-256
    of the file's bytes (a plan file names the series; editing the series changes the rows)."""
    inputs = {}
    for index, site in enumerate(plan.sites):
        if site.power_price_series is None:
            continue
        path = Path(plan.source).parent / site.power_price_series
        try:
            file_digest = _sha256(path.read_bytes())
        except OSError as error:
            file_digest = f"unreadable: {error.strerror}"
        inputs[f"sites[{index}].power_price_series"] = {"file": str(path), "bytes": file_digest}
    return inputs


def key_document(plan_file: PlanFile, variant: Variant, breakevens: bool,
                 inputs: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """What a unit's rows depend on, as a JSON-able document (its digest is the unit key).

    ``inputs``: ``scenario_inputs(variant.scenario)``, when the caller has it already (a grid
    never changes the series, so a run computes it once)."""
    from fleetcalc.scenario import scenario_to_toml

    return {
        "format": PART_FORMAT_VERSION,
        "results_version": version.RESULTS_VERSION,
        "code": version.code_digest(),  # fleetcalc and kernels: source, catalog, tariffs, ...
        "runtime": version.runtime(),
        "file": plan_file.source,  # the name is in the rows
        "plan": plan_file.digest,
        "plan_inputs": plan_inputs(plan_file.plan),
        "variant": [variant.index, variant.values],
        "scenario": scenario_to_toml(variant.scenario),  # paths, seed and grid values included
        "scenario_inputs": scenario_inputs(variant.scenario) if inputs is None else inputs,
        "power": variant.power_usd_per_kwh,
        "breakevens": breakevens,
    }


def unit_key(plan_file: PlanFile, variant: Variant, breakevens: bool,
             inputs: dict[str, dict[str, str]] | None = None) -> str:
    """The unit's key: a hash of ``key_document``."""
    document = key_document(plan_file, variant, breakevens, inputs)
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _part_bytes(frame: pl.DataFrame, key: str) -> bytes:
    """``frame`` as Parquet with ``key`` in the file's key-value metadata. Written by pyarrow
    into memory: a part is one unit's rows, and its digest is taken from these very bytes."""
    import pyarrow.parquet as pq

    table = frame.to_arrow()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           KEY_METADATA: key.encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _key_inside(data: bytes) -> str | None:
    import pyarrow.parquet as pq

    try:
        found = pq.read_metadata(io.BytesIO(data)).metadata or {}
    except Exception:  # pyarrow raises several types for a damaged footer
        return None
    value = found.get(KEY_METADATA)
    return value.decode(errors="replace") if value is not None else None


@dataclass(frozen=True)
class PartStore:
    """``<out>.parts/``: per unit ``<key>.paths.parquet``, ``<key>.summary.parquet`` and the
    receipt ``<key>.done.json``, each written atomically; the receipt marks the unit done."""

    directory: Path

    def part(self, key: str, kind: str) -> Path:
        return self.directory / f"{key}.{kind}.parquet"

    def summary(self, key: str) -> Path:
        return self.part(key, "summary")

    def paths(self, key: str) -> Path:
        return self.part(key, "paths")

    def receipt(self, key: str) -> Path:
        return self.directory / f"{key}{RECEIPT_SUFFIX}"

    def files(self, key: str) -> list[Path]:
        return [*(self.part(key, kind) for kind in KINDS), self.receipt(key)]

    def save(self, key: str, summary: pl.DataFrame, paths: pl.DataFrame) -> None:
        """Checkpoint a unit: its parts, then the receipt. Not fsynced: after a power cut a
        file may be empty, and ``problem`` finds it (three fsyncs per unit would make this
        process, which saves every unit, the bottleneck of a run on fast workers)."""
        from fleetcalc.io import write_bytes_atomic

        digests = {}
        for kind, frame in (("paths", paths), ("summary", summary)):
            data = _part_bytes(frame, key)
            write_bytes_atomic(data, self.part(key, kind), make_parents=True, durable=False)
            digests[kind] = _sha256(data)
        receipt = {"key": key, "format": PART_FORMAT_VERSION, "sha256": digests}
        write_bytes_atomic(json.dumps(receipt, sort_keys=True).encode() + b"\n",
                           self.receipt(key), durable=False)

    def done(self, key: str) -> bool:
        """The unit's receipt exists (``problem`` says whether its parts match it)."""
        return self.receipt(key).is_file()

    def _receipt_problem(self, key: str) -> tuple[dict[str, str] | None, str]:
        receipt = self.receipt(key)
        try:
            document = json.loads(receipt.read_text(encoding="utf-8"))
            digests = document["sha256"]
            named = document["key"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            return None, f"{receipt}: unreadable ({type(error).__name__})"
        if named != key or document.get("format") != PART_FORMAT_VERSION:
            return None, f"{receipt}: is the receipt of another unit ({named})"
        return digests, ""

    def problem(self, key: str) -> str | None:
        """Why the done unit ``key``'s checkpoint cannot be trusted, naming the file, or None
        when its receipt names ``key`` and each part holds the bytes the receipt lists and
        carries ``key`` inside."""
        digests, problem = self._receipt_problem(key)
        if digests is None:
            return problem
        for kind in KINDS:
            part = self.part(key, kind)
            try:
                data = part.read_bytes()
            except OSError as error:
                return f"{part}: unreadable ({error.strerror or error})"
            inside = _key_inside(data)
            if inside is not None and inside != key:
                return f"{part}: holds the rows of another unit ({inside})"
            if _sha256(data) != digests.get(kind) or inside is None:
                return f"{part}: damaged (its bytes differ from those written)"
        return None

    def discard(self, key: str) -> None:
        """Remove the unit's checkpoint: parts and receipt."""
        for path in self.files(key):
            path.unlink(missing_ok=True)

    def concat(self, keys: list[str], kind: str) -> pl.DataFrame:
        """The parts of ``keys`` in that order, scanned lazily a batch of files at a time.

        One scan over thousands of small files (or a concat of thousands of scans) holds
        hundreds of MB of per-file buffers; batches keep that to a few MB and each batch is
        rechunked so the result is not thousands of one-row chunks.
        """
        import polars as pl

        files = [self.part(k, kind) for k in keys]
        batches = [
            pl.scan_parquet(files[i : i + CONCAT_BATCH_FILES]).collect().rechunk()
            for i in range(0, len(files), CONCAT_BATCH_FILES)
        ]
        return pl.concat(batches, how="vertical", rechunk=True)
