"""Findings: a rule's violation with the rule's identity, the effective severity and,
when suppressed, the suppression that hid it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ekslint.engine.rule import Related
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
