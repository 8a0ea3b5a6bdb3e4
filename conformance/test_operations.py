"""The backend interface is declared once (``@operation`` on :class:`Backend`): the
lockstep backend forwards what is declared, the recorder records what is declared, and
nothing is left to a hand-kept list."""

from __future__ import annotations

from .backends.base import ACT, DERIVED, READ, Backend, operations
from .backends.lockstep import Lockstep
from .backends.model import ModelBackend
from .helpers import SMALL
from .script import READS, Recorder

INTERNAL = {"dump_request", "events"}  # abstract, but helpers of a scenario, not steps


def test_every_abstract_method_is_a_declared_operation_or_internal():
    assert set(Backend.__abstractmethods__) - set(operations()) == INTERNAL


def test_lockstep_forwards_every_act_and_read_operation():
    assert not Lockstep.__abstractmethods__
    for name in {**operations(ACT), **operations(READ)}:
        assert getattr(Lockstep, name) is not getattr(Backend, name), name
    for name in operations(DERIVED):  # built on the forwarded ones, compared through them
        assert getattr(Lockstep, name) is getattr(Backend, name), name
    assert READS == set(operations(READ)) >= {"frame", "payload"}


def test_recorder_records_declared_operations_only():
    """Observations are recorded too (a replay compares them again); diag_rings and
    rmem_charged were forwarded but not recorded while the lists were kept by hand."""
    r = Recorder(ModelBackend())
    s = r.socket()
    r.set_ring(s, False, SMALL)
    r.mmap(s)
    r.frame(s, "rx", 0)
    r.diag_rings(s)
    r.rmem_charged(s)
    r.events()
    r.dump_request(s, 1, 1, 10)
    r.b.close_all()
    assert [step.op for step in r.steps] == ["socket", "set_ring", "mmap", "frame",
                                            "diag_rings", "rmem_charged"]
