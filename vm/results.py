"""Test results from the guest: parse pytest's JUnit XML, summarise, convert to KTAP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    name: str
    classname: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""


@dataclass
class Results:
    cases: list[Case] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)

    @property
    def ok(self) -> bool:
        return bool(self.cases) and not (self.count("failed") or self.count("error"))

    def summary(self) -> str:
        parts = [f"{self.count(o)} {o}" for o in ("passed", "failed", "error", "skipped")
                 if self.count(o)]
        return ", ".join(parts) if parts else "no tests"


def parse_junit(path: Path) -> Results:
    root = ET.parse(path).getroot()
    res = Results()
    for tc in root.iter("testcase"):
        outcome, message = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = (child.get("message") or child.text or "").strip()
                break
        res.cases.append(Case(tc.get("name", "?"), tc.get("classname", ""), outcome, message))
    return res


def _ktap_name(case: Case) -> str:
    name = f"{case.classname}.{case.name}" if case.classname else case.name
    return name.replace("#", "_").replace("\n", " ")


def to_ktap(res: Results, suite: str = "nlmmap_conformance") -> str:
    """KTAP v1: one top-level suite with one subtest per pytest case."""
    lines = ["KTAP version 1", "1..1", "    KTAP version 1", f"    # Subtest: {suite}",
             f"    1..{len(res.cases)}"]
    for i, c in enumerate(res.cases, 1):
        if c.outcome == "passed":
            lines.append(f"    ok {i} {_ktap_name(c)}")
        elif c.outcome == "skipped":
            reason = c.message.splitlines()[0] if c.message else ""
            lines.append(f"    ok {i} {_ktap_name(c)} # SKIP {reason}".rstrip())
        else:
            for m in c.message.splitlines()[:5]:
                lines.append(f"    # {m}")
            lines.append(f"    not ok {i} {_ktap_name(c)}")
    lines.append(f"{'ok' if res.ok else 'not ok'} 1 {suite}")
    return "\n".join(lines) + "\n"


def infra_junit(headline: str, details: list[str], suite: str = "nlmmap_conformance") -> str:
    """JUnit XML for a run that never judged the kernel: one ``<error>`` (an error is
    "could not run", a ``<failure>`` would be "the kernel is wrong")."""
    ts = ET.Element("testsuites")
    s = ET.SubElement(ts, "testsuite", name=suite, tests="1", errors="1", failures="0",
                      skipped="0")
    tc = ET.SubElement(s, "testcase", classname=suite, name="infrastructure")
    err = ET.SubElement(tc, "error", message=headline, type="infrastructure")
    err.text = "\n".join(details)
    return ET.tostring(ts, encoding="unicode", xml_declaration=True) + "\n"


def infra_ktap(headline: str, suite: str = "nlmmap_conformance") -> str:
    """KTAP v1 for a run that never judged the kernel: the suite is ``not ok`` with the
    ``# ERROR`` directive, so a KTAP consumer does not read it as a test failure."""
    reason = " ".join(headline.split())
    return f"KTAP version 1\n1..1\n# {reason}\nnot ok 1 {suite} # ERROR {reason}\n"
