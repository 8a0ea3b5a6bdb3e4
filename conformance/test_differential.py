"""Differential testing (see conformance/differential.py).

On the kernel: >= NLMMAP_DIFF_STEPS (default 10000) random steps drawn on the model (a
plan), run on the kernel with every call compared; any difference fails. On the host: the
same machine on the model alone, on fixed sequences, checking the model's invariants
(status in the enum, VALID nm_len within the frame) and that the machine still reaches
every operation it is written to drive; and plans and lockstep runs against broken models
(mutant.py) playing the kernel, each of which must be caught."""

from __future__ import annotations

import errno
import itertools
import json
import os
import random
from pathlib import Path

import pytest

from model import dump as model_dump
from model.seams import Seams

from .backends.model import ModelBackend
from .backends.mutant import MUTANTS, MutantBackend
from .coverage import SELF_LOCKSTEP
from .differential import machine_operations, plan, run, run_parallel
from .plans import PLAN_ENV, Beside, execute, load_plan, save_plan
from .rundir import results_dir
from .uapi import require_feature


def _report(name, p) -> set[str]:
    """Print and keep the run's summary; returns the operations the run never reached."""
    unreached = machine_operations() - set(p.ops)
    line = (f"differential[{name}]: {p.steps} steps, {sum(p.ops.values())} backend "
            f"operations, {p.examples} sequences, {p.seconds:.1f} s; never reached: "
            f"{' '.join(sorted(unreached)) or 'none'}")
    errnos = ", ".join(f"{op} {errno.errorcode.get(e, e)} x{n}"
                       for (op, e), n in sorted(p.errors.items()))
    print(line)
    with open(os.path.join(results_dir(), f"differential-{name}.txt"), "w") as f:
        f.write(f"{line}\nerrnos answered (both backends agreed): {errnos or 'none'}\n")
    return unreached


def test_differential_model_invariants():
    """2000 steps on fixed sequences: no invariant breaks, and every operation the
    machine's rules call is reached (a rule whose precondition never holds, or a strategy
    that lost a case, shows here instead of as a silently weaker gate)."""
    assert not _report("model", run("model", 2000, 40, derandomize=True))


def test_differential_reports_progress(monkeypatch):
    """Long runs (and shrinking) print progress, or the gate would take the silent guest
    for hung."""
    from . import workers
    monkeypatch.setattr(workers, "PROGRESS_EVERY", 0.0)
    lines = []
    p = run("model", 100, 20, lines.append)
    assert len(lines) == p.examples >= 5
    assert lines[-1].startswith(f"differential: {p.steps} steps, {p.examples} sequences, ")


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_differential_catches_each_model_mutant(mutant, tmp_path, monkeypatch):
    """The machine's power, kept from regressing: each deliberately broken model (one
    rule changed as a faulty patch would) playing the kernel is caught within the steps
    of one gate run, and the sequence is written for replay (not shrunk here: shrinking
    some of them takes hypothesis minutes, the gate does it)."""
    monkeypatch.setenv("NLMMAP_RUN_DIR", str(tmp_path))
    with pytest.raises(AssertionError, match="replayable sequence written to"):
        run(f"mutant:{mutant}", 10000, 40, shrink=False)
    assert list(tmp_path.glob(f"nlmmap-repro-mutant:{mutant}.nls"))


@pytest.fixture(scope="module")
def gate_sized_plan():
    """A plan of one gate run's steps (drawn once: ~5 s on the host)."""
    return plan(10000, 40, seed=5).plan


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_plan_catches_each_model_mutant(mutant, gate_sized_plan, tmp_path, monkeypatch):
    """A plan drawn on the model, run on a broken model playing the kernel (alone: the
    plan holds the model's side), is caught as in lockstep, by its results or by its
    tracepoint decisions (zero_copy_kept differs in decisions only); the sequence up to
    the difference is written, and replaying it in lockstep on the mutant fails too."""
    from .replay import replay
    monkeypatch.setenv("NLMMAP_RUN_DIR", str(tmp_path))
    with pytest.raises(AssertionError, match="replayable sequence written to"):
        execute(gate_sized_plan, make=lambda: MutantBackend(mutant), n=1)
    [repro] = tmp_path.glob("nlmmap-repro-kernel.nls.0")
    assert replay(str(repro), f"mutant:{mutant}", verbose=False) == 1
    assert replay(str(repro), "model", verbose=False) == 0


def test_plan_runs_clean_on_the_model_and_counts_agreed_rules(tmp_path, monkeypatch):
    """Saved and loaded (as the gate hands it to the guest), a plan runs clean on the
    model in two workers, every step of it, and the agreed calls reach this process' rule
    tally with the rules the model decided them by."""
    from .coverage import RAN
    drawn = plan(1200, 20, seed=3)
    save_plan(str(tmp_path / "plan"), drawn.plan, 3)
    examples, seed = load_plan(str(tmp_path / "plan"))
    assert seed == 3 and [e.steps for e in examples] == [e.steps for e in drawn.plan]
    before, rules_before = RAN.ops, RAN.agreed["R5.4"]
    done = execute(examples, make=ModelBackend, n=2)
    assert done.steps == drawn.steps >= 1200 and done.examples == len(examples)
    assert RAN.ops - before == sum(len(e.calls) for e in examples)
    assert RAN.agreed["R5.4"] > rules_before
    assert not machine_operations() - set(done.ops)


