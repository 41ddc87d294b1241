"""The hooks a plugin implements. Plugins are modules (or objects) registered through
the ``ekslint`` entry-point group; the entry point's name is the rule-ID prefix the
plugin owns (``EKS`` for the built-in rules), flake8 style::

    [project.entry-points.ekslint]
    ACME = "acme_ekslint_rules"

and the module implements the hooks with :data:`hookimpl`::

    from ekslint.plugin import hookimpl

    @hookimpl
    def ekslint_rules():
        return [AcmeNoLatestTag]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import pluggy

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.results import RunResult
    from ekslint.engine.rule import Rule

PROJECT_NAME = "ekslint"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def ekslint_rules() -> list[type[Rule]]:  # type: ignore[empty-body]
    """Rule classes this plugin contributes. Their IDs must start with the plugin's
    entry-point name."""


@hookspec
def ekslint_formatters() -> dict[str, type[Formatter]]:  # type: ignore[empty-body]
    """Output formats by ``--format`` name."""


# -- what the hooks return and what loading them builds ---------------------------------


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


@dataclass(slots=True)
class Registry:
    rules: dict[str, type[Rule]] = field(default_factory=dict)  # by ID, sorted
    owners: dict[str, str] = field(default_factory=dict)  # rule ID -> plugin name
    formatters: dict[str, type[Formatter]] = field(default_factory=dict)

    def by_name(self, name: str) -> type[Rule] | None:
        for rule in self.rules.values():
            if rule.name == name:
                return rule
        return None
