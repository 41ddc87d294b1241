"""Configuration: ``.ekslint.yaml`` or ``[tool.ekslint]`` in ``pyproject.toml``, found
by searching upward from each linted path (as ruff does), validated against
``schemas/config.schema.json``. Command-line options override it: ``resolve`` builds
the settings of a run from the file and the ``Overrides`` in one go."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ekslint.model.context import DeclaredNodeGroup, ModelContext, PodTemplateKind
from ekslint.model.scheduling import Taint
from ekslint.model.scopes import ClusterPaths
from ekslint.model.sysctls import parse_version
from ekslint.parse.escape import visible
from ekslint.parse.mime import DecodeLimits
from ekslint.parse.sources import ReadLimits
from ekslint.parse.text import Span, Text
from ekslint.parse.yamltree import YamlLimits, YMap, YNode, YSeq, compose
from ekslint.severity import Severity

if TYPE_CHECKING:
    pass

CONFIG_NAMES = (".ekslint.yaml", ".ekslint.yml")
# Seconds a rule may take on one file (a file rule) or on the project (a cross-file
# rule) before the engine stops it (EKS004); limits.rule-time-limit.
RULE_TIME_LIMIT = 10.0
# Hard ceilings of the limits: the schema's maxima, enforced here again so that no
# config (nor a schema edit) can make a run unbounded.
CEILINGS = {
    "max-file-size": 64 * 1024 * 1024,
    "max-yaml-depth": 10_000,
    "max-yaml-alias-expansion": 10_000_000,
    "max-decompressed-size": 64 * 1024 * 1024,
    "max-decompressed-total": 1024 * 1024 * 1024,
    "max-mime-parts": 10_000,
    "rule-time-limit": 3600,
}
# A config file is small; a bigger one is refused before it is parsed.
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class WrittenOption:
    """One value under ``rule-options``, as written, with where."""

    value: Any
    key: Span  # the option's name
    at: Span  # its value


@dataclass(frozen=True, slots=True)
class WrittenRuleOptions:
    """One rule's entry under ``rule-options``, before the rules are known."""

    rule: str  # as written: an ID or a name
    key: Span
    options: dict[str, WrittenOption]


