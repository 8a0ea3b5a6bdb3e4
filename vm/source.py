"""Kernel source: Debian's linux-source-6.12 (installed if missing, unpacked into the
cache, series kept applied there) or a developer's ``--kernel-dir``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import series as series_mod
from .errors import GateError, ToolMissing

log = logging.getLogger(__name__)

PACKAGE = "linux-source-6.12"
TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
STATE = ".nlmmap-series"  # dir in the cache-owned tree: applied patches + state.json


@dataclass
class Source:
    tree: Path
    version: str  # identity used in the cache key, e.g. "linux-source-6.12 6.12.117-1~deb12u1"
    kernelversion: str  # from the Makefile, e.g. "6.12.117"
    cacheable: bool = True


def package_version() -> str | None:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", PACKAGE],
                       capture_output=True, text=True)
    if r.returncode != 0 or "install ok installed" not in r.stdout:
        return None
    return r.stdout.split("\t", 1)[1].strip()


def ensure_package() -> str:
    """Install linux-source-6.12 if missing; return its Debian version."""
    ver = package_version()
    if ver and TARBALL.exists():
        return ver
    if shutil.which("apt-get") is None:
        raise ToolMissing(f"{PACKAGE} is not installed and apt-get is unavailable",
                          "install the package by hand, or pass --kernel-dir DIR")
    if os.geteuid() != 0:
        raise ToolMissing(f"{PACKAGE} is not installed and installing it needs root",
                          f"sudo apt-get install {PACKAGE} (or pass --kernel-dir DIR)")
    log.info("source: installing %s with apt-get", PACKAGE)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-q", PACKAGE], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "-q", PACKAGE], env=env,
                           capture_output=True, text=True)
    ver = package_version()
    if r.returncode != 0 or not ver or not TARBALL.exists():
        last = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        raise ToolMissing(f"apt-get install {PACKAGE} failed: {last[0]}",
                          f"apt-get install {PACKAGE}")
    return ver


def makefile_version(tree: Path) -> str:
    try:
        text = (tree / "Makefile").read_text(errors="replace")[:2000]
    except OSError as e:
        raise GateError(f"{tree} is not a kernel tree: no Makefile", str(tree)) from e
    pat = r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=[ \t]*(\S*)"
    f = dict(re.findall(pat, text, re.M))
    if "VERSION" not in f:
        raise GateError(f"{tree} is not a kernel tree: no VERSION in its Makefile", str(tree))
    return f"{f['VERSION']}.{f.get('PATCHLEVEL', '0')}.{f.get('SUBLEVEL', '0')}" \
           f"{f.get('EXTRAVERSION', '')}"


def unpack_command(tarball: Path, dest: Path) -> list[str]:
    return ["tar", "-xf", str(tarball), "-C", str(dest)]


def _unpack(tarball: Path, dest_parent: Path) -> Path:
    """Unpack with progress; the result appears atomically (rename) when complete."""
    partial = dest_parent / "unpack.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    size = tarball.stat().st_size
    log.info("unpack: %s (%d MB) -> %s", tarball, size >> 20, dest_parent)
    t0 = time.monotonic()
    proc = subprocess.Popen(unpack_command(tarball, partial),
                            stderr=subprocess.PIPE)
    while True:
        try:
            proc.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            log.info("unpack: %.0f s elapsed", time.monotonic() - t0)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        raise GateError(f"unpacking {tarball} failed: {err[0] if err else proc.returncode}",
                        str(tarball))
    (top,) = [p for p in partial.iterdir() if p.is_dir()]
    dest = dest_parent / top.name
    shutil.rmtree(dest, ignore_errors=True)
    top.rename(dest)
    shutil.rmtree(partial, ignore_errors=True)
    (dest / ".nlmmap-unpacked").write_text(tarball.name + "\n")
    log.info("unpack: done in %.0f s", time.monotonic() - t0)
    return dest


def applied_series(tree: Path) -> list[series_mod.Patch]:
    d = tree / STATE
    try:
        names = json.loads((d / "state.json").read_text())["applied"]
        return [series_mod.Patch(n, d / n, (d / n).read_bytes()) for n in names]
    except (OSError, ValueError, KeyError):
        return []


def _save_state(tree: Path, applied: list[series_mod.Patch]) -> None:
    d = tree / STATE
    d.mkdir(exist_ok=True)
    for p in applied:
        (d / p.name).write_bytes(p.data)
    (d / "state.json").write_text(json.dumps({"applied": [p.name for p in applied]}))


def _snapshot(tree: Path, rels: set[str]) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of the files (that exist) among ``rels``."""
    out = {}
    for rel in rels:
        p = tree / rel
        if p.is_file():
            out[rel] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def restore_unchanged_mtimes(tree: Path, snap: dict[str, tuple[str, int]]) -> int:
    """Give files whose content is back to what ``snap`` saw their old mtime, so make
    rebuilds only what really changed: reverting one series and applying another that
    differs in one file (a kernel mutant, a bisection prefix) would otherwise touch every
    file of the series, and include/linux/netlink.h is included nearly everywhere."""
    n = 0
    for rel, (digest, mtime) in snap.items():
        p = tree / rel
        if p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == digest:
            st = p.stat()
            if st.st_mtime_ns != mtime:
                os.utime(p, ns=(st.st_atime_ns, mtime))
                n += 1
    return n


def default_source(cache: Path, patches: list[series_mod.Patch]) -> Source:
    """The cache-owned Debian tree with exactly ``patches`` applied."""
    deb = ensure_package()
    parent = cache / "src" / deb
    tree = parent / "linux-source-6.12"
    if not (tree / ".nlmmap-unpacked").exists():
        tree = _unpack(TARBALL, parent)
    applied = applied_series(tree)
    if series_mod.series_digest(applied) != series_mod.series_digest(patches):
        snap = _snapshot(tree, {f for p in applied + patches for f in p.files()})
        if applied:
            log.info("source: reverting previously applied series (%d patches)", len(applied))
            if not series_mod.reverse(tree, applied):
                log.warning("source: could not revert the old series cleanly; re-unpacking")
                tree = _unpack(TARBALL, parent)
                snap = {}
            _save_state(tree, [])
        done: list[series_mod.Patch] = []
        try:
            for i, p in enumerate(patches, 1):
                series_mod.apply(tree, [p], first=i, total=len(patches))
                done.append(p)
        finally:
            _save_state(tree, done)
            kept = restore_unchanged_mtimes(tree, snap)
            log.info("source: %d file(s) of the series unchanged, their mtimes kept", kept)
        if patches:
            log.info("source: applied %d patches to %s", len(patches), tree)
    else:
        log.info("source: %s already has the series (%d patches)", tree, len(patches))
    return Source(tree, f"{PACKAGE} {deb}", makefile_version(tree))


def developer_source(tree: Path, patches: list[series_mod.Patch]) -> Source:
    """A developer's tree: apply only what is missing, and say so."""
    tree = tree.resolve()
    kv = makefile_version(tree)
    for action in series_mod.ensure_applied(tree, patches):
        log.warning("source: %s", action)
    ident, cacheable = f"dir {tree} {kv}", False
    if (tree / ".git").exists():
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(tree), "diff", "HEAD"],
                              capture_output=True).stdout
        if head:
            ident = f"git {head} {hashlib.sha256(diff).hexdigest()} {kv}"
            cacheable = True
    return Source(tree, ident, kv, cacheable=cacheable)
