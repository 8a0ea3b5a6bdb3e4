"""Series reading, applying, and applied-detection on small temp trees."""

import subprocess

import pytest

from vm import series
from vm.errors import GateError, NoSeries, PatchDoesNotApply

BASE = {
    "net/netlink/af_netlink.c": "".join(f"line {i}\n" for i in range(1, 41)),
    "include/uapi/linux/netlink.h": "#define NETLINK_RX_RING 6\n#define NETLINK_TX_RING 7\n",
}


def write_tree(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def make_patch(tmp_path, name, before, after):
    """A git-format-patch-like patch (a/ b/ prefixes) turning ``before`` into ``after``."""
    a, b = tmp_path / f"{name}.a", tmp_path / f"{name}.b"
    write_tree(a, before)
    write_tree(b, after)
    diff = subprocess.run(["diff", "-ruN", f"{name}.a", f"{name}.b"], cwd=tmp_path,
                          capture_output=True, text=True).stdout
    diff = diff.replace(f"{name}.a/", "a/").replace(f"{name}.b/", "b/")
    header = f"From 0000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] {name}\n\n---\n"
    return (header + diff + "-- \n2.39.5\n").encode()


@pytest.fixture
def three(tmp_path):
    """Three patches; 1 and 2 touch the same file near each other, 3 adds a file."""
    s0 = dict(BASE)
    s1 = dict(s0)
    s1["net/netlink/af_netlink.c"] = s0["net/netlink/af_netlink.c"].replace(
        "line 10\n", "line 10 mmap\n")
    s2 = dict(s1)
    s2["net/netlink/af_netlink.c"] = s1["net/netlink/af_netlink.c"].replace(
        "line 12\n", "line 12 ring\n")
    s3 = dict(s2)
    s3["net/netlink/af_netlink.h"] = "struct netlink_ring;\n"
    sd = tmp_path / "patches"
    sd.mkdir()
    names = ["0001-netlink-mmap.patch", "0002-netlink-ring.patch", "0003-header.patch"]
    for name, (x, y) in zip(names, [(s0, s1), (s1, s2), (s2, s3)], strict=True):
        (sd / name).write_bytes(make_patch(tmp_path, name, x, y))
    (sd / "series").write_text("# the series\n" + "\n".join(names) + "\n")
    tree = tmp_path / "linux"
    write_tree(tree, BASE)
    return sd, tree, [s0, s1, s2, s3]


def test_read_series_in_order(three):
    sd, _, _ = three
    ps = series.read_series(sd)
    assert [p.name for p in ps] == ["0001-netlink-mmap.patch", "0002-netlink-ring.patch",
                                    "0003-header.patch"]
    assert ps[2].files() == ["net/netlink/af_netlink.h"]


def test_no_series_says_so(tmp_path):
    with pytest.raises(NoSeries, match="no kernel series yet: .*series is missing"):
        series.read_series(tmp_path)
    (tmp_path / "series").write_text("# nothing yet\n")
    with pytest.raises(NoSeries, match="lists no patch"):
        series.read_series(tmp_path)
    assert series.read_series(tmp_path, required=False) == []


def test_partial_series_names_missing_file(three):
    sd, _, _ = three
    (sd / "series").write_text((sd / "series").read_text() + "0004-not-written-yet.patch\n")
    with pytest.raises(GateError, match="names 0004-not-written-yet.patch but .* does not exist"):
        series.read_series(sd)


def test_digest_depends_on_bytes(three):
    sd, _, _ = three
    ps = series.read_series(sd)
    d = series.series_digest(ps)
    (sd / ps[0].name).write_bytes(ps[0].data + b"\n")
    assert series.series_digest(series.read_series(sd)) != d


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_applied_prefix_detected(three, k):
    sd, tree, states = three
    write_tree(tree, states[k])
    assert series.applied_prefix(tree, series.read_series(sd)) == k


def test_ensure_applied_applies_only_the_rest_and_says_so(three, caplog):
    sd, tree, states = three
    write_tree(tree, states[1])
    before = (tree / "include/uapi/linux/netlink.h").stat().st_mtime_ns
    actions = series.ensure_applied(tree, series.read_series(sd))
    assert actions == [f"applied 0002-netlink-ring.patch to {tree}",
                       f"applied 0003-header.patch to {tree}"]
    assert "MODIFYING" in caplog.text
    for rel, text in states[3].items():
        assert (tree / rel).read_text() == text
    assert (tree / "include/uapi/linux/netlink.h").stat().st_mtime_ns == before
    # a second run finds everything applied and does nothing
    assert series.ensure_applied(tree, series.read_series(sd)) == []
    assert not list(tree.rglob("*.orig")) and not list(tree.rglob("*.rej"))


def test_detection_does_not_touch_the_tree(three):
    sd, tree, states = three
    snapshot = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    series.applied_prefix(tree, series.read_series(sd))
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == snapshot


def test_patch_that_does_not_apply_names_patch_file_and_hunk(three):
    sd, tree, _ = three
    (tree / "net/netlink/af_netlink.c").write_text("something else entirely\n")
    with pytest.raises(PatchDoesNotApply) as e:
        series.apply(tree, series.read_series(sd))
    msg = e.value.message
    assert "\n" not in msg
    assert msg.startswith("patch 1/3 0001-netlink-mmap.patch does not apply")
    assert "net/netlink/af_netlink.c: hunk #1 FAILED at line" in msg
    assert "--dry-run" in e.value.hint
    # dry run first: nothing was half-applied
    assert (tree / "net/netlink/af_netlink.c").read_text() == "something else entirely\n"


def test_patch_for_missing_file_names_it(three):
    sd, tree, _ = three
    (tree / "net/netlink/af_netlink.c").unlink()
    with pytest.raises(PatchDoesNotApply, match="net/netlink/af_netlink.c: file to patch "
                       "does not exist"):
        series.apply(tree, series.read_series(sd))


def test_unrelated_tree_is_neither_applied_nor_applicable(three):
    sd, tree, _ = three
    (tree / "net/netlink/af_netlink.c").write_text("other base version\n")
    with pytest.raises(PatchDoesNotApply, match="0001-netlink-mmap.patch does not apply to "
                       + str(tree)):
        series.ensure_applied(tree, series.read_series(sd))


def test_reverse_restores_base(three):
    sd, tree, states = three
    ps = series.read_series(sd)
    series.apply(tree, ps)
    assert series.reverse(tree, ps)
    for rel, text in states[0].items():
        assert (tree / rel).read_text() == text
    assert not (tree / "net/netlink/af_netlink.h").exists()


def test_describe_failure_parses_gnu_patch_output():
    out = ("checking file include/uapi/linux/netlink.h\nchecking file net/netlink/af_netlink.c\n"
           "Hunk #2 FAILED at 120.\nHunk #5 FAILED at 900.\n2 out of 6 hunks FAILED\n")
    assert series.describe_failure(out) == (
        "net/netlink/af_netlink.c: hunk #2 FAILED at line 120, hunk #5 FAILED at line 900")


def test_base_other_than_the_source_is_named(tmp_path, caplog):
    (tmp_path / "BASE").write_text("linux-source-6.12 6.12.117-1~deb12u1\n")
    assert series.check_base(tmp_path, "linux-source-6.12 6.12.117-1~deb12u1")
    assert not caplog.records
    assert not series.check_base(tmp_path, "linux-source-6.12 6.12.118-1~deb12u1")
    assert "made on linux-source-6.12 6.12.117-1~deb12u1" in caplog.text
    assert "applied to linux-source-6.12 6.12.118-1~deb12u1" in caplog.text
    assert series.check_base(tmp_path / "absent", "anything")  # no BASE: nothing to say
