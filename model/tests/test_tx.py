"""R5.x with D2 (exclusivity, reported only), D3 (NULL buffer), D16 (every ring send copies)."""

import errno

from model.uapi import (
    NETLINK_GENERIC,
    NETLINK_NETFILTER,
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    NLM_F_ACK,
    NLMSG_NOOP,
    UNUSED,
    VALID,
    nlmsg,
)

from .conftest import FRAMES_2K, Setup

NOOP = nlmsg(NLMSG_NOOP, 0, 1, 0)


def txs(proto=NETLINK_ROUTE, **kw):
    """A TX-ring socket; NETLINK_ROUTE by default (a kernel protocol that ACKs NOOPs)."""
    return Setup(rx=None, tx=FRAMES_2K, proto=proto, **kw)


def put(s, i, data=NOOP, nm_len=None):
    s.w.write_frame(s.mid, "tx", i, status=VALID, payload=data,
                    nm_len=len(data) if nm_len is None else nm_len)


def tx_events(o):
    return [(e.decision, e.reason, e.frame, e.len) for e in o.events if e.kind == "tx"]


def test_R5_1_null_buffer_sends_ring_real_buffer_does_not():
    s = txs()
    put(s, 0)
    assert s.w.sendmsg(s.fd, NOOP).value == 16
    assert s.st("tx")[0] == VALID
    assert s.w.sendmsg(s.fd, None).value == 16
    assert s.st("tx")[0] == UNUSED


def test_R5_1_M8_empty_send_without_tx_ring_is_ENODATA_before_address_checks(s):
    s.w.tasks[s.w.main].cap_net_admin = False
    for data in (None, b""):
        o = s.w.sendmsg(s.fd, data, (5, 0))
        assert o.err == errno.ENODATA and o.events == ()


def test_R5_1_empty_buffer_on_tx_ring_socket_is_not_ring_tx():
    s = txs()
    put(s, 0)
    assert s.w.sendmsg(s.fd, b"").err == errno.ENODATA
    assert s.st("tx")[0] == VALID


def test_R5_2_consumes_in_order_and_returns_total():
    s = txs()
    put(s, 0)
    put(s, 1, NOOP + NOOP)
    put(s, 3)
    o = s.w.sendmsg(s.fd, None)
    assert o.value == 48 and [e[2] for e in tx_events(o)] == [0, 1]
    assert s.st("tx") == [UNUSED, UNUSED, UNUSED, VALID]   # frame 3 is behind head 2
    assert s.w.sendmsg(s.fd, None).value == 0


def test_R5_2_oversized_nm_len_is_EINVAL_frame_stays_valid_and_blocks():
    s = txs()
    put(s, 0)
    put(s, 1, nm_len=2048 - 24 + 1)
    o = s.w.sendmsg(s.fd, None)
    assert o.err == errno.EINVAL and s.st("tx")[:2] == [UNUSED, VALID]
    assert s.w.sendmsg(s.fd, None).err == errno.EINVAL
    s.w.write_frame(s.mid, "tx", 1, nm_len=16)
    assert s.w.sendmsg(s.fd, None).value == 16


def test_R5_2_unicast_error_aborts_with_that_error():
    s = txs(proto=NETLINK_USERSOCK)
    put(s, 0, b"hi")
    o = s.w.sendmsg(s.fd, None, (4242, 0))
    assert o.err == errno.ECONNREFUSED and s.st("tx")[0] == UNUSED


def test_R5_3_copy_to_user_socket_reports_dst_not_kernel():
    s = txs(proto=NETLINK_USERSOCK)
    rx = s.w.socket(NETLINK_USERSOCK).value
    s.w.bind(rx, 99)
    put(s, 0, b"abc")
    o = s.w.sendmsg(s.fd, None, (99, 0))
    assert tx_events(o) == [("copy", "dst_not_kernel", 0, 3)]
    assert s.w.recvmsg(rx).value == b"abc"


def test_D16_R5_5_exclusive_send_to_kernel_copies_frame_unused_before_processing():
    """D16: even an exclusive sender is copied (reason `exclusive`); a racing reader
    sees the frame go VALID -> UNUSED, never RESERVED, and nothing stays pending."""
    s = txs()
    put(s, 0)
    o, seen = s.w.during(s.mid, "tx", 0, "sendmsg", s.fd, None)
    assert tx_events(o) == [("copy", "exclusive", 0, 16)]
    assert seen == {VALID, UNUSED}
    assert s.st("tx")[0] == UNUSED and s.w.sock_info(s.fd).tx_pending == 0


def test_D16_every_protocol_reports_copy_exclusive():
    """D16 dropped D8's allow-list and with it the reason `protocol`."""
    for proto in (NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER):
        s = txs(proto=proto)
        put(s, 0)
        assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "exclusive"), proto


def test_D16_mapping_is_the_first_condition_after_the_destination():
    s = txs(proto=NETLINK_NETFILTER)
    s.w.mmap(s.fd, 8192)
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mapped_multiple")


def test_D2_second_mapping_reports_mapped_multiple():
    s = txs()
    s.w.mmap(s.fd, 8192)
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mapped_multiple")


def test_D2_no_mapping_reports_mapped_multiple():
    s = txs()
    put(s, 0)
    s.w.munmap(s.mid)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mapped_multiple")


