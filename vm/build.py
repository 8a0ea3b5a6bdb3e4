"""Configure and build bzImage (ccache, progress, full log on disk), through the cache."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cache, kconfig, paths, series, source
from .errors import BuildFailed, ConfigDropped, GateError

log = logging.getLogger(__name__)

PROGRESS_EVERY = 30.0  # seconds between build progress lines


@dataclass
class Kernel:
    bzimage: Path
    config: Path
    build_log: Path
    key: str
    source_version: str
    kernelversion: str
    series: list[str] = field(default_factory=list)
    from_cache: bool = False


def _make_env() -> dict[str, str]:
    env = paths.tool_env()
    env.setdefault("KBUILD_BUILD_USER", "nlmmap")
    env.setdefault("KBUILD_BUILD_HOST", "gate")
    env.setdefault("KBUILD_BUILD_TIMESTAMP", "2013-04-17")
    env.setdefault("CCACHE_BASEDIR", "/")
    env.pop("MAKEFLAGS", None)
    return env


def _cc() -> list[str]:
    return ["CC=ccache gcc"] if shutil.which("ccache") else []


def allnoconfig_command() -> list[str]:
    return ["make", *_cc(), "allnoconfig"]


def olddefconfig_command() -> list[str]:
    return ["make", *_cc(), "olddefconfig"]


def bzimage_command() -> list[str]:
    return ["make", f"-j{os.cpu_count() or 1}", *_cc(), "bzImage"]


def _extra_locks() -> list[Path]:
    """Other builders' lock files to hold around make (``NLMMAP_BUILD_LOCKS``, ':'-separated)."""
    raw = os.environ.get("NLMMAP_BUILD_LOCKS", "")
    return [Path(p) for p in raw.split(":") if p]


def configure(tree: Path, profile: str, series_dir: Path, logfile: Path) -> str:
    """allnoconfig + fragments + olddefconfig, then verify; return the final .config.

    allnoconfig rather than a defconfig: the guest needs a few dozen options, and every
    driver a defconfig brings is minutes of a cold build (vm/configs/guest.config)."""
    with logfile.open("a") as out:
        log.info("config: make allnoconfig in %s", tree)
        r = subprocess.run(allnoconfig_command(), cwd=tree, stdout=out,
                           stderr=subprocess.STDOUT, env=_make_env())
        if r.returncode != 0:
            raise BuildFailed(f"make allnoconfig failed in {tree} (exit {r.returncode})",
                              str(logfile))
        files = kconfig.fragment_files(profile, series_dir, paths.CONFIGS)
        frags = [(_label(f), f.read_text()) for f in files]
        requests = kconfig.merge_requests(frags)
        log.info("config: %d options requested by %s", len(requests),
                 ", ".join(label for label, _ in frags))
        cfg = tree / ".config"
        cfg.write_text(kconfig.apply_requests(cfg.read_text(), requests))
        r = subprocess.run(olddefconfig_command(), cwd=tree, stdout=out,
                           stderr=subprocess.STDOUT, env=_make_env())
        if r.returncode != 0:
            raise BuildFailed(f"make olddefconfig failed in {tree}", str(logfile))
    final = cfg.read_text()
    problems = kconfig.verify(requests, final)
    if problems:
        for p in problems:
            log.error("config: %s", p)
        first = problems[0].split(" (from")[0] if len(problems) == 1 else \
            ", ".join(p.split("=")[0].split(" ")[0] for p in problems)
        raise ConfigDropped(
            f"{len(problems)} requested config option(s) not set after olddefconfig: {first}",
            f"{cfg} and the fragments {', '.join(str(f) for f in files)}",
        )
    log.info("config: all %d requested options verified in %s", len(requests), cfg)
    return final


MEMO_FORMAT = "allnoconfig+fragments+olddefconfig v1"  # change when configure() changes


def _compiler() -> str:
    r = subprocess.run(["gcc", "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else "no gcc"


def config_memo(root: Path, src: source.Source, patches: list, profile: str,
                series_dir: Path) -> Path:
    """Where the final .config made from these inputs is kept: the same source, series,
    fragments and compiler always give the same config."""
    h = hashlib.sha256()
    parts = [MEMO_FORMAT, src.version, series.series_digest(patches), _compiler()]
    parts += [f"{f.name}\0{f.read_text()}"
              for f in kconfig.fragment_files(profile, series_dir, paths.CONFIGS)]
    for part in parts:
        h.update(part.encode() + b"\0")
    return root / "configs" / f"{h.hexdigest()[:16]}.config"


def final_config(root: Path, src: source.Source, patches: list, profile: str,
                 series_dir: Path, logfile: Path) -> str:
    """:func:`configure`, or for a source whose identity covers its content (the cache's
    tree, a git tree) the config it made before from the same inputs: two kconfig runs,
    ~4 s of every gate, saved. The tree's .config is that config either way."""
    memo = config_memo(root, src, patches, profile, series_dir) if src.cacheable else None
    if memo is None or not memo.exists():
        final = configure(src.tree, profile, series_dir, logfile)
        if memo is not None:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(final)
            tmp.replace(memo)
        return final
    final = memo.read_text()
    cfg = src.tree / ".config"
    if not cfg.exists() or cfg.read_text() != final:
        cfg.write_text(final)
    log.info("config: made before from the same source, series, fragments and compiler "
             "(%s)", memo)
    return final


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(paths.REPO))
    except ValueError:
        return str(path)


def _stage(logfile: Path) -> str:
    """The last 'CC foo.o' style line of the build log."""
    try:
        with logfile.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - 4096))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "?"
    for line in reversed(lines):
        m = re.match(r"\s+([A-Z]{2,8})\s+(\S+)", line)
        if m:
            return f"{m.group(1)} {m.group(2)}"
    return lines[-1].strip()[:80] if lines else "starting"


