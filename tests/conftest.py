"""Hypothesis profiles: ``dev`` (quick) and ``ci`` (>= 200 examples for kernel properties,
printing the reproduction blob), chosen by HYPOTHESIS_PROFILE (default: ci when CI is set,
else dev). ``deadline=None`` everywhere:
the first call of a jitted function compiles (or loads it from the cache)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# CI (which sets CI=true) runs the ci profile unless told otherwise.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)

# Parser properties run more examples than the ci profile's 200 (issue: >= 500 in CI).
PARSER_EXAMPLES = 500 if PROFILE == "ci" else 60
