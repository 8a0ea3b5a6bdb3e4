import json

from vm import kselftest
from vm.judge import Verdict
from vm.results import Case, Results

# run_kselftest.sh output (shape of a real run, trimmed): the harness's TAP nested
# under the runner's "# " prefix
RUNNER = """\
TAP version 13
1..1
# timeout set to 600
# selftests: net/netlink_mmap: netlink_mmap
# TAP version 13
# 1..4
# # Starting 4 tests from 2 test cases.
# #  RUN           global.feature_present ...
# #            OK  global.feature_present
# ok 1 global.feature_present
# #  RUN           ring.frame4k_x4.copy_frames ...
# # netlink_mmap.c:166:copy_frames:feature absent: no memory mapped netlink
# # netlink_mmap.c:168:copy_frames:Expected 0 (0) == ret (-92)
# # copy_frames: Test terminated by assertion
# #          FAIL  ring.frame4k_x4.copy_frames
# not ok 2 ring.frame4k_x4.copy_frames
# #  RUN           ring.frame4k_x4.nfqueue_verdicts ...
# #      SKIP      nft (nftables) is not installed
# #            OK  ring.frame4k_x4.nfqueue_verdicts
# ok 3 ring.frame4k_x4.nfqueue_verdicts # SKIP nft (nftables) is not installed
# #  RUN           ring.frame4k_x4.skip_frames ...
# ok 4 ring.frame4k_x4.skip_frames # XFAIL known
# # FAILED: 3 / 4 tests passed.
# # Totals: pass:1 fail:1 xfail:1 xpass:0 skip:1 error:0
not ok 1 selftests: net/netlink_mmap: netlink_mmap # exit=1
"""


def test_parse_runner_output():
    r = kselftest.parse(RUNNER)
    assert [(c.name, c.outcome) for c in r.cases] == [
        ("global.feature_present", "passed"),
        ("ring.frame4k_x4.copy_frames", "failed"),
        ("ring.frame4k_x4.nfqueue_verdicts", "skipped"),
        ("ring.frame4k_x4.skip_frames", "passed"),
    ]
    failed = r.cases[1].message.splitlines()
    assert failed[0].endswith("feature absent: no memory mapped netlink")
    assert failed[-1] == "copy_frames: Test terminated by assertion"
    assert r.cases[2].message == "nft (nftables) is not installed"
    assert not r.ok and r.summary() == "2 passed, 1 failed, 1 skipped"


def test_parse_binary_output_without_runner():
    direct = "\n".join(x[2:] for x in RUNNER.splitlines() if x.startswith("# "))
    assert [c.outcome for c in kselftest.parse(direct).cases] == \
        [c.outcome for c in kselftest.parse(RUNNER).cases]


def test_runner_timeout_with_unfinished_plan_is_an_error():
    text = RUNNER.split("# #  RUN           ring.frame4k_x4.skip_frames")[0] + \
        "not ok 1 selftests: net/netlink_mmap: netlink_mmap # TIMEOUT 600 seconds\n"
    r = kselftest.parse(text)
    last = r.cases[-1]
    assert last.outcome == "error" and "1 of 4 planned tests did not report" in last.message
    assert "runner: TIMEOUT 600 seconds" in last.message


def test_no_plan_is_an_error():
    r = kselftest.parse("TAP version 13\n1..1\n# selftests: net/netlink_mmap: netlink_mmap\n"
                        "# Warning: file netlink_mmap is missing!\n"
                        "not ok 1 selftests: net/netlink_mmap: netlink_mmap\n")
    assert [c.outcome for c in r.cases] == ["error"] and not r.ok


def test_all_passed_is_ok():
    text = RUNNER.replace("# not ok 2 ring.frame4k_x4.copy_frames",
                          "# ok 2 ring.frame4k_x4.copy_frames")
    assert kselftest.parse(text).ok


def test_collect_without_output(tmp_path):
    r = kselftest.collect(tmp_path)
    assert r.cases[0].outcome == "error" and "no kselftest output" in r.cases[0].message


def _fake_runner(ks, script: str) -> None:
    ks.mkdir()
    runner = ks / "run_kselftest.sh"
    runner.write_text("#!/bin/sh\n" + script)
    runner.chmod(0o755)


