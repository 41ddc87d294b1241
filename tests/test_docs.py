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
