"""Write N plan files for the batch benchmark: variations of the four default plans.

    python benchmarks/make_batch_plans.py /tmp/plans200 --count 200 --grid /tmp/grid3x3.toml
    fleetcalc batch /tmp/plans200 --grid /tmp/grid3x3.toml --paths 100 --seed 7 --out out.parquet

Plan i takes default plan ``i % 4`` and scales its order quantities (50-100%, so the site's
capacity still holds), its unit prices (80-120%) and sets the site power price (0.03-0.08
USD/kWh). The values come from a fixed-seed generator, so the same command always writes the
same files. ``--grid`` also writes the benchmark's 3 x 3 grid (BTC price x network growth);
keep it outside the plan folder, whose every *.toml is read as a plan.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import tomli_w

from fleetcalc.plan import default_plans, parse_plan, plan_to_toml

GRID_3X3 = {
    "btc": {"price_usd": [60_000.0, 85_000.0, 120_000.0]},
    "network": {"monthly_growth": [0.0, 0.01, 0.03]},
}


def make_plans(folder: Path, count: int, seed: int = 2026) -> list[Path]:
    """Write ``count`` plan files into ``folder``; return their paths."""
    rng = np.random.default_rng(seed)
    bases = default_plans()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        base = bases[i % len(bases)]
        quantity_factor = rng.uniform(0.5, 1.0)
        price_factor = rng.uniform(0.8, 1.2)
        orders = tuple(
            dataclasses.replace(
                order, quantity=max(1, round(order.quantity * quantity_factor)),
                unit_price_usd=(None if order.unit_price_usd is None
                                else round(order.unit_price_usd * price_factor, 2)),
                usd_per_th=(None if order.usd_per_th is None
                            else round(order.usd_per_th * price_factor, 4)),
            )
            for order in base.orders
        )
        plan = dataclasses.replace(
            base, name=f"{base.name} #{i:03d}", orders=orders,
        ).with_site(power_usd_per_kwh=round(float(rng.uniform(0.03, 0.08)), 4))
        path = folder / f"plan-{i:03d}.toml"
        document = plan_to_toml(plan)
        parse_plan(document, str(path))  # every generated plan must be valid
        path.write_text(tomli_w.dumps(document))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--grid", type=Path, help="also write the 3 x 3 grid file here")
    args = parser.parse_args()
    paths = make_plans(args.folder, args.count)
    print(f"wrote {len(paths)} plans to {args.folder}")
    if args.grid is not None:
        if args.grid.resolve().parent == args.folder.resolve():
            parser.error("--grid must not be inside the plan folder")
        args.grid.write_text(tomli_w.dumps(GRID_3X3))
        print(f"wrote the 3 x 3 grid to {args.grid}")


if __name__ == "__main__":
    main()
