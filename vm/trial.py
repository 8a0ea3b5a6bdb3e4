"""Variants of the series and one gate trial on each (shared by ``mutants`` and ``bisect``).

A *variant* is a series directory made from the patches of another one: a prefix (the
first k patches, for bisection) and/or extra diffs inserted at a position (a kernel
mutant, applied after the series or in the middle of it). It goes through the normal
``--series-dir`` path: :func:`vm.build.ensure_kernel` applies it in the cache-owned tree
(reverting whatever series was there), so a variant that differs from the last build in
``net/netlink`` only is an incremental build, and every variant is cached under its own
key.

Kconfig fragments of the variant drop the options that only later patches introduce
(``+config FOO`` in a Kconfig hunk): ``CONFIG_NETLINK_MMAP_TEST=y`` cannot survive
``olddefconfig`` in a prefix without the test driver's patch.

A *trial* runs ``python -m vm gate --kernel BZIMAGE`` in a subprocess (the gate's own
verdict, exit status and JUnit are the result) with its output in a log file, and logs a
progress line now and then so a long campaign is never silent.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import build, console, kselftest, paths, results, series, source
from .errors import GateError, PatchDoesNotApply

log = logging.getLogger(__name__)

HEARTBEAT = 60.0  # seconds between "still running" lines of a trial
TOP = "linux-source-6.12"  # the tarball's top directory


# ---- variants --------------------------------------------------------------------------

_KCONFIG_SYMBOL = re.compile(r"^\+\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$")


def introduced_options(patch: series.Patch) -> set[str]:
    """CONFIG_ names of the Kconfig symbols a patch adds (``+config FOO`` lines)."""
    out = set()
    for line in patch.data.decode("utf-8", "replace").splitlines():
        m = _KCONFIG_SYMBOL.match(line)
        if m:
            out.add(f"CONFIG_{m.group(1)}")
    return out


def filter_fragment(text: str, drop: dict[str, str]) -> str:
    """``text`` without the requests for the options in ``drop`` (name -> why)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(?:# )?(CONFIG_[A-Za-z0-9_]+)[= ]", line.strip())
        if m and m.group(1) in drop:
            out.append(f"# nlmmap variant: {m.group(1)} not requested ({drop[m.group(1)]})")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def write_variant(dest: Path, entries: list[series.Patch], configs: list[Path],
                  later: list[series.Patch] = ()) -> Path:
    """A series directory at ``dest``: ``entries`` in order (written under their names)
    and the Kconfig fragments ``configs``, minus options introduced by ``later``."""
    dest.mkdir(parents=True, exist_ok=True)
    drop = {opt: f"introduced by {p.name}, not in this variant"
            for p in later for opt in introduced_options(p)}
    for p in entries:
        (dest / p.name).write_bytes(p.data)
    for c in configs:
        (dest / c.name).write_text(filter_fragment(c.read_text(), drop))
    lines = [f"# variant of {len(entries)} entries, written by nlmmap-gate"]
    (dest / "series").write_text("\n".join(lines + [p.name for p in entries]) + "\n")
    return dest


def insert(patches: list[series.Patch], extra: series.Patch,
           after: int | None = None) -> list[series.Patch]:
    """``patches`` with ``extra`` after the first ``after`` of them (None: at the end)."""
    k = len(patches) if after is None else after
    if not 0 <= k <= len(patches):
        raise GateError(f"cannot insert {extra.name} after patch {k}: the series has "
                        f"{len(patches)} patches")
    return [*patches[:k], extra, *patches[k:]]


def variant_dir(dest: Path, series_dir: Path, entries: list[series.Patch], k: int) -> Path:
    """The variant of the first ``k`` of ``entries`` (configs from ``series_dir``)."""
    return write_variant(dest, entries[:k], sorted(series_dir.glob("*.config")), entries[k:])


# ---- applying without building -----------------------------------------------------------

class Pristine:
    """The base files a set of patches touches, unpacked once from the source tarball
    into a temp dir: check that a variant applies without the build lock or a build."""

    def __init__(self, files: set[str], tarball: Path = source.TARBALL) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="nlmmap-pristine-"))
        if not tarball.exists():
            raise GateError(f"{tarball} is missing: cannot check that variants apply",
                            f"apt-get install {source.PACKAGE}")
        members = [f"{TOP}/{f}" for f in sorted(files)]
        r = subprocess.run(["tar", "-xJf", str(tarball), "-C", str(self.dir),
                            "--strip-components=1", *members], capture_output=True, text=True)
        bad = [x for x in r.stderr.splitlines()
               if x.strip() and "Not found in archive" not in x and "Exiting with" not in x]
        if bad:  # files a patch creates are "not found": fine
            raise GateError(f"unpacking base files from {tarball} failed: {bad[0]}")

    def check(self, entries: list[series.Patch]) -> str | None:
        """None if ``entries`` apply in order to the base files, else why not."""
        tmp = Path(tempfile.mkdtemp(prefix="nlmmap-apply-"))
        try:
            shutil.copytree(self.dir, tmp, dirs_exist_ok=True)
            series.apply(tmp, entries, quiet=True)
            return None
        except PatchDoesNotApply as e:
            return e.message.replace(str(tmp), "the base tree")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def touched(entries: list[series.Patch]) -> set[str]:
    return {f for p in entries for f in p.files()}


# ---- building and running ---------------------------------------------------------------

