"""Generate the rule documentation from the rules themselves.

Writes ``docs/rules/<ID>.md`` for every rule and the rule table in README.md (between
the ``<!-- rules:start -->`` and ``<!-- rules:end -->`` markers), from each rule's
metadata and docstring: one source for the docs, ``ekslint --explain`` and SARIF.

    python scripts/generate_docs.py          # write
    python scripts/generate_docs.py --check  # exit 1 if anything is out of date (CI)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ekslint.engine import plugins
from ekslint.report import ruledocs

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "rules"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def expected_files() -> dict[Path, str]:
    rules = list(plugins.load().rules.values())
    files = {DOCS / f"{rule.id}.md": ruledocs.page(rule) for rule in rules}
    readme = README.read_text("utf-8")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    files[README] = f"{head}{START}\n{ruledocs.table(rules)}\n{END}{tail}"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the generated files are out of date")
    args = parser.parse_args()
    files = expected_files()
    stale = [path for path, content in files.items() if not path.is_file() or path.read_text("utf-8") != content]
    extra = [p for p in DOCS.glob("*.md") if p not in files]
    if args.check:
        for path in stale + extra:
            print(f"out of date: {path.relative_to(ROOT)} (run python scripts/generate_docs.py)", file=sys.stderr)
        return 1 if stale or extra else 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path], "utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
