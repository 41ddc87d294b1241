"""EC2 userdata containers: MIME multipart, base64 and gzip, with positions.

Python's ``email`` package tolerates what nodeadm (Go ``mime/multipart``) refuses and
keeps no positions, so this is a small line-based reader that follows RFC 2046 the way
nodeadm and cloud-init read userdata (DOMAIN.md §2.3): headers are ``Name: value``
lines up to a blank line; parts are separated by ``--boundary`` lines and end at
``--boundary--``; each part may itself be base64 and/or gzip. Structural problems are
reported with the line they concern and never stop the reading of the other parts.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import zlib
from dataclasses import dataclass, field

from ekslint.parse.text import Problem, Span, Text, normalize_newlines

GZIP_MAGIC = b"\x1f\x8b"
_HEADER = re.compile(r"([!-9;-~]+):[ \t]*(.*)")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]+")
_PARAM = re.compile(r';\s*([!#-\'*+.0-9A-Z^-~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]+)')


class DecodeError(Exception):
    repeated = False  # the same total was already reported for this file: say it once


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    max_decompressed_bytes: int = 8 * 1024 * 1024  # per gzip stream, and per file in total
    max_parts: int = 1_000
    max_decompressed_total: int = 256 * 1024 * 1024  # per run, in each process


# What gzip has produced: for the file being read (every layer and part together) and
# for the run in this process (each worker counts its own). ``begin_file`` starts a
# file; gunzip charges both, and refuses a stream that would pass either bound.
_inflated = {"file": 0, "run": 0, "refused": 0}
_bounds = {"file": 0, "run": 0}


def begin_run() -> None:
    """Start this process's count of inflated bytes for a run (engine.analysis's
    FileAnalyser, made once per run in each process, calls it)."""
    _inflated["run"] = 0


def refused_by_run_total() -> bool:
    """Whether the file just read was cut short by the run's total: its outcome
    depends on the other files, so it must not be cached."""
    return _inflated["refused"] == 2


def begin_file(limits: DecodeLimits) -> None:
    """Start the per-file count of inflated bytes (sources.load_bytes calls it)."""
    _inflated["file"] = _inflated["refused"] = 0
    _bounds["file"] = limits.max_decompressed_bytes
    _bounds["run"] = limits.max_decompressed_total


def _allowance(limit: int) -> tuple[int, str]:
    """How much the next gzip stream may inflate to, and which bound says so."""
    allowed, which = limit, "stream"
    for scope in ("file", "run"):
        if _bounds[scope]:
            left = max(_bounds[scope] - _inflated[scope], 0)
            if left < allowed:
                allowed, which = left, scope
    return allowed, which


@dataclass(slots=True)
class Part:
    content_type: str  # media type, lower-case, without parameters ("" when absent)
    text: Text  # the decoded body
    header_span: Span  # the part's Content-Type line (or delimiter line)
    encodings: list[str] = field(default_factory=list)  # e.g. ["base64", "gzip"]
    # No blank line ends the part's headers. ``malformed``: the line (of the userdata)
    # where Go's textproto (nodeadm) fails, 'malformed MIME header line', which stops
    # its reading of the whole userdata. ``swallowed``: body lines read as headers
    # (they look like ``Name: value``) by Go and by Python's email package
    # (cloud-init), so neither sees them. Python then starts the body at the first
    # line that is not a header, which is how cloud-init recovers such a part.
    malformed: Span | None = None
    swallowed: list[Span] = field(default_factory=list)


@dataclass(slots=True)
class Userdata:
    """What a userdata blob turned out to hold."""

    multipart: bool
    parts: list[Part]
    problems: list[Problem]
    encodings: list[str]  # outer encodings, e.g. ["base64", "gzip"]


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip data, refusing to produce more than ``limit`` bytes, or more
    than what is left of the file's and the run's totals."""
    allowed, which = _allowance(limit)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, allowed + 1)
    except zlib.error as err:
        raise DecodeError(f"invalid gzip data ({err}); re-create it with gzip") from err
    _inflated["file"] += len(out)  # what was produced costs, even when it is refused
    _inflated["run"] += len(out)
    if (len(out) > allowed or inflater.unconsumed_tail) and which in ("file", "run"):
        _total_exceeded(which)
    if len(out) > limit or inflater.unconsumed_tail:
        raise DecodeError(
            f"gzip data inflates to more than {limit:,} bytes (a decompression bomb?); EC2 userdata is at most "
            "16 KB, so check what was compressed, or raise limits.max-decompressed-size if it is genuine"
        )
    if not inflater.eof:
        # nodeadm and cloud-init fail with "unexpected EOF" on a cut stream.
        raise DecodeError("gzip data ends before the end of the stream (truncated?); re-create it with gzip")
    return out


