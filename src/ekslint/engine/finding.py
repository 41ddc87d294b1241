"""Findings: a rule's violation with the rule's identity, the effective severity and,
when suppressed, the suppression that hid it.

``message`` is the full text (headline, then detail); ``headline`` and ``detail`` are
its two parts, as the rule gave them or derived from ``message`` when it gave one
string (``ekslint.engine.headline``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ekslint.engine import headline as headlines
from ekslint.engine.rule import Related, Violation
from ekslint.engine.suppress import Suppression
from ekslint.fastpickle import fast_pickle
from ekslint.parse.text import Span
from ekslint.severity import Severity


@fast_pickle
@dataclass(slots=True)
class Finding:
    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    suppression: Suppression | None = None
    fingerprint: str = ""
    identity: str = ""  # see Violation.identity
    headline: str = ""  # at most 120 characters; derived from message when empty
    detail: str = ""

    def __post_init__(self) -> None:
        if not self.headline:
            self.headline, self.detail, _ = headlines.split(self.message)

    @classmethod
    def of(cls, violation: Violation, rule_id: str, rule_name: str, severity: Severity) -> Finding:
        """The finding of a rule's violation: its headline, detail and full message."""
        headline, detail, message = headlines.split(violation.message, violation.detail)
        return cls(
            rule_id,
            rule_name,
            severity,
            message,
            violation.span,
            violation.related,
            identity=violation.identity,
            headline=headline,
            detail=detail,
        )

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.file, self.span.line, self.span.col, self.rule_id, self.message)


def assign_fingerprints(findings: list[Finding]) -> None:
    """A key that survives edits elsewhere in the file: rule, file and the logical
    path of the offending key (``Deployment/web.spec.template.spec.tolerations[0]``),
    plus an occurrence number when several findings share them."""
    seen: dict[str, int] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        anchor = finding.span.logical or f"@{finding.span.line}:{finding.span.col}"
        base = f"{finding.rule_id}\0{finding.span.file}\0{anchor}"
        if finding.identity:
            base += f"\0{finding.identity}"
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        digest = hashlib.sha256(f"{base}\0{occurrence}".encode()).hexdigest()
        finding.fingerprint = digest[:32]
