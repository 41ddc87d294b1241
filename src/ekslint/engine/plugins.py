"""Loading plugins and collecting what they contribute.

The built-in rules come through the same door as any third-party rule pack: the
``ekslint`` entry-point group. A plugin owns the rule-ID prefix that is its entry-point
name; a rule outside its prefix, a duplicate ID or broken metadata stops the run with
a usage error naming the plugin, so a bad rule pack cannot silently change results.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import pluggy

from ekslint.engine import hookspecs, isolation
from ekslint.engine.diagnostics import ENGINE_DIAGNOSTICS
from ekslint.engine.entrypoints import entry_points
from ekslint.engine.hookspecs import Registry
from ekslint.engine.rule import Rule

ENTRY_POINT_GROUP = "ekslint"
PLUGIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class PluginError(Exception):
    pass


def load(extra_plugins: list[tuple[str, ModuleType | object]] | None = None, use_entry_points: bool = True) -> Registry:
    """Discover plugins and build the registry. ``extra_plugins`` are ``(prefix,
    plugin)`` pairs registered as if they came from entry points (tests, embedding)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    # Plugin code runs from here on: what it prints goes to stderr, never into a report.
    with isolation.stdout_to_stderr():
        return _load(manager, extra_plugins, use_entry_points)


def _load(
    manager: pluggy.PluginManager, extra_plugins: list[tuple[str, ModuleType | object]] | None, use_entry_points: bool
) -> Registry:
    plugins: list[tuple[str, Any]] = []
    if use_entry_points:
        for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                plugins.append((entry.name, entry.load()))
            except Exception as err:  # a broken plugin must not look like a clean run
                raise PluginError(f"plugin {entry.name!r} ({entry.value}) failed to load: {err}") from err
    plugins.extend(extra_plugins or [])

    registry = Registry()
    for diagnostic in ENGINE_DIAGNOSTICS:
        registry.rules[diagnostic.id] = diagnostic
        registry.owners[diagnostic.id] = "ekslint"
    for prefix, plugin in plugins:
        if not PLUGIN_NAME.match(prefix):
            raise PluginError(f"plugin {prefix!r}: not a valid plugin name; use the rule-ID prefix it owns, e.g. ACME")
        if manager.is_registered(plugin) or manager.has_plugin(prefix):
            raise PluginError(f"plugin {prefix!r} is registered twice")
        manager.register(plugin, name=prefix)
    # Call each implementation on its own so every rule is attributed to its plugin.
    for impl in manager.hook.ekslint_rules.get_hookimpls():
        prefix = impl.plugin_name
        try:
            contributed: list[Any] = _call(impl) or []
        except Exception as err:
            raise PluginError(f"plugin {prefix!r}: ekslint_rules() raised {err!r}") from err
        for rule in contributed:
            problems = (
                rule.validate()
                if isinstance(rule, type) and issubclass(rule, Rule)
                else [f"{rule!r} is not a Rule subclass"]
            )
            if problems:
                raise PluginError(f"plugin {prefix!r}: " + "; ".join(problems))
            if not rule.id.startswith(prefix):
                raise PluginError(f"plugin {prefix!r}: rule {rule.id} is outside the plugin's prefix {prefix}")
            if rule.id in registry.rules:
                raise PluginError(
                    f"rule {rule.id} is defined twice (plugins {registry.owners[rule.id]!r} and {prefix!r})"
                )
            registry.rules[rule.id] = rule
            registry.owners[rule.id] = prefix
    for impl in manager.hook.ekslint_formatters.get_hookimpls():
        formats: dict[str, Any] = _call(impl) or {}
        for name, formatter in formats.items():
            if name in registry.formatters:
                raise PluginError(f"output format {name!r} is defined twice")
            registry.formatters[name] = formatter
    registry.rules = dict(sorted(registry.rules.items()))
    return registry


def _call(impl: Any) -> Any:
    return impl.function()


_stamps: dict[str, str] = {}


def code_stamp(rule: type[Rule] | None = None) -> str:
    """Size and mtime of the code behind a rule's module, or (no rule) of ekslint
    itself: part of the cache key, so an edited rule or an upgraded plugin is never
    answered from a cache it did not write."""
    import inspect
    import os

    import ekslint

    try:
        target = inspect.getsourcefile(rule) if rule is not None else os.path.dirname(ekslint.__file__)
    except TypeError:
        target = None
    if target is None:
        return f"{getattr(rule, '__module__', '?')}:unknown"
    stamp = _stamps.get(target)
    if stamp is None:
        files = [target]
        if os.path.isdir(target):
            files = sorted(
                os.path.join(folder, name)
                for folder, _, names in os.walk(target)
                for name in names
                if name.endswith((".py", ".json"))
            )
        parts = []
        for path in files:
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
        stamp = _stamps[target] = _digest(parts)
    return stamp


def _digest(parts: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
