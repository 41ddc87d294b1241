"""Inline suppressions: ``# ekslint: disable=EKS402`` on the offending line or the line
above, ``# ekslint: disable-file=EKS101`` anywhere in the file. IDs may be prefixes
(``EKS4``) or ``all``; a reason may follow ``--``::

    tolerations:
      # ekslint: disable=EKS402 -- runs on dedicated nodes
      - operator: Exists

Comments are read from the text (YAML, shell and TOML all use ``#``), so no
comment-preserving parse is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"#\s*ekslint:\s*(disable-file|disable)\s*=\s*([A-Za-z0-9_,\s]+?)\s*(?:--\s*(.*?))?\s*$")


@dataclass(frozen=True, slots=True)
class Suppression:
    codes: tuple[str, ...]  # upper-case IDs or prefixes; "ALL" for all
    line: int  # 1-based line of the comment
    scope: str  # "line" or "file"
    reason: str

    def covers(self, rule_id: str) -> bool:
        return any(code == "ALL" or rule_id.startswith(code) for code in self.codes)


@dataclass(slots=True)
class FileSuppressions:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)  # line the comment is on
    whole_file: list[Suppression] = field(default_factory=list)

    def find(self, rule_id: str, line: int) -> Suppression | None:
        for suppression in self.whole_file:
            if suppression.covers(rule_id):
                return suppression
        for comment_line in (line, line - 1):
            for suppression in self.by_line.get(comment_line, ()):
                if suppression.covers(rule_id):
                    return suppression
        return None

    @property
    def all(self) -> list[Suppression]:
        return self.whole_file + [s for items in self.by_line.values() for s in items]


def scan(content: str) -> FileSuppressions:
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
        suppression = Suppression(
            codes, number, "file" if m.group(1) == "disable-file" else "line", (m.group(3) or "").strip()
        )
        if suppression.scope == "file":
            result.whole_file.append(suppression)
        else:
            result.by_line.setdefault(number, []).append(suppression)
    return result
