"""ekslint's built-in rules, one per module, registered as the ``EKS`` plugin through
the ``ekslint`` entry-point group exactly as a third-party rule pack would be."""

from __future__ import annotations

import importlib
import pkgutil

from ekslint.plugin import Rule, hookimpl


def _rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("eks"))


@hookimpl
def ekslint_rules() -> list[type[Rule]]:
    rules: list[type[Rule]] = []
    for name in _rule_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        rules.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == module.__name__
        )
    return sorted(rules, key=lambda rule: rule.id)
