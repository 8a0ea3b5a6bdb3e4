"""``gate --jobs N``: one gate as N shards booted side by side on this machine, merged.

Most of the suite is one Python process, so a guest keeps about one host core busy
outside the differential (which forks a worker per guest vCPU); a second guest running
the other half of the tests (and half of the differential and stress budgets, with its
own seeds: :mod:`vm.shard`) uses cores the first leaves idle. On the 2-core dev machines
there are none to spare: there `--jobs 2` was slower than one gate (README). The kernel
is built once, before the shards start; each shard is an ordinary
``gate --kernel BZ --shard I/N --seed S --out DIR`` in a subprocess (its own run
directory, console log and verdict), and :func:`vm.merge.merge` makes the one verdict,
exactly as the CI workflow's merge job does.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import boot, merge, paths
from .errors import GateError

log = logging.getLogger(__name__)

PROGRESS_EVERY = 60  # s between progress lines while the shards run

# gate options that each shard gets as given (dest -> flag); everything else is decided
# here (kernel, shard, seed, out, results files) or does not apply to a shard
FORWARDED = {"profile": "--profile", "accel": "--accel", "memory": "--memory",
             "cpus": "--cpus", "tcg_thread": "--tcg-thread", "append": "--append",
             "silence_timeout": "--silence-timeout", "timeout": "--timeout",
             "kexpr": "-k", "fail_fast": "--fail-fast", "first": "--first",
             "diff_steps": "--diff-steps", "no_kselftest": "--no-kselftest",
             "kselftest_tree": "--kselftest-tree"}
# handled by the parent: the merged results go where the single-run options say
PARENT = {"kernel", "kernel_dir", "series_dir", "rebuild", "dry_run", "shard", "seed", "out",
          "junit", "ktap", "kcidb", "jobs", "quiet_console", "cmd", "verbose"}


def shard_argv(args, bz: Path, index: int, count: int, out: Path) -> list[str]:
    """The ``python -m vm gate`` arguments of shard ``index`` of ``count``."""
    argv = ["gate", "--kernel", str(bz), "--shard", f"{index}/{count}", "--seed",
            str(args.seed), "--out", str(out), "-q"]
    for dest, flag in FORWARDED.items():
        value = getattr(args, dest)
        if value is None or value is False or value == []:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            for v in value:
                argv += [flag, str(v)]
        else:
            argv += [flag, str(value)]
    if args.kselftest_tree is None and args.kernel_dir is not None:
        argv += ["--kselftest-tree", str(args.kernel_dir)]  # the tree the kernel came from
    return argv


def _last_line(path: Path) -> str:
    lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    return lines[-1][:160] if lines else "(nothing yet)"


def _wait(procs, n: int, t0: float, every: float = PROGRESS_EVERY) -> None:
    """Wait for every shard, logging each one's latest line now and then (progress)."""
    running = {i: p for i, _, _, p in procs}
    last = time.monotonic()
    while running:
        time.sleep(1)
        for i, p in list(running.items()):
            if p.poll() is not None:
                del running[i]
                log.info("gate --jobs %d: shard %d/%d exited %d after %.0f s", n, i, n,
                         p.returncode, time.monotonic() - t0)
        if running and time.monotonic() - last >= every:
            last = time.monotonic()
            for i, _, logf, _ in procs:
                if i in running:
                    log.info("gate --jobs %d: shard %d/%d at %.0f s: %s", n, i, n,
                             last - t0, _last_line(Path(logf.name)))


def run(args, bz: Path) -> tuple[int, Path]:
    """Boot the shards in parallel, wait for all, merge; (exit status, merged dir)."""
    n = args.jobs
    top = boot.new_run_dir(paths.cache_root(), "gate-jobs")
    procs = []
    for i in range(1, n + 1):
        out = top / f"shard-{i}"
        argv = [sys.executable, "-m", "vm", *shard_argv(args, bz, i, n, out)]
        logf = (top / f"shard-{i}.log").open("w")
        log.info("gate --jobs %d: shard %d/%d started (log: %s)", n, i, n, logf.name)
        procs.append((i, out, logf, subprocess.Popen(argv, stdout=logf, cwd=paths.REPO,
                                                     stderr=subprocess.STDOUT)))
    t0 = time.monotonic()
    try:
        _wait(procs, n, t0)
    finally:
        for _, _, logf, p in procs:
            if p.poll() is None:  # interrupted: stop the other shards and their guests
                p.terminate()
                p.wait()
            logf.close()
    missing = [f"shard {i} wrote no results (see {top / f'shard-{i}.log'})"
               for i, out, _, _ in procs if not (out / merge.RECORD).exists()]
    if missing:
        raise GateError("gate --jobs: " + "; ".join(missing), str(top))
    merged = top / "merged"
    code = merge.merge([out for _, out, _, _ in procs], merged)
    _deliver(args, merged)
    return code, merged


def _deliver(args, merged: Path) -> None:
    """The merged results where a single run's --junit, --kcidb, --ktap and --out put
    theirs."""
    for option, name in ((args.junit, "junit.xml"), (args.kcidb, "kcidb.json")):
        if option:
            option.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(merged / name, option)
    if args.ktap:
        print((merged / "junit.ktap").read_text(), end="")
    if args.out:
        shutil.copytree(merged, args.out, dirs_exist_ok=True)
