"""The human report: one line per finding in the form compilers and editors know,
``path:line:col: EKS101 [error] message``, related places indented below it, and a
summary line. Colour only when writing to a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import visible
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.NOTE: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class TextFormatter(Formatter):
    name = "text"
    description = "path:line:col: ID [severity] message, with a summary line (default)"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        color = options.color
        lines: list[str] = []
        shown = list(result.findings)
        if options.include_suppressed:
            shown = sorted(shown + result.suppressed, key=lambda f: f.sort_key())
        for finding in shown:
            lines.append(self._line(finding, color))
            for related in finding.related:
                where = f"{visible(related.span.file)}:{related.span.line}:{related.span.col}"
                message = visible(related.message)
                lines.append(f"    {_DIM if color else ''}{where}: {message}{_RESET if color else ''}")
        lines.append(summary_line(result))
        return "\n".join(lines) + "\n"

    @staticmethod
    def _line(finding: Finding, color: bool) -> str:
        span = finding.span
        where = f"{visible(span.file)}:{span.line}:{span.col}:"
        message = visible(finding.message)
        level = f"[{finding.severity.label}]"
        suffix = ""
        if finding.suppression is not None:
            reason = f": {visible(finding.suppression.reason)}" if finding.suppression.reason else ""
            suffix = f" (suppressed{reason})"
        if color:
            tint = _COLORS[finding.severity]
            rule = f"{tint}{finding.rule_id} {level}{_RESET}"
            return f"{_BOLD}{where}{_RESET} {rule} {message}{suffix}"
        return f"{where} {finding.rule_id} {level} {message}{suffix}"


def summary_line(result: RunResult) -> str:
    """``Found 5 problems (4 errors, 1 warning) in 6 files (2 baselined).``: the last
    line of the text report, and what ``-o`` says on stderr."""
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    files = _plural(result.files_analysed, "file")
    extra = []
    if result.suppressed:
        extra.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        extra.append(f"{len(result.baselined)} baselined")
    unreadable = sum(1 for e in result.input_errors if not e.skipped)
    if unreadable:
        extra.append(_plural(unreadable, "unreadable path"))
    if len(result.input_errors) > unreadable:
        extra.append(f"{len(result.input_errors) - unreadable} skipped")
    if result.not_analysed:
        extra.append(
            f"{len(result.not_analysed)} not analysed: " + "; ".join(f"{p}: {w}" for p, w in result.not_analysed)
        )
    tail = f" ({'; '.join(extra)})" if extra else ""
    if not result.findings:
        return f"No problems found in {files}{tail}."
    parts = [_plural(counts[s], s.label) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE) if counts[s]]
    return f"Found {_plural(len(result.findings), 'problem')} ({', '.join(parts)}) in {files}{tail}."
