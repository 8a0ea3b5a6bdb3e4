"""R1.1, R2.x: setsockopt validation and commit."""

import errno

from hypothesis import given, settings
from hypothesis import strategies as st

from model import RingReq, World
from model.uapi import SOL_NETLINK

from .conftest import FRAMES_2K, Setup


def fresh(**world):
    w = World(**world)
    fd = w.socket().value
    w.bind(fd)
    return w, fd


def err(req, **kw):
    w, fd = fresh()
    return w.setsockopt_ring(fd, False, req, **kw).err


def test_R1_1_other_level_is_ENOPROTOOPT():
    assert err(FRAMES_2K, level=1) == errno.ENOPROTOOPT
    assert err(FRAMES_2K, level=SOL_NETLINK) == 0


def test_R2_3_EPERM_checked_before_length():
    assert err(FRAMES_2K, optlen=0, privileged=False) == errno.EPERM


def test_R2_3_short_optlen_is_EINVAL_longer_is_accepted():
    assert err(FRAMES_2K, optlen=15) == errno.EINVAL
    assert err(FRAMES_2K, optlen=64) == 0


def test_R2_3_bad_pointer_is_EFAULT_after_length():
    assert err(None) == errno.EFAULT
    assert err(None, optlen=4) == errno.EINVAL


def test_R2_3_raw_bytes_are_the_struct():
    assert err(FRAMES_2K.pack() + b"junk") == 0


def test_R2_4_EBUSY_while_mapped_for_either_ring_and_teardown():
    s = Setup()
    assert s.w.setsockopt_ring(s.fd, True, FRAMES_2K).err == errno.EBUSY
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).err == errno.EBUSY
    s.w.munmap(s.mid)
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).err == 0


def test_R2_4_EBUSY_while_rx_frame_reserved():
    s = Setup()
    s.w.munmap(s.mid)
    h = s.w.drv_alloc(s.pid, 10).value
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).err == errno.EBUSY
    s.w.drv_free(h)
    assert s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0)).err == 0


def test_R2_5_1_existing_ring_is_EBUSY():
    w, fd = fresh()
    assert w.setsockopt_ring(fd, False, FRAMES_2K).err == 0
    assert w.setsockopt_ring(fd, False, FRAMES_2K).err == errno.EBUSY


def test_R2_5_2_block_size_zero_or_negative_is_EINVAL():
    assert err((0, 1, 4096, 1)) == errno.EINVAL
    assert err((1 << 31, 1, 4096, 1 << 19)) == errno.EINVAL


def test_R2_5_3_block_size_not_page_multiple_is_EINVAL():
    assert err((4000, 1, 2000, 2)) == errno.EINVAL


def test_R2_5_4_frame_size_below_header_is_EINVAL():
    assert err((4096, 1, 20, 204)) == errno.EINVAL


def test_R2_5_5_frame_size_not_multiple_of_4_is_EINVAL():
    assert err((4096, 1, 26, 157)) == errno.EINVAL


def test_R2_5_6_frame_larger_than_block_is_EINVAL():
    assert err((4096, 1, 8192, 0)) == errno.EINVAL
    assert err((8192, 1, 8192, 1)) == 0


def test_R2_5_7_frame_nr_mismatch_is_EINVAL():
    assert err((4096, 2, 2048, 5)) == errno.EINVAL


def test_D22_R2_5_7_frame_count_is_compared_without_wrapping():
    """3.10 compared in 32 bits: 2 * 2**31 wrapped to 0 and passed (then ENOMEM)."""
    assert err((4096, 1 << 31, 2048, 0)) == errno.EINVAL
    assert err((4096, (1 << 25) + 1, 32, 128)) == errno.EINVAL   # 128 * (2**25+1) wraps to 128


def test_D22_ring_above_4GiB_is_EINVAL_at_4GiB_minus_a_block_only_memory_decides():
    def err_8g(req):
        w, fd = fresh(mem_limit=8 << 30)
        return w.setsockopt_ring(fd, False, req).err
    assert err_8g((4096, 1 << 20, 4096, 1 << 20)) == errno.EINVAL         # 2**32 bytes
    assert err_8g((1 << 20, 1 << 12, 4096, 1 << 20)) == errno.EINVAL      # same, big blocks
    assert err_8g((4096, (1 << 20) - 1, 4096, (1 << 20) - 1)) == 0        # UINT_MAX - 4095


