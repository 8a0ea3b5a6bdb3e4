#!/bin/bash
# Show that the gate catches a deliberately broken kernel: one kernel mutant.
#   usage: scripts/kernel-mutant.sh NAME [gate options...]
# conformance/kernel-mutants/NAME.diff is a small diff against the patched tree (see its
# README). This is `python -m vm mutants --only NAME`: the diff is appended to a copy of
# patches/, the kernel is built through the cache and the gate runs on it with
# --fail-fast. Exit 0 only if the mutant is caught (gate verdict FAIL); 1 if it
# survived (the suite missed it); 2 if it could not be judged (does not apply or build).
# The whole campaign with its score table: python -m vm mutants
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: kernel-mutant.sh NAME [gate options...]}
shift
cd "$here"
exec python -m vm mutants --only "$name" -- "$@"
