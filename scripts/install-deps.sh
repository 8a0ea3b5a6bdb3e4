#!/usr/bin/env bash
# Installs the host packages the gate needs (kernel source, build tools, qemu) and tox.
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
pkgs=(linux-source-6.12 qemu-system-x86 ccache flex bison bc libelf-dev libssl-dev
      dwarves cpio xz-utils kmod iproute2 nftables busybox-static gcc make libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $EUID -ne 0 ]]; then
        echo "install-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check 'tox>=4'
