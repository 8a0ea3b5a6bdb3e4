"""R3.x: mmap rules, mapping order, the mapped counter."""

import errno

from model import RingReq, World
from model.uapi import VALID

from .conftest import FRAMES_2K, Setup


def test_R3_2_nonzero_offset_is_EINVAL():
    s = Setup()
    assert s.w.mmap(s.fd, 8192, offset=4096).err == errno.EINVAL


def test_R3_3_no_rings_is_EINVAL():
    w = World()
    fd = w.socket().value
    assert w.mmap(fd, 4096).err == errno.EINVAL


def test_R3_4_length_must_equal_ring_sum_after_page_rounding():
    s = Setup()
    assert s.w.mmap(s.fd, 4096).err == errno.EINVAL
    assert s.w.mmap(s.fd, 12288).err == errno.EINVAL
    assert s.w.mmap(s.fd, 8000).ok          # rounded up to 8192 by the mm first


def test_R3_5_rx_first_then_tx_and_tx_alone_at_zero():
    s = Setup(rx=FRAMES_2K, tx=RingReq(4096, 1, 4096, 1))
    s.w.write_frame(s.mid, "tx", 0, status=VALID)
    assert s.w.read(s.mid, 8192, 4).value.data == b"\2\0\0\0"
    t = Setup(rx=None, tx=FRAMES_2K)
    t.w.write_frame(t.mid, "tx", 1, status=VALID)
    assert t.w.read(t.mid, 2048, 4).value.data == b"\2\0\0\0"


def test_R1_7_frame_address_skips_block_slack():
    s = Setup(rx=RingReq(4096, 2, 1000, 8))
    s.w.write_frame(s.mid, "rx", 4, status=VALID)
    assert s.w.read(s.mid, 4096, 4).value.data == b"\2\0\0\0"


def test_R3_7_R3_8_second_mapping_counts_and_sees_same_bytes():
    s = Setup()
    m2 = s.w.mmap(s.fd, 8192).value
    assert s.w.sock_info(s.fd).mapped == 2
    s.w.write_frame(s.mid, "rx", 1, status=VALID)
    assert s.w.frame(m2, "rx", 1).value.status == VALID


def test_R3_7_fork_duplicates_mapping_and_exit_drops_it():
    s = Setup()
    child = s.w.fork().value
    assert s.w.sock_info(s.fd).mapped == 2
    s.w.munmap(s.mid)
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).err == errno.EBUSY
    s.w.exit(child)
    assert s.w.sock_info(s.fd).mapped == 0
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).ok


def test_R3_7_thread_shares_mapping():
    s = Setup()
    s.w.spawn_thread()
    assert s.w.sock_info(s.fd).mapped == 1


def test_R3_9_munmap_unknown_mapping_is_EINVAL():
    s = Setup()
    assert s.w.munmap(s.mid).ok
    assert s.w.munmap(s.mid).err == errno.EINVAL


def test_R2_10_close_keeps_socket_while_mapped():
    s = Setup()
    s.w.close(s.fd)
    assert s.w.drv_alloc(s.pid, 8).events[0].decision == "ring"
    s.w.munmap(s.mid)
    assert s.w.drv_alloc(s.pid, 8).events[0].reason == "no_socket"


def test_R2_1_R3_1_R9_14_kernel_without_series():
    w = World(netlink_mmap=False)
    fd = w.socket().value
    assert w.setsockopt_ring(fd, False, FRAMES_2K).err == errno.ENOPROTOOPT
    assert w.mmap(fd, 8192).err == errno.ENODEV
    w.bind(fd)
    assert w.sendmsg(fd, None).err == errno.ENODATA  # an ordinary empty send (M8)


def test_R1_8_ring_cfg_reports_geometry():
    s = Setup(tx=RingReq(4096, 1, 4096, 1))
    assert s.w.ring_cfg(s.fd).value == (FRAMES_2K, RingReq(4096, 1, 4096, 1))


def test_R2_10_release_purges_receive_queue():
    s = Setup()
    s.w.drv_plain(s.pid, 1)
    s.w.close(s.fd)
    s.w.munmap(s.mid)
    assert list(s.w.ledger.values()) == ["dropped:purged"]
