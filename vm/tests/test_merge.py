"""python -m vm merge: shard result directories -> one verdict, JUnit, KTAP, KCIDB."""

from __future__ import annotations

import json
from pathlib import Path

from kcidb_io.schema import V5_3

from conformance import coverage as rule_coverage
from vm import cli, kselftest, merge
from vm.shard import Shard

from .test_kcidb import entry, make  # noqa: F401  (entry is a fixture)
from .test_kselftest import RUNNER
from .test_ktap import kunit  # noqa: F401  (fixture)

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="2">
<testcase classname="conformance.test_r2" name="test_a{n}" time="0.1"/>
<testcase classname="conformance.test_differential" name="test_differential_kernel_vs_model"
 time="9"/>{extra}
</testsuite></testsuites>
"""
FAILURE = '<testcase classname="conformance.test_r4" name="test_bad" time="1">' \
          '<failure message="assert 1 == 2">tb</failure></testcase>'


def shard_dir(tmp_path: Path, entry_, i: int, n: int, code: int = 0, seed: int = 1,
              kcidb_data: dict | None = None) -> Path:
    d = tmp_path / f"shard-{i}"
    d.mkdir()
    (d / "junit.xml").write_text(JUNIT.format(n=i, extra=FAILURE if code == 1 else ""))
    if Shard(i, n).runs_kselftest:
        (d / kselftest.OUTPUT).write_text(RUNNER)
    (tmp_path / f"k{i}").mkdir(exist_ok=True)
    data = kcidb_data or make(tmp_path / f"k{i}", entry_)
    for t in data["tests"]:
        t["id"] += f"-shard{i}"
    (d / "kcidb.json").write_text(json.dumps(data))
    merge.record(d, code=code, headline={0: "gate: PASS: ok", 1: "gate: FAIL: tests"}.get(
                 code, "gate: error: qemu died"), shard=Shard(i, n), seed=seed,
                 kernel=Path("/k/bzImage"), seconds={"guest": 100.0 + i, "total": 120.0 + i})
    return d


def test_two_passing_shards_pass_with_everything_merged(tmp_path, entry, kunit, capsys):  # noqa: F811
    dirs = [shard_dir(tmp_path, entry, i, 2) for i in (1, 2)]
    out = tmp_path / "merged"
    assert merge.merge(dirs, out) == 0
    text = capsys.readouterr().out
    assert text.startswith("gate: PASS: 2 shard(s) merged: nlmmap_conformance: 4 passed; "
                           "kselftest_net_netlink_mmap: 2 passed, 1 failed, 1 skipped")
    assert "wall time with the shards in parallel: 122 s (slowest shard)" in text
    main = kunit.parse_run_tests((out / "junit.ktap").read_text().splitlines())
    assert main.counts.errors == 0 and len(main.subtests) == 2
    data = json.loads((out / "kcidb.json").read_text())
    V5_3.validate_exactly(data)
    assert len(data["builds"]) == 1 and len(data["tests"]) == 2 * len(make(
        tmp_path / "k1", entry)["tests"])
    assert "(schema v5.3, valid)" in text
    import xml.etree.ElementTree as ET
    suites = [s.get("name") for s in ET.parse(out / "junit.xml").getroot().iter("testsuite")]
    assert suites == ["pytest shard 1/2", "pytest shard 2/2"]


def test_a_failing_shard_fails_the_merge(tmp_path, entry):  # noqa: F811
    dirs = [shard_dir(tmp_path, entry, 1, 2), shard_dir(tmp_path, entry, 2, 2, code=1)]
    assert merge.merge(dirs, tmp_path / "m") == 1
    rec = json.loads((tmp_path / "m" / merge.RECORD).read_text())
    assert rec["exit"] == 1 and rec["headline"].startswith("gate: FAIL")


def test_an_erroring_shard_is_an_error_not_a_pass(tmp_path, entry):  # noqa: F811
    dirs = [shard_dir(tmp_path, entry, 1, 2), shard_dir(tmp_path, entry, 2, 2, code=2)]
    assert merge.merge(dirs, tmp_path / "m") == 2


def test_missing_or_foreign_shards_are_not_one_gate(tmp_path, entry, capsys):  # noqa: F811
    one = shard_dir(tmp_path, entry, 1, 3)
    assert merge.merge([one], tmp_path / "m1") == 2
    assert "missing shard(s) 2/3, 3/3" in capsys.readouterr().out
    two = shard_dir(tmp_path, entry, 2, 3, seed=99)
    (tmp_path / "k3").mkdir(exist_ok=True)
    other = make(tmp_path / "k3", entry)
    other["builds"][0]["id"] = "nlmmap_gate:build:another"
    three = shard_dir(tmp_path, entry, 3, 3, kcidb_data=other)
    assert merge.merge([one, two, three], tmp_path / "m2") == 2
    out = capsys.readouterr().out
    assert "different base seeds" in out and "tested different kernels" in out


def test_merge_cli_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["merge", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith("gate: error: ")
    assert cli.main(["merge", str(tmp_path)]) == 2
    assert "is not a gate result directory" in capsys.readouterr().err


def test_export_copies_what_merge_reads(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for f in ("junit.xml", "kcidb.json", merge.RECORD, "console.log", "nlmmap-repro-k.nls"):
        (run / f).write_text(f)
    merge.export(run, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["junit.xml", "kcidb.json", merge.RECORD, "console.log", "nlmmap-repro-k.nls"])


def test_merge_adds_up_the_shards_rule_coverage(tmp_path, entry, capsys):  # noqa: F811
    dirs = [shard_dir(tmp_path, entry, i, 2) for i in (1, 2)]
    for d, rules in zip(dirs, ({"R2.5.3"}, {"R2.5.4", "R4.9"}), strict=True):
        t = rule_coverage.Tally()
        t.add(rules)
        t.write(d / rule_coverage.FILE)
    out = tmp_path / "merged"
    assert merge.merge(dirs, out) == 0
    doc = json.loads((out / rule_coverage.FILE).read_text())
    assert doc["ops"] == 2 and doc["agreed"]["R2.5"] == 2 and doc["agreed"]["R4.9"] == 1
    assert "| R2.5 | validation of a new ring | 2 | R2.5.3: 1, R2.5.4: 1 |" in (
        out / rule_coverage.REPORT).read_text()
    assert "  rules exercised with agreement: 2 of " in capsys.readouterr().out
    merge.export(dirs[0], tmp_path / "exported")
    assert (tmp_path / "exported" / rule_coverage.FILE).is_file()
