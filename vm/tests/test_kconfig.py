import pytest

from vm import kconfig
from vm.errors import GateError

FINAL = """\
#
# Automatically generated file; DO NOT EDIT.
CONFIG_NET=y
CONFIG_NETLINK_MMAP=y
# CONFIG_DRM is not set
CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=60
CONFIG_LOCALVERSION=""
"""


def reqs(*frags):
    return kconfig.merge_requests([(f"frag{i}", t) for i, t in enumerate(frags)])


def test_parse_set_unset_and_comments():
    got = kconfig.parse(FINAL)
    assert got["CONFIG_NET"] == "y"
    assert got["CONFIG_DRM"] is None
    assert got["CONFIG_LOCALVERSION"] == '""'
    assert "Automatically" not in "".join(got)


def test_later_fragment_overrides_earlier():
    r = reqs("CONFIG_KASAN=y\n", "# CONFIG_KASAN is not set\n")
    assert r["CONFIG_KASAN"].value is None and r["CONFIG_KASAN"].source == "frag1"


def test_apply_replaces_existing_lines():
    r = reqs("CONFIG_DRM=y\n# CONFIG_NET is not set\nCONFIG_NEW=m\n")
    out = kconfig.apply_requests(FINAL, r)
    parsed = kconfig.parse(out)
    assert parsed["CONFIG_DRM"] == "y" and parsed["CONFIG_NET"] is None
    assert parsed["CONFIG_NEW"] == "m"
    assert out.count("CONFIG_DRM") == 1


def test_verify_accepts_honoured_requests():
    r = reqs("CONFIG_NETLINK_MMAP=y\n# CONFIG_DRM is not set\n# CONFIG_ABSENT is not set\n"
             "CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=60\nCONFIG_NOT_SET_AS_N=n\n")
    assert kconfig.verify(r, FINAL) == []


def test_verify_names_dropped_option_and_its_fragment():
    r = kconfig.merge_requests([("patches/netlink-mmap.config",
                                 "CONFIG_NETLINK_MMAP=y\nCONFIG_NETLINK_MMAP_TEST=y\n")])
    (problem,) = kconfig.verify(r, FINAL)
    assert problem.startswith("CONFIG_NETLINK_MMAP_TEST=y (from patches/netlink-mmap.config)")
    assert "dropped" in problem


def test_verify_reports_changed_value_and_forced_on_option():
    r = reqs("CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=30\n# CONFIG_NET is not set\n")
    problems = kconfig.verify(r, FINAL)
    assert len(problems) == 2
    assert "CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=60" in problems[0]
    assert "# CONFIG_NET is not set" in problems[1] and "CONFIG_NET=y" in problems[1]


def test_fragment_order_and_profiles(tmp_path):
    cfgs = tmp_path / "configs"
    cfgs.mkdir()
    for n in ("trim", "test-infra", "debug"):
        (cfgs / f"{n}.config").write_text("")
    series = tmp_path / "patches"
    series.mkdir()
    (series / "netlink.config").write_text("CONFIG_NETLINK_MMAP=y\n")
    fast = kconfig.fragment_files("fast", series, cfgs)
    assert [p.name for p in fast] == ["guest.config", "test-infra.config", "netlink.config"]
    debug = kconfig.fragment_files("debug", series, cfgs)
    assert debug[-1].name == "debug.config"
    with pytest.raises(GateError, match="unknown profile"):
        kconfig.fragment_files("nope", series, cfgs)


def test_shipped_fragments_parse():
    from vm import paths
    for f in paths.CONFIGS.glob("*.config"):
        assert kconfig.parse(f.read_text()), f
