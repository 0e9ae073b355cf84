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
rm -rf "${ROOTFS_DIR}/tmp/comptoir-bundle"
