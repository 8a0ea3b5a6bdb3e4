"""--shard I/N: the split of the suite and of the budgets, and the pytest plugin doing it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vm import cli, paths, shard
from vm.shard import Shard


def test_parse():
    assert shard.parse("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/2", "3/2", "2", "a/b", "1/0"):
        with pytest.raises(argparse.ArgumentTypeError):
            shard.parse(bad)


def test_gate_rejects_a_bad_shard(capsys):
    with pytest.raises(SystemExit) as e:
        cli.parser().parse_args(["gate", "--shard", "3/2"])
    assert e.value.code == 2 and "'3/2' is not I/N" in capsys.readouterr().err


@given(st.integers(1, 100_000), st.integers(1, 16))
def test_split_adds_up_and_is_even(total, n):
    parts = [shard.split(total, Shard(i, n)) for i in range(1, n + 1)]
    if total >= n:
        assert sum(parts) == total
    assert max(parts) - min(parts) <= 1 and min(parts) >= 1


def test_seeds_differ_per_shard_and_repeat_per_base():
    seeds = {shard.shard_seed(7, Shard(i, 4)) for i in range(1, 5)}
    assert len(seeds) == 4
    assert shard.shard_seed(7, Shard(2, 4)) == shard.shard_seed(7, Shard(2, 4))
    assert shard.shard_seed(8, Shard(2, 4)) != shard.shard_seed(7, Shard(2, 4))


@given(st.lists(st.text("abc:/[]", min_size=1), unique=True, max_size=40), st.integers(1, 6))
def test_select_partitions_all_but_budgeted(names, n):
    ids = [(x, "t") for x in names] + [("diff", "test_differential_kernel_vs_model")]
    picks = [shard.select(ids, Shard(i, n)) for i in range(1, n + 1)]
    assert set().union(*picks) == {x for x, _ in ids}
    assert sum(len(p) for p in picks) == len(names) + n  # budgeted: in every shard
    assert all("diff" in p for p in picks)


def test_guest_command_carries_the_shard(tmp_path):
    sh = Shard(2, 3)
    budgets = {"NLMMAP_DIFF_STEPS": "1000", "NLMMAP_STRESS_SECONDS": "30",
               "NLMMAP_STRESS_CHECKS": "0"}
    cmd = cli.guest_pytest(tmp_path, None, 1000, env=shard.guest_env(sh, 5, budgets),
                           extra=shard.pytest_args(sh, 5))
    assert cmd.startswith("NLMMAP_DIFF_STEPS=333 NLMMAP_STRESS_SECONDS=10 "
                          "NLMMAP_STRESS_CHECKS=0 NLMMAP_STRESS_SEED=")
    assert cmd.endswith(f"-p vm.shard_plugin --nlmmap-shard=2/3 "
                        f"--nlmmap-seed={shard.shard_seed(5, sh)}")


def collect(*args: str) -> set[str]:
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                        "-p", "no:cacheprovider", *args], cwd=paths.REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return {x for x in r.stdout.splitlines() if "::" in x}


def test_plugin_splits_the_kernel_suite():
    """The real suite, collected through the plugin: two shards overlap only in the
    budgeted tests (which exist under the names vm/shard.py knows) and are even (that
    they cover everything is test_select_partitions_all_but_budgeted)."""
    one, two = (collect("conformance", "-m", "kernel", "-p", "vm.shard_plugin",
                        f"--nlmmap-shard={i}/2") for i in (1, 2))
    budget = {x for x in one if x.split("::")[-1].split("[")[0] in shard.BUDGETED}
    assert len(budget) == len(shard.BUDGETED)
    assert one & two == budget
    assert abs(len(one) - len(two)) <= 1 and len(one) > 50


SEEDED = textwrap.dedent("""
    import os
    from hypothesis import given, settings, strategies as st

    def draw_into(tag):
        @settings(max_examples=5, database=None)
        @given(st.integers(0, 10**9))
        def t(x):
            with open(os.environ["OUT"], "a") as f:
                f.write(f"{tag} {x}\\n")
        t()

    def test_twice():  # as the differential run: hypothesis called again and again
        draw_into("first")
        draw_into("second")
""")


def test_plugin_seed_makes_hypothesis_repeatable_per_shard(tmp_path):
    """Run as under CI (``CI`` set), where hypothesis' ``ci`` profile derandomizes: the
    seed must still decide the draws, or every shard explores the same sequences."""
    (tmp_path / "test_seeded.py").write_text(SEEDED)

    def draws(seed: int) -> list[str]:
        out = tmp_path / f"out-{seed}-{len(list(tmp_path.iterdir()))}"
        env = dict(os.environ, CI="true", OUT=str(out), PYTHONPATH=str(paths.REPO))
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-p", "vm.shard_plugin", f"--nlmmap-seed={seed}",
                            "--rootdir", str(tmp_path), str(tmp_path / "test_seeded.py")],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return out.read_text().splitlines()

    a, again, other = draws(11), draws(11), draws(12)
    assert a == again
    assert a != other
    first = [x.split()[1] for x in a if x.startswith("first")]
    second = [x.split()[1] for x in a if x.startswith("second")]
    assert first != second  # the second call explores further instead of replaying