def test_D2_dup_reports_file_shared_close_restores_exclusive():
    s = txs()
    d = s.w.dup(s.fd).value
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "file_shared")
    s.w.close(d)
    put(s, 1)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "exclusive")


def test_D2_fork_reports_mapped_multiple_via_mapping_count():
    s = txs()
    s.w.fork()
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mapped_multiple")


def test_D2_thread_reports_files_shared_first():
    s = txs()
    t = s.w.spawn_thread().value
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None, task=t))[0][:2] == ("copy", "files_shared")
    s.w.exit(t)
    put(s, 1)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "exclusive")


def test_D2_shared_mm_alone_reports_mm_shared():
    s = txs()
    s.w.clone(files=False, mm=True)
    s.w.close(s.fd, task=max(s.w.tasks))     # child's copy of the fd: file not shared
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mm_shared")


def test_R5_8_connected_destination_used_when_no_address():
    s = txs(proto=NETLINK_USERSOCK)
    rx = s.w.socket(NETLINK_USERSOCK).value
    s.w.bind(rx, 55)
    s.w.connect(s.fd, 55)
    put(s, 0, b"z")
    assert s.w.sendmsg(s.fd, None, None).value == 1
    assert s.w.recvmsg(rx).value == b"z"


def test_R5_1_prologue_unprivileged_generic_to_user_is_EPERM():
    s = txs()
    s.w.tasks[s.w.main].cap_net_admin = False
    put(s, 0)
    assert s.w.sendmsg(s.fd, None, (5, 0)).err == errno.EPERM
    assert s.st("tx")[0] == VALID


def test_R5_2_ack_generated_during_the_call_goes_to_rx_ring():
    s = Setup(tx=FRAMES_2K, proto=NETLINK_ROUTE)
    req = nlmsg(NLMSG_NOOP, NLM_F_ACK, 7, 0)
    s.w.write_frame(s.mid, "tx", 0, status=VALID, payload=req, nm_len=16)
    o = s.w.sendmsg(s.fd, None)
    assert [e.decision for e in o.events] == ["copy", "ring", "deliver"]
    assert s.hdr(0).status == VALID and s.hdr(0).len == 36


def test_R5_6_blocking_send_returns_at_first_non_valid_frame_nothing_pending():
    s = txs()
    put(s, 0)
    put(s, 2)
    o = s.w.sendmsg(s.fd, None, dontwait=False)
    assert o.value == 16 and s.st("tx") == [UNUSED, UNUSED, VALID, UNUSED]
    assert s.w.sock_info(s.fd).tx_pending == 0                         # D16


def test_R2_4_D16_tx_teardown_right_after_a_send_is_not_EBUSY():
    s = txs()
    put(s, 0)
    assert s.w.sendmsg(s.fd, None, dontwait=True).value == 16
    s.w.munmap(s.mid)
    assert s.w.setsockopt_ring(s.fd, True, (0, 0, 0, 0)).ok


def test_D2_fd_passed_to_another_process_reports_file_shared():
    s = txs()
    other = s.w.fork().value                            # then drops all it inherited
    for fd in list(s.w.tasks[other].files.fds):
        s.w.close(fd, task=other)
    for mid in s.w.mappings(other):
        s.w.munmap(mid, task=other)
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "exclusive")
    s.w.send_fd(s.fd, other)
    put(s, 1)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "file_shared")


def test_R3_7_D2_mprotect_split_counts_as_second_mapping():
    s = txs()
    upper = s.w.split(s.mid, 4096).value
    assert s.w.sock_info(s.fd).mapped == 2
    put(s, 0)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "mapped_multiple")
    s.w.munmap(upper)                                   # = partial munmap of the tail
    put(s, 1)
    assert tx_events(s.w.sendmsg(s.fd, None))[0][:2] == ("copy", "exclusive")
    assert s.w.read(s.mid, 0, 4).value.data == bytes(4)


def test_R5_3_D16_concurrent_reader_never_sees_a_TX_frame_RESERVED():
    """Exclusive or shared, to the kernel or to a peer: VALID, then UNUSED (D16)."""
    s = txs()
    s.w.mmap(s.fd, 8192)
    put(s, 0)
    out, seen = s.w.during(s.mid, "tx", 0, "sendmsg", s.fd, None)
    assert out.value == 16 and seen == {VALID, UNUSED}
    u = txs(proto=NETLINK_USERSOCK)
    peer = u.w.socket(NETLINK_USERSOCK).value
    u.w.bind(peer, 77)
    put(u, 0, b"x")
    _, seen = u.w.during(u.mid, "tx", 0, "sendmsg", u.fd, None, (77, 0))
    assert seen == {VALID, UNUSED}


def test_D20_empty_tx_frame_is_enodata_and_stays_valid():
    """D20: nm_len 0 fails the ring send with ENODATA (as an empty sendmsg() does); the
    frame stays VALID; the frame consumed before it in the same call was processed."""
    s = txs()
    put(s, 0)
    put(s, 1, b"", nm_len=0)
    o = s.w.sendmsg(s.fd, None)
    assert o.err == errno.ENODATA
    assert s.st("tx")[:2] == [UNUSED, VALID]
    assert tx_events(o)[0][:2] == ("copy", "exclusive")
