"""``python -m vm {gate,build,run,shell,mutants,bisect,merge,soak,bench}``."""

from __future__ import annotations

import argparse
import logging
import os
import random
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

from conformance import coverage as rule_coverage
from conformance import rundir

from . import (
    bench,
    bisect,
    boot,
    build,
    diffplan,
    dryrun,
    hostbuild,
    jobs,
    judge,
    kcidb,
    kselftest,
    merge,
    mutants,
    paths,
    results,
    shard,
    soak,
)
from .errors import GateError

log = logging.getLogger("vm")


def _common(p: argparse.ArgumentParser, *, boots: bool = True) -> None:
    p.add_argument("--kernel-dir", type=Path, metavar="DIR",
                   help="your own kernel tree (series applied only if missing; told when)")
    p.add_argument("--profile", choices=("fast", "debug"), default="fast",
                   help="fast, or debug (KASAN, lockdep, ...: vm/configs/debug.config)")
    p.add_argument("--series-dir", type=Path, default=paths.PATCHES, metavar="DIR",
                   help="directory with series, NNNN-*.patch and *.config (default: patches/)")
    p.add_argument("--rebuild", action="store_true", help="ignore a cached kernel")
    p.add_argument("--dry-run", action="store_true",
                   help="print the exact build and boot commands, run none of them")
    if boots:
        p.add_argument("--kernel", type=Path, metavar="BZIMAGE",
                       help="boot this image instead of building (skips source/series/config)")
        p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                       help="auto: probe KVM, fall back to TCG (default)")
        p.add_argument("--memory", default=None, help="guest memory (default 2G, 4G for debug)")
        p.add_argument("--cpus", type=int, default=2)
        p.add_argument("--tcg-thread", choices=("single", "multi"), default=boot.TCG_THREAD,
                       help="TCG with several vCPUs: one host thread for all (single) or "
                       f"one each (multi, QEMU's default); default {boot.TCG_THREAD}")
        p.add_argument("--append", action="append", default=[], metavar="ARG",
                       help="extra kernel command line argument (repeatable)")
        p.add_argument("--silence-timeout", type=float, default=300, metavar="S",
                       help="kill the guest as hung after S seconds without output")
        p.add_argument("--timeout", type=float, default=None, metavar="S",
                       help="overall limit for one guest run (default 3600; 7200 for the "
                       "debug profile, whose stress run alone may take 40 min)")
        p.add_argument("-q", "--quiet-console", action="store_true",
                       help="do not stream the guest console (it is still logged)")


