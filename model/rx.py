"""RX path: allocation-time lookup and frame reservation, delivery, COPY, drop, release,
unicast/broadcast to user sockets, and recvmsg.

Seed patch: "netlink: implement memory mapped recvmsg()" (R4.1-R4.16), with port
decision D6 (frame reserved at allocation, bytes copied at delivery).
"""

from __future__ import annotations

import errno

from .outcome import Blocked
from .sock import Skb, Sock, overrun, rcv_wake
from .uapi import COPY, KERNEL_PROTOCOLS, RESERVED, SKIP, UNUSED, VALID

# why an allocation returns a plain skb (the tracepoint's reason) -> the case of R4.3
FALLBACK = {"no_socket": "R4.3b", "connected": "R4.3b", "no_ring": "R4.3c",
            "too_big": "R4.3d"}


def getsock(w, table: tuple, ssk_portid: int, dst_portid: int) -> tuple[Sock | None, str]:
    """R4.2 netlink_getsockbyportid: bound socket of the same netns and protocol
    (``table``), and the connected-peer check."""
    sk = w.ports.get((table, dst_portid))
    if sk is None:
        return None, "no_socket"
    if sk.connected and sk.dst_portid != ssk_portid:
        return None, "connected"
    return sk, ""


def alloc_skb(w, table: tuple, ssk_portid: int, dst_portid: int, size: int,
              ldiff: int = 0) -> Skb | None:
    """netlink_alloc_skb (R4.3, R4.4; D6). Returns a ring skb (frame RESERVED), a plain
    skb (fallback), or None (ring full: overrun on the destination). ``ldiff``: bytes
    that must fit as well (R8.4)."""
    sk, reason = getsock(w, table, ssk_portid, dst_portid)
    w.apply("R4.2")
    ring = sk.rx if sk is not None else None
    if sk is not None and ring is None:
        reason = "no_ring"
    elif ring is not None and size + ldiff > ring.payload_max:
        reason = "too_big"
        if ldiff:
            w.apply("R8.4", "R9.11")
    if reason:
        w.apply(FALLBACK[reason])
        w.emit("rx", dst_portid, "fallback", reason, -1, size)
        return Skb(w.new_msg(), size)
    if ring.forward():
        w.apply("R4.12", "D19")
    i = ring.head
    w.apply("R4.4")
    if ring.status(i) != UNUSED:
        w.emit("rx", sk.portid, "drop", "ring_full", i, size)
        overrun(w, sk)
        w.fate(w.new_msg(), "dropped:overrun")
        return None
    w.apply("D6", "R4.5", "R4.11")    # RESERVED from now, written at delivery (in order)
    ring.set_status(i, RESERVED)
    ring.mark_unspec(i)
    ring.pending += 1
    ring.advance()
    w.emit("rx", sk.portid, "ring", "fits", i, size)
    return Skb(w.new_msg(), size, ring=ring, frame=i, owner=sk)


def free_skb(w, skb: Skb, fate: str) -> None:
    """Free without delivery: a ring skb leaves an empty VALID frame (R4.15, R7.7)."""
    if skb.ring is not None:
        release(w, skb)
        fate = "dropped:released"
    w.fate(skb.mid, fate)


def release(w, skb: Skb) -> None:
    """The ring skb destructor when its frame was not written (R4.15, R7.7): the frame
    reserved at allocation becomes VALID with nm_len 0 (also when the skb's bytes went
    to another socket as a COPY message, R4.8)."""
    w.apply("R4.15", "R7.7")
    ring = skb.ring
    ring.set_len(skb.frame, 0)
    ring.set_status(skb.frame, VALID)
    ring.pending -= 1
    w.emit("rx", skb.owner.portid, "release", "undelivered", skb.frame, 0)


def sendskb(w, sk: Sock, skb: Skb) -> int:
    """__netlink_sendskb: ring skb delivered to its allocation-time socket → VALID in
    the frame reserved for it (R4.7); anything else to a ring socket → COPY or drop
    (R4.9); otherwise queue. R4.8 as the port decides it (D5; D6 `netlink_skb_for_ring`):
    a ring skb delivered to a *different* socket (its owner was released and another
    socket took the portid) is handled like a plain skb there, and its own frame stays
    RESERVED until the skb is freed (then empty VALID, ``release``). Returns the length
    (even for a COPY drop)."""
    n = len(skb.data)
    if skb.ring is not None and skb.owner is sk:
        w.apply("R4.7", "D6")                               # the copy at delivery
        ring, i = skb.ring, skb.frame
        base = ring.offset(i)
        ring.store(base + 24, skb.data)
        ring.fill_hdr(i, n, skb.dst_group, skb.creds)
        ring.set_status(i, VALID)
        ring.pending -= 1
        w.emit("rx", sk.portid, "deliver", "delivered", i, n)
        w.fate(skb.mid, "ring")
        return n
    if skb.ring is not None:
        w.apply("R4.8")                 # another socket's ring skb: handled as plain here
    ring = sk.rx
    if ring is not None:
        w.apply("R4.9")
        i = ring.head
        if ring.status(i) != UNUSED:                        # no forwarding
            if ring.status(i) == SKIP:
                w.apply("R4.12")                            # a SKIP head blocks COPY
            w.emit("rx", sk.portid, "drop", "ring_full", i, n)
            if skb.ring is not None:
                release(w, skb)                             # kfree_skb: destructor
            overrun(w, sk)
            w.fate(skb.mid, "dropped:overrun")
            return n
        ring.advance()
        queue(w, sk, skb)
        ring.fill_hdr(i, n, skb.dst_group, skb.creds)
        ring.set_status(i, COPY)
        w.emit("rx", sk.portid, "copy", "unconverted", i, n)
        return n
    queue(w, sk, skb)
    return n


