"""Fixtures: ``backend`` runs each scenario on the model (unmarked, anywhere) and on the
kernel (marker ``kernel``: only meaningful in the gate's guest; elsewhere it fails with
"feature absent", it is never skipped)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from . import coverage, ordering, plans
from .backends import make_backend
from .genl import Tracer
from .rundir import hypothesis_home, results_dir

log = logging.getLogger(__name__)

if hypothesis_home() is not None:  # the gate's guest: the repository is read-only
    set_hypothesis_home_dir(hypothesis_home())

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]
# NLMMAP_EXTRA_BACKEND=mutant:NAME also runs every scenario against a deliberately broken
# model in lockstep with the real one (see backends/mutant.py): those runs should fail.
# NLMMAP_EXTRA_BACKEND=model+model runs them on the model against itself and counts the
# rules they reach (python -m conformance.coverage --scenarios).
if os.environ.get("NLMMAP_EXTRA_BACKEND"):
    BACKENDS.append(os.environ["NLMMAP_EXTRA_BACKEND"])


@pytest.fixture(params=BACKENDS)
def backend(request):
    b = make_backend(request.param)
    try:
        yield b
    finally:
        b.close_all()


@pytest.fixture
def kernel_backend():
    """Kernel-only scenarios (real subsystems): the kernel without the model."""
    b = make_backend("kernel-only")
    try:
        yield b
    finally:
        b.close_all()


BESIDE: plans.Beside | None = None  # the gate's differential plan, run beside the suite
DIFFERENTIAL = "test_differential_kernel_vs_model"  # the test that waits for it


def pytest_configure(config):
    """With NLMMAP_DIFF_BESIDE=1 (the gate) the differential plan named in
    NLMMAP_DIFF_PLAN starts now, beside the suite's start-up (plans.Beside)."""
    global BESIDE
    plan = os.environ.get(plans.PLAN_ENV)
    if os.environ.get(plans.BESIDE_ENV) == "1" and plan:
        BESIDE = plans.Beside(plan, results_dir())
        Tracer.exclude(plans.BESIDE_PORTS)


def pytest_unconfigure(config):
    if BESIDE is not None:
        BESIDE.stop()


@pytest.fixture
def beside() -> plans.Beside | None:
    """The differential plan running beside the suite, if the gate started one."""
    return BESIDE


def pytest_collection_modifyitems(config, items):
    """A fail-fast gate run (NLMMAP_CHEAP_FIRST=1) orders the suite cheapest-first; a
    run with the differential beside it waits for it last but the ``alone`` tests."""
    if os.environ.get("NLMMAP_CHEAP_FIRST") == "1":
        items[:] = ordering.cheap_first(items, ordering.parse_first(
            os.environ.get("NLMMAP_FIRST")))
    elif BESIDE is not None:
        items[:] = ordering.beside_last(items, DIFFERENTIAL)


WAIT_PID = "NLMMAP_WAIT_PID"  # vm/kselftest.py: the kselftest running beside collection
WAIT_LIMIT = "NLMMAP_WAIT_LIMIT"


def _running(pid: str) -> bool:
    """Alive and not a zombie (the shell that started it reaps it only when it waits)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def pytest_collection_finish(session):
    """The gate starts the series' kselftest beside pytest's start-up (seconds of
    single-threaded imports under TCG) and the suite waits here for it: no test of the
    suite runs while the kselftest does. Past the limit the suite goes on; the guest
    script then reports the kselftest as stuck."""
    pid = os.environ.get(WAIT_PID)
    if not pid:
        return
    import time
    t0 = time.monotonic()
    limit = float(os.environ.get(WAIT_LIMIT, "660"))
    say = session.config.get_terminal_writer().line
    say_at = t0 + 30
    while _running(pid) and time.monotonic() - t0 < limit:
        time.sleep(0.2)
        if time.monotonic() >= say_at:
            say(f"waiting for the kselftest (pid {pid}): {time.monotonic() - t0:.0f} s")
            say_at += 30


def pytest_sessionfinish(session):
    """The rules the kernel and the model agreed on (kernel lockstep runs only) go to the
    run directory, where the gate reports them (conformance/coverage.py)."""
    if coverage.RAN.ops:
        path = coverage.RAN.write(Path(results_dir()) / coverage.FILE)
        log.info("rule coverage: %s (%s)", coverage.summary(coverage.RAN), path)
