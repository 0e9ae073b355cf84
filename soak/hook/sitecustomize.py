"""Loaded by every Python process of a soak run (PYTHONPATH): put it on the shared clock.

Only the soak's processes see this file; see `soak/clock.py` (copied here as `soak_clock`).
"""

import soak_clock

soak_clock.install_from_env()
