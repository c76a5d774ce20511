"""The Textual app of fleetcalc: compares purchase plans side by side and recomputes live.

It calls :mod:`fleetcalc.engine` only (``tui -> fleetcalc -> kernels``).
"""
