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

A rule may declare options (``Rule.options``, a tuple of ``RuleOption``) that users
set under ``rule-options`` in the config; ``check`` reads them from its
``RuleContext``.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from ekslint.fastpickle import fast_pickle
from ekslint.model import capacity
from ekslint.model.capacity import InstanceTable
from ekslint.parse.text import Span
from ekslint.severity import Severity

if TYPE_CHECKING:
    from ekslint.model.filemodel import FileModel
    from ekslint.model.project import Project

# Where ekslint's own rules are documented (docs/rules/<ID>.md in the repository).
DOCS_BASE_URL = "https://github.com/ekslint/ekslint/blob/main/docs/rules/"
RULE_ID = re.compile(r"^[A-Z]{2,8}[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options", "References")


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
    """What a rule yields: where, what is wrong and what to change.

    ``message`` is the headline a person reads first (what is wrong, and where, in at
    most 120 characters), ``detail`` why it matters and what to change. A rule that
    leaves ``detail`` empty writes one message, and its headline is derived from it
    (its first sentence or clause, see ``ekslint.engine.headline``)."""

    span: Span
    message: str
    related: tuple[Related, ...] = ()
    # What tells this finding apart from the rule's other findings at the same key, for
    # a fingerprint that does not depend on which of them a run reports (EKS403: the
    # set of overlapping PDBs). Most rules have one finding per key and leave it empty.
    identity: str = ""
    detail: str = ""


# The types an option may have: ``list`` is a list of strings.
OPTION_TYPES: dict[type, str] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    list: "list of strings",
}


@dataclass(frozen=True, slots=True)
class RuleOption:
    """A setting a rule declares and users set under ``rule-options`` in the config.

    ``type`` is int, float, str, bool or list (of strings, held as a tuple);
    ``minimum`` and ``maximum`` (inclusive) bound numbers, ``choices`` lists the
    values allowed (for a list: of each item)."""

    name: str  # kebab-case, as written in the config
    type: type
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def type_name(self) -> str:
        return OPTION_TYPES.get(self.type, getattr(self.type, "__name__", repr(self.type)))

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be this option's value, or None when it can."""
        if not self._has_type(value):
            return f"expected {_article(self.type_name)}, got {_shown(value)} ({_kind(value)})"
        items = list(value) if self.type is list else [value]
        if self.choices is not None:
            wrong = [item for item in items if item not in self.choices]
            if wrong:
                allowed = ", ".join(_shown(c) for c in self.choices)
                return f"must be one of {allowed}, got {_shown(wrong[0])}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {_shown(self.minimum)}, got {_shown(value)}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {_shown(self.maximum)}, got {_shown(value)}"
        return None

    def convert(self, value: Any) -> Any:
        """A valid value as rules read it: an int for a float option is a float, a
        list a tuple."""
        if self.type is float:
            return float(value)
        if self.type is list:
            return tuple(value)
        return value

    def _has_type(self, value: Any) -> bool:
        if isinstance(value, bool):  # a bool is an int to Python, never to a config
            return self.type is bool
        if self.type is float:
            return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
        if self.type is list:
            return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
        return self.type in (int, str) and isinstance(value, self.type)

    def declaration_problems(self) -> list[str]:
        """What is wrong with the declaration itself (checked when plugins load)."""
        if not isinstance(self.name, str) or not RULE_NAME.match(self.name):
            return [f"option name {self.name!r} is not kebab-case"]
        if self.type not in OPTION_TYPES:
            return [f"option {self.name!r}: its type must be int, float, str, bool or list"]
        problems = []
        if not isinstance(self.description, str) or not self.description.strip():
            problems.append(f"option {self.name!r} has no description")
        bounds = [b for b in (self.minimum, self.maximum) if b is not None]
        if bounds and self.type not in (int, float):
            problems.append(f"option {self.name!r}: only int and float options have a minimum or maximum")
        elif any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in bounds):
            problems.append(f"option {self.name!r}: minimum and maximum must be numbers")
        elif len(bounds) == 2 and bounds[0] > bounds[1]:
            problems.append(f"option {self.name!r}: minimum {bounds[0]!r} is above maximum {bounds[1]!r}")
        if self.choices is not None:
            item_type = str if self.type is list else self.type
            if self.type is bool or not isinstance(self.choices, tuple) or not self.choices:
                problems.append(f"option {self.name!r}: choices must be a non-empty tuple (not for bool options)")
            elif not all(isinstance(c, item_type) and not isinstance(c, bool) for c in self.choices):
                problems.append(f"option {self.name!r}: choices must be values of the option's type")
        if not problems and (wrong := self.problem(self.default)) is not None:
            problems.append(f"option {self.name!r}: default {_shown(self.default)}: {wrong}")
        return problems


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


_KINDS = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping"}


def _kind(value: Any) -> str:
    return "nothing" if value is None else _KINDS.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value as the config would write it (JSON is YAML too)."""
    import json

    try:
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Run-wide settings a rule may read. ``options`` holds the values of the
    options the running rule declares: each default, overridden by the config;
    ``instance_table`` the EC2 instance data of the run (network limits, vCPUs)."""

    options: dict[str, Any] = field(default_factory=dict)
    # How the run loads its instance data: read on first use, so rules that never
    # look at instance types never pay for it.
    load_instance_table: Callable[[], InstanceTable] = capacity.table

    @property
    def instance_table(self) -> InstanceTable:
        return self.load_instance_table()

    def option(self, name: str) -> Any:
        """The value of the running rule's option ``name``."""
        try:
            return self.options[name]
        except KeyError:
            raise KeyError(f"no option {name!r} in this context: declare it in the rule's options") from None


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
    # Settings users may change under rule-options in the config (see RuleOption).
    options: ClassVar[tuple[RuleOption, ...]] = ()
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
        problems += [f"{cls.id}: {problem}" for problem in cls._option_problems()]
        return problems

    @classmethod
    def _option_problems(cls) -> list[str]:
        if not isinstance(cls.options, tuple):
            return ["options must be a tuple of RuleOption"]
        problems: list[str] = []
        seen: set[str] = set()
        for option in cls.options:
            if not isinstance(option, RuleOption):
                problems.append(f"option {option!r} is not a RuleOption")
                continue
            problems += option.declaration_problems()
            if option.name in seen:
                problems.append(f"option {option.name!r} is declared twice")
            seen.add(option.name)
        return problems


class FileRule(Rule):
    """A rule that needs one file only."""

    scope = Scope.FILE

    def check(self, target: FileModel, ctx: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError


class ProjectRule(Rule):
    """A rule that reasons across files. In a parallel run it may run in a forked
    copy of the main process, with the other rules of its ``index_group``: it must
    only report, since whatever else it changes stays in that copy."""

    scope = Scope.PROJECT
    # Rules that read the same project indexes (the sysctl and placement indexes, each
    # node group's pod capacity) name one group: a parallel run checks a group's rules
    # one after another in one process, so those indexes are built once. None: alone.
    index_group: ClassVar[str | None] = None

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