def _total_exceeded(which: str) -> None:
    if which == "file":
        error = DecodeError(
            f"the gzip data of this file inflates to more than {_bounds['file']:,} bytes in all (its parts and "
            "layers together; a decompression bomb?); EC2 userdata is at most 16 KB, so check what was compressed, "
            "or raise limits.max-decompressed-size if it is genuine"
        )
    else:
        error = DecodeError(
            f"this run has already inflated {_bounds['run']:,} bytes of gzip data (limits.max-decompressed-total), "
            "so this was not analysed; raise the limit if the repository genuinely holds that much"
        )
    error.repeated = bool(_inflated["refused"])
    _inflated["refused"] = max(_inflated["refused"], 2 if which == "run" else 1)
    raise error


def looks_base64(text: str) -> bool:
    stripped = "".join(text.split())
    return len(stripped) >= 16 and len(stripped) % 4 == 0 and _BASE64_TEXT.fullmatch(text) is not None


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as err:
        raise DecodeError(f"invalid base64 ({err})") from err


def to_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(
            f"decoded data is not UTF-8 text (byte {err.start}); encode the original text as UTF-8"
        ) from err


def unwrap(data: bytes, where: Span, text: Text, limits: DecodeLimits) -> tuple[Text, list[str]]:
    """Decode gzip and base64 layers around ``data`` (the way nodeadm does: base64 if
    it decodes, gunzip if it starts with the gzip magic). Returns the innermost text."""
    encodings: list[str] = []
    for _ in range(4):  # a few layers at most; more is not userdata
        if data[:2] == GZIP_MAGIC:
            data = gunzip(data, limits.max_decompressed_bytes)
            encodings.append("gzip")
            continue
        try:
            candidate = data.decode("ascii")
        except UnicodeDecodeError:
            break
        if looks_base64(candidate):
            try:
                decoded = b64decode(candidate)
            except DecodeError:
                break
            if decoded[:2] == GZIP_MAGIC or _is_text(decoded):
                data = decoded
                encodings.append("base64")
                continue
        break
    if not encodings:
        return text, encodings
    return text.decoded(normalize_newlines(to_text(data)), where), encodings


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > 4090  # a character cut at the sample boundary
    return True


# -- headers ----------------------------------------------------------------------------


def _read_headers(
    lines: list[str], start: int, stop: int | None = None
) -> tuple[dict[str, tuple[str, int]], int, int | None]:
    """Headers from ``lines[start:stop]`` up to the first blank line.

    Returns ``{lower-case name: (value, line index)}``, the index of the first body
    line, and the index of the first line that is not a header (None if all are).
    """
    headers: dict[str, tuple[str, int]] = {}
    i = start
    bad: int | None = None
    last: str | None = None
    stop = len(lines) if stop is None else stop
    while i < stop:
        line = lines[i]
        if not line.strip():
            return headers, i + 1, bad
        if line[0] in " \t" and last is not None:
            value, at = headers[last]
            headers[last] = (value + " " + line.strip(), at)
        else:
            m = _HEADER.fullmatch(line.rstrip())
            if m is None:
                if bad is None:
                    bad = i
            else:
                last = m.group(1).lower()
                headers[last] = (m.group(2).strip(), i)
        i += 1
    return headers, i, bad


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    media = value.split(";", 1)[0].strip().lower()
    params: dict[str, str] = {}
    for m in _PARAM.finditer(value):
        raw = m.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[m.group(1).lower()] = raw
    return media, params


