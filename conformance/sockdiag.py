"""Client of netlink_diag (NETLINK_SOCK_DIAG) for the ring configuration (R1.8).

The layouts are written out here from ``include/uapi/linux/netlink_diag.h`` rather
than taken from the model, so a wrong constant on one side cannot hide on both.
"""

from __future__ import annotations

import struct

from .genl import parse_nla
from .uapi import (
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RingReq,
    nlmsg,
    nlmsgerr_code,
    open_netlink,
    parse_nlmsgs,
)

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
AF_NETLINK = 16
NETLINK_DIAG_REQ = struct.Struct("=BBHIIII")  # family protocol pad ino show cookie[2]
NETLINK_DIAG_MSG = struct.Struct("=BBBBIIIIII")  # family type proto state portid
#                                              dst_portid dst_group ino cookie[2]
NETLINK_DIAG_RING = struct.Struct("=IIII")  # block_size block_nr frame_size frame_nr
NETLINK_DIAG_RX_RING = 2
NETLINK_DIAG_TX_RING = 3
NDIAG_SHOW_RING_CFG = 0x4


def ring_cfg(proto: int, portid: int) -> tuple[RingReq | None, RingReq | None]:
    """Dump the ``proto`` sockets of this netns with NDIAG_SHOW_RING_CFG and return the
    (RX, TX) ring attributes of the one bound to ``portid`` (None where absent)."""
    diag = open_netlink(NETLINK_SOCK_DIAG)
    try:
        req = NETLINK_DIAG_REQ.pack(AF_NETLINK, proto, 0, 0, NDIAG_SHOW_RING_CFG, 0, 0)
        diag.send(nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, req))
        found = None
        while True:
            for _len, mtype, _flags, _seq, _pid, payload in parse_nlmsgs(diag.recv(65536)):
                if mtype == NLMSG_DONE:
                    if found is None:
                        raise LookupError(f"netlink_diag: no protocol {proto} socket "
                                          f"with portid {portid}")
                    return found
                if mtype == NLMSG_ERROR:
                    raise OSError(-nlmsgerr_code(payload), "netlink_diag dump failed")
                if mtype != SOCK_DIAG_BY_FAMILY:
                    continue
                fields = NETLINK_DIAG_MSG.unpack_from(payload)
                if fields[4] != portid:
                    continue
                attrs = parse_nla(payload[NETLINK_DIAG_MSG.size:])
                found = tuple(
                    RingReq(*NETLINK_DIAG_RING.unpack(attrs[a][:NETLINK_DIAG_RING.size]))
                    if a in attrs else None
                    for a in (NETLINK_DIAG_RX_RING, NETLINK_DIAG_TX_RING))
    finally:
        diag.close()

