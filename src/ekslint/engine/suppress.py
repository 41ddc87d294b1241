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

import re
from dataclasses import dataclass, field

from ekslint.fastpickle import fast_pickle
from ekslint.parse.text import Span

ANNOTATION = "ekslint.io/ignore"
_DIRECTIVE = re.compile(r"#\s*ekslint:\s*(disable-file|disable)\s*=\s*([A-Za-z0-9_,\s]+?)\s*(?:--\s*(.*?))?\s*$")
_ANNOTATION_VALUE = re.compile(r"^\s*([A-Za-z0-9_,\s]+?)\s*(?::\s*(.*?))?\s*$")


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
        m = _DIRECTIVE.search(line)
        if m is None:
            continue
        codes = tuple(c.strip().upper() for c in m.group(2).split(",") if c.strip())
        span = Span(file, number, m.start() + 1, number, len(line.rstrip()) + 1)
        suppression = Suppression(codes, span, "file" if m.group(1) == "disable-file" else "line", m.group(3) or "")
        if suppression.scope == "file":
            result.whole_file.append(suppression)
        else:
            result.by_line.setdefault(number, []).append(suppression)
    return result


def add_annotation(result: FileSuppressions, target: str, value: str, span: Span) -> bool:
    """Record an ``ekslint.io/ignore`` annotation; False when its value is malformed."""
    m = _ANNOTATION_VALUE.match(value)
    if m is None:
        return False
    codes = tuple(c.strip().upper() for c in m.group(1).split(",") if c.strip())
    if not codes:
        return False
    result.objects.setdefault(target, []).append(Suppression(codes, span, "object", m.group(2) or "", target))
    return True
