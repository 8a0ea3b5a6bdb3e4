"""The two copies of the UAPI agree.

The kernel client (conformance/uapi.py, ring.py, genl.py) spells out the UAPI numbers and
layouts a second time instead of importing the model's (model/uapi.py): a wrong constant
in the oracle must not silently become the client's too, or the client would talk to the
kernel in the model's mistake and lockstep could not see it. Two copies stay honest only
if they are compared, which is this file's job (host-only: it needs no kernel)."""

from __future__ import annotations

import struct
from dataclasses import fields

import model.uapi as M
from conformance import genl, ring
from conformance import uapi as C

# the same meaning under another name in the kernel client
RENAMED = {
    "UNUSED": (C, "NL_MMAP_STATUS_UNUSED"), "RESERVED": (C, "NL_MMAP_STATUS_RESERVED"),
    "VALID": (C, "NL_MMAP_STATUS_VALID"), "COPY": (C, "NL_MMAP_STATUS_COPY"),
    "SKIP": (C, "NL_MMAP_STATUS_SKIP"),
    "DRV_CMD_DUMP": (genl, "CMD_DUMP"), "DRV_A_SIZE": (genl, "A_SIZE"),
    "DRV_A_COUNT": (genl, "A_COUNT"), "HELD_TYPE": (genl, "HELD_TYPE"),
    "DUMP_TYPE": (genl, "DUMP_TYPE"), "PLAIN_FILL": (genl, "PLAIN_FILL"),
}


def _constants(mod) -> dict[str, object]:
    return {k: (v.format if isinstance(v, struct.Struct) else v) for k, v in vars(mod).items()
            if k.isupper() and isinstance(v, int | struct.Struct)}


def test_r1_1_to_r1_6_constants_and_layouts_agree():
    """Every number and struct layout both copies define by the same name (R1.1-R1.6,
    protocols, netlink message header and flags, poll bits) is equal."""
    m, c = _constants(M), _constants(C)
    shared = sorted(set(m) & set(c))
    assert len(shared) >= 25, shared  # the comparison covers the UAPI, not a handful
    assert {k: m[k] for k in shared} == {k: c[k] for k in shared}


def test_renamed_constants_agree():
    """Frame status values (R1.5) and the test driver's numbers (patches/INTERFACES.md)."""
    assert {k: getattr(M, k) for k in RENAMED} == \
        {k: getattr(mod, name) for k, (mod, name) in RENAMED.items()}


def test_r1_3_r1_4_structs_have_the_same_fields_and_bytes():
    assert M.RingReq._fields == tuple(f.name for f in fields(C.RingReq))
    assert M.FrameHdr._fields == tuple(f.name for f in fields(ring.FrameHdr))
    for req in [(4096, 4, 4096, 4), (2**31, 1, 24, 0), (-1, 0, 0, 7)]:
        assert M.RingReq(*req).pack() == C.RingReq(*req).pack(), req


def test_netlink_messages_are_built_alike():
    for mtype, flags, seq, payload in [(M.NLMSG_NOOP, M.NLM_F_REQUEST | M.NLM_F_ACK, 7, b""),
                                       (0x10, M.NLM_F_DUMP, 2**31, b"abcde")]:
        assert M.nlmsg(mtype, flags, seq, 42, payload) == \
            C.nlmsg(mtype, flags, seq, payload, pid=42)
