"""KCIDB output checked by kcidb-io itself (schema v5.3), not by a schema of our own."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from kcidb_io.schema import V5_3

from vm import cache, kcidb, kselftest, series
from vm.results import Case, Results

from .test_kselftest import RUNNER

CONFIG = 'CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14+deb12u1) 12.2.0"\nCONFIG_NETLINK_MMAP=y\n'
SOURCE = "linux-source-6.12 6.12.117-1~deb12u1"


@pytest.fixture
def entry(tmp_path):
    """A cache entry as build.ensure_kernel leaves it, built from a two-patch series."""
    sdir = tmp_path / "patches"
    sdir.mkdir()
    for name, body in (("0001-a.patch", "--- a/x\n+++ b/x\n"), ("0002-b.patch", "diff b\n")):
        (sdir / name).write_text(body)
    (sdir / "series").write_text("0001-a.patch\n0002-b.patch\n")
    patches = series.read_series(sdir)
    edir = tmp_path / "kernels" / "k"
    edir.mkdir(parents=True)
    for name, text in (("bzImage", "image"), ("config", CONFIG), ("build.log", "CC x\n")):
        (edir / name).write_text(text)
    key = cache.cache_key(SOURCE, series.series_digest(patches), CONFIG)
    (edir / cache.MANIFEST).write_text(json.dumps({
        "key": key, "source": SOURCE, "kernelversion": "6.12.117", "profile": "fast",
        "series": [p.name for p in patches], "build_seconds": 123.4,
        "sha256": {"config": hashlib.sha256(CONFIG.encode()).hexdigest()}}))
    return edir / "bzImage", sdir


SUITE = Results([
    Case("test_ok[kernel]", "conformance.test_r2_setup", "passed", seconds=0.5),
    Case("test_lockdep", "conformance.test_hardening", "skipped", "needs lockdep"),
    Case("test_geom[kernel-4096]", "conformance.test_r2_setup", "failed", "assert -22 == 0"),
    Case("test_setup", "conformance.test_r4_rx", "error", "fixture failed"),
    Case("test_differential_kernel_vs_model", "conformance.test_differential", "error",
         "guest silent", timed_out=True),
])


def run_of(tmp_path, boot_problem=None) -> kcidb.Run:
    rd = tmp_path / "run"
    rd.mkdir(exist_ok=True)
    (rd / "nlmmap-repro-kernel.nls").write_text("{}")
    return kcidb.Run(rd, 1_790_000_000.0, 42.0, "TCG, 1 CPU, 2G", boot_problem,
                     rd / "console.log", "python -m vm gate --kernel BZ", shard="1/2")


def make(tmp_path, entry, boot_problem=None) -> dict:
    bz, sdir = entry
    suites = [("nlmmap_conformance", SUITE), (kselftest.SUITE, kselftest.parse(RUNNER))]
    run = run_of(tmp_path, boot_problem)
    return kcidb.report(kcidb.built(bz, sdir), run, suites,
                        {"nlmmap_conformance": run.run_dir / "junit.xml"})


def test_report_is_valid_kcidb_v5(tmp_path, entry):
    data = make(tmp_path, entry)
    V5_3.validate_exactly(data)
    assert kcidb.validate(data) is None
    assert data["version"] == {"major": 5, "minor": 3}


def test_checkout_carries_base_version_and_verified_series(tmp_path, entry):
    bz, sdir = entry
    [co] = make(tmp_path, entry)["checkouts"]
    assert co["misc"]["source"] == SOURCE and co["misc"]["series_verified"]
    # KCIDB's own recipe: sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64
    shell = subprocess.run("sha256sum 0001-a.patch 0002-b.patch | cut -c-64 | sha256sum | "
                           "cut -c-64", shell=True, cwd=sdir, capture_output=True, text=True)
    assert co["patchset_hash"] == shell.stdout.strip()
    assert [f["name"] for f in co["patchset_files"]] == ["0001-a.patch", "0002-b.patch"]
    assert co["misc"]["series_digest"] == series.series_digest(series.read_series(sdir))


def test_a_series_that_is_not_what_was_built_is_not_claimed(tmp_path, entry):
    bz, sdir = entry
    (sdir / "0002-b.patch").write_text("diff b changed\n")
    data = make(tmp_path, entry)
    [co] = data["checkouts"]
    assert not co["misc"]["series_verified"] and "patchset_hash" not in co
    assert "not what this kernel was built from" in co["misc"]["why_unverified"]
    V5_3.validate_exactly(data)


def test_build_has_profile_config_digest_time_and_log(tmp_path, entry):
    [b] = make(tmp_path, entry)["builds"]
    assert b["config_name"] == "fast" and b["duration"] == 123.4
    assert b["misc"]["config_sha256"] == hashlib.sha256(CONFIG.encode()).hexdigest()
    assert b["log_url"].endswith("/kernels/k/build.log") and b["log_url"].startswith("file:")
    assert b["compiler"] == "gcc (Debian 12.2.0-14+deb12u1) 12.2.0"


def test_tests_paths_statuses_excerpts_and_reproducer(tmp_path, entry):
    data = make(tmp_path, entry)
    by = {t["path"]: t for t in data["tests"]}
    assert by["boot"]["status"] == "PASS" and "log_excerpt" not in by["boot"]
    assert by["nlmmap_conformance.test_r2_setup.test_ok_kernel"]["status"] == "PASS"
    assert by["nlmmap_conformance.test_r2_setup.test_ok_kernel"]["duration"] == 0.5
    assert by["nlmmap_conformance.test_hardening.test_lockdep"]["status"] == "SKIP"
    fail = by["nlmmap_conformance.test_r2_setup.test_geom_kernel-4096"]
    assert fail["status"] == "FAIL" and fail["log_excerpt"] == "assert -22 == 0"
    assert fail["misc"]["rerun"].endswith("-k 'test_geom[kernel-4096]'")
    assert by["nlmmap_conformance.test_r4_rx.test_setup"]["status"] == "ERROR"
    diff = by["nlmmap_conformance.test_differential.test_differential_kernel_vs_model"]
    assert diff["status"] == "ERROR" and diff["misc"]["timed_out"]
    # the differential failed: its reproducer belongs to it, not to the other failures
    assert diff["misc"]["reproducers"][0]["file"].endswith("nlmmap-repro-kernel.nls")
    assert "reproducers" not in fail["misc"]
    ks = by["kselftest.net_netlink_mmap.ring.frame4k_x4.copy_frames"]
    assert ks["status"] == "FAIL" and "Expected 0 (0) == ret (-92)" in ks["log_excerpt"]
    assert by["kselftest.net_netlink_mmap.ring.frame4k_x4.nfqueue_verdicts"]["status"] == "SKIP"
    assert len({t["id"] for t in data["tests"]}) == len(data["tests"])
    assert {t["misc"]["shard"] for t in data["tests"]} == {"1/2"}


def test_splat_is_a_failed_boot_with_the_excerpt(tmp_path, entry):
    splat = "gate: FAIL: kernel splat (WARNING)\n" + "x" * 40000
    data = make(tmp_path, entry, boot_problem=splat)
    boot = next(t for t in data["tests"] if t["path"] == "boot")
    assert boot["status"] == "FAIL" and len(boot["log_excerpt"]) <= kcidb.EXCERPT
    assert boot["log_excerpt"].endswith("x" * 100)
    V5_3.validate_exactly(data)


def test_an_infrastructure_failure_is_a_missed_boot_not_a_failed_one(tmp_path, entry):
    bz, sdir = entry
    run = run_of(tmp_path, "gate: ERROR: infrastructure failure: qemu exited 1")
    run.boot_infra = True
    data = kcidb.report(kcidb.built(bz, sdir), run, [], {})
    assert [t["status"] for t in data["tests"]] == ["MISS"]
    V5_3.validate_exactly(data)


def test_validation_bites(tmp_path, entry):
    data = make(tmp_path, entry)
    data["tests"][1]["status"] = "PASSED"
    assert "invalid at tests/1/status" in kcidb.validate(data)
    data = make(tmp_path, entry)
    data["tests"][1]["path"] = "a..b"
    assert kcidb.validate(data) is not None


def test_merge_keeps_one_build_and_every_test(tmp_path, entry):
    a = make(tmp_path, entry)
    b = json.loads(json.dumps(a))
    for t in b["tests"]:
        t["id"] += "-other-shard"
    m = kcidb.merge([a, b])
    assert len(m["checkouts"]) == 1 and len(m["builds"]) == 1
    assert len(m["tests"]) == 2 * len(a["tests"])
    V5_3.validate_exactly(m)


def test_a_kernel_outside_the_cache_is_still_reported(tmp_path, entry):
    bz = tmp_path / "elsewhere" / "bzImage"
    bz.parent.mkdir()
    bz.write_text("image")
    run = run_of(tmp_path)
    data = kcidb.report(kcidb.built(bz, entry[1]), run, [("nlmmap_conformance", SUITE)], {})
    assert not data["checkouts"][0]["misc"]["series_verified"]
    assert data["builds"][0]["config_name"] == "unknown"
    V5_3.validate_exactly(data)
