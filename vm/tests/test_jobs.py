"""``gate --jobs N`` (vm/jobs.py): every gate option reaches the shards or is handled by
the parent (an option added later cannot be dropped silently), and a shard's arguments
parse back with the real parser."""

from pathlib import Path

import pytest

from vm import cli, jobs
from vm.errors import GateError


def _gate_dests() -> set[str]:
    gate = cli.parser()._subparsers._group_actions[0].choices["gate"]
    return {a.dest for a in gate._actions if a.dest != "help"}


def test_every_gate_option_is_forwarded_or_handled():
    assert _gate_dests() <= set(jobs.FORWARDED) | jobs.PARENT, \
        _gate_dests() - set(jobs.FORWARDED) - jobs.PARENT
    assert not set(jobs.FORWARDED) & jobs.PARENT


def test_shard_arguments_parse_back():
    args = cli.parser().parse_args(
        ["gate", "--jobs", "2", "--seed", "5", "-k", "r2 or r3", "--diff-steps", "600",
         "--append", "a=1", "--append", "b", "--fail-fast", "--first", "test_x",
         "--cpus", "1", "--junit", "/tmp/j.xml", "--ktap"])
    argv = jobs.shard_argv(args, Path("/k/bzImage"), 2, 2, Path("/o/shard-2"))
    back = cli.parser().parse_args(argv)
    assert str(back.shard) == "2/2" and back.seed == 5 and back.jobs == 1
    assert back.kernel == Path("/k/bzImage") and back.out == Path("/o/shard-2")
    assert back.kexpr == "r2 or r3" and back.diff_steps == 600 and back.cpus == 1
    assert back.append == ["a=1", "b"] and back.fail_fast and back.first == ["test_x"]
    assert back.junit is None and not back.ktap  # the parent writes the merged ones


def test_jobs_and_shard_exclude_each_other():
    with pytest.raises(GateError, match="--jobs"):
        cli.cmd_gate(cli.parser().parse_args(["gate", "--jobs", "2", "--shard", "1/2"]))
