"""R1.x: constants and layouts."""

from model import uapi


def test_R1_1_R1_2_option_level_and_numbers():
    assert uapi.SOL_NETLINK == 270
    assert (uapi.NETLINK_RX_RING, uapi.NETLINK_TX_RING) == (6, 7)
    assert uapi.NETLINK_NO_ENOBUFS == 5


def test_R1_3_nl_mmap_req_is_16_bytes_in_field_order():
    b = uapi.RingReq(1, 2, 3, 4).pack()
    assert len(b) == 16 and b == bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0])


def test_R1_4_nl_mmap_hdr_is_24_bytes_six_u32():
    b = uapi.NL_MMAP_HDR.pack(1, 2, 3, 4, 5, 6)
    assert len(b) == 24 and uapi.FrameHdr(*uapi.NL_MMAP_HDR.unpack(b)).gid == 6


def test_R1_5_status_values():
    assert (uapi.UNUSED, uapi.RESERVED, uapi.VALID, uapi.COPY, uapi.SKIP) == (0, 1, 2, 3, 4)


def test_R1_6_alignment_and_header_length():
    assert uapi.NL_MMAP_HDRLEN == 24
    assert [uapi.align4(n) for n in (0, 1, 4, 5, 23)] == [0, 4, 4, 8, 24]
