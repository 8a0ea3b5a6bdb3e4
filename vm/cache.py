"""Build cache: ``<cache>/kernels/<key>/{bzImage,config,build.log,MANIFEST}``.

The key is sha256 over (source version, series bytes, final .config).  An entry is valid
only if its MANIFEST (written last, atomically) exists and every file's sha256 matches;
anything else (interrupted build, truncated copy, bit rot) is removed and rebuilt.
A lock file serialises builds: two gate runs never build at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

ARTIFACTS = ("bzImage", "config", "build.log")
MANIFEST = "MANIFEST"


def cache_key(source_version: str, series_digest: str, config_text: str) -> str:
    h = hashlib.sha256()
    for part in ("nlmmap-gate-cache-v1", source_version, series_digest, config_text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Entry:
    def __init__(self, root: Path, key: str):
        self.key = key
        self.dir = root / "kernels" / key[:16]

    @property
    def bzimage(self) -> Path:
        return self.dir / "bzImage"

    @property
    def config(self) -> Path:
        return self.dir / "config"

    @property
    def build_log(self) -> Path:
        return self.dir / "build.log"

    def problem(self) -> str | None:
        """Why this entry is not usable, or None if it is complete and intact."""
        man = self.dir / MANIFEST
        if not self.dir.exists():
            return "absent"
        if not man.exists():
            return "partial (no MANIFEST)"
        try:
            data = json.loads(man.read_text())
        except ValueError:
            return "corrupt MANIFEST"
        if data.get("key") != self.key:
            return "MANIFEST for another key"
        for name in ARTIFACTS:
            p = self.dir / name
            if not p.exists():
                return f"{name} missing"
            if _sha(p) != data.get("sha256", {}).get(name):
                return f"{name} checksum mismatch"
        return None

    def valid(self) -> bool:
        return self.problem() is None

    def store(self, bzimage: Path, config: Path, build_log: Path, meta: dict) -> None:
        """Copy artifacts in, then write the MANIFEST last (atomic rename)."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        for src, name in ((bzimage, "bzImage"), (config, "config"), (build_log, "build.log")):
            shutil.copyfile(src, self.dir / name)
        manifest = {
            "key": self.key,
            "sha256": {n: _sha(self.dir / n) for n in ARTIFACTS},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **meta,
        }
        tmp = self.dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        tmp.rename(self.dir / MANIFEST)

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def meta(self) -> dict:
        try:
            return json.loads((self.dir / MANIFEST).read_text())
        except (OSError, ValueError):
            return {}


@contextlib.contextmanager
def locked(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive flock on ``path``; say so if we have to wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("%s: waiting for lock %s (another build is running)", what, path)
            t0 = time.monotonic()
            fcntl.flock(f, fcntl.LOCK_EX)
            log.info("%s: got lock %s after %.0f s", what, path, time.monotonic() - t0)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked_all(paths: list[Path], what: str) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for p in paths:
            stack.enter_context(locked(p, what))
        yield
