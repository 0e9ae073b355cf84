#!/bin/bash
# Start from the previous stage's root file system (stage2, Raspberry Pi OS Lite).
set -euo pipefail

if [ ! -d "${ROOTFS_DIR}" ]; then
	copy_previous
fi