def make_bzimage(tree: Path, logfile: Path) -> float:
    cmd = bzimage_command()
    log.info("build: %s in %s (log: %s)", " ".join(cmd), tree, logfile)
    with cache.locked_all(_extra_locks(), "build"), logfile.open("a") as out:
        t0 = time.monotonic()
        # own process group: an interrupted gate stops every compiler, not only make
        proc = subprocess.Popen(cmd, cwd=tree, stdout=out, stderr=subprocess.STDOUT,
                                env=_make_env(), start_new_session=True)
        while True:
            try:
                proc.wait(timeout=PROGRESS_EVERY)
                break
            except subprocess.TimeoutExpired:
                el = time.monotonic() - t0
                log.info("build: %dm%02ds elapsed, at %s", el // 60, el % 60, _stage(logfile))
            except KeyboardInterrupt:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait()
                raise
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        text = logfile.read_text(errors="replace").splitlines()
        errs = [x for x in text if re.search(r"\berror\b|Error \d", x)]
        for line in text[-40:]:
            log.error("build log | %s", line)
        first = errs[0].strip() if errs else f"make exited {proc.returncode}"
        raise BuildFailed(f"kernel build failed after {elapsed:.0f} s: {first}", str(logfile))
    log.info("build: done in %dm%02ds", elapsed // 60, elapsed % 60)
    return elapsed


def ensure_kernel(*, profile: str = "fast", kernel_dir: Path | None = None,
                  series_dir: Path | None = None, require_series: bool = False,
                  rebuild: bool = False, config_only: bool = False) -> Kernel:
    """Source -> series -> config -> cache lookup -> build on miss -> cached Kernel."""
    series_dir = series_dir or paths.PATCHES
    patches = series.read_series(series_dir, required=require_series)
    if not patches:
        log.warning("series: no kernel series yet (%s/series is missing or empty): "
                    "building the UNPATCHED kernel", series_dir)
    root = paths.cache_root()
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logfile = logs / f"build-{stamp}-{os.getpid()}.log"
    with cache.locked(root / "build.lock", "build"):
        if kernel_dir is not None:
            src = source.developer_source(kernel_dir, patches)
            cfg = src.tree / ".config"
            if cfg.exists():
                shutil.copyfile(cfg, src.tree / ".config.nlmmap-old")
            log.warning("config: writing %s (allnoconfig + fragments; previous one saved as "
                        ".config.nlmmap-old) and building in your tree", cfg)
        else:
            src = source.default_source(root, patches)
            if patches:
                series.check_base(series_dir, src.version)
        log.info("source: %s (kernel %s) at %s", src.version, src.kernelversion, src.tree)
        final = final_config(root, src, patches, profile, series_dir, logfile)
        key = cache.cache_key(src.version, series.series_digest(patches), final)
        entry = cache.Entry(root, key)
        names = [p.name for p in patches]
        if config_only:
            why = entry.problem()
            log.info("config: done (cache key %s: %s)", key[:16],
                     "cached" if why is None else why)
            return Kernel(entry.bzimage, src.tree / ".config", logfile, key, src.version,
                          src.kernelversion, names, from_cache=why is None)
        if src.cacheable and not rebuild:
            why = entry.problem()
            if why is None:
                log.info("cache: hit %s (%s)", entry.dir, entry.meta().get("created", "?"))
                return Kernel(entry.bzimage, entry.config, entry.build_log, key, src.version,
                              src.kernelversion, names, from_cache=True)
            if why != "absent":
                log.warning("cache: entry %s is unusable (%s); rebuilding", entry.dir, why)
                entry.discard()
            else:
                log.info("cache: miss (%s)", key[:16])
        seconds = make_bzimage(src.tree, logfile)
        bz = src.tree / "arch" / "x86" / "boot" / "bzImage"
        if not bz.exists():
            raise BuildFailed(f"make succeeded but {bz} is missing", str(logfile))
        entry.store(bz, src.tree / ".config", logfile, {
            "source": src.version, "kernelversion": src.kernelversion, "series": names,
            "profile": profile, "tree": str(src.tree), "build_seconds": round(seconds, 1)})
        if not entry.valid():
            raise GateError(f"cache entry {entry.dir} failed verification right after "
                            "being written (disk full?)", str(entry.dir))
        log.info("cache: stored %s", entry.dir)
        return Kernel(entry.bzimage, entry.config, entry.build_log, key, src.version,
                      src.kernelversion, names, from_cache=False)
