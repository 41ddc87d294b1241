"""What the analysed files say about the Amazon VPC CNI: prefix delegation, custom
networking, MAX_ENI, IPv6 and the plugin's version, which change how many pods a node
can hold, and Windows prefix delegation (the VPC resource controller's).

Four places say it, most specific first:
- the eksctl ClusterConfig: the ``addons:`` entry ``vpc-cni`` (``version``, such as
  ``v1.18.3-eksbuild.1``, and ``configurationValues``, a JSON or YAML string with
  ``env``) and ``kubernetesNetworkConfig.ipFamily``;
- an ``aws-node`` DaemonSet manifest: the ``aws-node`` container's ``env`` and image tag;
- the ``amazon-vpc-cni`` ConfigMap of ``kube-system``: ``enable-windows-ipam`` and
  ``enable-windows-prefix-delegation``, read by the VPC resource controller;
- ``cni:`` in the ekslint config, for clusters whose CNI is set up elsewhere.

Booleans are read as the VPC CNI and the resource controller read them, with Go's
``strconv.ParseBool`` (amazon-vpc-cni-k8s utils/utils.go ``GetBoolAsStringEnvVar``);
a value it refuses leaves the default (false).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ekslint.fastpickle import fast_pickle
from ekslint.model.capacity import CniVersion, parse_cni_version
from ekslint.parse.numbers import decimal_int32
from ekslint.parse.text import Span
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YNode, YScalar, compose

T = TypeVar("T")

PREFIX_DELEGATION = "ENABLE_PREFIX_DELEGATION"
CUSTOM_NETWORKING = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"
MAX_ENI = "MAX_ENI"
ENABLE_IPV6 = "ENABLE_IPv6"
ADDON_NAME = "vpc-cni"
DAEMONSET_NAME = "aws-node"
# The VPC resource controller's ConfigMap (pkg/config/type.go): Windows IPAM, and
# prefix delegation for Windows, which counts only with Windows IPAM on
# (IsWindowsPrefixDelegationEnabled in pkg/condition/conditions.go).
CONFIG_MAP_NAME = "amazon-vpc-cni"
CONFIG_MAP_NAMESPACE = "kube-system"
WINDOWS_IPAM = "enable-windows-ipam"
WINDOWS_PREFIX_DELEGATION = "enable-windows-prefix-delegation"
SETTINGS = (
    "prefix_delegation",
    "custom_networking",
    "max_eni",
    "version",
    "ipv6",
    "windows_prefix_delegation",
    "windows_ipam",
)
# Go's strconv.ParseBool.
_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


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
    version: Fact[CniVersion] | None = None
    # The cluster's pods get IPv6 addresses (ipFamily IPv6, ENABLE_IPv6): a /80 prefix
    # per node, so pod capacity is not bounded by ENIs.
    ipv6: Fact[bool] | None = None
    # Windows pods get /28 prefixes on the primary ENI (the amazon-vpc-cni ConfigMap),
    # only with Windows IPAM on too.
    windows_prefix_delegation: Fact[bool] | None = None
    windows_ipam: Fact[bool] | None = None

    @property
    def windows_prefixes(self) -> bool:
        """The resource controller's IsWindowsPrefixDelegationEnabled: both keys true."""
        pd, ipam = self.windows_prefix_delegation, self.windows_ipam
        return pd is not None and pd.value and ipam is not None and ipam.value

    def fill_from(self, other: CniSettings) -> None:
        """Take the settings this one lacks from a less specific source."""
        for name in SETTINGS:
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))


def _truthy(value: object) -> bool | None:
    """A boolean as Go's strconv.ParseBool reads it; None when it refuses the text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {0: False, 1: True}.get(value)
    if isinstance(value, str) and value in _TRUE | _FALSE:
        return value in _TRUE
    return None


def _read_env(settings: CniSettings, env: dict[str, tuple[object, Span]], where: str) -> None:
    flags = ((PREFIX_DELEGATION, "prefix_delegation"), (CUSTOM_NETWORKING, "custom_networking"), (ENABLE_IPV6, "ipv6"))
    for name, attribute in flags:
        if name in env:
            raw, span = env[name]
            flag = _truthy(raw)
            if flag is not None:
                setattr(settings, attribute, Fact(flag, span, f"{name} in {where}"))
    if MAX_ENI in env:
        raw, span = env[MAX_ENI]
        text = str(raw).strip()
        parsed = decimal_int32(text)
        if isinstance(parsed, int):
            settings.max_eni = Fact(parsed, span, f"{MAX_ENI} in {where}")


def from_cluster_config(
    obj: YMap, file: str, cluster_name: str, limits: YamlLimits = DEFAULT_LIMITS
) -> list[CniSettings]:
    found = []
    family = _ip_family(obj, file, cluster_name)
    if family is not None:
        found.append(family)
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


def _ip_family(obj: YMap, file: str, cluster_name: str) -> CniSettings | None:
    """``kubernetesNetworkConfig.ipFamily``: eksctl creates an IPv6 cluster, whose VPC
    CNI runs in IPv6 prefix mode (case as eksctl compares it: any case)."""
    network = obj.map("kubernetesNetworkConfig")
    family = network.scalar("ipFamily") if network is not None else None
    if network is None or family is None or not isinstance(family.value, str):
        return None
    if family.text.strip().lower() not in ("ipv4", "ipv6"):
        return None
    settings = CniSettings(f"kubernetesNetworkConfig of cluster {cluster_name}", file, cluster_name)
    where = f"kubernetesNetworkConfig.ipFamily {family.text} of cluster {cluster_name}"
    settings.ipv6 = Fact(family.text.strip().lower() == "ipv6", network.entry_span("ipFamily"), where)
    return settings


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


def from_config_map(obj: YMap) -> CniSettings | None:
    """The ``amazon-vpc-cni`` ConfigMap (kube-system, or no namespace: applied there with
    ``-n``): Windows prefix delegation, on only when Windows IPAM is on too."""
    meta = obj.map("metadata")
    if obj.text("kind") != "ConfigMap" or meta is None or meta.text("name") != CONFIG_MAP_NAME:
        return None
    if meta.text("namespace") not in (None, CONFIG_MAP_NAMESPACE):
        return None
    data = obj.map("data")
    value = data.scalar(WINDOWS_PREFIX_DELEGATION) if data is not None else None
    if data is None or value is None:
        return None
    ipam = data.scalar(WINDOWS_IPAM)
    settings = CniSettings(f"ConfigMap {CONFIG_MAP_NAMESPACE}/{CONFIG_MAP_NAME}")
    where = f"ConfigMap {CONFIG_MAP_NAMESPACE}/{CONFIG_MAP_NAME}"
    settings.windows_prefix_delegation = Fact(
        _truthy(value.text) is True,
        data.entry_span(WINDOWS_PREFIX_DELEGATION),
        f"{WINDOWS_PREFIX_DELEGATION}: {value.text!r} in {where}",
    )
    settings.windows_ipam = Fact(
        ipam is not None and _truthy(ipam.text) is True,
        data.entry_span(WINDOWS_IPAM) if ipam is not None else data.start_span,
        f"{WINDOWS_IPAM}: {ipam.text!r} in {where}" if ipam is not None else f"no {WINDOWS_IPAM} in {where}",
    )
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
