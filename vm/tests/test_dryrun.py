"""--dry-run on every verb: the exact build and boot commands are printed, none is run
(subprocess is forbidden here) and no run directory is made."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from vm import boot, build, cli, paths, series, source


@pytest.fixture
def nothing_runs(monkeypatch, tmp_path):
    def refuse(*a, **k):
        raise AssertionError(f"dry run started a process: {a[0] if a else k}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setenv("NLMMAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(source, "package_version", lambda: "6.12.117-1~deb12u1")
    yield tmp_path / "cache"
    assert not list((tmp_path / "cache" / "runs").glob("*")), "a run directory was made"


@pytest.fixture
def kernel(tmp_path):
    bz = tmp_path / "bzImage"
    bz.write_text("image")
    return bz


def out_of(capsys, argv: list[str]) -> str:
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("# dry run: nothing below is run\n")
    return text


def test_gate_prints_the_boot_and_the_guest_command(nothing_runs, kernel, capsys):
    text = out_of(capsys, ["gate", "--dry-run", "--kernel", str(kernel), "--accel", "tcg",
                           "--cpus", "1", "-k", "r2", "--shard", "2/2", "--seed", "5"])
    vng = next(x for x in text.splitlines() if x.startswith("$ ") and "--run" in x)
    argv = shlex.split(vng[2:])
    assert argv[1:3] == ["--run", str(kernel)] and "--disable-kvm" in argv
    assert argv[argv.index("--cpus") + 1] == "1"
    assert "--nlmmap-shard=2/2" in text and "-k r2" in text
    assert "run_kselftest.sh" not in text  # shard 2 does not run the kselftest


def test_auto_accel_without_a_probe_result_prints_the_probe(nothing_runs, kernel, capsys,
                                                            monkeypatch):
    monkeypatch.setattr(boot, "_host_id", lambda: "this boot")
    text = out_of(capsys, ["run", "--dry-run", "--kernel", str(kernel), "--", "echo", "hi"])
    assert "# accel auto: KVM probe first" in text and "echo NLMMAP-KVM-OK" in text
    assert "    echo hi" in text  # the guest script runs the command


def test_shell_is_interactive(nothing_runs, kernel, capsys):
    text = out_of(capsys, ["shell", "--dry-run", "--kernel", str(kernel), "--accel", "kvm"])
    argv = shlex.split(text.splitlines()[-1][2:])
    assert "--exec" not in argv and "--disable-kvm" not in argv


def test_build_prints_unpack_patch_config_make(nothing_runs, capsys, tmp_path):
    sdir = tmp_path / "series"
    sdir.mkdir()
    (sdir / "0001-x.patch").write_text("--- a/x\n+++ b/x\n")
    (sdir / "series").write_text("0001-x.patch\n")
    text = out_of(capsys, ["build", "--dry-run", "--series-dir", str(sdir)])
    tree = nothing_runs / "src" / "6.12.117-1~deb12u1" / "linux-source-6.12"
    lines = text.splitlines()
    assert lines[1] == "$ " + shlex.join(source.unpack_command(source.TARBALL,
                                                               tree.parent / "unpack.partial"))
    assert lines[2] == "$ " + shlex.join(series.patch_command(tree)) + \
        f" < {sdir / '0001-x.patch'}"
    cd = f"$ cd {shlex.quote(str(tree))} && "
    assert cd + shlex.join(build.allnoconfig_command()) in lines
    assert cd + shlex.join(build.olddefconfig_command()) in lines
    assert lines[-1] == cd + shlex.join(build.bzimage_command())


def test_build_config_only_stops_before_make(nothing_runs, capsys, tmp_path):
    text = out_of(capsys, ["build", "--dry-run", "--config-only"])
    assert "bzImage" not in text and "olddefconfig" in text


def test_bisect_prints_the_first_prefixes(nothing_runs, capsys):
    text = out_of(capsys, ["bisect", "--test", "test_r2", "--dry-run"])
    n = len(series.read_series(paths.PATCHES))
    assert f"judged first {n} (bad end), 0 (good end), then {n // 2} (midpoint)" in text
    gates = [shlex.split(x[2:]) for x in text.splitlines() if " -m vm gate " in x]
    assert [g[g.index("--kernel") + 1] for g in gates] == [
        f"<bzImage of prefix {k}>" for k in (n, 0, n // 2)]
    assert all("--no-kselftest" in g and g[g.index("-k") + 1] == "test_r2" for g in gates)


def test_merge_dry_run_writes_nothing(nothing_runs, capsys, tmp_path):
    from vm import merge
    from vm.shard import Shard

    d = tmp_path / "s1"
    d.mkdir()
    merge.record(d, code=0, headline="gate: PASS: x", shard=Shard(1, 2), seed=1,
                 kernel=tmp_path / "bz", seconds={"total": 1.0})
    assert cli.main(["merge", "--dry-run", str(d), "--out", str(tmp_path / "m")]) == 0
    text = capsys.readouterr().out
    assert "would merge shard 1/2" in text and "problem: missing shard(s) 2/2" in text
    assert not (tmp_path / "m").exists()


def test_soak_prints_one_gate_command_per_run(nothing_runs, kernel, capsys):
    text = out_of(capsys, ["soak", "--runs", "3", "--dry-run", "--kernel", str(kernel), "--",
                           "-k", "r2", "--no-kselftest"])
    gates = [line for line in text.splitlines() if " -m vm gate " in line]
    assert len(gates) == 3
    for i, line in enumerate(gates, 1):
        argv = shlex.split(line.split(" && ", 1)[1])
        assert argv[argv.index("--kernel") + 1] == str(kernel)
        assert argv[-3:] == ["-k", "r2", "--no-kselftest"] and "--fail-fast" not in argv
        assert argv[argv.index("--junit") + 1].endswith(f"run-{i:03d}/junit.xml")
