"""Invariants over random operation sequences (hypothesis):
- the kernel only makes the allowed frame-status transitions (R1.5, R4.4, R4.7, R4.9,
  R4.15; TX only VALID -> UNUSED, R5.3 with D16), never touches SKIP (R4.12), and each
  change comes with its tracepoint decision for that frame (INTERFACES.md);
- every message ends in exactly one place: ring frame, receive queue (or read from it),
  still held by its producer, or an accounted drop (R4.13, R4.15, R2.8);
- an RX ring's pending count equals its RESERVED frames (R4.4, R2.4); TX pending is 0
  (D16: TX frames are never RESERVED);
- the model is deterministic (same steps, same trace, ledger and ring bytes).
"""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from model import RingReq, World
from model.uapi import NLM_F_ACK, NLMSG_NOOP, SKIP, UNUSED, VALID, nlmsg

RX = {(UNUSED, 1), (1, VALID), (UNUSED, 3), (UNUSED, VALID)}
TX = {(VALID, UNUSED)}
NEEDS = {  # a kernel-made change must come with its trace events (one alternative each)
    (UNUSED, 1): [{"ring"}], (1, VALID): [{"deliver"}, {"release"}],
    (UNUSED, 3): [{"copy"}], (UNUSED, VALID): [{"ring", "deliver"}, {"ring", "release"}],
    (VALID, UNUSED): [{"copy"}]}
FATES = {"pending", "ring", "queue", "received", "consumed", "dropped:overrun",
         "dropped:released", "dropped:purged", "dropped:refused", "dropped:eagain",
         "dropped:freed", "dropped:filtered"}

GEOMS = [RingReq(4096, 1, 1024, 4), RingReq(8192, 2, 4096, 4), RingReq(4096, 2, 2048, 4)]


def build(geo):
    w = World(goodsize=1000)
    socks = []
    for k, g in enumerate(geo):
        fd = w.socket().value
        w.bind(fd, 100 + k)
        w.setsockopt_ring(fd, False, g)
        w.setsockopt_ring(fd, True, RingReq(4096, 1, 1024, 4))
        mid = w.mmap(fd, g.block_size * g.block_nr + 4096).value
        socks.append((fd, mid))
        w.subscribe(fd, 1 + k)
    plain = w.socket().value
    w.bind(plain, 200)
    return w, socks, plain


def statuses(w, socks):
    out = {}
    for fd, mid in socks:
        for ring in ("rx", "tx"):
            n = w._file(fd, None).sock.rx.frame_nr if ring == "rx" else 4
            out[(fd, ring)] = [w.frame(mid, ring, i).value.status for i in range(n)]
    return out


op = st.tuples(st.sampled_from(["alloc", "xmit", "free", "plain", "release", "skip",
                                "poll", "recv", "dump", "ack", "err", "teardown", "usend",
                                "mcast"]),
               st.integers(0, 2), st.integers(0, 3), st.integers(0, 3000))


