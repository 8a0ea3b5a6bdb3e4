"""UAPI constants and struct layouts (R1.1-R1.6) plus netlink message builders.

Seed patch: "netlink: mmaped netlink: ring setup" (include/uapi/linux/netlink.h).
Message builders here produce the exact bytes the kernel side writes (dump messages,
NLMSG_DONE, ACKs, test-driver messages) so ring payloads can be predicted byte for byte.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

# R1.1 / R1.2: option level and numbers.
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
NETLINK_NO_ENOBUFS = 5
NETLINK_RX_RING = 6
NETLINK_TX_RING = 7
NETLINK_CAP_ACK = 10

# Protocols the model knows; only these have a kernel socket that answers (R5.2, R7.6).
NETLINK_ROUTE = 0
NETLINK_USERSOCK = 2
NETLINK_NETFILTER = 12
NETLINK_GENERIC = 16
KERNEL_PROTOCOLS = frozenset({NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_GENERIC})

# R1.5: frame status values.
UNUSED, RESERVED, VALID, COPY, SKIP = range(5)

# R1.3 / R1.4 / R1.6: struct layouts.
NL_MMAP_REQ = struct.Struct("=IIII")
NL_MMAP_HDR = struct.Struct("=IIIIII")
NL_MMAP_MSG_ALIGNMENT = 4
NL_MMAP_HDRLEN = 24
assert NL_MMAP_REQ.size == 16 and NL_MMAP_HDR.size == NL_MMAP_HDRLEN

# netlink message constants
NLMSG_HDR = struct.Struct("=IHHII")
NLMSG_HDRLEN = 16
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
NLMSG_MIN_TYPE = 0x10
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x2, 0x4, 0x8
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100
GENL_HDRLEN = 4

# poll bits (asm-generic/poll.h)
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP = 0x1, 0x2, 0x4, 0x8, 0x10
POLLRDNORM, POLLWRNORM, POLLWRBAND = 0x40, 0x100, 0x200

# NLMMAP_TEST driver (patches/INTERFACES.md)
DRV_CMD_DUMP = 5
DRV_A_SIZE, DRV_A_COUNT = 2, 5
HELD_TYPE, DUMP_TYPE, PLAIN_FILL = 0x7FF0, 0x7FF1, 0xA5


def align4(n: int) -> int:
    """NL_MMAP_MSG_ALIGN / NLMSG_ALIGN (R1.6)."""
    return (n + 3) & ~3


class RingReq(NamedTuple):
    """struct nl_mmap_req (R1.3)."""

    block_size: int
    block_nr: int
    frame_size: int
    frame_nr: int

    def pack(self) -> bytes:
        return NL_MMAP_REQ.pack(*(v & 0xFFFFFFFF for v in self))


class FrameHdr(NamedTuple):
    """struct nl_mmap_hdr (R1.4)."""

    status: int
    len: int
    group: int
    pid: int
    uid: int
    gid: int


def nlmsg(mtype: int, flags: int, seq: int, pid: int, payload: bytes = b"") -> bytes:
    """One netlink message, padded to NLMSG_ALIGN (what nlmsg_put leaves in an skb)."""
    ln = NLMSG_HDRLEN + len(payload)
    return NLMSG_HDR.pack(ln, mtype, flags, seq & 0xFFFFFFFF, pid & 0xFFFFFFFF) + payload \
        + b"\0" * (align4(ln) - ln)


def nla_u32(atype: int, v: int) -> bytes:
    return struct.pack("=HHI", 8, atype, v & 0xFFFFFFFF)


def dump_request(family: int, seq: int, count: int, size: int) -> bytes:
    """The NLMMAP_TEST DUMP request a user socket sends to the kernel."""
    body = bytes([DRV_CMD_DUMP, 1, 0, 0]) + nla_u32(DRV_A_COUNT, count) \
        + nla_u32(DRV_A_SIZE, size)
    return nlmsg(family, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, body)


def parse_u32_attrs(data: bytes) -> dict[int, int]:
    """u32 attributes of a genl request body (after the 4-byte genl header)."""
    out, off = {}, 0
    while off + 4 <= len(data):
        ln, atype = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        if ln >= 8 and off + 8 <= len(data):
            out[atype & 0x3FFF] = struct.unpack_from("=I", data, off + 4)[0]
        off += align4(ln)
    return out
