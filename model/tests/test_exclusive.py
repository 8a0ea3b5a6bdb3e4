"""D2 over random process histories: the TX reason always agrees with an independent
count of VMAs, descriptor slots, file-table and mm sharers (R3.7-R3.9); the mode is
always copy (D16)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from model import World
from model.uapi import NETLINK_ROUTE, NLMSG_NOOP, VALID, nlmsg

from .conftest import FRAMES_2K

NOOP = nlmsg(NLMSG_NOOP, 0, 1, 0)


def expected(w, sk_file, task):
    t = w.tasks[task]
    tables = {id(x.files): x.files for x in w.tasks.values()}
    mms = {id(x.mm): x.mm for x in w.tasks.values()}
    vmas = sum(m.file is sk_file for mm in mms.values() for m in mm.maps.values())
    slots = sum(f is sk_file for ft in tables.values() for f in ft.fds.values())
    sharers_files = sum(x.files is t.files for x in w.tasks.values())
    sharers_mm = sum(x.mm is t.mm for x in w.tasks.values())
    if vmas != 1:
        return "mapped_multiple"
    if slots > 1:
        return "file_shared"
    if sharers_files > 1:
        return "files_shared"
    if sharers_mm > 1:
        return "mm_shared"
    return "exclusive"


step = st.tuples(st.sampled_from(["fork", "thread", "vfork", "exit", "dup", "close",
                                  "mmap", "munmap", "split", "send"]),
                 st.integers(0, 7))


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=25))
def test_D2_tx_reason_matches_independent_exclusivity(steps):
    w = World()
    fd = w.socket(NETLINK_ROUTE).value
    w.bind(fd)
    w.setsockopt_ring(fd, True, FRAMES_2K)
    sk_file = w._file(fd, None)
    w.mmap(fd, 8192)
    tx_next = 0
    for name, k in steps:
        tasks = sorted(w.tasks)
        t = tasks[k % len(tasks)]
        if name in ("fork", "thread", "vfork"):
            w.clone(t, files=name == "thread", mm=name != "fork")
        elif name == "exit" and t != w.main:
            w.exit(t)
        elif name == "dup" and fd in w.tasks[t].files.fds:
            w.dup(fd, task=t)
        elif name == "close":
            extra = [f for f in w.tasks[t].files.fds if f != fd or t != w.main]
            if extra:
                w.close(extra[k % len(extra)], task=t)
        elif name == "mmap" and fd in w.tasks[t].files.fds:
            w.mmap(fd, 8192, task=t)
        elif name in ("munmap", "split") and w.mappings(t):
            mid = w.mappings(t)[k % len(w.mappings(t))]
            if name == "munmap":
                w.munmap(mid, task=t)
            else:
                w.split(mid, 4096, task=t)
        elif name == "send" and fd in w.tasks[t].files.fds:
            ring = sk_file.sock.tx
            ring.store(ring.offset(tx_next) + 24, NOOP)
            ring.set_len(tx_next, 16)
            ring.set_status(tx_next, VALID)
            want = expected(w, sk_file, t)
            ev = [e for e in w.sendmsg(fd, None, task=t).events if e.kind == "tx"]
            assert [(e.decision, e.reason) for e in ev] == [("copy", want)]
            tx_next = (tx_next + 1) % 4
        assert sk_file.sock.mapped == sum(
            m.file is sk_file for mm in {id(x.mm): x.mm for x in w.tasks.values()}.values()
            for m in mm.maps.values())
