#!/bin/bash
# The bundle that image/install.sh installs from: the Comptoir files a box needs, taken from a
# git commit (never from uncommitted files), plus the comptoir wheel built from them.
#
#   image/bundle.sh OUT_DIR [COMMIT]     COMMIT defaults to HEAD
#
# Both images use it: image/build.sh (Raspberry Pi) and tests/image/testimage.py (QEMU test
# image, which passes `git stash create` so a developer's edits are tried before committing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:?usage: image/bundle.sh OUT_DIR [COMMIT]}
commit=${2:-HEAD}
python=${PYTHON:-$repo/.venv/bin/python}
# What a box runs; tests, benches and docs stay out of the image.
paths=(appliance pyproject.toml README.md image systemd provisioning)

rm -rf "$out"
mkdir -p "$out"
git -C "$repo" archive --format=tar "$commit" -- "${paths[@]}" | tar -x -C "$out"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -a "$out/." "$build/"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$out/dist" "$build"
echo "bundle.sh: $(git -C "$repo" rev-parse --short "$commit") -> $out ($(basename "$out"/dist/*.whl))"
