"""One input through everything ekslint does with it: sniffing, parsing, the model and
every rule, with the checks a fuzzer asserts. Shared by ``fuzz/fuzz_lint.py`` (atheris,
long runs) and ``tests/test_fuzz_properties.py`` (hypothesis, in CI).

An input is clean when the run did not raise (an internal error), no rule crashed
(EKS004) and every finding points into its file: line 1..lines+1 (the +1 is the end of
the file; CRLF, CR and LF each end a line), column >= 1, and the end not before the
start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ekslint.config import Settings
from ekslint.engine import plugins
from ekslint.engine.runner import Runner, RunRequest, RunResult

_REGISTRY: plugins.Registry | None = None


def registry() -> plugins.Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = plugins.load()
    return _REGISTRY


def lint_bytes(name: str, data: bytes, settings: Settings | None = None) -> RunResult:
    """Lint one in-memory file, as ``ekslint --stdin-filename NAME -`` does."""
    settings = settings or Settings()
    return Runner(registry(), settings).run(RunRequest(["-"], settings, data, name))


def lint_files(files: dict[str, bytes], settings: Settings | None = None) -> tuple[RunResult, dict[str, bytes]]:
    """Lint several files together (cross-file rules see them all). Returns the result
    and the files keyed by the path findings name them by."""
    settings = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="ekslint-fuzz-") as tmp:
        for relative, data in files.items():
            target = Path(tmp, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        previous = os.getcwd()
        os.chdir(tmp)
        try:
            result = Runner(registry(), settings).run(RunRequest(["."], settings))
        finally:
            os.chdir(previous)
    return result, files


def problems(result: RunResult, files: dict[str, bytes]) -> list[str]:
    """What is wrong with a run: crashed rules and findings outside their file."""
    found = [f"{c.span}: {c.message}" for c in result.crashed]
    for finding in result.findings + result.suppressed + result.baselined:
        span = finding.span
        data = files.get(span.file)
        if data is None:
            found.append(f"{finding.rule_id} names a file that was not linted: {span.file!r}")
            continue
        # Lines as reports count them (CRLF, CR and LF end a line), +1 for the end of the file.
        last_line = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 2
        if not (1 <= span.line <= last_line and 1 <= span.end_line <= last_line):
            found.append(f"{finding.rule_id} line outside 1..{last_line}: {span} (end {span.end_line})")
        if span.col < 1 or span.end_col < 1:
            found.append(f"{finding.rule_id} column below 1: {span}:{span.end_line}:{span.end_col}")
        if (span.end_line, span.end_col) < (span.line, span.col):
            found.append(f"{finding.rule_id} ends before it starts: {span} .. {span.end_line}:{span.end_col}")
    return found


# What no report may hold raw: C0 controls but TAB and LF, DEL, C1, U+2028/2029, the
# bidirectional overrides and isolates, and the BOM.
_UNSAFE = frozenset((*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF)) | frozenset(
    (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
REPORT_FORMATS = ("text", "github", "junit", "json")


def report_problems(result: RunResult, settings: Settings | None = None) -> list[str]:
    """What is wrong with the reports of a run: an unsafe character anywhere, a GitHub
    line that is not a workflow command, JUnit that is not XML, JSON that is not JSON."""
    import json
    import xml.dom.minidom

    from ekslint.engine.hookspecs import ReportOptions

    found = []
    for name in REPORT_FORMATS:
        text = registry().formatters[name]().render(result, registry(), settings or Settings(), ReportOptions())
        bad = sorted({f"U+{ord(c):04X}" for c in text if ord(c) in _UNSAFE})
        if bad:
            found.append(f"{name} report holds {', '.join(bad)}")
        if name == "github" and any(line and not line.startswith("::") for line in text.split("\n")):
            found.append("github report has a line that is not a workflow command")
        try:
            if name == "junit":
                xml.dom.minidom.parseString(text.encode("utf-8"))
            elif name == "json":
                json.loads(text)
        except Exception as err:  # any parse failure is the finding
            found.append(f"{name} report does not parse: {err}")
    return found


def check_bytes(name: str, data: bytes, settings: Settings | None = None, reports: bool = False) -> RunResult:
    """Lint one input and raise AssertionError naming what went wrong; with
    ``reports``, also render the reports and check them."""
    result = lint_bytes(name, data, settings)
    wrong = problems(result, {name: data}) + (report_problems(result, settings) if reports else [])
    if wrong:
        raise AssertionError("\n".join(wrong))
    return result


def check_files(files: dict[str, bytes], settings: Settings | None = None) -> RunResult:
    result, shown = lint_files(files, settings)
    wrong = problems(result, shown)
    if wrong:
        raise AssertionError("\n".join(wrong))
    return result
