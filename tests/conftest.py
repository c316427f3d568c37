"""Suite-wide settings: hypothesis profiles for a shared, noisy machine."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Wall-clock deadlines flake on a shared 2-core machine; the properties, not the timings, are under test.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))
