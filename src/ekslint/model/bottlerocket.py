"""Bottlerocket ``settings.kubernetes`` from TOML userdata or eksctl's
``bottlerocket.settings`` mapping, behind one interface (DOMAIN.md §4)."""

from __future__ import annotations

from typing import Any, Protocol

from ekslint.model.nodegroup import Allowance, KubeletSettings, MaxPodsSetting, parse_taint
from ekslint.model.scheduling import Taint
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span
from ekslint.parse.tomldoc import TomlDoc
from ekslint.parse.yamltree import YMap, YNode, YScalar, YSeq


class Settings(Protocol):
    """Bottlerocket settings addressed by path below ``settings``."""

    def get(self, path: tuple[str, ...]) -> Any: ...

    def span(self, path: tuple[str, ...]) -> Span: ...

    def item_spans(self, path: tuple[str, ...]) -> list[Span]: ...


class TomlSettings:
    def __init__(self, doc: TomlDoc) -> None:
        self.doc = doc

    def get(self, path: tuple[str, ...]) -> Any:
        return self.doc.get(("settings", *path))

    def span(self, path: tuple[str, ...]) -> Span:
        return self.doc.entry_span(("settings", *path))

    def item_spans(self, path: tuple[str, ...]) -> list[Span]:
        return self.doc.item_spans.get(("settings", *path), [])


class YamlSettings:
    """eksctl ``bottlerocket.settings``: the same keys as YAML."""

    def __init__(self, root: YMap) -> None:
        self.root = root

    def _node(self, path: tuple[str, ...]) -> YNode | None:
        node: YNode | None = self.root
        for key in path:
            if not isinstance(node, YMap):
                return None
            node = node.get(key)
        return node

    def get(self, path: tuple[str, ...]) -> Any:
        node = self._node(path)
        return node.to_python() if node is not None else None

    def span(self, path: tuple[str, ...]) -> Span:
        for end in range(len(path), 0, -1):
            parent = self._node(path[: end - 1])
            if isinstance(parent, YMap) and path[end - 1] in parent:
                return parent.entry_span(path[end - 1])
        return self.root.start_span

    def item_spans(self, path: tuple[str, ...]) -> list[Span]:
        node = self._node(path)
        if not isinstance(node, YSeq):
            return []
        return [item.span for item in node if isinstance(item, YScalar)]


def read_kubernetes_settings(settings: Settings, source: str) -> KubeletSettings:
    result = KubeletSettings()
    allowed = settings.get(("kubernetes", "allowed-unsafe-sysctls"))
    if isinstance(allowed, list):
        spans = settings.item_spans(("kubernetes", "allowed-unsafe-sysctls"))
        fallback = settings.span(("kubernetes", "allowed-unsafe-sysctls"))
        result.config_allowances = [
            Allowance(
                str(name),
                spans[i] if i < len(spans) else fallback,
                f"settings.kubernetes.allowed-unsafe-sysctls in {source}",
            )
            for i, name in enumerate(allowed)
            if isinstance(name, str) and not is_placeholder(name)
        ]
        templated = [i for i, name in enumerate(allowed) if isinstance(name, str) and is_placeholder(name)]
        if templated:
            result.allowances_unknown = spans[templated[0]] if templated[0] < len(spans) else fallback
    kubernetes = settings.get(("kubernetes",))
    templated_keys = [k for k in kubernetes if is_placeholder(str(k))] if isinstance(kubernetes, dict) else []
    if templated_keys:
        # A whole line the template fills in (``${LabelsArg}`` in AWS's quickstart, Terraform's
        # ``${node_labels}``): it may set any Kubernetes setting, the allowance and labels included.
        result.labels_unknown = True
        if result.config_allowances is None and result.allowances_unknown is None:
            result.allowances_unknown = settings.span(("kubernetes", str(templated_keys[0])))
    max_pods = settings.get(("kubernetes", "max-pods"))
    if max_pods is not None:
        value = max_pods if isinstance(max_pods, int) and not isinstance(max_pods, bool) else None
        result.max_pods.append(
            MaxPodsSetting(
                value,
                str(max_pods),
                settings.span(("kubernetes", "max-pods")),
                f"settings.kubernetes.max-pods in {source}",
            )
        )
    labels = settings.get(("kubernetes", "node-labels"))
    if isinstance(labels, dict):
        # A placeholder key (``${node_labels}`` on a line of its own in a template):
        # labels only the rendering knows.
        result.labels = {str(k): str(v) for k, v in labels.items() if not is_placeholder(str(k))}
        result.labels_unknown = len(result.labels) < len(labels)
    elif isinstance(labels, str) and is_placeholder(labels):
        result.labels_unknown = True
    taints = settings.get(("kubernetes", "node-taints"))
    if isinstance(taints, dict):
        for key, values in taints.items():
            if is_placeholder(str(key)):
                continue
            for entry in values if isinstance(values, list) else [values]:
                taint = parse_taint(f"{key}={entry}") if isinstance(entry, str) else None
                if taint is not None:
                    result.taints.append(Taint(taint.key, taint.value, taint.effect))
    return result
