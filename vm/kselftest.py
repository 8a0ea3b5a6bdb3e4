"""The series' own kselftest (tools/testing/selftests/net/netlink_mmap) as a gate suite.

* :func:`prepare` builds it on the host from the kernel tree the gate built (headers +
  ``make -C tools/testing/selftests TARGETS=net/netlink_mmap install``) into the run
  directory, which the guest can read.  A tree without the selftest (a series without the
  patch that adds it) gives ``None``: the gate then runs without this suite and says so.
* :func:`guest_command` appends ``run_kselftest.sh -t net/netlink_mmap:netlink_mmap`` to
  the guest command, keeping the exit status of the command before it (pytest's).
* :func:`parse` reads the KTAP/TAP the runner (or the test binary itself) prints into
  :class:`vm.results.Results`; :func:`judge` folds it into the verdict and the gate's
  KTAP carries it as a second suite (:func:`vm.results.to_ktap_suites`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shlex
import subprocess
from pathlib import Path

from . import cache, paths
from .errors import BuildFailed
from .judge import Verdict
from .results import Case, Results

log = logging.getLogger(__name__)

TARGET = "net/netlink_mmap"
TEST = f"{TARGET}:netlink_mmap"
SUITE = "kselftest_net_netlink_mmap"
OUTPUT = "kselftest.txt"  # in the run directory, written by the guest
SOURCE = Path("tools/testing/selftests") / TARGET


def tree_of(bzimage: Path, kernel_dir: Path | None) -> Path | None:
    """The kernel tree a bzImage was built from: ``--kernel-dir``, else the cache entry's."""
    if kernel_dir is not None:
        return kernel_dir.resolve()
    try:
        tree = json.loads((bzimage.parent / cache.MANIFEST).read_text()).get("tree")
    except (OSError, ValueError):
        return None
    return Path(tree) if tree else None


UAPI_ROOTS = (Path("include/uapi"), Path("arch/x86/include/uapi"))
HEADERS_STAMP = "usr/include/.nlmmap-uapi.sha256"  # digest of the sources last installed


def uapi_digest(tree: Path) -> str:
    """sha256 over the names and contents of the tree's UAPI source headers."""
    h = hashlib.sha256()
    for root in UAPI_ROOTS:
        for src in sorted((tree / root).rglob("*.h")):
            h.update(str(src.relative_to(tree)).encode() + b"\0" + src.read_bytes())
    return h.hexdigest()


def headers_current(tree: Path) -> bool:
    """True if ``make headers`` has installed every UAPI header of the tree as it is now:
    the sources' digest is the one recorded at the last install (a series switch that
    rewrites a header with the same content, new mtime, does not count), or else no
    source header is newer than its installed copy."""
    out = tree / "usr" / "include"
    if not (out / "linux" / "netlink.h").exists():
        return False
    stamp = tree / HEADERS_STAMP
    # a stamp older than the installed headers: another make headers ran since
    if stamp.exists() and stamp.stat().st_mtime >= (out / "linux/netlink.h").stat().st_mtime:
        return stamp.read_text().strip() == uapi_digest(tree)
    for src_root in (tree / r for r in UAPI_ROOTS):
        for src in src_root.rglob("*.h"):
            dst = out / src.relative_to(src_root)
            try:
                if dst.stat().st_mtime < src.stat().st_mtime:
                    return False
            except FileNotFoundError:
                return False
    return True


def headers_command(tree: Path) -> list[str]:
    return ["make", "-C", str(tree), "headers"]


def install_command(tree: Path, dest: Path) -> list[str]:
    return ["make", "-C", str(tree / "tools/testing/selftests"), f"TARGETS={TARGET}", "install",
            f"INSTALL_PATH={dest}"]


