"""The operation facade: descriptors, autobind, errors found up front."""

import errno

import pytest

from model import World


def test_descriptors_are_lowest_free_from_3():
    w = World()
    a, b = w.socket().value, w.socket().value
    assert (a, b) == (3, 4)
    w.close(a)
    assert w.dup(b).value == 3


def test_unknown_fd_is_EBADF_everywhere():
    w = World()
    for o in (w.bind(9), w.close(9), w.dup(9), w.poll(9), w.recvmsg(9), w.sendmsg(9, b"x"),
              w.so_error(9), w.mmap(9, 4096), w.setsockopt_ring(9, False, (0, 0, 0, 0))):
        assert o.err == errno.EBADF
    with pytest.raises(OSError):
        w.portid(9)


def test_unknown_mapping_is_EFAULT():
    w = World()
    assert w.frame(5, "rx", 0).err == errno.EFAULT
    assert w.ring_bytes(5).err == errno.EFAULT


def test_autobind_takes_tgid_first_then_a_negative_portid():
    w = World(pid=777)
    a, b = w.socket().value, w.socket().value
    w.bind(a)
    w.sendmsg(b, b"x", (w.portid(a), 0))              # sendmsg autobinds too
    assert w.portid(a) == 777 and w.portid(b) >= 0x80000000
    assert w.bind(w.socket().value, 777).err == errno.EADDRINUSE
