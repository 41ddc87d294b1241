"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure): one test
suite per file, one failing test case per finding; a clean run is one passing case."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from ekslint.engine.hookspecs import Formatter, ReportOptions
from ekslint.parse.escape import xml_text

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.engine.finding import Finding
    from ekslint.engine.hookspecs import Registry
    from ekslint.engine.results import RunResult


class JunitFormatter(Formatter):
    name = "junit"
    description = "JUnit XML: a test suite per file, a failing test case per finding"

    def render(self, result: RunResult, registry: Registry, settings: Settings, options: ReportOptions) -> str:
        suites = ET.Element("testsuites", name="ekslint", tests=str(max(1, len(result.findings))))
        suites.set("failures", str(len(result.findings)))
        by_file: dict[str, list[Finding]] = defaultdict(list)
        for finding in result.findings:
            by_file[finding.span.file].append(finding)
        if not by_file:
            suite = ET.SubElement(suites, "testsuite", name="ekslint", tests="1", failures="0")
            ET.SubElement(suite, "testcase", name="ekslint", classname="ekslint")
        for raw_file, findings in sorted(by_file.items()):
            file = xml_text(raw_file)  # a file name or a message may hold what XML cannot
            suite = ET.SubElement(suites, "testsuite", name=file, tests=str(len(findings)), failures=str(len(findings)))
            for finding in findings:
                span = finding.span
                case = ET.SubElement(
                    suite, "testcase", name=f"{finding.rule_id} {span.line}:{span.col}", classname=file, file=file
                )
                case.set("line", str(span.line))
                message = xml_text(finding.message)
                failure = ET.SubElement(case, "failure", message=message, type=finding.rule_id)
                failure.text = (
                    f"{file}:{span.line}:{span.col}: {finding.rule_id} {finding.rule_name} "
                    f"[{finding.severity.label}]\n{message}"
                )
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
