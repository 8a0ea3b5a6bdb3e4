"""R2.1, R3.1, R9.14: a kernel without the series. The model's prediction
(``World(netlink_mmap=False)``) must be the rules' values; the real unpatched base kernel
is held to the same prediction by vm/tests/test_no_series_vm.py (tox env ``vm``, which
boots it), since the gate's guest runs the patched kernel."""

from __future__ import annotations

from .nommap import EXPECTED, model_outcomes
from .uapi import POLLOUT, POLLWRNORM


def test_r2_1_r3_1_r9_14_model_without_series_gives_the_rules_values():
    """setsockopt(6/7) ENOPROTOOPT even unprivileged (no such option, so no capability
    check), bad optval pointer EFAULT (6.12's int prologue, R2.2), mmap ENODEV
    (sock_no_mmap), sendto(NULL, 0) an ordinary empty send (ENODATA, M8), poll =
    datagram_poll."""
    assert EXPECTED == {
        "rx_ring": "ENOPROTOOPT", "tx_ring": "ENOPROTOOPT",
        "rx_ring_unprivileged": "ENOPROTOOPT", "rx_ring_bad_pointer": "EFAULT",
        "mmap": "ENODEV", "sendto_null": "ENODATA", "poll": POLLOUT | POLLWRNORM,
    }
    assert model_outcomes() == EXPECTED
