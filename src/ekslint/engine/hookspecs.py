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

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ekslint.engine.formatter import Formatter
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
