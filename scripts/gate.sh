#!/usr/bin/env bash
# The gate: installs what it needs, then builds the patched kernel, boots it and runs the
# conformance suite inside (extra arguments go to `python -m vm gate`, e.g. --profile debug,
# --kernel-dir DIR, --junit FILE, --ktap, -k EXPR).  Exit 0 only if every test passed and
# the guest console is clean.
set -euo pipefail
cd "$(dirname "$0")/.."
series_dir=patches
for ((i = 1; i <= $#; i++)); do
    if [[ ${!i} == --series-dir ]]; then j=$((i + 1)); series_dir=${!j}; fi
    if [[ ${!i} == --series-dir=* ]]; then series_dir=${!i#--series-dir=}; fi
done
if ! grep -qv '^[[:space:]]*\(#.*\)\?$' "$series_dir/series" 2>/dev/null; then
    echo "gate: error: no kernel series yet: $series_dir/series is missing or lists no patch;" \
         "the gate would only test the unpatched kernel, so it refuses to pass" >&2
    echo "gate:   see: patches/ (python -m vm build / run work on the unpatched kernel)" >&2
    exit 2
fi
bash scripts/install-deps.sh
exec python3 -m tox -e gate -- "$@"
