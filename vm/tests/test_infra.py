"""Infrastructure failures vs. verdicts on the kernel (issue 12, "no false alarms").

The consoles are real (vm/tests/excerpts.py names the run each comes from); where a test
moves a real excerpt to another place on the timeline (before the suite's start marker),
it says so."""

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import coverage as rule_coverage
from vm import boot as vmboot
from vm import cli, judge, paths, results, soak, trial

from . import excerpts as ex

PASSING_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="1">
<testcase classname="conformance.test_r2_setup" name="test_r2_1" time="0.1"/>
</testsuite></testsuites>
"""


def boot(tmp_path, text, status=0, hang=False, vng_status=0):
    return vmboot.BootResult(status, text, tmp_path / "console.log", tmp_path, hang, 10.0,
                             "tcg", vng_status)


def passing(tmp_path):
    p = tmp_path / "junit.xml"
    p.write_text(PASSING_JUNIT)
    return p, results.parse_junit(p)


def test_boot_time_splat_outside_netlink_is_infrastructure_even_if_the_suite_passed(tmp_path):
    junit, res = passing(tmp_path)
    v = judge.judge_tests(boot(tmp_path, ex.KASAN_AT_BOOT_NO5LVL), junit, res)
    assert not v.ok and v.infra and v.exit_code == judge.INFRA_EXIT == 3
    assert v.headline == ("infrastructure failure, not a verdict on the kernel: kernel splat "
                          "while booting, outside netlink code (kasan): BUG: KASAN: "
                          "wild-memory-access in do_raw_spin_lock+0x122/0x270")
    assert v.render().startswith("gate: ERROR: infrastructure failure")


def test_int3_oops_while_booting_is_infrastructure(tmp_path):
    v = judge.judge_boot(boot(tmp_path, ex.CLEAN_BOOT.split("[    4.576493]")[0]
                              + ex.INT3_AT_BOOT, status=None, vng_status=255))
    assert v is not None and v.infra and v.exit_code == 3
    assert v.headline.endswith("kernel splat while booting, outside netlink code (oops, "
                               "panic): Oops: int3: 0000 [#1] PREEMPT SMP NOPTI")


def test_boot_panic_of_the_timer_check_is_infrastructure(tmp_path):
    v = judge.judge_boot(boot(tmp_path, ex.IOAPIC_TIMER_PANIC, status=None, vng_status=255))
    assert v is not None and v.infra and v.exit_code == 3
    assert "kernel splat while booting, outside netlink code (panic): Kernel panic - not " \
           "syncing: IO-APIC + timer doesn't work!" in v.headline


def test_netlink_splat_after_the_suite_started_fails(tmp_path):
    junit, res = passing(tmp_path)
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT.split("NLMMAP-GUEST")[0]
                               + ex.LOCKDEP_PG_VEC_LOCK_RTNL), junit, res)
    assert not v.ok and not v.infra and v.exit_code == 1
    assert "circular locking dependency" in v.headline


def test_netlink_splat_before_the_suite_started_still_fails(tmp_path):
    """The real lockdep report, with the start marker removed (as if printed while
    booting, the guest then dying): it names netlink, so it can never be infrastructure."""
    text = ex.LOCKDEP_PG_VEC_LOCK_RTNL.replace("NLMMAP-GUEST: start 6.12.117+\n", "")
    assert judge.suite_start_line(text) is None
    v = judge.judge_boot(boot(tmp_path, text, status=None))
    assert v is not None and not v.infra and v.exit_code == 1


def test_netlink_splat_at_boot_next_to_a_foreign_one_fails(tmp_path):
    """Two boot-time reports, one outside netlink (KASAN) and one in it: FAIL."""
    before_start = ex.KASAN_AT_BOOT_NO5LVL.split("NLMMAP-GUEST")[0]
    lockdep = ex.LOCKDEP_PG_VEC_LOCK_RTNL.replace("NLMMAP-GUEST: start 6.12.117+\n", "")
    v = judge.judge_boot(boot(tmp_path, before_start + lockdep + "NLMMAP-GUEST: start\n"))
    assert v is not None and not v.infra


def test_foreign_splat_after_the_suite_started_fails(tmp_path):
    """A panic outside netlink once the suite runs (sysrq crash of tox -e vm): the suite
    may have caused it, so FAIL, not infrastructure."""
    v = judge.judge_boot(boot(tmp_path, ex.CLEAN_BOOT.split("NLMMAP-GUEST")[0]
                              + ex.SYSRQ_PANIC, status=None))
    assert v is not None and not v.infra and "sysrq triggered crash" in v.headline


def test_qemu_error_is_infrastructure(tmp_path):
    v = judge.judge_boot(boot(tmp_path, ex.QEMU_KVM_ASSERTION, status=None, vng_status=1))
    assert v is not None and v.infra
    assert v.headline.endswith("the guest died before the suite started (virtme-ng/QEMU "
                               "exit status 1)")
    assert "kvm_buf_set_msrs: Assertion" in v.render()


def test_hang_while_booting_is_infrastructure_hang_in_the_suite_is_not(tmp_path):
    booting = ex.CLEAN_BOOT.split("NLMMAP-GUEST")[0]
    v = judge.judge_boot(boot(tmp_path, booting, status=None, hang=True))
    assert v is not None and v.infra and "hung while booting" in v.headline
    v = judge.judge_boot(boot(tmp_path, booting + "NLMMAP-GUEST: start 6.12.117\n",
                              status=None, hang=True))
    assert v is not None and not v.infra and v.headline.startswith("guest hang")


def test_splat_only_in_dmesg_is_never_infrastructure(tmp_path):
    (tmp_path / "dmesg.txt").write_text(ex.KASAN_AT_BOOT_NO5LVL)
    junit, res = passing(tmp_path)
    v = judge.judge_tests(boot(tmp_path, ex.CLEAN_BOOT), junit, res)
    assert not v.ok and not v.infra and "(kasan (dmesg))" in v.headline


def test_infrastructure_junit_is_an_error_and_ktap_says_error():
    text = results.infra_junit("infrastructure failure: the guest hung", ["console log: x"])
    root = ET.fromstring(text)
    assert root.find("testsuite").get("errors") == "1"
    assert root.find("testsuite/testcase/error").get("type") == "infrastructure"
    assert root.find("testsuite/testcase/failure") is None
    ktap = results.infra_ktap("infrastructure failure: the guest hung")
    assert ktap.splitlines()[-1] == ("not ok 1 nlmmap_conformance # ERROR infrastructure "
                                     "failure: the guest hung")


# ---- the gate's retry -----------------------------------------------------------------------

@pytest.fixture
def gate_env(tmp_path, monkeypatch):
    """cmd_gate with boot.run replaced by a queue of real consoles (no guest)."""
    monkeypatch.setenv("NLMMAP_CACHE", str(tmp_path / "cache"))
    # nothing collected: no differential plan to draw (test_each_attempt_... draws one)
    monkeypatch.setattr(cli, "prewarm_collection", lambda kexpr, run_dir: [])
    bz = tmp_path / "bzImage"
    bz.write_bytes(b"")
    consoles: list[tuple[str, bool]] = []  # (console, writes a passing JUnit)
    seen: list[Path] = []

    def fake_run(bzimage, command, *, run_dir, **kw):
        text, passes = consoles.pop(0)
        seen.append(run_dir)
        if passes:
            (run_dir / "junit.xml").write_text(PASSING_JUNIT)
        status = 0 if "NLMMAP-GUEST: start" in text else None
        return vmboot.BootResult(status, text, run_dir / "console.log", run_dir, False, 1.0,
                                 "tcg", 0 if status == 0 else 1)

    monkeypatch.setattr(cli.boot, "run", fake_run)
    return bz, consoles, seen


def gate(bz, tmp_path, *extra):
    return cli.main(["gate", "--kernel", str(bz), "--no-kselftest", "--junit",
                     str(tmp_path / "out" / "junit.xml"), *extra])


def test_infrastructure_failure_is_retried_once_then_reported(gate_env, tmp_path, capsys):
    bz, consoles, seen = gate_env
    consoles += [(ex.QEMU_KVM_ASSERTION, False), (ex.KASAN_AT_BOOT_NO5LVL, True)]
    assert gate(bz, tmp_path, "--ktap") == 3
    assert len(seen) == 2 and seen[0] != seen[1]
    err = capsys.readouterr()
    assert f"gate: infrastructure failure on attempt 1 ({seen[0]}): " in err.err
    assert "gate: ERROR: infrastructure failure" in err.err and "gate: PASS" not in err.err
    assert results.parse_junit(tmp_path / "out" / "junit.xml").cases[0].outcome == "error"
    assert "# ERROR infrastructure failure" in (tmp_path / "out" / "junit.ktap").read_text()


def test_retry_that_passes_passes_and_says_it_was_retried(gate_env, tmp_path, capsys):
    bz, consoles, seen = gate_env
    consoles += [(ex.QEMU_KVM_ASSERTION, False), (ex.CLEAN_BOOT, True)]
    assert gate(bz, tmp_path) == 0
    out = capsys.readouterr().out
    assert out.startswith("gate: PASS: 1 passed; console clean")
    assert "attempt 1 was an infrastructure failure, retried: " in out and str(seen[0]) in out


def test_each_attempt_is_collected_and_drawn_for_in_its_own_run_dir(gate_env, tmp_path,
                                                                  monkeypatch):
    """A retry boots with a fresh run dir: the host collects the suite there too (the
    constants cache the guest's collection reads) and draws that attempt's plan there."""
    bz, consoles, seen = gate_env
    consoles += [(ex.QEMU_KVM_ASSERTION, False), (ex.CLEAN_BOOT, True)]
    collected, drawn = [], []
    monkeypatch.setattr(cli, "prewarm_collection", lambda kexpr, run_dir: collected.append(
        run_dir) or [f"conformance/test_differential.py::{cli.diffplan.TEST}"])
    monkeypatch.setattr(cli.diffplan, "draw", lambda run_dir, steps, seed, beside: drawn.append(
        (run_dir, steps, beside)) or {})
    assert gate(bz, tmp_path) == 0
    assert collected == seen and drawn == [(d, 10000, True) for d in seen]


def test_a_real_failure_is_not_retried(gate_env, tmp_path):
    bz, consoles, seen = gate_env
    consoles += [(ex.CLEAN_BOOT.split("NLMMAP-GUEST")[0] + ex.LOCKDEP_PG_VEC_LOCK_RTNL, True),
                 (ex.CLEAN_BOOT, True)]
    assert gate(bz, tmp_path) == 1
    assert len(seen) == 1 and len(consoles) == 1


def test_the_gate_reports_the_rule_coverage_the_guest_left(gate_env, tmp_path, monkeypatch,
                                                           caplog):
    bz, consoles, seen = gate_env
    consoles.append((ex.CLEAN_BOOT, True))
    fake = cli.boot.run

    def guest_counts(bzimage, command, *, run_dir, **kw):
        t = rule_coverage.Tally()
        t.add({"R4.9", "R4.1"})
        t.write(run_dir / rule_coverage.FILE)
        return fake(bzimage, command, run_dir=run_dir, **kw)

    monkeypatch.setattr(cli.boot, "run", guest_counts)
    with caplog.at_level(logging.INFO, logger="vm"):
        assert gate(bz, tmp_path) == 0
    md = (seen[0] / rule_coverage.REPORT).read_text()
    assert "| R4.9 | plain skb to an RX-ring socket: COPY | 1 |  |" in md
    assert "- R1.1 option level" in md.split("## Never reached")[1]
    assert any(r.getMessage().startswith("gate: rules exercised with agreement: 2 of ")
               and " never reached: R1.1 " in r.getMessage() for r in caplog.records)


# ---- vm soak ----------------------------------------------------------------------------

def test_soak_counts_the_retried_infrastructure_failure_the_gate_printed(gate_env, tmp_path,
                                                                        capsys):
    bz, consoles, seen = gate_env
    consoles += [(ex.KASAN_AT_BOOT_NO5LVL, True), (ex.CLEAN_BOOT, True)]
    assert gate(bz, tmp_path) == 0
    log = tmp_path / "gate.log"
    captured = capsys.readouterr()
    log.write_text(captured.err + captured.out)
    r = soak.run_of(1, trial.Trial(0, "gate: PASS: 1 passed; console clean", log=str(log)))
    assert r.cause == "PASS" and r.boots == 2
    assert r.retried == ["infrastructure failure, not a verdict on the kernel: kernel splat "
                         "while booting, outside netlink code (kasan): BUG: KASAN: "
                         "wild-memory-access in do_raw_spin_lock"]


def test_soak_table_by_cause():
    fail = ("gate: FAIL: kernel splat on the console (kasan): BUG: KASAN: wild-memory-access "
            "in do_raw_spin_lock+0x122/0x270")
    runs = [soak.Run(1, 0, "PASS"), soak.Run(2, 0, "PASS", retried=["infra X"]),
            soak.Run(3, 1, soak.normalise(fail), run_dir="/r/3"),
            soak.Run(4, 1, soak.normalise(fail.replace("0x122", "0x12a")), run_dir="/r/4")]
    text = soak.table(runs)
    assert "soak: 4 gate runs, 5 boots" in text
    assert "FAIL                2  gate: FAIL: kernel splat on the console (kasan): BUG: " \
           "KASAN: wild-memory-access in do_raw_spin_lock\n" in text
    assert "infra, retried      1  infra X" in text
    assert "FAIL verdicts: 2 of 4\n" in text + "\n"
    assert "infrastructure failures: 1 of 5 boots\n" in text + "\n"


@pytest.mark.parametrize("n, bound", [(50, 0.0582), (10, 0.2589), (90, 0.0327)])
def test_upper_bound_of_zero_failures(n, bound):
    assert soak.upper_bound_95(0, n) == pytest.approx(bound, abs=1e-4)
    assert soak.upper_bound_95(1, n) is None


def test_rejudge_reads_the_boots_of_an_old_soak_run(tmp_path):
    """A soak run from before the infrastructure rules (gate log lines as vm/boot.py
    writes them, the real console of soak run 7): FAIL then, ERROR now."""
    guest = tmp_path / "20261202-130950-7660-gate"
    guest.mkdir()
    (guest / "console.log").write_text(ex.IOAPIC_TIMER_PANIC)
    log = tmp_path / "soak" / "run-007" / "gate.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "[13:09:50 vm.boot] boot: /k/bzImage under TCG, 2G, 2 CPUs (console: "
        f"{guest}/console.log)\n"
        "[13:10:14 vm.boot] boot: guest finished in 23.8 s (command status None, vng status "
        "255)\n"
        "gate: FAIL: kernel splat on the console (panic): Kernel panic - not syncing: "
        "IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.\n")
    r = soak.rejudge_run(7, log)
    assert r.exit == 3 and r.run_dir == str(guest) and r.retried == []
    assert r.cause.startswith("gate: ERROR: infrastructure failure, not a verdict on the "
                              "kernel: kernel splat while booting, outside netlink code (panic)")


# ---- the host-side collection before the boot ---------------------------------------------

def test_prewarm_leaves_hypothesis_constants_where_the_guest_reads_them(tmp_path):
    """The guest's collection finds hypothesis' constants of our modules cached in the run's
    hypothesis directory (conformance/rundir.py), keyed by the source's SHA-1 as hypothesis
    keys them (hypothesis.internal.constants_ast): otherwise it parses every module under
    TCG, ~5 s of the gate's start-up. A hypothesis that moves its cache fails this test."""
    import hashlib

    cli.prewarm_collection("test_differential_kernel_vs_model", tmp_path)
    home = tmp_path / "hypothesis"
    cached = {p.name for p in (home / "constants").iterdir()} if home.exists() else set()
    for module in ("conformance/differential.py", "model/world.py"):
        key = hashlib.sha1((paths.REPO / module).read_bytes()).hexdigest()[:16]
        assert key in cached, f"no cached constants of {module} in {home}: {sorted(cached)}"
