"""One lint run: discover, read, model, check, then decide what is reported.

Every stage is fault-isolated: an unreadable path is an input error and the run goes
on; a file ekslint cannot parse is an EKS001 finding; a rule that raises becomes an
EKS004 finding naming the rule and the file, and the other rules still run.

With a context (pre-commit passes only the changed files), the files of the context
are read too, so cross-file rules see the node groups and workloads that did not
change, but findings are reported only for the files asked about, and for findings
elsewhere with a related location in them (the PDB a change of replicas broke).
"""

from __future__ import annotations

import fnmatch
import gc
import os
import stat as stat_module
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import chain

from ekslint import __version__
from ekslint.config import Settings
from ekslint.engine import isolation, parallel, stamps
from ekslint.engine.analysis import (
    FileAnalyser,
    FileOutcome,
    construct_rule,
    context_only,
    crash_finding,
    run_rule,
    unpack,
)
from ekslint.engine.cache import Cache, content_digest
from ekslint.engine.diagnostics import EngineDiagnostic, UnusedSuppression
from ekslint.engine.finding import Finding, assign_fingerprints
from ekslint.engine.hookspecs import Registry
from ekslint.engine.options import options_for, resolve_rule_options
from ekslint.engine.parallel import WorkItem
from ekslint.engine.reach import only_cluster, reach, with_builds
from ekslint.engine.results import NotAnalysed, RunRequest, RunResult
from ekslint.engine.rule import Rule, RuleContext, Scope, Violation
from ekslint.engine.suppress import FileSuppressions, Suppression
from ekslint.model import kbuild
from ekslint.model.project import Project
from ekslint.parse.discovery import HELM_CHART_FILE, InputError, Listings, exclude_from_cwd, walk
from ekslint.parse.helm import NOT_RENDERED, render_chart, split_rendered
from ekslint.parse.sources import read_head
from ekslint.parse.text import Span
from ekslint.severity import Severity

CONTEXT_UNREADABLE = "a --context file: the cross-file checks of this run lack its facts"


_EFFECTIVE_IDS = os.access in os.supports_effective_ids
_OWNER = os.geteuid() if hasattr(os, "geteuid") else None


def _readable(path: str, st: os.stat_result) -> bool:
    """Whether ``path`` may still be read (a lost group membership leaves the stat
    as it was; a chmod changes the ctime and so fails the stat check already).
    A file of the user's own with its owner read bit set is: for the owner only
    those bits count, whatever the groups (the usual checkout; 10,000 access()
    calls were a tenth of a one-file run). Else one access() call: half the cost
    of an open and close."""
    if st.st_uid == _OWNER and st.st_mode & stat_module.S_IRUSR:
        return True
    return os.access(path, os.R_OK, effective_ids=_EFFECTIVE_IDS)


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


# What a cross-file rule found, or the EKS004 finding it crashed with.
RuleResult = tuple[list[tuple[str, Violation]], Finding | None]


def index_group(rule: type[Rule]) -> str:
    """The group of cross-file rules a rule is checked with (see
    ``ProjectRule.index_group``); a rule that names none is checked on its own."""
    return getattr(rule, "index_group", None) or rule.id


def effective_severity(rule: type[Rule], settings: Settings) -> Severity:
    best: tuple[int, Severity] | None = None
    for code, severity in settings.severity.items():
        if code == "ALL" or rule.id.startswith(code):
            rank = 0 if code == "ALL" else len(code)
            if best is None or rank > best[0]:
                best = (rank, severity)
    return best[1] if best else rule.severity


def _touches(violation: Violation, targets: set[str]) -> bool:
    """Whether a finding concerns the reported files: its location or any related one
    lies in them (changing a Deployment's replicas breaks the unchanged PDB)."""
    return violation.span.file in targets or any(r.span.file in targets for r in violation.related)


