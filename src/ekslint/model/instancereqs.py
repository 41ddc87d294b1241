"""The instance types a Karpenter or EKS Auto Mode NodePool may launch, from its
``requirements``, as Karpenter labels each type (aws/karpenter-provider-aws
``pkg/providers/instancetype/types.go`` ``computeRequirements``):

- ``node.kubernetes.io/instance-type``: the type's name;
- ``karpenter.k8s.aws/instance-family`` and ``-size``: the name split at the dot;
- ``karpenter.k8s.aws/instance-category`` and ``-generation``: the letters and the
  number that start the name (``instanceTypeScheme`` ``(^[a-z]+)(\\-[0-9]+tb)?([0-9]+).*\\.``);
- ``karpenter.k8s.aws/instance-cpu``: the default vCPUs; ``-hypervisor``: nitro, xen
  or empty (bare metal);
- ``kubernetes.io/arch``: arm64 for Graviton types (Karpenter reads it from EC2's
  ``ProcessorInfo``; ekslint's table has no architecture, so it is told from the name:
  a ``g`` among the letters after the generation, as in m6g, c7gn, r8gd, or ``a1``).

Auto Mode uses the same keys under ``eks.amazonaws.com/`` (EKS user guide,
"Create a Node Pool for EKS Auto Mode"). A requirement on another key that narrows
the types (memory, GPUs, network bandwidth, ...) cannot be judged from the table: the
set is then unknown. Keys that do not narrow the types (zone, capacity type, custom
labels) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ekslint.model.capacity import InstanceInfo
from ekslint.model.scheduling import Match, Requirement

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
_PREFIXES = ("karpenter.k8s.aws/", "eks.amazonaws.com/")
_SCHEME = re.compile(r"(^[a-z]+)(-[0-9]+tb)?([0-9]+)([a-z-]*)")
# Keys that do not narrow the instance types (they pick zones, purchase options, OS).
_NEUTRAL = (
    "topology.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
    "karpenter.sh/",
    "kubernetes.io/os",
    "node.kubernetes.io/windows-build",
    "topology.k8s.aws/",
)
_NARROWING_SUFFIXES = (
    "instance-family",
    "instance-size",
    "instance-category",
    "instance-generation",
    "instance-cpu",
    "instance-hypervisor",
)


def _labels(info: InstanceInfo) -> dict[str, str]:
    family, _, size = info.name.partition(".")
    labels = {
        "instance-family": family,
        "instance-size": size,
        "instance-hypervisor": info.hypervisor,
    }
    if info.vcpus is not None:
        labels["instance-cpu"] = str(info.vcpus)
    scheme = _SCHEME.match(info.name)
    if scheme is not None:
        labels["instance-category"] = scheme.group(1)
        labels["instance-generation"] = scheme.group(3)
    return labels


def architecture(info: InstanceInfo) -> str:
    """amd64 or arm64, told from the name (Graviton: a ``g`` after the generation)."""
    family = info.name.partition(".")[0]
    scheme = _SCHEME.match(family)
    if family == "a1" or (scheme is not None and "g" in scheme.group(4)):
        return "arm64"
    return "amd64"


def _suffix(key: str) -> str | None:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return None


def judgeable(requirements: Iterable[Requirement]) -> bool:
    """Whether every requirement that may narrow the instance types is one ekslint
    can evaluate from its instance table."""
    for r in requirements:
        suffix = _suffix(r.key)
        if suffix is not None:
            if suffix not in _NARROWING_SUFFIXES:
                return False
        elif r.key not in INSTANCE_TYPE_LABELS and r.key != "kubernetes.io/arch" and not r.key.startswith(_NEUTRAL):
            continue  # a custom label: the pool puts it on every node, whatever the type
    return True


def allows(requirements: Iterable[Requirement], info: InstanceInfo) -> bool:
    """Whether a pool with these requirements may launch ``info``'s type (every
    requirement ekslint can judge holds for the type's labels)."""
    labels: dict[str, str] | None = None
    for r in requirements:
        suffix = _suffix(r.key)
        if suffix in _NARROWING_SUFFIXES:
            labels = labels if labels is not None else _labels(info)
            value = labels.get(suffix or "")
        elif r.key in INSTANCE_TYPE_LABELS:
            value = info.name
        elif r.key == "kubernetes.io/arch":
            value = architecture(info)
        else:
            continue
        found = r.evaluate({r.key: value} if value is not None else {})
        if found is Match.NO:
            return False
    return True
