"""``fleetcalc batch``: evaluate many plans under a grid of scenario variants, one tidy table out.

The work is cut into units, one per (plan file, grid variant), each evaluated alone, so its
numbers never depend on which other units ran, in what order, on how many processes or
machines. A finished unit is checkpointed at once as Parquet parts in ``<out>.parts/`` (named
by a digest of everything that determines it, and verified by a receipt of their digests), so
memory holds one unit at a time and ``--resume`` redoes only the units that are missing or
damaged. The final tables are the parts concatenated in plan-file order then variant order,
all written before any is renamed into place; the parts directory is removed after that. A run
holds a lock on ``<out>.lock`` for its life; Ctrl-C and SIGTERM stop it cleanly.

Output rows carry ``plan_file``, ``variant``, one ``grid_<key>`` column per swept field, then
every field of ``compare --json`` (``Results.records()``). ``--per-path`` adds a table with one
row per plan x variant x Monte Carlo path. Plans that fail (``InputError`` while loading or
evaluating) go to ``<out stem>.errors<out ext>`` next to ``--out`` and to stderr; the exit code
is then 2 while every other unit is still evaluated.

One module per concern, each importing only the public names of the others:

- ``grid``: the grid file -> scenario variants;
- ``units``: plan files read once, units (plan x variant), a unit's evaluation and error rows;
- ``store``: unit keys (plan, scenario and its series files, options, code and library
  versions) and the checkpoint parts with their receipts;
- ``progress``: the progress bar or log lines on stderr;
- ``runners``: this process, local worker processes (which die with it) or a Dask cluster;
- ``outputs``: checks of the output paths before the run, the tables committed after it;
- ``command``: the subcommand's options and a run from options to exit code.
"""

from fleetcalc.batch.command import add_arguments, run_batch
from fleetcalc.batch.grid import Variant, expand_grid
from fleetcalc.batch.outputs import errors_path
from fleetcalc.batch.store import PartStore, unit_key
from fleetcalc.batch.units import ERROR_COLUMNS, evaluate_unit

__all__ = ["ERROR_COLUMNS", "PartStore", "Variant", "add_arguments", "errors_path",
           "evaluate_unit", "expand_grid", "run_batch", "unit_key"]