@dataclass(slots=True)
class Settings:
    path: str | None = None  # the config file, None when there is none
    root: Path = field(default_factory=Path.cwd)  # globs are relative to this
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    context: ModelContext = field(default_factory=ModelContext)
    limits: ReadLimits = field(default_factory=ReadLimits)
    rule_time_limit: float = RULE_TIME_LIMIT
    # rule-options as written; checked against the rules' declarations (which plugins
    # contribute) by ekslint.engine.options.resolve_rule_options into rule_options: rule ID -> name -> value.
    written_options: list[WrittenRuleOptions] = field(default_factory=list)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the command line says over the config file; None or empty: nothing."""

    select: tuple[str, ...] | None = None  # replaces the config's select
    ignore: tuple[str, ...] = ()  # added to the config's ignore
    fail_on: str | None = None  # a severity label: error, warning or note
    kubernetes_version: str | None = None  # as typed, e.g. "1.31"


def discover(start: Path | None = None) -> Path | None:
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _mentions_ekslint(pyproject):
            return pyproject
    return None


def discover_for(paths: list[str], stdin_name: str = "-") -> Path | None:
    """The config of a run over ``paths``: the nearest config file above each linted
    path (a directory from itself, a file from its folder; ``-`` from the folder of
    its ``--stdin-filename``). One run has one config: paths under different
    configs are a ConfigError."""
    found: dict[Path | None, str] = {}
    for arg in paths or ["."]:
        where = Path(stdin_name if arg == "-" and stdin_name != "-" else "." if arg == "-" else arg)
        start = where if where.is_dir() else where.parent
        config = discover(start)
        found.setdefault(config.resolve() if config else None, arg)
    if len(found) > 1:
        named = ", ".join(f"{arg} uses {_shown(c) if c else 'no config'}" for c, arg in found.items())
        raise ConfigError(
            f"the paths given fall under different configs ({named}); lint each project in its own run, "
            "or choose one with --config"
        )
    return next(iter(found))


def _mentions_ekslint(pyproject: Path) -> bool:
    """Whether a pyproject.toml has a [tool.ekslint] table, reading at most the size a
    config may have (a bigger one is then refused with a message by ``load``)."""
    try:
        with pyproject.open("rb") as handle:
            return b"[tool.ekslint" in handle.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return False


def load(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    shown = _shown(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(MAX_CONFIG_BYTES + 1)
        if len(head) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{shown}: the config is larger than {MAX_CONFIG_BYTES:,} bytes and was not read")
        raw = head.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{shown}: cannot read the config: {err}") from err
    if path.name == "pyproject.toml":
        data, locate = _from_pyproject(raw, shown)
    else:
        data, locate = _from_yaml(raw, shown)
    _validate(data, locate)
    return _settings(data, shown, path.parent.resolve(), locate)


def resolve(path: Path | None, overrides: Overrides) -> Settings:
    """The settings of a run: the config file at ``path`` (None: no file), with the
    command line over it."""
    return with_overrides(load(path), overrides)


def with_overrides(settings: Settings, overrides: Overrides) -> Settings:
    """A copy of ``settings`` with ``overrides`` applied; ``settings`` is unchanged."""
    version = settings.context.kubernetes_version
    if overrides.kubernetes_version:
        version = parse_version(overrides.kubernetes_version)
        if version is None:
            raise ConfigError(f"--kubernetes-version {overrides.kubernetes_version!r} is not a version like 1.31")
    return replace(
        settings,
        select=list(overrides.select) if overrides.select is not None else settings.select,
        ignore=settings.ignore + list(overrides.ignore),
        fail_on=Severity.parse(overrides.fail_on) if overrides.fail_on else settings.fail_on,
        context=replace(settings.context, kubernetes_version=version),
    )


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


Locator = Any  # (json path tuple) -> Span


def _from_yaml(raw: str, shown: str) -> tuple[dict[str, Any], Locator]:
    text = Text.whole_file(shown, raw)
    docs, error = compose(text)
    if error is not None:
        raise ConfigError(f"{shown}:{error.line + 1}:{error.col + 1}: YAML syntax error: {error.message}")
    if not docs:
        return {}, lambda _path: text.span(0, 0, 0, 0)
    root = docs[0].root()
    if not isinstance(root, YMap):
        raise ConfigError(f"{shown}:1:1: the config must be a mapping")

    def locate(path: tuple[Any, ...], key: bool = False) -> Span:
        """Where the value at ``path`` starts (with ``key``: its key), else where the
        closest ancestor written does."""
        node: YNode | None = root
        found: YNode = root
        for depth, step in enumerate(path):
            if isinstance(node, YMap) and isinstance(step, str) and step in node:
                if key and depth == len(path) - 1:
                    return node.key_span(step)
                node = node.get(step)
            elif isinstance(node, YSeq) and isinstance(step, int) and step < len(node):
                node = node.item(step)
            else:
                break
            found = node  # type: ignore[assignment]
        return found.start_span

    return root.to_python() or {}, locate


def _from_pyproject(raw: str, shown: str) -> tuple[dict[str, Any], Locator]:
    from ekslint.parse.tomldoc import TomlSyntaxError, parse_toml

    text = Text.whole_file(shown, raw)
    try:
        doc = parse_toml(text)
    except TomlSyntaxError as err:
        raise ConfigError(f"{shown}:{err.line + 1}:{err.col + 1}: TOML syntax error: {err.message}") from err
    tool = doc.data.get("tool", {})
    data = tool.get("ekslint", {}) if isinstance(tool, dict) else {}

    def locate(path: tuple[Any, ...], key: bool = False) -> Span:  # TOML spans are keys
        keys = tuple(str(k) for k in path if isinstance(k, str))
        return doc.span(("tool", "ekslint", *keys))

    return data, locate


def _validate(data: dict[str, Any], locate: Locator) -> None:
    import jsonschema

    from ekslint.schemas import load as load_schema

    validator = jsonschema.Draft202012Validator(load_schema("config"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for error in errors[:10]:
            span = locate(tuple(error.absolute_path))
            where = visible(".".join(str(p) for p in error.absolute_path)) or "(top level)"
            lines.append(f"{visible(span.file)}:{span.line}:{span.col}: {where}: {visible(_message(error))}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        import difflib

        known = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in known]
        hints = [
            f"{k!r} (did you mean {difflib.get_close_matches(k, known, 1)[0]!r}?)"
            if difflib.get_close_matches(k, known, 1)
            else repr(k)
            for k in extra
        ]
        return "unknown key " + ", ".join(hints)
    return str(error.message)


def _settings(data: dict[str, Any], shown: str, root: Path, locate: Locator) -> Settings:
    settings = Settings(path=shown, root=root)
    if "select" in data:
        settings.select = [c.upper() for c in data["select"]]
    settings.ignore = [c.upper() for c in data.get("ignore", [])]
    settings.severity = {k.upper(): Severity.parse(v) for k, v in data.get("severity", {}).items()}
    if "fail-on" in data:
        settings.fail_on = Severity.parse(data["fail-on"])
    settings.exclude = list(data.get("exclude", []))
    settings.per_file_ignores = {k: [c.upper() for c in v] for k, v in data.get("per-file-ignores", {}).items()}
    version = parse_version(data.get("kubernetes-version"))
    clusters = _clusters(data.get("clusters", {}), locate)
    declared = []
    for index, entry in enumerate(data.get("node-groups", [])):
        userdata = entry.get("userdata", [])
        declared.append(
            DeclaredNodeGroup(
                name=entry["name"],
                span=locate(("node-groups", index)),
                labels=dict(entry.get("labels", {})),
                taints=[Taint(t["key"], t.get("value", ""), t["effect"]) for t in entry.get("taints", [])],
                allowed_unsafe_sysctls=list(entry.get("allowed-unsafe-sysctls", [])),
                ami_family=entry.get("ami-family"),
                self_managed=entry.get("self-managed"),
                custom_ami=entry.get("custom-ami"),
                max_pods=entry.get("max-pods"),
                instance_types=list(entry.get("instance-types", [])),
                userdata=[userdata] if isinstance(userdata, str) else list(userdata),
                cluster=_cluster_of(entry, index, clusters, locate),
            )
        )
    settings.context = ModelContext(version, declared, str(root), clusters=clusters)
    settings.context.pod_templates = tuple(
        PodTemplateKind(entry["kind"], entry.get("group"), tuple(entry["path"].split(".")))
        for entry in data.get("pod-templates", [])
    )
    for rule, values in data.get("rule-options", {}).items():
        where = ("rule-options", rule)
        written = {
            name: WrittenOption(value, locate((*where, name), key=True), locate((*where, name)))
            for name, value in values.items()
        }
        settings.written_options.append(WrittenRuleOptions(rule, locate(where, key=True), written))
    if isinstance(data.get("cni"), dict):
        from ekslint.model.cni import from_config

        settings.context.cni = from_config(data["cni"], locate)
    limits = data.get("limits", {})
    settings.limits = read_limits(limits)
    settings.rule_time_limit = min(float(limits.get("rule-time-limit", RULE_TIME_LIMIT)), CEILINGS["rule-time-limit"])
    return settings


def _clusters(written: dict[str, Any], locate: Locator) -> list[ClusterPaths]:
    """``clusters:``: each cluster's globs (relative to the config file) and version.
    A glob that can never match a file under the config's directory is an error."""
    clusters = []
    for name, entry in written.items():
        for index, pattern in enumerate(entry["paths"]):
            problem = _glob_problem(pattern)
            if problem is not None:
                span = locate(("clusters", name, "paths", index))
                raise ConfigError(
                    f"{visible(span.file)}:{span.line}:{span.col}: clusters.{visible(name)}.paths: "
                    f"{visible(repr(pattern))} {problem}"
                )
        version = None
        if "kubernetes-version" in entry:
            version = parse_version(entry["kubernetes-version"])
            if version is None:
                span = locate(("clusters", name, "kubernetes-version"))
                raise ConfigError(
                    f"{visible(span.file)}:{span.line}:{span.col}: clusters.{visible(name)}.kubernetes-version: "
                    f"{visible(repr(entry['kubernetes-version']))} is not a version like 1.31"
                )
        clusters.append(ClusterPaths(name, list(entry["paths"]), version, locate(("clusters", name), key=True)))
    return clusters


