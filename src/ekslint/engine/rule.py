"""What a rule is: its public metadata, its documentation and its check.

A rule is one class in one file. Its ID, kebab-case name, default severity and
one-line summary are class attributes; its documentation is the class docstring,
written in fixed sections (as ruff does) so that ``--explain``, the generated docs
and SARIF's ``help`` all come from that single place::

    ## What it does
    ## Why is this bad?
    ## Example
    ## Use instead
    ## References
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from ekslint.fastpickle import fast_pickle
from ekslint.parse.text import Span

if TYPE_CHECKING:
    from ekslint.model.project import FileModel, Project

RULE_ID = re.compile(r"^[A-Z]{2,8}[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options", "References")
# Where ekslint's own rules are documented (docs/rules/<ID>.md, generated from the rules).
DOCS_BASE_URL = "https://github.com/ekslint/ekslint/blob/main/docs/rules/"


class Severity(IntEnum):
    NOTE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class Scope(Enum):
    FILE = "file"  # sees one file's model; runs independently per file
    PROJECT = "project"  # sees every file and the cross-file index


@fast_pickle
@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a finding (the node group, the selected workload)."""

    span: Span
    message: str


@fast_pickle
@dataclass(frozen=True, slots=True)
class Violation:
    """What a rule yields: where, what is wrong and what to change."""

    span: Span
    message: str
    related: tuple[Related, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Run-wide settings a rule may read."""

    options: dict[str, Any] = field(default_factory=dict)


class Rule:
    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    scope: ClassVar[Scope]
    tags: ClassVar[tuple[str, ...]] = ()
    since: ClassVar[str] = "0.1.0"
    # GitHub code scanning treats rules with a security-severity as security alerts.
    security_severity: ClassVar[str | None] = None
    precision: ClassVar[str] = "high"  # very-high | high | medium | low
    # Where the rule is documented: a rule pack's own page (SARIF helpUri, --explain,
    # --list-rules). Left unset, ekslint's own rules link to ekslint's docs, others to none.
    help_uri: ClassVar[str | None] = None

    def check(self, target: Any, ctx: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError

    @classmethod
    def cache_salt(cls) -> str:
        """What a FILE rule's findings depend on besides its code and the file: data
        files, optional packages. Part of the cache key."""
        return ""

    @classmethod
    def help_url(cls) -> str | None:
        """The rule's documentation page: ``help_uri`` when set, ekslint's docs for
        ekslint's own rules and engine diagnostics, else None (never ekslint's docs
        for a rule ekslint does not document)."""
        if cls.help_uri:
            return cls.help_uri
        if cls.__module__ == "ekslint" or cls.__module__.startswith("ekslint."):
            return f"{DOCS_BASE_URL}{cls.id}.md"
        return None

    @classmethod
    def docs(cls) -> RuleDocs:
        return RuleDocs.parse(inspect.getdoc(cls) or "")

    @classmethod
    def validate(cls) -> list[str]:
        """Problems with the rule's metadata (checked when plugins load)."""
        problems = []
        for attribute in ("id", "name", "severity", "summary", "scope"):
            if not hasattr(cls, attribute):
                problems.append(f"{cls.__qualname__} has no {attribute}")
        if problems:
            return problems
        if not RULE_ID.match(cls.id):
            problems.append(f"{cls.id}: rule IDs look like ABC123")
        if not RULE_NAME.match(cls.name):
            problems.append(f"{cls.id}: name {cls.name!r} is not kebab-case")
        if not isinstance(cls.severity, Severity):
            problems.append(f"{cls.id}: severity must be a Severity")
        if cls.help_uri is not None and not (
            isinstance(cls.help_uri, str) and cls.help_uri.startswith(("https://", "http://"))
        ):
            problems.append(f"{cls.id}: help_uri must be an absolute http(s) URL")
        docs = cls.docs()
        for section in ("What it does", "Why is this bad?"):
            if not docs.sections.get(section):
                problems.append(f"{cls.id}: docstring lacks a '## {section}' section")
        return problems


class FileRule(Rule):
    """A rule that needs one file only."""

    scope = Scope.FILE

    def check(self, target: FileModel, ctx: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError


class ProjectRule(Rule):
    """A rule that reasons across files. In a parallel run it may run in a forked
    copy of the main process, with the other rules of its ID family: it must only
    report, since whatever else it changes stays in that copy."""

    scope = Scope.PROJECT

    def check(self, target: Project, ctx: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class RuleDocs:
    sections: dict[str, str]

    @classmethod
    def parse(cls, doc: str) -> RuleDocs:
        sections: dict[str, str] = {}
        current: str | None = None
        lines: list[str] = []
        for line in doc.splitlines():
            if line.startswith("## "):
                if current is not None:
                    sections[current] = "\n".join(lines).strip()
                current, lines = line[3:].strip(), []
            elif current is not None:
                lines.append(line)
        if current is not None:
            sections[current] = "\n".join(lines).strip()
        return cls(sections)

    @property
    def what(self) -> str:
        return self.sections.get("What it does", "")

    @property
    def what_unwrapped(self) -> str:
        """ "What it does" as plain paragraphs (hard line breaks removed)."""
        return "\n\n".join(" ".join(p.split()) for p in self.what.split("\n\n"))

    @property
    def why(self) -> str:
        return self.sections.get("Why is this bad?", "")

    def markdown(self) -> str:
        return "\n\n".join(f"## {name}\n\n{self.sections[name]}" for name in DOC_SECTIONS if self.sections.get(name))

    def plain(self) -> str:
        return "\n\n".join(f"{name}\n{self.sections[name]}" for name in DOC_SECTIONS if self.sections.get(name))
