#!/bin/bash
# Comptoir into the image: the source in /opt/comptoir with its .venv, the comptoir user and its
# groups, the systemd units (enabled) and the polkit rule. pi-gen runs this on the build host from
# this folder, with ROOTFS_DIR and on_chroot set; image/build.sh put files/comptoir.tar
# (the committed source) and files/comptoir.txt.example here.
#
# 00-packages, for the record (pi-gen installs it first): python3-venv for the .venv, which sees
# the system's python3-lgpio (gpiozero's pin factory for relays and door switches); libmtdev1,
# libgl1-mesa-dri, libegl1, libgles2, libgbm1, libdrm2 and the SDL2 libraries for Kivy drawing
# straight to the display (KMSDRM); libusb-1.0-0 for USB label printers; polkitd for the rule
# that lets the agent restart the units. No broker: mosquitto runs on the fleet's server.
set -euo pipefail

install -d -m 755 "${ROOTFS_DIR}/opt/comptoir"
tar -x -f files/comptoir.tar -C "${ROOTFS_DIR}/opt/comptoir"
install -m 644 files/comptoir.txt.example "${ROOTFS_DIR}/boot/firmware/comptoir.txt.example"

on_chroot <<'CHROOT'
set -euo pipefail
for group in dialout gpio video render input; do
	getent group "$group" >/dev/null || groupadd --system "$group"
done
id -u comptoir >/dev/null 2>&1 || adduser --system --group --home /var/lib/comptoir comptoir
usermod -aG dialout,gpio,video,render,input comptoir
install -d -o comptoir -g comptoir -m 750 /var/lib/comptoir
install -d -m 755 /etc/comptoir

cd /opt/comptoir
python3 -m venv --system-site-packages .venv
constraints=()
if [ -f image/constraints.txt ]; then
	constraints=(--constraint image/constraints.txt)
fi
.venv/bin/pip install --no-cache-dir "${constraints[@]}" '.[kiosk]'
.venv/bin/comptoir version

install -m 644 systemd/comptoir-*.service /etc/systemd/system/
install -d -m 755 /etc/polkit-1/rules.d
install -m 644 provisioning/polkit/50-comptoir.rules /etc/polkit-1/rules.d/
systemctl enable comptoir-provision comptoir-kiosk comptoir-agent comptoir-web
CHROOT
