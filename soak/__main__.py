"""`python -m soak`: run the soak (SOAK_DAYS, SOAK_MINUTES, SOAK_SEED; see docs/soak.md)."""

import sys

from soak.run import main

sys.exit(main())
