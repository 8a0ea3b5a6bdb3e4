"""The differential run's sequences, drawn on the host before the boot.

Under TCG the guest's Python runs ~7x slower than the host's, and drawing a step
(hypothesis) and deciding it on the model took about half of the guest's time per
differential step. The host draws the whole run on the model instead
(``python -m conformance plan``, conformance/differential.py) and hands the file to the
guest, which only runs the calls on the kernel and compares them with the model's
results and decisions kept in the file. Unless the run is fail-fast, the guest runs the
plan beside the suite (conformance/plans.py, Beside), on the vCPU time the suite's
single-threaded tests leave idle (patches/TESTING.md has the before/after)."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
from pathlib import Path

from . import paths
from .errors import GateError

log = logging.getLogger("vm.diffplan")

TEST = "test_differential_kernel_vs_model"
ENV = "NLMMAP_DIFF_PLAN"  # conformance/plans.py PLAN_ENV
BESIDE_ENV = "NLMMAP_DIFF_BESIDE"  # conformance/plans.py BESIDE_ENV
FILE = "differential-plan.pickle"


def wanted(collected: list[str] | None) -> bool:
    """Does the run have a differential test to draw for (``collected``: the host-side
    collection's node ids; None when it failed: draw, a plan costs seconds)?"""
    return collected is None or any(f"::{TEST}" in n for n in collected)


def command(run_dir: Path, steps: int, seed: int | str) -> list[str]:
    return [sys.executable, "-m", "conformance", "plan", str(run_dir / FILE),
            "--steps", str(steps), "--seed", str(seed),
            "--per", os.environ.get("NLMMAP_DIFF_STEPS_PER", "40")]


def guest_env(run_dir: Path, beside: bool) -> dict[str, str]:
    """The guest's environment naming the run's plan (and, with ``beside``, asking the
    suite to run it beside itself)."""
    return {ENV: str(run_dir / FILE), **({BESIDE_ENV: "1"} if beside else {})}


def draw(run_dir: Path, steps: int, seed: int | None, beside: bool) -> dict[str, str]:
    """Draw ``steps`` steps (seed: the shard's, else a random one, logged) into the run
    directory; returns the guest's environment (:func:`guest_env`)."""
    seed = random.randrange(2**63) if seed is None else seed
    r = subprocess.run(command(run_dir, steps, seed), cwd=paths.REPO, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise GateError(f"drawing the differential plan failed (exit {r.returncode}): "
                        f"{(r.stderr.strip().splitlines() or ['no output'])[-1]}",
                        f"python -m conformance plan OUT --steps {steps} --seed {seed}")
    log.info("%s (%s)", r.stdout.strip(), run_dir / FILE)
    return guest_env(run_dir, beside)
