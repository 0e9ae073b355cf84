#!/bin/bash
# Build the Comptoir Raspberry Pi image: Raspberry Pi OS Lite (64-bit) made by pi-gen at a tag
# pinned by commit, plus image/stage-comptoir, which runs image/install.sh (the one install step
# the QEMU test image runs too) on the committed Comptoir source (git HEAD).
#
#   sudo image/build.sh [--release trixie|bookworm]      on a Debian host with pi-gen's deps
#   image/build.sh --docker [--release trixie|bookworm]  anywhere with Docker (privileged)
#
# trixie (Python 3.13, the current Raspberry Pi OS) is the default; bookworm (Python 3.11) is kept
# working. Needs network (pi-gen, the Debian and Raspberry Pi archives, PyPI). The image lands in
# image/work/pi-gen/deploy/. Environment: PI_GEN_REPO, WORK. See docs/image.md.
set -euo pipefail

# pi-gen tag and the commit that tag named when it was checked (docs/image.md says how): a tag
# that moved is refused, so the same inputs keep giving the same image.
PI_GEN_TRIXIE="2026-06-18-raspios-trixie-arm64 ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5"
PI_GEN_BOOKWORM="2026-06-18-raspios-bookworm-arm64 d7a31c6aa09f4b867902c51da2b45807c0a1709e"
PI_GEN_REPO=${PI_GEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=${WORK:-$here/work}
pigen=$work/pi-gen

docker=0
release=trixie
while [ $# -gt 0 ]; do
	case "$1" in
		--docker) docker=1; shift ;;
		--release) release=${2:-}; shift 2 ;;
		*) echo "usage: $0 [--docker] [--release trixie|bookworm]" >&2; exit 2 ;;
	esac
done
case "$release" in
	trixie) read -r tag commit <<<"$PI_GEN_TRIXIE"; python_version=3.13 ;;
	bookworm) read -r tag commit <<<"$PI_GEN_BOOKWORM"; python_version=3.11 ;;
	*) echo "build.sh: --release is trixie or bookworm, not '$release'" >&2; exit 2 ;;
esac
if [ "$docker" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
	echo "build.sh: pi-gen needs root: run it with sudo, or pass --docker" >&2
	exit 2
fi
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	echo "build.sh: warning: uncommitted changes are NOT in the image (it holds git HEAD)" >&2
fi
version=$(git -C "$repo" describe --always --tags --dirty)
package_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/pyproject.toml")
# The release is named by its version alone (install.sh refuses more: updates compare it).
release_name=$package_version

rm -rf "$pigen"
mkdir -p "$work"
git clone --depth 1 --branch "$tag" "$PI_GEN_REPO" "$pigen"
got=$(git -C "$pigen" rev-parse HEAD)
if [ "$got" != "$commit" ]; then
	echo "build.sh: pi-gen tag $tag is now $got, not the checked $commit: check it, then update" \
		"PI_GEN_${release^^} in $0 and docs/image.md" >&2
	exit 1
fi

# Our stage goes inside the pi-gen tree (build-docker.sh only sees that tree), with the bundle.
cp -a "$here/stage-comptoir" "$pigen/stage-comptoir"
files=$pigen/stage-comptoir/00-comptoir/files
mkdir -p "$files"
"$here/bundle.sh" "$files/bundle" HEAD "$python_version" aarch64
echo "$release_name" >"$files/release"

# Only the Comptoir image is exported, not stage2's Lite image.
touch "$pigen/stage2/SKIP_IMAGES"
cp "$here/config" "$pigen/config"
{
	echo "RELEASE=\"$release\""
	echo "IMG_NAME=\"comptoir-$version-$release\""
} >>"$pigen/config"

cd "$pigen"
echo "build.sh: building comptoir-$version-$release with pi-gen $tag ($commit)"
if [ "$docker" -eq 1 ]; then
	./build-docker.sh
else
	./build.sh
fi
ls -l "$pigen/deploy"
