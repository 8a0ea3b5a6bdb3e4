#!/bin/bash
# Build-check every prefix of the series committed on a git kernel tree (bisectability):
# for each commit BASE..HEAD, check it out, enable the series' options the commit knows,
# and build the objects the series touches with -Werror. One line per commit.
#   usage: scripts/bisect-check.sh TREE BASE_REV [make targets...]
# Needs a configured tree (.config); leaves it at the branch it was on.
set -euo pipefail
tree=${1:?usage: bisect-check.sh TREE BASE_REV [targets]}
base=${2:?usage: bisect-check.sh TREE BASE_REV [targets]}
shift 2
if [ $# -gt 0 ]; then targets=("$@"); else targets=(net/netlink/ net/netfilter/); fi
cd "$tree"
branch=$(git symbolic-ref --short HEAD)
trap 'git checkout -q "$branch"' EXIT
cc=(); command -v ccache >/dev/null && cc=(CC="ccache gcc")
fail=0
for c in $(git rev-list --reverse "$base..HEAD"); do
    git checkout -q "$c"
    scripts/config --enable NETLINK_MMAP --enable NETLINK_MMAP_TEST
    make -s "${cc[@]}" olddefconfig
    mmap=$(grep -c '^CONFIG_NETLINK_MMAP=y' .config || true)
    test_=$(grep -c '^CONFIG_NETLINK_MMAP_TEST=y' .config || true)
    start=$SECONDS
    if make -j"$(nproc)" "${cc[@]}" KCFLAGS=-Werror "${targets[@]}" > ".bisect-$c.log" 2>&1; then
        rc=0; rm -f ".bisect-$c.log"
    else
        rc=$?; fail=1
    fi
    echo "$(git log -1 --format=%h "$c") rc=$rc $((SECONDS - start))s mmap=$mmap test=$test_ $(git log -1 --format=%s "$c")"
    [ "$rc" = 0 ] || echo "    log: $tree/.bisect-$c.log"
done
exit $fail