class Run:
    """A world with ring sockets and a plain one, driven by (name, k, i, size) steps."""

    def __init__(self, geo):
        self.w, self.socks, self.plain = build(geo)
        self.ports = [100 + k for k in range(len(self.socks))] + [200, 999]
        self.handles = []

    def step(self, name, k, i, size):
        """Apply one step; returns the (ring, frame) statuses a user store set (else {})."""
        w, handles, ports, plain = self.w, self.handles, self.ports, self.plain
        fd, mid = self.socks[k % len(self.socks)]
        if name == "alloc":
            o = w.drv_alloc(ports[k % len(ports)], size)
            if o.ok:
                handles.append(o.value)
        elif name in ("xmit", "free") and handles:
            h = handles.pop(i % len(handles))
            (w.drv_xmit if name == "xmit" else w.drv_free)(h)
        elif name == "plain":
            w.drv_plain(ports[k % len(ports)], size)
        elif name == "release":                      # userspace never touches RESERVED
            if w.frame(mid, "rx", i % 4).value.status != 1:
                w.write_frame(mid, "rx", i % 4, status=UNUSED)
                return {(fd, "rx"): i % 4}
        elif name == "skip":
            if w.frame(mid, "rx", i % 4).value.status == VALID:
                w.write_frame(mid, "rx", i % 4, status=SKIP)
                return {(fd, "rx"): i % 4}
        elif name == "poll":
            w.poll(fd)
        elif name == "recv":
            w.recvmsg(plain if i == 3 else fd)
        elif name == "dump":
            w.drv_dump(plain if i == 3 else fd, size % 40, size % 500)
        elif name == "ack":
            req = nlmsg(NLMSG_NOOP, NLM_F_ACK, 1, 0)
            w.write_frame(mid, "tx", i, payload=req, nm_len=16, status=VALID)
            w.sendmsg(fd, None)
        elif name == "err":
            w.so_error(fd)
        elif name == "teardown":
            w.setsockopt_ring(fd, False, (0, 0, 0, 0))
        elif name == "usend":
            w.sendmsg(plain, bytes(size % 300 + 1), (ports[k % len(ports)], 0), dontwait=True)
        elif name == "mcast":
            w.sendmsg(plain, nlmsg(NLMSG_NOOP, 0, 1, 0, bytes(size % 100)), (0, 1 << i % 3))
        return {}


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(GEOMS), min_size=1, max_size=2), st.lists(op, max_size=40))
def test_invariants_over_random_operations(geo, ops):
    r = Run(geo)
    for step in ops:
        before = statuses(r.w, r.socks)
        if step[0] == "ack":                          # the user's VALID store comes first
            before[(r.socks[step[1] % len(r.socks)][0], "tx")][step[2]] = VALID
        start = len(r.w.trace)
        user = r.step(*step)
        after = statuses(r.w, r.socks)
        seen = {}
        for e in r.w.trace[start:]:
            seen.setdefault((e.sock, e.kind, e.frame), set()).add(e.decision)
        for key, old in before.items():
            allowed = RX if key[1] == "rx" else TX
            port = r.w.portid(key[0])
            for n, (a, b) in enumerate(zip(old, after[key], strict=True)):
                if user.get(key) == n or a == b:
                    continue
                assert (a, b) in allowed, (step, key, a, b)
                evs = seen.get((port, key[1], n), set())
                assert any(evs >= need for need in NEEDS[(a, b)]), (step, key, n, a, b, evs)
        check_ledger(r.w, r.socks, r.plain, r.handles)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(GEOMS), min_size=1, max_size=2), st.lists(op, max_size=30))
def test_model_is_deterministic(geo, ops):
    runs = [Run(geo), Run(geo)]
    for step in ops:
        for r in runs:
            r.step(*step)
    a, b = runs
    assert a.w.trace == b.w.trace and a.w.ledger == b.w.ledger
    for (_, m1), (_, m2) in zip(a.socks, b.socks, strict=True):
        assert a.w.ring_bytes(m1).value == b.w.ring_bytes(m2).value


def check_ledger(w, socks, plain, handles):
    fates = Counter(w.ledger.values())
    assert set(fates) <= FATES
    all_socks = [w._file(fd, None).sock for fd, _ in socks] + [w._file(plain, None).sock]
    queued = {skb.mid for sk in all_socks for skb, _ in sk.queue}
    assert queued == {m for m, f in w.ledger.items() if f == "queue"}
    held = {w.held[h][0].mid for h in handles}
    assert held == {m for m, f in w.ledger.items() if f == "pending"}
    assert fates["dropped:overrun"] == sum(sk.drops for sk in all_socks)
    evs = Counter(e.decision for e in w.trace)
    assert fates["ring"] == evs["deliver"]
    assert fates["dropped:released"] == evs["release"]
    for sk in all_socks[:-1]:
        reserved = sum(sk.rx.status(i) == 1 for i in range(sk.rx.frame_nr))
        assert sk.rx.pending == reserved
        assert sk.tx is None or sk.tx.pending == 0
