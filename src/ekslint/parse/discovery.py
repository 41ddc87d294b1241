"""Finding input files: walking the trees named on the command line in a stable order,
safely (no symlink out of the tree, no FIFO, no loop), with gitignore-like excludes."""

from __future__ import annotations

import fnmatch
import operator
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ALWAYS_SKIPPED_DIRS = frozenset(
    (".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".ekslint_cache", ".tox", ".venv")
)
# helm pkg/chartutil: a chart directory holds Chart.yaml; templates/ and charts/ (its
# subcharts) are rendered by helm, never read as they are.
HELM_CHART_FILE = "Chart.yaml"
HELM_CHART_DIRS = ("templates", "charts")


@dataclass(slots=True)
class InputError:
    path: str
    message: str
    skipped: bool = False  # not an error: a path deliberately not read (a symlink out of the tree)


OUTSIDE_TREE = "a symlink to a file outside the linted tree is not followed (its content is not read); skipped"


def _outside(target: str, roots: tuple[str, ...]) -> bool:
    return not any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """Path as reports show it: relative to the working directory when inside it."""
    text = os.fspath(path)
    base = os.fspath(cwd) if cwd is not None else os.getcwd()
    absolute = os.path.normpath(os.path.join(base, text))
    if absolute == base:
        return "."
    if absolute.startswith(base.rstrip(os.sep) + os.sep):
        shown = absolute[len(base.rstrip(os.sep)) + 1 :]
    else:
        shown = os.path.normpath(text) if not os.path.isabs(text) else absolute
    return shown.replace(os.sep, "/")


def excluded(relative: str, patterns: Iterable[str]) -> bool:
    """gitignore-like matching: a pattern matches the path, any parent directory, or
    (without a slash) any single path component."""
    parts = relative.split("/")
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if not pat:
            continue
        if "/" in pat:
            pat = pat.lstrip("/")
            if fnmatch.fnmatchcase(relative, pat) or any(
                fnmatch.fnmatchcase("/".join(parts[: i + 1]), pat) for i in range(len(parts))
            ):
                return True
            if pat.endswith("/**") and relative.startswith(pat[:-3] + "/"):
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


def walk(
    paths: list[str], exclude: list[str], errors: list[InputError], stats: dict[str, os.stat_result] | None = None
) -> Iterator[tuple[str, str]]:
    """Files under ``paths`` in a stable order, as ``(path, display path)``, yielded
    as they are found (a parallel run sends them to workers while the rest of the
    tree is listed). Directories in ALWAYS_SKIPPED_DIRS and paths matching
    ``exclude`` are not entered; only regular files are returned (a FIFO is never
    opened) and symlinked directories are not followed (no loops). Paths given
    explicitly are kept even if excluded. A file reached twice under one display
    path (``d ./d/x.yaml``, ``. d``) is returned once. ``stats`` receives each file's
    stat before it is yielded (the cache and de-duplication reuse it); ``errors``
    the paths that could not be read, in walk order."""
    if stats is None:
        stats = {}
    seen: set[str] = set()
    for arg in paths:
        try:
            st = os.stat(arg)
        except OSError as err:
            errors.append(InputError(arg, err.strerror or str(err)))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_tree(arg, display_path(arg), exclude, errors, stats, seen)
        elif stat.S_ISREG(st.st_mode):
            shown = display_path(arg)
            if os.path.islink(arg):
                # A file named on the command line (pre-commit names changed files) that
                # is a symlink: followed only to a file inside the working directory.
                target = os.path.realpath(arg)
                if _outside(target, (os.path.realpath(os.getcwd()),)):
                    if shown not in seen:
                        seen.add(shown)
                        errors.append(InputError(shown, OUTSIDE_TREE, skipped=True))
                    continue
            if shown not in seen:
                stats[arg] = st
                seen.add(shown)
                yield arg, shown
        else:
            errors.append(InputError(arg, "not a regular file"))


def _walk_tree(
    top: str,
    shown_top: str,
    exclude: list[str],
    errors: list[InputError],
    stats: dict[str, os.stat_result],
    seen: set[str],
) -> Iterator[tuple[str, str]]:
    # Depth-first with an explicit stack: a hostile tree cannot exhaust the recursion
    # limit. Display paths are joined as we go (computing each from scratch was a
    # tenth of a one-file pre-commit run in a 10,000-file repository). A symlinked file
    # is followed only when its target is inside the tree (else its content, say
    # ~/.aws/credentials, would be quoted into a public SARIF report).
    # The syscalls (a scandir per directory, a stat per file) are most of the cost; the
    # per-file Python work is kept to plain operations on locals.
    stack = [(top, shown_top)]
    roots = (os.path.realpath(top),)
    follow_stat, is_regular = os.stat, stat.S_ISREG
    while stack:
        folder, shown_folder = stack.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=_entry_name)
        except OSError as err:
            errors.append(InputError(display_path(err.filename or folder), err.strerror or str(err)))
            continue
        prefix = _join(shown_folder, "")
        subdirs = []
        # A Helm chart's templates are not YAML until rendered (helm.py renders them
        # on request); its Chart.yaml stands for the chart.
        chart = any(entry.name == HELM_CHART_FILE for entry in entries)
        for entry in entries:
            name = entry.name
            shown = prefix + name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if chart and name in HELM_CHART_DIRS:
                    continue
                if name not in ALWAYS_SKIPPED_DIRS and not (exclude and excluded(shown, exclude)):
                    subdirs.append((entry.path, shown))
                continue
            if (exclude and excluded(shown, exclude)) or shown in seen:
                continue
            full = entry.path
            try:
                file_stat = follow_stat(full)  # follows a symlink to the file it names
                link = entry.is_symlink()
            except OSError:
                continue  # a dangling or looping symlink inside a tree is not an input
            if not is_regular(file_stat.st_mode):
                continue  # FIFOs, sockets, devices, symlinks to directories
            if link:
                target = os.path.realpath(full)
                if _outside(target, roots):
                    seen.add(shown)
                    errors.append(InputError(shown, OUTSIDE_TREE, skipped=True))
                    continue
            stats[full] = file_stat
            seen.add(shown)
            yield full, shown
        stack.extend(reversed(subdirs))


_entry_name = operator.attrgetter("name")


def _join(root: str, name: str) -> str:
    return name if root in ("", ".") else f"{root}/{name}"
