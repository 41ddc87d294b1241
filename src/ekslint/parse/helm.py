"""``helm template`` output read from stdin: each document back to its template.

``helm template`` writes every rendered document after a ``---`` line and a
``# Source: <chart>/templates/<file>`` comment (helm pkg/action/action.go,
``renderResources``: ``fmt.Fprintf(b, "---\\n# Source: %s\\n%s\\n", m.Name, m.Content)``).
ekslint reports each document at that template path. Lines count within the
template's rendered output: the documents of one template, in stream order, joined by
``---`` lines (line 1 is the ``# Source:`` comment of its first document). Templates are
rendered text, not the template source, so a line number names the rendered line.
"""

from __future__ import annotations

import re

_SOURCE = re.compile(r"^# Source: (\S[^\r\n]*?)[ \t\r]*$", re.M)
_FENCE = re.compile(r"^---[ \t]*(?:#[^\n]*)?$", re.M)


def split_rendered(data: bytes) -> list[tuple[str, bytes]] | None:
    """The stream's documents grouped by ``# Source:`` path, in first-seen order; None
    when no document names its source (not helm output: read as one input). Bytes that
    are not UTF-8 pass through unchanged (the file's own reading reports them)."""
    if b"# Source: " not in data:
        return None
    text = data.decode("utf-8", "surrogateescape")
    if not _SOURCE.search(text):
        return None
    groups: dict[str, list[str]] = {}
    for document in _FENCE.split(text):
        body = document.lstrip("\r\n")
        if not body.strip():
            continue
        found = _SOURCE.match(body)
        path = found.group(1).encode("utf-8", "surrogateescape").decode("utf-8", "replace") if found else "-"
        groups.setdefault(path, []).append(body.rstrip("\n") + "\n")
    return [(path, "---\n".join(parts).encode("utf-8", "surrogateescape")) for path, parts in groups.items()]


NOT_RENDERED = "Helm chart not rendered: its templates are not analysed (pass --render-helm with helm on PATH)"
RENDER_TIMEOUT = 60  # seconds per chart


def render_chart(chart_file: str) -> tuple[list[tuple[str, bytes]] | None, str | None]:
    """``helm template <chart dir>`` (never ``helm dependency update``, nothing
    fetched), its documents by template path relative to the working directory, or
    why it could not run. Only the chart directory is passed; values are the chart's."""
    import os
    import shutil
    import subprocess

    helm = shutil.which("helm")
    if helm is None:
        return None, "Helm chart not rendered: --render-helm was given but helm is not on PATH"
    chart_dir = os.path.dirname(chart_file) or "."
    try:
        done = subprocess.run(
            [helm, "template", chart_dir],
            capture_output=True,
            timeout=RENDER_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"Helm chart not rendered: helm template failed ({err})"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"Helm chart not rendered: helm template failed ({message[-1] if message else done.returncode})"
    documents = split_rendered(done.stdout) or []
    placed: list[tuple[str, bytes]] = []
    for source, data in documents:
        # "<chart name>/templates/x.yaml": the chart name stands for the chart directory.
        _, _, inside = source.partition("/")
        placed.append((os.path.join(chart_dir, inside) if inside and source != "-" else chart_file, data))
    return placed, None
