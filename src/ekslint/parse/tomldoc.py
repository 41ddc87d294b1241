"""Bottlerocket TOML userdata with key positions.

``tomllib`` decides what the document means (and reports syntax errors); it keeps no
positions, so a line scanner records where each key, value and array item is. That
covers the shapes Bottlerocket userdata uses: ``[settings.kubernetes]`` tables, dotted
and quoted keys (``settings.kubernetes.node-labels."a/b" = "c"``), inline tables and
arrays spread over several lines.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from ekslint.parse.text import Span, Text

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')
_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


# Bounds checked before tomllib sees a document: its cost is quadratic in the parts of
# one dotted key (20 KB of ``a.a.a`` took 617 MB) and it recurses once per nested array
# or inline table. Bottlerocket settings are a few levels deep; no config comes near.
MAX_KEY_PARTS = 128
MAX_NESTING = 128


class TomlSyntaxError(Exception):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line  # 0-based
        self.col = col


@dataclass(slots=True)
class TomlDoc:
    text: Text
    data: dict[str, Any]
    key_spans: dict[tuple[str, ...], Span] = field(default_factory=dict)
    value_spans: dict[tuple[str, ...], Span] = field(default_factory=dict)
    item_spans: dict[tuple[str, ...], list[Span]] = field(default_factory=dict)
    table_spans: dict[tuple[str, ...], Span] = field(default_factory=dict)

    def get(self, path: tuple[str, ...]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def span(self, path: tuple[str, ...]) -> Span:
        """Where ``path`` is written: its key, else the closest written ancestor."""
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            found = self.key_spans.get(prefix) or self.table_spans.get(prefix)
            if found is not None:
                return found.with_logical(".".join(path))
        return self.text.span(0, 0, 0, 0, ".".join(path))

    def entry_span(self, path: tuple[str, ...]) -> Span:
        """From the key to the end of its value when both are known."""
        key = self.key_spans.get(path)
        value = self.value_spans.get(path)
        if key is None or value is None:
            return self.span(path)
        return Span(key.file, key.line, key.col, value.end_line, value.end_col, ".".join(path))


def _tomllib() -> Any:
    # Imported on first use: most runs (and every warm one-file run on YAML) read no TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def parse_toml(text: Text) -> TomlDoc:
    _check_shape(text.content)
    tomllib = _tomllib()
    try:
        data = tomllib.loads(text.content)
    except (RecursionError, MemoryError):  # pragma: no cover - _check_shape bounds both
        raise TomlSyntaxError(f"TOML nested too deeply to read (at most {MAX_NESTING} levels)", 0, 0) from None
    except ValueError as err:  # TOMLDecodeError, and int() of more than 4,300 digits
        message = str(err)
        m = _POSITION.search(message)
        line, col = (int(m.group(1)) - 1, int(m.group(2)) - 1) if m else (0, 0)
        if m is not None:
            message = (message[: m.start()].rstrip() + message[m.end() :]).strip()
        if not isinstance(err, tomllib.TOMLDecodeError):
            message = f"a value cannot be read ({message})"
        raise TomlSyntaxError(message, line, col) from None
    doc = TomlDoc(text, data)
    _index_positions(doc)
    _check_integers(doc)
    return doc


def _check_integers(doc: TomlDoc) -> None:
    """TOML integers are 64-bit: a parser "must throw an error" for one it cannot hold
    (Bottlerocket's does); tomllib keeps any size, which every later ``str()`` of it
    could fail on."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(doc.data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((value, (*path, str(key))) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((item, path) for item in node)
        elif isinstance(node, int) and not isinstance(node, bool) and not -(2**63) <= node < 2**63:
            span = doc.span(path)
            name = ".".join(path)
            shown = name if len(name) <= 80 else name[:68] + "..."
            raise TomlSyntaxError(
                f"{shown}: the integer is out of range (TOML integers are 64-bit, at most {2**63 - 1}); "
                "write a number in the range the setting takes",
                span.line - 1,
                span.col - 1,
            )


def _check_shape(content: str) -> None:
    """Refuse, in one pass, a dotted key of more than MAX_KEY_PARTS parts and arrays or
    inline tables nested more than MAX_NESTING deep (outside strings and comments)."""
    depth = 0
    dots = 0
    line = col = 0
    i = 0
    end = len(content)
    while i < end:
        c = content[i]
        if c == "\n":
            line, col, dots = line + 1, 0, 0
            i += 1
            continue
        if c == "#":
            stop = content.find("\n", i)
            i = end if stop == -1 else stop
            continue
        if c in "\"'":
            stop = _string_end(content, i)
            newlines = content.count("\n", i, stop)
            if newlines:
                line, col = line + newlines, stop - content.rfind("\n", i, stop) - 1
            else:
                col += stop - i
            i = stop
            continue
        if c == ".":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                raise TomlSyntaxError(
                    f"a dotted key of more than {MAX_KEY_PARTS} parts is not read (Bottlerocket settings are a few "
                    "levels deep)",
                    line,
                    col,
                )
        elif c in ",={}]":
            dots = 0
        if c in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise TomlSyntaxError(
                    f"arrays or inline tables nested more than {MAX_NESTING} levels deep are not read "
                    "(Bottlerocket settings are a few levels deep)",
                    line,
                    col,
                )
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
        col += 1


def _string_end(content: str, start: int) -> int:
    """Index just past the string that opens at ``content[start]`` (basic or literal,
    one-line or multi-line), or the end of its line (one-line) or of the file."""
    quote = content[start]
    end = len(content)
    if content.startswith(quote * 3, start):
        i = start + 3
        while True:
            i = content.find(quote * 3, i)
            if i == -1:
                return end
            if quote == "'" or not _escaped(content, i):
                return i + 3
            i += 1
    i = start + 1
    while i < end:
        c = content[i]
        if c == quote:
            return i + 1
        if c == "\n":
            return i
        i += 2 if c == "\\" and quote == '"' else 1
    return end


def _escaped(content: str, i: int) -> bool:
    """Whether an odd number of backslashes precedes ``content[i]``."""
    k = i - 1
    while k >= 0 and content[k] == "\\":
        k -= 1
    return (i - 1 - k) % 2 == 1


def _split_key(raw: str) -> list[str] | None:
    """``a."b.c".d`` -> ``["a", "b.c", "d"]``; None if it is not a key."""
    keys: list[str] = []
    i = 0
    raw = raw.strip()
    while i < len(raw):
        c = raw[i]
        if c in "\"'":
            end = raw.find(c, i + 1)
            if end == -1:
                return None
            keys.append(raw[i + 1 : end])
            i = end + 1
        else:
            m = _BARE_KEY.match(raw, i)
            if m is None:
                return None
            keys.append(m.group())
            i = m.end()
        while i < len(raw) and raw[i] in " \t":
            i += 1
        if i < len(raw):
            if raw[i] != ".":
                return None
            i += 1
            while i < len(raw) and raw[i] in " \t":
                i += 1
    return keys or None


def _key_end(line: str) -> int:
    """Index of the ``=`` that ends the key part of ``line`` (outside quotes), or -1."""
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "=":
            return i
        elif c == "#":
            return -1
    return -1


def _index_positions(doc: TomlDoc) -> None:
    text = doc.text
    lines = text.content.split("\n")
    prefix: tuple[str, ...] = ()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if stripped.startswith("["):
            array_table = stripped.startswith("[[")
            inner = stripped[2:].split("]]", 1)[0] if array_table else stripped[1:].split("]", 1)[0]
            keys = _split_key(inner)
            if keys is not None:
                prefix = tuple(keys)
                doc.table_spans.setdefault(prefix, text.span(i, indent, i, len(line.rstrip()), ".".join(prefix)))
            i += 1
            continue
        eq = _key_end(line)
        keys = _split_key(line[:eq]) if eq != -1 else None
        if keys is None:
            i += 1
            continue
        path = prefix + tuple(keys)
        key_text_end = len(line[:eq].rstrip())
        doc.key_spans[path] = text.span(i, indent, i, key_text_end, ".".join(path))
        value_start = eq + 1 + (len(line[eq + 1 :]) - len(line[eq + 1 :].lstrip()))
        end_line, end_col = _value_end(lines, i, value_start)
        doc.value_spans[path] = text.span(i, value_start, end_line, end_col, ".".join(path))
        if line[value_start : value_start + 1] == "[":
            doc.item_spans[path] = _array_items(text, lines, i, value_start, end_line, end_col, path)
        i = end_line + 1


def _value_end(lines: list[str], line_no: int, start: int) -> tuple[int, int]:
    """Line and column where a value starting at ``lines[line_no][start]`` ends,
    following arrays, inline tables and multi-line strings."""
    depth = 0
    quote = ""
    i, j = line_no, start
    triple = lines[i][j : j + 3]
    if triple in ('"""', "'''"):
        close = lines[i].find(triple, j + 3)
        while close == -1 and i + 1 < len(lines):
            i += 1
            close = lines[i].find(triple)
            j = 0
        return i, (close + 3 if close != -1 else len(lines[i]))
    while i < len(lines):
        line = lines[i]
        while j < len(line):
            c = line[j]
            if quote:
                if c == "\\" and quote == '"':
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return i, j + 1
            elif c == "#":
                break
            j += 1
        if depth <= 0:
            return i, len(line.split("#", 1)[0].rstrip()) if not quote else len(line)
        i += 1
        j = 0
    return len(lines) - 1, len(lines[-1])


def _array_items(
    text: Text, lines: list[str], first: int, start: int, last: int, end: int, path: tuple[str, ...]
) -> list[Span]:
    spans: list[Span] = []
    for line_no in range(first, last + 1):
        line = lines[line_no]
        lo = start if line_no == first else 0
        hi = end if line_no == last else len(line)
        segment = line[lo:hi].split("#", 1)[0] if "#" not in _STRING.sub("", line[lo:hi]) else line[lo:hi]
        for m in _STRING.finditer(segment):
            spans.append(text.span(line_no, lo + m.start(), line_no, lo + m.end(), f"{'.'.join(path)}[{len(spans)}]"))
    return spans


def looks_like_bottlerocket(content: str) -> bool:
    """Cheap test before parsing: a ``settings`` table or dotted ``settings.`` key."""
    for line in content.split("\n", 200)[:200]:
        stripped = line.strip()
        if stripped.startswith(("[settings", "settings.", '"settings"')):
            return True
    return False