def _glob_problem(pattern: str) -> str | None:
    """Why a ``clusters:`` glob cannot name files under the config's directory, or None."""
    if pattern.startswith("/") or (len(pattern) > 1 and pattern[1] == ":"):
        return "is absolute: write it relative to the config file (clusters/prod/**)"
    if ".." in pattern.replace("\\", "/").split("/"):
        return "leaves the config's directory ('..'): write it relative to the config file"
    depth = 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    if depth:
        return "has a '[' without its ']'"
    return None


def _cluster_of(entry: dict[str, Any], index: int, clusters: list[ClusterPaths], locate: Locator) -> str | None:
    """The ``cluster:`` of a ``node-groups`` entry, which must name a key of ``clusters:``."""
    name = entry.get("cluster")
    if name is None or any(c.name == name for c in clusters):
        return name
    span = locate(("node-groups", index, "cluster"))
    known = ", ".join(c.name for c in clusters) or "none: add a clusters: key"
    raise ConfigError(
        f"{visible(span.file)}:{span.line}:{span.col}: node-groups.{index}.cluster: {visible(repr(name))} "
        f"is not a cluster under clusters: (known: {visible(known)})"
    )


def read_limits(written: dict[str, int]) -> ReadLimits:
    """The limits a config's ``limits:`` table sets, each held under its hard ceiling."""
    defaults = ReadLimits()

    def value(key: str, default: int) -> int:
        return min(int(written.get(key, default)), CEILINGS[key])

    return ReadLimits(
        max_file_bytes=value("max-file-size", defaults.max_file_bytes),
        yaml=YamlLimits(
            max_depth=value("max-yaml-depth", defaults.yaml.max_depth),
            max_alias_expansion=value("max-yaml-alias-expansion", defaults.yaml.max_alias_expansion),
        ),
        decode=DecodeLimits(
            max_decompressed_bytes=value("max-decompressed-size", defaults.decode.max_decompressed_bytes),
            max_parts=value("max-mime-parts", defaults.decode.max_parts),
            max_decompressed_total=value("max-decompressed-total", defaults.decode.max_decompressed_total),
        ),
    )
