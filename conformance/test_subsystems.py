"""Real subsystems on the kernel (kernel-only): rtnetlink dumps of many links in a netns,
genetlink, NETLINK_USERSOCK, nfnetlink_queue with real packets over a veth pair (verdicts
through the TX ring), nfnetlink_log. The oracle here is the same request answered on a
plain socket (no ring) and the packets that really arrive.

Each scenario runs in a forked child inside a fresh network namespace; the child's
assertion message comes back as the failure."""

from __future__ import annotations

import os
import struct

import pytest

from .genl import CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL, genl_msg, parse_nla
from .netsetup import ip_batch, nft, udp_send, unshare_net, veth_with_peer
from .nfnl import (
    NF_ACCEPT,
    NF_DROP,
    log_config,
    parse_log_packet,
    parse_queue_packet,
    queue_config,
    verdict,
)
from .ringsock import RingSocket
from .uapi import (
    NETLINK_GENERIC,
    NETLINK_NETFILTER,
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    PAGE_SIZE,
    RingReq,
    fork_call,
    nlmsg,
    nlmsgerr_code,
    require_feature,
)

pytestmark = pytest.mark.kernel

RINGS = os.environ.get("NLMMAP_PLAIN_PLUMBING") != "1"  # "1": check plumbing only
RTM_NEWLINK, RTM_GETLINK = 16, 18
NFT_RULE = """table ip t {{
  chain out {{
    type filter hook output priority 0; policy accept;
    ip daddr 10.9.0.2 udp dport 9999 {action}
  }}
}}
"""


@pytest.fixture(autouse=True)
def _feature():
    if RINGS:
        require_feature()


def in_netns(fn, *args):
    def child():
        unshare_net()
        return fn(*args)
    return fork_call(child)


def done(msgs):
    return bool(msgs) and msgs[-1][1] in (NLMSG_DONE, NLMSG_ERROR)


def _link_dump(sock_factory) -> dict[int, bytes]:
    s = sock_factory()
    try:
        s.send(nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1,
                     struct.pack("=BBHiII", 0, 0, 0, 0, 0, 0)))
        msgs = s.messages(done, timeout=60)
        s.check_frame_headers()
    finally:
        s.close()
    assert msgs[-1][1] == NLMSG_DONE, f"dump ended with {msgs[-1]}"
    links = {}
    for ln, t, _f, seq, _pid, pl in msgs[:-1]:
        assert t == RTM_NEWLINK and seq == 1 and ln >= 32, (ln, t, seq)
        ifindex = struct.unpack_from("=i", pl, 4)[0]
        assert ifindex not in links, f"link {ifindex} twice"
        links[ifindex] = parse_nla(pl[16:]).get(3, b"").rstrip(b"\0")  # IFLA_IFNAME
    return links, s


def _rtnl_many_links(pairs: int) -> int:
    ip_batch(["link set lo up"] + [f"link add a{i} type veth peer name b{i}"
                                   for i in range(pairs)])
    plain, _ = _link_dump(lambda: RingSocket(NETLINK_ROUTE, None, rings=False))
    req = RingReq.simple(8192, 8)
    ring, rs = _link_dump(lambda: RingSocket(NETLINK_ROUTE, req,
                                             RingReq.simple(PAGE_SIZE, 2), rings=RINGS))
    # the netns also holds the devices builtin tunnel drivers create (e.g. sit0)
    expected = {b"lo"} | {f"{p}{i}".encode() for p in "ab" for i in range(pairs)}
    assert expected <= set(plain.values()), sorted(expected - set(plain.values()))
    assert ring == plain, "ring dump differs from the plain dump"
    if RINGS:
        # R7.1: chunks fit the 8 KiB frames -> all VALID; more chunks than frames -> the
        # dump needed flow control through poll (R6.1)
        assert rs.frames["copy"] == 0, rs.frames
        assert rs.frames["valid"] > req.frame_nr, rs.frames
    return len(expected & set(ring.values()))


def test_rtnetlink_dump_of_many_links_in_netns():
    """Bug history 1.5 / R9.10 too: every chunk is a well-formed nlmsghdr stream at
    offset 24 (no headroom reserved for ring sockets); chunks fill frames (R7.1)."""
    assert in_netns(_rtnl_many_links, 60) == 121


