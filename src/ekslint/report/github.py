"""GitHub Actions workflow commands: each finding becomes an annotation on the pull
request's changed lines (``::error file=...,line=...::message``), no SARIF upload
needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import visible
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult

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
        lines = []
        for finding in result.findings:
            span = finding.span
            props = (
                f"file={_property(span.file)},line={span.line},col={span.col},"
                f"endLine={span.end_line},endColumn={span.end_col},"
                f"title={_property(f'{finding.rule_id} {finding.rule_name}')}"
            )
            lines.append(f"::{_COMMANDS[finding.severity]} {props}::{_data(finding.message)}")
        return "".join(f"{line}\n" for line in lines)