def _without_stdin_file(
    files: Iterable[WorkItem], stdin_name: str, stats: dict[str, os.stat_result]
) -> Iterator[WorkItem]:
    """``files`` without the file on disk that stdin stands for (same display path, or
    the same file reached another way)."""
    try:
        st = os.stat(stdin_name)
        identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except (OSError, ValueError):  # no such file, or a name no file can have (NUL)
        identity = None
    wanted = os.path.normpath(stdin_name)
    for path, shown in files:
        stat = stats.get(path)
        same = identity is not None and stat is not None and (stat.st_dev, stat.st_ino) == identity
        if same or os.path.normpath(shown) == wanted:
            continue
        yield path, shown


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A run allocates millions of short-lived parse nodes, freed by reference
    counting, while the compact facts it keeps grow: the cycle collector then runs
    full collections over everything again and again (a fifth of a 10k-file run).
    Collect less often during the run; what is imported is never garbage."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class Runner:
    def __init__(self, registry: Registry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        if settings.written_options:  # the CLI has done it already; callers of the API may not have
            resolve_rule_options(settings, registry)
        self.rules = enabled_rules(registry, settings)
        self.file_rules = [r for r in self.rules if r.scope is Scope.FILE]
        # The engine's own diagnostics (EKS004, EKS005) have no check: it reports them.
        self._built: set[str] = set()  # files more than one kustomize build consumed
        self.project_rules = [
            r for r in self.rules if r.scope is not Scope.FILE and not issubclass(r, EngineDiagnostic)
        ]

    def run(self, request: RunRequest) -> RunResult:
        # Rules are plugin code: what they print must not reach the report on stdout,
        # and the time limit's alarm ticks only while a run is under way.
        with isolation.stdout_to_stderr(), _fewer_collections():
            isolation.arm(self.settings.rule_time_limit)
            try:
                return self._run(request)
            finally:
                isolation.disarm()

    def _run(self, request: RunRequest) -> RunResult:
        result = RunResult(rules=self.rules)
        cache = self._open_cache(request)
        files, targets, stats = self._discover(request, result, cache.listings if cache is not None else None)
        analyser = FileAnalyser(self.file_rules, self.settings, self.registry.owners)
        outcomes: list[FileOutcome] = []
        if "-" in request.paths and request.stdin is not None:
            rendered = split_rendered(request.stdin)
            if rendered is None:
                result.files_seen += 1
                outcomes.append(analyser.analyse_bytes(request.stdin_name, request.stdin))
            else:  # `helm template ... | ekslint -`: each document at its template's path
                for path, data in rendered:
                    shown = request.stdin_name if path == "-" else path
                    result.files_seen += 1
                    outcomes.append(analyser.analyse_bytes(shown, data))
                    if targets is not None:  # stdin is always reported on, under these names
                        targets.add(shown)
        outcomes.extend(self._analyse(files, targets, stats, analyser, cache, request, result))
        outcomes.extend(self._helm_charts(outcomes, targets, analyser, request, result))
        for outcome in outcomes:
            reported = targets is None or outcome.path in targets
            if outcome.read_error is not None:
                # A context file that cannot be read leaves the cross-file checks
                # without its facts: that is said too, never passed over.
                note = "" if reported else f" ({CONTEXT_UNREADABLE})"
                result.input_errors.append(InputError(outcome.path, outcome.read_error + note))
            if outcome.facts is not None and reported:
                result.files_analysed += 1
            if outcome.not_analysed is not None and reported:
                result.not_analysed.append(NotAnalysed(outcome.path, outcome.not_analysed))
        # A crash on a context file belongs to the run that reports on that file.
        result.crashed.extend(c for o in outcomes if targets is None or o.path in targets for c in o.crashed)
        analysed = [o for o in outcomes if o.facts is not None]
        assembly = kbuild.assemble([o.facts for o in analysed if o.facts is not None])
        sources = assembly.sources
        self._built = set().union(*assembly.consumed.values()) if len(assembly.consumed) > 1 else set()
        result.not_analysed.extend(
            NotAnalysed(path, why) for path, why in assembly.not_analysed if targets is None or path in targets
        )
        project = Project(sources, self.settings.context, reach(sources, with_builds(targets, assembly.consumed)))
        scopes = project.scopes()
        if request.cluster is not None:
            scopes = only_cluster(scopes, project, request.cluster)
            kept = {path for scope in scopes for path in scope.file_paths()}
            analysed = [o for o in analysed if o.path in kept]
            result.files_analysed = sum(1 for o in analysed if targets is None or o.path in targets)
        violations = [v for o in analysed for v in o.violations]
        if "EKS001" in {rule.id for rule in self.rules}:
            violations.extend(("EKS001", Violation(p.span, p.message)) for p in assembly.problems)
        violations.extend(self._check_project(scopes, analysed, result))
        self._finish(violations, analysed, targets, request, result)
        return result

    def _helm_charts(
        self,
        outcomes: list[FileOutcome],
        targets: set[str] | None,
        analyser: FileAnalyser,
        request: RunRequest,
        result: RunResult,
    ) -> list[FileOutcome]:
        """Each Helm chart (its Chart.yaml) rendered with ``helm template`` on request,
        else said once as not analysed."""
        rendered: list[FileOutcome] = []
        for outcome in list(outcomes):
            if (
                not outcome.path.endswith(HELM_CHART_FILE)
                or os.path.basename(outcome.path) != HELM_CHART_FILE
                or outcome.path == request.stdin_name
            ):
                continue
            if targets is not None and outcome.path not in targets:
                continue
            documents, why = render_chart(outcome.path) if request.render_helm else (None, NOT_RENDERED)
            if why is not None:
                result.not_analysed.append(NotAnalysed(outcome.path, why))
            for path, data in documents or ():
                result.files_seen += 1
                rendered.append(analyser.analyse_bytes(path, data))
                if targets is not None:  # the chart is reported on: so are its templates
                    targets.add(path)
        return rendered

    # -- discovery ---------------------------------------------------------------------
    def _discover(
        self, request: RunRequest, result: RunResult, listings: Listings | None
    ) -> tuple[Iterable[WorkItem], set[str] | None, dict[str, os.stat_result]]:
        """The files to analyse as (path, display path), the display paths to report
        on (None: all), and each file's stat from the walk. Without a context the
        files are walked as they are analysed. ``listings``: the cache's directory
        listings, reused where a directory has not changed."""
        exclude = [exclude_from_cwd(p, self.settings.root) for p in self.settings.exclude]
        stats: dict[str, os.stat_result] = {}
        files = walk([p for p in request.paths if p != "-"], exclude, result.input_errors, stats, listings)
        if "-" in request.paths:  # stdin replaces the file of its name, never adds to it
            files = _without_stdin_file(files, request.stdin_name, stats)
        if not request.context:
            return files, None, stats
        given_files = list(files)
        targets = {shown for _, shown in given_files}
        if "-" in request.paths:
            targets.add(request.stdin_name)
        # The same file reached by another path (a symlink) is read once, under the
        # name it was given. Files keep the order a full run of the context has, so a
        # message listing objects of several files reads the same in a one-file run;
        # reported files outside the context come first.
        given = {(stats[path].st_dev, stats[path].st_ino): (path, shown) for path, shown in given_files}
        placed: set[tuple[int, int]] = set()
        ordered: list[WorkItem] = []
        # Context files are read quietly (their findings belong to another run), but
        # a part of the context that cannot be read is an input error: the cross-file
        # checks would silently miss its facts.
        context_errors: list[InputError] = []
        context = walk(request.context, exclude, context_errors, stats, listings)
        if "-" in request.paths:
            context = _without_stdin_file(context, request.stdin_name, stats)
        for path, shown in context:
            identity = (stats[path].st_dev, stats[path].st_ino)
            if identity in given:
                if identity not in placed:
                    placed.add(identity)
                    ordered.append(given[identity])
                continue
            ordered.append((path, shown))
        outside = [f for f in given_files if (stats[f[0]].st_dev, stats[f[0]].st_ino) not in placed]
        known = {error.path for error in result.input_errors}
        result.input_errors.extend(
            InputError(e.path, f"{e.message} ({CONTEXT_UNREADABLE})") for e in context_errors if e.path not in known
        )
        return outside + ordered, targets, stats

    # -- the per-file stage: cache, then serial or parallel ------------------------------
    def _analyse(
        self,
        files: Iterable[WorkItem],
        targets: set[str] | None,
        stats: dict[str, os.stat_result],
        analyser: FileAnalyser,
        cache: Cache | None,
        request: RunRequest,
        result: RunResult,
    ) -> list[FileOutcome]:
        outcomes: list[FileOutcome | None] = []
        analysing: deque[tuple[int, str, str]] = deque()  # (position in outcomes, path, shown)
        everything: set[str] = set()

        def not_cached() -> Iterator[WorkItem]:
            for path, shown in files:
                if targets is None or shown in targets:
                    result.files_seen += 1
                index = len(outcomes)
                outcomes.append(None)
                stat = stats.get(path)  # every walked file has one
                if cache is not None and stat is not None:
                    everything.add(shown)
                    vouched = cache.vouched(shown, stat)
                    if vouched is not None and _readable(path, stat):
                        cache.count_hit()
                        context = targets is not None and shown not in targets
                        outcomes[index] = context_only(shown, vouched) if context else unpack(vouched)
                        continue
                    entry = cache.lookup(shown, stat)
                    # Never answer for a file that can no longer be read: an uncached
                    # run would report it (a content check reads it anyway).
                    if entry is not None and (
                        _readable(path, stat) if entry.trusted_stat else self._same_content(path, entry.digest)
                    ):
                        kept = cache.hit(shown, stat, entry)
                        context = targets is not None and shown not in targets
                        outcomes[index] = context_only(shown, kept) if context else unpack(kept)
                        continue
                analysing.append((index, path, shown))
                yield path, shown

        result.jobs, done = parallel.analyse(not_cached(), analyser, request.jobs, cache is not None)
        for outcome, digest, packed in done:
            index, path, shown = analysing.popleft()
            if outcome.path != shown:
                raise RuntimeError(f"the analysis of {shown} came back as {outcome.path}")
            outcomes[index] = outcome
            if cache is not None and path in stats and digest is not None and packed is not None:
                cache.store(shown, stats[path], digest, packed, outcome.depends)
        if analysing:
            raise RuntimeError(f"{len(analysing)} files never came back from the analysis, {analysing[0][2]} first")
        if cache is not None:
            result.from_cache = cache.hits
            cache.save(everything)
        return [o for o in outcomes if o is not None]

    def _same_content(self, path: str, digest: bytes) -> bool:
        try:
            return content_digest(read_head(path, self.settings.limits)) == digest
        except OSError:
            return False

    def _open_cache(self, request: RunRequest) -> Cache | None:
        if request.cache_dir is None:
            return None
        cache = Cache(request.cache_dir, self._cache_salt())
        if not cache.usable:
            return None
        cache.load()
        return cache

    def _cache_salt(self) -> str:
        """Everything besides a file's content that its outcome depends on: ekslint,
        Python and the parsing libraries, each file rule's code (with the helper
        modules it uses), salt and options, and the settings."""
        parts = [__version__, os.getcwd(), repr(self.settings.context), repr(self.settings.limits)]
        parts += [
            f"{rule.id}={stamps.rule_stamp(rule)}{self._rule_salt(rule)}{self._options_salt(rule)}"
            for rule in self.file_rules
        ]
        parts += [stamps.ekslint_stamp(), stamps.platform_stamp()]
        return "\0".join(parts)

    def _rule_salt(self, rule: type[Rule]) -> str:
        """A plugin's ``cache_salt()``; one that fails makes the key unique (no reuse)."""
        try:
            salt = rule.cache_salt()
            return salt if type(salt) is str else os.urandom(8).hex()
        except Exception:
            return os.urandom(8).hex()

    def _options_salt(self, rule: type[Rule]) -> str:
        """The option values a rule runs with (none declared: nothing, so the keys of
        rules without options stay as they were)."""
        options = options_for(self.settings, rule)
        return f"options={sorted(options.items())!r}" if options else ""

    # -- the cross-file stage ----------------------------------------------------------
    def _check_project(
        self, scopes: list[Project], analysed: list[FileOutcome], result: RunResult
    ) -> list[tuple[str, Violation]]:
        """Every cross-file rule, asked about each cluster of the run in turn (those
        this run reports on); in a parallel run shared with a forked child, an
        index group of rules at a time (a group shares the project's indexes: the
        placement index of the sysctl rules, the capacity of each node group)."""
        where = Span(analysed[0].path, 1, 1, 1, 1) if analysed else Span("-", 1, 1, 1, 1)
        scopes = [scope for scope in scopes if scope.has_reported()]

        owners = self.registry.owners

        def check(rules: list[type[Rule]]) -> list[RuleResult]:
            checked: list[RuleResult] = []
            for rule_class in rules:
                plugin = owners.get(rule_class.id, "?")
                ctx = RuleContext(options=options_for(self.settings, rule_class))
                rule, failure = construct_rule(rule_class, plugin)
                if rule is None:
                    checked.append(([], crash_finding(rule_class, failure or RuntimeError(), where, plugin)))
                    continue
                found: list[tuple[str, Violation]] = []
                crashed: Finding | None = None
                for scope in scopes:
                    more, crashed, _ = run_rule(rule, scope, ctx, where, plugin)
                    found.extend(more)
                    if crashed is not None:
                        break  # said once; its findings in the clusters after this one are missing
                checked.append((found, crashed))
            return checked

        groups: dict[str, list[type[Rule]]] = {}
        for rule_class in self.project_rules:
            groups.setdefault(index_group(rule_class), []).append(rule_class)
        tasks = [partial(check, rules) for rules in groups.values()]
        done = parallel.share_with_fork(tasks) if result.jobs > 1 else [task() for task in tasks]
        ran = [rule for rules in groups.values() for rule in rules]
        by_rule = dict(zip(ran, chain.from_iterable(done), strict=True))
        found: list[tuple[str, Violation]] = []
        for rule_class in self.project_rules:  # serial order, whichever process ran it
            violations, crashed = by_rule[rule_class]
            found.extend(violations)
            if crashed is not None:
                result.crashed.append(crashed)
        return found

    # -- reporting ---------------------------------------------------------------------
    def _finish(
        self,
        violations: list[tuple[str, Violation]],
        analysed: list[FileOutcome],
        targets: set[str] | None,
        request: RunRequest,
        result: RunResult,
    ) -> None:
        suppressions = {o.path: o.suppressions for o in analysed}
        used: dict[int, set[str]] = {}  # id(suppression) -> rule IDs it hid
        severities = {rule.id: effective_severity(rule, self.settings) for rule in self.registry.rules.values()}
        findings: list[Finding] = []
        seen: set[tuple[str, Span, str, str]] = set()
        for rule_id, violation in violations:
            span = violation.span
            if targets is not None and not _touches(violation, targets):
                continue
            # Two kustomize builds of one base (dev, prod) find the same problem in it once
            # (their messages differ only in the names each build gives the objects).
            key = (rule_id, span, "" if span.file in self._built else violation.message, violation.identity)
            if key in seen:
                continue
            seen.add(key)
            if self._ignored_for_file(rule_id, span.file):
                continue
            rule = self.registry.rules[rule_id]
            finding = Finding.of(violation, rule_id, rule.name, severities[rule_id])
            file_suppressions = suppressions.get(span.file)
            if file_suppressions is not None and not request.disallow_suppressions:
                finding.suppression = file_suppressions.find(rule_id, span.line, span.logical)
                if finding.suppression is not None:
                    used.setdefault(id(finding.suppression), set()).add(rule_id)
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