GATE_EXIT_CODES = f"""\
exit status:
  0  PASS: every test passed, the console is clean
  1  FAIL: a test failed, or a kernel splat, hang or guest death once the suite ran, or
     a splat naming netlink code at any time
  2  error: bad arguments, the build failed, a tool is missing (one line gate: error:)
  {judge.INFRA_EXIT}  ERROR, infrastructure: twice in a row the run said nothing about the kernel
     (QEMU/virtme-ng failed, the guest died or hung while booting, or a splat while
     booting outside netlink code); JUnit has one <error>, KTAP '# ERROR'.  One such
     failure is retried automatically; a retry that passes is PASS and says so.
"""


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m vm", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gate", help="build the patched kernel, run the conformance suite "
                       "inside, judge (exit 0 only if tests pass and the console is clean)",
                       epilog=GATE_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(g)
    g.add_argument("--junit", type=Path, metavar="FILE", help="copy the JUnit XML here")
    g.add_argument("--ktap", action="store_true", help="also write (and print) KTAP results")
    g.add_argument("--kcidb", type=Path, metavar="FILE",
                   help="copy the run's KCIDB JSON (always written as kcidb.json in the run "
                   "directory) here")
    g.add_argument("--shard", type=shard.parse, metavar="I/N",
                   help="run shard I of N: every N-th test, 1/N of the differential steps "
                   "and stress budget with this shard's seeds (merge with `python -m vm "
                   "merge`)")
    g.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="run the gate as N shards booted side by side on this machine and "
                   "merge them (one kernel build; each shard is --shard I/N)")
    g.add_argument("--seed", type=int, metavar="S",
                   help="base seed of the hypothesis and stress seeds (default: random, "
                   "logged; give all shards of one gate the same)")
    g.add_argument("--out", type=Path, metavar="DIR",
                   help="also copy the run's results (JUnit, KTAP, KCIDB, verdict, logs) "
                   "into DIR (what `merge` reads)")
    g.add_argument("-k", dest="kexpr", metavar="EXPR", help="pytest -k expression")
    g.add_argument("-x", "--fail-fast", action="store_true",
                   help="stop at the first failure: the kselftest first, then the suite "
                   "cheapest-first (pytest -x; a passing run still runs every test)")
    g.add_argument("--first", action="append", default=[], metavar="TEST",
                   help="with --fail-fast: run this test before the others (a test "
                   "function name or a full pytest id; repeatable)")
    g.add_argument("--diff-steps", type=int, metavar="N",
                   help=f"differential steps in the guest (default {DIFF_STEPS[0]}; "
                   f"{DIFF_STEPS[1]} for the debug profile: KASAN under TCG is much slower)")
    g.add_argument("--no-kselftest", action="store_true",
                   help=f"do not run the series' kselftest ({kselftest.TARGET}) after the suite")
    g.add_argument("--kselftest-tree", type=Path, metavar="DIR",
                   help="build the kselftest from this kernel tree (default: the tree the "
                   "kernel was built from; skipped if it has no tools/testing/selftests/"
                   f"{kselftest.TARGET})")
    b = sub.add_parser("build", help="source -> series -> config -> build (cached)")
    _common(b, boots=False)
    b.add_argument("--config-only", action="store_true",
                   help="stop after the config is written and verified")
    r = sub.add_parser("run", help="run one command in the guest: python -m vm run -- CMD")
    _common(r)
    r.add_argument("command", nargs=argparse.REMAINDER, help="the command (after --)")
    s = sub.add_parser("shell", help="interactive guest")
    _common(s)
    mutants.add_parser(sub)
    bisect.add_parser(sub)
    merge.add_parser(sub)
    soak.add_parser(sub)
    bench.add_parser(sub)
    return ap


def _kernel(args, *, require_series: bool) -> Path:
    if getattr(args, "kernel", None):
        log.info("kernel: using %s as given (no build)", args.kernel)
        return args.kernel
    k = build.ensure_kernel(profile=args.profile, kernel_dir=args.kernel_dir,
                            series_dir=args.series_dir, require_series=require_series,
                            rebuild=args.rebuild,
                            config_only=getattr(args, "config_only", False))
    if getattr(args, "config_only", False):
        return k.config
    log.info("kernel: %s %s, series [%s], %s", k.kernelversion, k.source_version,
             " ".join(k.series) or "none", "cached" if k.from_cache else "built now")
    return k.bzimage


def _memory(args) -> str:
    return args.memory or ("4G" if args.profile == "debug" else "2G")


def _timeout(args) -> float:
    return args.timeout or (7200 if args.profile == "debug" else 3600)


def _plan_build(args, *, require_series: bool) -> tuple[list[str], Path, Path | None]:
    return dryrun.build_plan(profile=args.profile, series_dir=args.series_dir,
                             kernel=getattr(args, "kernel", None), kernel_dir=args.kernel_dir,
                             rebuild=args.rebuild,
                             config_only=getattr(args, "config_only", False),
                             require_series=require_series)


def cmd_build(args) -> int:
    if args.dry_run:
        return dryrun.show(_plan_build(args, require_series=False)[0])
    t0 = time.monotonic()
    bz = _kernel(args, require_series=False)
    log.info("build: ready in %.0f s: %s", time.monotonic() - t0, bz)
    print(bz)
    return 0


def _boot(args, bz: Path, command: str, label: str) -> boot.BootResult:
    return boot.run(bz, command, cache=paths.cache_root(), accel=args.accel,
                    memory=_memory(args), cpus=args.cpus, silence=args.silence_timeout,
                    total=_timeout(args), echo=not args.quiet_console, label=label,
                    append=_append(args), tcg_thread=args.tcg_thread)


