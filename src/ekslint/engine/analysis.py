"""The per-file stage of a run: read, recognise, parse, model, run the file rules and
find the suppressions, then keep only what the rest of the run needs.

Everything here depends on one file and the settings, nothing else, so it runs the
same in the parent process, in a worker process (``--jobs``) or not at all when the
cache already holds its outcome. The outcome holds no parse tree: file rules have
already looked at it, and the cross-file rules read the compact ``FileFacts``.
"""

from __future__ import annotations

import os
import pickle
import traceback
from dataclasses import dataclass, field

from ekslint.config import Settings
from ekslint.engine.diagnostics import RuleCrashed
from ekslint.engine.finding import Finding
from ekslint.engine.options import options_for
from ekslint.engine.rule import Rule, RuleContext, Violation
from ekslint.engine.suppress import FileSuppressions, add_annotation, scan
from ekslint.fastpickle import fast_pickle
from ekslint.model.facts import FileFacts, PackedFacts
from ekslint.model.filemodel import FileModel, build_file_model
from ekslint.parse.mime import begin_run
from ekslint.parse.sources import load_bytes
from ekslint.parse.text import Span
from ekslint.validation import shapes


@fast_pickle
@dataclass(slots=True)
class FileOutcome:
    """What one file contributes to a run."""

    path: str  # as reports show it
    facts: FileFacts | PackedFacts | None = None  # None: not one of ekslint's inputs (skipped quietly)
    violations: list[tuple[str, Violation]] = field(default_factory=list)  # (rule ID, violation)
    crashed: list[Finding] = field(default_factory=list)  # EKS004
    suppressions: FileSuppressions = field(default_factory=FileSuppressions)
    read_error: str | None = None  # the OS error when the file could not be read


class FileAnalyser:
    """Runs the per-file stage with one set of file rules and settings."""

    def __init__(self, file_rules: list[type[Rule]], settings: Settings) -> None:
        self.file_rules = file_rules
        self.rules = [rule() for rule in file_rules]
        self.settings = settings
        begin_run()  # the run's total of inflated gzip data, counted in each process
        # Each rule reads its own options.
        self.contexts = [RuleContext(options=options_for(settings, rule)) for rule in file_rules]

    def analyse_bytes(self, shown: str, data: bytes) -> FileOutcome:
        try:
            source = load_bytes(shown, data, self.settings.limits)
            if source is None or source.template:
                return FileOutcome(shown)
            model = build_file_model(source, self.settings.context, self.settings.limits.yaml)
            model.problems.extend(shapes.check_file(model))
        except RecursionError:
            return _failed(shown, "the file nests too deeply to read; flatten it or lower limits.max-yaml-depth")
        except Exception as err:  # a bug in ekslint: say which file, keep the run going
            return _failed(shown, f"ekslint could not read this file ({type(err).__name__}: {err}); please report it")
        return self.analyse_model(model)

    def analyse_model(self, model: FileModel) -> FileOutcome:
        source = model.source
        outcome = FileOutcome(source.path, model.facts(), suppressions=_suppressions(model))
        for rule, ctx in zip(self.rules, self.contexts, strict=True):
            try:
                found = [(rule.id, v) for v in rule.check(model, ctx)]
            except Exception as err:
                outcome.crashed.append(crash_finding(rule, err, Span(model.path, 1, 1, 1, 1)))
                continue
            outcome.violations.extend(found)
        return outcome


# Own part, node side, object side, object keys (see ekslint.model.project.object_keys).
Packed = tuple[bytes, bytes | None, bytes | None, str]


def pack(outcome: FileOutcome) -> Packed:
    """The outcome as pickles: what only its own file needs (findings,
    suppressions), and its cross-file facts in two sides a run may never unpack."""
    facts = outcome.facts
    if isinstance(facts, FileFacts):
        facts = PackedFacts.pack(facts)
    local = FileOutcome(
        outcome.path, None, outcome.violations, outcome.crashed, outcome.suppressions, outcome.read_error
    )
    own = pickle.dumps((local, facts is not None), protocol=pickle.HIGHEST_PROTOCOL)
    if facts is None:
        return own, None, None, ""
    return own, facts.nodes, facts.objects, facts.object_keys


def context_only(path: str, packed: Packed) -> FileOutcome:
    """A file read only for context (``--context``): its own findings are never
    reported, so only its facts matter, still packed."""
    _, nodes, objects, keys = packed
    has_facts = nodes is not None or objects is not None
    return FileOutcome(path, PackedFacts(path, nodes, objects, keys) if has_facts else None)


def unpack(packed: Packed) -> FileOutcome:
    own, nodes, objects, keys = packed
    outcome, has_facts = pickle.loads(own)
    assert isinstance(outcome, FileOutcome)
    if has_facts:
        outcome.facts = PackedFacts(outcome.path, nodes, objects, keys)
    return outcome


def crash_finding(rule: Rule, err: Exception, where: Span) -> Finding:
    """EKS004: the rule, the exception and where in the rule it was raised."""
    frame = traceback.extract_tb(err.__traceback__)[-1]
    location = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    message = (
        f"rule {rule.id} ({rule.name}) failed on this input: {type(err).__name__}: {err} "
        f"(at {location}); its findings here are missing, the other rules ran. "
        "Please report this with the file that triggers it."
    )
    return _crashed(message, where)


def _crashed(message: str, where: Span) -> Finding:
    return Finding(RuleCrashed.id, RuleCrashed.name, RuleCrashed.severity, message, where)


def _failed(shown: str, message: str) -> FileOutcome:
    return FileOutcome(shown, crashed=[_crashed(message, Span(shown, 1, 1, 1, 1))])


def _suppressions(model: FileModel) -> FileSuppressions:
    source = model.source
    # Userdata decoded from base64/gzip has no comments a reader could have written.
    content = source.text.content if source.text.collapsed is None else ""
    found = scan(content, source.path)
    for target, value, span in model.ignore_annotations:
        add_annotation(found, target, value, span)
    return found
