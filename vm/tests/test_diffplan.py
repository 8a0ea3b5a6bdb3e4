"""The differential plan the gate draws on the host (vm/diffplan.py)."""

from __future__ import annotations

from conformance import plans
from vm import diffplan


def test_the_guest_reads_the_names_the_gate_writes():
    from conformance.conftest import DIFFERENTIAL
    assert (diffplan.ENV, diffplan.BESIDE_ENV, diffplan.TEST) == (
        plans.PLAN_ENV, plans.BESIDE_ENV, DIFFERENTIAL)


def test_draw_writes_the_plan_and_names_it_for_the_guest(tmp_path):
    env = diffplan.draw(tmp_path, 300, seed=8, beside=True)
    assert env == {diffplan.ENV: str(tmp_path / diffplan.FILE), diffplan.BESIDE_ENV: "1"}
    examples, seed = plans.load_plan(env[diffplan.ENV])
    assert seed == 8 and sum(e.steps for e in examples) >= 300
    assert diffplan.BESIDE_ENV not in diffplan.draw(tmp_path, 100, seed=8, beside=False)


def test_the_plan_is_drawn_only_when_the_differential_runs():
    assert diffplan.wanted(None)
    assert diffplan.wanted(["conformance/test_differential.py::test_differential_kernel_vs_model"])
    assert not diffplan.wanted(["conformance/test_r4_rx.py::test_r4_1[kernel]"])