def cmd_run(args) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise GateError("no command given", "python -m vm run -- CMD [ARGS...]")
    if args.dry_run:
        lines, bz, _ = _plan_build(args, require_series=False)
        return dryrun.show(lines + dryrun.boot_plan(
            args, bz, shlex.join(command) if len(command) > 1 else command[0], _memory(args),
            _append(args)))
    bz = _kernel(args, require_series=False)
    res = _boot(args, bz, shlex.join(command) if len(command) > 1 else command[0], "run")
    bad = judge.judge_boot(res)
    if bad is not None:
        print(bad.render(), file=sys.stderr)
        return bad.exit_code if res.status in (None, 0) else res.status
    log.info("run: command exited %d; console clean", res.status)
    return res.status or 0


def cmd_shell(args) -> int:
    if args.dry_run:
        lines, bz, _ = _plan_build(args, require_series=False)
        return dryrun.show(lines + dryrun.boot_plan(args, bz, None, _memory(args),
                                                    _append(args)))
    bz = _kernel(args, require_series=False)
    return boot.shell(bz, cache=paths.cache_root(), accel=args.accel, memory=_memory(args),
                      cpus=args.cpus, append=_append(args), tcg_thread=args.tcg_thread)


DIFF_STEPS = (10000, 1000)  # fast, debug
# The stress test's budget (conformance/test_stress.py): the debug profile (KASAN,
# lockdep) runs until 100,000 outcomes were checked, at most 40 min; the host's
# NLMMAP_STRESS_* variables override.
STRESS = {"fast": {"NLMMAP_STRESS_SECONDS": "30"},
          "debug": {"NLMMAP_STRESS_SECONDS": "2400", "NLMMAP_STRESS_CHECKS": "100000"}}


# The debug profile boots without 5-level paging. 6.12's pgtable_l5_enabled() reads the
# LA57 bit of boot_cpu_data, which identify_cpu() zeroes and refills during boot; an
# interrupt in that window makes KASAN size its shadow for 4-level paging and report the
# (5-level) direct-map address of an irq_desc lock as "wild-memory-access in
# do_raw_spin_lock". TCG's CPU model offers LA57; most hosts do not. Not the series.
PROFILE_APPEND = {"fast": (), "debug": ("no5lvl",)}


def _append(args) -> tuple[str, ...]:
    return (*PROFILE_APPEND[args.profile], *args.append)


def diff_steps(args) -> int:
    return args.diff_steps or DIFF_STEPS[args.profile == "debug"]


def stress_budget(profile: str) -> dict[str, str]:
    return {k: os.environ.get(k, v) for k, v in STRESS[profile].items()}


def guest_pytest(run_dir: Path, kexpr: str | None, diff_steps: int = DIFF_STEPS[0],
                 fail_fast: bool = False, env: dict[str, str] | None = None,
                 first: list[str] = (), extra: list[str] = ()) -> str:
    """The command the guest runs: pytest on the read-only repo, state in the rw dir
    (NLMMAP_RUN_DIR, exported by the guest script: conformance/rundir.py).
    Fail-fast runs order the suite cheapest-first, ``first`` before all (see
    conformance/ordering.py)."""
    argv = [sys.executable, "-m", "pytest", "conformance", "-m", "kernel", "-p",
            "no:cacheprovider", "-v", "--color=no", "-o", "console_output_style=classic",
            f"--junitxml={run_dir / 'junit.xml'}"]
    if kexpr:
        argv += ["-k", kexpr]
    if fail_fast:
        argv.append("-x")
        env = {**(env or {}), "NLMMAP_CHEAP_FIRST": "1", "NLMMAP_FIRST": ",".join(first)}
    env = {"NLMMAP_DIFF_STEPS": str(int(diff_steps)), **(env or {})}
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + \
        shlex.join([*argv, *extra])


