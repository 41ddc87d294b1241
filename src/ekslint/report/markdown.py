"""A Markdown summary for people: counts by severity and by rule, then the first
findings with links. On GitHub Actions (``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``,
``GITHUB_SHA`` set) each location links to the line on GitHub; the GitHub action and
``--format github`` append it to the job summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.report.text import summary_line
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult

FIRST = 50  # findings listed; the rest are counted
MESSAGE_CHARS = 300


def _cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def link(file: str, line: int) -> str | None:
    """The file's line on GitHub, when running on GitHub Actions."""
    server, repository, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repository and sha):
        return None
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    relative = os.path.relpath(os.path.abspath(file), workspace).replace(os.sep, "/")
    if relative.startswith("../"):
        return None
    return f"{server}/{repository}/blob/{sha}/{relative}#L{line}"


def summary_markdown(result: RunResult, heading: str = "ekslint", first: int = FIRST) -> str:
    findings = result.findings
    lines = [f"## {heading}", "", summary_line(result), ""]
    if findings:
        lines += ["| severity | findings |", "|---|---:|"]
        by_severity = Counter(f.severity for f in findings)
        lines += [f"| {s.label} | {by_severity[s]} |" for s in sorted(Severity, reverse=True) if by_severity[s]]
        lines += ["", "| rule | name | severity | findings |", "|---|---|---|---:|"]
        by_rule = Counter((f.rule_id, f.rule_name, f.severity.label) for f in findings)
        for (rule, name, label), count in sorted(by_rule.items()):
            lines.append(f"| {rule} | `{name}` | {label} | {count} |")
        shown = findings[:first]
        title = "Findings" if len(findings) <= first else f"The first {first} of {len(findings)} findings"
        lines += ["", f"### {title}", "", "| severity | where | rule | message |", "|---|---|---|---|"]
        lines += [_row(f) for f in shown]
    if result.not_analysed:
        lines += ["", "### Not analysed", "", "| file | reason |", "|---|---|"]
        lines += [f"| `{_cell(n.file)}` | {_cell(n.reason)} |" for n in result.not_analysed]
    lines.append("")
    return "\n".join(lines)


def _row(finding: Finding) -> str:
    span = finding.span
    where = f"{span.file}:{span.line}:{span.col}"
    url = link(span.file, span.line)
    place = f"[{_cell(where)}]({url})" if url else f"`{_cell(where)}`"
    return f"| {finding.severity.label} | {place} | {finding.rule_id} | {_cell(finding.headline)} |"


class MarkdownFormatter(Formatter):
    name = "markdown"
    description = "a Markdown summary: counts by severity and rule, the first findings with links (job summaries)"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        return summary_markdown(result)
