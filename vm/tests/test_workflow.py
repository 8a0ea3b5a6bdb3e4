"""The GitHub Actions workflow (.github/workflows/gate.yml) wired to the CLI: every
`python -m vm` command in it parses with the real parser, the shard matrix covers
1..SHARDS, each artefact one job uploads is the one the next job downloads, and the merge
reads exactly the shard directories."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import pytest
import yaml

from vm import cli, paths
from vm.shard import Shard

WF = yaml.safe_load((paths.REPO / ".github" / "workflows" / "gate.yml").read_text())
JOBS = WF["jobs"]
PROFILES = next(a.choices for a in cli.parser()._subparsers._group_actions[0]
                .choices["gate"]._actions if a.dest == "profile")


def sub(text: str, **values) -> str:
    """The workflow's ${{ ... }} and $VAR for one matrix combination."""
    env = {k: str(v) for k, v in WF["env"].items()}

    def expr(m):
        key = m.group(1).strip()
        if key.startswith("matrix."):
            return str(values[key[7:]])
        if key.startswith("env."):
            return env[key[4:]]
        return {"github.run_id": "123"}.get(key, f"<{key}>")

    text = re.sub(r"\$\{\{(.*?)\}\}", expr, text)
    return re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), text)


def step(job: str, name: str) -> dict:
    return next(s for s in JOBS[job]["steps"] if s.get("name") == name)


def uses(job: str, action: str) -> list[dict]:
    return [s for s in JOBS[job]["steps"] if s.get("uses", "").startswith(action)]


def vm_args(command: str):
    """The argparse namespace of the `$PY -m vm ...` in a run: line."""
    argv = shlex.split(command)
    i = argv.index("-m")
    assert argv[i + 1] == "vm" and argv[0] == WF["env"]["PY"]
    return cli.parser().parse_args(argv[i + 2:])


def test_jobs_are_chained_and_merge_always_runs():
    assert JOBS["gate"]["needs"] == "build" and JOBS["merge"]["needs"] == "gate"
    assert JOBS["merge"]["if"] == "always()"
    assert JOBS["gate"]["strategy"]["fail-fast"] is False


def test_matrices_cover_both_profiles_and_every_shard():
    for job in ("build", "gate", "merge"):
        assert sorted(JOBS[job]["strategy"]["matrix"]["profile"]) == sorted(PROFILES)
    n = int(WF["env"]["SHARDS"])
    assert JOBS["gate"]["strategy"]["matrix"]["shard"] == list(range(1, n + 1))


@pytest.mark.parametrize("profile", ["fast", "debug"])
def test_build_step_and_kernel_artefact(profile):
    args = vm_args(sub(step("build", "build")["run"].splitlines()[0].split("$(")[1]
                       .split("|")[0], profile=profile))
    assert args.cmd == "build" and args.profile == profile
    [up] = uses("build", "actions/upload-artifact")
    [down] = uses("gate", "actions/download-artifact")
    assert sub(up["with"]["name"], profile=profile) == sub(down["with"]["name"],
                                                             profile=profile)
    gate = vm_args(sub(step("gate", "gate shard")["run"], profile=profile, shard=1))
    assert gate.kernel == Path(sub(down["with"]["path"], profile=profile)) / "bzImage"


def test_cache_key_hashes_what_the_kernel_cache_key_depends_on():
    [cache] = uses("build", "actions/cache")
    key = cache["with"]["key"]
    for inputs in ("patches/series", "patches/*.patch", "patches/*.config", "vm/configs/**",
                   "matrix.profile", "steps.key.outputs.deb"):
        assert inputs in key
    assert "/kernels" in cache["with"]["path"]


@pytest.mark.parametrize("profile", ["fast", "debug"])
def test_every_shard_is_uploaded_and_merged(profile):
    n = int(WF["env"]["SHARDS"])
    [up] = uses("gate", "actions/upload-artifact")
    assert up["if"] == "always()"  # a failing shard's results are the interesting ones
    [down] = uses("merge", "actions/download-artifact")
    merge = vm_args(sub(step("merge", "merge")["run"], profile=profile))
    names = []
    for i in range(1, n + 1):
        g = vm_args(sub(step("gate", "gate shard")["run"], profile=profile, shard=i))
        assert g.cmd == "gate" and g.profile == profile and g.shard == Shard(i, n)
        assert g.seed == 123 and g.accel == "tcg"
        assert str(g.out) == sub(up["with"]["path"], profile=profile, shard=i)
        names.append(sub(up["with"]["name"], profile=profile, shard=i))
    # download-artifact puts each artefact matching the pattern in path/<name>/
    pattern = sub(down["with"]["pattern"], profile=profile)
    dirs = [f"{sub(down['with']['path'])}/{x}" for x in names if fnmatch.fnmatch(x, pattern)]
    assert len(dirs) == n
    assert merge.cmd == "merge" and all(fnmatch.fnmatch(d, str(merge.dirs[0])) for d in dirs)
    # and nothing of the other profile
    other = next(p for p in PROFILES if p != profile)
    assert not fnmatch.fnmatch(sub(up["with"]["name"], profile=other, shard=1), pattern)


def test_kselftest_tree_is_prepared_where_the_kselftest_runs():
    s = step("gate", "kselftest tree")
    assert s["if"] == "matrix.shard == 1" and Shard(1, 2).runs_kselftest
    args = vm_args(sub(s["run"], profile="fast"))
    assert args.cmd == "build" and args.config_only


@pytest.mark.parametrize("event", ["push", "schedule"])
def test_mutants_job_runs_the_subset_on_push_and_everything_weekly(event):
    from .test_mutants_vm import SUBSET

    assert JOBS["mutants"]["needs"] == "build" and WF[True]["schedule"]
    run = step("mutants", "campaign")["run"]
    run = re.sub(r"\$\{\{ github\.event_name != 'schedule' && '([^']*)' \|\| '' \}\}",
                 lambda m: m.group(1) if event != "schedule" else "", run)
    args = vm_args(sub(run))
    assert args.cmd == "mutants"
    # the whole campaign weekly; on a push, the subset .ci/run's vm test runs
    assert args.only == (list(SUBSET) if event != "schedule" else None)
    assert "--silence-timeout" in args.gate_args
