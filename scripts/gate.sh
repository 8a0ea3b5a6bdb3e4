#!/usr/bin/env bash
# The gate: installs what it needs, then builds the patched kernel, boots it and runs the
# conformance suite inside (extra arguments go to `python -m vm gate`, e.g. --profile debug,
# --kernel-dir DIR, --junit FILE, --ktap, -k EXPR).  Exit 0 only if every test passed and
# the guest console is clean; a missing or empty series is refused by vm/series.py (exit 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec python3 -m tox -e gate -- "$@"