def test_R2_5_8_too_much_memory_is_ENOMEM():
    assert err((4096, 1 << 15, 4096, 1 << 15)) == errno.ENOMEM    # 128 MiB > 64 MiB limit


def test_R2_5_slack_allowed():
    assert err((4096, 2, 1000, 8)) == 0


def test_R2_6_fresh_ring_is_all_zero():
    s = Setup()
    p = s.w.ring_bytes(s.mid).value
    assert p.known and bytes(p) == bytes(8192)


def test_R2_7_teardown_with_frame_nr_is_EINVAL_and_noop_teardown_ok():
    assert err((0, 0, 0, 1)) == errno.EINVAL
    assert err((123, 0, 7, 0)) == 0


def test_R2_8_setup_and_noop_teardown_purge_the_receive_queue():
    w, fd = fresh()
    w.drv_plain(w.portid(fd), 8)
    assert w.sock_info(fd).queue_len == 1
    assert w.setsockopt_ring(fd, False, (0, 0, 0, 0)).err == 0
    assert w.recvmsg(fd).err == errno.EAGAIN
    w.drv_plain(w.portid(fd), 8)
    assert w.setsockopt_ring(fd, False, FRAMES_2K).err == 0
    assert w.recvmsg(fd).err == errno.EAGAIN
    assert w.so_error(fd).value == 0


def test_R2_8_tx_setup_does_not_purge_receive_queue():
    w, fd = fresh()
    w.drv_plain(w.portid(fd), 8)
    assert w.setsockopt_ring(fd, True, FRAMES_2K).err == 0
    assert w.recvmsg(fd).ok


def test_R2_9_rings_independent_geometry():
    w, fd = fresh()
    assert w.setsockopt_ring(fd, False, FRAMES_2K).ok
    assert w.setsockopt_ring(fd, True, RingReq(8192, 1, 4096, 2)).ok
    assert w.mmap(fd, 16384).ok


def independent_valid(bs, bn, fs, fn, page=4096, mem=64 << 20):
    """R2.5 restated: a block holds at least one whole frame, frames are 4-aligned and
    hold the header, the ring is below 4 GiB and the frame count is exactly what the
    blocks hold (D22); no blocks means teardown, which needs no frames (R2.7)."""
    if bn == 0:
        return errno.EINVAL if fn else 0
    if not (0 < bs < 2 ** 31 and bs % page == 0 and fs >= 24 and fs & 3 == 0):
        return errno.EINVAL
    per_block = 0
    while (per_block + 1) * fs <= bs:
        per_block += 1
        if per_block > 4096:
            per_block = bs // fs
            break
    if per_block == 0 or bs * bn >= 2 ** 32 or per_block * bn != fn:
        return errno.EINVAL
    return errno.ENOMEM if bs * bn > mem else 0


u32 = st.integers(0, 2 ** 32 - 1)
small = st.sampled_from([0, 1, 2, 3, 4, 8, 24, 28, 1000, 2048, 4096, 8192, 12288, 2 ** 31])


@settings(max_examples=300, deadline=None)
@given(st.tuples(small | u32, st.integers(1, 64) | u32, small | u32, st.integers(0, 256) | u32))
def test_R2_5_validation_agrees_with_independent_formula(req):
    assert err(req) == independent_valid(*req)


def test_R2_3_task_without_cap_net_admin_gets_EPERM():
    w, fd = fresh()
    child = w.fork().value
    w.tasks[child].cap_net_admin = False
    assert w.setsockopt_ring(fd, False, FRAMES_2K, task=child).err == errno.EPERM
    assert w.setsockopt_ring(fd, False, FRAMES_2K).err == 0


def test_R2_2_bad_pointer_unprivileged_is_EPERM_not_EFAULT():
    assert err(None, optlen=16, privileged=False) == errno.EPERM


def test_R2_1_R2_2_without_series_prologue_EFAULT_then_ENOPROTOOPT():
    w = World(netlink_mmap=False)
    fd = w.socket().value
    assert w.setsockopt_ring(fd, False, None, optlen=4).err == errno.EFAULT
    assert w.setsockopt_ring(fd, False, None, optlen=3).err == errno.ENOPROTOOPT
    assert w.setsockopt_ring(fd, True, FRAMES_2K).err == errno.ENOPROTOOPT