def _r5_7_dump_from_tx_frame(pairs: int) -> int:
    import signal
    import time

    from .genl import Tracer
    from .uapi import sendto_null
    ip_batch(["link set lo up"] + [f"link add a{i} type veth peer name b{i}"
                                   for i in range(pairs)])
    plain, _ = _link_dump(lambda: RingSocket(NETLINK_ROUTE, None, rings=False))
    rx, tx = RingReq.simple(8192, 8), RingReq.simple(PAGE_SIZE, 2)
    rs = RingSocket(NETLINK_ROUTE, rx, tx)
    tracer = Tracer.get()
    req = nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1,
                struct.pack("=BBHiII", 0, 0, 0, 0, 0, 0))
    rs.view.tx.put_message(0, req)
    assert sendto_null(rs.sock) == len(req)
    tx_ev = [(e.decision, e.reason, e.frame) for e in tracer.take()
             if e.kind == "tx" and e.sock == rs.portid]
    assert tx_ev == [("copy", "exclusive", 0)], tx_ev       # D16: even when exclusive
    # the dump is running (only its first chunk exists) and its request frame is free
    assert rs.view.tx.status(0) == 0, rs.view.tx.statuses()
    assert rs.view.rx.statuses()[:2] == [2, 0], rs.view.rx.statuses()
    rs.view.tx.write_payload(0, b"\xff" * len(req))      # userspace reuses the frame
    rs.view.tx.set_len(0, 0xFFFF)

    def pinned(_sig, _frm):
        raise AssertionError("blocking ring send still waiting after 20 s: "
                             "the running dump pins a TX frame (R5.6/R5.7)")
    old = signal.signal(signal.SIGALRM, pinned)
    signal.alarm(20)
    t0 = time.monotonic()
    try:
        assert sendto_null(rs.sock) == 0                   # nothing VALID, nothing pending
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - t0 < 5
    msgs = rs.messages(done, timeout=60)                   # the rest of the dump via poll
    rs.check_frame_headers()
    rs.close()
    assert msgs[-1][1] == NLMSG_DONE, msgs[-1][:5]
    ring = {}
    for ln, t, _f, seq, _pid, pl in msgs[:-1]:
        assert t == RTM_NEWLINK and seq == 1 and ln >= 32, (ln, t, seq)
        ifindex = struct.unpack_from("=i", pl, 4)[0]
        assert ifindex not in ring, f"link {ifindex} twice"
        ring[ifindex] = parse_nla(pl[16:]).get(3, b"").rstrip(b"\0")
    assert ring == plain, "dump continued after the frame was overwritten differs"
    assert rs.frames["copy"] == 0 and rs.frames["valid"] > rx.frame_nr, rs.frames
    return len(ring)


def test_r5_7_d16_dump_requested_from_a_tx_frame_survives_frame_reuse():
    """R5.7: an RTM_GETLINK dump requested from a TX frame of an exclusive NETLINK_ROUTE
    socket (tracepoint `copy/exclusive`: every ring send copies, D16). When sendmsg
    returns only the first chunk exists, yet the TX frame is already UNUSED: the dump
    holds a copy of the request, not the frame. Userspace overwrites the frame with
    garbage; a blocking ring send returns 0 at once (no TX frame pending, R5.6); the
    remaining chunks, produced by poll() after the overwrite (R6.1), are exactly the
    links a plain-socket dump reports."""
    pairs = 60
    n = in_netns(_r5_7_dump_from_tx_frame, pairs)
    assert n >= 2 * pairs + 1


def _genl_families(sock) -> set[bytes]:
    sock.send(genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST | NLM_F_DUMP, 9))
    msgs = sock.messages(done, timeout=30)
    sock.check_frame_headers()
    sock.close()
    assert msgs[-1][1] == NLMSG_DONE
    return {parse_nla(m[5][4:]).get(CTRL_ATTR_FAMILY_NAME, b"").rstrip(b"\0")
            for m in msgs[:-1]}


def test_genetlink_family_dump_through_rings():
    plain = _genl_families(RingSocket(NETLINK_GENERIC, None, rings=False))
    ring = _genl_families(RingSocket(NETLINK_GENERIC, RingReq.simple(PAGE_SIZE, 8),
                                     RingReq.simple(PAGE_SIZE, 2), rings=RINGS))
    assert b"nlctrl" in plain
    if RINGS:
        assert b"NLMMAP_TEST" in plain
    assert ring == plain


def test_usersock_ring_to_ring_burst():
    """NETLINK_USERSOCK: 3 ring-sent messages to a peer with a 2-frame RX ring: two COPY
    frames, the third dropped silently (the sender is told success, R4.9); the receiver
    sees ENOBUFS (R4.13)."""
    import errno as _errno

    from .uapi import so_error
    a = RingSocket(NETLINK_USERSOCK, None, RingReq.simple(PAGE_SIZE, 4), rings=RINGS)
    b = RingSocket(NETLINK_USERSOCK, RingReq.simple(PAGE_SIZE, 2), rings=RINGS)
    try:
        sent = [nlmsg(0x50, 0, i, bytes([i]) * 40) for i in range(3)]
        for m in sent:
            assert a.send(m, (b.portid, 0)) == len(m)
        if RINGS:  # the drop set sk_err (R4.13); read and clear it before receiving
            assert so_error(b.sock) == _errno.ENOBUFS
        got = [b.next_chunk(1.0) for _ in range(2)]
        assert got == sent[:2]
        if RINGS:
            assert b.frames == {"valid": 0, "copy": 2}
    finally:
        a.close()
        b.close()