def _sh(cmd: str, timeout: int = 60):
    import subprocess
    import time

    t0 = time.monotonic()
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def test_stuck_kselftest_is_abandoned_after_the_limit(tmp_path):
    """A runner that never ends (a test task stuck in the kernel) no longer holds the
    guest: after the limit its output so far is kept, the suite is not run (fail-fast),
    and the unfinished plan is an error."""
    _fake_runner(tmp_path / "ks", 'echo "TAP version 13"; echo "1..2"; echo "ok 1 a"; '
                 "exec sleep 300\n")
    cmd = kselftest.guest_command("echo SUITE-RAN", tmp_path / "ks", tmp_path, first=True,
                                  limit=2)
    r, took = _sh(cmd)
    assert took < 30 and r.returncode == 1
    assert f"{kselftest.STUCK} after 2 s" in r.stdout and "SUITE-RAN" not in r.stdout
    assert "ok 1 a" in r.stdout  # the output so far, on the console too
    res = kselftest.collect(tmp_path)
    assert [c.outcome for c in res.cases if c.outcome == "error"], res.cases


def test_finished_kselftest_keeps_the_command_status(tmp_path):
    """kselftest's runner writes some lines through /dev/stdout: when that was a file,
    reopening it wrote them over the start of the output (a debug gate saw no test plan).
    Here "ok 1 a" goes that way, after the plan."""
    _fake_runner(tmp_path / "ks", 'echo "TAP version 13"; echo "1..1"; '
                 'echo "ok 1 a" > /dev/stdout\n')
    r, took = _sh(kselftest.guest_command("sh -c 'exit 7'", tmp_path / "ks", tmp_path, limit=20))
    assert r.returncode == 7 and kselftest.STUCK not in r.stdout and took < 10
    assert "NLMMAP-KSELFTEST: done" in r.stdout
    assert [c.outcome for c in kselftest.collect(tmp_path).cases] == ["passed"]


def test_kselftest_runs_beside_the_suite_start_up_and_keeps_the_suite_status(tmp_path):
    """The kselftest starts first and the suite starts while it runs, told its pid
    (conformance/conftest.py waits for it before the first test); the guest's status is
    the suite's."""
    _fake_runner(tmp_path / "ks", 'echo "TAP version 13"; echo "1..1"; sleep 2; '
                 'echo "ok 1 a"\n')
    from conformance.conftest import WAIT_LIMIT, WAIT_PID  # the names the suite reads

    suite = (f'sh -c \'kill -0 "${WAIT_PID}" && echo "SUITE-SAW-KSELFTEST ${WAIT_LIMIT}"'
             '; exit 5\'')
    r, took = _sh(kselftest.guest_command(suite, tmp_path / "ks", tmp_path, limit=20))
    assert r.returncode == 5
    assert "SUITE-SAW-KSELFTEST 20" in r.stdout
    assert r.stdout.index("NLMMAP-KSELFTEST: start") < r.stdout.index("SUITE-SAW")
    assert "NLMMAP-KSELFTEST: done" in r.stdout and kselftest.STUCK not in r.stdout
    assert [c.outcome for c in kselftest.collect(tmp_path).cases] == ["passed"]


def test_stuck_kselftest_beside_the_suite_is_abandoned_at_the_limit(tmp_path):
    _fake_runner(tmp_path / "ks", 'echo "TAP version 13"; echo "1..1"; exec sleep 300\n')
    r, took = _sh(kselftest.guest_command("true", tmp_path / "ks", tmp_path, limit=2))
    assert r.returncode == 0 and took < 30
    assert f"{kselftest.STUCK} after 2 s" in r.stdout


