"""Control characters from file names and YAML values, made visible before they reach a
report or a terminal.

A finding quotes what a pull request wrote: a file name with a newline would start a
new line in a GitHub Actions log (``::error``, ``::stop-commands``, ``::add-mask``), an
ESC would drive the terminal of whoever reads the text report, and both make JUnit XML
invalid. Every report format and every stderr line goes through these helpers.
"""

from __future__ import annotations

# C0 controls but TAB, DEL and C1 controls (0x9b is a CSI on some terminals), the Unicode
# line and paragraph separators, and the bidirectional overrides and isolates that
# reorder what a reader sees ("Trojan Source").
_UNSAFE = [*range(0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
_VISIBLE = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _UNSAFE}
# In JSON, the same characters as JSON escapes: an equivalent document (they only
# occur inside strings; json.dumps escapes C0 itself, but not DEL, C1 or U+2028).
_JSON = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x7F}
# XML 1.0 allows TAB, LF and CR among the C0 controls, and not U+FFFE/U+FFFF.
_XML = {**_VISIBLE, 0xFFFE: "\\ufffe", 0xFFFF: "\\uffff"}


def visible(text: str) -> str:
    """``text`` on one line, with each unsafe character written as ``\\xNN``/``\\uNNNN``."""
    return text.translate(_VISIBLE)


def visible_lines(text: str) -> str:
    """``text`` with its line breaks kept and everything else unsafe made visible (a
    multi-line message that ekslint wrote around values it quotes)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def json_text(document: str) -> str:
    """A JSON document (from json.dumps) with DEL, C1 and the other unsafe characters
    that json.dumps leaves raw written as ``\\uNNNN`` escapes: the same JSON value."""
    return document.translate(_JSON)


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold (and the unsafe ones) made
    visible; lone surrogates too."""
    escaped = text.translate(_XML)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in escaped):
        escaped = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in escaped)
    return escaped
