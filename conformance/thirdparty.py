"""The unmodified 2012-2016 mmap-netlink programs kept under ``thirdparty/``: building them
(``make -C thirdparty O=DIR``, the same step the gate runs on the host before booting) and
running one in the background with its output kept."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from . import rundir

SOURCES = Path(__file__).resolve().parent.parent / "thirdparty"
# set by the gate: the directory the host already built into (make finds it up to date)
BUILD_ENV = "NLMMAP_THIRDPARTY_BUILD"


def build(out: Path) -> Path:
    """Build (or find up to date) every program into ``out``; return ``out``."""
    r = subprocess.run(["make", "-C", str(SOURCES), f"O={out}"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(f"make -C {SOURCES} O={out} exited {r.returncode}:\n"
                           f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return out


def keep_log(name: str, argv: list[str], status: int | None, output: str) -> None:
    """Keep a program's run for the record: ``old-userspace/NAME.txt`` in the gate's run
    directory (the closing note quotes these)."""
    where = Path(rundir.results_dir()) / "old-userspace"
    where.mkdir(parents=True, exist_ok=True)
    with (where / f"{name}.txt").open("a") as f:
        f.write(f"$ {' '.join(argv)}\n{output}[exit status {status}]\n\n")


def run(name: str, argv: list[str], timeout: float = 120) -> str:
    """Run to completion; the output if it exited 0, else an AssertionError with it."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
        keep_log(name, argv, None, out)
        raise AssertionError(f"{argv[0]} still running after {timeout} s; output:\n"
                             f"{out[-2000:]}") from None
    keep_log(name, argv, r.returncode, r.stdout + r.stderr)
    assert r.returncode == 0, (f"{' '.join(argv)} exited {r.returncode}:\n"
                               f"{(r.stdout + r.stderr)[-2000:]}")
    return r.stdout


class Background:
    """A daemon-like program (they loop forever) with its stdout in a file, line-buffered
    by ``stdbuf -oL`` so that what it printed survives being stopped."""

    def __init__(self, name: str, argv: list[str], out: Path) -> None:
        self.name, self.argv, self.path = name, argv, out
        self._f = out.open("w")
        self.proc = subprocess.Popen(["stdbuf", "-oL", "-eL", *argv], stdout=self._f,
                                     stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.path.read_text(errors="replace")

    def wait_for(self, what: str, cond, timeout: float = 60) -> None:
        """Poll ``cond()`` until true; fail with the program's output if it exits first or
        the time runs out."""
        deadline = time.monotonic() + timeout
        while not cond():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.argv[0]} exited {self.proc.returncode} while "
                                     f"waiting for {what}; output:\n{self.output()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout} s; {self.argv[0]} output:\n"
                                     f"{self.output()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> str:
        """Stop it (it never exits by itself) and return everything it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._f.close()
        out = self.output()
        keep_log(self.name, self.argv, self.proc.returncode, out)
        return out


def proc_table(path: str) -> dict[int, list[int]]:
    """/proc/net/netfilter/nfnetlink_{queue,log}: first column (queue or group number) ->
    all columns; empty when the file is missing (subsystem not loaded yet)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    rows = [[int(x) for x in line.split()] for line in text.splitlines() if line.strip()]
    return {row[0]: row for row in rows}
