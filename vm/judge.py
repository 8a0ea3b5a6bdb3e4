"""The verdict: console splats, hang, guest status, test results -> pass/fail + report."""

from __future__ import annotations

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

    def render(self) -> str:
        word = "PASS" if self.ok else "FAIL"
        return "\n".join([f"gate: {word}: {self.headline}", *self.details])


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
