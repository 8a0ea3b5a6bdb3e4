"""The kernel end of a user socket's requests: netlink_rcv_skb, the generic netlink
dispatch to the NLMMAP_TEST dump, and ACK/error replies.

Seed patch: "netlink: implement memory mapped recvmsg()" converted netlink_ack to
netlink_alloc_skb (R7.6), so an ACK is a ring allocation for the requester. A dump
request starts a dump (R7.3). Requests the model cannot answer raise NotModelled.
"""

from __future__ import annotations

import errno

from . import dump
from .outcome import NotModelled
from .rx import alloc_skb, getsock, unicast
from .sock import Sock
from .uapi import (
    DRV_A_COUNT,
    DRV_A_SIZE,
    DRV_CMD_DUMP,
    GENL_HDRLEN,
    NETLINK_GENERIC,
    NLM_F_ACK,
    NLM_F_CAPPED,
    NLM_F_DUMP,
    NLM_F_ECHO,
    NLM_F_REQUEST,
    NLMSG_ERROR,
    NLMSG_HDR,
    NLMSG_MIN_TYPE,
    align4,
    nlmsg,
    parse_u32_attrs,
)


def rcv_skb(w, sk: Sock, data: bytes, privileged: bool) -> None:
    """netlink_rcv_skb: walk the messages of one skb; ACK when asked or on error."""
    off = 0
    while len(data) - off >= 16:
        ln, mtype, flags, seq, _pid = NLMSG_HDR.unpack_from(data, off)
        if ln < 16 or len(data) - off < ln:
            return
        msg = data[off:off + ln]
        err = 0
        if flags & NLM_F_REQUEST and mtype >= NLMSG_MIN_TYPE:
            err = request(w, sk, msg, mtype, flags, seq, privileged)
        if err != -errno.EINTR and (flags & NLM_F_ACK or err):
            ack(w, sk, msg, seq, err)
        off += min(align4(ln), len(data) - off)


def request(w, sk: Sock, msg: bytes, mtype: int, flags: int, seq: int,
            privileged: bool) -> int:
    """genl_rcv_msg / genl_family_rcv_msg, as far as the test driver goes (a new family:
    reserved header bytes and stray flags are checked, M5)."""
    if sk.proto != NETLINK_GENERIC or mtype == 0x10:
        raise NotModelled(f"request type {mtype:#x} of protocol {sk.proto}")
    w.apply("M5")
    if mtype != w.drv_family:
        return -errno.ENOENT
    if len(msg) < 16 + GENL_HDRLEN:
        return -errno.EINVAL
    cmd = msg[16]
    is_dump = flags & NLM_F_DUMP == NLM_F_DUMP
    loose = flags & ~NLM_F_DUMP if is_dump else flags
    if msg[18:20] != b"\0\0" or loose & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO):
        return -errno.EINVAL                            # genl_header_check (new family)
    if cmd != DRV_CMD_DUMP:
        if is_dump or cmd not in (1, 2, 3, 4):
            return -errno.EOPNOTSUPP
        raise NotModelled("driver commands from ring sockets; use drv_*")
    if not is_dump:
        return -errno.EOPNOTSUPP
    if not privileged:                                  # GENL_ADMIN_PERM
        return -errno.EPERM
    attrs = parse_u32_attrs(msg[16 + GENL_HDRLEN:])
    if DRV_A_COUNT not in attrs or DRV_A_SIZE not in attrs:
        return -errno.EINVAL
    return dump.start(w, sk, seq, attrs[DRV_A_COUNT], attrs[DRV_A_SIZE])


def ack(w, sk: Sock, msg: bytes, seq: int, err: int) -> None:
    """netlink_ack: allocated for the requester's ring; NULL sets sk_err."""
    w.apply("R7.6", "M7")
    full = err and not sk.cap_ack
    body = err.to_bytes(4, "little", signed=True) + (msg if full else msg[:16])
    body += b"\0" * (align4(len(body)) - len(body))   # nlmsg_append pads, nlmsg_end counts it
    flags = 0 if full else NLM_F_CAPPED
    data = nlmsg(NLMSG_ERROR, flags, seq, sk.portid, body)
    skb = alloc_skb(w, sk.table, 0, sk.portid, len(data))
    if skb is None:
        target, _ = getsock(w, sk.table, 0, sk.portid)
        if target is not None:
            target.sk_err = errno.ENOBUFS
        return
    skb.data = data
    unicast(w, sk.table, 0, skb, sk.portid, True, True)
