"""Output formats. Each is a Formatter registered through the ``ekslint_formatters``
hook (built-in ones by this module, exactly like a plugin would)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ekslint.engine.hookspecs import hookimpl

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.plugins import Registry
    from ekslint.engine.runner import RunResult


@dataclass(slots=True)
class ReportOptions:
    color: bool = False
    sarif_category: str | None = None
    include_suppressed: bool = False
    working_directory: str = "."
    command_line: list[str] = field(default_factory=list)


class Formatter:
    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self) -> None:
        self.notices: list[str] = []  # said on stderr by the CLI, never in the report

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        raise NotImplementedError


@hookimpl
def ekslint_formatters() -> dict[str, type[Formatter]]:
    from ekslint.report.github import GithubFormatter
    from ekslint.report.json import JsonFormatter
    from ekslint.report.junit import JunitFormatter
    from ekslint.report.sarif import SarifFormatter
    from ekslint.report.text import TextFormatter

    formats = (TextFormatter, JsonFormatter, SarifFormatter, GithubFormatter, JunitFormatter)
    return {f.name: f for f in formats}
