"""What the cache key says about code: ekslint's, each file rule's with the helper
modules it uses, and the Python and parsing libraries underneath.

A stamp is the size and mtime of every file behind the code, so an edited rule, an
edited helper module of a plugin or an upgraded library is never answered from a
cache it did not write. Stamps are computed once per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from types import ModuleType

import ekslint

# The libraries whose behaviour decides what a file's outcome is: parsing (YAML and
# its C extension, TOML) and schema validation (EKS002).
PARSING_LIBRARIES = ("ruamel.yaml", "_ruamel_yaml", "jsonschema", "tomli", "kubernetes_validate")
# Data files in a plugin's package count too (a rule's table, its schema).
_CODE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".toml", ".txt", ".so", ".pyd")
# A plugin helper reaching into a large library: stop following references there.
_MAX_MODULES = 400

_stamps: dict[str, str] = {}


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _file_part(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _tree_stamp(folder: str) -> str:
    """Every code and data file under ``folder``."""
    stamp = _stamps.get(folder)
    if stamp is None:
        files = sorted(
            os.path.join(parent, name)
            for parent, dirs, names in os.walk(folder)
            if "__pycache__" not in parent
            for name in names
            if name.endswith(_CODE_SUFFIXES)
        )
        stamp = _stamps[folder] = _digest([_file_part(f) for f in files])
    return stamp


def _is_stdlib(name: str) -> bool:
    top = name.partition(".")[0]
    names = getattr(sys, "stdlib_module_names", ())  # Python 3.10+
    return top in names or top in sys.builtin_module_names


def _package_dirs(module: ModuleType) -> list[str]:
    """The directories of ``module``'s package and of its top-level package."""
    dirs: list[str] = []
    name = module.__name__
    for candidate in (name.rpartition(".")[0], name.partition(".")[0]):
        package = sys.modules.get(candidate) if candidate else None
        for folder in getattr(package, "__path__", None) or ():
            if isinstance(folder, str) and folder not in dirs:
                dirs.append(folder)
    return dirs


def _referenced_modules(start: ModuleType) -> list[ModuleType]:
    """The modules ``start`` reaches through its globals (imported modules, and the
    modules of imported functions and classes), transitively; not the standard
    library or ekslint (stamped whole)."""
    seen = {start.__name__}
    found = [start]
    queue = [start]
    while queue and len(found) < _MAX_MODULES:
        module = queue.pop()
        for value in list(vars(module).values()):
            name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            if not isinstance(name, str):
                continue
            if name in seen or _is_stdlib(name) or name == "ekslint" or name.startswith("ekslint."):
                continue
            seen.add(name)
            target = sys.modules.get(name)
            if isinstance(target, ModuleType):
                found.append(target)
                queue.append(target)
    return found


def rule_stamp(rule: type) -> str:
    """The code a rule runs: its package (and top-level package) whole, and every
    module it reaches outside them (a helper package of the plugin's own)."""
    key = f"rule:{rule.__module__}"
    stamp = _stamps.get(key)
    if stamp is not None:
        return stamp
    module = sys.modules.get(rule.__module__)
    if module is None:
        return f"{rule.__module__}:unknown"
    dirs = _package_dirs(module)
    parts = [f"{folder}={_tree_stamp(folder)}" for folder in dirs]
    for reached in _referenced_modules(module):
        path = getattr(reached, "__file__", None)
        if not isinstance(path, str):
            continue
        if any(path.startswith(folder + os.sep) for folder in dirs):
            continue  # in a package stamped whole already
        parts.append(_file_part(path))
    stamp = _stamps[key] = _digest(sorted(set(parts)))
    return stamp


def ekslint_stamp() -> str:
    """ekslint's own code and data."""
    return _tree_stamp(os.path.dirname(ekslint.__file__))


def platform_stamp() -> str:
    """Python (version, build, implementation) and the parsing libraries' files."""
    stamp = _stamps.get("platform")
    if stamp is None:
        parts = [sys.version, sys.implementation.cache_tag or "", sys.platform, sys.byteorder]
        for name in PARSING_LIBRARIES:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            origin = spec.origin if spec is not None else None
            # An upgrade rewrites the package's __init__ (its version) or extension.
            parts.append(f"{name}={_file_part(origin) if origin else 'absent'}")
        stamp = _stamps["platform"] = _digest(parts)
    return stamp
