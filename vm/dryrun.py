"""``--dry-run``: the exact commands a verb would run (build, boot), none of them run.

Read-only look-ups still happen (which Debian package version is installed, which
patches a tree already has, the remembered KVM probe), so the plan is this machine's.
Two things cannot be known without running: whether the kernel is in the cache (the key
hashes the final ``.config``, which only ``allnoconfig`` + fragments + ``olddefconfig`` produce) and
the run directory's name (time and pid): both are shown as such.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from . import boot, build, kconfig, kselftest, paths, series, source

RUN_DIR = "<run dir>"


def cmd_line(argv: list[str], cwd: Path | None = None, stdin: Path | None = None) -> str:
    line = shlex.join(argv) + (f" < {shlex.quote(str(stdin))}" if stdin else "")
    return f"$ cd {shlex.quote(str(cwd))} && {line}" if cwd else f"$ {line}"


def build_plan(*, profile: str, series_dir: Path, patches: list[series.Patch] | None = None,
               kernel: Path | None = None, kernel_dir: Path | None = None,
               rebuild: bool = False, config_only: bool = False,
               require_series: bool = False) -> tuple[list[str], Path, Path | None]:
    """The build steps, the bzImage they give (a placeholder for a cache entry) and the
    tree they build in.  ``patches`` defaults to ``series_dir``'s series."""
    if kernel is not None:
        return [f"# kernel: {kernel} as given (no build)"], kernel, None
    if patches is None:
        patches = series.read_series(series_dir, required=require_series)
    out: list[str] = []
    if kernel_dir is not None:
        tree = kernel_dir.resolve()
        k = series.applied_prefix(tree, patches) if patches else 0
        if k is None:
            out.append(f"# the series matches no prefix of {tree}: the build would stop")
            todo = []
        else:
            todo = patches[k:]
            out.append(f"# {tree}: {k} of {len(patches)} patches already applied")
    else:
        deb = source.package_version()
        if deb is None:
            out.append(cmd_line(["apt-get", "install", "-y", "-q", source.PACKAGE]))
            deb = "<installed version>"
        parent = paths.cache_root() / "src" / deb
        tree = parent / "linux-source-6.12"
        if not (tree / ".nlmmap-unpacked").exists():
            out.append(cmd_line(source.unpack_command(source.TARBALL, parent / "unpack.partial")))
        applied = source.applied_series(tree)
        todo = patches
        if series.series_digest(applied) == series.series_digest(patches):
            out.append(f"# {tree} already has these {len(patches)} patches")
            todo = []
        else:
            out += [cmd_line(series.patch_command(tree, reverse=True), stdin=p.path)
                    for p in reversed(applied)]
    out += [cmd_line(series.patch_command(tree), stdin=p.path) for p in todo]
    frags = kconfig.fragment_files(profile, series_dir, paths.CONFIGS)
    out += [cmd_line(build.allnoconfig_command(), tree),
            "# then the requests of " + " ".join(str(f) for f in frags) + " into .config",
            cmd_line(build.olddefconfig_command(), tree),
            "# cache: <cache>/kernels/<key>/ with key = sha256(source, series, final .config):"
            " on a hit no make" + (" (--rebuild: make anyway)" if rebuild else "")]
    if config_only:
        return out, tree / ".config", tree
    out.append(cmd_line(build.bzimage_command(), tree))
    return out, paths.cache_root() / "kernels" / "<key>" / "bzImage", tree


def boot_plan(args, bz: Path, command: str | None, memory: str,
              append: tuple[str, ...]) -> list[str]:
    """The vng command line (and the guest script it runs)."""
    vng = paths.tool("vng") or "vng"
    run_dir = paths.cache_root() / "runs" / RUN_DIR
    accel = args.accel if args.accel != "auto" else boot.remembered_accel(paths.cache_root())
    out = []
    if accel is None:
        out += ["# accel auto: KVM probe first (KVM if it boots, else TCG; TCG shown below)",
                cmd_line(boot.probe_command(vng, bz))]
        accel = "tcg"
    if command is None:
        return out + [cmd_line(boot.vng_command(vng, bz, accel=accel, memory=memory,
                                            cpus=args.cpus, rwdirs=[run_dir], exec_cmd=None,
                                            cwd=paths.REPO, append=append,
                                            tcg_thread=args.tcg_thread))]
    out.append(cmd_line(boot.guest_vng_command(vng, bz, run_dir, accel=accel, memory=memory,
                                           cpus=args.cpus, append=append,
                                           tcg_thread=args.tcg_thread)))
    out.append(f"# {run_dir}/guest.sh:")
    out += ["    " + x for x in boot.guest_script(command, run_dir).splitlines()]
    return out


def kselftest_plan(tree: Path | None) -> list[str]:
    if tree is None or not (tree / kselftest.SOURCE / "Makefile").exists():
        return [f"# kselftest: {tree or 'no known tree'} has no {kselftest.SOURCE}: not run"]
    dest = paths.cache_root() / "runs" / RUN_DIR / "kselftest"
    return [cmd_line(kselftest.headers_command(tree)) + "   # unless usr/include is current",
            cmd_line(kselftest.install_command(tree, dest))]


def show(lines: list[str]) -> int:
    print("\n".join(["# dry run: nothing below is run", *lines]))
    return 0
