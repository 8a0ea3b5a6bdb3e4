from pathlib import Path

from vm import judge, results
from vm.boot import BootResult

from . import excerpts as ex

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3">
<testcase classname="conformance.test_kernel" name="test_rx_ring_R3_1" time="0.1"/>
<testcase classname="conformance.test_kernel" name="test_tx_copy[R4.2]" time="0.2">
<failure message="assert 'copy' == 'zerocopy'">trace</failure></testcase>
<testcase classname="conformance.test_kernel" name="test_nfqueue" time="0">
<skipped message="nft missing" type="pytest.skip">skip</skipped></testcase>
</testsuite></testsuites>
"""


def write_junit(tmp_path, text=JUNIT):
    p = tmp_path / "junit.xml"
    p.write_text(text)
    return p


def test_parse_junit(tmp_path):
    r = results.parse_junit(write_junit(tmp_path))
    assert [c.outcome for c in r.cases] == ["passed", "failed", "skipped"]
    assert r.summary() == "1 passed, 1 failed, 1 skipped"
    assert not r.ok


def test_ktap(tmp_path):
    k = results.to_ktap(results.parse_junit(write_junit(tmp_path)))
    lines = k.splitlines()
    assert lines[0] == "KTAP version 1" and "    1..3" in lines
    assert "    ok 1 conformance.test_kernel.test_rx_ring_R3_1" in lines
    assert "    not ok 2 conformance.test_kernel.test_tx_copy[R4.2]" in lines
    assert "    ok 3 conformance.test_kernel.test_nfqueue # SKIP nft missing" in lines
    assert lines[-1] == "not ok 1 nlmmap_conformance"


def boot(tmp_path, text, status=0, hang=False):
    return BootResult(status, text, tmp_path / "console.log", tmp_path, hang, 10.0, "tcg")


def test_clean_pass(tmp_path):
    ok = JUNIT.replace('failures="1"', 'failures="0"').replace(
        "<failure message=\"assert 'copy' == 'zerocopy'\">trace</failure>", "")
    j = write_junit(tmp_path, ok)
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT), j, results.parse_junit(j))
    assert v.ok and v.render().startswith("gate: PASS: 2 passed, 1 skipped; console clean")


def test_failed_tests_fail_and_are_named(tmp_path):
    j = write_junit(tmp_path)
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT, status=1), j, results.parse_junit(j))
    assert not v.ok and "tests failed in the guest: 1 passed, 1 failed" in v.headline
    assert any("test_tx_copy[R4.2]" in d for d in v.details)


def test_splat_fails_even_if_tests_pass(tmp_path):
    j = write_junit(tmp_path, JUNIT.replace("<failure message=\"assert 'copy' == 'zerocopy'\">"
                                            "trace</failure>", ""))
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT + ex.LOCKDEP_CIRCULAR), j,
                          results.parse_junit(j))
    assert not v.ok
    assert v.headline.startswith("kernel splat on the console (lockdep): WARNING: possible "
                                 "circular locking dependency detected")
    assert "(&nlk->pg_vec_lock)" in v.render()


def test_splat_only_in_dmesg_is_caught(tmp_path):
    (tmp_path / "dmesg.txt").write_text(ex.WARN)
    v = judge.judge_boot(boot(tmp_path, ex.CLEAN_BOOT))
    assert v is not None and "(warning (dmesg))" in v.headline


def test_hang_quotes_last_console_lines(tmp_path):
    text = ex.CLEAN_BOOT.replace("NLMMAP-GUEST: exit 0", "").split("[   18.86")[0]
    v = judge.judge_boot(boot(tmp_path, text + "stuck here\n", status=None, hang=True))
    assert v is not None and v.headline.startswith("guest hang")
    assert "    | stuck here" in v.details


def test_panic_without_status(tmp_path):
    v = judge.judge_boot(boot(tmp_path, ex.CLEAN_BOOT + ex.SYSRQ_PANIC, status=None))
    assert "Kernel panic - not syncing: sysrq triggered crash" in v.headline
    assert "sysrq: Trigger a crash" in v.render()


def test_guest_died_silently(tmp_path):
    """After the suite started: FAIL (before it, infrastructure: test_infra.py)."""
    v = judge.judge_boot(boot(tmp_path, "[    1.000000] Linux version\nNLMMAP-GUEST: start\n",
                              status=None))
    assert not v.infra and v.headline == "the guest died without reporting the command's status"


def test_no_kernel_tests_collected(tmp_path):
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT, status=5), Path("x"), None)
    assert not v.ok and v.headline.startswith("no kernel tests collected")


def test_missing_junit(tmp_path):
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT, status=2), tmp_path / "j.xml", None)
    assert not v.ok and "left no JUnit XML" in v.headline
