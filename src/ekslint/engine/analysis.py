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
from dataclasses import dataclass, field
from typing import Any

from ekslint.config import Settings
from ekslint.engine import headline as headlines
from ekslint.engine import isolation
from ekslint.engine.cache import Stamp, stamps_of
from ekslint.engine.diagnostics import RuleCrashed
from ekslint.engine.finding import Finding
from ekslint.engine.options import options_for
from ekslint.engine.rule import Related, Rule, RuleContext, Violation
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
    cacheable: bool = True  # False: a rule was stopped or skipped on it (another run may differ)
    # An input that could not be analysed and why (SourceFile.not_analysed): a run-level note.
    not_analysed: str | None = None
    # The other files (and directories) its facts were built from, with their stamps
    # when read: a Terraform templatefile() target, the sibling .tf files of its module.
    # The cache reuses the outcome only while every stamp is unchanged.
    depends: tuple[Stamp, ...] = ()


class FileAnalyser:
    """Runs the per-file stage with one set of file rules and settings. ``owners``
    maps rule IDs to the plugin that registered them (for EKS004 messages)."""

    def __init__(self, file_rules: list[type[Rule]], settings: Settings, owners: dict[str, str] | None = None) -> None:
        self.file_rules = file_rules
        self.settings = settings
        self.owners = dict(owners or {})
        # A rule whose constructor fails is reported on every file (None here).
        self.rules: list[Rule | None] = []
        self.broken: dict[str, BaseException] = {}
        for rule_class in file_rules:
            instance, failure = construct_rule(rule_class, self.owners.get(rule_class.id, "?"))
            self.rules.append(instance)
            if failure is not None:
                self.broken[rule_class.id] = failure
        begin_run()  # the run's total of inflated gzip data, counted in each process
        # Each rule reads its own options.
        self.contexts = [RuleContext(options=options_for(settings, rule)) for rule in file_rules]
        self.plugins = [self.owners.get(rule.id, "?") for rule in file_rules]
        # Rules stopped at their time limit in this process: not run on later files.
        self.stopped: dict[str, str] = {}

    def analyse_bytes(self, shown: str, data: bytes) -> FileOutcome:
        try:
            source = load_bytes(shown, data, self.settings.limits)
            if source is None:
                return FileOutcome(shown)
            if source.not_analysed is not None:
                return FileOutcome(shown, not_analysed=source.not_analysed)
            model = build_file_model(source, self.settings.context, self.settings.limits.yaml)
            model.problems.extend(shapes.check_file(model))
        except RecursionError:
            return _failed(shown, "the file nests too deeply to read; flatten it or lower limits.max-yaml-depth")
        except Exception as err:  # a bug in ekslint: say which file, keep the run going
            return _failed(
                shown, f"ekslint could not read this file ({_error_text(err)}); please report it"
            )  # fmt: skip
        return self.analyse_model(model)

    def analyse_model(self, model: FileModel) -> FileOutcome:
        source = model.source
        outcome = FileOutcome(source.path, model.facts(), suppressions=_suppressions(model))
        # Built from other files too (a Terraform templatefile, the module's other .tf
        # files): its content alone does not key it, their stamps do too.
        if model.reads_files or model.module_files:
            outcome.depends = stamps_of([*model.reads_files, *model.module_files])
        where = Span(model.path, 1, 1, 1, 1)
        for rule_class, rule, ctx, plugin in zip(self.file_rules, self.rules, self.contexts, self.plugins, strict=True):
            if rule is None:
                outcome.crashed.append(crash_finding(rule_class, self.broken[rule_class.id], where, plugin))
                continue
            if rule_class.id in self.stopped:
                outcome.cacheable = False  # its findings here are missing
                continue
            found, crashed, timed_out = run_rule(rule, model, ctx, where, plugin)
            outcome.violations.extend(found)
            if crashed is not None:
                outcome.crashed.append(crashed)
            if timed_out:
                self.stopped[rule_class.id] = model.path
                outcome.cacheable = False
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
        outcome.path,
        None,
        outcome.violations,
        outcome.crashed,
        outcome.suppressions,
        outcome.read_error,
        True,
        outcome.not_analysed,
        outcome.depends,
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


# Per rule call: a rule yielding without end is stopped before it fills the memory.
MAX_VIOLATIONS = 100_000


class NotAViolation(Exception):
    """A rule yielded something other than a well-formed ``Violation``."""


def construct_rule(rule_class: type[Rule], plugin: str) -> tuple[Rule | None, BaseException | None]:
    isolation.enter(rule_class, plugin)
    try:
        instance = rule_class()
    except KeyboardInterrupt:
        isolation.leave()
        raise
    except BaseException as err:
        isolation.leave()
        return None, err
    isolation.leave()
    return instance, None


def run_rule(
    rule: Rule, target: Any, ctx: RuleContext, where: Span, plugin: str
) -> tuple[list[tuple[str, Violation]], Finding | None, bool]:
    """``rule.check(target, ctx)``, isolated: its violations (each checked to be
    one), or the EKS004 finding for whatever it did instead (raised, called
    ``sys.exit`` or ``os._exit``, yielded something else, ran out of time), and
    whether it ran out of time."""
    isolation.enter(rule, plugin)
    try:
        found = []
        for violation in rule.check(target, ctx):
            found.append((rule.id, _checked(violation)))
            if len(found) > MAX_VIOLATIONS:
                raise NotAViolation(f"it yielded more than {MAX_VIOLATIONS:,} violations")
    except KeyboardInterrupt:
        isolation.leave()
        raise
    except BaseException as err:
        isolation.leave()  # first: a late alarm must not land in this handler
        return [], crash_finding(rule, err, where, plugin), isinstance(err, isolation.RuleTimeout)
    isolation.leave()
    return found, None, False