def _make(argv: list[str], out, logfile: Path) -> None:
    env = paths.tool_env()
    env.pop("MAKEFLAGS", None)
    out.write(f"$ {shlex.join(argv)}\n")
    out.flush()
    r = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        raise BuildFailed(f"building the kselftest {TARGET} failed: {shlex.join(argv[:3])} "
                          f"exited {r.returncode}", str(logfile))


def prepare(tree: Path | None, run_dir: Path) -> Path | None:
    """Build and install the selftest into ``run_dir/kselftest``; return the install dir,
    or None (logged) when the tree does not carry it."""
    if tree is None or not (tree / SOURCE / "Makefile").exists():
        log.warning("kselftest: %s has no %s (series without the selftest patch?): "
                    "running without the kselftest suite", tree or "no known kernel tree",
                    SOURCE)
        return None
    dest = run_dir / "kselftest"
    logfile = run_dir / "kselftest-build.log"
    with logfile.open("w") as out:
        if headers_current(tree):
            out.write(f"{tree / 'usr/include'} is up to date: no make headers\n")
        else:
            # headers are installed into the tree: not while a kernel build runs there
            with cache.locked(paths.cache_root() / "build.lock", "kselftest headers"):
                _make(headers_command(tree), out, logfile)
                (tree / HEADERS_STAMP).write_text(uapi_digest(tree) + "\n")
        # not under the lock (a cold build elsewhere holds it for half an hour): if a
        # variant build re-patches the tree meanwhile, make fails and the gate says so
        _make(install_command(tree, dest), out, logfile)
    log.info("kselftest: %s built from %s into %s", TARGET, tree, dest)
    return dest


STUCK = "NLMMAP-KSELFTEST: not finished"
LIMIT = 660  # s: the selftest's own timeout (settings: 600) and a minute to spare


def guest_command(command: str, install_dir: Path, run_dir: Path, first: bool = False,
                  limit: int = LIMIT) -> str:
    """The kselftest beside ``command``'s start-up, with its output in the run dir; the
    exit status is still ``command``'s (the kselftest is judged from its output).

    The kselftest runs in the background and is abandoned after ``limit`` seconds: a test
    task stuck in the kernel cannot be killed by the runner's timeout, and waiting for it
    left the guest silent until the gate's silence timeout (15 minutes in a campaign).
    Its output so far is kept; an unfinished plan is judged an error.

    ``first`` (a fail-fast gate): the kselftest (seconds) runs before ``command`` (the
    suite, minutes), and a failing or abandoned kselftest stops there: ``command`` is not
    run."""
    runner = shlex.quote(str(install_dir / "run_kselftest.sh"))
    out = shlex.quote(str(run_dir / OUTPUT))
    start = "\n".join([
        "echo 'NLMMAP-KSELFTEST: start'",
        # through a pipe: the runner reopens /dev/stdout, which for a file starts over
        f"{runner} -t {TEST} 2>&1 | cat > {out} 2>&1 &",
        "ks=$! ks_t0=$(date +%s) stuck= say=30"])
    finish = "\n".join([
        "while kill -0 $ks 2>/dev/null; do",
        "  t=$(($(date +%s) - ks_t0))",
        f"  if [ $t -ge {int(limit)} ]; then stuck=1",
        f"    echo '{STUCK} after {int(limit)} s: abandoned (a task stuck in the kernel?)'",
        "    break; fi",
        # a deadline, not t % 30: date has 1 s resolution, so a beat can repeat or be skipped
        '  if [ $t -ge $say ]; then echo "NLMMAP-KSELFTEST: running, $t s"; say=$((say + 30)); fi',
        "  sleep 1",
        "done",
        f"cat {out}",
        "echo 'NLMMAP-KSELFTEST: done'"])
    if first:
        return (f"{start}\n{finish}\nif [ -n \"$stuck\" ] || grep -Eq '^(# )*not ok ' {out}; "
                "then\necho 'NLMMAP-FAILFAST: the kselftest failed: suite not run'\nexit 1\n"
                f"fi\n{command}")
    # beside the suite's start-up: the suite waits for it before its first test
    # (conformance/conftest.py, pytest_collection_finish)
    return (f"{start}\nNLMMAP_WAIT_PID=$ks NLMMAP_WAIT_LIMIT={int(limit)} {command}\nrc=$?\n"
            f"{finish}\nexit $rc")


