"""Kernel mutants and series variants (no build, no boot): every mutant file parses and
names its rule, variants are written as the build expects, the score table renders."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vm import mutants, paths, series, source, trial

from .test_series import BASE, make_patch, write_tree

ALL = sorted(mutants.MUTANTS.glob("*.diff"))
FAMILIES = ("allocation-time lookup", "ordering", "COPY fallback trigger", "ring-full",
            "SKIP", "RESERVED/VALID", "undelivered free", "credentials", "mmap length",
            "teardown EBUSY", "TX nm_len", "exclusivity (dup)", "exclusivity (fork",
            "exclusivity (second mapping", "exclusivity (threads)", "poll masks",
            "dump flow control", "nfqueue/nflog", "multicast", "lifetimes")


def test_there_are_enough_mutants():
    assert len(ALL) >= 15
    assert not (mutants.MUTANTS / "no-file-exclusivity").exists()  # replaced by a diff


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_mutant_parses_and_names_its_rule(path):
    m = mutants.parse(path)
    assert re.match(r"(R\d+\.\d+|D\d+)", m.rule), m.rule  # a rule or decision number
    assert m.family and m.breaks and m.expect
    assert m.files and all(f.startswith(("net/", "include/")) for f in m.files)
    assert m.profile in (None, "fast", "debug")
    if m.equivalent:  # an equivalent mutant carries its argument, not a test
        assert len(m.equivalent.split()) >= 20
    assert m.as_patch().name == f"mutant-{m.name}.diff"
    # small: a one-rule break, not a copied patch
    changed = [x for x in m.data.decode().splitlines()
               if x[:1] in "+-" and not x.startswith(("+++", "---"))]
    assert 0 < len(changed) <= 25, len(changed)


def test_every_rule_family_of_the_issue_is_covered():
    families = " ".join(mutants.parse(p).family for p in ALL)
    missing = [f for f in FAMILIES if f not in families]
    assert not missing, missing


def test_header_continuation_lines_are_joined():
    text = ("# Rule: R4.9: one\n#   two three\n# Family: x\n# Breaks: y\n# Expect: z\n"
            "# Note: not a field\n--- a/net/f.c\n+++ b/net/f.c\n@@ -1 +1 @@\n-a\n+b\n")
    assert mutants.parse_header(text) == {"rule": "R4.9: one two three", "family": "x",
                                          "breaks": "y", "expect": "z"}


def test_missing_header_field_is_an_error(tmp_path):
    p = tmp_path / "bad.diff"
    p.write_text("# Rule: R1.1\n# Family: f\n--- a/net/f.c\n+++ b/net/f.c\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(mutants.MutantError, match="missing: Breaks, Expect"):
        mutants.parse(p)
    p.write_text("# Rule: R1.1\n# Family: f\n# Breaks: b\n# Expect: e\n")
    with pytest.raises(mutants.MutantError, match="no unified diff"):
        mutants.parse(p)


@pytest.mark.parametrize("rule", ["R4." + "99: no such rule", "the ring is full"])
def test_rule_field_must_name_a_catalogue_rule(tmp_path, rule):
    p = tmp_path / "bad.diff"
    p.write_text(f"# Rule: {rule}\n# Family: f\n# Breaks: b\n# Expect: e\n"
                 "--- a/net/f.c\n+++ b/net/f.c\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(mutants.MutantError, match="not in spec/rules.toml"):
        mutants.parse(p)


def test_unknown_mutant_name(tmp_path):
    with pytest.raises(mutants.GateError, match="no kernel mutant named nope"):
        mutants.load(tmp_path, ["nope"])


# ---- variants --------------------------------------------------------------------------

@pytest.fixture
def two(tmp_path):
    """A two-patch series whose second patch adds a Kconfig symbol, a fragment asking for
    it, and a mutant diff against the patched tree."""
    s0 = dict(BASE)
    s0["net/netlink/Kconfig"] = "config NETLINK_DIAG\n\ttristate\n"
    s1 = dict(s0)
    s1["net/netlink/af_netlink.c"] = s0["net/netlink/af_netlink.c"].replace(
        "line 10\n", "line 10 ring\n")
    s2 = dict(s1)
    s2["net/netlink/Kconfig"] = "config NETLINK_MMAP_TEST\n\tbool\n" + s1["net/netlink/Kconfig"]
    sd = tmp_path / "patches"
    sd.mkdir()
    names = ["0001-ring.patch", "0002-test-driver.patch"]
    for name, (x, y) in zip(names, [(s0, s1), (s1, s2)], strict=True):
        (sd / name).write_bytes(make_patch(tmp_path, name, x, y))
    (sd / "series").write_text("\n".join(names) + "\n")
    (sd / "netlink-mmap.config").write_text("CONFIG_NETLINK_MMAP=y\nCONFIG_NETLINK_MMAP_TEST=y\n")
    s3 = dict(s2)
    s3["net/netlink/af_netlink.c"] = s2["net/netlink/af_netlink.c"].replace(
        "line 10 ring\n", "line 10 ring broken\n")
    diff = make_patch(tmp_path, "m", s2, s3).decode().split("---\n", 1)[1]
    mp = tmp_path / "mutants" / "broken.diff"
    mp.parent.mkdir()
    mp.write_text("# Rule: R4.1: x\n# Family: ordering\n# Breaks: b\n# Expect: test_x\n" + diff)
    tree = tmp_path / "linux"
    write_tree(tree, s0)
    return sd, tree, mutants.parse(mp)


def test_mutant_series_appends_the_diff_and_builds_the_same_way(two, tmp_path):
    sd, tree, m = two
    v = mutants.mutant_series(tmp_path / "v", sd, m)
    got = series.read_series(v)
    assert [p.name for p in got] == ["0001-ring.patch", "0002-test-driver.patch",
                                    "mutant-broken.diff"]
    assert (v / "netlink-mmap.config").read_text() == (sd / "netlink-mmap.config").read_text()
    assert series.series_digest(got) != series.series_digest(series.read_series(sd))
    series.apply(tree, got, quiet=True)  # the header comment does not disturb patch(1)
    assert "line 10 ring broken\n" in (tree / "net/netlink/af_netlink.c").read_text()


def test_mutant_inserted_mid_series(two, tmp_path):
    sd, tree, m = two
    entries = trial.insert(series.read_series(sd), m.as_patch(), after=1)
    assert [p.name for p in entries] == ["0001-ring.patch", "mutant-broken.diff",
                                        "0002-test-driver.patch"]
    with pytest.raises(mutants.GateError, match="after patch 3: the series has 2"):
        trial.insert(series.read_series(sd), m.as_patch(), after=3)


def test_prefix_variant_drops_options_introduced_later(two, tmp_path):
    sd, tree, _ = two
    patches = series.read_series(sd)
    assert trial.introduced_options(patches[1]) == {"CONFIG_NETLINK_MMAP_TEST"}
    assert trial.introduced_options(patches[0]) == set()
    v = trial.variant_dir(tmp_path / "p1", sd, patches, 1)
    assert [p.name for p in series.read_series(v)] == ["0001-ring.patch"]
    frag = (v / "netlink-mmap.config").read_text()
    assert "CONFIG_NETLINK_MMAP=y" in frag
    assert "CONFIG_NETLINK_MMAP_TEST=y" not in frag
    assert "introduced by 0002-test-driver.patch" in frag
    v0 = trial.variant_dir(tmp_path / "p0", sd, patches, 0)
    assert series.read_series(v0, required=False) == []
    full = trial.variant_dir(tmp_path / "p2", sd, patches, 2)
    assert "CONFIG_NETLINK_MMAP_TEST=y" in (full / "netlink-mmap.config").read_text()


def test_pristine_check_names_a_mutant_that_does_not_apply(two, tmp_path, monkeypatch):
    sd, tree, m = two
    patches = series.read_series(sd)
    tarball = tmp_path / "src.tar.xz"
    top = tmp_path / "pack" / trial.TOP
    write_tree(top, {f: (tree / f).read_text() for f in BASE} |
               {"net/netlink/Kconfig": (tree / "net/netlink/Kconfig").read_text()})
    subprocess.run(["tar", "-cJf", str(tarball), "-C", str(tmp_path / "pack"), trial.TOP],
                   check=True)
    pristine = trial.Pristine(trial.touched(patches + [m.as_patch()]), tarball)
    try:
        assert pristine.check(trial.insert(patches, m.as_patch())) is None
        why = pristine.check(trial.insert(patches, m.as_patch(), after=0))
        assert why and "mutant-broken.diff does not apply to the base tree" in why
    finally:
        pristine.close()


# ---- scores ------------------------------------------------------------------------------

def _trial(exit_, headline, failed=(), repro=(), guest=None):
    return trial.Trial(exit_, headline, list(failed), list(repro), guest, 10.0, None, "gate.log")


def test_judge_and_score_table(two):
    _, _, m = two
    caught = mutants.judge(m, _trial(1, "gate: FAIL: tests failed in the guest: 3 passed, 1 "
                                     "failed", ["test_r4_rx::test_r4_11_x[kernel]"],
                                     ["/runs/x/nlmmap-repro-kernel.nls"], 95.0))
    assert (caught.status, caught.caught_by) == ("caught", "test_r4_rx::test_r4_11_x[kernel]")
    splat = mutants.judge(m, _trial(1, "gate: FAIL: kernel splat on the console (WARNING): "
                                    "WARNING: at net/netlink/af_netlink.c:1"))
    assert splat.caught_by.startswith("kernel splat on the console")
    survived = mutants.judge(m, _trial(0, "gate: PASS: 140 passed; console clean"))
    assert survived.status == "survived"
    m.equivalent = "argument " * 20
    assert mutants.judge(m, _trial(0, "gate: PASS: ...")).status == "equivalent"
    wrong = mutants.judge(m, _trial(1, "gate: FAIL: x", ["t::a"]))
    assert wrong.status == "caught" and "argument is wrong" in wrong.detail
    err = mutants.judge(m, _trial(2, "gate: error: kernel build failed after 3 s: x.c: error"))
    assert err.status == "error"
    skipped = mutants.Score("nomem", "COPY fallback | no_memory", "t", "skipped",
                            detail="needs --profile debug")
    table = mutants.render_table([caught, splat, survived, err, skipped])
    lines = table.splitlines()
    assert lines[0].startswith("| mutant | family | verdict | caught by | guest s |")
    assert "| `broken` | ordering | CAUGHT | test_r4_rx::test_r4_11_x[kernel] | 95 | " \
           "nlmmap-repro-kernel.nls |" in lines
    assert any("**SURVIVED**" in x for x in lines)
    assert any("**ERROR**" in x and "kernel build failed" in x for x in lines)
    assert "COPY fallback \\| no_memory" in table  # a pipe in a cell is escaped
    assert lines[-1] == ("2/3 non-equivalent mutants caught (67%); 0 equivalent (survived "
                         "as argued), 1 not judged (error), 1 not run")
    assert mutants.exit_code([caught, splat]) == 0
    assert mutants.exit_code([caught, err]) == 2
    assert mutants.exit_code([caught, survived, err]) == 1
    assert mutants.exit_code([caught, skipped]) == 0


def test_gate_output_is_parsed():
    text = """[10:00:01 vm.boot] boot: /k/bz under TCG (console: /c/runs/r1/console.log)
