#!/bin/bash
# Show that the gate catches a deliberately broken kernel patch.
#   usage: scripts/kernel-mutant.sh NAME [gate options...]
# conformance/kernel-mutants/NAME/ holds broken copies of series patches (same file
# names as in patches/). They replace the originals in a copy of patches/, the gate
# builds and tests that series, and this script exits 0 only if the gate's verdict is
# FAIL (gate exit 1): the mutant was caught. A PASS (exit 0) means the suite missed it
# (exit 3); a setup error (gate exit 2: does not apply, does not build...) is passed on.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: kernel-mutant.sh NAME [gate options...]}
shift
src=$here/conformance/kernel-mutants/$name
[ -d "$src" ] || { echo "kernel-mutant: no mutant $src" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nlmmap-mutant-$name.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$here"/patches/series "$here"/patches/*.patch "$here"/patches/*.config "$dir"/
for p in "$src"/*.patch; do
    b=$(basename "$p")
    [ -f "$dir/$b" ] || { echo "kernel-mutant: $b is not in patches/series" >&2; exit 2; }
    cp "$p" "$dir/$b"
    echo "kernel-mutant: $name replaces $b"
done
cd "$here"
python -m vm gate --series-dir "$dir" "$@"
rc=$?
case $rc in
    1) echo "kernel-mutant: $name CAUGHT (gate verdict FAIL)"; exit 0 ;;
    0) echo "kernel-mutant: $name MISSED: the gate passed a broken series" >&2; exit 3 ;;
    *) echo "kernel-mutant: gate error (exit $rc), mutant not judged" >&2; exit "$rc" ;;
esac