def _nfqueue(n: int, size: int = 64) -> int:
    peer = veth_with_peer()
    nft(NFT_RULE.format(action="queue num 3"))
    q = RingSocket(NETLINK_NETFILTER, RingReq.simple(PAGE_SIZE, 16),
                   RingReq.simple(PAGE_SIZE, 4), rings=RINGS)
    for m in queue_config(3, 0xFFFF, 100):
        q.send(m)
    acks = q.messages(lambda ms: len(ms) >= 2, timeout=10)
    assert [(t, nlmsgerr_code(pl)) for _l, t, _f, _s, _p, pl in acks] == [(NLMSG_ERROR, 0)] * 2
    udp_send(n, b"x" * size)  # each packet is stolen by the queue; sendto returns at once
    pkts = q.messages(lambda ms: len(ms) >= n, timeout=30)
    assert len(pkts) == n
    ids = []
    seq = 200
    for m in pkts:
        pid_, payload = parse_queue_packet(m)
        assert pid_ not in ids, f"packet id {pid_} twice"
        ids.append(pid_)
        idx = struct.unpack_from("=I", payload, len(payload) - 4)[0]
        seq += 1
        q.send(verdict(3, pid_, NF_DROP if idx % 4 == 3 else NF_ACCEPT, seq))
    # R8.3: ring order is allocation order; ids need not be sorted, but all are distinct
    assert sorted(ids) == sorted(set(ids))
    q.check_frame_headers()
    if RINGS and size + 200 < PAGE_SIZE - 24:
        assert q.frames["valid"] >= n, q.frames  # small packets: built in ring frames (R8.1)
    elif RINGS:
        # R8.4: a packet message larger than the frame is a plain skb, delivered COPY;
        # the headers of the other frames stay intact (bug history 1.7)
        assert q.frames["copy"] >= n, q.frames
    got = peer.received()
    q.close()
    return got


@pytest.mark.parametrize("size", [64, 6000], ids=["small_valid", "large_copy"])
def test_nfqueue_real_packets_verdicts_through_tx_ring(size):
    """nft `queue` on a veth pair: every packet reaches userspace once (VALID frames for
    small packets R8.1, COPY for packets larger than a frame R8.4/R9.11), its verdict goes back
    through the TX ring; accepted packets arrive at the peer, dropped ones do not. Ring
    order is allocation order, ids are only checked to be distinct (R8.3)."""
    n = 16
    assert in_netns(_nfqueue, n, size) == n - n // 4


NFT_LO_RULE = """table ip t {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 127.0.0.1 udp dport 9998 queue num 3
  }
}
"""


def _r8_4_paged_packet(size: int) -> int:
    import socket as _socket

    from .genl import Tracer
    ip_batch(["link set lo up"])
    nft(NFT_LO_RULE)
    q = RingSocket(NETLINK_NETFILTER, RingReq.simple(PAGE_SIZE, 16),
                   RingReq.simple(PAGE_SIZE, 4), rings=RINGS)
    for m in queue_config(3, 0xFFFF, 100):
        q.send(m)
    q.messages(lambda ms: len(ms) >= 2, timeout=10)
    r = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 9998))
    r.settimeout(10)
    tracer = Tracer.get() if RINGS else None
    data = bytes(i % 251 for i in range(size))
    u = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    u.sendto(data, ("127.0.0.1", 9998))
    u.close()
    [m] = q.messages(lambda ms: len(ms) >= 1, timeout=10)
    pid_, payload = parse_queue_packet(m)
    assert payload[28:] == data, f"payload of {len(payload)} bytes, sent {28 + size}"
    if RINGS:
        ev = [(e.decision, e.reason, e.len) for e in tracer.take()
              if e.kind == "rx" and e.sock == q.portid and e.decision != "deliver"]
        # allocated as a plain skb, delivered in a COPY frame with all its bytes
        assert [x[:2] for x in ev][:1] == [("fallback", "too_big")], ev
        assert [x[0] for x in ev] == ["fallback", "copy"] and ev[1][2] == m[0], ev
        # the message without the packet's page fragments would fit a frame: the packet
        # did reach the queue paged, so only ldiff made it too big
        assert ev[0][2] < PAGE_SIZE // 2, ev
        assert q.frames["copy"] == 1, q.frames
    q.send(verdict(3, pid_, NF_ACCEPT, 200))
    got = r.recv(1 << 16)
    q.check_frame_headers()
    q.close()
    return len(got) if got == data else -1


