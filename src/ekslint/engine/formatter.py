"""The output-format protocol. A format is a plugin contribution like a rule: a
``Formatter`` subclass returned by the ``ekslint_formatters`` hook (ekslint's own
formats come through the same hook, from ``ekslint.report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.registry import Registry
    from ekslint.engine.results import RunResult


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
