"""fork_call and join_thread, the kernel client's ways to act from another task, on the
host: a child that dies or hangs must be reported as such, not as a result (the L2 test
relies on it to tell the OOM killer from an errno), and a joined thread must be gone from
the kernel too."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time

import pytest

from conformance.uapi import ChildLost, fork_call, join_thread


def test_result_and_exception_travel_back():
    assert fork_call(lambda a, b: a * b, 6, 7) == 42
    assert fork_call(lambda: -errno.EINVAL) == -errno.EINVAL
    with pytest.raises(ChildLost, match="ValueError: bad"):
        fork_call(lambda: (_ for _ in ()).throw(ValueError("bad")))


def test_child_killed_by_a_signal_is_named():
    with pytest.raises(ChildLost, match=f"killed by signal {signal.SIGKILL}"):
        fork_call(lambda: os.kill(os.getpid(), signal.SIGKILL))


def test_child_out_of_time_is_killed_and_reported():
    t0 = time.monotonic()
    with pytest.raises(ChildLost, match="no result in 0.3 s"):
        fork_call(time.sleep, 30, timeout=0.3)
    assert time.monotonic() - t0 < 10  # killed, not waited for


def test_join_thread_returns_only_when_the_task_is_gone():
    """The kernel counts a thread as sharing the fd table and mm until its task exits,
    which a plain join does not wait for (a flaky files_shared in the gate)."""
    for _ in range(200):
        ev = threading.Event()
        t = threading.Thread(target=ev.wait, daemon=True)
        t.start()
        ev.set()
        join_thread(t)
        assert not os.path.exists(f"/proc/self/task/{t.native_id}")
