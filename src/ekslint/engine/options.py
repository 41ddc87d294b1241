"""Rule options: the values under ``rule-options`` in the config, checked against what
the rules declare (``RuleOption``). Plugins declare options too, so this runs once the
plugins are loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ekslint.config import ConfigError, Settings
from ekslint.parse.text import Span

if TYPE_CHECKING:
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.rule import Rule


def options_for(settings: Settings, rule: type[Rule]) -> dict[str, Any]:
    """The values of every option ``rule`` declares: its default unless configured."""
    configured = settings.rule_options.get(rule.id, {})
    return {o.name: configured.get(o.name, o.convert(o.default)) for o in rule.options}


def resolve_rule_options(settings: Settings, registry: Registry) -> dict[str, dict[str, Any]]:
    """Check ``rule-options`` against the options the rules of ``registry`` declare
    (plugins included, so only once they are loaded) and keep the values in
    ``settings.rule_options``, keyed by rule ID. Raises ConfigError naming each
    unknown rule or option, wrong type and value out of bounds with its position."""
    by_name = {rule.name: rule for rule in registry.rules.values()}
    resolved: dict[str, dict[str, Any]] = {}
    first: dict[str, str] = {}  # rule ID -> how it was first written
    errors: list[str] = []

    def error(span: Span, path: str, message: str) -> None:
        errors.append(f"{span.file}:{span.line}:{span.col}: {path}: {message}")

    for entry in settings.written_options:
        where = f"rule-options.{entry.rule}"
        rule = registry.rules.get(entry.rule.upper()) or by_name.get(entry.rule.lower())
        if rule is None:
            close = _closest(entry.rule.upper(), list(registry.rules)) or _closest(entry.rule.lower(), list(by_name))
            hint = f" (did you mean {close!r}?)" if close else "; see ekslint --list-rules"
            error(entry.key, where, f"unknown rule{hint}")
            continue
        if rule.id in first:
            error(entry.key, where, f"{rule.id} ({rule.name}) is configured twice (also as {first[rule.id]!r})")
            continue
        first[rule.id] = entry.rule
        declared = {option.name: option for option in rule.options}
        values: dict[str, Any] = {}
        for name, written in entry.options.items():
            option = declared.get(name)
            if option is None:
                if not declared:
                    message = f"unknown option: {rule.id} ({rule.name}) has no options"
                else:
                    close = _closest(name, list(declared))
                    message = "unknown option" + (
                        f" (did you mean {close!r}?)" if close else f"; {rule.id} has {', '.join(declared)}"
                    )
                error(written.key, f"{where}.{name}", message)
                continue
            problem = option.problem(written.value)
            if problem is not None:
                error(written.at, f"{where}.{name}", problem)
                continue
            values[name] = option.convert(written.value)
        resolved[rule.id] = values
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors[:10]))
    settings.rule_options = {rule_id: values for rule_id, values in resolved.items() if values}
    return settings.rule_options


def _closest(word: str, candidates: list[str]) -> str | None:
    """The likeliest meant candidate: among difflib's close matches, the fewest edits
    away, a swap of two neighbours counting as one (EKS450 is EKS405, not EKS502)."""
    import difflib

    close = difflib.get_close_matches(word, candidates, 5)
    return min(close, key=lambda c: (_edits(word, c), close.index(c))) if close else None


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of adjacent characters."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
