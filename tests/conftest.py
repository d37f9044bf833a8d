"""Suite-wide settings.

Hypothesis draws its examples from a fixed seed by default, so that a run of the suite is
reproducible and a failure seen once is seen again; ``HYPOTHESIS_PROFILE=explore`` draws fresh
examples each run (what to use when hunting, beside the atheris targets in ``fuzz/``).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
