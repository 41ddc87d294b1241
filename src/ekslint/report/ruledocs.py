"""Rule documentation from the rules themselves: ``--list-rules``, ``--explain`` and
the generated ``docs/rules/<ID>.md`` pages all render the same metadata and
docstring."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ekslint.engine.options import options_for
from ekslint.engine.rule import RuleDocs

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.rule import Rule, RuleOption


def _effective(rule: type[Rule], settings: Settings) -> str:
    from ekslint.engine.runner import effective_severity

    return effective_severity(rule, settings).label


def list_rules(registry: Registry, settings: Settings, fmt: str) -> str:
    """The rule table as text or a JSON array (the command line writes SARIF with the
    sarif format); ValueError for another format."""
    if fmt not in ("text", "json"):
        raise ValueError(f"--list-rules writes text, json or sarif, not {fmt!r}")
    rules = list(registry.rules.values())
    if fmt == "json":
        data = [
            {
                "id": r.id,
                "name": r.name,
                "severity": _effective(r, settings),
                "default_severity": r.severity.label,
                "scope": r.scope.value,
                "summary": r.summary,
                "tags": list(r.tags),
                "plugin": registry.owners[r.id],
                "docs": r.help_url(),
                "options": [_option_json(o, options_for(settings, r)[o.name]) for o in r.options],
            }
            for r in rules
        ]
        return json.dumps(data, indent=2) + "\n"
    width = max(len(r.name) for r in rules)
    lines = [f"{'ID':<8} {'name':<{width}} {'severity':<8} summary"]
    for r in rules:
        lines.append(f"{r.id:<8} {r.name:<{width}} {_effective(r, settings):<8} {r.summary}")
    return "\n".join(lines) + "\n"


def _option_json(option: RuleOption, value: Any) -> dict[str, Any]:
    return {
        "name": option.name,
        "type": option.type.__name__,
        "default": option.convert(option.default),
        "description": option.description,
        "minimum": option.minimum,
        "maximum": option.maximum,
        "choices": list(option.choices) if option.choices is not None else None,
        "value": value,  # the default unless the config sets it
    }


def _literal(value: Any) -> str:
    """A value as YAML (and JSON) writes it."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _limits(option: RuleOption) -> str:
    low, high = option.minimum, option.maximum
    if option.choices is not None:
        return "one of " + ", ".join(f"`{_literal(c)}`" for c in option.choices)
    if low is not None and high is not None:
        return f"from {_literal(low)} to {_literal(high)}"
    if low is not None:
        return f"at least {_literal(low)}"
    if high is not None:
        return f"at most {_literal(high)}"
    return ""


def options_markdown(rule: type[Rule], settings: Settings | None = None) -> str:
    """The options a rule declares, each with its type, default and bounds (and,
    given the settings, the value they set when it is not the default), then how to
    set them."""
    configured = settings.rule_options.get(rule.id, {}) if settings is not None else {}
    lines = []
    for option in rule.options:
        default = option.convert(option.default)
        facts = ", ".join(x for x in (option.type_name, f"default `{_literal(default)}`", _limits(option)) if x)
        lines.append(f"- `{option.name}` ({facts}): {option.description}")
        if option.name in configured and configured[option.name] != default:
            where = f" in {settings.path}" if settings is not None and settings.path else ""
            lines.append(f"  Set to `{_literal(configured[option.name])}`{where}.")
    lines += [
        "",
        f"Set them under `rule-options` in `.ekslint.yaml` (or in `[tool.ekslint.rule-options.{rule.id}]` "
        "in `pyproject.toml`), by rule ID or name:",
        "",
        "```yaml",
        "rule-options:",
        f"  {rule.id}:",
        *(f"    {o.name}: {_literal(o.convert(o.default))}" for o in rule.options),
        "```",
    ]
    return "\n".join(lines)


def documented(rule: type[Rule], settings: Settings | None = None) -> RuleDocs:
    """The rule's documentation with its declared options as the Options section
    (after any text the docstring gives there), before References."""
    docs = rule.docs()
    if not rule.options:
        return docs
    written = docs.sections.get("Options", "")
    options = f"{written}\n\n{options_markdown(rule, settings)}" if written else options_markdown(rule, settings)
    sections = {name: text for name, text in docs.sections.items() if name not in ("Options", "References")}
    sections["Options"] = options
    sections.update({name: text for name, text in docs.sections.items() if name == "References"})
    return RuleDocs(sections)


def find(registry: Registry, query: str) -> type[Rule] | None:
    return registry.rules.get(query.upper()) or registry.by_name(query.lower())


def explain(registry: Registry, query: str, settings: Settings | None = None) -> tuple[str, bool]:
    rule = find(registry, query)
    if rule is None:
        return f"ekslint: error: no rule {query!r}; see ekslint --list-rules\n", False
    docs = documented(rule, settings)
    head = [
        f"{rule.id} {rule.name} ({rule.severity.label})",
        rule.summary,
        "",
    ]
    body = []
    for name, text in docs.sections.items():
        body += [name, "-" * len(name), text, ""]
    url = rule.help_url()
    if url:
        body.append(f"Documentation: {url}")
    return "\n".join(head + body) + "\n", True


def page(rule: type[Rule]) -> str:
    """The generated docs/rules/<ID>.md page."""
    docs = documented(rule)
    lines = [
        f"# {rule.id} {rule.name}",
        "",
        f"> {rule.summary}",
        "",
        f"- Default severity: **{rule.severity.label}**",
        f"- Scope: {'one file' if rule.scope.value == 'file' else 'cross-file (all analysed files)'}",
        f"- Tags: {', '.join(rule.tags) or '-'}",
        f"- Since: {rule.since}",
        "",
        docs.markdown(),
        "",
        "## Suppressing",
        "",
        f"On the line or the line above: `# ekslint: disable={rule.id} -- reason`; for a whole file:",
        f"`# ekslint: disable-file={rule.id}`; on a Kubernetes object or its pod template: the annotation",
        f'`ekslint.io/ignore: "{rule.id}: reason"`; in the config: `ignore: [{rule.id}]` or `per-file-ignores`.',
        "",
        "<!-- generated by scripts/generate_docs.py from the rule's source; do not edit -->",
        "",
    ]
    return "\n".join(lines)


def table(rules: list[type[Rule]]) -> str:
    rows = ["| ID | name | severity | what it finds |", "|---|---|---|---|"]
    for rule in rules:
        rows.append(
            f"| [{rule.id}](docs/rules/{rule.id}.md) | `{rule.name}` | {rule.severity.label} | {rule.summary} |"
        )
    return "\n".join(rows)
