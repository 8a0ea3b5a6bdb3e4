"""Rule ids are values: the model names the rules each decision applies, the lockstep
backend counts the operations kernel and model agreed on per rule, and the gate reports
every catalogue entry with its count and the ones never reached. Here the lockstep runs
the model on both sides, which is what the gate's kernel+model pairing does minus the
kernel."""

from __future__ import annotations

import errno

import pytest

from model import World
from model.uapi import RingReq as ModelReq
from spec import RULES, rule

from . import coverage
from .backends import make_backend
from .backends.base import next_port_base
from .backends.lockstep import Divergence, Lockstep
from .backends.model import ModelBackend
from .helpers import SMALL
from .uapi import RingReq


def lockstep(kernel=ModelBackend) -> Lockstep:
    base = next_port_base()
    return Lockstep(kernel(port_base=base), ModelBackend(port_base=base))


def test_an_unknown_rule_id_fails_where_it_is_applied():
    w = World()
    past_r4 = f"R4.{sum(r.startswith('R4.') for r in RULES) + 1}"
    past_steps = f"R2.5.{rule('R2.5').steps + 1}"
    for bad in (past_r4, past_steps, "X1"):
        with pytest.raises(KeyError, match=bad):
            w.apply("R4.9", bad)
    assert not w.applied
    w.apply("R2.5.8", "R4.3d", "D16", "M4")
    assert w.take_applied() == {"R2.5.8", "R4.3d", "D16", "M4"} and not w.take_applied()


def test_the_model_names_the_rules_of_each_operation():
    w = World()
    fd = w.socket().value
    w.take_applied()
    assert w.setsockopt_ring(fd, False, ModelReq(4096, 1, 20, 1)).err == errno.EINVAL
    assert w.take_applied() == {"R2.3.4", "R2.5.4"}  # frame size below the header
    assert w.setsockopt_ring(fd, False, ModelReq(4096, 1, 4096, 1),
                             privileged=False).err == errno.EPERM
    assert w.take_applied() == {"R2.3.1"}


def test_lockstep_counts_agreed_operations_per_rule():
    b = lockstep()
    s = b.socket()
    with pytest.raises(OSError) as e:
        b.set_ring(s, False, RingReq(4096 + 1024, 1, 1024, 5))  # block not page-sized
    assert e.value.errno == errno.EINVAL
    b.set_ring(s, False, SMALL)
    b.mmap(s)
    b.drv_plain(s, 100)  # an unconverted sender: a COPY frame
    h = b.drv_alloc(s, SMALL.frame_size)  # larger than the frame payload: plain skb
    b.drv_xmit(h)
    b.close_all()
    agreed = b.tally.agreed
    assert agreed["R2.5.3"] == 1 and agreed["R2.5"] == 1
    assert agreed["R2.8"] == 1 and agreed["R3.4"] == agreed["R3.7"] == 1
    assert agreed["R4.1"] == 2 and agreed["R4.9"] == 2  # both reach the ring as COPY
    assert agreed["R4.3d"] == agreed["R4.3"] == 1
    assert b.tally.ops == 7 and "R4.7" not in agreed


def test_a_divergence_names_the_rules_the_model_decided_by():
    class Lenient(ModelBackend):  # a "kernel" that accepts any ring request
        def set_ring(self, *args, **kw):
            return None

    b = lockstep(Lenient)
    s = b.socket()
    with pytest.raises(Divergence, match="the model decided it by: R2.3.4 R2.5.3"):
        b.set_ring(s, False, RingReq(4096 + 1024, 1, 1024, 5))
    assert b.tally.ops == 1  # the socket, not the diverging call


@pytest.mark.kernel
def test_the_kernel_lockstep_counts_into_the_sessions_tally():
    """In the guest: the kernel checked against the model counts its agreements into
    coverage.RAN, which conftest.py writes to the run directory for the gate."""
    b = make_backend("kernel")
    assert b.tally is coverage.RAN
    before = coverage.RAN.ops, coverage.RAN.agreed["R2.5.3"]
    try:
        s = b.socket()
        with pytest.raises(OSError) as e:
            b.set_ring(s, False, RingReq(4096 + 1024, 1, 1024, 5))  # block not page-sized
        assert e.value.errno == errno.EINVAL
    finally:
        b.close_all()
    assert (coverage.RAN.ops, coverage.RAN.agreed["R2.5.3"]) == (before[0] + 2, before[1] + 1)


def report_of(tmp_path, tally: coverage.Tally):
    tally.write(tmp_path / coverage.FILE)
    line = coverage.write_report(tmp_path)
    return line, (tmp_path / coverage.REPORT).read_text()


def test_the_report_lists_every_entry_and_the_ones_never_reached(tmp_path):
    t = coverage.Tally()
    t.add({"R2.5.3", "R2.3.4"})
    t.add({"R4.3d", "D18"})
    t.add(())
    line, md = report_of(tmp_path, t)
    ids = coverage.entries()
    assert line.startswith(f"rules exercised with agreement: 4 of {len(ids)} (3 agreed "
                           "operations); never reached: R1.1 R1.2 ")
    assert " R2.5 " not in line and " R2.3 " not in line and "M8" in line
    assert "| R2.5 | validation of a new ring | 1 | R2.5.3: 1 |" in md
    assert "| R4.3 | when a plain skb is returned | 1 | R4.3d: 1 |" in md
    assert all(f"| {r} |" in md for r in ids)
    never = md.split("## Never reached")[1]
    assert "- R1.1 option level" in never and "- R2.5 " not in never
    assert "untested, " in never  # the catalogue's reason, where it gives one


def test_no_counts_no_report(tmp_path):
    assert coverage.write_report(tmp_path) is None
    assert not (tmp_path / coverage.REPORT).exists()


def test_coverage_cli_adds_what_ran(tmp_path, capsys):
    t = coverage.Tally()
    t.add({"R4.9"})
    t.write(tmp_path / coverage.FILE)
    assert coverage.main(["--ran", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("R4.9 ") and "      1  " in line for line in out.splitlines())
    assert out.rstrip().splitlines()[-1].startswith("rules exercised with agreement: 1 of ")


def test_coverage_cli_runs_the_scenarios_on_the_model_against_itself(tmp_path, capsys):
    """--scenarios: the host's scenarios run once more each on the model+model lockstep,
    which writes the counts and the report the gate writes. Among what they reach are
    the gaps of the first such measurement, each now driven by a scenario: R2.2 (an
    unmapped optval), R7.2 with receive memory charged, D20 (an empty TX frame), D21."""
    assert coverage.main(["--scenarios", str(tmp_path)]) == 0
    t = coverage.Tally.load(tmp_path / coverage.FILE)
    assert all(t.agreed[r] for r in ("R2.2", "R7.2", "D20", "D21", "R2.5.3")), t.agreed
    assert "| R7.2 | the receive memory gate of dumps |" in (tmp_path / coverage.REPORT).read_text()
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == coverage.summary(t)