def queue(w, sk: Sock, skb: Skb) -> None:
    ts = w.truesize(skb.size)
    sk.queue.append((skb, ts))
    sk.rmem += ts
    w.fate(skb.mid, "queue")


def unicast(w, table: tuple, ssk_portid: int, skb: Skb, dst_portid: int, dontwait: bool,
            from_kernel: bool, kernel_rcv=None) -> int:
    """netlink_unicast to a user socket (or to the kernel via ``kernel_rcv``).
    Returns the length or a negative errno."""
    kernel = dst_portid == 0 and table[1] in KERNEL_PROTOCOLS
    if kernel and kernel_rcv is not None:
        w.fate(skb.mid, "consumed")
        kernel_rcv(skb.data)
        return len(skb.data)
    sk, _ = getsock(w, table, ssk_portid, dst_portid)
    if sk is None or kernel:
        free_skb(w, skb, "dropped:refused")
        return -errno.ECONNREFUSED
    if filtered(w, sk, skb):
        return len(skb.data)
    refused = not admit(w, sk, skb.size)
    if refused and skb.ring is not None:
        w.apply("R4.6")                                   # ring skbs skip the test
    elif refused:
        w.apply("R4.13", *(("D21",) if sk.rx is not None else ()))
        if not (dontwait or from_kernel):
            raise Blocked("sender would sleep on a congested receiver (R4.13)")
        if from_kernel:
            overrun(w, sk)
            w.fate(skb.mid, "dropped:overrun")
        else:
            w.fate(skb.mid, "dropped:eagain")
        return -errno.EAGAIN
    return sendskb(w, sk, skb)


def filtered(w, sk: Sock, skb: Skb) -> bool:
    """sk_filter before delivery: a rejected skb is freed (ring skb → empty VALID,
    R4.15); the sender is not told (netlink_unicast returns the length)."""
    if sk.reject_all:
        free_skb(w, skb, "dropped:filtered")
    return sk.reject_all


def admit(w, sk: Sock, size: int) -> bool:
    """Receive-buffer admission of a plain skb (R4.10, R4.13) as in 6.12.y after
    "netlink: Fix wraparounds of sk->sk_rmem_alloc": an empty queue always admits one,
    otherwise the charged total must stay within rcvbuf; never while CONGESTED."""
    rmem = sk.rmem + w.truesize(size)
    return (sk.rmem == 0 or rmem <= sk.rcvbuf) and not sk.congested


def broadcast(w, table: tuple, skb: Skb, exclude_portid: int, group: int) -> None:
    """netlink_broadcast (R4.10): every subscriber gets a plain copy (COPY on ring
    sockets), most recently subscribed socket first, subject to the rcvbuf/CONGESTED
    admission test."""
    w.apply("R4.10")
    for sk in reversed(w.mc_list.get(table, ())):
        if sk.portid == exclude_portid or group not in sk.groups:
            continue
        clone = Skb(w.new_msg(), skb.size, skb.data, dst_group=group, creds=skb.creds)
        if filtered(w, sk, clone):
            continue
        if admit(w, sk, clone.size):
            sendskb(w, sk, clone)
        else:
            overrun(w, sk)
            w.fate(clone.mid, "dropped:overrun")


def recvmsg(w, sk: Sock, bufsize: int, dontwait: bool, continue_dump) -> tuple[bytes, int]:
    """netlink_recvmsg (R4.14, R4.13, R7.3): returns (bytes, -errno or 0). Only the
    receive queue is read; ring frames are never touched."""
    if sk.rx is not None:
        w.apply("R4.14")
    try:
        if sk.sk_err:                                       # sock_error() comes first
            w.apply("R4.13")
            e, sk.sk_err = sk.sk_err, 0
            return b"", -e
        if not sk.queue:
            if not dontwait:
                raise Blocked("recvmsg on an empty receive queue")
            return b"", -errno.EAGAIN
        skb, ts = sk.queue.popleft()
        sk.rmem -= ts
        if skb.ring is not None:                            # another socket's frame
            w.apply("R4.8")
            release(w, skb)
        w.fate(skb.mid, "received")
        if w.dump_autosize:
            sk.max_recvmsg_len = min(max(sk.max_recvmsg_len, bufsize), 32768 - w.skb_overhead)
        if sk.dump is not None and sk.rmem <= sk.rcvbuf // 2:
            w.apply("R7.3")
            r = continue_dump(sk)
            if r:
                w.apply("D3", "R9.3")                       # a positive errno
                sk.sk_err = -r
        return skb.data[:bufsize], 0
    finally:
        rcv_wake(sk)


def purge(w, sk: Sock) -> None:
    """R2.8 / R2.10: drop everything queued for recvmsg, without raising sk_err."""
    while sk.queue:
        skb, ts = sk.queue.popleft()
        sk.rmem -= ts
        if skb.ring is not None:                            # another socket's frame
            w.apply("R4.8")
            release(w, skb)
        w.fate(skb.mid, "dropped:purged")
