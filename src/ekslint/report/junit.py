"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure): one test
suite per file, one test case per finding. A finding fails its test case when its
severity reaches the fail level (``--fail-on``, default error), as it fails the run;
below it, the case passes and carries the finding as output. Test names hold the
rule and the logical path of the key, never a line number, so a test keeps its name
(and its history) when lines move. A failure's ``message`` is the finding's headline;
its text the location, the headline and the detail. A clean run is one passing case."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import xml_text

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult


def _names(findings: list[Finding]) -> list[str]:
    """``EKS101 unsafe-sysctl-not-allowed at Deployment/shop/api.spec...``; the same
    rule at the same key twice gets ``#2``."""
    seen: dict[str, int] = {}
    names = []
    for finding in findings:
        base = f"{finding.rule_id} {finding.rule_name}"
        if finding.span.logical:
            base += f" at {finding.span.logical}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return names


class JunitFormatter(Formatter):
    name = "junit"
    description = "JUnit XML: a test suite per file, a test case per finding (failing at --fail-on)"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        from xml.etree import ElementTree as ET  # only when a JUnit report is asked for

        failing = [f for f in result.findings if f.severity >= settings.fail_on]
        suites = ET.Element("testsuites", name="ekslint", tests=str(max(1, len(result.findings))))
        suites.set("failures", str(len(failing)))
        by_file: dict[str, list[Finding]] = defaultdict(list)
        for finding in result.findings:
            by_file[finding.span.file].append(finding)
        if not by_file and not result.not_analysed:
            suite = ET.SubElement(suites, "testsuite", name="ekslint", tests="1", failures="0")
            ET.SubElement(suite, "testcase", name="ekslint", classname="ekslint")
        for raw_file, findings in sorted(by_file.items()):
            file = xml_text(raw_file)  # a file name or a message may hold what XML cannot
            fails = sum(1 for f in findings if f.severity >= settings.fail_on)
            suite = ET.SubElement(suites, "testsuite", name=file, tests=str(len(findings)), failures=str(fails))
            for finding, name in zip(findings, _names(findings), strict=True):
                span = finding.span
                case = ET.SubElement(suite, "testcase", name=xml_text(name), classname=file, file=file)
                case.set("line", str(span.line))
                message = xml_text(finding.headline)
                detail = (
                    f"{file}:{span.line}:{span.col}: {finding.rule_id} {finding.rule_name} "
                    f"[{finding.severity.label}]\n{message}"
                )
                if finding.detail:
                    detail += f"\n{xml_text(finding.detail)}"
                if finding.severity >= settings.fail_on:
                    failure = ET.SubElement(case, "failure", message=message, type=finding.rule_id)
                    failure.text = detail
                else:
                    ET.SubElement(case, "system-out").text = detail
        if result.not_analysed:
            # Each input not analysed: a skipped test case (JUnit's "not run"), never a failure.
            suite = ET.SubElement(
                suites, "testsuite", name="ekslint: not analysed", tests=str(len(result.not_analysed))
            )
            suite.set("failures", "0")
            suite.set("skipped", str(len(result.not_analysed)))
            for note in result.not_analysed:
                file = xml_text(note.file)
                case = ET.SubElement(suite, "testcase", name=f"not analysed: {file}", classname=file, file=file)
                ET.SubElement(case, "skipped", message=xml_text(note.reason))
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
