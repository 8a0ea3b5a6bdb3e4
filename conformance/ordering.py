"""Cheapest-first order of the kernel suite for a fail-fast gate run.

A mutation campaign runs the gate with ``--fail-fast`` on kernels that are expected to
fail: the sooner the failing test runs, the cheaper the catch. pytest's default order runs
``test_differential`` (about 260 s of the 400 s suite under TCG) second, so a mutant caught
by a rule test in ``test_r4_rx`` paid for the whole differential first. With
``NLMMAP_CHEAP_FIRST=1`` (set by the gate under ``--fail-fast``) the tests named in
``NLMMAP_FIRST`` (comma-separated: a test function name, or a full id with its
parameters) run first, then the cheap modules, then the slow ones in rising cost. Nothing
is deselected: a kernel that passes has run every test, only in another order.
"""

from __future__ import annotations

# Slow modules, cheapest first (guest seconds of a fast-profile gate under TCG, 2 vCPUs,
# run 20261202-120630-542-gate): every other module takes about a second or less.
SLOW_MODULES = (
    "test_hardening_memory",  # 14 s
    "test_subsystems",        # 15 s
    "test_bug_history",       # 18 s
    "test_hardening",         # 24 s
    "test_stress",            # 58 s
    "test_differential",      # 263 s
)


def parse_first(text: str | None) -> set[str]:
    return {n.strip() for n in (text or "").split(",") if n.strip()}


def rank(module: str, name: str, originalname: str, first: set[str]) -> int:
    """0: named to run first; 1: a cheap module; 2 + i: the i-th slow module."""
    if name in first or originalname in first:
        return 0
    short = module.rsplit(".", 1)[-1]
    return 2 + SLOW_MODULES.index(short) if short in SLOW_MODULES else 1


def cheap_first(items: list, first: set[str]) -> list:
    """``items`` (pytest items) stably sorted by :func:`rank`."""
    def key(item) -> int:
        module = item.module.__name__ if getattr(item, "module", None) else ""
        return rank(module, item.name, getattr(item, "originalname", item.name), first)
    return sorted(items, key=key)


def beside_last(items: list, waiting: str) -> list:
    """The order while the differential plan runs beside the suite (plans.Beside): every
    other test first (the plan takes the CPU they leave idle), then the test ``waiting``
    for it, then the tests marked ``alone`` (they measure system-wide state)."""
    def key(item) -> int:
        if item.get_closest_marker("alone"):
            return 2
        return 1 if getattr(item, "originalname", item.name) == waiting else 0
    return sorted(items, key=key)