def build_variant(series_dir: Path, profile: str) -> build.Kernel:
    """The variant's kernel through the cache (raises GateError: does not apply/build)."""
    k = build.ensure_kernel(profile=profile, series_dir=series_dir, require_series=False)
    log.info("kernel: %s for %s (%s)", k.bzimage, series_dir,
             "cached" if k.from_cache else "built now")
    return k


@dataclass
class Trial:
    """What one gate run said."""

    exit: int  # the gate's exit status: 0 PASS, 1 FAIL, 2 error, ...
    headline: str  # "gate: FAIL: ..." (or the error line)
    failed: list[str] = field(default_factory=list)  # failing test ids from the JUnit XML
    reproducers: list[str] = field(default_factory=list)
    guest_seconds: float | None = None
    seconds: float = 0.0  # wall time of the gate process
    run_dir: str | None = None
    log: str = ""

    @property
    def outcome(self) -> str:
        """pass | fail | error"""
        return {0: "pass", 1: "fail"}.get(self.exit, "error")

    @property
    def output(self) -> str:
        """The gate's output, from its log file ("" if there is none)."""
        try:
            return Path(self.log).read_text(errors="replace") if self.log else ""
        except OSError:
            return ""

    @property
    def caught_by(self) -> str:
        """The first failing test, else the verdict's headline (splat, hang, ...)."""
        if self.failed:
            return self.failed[0]
        return self.headline.removeprefix("gate: FAIL: ").removeprefix("gate: ")


def parse_gate_output(text: str) -> dict:
    """Headline, reproducers, guest seconds and run dir from the gate's output."""
    out: dict = {"headline": "", "reproducers": [], "guest_seconds": None, "run_dir": None}
    for line in text.splitlines():
        s = line.strip()
        if not out["headline"] and re.match(r"gate: (PASS|FAIL|ERROR|error):", s):
            out["headline"] = s
        m = re.match(r"reproducer: (\S+)", s)
        if m:
            out["reproducers"].append(m.group(1))
        m = re.search(r"times: kernel \d+ s, guest (\d+) s", s)
        if m:
            out["guest_seconds"] = float(m.group(1))
        m = re.search(r"\(console: (\S+)/console\.log\)", s)
        if m and out["run_dir"] is None:
            out["run_dir"] = m.group(1)
    if not out["headline"]:
        lines = [x for x in text.splitlines() if x.strip()]
        out["headline"] = lines[-1].strip() if lines else "(no output)"
    return out


def failed_tests(junit: Path) -> list[str]:
    if not junit.exists():
        return []
    try:
        res = results.parse_junit(junit)
    except Exception:  # noqa: BLE001 - a truncated XML (killed guest) is "no result"
        return []
    return [f"{c.classname.rsplit('.', 1)[-1]}::{c.name}" for c in res.cases
            if c.outcome in ("failed", "error")]


def failed_kselftests(run_dir: str | None) -> list[str]:
    """Failing cases of the series' kselftest in a gate run dir (``kselftest::NAME``)."""
    if not run_dir or not (Path(run_dir) / kselftest.OUTPUT).exists():
        return []
    return [f"kselftest::{c.name}" for c in kselftest.collect(Path(run_dir)).cases
            if c.outcome in ("failed", "error")]


def _last_test_line(run_dir: str | None) -> str:
    """The last pytest verdict line on the guest console: where the run is."""
    try:
        text = (Path(run_dir) / "console.log").read_text(errors="replace") if run_dir else ""
    except OSError:
        text = ""
    if not text:
        return "booting"
    for line in reversed(console.tail(text, 50)):
        m = re.search(r"(\S+::\S+)\s+(PASSED|FAILED|ERROR|SKIPPED)", line)
        if m:
            return f"{m.group(1).split('/')[-1]} {m.group(2)}"
    return "starting the suite"


def gate_command(bzimage: Path, *, profile: str, junit: Path, kexpr: str | None = None,
                 fail_fast: bool = True, first: list[str] = (),
                 gate_args: list[str] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "vm", "gate", "--kernel", str(bzimage), "--profile", profile,
           "-q", "--junit", str(junit)]
    if fail_fast:
        cmd.append("--fail-fast")
        for name in first:
            cmd += ["--first", name]
    if kexpr:
        cmd += ["-k", kexpr]
    return cmd + list(gate_args)


def run_gate(bzimage: Path, workdir: Path, *, label: str, profile: str = "fast",
             kexpr: str | None = None, fail_fast: bool = True, first: list[str] = (),
             gate_args: list[str] = ()) -> Trial:
    """Run the gate on ``bzimage``; its output goes to ``workdir/gate.log``."""
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / "junit.xml"
    junit.unlink(missing_ok=True)
    logfile = workdir / "gate.log"
    cmd = gate_command(bzimage, profile=profile, junit=junit, kexpr=kexpr, fail_fast=fail_fast,
                       first=first, gate_args=gate_args)
    t0 = time.monotonic()
    with logfile.open("w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=paths.REPO, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    proc.wait(timeout=HEARTBEAT)
                    break
                except subprocess.TimeoutExpired:
                    run_dir = parse_gate_output(logfile.read_text(errors="replace"))["run_dir"]
                    log.info("%s: gate running for %.0f s, at %s", label,
                             time.monotonic() - t0, _last_test_line(run_dir))
        except BaseException:  # Ctrl-C/SIGTERM: the gate stops its guest on SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    text = logfile.read_text(errors="replace")
    info = parse_gate_output(text)
    failed = failed_tests(junit) or failed_kselftests(info["run_dir"])
    return Trial(proc.returncode, info["headline"], failed, info["reproducers"],
                 info["guest_seconds"], time.monotonic() - t0, info["run_dir"], str(logfile))
