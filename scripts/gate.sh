#!/usr/bin/env bash
# The gate: installs what it needs, then builds the patched kernel, boots it and runs the
# conformance suite inside (extra arguments go to `python -m vm gate`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec python3 -m tox -e gate -- "$@"
