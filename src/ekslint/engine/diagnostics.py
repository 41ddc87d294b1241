"""Diagnostics the engine itself emits. They have rule metadata and docs like any
rule, so they can be selected, documented and shown in SARIF, but no check of their
own: the engine reports them when something goes wrong around a rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ekslint.engine.rule import Rule, RuleContext, Scope, Severity, Violation


class EngineDiagnostic(Rule):
    scope = Scope.PROJECT

    def check(self, target: Any, ctx: RuleContext) -> Iterable[Violation]:
        return ()


class RuleCrashed(EngineDiagnostic):
    """## What it does
    Reports that a rule raised an exception on an input instead of finishing its check.

    ## Why is this bad?
    The rule's findings for that input are missing, so a clean result would be a false
    reassurance. ekslint reports the crash where it happened (rule and file), keeps
    running every other rule, and exits with code 2 so that CI does not pass silently.

    ## Example
    ```text
    deploy/web.yaml:1:1: EKS004 [error] rule EKS101 (unsafe-sysctl-not-allowed) failed on this input: ...
    ```

    ## Use instead
    Report the message and the file to the rule's authors (for built-in rules, the
    ekslint issue tracker). Until it is fixed, `--ignore` the crashing rule to get a
    complete run of the others.
    """

    id = "EKS004"
    name = "rule-crashed"
    severity = Severity.ERROR
    summary = "A rule raised an exception; its findings for that input are missing"
    tags = ("internal",)


ENGINE_DIAGNOSTICS: tuple[type[EngineDiagnostic], ...] = (RuleCrashed,)
