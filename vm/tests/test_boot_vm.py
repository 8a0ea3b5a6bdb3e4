"""Real boots (``pytest -m vm``, tox env ``vm``): never skipped; if the kernel cannot be
built or booted these tests fail with the harness's one-line error.

They boot the *unpatched* base kernel (empty series) so the harness is tested
independently of the state of patches/; the gate itself boots the patched one.  The
kernel comes from the build cache and is built (cold: minutes) when missing.
"""

import logging

import pytest

from vm import boot, build, cli, judge, paths

pytestmark = pytest.mark.vm


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s %(name)s] %(message)s")
    empty_series = tmp_path_factory.mktemp("no-series")
    k = build.ensure_kernel(profile="fast", series_dir=empty_series)
    assert k.bzimage.exists()
    return k.bzimage


def test_command_status_output_and_shared_dir(kernel):
    res = boot.run(kernel, 'echo "hello-$((6 * 7))"; echo result > "$NLMMAP_RUN_DIR/out.txt";'
                   " exit 7", cache=paths.cache_root(), echo=False, silence=120, total=600)
    assert judge.judge_boot(res) is None, judge.judge_boot(res).render()
    assert res.status == 7
    assert "hello-42" in res.console_text
    assert (res.run_dir / "out.txt").read_text() == "result\n"
    assert (res.run_dir / "dmesg.txt").exists()
    assert res.accel in ("kvm", "tcg")


def test_crashing_guest_is_reported_with_excerpt(kernel, capsys):
    rc = cli.main(["run", "--kernel", str(kernel), "--silence-timeout", "120",
                   "--timeout", "600", "-q", "--", "sh", "-c", "echo c > /proc/sysrq-trigger"])
    err = capsys.readouterr().err
    with capsys.disabled():
        print("\n--- crash report as the user sees it ---\n" + err)
    assert rc == 1
    assert "gate: FAIL: kernel splat on the console (panic): Kernel panic - not syncing: " \
           "sysrq triggered crash" in err
    assert "sysrq: Trigger a crash" in err
    assert "console log: " in err


def test_silent_guest_is_killed_as_hang(kernel):
    res = boot.run(kernel, "echo going-quiet; sleep 600", cache=paths.cache_root(),
                   echo=False, silence=20, total=600)
    v = judge.judge_boot(res)
    assert res.hang and v is not None
    assert v.headline.startswith("guest hang")
    assert any("going-quiet" in d for d in v.details)
