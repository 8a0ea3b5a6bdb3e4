"""Differential testing (see conformance/differential.py).

On the kernel: >= NLMMAP_DIFF_STEPS (default 10000) random steps, kernel vs model in
lockstep. On the host: the same machine on the model alone, checking the model's
invariants (status in the enum, VALID nm_len within the frame) -- a short run that keeps
the machine itself working between gate runs."""

from __future__ import annotations

import os

import pytest

from .differential import run
from .replay import results_dir
from .uapi import require_feature


def _report(name, steps, ops, examples, secs):
    line = (f"differential[{name}]: {steps} steps, {ops} backend operations, {examples} "
            f"sequences, {secs:.1f} s")
    print(line)
    try:
        with open(os.path.join(results_dir(), f"differential-{name}.txt"), "w") as f:
            f.write(line + "\n")
    except OSError:
        pass


def test_differential_model_invariants():
    total = int(os.environ.get("NLMMAP_DIFF_MODEL_STEPS", "600"))
    per = int(os.environ.get("NLMMAP_DIFF_STEPS_PER", "40"))
    steps, ops, ex, secs = run("model", total, per)
    _report("model", steps, ops, ex, secs)
    assert steps >= total


@pytest.mark.kernel
def test_differential_kernel_vs_model():
    require_feature()  # fail at once with "feature absent", before hypothesis starts
    total = int(os.environ.get("NLMMAP_DIFF_STEPS", "10000"))
    per = int(os.environ.get("NLMMAP_DIFF_STEPS_PER", "40"))
    steps, ops, ex, secs = run("kernel", total, per)
    _report("kernel", steps, ops, ex, secs)
    assert steps >= total
