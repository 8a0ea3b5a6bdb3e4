"""Host builds of the guest's C programs (thirdparty/, conformance/stress/) and their
hand-over to the guest."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace

import pytest

from vm import cli, hostbuild
from vm.errors import BuildFailed

THIRDPARTY, STRESS = hostbuild.TREES
PROGRAMS = {THIRDPARTY: ["kaber/rtnl-route-dump", "kaber/nf-queue", "chamaken/rtnl-link-dump",
                         "chamaken/rtnl-route-dump", "chamaken/genl-family-get",
                         "chamaken/nf-queue", "chamaken/nf-log"],
            STRESS: ["nlmmap_stress"]}


@pytest.mark.parametrize("tree", hostbuild.TREES, ids=lambda t: t.name)
def test_make_builds_every_program_out_of_tree_and_leaves_the_sources_alone(tree, tmp_path):
    before = hostbuild.digest(tree.sources)
    argv = hostbuild.build_command(tree, tmp_path)
    subprocess.run(argv, check=True, capture_output=True)
    for p in PROGRAMS[tree]:
        assert os.access(tmp_path / p, os.X_OK), p
    assert hostbuild.digest(tree.sources) == before
    again = subprocess.run(argv, check=True, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout or "is up to date" in again.stdout, \
        again.stdout  # what the guest's fixture then sees


@pytest.mark.parametrize("tree", hostbuild.TREES, ids=lambda t: t.name)
def test_make_without_o_refuses(tree):
    r = subprocess.run(["make", "-C", str(tree.sources)], capture_output=True, text=True)
    assert r.returncode != 0 and "O=DIR is required" in r.stderr


def test_digest_follows_content(tmp_path):
    (tmp_path / "a").write_text("x")
    d = hostbuild.digest(tmp_path)
    (tmp_path / "a").write_text("y")
    assert hostbuild.digest(tmp_path) != d


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """Stand-in trees whose Makefiles the test writes, and a private cache."""
    def make(*makefiles: str):
        trees = []
        for i, (tree, text) in enumerate(zip(hostbuild.TREES, makefiles, strict=True)):
            src = tmp_path / f"src{i}"
            src.mkdir()
            (src / "Makefile").write_text(text)
            trees.append(replace(tree, sources=src))
        monkeypatch.setattr(hostbuild, "TREES", tuple(trees))
        monkeypatch.setattr(hostbuild.paths, "REPO", tmp_path)
        monkeypatch.setenv("NLMMAP_CACHE", str(tmp_path / "cache"))
        return trees
    return make


def test_prepare_failure_names_the_tree_and_its_log(tmp_path, sources):
    sources("all:\n\ttrue\n", "all:\n\tfalse\n")
    with pytest.raises(BuildFailed) as e:
        hostbuild.prepare(tmp_path)
    assert "src1/ failed" in e.value.render()
    assert e.value.render().endswith(str(tmp_path / f"{STRESS.name}-build.log"))


def test_prepare_hands_each_build_dir_to_the_guest(tmp_path, sources):
    trees = sources(*["all:\n\tmkdir -p $(O) && touch $(O)/built\n"] * 2)
    env = hostbuild.prepare(tmp_path)
    dirs = [tmp_path / "cache" / t.name / hostbuild.digest(t.sources) for t in trees]
    assert all((d / "built").exists() for d in dirs)
    assert env == {THIRDPARTY.env: str(dirs[0]), STRESS.env: str(dirs[1])}
    cmd = cli.guest_pytest(tmp_path, None, 10, env=env)
    for k, v in env.items():
        assert f"{k}={v} " in cmd


def test_the_guest_reads_the_variables_the_host_fills():
    from conformance import test_stress, thirdparty
    assert (THIRDPARTY.env, STRESS.env) == (thirdparty.BUILD_ENV, test_stress.BUILD_ENV)