def test_r8_4_paged_packet_counts_its_fragments_in_the_fit_test():
    """R8.4: a 20,000-byte UDP datagram on loopback is built paged (28 bytes of headers in
    the head, the data in page fragments). The queue attaches the fragments to its message
    (skb_zerocopy), so the fit test must count them (ldiff): the message does not fit a 4 KiB
    frame, is a plain skb (`fallback too_big`, reported with the head-only size) and arrives
    whole in a COPY frame; the accepted packet then reaches its receiver unchanged."""
    assert in_netns(_r8_4_paged_packet, 20000) == 20000


def _r8_2_nfqueue_full_ring(n: int) -> int:
    import errno as _errno
    import socket as _socket

    from .genl import Tracer
    from .uapi import POLLERR, poll_mask, so_error
    peer = veth_with_peer()
    nft(NFT_RULE.format(action="queue num 3"))
    rx = RingReq.simple(PAGE_SIZE, 4)
    q = RingSocket(NETLINK_NETFILTER, rx, RingReq.simple(PAGE_SIZE, 4))
    for m in queue_config(3, 0xFFFF, 100):
        q.send(m)
    acks = q.messages(lambda ms: len(ms) >= 2, timeout=10)   # frames 0 and 1, released
    assert [nlmsgerr_code(pl) for *_x, pl in acks] == [0, 0]
    tracer = Tracer.get()
    u = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    for i in range(n):                       # each packet is queued (or not) in sendto
        try:
            u.sendto(b"x" * 64 + struct.pack("=I", i), ("10.9.0.2", 9999))
        except OSError:
            pass                             # the sender's view is not what R8.2 is about
    u.close()
    ev = [(e.decision, e.reason, e.frame) for e in tracer.take()
          if e.kind == "rx" and e.sock == q.portid and e.decision in ("ring", "drop")]
    fits = [("ring", "fits", f) for f in (2, 3, 0, 1)]      # head was 2 after the ACKs
    assert ev == fits + [("drop", "ring_full", 2)] * (n - rx.frame_nr), ev
    assert q.view.rx.statuses() == [2] * rx.frame_nr, q.view.rx.statuses()
    assert poll_mask(q.sock) & POLLERR
    assert so_error(q.sock) == _errno.ENOBUFS
    assert so_error(q.sock) == 0
    q.rx_idx = 2
    pkts = q.messages(lambda ms: len(ms) >= rx.frame_nr, timeout=10)
    idx = []
    for seq, m in enumerate(pkts, 300):
        pid_, payload = parse_queue_packet(m)
        idx.append(struct.unpack_from("=I", payload, len(payload) - 4)[0])
        q.send(verdict(3, pid_, NF_ACCEPT, seq))
    assert idx == list(range(rx.frame_nr)), idx  # the later packets were never queued
    assert q.view.rx.statuses() == [0] * rx.frame_nr
    got = peer.received()
    q.close()
    return got


def test_r8_2_nfqueue_packets_beyond_a_full_ring_are_not_queued():
    """R8.2 with R4.4/R4.13: nft `queue` with a 4-frame RX ring that the listener does
    not release. Six packets: the first four are built in frames 2, 3, 0, 1 (the two
    config ACKs used 0 and 1); for the last two the ring is full at head 2, the message
    cannot be allocated (tracepoint `drop ring_full` twice), so the packet is not queued
    -- nfqueue drops it -- and the listener gets one ENOBUFS (POLLERR, SO_ERROR, then
    cleared). The four queued packets are 0..3 in order and, accepted through the TX
    ring, reach the peer; the other two never do."""
    assert in_netns(_r8_2_nfqueue_full_ring, 6) == 4


def _nflog(n: int) -> int:
    peer = veth_with_peer()
    nft(NFT_RULE.format(action="log group 5"))
    g = RingSocket(NETLINK_NETFILTER, RingReq.simple(PAGE_SIZE, 16), rings=RINGS)
    for m in log_config(5, 128, 2048, 300):
        g.sock.send(m)
    acks = g.messages(lambda ms: len(ms) >= 2, timeout=10)
    assert [nlmsgerr_code(pl) for *_x, pl in acks] == [0, 0]
    udp_send(n)
    msgs = g.messages(lambda ms: len(ms) >= n, timeout=20)
    idx = sorted(struct.unpack_from("=I", p, len(p) - 4)[0]
                 for p in (parse_log_packet(m) for m in msgs))
    assert idx == list(range(n))
    if g.rings:  # R8.1: log messages built in the listener's ring, not copied into it
        assert g.frames["copy"] == 0 and g.frames["valid"] > 2, g.frames
    g.check_frame_headers()
    got = peer.received()
    g.close()
    return got


def test_nflog_real_packets_through_rx_ring():
    """nft `log group 5`, nlbufsiz 2048 <= frame payload so the log messages can be
    built in ring frames (R8.1); every packet logged once, and still delivered."""
    assert in_netns(_nflog, 12) == 12
