"""GitHub Actions workflow commands: each finding becomes an annotation on the pull
request's changed lines (``::error file=...,line=...,title=EKS101 headline::detail``),
no SARIF upload needed: the annotation's title is the rule and the finding's headline,
its message the detail (the headline again when there is none).

GitHub shows at most 10 annotations of each kind (error, warning, notice) per step
and drops the rest without a trace. This format writes the first 10 of each kind
(9 notices when one is needed to say so), then one notice counting what was left
out; with ``GITHUB_STEP_SUMMARY`` set it appends every finding's count and the first
findings to the job summary."""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import visible
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult

ANNOTATIONS_PER_KIND = 10  # GitHub's limit per step
_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _data(text: str) -> str:
    """Escape a message (workflow command data): ``%``, CR and LF as the runner
    expects, and every other control character made visible, so that nothing a file
    name or a value holds can end the command or start another (``::stop-commands``)."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    """Escape a property value (workflow command parameters)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class GithubFormatter(Formatter):
    name = "github"
    description = "GitHub Actions annotations (::error file=...,line=...::message)"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        kinds = Counter(_COMMANDS[f.severity] for f in result.findings)
        kinds["notice"] += len(result.not_analysed)  # said as notices too: within the same limit
        overflow = any(count > ANNOTATIONS_PER_KIND for count in kinds.values())
        limit = dict.fromkeys(_COMMANDS.values(), ANNOTATIONS_PER_KIND)
        if overflow:
            limit["notice"] -= 1  # room for the notice that counts the rest
        written: Counter[str] = Counter()
        lines = []
        for finding in result.findings:
            kind = _COMMANDS[finding.severity]
            if written[kind] >= limit[kind]:
                continue
            written[kind] += 1
            span = finding.span
            props = (
                f"file={_property(span.file)},line={span.line},col={span.col},"
                f"endLine={span.end_line},endColumn={span.end_col},"
                f"title={_property(f'{finding.rule_id} {finding.headline}')}"
            )
            lines.append(f"::{kind} {props}::{_data(finding.detail or finding.headline)}")
        for note in result.not_analysed:
            # A run-level note (not a finding): one per file, within the notice limit.
            if written["notice"] >= limit["notice"]:
                continue
            written["notice"] += 1
            lines.append(f"::notice file={_property(note.file)},title=ekslint::{_data('not analysed: ' + note.reason)}")
        left_out = {kind: kinds[kind] - written[kind] for kind in kinds if kinds[kind] > written[kind]}
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if left_out:
            counted = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in left_out.items())
            where = "see the job summary" if summary else "run ekslint locally or use --format sarif"
            message = (
                f"{sum(left_out.values())} more findings are not annotated ({counted}): GitHub shows "
                f"{ANNOTATIONS_PER_KIND} annotations of each kind per step; {where}"
            )
            lines.append(f"::notice title=ekslint::{_data(message)}")
            self.notices.append(message)
        if summary and (result.findings or result.not_analysed):
            from ekslint.report.markdown import summary_markdown

            try:
                with open(summary, "a", encoding="utf-8") as handle:
                    handle.write(summary_markdown(result) + "\n")
            except OSError as err:
                self.notices.append(f"cannot append to the job summary {summary}: {err.strerror or err}")
        return "".join(f"{line}\n" for line in lines)
