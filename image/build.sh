#!/bin/bash
# Build the Comptoir Raspberry Pi image: Raspberry Pi OS Lite (Bookworm, 64-bit) made by pi-gen
# at a pinned tag, plus image/stage-comptoir with the committed Comptoir source (git HEAD).
#
#   sudo image/build.sh            on a Debian host with pi-gen's dependencies installed
#   image/build.sh --docker        anywhere with Docker (privileged, binfmt_misc for arm64)
#
# Needs network (pi-gen, the Debian and Raspberry Pi archives, PyPI). The image lands in
# image/work/pi-gen/deploy/. Environment: PI_GEN_REF (pi-gen tag), PI_GEN_REPO, WORK.
# Not run by the tests (root, network, about an hour); see docs/image.md.
set -euo pipefail

PI_GEN_REPO=${PI_GEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}
PI_GEN_REF=${PI_GEN_REF:-2024-11-19-raspios-bookworm-arm64}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=${WORK:-$here/work}
pigen=$work/pi-gen

docker=0
case "${1:-}" in
	--docker) docker=1 ;;
	"") ;;
	*)
		echo "usage: $0 [--docker]" >&2
		exit 2
		;;
esac
if [ "$docker" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
	echo "build.sh: pi-gen needs root: run it with sudo, or pass --docker" >&2
	exit 2
fi
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	echo "build.sh: warning: uncommitted changes are NOT in the image (it holds git HEAD)" >&2
fi
version=$(git -C "$repo" describe --always --tags --dirty)

rm -rf "$pigen"
mkdir -p "$work"
git clone --depth 1 --branch "$PI_GEN_REF" "$PI_GEN_REPO" "$pigen"

# Our stage goes inside the pi-gen tree (build-docker.sh only sees that tree), with the source.
cp -a "$here/stage-comptoir" "$pigen/stage-comptoir"
files=$pigen/stage-comptoir/00-comptoir/files
mkdir -p "$files"
git -C "$repo" archive --format=tar --output="$files/comptoir.tar" HEAD
install -m 644 "$here/comptoir.txt.example" "$files/comptoir.txt.example"

# Only the Comptoir image is exported, not stage2's Lite image.
touch "$pigen/stage2/SKIP_IMAGES"
cp "$here/config" "$pigen/config"
echo "IMG_NAME=\"comptoir-$version\"" >>"$pigen/config"

cd "$pigen"
echo "build.sh: building comptoir-$version with pi-gen $PI_GEN_REF"
if [ "$docker" -eq 1 ]; then
	./build-docker.sh
else
	./build.sh
fi
ls -l "$pigen/deploy"
