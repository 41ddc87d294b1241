"""Diagnostics the engine itself emits. They have rule metadata and docs like any
rule, so they can be selected, documented and shown in SARIF, but no check of their
own: the engine reports them when something goes wrong around a rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ekslint.engine.rule import Rule, RuleContext, Scope, Violation
from ekslint.severity import Severity


class EngineDiagnostic(Rule):
    scope = Scope.PROJECT

    def check(self, target: Any, ctx: RuleContext) -> Iterable[Violation]:
        return ()


class RuleCrashed(EngineDiagnostic):
    """## What it does
    Reports that a rule did not finish its check on an input: it raised an exception
    (even one whose message cannot be shown), called `sys.exit` or `os._exit`, yielded
    something that is not a `Violation`, or ran past its time limit
    (`limits.rule-time-limit`, 10 seconds by default) and was stopped. The message
    names the rule, the plugin that registered it and where in its code it was.

    ## Why is this bad?
    The rule's findings for that input are missing, so a clean result would be a false
    reassurance. ekslint reports the crash where it happened (rule and file), keeps
    running every other rule, and exits with code 2 so that CI does not pass silently.
    A rule stopped at its time limit is not run on the files after that one (in the
    same process), so one slow rule cannot hold a run for hours.

    ## Example
    ```text
    deploy/web.yaml:1:1: EKS004 [error] rule EKS101 (unsafe-sysctl-not-allowed) failed on this input: ...
    deploy/web.yaml:1:1: EKS004 [error] rule ACME001 (team-label) did not finish within its time limit of 10 s ...
    ```

    ## Use instead
    Report the message and the file to the rule's authors (for built-in rules, the
    ekslint issue tracker). Until it is fixed, `--ignore` the crashing rule to get a
    complete run of the others; raise `limits.rule-time-limit` for a rule that is only
    slow.
    """

    id = "EKS004"
    name = "rule-crashed"
    severity = Severity.ERROR
    summary = "A rule raised an exception, exited or ran out of time; its findings for that input are missing"
    tags = ("internal",)


class UnusedSuppression(EngineDiagnostic):
    """## What it does
    With `--report-unused-suppressions`, reports a suppression that no longer hides
    anything: an `# ekslint: disable=...` / `disable-file=...` comment or an
    `ekslint.io/ignore` annotation whose rule finds nothing where it applies. Only
    rules that ran are judged: a suppression of a rule left out by `--select` or
    `--ignore` is not reported.

    ## Why is this bad?
    A stale suppression silently hides the next real problem at that place: the
    sysctl allowance that was removed, the PDB that was tightened again. Suppressions
    people can trust are ones that are removed when the reason for them is gone.

    ## Example
    ```yaml
    tolerations:
      # ekslint: disable=EKS402 -- runs on dedicated nodes
      - key: dedicated
        operator: Exists
    ```

    ## Use instead
    ```yaml
    tolerations:
      - key: dedicated
        operator: Exists
    ```

    ## References
    - ruff's RUF100 (unused-noqa) works the same way.
    """

    id = "EKS005"
    name = "unused-suppression"
    severity = Severity.WARNING
    summary = "A suppression comment or annotation no longer suppresses anything"
    tags = ("suppression",)


ENGINE_DIAGNOSTICS: tuple[type[EngineDiagnostic], ...] = (RuleCrashed, UnusedSuppression)
