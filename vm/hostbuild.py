"""Host builds of the C programs the guest runs, before it boots.

Compiling under TCG takes minutes (nlmmap_stress alone ~19 s of the gate); on the host
it takes seconds. Each tree has a Makefile that builds into ``O=DIR``; the guest's
fixture runs the same ``make`` against the directory named in the tree's variable and
finds everything up to date. The build directory is keyed by the bytes of the tree so
that worktrees with different sources never share outputs."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import cache, paths
from .errors import BuildFailed

log = logging.getLogger("vm.hostbuild")


@dataclass(frozen=True)
class Tree:
    name: str      # cache subdirectory, lock and log name
    sources: Path
    env: str       # the variable the guest's fixture reads (conformance/)
    what: str


TREES = (
    Tree("thirdparty", paths.REPO / "thirdparty", "NLMMAP_THIRDPARTY_BUILD",
         "old mmap-netlink programs"),
    Tree("stress", paths.REPO / "conformance" / "stress", "NLMMAP_STRESS_BUILD",
         "nlmmap_stress"),
)


def digest(root: Path) -> str:
    """Content key of ``root``."""
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_dir(tree: Tree) -> Path:
    return paths.cache_root() / tree.name / digest(tree.sources)


def build_command(tree: Tree, out: Path) -> list[str]:
    return ["make", "-C", str(tree.sources), f"O={out}"]


def guest_env() -> dict[str, str]:
    """Each tree's variable naming its build directory (what ``prepare`` fills)."""
    return {t.env: str(build_dir(t)) for t in TREES}


def prepare(run_dir: Path) -> dict[str, str]:
    """Build every tree into the cache (a no-op when up to date); return the guest's
    environment naming the build directories. Build logs go to ``run_dir``."""
    for tree in TREES:
        out = build_dir(tree)
        logfile = run_dir / f"{tree.name}-build.log"
        with cache.locked(paths.cache_root() / f"{tree.name}.lock", f"{tree.name} build"), \
                logfile.open("w") as f:
            r = subprocess.run(build_command(tree, out), stdout=f, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise BuildFailed(f"building {tree.sources.relative_to(paths.REPO)}/ failed: "
                              f"make exited {r.returncode}", str(logfile))
        log.info("hostbuild: %s in %s", tree.what, out)
    return guest_env()
