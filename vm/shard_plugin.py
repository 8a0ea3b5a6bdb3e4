"""pytest plugin for ``--shard I/N`` (``-p vm.shard_plugin``; see :mod:`vm.shard`).

``--nlmmap-shard I/N`` keeps this shard's tests (deselecting the others, as ``-k``
does), ``--nlmmap-seed S`` seeds hypothesis' generator for tests without an explicit
seed.  The seed goes into hypothesis' own source of per-test seeds rather than
``--hypothesis-seed``: that option forces the *same* seed on every call, and the
differential run calls hypothesis repeatedly until its step budget is spent, so every
call would replay the first one's sequences.  A seed also turns off ``derandomize``,
which hypothesis' ``ci`` profile sets whenever ``CI`` is in the environment (GitHub
Actions, our own CI): derandomized, every shard would draw the same sequences whatever
its seed.
"""

from __future__ import annotations

import random

import pytest

from . import shard as sharding


def pytest_addoption(parser):
    g = parser.getgroup("nlmmap shard")
    g.addoption("--nlmmap-shard", type=sharding.parse, metavar="I/N",
                help="run only shard I of N of the collected tests (budgeted tests: all)")
    g.addoption("--nlmmap-seed", type=int, metavar="S",
                help="seed for hypothesis' per-test seeds (different per shard)")


def seed_hypothesis(seed: int) -> None:
    from hypothesis import core, settings

    if not hasattr(core.threadlocal, "_hypothesis_global_random"):
        raise pytest.UsageError("--nlmmap-seed: this hypothesis version has no "
                                "core.threadlocal._hypothesis_global_random to seed")
    core.threadlocal._hypothesis_global_random = random.Random(seed)
    settings.register_profile("nlmmap-seeded", settings(settings.default, derandomize=False))
    settings.load_profile("nlmmap-seeded")


def pytest_configure(config):
    seed = config.getoption("nlmmap_seed")
    if seed is not None:
        seed_hypothesis(seed)


def pytest_report_header(config):
    s = config.getoption("nlmmap_shard")
    if s is not None:
        return f"nlmmap shard {s}, seed {config.getoption('nlmmap_seed')}"


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected: split what is left
def pytest_collection_modifyitems(config, items):
    s = config.getoption("nlmmap_shard")
    if s is None:
        return
    keep = sharding.select([(it.nodeid, getattr(it, "originalname", it.name)) for it in items],
                           s)
    dropped = [it for it in items if it.nodeid not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [it for it in items if it.nodeid in keep]
