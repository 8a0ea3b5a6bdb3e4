#!/usr/bin/env bash
# The tests: installs what they need, then runs tox (extra arguments go to tox).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec python3 -m tox "$@"
