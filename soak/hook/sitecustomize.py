"""Loaded by every Python process of a soak run (PYTHONPATH): put it on the shared clock.

Only the soak's processes see this file; see `soak/clock.py` (copied here as `soak_clock`).
The service manager's side (`comptoir supervise`, and the updater `comptoir release apply` /
`recover` it starts) follows the simulated wall clock but keeps the machine's monotonic clock,
as systemd does: skipped idle hours must not read to the supervisor as units whose watchdog
went silent, and what the updater writes (its journal events) is dated like the rest.
"""

import sys

import soak_clock

soak_clock.install_from_env(elapsed=not {"release", "supervise"} & set(sys.argv[1:4]))
