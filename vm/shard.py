"""``--shard I/N``: one gate split over N machines, deterministically.

* The suite: after pytest has collected and deselected (``-k``), the remaining tests are
  dealt round-robin over the shards in node-id order (:func:`select`), so every test
  runs in exactly one shard whatever the machine.  This runs as a pytest plugin
  (:mod:`vm.shard_plugin`, ``-p vm.shard_plugin``): the split follows whatever the suite
  collects, not a list of files.
* The budgets: the tests that spend a budget (:data:`BUDGETED`: the differential run's
  steps, the stress test's seconds and checks, :data:`BUDGETS`) run in *every* shard
  with 1/N of it (:func:`split`), each shard with its own hypothesis and stress seed
  (:func:`shard_seed`), so N shards explore N different parts of the space.
* The kselftest suite (seconds long) runs in shard 1 only.

:mod:`vm.merge` puts the shards' results back together.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from dataclasses import dataclass

# the tests that spend a budget (function names) and the variables holding the budgets
BUDGETED = ("test_differential_kernel_vs_model", "test_stress_mmap_netlink")
BUDGETS = ("NLMMAP_DIFF_STEPS", "NLMMAP_STRESS_SECONDS", "NLMMAP_STRESS_CHECKS")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def runs_kselftest(self) -> bool:
        return self.index == 1


def parse(text: str) -> Shard:
    """``I/N`` with 1 <= I <= N (an argparse ``type``)."""
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N with 1 <= I <= N (e.g. 2/4)")
    return Shard(int(m.group(1)), int(m.group(2)))


def split(total: int, shard: Shard) -> int:
    """This shard's part of ``total``: the parts differ by at most one and add up to
    ``total`` (at least 1, so the budgeted test still runs)."""
    q, r = divmod(total, shard.count)
    return max(1, q + (1 if shard.index <= r else 0))


def shard_seed(base: int, shard: Shard) -> int:
    """A 64-bit seed for this shard from the run's base seed (same base, same seeds)."""
    digest = hashlib.sha256(f"nlmmap-shard:{base}:{shard}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def budgeted(name: str) -> bool:
    return name in BUDGETED


def select(nodeids: list[tuple[str, str]], shard: Shard) -> set[str]:
    """The node ids (of ``(nodeid, function name)`` pairs) this shard runs: every budgeted
    test, and every N-th of the others in node-id order."""
    rest = sorted(n for n, fn in nodeids if not budgeted(fn))
    mine = {n for k, n in enumerate(rest) if k % shard.count == shard.index - 1}
    return mine | {n for n, fn in nodeids if budgeted(fn)}


def guest_env(shard: Shard, seed: int, budgets: dict[str, str]) -> dict[str, str]:
    """The environment of this shard's pytest in the guest: its part of each budget in
    ``budgets`` (the whole gate's; 0 = none stays 0) and its own stress seed."""
    env = {k: str(split(int(v), shard)) if int(v) > 0 else v for k, v in budgets.items()
           if k in BUDGETS}
    return {**env, "NLMMAP_STRESS_SEED": str(shard_seed(seed, shard) % 2**31)}


def pytest_args(shard: Shard, seed: int) -> list[str]:
    return ["-p", "vm.shard_plugin", f"--nlmmap-shard={shard}",
            f"--nlmmap-seed={shard_seed(seed, shard)}"]
