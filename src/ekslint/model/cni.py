"""What the analysed files say about the Amazon VPC CNI: prefix delegation, custom
networking, MAX_ENI and the plugin's version, which change how many pods a node can
hold (DOMAIN.md §1.2).

Three places say it, most specific first:
- the eksctl ``addons:`` entry ``vpc-cni``: ``version`` (``v1.18.3-eksbuild.1``) and
  ``configurationValues``, a JSON or YAML string with ``env``;
- an ``aws-node`` DaemonSet manifest: the ``aws-node`` container's ``env`` and image tag;
- ``cni:`` in the ekslint config, for clusters whose CNI is set up elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ekslint.fastpickle import fast_pickle
from ekslint.model.capacity import parse_cni_version
from ekslint.parse.text import Span
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YNode, YScalar, compose

T = TypeVar("T")

PREFIX_DELEGATION = "ENABLE_PREFIX_DELEGATION"
CUSTOM_NETWORKING = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"
MAX_ENI = "MAX_ENI"
ADDON_NAME = "vpc-cni"
DAEMONSET_NAME = "aws-node"
SETTINGS = ("prefix_delegation", "custom_networking", "max_eni", "version")


@fast_pickle
@dataclass(frozen=True, slots=True)
class Fact(Generic[T]):
    """One CNI setting, where it is written and how to name it in a message."""

    value: T
    span: Span
    source: str  # "ENABLE_PREFIX_DELEGATION in addons[vpc-cni].configurationValues"

    def where(self) -> str:
        return f"{self.source} at {self.span.file}:{self.span.line}"


@fast_pickle
@dataclass(slots=True)
class CniSettings:
    origin: str  # "eksctl addon vpc-cni", "DaemonSet aws-node", "ekslint config"
    # For an eksctl addon: the ClusterConfig it belongs to (its node groups use it).
    cluster_file: str | None = None
    cluster_name: str | None = None
    prefix_delegation: Fact[bool] | None = None
    custom_networking: Fact[bool] | None = None
    max_eni: Fact[int] | None = None
    version: Fact[tuple[int, int]] | None = None

    def fill_from(self, other: CniSettings) -> None:
        """Take the settings this one lacks from a less specific source."""
        for name in SETTINGS:
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))


def _truthy(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _read_env(settings: CniSettings, env: dict[str, tuple[object, Span]], where: str) -> None:
    for name, attribute in ((PREFIX_DELEGATION, "prefix_delegation"), (CUSTOM_NETWORKING, "custom_networking")):
        if name in env:
            raw, span = env[name]
            flag = _truthy(raw)
            if flag is not None:
                setattr(settings, attribute, Fact(flag, span, f"{name} in {where}"))
    if MAX_ENI in env:
        raw, span = env[MAX_ENI]
        text = str(raw).strip()
        if text.isdigit():
            settings.max_eni = Fact(int(text), span, f"{MAX_ENI} in {where}")


def from_cluster_config(
    obj: YMap, file: str, cluster_name: str, limits: YamlLimits = DEFAULT_LIMITS
) -> list[CniSettings]:
    found = []
    for item in obj.seq("addons") or ():
        if not isinstance(item, YMap) or item.text("name") != ADDON_NAME:
            continue
        settings = CniSettings(f"the eksctl addon {ADDON_NAME}", file, cluster_name)
        version = item.scalar("version")
        parsed = parse_cni_version(version.text) if version is not None and version.value is not None else None
        if parsed is not None:
            settings.version = Fact(parsed, item.entry_span("version"), f"{item.path}.version {version.text}")  # type: ignore[union-attr]
        values = item.scalar("configurationValues")
        if values is not None and values.value is not None:
            env = _env_in_configuration_values(values, limits)
            _read_env(settings, env, f"{item.path}.configurationValues")
        found.append(settings)
    return found


def _env_in_configuration_values(values: YScalar, limits: YamlLimits) -> dict[str, tuple[object, Span]]:
    """``configurationValues`` is a JSON or YAML string; JSON is YAML, so one parser
    reads both, with positions mapped back into the ClusterConfig."""
    docs, error = compose(values.as_text(), limits)
    if error is not None or not docs:
        return {}
    root = docs[0].root()
    env = root.map("env") if isinstance(root, YMap) else None
    if env is None:
        return {}
    return {key: (node.value, env.entry_span(key)) for key, node in env.items() if isinstance(node, YScalar)}


def from_daemonset(obj: YMap) -> CniSettings | None:
    """The aws-node DaemonSet (kube-system) as applied or kept in the repository."""
    meta = obj.map("metadata")
    if obj.text("kind") != "DaemonSet" or meta is None or meta.text("name") != DAEMONSET_NAME:
        return None
    settings = CniSettings(f"DaemonSet {DAEMONSET_NAME}")
    spec = _descend(obj, ("spec", "template", "spec"))
    containers = spec.seq("containers") if isinstance(spec, YMap) else None
    for container in containers or ():
        if not isinstance(container, YMap) or container.text("name") != DAEMONSET_NAME:
            continue
        env: dict[str, tuple[object, Span]] = {}
        for entry in container.seq("env") or ():
            if isinstance(entry, YMap) and entry.text("name") and isinstance(entry.get("value"), YScalar):
                env[entry.text("name") or ""] = (entry.value("value"), entry.entry_span("value"))
        _read_env(settings, env, f"the {DAEMONSET_NAME} container env of DaemonSet {DAEMONSET_NAME}")
        image = container.scalar("image")
        tag = image.text.rpartition(":")[2] if image is not None and ":" in image.text else ""
        parsed = parse_cni_version(tag)
        if parsed is not None and image is not None:
            settings.version = Fact(parsed, container.entry_span("image"), f"the {DAEMONSET_NAME} image tag {tag}")
    return settings


def _descend(node: YNode, path: tuple[str, ...]) -> YNode | None:
    current: YNode | None = node
    for key in path:
        current = current.get(key) if isinstance(current, YMap) else None
    return current


def from_config(data: dict[str, object], locate: Callable[[tuple[str, ...]], Span]) -> CniSettings:
    """``cni:`` in .ekslint.yaml (already validated against the schema)."""
    settings = CniSettings("the ekslint config")

    def fact(key: str, value: T) -> Fact[T]:
        return Fact(value, locate(("cni", key)), f"cni.{key} in the ekslint config")

    pd, custom, max_eni, version = (
        data.get(k) for k in ("prefix-delegation", "custom-networking", "max-eni", "version")
    )
    if isinstance(pd, bool):
        settings.prefix_delegation = fact("prefix-delegation", pd)
    if isinstance(custom, bool):
        settings.custom_networking = fact("custom-networking", custom)
    if isinstance(max_eni, int) and not isinstance(max_eni, bool):
        settings.max_eni = fact("max-eni", max_eni)
    parsed = parse_cni_version(version) if isinstance(version, str) else None
    if parsed is not None:
        settings.version = Fact(parsed, locate(("cni", "version")), f"cni.version {version} in the ekslint config")
    return settings


def resolve(sources: list[CniSettings]) -> CniSettings:
    """Fold sources, most specific first: each setting comes from the first that has it."""
    result = CniSettings("resolved")
    for source in sources:
        result.fill_from(source)
    return result
