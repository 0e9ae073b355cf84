#!/bin/bash
# Comptoir into the Raspberry Pi image: image/install.sh, the one install step the QEMU test
# image runs too, inside the image's root. pi-gen runs this file on the build host from this
# folder with ROOTFS_DIR and on_chroot set; image/build.sh put the bundle (the committed source
# and its wheel, from image/bundle.sh) and the release name in files/.
set -euo pipefail

release=$(cat files/release)
rm -rf "${ROOTFS_DIR}/tmp/comptoir-bundle"
cp -a files/bundle "${ROOTFS_DIR}/tmp/comptoir-bundle"
on_chroot <<CHROOT
set -euo pipefail
/tmp/comptoir-bundle/image/install.sh --target pi --release "$release" --boot /boot/firmware
CHROOT

# Raspberry Pi OS grows the root over the whole card at its first boot; on a Comptoir card
# comptoir-data-partition.service sizes the root and puts the data partition after it, so that
# resize is turned off (docs/image.md, "The data partition"). Trixie: the word `resize` in
# cmdline.txt, acted on by rpi-resize.service (pi-gen stage1 and stage2). Bookworm: the
# initramfs script local-premount/firstboot of raspberrypi-sys-mods, run while `firstboot` is on
# the command line (init=.../firstboot, which also renews the disk id and SSH keys, so it stays),
# then resize2fs_once: a script of the same name in /etc/initramfs-tools wins over the package's.
sed -i -e 's/ resize\b//g' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
on_chroot <<'CHROOT'
set -euo pipefail
if [ -e /usr/lib/systemd/system/rpi-resize.service ] || [ -e /lib/systemd/system/rpi-resize.service ]; then
	systemctl mask rpi-resize.service
fi
if [ -e /usr/share/initramfs-tools/scripts/local-premount/firstboot ]; then
	install -d /etc/initramfs-tools/scripts/local-premount
	printf '#!/bin/sh\n# Comptoir: the root is sized by comptoir-data-partition, not grown over the card.\nexit 0\n' \
		>/etc/initramfs-tools/scripts/local-premount/firstboot
	chmod 755 /etc/initramfs-tools/scripts/local-premount/firstboot
	update-initramfs -u -k all
fi
if [ -e /etc/init.d/resize2fs_once ]; then
	update-rc.d resize2fs_once remove
	rm -f /etc/init.d/resize2fs_once
fi
CHROOT
rm -rf "${ROOTFS_DIR}/tmp/comptoir-bundle"