def test_plan_runs_on_a_kernel_that_numbers_the_driver_family_otherwise(gate_sized_plan):
    """The host draws with the model's driver family id; the guest's kernel registered
    the driver under another (0x17 in the gate's kernel). The errors and ACKs that echo
    a driver request carry it, and compare equal once both are canonical."""
    done = execute(gate_sized_plan, make=lambda: ModelBackend(drv_family=0x17))
    assert done.steps >= 10000


class LowestFreeHandles(ModelBackend):
    """The model numbering held messages as the kernel's driver does (idr_alloc from 1:
    the lowest number not held), not with a fresh number each time."""

    def drv_alloc(self, dst, size, handle=None):
        held = set(self.handles.values())
        return super().drv_alloc(dst, size, handle=next(n for n in itertools.count(1)
                                                        if n not in held))


def test_plan_runs_on_a_kernel_that_reuses_held_message_numbers(gate_sized_plan):
    """A message sent from a held one carries its number in the ring after the number
    was given to the next held message; the plan's bytes (the model's numbers) still
    compare equal."""
    assert execute(gate_sized_plan, make=LowestFreeHandles).steps >= 10000


@pytest.fixture
def small_plan(tmp_path):
    path = str(tmp_path / "plan")
    drawn = plan(400, 20, seed=4)
    save_plan(path, drawn.plan, 4)
    return path, drawn.steps


def test_beside_runs_the_plan_apart_at_idle_priority(small_plan, tmp_path):
    """The plan run beside the suite: all of it, in a network namespace of its own (the
    suite's /proc/net/netlink and socket dumps do not see it), at SCHED_IDLE (the suite
    keeps its CPU), its agreed rules added to this process' tally."""
    from .coverage import RAN
    path, steps = small_plan
    before = RAN.ops
    done = Beside(path, str(tmp_path), backend="model").wait(lambda line: None)
    assert done.steps == steps and RAN.ops > before
    out = json.loads((tmp_path / "differential-beside.json").read_text())
    assert out["netns"] != os.stat("/proc/self/ns/net").st_ino
    assert out["policy"] == os.SCHED_IDLE


@pytest.mark.parametrize("only, without, inside, outside", [
    (None, None, [0, 5, 2**32 - 1], []),
    ((100, 200), None, [100, 199], [99, 200]),
    (None, (100, 200), [99, 200], [100, 199]),
    ((0, 300), (100, 200), [99, 200], [100, 199, 300]),
])
def test_trace_filter_keeps_the_portids_asked_for(only, without, inside, outside):
    """The kernel-side filter of a trace instance (the plan beside the suite reads only
    its own portids; the suite leaves them out: its old-userspace tests count every ring
    decision, and failed 7 times with the plan's decisions in them)."""
    from .genl import trace_filter
    text = trace_filter(only, without)
    expr = text.replace("&&", "and").replace("||", "or")
    keeps = (lambda portid: True) if text == "0" else eval(f"lambda portid: {expr}")
    assert all(keeps(p) for p in inside) and not any(keeps(p) for p in outside)


def test_the_suite_beside_a_plan_waits_for_it_last_but_the_alone_tests(small_plan, tmp_path):
    """conftest.py with NLMMAP_DIFF_BESIDE=1 (the gate's guest): the plan starts with the
    session, every other kernel test comes first, then the differential test (which
    waits for the plan), then the tests marked ``alone``."""
    import subprocess
    import sys

    from .conftest import DIFFERENTIAL

    env = {**os.environ, "NLMMAP_DIFF_BESIDE": "1", PLAN_ENV: small_plan[0],
           "NLMMAP_RUN_DIR": str(tmp_path)}

    def collected(marks):
        r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                            "no:cacheprovider", "conformance", "-m", marks],
                           cwd=Path(__file__).resolve().parent.parent, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return [ln.split("::")[-1].split("[")[0] for ln in r.stdout.splitlines() if "::" in ln]
    names, alone = collected("kernel"), set(collected("kernel and alone"))
    assert len(alone) >= 3 and (tmp_path / "differential-beside.log").exists()
    d = names.index(DIFFERENTIAL)
    assert set(names[d + 1:]) == alone and not alone & set(names[:d])


def test_beside_failure_is_raised_where_the_suite_waits(small_plan, tmp_path, monkeypatch):
    monkeypatch.setenv("NLMMAP_RUN_DIR", str(tmp_path))
    path, _ = small_plan
    run = Beside(path, str(tmp_path), backend="mutant:zero_copy_kept")
    with pytest.raises(AssertionError, match="tracepoint decisions differ"):
        run.wait(lambda line: None)


