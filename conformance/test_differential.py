"""Differential testing (see conformance/differential.py).

On the kernel: >= NLMMAP_DIFF_STEPS (default 10000) random steps, kernel vs model in
lockstep. On the host: the same machine on the model alone, checking the model's
invariants (status in the enum, VALID nm_len within the frame) -- a short run that keeps
the machine itself working between gate runs."""

from __future__ import annotations

import os

import pytest

from .backends.mutant import MUTANTS
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


def test_differential_reports_progress(monkeypatch):
    """Long runs (and shrinking) print progress, or the gate would take the silent guest
    for hung."""
    from . import differential
    monkeypatch.setattr(differential, "PROGRESS_EVERY", 0.0)
    lines = []
    steps, _ops, examples, _secs = run("model", 100, 20, lines.append)
    assert len(lines) == examples >= 5
    assert lines[-1].startswith(f"differential: {steps} steps, {examples} sequences, ")


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_differential_catches_each_model_mutant(mutant, tmp_path, monkeypatch):
    """The machine's power, kept from regressing: each deliberately broken model (one
    rule changed as a faulty patch would) playing the kernel is caught within the steps
    of one gate run, and the sequence is written for replay (not shrunk here: shrinking
    some of them takes hypothesis minutes, the gate does it)."""
    monkeypatch.setenv("NLMMAP_RESULTS", str(tmp_path))
    with pytest.raises(AssertionError, match="replayable sequence written to"):
        run(f"mutant:{mutant}", 10000, 40, shrink=False)
    assert list(tmp_path.glob(f"nlmmap-repro-mutant:{mutant}.json"))


@pytest.mark.kernel
def test_differential_kernel_vs_model(capsys):
    require_feature()  # fail at once with "feature absent", before hypothesis starts
    total = int(os.environ.get("NLMMAP_DIFF_STEPS", "10000"))
    per = int(os.environ.get("NLMMAP_DIFF_STEPS_PER", "40"))

    def progress(line):
        # past pytest's capture: the gate's hang detector needs console output
        with capsys.disabled():
            print(line, flush=True)

    steps, ops, ex, secs = run("kernel", total, per, progress)
    _report("kernel", steps, ops, ex, secs)
    assert steps >= total
