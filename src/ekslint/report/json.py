"""Machine-readable report. The shape is a public contract (docs/json-format.md):
fields are only ever added, and ``version`` changes if one is removed or renamed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ekslint import __version__
from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import json_text
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult
    from ekslint.parse.text import Span

JSON_FORMAT_VERSION = 1


def _region(span: Span) -> dict[str, Any]:
    return {
        "file": span.file,
        "line": span.line,
        "column": span.col,
        "end_line": span.end_line,
        "end_column": span.end_col,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule_id,
        "name": finding.rule_name,
        "severity": finding.severity.label,
        "message": finding.message,
        **_region(finding.span),
        "path": finding.span.logical,
        "fingerprint": finding.fingerprint,
        "related": [{**_region(r.span), "message": r.message} for r in finding.related],
        "suppressed": None,
    }
    if finding.suppression is not None:
        data["suppressed"] = {
            "kind": finding.suppression.kind,
            "line": finding.suppression.line,
            "reason": finding.suppression.reason,
        }
    return data


class JsonFormatter(Formatter):
    name = "json"
    description = "one JSON document: findings, input errors and a summary"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        findings = list(result.findings)
        if options.include_suppressed:
            findings = sorted(findings + result.suppressed, key=lambda f: f.sort_key())
        document = {
            "version": JSON_FORMAT_VERSION,
            "tool": {"name": "ekslint", "version": __version__},
            "findings": [finding_json(f) for f in findings],
            "errors": [
                {"path": e.path, "message": e.message, **({"skipped": True} if e.skipped else {})}
                for e in result.input_errors
            ],
            "not_analysed": [{"path": path, "reason": why} for path, why in result.not_analysed],
            "summary": {
                "files_seen": result.files_seen,
                "files_analysed": result.files_analysed,
                "findings": len(result.findings),
                **{s.label: sum(1 for f in result.findings if f.severity is s) for s in Severity},
                "suppressed": len(result.suppressed),
                "baselined": len(result.baselined),
                "rule_errors": len(result.crashed),
            },
        }
        return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
