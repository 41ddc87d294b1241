"""What the loaded plugins contribute: rules by ID with the plugin that owns each, and
output formats by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ekslint.engine.formatter import Formatter
    from ekslint.engine.rule import Rule


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
