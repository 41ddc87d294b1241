"""SARIF 2.1.0 for GitHub code scanning, built with sarif-om.

sarif-om has no serializer, and ``attr.asdict`` produces an invalid log (snake_case
names, sentinel defaults such as ``ruleIndex: -1``). The writer below walks the attrs
fields, uses each field's ``schema_property_name`` and drops unset values and attr
defaults, except ``level``, which stays explicit (ANCHORS.md §11).

One run per invocation; every rule's metadata in ``tool.driver.rules``; every result
with an explicit level, a region with all four fields, a URI relative to
``%SRCROOT%`` (the working directory), related locations for the other file of a
cross-file finding, and ekslint's own stable ``partialFingerprints`` key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ekslint import __version__
from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.engine.rule import Rule
from ekslint.parse.escape import json_text
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult
    from ekslint.parse.text import Span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000  # GitHub code scanning rejects more per run
FINGERPRINT_KEY = "ekslint/v1"
_KEEP_DEFAULT = frozenset(("level",))


def to_sarif_json(obj: Any) -> Any:
    """Serialize sarif-om objects by their field metadata."""
    import attr

    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for f in attr.fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None:
                continue
            default = f.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if f.name not in _KEEP_DEFAULT and default is not attr.NOTHING and value == default:
                continue
            out[f.metadata.get("schema_property_name", f.name)] = to_sarif_json(value)
        return out
    if isinstance(obj, dict):
        return {k: to_sarif_json(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_sarif_json(v) for v in obj]
    return obj


_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


class SarifFormatter(Formatter):
    name = "sarif"
    description = "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        log = self.build(result, registry, options)
        return json_text(json.dumps(to_sarif_json(log), indent=2, ensure_ascii=False)) + "\n"

    def build(self, result: RunResult, registry: Registry, options: ReportOptions) -> Any:
        import sarif_om as om

        root = Path(options.working_directory).resolve()
        rules = list(registry.rules.values())
        index = {rule.id: i for i, rule in enumerate(rules)}
        findings = list(result.findings)
        if options.include_suppressed:
            findings = sorted(findings + result.suppressed, key=lambda f: f.sort_key())
        if len(findings) > MAX_RESULTS:
            self.notices.append(
                f"SARIF output holds the first {MAX_RESULTS:,} of {len(findings):,} results: GitHub code scanning "
                "rejects more per run; use --select/--ignore or a baseline to narrow the run"
            )
            findings = findings[:MAX_RESULTS]
        results = [self._result(om, f, index, root) for f in findings]

        notifications = [
            om.Notification(
                message=om.Message(text=f"{error.path}: {error.message}"),
                level="warning" if error.skipped else "error",
                locations=[
                    om.Location(
                        physical_location=om.PhysicalLocation(artifact_location=self._artifact(om, error.path, root))
                    )
                ],
            )
            for error in result.input_errors
        ]
        notifications += [
            om.Notification(
                message=om.Message(text=f"{path}: not analysed: {why}"),
                level="note",
                locations=[
                    om.Location(physical_location=om.PhysicalLocation(artifact_location=self._artifact(om, path, root)))
                ],
            )
            for path, why in result.not_analysed
        ]
        invocation = om.Invocation(
            execution_successful=not result.crashed,
            tool_execution_notifications=notifications or None,
            working_directory=om.ArtifactLocation(uri=root.as_uri() + "/"),
            command_line=" ".join(options.command_line) or None,
        )
        run = om.Run(
            tool=om.Tool(
                driver=om.ToolComponent(
                    name="ekslint",
                    semantic_version=__version__,
                    version=__version__,
                    information_uri="https://github.com/ekslint/ekslint",
                    rules=[self._descriptor(om, rule) for rule in rules],
                )
            ),
            results=results,
            invocations=[invocation],
            original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=root.as_uri() + "/")},
            column_kind="unicodeCodePoints",
        )
        if options.sarif_category:
            run.automation_details = om.RunAutomationDetails(id=options.sarif_category.rstrip("/") + "/")
        return om.SarifLog(version="2.1.0", schema_uri=SARIF_SCHEMA, runs=[run])

    @staticmethod
    def _descriptor(om: Any, rule: type[Rule]) -> Any:
        from ekslint.report.ruledocs import documented

        docs = documented(rule)  # the docstring and the options the rule declares
        url = rule.help_url()  # the rule's own page; None: no helpUri rather than a wrong one
        markdown = docs.markdown() or rule.summary
        if url:
            markdown += f"\n\n[Documentation for {rule.id}]({url})"
        properties: dict[str, Any] = {"tags": list(rule.tags), "precision": rule.precision}
        if rule.security_severity:
            properties["security-severity"] = rule.security_severity
            properties["tags"] = [*properties["tags"], "security"]
        return om.ReportingDescriptor(
            id=rule.id,
            name=rule.name,
            short_description=om.MultiformatMessageString(text=rule.summary),
            full_description=om.MultiformatMessageString(text=(docs.what_unwrapped or rule.summary)[:1024]),
            help=om.MultiformatMessageString(text=docs.plain() or rule.summary, markdown=markdown),
            help_uri=url,
            default_configuration=om.ReportingConfiguration(level=_LEVELS[rule.severity]),
            properties=properties,
        )

    def _result(self, om: Any, finding: Finding, index: dict[str, int], root: Path) -> Any:
        result = om.Result(
            rule_id=finding.rule_id,
            rule_index=index.get(finding.rule_id, -1),
            level=_LEVELS[finding.severity],
            message=om.Message(text=finding.message),
            locations=[self._location(om, finding.span, root)],
            partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        )
        if finding.related:
            result.related_locations = [
                self._location(om, r.span, root, message=r.message, ident=i)
                for i, r in enumerate(finding.related, start=1)
            ]
        if finding.suppression is not None:
            result.suppressions = [om.Suppression(kind="inSource", justification=finding.suppression.reason or None)]
        return result

    def _artifact(self, om: Any, path: str, root: Path) -> Any:
        """Reports show paths relative to the working directory (= %SRCROOT%) when the
        file is inside it; anything else becomes an absolute file: URI."""
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.relative_to(root)
            except ValueError:
                return om.ArtifactLocation(uri=p.as_uri())
        return om.ArtifactLocation(uri=quote(p.as_posix()), uri_base_id=SRCROOT)

    def _location(self, om: Any, span: Span, root: Path, message: str | None = None, ident: int | None = None) -> Any:
        end_line, end_col = span.end_line, span.end_col
        if (end_line, end_col) <= (span.line, span.col):
            end_line, end_col = span.line, span.col + 1
        return om.Location(
            id=ident,
            message=om.Message(text=message) if message else None,
            physical_location=om.PhysicalLocation(
                artifact_location=self._artifact(om, span.file, root),
                region=om.Region(start_line=span.line, start_column=span.col, end_line=end_line, end_column=end_col),
            ),
        )
