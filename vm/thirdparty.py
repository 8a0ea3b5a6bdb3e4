"""Host build of the old mmap-netlink programs (``thirdparty/``) before the guest boots.

Compiling under TCG takes minutes; on the host it takes seconds, and the guest's pytest
fixture (conformance/test_old_userspace.py) then runs the same ``make`` and finds
everything up to date. The build directory is keyed by the bytes of ``thirdparty/`` so
that worktrees with different sources never share outputs."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from pathlib import Path

from . import cache, paths
from .errors import BuildFailed

log = logging.getLogger("vm.thirdparty")

SOURCES = paths.REPO / "thirdparty"
# the name conformance/thirdparty.py reads in the guest
BUILD_ENV = "NLMMAP_THIRDPARTY_BUILD"


def digest(root: Path | None = None) -> str:
    """Content key of ``root`` (default: thirdparty/)."""
    root = root or SOURCES
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_dir() -> Path:
    return paths.cache_root() / "thirdparty" / digest()


def build_command(out: Path) -> list[str]:
    return ["make", "-C", str(SOURCES), f"O={out}"]


def prepare(run_dir: Path) -> dict[str, str]:
    """Build into the cache (a no-op when up to date); return the guest's environment
    naming the build directory. The build log goes to ``run_dir``."""
    out = build_dir()
    logfile = run_dir / "thirdparty-build.log"
    argv = build_command(out)
    with cache.locked(paths.cache_root() / "thirdparty.lock", "thirdparty build"), \
            logfile.open("w") as f:
        r = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise BuildFailed(f"building thirdparty/ failed: make exited {r.returncode}",
                          str(logfile))
    log.info("thirdparty: old mmap-netlink programs in %s", out)
    return {BUILD_ENV: str(out)}
