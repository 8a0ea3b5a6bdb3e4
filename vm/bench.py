"""``python -m vm bench``: the series' benchmarks, side by side, one guest run per kernel.

The programs in bench/ (C, compiled on the host into the run directory: the guest sees
the host's root) each compare a baseline with the ring variants in the same run. Every
kernel is booted once and runs the selected programs in turn; the figures are parsed
from their ``BENCH`` lines (see bench/bench.h) and written to the run directory as
``bench.json``, ``bench.md`` and ``bench.png`` (vm/benchreport.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import benchreport, boot, paths
from .errors import GateError, ToolMissing

log = logging.getLogger(__name__)

BENCH_DIR = paths.REPO / "bench"


@dataclass(frozen=True)
class Program:
    name: str
    args: tuple[str, ...]  # at --scale 1
    what: str


# Default arguments: a few minutes per program under TCG on one CPU.
PROGRAMS = {
    "tx": Program("tx_ring", ("2048", "{reps}", "2048"),
                  "TX ring vs sendmsg: noop, noop+ack, getlink, 16 KiB noop"),
    "dump": Program("dump", ("2000", "100000", "{reps}"),
                    "dumps: 2,000 routes, 100,000 test-driver messages; recvmsg vs RX ring"),
    "nfqueue": Program("nfqueue", ("2", "{reps}", "2000"),
                       "NFQUEUE, 1400-byte UDP over veth: recv+sendmsg vs RX+TX ring, "
                       "batch 1 and 10"),
}


def kernel_spec(text: str) -> tuple[str, Path]:
    """``LABEL=BZIMAGE`` (argparse type)."""
    label, sep, path = text.partition("=")
    if not sep or not label or not path or not label.replace("-", "").replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"'{text}' is not LABEL=BZIMAGE (LABEL: letters, "
                                         "digits, - and _)")
    return label, Path(path)


def row_list(text: str) -> list[str]:
    rows = [r.strip() for r in text.split(",") if r.strip()]
    bad = [r for r in rows if r not in PROGRAMS]
    if not rows or bad:
        raise argparse.ArgumentTypeError(f"unknown row(s) {', '.join(bad) or '(none)'}; "
                                         f"choose from {', '.join(PROGRAMS)}")
    return list(dict.fromkeys(rows))


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks: every kernel booted once, ring variants "
                       "against their baseline in the same run; JSON, Markdown, PNG")
    p.add_argument("--kernel", action="append", type=kernel_spec, default=[],
                   metavar="LABEL=BZIMAGE",
                   help="a kernel to measure (repeatable, in this order); default: the "
                   "series built through the cache, labelled 'series'")
    p.add_argument("--rows", type=row_list, default=list(PROGRAMS),
                   help=f"comma-separated programs (default: {','.join(PROGRAMS)})")
    p.add_argument("--reps", type=int, default=5, help="repetitions per variant (default 5)")
    p.add_argument("--baseline-only", action="store_true",
                   help="run only the baselines (for kernels without CONFIG_NETLINK_MMAP)")
    p.add_argument("--profile", choices=("fast", "debug"), default="fast")
    p.add_argument("--series-dir", type=Path, default=paths.PATCHES, metavar="DIR")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--memory", default="2G")
    p.add_argument("-q", "--quiet-console", action="store_true",
                   help="do not stream the guest console (progress lines are still logged)")


def compile_programs(rows: list[str], out: Path) -> dict[str, Path]:
    """gcc each program into ``out`` (the guest runs them from there)."""
    out.mkdir(parents=True, exist_ok=True)
    bins = {}
    for row in rows:
        prog = PROGRAMS[row]
        src, exe = BENCH_DIR / f"{prog.name}.c", out / prog.name
        r = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", str(exe), str(src)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            first = (r.stderr.strip().splitlines() or ["?"])[0]
            raise GateError(f"bench: compiling {src.name} failed: {first}", str(src))
        bins[row] = exe
    return bins


def guest_command(rows: list[str], bins: dict[str, Path], out: Path, reps: int,
                  baseline_only: bool) -> str:
    """Run each program, its figures into ``out/ROW.out``; stop at the first failure."""
    lines = [f"export NLMMAP_BENCH_BASELINE_ONLY={int(baseline_only)}"]
    for i, row in enumerate(rows, 1):
        prog = PROGRAMS[row]
        argv = [str(bins[row]), *(a.format(reps=reps) for a in prog.args)]
        dest = shlex.quote(str(out / f"{row}.out"))
        lines += [f"echo 'bench: [{i}/{len(rows)}] {row}: {prog.what}' >&2",
                  f"{shlex.join(argv)} > {dest} || {{ echo 'bench: {row} failed' >&2; "
                  f"exit 1; }}",
                  f"grep -v '^BENCH ' {dest} >&2 || true"]
    return "\n".join(lines)


def _kernels(args) -> list[tuple[str, Path]]:
    if args.kernel:
        labels = [k for k, _ in args.kernel]
        dup = {k for k in labels if labels.count(k) > 1}
        if dup:
            raise GateError(f"bench: kernel label(s) used twice: {', '.join(sorted(dup))}")
        for label, bz in args.kernel:
            if not bz.is_file():
                raise GateError(f"bench: kernel image {bz} ({label}) does not exist",
                                "python -m vm build")
        return list(args.kernel)
    from . import build
    k = build.ensure_kernel(profile=args.profile, kernel_dir=None, series_dir=args.series_dir,
                            require_series=True, rebuild=False)
    return [("series", k.bzimage)]


def conditions(args, kernels: list[tuple[str, Path]], accel: list[str]) -> dict:
    load = os.getloadavg()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kernels": ", ".join(f"{k} = {p}" for k, p in kernels),
        "guest": f"{', '.join(sorted(set(accel))) or '?'}, {args.cpus} CPU(s), {args.memory}",
        "host": f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the end (shared "
                "machine: absolute times are distorted, compare speeds within a run)",
        "repetitions": str(args.reps) + (" (baselines only)" if args.baseline_only else ""),
    }


def cmd_bench(args) -> int:
    if args.reps < 1 or args.reps > 64:
        raise GateError(f"bench: --reps {args.reps} is outside 1..64")
    if importlib.util.find_spec("matplotlib") is None:  # before the boots, not after them
        raise ToolMissing("bench: matplotlib is missing (it draws bench.png)",
                          "tox -e bench, or pip install matplotlib")
    kernels = _kernels(args)
    run_dir = boot.new_run_dir(paths.cache_root(), "bench")
    bins = compile_programs(args.rows, run_dir / "bin")
    outputs: dict[str, list[Path]] = {}
    accels = []
    for i, (label, bz) in enumerate(kernels, 1):
        kdir = run_dir / label
        kdir.mkdir()
        log.info("bench: kernel %d/%d '%s' (%s): %s", i, len(kernels), label, bz,
                 ", ".join(args.rows))
        res = boot.run(bz, guest_command(args.rows, bins, kdir, args.reps, args.baseline_only),
                       cache=paths.cache_root(), accel=args.accel, memory=args.memory,
                       cpus=args.cpus, silence=600, total=3 * 3600,
                       echo=not args.quiet_console, run_dir=kdir, label="bench")
        accels.append(res.accel)
        if res.status != 0 or res.hang:
            raise GateError(f"bench: kernel '{label}': guest command "
                            f"{'hung' if res.hang else f'exited {res.status}'}",
                            str(res.console_path))
        outputs[label] = [kdir / f"{row}.out" for row in args.rows]
        log.info("bench: kernel '%s' done in %.0f s", label, res.elapsed)
    series, counts = benchreport.collect(outputs)
    cond = conditions(args, kernels, accels)
    (run_dir / "bench.json").write_text(benchreport.to_json(series, counts, cond))
    md = benchreport.markdown(series, counts, cond, {k: str(p) for k, p in kernels})
    (run_dir / "bench.md").write_text(md)
    benchreport.chart(series, run_dir / "bench.png")
    print(md, end="")
    log.info("bench: %s", json.dumps({"dir": str(run_dir), "files": ["bench.json",
                                                                     "bench.md", "bench.png"]}))
    return 0