gate: FAIL: tests failed in the guest: 20 passed, 1 failed (pytest exit 1)
    test_r5_tx::test_x[kernel]: AssertionError
reproducer: /c/runs/r1/nlmmap-repro-kernel.nls
  replay: python -m vm run -- python -m conformance replay ...
times: kernel 0 s, guest 143 s (TCG), total 150 s
"""
    info = trial.parse_gate_output(text)
    assert info == {"headline": "gate: FAIL: tests failed in the guest: 20 passed, 1 failed "
                    "(pytest exit 1)", "reproducers": ["/c/runs/r1/nlmmap-repro-kernel.nls"],
                    "guest_seconds": 143.0, "run_dir": "/c/runs/r1"}
    assert trial.parse_gate_output("boom\n")["headline"] == "boom"


def test_failed_tests_from_junit(tmp_path):
    j = tmp_path / "junit.xml"
    j.write_text('<testsuites><testsuite><testcase classname="conformance.test_r4_rx" '
                 'name="test_a[kernel]"/><testcase classname="conformance.test_r4_rx" '
                 'name="test_b[kernel]"><failure message="boom"/></testcase></testsuite>'
                 '</testsuites>')
    assert trial.failed_tests(j) == ["test_r4_rx::test_b[kernel]"]
    assert trial.failed_tests(tmp_path / "none.xml") == []
    (tmp_path / "cut.xml").write_text("<testsuites><testsu")
    assert trial.failed_tests(tmp_path / "cut.xml") == []


def test_gate_command_is_fail_fast():
    cmd = trial.gate_command(Path("/k/bz"), profile="fast", junit=Path("/r/j.xml"),
                             kexpr="nm_len", gate_args=["--accel", "tcg"])
    assert cmd[1:] == ["-m", "vm", "gate", "--kernel", "/k/bz", "--profile", "fast", "-q",
                       "--junit", "/r/j.xml", "--fail-fast", "-k", "nm_len", "--accel", "tcg"]


def test_gate_fail_fast_reaches_pytest():
    from vm import cli
    args = cli.parser().parse_args(["gate", "--fail-fast"])
    assert args.fail_fast
    assert " -x" in cli.guest_pytest(Path("/r"), None, 10, args.fail_fast)
    assert " -x" not in cli.guest_pytest(Path("/r"), None, 10)


def test_switching_series_keeps_mtimes_of_unchanged_files(two, tmp_path):
    """The cache tree goes from series + mutant A to series + mutant B by reverting and
    applying everything; only the file whose content differs may look new to make."""
    sd, tree, m = two
    patches = series.read_series(sd)
    a = trial.insert(patches, m.as_patch())
    series.apply(tree, a, quiet=True)
    old = 1_000_000_000 * 10**9
    for rel in trial.touched(a):
        os.utime(tree / rel, ns=(old, old))
    snap = source._snapshot(tree, trial.touched(a))
    assert series.reverse(tree, a)
    series.apply(tree, patches, quiet=True)  # "mutant B" = none: af_netlink.c differs
    kept = source.restore_unchanged_mtimes(tree, snap)
    assert kept == 1
    assert (tree / "net/netlink/Kconfig").stat().st_mtime_ns == old
    assert (tree / "net/netlink/af_netlink.c").stat().st_mtime_ns > old


def test_fail_fast_orders_the_suite_cheapest_first():
    from vm import cli
    cmd = cli.guest_pytest(Path("/r"), None, 10, True, first=["test_a", "test_b[kernel-dup]"])
    assert cmd.startswith("NLMMAP_DIFF_STEPS=10 NLMMAP_CHEAP_FIRST=1 "
                          "NLMMAP_FIRST='test_a,test_b[kernel-dup]' ")
    assert "CHEAP_FIRST" not in cli.guest_pytest(Path("/r"), None, 10)


def test_rank_puts_named_tests_first_and_the_differential_last():
    from conformance import ordering
    first = ordering.parse_first("test_x, test_y[kernel-dup],")
    assert first == {"test_x", "test_y[kernel-dup]"}
    assert ordering.rank("conformance.test_differential", "test_x[kernel]", "test_x",
                         first) == 0
    assert ordering.rank("conformance.test_r5_tx", "test_y[kernel-dup]", "test_y", first) == 0
    assert ordering.rank("conformance.test_r5_tx", "test_y[kernel-fork]", "test_y", first) == 1
    slow = [ordering.rank(f"conformance.{m}", "t", "t", first) for m in ordering.SLOW_MODULES]
    assert slow == sorted(slow) and slow[0] > 1
    assert slow[-1] == ordering.rank("conformance.test_differential", "t", "t", set())


def test_cheap_first_is_stable_and_keeps_every_item():
    from types import SimpleNamespace as NS

    from conformance import ordering

    def item(mod, name):
        return NS(module=NS(__name__=f"conformance.{mod}"), name=name, originalname=name)
    items = [item("test_bug_history", "a"), item("test_differential", "b"),
             item("test_r4_rx", "c"), item("test_r2_setup", "d"), item("test_stress", "e")]
    out = ordering.cheap_first(items, {"e"})
    assert [i.name for i in out] == ["e", "c", "d", "a", "b"]


def test_beside_last_runs_the_waiting_test_after_the_others_and_before_alone_ones():
    from types import SimpleNamespace as NS

    from conformance import ordering

    def item(name, alone=False):
        return NS(name=name, originalname=name,
                  get_closest_marker=lambda m, a=alone: object() if a and m == "alone" else None)
    items = [item("a"), item("l", alone=True), item("diff"), item("b"), item("m", alone=True)]
    out = ordering.beside_last(items, "diff")
    assert [i.name for i in out] == ["a", "b", "diff", "l", "m"]


def test_expected_tests_of_a_mutant_header(tmp_path):
    p = tmp_path / "m.diff"
    p.write_text("# Rule: R1\n# Family: f\n# Breaks: b\n"
                 "# Expect: test_d2_x[kernel-dup]; the differential (kind=dup);\n"
                 "#   test_r3_7_y (test_campaign_gaps.py)\n"
                 "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n")
    assert mutants.parse(p).expected_tests == ["test_d2_x[kernel-dup]", "test_r3_7_y",
                                               "test_campaign_gaps"]


def test_gate_command_passes_first_tests_only_when_fail_fast():
    cmd = trial.gate_command(Path("/k/bz"), profile="fast", junit=Path("/r/j.xml"),
                             first=["test_a"])
    assert cmd[-3:] == ["--fail-fast", "--first", "test_a"]
    assert "--first" not in trial.gate_command(Path("/k/bz"), profile="fast",
                                               junit=Path("/r/j.xml"), fail_fast=False,
                                               first=["test_a"])


def test_a_pass_without_the_kselftest_is_not_a_survivor(two, tmp_path):
    _, _, m = two
    log = tmp_path / "gate.log"
    log.write_text("[vm.kselftest] kselftest: /t has no x (series without the selftest "
                   "patch?): running without the kselftest suite\ngate: PASS: 140 passed\n")
    t = trial.Trial(0, "gate: PASS: 140 passed", [], [], 300.0, 10.0, None, str(log))
    s = mutants.judge(m, t)
    assert s.status == "error" and "without the kselftest" in s.detail


def test_a_pytest_that_left_no_results_is_not_a_catch(two):
    _, _, m = two
    s = mutants.judge(m, _trial(1, "gate: FAIL: pytest left no JUnit XML at /r/junit.xml "
                                   "(exit status 4)"))
    assert s.status == "error" and "not a catch" in s.detail


def test_every_expected_test_exists_in_the_suite():
    """A mutant's ``Expect:`` names the tests a fail-fast gate runs first. A name that is
    no test is silently ignored there: ``excl-no-mm-shared`` named a test that was never
    written, and survived the whole gate on the final series."""
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                        "-p", "no:cacheprovider", "conformance"], cwd=paths.REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    nodes = [x.split("::") for x in r.stdout.splitlines() if "::" in x]
    ids = {n[-1] for n in nodes}
    names = ids | {i.split("[")[0] for i in ids} | {Path(n[0]).stem for n in nodes}
    missing = {m.name: [t for t in m.expected_tests if t not in names]
               for m in mutants.load(mutants.MUTANTS, None)}
    assert not {k: v for k, v in missing.items() if v}


def _campaign(d: Path, started: str, digest: str, scores: list[dict]) -> Path:
    d.mkdir(parents=True)
    (d / "score.json").write_text(json.dumps(
        {"series_dir": "patches", "profile": "fast", "series": ["0001.patch"],
         "series_sha256": digest, "started": started, "gate_args": [], "scores": scores}))
    return d


def _mutant_files(d: Path, names: list[str]) -> Path:
    d.mkdir()
    for n in names:
        (d / f"{n}.diff").write_text("# Rule: R4.1: x\n# Family: ordering\n# Breaks: b\n"
                                     "# Expect: test_x\n--- a/net/f.c\n+++ b/net/f.c\n"
                                     "@@ -1 +1 @@\n-a\n+b\n")
    return d


def test_combine_keeps_the_latest_score_and_lists_the_unscored(tmp_path):
    mdir = _mutant_files(tmp_path / "m", ["a", "b", "c"])
    old = _campaign(tmp_path / "old", "2026-12-02 17:32:13", "d1", [
        {"mutant": "a", "family": "f", "expect": "t", "status": "caught", "caught_by": "t1"},
        {"mutant": "b", "family": "f", "expect": "t", "status": "survived"}])
    new = _campaign(tmp_path / "new", "2026-12-02 18:54:38", "d1", [
        {"mutant": "b", "family": "f", "expect": "t", "status": "caught", "caught_by": "t2"}])
    scores, meta = mutants.combine([new, old], mdir)  # order of the arguments is irrelevant
    assert [(s.mutant, s.status, s.caught_by) for s in scores] == [
        ("a", "caught", "t1"), ("b", "caught", "t2"), ("c", "skipped", "")]
    assert meta["series_sha256"] == "d1" and len(meta["combined"]) == 2
    assert "2/2 non-equivalent mutants caught" in mutants.render_table(scores)


def test_combine_refuses_campaigns_of_different_series(tmp_path):
    mdir = _mutant_files(tmp_path / "m", ["a"])
    one = _campaign(tmp_path / "one", "2026-12-02 17:00:00", "d1", [])
    two = _campaign(tmp_path / "two", "2026-12-02 18:00:00", "d2", [])
    with pytest.raises(mutants.GateError, match="different series"):
        mutants.combine([one, two], mdir)
    with pytest.raises(mutants.GateError, match="no campaign score"):
        mutants.combine([tmp_path / "m"], mdir)
