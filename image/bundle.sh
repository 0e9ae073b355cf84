#!/bin/bash
# The bundle that image/install.sh installs from: the Comptoir files a box needs, taken from a
# git commit (never from uncommitted files), plus the comptoir wheel built from them.
#
#   image/bundle.sh OUT_DIR [COMMIT] [PYTHON_VERSION ARCH]     COMMIT defaults to HEAD
#
# With PYTHON_VERSION and ARCH (3.13 aarch64, 3.11 aarch64, 3.13 x86_64), the wheels of
# image/constraints.txt for that target are downloaded here, hash-checked, into OUT_DIR/wheels:
# install.sh then installs with no network at all (the build host's network, proxy and CA
# certificates are not the chroot's).
#
# Both images use it: image/build.sh (Raspberry Pi) and tests/image/testimage.py (QEMU test
# image, which passes `git stash create` so a developer's edits are tried before committing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:?usage: image/bundle.sh OUT_DIR [COMMIT]}
commit=${2:-HEAD}
wheels_python=${3:-}
wheels_arch=${4:-}
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
if [ -n "$wheels_python" ]; then
	abi=cp${wheels_python/./}
	platforms=()
	for glibc in 2_41 2_39 2_36 2_34 2_31 2_28 2_27 2_24 2_17; do
		platforms+=(--platform "manylinux_${glibc}_$wheels_arch")
	done
	"$python" -m pip download --quiet --no-deps --require-hashes --only-binary :all: \
		--python-version "$wheels_python" --implementation cp --abi "$abi" --abi abi3 --abi none \
		"${platforms[@]}" --platform "manylinux2014_$wheels_arch" --platform any \
		--requirement "$out/image/constraints.txt" --dest "$out/wheels"
fi
echo "bundle.sh: $(git -C "$repo" rev-parse --short "$commit") -> $out ($(basename "$out"/dist/*.whl))"