def prewarm_collection(kexpr: str | None, run_dir: Path) -> list[str] | None:
    """Collect the suite once on the host so .pyc files (incl. pytest's assert-rewritten
    ones) exist: the guest sees the repo read-only and imports ~25x slower under TCG.
    Collected with the guest's NLMMAP_RUN_DIR, it also leaves hypothesis' constants of our
    modules (hypothesis parses every local module for literals; its cache is in the run's
    hypothesis directory, which starts empty) where the guest's collection finds them:
    guest collection 9.4-10.1 s -> 5.0-5.4 s (patches/TESTING.md). Returns the collected
    node ids (None if the collection failed)."""
    import subprocess

    t0 = time.monotonic()
    env = dict(os.environ, **{rundir.ENV: str(run_dir)})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "conformance", "-m",
            "kernel", "-p", "no:cacheprovider"] + (["-k", kexpr] if kexpr else [])
    r = subprocess.run(argv, cwd=paths.REPO, env=env, capture_output=True, text=True)
    last = (r.stdout.strip().splitlines() or ["?"])[-1]
    log.info("prewarm: host-side collection (%s) in %.1f s: %s", "ok" if r.returncode == 0
             else f"exit {r.returncode}", time.monotonic() - t0, last)
    return [ln for ln in r.stdout.splitlines() if "::" in ln] if r.returncode == 0 else None


def _gate_attempt(args, bz: Path, run_dir: Path, ks_dir: Path | None, plan: bool):
    """One boot running the suite (and the kselftest): (verdict, parsed JUnit, kselftest
    results, boot result). With ``plan``, the differential run is drawn on the host."""
    sh_env, sh_args = _sharding(args)
    env = {**stress_budget(args.profile), **hostbuild.prepare(run_dir), **sh_env}
    if plan:
        env.update(diffplan.draw(run_dir, _plan_steps(args, sh_env), _plan_seed(args),
                                 beside=not args.fail_fast))
    command = guest_pytest(run_dir, args.kexpr, diff_steps(args), args.fail_fast, env,
                           args.first, sh_args)
    if ks_dir is not None:
        command = kselftest.guest_command(command, ks_dir, run_dir, first=args.fail_fast)
    res = boot.run(bz, command, cache=paths.cache_root(),
                   accel=args.accel, memory=_memory(args), cpus=args.cpus,
                   silence=args.silence_timeout, total=_timeout(args),
                   echo=not args.quiet_console, run_dir=run_dir, label="gate",
                   append=_append(args), tcg_thread=args.tcg_thread)
    junit = run_dir / "junit.xml"
    parsed = results.parse_junit(junit) if junit.exists() else None
    ks_res = kselftest.collect(run_dir) if ks_dir is not None else None
    if parsed is None and ks_res is not None and not ks_res.ok and args.fail_fast:
        # the kselftest ran first and failed: the suite was not started (fail-fast)
        verdict = judge.judge_boot(res) or judge.Verdict(
            True, "", ["conformance suite not run (fail-fast: the kselftest failed first)",
                       f"console log: {res.console_path}"])
    else:
        verdict = judge.judge_tests(res, junit, parsed)
    if ks_res is not None and not verdict.infra:
        verdict = kselftest.judge(verdict, ks_res, run_dir)
    return verdict, parsed, ks_res, res


def _write_results(args, run_dir: Path, verdict: judge.Verdict, parsed, ks_res) -> None:
    """JUnit (--junit) and KTAP (--ktap): the suites' results, or one infrastructure
    error when the run did not judge the kernel."""
    junit = run_dir / "junit.xml"
    if verdict.infra:
        junit = run_dir / "junit-infrastructure.xml"
        junit.write_text(results.infra_junit(verdict.headline, verdict.details))
    if args.junit and junit.exists():
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(junit, args.junit)
        junit = args.junit
    if args.ktap and (parsed is not None or verdict.infra):
        ktap = junit.with_suffix(".ktap")
        if verdict.infra:
            ktap.write_text(results.infra_ktap(verdict.headline))
        else:
            ktap.write_text(results.to_ktap(parsed) if ks_res is None else
                            results.to_ktap_suites([("nlmmap_conformance", parsed),
                                                    (kselftest.SUITE, ks_res)]))
        print(ktap.read_text(), end="")
        log.info("gate: KTAP written to %s", ktap)
    if verdict.infra:
        verdict.details.append(f"JUnit (one infrastructure error): {junit}")


def _plan_steps(args, sh_env: dict[str, str]) -> int:
    """The differential steps of this run: the shard's part of the budget, if sharded."""
    return int(sh_env.get("NLMMAP_DIFF_STEPS", diff_steps(args)))


def _plan_seed(args) -> int | None:
    """The seed of this run's differential plan: the shard's hypothesis seed, if any."""
    return None if args.seed is None else shard.shard_seed(args.seed,
                                                           args.shard or shard.Shard(1, 1))


