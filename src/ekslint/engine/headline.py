"""A finding's headline and detail: the short line a person reads first (what is
wrong and where, at most ``HEADLINE_MAX`` characters), then why it matters and what to
change.

A rule either says both (``Violation(span, headline, detail=...)``) or writes one
message, as rules written before the split do; the headline is then derived from the
message: the whole message when it is short, else its first sentence, else its first
clause (up to ``;``, ``:`` or ``,``), else the message cut at a word boundary with
"…". Text between backticks is never cut. Whatever a headline leaves out is in the
detail, so headline and detail together always say everything the rule said.
"""

from __future__ import annotations

from collections.abc import Iterable

HEADLINE_MAX = 120
ELLIPSIS = "…"
# A headline derived from a clause is at least this long ("PodDisruptionBudget a: ..."
# would otherwise give "PodDisruptionBudget a").
_MIN_CLAUSE = 30
_SENTENCE_ENDS = ".!?"
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _outside_backticks(text: str) -> list[bool]:
    """For each position, whether it is outside a backtick-quoted span."""
    outside, inside = [], False
    for char in text:
        if char == "`":
            inside = not inside
            outside.append(False)
        else:
            outside.append(not inside)
    return outside


def shorten(text: str, width: int = HEADLINE_MAX) -> str:
    """``text`` on one line, at most ``width`` characters: cut at a word boundary
    outside backticks and ended with "…" when it is longer."""
    text = _one_line(text)
    if len(text) <= width:
        return text
    if width < 2:
        return ELLIPSIS[:width]
    room = width - len(ELLIPSIS)
    outside = _outside_backticks(text)
    cut = -1
    # The last space that fits, outside backticks, not too early in the text.
    for i in range(min(room, len(text) - 1), room // 3, -1):
        if text[i] == " " and outside[i]:
            cut = i
            break
    if cut < 0:
        # One long word: cut inside it, but before any backtick span it opens.
        cut = room
        if text.count("`", 0, cut) % 2 == 1:
            opening = text.rfind("`", 0, cut)
            if opening <= 0:  # the whole start is quoted: drop the quotes rather than leave one open
                return text[:room].replace("`", "") + ELLIPSIS
            cut = opening
    return text[:cut].rstrip(" ,;:-—(") + ELLIPSIS


def listed(items: Iterable[str], shown: int = 3, conjunction: str = "and") -> str:
    """``a, b and c``; past ``shown`` items: ``a, b, c and 4 more``."""
    values = list(items)
    if len(values) > shown:
        return f"{', '.join(values[:shown])} {conjunction} {len(values) - shown} more"
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {conjunction} {values[-1]}"


def _boundaries(text: str) -> list[tuple[int, int, int]]:
    """(end of the part before, start of the part after, rank) of each sentence end
    (rank 0), ``;``/``:``/`` — `` (1) and ``,`` (2) outside backticks and brackets."""
    found = []
    outside = _outside_backticks(text)
    depth = 0
    for i, char in enumerate(text[:-1]):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        if not outside[i] or depth or text[i + 1] != " ":
            continue
        if char in _SENTENCE_ENDS:
            if char == "." and text[: i + 1].endswith(_ABBREVIATIONS):
                continue
            found.append((i + 1, i + 2, 0))
        elif char in ";:":
            found.append((i, i + 2, 1))
        elif char == ",":
            found.append((i, i + 2, 2))
        elif char == "—" and i > 0 and text[i - 1] == " ":
            found.append((i - 1, i + 2, 1))
    return found


def derive(message: str) -> tuple[str, str]:
    """The headline and the detail of a message written as one string."""
    text = _one_line(message)
    if len(text) <= HEADLINE_MAX:
        return text, ""
    boundaries = _boundaries(text)
    for rank in (0, 1, 2):
        for end, start, kind in boundaries:
            if kind != rank or end > HEADLINE_MAX:
                continue
            if rank and end < _MIN_CLAUSE:
                continue
            headline = text[:end].rstrip()
            if rank == 0 and headline.endswith("."):
                headline = headline[:-1]
            return headline, text[start:].strip()
    return shorten(text), text


def split(message: str, detail: str = "") -> tuple[str, str, str]:
    """(headline, detail, full message) of what a rule said: ``message`` alone (the
    headline is derived) or a headline and its detail. The full message is what
    reports without a headline field show (JSON ``message``, SARIF): the headline as
    its first sentence, then the detail."""
    if not detail.strip():
        headline, rest = derive(message)
        return headline, rest, message
    headline = _one_line(message)
    detail = detail.strip()
    full = join(headline, detail)
    if len(headline) > HEADLINE_MAX:
        return shorten(headline), full, full
    return headline, detail, full


def join(headline: str, detail: str) -> str:
    """The headline as a sentence, then the detail."""
    if not detail:
        return headline
    if headline.endswith((*_SENTENCE_ENDS, ELLIPSIS, ":")):
        return f"{headline} {detail}"
    return f"{headline}. {detail}"