def test_the_same_seed_draws_the_same_plan():
    """The gate records a plan's seed: drawing with it again gives the same sequences."""
    def text(p):
        return ["\n".join(map(str, e.calls)) for e in p.plan]
    assert text(plan(300, 20, seed=9)) == text(plan(300, 20, seed=9)) != text(plan(300, 20,
                                                                                   seed=10))


def test_parallel_run_sums_its_workers(monkeypatch):
    """Two workers with the steps split between them: together they run the whole budget
    on different sequences, reach every operation, report progress while both work, and
    their agreements reach this process' rule tally (the gate's rule-coverage.json)."""
    import random

    from hypothesis import core

    from . import workers
    from .coverage import RAN
    monkeypatch.setattr(workers, "PROGRESS_EVERY", 0.0)
    # the workers' seeds come from hypothesis' global random: fixed here, so whether 1,200
    # steps reach every operation does not depend on the draw (CI failed once with 600)
    saved = getattr(core.threadlocal, "_hypothesis_global_random", None)
    core.threadlocal._hypothesis_global_random = random.Random(12)
    before, lines = RAN.ops, []
    try:
        p = run_parallel(SELF_LOCKSTEP, 1200, 20, lines.append, n=2)
    finally:
        core.threadlocal._hypothesis_global_random = saved
    assert p.steps >= 1200 and not machine_operations() - set(p.ops)
    # every recorded operation was compared (the derived ones as several)
    assert RAN.ops - before >= sum(p.ops.values())
    assert lines and lines[-1].startswith("differential: ")


def test_parallel_workers_take_disjoint_port_bases(monkeypatch):
    """Forked workers draw every n-th port base (no portid of one is another's), and the
    parent continues after all of them."""
    import itertools

    from .backends import base
    taken = []
    for k in range(2):
        monkeypatch.setattr(base, "_port_bases", itertools.count(0x10000, base.PORT_SPACING))
        base.stride_port_bases(k, 2)
        taken.append({base.next_port_base() for _ in range(50)})
    assert not taken[0] & taken[1]
    base.skip_port_bases(max(taken[1]) + base.PORT_SPACING)
    assert base.next_port_base() > max(taken[0] | taken[1])


def test_parallel_run_reports_the_first_failure(tmp_path, monkeypatch):
    """A worker's failure stops the run and is raised with its reproducer under the name a
    single-process run gives it (the name the gate collects); no worker's copy is left."""
    monkeypatch.setenv("NLMMAP_RUN_DIR", str(tmp_path))
    with pytest.raises(AssertionError, match="replayable sequence written to .*nls\n"):
        run_parallel("mutant:no_exclusivity", 10000, 40, n=2, shrink=False)
    assert [f.name for f in tmp_path.iterdir()] == ["nlmmap-repro-mutant:no_exclusivity.nls"]


def test_a_mutant_changes_only_its_own_world():
    """Mutants replace a seam of their own World (model/seams.py), nothing global: the
    model they run against in lockstep keeps the real rule."""
    mutant, model = MutantBackend("dump_space_3_10"), ModelBackend()
    assert mutant.w.seams.dump_space is not Seams().dump_space
    assert model.w.seams == Seams() and model.w.seams.dump_space is model_dump.space


@pytest.mark.kernel
def test_differential_kernel_vs_model(capsys, beside):
    """Random sequences drawn on the model (by the gate's host before the boot, the
    file in NLMMAP_DIFF_PLAN; else here), run on the kernel with every call and
    tracepoint decision compared, the sequences shared by one worker process per guest
    CPU; operations a short run did not reach are named in differential-kernel.txt. In
    the gate the plan runs beside the suite (plans.Beside) and this test waits for it."""
    require_feature()  # fail at once with "feature absent", before hypothesis starts
    total = int(os.environ.get("NLMMAP_DIFF_STEPS", "10000"))
    per = int(os.environ.get("NLMMAP_DIFF_STEPS_PER", "40"))

    def progress(line):
        # past pytest's capture: the gate's hang detector needs console output
        with capsys.disabled():
            print(line, flush=True)

    path = os.environ.get(PLAN_ENV)
    if beside is not None:
        progress(f"differential: waiting for the plan {path} run beside the suite")
        done = beside.wait(progress)
    else:
        if path:
            examples, seed = load_plan(path)
        else:
            from hypothesis import core  # seeded by --nlmmap-seed (vm/shard_plugin.py)
            seed = (core.threadlocal._hypothesis_global_random
                    or random.Random()).getrandbits(63)
            examples = plan(total, per, seed, progress).plan
        progress(f"differential: {sum(e.steps for e in examples)} steps in {len(examples)} "
                 f"sequences, seed {seed}, drawn {'on the host: ' + path if path else 'here'}")
        done = execute(examples, progress=progress)
    assert done.steps >= total, f"plan {path}: {done.steps} steps, fewer than the {total} asked for"
    _report("kernel", done)
