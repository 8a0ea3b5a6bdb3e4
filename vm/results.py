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
    seconds: float | None = None  # the test's own duration, when the runner reports it
    timed_out: bool = False  # an error because its time ran out (KTAP "# TIMEOUT")


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
        try:
            seconds = float(tc.get("time", ""))
        except ValueError:
            seconds = None
        res.cases.append(Case(tc.get("name", "?"), tc.get("classname", ""), outcome, message,
                              seconds))
    return res


def _ktap_text(text: str) -> str:
    """KTAP descriptions and directive data may hold neither '#' nor a newline."""
    return text.replace("#", "_").replace("\n", " ").strip()


def _ktap_name(case: Case) -> str:
    return _ktap_text(f"{case.classname}.{case.name}" if case.classname else case.name)


def _ktap_result(i: int, c: Case) -> list[str]:
    """The diagnostic lines and the result line of one case.

    Directives as Documentation/dev-tools/ktap.rst defines them: ``ok ... # SKIP reason``,
    ``not ok ... # TIMEOUT`` (its time ran out), ``not ok ... # ERROR first line`` (the
    test could not run to a result: a pytest setup error, a crashed kselftest); a plain
    ``not ok`` is a test that ran and found the kernel wrong."""
    first = _ktap_text(c.message.splitlines()[0]) if c.message.strip() else ""
    name = _ktap_name(c)
    if c.outcome == "passed":
        return [f"ok {i} {name}"]
    if c.outcome == "skipped":
        return [f"ok {i} {name} # SKIP {first}".rstrip()]
    diag = [f"# {m}".rstrip() for m in c.message.splitlines()[:5]]
    if c.outcome == "error":
        word = "TIMEOUT" if c.timed_out else "ERROR"
        return [*diag, f"not ok {i} {name} # {word} {first}".rstrip()]
    return [*diag, f"not ok {i} {name}"]


def to_ktap_suites(suites: list[tuple[str, Results]]) -> str:
    """KTAP v1: one nested suite (``# Subtest:``) per entry, one subtest per case."""
    out = ["KTAP version 1", f"1..{len(suites)}"]
    for n, (suite, res) in enumerate(suites, 1):
        out += ["    KTAP version 1", f"    # Subtest: {suite}", f"    1..{len(res.cases)}"]
        for i, c in enumerate(res.cases, 1):
            out += ["    " + line for line in _ktap_result(i, c)]
        out.append(f"{'ok' if res.ok else 'not ok'} {n} {suite}")
    return "\n".join(out) + "\n"


def to_ktap(res: Results, suite: str = "nlmmap_conformance") -> str:
    """KTAP v1: one top-level suite with one subtest per pytest case."""
    return to_ktap_suites([(suite, res)])


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