_PART_TYPE_LINE = re.compile(
    r"^content-type:\s*(application/node\.eks\.aws|text/x-shellscript|text/cloud-)", re.M | re.I
)
_DELIMITER_LINE = re.compile(r"^--\S+\s*$", re.M)


def looks_multipart(content: str) -> bool:
    """Part headers and delimiter lines: multipart userdata, even with a broken head.

    A script is not MIME: a text that starts with ``#!`` is one shell script to
    cloud-init (canonical/cloud-init ``cloudinit/user_data.py``: without a MIME header
    block it is a single part whose type its first line decides) and not a MIME
    message to nodeadm (``mail.ReadMessage`` fails on its first line); and a part
    header or a ``--boundary`` line inside a here-document is text the script prints."""
    if content.lstrip().startswith("#!"):
        return False
    if "--" not in content or "content-type" not in content.lower():
        return False  # what the patterns below need, found by substring search
    part_type = _PART_TYPE_LINE.search(content)
    delimiter = _DELIMITER_LINE.search(content)
    if part_type is None or delimiter is None:
        return False
    if "<<" not in content:
        return True
    from ekslint.parse.shell import read_script

    bodies = read_script(content).heredocs

    def outside(pattern: re.Pattern[str]) -> bool:
        return any(not any(start <= m.start() < end for start, end in bodies) for m in pattern.finditer(content))

    return outside(_PART_TYPE_LINE) and outside(_DELIMITER_LINE)


_TSPECIALS = set('()<>@,;:\\"/[]?=')


def _unquoted_tspecials(value: str, name: str) -> bool:
    """Whether parameter ``name`` is written unquoted with characters a MIME token
    may not contain (Go's mime.ParseMediaType refuses them)."""
    m = re.search(rf";\s*{name}\s*=\s*([^;\s]*)", value, re.I)
    if m is None or m.group(1).startswith('"'):
        return False
    return any(c in _TSPECIALS for c in m.group(1))


def header_block_start(content: str) -> bool:
    """Whether ``content`` starts like a MIME message: a header block from its first
    line, with a Content-Type or MIME-Version before any line that is not a header
    (``#!/bin/bash`` first is a script, whatever it prints later)."""
    for index, line in enumerate(content.split("\n", 8)[:8]):
        if not line.strip():
            return False
        if index and line[0] in " \t":
            continue  # a folded header line
        m = _HEADER.fullmatch(line.rstrip())
        if m is None:
            return False
        if m.group(1).lower() in ("content-type", "mime-version"):
            return True
    return False


def _line_span(text: Text, lines: list[str], index: int) -> Span:
    return text.span(index, 0, index, len(lines[index].rstrip()))


# -- multipart --------------------------------------------------------------------------