def _sharding(args) -> tuple[dict[str, str], list[str]]:
    """This run's part of the budgets and its seeds (nothing without --shard/--seed)."""
    if args.shard is None and args.seed is None:
        return {}, []
    sh = args.shard or shard.Shard(1, 1)
    budgets = {"NLMMAP_DIFF_STEPS": str(diff_steps(args)), **stress_budget(args.profile)}
    return shard.guest_env(sh, args.seed, budgets), shard.pytest_args(sh, args.seed)


def _choose_seed(args) -> None:
    """A random base seed for a sharded run (--shard, or the shards --jobs makes)."""
    if (args.shard is not None or args.jobs > 1) and args.seed is None:
        args.seed = random.randrange(2**32)
    if args.jobs > 1:
        log.info("gate --jobs %d: base seed %d", args.jobs, args.seed)
    elif args.seed is not None:
        sh = args.shard or shard.Shard(1, 1)
        log.info("shard %s: base seed %d (this shard's: %d)", sh, args.seed,
                 shard.shard_seed(args.seed, sh))


def _runs_kselftest(args) -> bool:
    return not args.no_kselftest and (args.shard is None or args.shard.runs_kselftest)


def dry_run_gate(args) -> int:
    lines, bz, tree = _plan_build(args, require_series=not args.kernel)
    _choose_seed(args)
    if args.jobs > 1:
        return dryrun.show(lines + [
            dryrun.cmd_line([sys.executable, "-m", "vm",
                             *jobs.shard_argv(args, bz, i, args.jobs, Path(f"<run>/shard-{i}"))])
            + " &" for i in range(1, args.jobs + 1)] + ["wait; python -m vm merge "
                                                         "<run>/shard-* --out <run>/merged"])
    run_dir = paths.cache_root() / "runs" / dryrun.RUN_DIR
    sh_env, sh_args = _sharding(args)
    lines += [dryrun.cmd_line(hostbuild.build_command(t, hostbuild.build_dir(t)))
              + "   # no-op when up to date" for t in hostbuild.TREES]
    seed = _plan_seed(args)
    lines.append(dryrun.cmd_line(diffplan.command(
        run_dir, _plan_steps(args, sh_env), "RANDOM" if seed is None else seed))
        + "   # unless -k leaves out the differential")
    command = guest_pytest(run_dir, args.kexpr, diff_steps(args), args.fail_fast,
                           {**stress_budget(args.profile), **hostbuild.guest_env(),
                            **sh_env, **diffplan.guest_env(run_dir, not args.fail_fast)},
                           args.first, sh_args)
    if _runs_kselftest(args):
        lines += dryrun.kselftest_plan(args.kselftest_tree
                                       or kselftest.tree_of(bz, args.kernel_dir) or tree)
        command = kselftest.guest_command(command, run_dir / "kselftest", run_dir,
                                          first=args.fail_fast)
    return dryrun.show(lines + dryrun.boot_plan(args, bz, command, _memory(args),
                                                _append(args)))


def _write_kcidb(args, bz: Path, res: boot.BootResult, verdict: judge.Verdict, suites,
                 started: float) -> str:
    """The run as KCIDB JSON in its run directory (and at ``--kcidb``): one line saying
    where and whether kcidb-io accepted it."""
    bad = judge.judge_boot(res)
    run = kcidb.Run(res.run_dir, started, res.elapsed,
                    f"{res.accel.upper()}, {args.cpus} CPU, {_memory(args)}",
                    bad.render() if bad else None, res.console_path,
                    f"python -m vm gate --kernel {shlex.quote(str(bz))} --profile {args.profile}",
                    str(args.shard) if args.shard else None, boot_infra=verdict.infra)
    logs = {"nlmmap_conformance": res.run_dir / "junit.xml",
            kselftest.SUITE: res.run_dir / kselftest.OUTPUT}
    data = kcidb.report(kcidb.built(bz, args.series_dir), run, suites, logs)
    line = kcidb.write(data, res.run_dir / "kcidb.json")
    if args.kcidb:
        line += "; " + kcidb.write(data, args.kcidb)
    return line


