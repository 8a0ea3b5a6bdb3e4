"""Boot a kernel with virtme-ng and drive its console with pexpect.

* ``--exec`` runs a generated guest script (in a run directory shared read-write with
  the guest via ``--rwdir``); the script writes the command's exit status and ``dmesg``
  there, so results do not depend on parsing the console.
* The console is streamed, logged to ``console.log`` in the run directory (NULs and CRs
  stripped) and kept for the judge.  No output for ``silence`` seconds = hang: the guest
  is killed and the last console lines are reported.
* Acceleration: ``auto`` probes KVM with a short boot and falls back to TCG
  (``--disable-kvm``) if the probe does not finish (KVM hangs at "Decompressing Linux"
  on some hosts).  The probe result is remembered per host boot and QEMU version.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import console, paths
from .errors import GateError, ToolMissing

log = logging.getLogger(__name__)

QEMU = "qemu-system-x86_64"
PROBE_TIMEOUT = float(os.environ.get("NLMMAP_KVM_PROBE_TIMEOUT", "30"))
# vng mounts the host root over 9p without caching; under TCG every stat/open is a slow
# round trip (importing pytest+hypothesis took 70 s).  The guest sees the root read-only,
# so let it cache: the last rootflags= on the command line wins.
ROOTFLAGS = "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose"
# TCG runs each vCPU in its own host thread by default (MTTCG).  The x86 kernel patches
# its own text at run time (static keys, alternatives): text_poke_bp() writes an int3
# over the first byte, syncs the other CPUs, writes the rest, then the first byte.  With
# 2 vCPUs under MTTCG the guest printed "Oops: int3" in code that is not ours about once
# in 90 boots; the suspected cause is a vCPU still executing a translation of the
# half-patched site.  thread=single runs all vCPUs round-robin in one host thread, which
# rules that out, but then two guest threads never run at the same instant: the race
# tests (hardening H1, stress) would only interleave at time-slice ends.  So MTTCG stays
# the default (a boot-time int3 is an infrastructure failure, retried once) and
# --tcg-thread single is there to tell the two apart.
TCG_THREAD = "multi"
# no_timer_check: while booting, check_timer() lets the timer tick for ~20 ms of TSC time
# and panics ("IO-APIC + timer doesn't work!") if fewer ticks arrived; a TCG vCPU on a
# busy host misses that window (1 boot in 8 under load, `vm soak`).  QEMU's IO-APIC
# timer routing is not the broken hardware the check is for.
APPEND = ["printk.time=1", "panic=-1", "console_msg_format=default", "no_timer_check"]
if os.environ.get("NLMMAP_9P_CACHE", "loose") != "none":
    APPEND.append(ROOTFLAGS.replace("loose", os.environ.get("NLMMAP_9P_CACHE", "loose")))


@dataclass
class BootResult:
    status: int | None  # exit status of the guest command (None: never reported)
    console_text: str
    console_path: Path
    run_dir: Path
    hang: bool
    elapsed: float
    accel: str
    vng_status: int | None = None  # exit status of vng itself (QEMU's, roughly)

    def tail(self, n: int = 15) -> list[str]:
        return console.tail(self.console_text, n)


def check_tools() -> str:
    vng = paths.tool("vng")
    if vng is None:
        raise ToolMissing("virtme-ng (vng) is not installed",
                          "pip install virtme-ng (tox installs it: use scripts/gate.sh or tox)")
    if shutil.which(QEMU) is None:
        raise ToolMissing(f"{QEMU} is not installed", "apt-get install qemu-system-x86")
    return vng


def vng_command(vng: str, bzimage: Path, *, accel: str, memory: str, cpus: int,
                rwdirs: list[Path], exec_cmd: str | None, cwd: Path | None = None,
                append: tuple[str, ...] = (), tcg_thread: str = TCG_THREAD) -> list[str]:
    # --force-9p: ROOTFLAGS are 9p's, and on Debian 12 (qemu's C virtiofsd, which vng
    # cannot drive) vng spent ~3 s per mount retrying virtiofsd before falling back
    cmd = [vng, "--run", str(bzimage), "--memory", memory, "--cpus", str(cpus), "--verbose",
           "--force-9p"]
    if accel == "tcg":
        cmd.append("--disable-kvm")
        if cpus > 1:  # vng gives QEMU no -accel under --disable-kvm: TCG's defaults
            cmd.append(f"--qemu-opts=-accel tcg,thread={tcg_thread}")  # "=": it starts with -
    for d in rwdirs:
        cmd += ["--rwdir", str(d)]
    if cwd is not None:
        cmd += ["--cwd", str(cwd)]
    for a in (*APPEND, *append):
        cmd += ["--append", a]
    if exec_cmd is not None:
        cmd += ["--exec", exec_cmd]
    return cmd


def _stream(cmd: list[str], log_path: Path, *, silence: float, total: float,
            echo: bool) -> tuple[str, bool, int | None]:
    """Run ``cmd`` on a pty; return (console text, hung?, exit status)."""
    import pexpect  # imported late: unit tests of the pure parts do not need it

    child = pexpect.spawn(cmd[0], cmd[1:], timeout=silence, encoding="utf-8",
                          codec_errors="replace", dimensions=(50, 200),
                          env=dict(paths.tool_env(), TERM="dumb"))
    chunks: list[str] = []
    hang = False
    timed_path = log_path.with_name(log_path.stem + ".timed.log")
    try:
        _pump(child, log_path, timed_path, chunks, silence, total, echo)
    except _Hang:
        hang = True
    finally:  # also on KeyboardInterrupt/SIGTERM: never leave a qemu behind
        if child.isalive():
            child.terminate(force=True)
        child.close()
    return "".join(chunks), hang, child.exitstatus


class _Hang(Exception):
    pass


def _pump(child, log_path: Path, timed_path: Path, chunks: list[str], silence: float,
          total: float, echo: bool) -> None:
    """Copy the console to the logs (and stdout) until EOF; raise _Hang on silence or
    when the overall limit is reached."""
    import pexpect

    t0 = time.monotonic()
    partial = ""
    with log_path.open("w") as out, timed_path.open("w") as timed:
        while True:
            try:
                data = child.read_nonblocking(8192, timeout=silence)
            except pexpect.TIMEOUT:
                log.error("boot: guest silent for %.0f s: killing it", silence)
                raise _Hang from None
            except pexpect.EOF:
                break
            data = data.replace("\x00", "").replace("\r", "")
            chunks.append(data)
            out.write(data)
            out.flush()
            # the same lines prefixed with host seconds since boot start: where time goes
            partial += data
            *done, partial = partial.split("\n")
            for line in done:
                timed.write(f"{time.monotonic() - t0:8.1f} {line}\n")
            timed.flush()
            if echo:
                sys.stdout.write(data)
                sys.stdout.flush()
            if time.monotonic() - t0 > total:
                log.error("boot: guest still running after %.0f s (overall limit): killing it",
                          total)
                raise _Hang


def _host_id() -> str:
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot_id = "?"
    qemu = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    return f"{boot_id} {qemu.splitlines()[0] if qemu else '?'}"


def remembered_accel(cache: Path, host: str | None = None) -> str | None:
    """The KVM probe's result from earlier on this host boot (and QEMU), if any."""
    try:
        seen = json.loads((cache / "kvm-probe.json").read_text())
        return seen["accel"] if seen.get("host") == (host or _host_id()) else None
    except (OSError, ValueError, KeyError):
        return None


