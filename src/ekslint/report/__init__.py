"""ekslint's output formats: a plugin like any other, registered through the
``ekslint`` entry-point group (as ``ekslint.report``), whose ``ekslint_formatters``
hook returns a ``Formatter`` (``ekslint.engine.hookspecs``) per format name."""

from __future__ import annotations

from ekslint.engine.hookspecs import Formatter, hookimpl


@hookimpl
def ekslint_formatters() -> dict[str, type[Formatter]]:
    from ekslint.report.github import GithubFormatter
    from ekslint.report.gitlab import GitlabFormatter
    from ekslint.report.json import JsonFormatter
    from ekslint.report.junit import JunitFormatter
    from ekslint.report.markdown import MarkdownFormatter
    from ekslint.report.sarif import SarifFormatter
    from ekslint.report.text import ConciseFormatter, TextFormatter

    formats = (
        TextFormatter,
        ConciseFormatter,
        JsonFormatter,
        SarifFormatter,
        GithubFormatter,
        GitlabFormatter,
        JunitFormatter,
        MarkdownFormatter,
    )
    return {f.name: f for f in formats}
