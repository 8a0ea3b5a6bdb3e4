"""One-line errors from the CLI (no build, no boot: they fail before that)."""

from pathlib import Path

import pytest

from vm import cli
from vm.errors import GateError


def run(capsys, *argv):
    rc = cli.main(list(argv))
    return rc, capsys.readouterr()


def test_gate_without_series_says_so(tmp_path, capsys):
    rc, out = run(capsys, "gate", "--series-dir", str(tmp_path))
    assert rc == 2
    lines = out.err.strip().splitlines()
    assert lines[0].startswith("gate: error: no kernel series yet: ")
    assert "refuses to pass" in lines[0]
    assert lines[1].startswith("gate:   see: ")


def test_partial_series_names_the_missing_patch(tmp_path, capsys):
    (tmp_path / "series").write_text("0001-a.patch\n")
    rc, out = run(capsys, "gate", "--series-dir", str(tmp_path))
    assert rc == 2 and "names 0001-a.patch but" in out.err


def test_run_needs_a_command(capsys, tmp_path):
    rc, out = run(capsys, "run", "--kernel", str(tmp_path / "bz"), "--")
    assert rc == 2 and "gate: error: no command given" in out.err


def test_boot_of_missing_image(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NLMMAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("vm.boot.check_tools", lambda: "vng")
    rc, out = run(capsys, "run", "--kernel", str(tmp_path / "bz"), "--", "true")
    assert rc == 2 and f"kernel image {tmp_path / 'bz'} does not exist" in out.err


def test_missing_vng_and_qemu(monkeypatch):
    from vm import boot
    monkeypatch.setattr("vm.paths.tool", lambda name: None)
    with pytest.raises(GateError, match=r"virtme-ng \(vng\) is not installed"):
        boot.check_tools()
    monkeypatch.setattr("vm.paths.tool", lambda name: "/usr/bin/vng")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(GateError, match="qemu-system-x86_64 is not installed"):
        boot.check_tools()


def test_not_root_without_package(monkeypatch):
    from vm import source
    monkeypatch.setattr(source, "package_version", lambda: None)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(GateError, match="not installed and installing it needs root") as e:
        source.ensure_package()
    assert "apt-get install linux-source-6.12" in e.value.hint
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(GateError, match="apt-get is unavailable"):
        source.ensure_package()


def test_error_render_is_one_line_plus_hint():
    e = GateError("a\nb", "look here")
    assert e.render() == "gate: error: a b\ngate:   see: look here"


def test_guest_pytest_command_keeps_state_in_run_dir(tmp_path):
    cmd = cli.guest_pytest(tmp_path, "R3 and not slow")
    assert "-p no:cacheprovider" in cmd and f"--junitxml={tmp_path}/junit.xml" in cmd
    assert " -m pytest conformance " in cmd and "'R3 and not slow'" in cmd
    assert "conformance -m kernel" in cmd
    assert cmd.startswith("NLMMAP_DIFF_STEPS=10000 ")


def test_gate_diff_steps_default_depends_on_profile():
    for argv, want in ((["gate"], 10000), (["gate", "--profile", "debug"], 1000),
                       (["gate", "--profile", "debug", "--diff-steps", "50"], 50)):
        assert cli.diff_steps(cli.parser().parse_args(argv)) == want


def test_debug_profile_boots_without_5_level_paging_user_args_last():
    args = cli.parser().parse_args(["gate", "--profile", "debug", "--append", "quiet"])
    assert cli._append(args) == ("no5lvl", "quiet")
    assert cli._append(cli.parser().parse_args(["run", "--", "true"])) == ()


def test_debug_gate_gives_the_stress_test_a_checked_outcome_budget(monkeypatch):
    """Issue 9: the debug gate's stress run must check 100,000 outcomes, not run 30 s."""
    monkeypatch.delenv("NLMMAP_STRESS_CHECKS", raising=False)
    monkeypatch.delenv("NLMMAP_STRESS_SECONDS", raising=False)
    debug = cli.guest_pytest(Path("/r"), None, 1000, env=cli.stress_budget("debug"))
    assert "NLMMAP_STRESS_CHECKS=100000 " in debug and "NLMMAP_STRESS_SECONDS=2400 " in debug
    fast = cli.guest_pytest(Path("/r"), None, env=cli.stress_budget("fast"))
    assert "NLMMAP_STRESS_CHECKS" not in fast and "NLMMAP_STRESS_SECONDS=30 " in fast
    monkeypatch.setenv("NLMMAP_STRESS_CHECKS", "5")
    assert "NLMMAP_STRESS_CHECKS=5 " in cli.guest_pytest(Path("/r"), None,
                                                         env=cli.stress_budget("debug"))
