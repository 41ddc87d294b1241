"""Every rule proves itself on fixtures (Polaris style): ``tests/rules/<ID>/`` holds
``pass.<case>`` and ``fail.<case>`` entries, each a single file or a directory of
files (cross-file cases, with an optional ``.ekslint.yaml``). Expected findings are
written where they occur, as a trailing comment on the offending line::

    - name: net.ipv4.tcp_keepalive_intvl   # expect: EKS101:13

(rule ID and column), or, for files that cannot hold a comment (MIME headers, base64),
in an ``expect.txt`` beside them: ``EKS203 nodes/userdata.mime:11:3``. A case passes
when the findings of its rule (and any EKS001, which would mean a broken fixture) are
exactly the expected ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ekslint.engine import plugins
from tests.conftest import lint

HERE = Path(__file__).parent
MARKER = re.compile(r"#\s*expect:\s*((?:[A-Z]+[0-9]{3}:[0-9]+\s*)+)")


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str  # pass | fail
    path: Path

    @property
    def id(self) -> str:
        return f"{self.rule}/{self.path.name}"

    @property
    def root(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent

    def targets(self) -> list[str]:
        return ["."] if self.path.is_dir() else [self.path.name]

    def expected(self) -> set[tuple[str, str, int, int]]:
        found: set[tuple[str, str, int, int]] = set()
        files = sorted(p for p in self.path.rglob("*") if p.is_file()) if self.path.is_dir() else [self.path]
        for file in files:
            relative = file.relative_to(self.root).as_posix()
            if file.name == "expect.txt":
                for line in file.read_text().splitlines():
                    if line.strip() and not line.startswith("#"):
                        rule, where = line.split()
                        name, number, column = where.rsplit(":", 2)
                        found.add((rule, name, int(number), int(column)))
                continue
            try:
                lines = file.read_text("utf-8").splitlines()
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(lines, start=1):
                m = MARKER.search(line)
                if m:
                    for item in m.group(1).split():
                        rule, column = item.split(":")
                        found.add((rule, relative, number, int(column)))
        return found


def discover() -> list[Case]:
    cases = []
    for rule_dir in sorted(p for p in HERE.iterdir() if p.is_dir() and re.fullmatch(r"[A-Z]+[0-9]{3}", p.name)):
        for entry in sorted(rule_dir.iterdir()):
            kind = entry.name.split(".", 1)[0]
            if kind in ("pass", "fail"):
                cases.append(Case(rule_dir.name, kind, entry))
    return cases


CASES = discover()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture(case: Case) -> None:
    result = lint(case.root, *case.targets(), select=sorted({case.rule, "EKS001"}))
    found = {(f.rule_id, f.span.file, f.span.line, f.span.col) for f in result.findings}
    expected = case.expected()
    if case.kind == "pass":
        assert not {f for f in expected if f[0] == case.rule}, "a pass case must not expect findings of its rule"
    else:
        assert any(f[0] == case.rule for f in expected), "a fail case must expect at least one finding"
    messages = "\n".join(f"{f.span}: {f.rule_id} {f.message}" for f in result.findings)
    assert found == expected, f"findings differ from the expectations:\n{messages}"
    assert not result.crashed, result.crashed


def test_every_rule_has_pass_and_fail_cases() -> None:
    registry = plugins.load()
    covered = {(c.rule, c.kind) for c in CASES}
    for rule_id, owner in registry.owners.items():
        if owner != "EKS":
            continue  # engine diagnostics are tested with the engine
        assert (rule_id, "pass") in covered, f"{rule_id} has no pass fixture"
        assert (rule_id, "fail") in covered, f"{rule_id} has no fail fixture"


def test_messages_say_what_to_change() -> None:
    """Each fail case's messages are actionable: they name a change to make."""
    verbs = re.compile(
        r"\b(add|set|remove|use|allow|lower|keep|move|tolerate|declare|drop|separate|end|save|raise|pin|fix|quote|"
        r"write|encode|re-encode|flatten|check|exclude|replace|put|wrap|run)\b",
        re.I,
    )
    for case in (c for c in CASES if c.kind == "fail"):
        result = lint(case.root, *case.targets(), select=[case.rule])
        for finding in result.findings:
            assert verbs.search(finding.message), f"{case.id}: message does not say what to change: {finding.message}"