def probe_command(vng: str, bzimage: Path) -> list[str]:
    return vng_command(vng, bzimage, accel="kvm", memory="1G", cpus=1, rwdirs=[],
                       exec_cmd="echo NLMMAP-KVM-OK")


def choose_accel(vng: str, bzimage: Path, requested: str, cache: Path) -> str:
    """'kvm' or 'tcg'.  'auto' = KVM if /dev/kvm is usable and a probe boot finishes."""
    if requested in ("kvm", "tcg"):
        log.info("boot: accelerator %s (requested)", requested.upper())
        return requested
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        log.info("boot: /dev/kvm not usable; using TCG (--disable-kvm)")
        return "tcg"
    memo = cache / "kvm-probe.json"
    host = _host_id()
    seen = remembered_accel(cache, host)
    if seen is not None:
        log.info("boot: KVM probe result from earlier on this host boot: %s "
                 "(delete %s to re-probe)", seen.upper(), memo)
        return seen
    log.info("boot: probing KVM (boot + 'true', %.0f s limit)", PROBE_TIMEOUT)
    run_dir = new_run_dir(cache, "kvm-probe")
    cmd = probe_command(vng, bzimage)
    t0 = time.monotonic()
    text, hang, status = _stream(cmd, run_dir / "console.log", silence=PROBE_TIMEOUT,
                                 total=PROBE_TIMEOUT, echo=False)
    ok = not hang and status == 0 and "NLMMAP-KVM-OK" in text
    if ok:
        log.info("boot: KVM probe booted in %.1f s: using KVM", time.monotonic() - t0)
        accel = "kvm"
    else:
        last = console.tail(text, 1)
        why = f"no result within {PROBE_TIMEOUT:.0f} s" if hang else f"exit status {status}"
        log.warning("boot: KVM probe failed (%s; last console line: %r); falling back to "
                    "TCG (--disable-kvm)", why, last[0] if last else "")
        accel = "tcg"
    memo.write_text(json.dumps({"host": host, "accel": accel}))
    return accel


