"""Pattern: the model's way of saying "any bytes here" (D6)."""

from model import Pattern


def test_D6_pattern_matches_only_known_bytes_and_length():
    p = Pattern(b"ab\0\0ef", ((2, 4),))
    assert p.matches(b"abXYef") and p.matches(b"ab\0\0ef")
    assert not p.matches(b"aXXXef") and not p.matches(b"abXYe") and not p.known
    assert Pattern(b"xy").known and Pattern(b"xy").matches(b"xy")
    assert bytes(p) == b"ab\0\0ef"
