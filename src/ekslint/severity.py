"""How serious a finding is. A leaf module: the config, the engine, the reports and
plugins all name severities, and none of them should have to import another for it."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    NOTE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]

    @property
    def label(self) -> str:
        return self.name.lower()
