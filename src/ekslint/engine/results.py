"""What a run is asked to do and what it found: the contract between the command line,
the runner and the output formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ekslint.config import Settings
from ekslint.engine.finding import Finding
from ekslint.engine.rule import Rule
from ekslint.parse.discovery import InputError
from ekslint.severity import Severity


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
    jobs: int | None = None  # worker processes; None: as many as cores when there is enough to do
    cache_dir: Path | None = None  # None: no cache
    render_helm: bool = False  # run `helm template` on chart directories
    cluster: str | None = None  # --cluster: report on this cluster's files only


@dataclass(frozen=True, slots=True)
class NotAnalysed:
    """An input ekslint recognised but could not analyse, and why (a run-level note)."""

    file: str
    reason: str


@dataclass(slots=True)
class RunResult:
    findings: list[Finding] = field(default_factory=list)  # reported
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)  # hidden by --baseline
    input_errors: list[InputError] = field(default_factory=list)
    crashed: list[Finding] = field(default_factory=list)
    # What the run did not analyse, once per file with the reason (a template too dynamic
    # to read, a kustomize build with a remote resource, a Helm chart not rendered).
    not_analysed: list[NotAnalysed] = field(default_factory=list)
    files_seen: int = 0
    files_analysed: int = 0
    from_cache: int = 0  # files whose outcome came from the cache
    jobs: int = 1  # processes that analysed files
    rules: list[type[Rule]] = field(default_factory=list)

    def failed(self, fail_on: Severity) -> bool:
        return any(f.severity >= fail_on for f in self.findings)
