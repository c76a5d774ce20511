"""What the forms call each plan and scenario key.

Keyed by ``table.key`` (``key`` for the top level). A key with no entry here still gets a
field, labelled from its name and unit suffix (``transmission_usd_per_kw_year`` reads
"transmission (USD/kW/year)"), so a key added to a plan or scenario class shows up in the app
with no code; an entry only makes it read better.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    # plan
    "name": "Name",
    "exclude_origins": "Excluded origins",
    "assumptions": "Assumptions",
    "site.name": "Site name",
    "site.power_usd_per_kwh": "Power price (USD/kWh)",
    "site.hosting_usd_per_kwh": "Hosting (USD/kWh)",
    "site.capacity_mw": "Site capacity (MW)",
    "site.uptime": "Uptime (share)",
    "site.curtail_when_unprofitable": "Curtail when unprofitable",
    "site.power_price_series": "Hourly prices (CSV file)",
    "site.power_adder_usd_per_kwh": "Adder on market (USD/kWh)",
    "site.power_contract": "Contract",
    "site.sell_back": "Sell curtailed power back",
    "site.four_cp": "Off at 4CP peaks",
    "site.four_cp_peaks": "4CP peak times",
    "site.transmission_usd_per_kw_year": "Transmission (USD/kW-year)",
    "site.hosting_usd_per_kw_month": "Hosting (USD/kW-month)",
    "site.take_or_pay_share": "Take-or-pay (share)",
    "site.pue": "PUE",
    "site.build": "Build basis (plan or site)",
    "site.build_usd_per_mw": "Build cost (USD/MW)",
    "site.fixed_opex_usd_per_mw_month": "Fixed opex (USD/MW-month)",
    "finance.discount_rate": "Discount rate (per year)",
    "finance.residual": "Resale at horizon",
    "finance.residual_fraction": "Resale share (fixed)",
    "finance.hodl_fraction": "BTC kept (share)",
    "orders.quantity": "Quantity (units)",
    "orders.unit_price_usd": "Unit price (USD)",
    "orders.usd_per_th": "Or price per TH/s (USD)",
    "orders.import_date": "Import date (tariffs)",
    "orders.delivery_date": "Delivery (first mining)",
    "orders.hashrate_th": "Custom hashrate (TH/s)",
    "orders.power_w": "Custom power (W)",
    "orders.cooling": "Cooling",
    "orders.annual_degradation": "Degradation (per year)",
    "orders.annual_failure_rate": "Failures (per unit-year)",
    "orders.repair_days": "Repair time (days)",
    "orders.repair_cost_usd": "Repair cost (USD)",
    "orders.service_life_years": "Service life (years)",
    "orders.freight_usd_per_unit": "Freight (USD/unit)",
    "orders.install_usd_per_unit": "Install (USD/unit)",
    "orders.site": "Site (name, several sites)",
    "orders.order_date": "Order date (deposit)",
    "orders.deposit_share": "Deposit (share of price)",
    "orders.balance_days_before_import": "Balance, days before import",
    "orders.shipped_by": "Shipped by",
    "orders.modes": "Modes it may switch to",
    "finance.debt_share": "Debt (share of capex)",
    "finance.debt_rate": "Loan rate (per year)",
    "finance.debt_term_years": "Loan term (years)",
    "finance.tax_rate": "Tax rate",
    "finance.depreciation": "Depreciation method",
    "finance.depreciation_years": "Depreciation (years)",
    "finance.bonus_depreciation": "Bonus depreciation (share)",
    # scenario
    "start_date": "Start date",
    "horizon_days": "Horizon (days)",
    "seed": "Random seed",
    "paths": "Monte Carlo paths",
    "failures": "Failures",
    "btc.price_usd": "BTC price at start (USD)",
    "btc.annual_drift": "BTC drift (per year)",
    "btc.annual_volatility": "BTC volatility (per year)",
    "btc.price_series": "BTC price series (CSV)",
    "network.hashrate_ehs": "Network hashrate (EH/s)",
    "network.hashrate_series": "Hashrate series (CSV)",
    "network.difficulty": "Difficulty at start",
    "network.monthly_growth": "Hashrate growth (per month)",
    "network.annual_volatility": "Hashrate vol. (per year)",
    "network.price_correlation": "Hashrate-price correlation",
    "network.block_height": "Block height at start",
    "network.fees_btc_per_block": "Fees (BTC per block)",
    "network.pool_fee": "Pool fee (share)",
    "network.model": "Network model",
    "network.power_median_usd_per_kwh": "Median power (USD/kWh)",
    "network.power_price_log_sd": "Miners' power price log-sd",
    "network.online_response_days": "Online response (days)",
    "network.capex_usd_per_th": "New machines (USD/TH)",
    "network.target_payback_days": "Target payback (days)",
    "network.supply_ehs_per_month": "Supply (EH/s per month)",
    "network.order_lag_days": "Order lag (days)",
    "network.service_life_years": "Service life (years)",
    "network.frontier_j_per_th": "Frontier efficiency (J/TH)",
    "network.frontier_improvement_per_year": "Frontier gain (per year)",
    "network.order_volatility": "Order volatility",
    "origin_risk.deemed": "Origin risk: deemed origin",
    "origin_risk.us_assembled_deemed": "US-assembled deemed too",
}

# What a blank field means, where it is not simply "none" or the field's default value.
BLANKS: dict[str, str] = {
    "site.name": "blank: one unnamed [site]",
    "site.power_price_series": "blank: one price (a CSV file, relative to the plan)",
    "site.power_contract": "blank: market with hourly prices, else fixed",
    "site.four_cp_peaks": "blank: each month's highest-price hour",
    "orders.unit_price_usd": "blank: from the USD/TH below",
    "orders.usd_per_th": "blank: the unit price above",
    "orders.site": "blank: the plan's only site",
    "orders.order_date": "blank: the start date",
    "orders.deposit_share": "blank: 0.3",
    "orders.balance_days_before_import": "blank: 30",
    "orders.shipped_by": "sea",
    "orders.modes": "blank: the mode above only",
    "site.build": "plan: the MW used; site: all of it",
    "finance.residual_fraction": "blank: 0.1 with fixed resale, none at market",
    "finance.debt_rate": "needed with debt",
    "finance.bonus_depreciation": "blank: US rule by order date",
    "network.difficulty": "blank: from the hashrate",
    "network.frontier_j_per_th": "blank: from the start date",
    "btc.price_series": "blank: none (a CSV file)",
    "network.hashrate_series": "blank: none (a CSV file)",
}


def blank_meaning(table: str, key: str) -> str | None:
    """What leaving ``[table].key`` blank means, if ``BLANKS`` says."""
    return BLANKS.get(f"{table}.{key}" if table else key)


# Unit suffixes of key names, longest first, with how a label shows them.
_UNITS = (
    ("_usd_per_kw_year", "USD/kW/year"), ("_usd_per_kwh", "USD/kWh"), ("_usd_per_th", "USD/TH"),
    ("_usd_per_unit", "USD/unit"), ("_usd", "USD"), ("_mw", "MW"), ("_kw", "kW"), ("_w", "W"),
    ("_th", "TH/s"), ("_ehs", "EH/s"), ("_days", "days"), ("_years", "years"),
    ("_fraction", "share"), ("_share", "share"),
)


def label(table: str, key: str) -> str:
    """The form label of ``[table].key``: the entry in ``LABELS``, else one made from the key."""
    known = LABELS.get(f"{table}.{key}" if table else key)
    if known is not None:
        return known
    for suffix, unit in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            words = key.removesuffix(suffix).replace("_", " ")
            return f"{words[:1].upper()}{words[1:]} ({unit})"
    words = key.replace("_", " ")
    return f"{words[:1].upper()}{words[1:]}"
