"""Telling text in another encoding, or text with a stray NUL, from binary data."""

from __future__ import annotations

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def wide_encoding(data: bytes) -> str | None:
    """``utf-32``/``utf-16`` when ``data`` starts with their byte order mark, or looks like
    ASCII text in UTF-16 without one (every other byte NUL); else None."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if data[:2] in _UTF16_BOMS:
        return "utf-16"
    head = data[:512]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) >= len(odd) * 0.9 and not even.count(0):
            return "utf-16-le"
        if even.count(0) >= len(even) * 0.9 and not odd.count(0):
            return "utf-16-be"
    return None


def text_with_nul(data: bytes, first: int) -> bool:
    """A text file with a stray NUL (a bad paste, a truncated write), not binary data:
    the NUL is rare and the start of the file is printable text."""
    sample = data[:8192]
    if sample.count(b"\x00") > 4 or first < 16:
        return False
    head = sample[:first]
    return sum(1 for b in head if b < 32 and b not in b"\t\n\r") == 0
