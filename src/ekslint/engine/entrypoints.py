"""The ``ekslint`` entry points of the installed distributions, found without
``importlib.metadata``.

Importing ``importlib.metadata`` (it pulls in ``email``, ``zipfile``, ``pathlib``, ...)
and scanning every distribution's metadata cost 30-50 ms of a 0.3 s pre-commit run.
The common layout is plain directories on ``sys.path`` holding ``*.dist-info`` and
``*.egg-info`` folders; there this module reads each ``entry_points.txt`` directly,
with ``importlib.metadata``'s rules: ``sys.path`` order, the first distribution of a
(normalised) name wins. Anything else (a zip or egg on the path, a meta-path finder
that finds distributions of its own) is left to ``importlib.metadata`` itself.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import import_module
from typing import Any

_SECTION = re.compile(r"^\[\s*([^\]]+?)\s*\]\s*$")
_INFO_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str

    def load(self) -> Any:
        """The object ``module:attr.sub`` names (extras in ``[...]`` are ignored, as
        ``importlib.metadata`` does)."""
        reference = self.value.split("[", 1)[0].strip()
        module_name, _, attrs = reference.partition(":")
        target: Any = import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            target = getattr(target, attr)
        return target


def entry_points(group: str) -> list[EntryPoint]:
    found = _scan(group)
    if found is None:
        from importlib.metadata import entry_points as metadata_entry_points

        return [EntryPoint(e.name, e.value) for e in metadata_entry_points(group=group)]
    return found


def _normalised(info_name: str) -> str:
    # "Foo_Bar-1.0.dist-info" -> "foo-bar" (PEP 503 normalisation of the name part)
    stem = info_name.rsplit(".", 1)[0]
    return re.sub(r"[-_.]+", "-", stem.split("-", 1)[0]).lower()


def _scan(group: str) -> list[EntryPoint] | None:
    """None when the environment is not the plain kind this scan understands."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            return None
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        root = entry or "."
        try:
            with os.scandir(root) as children:
                names = sorted(child.name for child in children)
        except NotADirectoryError:
            return None  # a zip on sys.path
        except OSError:
            continue
        for name in names:
            lowered = name.lower()
            if lowered.endswith(".egg"):
                return None
            if not lowered.endswith(_INFO_SUFFIXES):
                continue
            key = _normalised(name)
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(os.path.join(root, name, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            found.extend(_group(text, group))
    return found


def _group(text: str, group: str) -> list[EntryPoint]:
    """The entries of one section of an ``entry_points.txt`` (an INI file; ``#`` and
    ``;`` start comments)."""
    entries: list[EntryPoint] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            entries.append(EntryPoint(name.strip(), value.strip()))
    return entries
