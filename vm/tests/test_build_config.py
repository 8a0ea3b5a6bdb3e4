"""The config memo: configure() runs once per set of inputs (vm/build.py final_config)."""

from __future__ import annotations

import pytest

from vm import build, paths
from vm.source import Source


@pytest.fixture
def made(tmp_path, monkeypatch):
    """A fake configure() that writes and returns a config naming its call number."""
    calls = []

    def configure(tree, profile, series_dir, logfile):
        calls.append(profile)
        text = f"CONFIG_CALL_{len(calls)}=y\n"
        (tree / ".config").write_text(text)
        return text
    monkeypatch.setattr(build, "configure", configure)
    (tmp_path / "tree").mkdir()
    return calls


def _final(tmp_path, profile="fast", version="v1", cacheable=True):
    src = Source(tmp_path / "tree", version, "6.12", cacheable=cacheable)
    return build.final_config(tmp_path / "cache", src, [], profile, paths.PATCHES,
                              tmp_path / "log")


def test_same_inputs_configure_once_and_the_tree_gets_the_config(tmp_path, made):
    first = _final(tmp_path)
    (tmp_path / "tree" / ".config").write_text("CONFIG_OTHER=y\n")  # e.g. a debug build
    assert _final(tmp_path) == first == "CONFIG_CALL_1=y\n"
    assert (tmp_path / "tree" / ".config").read_text() == first
    assert made == ["fast"]


@pytest.mark.parametrize("change", [{"profile": "debug"}, {"version": "v2"}])
def test_another_input_configures_again(tmp_path, made, change):
    _final(tmp_path)
    assert _final(tmp_path, **change) == "CONFIG_CALL_2=y\n"


def test_a_fragment_edit_configures_again(tmp_path, made, monkeypatch):
    configs = tmp_path / "configs"
    configs.mkdir()
    for name in ("guest", "test-infra", "fast"):
        (configs / f"{name}.config").write_text(f"# {name}\n")
    monkeypatch.setattr(paths, "CONFIGS", configs)
    _final(tmp_path)
    (configs / "guest.config").write_text("CONFIG_NEW=y\n")
    assert _final(tmp_path) == "CONFIG_CALL_2=y\n"


def test_a_tree_whose_identity_does_not_cover_its_content_always_configures(tmp_path, made):
    _final(tmp_path, cacheable=False)
    _final(tmp_path, cacheable=False)
    assert len(made) == 2
