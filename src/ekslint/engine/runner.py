"""One lint run: discover, read, model, check, then decide what is reported.

Every stage is fault-isolated: an unreadable path is an input error and the run goes
on; a file ekslint cannot parse is an EKS001 finding; a rule that raises becomes an
EKS004 finding naming the rule and the file, and the other rules still run.

With a context (pre-commit passes only the changed files), the files of the context
are read too, so cross-file rules see the node groups and workloads that did not
change, but findings are reported only for the files asked about.
"""

from __future__ import annotations

import fnmatch
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ekslint.config import Settings
from ekslint.engine.diagnostics import RuleCrashed, UnusedSuppression
from ekslint.engine.finding import Finding, assign_fingerprints
from ekslint.engine.plugins import Registry
from ekslint.engine.rule import Rule, RuleContext, Scope, Severity, Violation
from ekslint.engine.suppress import FileSuppressions, Suppression, add_annotation, scan
from ekslint.model.project import FileModel, Project, build_file_model
from ekslint.parse.sources import InputError, SourceFile, display_path, load_bytes, read_file, walk
from ekslint.parse.text import Span


@dataclass(slots=True)
class RunRequest:
    paths: list[str]
    settings: Settings
    stdin: bytes | None = None
    stdin_name: str = "-"
    context: list[str] = field(default_factory=list)  # read for cross-file facts, not reported
    baseline: frozenset[str] = frozenset()  # fingerprints of findings already known
    report_unused_suppressions: bool = False
    disallow_suppressions: bool = False


@dataclass(slots=True)
class RunResult:
    findings: list[Finding] = field(default_factory=list)  # reported
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)  # hidden by --baseline
    input_errors: list[InputError] = field(default_factory=list)
    crashed: list[Finding] = field(default_factory=list)
    files_seen: int = 0
    files_analysed: int = 0
    rules: list[type[Rule]] = field(default_factory=list)

    def failed(self, fail_on: Severity) -> bool:
        return any(f.severity >= fail_on for f in self.findings)


def matches_codes(rule_id: str, codes: list[str] | tuple[str, ...]) -> bool:
    return any(code == "ALL" or rule_id.startswith(code) for code in codes)


def enabled_rules(registry: Registry, settings: Settings) -> list[type[Rule]]:
    rules = []
    for rule_id, rule in registry.rules.items():
        if settings.select is not None and not matches_codes(rule_id, settings.select):
            continue
        if matches_codes(rule_id, settings.ignore):
            continue
        rules.append(rule)
    return rules


def effective_severity(rule: type[Rule], settings: Settings) -> Severity:
    best: tuple[int, Severity] | None = None
    for code, severity in settings.severity.items():
        if code == "ALL" or rule.id.startswith(code):
            rank = 0 if code == "ALL" else len(code)
            if best is None or rank > best[0]:
                best = (rank, severity)
    return best[1] if best else rule.severity