def read_userdata(text: Text, limits: DecodeLimits = DecodeLimits()) -> Userdata:
    """Read a userdata text that may be MIME multipart; a non-MIME text is one part."""
    lines = text.content.split("\n")
    problems: list[Problem] = []
    if not header_block_start(text.content):
        if looks_multipart(text.content):
            first = next((i for i, line in enumerate(lines) if line.strip()), 0)
            problems.append(
                Problem(
                    _line_span(text, lines, first),
                    f"this userdata has MIME parts but no MIME header block: line {first + 1} "
                    f"({lines[first].strip()[:60]!r}) should start the headers, e.g. `MIME-Version: 1.0` and "
                    '`Content-Type: multipart/mixed; boundary="//"`; nodeadm cannot read the parts without them',
                )
            )
            return Userdata(True, [], problems, [])
        return Userdata(False, [Part("", text, text.span(0, 0, 0, 0))], problems, [])

    headers, body_start, bad = _read_headers(lines, 0)
    if bad is not None:
        problems.append(
            Problem(
                _line_span(text, lines, bad),
                f"line {lines[bad].strip()!r} in the MIME header block is not a `Name: value` header, and "
                "nodeadm's mail.ReadMessage fails on it; write it as `Name: value` or remove it (the headers end "
                "at the first blank line)",
            )
        )
    content_type, ct_line = headers.get("content-type", ("", 0))
    media, params = parse_content_type(content_type)
    if not media.startswith("multipart/"):
        body = (
            text.slice_lines(body_start, len(lines) - 1) if body_start < len(lines) else text.decoded("", text.whole())
        )
        part = Part(media, body, _line_span(text, lines, ct_line) if content_type else text.whole())
        return Userdata(False, [part], problems, [])

    boundary = params.get("boundary")
    if not boundary:
        problems.append(
            Problem(
                _line_span(text, lines, ct_line),
                "the multipart Content-Type has no boundary parameter, so no part can be found; "
                'add boundary="..." with the string the `--` delimiter lines use',
            )
        )
        return Userdata(True, [], problems, [])
    if _unquoted_tspecials(content_type, "boundary"):
        problems.append(
            Problem(
                _line_span(text, lines, ct_line),
                f"the boundary {boundary!r} must be quoted: it contains characters that RFC 2045 reserves, and "
                "nodeadm (Go mime.ParseMediaType) rejects the Content-Type and finds no parts. "
                f'Write boundary="{boundary}"',
            )
        )

    delimiter = "--" + boundary
    close = delimiter + "--"
    markers: list[tuple[int, bool]] = []  # (line index, is close delimiter)
    closed_at: int | None = None
    for i in range(body_start, len(lines)):
        stripped = lines[i].rstrip(" \t\r")
        if stripped == close:
            closed_at = i
            break
        if stripped == delimiter:
            markers.append((i, False))
    if not markers:
        problems.append(
            Problem(
                _line_span(text, lines, ct_line),
                f"no `{delimiter}` line: the multipart userdata has no parts (boundary {boundary!r})",
            )
        )
        return Userdata(True, [], problems, [])
    if closed_at is None and len(markers) > 1 and markers[-1][0] == len(lines) - 2 and not lines[-1]:
        # The text ends with a `--B` line and its newline. Go's mime/multipart
        # (Reader.NextPart) then reads that line as the start of one more part, finds
        # no header at the end of the input and returns io.EOF itself: nodeadm
        # (amazon-eks-ami nodeadm/internal/configprovider/mime.go ParseMultipart) and
        # Karpenter (karpenter-provider-aws pkg/providers/amifamily/bootstrap/mime/mime.go
        # NewArchive) both stop there with every part read, as Karpenter's own
        # examples (examples/v1/al2023-custom-userdata.yaml) and test data rely on.
        # Without the newline, or with anything after it, the read fails (below).
        end_of_parts = markers.pop()[0]
    elif closed_at is None:
        last = len(lines) - 1
        while last > 0 and not lines[last].strip():
            last -= 1
        problems.append(
            Problem(
                _line_span(text, lines, last),
                f"multipart userdata has no closing `{close}` line; nodeadm (Go mime/multipart) "
                "fails with `multipart: NextPart: EOF` and applies none of it. "
                f"End the last part with `{close}`",
            )
        )
        end_of_parts = len(lines)
    else:
        end_of_parts = closed_at
        _check_epilogue(text, lines, closed_at, delimiter, close, problems)

    parts: list[Part] = []
    bounds = [m[0] for m in markers] + [end_of_parts]
    if len(markers) > limits.max_parts:
        problems.append(
            Problem(
                _line_span(text, lines, markers[limits.max_parts][0]),
                f"{len(markers):,} MIME parts; only the first {limits.max_parts:,} were analysed: split the "
                "userdata, or raise limits.max-mime-parts if it is genuine",
            )
        )
        bounds = bounds[: limits.max_parts + 1]
    for begin, end in itertools.pairwise(bounds):
        read = _read_part(text, lines, begin, end, limits, problems)
        if read is not None:
            parts.append(read)
    return Userdata(True, parts, problems, [])


def _check_epilogue(
    text: Text, lines: list[str], closed_at: int, delimiter: str, close: str, problems: list[Problem]
) -> None:
    for i in range(closed_at + 1, len(lines)):
        if lines[i].lower().startswith("content-type:"):
            problems.append(
                Problem(
                    _line_span(text, lines, closed_at),
                    f"`{close}` closes the multipart userdata, but a part follows it (line {i + 1}): "
                    "everything after the closing line is the epilogue, which nodeadm and cloud-init ignore. "
                    f"Replace this line with `{delimiter}` and close only after the last part",
                )
            )
            return


