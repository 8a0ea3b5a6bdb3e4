"""A gate run as KCIDB data (schema v5, as the ``kcidb-io`` package validates it).

KernelCI's KCIDB collects results from many CI systems; a file in its format is what
another system can take without knowing our harness.  One gate run gives:

* a **checkout**: Debian's linux-source version plus the series (``patchset_hash`` as
  KCIDB defines it; our own series digest in ``misc``).  The series is read from the
  series directory and *verified* against the kernel's cache key when the bzImage came
  from the cache: if the bytes differ from what was built, the checkout says so.
* a **build** per kernel (one profile): cache key, config digest, compiler, build time
  when the cache recorded it, the build log and config as ``file://`` URLs;
* **tests**: ``boot`` (the console: splats, hangs, a guest that died, with the
  excerpt; MISS when the gate judged it an infrastructure failure), one per conformance
  case (``nlmmap_conformance.<module>.<case>``) and per kselftest case
  (``kselftest.net_netlink_mmap.<fixture>.<variant>.<case>``), with PASS/FAIL/ERROR/SKIP,
  the failure message as ``log_excerpt`` and, for failures, how to rerun them and the
  differential reproducer in ``misc``.

IDs are ``nlmmap_gate:...``; builds and checkouts are content-addressed (the same kernel
tested on two machines is one build), tests are unique per run.  :func:`merge` combines
the files of several runs (shards).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

from . import cache, series
from .results import Case, Results

log = logging.getLogger(__name__)

ORIGIN = "nlmmap_gate"
VERSION = {"major": 5, "minor": 3}
EXCERPT = 16384  # the schema's maxLength for log_excerpt
STATUS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
SUITE_PATHS = {"nlmmap_conformance": "nlmmap_conformance",
               "kselftest_net_netlink_mmap": "kselftest.net_netlink_mmap"}


def _id(*parts: str) -> str:
    return f"{ORIGIN}:" + ":".join(parts)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _time(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()


def _excerpt(text: str) -> str:
    text = text.replace("\0", "")
    return text if len(text) <= EXCERPT else "[...]\n" + text[-(EXCERPT - 6):]


def patchset_hash(patches: list[series.Patch]) -> str:
    """KCIDB's definition: sha256 over the newline-terminated sha256 of each patch, in
    order (``sha256sum *.patch | cut -c-64 | sha256sum``); "" for no patches."""
    if not patches:
        return ""
    return hashlib.sha256("".join(p.sha256 + "\n" for p in patches).encode()).hexdigest()


# ---- what was built --------------------------------------------------------------------

@dataclass
class Built:
    """The kernel a run booted, from its cache MANIFEST when it has one."""

    bzimage: Path
    manifest: dict
    series_dir: Path

    @property
    def entry_dir(self) -> Path:
        return self.bzimage.parent

    def patches(self) -> list[series.Patch]:
        try:
            return series.read_series(self.series_dir, required=False)
        except Exception as e:  # noqa: BLE001 - a broken series dir: the checkout says so
            log.warning("kcidb: cannot read the series in %s: %s", self.series_dir, e)
            return []

    def series_verified(self, patches: list[series.Patch]) -> bool:
        """True if ``patches`` are the bytes the cached kernel was built from (the cache
        key is recomputed from source version, series digest and config)."""
        m = self.manifest
        config = self.entry_dir / "config"
        if not m.get("key") or not config.exists():
            return False
        return cache.cache_key(m.get("source", ""), series.series_digest(patches),
                               config.read_text()) == m["key"]


def built(bzimage: Path, series_dir: Path) -> Built:
    try:
        manifest = json.loads((bzimage.parent / cache.MANIFEST).read_text())
    except (OSError, ValueError):
        manifest = {}
    return Built(bzimage.resolve(), manifest, series_dir)


def _compiler(config: Path) -> str | None:
    try:
        m = re.search(r'^CONFIG_CC_VERSION_TEXT="(.*)"$', config.read_text(), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def checkout_and_build(b: Built, *, started: float) -> tuple[dict, dict]:
    m = b.manifest
    patches = b.patches()
    names = [p.name for p in patches]
    verified = bool(m) and names == m.get("series", []) and b.series_verified(patches)
    source = m.get("source", "unknown source")
    sdigest = series.series_digest(patches)
    checkout = {
        "id": _id("checkout", _digest(source, sdigest if verified else str(b.bzimage))),
        "origin": ORIGIN,
        "tree_name": source.split()[0] if m else "unknown",
        "comment": f"{source} + memory-mapped netlink series ({len(m.get('series', []))} "
                   "patches)" if m else f"kernel image {b.bzimage} (not from the gate's cache)",
        "start_time": _time(started),
        "valid": True,
        "misc": {"source": source, "kernelversion": m.get("kernelversion"),
                 "series": m.get("series", []), "series_dir": str(b.series_dir),
                 "series_verified": verified},
    }
    if verified:
        checkout["patchset_hash"] = patchset_hash(patches)
        checkout["patchset_files"] = [{"name": p.name, "url": p.path.resolve().as_uri()}
                                      for p in patches]
        checkout["misc"]["series_digest"] = sdigest
    else:
        checkout["misc"]["why_unverified"] = (
            "no cache MANIFEST next to the bzImage" if not m else
            "the series directory is not what this kernel was built from")
    config = b.entry_dir / "config"
    build = {
        "id": _id("build", m["key"][:16] if m.get("key") else _digest(str(b.bzimage))),
        "checkout_id": checkout["id"],
        "origin": ORIGIN,
        "architecture": "x86_64",
        "config_name": m.get("profile", "unknown"),
        "status": "PASS",
        "output_files": [{"name": "bzImage", "url": b.bzimage.as_uri()}],
        "misc": {"cache_key": m.get("key"), "profile": m.get("profile"),
                 "config_sha256": m.get("sha256", {}).get("config"),
                 "built_at": m.get("created")},
    }
    if config.exists():
        build["config_url"] = config.as_uri()
        build["compiler"] = _compiler(config) or "unknown"
        build["command"] = "make -j$(nproc) CC='ccache gcc' bzImage"
    if (b.entry_dir / "build.log").exists():
        build["log_url"] = (b.entry_dir / "build.log").as_uri()
    if m.get("build_seconds") is not None:
        build["duration"] = float(m["build_seconds"])
    return checkout, build


# ---- what ran ---------------------------------------------------------------------------

def _segment(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "_"


def test_path(suite: str, case: Case) -> str:
    """Dot-separated KCIDB path: ``conformance.test_r2_setup`` + ``test_x[kernel-4k]`` ->
    ``nlmmap_conformance.test_r2_setup.test_x_kernel-4k``."""
    prefix = SUITE_PATHS.get(suite, _segment(suite))
    mods = [m for m in case.classname.split(".") if m not in ("", "conformance", "kselftest")]
    return ".".join([prefix, *map(_segment, mods), *map(_segment, case.name.split("."))])


@dataclass
class Run:
    """One guest run of the gate, as much as the KCIDB tests need to know."""

    run_dir: Path
    started: float  # epoch seconds of the boot
    guest_seconds: float
    environment: str  # "TCG, 1 CPU, 2G on host"
    boot_problem: str | None  # the failing boot verdict (splat/hang/death), else None
    console: Path
    rerun: str  # the gate command line, for "how to rerun one test"
    shard: str | None = None
    boot_infra: bool = False  # the boot problem was the infrastructure's, not the kernel's


def _reproducers(run_dir: Path) -> list[dict]:
    return [{"file": str(p), "replay": f"python -m vm run -- python -m conformance replay "
             f"{shlex.quote(str(p))} --backend kernel"}
            for p in sorted(run_dir.glob("nlmmap-repro-*.nls"))]


def tests(run: Run, build_id: str, suites: list[tuple[str, Results]],
          logs: dict[str, Path]) -> list[dict]:
    run_id = f"{_digest(socket.gethostname())[:8]}-{run.run_dir.name}"
    env = {"comment": f"virtme-ng guest, {run.environment}"}
    common = {"build_id": build_id, "origin": ORIGIN, "start_time": _time(run.started),
              "environment": env}
    shard = {"shard": run.shard} if run.shard else {}
    boot = {**common, "id": _id("test", run_id, "boot"), "path": "boot",
            "status": ("MISS" if run.boot_infra else "FAIL") if run.boot_problem else "PASS",
            "duration": run.guest_seconds,
            "log_url": run.console.as_uri(),
            "comment": "the guest's console: no splat, no hang, the command reported its "
                       "status", "misc": {"run_dir": str(run.run_dir), **shard}}
    if run.boot_problem:
        boot["log_excerpt"] = _excerpt(run.boot_problem)
    out = [boot]
    repros = _reproducers(run.run_dir)
    seen: dict[str, int] = {}
    for suite, res in suites:
        failed_diff = any(c.outcome in ("failed", "error") and "differential" in c.classname
                          for c in res.cases)
        for c in res.cases:
            path = test_path(suite, c)
            seen[path] = seen.get(path, 0) + 1
            if seen[path] > 1:  # two cases sanitised to one path: keep both, apart
                path = f"{path}_{seen[path]}"
            t = {**common, "id": _id("test", run_id, path), "path": path,
                 "status": STATUS[c.outcome], "comment": f"{c.classname}::{c.name}",
                 "misc": {"suite": suite, **shard}}
            if suite in logs:
                t["log_url"] = logs[suite].as_uri()
            if c.seconds is not None:
                t["duration"] = c.seconds
            if c.outcome in ("failed", "error"):
                t["log_excerpt"] = _excerpt(c.message or f"{c.outcome} without a message")
                t["misc"]["timed_out"] = c.timed_out
                if suite == "nlmmap_conformance":
                    t["misc"]["rerun"] = f"{run.rerun} -k {shlex.quote(c.name)}"
                    if repros and (failed_diff is False or "differential" in c.classname):
                        t["misc"]["reproducers"] = repros
            out.append(t)
    return out


def report(built_: Built, run: Run, suites: list[tuple[str, Results]],
           logs: dict[str, Path]) -> dict:
    checkout, build = checkout_and_build(built_, started=run.started)
    return {"version": dict(VERSION), "checkouts": [checkout], "builds": [build],
            "tests": tests(run, build["id"], suites, logs)}


def merge(reports: list[dict]) -> dict:
    """Several runs' data as one: checkouts and builds once per id, every test kept."""
    out: dict = {"version": dict(VERSION), "checkouts": [], "builds": [], "tests": []}
    for kind in ("checkouts", "builds", "tests"):
        ids: set[str] = set()
        for r in reports:
            for obj in r.get(kind, []):
                if obj["id"] not in ids:
                    ids.add(obj["id"])
                    out[kind].append(obj)
    return out


def validate(data: dict) -> str | None:
    """None if ``kcidb-io`` accepts ``data`` as schema v5.3, else why not (or that the
    package is missing: then nothing was checked)."""
    try:
        from kcidb_io.schema import V5_3
    except ImportError:
        return "not validated: the kcidb-io package is not installed"
    import jsonschema

    try:
        V5_3.validate_exactly(data)
    except jsonschema.exceptions.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        return f"invalid at {where or '(top)'}: {e.message[:300]}"
    return None


def write(data: dict, path: Path) -> str:
    """Write ``data`` to ``path``; return a one-line status for the verdict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    problem = validate(data)
    if problem is None:
        return f"KCIDB: {path} (schema v{VERSION['major']}.{VERSION['minor']}, valid)"
    log.error("kcidb: %s: %s", path, problem)
    return f"KCIDB: {path} ({problem})"