def test_suite_waits_for_the_kselftest_before_its_first_test(monkeypatch):
    """conformance/conftest.py: after collection, until the kselftest's pid is gone, or
    the limit."""
    import subprocess
    import time
    from types import SimpleNamespace

    from conformance import conftest

    session = SimpleNamespace(config=SimpleNamespace(
        get_terminal_writer=lambda: SimpleNamespace(line=lambda s: None)))
    p = subprocess.Popen(["sleep", "1.5"])  # not reaped while we wait: a zombie at the end
    monkeypatch.setenv(conftest.WAIT_PID, str(p.pid))
    t0 = time.monotonic()
    conftest.pytest_collection_finish(session)
    assert 1.4 < time.monotonic() - t0 < 10
    p.wait()
    q = subprocess.Popen(["sleep", "30"])
    try:
        monkeypatch.setenv(conftest.WAIT_PID, str(q.pid))
        monkeypatch.setenv(conftest.WAIT_LIMIT, "1")
        t0 = time.monotonic()
        conftest.pytest_collection_finish(session)
        assert 0.9 < time.monotonic() - t0 < 5
    finally:
        q.kill()
        q.wait()


def test_tree_of(tmp_path):
    (tmp_path / "MANIFEST").write_text(json.dumps({"tree": "/src/linux"}))
    assert kselftest.tree_of(tmp_path / "bzImage", None).as_posix() == "/src/linux"
    assert kselftest.tree_of(tmp_path / "bzImage", tmp_path) == tmp_path.resolve()
    assert kselftest.tree_of(tmp_path / "none" / "bzImage", None) is None


def test_prepare_without_the_selftest_is_none(tmp_path):
    assert kselftest.prepare(tmp_path, tmp_path) is None
    assert kselftest.prepare(None, tmp_path) is None


def _results(*outcomes):
    return Results([Case(f"t{i}", "kselftest", o, "why" if o == "failed" else "")
                    for i, o in enumerate(outcomes)])


def test_judge(tmp_path):
    ok = kselftest.judge(Verdict(True, "3 passed; console clean"), _results("passed"), tmp_path)
    assert ok.ok and "kselftest net/netlink_mmap: 1 passed" in ok.details
    bad = kselftest.judge(Verdict(True, "3 passed; console clean"),
                          _results("passed", "failed"), tmp_path)
    assert not bad.ok and bad.headline.startswith("kselftest net/netlink_mmap failed")
    assert "    t1: why" in bad.details
    already = kselftest.judge(Verdict(False, "splat"), _results("failed"), tmp_path)
    assert already.headline == "splat" and not already.ok


def test_headers_current(tmp_path):
    import os

    src = tmp_path / "include/uapi/linux/netlink.h"
    dst = tmp_path / "usr/include/linux/netlink.h"
    src.parent.mkdir(parents=True)
    src.write_text("x")
    assert not kselftest.headers_current(tmp_path)  # never installed
    dst.parent.mkdir(parents=True)
    dst.write_text("x")
    os.utime(src, (100, 100))
    os.utime(dst, (200, 200))
    assert kselftest.headers_current(tmp_path)
    os.utime(src, (300, 300))  # the series changed a UAPI header since
    assert not kselftest.headers_current(tmp_path)


def test_fail_fast_guest_command_runs_the_kselftest_first(tmp_path):
    cmd = kselftest.guest_command("pytest x", tmp_path / "ks", tmp_path, first=True)
    lines = cmd.splitlines()
    assert lines[-1] == "pytest x"                      # its status is the guest's
    assert cmd.index("run_kselftest.sh") < cmd.index("pytest x")
    assert "not ok " in cmd and "exit 1" in cmd        # a failure stops before pytest


def test_headers_current_by_digest_ignores_a_rewritten_header(tmp_path):
    import os

    src = tmp_path / "include/uapi/linux/netlink.h"
    dst = tmp_path / "usr/include/linux/netlink.h"
    for p in (src, dst):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    stamp = tmp_path / kselftest.HEADERS_STAMP
    stamp.write_text(kselftest.uapi_digest(tmp_path) + "\n")
    os.utime(dst, (100, 100))
    os.utime(stamp, (150, 150))
    os.utime(src, (300, 300))  # re-patched: same content, newer mtime
    assert kselftest.headers_current(tmp_path)
    os.utime(dst, (200, 200))  # installed again after the stamp: mtimes decide
    assert not kselftest.headers_current(tmp_path)
    os.utime(dst, (100, 100))
    src.write_text("y")        # a series that changes the header
    assert not kselftest.headers_current(tmp_path)
