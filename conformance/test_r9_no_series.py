"""R2.1, R3.1, R9.14: a kernel without the series. The model's prediction
(``World(netlink_mmap=False)``) must be the rules' values; the real unpatched base kernel
is held to the same prediction by vm/tests/test_no_series_vm.py (tox env ``vm``, which
boots it), since the gate's guest runs the patched kernel."""

from __future__ import annotations

from .nommap import EXPECTED, model_outcomes


def test_r2_1_r3_1_r9_14_model_without_series_gives_the_rules_values():
    """setsockopt(6/7) ENOPROTOOPT even unprivileged (no such option, so no capability
    check), bad optval pointer EFAULT (6.12's int prologue, R2.2), mmap ENODEV
    (sock_no_mmap), sendto(NULL, 0) an ordinary empty send (ENODATA, M8), poll =
    datagram_poll."""
    assert model_outcomes() == EXPECTED


def test_r2_1_r9_14_probe_tells_the_series_apart():
    """The probe is what the feature check and the vm test rely on: with the series the
    ring options exist (R2.3: unprivileged is EPERM), mmap of a ringed socket checks the
    length (R3.4), sendto(NULL, 0) is a ring send of nothing (R5.1, R5.2); the bad-pointer
    case (EFAULT either way, R2.3 step 3) and poll of an idle socket (R6.5 only adds
    POLLOUT) do not tell them apart."""
    with_series = model_outcomes(netlink_mmap=True)
    assert with_series == {**EXPECTED, "rx_ring": "ok", "tx_ring": "ok",
                           "rx_ring_unprivileged": "EPERM", "mmap": "EINVAL",
                           "sendto_null": "ok"}
