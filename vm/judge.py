"""The verdict: console splats, hang, guest status, test results -> pass/fail + report.

Three outcomes, because a gate is judged on how often it fails a good kernel:

* PASS (exit 0): the suite passed and the console is clean.
* FAIL (exit 1): a test failed, or a kernel splat, hang or guest death that could be the
  series': anything after the suite started, and *any* splat whose report names
  netlink code, whenever it happened.
* ERROR, infrastructure (exit 3): the guest never got to run the suite (QEMU or
  virtme-ng failed, the guest died or hung while booting), or the kernel splatted while
  booting in code that is not netlink's (the ``Oops: int3`` TCG with two vCPUs produces
  now and then).  The gate retries it once; it is never turned into a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import console
from .boot import BootResult
from .results import Results


@dataclass
class Verdict:
    ok: bool
    headline: str
    details: list[str] = field(default_factory=list)
    infra: bool = False  # not a verdict on the kernel: the run itself failed

    @property
    def word(self) -> str:
        return "PASS" if self.ok else "ERROR" if self.infra else "FAIL"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else INFRA_EXIT if self.infra else 1

    def render(self) -> str:
        return "\n".join([f"gate: {self.word}: {self.headline}", *self.details])


INFRA_EXIT = 3
# printed by the guest script (vm/boot.py) right before the suite's command
SUITE_START = "NLMMAP-GUEST: start"
# Names in a kernel report that point at netlink (af_netlink, the series' ring code, the
# test driver, nfnetlink queue/log, genetlink, rtnetlink, diag) or the series' files.
SERIES_CODE = re.compile(r"netlink|nlmmap|nlk|nlmsg|genl|nfnl|nfqnl|nfulnl|sk_diag_put_ring")


def touches_series(splat: console.Splat) -> bool:
    """True if the report names netlink code anywhere (stack, RIP, lock, file)."""
    return any(SERIES_CODE.search(line) for line in splat.excerpt)


def suite_start_line(text: str) -> int | None:
    """1-based console line where the guest started the suite, None if it never did."""
    for i, line in enumerate(console.clean(text).split("\n"), 1):
        if SUITE_START in line:
            return i
    return None


def infrastructure_failure(boot: BootResult, splats: list[console.Splat]) -> str | None:
    """Why this run says nothing about the kernel, or None if it does.

    Infrastructure: the guest died or hung before the suite started without a netlink
    splat, or every splat was printed while booting and none names netlink.  A splat
    only in dmesg.txt has no place on the console timeline: never infrastructure."""
    if any(touches_series(s) for s in splats):
        return None
    start = suite_start_line(boot.console_text)
    before = [s for s in splats if "(dmesg)" not in s.kind and (start is None or
                                                               s.line_no < start)]
    if splats and len(before) == len(splats):
        kinds = ", ".join(dict.fromkeys(s.kind for s in splats))
        return (f"kernel splat while booting, outside netlink code ({kinds}): "
                f"{splats[0].headline}")
    if splats or start is not None or boot.status is not None:
        return None
    if boot.hang:
        return "the guest hung while booting (no console output for too long, killed)"
    return (f"the guest died before the suite started (virtme-ng/QEMU exit status "
            f"{boot.vng_status})")


def splats_of(boot: BootResult) -> list[console.Splat]:
    """Splats on the console, plus any only in the guest's dmesg (below console loglevel)."""
    found = console.find_splats(boot.console_text)
    dmesg = boot.run_dir / "dmesg.txt"
    if dmesg.exists():
        seen = {s.headline for s in found}
        for s in console.find_splats(dmesg.read_text(errors="replace")):
            if s.headline not in seen:
                s.kind += " (dmesg)"
                found.append(s)
    return found


def judge_boot(boot: BootResult) -> Verdict | None:
    """A failing verdict for hangs, splats and guests that died; None if the boot was clean."""
    splats = splats_of(boot)
    where = f"console log: {boot.console_path}"
    why = infrastructure_failure(boot, splats)
    if why is not None:
        details = ["last console lines:"] + ["    | " + x for x in boot.tail(15)]
        return Verdict(False, f"infrastructure failure, not a verdict on the kernel: {why}",
                       details + [s.render() for s in splats] + [where], infra=True)
    if boot.hang:
        details = ["last console lines:"] + ["    | " + x for x in boot.tail(15)]
        details += [s.render() for s in splats] + [where]
        return Verdict(False, "guest hang: no console output for too long, killed", details)
    if splats:
        kinds = ", ".join(dict.fromkeys(s.kind for s in splats))
        first = splats[0]
        return Verdict(False, f"kernel splat on the console ({kinds}): {first.headline}",
                       [s.render() for s in splats] + [where])
    if boot.status is None:
        return Verdict(False, "the guest died without reporting the command's status",
                       ["last console lines:"] + ["    | " + x for x in boot.tail(15)] + [where])
    return None


def judge_tests(boot: BootResult, junit: Path, res: Results | None) -> Verdict:
    bad = judge_boot(boot)
    if bad is not None:
        return bad
    if boot.status == 5:
        return Verdict(False, "no kernel tests collected: `pytest conformance -m kernel` "
                       "selected nothing (is the kernel backend written yet?)",
                       [f"console log: {boot.console_path}"])
    if res is None:
        return Verdict(False, f"pytest left no JUnit XML at {junit} (exit status "
                       f"{boot.status})", [f"console log: {boot.console_path}"])
    if not res.ok or boot.status != 0:
        failed = [f"    {c.classname}::{c.name}: {c.message.splitlines()[0] if c.message else ''}"
                  for c in res.cases if c.outcome in ("failed", "error")]
        return Verdict(False, f"tests failed in the guest: {res.summary()} (pytest exit "
                       f"{boot.status})", failed[:30] + [f"JUnit: {junit}",
                                                          f"console log: {boot.console_path}"])
    return Verdict(True, f"{res.summary()}; console clean",
                   [f"JUnit: {junit}", f"console log: {boot.console_path}"])
