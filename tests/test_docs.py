"""Generated documentation (docs/rules/*.md, the README rule table) matches the rules."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_generated_docs_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/generate_docs.py", "--check"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_json_format_is_documented() -> None:
    text = (REPO / "docs" / "json-format.md").read_text()
    for key in (
        "version",
        "findings",
        "rule",
        "severity",
        "end_column",
        "fingerprint",
        "related",
        "suppressed",
        "errors",
        "summary",
    ):
        assert f"`{key}`" in text, key


def test_rule_docs_cite_upstream_sources_not_internal_notes() -> None:
    """Users read the rule pages; they do not have the project's domain notes."""
    from tests.conftest import REPO

    citing = [p.name for p in sorted((REPO / "docs" / "rules").glob("*.md")) if "DOMAIN.md" in p.read_text("utf-8")]
    citing += [p.name for p in sorted((REPO / "rules").glob("*.py")) if "DOMAIN.md" in p.read_text("utf-8")]
    assert not citing, f"cite the upstream repository and path instead of DOMAIN.md in {citing}"