def _checked(found: object) -> Violation:
    """A plain ``Violation`` of plain values (a plugin's subclass is rebuilt), or
    NotAViolation: whatever a rule yields is pickled, cached and reported."""
    if isinstance(found, Violation):
        span, message, related = found.span, found.message, found.related
        if (
            _plain_span(span)
            and type(message) is str
            and type(found.detail) is str
            and type(found.identity) is str
            and type(related) is tuple
            and all(isinstance(r, Related) and _plain_span(r.span) and type(r.message) is str for r in related)
        ):
            if type(found) is Violation and all(type(r) is Related for r in related):
                return found
            rebuilt = tuple(Related(r.span, r.message) for r in related)
            return Violation(span, message, rebuilt, identity=found.identity, detail=found.detail)
        raise NotAViolation(
            "it yielded a Violation whose span, message or related places (or detail, identity) are not a Span "
            "and strings"
        )
    raise NotAViolation(f"it yielded {_type_name(found)}, not a Violation")


def _plain_span(span: object) -> bool:
    return (
        type(span) is Span
        and type(span.file) is str
        and type(span.line) is int
        and type(span.col) is int
        and type(span.end_line) is int
        and type(span.end_col) is int
        and type(span.logical) is str
    )


_MAX_ERROR_TEXT = 500


def crash_finding(rule: Rule | type[Rule], err: BaseException, where: Span, plugin: str | None = None) -> Finding:
    """EKS004: the rule and its plugin, what went wrong and where in the rule."""
    location = _raised_at(err)
    origin = f"at {location}" if location else "where unknown"
    if plugin:
        origin += f", plugin {plugin}"
    if isinstance(err, isolation.RuleTimeout):
        what = (
            f"did not finish within its time limit of {err.limit:g} s (limits.rule-time-limit) and was stopped "
            f"({origin}); its findings here are missing, and it was not run on the files after this one in the "
            "same process; the other rules ran. Raise limits.rule-time-limit if it is only slow, else report it"
        )
        head = f"rule {rule.id} ({rule.name}) did not finish within its time limit of {err.limit:g} s"
        return _crashed(f"rule {rule.id} ({rule.name}) {what}", where, head)
    if isinstance(err, isolation.RuleExited):
        detail = f"it called {err.how}({'' if err.code is None else _short(err.code)})"
    elif isinstance(err, SystemExit):
        detail = f"it called sys.exit({_short(err.code)})"
    elif isinstance(err, NotAViolation):
        detail = _error_text(err, with_type=False)
    else:
        detail = _error_text(err)
    head = f"rule {rule.id} ({rule.name}) failed on this input: {detail}"
    message = (
        f"{head} ({origin}); its findings here are missing, the other rules ran. "
        "Please report this with the file that triggers it."
    )
    return _crashed(message, where, head)


def _raised_at(err: BaseException) -> str:
    """file:line of the innermost frame (read from the traceback, not the source)."""
    tb = err.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{_type_name(value)}>"
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: object) -> str:
    try:
        name = type(value).__name__
        return name if isinstance(name, str) else "an object"
    except Exception:
        return "an object"


def _error_text(err: BaseException, with_type: bool = True) -> str:
    """``Type: text`` of an exception, whatever its ``__str__`` does (raises, returns
    no string, returns megabytes)."""
    try:
        text = str(err)
        if type(text) is not str:
            raise TypeError("__str__ returned no string")
    except Exception as inner:
        text = f"<its message could not be shown: {_type_name(inner)} in __str__>"
    if len(text) > _MAX_ERROR_TEXT:
        text = text[:_MAX_ERROR_TEXT] + "..."
    return f"{_type_name(err)}: {text}" if with_type else text


def _crashed(message: str, where: Span, head: str = "") -> Finding:
    """EKS004; ``head``, the start of ``message``, is its headline when it fits."""
    finding = Finding(RuleCrashed.id, RuleCrashed.name, RuleCrashed.severity, message, where)
    if head and message.startswith(head):
        headline = headlines.shorten(head)
        rest = message[len(head) :].strip()
        finding.headline, finding.detail = headline, (message if headline != head else rest)
    return finding


def _failed(shown: str, message: str) -> FileOutcome:
    return FileOutcome(shown, crashed=[_crashed(message, Span(shown, 1, 1, 1, 1))])


def _suppressions(model: FileModel) -> FileSuppressions:
    source = model.source
    # Userdata decoded from base64/gzip has no comments a reader could have written.
    content = source.text.content if source.text.collapsed is None else ""
    if source.raw is not None and source.text.collapsed is None:
        content = source.raw  # a rendered template: its comments are in the file's own text
    found = scan(content, source.path)
    for target, value, span in model.ignore_annotations:
        add_annotation(found, target, value, span)
    return found