def _gate_jobs(args, bz: Path, t0: float) -> int:
    """--jobs N: the shards side by side, one merged verdict (vm/jobs.py)."""
    _choose_seed(args)
    code, merged = jobs.run(args, bz)
    log.info("gate --jobs %d: merged into %s; total %.0f s", args.jobs, merged,
             time.monotonic() - t0)
    return code


def cmd_gate(args) -> int:
    if args.jobs < 1 or (args.jobs > 1 and args.shard is not None):
        raise GateError("--jobs N needs N >= 1 and no --shard (it makes the shards)")
    if args.dry_run:
        return dry_run_gate(args)
    t0 = time.monotonic()
    bz = _kernel(args, require_series=not args.kernel)
    if args.jobs > 1:
        return _gate_jobs(args, bz, t0)
    started = time.time()
    t_build = time.monotonic() - t0
    _choose_seed(args)
    if args.first and not args.fail_fast:
        raise GateError("--first needs --fail-fast (it orders a fail-fast run)")
    run_dir = boot.new_run_dir(paths.cache_root(), "gate")
    plan = diffplan.wanted(prewarm_collection(args.kexpr, run_dir))
    ks_dir = None if not _runs_kselftest(args) else kselftest.prepare(
        args.kselftest_tree or kselftest.tree_of(bz, args.kernel_dir), run_dir)
    retried = []
    for attempt in (1, 2):
        if attempt == 2:
            run_dir = boot.new_run_dir(paths.cache_root(), "gate-retry")
            prewarm_collection(args.kexpr, run_dir)  # the constants cache is per run dir
        verdict, parsed, ks_res, res = _gate_attempt(args, bz, run_dir, ks_dir, plan)
        if not verdict.infra or attempt == 2:
            break
        # one line, parsed by `vm soak`: a retried infrastructure failure is still counted
        print(f"gate: infrastructure failure on attempt {attempt} ({run_dir}): "
              f"{verdict.headline}; retrying once", file=sys.stderr, flush=True)
        retried.append(f"attempt {attempt} was an infrastructure failure, retried: "
                       f"{verdict.headline} ({run_dir})")
    _write_results(args, run_dir, verdict, parsed, ks_res)
    covered = rule_coverage.write_report(run_dir)
    if covered is not None:
        log.info("gate: %s (%s)", covered, run_dir / rule_coverage.REPORT)
    for repro in sorted(run_dir.glob("nlmmap-repro-*.nls")):
        verdict.details.append(f"reproducer: {repro}\n  replay: python -m vm run -- python -m "
                               f"conformance replay {repro} --backend kernel")
    verdict.details += retried
    suites = [("nlmmap_conformance", parsed)] if parsed is not None else []
    suites += [(kselftest.SUITE, ks_res)] if ks_res is not None else []
    verdict.details.append(_write_kcidb(args, bz, res, verdict, suites, started))
    verdict.details.append(f"times: kernel {t_build:.0f} s, guest {res.elapsed:.0f} s "
                           f"({res.accel.upper()}), total {time.monotonic() - t0:.0f} s")
    print(verdict.render(), file=sys.stderr if not verdict.ok else sys.stdout)
    merge.record(run_dir, code=verdict.exit_code, headline=verdict.render().splitlines()[0],
                 shard=args.shard or shard.Shard(1, 1), seed=args.seed, kernel=bz,
                 seconds={"kernel": t_build, "guest": res.elapsed,
                          "total": time.monotonic() - t0})
    if args.out:
        merge.export(run_dir, args.out)
    return verdict.exit_code


def _terminated(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # SIGTERM (CI cancelling a job) unwinds like Ctrl-C: make and qemu are stopped too
    signal.signal(signal.SIGTERM, _terminated)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="[%(asctime)s %(name)s] %(message)s", datefmt="%H:%M:%S")
    try:
        return {"gate": cmd_gate, "build": cmd_build, "run": cmd_run, "shell": cmd_shell,
                "mutants": mutants.cmd_mutants, "bisect": bisect.cmd_bisect,
                "soak": soak.cmd_soak, "merge": merge.cmd_merge,
                "bench": bench.cmd_bench}[args.cmd](args)
    except GateError as e:
        print(e.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gate: interrupted", file=sys.stderr)
        return 130