_RESULT = re.compile(r"^(not ok|ok) (\d+) (.*?)(?:\s+# (\S+)\s*(.*))?$")
_RUNNER = re.compile(r"^(not ok|ok) \d+ selftests: (\S+) (\S+)(?:\s+# (.*))?$")


def parse(text: str) -> Results:
    """Cases from the harness's TAP, nested in run_kselftest.sh output or not.

    Directives: ``# SKIP`` -> skipped, ``# XFAIL`` -> passed, ``# TIMEOUT`` and a plan
    that was not finished -> error.  Diagnostic lines of a failing case become its message.
    """
    lines = text.splitlines()
    runner = [m for m in map(_RUNNER.match, lines) if m]
    if runner:  # the test's own output is the runner's "# "-prefixed lines
        lines = [x[2:] for x in lines if x.startswith("# ")]
    res = Results()
    plan = None
    diag: list[str] = []
    for line in lines:
        if plan is None and re.match(r"^1\.\.(\d+)$", line):
            plan = int(line[3:])
            continue
        m = _RESULT.match(line)
        if m:
            word, _, name, directive, reason = m.groups()
            directive = (directive or "").upper()
            if directive == "SKIP":
                outcome, message = "skipped", reason or ""
            elif word == "ok":
                outcome, message = "passed", ""
            else:
                outcome = "error" if directive == "TIMEOUT" else "failed"
                message = "\n".join(d for d in diag if not d.startswith(("RUN ", "FAIL ")))
            res.cases.append(Case(name.strip(), "kselftest", outcome, message,
                                  timed_out=directive == "TIMEOUT"))
            diag = []
            continue
        if line.startswith("# "):
            d = line[2:].strip()
            if d.startswith("RUN "):
                diag = []
            elif d:
                diag.append(d)
    if plan is not None and len(res.cases) < plan:
        why = "; ".join(f"runner: {m.group(4)}" for m in runner if m.group(4)) or \
            "the test binary stopped early"
        timed_out = any((m.group(4) or "").upper().startswith("TIMEOUT") for m in runner)
        res.cases.append(Case("netlink_mmap", "kselftest", "error",
                              f"{plan - len(res.cases)} of {plan} planned tests did not "
                              f"report ({why})", timed_out=timed_out))
    elif plan is None:
        first = next((m.group(0) for m in runner), "no TAP output")
        res.cases.append(Case("netlink_mmap", "kselftest", "error",
                              f"no test plan from the kselftest: {first}"))
    return res


def collect(run_dir: Path) -> Results:
    out = run_dir / OUTPUT
    if not out.exists():
        return Results([Case("netlink_mmap", "kselftest", "error",
                             f"the guest left no kselftest output ({out})")])
    return parse(out.read_text(errors="replace"))


def judge(verdict: Verdict, res: Results, run_dir: Path) -> Verdict:
    """The gate's verdict with the kselftest suite folded in."""
    where = f"kselftest output: {run_dir / OUTPUT}"
    if res.ok:
        verdict.details.append(f"kselftest {TARGET}: {res.summary()}")
        verdict.details.append(where)
        return verdict
    failed = [f"    {c.name}: {c.message.splitlines()[0] if c.message else c.outcome}"
              for c in res.cases if c.outcome in ("failed", "error")]
    details = [*failed[:30], where]
    if not verdict.ok:
        verdict.details += [f"also: kselftest {TARGET} failed: {res.summary()}", *details]
        return verdict
    return Verdict(False, f"kselftest {TARGET} failed in the guest: {res.summary()}",
                   details + verdict.details)
