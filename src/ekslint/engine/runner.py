"""One lint run: discover, read, model, check, suppress, sort.

Every stage is fault-isolated: an unreadable path is an input error and the run goes
on; a file ekslint cannot parse is an EKS001 finding; a rule that raises becomes an
EKS004 finding naming the rule and the file, and the other rules still run.
"""

from __future__ import annotations

import fnmatch
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ekslint.config import Settings
from ekslint.engine.diagnostics import RuleCrashed
from ekslint.engine.finding import Finding, assign_fingerprints
from ekslint.engine.plugins import Registry
from ekslint.engine.rule import Rule, RuleContext, Scope, Severity, Violation
from ekslint.engine.suppress import FileSuppressions, scan
from ekslint.model.project import FileModel, Project, build_file_model
from ekslint.parse.sources import InputError, SourceFile, display_path, load_bytes, read_file, walk
from ekslint.parse.text import Span


@dataclass(slots=True)
class RunRequest:
    paths: list[str]
    settings: Settings
    stdin: bytes | None = None
    stdin_name: str = "-"


@dataclass(slots=True)
class RunResult:
    findings: list[Finding] = field(default_factory=list)  # reported
    suppressed: list[Finding] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    crashed: list[Finding] = field(default_factory=list)
    files_seen: int = 0
    files_analysed: int = 0
    rules: list[type[Rule]] = field(default_factory=list)

    def failed(self, fail_on: Severity) -> bool:
        return any(f.severity >= fail_on for f in self.findings)


def matches_codes(rule_id: str, codes: list[str]) -> bool:
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
        sources = self._read(request, result)
        result.files_analysed = len(sources)
        models = [build_file_model(s, self.settings.context, self.settings.limits.yaml) for s in sources]
        project = Project(models, self.settings.context)
        violations = self._check(models, project, result)
        self._finish(violations, sources, result)
        return result

    # -- reading -----------------------------------------------------------------------
    def _read(self, request: RunRequest, result: RunResult) -> list[SourceFile]:
        limits = self.settings.limits
        sources: list[SourceFile] = []
        paths = [p for p in request.paths if p != "-"]
        exclude = [self._exclude_pattern(p) for p in self.settings.exclude]
        files = walk(paths, exclude, result.input_errors)
        if "-" in request.paths and request.stdin is not None:
            result.files_seen += 1
            source = load_bytes(request.stdin_name, request.stdin, limits)
            if source is not None and not source.template:
                sources.append(source)
        for path in files:
            result.files_seen += 1
            try:
                source = read_file(path, display_path(path), limits)
            except OSError as err:
                result.input_errors.append(InputError(display_path(path), err.strerror or str(err)))
                continue
            if source is not None and not source.template:
                sources.append(source)
        return sources

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
        self, violations: list[tuple[type[Rule], Violation]], sources: list[SourceFile], result: RunResult
    ) -> None:
        comments: dict[str, FileSuppressions] = {}
        texts = {s.path: s for s in sources}
        severities = {rule.id: effective_severity(rule, self.settings) for rule in self.rules}
        findings: list[Finding] = []
        for rule, violation in violations:
            finding = Finding(
                rule.id, rule.name, severities[rule.id], violation.message, violation.span, violation.related
            )
            if self._ignored_for_file(rule.id, violation.span.file):
                continue
            source = texts.get(violation.span.file)
            if source is not None:
                if source.path not in comments:
                    content = source.text.content if source.text.collapsed is None else ""
                    comments[source.path] = scan(content)
                finding.suppression = comments[source.path].find(rule.id, violation.span.line)
            findings.append(finding)
        findings.extend(result.crashed)
        assign_fingerprints(findings)
        findings.sort(key=Finding.sort_key)
        result.findings = [f for f in findings if f.suppression is None]
        result.suppressed = [f for f in findings if f.suppression is not None]

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