class Runner:
    def __init__(self, registry: Registry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self.rules = enabled_rules(registry, settings)

    def run(self, request: RunRequest) -> RunResult:
        result = RunResult(rules=self.rules)
        sources, targets = self._read(request, result)
        result.files_analysed = sum(1 for s in sources if targets is None or s.path in targets)
        models = [build_file_model(s, self.settings.context, self.settings.limits.yaml) for s in sources]
        project = Project(models, self.settings.context)
        violations = self._check(models, project, result)
        self._finish(violations, models, targets, request, result)
        return result

    # -- reading -----------------------------------------------------------------------
    def _read(self, request: RunRequest, result: RunResult) -> tuple[list[SourceFile], set[str] | None]:
        """All sources to model, and the display paths to report on (None: all)."""
        limits = self.settings.limits
        sources: list[SourceFile] = []
        exclude = [self._exclude_pattern(p) for p in self.settings.exclude]
        files = walk([p for p in request.paths if p != "-"], exclude, result.input_errors)
        targets: set[str] | None = None
        if request.context:
            targets = {display_path(f) for f in files}
            if "-" in request.paths:
                targets.add(request.stdin_name)
            seen = {os.path.realpath(f) for f in files}
            # Context files are read quietly: their errors belong to another run.
            extra = [f for f in walk(request.context, exclude, []) if os.path.realpath(f) not in seen]
            files = files + extra
        if "-" in request.paths and request.stdin is not None:
            result.files_seen += 1
            source = load_bytes(request.stdin_name, request.stdin, limits)
            if source is not None and not source.template:
                sources.append(source)
        for path in files:
            shown = display_path(path)
            if targets is None or shown in targets:
                result.files_seen += 1
            try:
                source = read_file(path, shown, limits)
            except OSError as err:
                if targets is None or shown in targets:
                    result.input_errors.append(InputError(shown, err.strerror or str(err)))
                continue
            if source is not None and not source.template:
                sources.append(source)
        return sources, targets

    def _exclude_pattern(self, pattern: str) -> str:
        """Config globs are relative to the config file; walking reports paths
        relative to the working directory."""
        root = self.settings.root
        cwd = Path.cwd().resolve()
        if "/" not in pattern.rstrip("/") or root == cwd:
            return pattern
        try:
            prefix = root.relative_to(cwd).as_posix()
        except ValueError:
            return pattern
        return f"{prefix}/{pattern.lstrip('/')}"

    # -- checking ----------------------------------------------------------------------
    def _check(
        self, models: list[FileModel], project: Project, result: RunResult
    ) -> list[tuple[type[Rule], Violation]]:
        found: list[tuple[type[Rule], Violation]] = []
        ctx = RuleContext()
        for rule_class in self.rules:
            rule = rule_class()
            if rule_class.scope is Scope.FILE:
                for model in models:
                    found.extend(self._guarded(rule, model, ctx, Span(model.path, 1, 1, 1, 1), result))
            else:
                where = Span(models[0].path, 1, 1, 1, 1) if models else Span("-", 1, 1, 1, 1)
                found.extend(self._guarded(rule, project, ctx, where, result))
        return found

    def _guarded(
        self, rule: Rule, target: object, ctx: RuleContext, where: Span, result: RunResult
    ) -> list[tuple[type[Rule], Violation]]:
        try:
            return [(type(rule), v) for v in rule.check(target, ctx)]
        except Exception as err:
            frame = traceback.extract_tb(err.__traceback__)[-1]
            location = f"{os.path.basename(frame.filename)}:{frame.lineno}"
            message = (
                f"rule {rule.id} ({rule.name}) failed on this input: {type(err).__name__}: {err} "
                f"(at {location}); its findings here are missing, the other rules ran. "
                "Please report this with the file that triggers it."
            )
            crash = Finding(RuleCrashed.id, RuleCrashed.name, RuleCrashed.severity, message, where)
            result.crashed.append(crash)
            return []

    # -- reporting ---------------------------------------------------------------------
    def _finish(
        self,
        violations: list[tuple[type[Rule], Violation]],
        models: list[FileModel],
        targets: set[str] | None,
        request: RunRequest,
        result: RunResult,
    ) -> None:
        suppressions = {m.path: self._suppressions(m) for m in models}
        used: dict[int, set[str]] = {}  # id(suppression) -> rule IDs it hid
        severities = {rule.id: effective_severity(rule, self.settings) for rule in self.registry.rules.values()}
        findings: list[Finding] = []
        for rule, violation in violations:
            span = violation.span
            if (targets is not None and span.file not in targets) or self._ignored_for_file(rule.id, span.file):
                continue
            finding = Finding(rule.id, rule.name, severities[rule.id], violation.message, span, violation.related)
            file_suppressions = suppressions.get(span.file)
            if file_suppressions is not None and not request.disallow_suppressions:
                finding.suppression = file_suppressions.find(rule.id, span.line, span.logical)
                if finding.suppression is not None:
                    used.setdefault(id(finding.suppression), set()).add(rule.id)
            findings.append(finding)
        if request.report_unused_suppressions and not request.disallow_suppressions:
            findings.extend(self._unused(suppressions, used, targets, severities))
        findings.extend(result.crashed)
        assign_fingerprints(findings)
        findings.sort(key=Finding.sort_key)
        for finding in findings:
            if finding.suppression is not None:
                result.suppressed.append(finding)
            elif finding.fingerprint in request.baseline:
                result.baselined.append(finding)
            else:
                result.findings.append(finding)

    def _suppressions(self, model: FileModel) -> FileSuppressions:
        source = model.source
        content = source.text.content if source.text.collapsed is None else ""
        found = scan(content, source.path)
        for target, value, span in model.ignore_annotations:
            add_annotation(found, target, value, span)
        return found

    def _unused(
        self,
        suppressions: dict[str, FileSuppressions],
        used: dict[int, set[str]],
        targets: set[str] | None,
        severities: dict[str, Severity],
    ) -> list[Finding]:
        """EKS005 for each suppression code that hid nothing, when every rule it names
        ran (a deselected rule cannot tell whether its suppression is still needed)."""
        if UnusedSuppression not in self.rules:
            return []
        enabled = {rule.id for rule in self.rules}
        unused: list[Finding] = []
        for path, file_suppressions in suppressions.items():
            if targets is not None and path not in targets:
                continue
            for suppression in file_suppressions.all:
                hid = used.get(id(suppression), set())
                stale = [
                    code
                    for code in suppression.codes
                    if not any(matches_codes(r, (code,)) for r in hid)
                    and all(r in enabled for r in self.registry.rules if matches_codes(r, (code,)))
                    and any(matches_codes(r, (code,)) for r in self.registry.rules)
                ]
                if stale and not self._ignored_for_file(UnusedSuppression.id, path):
                    unused.append(self._unused_finding(suppression, stale, severities))
        return unused

    @staticmethod
    def _unused_finding(suppression: Suppression, stale: list[str], severities: dict[str, Severity]) -> Finding:
        codes = ", ".join(stale)
        advice = "remove it" if len(stale) == len(suppression.codes) else f"remove {codes} from it"
        message = f"{suppression.describe()} suppresses nothing: no {codes} finding here any more; {advice}"
        return Finding(
            UnusedSuppression.id, UnusedSuppression.name, severities[UnusedSuppression.id], message, suppression.span
        )

    def _ignored_for_file(self, rule_id: str, file: str) -> bool:
        if not self.settings.per_file_ignores:
            return False
        relative = os.path.relpath(os.path.abspath(file), self.settings.root).replace(os.sep, "/")
        for pattern, codes in self.settings.per_file_ignores.items():
            if (fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(file, pattern)) and matches_codes(
                rule_id, codes
            ):
                return True
        return False
