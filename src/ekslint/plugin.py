"""The public API for writing ekslint plugins (rule packs)."""

from ekslint.engine.hookspecs import hookimpl
from ekslint.engine.rule import (
    FileRule,
    ProjectRule,
    Related,
    Rule,
    RuleContext,
    RuleOption,
    Scope,
    Severity,
    Violation,
)

__all__ = [
    "FileRule",
    "ProjectRule",
    "Related",
    "Rule",
    "RuleContext",
    "RuleOption",
    "Scope",
    "Severity",
    "Violation",
    "hookimpl",
]
