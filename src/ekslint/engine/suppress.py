"""Suppressions, in source and in annotations.

A comment on the offending line or the line above (YAML, shell and TOML all use ``#``),
or anywhere in the file for the whole file::

    tolerations:
      # ekslint: disable=EKS402 -- runs on dedicated nodes
      - operator: Exists
    # ekslint: disable-file=EKS101

An annotation on a Kubernetes object, or on its pod template, for everything that
object holds (rule IDs, then a reason after ``:``)::

    metadata:
      annotations:
        ekslint.io/ignore: "EKS402: runs on dedicated nodes"

IDs may be prefixes (``EKS4``) or ``all``. Comments are read from the text, so no
comment-preserving parse is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ekslint.fastpickle import fast_pickle
from ekslint.parse.text import Span

ANNOTATION = "ekslint.io/ignore"
# Characters of a list of rule codes (``EKS402, EKS1``), besides whitespace.
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_,")


@fast_pickle
@dataclass(frozen=True, slots=True)
class Suppression:
    codes: tuple[str, ...]  # upper-case IDs or prefixes; "ALL" for all
    span: Span  # the comment or the annotation
    scope: str  # "line", "file" or "object"
    reason: str
    target: str = ""  # for "object": the object's logical identity (Deployment/ns/name)

    @property
    def kind(self) -> str:
        return "annotation" if self.scope == "object" else "comment"

    @property
    def line(self) -> int:
        return self.span.line

    def covers(self, rule_id: str) -> bool:
        return any(code == "ALL" or rule_id.startswith(code) for code in self.codes)

    def describe(self) -> str:
        codes = ",".join(self.codes)
        if self.scope == "object":
            return f'annotation {ANNOTATION}: "{codes}" on {self.target}'
        return f"# ekslint: {'disable-file' if self.scope == 'file' else 'disable'}={codes}"


@fast_pickle
@dataclass(slots=True)
class FileSuppressions:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)  # line the comment is on
    whole_file: list[Suppression] = field(default_factory=list)
    objects: dict[str, list[Suppression]] = field(default_factory=dict)

    def find(self, rule_id: str, line: int, logical: str = "") -> Suppression | None:
        for suppression in self.whole_file:
            if suppression.covers(rule_id):
                return suppression
        for comment_line in (line, line - 1):
            for suppression in self.by_line.get(comment_line, ()):
                if suppression.covers(rule_id):
                    return suppression
        if logical:
            target = logical.split(".", 1)[0]
            for suppression in self.objects.get(target, ()):
                if suppression.covers(rule_id):
                    return suppression
        return None

    @property
    def all(self) -> list[Suppression]:
        found = self.whole_file + [s for items in self.by_line.values() for s in items]
        return found + [s for items in self.objects.values() for s in items]


def scan(content: str, file: str) -> FileSuppressions:
    """Suppression comments of a file."""
    result = FileSuppressions()
    if "ekslint:" not in content:
        return result
    for number, line in enumerate(content.split("\n"), start=1):
        if "ekslint:" not in line:
            continue
        found = parse_directive(line)
        if found is None:
            continue
        start, scope, codes, reason = found
        span = Span(file, number, start + 1, number, len(line.rstrip()) + 1)
        suppression = Suppression(codes, span, scope, reason)
        if suppression.scope == "file":
            result.whole_file.append(suppression)
        else:
            result.by_line.setdefault(number, []).append(suppression)
    return result


def parse_directive(line: str) -> tuple[int, str, tuple[str, ...], str] | None:
    """The first ``# ekslint: disable[-file]=CODES [-- reason]`` comment of ``line``:
    (column of its ``#``, "line" or "file", codes, reason), or None.

    A hand-written scanner, not a regular expression: the line is user input, and every
    character is looked at a bounded number of times (a backtracking pattern took cubic
    time on a run of spaces). A candidate that fails stops at the first character a
    directive cannot hold, which comes before the next ``#``."""
    at = line.find("#")
    while at != -1:
        found = _directive_at(line, at)
        if found is not None:
            return found
        at = line.find("#", at + 1)
    return None


def _directive_at(line: str, at: int) -> tuple[int, str, tuple[str, ...], str] | None:
    i = _skip_space(line, at + 1)
    if not line.startswith("ekslint:", i):
        return None
    i = _skip_space(line, i + len("ekslint:"))
    if line.startswith("disable-file", i):
        scope, i = "file", i + len("disable-file")
    elif line.startswith("disable", i):
        scope, i = "line", i + len("disable")
    else:
        return None
    i = _skip_space(line, i)
    if not line.startswith("=", i):
        return None
    split = _split_codes(line, i + 1, "--")
    if split is None:
        return None
    codes, reason = split
    return at, scope, codes, reason


def _skip_space(text: str, i: int) -> int:
    end = len(text)
    while i < end and text[i].isspace():
        i += 1
    return i


def _split_codes(text: str, start: int, separator: str) -> tuple[tuple[str, ...], str] | None:
    """``text[start:]`` as codes, then optionally ``separator`` and a reason; None when
    a character that is neither a code character nor the separator comes first, or
    when there is no character before the separator."""
    i = start
    end = len(text)
    while i < end:
        c = text[i]
        if c in _CODE_CHARS or c.isspace():
            i += 1
            continue
        if not text.startswith(separator, i):
            return None
        break
    if i == start:
        return None
    codes = tuple(code.strip().upper() for code in text[start:i].split(",") if code.strip())
    reason = text[i + len(separator) :].strip() if i < end else ""
    return codes, reason


def add_annotation(result: FileSuppressions, target: str, value: str, span: Span) -> bool:
    """Record an ``ekslint.io/ignore`` annotation; False when its value is malformed."""
    split = _split_codes(value, 0, ":")
    if split is None:
        return False
    codes, reason = split
    if not codes:
        return False
    result.objects.setdefault(target, []).append(Suppression(codes, span, "object", reason, target))
    return True
