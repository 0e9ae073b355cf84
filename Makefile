# The two commands of the README: `make demo` and `make test`. Each prepares what it needs.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench format lock image-smoke image-update-smoke test-updates soak

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m appliance --config config/demo.toml demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Types: strict on core/, store/ and devices/, mypy's defaults elsewhere (pyproject.toml).
test: lint
	$(VENV)/bin/mypy
	$(PY) -m tests.image.security
	$(PY) -m pytest -m "not long"

# The long update scenarios: broken releases rolled back, the updater killed at each step, a
# power cut during the health gate (real bundles and processes, minutes; docs/updates.md).
test-updates: setup
	$(PY) -m pytest -m long tests/updates

# The whole box for a week of shop days with faults (docs/soak.md): SOAK_DAYS, SOAK_MINUTES,
# SOAK_SEED; writes soak-report.json. `make test` runs a one-day variant (tests/soak/).
soak: setup
	$(PY) -m soak

bench: setup
	$(PY) -m bench

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# image/constraints.txt: every Python package of a box at one version, with hashes, for both
# images' Pythons (3.11 Bookworm, 3.13 Trixie) and arm64 as well as x86-64 (docs/image.md).
UV := uv==0.13.8
lock: setup
	$(PY) -m pip install -q '$(UV)'
	$(VENV)/bin/uv pip compile pyproject.toml --extra kiosk --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command 'make lock' --quiet \
		--output-file image/constraints.txt

# The QEMU test image booted through the installer's whole job (root, minutes; docs/image.md).
image-smoke: setup
	$(PY) -m tests.image.smoke

# An update and a rollback inside the booted QEMU test image, over MQTT (root; docs/updates.md).
image-update-smoke: setup
	$(PY) -m tests.image.update_smoke
