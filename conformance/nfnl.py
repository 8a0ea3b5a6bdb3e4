"""Minimal nfnetlink_queue / nfnetlink_log clients over a (optionally ring-mapped)
NETLINK_NETFILTER socket."""

from __future__ import annotations

import socket
import struct

from .genl import nla, parse_nla
from .uapi import NLM_F_ACK, NLM_F_REQUEST, nlmsg

NFNL_SUBSYS_QUEUE = 3
NFNL_SUBSYS_ULOG = 4
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NFULNL_MSG_PACKET = 0
NFULNL_MSG_CONFIG = 1
NFULA_PAYLOAD = 9
NFULA_CFG_CMD = 1
NFULA_CFG_MODE = 2
NFULA_CFG_NLBUFSIZ = 3
NFULA_CFG_QTHRESH = 5
NFULNL_CFG_CMD_BIND = 1
NFULNL_COPY_PACKET = 2
NF_DROP = 0
NF_ACCEPT = 1


def nfgen(family: int, res_id: int) -> bytes:
    return struct.pack("=BBH", family, 0, socket.htons(res_id))


def queue_config(queue: int, copy_range: int, seq: int) -> list[bytes]:
    t = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG
    bind = nlmsg(t, NLM_F_REQUEST | NLM_F_ACK, seq, nfgen(0, queue) + nla(
        NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, 0)))
    params = nlmsg(t, NLM_F_REQUEST | NLM_F_ACK, seq + 1, nfgen(0, queue) + nla(
        NFQA_CFG_PARAMS, struct.pack(">IB", copy_range, NFQNL_COPY_PACKET)))
    return [bind, params]


def verdict(queue: int, packet_id: int, v: int, seq: int) -> bytes:
    t = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT
    return nlmsg(t, NLM_F_REQUEST, seq, nfgen(0, queue) + nla(
        NFQA_VERDICT_HDR, struct.pack(">II", v, packet_id)))


def parse_queue_packet(msg: tuple) -> tuple[int, bytes]:
    """(packet id, payload) of an NFQNL_MSG_PACKET (a parse_nlmsgs tuple)."""
    _ln, t, _f, _seq, _pid, pl = msg
    assert t == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET, f"not a queue packet: {t:#x}"
    attrs = parse_nla(pl[4:])
    pid = struct.unpack(">I", attrs[NFQA_PACKET_HDR][:4])[0]
    return pid, attrs.get(NFQA_PAYLOAD, b"")


def log_config(group: int, copy_range: int, nlbufsiz: int, seq: int) -> list[bytes]:
    t = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG
    body = nfgen(0, group)
    return [
        nlmsg(t, NLM_F_REQUEST | NLM_F_ACK, seq, body + nla(
            NFULA_CFG_CMD, struct.pack("=B", NFULNL_CFG_CMD_BIND))),
        nlmsg(t, NLM_F_REQUEST | NLM_F_ACK, seq + 1, body
              + nla(NFULA_CFG_MODE, struct.pack(">IBB", copy_range, NFULNL_COPY_PACKET, 0))
              + nla(NFULA_CFG_NLBUFSIZ, struct.pack(">I", nlbufsiz))
              + nla(NFULA_CFG_QTHRESH, struct.pack(">I", 1))),
    ]


def parse_log_packet(msg: tuple) -> bytes:
    _ln, t, _f, _seq, _pid, pl = msg
    assert t == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET, f"not a log packet: {t:#x}"
    return parse_nla(pl[4:]).get(NFULA_PAYLOAD, b"")
