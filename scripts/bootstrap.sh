#!/usr/bin/env bash
# Make this checkout runnable: system packages (when root), a .venv, and the package with its
# extras. Safe to run again: it only installs what is missing. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian / Raspberry Pi OS packages the appliance and its tests need:
# mosquitto (the MQTT broker the agent tests start), xvfb + xauth (the kiosk window in
# tests), libmtdev1 + libgl1-mesa-dri (Kivy on the Pi and under Xvfb), chromium + chromium-driver
# (the web admin tests), python3-venv (the .venv itself), xclip (Kivy's clipboard under X, else it
# logs a CRITICAL line at every start), fonts-dejavu-core (the font of the admin's PDFs),
# poppler-utils (pdftotext: the tests read the PDFs back), xdotool (the soak touches the kiosk's
# window through X like a person), espeak-ng (the kiosk's spoken prompts, accessibility mode).
APT_PACKAGES=(mosquitto fdisk xvfb xauth libmtdev1 libgl1-mesa-dri chromium chromium-driver python3-venv xclip
              fonts-dejavu-core poppler-utils xdotool espeak-ng)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bootstrap: installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "bootstrap: missing system packages: ${missing[*]}" >&2
        echo "bootstrap: run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.comptoir-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing comptoir and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[kiosk,test]'
    touch "$stamp"
fi
