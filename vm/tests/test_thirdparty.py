"""Host build of thirdparty/ (the old mmap-netlink programs) and its hand-over to the guest."""

from __future__ import annotations

import os
import subprocess

import pytest

from vm import cli, thirdparty
from vm.errors import BuildFailed

PROGRAMS = ["kaber/rtnl-route-dump", "kaber/nf-queue", "chamaken/rtnl-link-dump",
            "chamaken/rtnl-route-dump", "chamaken/genl-family-get", "chamaken/nf-queue",
            "chamaken/nf-log"]


def test_make_builds_every_program_out_of_tree_and_leaves_the_sources_alone(tmp_path):
    before = thirdparty.digest()
    argv = ["make", "-C", str(thirdparty.SOURCES), f"O={tmp_path}"]
    subprocess.run(argv, check=True, capture_output=True)
    for p in PROGRAMS:
        assert os.access(tmp_path / p, os.X_OK), p
    assert thirdparty.digest() == before
    again = subprocess.run(argv, check=True, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout  # what the guest's fixture then sees


def test_make_without_o_refuses():
    r = subprocess.run(["make", "-C", str(thirdparty.SOURCES)], capture_output=True,
                       text=True)
    assert r.returncode != 0 and "O=DIR is required" in r.stderr


def test_digest_follows_content(tmp_path):
    (tmp_path / "a").write_text("x")
    d = thirdparty.digest(tmp_path)
    (tmp_path / "a").write_text("y")
    assert thirdparty.digest(tmp_path) != d


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """A stand-in thirdparty/ whose Makefile the test writes, and a private cache."""
    def make(makefile: str):
        src = tmp_path / "src"
        src.mkdir()
        (src / "Makefile").write_text(makefile)
        monkeypatch.setattr(thirdparty, "SOURCES", src)
        monkeypatch.setenv("NLMMAP_CACHE", str(tmp_path / "cache"))
        return src
    return make


def test_prepare_failure_names_the_log(tmp_path, sources):
    sources("all:\n\tfalse\n")
    with pytest.raises(BuildFailed) as e:
        thirdparty.prepare(tmp_path)
    assert e.value.render().endswith(str(tmp_path / "thirdparty-build.log"))


def test_prepare_hands_the_build_dir_to_the_guest(tmp_path, sources):
    src = sources("all:\n\tmkdir -p $(O) && touch $(O)/built\n")
    env = thirdparty.prepare(tmp_path)
    assert (tmp_path / "cache" / "thirdparty" / thirdparty.digest(src) / "built").exists()
    assert env == {thirdparty.BUILD_ENV: str(tmp_path / "cache" / "thirdparty"
                                             / thirdparty.digest(src))}
    cmd = cli.guest_pytest(tmp_path, None, 10, env=env)
    assert f"{thirdparty.BUILD_ENV}={env[thirdparty.BUILD_ENV]} " in cmd
