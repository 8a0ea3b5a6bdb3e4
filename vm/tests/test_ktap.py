"""The gate's KTAP read back by the kernel's own KTAP parser (tools/testing/kunit's
kunit_parser, vendored in vm/tests/kunit): no format errors, one nested suite per gate
suite, every case with the status the parser derives, and the directives (SKIP, TIMEOUT,
ERROR) where ktap.rst puts them."""

from __future__ import annotations

from pathlib import Path

import pytest

from vm import kselftest, results
from vm.results import Case, Results

from .test_kselftest import RUNNER

KUNIT = Path(__file__).parent / "kunit"


@pytest.fixture
def kunit(monkeypatch):
    monkeypatch.syspath_prepend(str(KUNIT))  # kunit_parser imports kunit_printer by name
    import kunit_parser

    return kunit_parser


def parse(kunit, text: str):
    main = kunit.parse_run_tests(text.splitlines())
    return main, {t.name: t for t in main.subtests}


def directives(kunit, text: str) -> dict[str, str]:
    """name -> the '# ...' part of its result line, split as the parser's grammar does."""
    out = {}
    for line in text.splitlines():
        m = kunit.TEST_RESULT.match(line)
        if m:
            out[m.group(4).strip()] = (m.group(5) or "").removeprefix(" # ")
    return out


CONFORMANCE = Results([
    Case("test_ok", "conformance.test_r2", "passed", seconds=0.1),
    Case("test_lockdep", "conformance.test_h", "skipped", "needs lockdep (debug profile)"),
    Case("test_geom[kernel-#1]", "conformance.test_r2", "failed",
         "assert -22 == 0\n# a line starting with a hash\nthird line"),
    Case("test_setup", "conformance.test_r4", "error", "fixture 'ring' failed: ENOMEM"),
    Case("test_differential", "conformance.test_d", "error", "guest silent for 300 s",
         timed_out=True),
])


def test_two_suites_parse_without_errors_with_statuses_and_directives(kunit):
    ks = kselftest.parse(RUNNER)
    text = results.to_ktap_suites([("nlmmap_conformance", CONFORMANCE),
                                   (kselftest.SUITE, ks)])
    main, suites = parse(kunit, text)
    assert main.counts.errors == 0, main
    assert [t.name for t in main.subtests] == ["nlmmap_conformance", kselftest.SUITE]
    S = kunit.TestStatus
    conf = suites["nlmmap_conformance"]
    assert conf.status == S.FAILURE and conf.expected_count == 5
    assert [t.status for t in conf.subtests] == [S.SUCCESS, S.SKIPPED, S.FAILURE, S.FAILURE,
                                                 S.FAILURE]
    assert conf.subtests[2].name == "conformance.test_r2.test_geom[kernel-_1]"
    # the diagnostic lines before a failure are kept as that test's log
    assert "# assert -22 == 0" in [x.strip() for x in conf.subtests[2].log]
    d = directives(kunit, text)
    assert d["conformance.test_h.test_lockdep"] == "SKIP needs lockdep (debug profile)"
    assert d["conformance.test_r4.test_setup"] == "ERROR fixture 'ring' failed: ENOMEM"
    assert d["conformance.test_d.test_differential"] == "TIMEOUT guest silent for 300 s"
    assert d["conformance.test_r2.test_geom[kernel-_1]"] == ""  # a plain failure
    # the kselftest suite: its cases as the harness named them, outcomes preserved
    sk = suites[kselftest.SUITE]
    assert [t.name for t in sk.subtests] == [f"kselftest.{c.name}" for c in ks.cases]
    assert [t.status for t in sk.subtests] == [
        {"passed": S.SUCCESS, "skipped": S.SKIPPED, "failed": S.FAILURE}[c.outcome]
        for c in ks.cases]
    assert main.status == S.FAILURE


def test_a_passing_run_is_success(kunit):
    ok = Results([c for c in CONFORMANCE.cases if c.outcome in ("passed", "skipped")])
    main, suites = parse(kunit, results.to_ktap(ok))
    assert main.counts.errors == 0 and main.status == kunit.TestStatus.SUCCESS
    assert suites["nlmmap_conformance"].counts.passed == 1
    assert suites["nlmmap_conformance"].counts.skipped == 1


def test_kselftest_runner_timeout_is_a_timeout_directive(kunit):
    text = RUNNER.split("# #  RUN           ring.frame4k_x4.skip_frames")[0] + \
        "not ok 1 selftests: net/netlink_mmap: netlink_mmap # TIMEOUT 600 seconds\n"
    ktap = results.to_ktap_suites([(kselftest.SUITE, kselftest.parse(text))])
    main, _ = parse(kunit, ktap)
    assert main.counts.errors == 0
    assert directives(kunit, ktap)["kselftest.netlink_mmap"].startswith(
        "TIMEOUT 1 of 4 planned tests did not report")


def test_the_parser_does_reject_broken_ktap(kunit):
    """The check above can fail: a suite whose plan promises more cases than it has, or a
    result line for the wrong suite, is an error for the kernel's parser."""
    good = results.to_ktap(CONFORMANCE)
    main, _ = parse(kunit, good.replace("    1..5", "    1..6"))
    assert main.counts.errors > 0
    main, _ = parse(kunit, good.replace("not ok 1 nlmmap_conformance", "not ok 1 other"))
    assert main.counts.errors > 0
