"""Finding input files: walking the trees named on the command line in a stable order,
safely (no symlink out of the tree, no FIFO, no loop), with gitignore-like excludes."""

from __future__ import annotations

import fnmatch
import os
import stat
import time
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


# A directory's listing, as ``Listings`` keeps it: the directory's device, inode, mtime
# and ctime when it was listed, whether that stat may vouch for the listing, and its
# entries in name order: their names joined by NUL (which no file name holds) and
# their kinds, one byte each (a few objects per directory unpickle faster than a
# tuple per entry).
Listing = tuple[int, int, int, int, bool, str, bytes]
Entries = tuple[list[str], bytes]  # names in order, and their kinds
FILE, DIRECTORY, SYMLINK = 0, 1, 2  # kinds: a symlink here is one to a non-directory or dangling
# A directory changed this close to when it was listed may change again within the
# same mtime tick: its listing is not reused (git's untracked cache has the same rule).
RACY_LISTING_NS = 2_000_000_000


class Listings:
    """Directory listings reused across runs, as git's untracked cache reuses them: a
    directory whose device, inode, mtime and ctime are those it had when it was listed
    has the same entries (creating, removing or renaming an entry changes the
    directory's mtime; replacing it, its inode). One ``stat`` instead of a ``scandir``
    per directory: most of the walk of a large tree in a one-file pre-commit run.
    ``known`` is what an earlier run left (the cache keeps it, signed); ``changed``
    says whether it has something new to keep."""

    def __init__(self, known: dict[str, Listing] | None = None) -> None:
        self.known: dict[str, Listing] = known if known is not None else {}
        self.changed = False
        self.listed: set[str] = set()  # directories of this run
        self._trust_before = time.time_ns() - RACY_LISTING_NS

    def entries(self, folder: str) -> Entries:
        """The entries of ``folder`` in name order; OSError as ``os.scandir`` raises it."""
        self.listed.add(folder)
        st = os.stat(folder)
        old = self.known.get(folder)
        if (
            old is not None
            and old[4]
            and old[0] == st.st_dev
            and old[1] == st.st_ino
            and old[2] == st.st_mtime_ns
            and old[3] == st.st_ctime_ns
        ):
            return (old[5].split("\0") if old[6] else []), old[6]
        (names, kinds), complete = scan(folder)
        if complete:
            trusted = max(st.st_mtime_ns, st.st_ctime_ns) < self._trust_before
            new = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, trusted, "\0".join(names), kinds)
            if new != old:
                self.known[folder] = new
                self.changed = True
        elif old is not None:
            del self.known[folder]
            self.changed = True
        return names, kinds


def scan(folder: str) -> tuple[Entries, bool]:
    """``folder``'s entries in name order, and whether each one's kind was known (an
    entry whose type cannot be found is left out, and the listing not kept)."""
    listed: list[tuple[str, int]] = []
    complete = True
    with os.scandir(folder) as found:
        for entry in found:
            try:
                kind = DIRECTORY if entry.is_dir(follow_symlinks=False) else SYMLINK if entry.is_symlink() else FILE
            except OSError:
                complete = False
                continue
            listed.append((entry.name, kind))
    listed.sort()
    return ([name for name, _ in listed], bytes(kind for _, kind in listed)), complete


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


def exclude_from_cwd(pattern: str, root: Path) -> str:
    """A config's exclude glob (relative to the config's directory ``root``) as the walk
    matches it: against paths relative to the working directory."""
    cwd = Path.cwd().resolve()
    if "/" not in pattern.rstrip("/") or root == cwd:
        return pattern
    try:
        prefix = root.relative_to(cwd).as_posix()
    except ValueError:
        return pattern
    return f"{prefix}/{pattern.lstrip('/')}"


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
    paths: list[str],
    exclude: list[str],
    errors: list[InputError],
    stats: dict[str, os.stat_result] | None = None,
    listings: Listings | None = None,
) -> Iterator[tuple[str, str]]:
    """Files under ``paths`` in a stable order, as ``(path, display path)``, yielded
    as they are found (a parallel run sends them to workers while the rest of the
    tree is listed). Directories in ALWAYS_SKIPPED_DIRS and paths matching
    ``exclude`` are not entered; only regular files are returned (a FIFO is never
    opened) and symlinked directories are not followed (no loops). Paths given
    explicitly are kept even if excluded. A file reached twice under one display
    path (``d ./d/x.yaml``, ``. d``) is returned once. ``stats`` receives each file's
    stat before it is yielded (the cache and de-duplication reuse it); ``errors``
    the paths that could not be read, in walk order; ``listings``, if given, lists
    the directories (reusing what it knows)."""
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
            yield from _walk_tree(arg, display_path(arg), exclude, errors, stats, seen, listings)
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
    listings: Listings | None,
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
    list_folder = listings.entries if listings is not None else _scan_only
    while stack:
        folder, shown_folder = stack.pop()
        try:
            entries = list_folder(folder)
        except OSError as err:
            errors.append(InputError(display_path(err.filename or folder), err.strerror or str(err)))
            continue
        prefix = _join(shown_folder, "")
        # Paths as os.scandir names its entries.
        full_prefix = folder if folder.endswith(os.sep) else folder + os.sep
        subdirs = []
        # A Helm chart's templates are not YAML until rendered (helm.py renders them
        # on request); its Chart.yaml stands for the chart.
        names, kinds = entries
        chart = HELM_CHART_FILE in names
        for name, kind in zip(names, kinds, strict=True):
            shown = prefix + name
            if kind == DIRECTORY:
                if chart and name in HELM_CHART_DIRS:
                    continue
                if name not in ALWAYS_SKIPPED_DIRS and not (exclude and excluded(shown, exclude)):
                    subdirs.append((full_prefix + name, shown))
                continue
            if (exclude and excluded(shown, exclude)) or shown in seen:
                continue
            full = full_prefix + name
            try:
                file_stat = follow_stat(full)  # follows a symlink to the file it names
            except OSError:
                continue  # a dangling or looping symlink inside a tree is not an input
            if not is_regular(file_stat.st_mode):
                continue  # FIFOs, sockets, devices, symlinks to directories
            if kind == SYMLINK:
                target = os.path.realpath(full)
                if _outside(target, roots):
                    seen.add(shown)
                    errors.append(InputError(shown, OUTSIDE_TREE, skipped=True))
                    continue
            stats[full] = file_stat
            seen.add(shown)
            yield full, shown
        stack.extend(reversed(subdirs))


def _scan_only(folder: str) -> Entries:
    return scan(folder)[0]


def _join(root: str, name: str) -> str:
    return name if root in ("", ".") else f"{root}/{name}"
