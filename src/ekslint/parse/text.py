"""Positions: where a piece of analysed text really is in the user's file.

ekslint reads text that is often not the file itself: a NodeConfig inside a MIME part,
a script inside an eksctl ``overrideBootstrapCommand: |`` block, a base64-encoded part.
A :class:`Text` carries such a derived string together with the way back to the file,
so every finding can name the file, line and column of the offending key.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ekslint.fastpickle import fast_pickle


def normalize_newlines(content: str) -> str:
    """CRLF and a lone CR become LF. YAML (and editors) count a lone CR as a line
    break; splitting on LF alone put YAML positions past the end of the file."""
    if "\r" not in content:
        return content
    return content.replace("\r\n", "\n").replace("\r", "\n")


@fast_pickle
@dataclass(frozen=True, slots=True)
class Span:
    """A region of a file. Lines and columns are 1-based; ``end_col`` is exclusive.

    ``logical`` is a path that survives edits elsewhere in the file, e.g.
    ``ClusterConfig/prod.managedNodeGroups[ng-1].overrideBootstrapCommand``; it keys
    fingerprints, baselines and suppressions.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    logical: str = field(default="", compare=False)

    def with_logical(self, logical: str) -> Span:
        return Span(self.file, self.line, self.col, self.end_line, self.end_col, logical)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an input, where it is and what to change: what the parser,
    the model and the schema checks find (EKS001 and EKS002 findings)."""

    span: Span
    message: str


class Text:
    """A string read from ``file`` plus the map from its positions to the file's.

    ``line_origins[i]`` is ``(file_line, file_col)`` (1-based) of the first character
    of line ``i`` of the string. When the string was decoded (base64, gzip) there is
    no character-level correspondence and ``collapsed`` is the span every position
    maps to, typically the encoded block.
    """

    __slots__ = ("_line_starts", "_lines", "collapsed", "content", "file", "line_origins")

    def __init__(
        self,
        file: str,
        content: str,
        line_origins: list[tuple[int, int]] | None = None,
        collapsed: Span | None = None,
    ) -> None:
        self.file = file
        self.content = content
        self.line_origins = line_origins
        self.collapsed = collapsed
        self._line_starts: list[int] | None = None
        self._lines: list[str] | None = None

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.content.split("\n")
        return self._lines

    # -- constructors -------------------------------------------------------------
    @classmethod
    def whole_file(cls, file: str, content: str) -> Text:
        return cls(file, content)

    def slice_lines(self, first_line: int, last_line: int, indent: int = 0) -> Text:
        """Lines ``first_line..last_line`` (0-based, inclusive) of this text with
        ``indent`` leading characters removed from each line (a YAML block scalar)."""
        lines = self.lines()[first_line : last_line + 1]  # split once per text, not per slice
        body = "\n".join(line[indent:] for line in lines)
        origins = [self.point(first_line + i, indent) for i in range(len(lines))]
        return Text(self.file, body, origins, self.collapsed)

    def decoded(self, content: str, where: Span) -> Text:
        """Text obtained by decoding (base64, gzip) something located at ``where``."""
        return Text(self.file, content, None, where)

    # -- position mapping ----------------------------------------------------------
    def point(self, line: int, col: int) -> tuple[int, int]:
        """File position (1-based) of 0-based ``line``/``col`` in this text."""
        if self.collapsed is not None:
            return self.collapsed.line, self.collapsed.col
        if self.line_origins is None:
            return line + 1, col + 1
        if not self.line_origins:
            return 1, 1
        if line >= len(self.line_origins):
            file_line, _ = self.line_origins[-1]
            return file_line + (line - len(self.line_origins) + 1), col + 1
        file_line, file_col = self.line_origins[line]
        return file_line, file_col + col

    def span(self, line: int, col: int, end_line: int, end_col: int, logical: str = "") -> Span:
        """Span of a 0-based region of this text."""
        if self.collapsed is not None:
            return self.collapsed.with_logical(logical)
        sl, sc = self.point(line, col)
        el, ec = self.point(end_line, end_col)
        el, ec = max((el, ec), (sl, sc))
        return Span(self.file, sl, sc, el, ec, logical)

    def line_col(self, offset: int) -> tuple[int, int]:
        """0-based line and column of a character offset into ``content``."""
        if self._line_starts is None:
            starts = [0]
            find = self.content.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line, offset - self._line_starts[line]

    def span_of(self, start: int, end: int, logical: str = "") -> Span:
        """Span of the character range ``content[start:end]``."""
        sl, sc = self.line_col(start)
        el, ec = self.line_col(max(start, end))
        return self.span(sl, sc, el, ec, logical)

    def whole(self, logical: str = "") -> Span:
        return self.span_of(0, len(self.content.rstrip("\n")), logical)
