"""GitLab Code Quality (``artifacts: reports: codequality``): a JSON array of issues,
each with a description (the rule ID and the finding's headline; the detail as the
optional Markdown ``content.body`` of the Code Climate spec), the rule as ``check_name``, a unique ``fingerprint``, a
severity (``info``, ``minor``, ``major``, ``critical``, ``blocker``) and a location
relative to the repository root (``$CI_PROJECT_DIR`` on GitLab CI)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}


def _path(file: str) -> str:
    root = os.environ.get("CI_PROJECT_DIR")
    if not root:
        return file.replace(os.sep, "/")
    relative = os.path.relpath(os.path.abspath(file), root).replace(os.sep, "/")
    return file.replace(os.sep, "/") if relative.startswith("../") else relative


def issue(finding: Finding) -> dict[str, Any]:
    span = finding.span
    data: dict[str, Any] = {
        "type": "issue",
        "check_name": finding.rule_id,
        "description": f"{finding.rule_id}: {finding.headline}",
        "categories": ["Bug Risk"],
        "severity": SEVERITIES[finding.severity],
        "fingerprint": finding.fingerprint,
        "location": {"path": _path(span.file), "lines": {"begin": span.line, "end": max(span.line, span.end_line)}},
    }
    if finding.detail:
        # Code Climate's optional Markdown body ("content"), shown with the issue.
        data["content"] = {"body": finding.detail}
    return data


class GitlabFormatter(Formatter):
    name = "gitlab"
    description = "GitLab Code Quality report (JSON array of issues)"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        # Code Quality holds issues only: what was not analysed is said on stderr.
        self.notices.extend(f"{n.file}: not analysed: {n.reason}" for n in result.not_analysed)
        return json.dumps([issue(f) for f in result.findings], indent=2, ensure_ascii=False) + "\n"
