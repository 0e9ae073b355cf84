#!/bin/bash
# The one install step: turns a Debian root file system into a Comptoir box. Both images run it
# inside their root (pi-gen's on_chroot for the Raspberry Pi image, a chroot hook of mmdebstrap
# for the QEMU test image), so the two cannot drift. As root, inside the target:
#
#   BUNDLE/image/install.sh --target pi|test [--release NAME] [--boot DIR] [--data-label LABEL]
#
# BUNDLE is `git archive` of this repository plus dist/comptoir-*.whl (image/bundle.sh makes it).
# It installs: the Debian packages (image/packages, plus packages-pi or packages-test), the
# `comptoir` user and its groups, the first release in /opt/comptoir/releases/NAME/venv (pinned
# by image/constraints.txt with hashes) with /opt/comptoir/current pointing at it, /etc/comptoir
# and /var/lib/comptoir (private), the units (enabled), the polkit rule, journald and console
# settings, and comptoir.txt.example on the boot partition. The fstab line mounts the ext4 file
# system labelled comptoir-data (--data-label) on /var/lib/comptoir (options: docs/image.md);
# comptoir-data-partition.service makes it at the first boot of a fresh card. Safe to run again.
set -euo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bundle=$(cd "$(dirname "$0")/.." && pwd)
target=""
release=""
boot=/boot/firmware
data_label=comptoir-data
while [ $# -gt 0 ]; do
	case "$1" in
		--target) target=$2; shift 2 ;;
		--release) release=$2; shift 2 ;;
		--boot) boot=$2; shift 2 ;;
		--data-label) data_label=$2; shift 2 ;;
		*) echo "install.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
	esac
done
case "$target" in
	pi | test) ;;
	*) echo "install.sh: --target pi or --target test is required" >&2; exit 2 ;;
esac
# The release folder is named by its version: an update compares it with the bundle's to refuse a
# downgrade (docs/updates.md), so a build name such as 0.1.0-1a2b3c4d would refuse every update.
if [ -n "$release" ] && ! [[ $release =~ ^[0-9]+(\.[0-9]+){0,3}((a|b|rc)[0-9]+)?$ ]]; then
	echo "install.sh: --release $release is not a release version such as 0.1.0 or 0.2.0rc1" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: run it as root inside the image's root file system" >&2
	exit 2
fi
shopt -s nullglob
wheels=("$bundle"/dist/comptoir-*.whl)
if [ ${#wheels[@]} -ne 1 ]; then
	echo "install.sh: expected one dist/comptoir-*.whl in $bundle (image/bundle.sh builds it)" >&2
	exit 2
fi
wheel=${wheels[0]}
if [ -z "$release" ]; then # comptoir-0.1.0-py3-none-any.whl -> 0.1.0
	release=$(basename "$wheel" | cut -d- -f2)
fi
say() { echo "install.sh: $*"; }

# -- Debian packages ------------------------------------------------------------------------------
packages() { sed -e 's/#.*//' "$@" | tr -s ' \n' '\n' | grep -v '^$'; }
mapfile -t wanted < <(packages "$bundle/image/packages" "$bundle/image/packages-$target")
say "Debian packages: ${wanted[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${wanted[@]}"
apt-get clean

# -- the service user -----------------------------------------------------------------------------
for group in dialout gpio video render input audio systemd-journal; do
	getent group "$group" >/dev/null || groupadd --system "$group"
done
id -u comptoir >/dev/null 2>&1 ||
	useradd --system --user-group --home-dir /var/lib/comptoir --no-create-home \
		--shell /usr/sbin/nologin comptoir
usermod -aG dialout,gpio,video,render,input,audio comptoir
install -d -o comptoir -g comptoir -m 750 /var/lib/comptoir
install -d -o root -g comptoir -m 750 /etc/comptoir

# -- the first release ----------------------------------------------------------------------------
home=/opt/comptoir
venv=$home/releases/$release/venv
say "release $release in $home/releases/$release"
# The agent installs the next releases beside this one (docs/updates.md): the folder is its.
install -d -o comptoir -g comptoir -m 755 "$home" "$home/releases"
rm -rf "$home/releases/$release"
python3 -m venv --system-site-packages "$venv"
# Exactly the locked versions, each checked against its hash; then Comptoir itself, no network.
offline=()
if [ -d "$bundle/wheels" ]; then # downloaded by bundle.sh on the build host
	offline=(--no-index --find-links "$bundle/wheels")
fi
"$venv/bin/pip" install --quiet --no-cache-dir --require-hashes --no-deps "${offline[@]}" \
	--requirement "$bundle/image/constraints.txt"
"$venv/bin/pip" install --quiet --no-cache-dir --no-deps --no-index "$wheel"
"$venv/bin/pip" check
"$venv/bin/comptoir" version
ln -sfn "releases/$release" "$home/current.new"
mv -T "$home/current.new" "$home/current"
echo "$(date -u +%FT%TZ)" >"$home/releases/$release/COMPLETE"
# The updater's code at boot and for the first update: this (known-good) release.
ln -sfn "releases/$release" "$home/updater.new"
mv -T "$home/updater.new" "$home/updater"
chown -R comptoir:comptoir "$home/releases/$release"
chown -h comptoir:comptoir "$home/current" "$home/updater"

# -- units and system settings --------------------------------------------------------------------
install -m 644 "$bundle"/systemd/comptoir-*.service /etc/systemd/system/
install -d -m 755 /etc/polkit-1/rules.d
install -m 644 "$bundle/provisioning/polkit/50-comptoir.rules" /etc/polkit-1/rules.d/
cp -r --no-preserve=ownership "$bundle/image/rootfs/." /
if [ -d "$bundle/image/$target/rootfs" ]; then
	cp -r --no-preserve=ownership "$bundle/image/$target/rootfs/." /
fi
install -d -m 2755 -g systemd-journal /var/log/journal
# The screen belongs to the kiosk: no login prompt on tty1.
systemctl mask getty@tty1.service
# The data partition, made at the first boot by comptoir-data-partition (both images). nofail:
# a card without it still boots, its data on the root (after systemd's 90 s wait for the device:
# under emulation udev may take 45 s to see a partition of the root's own card).
sed -i '\#[[:space:]]/var/lib/comptoir[[:space:]]#d' /etc/fstab
echo "LABEL=$data_label /var/lib/comptoir ext4 defaults,nofail,noatime,nodev,nosuid,noexec,commit=5,errors=remount-ro 0 2" >>/etc/fstab
install -d -m 755 /var/lib/misc
install -d -m 755 "$boot"
install -m 644 "$bundle/image/comptoir.txt.example" "$boot/comptoir.txt.example"
if [ -f "$boot/cmdline.txt" ]; then # the Pi: no console blanking, no blinking cursor, no logo
	for word in consoleblank=0 vt.global_cursor_default=0 logo.nologo; do
		grep -qw "$word" "$boot/cmdline.txt" || sed -i "1 s/\$/ $word/" "$boot/cmdline.txt"
	done
fi
systemctl enable systemd-timesyncd.service comptoir-data-partition.service \
	comptoir-provision.service comptoir-kiosk.service \
	comptoir-agent.service comptoir-web.service comptoir-update-check.service
say "done: $("$venv/bin/comptoir" version)"