def new_run_dir(cache: Path, label: str) -> Path:
    d = cache / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{label}"
    d.mkdir(parents=True, exist_ok=True)
    return d


GUEST_SCRIPT = """\
#!/bin/sh
# generated by nlmmap-gate: runs inside the guest
cd {cwd}
export PYTHONDONTWRITEBYTECODE=1 NLMMAP_RUN_DIR={run_dir}
echo "NLMMAP-GUEST: start $(uname -r)"
(
{command}
)
rc=$?
dmesg > {run_dir}/dmesg.txt 2>/dev/null
echo $rc > {run_dir}/status
echo "NLMMAP-GUEST: exit $rc"
exit $rc
"""


def guest_script(command: str, run_dir: Path) -> str:
    return GUEST_SCRIPT.format(cwd=shlex.quote(str(paths.REPO)),
                               run_dir=shlex.quote(str(run_dir)), command=command)


def guest_vng_command(vng: str, bzimage: Path, run_dir: Path, *, accel: str, memory: str,
                      cpus: int, append: tuple[str, ...] = (),
                      tcg_thread: str = TCG_THREAD) -> list[str]:
    """The vng command that runs ``run_dir/guest.sh`` in the guest."""
    return vng_command(vng, bzimage, accel=accel, memory=memory, cpus=cpus, rwdirs=[run_dir],
                       exec_cmd=f"sh {shlex.quote(str(run_dir / 'guest.sh'))}",
                       cwd=paths.REPO, append=append, tcg_thread=tcg_thread)


def run(bzimage: Path, command: str, *, cache: Path, accel: str = "auto", memory: str = "2G",
        cpus: int = 2, silence: float = 300, total: float = 3600, echo: bool = True,
        run_dir: Path | None = None, label: str = "run",
        append: tuple[str, ...] = (), tcg_thread: str = TCG_THREAD) -> BootResult:
    """Boot ``bzimage``, run ``command`` (sh syntax) in the guest, return what happened."""
    vng = check_tools()
    if not bzimage.exists():
        raise GateError(f"kernel image {bzimage} does not exist", "python -m vm build")
    accel = choose_accel(vng, bzimage, accel, cache)
    run_dir = run_dir or new_run_dir(cache, label)
    script = run_dir / "guest.sh"
    script.write_text(guest_script(command, run_dir))
    cmd = guest_vng_command(vng, bzimage, run_dir, accel=accel, memory=memory, cpus=cpus,
                            append=append,
                            tcg_thread=tcg_thread)
    (run_dir / "vng-command").write_text(shlex.join(cmd) + "\n")
    log.info("boot: %s under %s%s, %s, %d CPUs (console: %s)", bzimage, accel.upper(),
             f" (thread={tcg_thread})" if accel == "tcg" and cpus > 1 else "", memory, cpus,
             run_dir / "console.log")
    t0 = time.monotonic()
    text, hang, vng_status = _stream(cmd, run_dir / "console.log", silence=silence,
                                     total=total, echo=echo)
    elapsed = time.monotonic() - t0
    status: int | None = None
    try:
        status = int((run_dir / "status").read_text().strip())
    except (OSError, ValueError):
        pass
    log.info("boot: guest finished in %.1f s (command status %s, vng status %s%s)", elapsed,
             status, vng_status, ", HANG" if hang else "")
    return BootResult(status, console.clean(text), run_dir / "console.log", run_dir, hang,
                      elapsed, accel, vng_status)


def shell(bzimage: Path, *, cache: Path, accel: str = "auto", memory: str = "2G",
          cpus: int = 2, append: tuple[str, ...] = (), tcg_thread: str = TCG_THREAD) -> int:
    """Interactive guest on this terminal."""
    vng = check_tools()
    accel = choose_accel(vng, bzimage, accel, cache)
    run_dir = new_run_dir(cache, "shell")
    cmd = vng_command(vng, bzimage, accel=accel, memory=memory, cpus=cpus, rwdirs=[run_dir],
                      exec_cmd=None, cwd=paths.REPO, append=append, tcg_thread=tcg_thread)
    log.info("shell: %s (shared rw dir %s)", shlex.join(cmd), run_dir)
    return subprocess.call(cmd, env=paths.tool_env())