# Python's email.feedparser headerRE: what cloud-init's parser takes for a header line.
_PY_HEADER = re.compile(r"(From |[\041-\071\073-\176]*:|[\t ])")
# Headers parts carry besides Content-*/MIME-* (cloud-init's merge and launch headers).
_PART_HEADERS = ("content-", "mime-", "merge-type", "x-merge-type", "launch-index", "x-include")


def _read_part(
    text: Text, lines: list[str], begin: int, end: int, limits: DecodeLimits, problems: list[Problem]
) -> Part | None:
    # cloud-init (Python email): headers end at a blank line or at the first line that
    # is not a header, where the body then starts.
    stop = begin + 1
    while stop < end and lines[stop].strip() and _PY_HEADER.match(lines[stop]):
        stop += 1
    headers, _, _ = _read_headers(lines, begin + 1, stop)
    body_start = stop + 1 if stop < end and not lines[stop].strip() else stop
    content_type, ct_line = headers.get("content-type", ("", begin))
    media, _ = parse_content_type(content_type) if content_type else ("", {})
    header_span = _line_span(text, lines, ct_line)
    # nodeadm (Go textproto): headers end only at a blank line; a line without a colon
    # before it (the next delimiter, when there is no blank line) is malformed.
    malformed: Span | None = None
    if stop >= end or lines[stop].strip():
        go_end = next((i for i in range(begin + 1, end) if not lines[i].strip()), end)
        at = next(
            (
                i
                for i in range(begin + 1, go_end)
                if ":" not in lines[i] and not (i > begin + 1 and lines[i][:1] in " \t")
            ),
            go_end if go_end < len(lines) else None,
        )
        malformed = _line_span(text, lines, at) if at is not None else None
    swallowed = [
        _line_span(text, lines, line) for name, (_, line) in headers.items() if not name.startswith(_PART_HEADERS)
    ]
    # The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    last = end - 1
    body = text.slice_lines(body_start, last) if body_start <= last else text.decoded("", header_span)
    encodings: list[str] = []
    transfer = headers.get("content-transfer-encoding", ("", 0))[0].lower()
    raw = body.content
    try:
        if transfer == "base64" or (transfer in ("", "7bit") and looks_base64(raw) and raw.strip()):
            data = b64decode(raw) if transfer == "base64" else _try_b64(raw)
            if data is not None:
                encodings.append("base64")
                if data[:2] == GZIP_MAGIC:
                    data = gunzip(data, limits.max_decompressed_bytes)
                    encodings.append("gzip")
                body = body.decoded(normalize_newlines(to_text(data)), body.whole() if raw.strip() else header_span)
        elif transfer == "quoted-printable":
            import quopri

            decoded = quopri.decodestring(raw.encode("utf-8", "replace")).decode("utf-8", "replace")
            body = body.decoded(decoded, body.whole())
            encodings.append("quoted-printable")
    except DecodeError as err:
        if err.repeated:
            return Part(media, text.decoded("", header_span), header_span, encodings)
        where = body.span(0, 0, 0, len(body.lines()[0])) if raw.strip() else header_span
        problems.append(
            Problem(
                where,
                f"MIME part ({media or 'no Content-Type'}): {err}; re-encode the part body "
                "(base64 of the raw content) or drop its Content-Transfer-Encoding header",
            )
        )
        return Part(media, text.decoded("", header_span), header_span, encodings, malformed, swallowed)
    return Part(media, body, header_span, encodings, malformed, swallowed)


def _try_b64(raw: str) -> bytes | None:
    """nodeadm decodes a part if it is valid base64 (decodeIfBase64); so do we, but
    only when the result is something a userdata part can be."""
    try:
        data = b64decode(raw)
    except DecodeError:
        return None
    return data if data[:2] == GZIP_MAGIC or _is_text(data) else None
